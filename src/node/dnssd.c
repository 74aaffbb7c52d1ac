/* DNS-SD through Avahi: see dnssd.h. */
#include "config.h"

#include "node/dnssd.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-glib/glib-watch.h>
#include <string.h>

/* How long to wait before trying the system bus again when Avahi's
 * client could not even be made (no D-Bus): long enough not to spin. */
#define RETRY_S 30
/* Seconds before resolving again an instance whose resolve failed,
 * doubled after each failure up to the maximum: a stranger's PTR records
 * with nothing behind them must not make us query the LAN every second. */
#define RESOLVE_RETRY_S     5
#define RESOLVE_RETRY_MAX_S 320
/* Avahi's alternative names end in " #N": after this many collisions on
 * one publication something is wrong on the LAN; we stop renaming. */
#define MAX_COLLISIONS 32
/* Instances are (interface, protocol, name); one name may be seen on a
 * few of them. */
#define MAX_INSTANCES (2 * SP_DNSSD_MAX_SERVICES)
#define MAX_NAME      63 /* bytes: one DNS label */
#define NOT_RUNNING   "the Avahi daemon is not running"

/* ---- SpDnssdService ------------------------------------------------------- */

struct _SpDnssdService
{
  GObject parent_instance;

  char *name;
  char *type;
  char *address;
  guint16 port;
  gboolean own;
  gboolean ipv4;
  GHashTable *txt;  /* lower-case key -> value */
  char *txt_digest; /* for telling a changed record from the same one */
};

G_DEFINE_FINAL_TYPE (SpDnssdService, sp_dnssd_service, G_TYPE_OBJECT)

enum
{
  SVC_PROP_0,
  SVC_PROP_NAME,
  SVC_PROP_TYPE,
  SVC_PROP_ADDRESS,
  SVC_PROP_PORT,
  SVC_PROP_OWN,
  SVC_N_PROPS
};
static GParamSpec *svc_props[SVC_N_PROPS];

static void
sp_dnssd_service_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SpDnssdService *self = SP_DNSSD_SERVICE (object);

  switch (id)
    {
      case SVC_PROP_NAME:
        g_value_set_string (value, self->name);
        break;
      case SVC_PROP_TYPE:
        g_value_set_string (value, self->type);
        break;
      case SVC_PROP_ADDRESS:
        g_value_set_string (value, self->address);
        break;
      case SVC_PROP_PORT:
        g_value_set_uint (value, self->port);
        break;
      case SVC_PROP_OWN:
        g_value_set_boolean (value, self->own);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sp_dnssd_service_finalize (GObject *object)
{
  SpDnssdService *self = SP_DNSSD_SERVICE (object);

  g_free (self->name);
  g_free (self->type);
  g_free (self->address);
  g_hash_table_unref (self->txt);
  g_free (self->txt_digest);
  G_OBJECT_CLASS (sp_dnssd_service_parent_class)->finalize (object);
}

static void
sp_dnssd_service_class_init (SpDnssdServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = sp_dnssd_service_get_property;
  object_class->finalize = sp_dnssd_service_finalize;
  svc_props[SVC_PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  svc_props[SVC_PROP_TYPE] = g_param_spec_string ("type", NULL, NULL, NULL, ro);
  svc_props[SVC_PROP_ADDRESS] = g_param_spec_string ("address", NULL, NULL, NULL, ro);
  svc_props[SVC_PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, 65535, 0, ro);
  svc_props[SVC_PROP_OWN] = g_param_spec_boolean ("own", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, SVC_N_PROPS, svc_props);
}

static void
sp_dnssd_service_init (SpDnssdService *self)
{
  self->txt = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

const char *
sp_dnssd_service_get_name (SpDnssdService *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), NULL);
  return self->name;
}

const char *
sp_dnssd_service_get_service_type (SpDnssdService *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), NULL);
  return self->type;
}

const char *
sp_dnssd_service_get_address (SpDnssdService *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), NULL);
  return self->address;
}

guint16
sp_dnssd_service_get_port (SpDnssdService *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), 0);
  return self->port;
}

gboolean
sp_dnssd_service_is_own (SpDnssdService *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), FALSE);
  return self->own;
}

const char *
sp_dnssd_service_get_txt (SpDnssdService *self, const char *key)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), NULL);
  lower = g_ascii_strdown (key, -1);
  return g_hash_table_lookup (self->txt, lower);
}

char *
sp_dnssd_service_dup_host_port (SpDnssdService *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_SERVICE (self), NULL);
  if (strchr (self->address, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", self->address, self->port);
  return g_strdup_printf ("%s:%u", self->address, self->port);
}

/* ---- what strangers may put in our tables ---------------------------------- */

static gboolean
text_is_printable (const char *text, gsize len)
{
  const char *end = text + len;

  if (!g_utf8_validate_len (text, len, NULL))
    return FALSE;
  for (const char *p = text; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_iscntrl (c) || c == 0xFEFF || (c >= 0x202A && c <= 0x202E) ||
          (c >= 0x2066 && c <= 0x2069))
        return FALSE; /* no control or direction overrides in a list row */
    }
  return TRUE;
}

gboolean
sp_dnssd_name_is_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  return len > 0 && len <= MAX_NAME && text_is_printable (name, len);
}

/* One "key=value" TXT string into @txt, when it is within bounds; the
 * first of a key wins (RFC 6763 6.4). A key without '=' is a boolean
 * attribute: kept with an empty value. */
static void
txt_add (GHashTable *txt, const guint8 *data, gsize size)
{
  const guint8 *eq = memchr (data, '=', size);
  gsize key_len = eq ? (gsize) (eq - data) : size;
  gsize value_len = eq ? size - key_len - 1 : 0;
  g_autofree char *key = NULL;

  if (key_len == 0 || key_len > SP_DNSSD_MAX_TXT_KEY || value_len > SP_DNSSD_MAX_TXT_VALUE)
    return;
  for (gsize i = 0; i < key_len; i++)
    if (data[i] < 0x20 || data[i] > 0x7e)
      return;
  if (eq != NULL && !text_is_printable ((const char *) eq + 1, value_len))
    return;
  key = g_ascii_strdown ((const char *) data, key_len);
  if (g_hash_table_contains (txt, key) || g_hash_table_size (txt) >= SP_DNSSD_MAX_TXT)
    return;
  g_hash_table_insert (txt, g_steal_pointer (&key),
                       g_strndup (eq ? (const char *) eq + 1 : "", value_len));
}

static SpDnssdService *
service_new (const char *name, const char *type, const AvahiAddress *a, guint16 port,
             AvahiStringList *txt, gboolean own)
{
  SpDnssdService *self;
  char address[AVAHI_ADDRESS_STR_MAX];
  GString *digest;

  if (port == 0 || avahi_address_snprint (address, sizeof address, a) == NULL)
    return NULL;
  /* An IPv6 link-local address needs its interface to be dialled, which
   * a SIP URI cannot carry portably: such a result is no use to us. */
  if (a->proto == AVAHI_PROTO_INET6 && g_ascii_strncasecmp (address, "fe80:", 5) == 0)
    return NULL;
  self = g_object_new (SP_TYPE_DNSSD_SERVICE, NULL);
  self->name = g_strdup (name);
  self->type = g_strdup (type);
  self->address = g_strdup (address);
  self->port = port;
  self->own = own;
  self->ipv4 = a->proto == AVAHI_PROTO_INET;
  /* At most a bounded number of strings is even looked at. */
  for (guint n = 0; txt != NULL && n < 4 * SP_DNSSD_MAX_TXT;
       txt = avahi_string_list_get_next (txt), n++)
    txt_add (self->txt, avahi_string_list_get_text (txt), avahi_string_list_get_size (txt));
  digest = g_string_new (address);
  g_string_append_printf (digest, "|%u|%d", port, own);
  {
    g_autoptr (GList) keys = g_list_sort (g_hash_table_get_keys (self->txt), (GCompareFunc) strcmp);
    for (GList *k = keys; k != NULL; k = k->next)
      g_string_append_printf (digest, "|%s=%s", (char *) k->data,
                              (char *) g_hash_table_lookup (self->txt, k->data));
  }
  self->txt_digest = g_string_free (digest, FALSE);
  return self;
}

/* ---- SpDnssdBrowser --------------------------------------------------------- */

typedef struct
{
  SpDnssdBrowser *browser; /* unowned: the browser frees its instances */
  AvahiIfIndex iface;
  AvahiProtocol proto;
  char *name;
  char *domain;
  gboolean own;
  AvahiServiceResolver *resolver;
  guint resolve_retry_id;  /* after a failed resolve */
  guint resolve_failures;  /* in a row */
  SpDnssdService *service; /* resolved; NULL until then */
} Instance;

struct _SpDnssdBrowser
{
  GObject parent_instance;

  char *type;
  AvahiServiceBrowser *browser;
  GPtrArray *instances; /* Instance * */
  GPtrArray *items;     /* SpDnssdService *, one per name, listed */
  gboolean said_full;
};

static void sp_dnssd_browser_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SpDnssdBrowser, sp_dnssd_browser, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sp_dnssd_browser_list_model_init))

enum
{
  BROWSER_FOUND,
  BROWSER_LOST,
  BROWSER_N_SIGNALS
};
static guint browser_signals[BROWSER_N_SIGNALS];

static GType
browser_get_item_type (GListModel *model)
{
  return SP_TYPE_DNSSD_SERVICE;
}

static guint
browser_get_n_items (GListModel *model)
{
  return SP_DNSSD_BROWSER (model)->items->len;
}

static gpointer
browser_get_item (GListModel *model, guint position)
{
  SpDnssdBrowser *self = SP_DNSSD_BROWSER (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
sp_dnssd_browser_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = browser_get_item_type;
  iface->get_n_items = browser_get_n_items;
  iface->get_item = browser_get_item;
}

static void
instance_free (gpointer data)
{
  Instance *inst = data;

  if (inst->resolver != NULL)
    avahi_service_resolver_free (inst->resolver);
  g_clear_handle_id (&inst->resolve_retry_id, g_source_remove);
  g_clear_object (&inst->service);
  g_free (inst->name);
  g_free (inst->domain);
  g_free (inst);
}

static gint
browser_item_index (SpDnssdBrowser *self, const char *name)
{
  for (guint i = 0; i < self->items->len; i++)
    if (strcmp (((SpDnssdService *) g_ptr_array_index (self->items, i))->name, name) == 0)
      return (gint) i;
  return -1;
}

/* Lists what the instances of @name say now: the IPv4 one when there
 * is one (what our phones and servers bind by default), else the first
 * resolved. */
static void
browser_update_item (SpDnssdBrowser *self, const char *name)
{
  g_autofree char *key = g_strdup (name); /* @name may belong to an instance freed below */
  SpDnssdService *best = NULL;
  SpDnssdService *old;
  gint pos;

  for (guint i = 0; i < self->instances->len; i++)
    {
      Instance *inst = g_ptr_array_index (self->instances, i);
      if (inst->service == NULL || strcmp (inst->name, key) != 0)
        continue;
      if (best == NULL || (!best->ipv4 && inst->service->ipv4))
        best = inst->service;
    }
  pos = browser_item_index (self, key);
  if (best == NULL)
    {
      g_autoptr (SpDnssdService) gone = NULL;
      if (pos < 0)
        return;
      gone = g_object_ref (g_ptr_array_index (self->items, pos));
      g_ptr_array_remove_index (self->items, pos);
      g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 0);
      g_signal_emit (self, browser_signals[BROWSER_LOST], 0, gone);
      return;
    }
  if (pos < 0)
    {
      if (self->items->len >= SP_DNSSD_MAX_SERVICES)
        {
          if (!self->said_full)
            g_message ("DNS-SD: more than %u %s services on the network; the rest are not listed",
                       SP_DNSSD_MAX_SERVICES, self->type);
          self->said_full = TRUE;
          return;
        }
      g_ptr_array_add (self->items, g_object_ref (best));
      g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
      g_signal_emit (self, browser_signals[BROWSER_FOUND], 0, best);
      return;
    }
  if (strcmp (((SpDnssdService *) g_ptr_array_index (self->items, pos))->txt_digest,
              best->txt_digest) == 0)
    return;
  old = g_ptr_array_index (self->items, pos);
  g_ptr_array_index (self->items, pos) = g_object_ref (best);
  g_object_unref (old);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 1);
  g_signal_emit (self, browser_signals[BROWSER_FOUND], 0, best);
}

static void instance_resolve (Instance *inst, AvahiClient *client);

static gboolean
resolve_retry_cb (gpointer data)
{
  Instance *inst = data;

  inst->resolve_retry_id = 0;
  if (inst->browser->browser != NULL)
    instance_resolve (inst, avahi_service_browser_get_client (inst->browser->browser));
  return G_SOURCE_REMOVE;
}

static void
resolve_cb (AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
            AvahiResolverEvent event, const char *name, const char *type, const char *domain,
            const char *host_name, const AvahiAddress *a, uint16_t port, AvahiStringList *txt,
            AvahiLookupResultFlags flags, void *data)
{
  Instance *inst = data;
  SpDnssdBrowser *self = inst->browser;

  g_clear_object (&inst->service);
  if (event == AVAHI_RESOLVER_FOUND && a != NULL)
    {
      inst->resolve_failures = 0;
      inst->service = service_new (inst->name, self->type, a, port, txt,
                                   inst->own || (flags & AVAHI_LOOKUP_RESULT_OUR_OWN) != 0);
    }
  else
    {
      /* Not resolvable now: it left (the browser will say so), or its
       * answers were lost or late (a busy host, a lost multicast). The
       * browser will not report it again while its PTR record lives (over
       * an hour), so try again in a while rather than never list it. */
      guint delay = MIN (RESOLVE_RETRY_S << MIN (inst->resolve_failures, 6), RESOLVE_RETRY_MAX_S);

      g_debug ("DNS-SD: could not resolve \"%s\" (%s); again in %u s", inst->name,
               avahi_strerror (avahi_client_errno (avahi_service_resolver_get_client (r))), delay);
      avahi_service_resolver_free (inst->resolver);
      inst->resolver = NULL;
      inst->resolve_failures++;
      if (inst->resolve_retry_id == 0)
        inst->resolve_retry_id = g_timeout_add_seconds (delay, resolve_retry_cb, inst);
    }
  browser_update_item (self, inst->name);
}

/* Resolves an instance's address in the protocol it was browsed on: an
 * instance seen over IPv4 mDNS gets the host's A record, never an IPv6
 * link-local AAAA (which Avahi also announces over IPv4, and which a SIP
 * URI cannot dial); whichever came first would win otherwise. */
static void
instance_resolve (Instance *inst, AvahiClient *client)
{
  if (inst->resolver != NULL)
    return;
  /* The resolver stays while the service does: Avahi reports a changed
   * address, port or TXT through it. */
  inst->resolver =
      avahi_service_resolver_new (client, inst->iface, inst->proto, inst->name, inst->browser->type,
                                  inst->domain, inst->proto, 0, resolve_cb, inst);
  if (inst->resolver == NULL)
    g_debug ("DNS-SD: cannot resolve %s: %s", inst->name,
             avahi_strerror (avahi_client_errno (client)));
}

static Instance *
browser_find_instance (SpDnssdBrowser *self, AvahiIfIndex iface, AvahiProtocol proto,
                       const char *name, const char *domain, guint *index)
{
  for (guint i = 0; i < self->instances->len; i++)
    {
      Instance *inst = g_ptr_array_index (self->instances, i);
      if (inst->iface == iface && inst->proto == proto && strcmp (inst->name, name) == 0 &&
          strcmp (inst->domain, domain) == 0)
        {
          if (index != NULL)
            *index = i;
          return inst;
        }
    }
  return NULL;
}

static void
browse_new (SpDnssdBrowser *self, AvahiClient *client, AvahiIfIndex iface, AvahiProtocol proto,
            const char *name, const char *domain, gboolean own)
{
  Instance *inst;

  if (!sp_dnssd_name_is_valid (name) || domain == NULL || strlen (domain) > 255)
    return;
  inst = browser_find_instance (self, iface, proto, name, domain, NULL);
  if (inst == NULL)
    {
      if (self->instances->len >= MAX_INSTANCES)
        {
          if (!self->said_full)
            g_message ("DNS-SD: more than %u %s services on the network; the rest are not listed",
                       SP_DNSSD_MAX_SERVICES, self->type);
          self->said_full = TRUE;
          return;
        }
      inst = g_new0 (Instance, 1);
      inst->browser = self;
      inst->iface = iface;
      inst->proto = proto;
      inst->name = g_strdup (name);
      inst->domain = g_strdup (domain);
      g_ptr_array_add (self->instances, inst);
    }
  inst->own = own;
  g_clear_handle_id (&inst->resolve_retry_id, g_source_remove);
  instance_resolve (inst, client);
}

static void
browse_cb (AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent event,
           const char *name, const char *type, const char *domain, AvahiLookupResultFlags flags,
           void *data)
{
  SpDnssdBrowser *self = data;
  Instance *inst;
  guint index = 0;

  switch (event)
    {
      case AVAHI_BROWSER_NEW:
        browse_new (self, avahi_service_browser_get_client (b), iface, proto, name, domain,
                    (flags & AVAHI_LOOKUP_RESULT_OUR_OWN) != 0);
        break;
      case AVAHI_BROWSER_REMOVE:
        if (name == NULL || domain == NULL)
          break;
        inst = browser_find_instance (self, iface, proto, name, domain, &index);
        if (inst != NULL)
          {
            g_autofree char *gone = g_strdup (name);
            g_ptr_array_remove_index (self->instances, index);
            browser_update_item (self, gone);
          }
        break;
      case AVAHI_BROWSER_FAILURE:
        g_message ("DNS-SD: browsing %s failed: %s", self->type,
                   avahi_strerror (avahi_client_errno (avahi_service_browser_get_client (b))));
        break;
      case AVAHI_BROWSER_CACHE_EXHAUSTED:
      case AVAHI_BROWSER_ALL_FOR_NOW:
      default:
        break;
    }
}

/* The daemon is there: browse. */
static void
browser_start (SpDnssdBrowser *self, AvahiClient *client)
{
  if (self->browser != NULL)
    return;
  self->browser = avahi_service_browser_new (client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                             self->type, NULL, 0, browse_cb, self);
  if (self->browser == NULL)
    g_message ("DNS-SD: cannot browse %s: %s", self->type,
               avahi_strerror (avahi_client_errno (client)));
}

/* The daemon went away: nothing it told us can be trusted to still be
 * there, so the list empties (and fills again when it is back). */
static void
browser_stop (SpDnssdBrowser *self)
{
  if (self->browser != NULL)
    avahi_service_browser_free (self->browser);
  self->browser = NULL;
  while (self->instances->len > 0)
    {
      g_autofree char *name =
          g_strdup (((Instance *) g_ptr_array_index (self->instances, 0))->name);
      g_ptr_array_remove_index (self->instances, 0);
      browser_update_item (self, name);
    }
}

static void
sp_dnssd_browser_finalize (GObject *object)
{
  SpDnssdBrowser *self = SP_DNSSD_BROWSER (object);

  if (self->browser != NULL)
    avahi_service_browser_free (self->browser);
  g_ptr_array_unref (self->instances);
  g_ptr_array_unref (self->items);
  g_free (self->type);
  G_OBJECT_CLASS (sp_dnssd_browser_parent_class)->finalize (object);
}

static void
sp_dnssd_browser_class_init (SpDnssdBrowserClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_dnssd_browser_finalize;
  browser_signals[BROWSER_FOUND] =
      g_signal_new ("found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, SP_TYPE_DNSSD_SERVICE);
  browser_signals[BROWSER_LOST] =
      g_signal_new ("lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, SP_TYPE_DNSSD_SERVICE);
}

static void
sp_dnssd_browser_init (SpDnssdBrowser *self)
{
  self->instances = g_ptr_array_new_with_free_func (instance_free);
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
}

const char *
sp_dnssd_browser_get_service_type (SpDnssdBrowser *self)
{
  g_return_val_if_fail (SP_IS_DNSSD_BROWSER (self), NULL);
  return self->type;
}

SpDnssdService *
sp_dnssd_browser_find (SpDnssdBrowser *self, const char *name)
{
  gint pos;

  g_return_val_if_fail (SP_IS_DNSSD_BROWSER (self), NULL);
  if (name == NULL)
    return NULL;
  pos = browser_item_index (self, name);
  if (pos >= 0)
    return g_ptr_array_index (self->items, pos);
  for (guint i = 0; i < self->items->len; i++)
    {
      SpDnssdService *s = g_ptr_array_index (self->items, i);
      g_autofree char *a = g_utf8_casefold (s->name, -1);
      g_autofree char *b = g_utf8_casefold (name, -1);
      if (strcmp (a, b) == 0)
        return s;
    }
  return NULL;
}

/* ---- SpDnssd ---------------------------------------------------------------- */

typedef struct
{
  SpDnssd *dnssd; /* unowned: it frees its publications */
  guint id;
  char *name;
  GArray *entries; /* SpDnssdEntry, strings owned */
  char **txt;
  AvahiEntryGroup *group;
  guint collisions;
} Publication;

struct _SpDnssd
{
  GObject parent_instance;

  AvahiGLibPoll *poll;
  AvahiClient *client;
  gboolean available;
  char *reason;
  guint retry_id;
  gboolean restart_now; /* after the daemon left, not after an error */
  guint next_id;
  GHashTable *publications; /* id -> Publication */
  GHashTable *browsers;     /* type -> SpDnssdBrowser */
};

G_DEFINE_FINAL_TYPE (SpDnssd, sp_dnssd, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_AVAILABLE,
  PROP_UNAVAILABLE_REASON,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

static void client_start (SpDnssd *self);

static void
set_available (SpDnssd *self, gboolean available, const char *reason)
{
  gboolean was = self->available;

  if (!available && g_strcmp0 (reason, self->reason) != 0)
    {
      /* Said once per outage (and again only when the reason changes). */
      g_message ("DNS-SD (finding servers and phones on this network) is off: %s", reason);
      g_free (self->reason);
      self->reason = g_strdup (reason);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UNAVAILABLE_REASON]);
    }
  else if (available && self->reason != NULL)
    {
      g_message ("DNS-SD: the Avahi daemon is back");
      g_clear_pointer (&self->reason, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UNAVAILABLE_REASON]);
    }
  self->available = available;
  if (was != available)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AVAILABLE]);
}

/* ---- publishing ---- */

static void publication_register (Publication *pub, AvahiClient *client);

static void
publication_rename (Publication *pub)
{
  char *alt;

  if (++pub->collisions > MAX_COLLISIONS)
    {
      g_message ("DNS-SD: \"%s\" collides with other hosts' names again and again; not published",
                 pub->name);
      return;
    }
  alt = avahi_alternative_service_name (pub->name);
  g_message ("DNS-SD: the name \"%s\" is taken on this network; now \"%s\"", pub->name, alt);
  g_free (pub->name);
  pub->name = g_strdup (alt);
  avahi_free (alt);
}

static void
group_cb (AvahiEntryGroup *g, AvahiEntryGroupState state, void *data)
{
  Publication *pub = data;

  switch (state)
    {
      case AVAHI_ENTRY_GROUP_COLLISION:
        publication_rename (pub);
        avahi_entry_group_reset (g);
        if (pub->collisions <= MAX_COLLISIONS)
          publication_register (pub, avahi_entry_group_get_client (g));
        break;
      case AVAHI_ENTRY_GROUP_FAILURE:
        g_message ("DNS-SD: publishing \"%s\" failed: %s", pub->name,
                   avahi_strerror (avahi_client_errno (avahi_entry_group_get_client (g))));
        break;
      case AVAHI_ENTRY_GROUP_ESTABLISHED:
        g_debug ("DNS-SD: published \"%s\"", pub->name);
        break;
      case AVAHI_ENTRY_GROUP_UNCOMMITED:
      case AVAHI_ENTRY_GROUP_REGISTERING:
      default:
        break;
    }
}

/* Adds every entry under the current name; 0 or an Avahi error. */
static int
publication_add (Publication *pub, AvahiStringList *txt)
{
  for (guint i = 0; i < pub->entries->len; i++)
    {
      SpDnssdEntry *e = &g_array_index (pub->entries, SpDnssdEntry, i);
      int ret =
          avahi_entry_group_add_service_strlst (pub->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                                pub->name, e->type, NULL, NULL, e->port, txt);
      if (ret == 0 && e->subtype != NULL)
        ret =
            avahi_entry_group_add_service_subtype (pub->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                   0, pub->name, e->type, NULL, e->subtype);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static void
publication_register (Publication *pub, AvahiClient *client)
{
  AvahiStringList *txt;
  int ret;

  if (pub->group == NULL)
    pub->group = avahi_entry_group_new (client, group_cb, pub);
  if (pub->group == NULL)
    {
      g_message ("DNS-SD: cannot publish \"%s\": %s", pub->name,
                 avahi_strerror (avahi_client_errno (client)));
      return;
    }
  if (!avahi_entry_group_is_empty (pub->group))
    return;
  txt = avahi_string_list_new_from_array ((const char **) pub->txt,
                                          pub->txt ? (int) g_strv_length (pub->txt) : 0);
  /* A name taken by a service of this very host is said at once. */
  while ((ret = publication_add (pub, txt)) == AVAHI_ERR_COLLISION &&
         pub->collisions < MAX_COLLISIONS)
    {
      publication_rename (pub);
      avahi_entry_group_reset (pub->group);
    }
  avahi_string_list_free (txt);
  if (ret == 0)
    ret = avahi_entry_group_commit (pub->group);
  if (ret < 0)
    g_message ("DNS-SD: cannot publish \"%s\": %s", pub->name, avahi_strerror (ret));
}

static void
publication_stop (Publication *pub)
{
  if (pub->group != NULL)
    avahi_entry_group_free (pub->group);
  pub->group = NULL;
}

static void
publication_free (gpointer data)
{
  Publication *pub = data;

  publication_stop (pub);
  for (guint i = 0; i < pub->entries->len; i++)
    {
      SpDnssdEntry *e = &g_array_index (pub->entries, SpDnssdEntry, i);
      g_free ((char *) e->type);
      g_free ((char *) e->subtype);
    }
  g_array_unref (pub->entries);
  g_strfreev (pub->txt);
  g_free (pub->name);
  g_free (pub);
}

/* ---- the client's life ---- */

static void
stop_everything (SpDnssd *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->publications);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    publication_stop (value);
  g_hash_table_iter_init (&iter, self->browsers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    browser_stop (value);
}

static void
start_everything (SpDnssd *self, AvahiClient *client)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->publications);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    publication_register (value, client);
  g_hash_table_iter_init (&iter, self->browsers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    browser_start (value, client);
}

static gboolean
retry_cb (gpointer data)
{
  SpDnssd *self = data;

  self->retry_id = 0;
  client_start (self);
  return G_SOURCE_REMOVE;
}

static gboolean
restart_cb (gpointer data)
{
  SpDnssd *self = data;

  /* Out of Avahi's callback: the client that failed can go now. */
  self->retry_id = 0;
  stop_everything (self);
  if (self->client != NULL)
    avahi_client_free (self->client);
  self->client = NULL;
  if (self->restart_now)
    client_start (self);
  else
    self->retry_id = g_timeout_add_seconds (RETRY_S, retry_cb, self);
  return G_SOURCE_REMOVE;
}

static void
client_cb (AvahiClient *c, AvahiClientState state, void *data)
{
  SpDnssd *self = data;
  g_autofree char *reason = NULL;
  int error;

  /* Called from inside avahi_client_new, before it returns the client. */
  if (self->client == NULL)
    self->client = c;
  switch (state)
    {
      case AVAHI_CLIENT_S_RUNNING:
        set_available (self, TRUE, NULL);
        start_everything (self, c);
        break;
      case AVAHI_CLIENT_S_COLLISION:
      case AVAHI_CLIENT_S_REGISTERING:
        /* The host name is being (re)registered: publish again once it is. */
        stop_everything (self);
        break;
      case AVAHI_CLIENT_CONNECTING:
        /* No daemon (yet, or any more): the client waits for it by itself
         * (AVAHI_CLIENT_NO_FAIL), no polling of ours. */
        stop_everything (self);
        set_available (self, FALSE, NOT_RUNNING);
        break;
      case AVAHI_CLIENT_FAILURE:
      default:
        error = avahi_client_errno (c);
        /* The daemon stopped: a new client waits for it to come back
         * (CONNECTING above), after a second, so a bus that drops us at
         * once cannot make a loop of it. Anything else: try again later. */
        self->restart_now = error == AVAHI_ERR_DISCONNECTED;
        reason = self->restart_now ? g_strdup (NOT_RUNNING)
                                   : g_strdup_printf ("Avahi failed: %s", avahi_strerror (error));
        set_available (self, FALSE, reason);
        if (self->retry_id == 0)
          self->retry_id = g_timeout_add_seconds (self->restart_now ? 1 : 0, restart_cb, self);
        break;
    }
}

static void
client_start (SpDnssd *self)
{
  AvahiClient *client;
  int error = 0;

  client = avahi_client_new (avahi_glib_poll_get (self->poll), AVAHI_CLIENT_NO_FAIL, client_cb,
                             self, &error);
  if (client == NULL)
    {
      /* No system bus at all: nothing will tell us when one appears. */
      g_autofree char *reason = g_strdup_printf ("%s", avahi_strerror (error));
      self->client = NULL;
      g_clear_handle_id (&self->retry_id, g_source_remove);
      set_available (self, FALSE, reason);
      self->retry_id = g_timeout_add_seconds (RETRY_S, retry_cb, self);
      return;
    }
  self->client = client;
}

/* ---- public ---- */

gboolean
sp_dnssd_is_available (SpDnssd *self)
{
  g_return_val_if_fail (SP_IS_DNSSD (self), FALSE);
  return self->available;
}

const char *
sp_dnssd_get_unavailable_reason (SpDnssd *self)
{
  g_return_val_if_fail (SP_IS_DNSSD (self), NULL);
  return self->reason;
}

static char *
name_cut (const char *name)
{
  const char *end = name;

  if (!g_utf8_validate (name, -1, NULL))
    return g_strdup ("Softphone");
  while (*end != '\0')
    {
      const char *next = g_utf8_next_char (end);
      if (next - name > MAX_NAME)
        break;
      end = next;
    }
  return g_strndup (name, end - name);
}

guint
sp_dnssd_publish (SpDnssd *self, const char *name, const SpDnssdEntry *entries, guint n_entries,
                  const char *const *txt)
{
  Publication *pub;

  g_return_val_if_fail (SP_IS_DNSSD (self), 0);
  g_return_val_if_fail (name != NULL && n_entries > 0, 0);
  pub = g_new0 (Publication, 1);
  pub->dnssd = self;
  pub->id = ++self->next_id;
  pub->name = name_cut (name);
  if (*pub->name == '\0')
    {
      g_free (pub->name);
      pub->name = g_strdup ("Softphone");
    }
  pub->entries = g_array_new (FALSE, FALSE, sizeof (SpDnssdEntry));
  for (guint i = 0; i < n_entries; i++)
    {
      SpDnssdEntry e = { g_strdup (entries[i].type), g_strdup (entries[i].subtype),
                         entries[i].port };
      g_array_append_val (pub->entries, e);
    }
  pub->txt = g_strdupv ((char **) txt);
  g_hash_table_insert (self->publications, GUINT_TO_POINTER (pub->id), pub);
  if (self->available && self->client != NULL)
    publication_register (pub, self->client);
  return pub->id;
}

void
sp_dnssd_unpublish (SpDnssd *self, guint id)
{
  g_return_if_fail (SP_IS_DNSSD (self));
  g_hash_table_remove (self->publications, GUINT_TO_POINTER (id));
}

const char *
sp_dnssd_get_published_name (SpDnssd *self, guint id)
{
  Publication *pub;

  g_return_val_if_fail (SP_IS_DNSSD (self), NULL);
  pub = g_hash_table_lookup (self->publications, GUINT_TO_POINTER (id));
  return pub ? pub->name : NULL;
}

SpDnssdBrowser *
sp_dnssd_browse (SpDnssd *self, const char *type)
{
  SpDnssdBrowser *browser;

  g_return_val_if_fail (SP_IS_DNSSD (self), NULL);
  browser = g_hash_table_lookup (self->browsers, type);
  if (browser != NULL)
    return browser;
  browser = g_object_new (SP_TYPE_DNSSD_BROWSER, NULL);
  browser->type = g_strdup (type);
  g_hash_table_insert (self->browsers, g_strdup (type), browser);
  if (self->available && self->client != NULL)
    browser_start (browser, self->client);
  return browser;
}

static void
sp_dnssd_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SpDnssd *self = SP_DNSSD (object);

  switch (id)
    {
      case PROP_AVAILABLE:
        g_value_set_boolean (value, self->available);
        break;
      case PROP_UNAVAILABLE_REASON:
        g_value_set_string (value, self->reason);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sp_dnssd_dispose (GObject *object)
{
  SpDnssd *self = SP_DNSSD (object);

  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->publications != NULL)
    g_hash_table_remove_all (self->publications);
  if (self->browsers != NULL)
    {
      GHashTableIter iter;
      gpointer value;
      g_hash_table_iter_init (&iter, self->browsers);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        browser_stop (value);
      g_hash_table_remove_all (self->browsers);
    }
  if (self->client != NULL)
    avahi_client_free (self->client);
  self->client = NULL;
  G_OBJECT_CLASS (sp_dnssd_parent_class)->dispose (object);
}

static void
sp_dnssd_finalize (GObject *object)
{
  SpDnssd *self = SP_DNSSD (object);

  g_hash_table_unref (self->publications);
  g_hash_table_unref (self->browsers);
  if (self->poll != NULL)
    avahi_glib_poll_free (self->poll);
  g_free (self->reason);
  G_OBJECT_CLASS (sp_dnssd_parent_class)->finalize (object);
}

static void
sp_dnssd_class_init (SpDnssdClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = sp_dnssd_get_property;
  object_class->dispose = sp_dnssd_dispose;
  object_class->finalize = sp_dnssd_finalize;
  props[PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_UNAVAILABLE_REASON] = g_param_spec_string ("unavailable-reason", NULL, NULL, NULL,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
sp_dnssd_init (SpDnssd *self)
{
  self->publications =
      g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, publication_free);
  self->browsers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

SpDnssd *
sp_dnssd_new (void)
{
  SpDnssd *self = g_object_new (SP_TYPE_DNSSD, NULL);

  self->poll = avahi_glib_poll_new (NULL, G_PRIORITY_DEFAULT);
  client_start (self);
  return self;
}
