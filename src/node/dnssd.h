#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* DNS-SD over mDNS through the desktop's Avahi daemon (avahi-client on
 * avahi-glib's poll, so everything runs on the GLib main loop; we have
 * no mDNS responder of our own).
 *
 * SpDnssd publishes service sets (one instance name on several types,
 * e.g. the server's _sip._udp, _sip._tcp and _sips._tcp) and browses
 * service types into SpDnssdBrowser list models of resolved services.
 * The daemon may be absent, stop or restart: publications and browsers
 * are kept and come back when it does ("available" says whether it is
 * there now; "unavailable-reason" why not, said once per outage). A
 * name another host holds is replaced by Avahi's alternative ("Office
 * server #2"), per publication.
 *
 * Everything a browser learns comes from strangers on the LAN: it keeps
 * at most SP_DNSSD_MAX_SERVICES services per browser, drops instance
 * names that are not valid UTF-8 or hold control characters, and keeps
 * at most SP_DNSSD_MAX_TXT TXT pairs of bounded, printable keys and
 * values. */

#define SP_DNSSD_MAX_SERVICES  64
#define SP_DNSSD_MAX_TXT       16
#define SP_DNSSD_MAX_TXT_KEY   32
#define SP_DNSSD_MAX_TXT_VALUE 200

/* The service types we publish and browse. A phone is not a SIP server:
 * it gets a type of its own, so a "_sip._udp" browser (an account
 * dialog's server list, ours or another product's) never offers to
 * register with a colleague's phone. */
#define SP_DNSSD_TYPE_SIP_UDP  "_sip._udp"
#define SP_DNSSD_TYPE_SIP_TCP  "_sip._tcp"
#define SP_DNSSD_TYPE_SIPS_TCP "_sips._tcp"
#define SP_DNSSD_TYPE_PHONE    "_softphone._udp"

/* ---- a discovered service ---------------------------------------------- */

#define SP_TYPE_DNSSD_SERVICE (sp_dnssd_service_get_type ())
G_DECLARE_FINAL_TYPE (SpDnssdService, sp_dnssd_service, SP, DNSSD_SERVICE, GObject)

/* Properties (read-only): "name", "type", "address" (numeric), "port",
 * "own" (published by this process). */
const char *sp_dnssd_service_get_name (SpDnssdService *self);
const char *sp_dnssd_service_get_service_type (SpDnssdService *self);
const char *sp_dnssd_service_get_address (SpDnssdService *self);
guint16 sp_dnssd_service_get_port (SpDnssdService *self);
gboolean sp_dnssd_service_is_own (SpDnssdService *self);
/* The value of TXT key @key (case-insensitive), NULL when absent. */
const char *sp_dnssd_service_get_txt (SpDnssdService *self, const char *key);
/* "198.18.0.10:5060", "[2001:db8::1]:5060". */
char *sp_dnssd_service_dup_host_port (SpDnssdService *self);

/* ---- a browser: a GListModel of SpDnssdService ---------------------------- */

#define SP_TYPE_DNSSD_BROWSER (sp_dnssd_browser_get_type ())
G_DECLARE_FINAL_TYPE (SpDnssdBrowser, sp_dnssd_browser, SP, DNSSD_BROWSER, GObject)

/* Signals: "found" (SpDnssdService *) once a service is resolved and
 * listed (or resolved again at another address or port: its object is
 * replaced); "lost" (SpDnssdService *) when it went away, after it left
 * the list. */
const char *sp_dnssd_browser_get_service_type (SpDnssdBrowser *self);
/* The listed service named @name (exactly, then case-insensitively);
 * NULL when none. */
SpDnssdService *sp_dnssd_browser_find (SpDnssdBrowser *self, const char *name);

/* ---- the client ------------------------------------------------------------ */

#define SP_TYPE_DNSSD (sp_dnssd_get_type ())
G_DECLARE_FINAL_TYPE (SpDnssd, sp_dnssd, SP, DNSSD, GObject)

/* Properties: "available" (gboolean, read-only), "unavailable-reason"
 * (string, read-only, NULL while available or before the first try). */
SpDnssd *sp_dnssd_new (void);
gboolean sp_dnssd_is_available (SpDnssd *self);
const char *sp_dnssd_get_unavailable_reason (SpDnssd *self);

typedef struct
{
  const char *type;    /* "_sip._udp" */
  const char *subtype; /* NULL, or "_x._sub._sip._udp" */
  guint16 port;
} SpDnssdEntry;

/* Publishes @name on each of @entries (@n_entries of them, copied) with
 * the TXT pairs @txt ("key=value" strings, NULL-terminated; may be
 * NULL) until sp_dnssd_unpublish. @name is cut to 63 bytes at a
 * character boundary. Returns an id (> 0). */
guint sp_dnssd_publish (SpDnssd *self, const char *name, const SpDnssdEntry *entries,
                        guint n_entries, const char *const *txt);
void sp_dnssd_unpublish (SpDnssd *self, guint id);
/* The name published now (after collisions, Avahi's alternative), NULL
 * for an unknown id. */
const char *sp_dnssd_get_published_name (SpDnssd *self, guint id);

/* The browser of @type, made on first use and kept (owned by @self). */
SpDnssdBrowser *sp_dnssd_browse (SpDnssd *self, const char *type);

/* Whether @name is one a browser keeps (exposed for the unit test). */
gboolean sp_dnssd_name_is_valid (const char *name);

G_END_DECLS
