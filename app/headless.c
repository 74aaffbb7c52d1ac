/* The headless runner: options in, commands on stdin, JSON events out. */
#include "config.h"

#include "headless.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "audio/alsa.h"
#include "node/node.h"
#include "server/apitoken.h"
#include "server/passwordhash.h"
#include "server/server.h"
#include "sip/uri.h"
#include "ua/account.h"
#include "ua/contacts.h"
#include "ua/hostport.h"
#include "ua/phone.h"

/* A command line longer than this is refused (and the rest of it read
 * and dropped), so stdin cannot grow our memory without bound. */
#define MAX_COMMAND_LENGTH     4096
#define STATS_EVENT_INTERVAL_S 5

typedef struct
{
  SpHeadlessOptions *opts;
  SpNode *node;
  SpPhone *phone;   /* the node's */
  SpServer *server; /* the node's, with --server */
  GMainLoop *loop;
  GCancellable *cancellable;
  GDataInputStream *input;
  char *bind_host;
  guint16 bind_port;
  guint session_expires; /* --server-option session-expires / min-se */
  guint min_se;
  SpAccount *cli_account;
  gboolean call_placed;
  gboolean any_call_seen;
  gboolean quitting;
  gboolean waiting_registration;
  int exit_status;
  guint sigint_id;
  guint sigterm_id;
  /* LAN discovery: what --discover watches (the node's) */
  SpDnssd *dnssd;
  SpDnssdBrowser *found_servers;
  SpDnssdBrowser *found_phones;
} Runner;

static void runner_quit (Runner *r);

/* ---- options ------------------------------------------------------------ */

void
sp_headless_options_init (SpHeadlessOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->hangup_after = -1;
  opts->media_timeout = -1;
  opts->sip_t1 = -1;
  opts->tls_port = -1;
  opts->keepalive = -1;
  opts->ring_timeout = -1;
  opts->ptime = -1;
}

void
sp_headless_options_clear (SpHeadlessOptions *opts)
{
  g_clear_pointer (&opts->bind, g_free);
  g_clear_pointer (&opts->config_dir, g_free);
  if (opts->account != NULL)
    memset (opts->account, 0, strlen (opts->account));
  g_clear_pointer (&opts->account, g_free);
  g_clear_pointer (&opts->call, g_free);
  g_clear_pointer (&opts->audio_in, g_free);
  g_clear_pointer (&opts->audio_out, g_free);
  g_clear_pointer (&opts->users, g_free);
  g_clear_pointer (&opts->routes, g_free);
  g_clear_pointer (&opts->http, g_free);
  g_clear_pointer (&opts->server_options, g_strfreev);
  g_clear_pointer (&opts->account_options, g_strfreev);
  g_clear_pointer (&opts->media_encryption, g_free);
  g_clear_pointer (&opts->advertise_name, g_free);
  g_clear_pointer (&opts->server_name, g_free);
}

const char *
sp_headless_options_first_given (const SpHeadlessOptions *opts)
{
  /* Every field but headless, bind and config_dir (the window's too). */
  const struct
  {
    gboolean given;
    const char *name;
  } options[] = {
    { opts->account != NULL, "--account" },
    { opts->account_options != NULL, "--account-option" },
    { opts->call != NULL, "--call" },
    { opts->auto_answer, "--auto-answer" },
    { opts->hangup_after >= 0, "--hangup-after" },
    { opts->audio_in != NULL, "--audio-in" },
    { opts->audio_out != NULL, "--audio-out" },
    { opts->exit_when_idle, "--exit-when-idle" },
    { opts->log_sip, "--log-sip" },
    { opts->log_sip_raw, "--log-sip-raw" },
    { opts->media_timeout >= 0, "--media-timeout" },
    { opts->sip_t1 >= 0, "--sip-t1" },
    { opts->tls_port >= 0, "--tls-port" },
    { opts->keepalive >= 0, "--keepalive-interval" },
    { opts->no_inband_dtmf, "--no-inband-dtmf" },
    { opts->no_echo_cancellation, "--no-echo-cancellation" },
    { opts->server, "--server" },
    { opts->users != NULL, "--users" },
    { opts->routes != NULL, "--routes" },
    { opts->http != NULL, "--http" },
    { opts->ring_timeout >= 0, "--ring-timeout" },
    { opts->ptime >= 0, "--ptime" },
    { opts->refuse_strangers, "--refuse-strangers" },
    { opts->media_encryption != NULL, "--media-encryption" },
    { opts->server_options != NULL, "--server-option" },
    { opts->advertise, "--advertise" },
    { opts->discover, "--discover" },
    { opts->server_name != NULL, "--server-name" },
    { opts->no_server_advertise, "--no-server-advertise" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    if (options[i].given)
      return options[i].name;
  return NULL;
}

/* Every ranged integer option is read the same way; @what names the unit
 * and the range in the error ("a port (1 to 65535, ...)"). */
static gboolean
parse_ranged (const char *name, const char *value, guint64 min, guint64 max, const char *what,
              gint *out, GError **error)
{
  guint64 n = 0;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, min, max, &n, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: \"%s\" is not %s", name,
                   value ? value : "", what);
      return FALSE;
    }
  *out = (gint) n;
  return TRUE;
}

static gboolean
parse_seconds (const char *name, const char *value, gint *out, GError **error)
{
  return parse_ranged (name, value, 0, 86400, "a number of seconds (0 to 86400)", out, error);
}

static gboolean
on_auto_answer (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;

  opts->auto_answer = TRUE;
  opts->auto_answer_delay = 0;
  return value == NULL || parse_seconds (name, value, &opts->auto_answer_delay, error);
}

static gboolean
on_hangup_after (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  return parse_seconds (name, value, &opts->hangup_after, error);
}

static gboolean
on_tls_port (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  return parse_ranged (name, value, 0, 65535, "a port (1 to 65535, or 0 for no TLS listener)",
                       &opts->tls_port, error);
}

static gboolean
on_sip_t1 (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  return parse_ranged (name, value, 10, 10000, "a number of milliseconds (10 to 10000)",
                       &opts->sip_t1, error);
}

static gboolean
on_keepalive (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  return parse_seconds (name, value, &opts->keepalive, error);
}

static gboolean
on_ring_timeout (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  return parse_seconds (name, value, &opts->ring_timeout, error);
}

/* "10", "20", "30", "40" or "auto". */
static gboolean
parse_ptime (const char *value, gint *out)
{
  guint64 ms;

  if (g_strcmp0 (value, "auto") == 0)
    {
      *out = 0;
      return TRUE;
    }
  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 10, 40, &ms, NULL) ||
      !sp_account_ptime_is_valid ((guint) ms))
    return FALSE;
  *out = (gint) ms;
  return TRUE;
}

/* --media-encryption preferred|required|off (issue 16). */
static gboolean
on_media_encryption (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  SpMediaEncryption encryption;

  if (!sp_media_encryption_from_string (value, &encryption))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: preferred, required or off, not '%s'", name, value);
      return FALSE;
    }
  g_free (opts->media_encryption);
  opts->media_encryption = g_strdup (sp_media_encryption_to_string (encryption));
  return TRUE;
}

static gboolean
on_ptime (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;

  if (!parse_ptime (value, &opts->ptime))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: 10, 20, 30, 40 or auto, not '%s'", name, value);
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_media_timeout (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;
  return parse_seconds (name, value, &opts->media_timeout, error);
}

static gboolean
on_advertise (const char *name, const char *value, gpointer data, GError **error)
{
  SpHeadlessOptions *opts = data;

  opts->advertise = TRUE;
  g_clear_pointer (&opts->advertise_name, g_free);
  if (value == NULL)
    return TRUE;
  opts->advertise_name = g_strstrip (g_strdup (value));
  if (*opts->advertise_name == '\0' || !g_utf8_validate (opts->advertise_name, -1, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: give the name this phone is found by", name);
      return FALSE;
    }
  return TRUE;
}

GOptionGroup *
sp_headless_option_group (SpHeadlessOptions *opts)
{
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &opts->headless,
      N_ ("Run with no window: commands on stdin, JSON events on stdout"), NULL },
    { "account", 0, 0, G_OPTION_ARG_STRING, &opts->account,
      N_ ("Register this account (password also from $SOFTPHONE_PASSWORD)"),
      N_ ("sip:USER[:PASSWORD]@HOST[:PORT]") },
    { "call", 0, 0, G_OPTION_ARG_STRING, &opts->call, N_ ("Place one call once ready"),
      N_ ("TARGET") },
    { "auto-answer", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_auto_answer,
      N_ ("Answer incoming calls, after SECONDS (default 0)"), N_ ("SECONDS") },
    { "hangup-after", 0, 0, G_OPTION_ARG_CALLBACK, on_hangup_after,
      N_ ("Hang up that long after the call is established"), N_ ("SECONDS") },
    { "audio-in", 0, 0, G_OPTION_ARG_FILENAME, &opts->audio_in,
      N_ ("Send this WAV file (looped), or capture from this ALSA device (default: null)"),
      N_ ("FILE.wav|DEVICE") },
    { "audio-out", 0, 0, G_OPTION_ARG_FILENAME, &opts->audio_out,
      N_ ("Record received audio to this WAV file, or play it on this ALSA device (default: null)"),
      N_ ("FILE.wav|DEVICE") },
    { "exit-when-idle", 0, 0, G_OPTION_ARG_NONE, &opts->exit_when_idle,
      N_ ("Quit once the last call has ended"), NULL },
    { "log-sip", 0, 0, G_OPTION_ARG_NONE, &opts->log_sip,
      N_ ("Print every SIP message sent and received to stderr, credentials masked"), NULL },
    { "log-sip-raw", 0, 0, G_OPTION_ARG_NONE, &opts->log_sip_raw,
      N_ ("As --log-sip, but with credentials (digest responses) left in"), NULL },
    { "media-timeout", 0, 0, G_OPTION_ARG_CALLBACK, on_media_timeout,
      N_ ("End a call when no media arrives for SECONDS (default 30; 0 = never)"), N_ ("SECONDS") },
    { "ring-timeout", 0, 0, G_OPTION_ARG_CALLBACK, on_ring_timeout,
      N_ ("Refuse an incoming call not answered in SECONDS with 480 (default 60; 0 = never)"),
      N_ ("SECONDS") },
    { "ptime", 0, 0, G_OPTION_ARG_CALLBACK, on_ptime,
      N_ ("Send and ask for MS ms packets in every call (10, 20, 30, 40; default auto: 20, or 10 "
          "for Opus between phones on a LAN)"),
      N_ ("MS") },
    { "media-encryption", 0, 0, G_OPTION_ARG_CALLBACK, on_media_encryption,
      N_ ("Encryption (SRTP) of direct calls: preferred (the default: when the other phone "
          "takes it), required, or off"),
      N_ ("POLICY") },
    { "refuse-strangers", 0, 0, G_OPTION_ARG_NONE, &opts->refuse_strangers,
      N_ ("Refuse calls (403) from anyone but the accounts' servers"), NULL },
    { "account-option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts->account_options,
      N_ ("Setting of --account: realm=REALM, allow-md5-without-qop=on|off, ptime=MS|auto, "
          "transport=udp|tcp|tls, media-encryption=preferred|required|off"),
      N_ ("KEY=VALUE") },
    /* Hidden: SIP timer T1, so tests see Timer B (64*T1) in seconds. */
    { "sip-t1", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK, on_sip_t1, NULL, N_ ("MS") },
    { "tls-port", 0, 0, G_OPTION_ARG_CALLBACK, on_tls_port,
      N_ ("SIP over TLS on PORT (default: the SIP port + 1; 0: none)"), N_ ("PORT") },
    /* Hidden: seconds between keep-alives while registered (default 30). */
    { "keepalive-interval", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK, on_keepalive, NULL,
      N_ ("SECONDS") },
    /* Hidden: only RFC 4733 events report keys, not tones in the audio. */
    { "no-inband-dtmf", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opts->no_inband_dtmf, NULL,
      NULL },
    { "no-echo-cancellation", 0, 0, G_OPTION_ARG_NONE, &opts->no_echo_cancellation,
      N_ ("No echo cancellation, noise suppression or gain control on the microphone"), NULL },
    { "advertise", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_advertise,
      N_ ("Let computers on this network find this phone by NAME (default: the user’s name)"),
      N_ ("NAME") },
    { "discover", 0, 0, G_OPTION_ARG_NONE, &opts->discover,
      N_ ("Report the SIP servers and phones found on this network (DNS-SD)"), NULL },
    { "server-name", 0, 0, G_OPTION_ARG_STRING, &opts->server_name,
      N_ ("The server’s name on this network (default: “Softphone server on HOST”)"), N_ ("NAME") },
    { "no-server-advertise", 0, 0, G_OPTION_ARG_NONE, &opts->no_server_advertise,
      N_ ("Do not advertise the server on this network (DNS-SD)"), NULL },
    { "server", 0, 0, G_OPTION_ARG_NONE, &opts->server, N_ ("Run the built-in SIP server"), NULL },
    { "users", 0, 0, G_OPTION_ARG_FILENAME, &opts->users, N_ ("Server users file"), N_ ("FILE") },
    { "routes", 0, 0, G_OPTION_ARG_FILENAME, &opts->routes, N_ ("Server routes file"),
      N_ ("FILE") },
    { "http", 0, 0, G_OPTION_ARG_STRING, &opts->http, N_ ("Server web console address"),
      N_ ("ADDR:PORT") },
    { "server-option", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &opts->server_options,
      N_ ("Server setting: relay=on|off, challenge-bye=on|off, digest=md5,sha-256, "
          "relay-ports=MIN-MAX, realm=R, admin-password=P, admin-password-hash=HASH, "
          "min-expires=S, max-calls=N, "
          "max-calls-per-source=N, max-calls-per-user=N, max-transactions=N, "
          "max-transactions-per-source=N, max-tcp=N, max-tcp-per-address=N, timer-c=S, "
          "session-expires=S (0: off), min-se=S, "
          "trusted-peers=ADDR[/BITS],..., trusted-forward=on|off, md5-user-agents=PREFIX,..., "
          "sha256-user-agents=PREFIX,..."),
      N_ ("KEY=VALUE") },
    { NULL },
  };
  GOptionGroup *group = g_option_group_new ("headless", _ ("Headless mode options:"),
                                            _ ("Show headless mode options"), opts, NULL);

  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  return group;
}

/* --account sip:USER[:PASSWORD]@HOST[:PORT][;transport=tcp|tls], or sips:... for TLS */
static SpAccount *
parse_account (const char *text, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (SpSipUri) uri = sp_sip_uri_parse (text, -1, &local);
  g_autoptr (SpAccount) account = NULL;
  g_autofree char *user = NULL;
  g_autofree char *server = NULL;
  const char *password;
  const char *transport;

  if (uri == NULL || (sp_sip_uri_get_scheme (uri) != SP_URI_SCHEME_SIP &&
                      sp_sip_uri_get_scheme (uri) != SP_URI_SCHEME_SIPS))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--account: expected sip:USER[:PASSWORD]@HOST[:PORT]%s%s", local ? ", " : "",
                   local ? local->message : "");
      return NULL;
    }
  user = sp_sip_uri_dup_user_unescaped (uri, NULL);
  if (user == NULL || *user == '\0')
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--account: a user name is required (sip:USER@HOST)");
      return NULL;
    }
  password = sp_sip_uri_get_password (uri);
  if (password == NULL)
    password = g_getenv ("SOFTPHONE_PASSWORD");
  server = sp_sip_host_port_to_string (sp_sip_uri_get_host (uri), sp_sip_uri_get_port (uri));

  account = sp_account_new ("cli");
  g_object_set (account, "name", "command line", "username", user, "password", password, "server",
                server, NULL);
  transport = sp_sip_uri_get_param (uri, "transport");
  if (transport != NULL)
    {
      SpAccountTransport t;
      if (!sp_account_transport_from_string (transport, &t, &local))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--account: %s",
                       local->message);
          return NULL;
        }
      sp_account_set_transport (account, t);
    }
  if (sp_sip_uri_get_scheme (uri) == SP_URI_SCHEME_SIPS)
    sp_account_set_transport (account, SP_ACCOUNT_TRANSPORT_TLS); /* RFC 3261 26.2.2 */
  if (!sp_account_validate (account, &local))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--account: %s",
                   local->message);
      return NULL;
    }
  return g_steal_pointer (&account);
}

/* --account-option realm=R / transport=T / ptime=MS / allow-md5-without-qop=on|off */
static gboolean
account_options_apply (SpAccount *account, char **options, GError **error)
{
  for (char **o = options; o != NULL && *o != NULL; o++)
    {
      g_auto (GStrv) kv = g_strsplit (*o, "=", 2);

      if (kv[0] == NULL || kv[1] == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--account-option %s: KEY=VALUE expected", *o);
          return FALSE;
        }
      if (strcmp (kv[0], "realm") == 0)
        sp_account_set_realm (account, kv[1]);
      else if (strcmp (kv[0], "transport") == 0)
        {
          SpAccountTransport t;
          g_autoptr (GError) local = NULL;
          if (!sp_account_transport_from_string (kv[1], &t, &local))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--account-option transport: %s", local->message);
              return FALSE;
            }
          sp_account_set_transport (account, t);
        }
      else if (strcmp (kv[0], "ptime") == 0)
        {
          gint ms;
          if (!parse_ptime (kv[1], &ms))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--account-option ptime: 10, 20, 30, 40 or auto, not '%s'", kv[1]);
              return FALSE;
            }
          sp_account_set_ptime (account, (guint) ms);
        }
      else if (strcmp (kv[0], "media-encryption") == 0)
        {
          SpMediaEncryption encryption;
          if (!sp_media_encryption_from_string (kv[1], &encryption))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--account-option media-encryption: preferred, required or off, not "
                           "'%s'",
                           kv[1]);
              return FALSE;
            }
          sp_account_set_media_encryption (account, encryption);
        }
      else if (strcmp (kv[0], "allow-md5-without-qop") == 0 &&
               (strcmp (kv[1], "on") == 0 || strcmp (kv[1], "off") == 0))
        sp_account_set_allow_md5_without_qop (account, strcmp (kv[1], "on") == 0);
      else if (strcmp (kv[0], "allow-md5-without-qop") == 0)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--account-option %s: on or off, not '%s'", kv[0], kv[1]);
          return FALSE;
        }
      else
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--account-option: unknown setting '%s'", kv[0]);
          return FALSE;
        }
    }
  return TRUE;
}

/* --server-option session-expires=S and min-se=S, read and checked
 * with the other usage errors (exit status 2) rather than when the
 * server starts, since each bounds the other. */
static gboolean
session_timer_options (Runner *r, GError **error)
{
  SpHeadlessOptions *opts = r->opts;

  r->session_expires = SP_SERVER_DEFAULT_SESSION_EXPIRES;
  r->min_se = SP_SERVER_DEFAULT_MIN_SE;
  for (char **o = opts->server_options; o != NULL && *o != NULL; o++)
    {
      const char *value = strchr (*o, '=');
      g_autofree char *key = value ? g_strndup (*o, value - *o) : NULL;
      guint *out;
      guint64 n = 0;
      g_autoptr (GError) local = NULL;

      if (g_strcmp0 (key, "session-expires") == 0)
        out = &r->session_expires;
      else if (g_strcmp0 (key, "min-se") == 0)
        out = &r->min_se;
      else
        continue;
      if (!g_ascii_string_to_unsigned (value + 1, 10, 0, 86400, &n, &local))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--server-option %s: seconds (0 to 86400), not '%s'", key, value + 1);
          return FALSE;
        }
      *out = (guint) n;
    }
  if (!sp_server_check_session_timer (r->session_expires, r->min_se, error))
    {
      g_prefix_error (error, "--server-option ");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_options (Runner *r, GError **error)
{
  SpHeadlessOptions *opts = r->opts;

  if (!opts->server && (opts->users || opts->routes || opts->http || opts->server_options ||
                        opts->server_name || opts->no_server_advertise))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--users, --routes, --http, --server-name, --no-server-advertise and "
                           "--server-option need --server");
      return FALSE;
    }
  if (!session_timer_options (r, error))
    return FALSE;
  if (!sp_node_parse_bind (opts->bind ? opts->bind : "0.0.0.0:5060", &r->bind_host, &r->bind_port,
                           error))
    return FALSE;
  if (opts->account_options != NULL && opts->account == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--account-option needs --account");
      return FALSE;
    }
  if (opts->account != NULL)
    {
      r->cli_account = parse_account (opts->account, error);
      if (r->cli_account == NULL ||
          !account_options_apply (r->cli_account, opts->account_options, error))
        return FALSE;
    }
  /* Names that are not files (nor "null") are ALSA devices, checked when
   * a call opens them: an unknown one is replaced (SpCall) and reported. */
  if (sp_audio_name_is_file (opts->audio_in) &&
      !g_file_test (opts->audio_in, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--audio-in %s: no such file",
                   opts->audio_in);
      return FALSE;
    }
  if (sp_audio_name_is_file (opts->audio_out))
    {
      g_autofree char *dir = g_path_get_dirname (opts->audio_out);
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--audio-out %s: directory %s does not exist", opts->audio_out, dir);
          return FALSE;
        }
    }
  if (opts->call != NULL && *g_strstrip (opts->call) == '\0')
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--call: give a number, a SIP address or an IP address");
      return FALSE;
    }
  return TRUE;
}

/* ---- events ------------------------------------------------------------- */

/* Builds one event object from name/value pairs: "s" string (NULL
 * skipped), "i" gint64, "b" boolean. Ends with NULL. */
static void
emit_node (JsonNode *root)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static JsonBuilder *
event_begin (const char *name)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, name);
  return b;
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
event_end (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = NULL;

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  emit_node (root);
  g_object_unref (b);
}

static void
emit_error (const char *message)
{
  JsonBuilder *b = event_begin ("error");
  add_string (b, "message", message);
  event_end (b);
}

static char *
account_label (SpAccount *account)
{
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (sp_account_get_username (account) != NULL &&
      sp_account_get_server_host_port (account, &host, &port))
    return g_strdup_printf ("%s@%s", sp_account_get_username (account), host);
  return g_strdup (sp_account_get_id (account));
}

/* "protection": ["tls", "srtp-sdes"]: what protects the call (issue 16). */
static void
add_protection (JsonBuilder *b, SpCall *call)
{
  g_auto (GStrv) nicks = sp_call_protection_to_strv (sp_call_get_protection (call));

  json_builder_set_member_name (b, "protection");
  json_builder_begin_array (b);
  for (guint i = 0; nicks[i] != NULL; i++)
    json_builder_add_string_value (b, nicks[i]);
  json_builder_end_array (b);
}

static void
add_call (JsonBuilder *b, SpCall *call)
{
  add_string (b, "call", sp_call_get_id (call));
  add_string (b, "call_id", sp_call_get_sip_call_id (call));
  add_protection (b, call);
}

/* A "protection" event when it changes during an answered call
 * (DTLS-SRTP keyed, the SAS verified...); before, every call event
 * ("dialing", "incoming", "established") carries the current value. */
static void
on_call_protection (SpCall *call, GParamSpec *pspec, gpointer r)
{
  SpCallState state = sp_call_get_state (call);
  JsonBuilder *b;

  if (state != SP_CALL_STATE_ESTABLISHED && state != SP_CALL_STATE_HELD)
    return;
  b = event_begin ("protection");
  add_call (b, call);
  event_end (b);
}

/* DTLS-SRTP's four words (issue 16): a "sas" event once the handshake is
 * through, {"call", "call_id", "protection", "sas": "w1 w2 w3 w4"}; the
 * command "sas-match [ID]" says the users found them equal (the call's
 * protection then has "verified", as a "protection" event). */
static void
on_call_sas (SpCall *call, GParamSpec *pspec, gpointer r)
{
  JsonBuilder *b;

  if (sp_call_get_sas (call) == NULL)
    return;
  b = event_begin ("sas");
  add_call (b, call);
  add_string (b, "sas", sp_call_get_sas (call));
  event_end (b);
}

/* The media statistics as members of the current object: packets, RFC
 * 3550 loss and jitter on what we receive, the round trip (null until
 * an RTCP report has measured it) and what the peer reports of ours. */
static void
add_stats_members (JsonBuilder *b, const SpMediaStats *st)
{
  add_int (b, "packets_sent", (gint64) st->packets_sent);
  add_int (b, "packets_received", (gint64) st->packets_received);
  add_int (b, "lost", st->cumulative_lost);
  json_builder_set_member_name (b, "jitter_ms");
  json_builder_add_double_value (b, round (st->jitter_ms * 10.0) / 10.0);
  json_builder_set_member_name (b, "rtt_ms");
  if (st->rtt_ms >= 0)
    json_builder_add_double_value (b, round (st->rtt_ms * 10.0) / 10.0);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "remote_jitter_ms");
  json_builder_add_double_value (b, round (st->remote_jitter_ms * 10.0) / 10.0);
  json_builder_set_member_name (b, "remote_loss_percent");
  json_builder_add_double_value (b, round (st->remote_fraction_lost * 1000.0) / 10.0);
  add_int (b, "ptime_ms", st->ptime_ms);
}

/* "stats": {...} in "ended" and "status", when the call had media. */
static void
add_stats_object (JsonBuilder *b, SpCall *call)
{
  SpMediaStats st;

  if (!sp_call_get_stats (call, &st))
    return;
  json_builder_set_member_name (b, "stats");
  json_builder_begin_object (b);
  add_stats_members (b, &st);
  json_builder_end_object (b);
}

static void
emit_stats (SpCall *call)
{
  SpMediaStats st;
  JsonBuilder *b;

  sp_call_get_stats (call, &st);
  b = event_begin ("stats");
  add_call (b, call);
  add_stats_members (b, &st);
  event_end (b);
}

/* ---- phone signals ------------------------------------------------------ */

static void place_cli_call (Runner *r);

static void
on_registration_changed (SpPhone *phone, SpAccount *account, guint code, Runner *r)
{
  g_autofree char *label = account_label (account);
  const char *name = NULL;
  JsonBuilder *b;

  switch (sp_account_get_status (account))
    {
      case SP_ACCOUNT_STATUS_REGISTERED:
        name = "registered";
        break;
      case SP_ACCOUNT_STATUS_FAILED:
        name = "registration_failed";
        break;
      case SP_ACCOUNT_STATUS_UNREGISTERED:
        name = "unregistered";
        break;
      case SP_ACCOUNT_STATUS_REGISTERING:
      default:
        return;
    }
  b = event_begin (name);
  add_string (b, "account", label);
  add_string (b, "reason", sp_account_get_status_reason (account));
  if (code != 0)
    add_int (b, "code", code);
  event_end (b);

  if (r->waiting_registration && sp_account_get_status (account) != SP_ACCOUNT_STATUS_UNREGISTERED)
    {
      r->waiting_registration = FALSE;
      place_cli_call (r);
    }
}

static gboolean
hangup_after_cb (gpointer data)
{
  g_autoptr (SpCall) call = data;
  g_autoptr (GError) error = NULL;

  if (sp_call_get_state (call) != SP_CALL_STATE_ENDED && !sp_call_hangup (call, &error))
    emit_error (error->message);
  return G_SOURCE_REMOVE;
}

static void
on_call_state (SpCall *call, GParamSpec *pspec, Runner *r)
{
  SpCallState state = sp_call_get_state (call);
  SpCallState previous = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (call), "sp-headless-state"));
  const char *name = NULL;
  JsonBuilder *b;

  if (state == previous)
    return;
  g_object_set_data (G_OBJECT (call), "sp-headless-state", GINT_TO_POINTER (state));
  switch (state)
    {
      case SP_CALL_STATE_RINGING:
        name = "ringing";
        break;
      case SP_CALL_STATE_ESTABLISHED:
        name = previous == SP_CALL_STATE_HELD ? "resumed" : "established";
        break;
      case SP_CALL_STATE_HELD:
        name = "held";
        break;
      case SP_CALL_STATE_DIALING:
      case SP_CALL_STATE_INCOMING:
      case SP_CALL_STATE_ENDED: /* reported by "ended", with its reason */
      default:
        return;
    }
  b = event_begin (name);
  add_call (b, call);
  if (state == SP_CALL_STATE_ESTABLISHED && previous != SP_CALL_STATE_HELD)
    add_string (b, "codec", sp_call_get_codec (call));
  event_end (b);

  if (state == SP_CALL_STATE_ESTABLISHED && previous != SP_CALL_STATE_HELD &&
      r->opts->hangup_after >= 0)
    g_timeout_add (r->opts->hangup_after * 1000u, hangup_after_cb, g_object_ref (call));
}

static void
on_dtmf (SpCall *call, char digit, const char *method, Runner *r)
{
  JsonBuilder *b = event_begin ("dtmf");
  char text[2] = { digit, '\0' };

  add_call (b, call);
  add_string (b, "digit", text);
  add_string (b, "method", method);
  event_end (b);
}

/* The call's device went away: it goes on with another ("now"). */
static void
on_audio_device_failed (SpCall *call, guint direction, const char *device, const char *now_using,
                        const char *message, Runner *r)
{
  JsonBuilder *b = event_begin ("audio_device_failed");

  add_call (b, call);
  add_string (b, "direction", direction == SP_AUDIO_SOURCE ? "in" : "out");
  add_string (b, "device", device);
  add_string (b, "now", now_using);
  add_string (b, "error", message);
  event_end (b);
}

/* A "stats" event every STATS_EVENT_INTERVAL_S during a call (the media
 * reports every second). */
static void
on_call_stats (SpCall *call, Runner *r)
{
  gint64 now = g_get_monotonic_time () / G_USEC_PER_SEC;
  gint64 *last = g_object_get_data (G_OBJECT (call), "sp-headless-stats-time");

  if (last == NULL)
    {
      last = g_new (gint64, 1);
      *last = now;
      g_object_set_data_full (G_OBJECT (call), "sp-headless-stats-time", last, g_free);
      return;
    }
  if (now - *last < STATS_EVENT_INTERVAL_S)
    return;
  *last = now;
  emit_stats (call);
}

static gboolean
has_live_calls (Runner *r)
{
  GListModel *calls = sp_phone_get_calls (r->phone);
  guint n = g_list_model_get_n_items (calls);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i);
      if (sp_call_get_state (call) != SP_CALL_STATE_ENDED)
        return TRUE;
    }
  return FALSE;
}

static void
on_call_ended (SpPhone *phone, SpCall *call, Runner *r)
{
  JsonBuilder *b = event_begin ("ended");

  add_call (b, call);
  add_string (b, "reason", sp_call_get_end_reason (call));
  add_int (b, "code", sp_call_get_end_code (call));
  add_int (b, "duration", sp_call_get_duration (call));
  add_stats_object (b, call);
  event_end (b);

  if (r->opts->exit_when_idle && (r->opts->call == NULL || r->call_placed) && !has_live_calls (r))
    runner_quit (r);
}

static void
on_call_added (SpPhone *phone, SpCall *call, Runner *r)
{
  r->any_call_seen = TRUE;
  g_object_set_data (G_OBJECT (call), "sp-headless-state",
                     GINT_TO_POINTER (sp_call_get_state (call)));
  g_signal_connect (call, "notify::state", G_CALLBACK (on_call_state), r);
  g_signal_connect (call, "dtmf-received", G_CALLBACK (on_dtmf), r);
  g_signal_connect (call, "stats-changed", G_CALLBACK (on_call_stats), r);
  g_signal_connect (call, "audio-device-failed", G_CALLBACK (on_audio_device_failed), r);
  g_signal_connect (call, "notify::protection", G_CALLBACK (on_call_protection), r);
  g_signal_connect (call, "notify::sas", G_CALLBACK (on_call_sas), r);

  if (sp_call_get_direction (call) == SP_CALL_DIRECTION_OUTGOING)
    {
      JsonBuilder *b = event_begin ("dialing");
      add_call (b, call);
      add_string (b, "to", sp_call_get_peer (call));
      event_end (b);
    }
}

static void
on_incoming_call (SpPhone *phone, SpCall *call, Runner *r)
{
  JsonBuilder *b = event_begin ("incoming");

  add_call (b, call);
  add_string (b, "from", sp_call_get_peer (call));
  add_string (b, "display_name", sp_call_get_peer_display_name (call));
  event_end (b);
}

/* ---- commands ----------------------------------------------------------- */

/* The call a command without an id means: @prefer state first, else the
 * newest live call. */
static SpCall *
pick_call (Runner *r, const char *id, SpCallState prefer, GError **error)
{
  GListModel *calls = sp_phone_get_calls (r->phone);
  guint n = g_list_model_get_n_items (calls);
  SpCall *fallback = NULL;

  if (id != NULL)
    {
      SpCall *call = sp_phone_find_call (r->phone, id);
      if (call == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No call %s", id);
      return call;
    }
  for (guint i = n; i > 0; i--)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i - 1);
      if (sp_call_get_state (call) == prefer)
        return call;
      if (fallback == NULL && sp_call_get_state (call) != SP_CALL_STATE_ENDED)
        fallback = call;
    }
  if (fallback == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No call in progress");
  return fallback;
}

static void
emit_status (Runner *r)
{
  JsonBuilder *b = event_begin ("status");
  GListModel *accounts = sp_phone_get_accounts (r->phone);
  GListModel *calls = sp_phone_get_calls (r->phone);
  g_autofree char *sip = sp_phone_dup_sip_address (r->phone);

  add_string (b, "sip", sip);
  json_builder_set_member_name (b, "accounts");
  json_builder_begin_array (b);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (accounts, i);
      g_autofree char *label = account_label (a);

      json_builder_begin_object (b);
      add_string (b, "account", label);
      add_string (b, "status", sp_account_status_to_string (sp_account_get_status (a)));
      add_string (b, "reason", sp_account_get_status_reason (a));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "calls");
  json_builder_begin_array (b);
  for (guint i = 0; i < g_list_model_get_n_items (calls); i++)
    {
      g_autoptr (SpCall) c = g_list_model_get_item (calls, i);

      json_builder_begin_object (b);
      add_call (b, c);
      add_string (b, "state", sp_call_state_to_string (sp_call_get_state (c)));
      add_string (b, "direction", sp_call_direction_to_string (sp_call_get_direction (c)));
      add_string (b, "peer", sp_call_get_peer (c));
      add_int (b, "duration", sp_call_get_duration (c));
      add_stats_object (b, c);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  event_end (b);
}

/* "audio-in NAME" / "audio-out NAME": a WAV file, "null", or an ALSA
 * device name (sp_audio_device_new_for_name ()). Every live call switches
 * at once, ringing or not; later calls get it too, as with
 * --audio-in/--audio-out. */
static gboolean
switch_audio (Runner *r, SpAudioDirection direction, const char *name, gboolean calls_only,
              GError **error)
{
  gboolean is_wav = sp_audio_name_is_file (name);
  GListModel *calls = sp_phone_get_calls (r->phone);

  if (name == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "audio-in/audio-out: give a FILE.wav, null or an ALSA device name");
      return FALSE;
    }
  if (is_wav && direction == SP_AUDIO_SOURCE && !g_file_test (name, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "audio-in: no such file: %s", name);
      return FALSE;
    }
  /* "call-audio-in/out": this call only; the preferred device (new calls,
   * and where a call goes when its device goes away) stays. */
  if (!calls_only)
    g_object_set (r->phone, direction == SP_AUDIO_SOURCE ? "audio-in" : "audio-out", name, NULL);
  for (guint i = 0; i < g_list_model_get_n_items (calls); i++)
    {
      g_autoptr (SpCall) call = g_list_model_get_item (calls, i);

      if (sp_call_get_state (call) == SP_CALL_STATE_ENDED)
        continue;
      sp_call_set_audio_device (call, sp_audio_device_new_for_name (name, direction));
    }
  return TRUE;
}

/* "pickup NUMBER": answer the call ringing at a colleague's NUMBER
 * through the account's server, by dialling its pickup feature code
 * (SP_B2BUA_PICKUP_PREFIX, "**" as Asterisk and FreeSWITCH); the server's
 * refusal ("Nothing Ringing", "Already Picked Up"...) ends that call. */
static gboolean
run_pickup (Runner *r, const char *number, GError **error)
{
  g_autofree char *code = NULL;

  if (number == NULL || *number == '\0' || strpbrk (number, "@: \t") != NULL ||
      g_str_has_prefix (number, "**"))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "pickup: give the number or user name of the ringing colleague");
      return FALSE;
    }
  code = g_strconcat ("**", number, NULL);
  return sp_phone_call (r->phone, code, NULL, error) != NULL;
}

/* ---- directory and presence (issue 17): "subscribe", "unsubscribe";
 * "directory" and "contact" events ---- */

static void
on_contact_changed (SpContactList *list, SpContact *contact, Runner *r)
{
  JsonBuilder *b = event_begin ("contact");

  add_string (b, "name", sp_contact_get_name (contact));
  add_string (b, "number", sp_contact_get_number (contact));
  add_string (b, "state", sp_contact_state_to_string (sp_contact_get_state (contact)));
  event_end (b);
}

static void
on_directory_changed (SpContactList *list, Runner *r)
{
  GListModel *model = G_LIST_MODEL (list);
  guint n = g_list_model_get_n_items (model);
  JsonBuilder *b = event_begin ("directory");

  json_builder_set_member_name (b, "contacts");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (SpContact) c = g_list_model_get_item (model, i);
      json_builder_begin_object (b);
      add_string (b, "name", sp_contact_get_name (c));
      add_string (b, "number", sp_contact_get_number (c));
      add_string (b, "state", sp_contact_state_to_string (sp_contact_get_state (c)));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  event_end (b);
}

static gboolean
run_subscribe (Runner *r, const char *arg, GError **error)
{
  GListModel *contacts = sp_phone_get_contacts (r->phone);
  SpAccount *account = NULL;

  if (contacts == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           "subscribe: the phone is not started");
      return FALSE;
    }
  if (arg != NULL)
    {
      GListModel *accounts = sp_phone_get_accounts (r->phone);
      for (guint i = 0; i < g_list_model_get_n_items (accounts) && account == NULL; i++)
        {
          g_autoptr (SpAccount) a = g_list_model_get_item (accounts, i);
          if (g_strcmp0 (sp_account_get_id (a), arg) == 0 ||
              g_strcmp0 (sp_account_get_name (a), arg) == 0)
            account = a;
        }
      if (account == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "subscribe: no account \"%s\"",
                       arg);
          return FALSE;
        }
    }
  if (g_signal_handler_find (contacts, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, r) == 0)
    {
      g_signal_connect (contacts, "contact-changed", G_CALLBACK (on_contact_changed), r);
      g_signal_connect (contacts, "directory-changed", G_CALLBACK (on_directory_changed), r);
    }
  return sp_phone_watch_contacts (r->phone, account, error);
}

/* ---- LAN discovery (DNS-SD) ---------------------------------------------- */

static void
add_service (JsonBuilder *b, SpDnssdService *service)
{
  add_string (b, "name", sp_dnssd_service_get_name (service));
  add_string (b, "address", sp_dnssd_service_get_address (service));
  add_int (b, "port", sp_dnssd_service_get_port (service));
}

/* tls_port and fingerprint, when the service advertised TLS. */
static void
add_tls (JsonBuilder *b, SpDnssdService *service)
{
  const char *tls = sp_dnssd_service_get_txt (service, "tls");
  guint64 tls_port = 0;

  if (tls != NULL && g_ascii_string_to_unsigned (tls, 10, 1, 65535, &tls_port, NULL))
    {
      add_int (b, "tls_port", (gint64) tls_port);
      add_string (b, "fingerprint", sp_dnssd_service_get_txt (service, "fp"));
    }
}

static void
on_server_found (SpDnssdBrowser *browser, SpDnssdService *service, Runner *r)
{
  JsonBuilder *b = event_begin ("server_found");

  add_service (b, service);
  add_string (b, "realm", sp_dnssd_service_get_txt (service, "realm"));
  add_string (b, "display_name", sp_dnssd_service_get_txt (service, "name"));
  add_tls (b, service);
  event_end (b);
}

static void
on_phone_found (SpDnssdBrowser *browser, SpDnssdService *service, Runner *r)
{
  JsonBuilder *b;

  if (sp_dnssd_service_is_own (service))
    return; /* ourselves: not one to call */
  b = event_begin ("nearby_phone");
  add_service (b, service);
  add_tls (b, service);
  event_end (b);
}

static void
on_service_lost (SpDnssdBrowser *browser, SpDnssdService *service, Runner *r)
{
  gboolean phone = browser == r->found_phones;
  JsonBuilder *b;

  if (phone && sp_dnssd_service_is_own (service))
    return;
  b = event_begin (phone ? "nearby_phone_lost" : "server_lost");
  add_string (b, "name", sp_dnssd_service_get_name (service));
  event_end (b);
}

static void
on_dnssd_reason (SpDnssd *dnssd, GParamSpec *pspec, Runner *r)
{
  const char *reason = sp_dnssd_get_unavailable_reason (dnssd);
  JsonBuilder *b = event_begin (reason != NULL ? "discovery_unavailable" : "discovery_available");

  add_string (b, "reason", reason);
  event_end (b);
}

/* The discovery options, before the node listens (it publishes then). */
static void
discovery_start (Runner *r)
{
  SpHeadlessOptions *opts = r->opts;

  if (opts->server_name != NULL)
    g_object_set (r->node, "server-name", opts->server_name, NULL);
  if (opts->no_server_advertise)
    g_object_set (r->node, "advertise-server", FALSE, NULL);
  if (opts->advertise && opts->advertise_name != NULL)
    g_object_set (r->phone, "display-name", opts->advertise_name, NULL);
  if (opts->advertise)
    g_object_set (r->node, "advertise-phone", TRUE, NULL);
  if (opts->discover)
    {
      r->found_servers = sp_node_browse_servers (r->node);
      r->found_phones = sp_node_browse_phones (r->node);
      g_signal_connect (r->found_servers, "found", G_CALLBACK (on_server_found), r);
      g_signal_connect (r->found_servers, "lost", G_CALLBACK (on_service_lost), r);
      g_signal_connect (r->found_phones, "found", G_CALLBACK (on_phone_found), r);
      g_signal_connect (r->found_phones, "lost", G_CALLBACK (on_service_lost), r);
    }
  if (opts->discover || opts->advertise || (opts->server && !opts->no_server_advertise))
    {
      r->dnssd = sp_node_get_dnssd (r->node);
      g_signal_connect (r->dnssd, "notify::unavailable-reason", G_CALLBACK (on_dnssd_reason), r);
    }
}

/* Once listening: say now if discovery is already unavailable (not
 * before, so an instance that cannot start prints nothing on stdout). */
static void
discovery_report_state (Runner *r)
{
  if (r->dnssd != NULL && sp_dnssd_get_unavailable_reason (r->dnssd) != NULL)
    on_dnssd_reason (r->dnssd, NULL, r);
}

static void
discovery_stop (Runner *r)
{
  if (r->found_servers != NULL)
    g_signal_handlers_disconnect_by_data (r->found_servers, r);
  if (r->found_phones != NULL)
    g_signal_handlers_disconnect_by_data (r->found_phones, r);
  if (r->dnssd != NULL)
    g_signal_handlers_disconnect_by_data (r->dnssd, r);
  r->found_servers = r->found_phones = NULL;
  r->dnssd = NULL;
}

static char *
found_names (SpDnssdBrowser *browser)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (browser)); i++)
    {
      g_autoptr (SpDnssdService) s = g_list_model_get_item (G_LIST_MODEL (browser), i);
      if (sp_dnssd_service_is_own (s))
        continue;
      g_string_append_printf (names, "%s“%s”", names->len ? ", " : "",
                              sp_dnssd_service_get_name (s));
    }
  if (names->len == 0)
    g_string_append (names, "none");
  return g_string_free (names, FALSE);
}

/* call-nearby NAME: a direct call to the phone found under NAME. */
static gboolean
call_nearby (Runner *r, const char *name, GError **error)
{
  SpDnssdBrowser *phones = sp_node_browse_phones (r->node);
  SpDnssdService *service = sp_dnssd_browser_find (phones, name);

  if (name == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "call-nearby: give the name of a phone found nearby");
      return FALSE;
    }
  if (service == NULL || sp_dnssd_service_is_own (service))
    {
      g_autofree char *names = found_names (phones);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "call-nearby: no phone called “%s” on this network (found: %s)", name, names);
      return FALSE;
    }
  return sp_node_call_nearby (r->node, service, error) != NULL;
}

/* use-server NAME USER[:PASSWORD]: an account with the server found
 * under NAME (its address and port; over TLS to its TLS port, its
 * certificate pinned, when it advertised one), registered at once; the password also from
 * $SOFTPHONE_PASSWORD. */
static gboolean
use_server (Runner *r, const char *arg, GError **error)
{
  g_autofree char *copy = g_strdup (arg ? arg : "");
  char *space = strrchr (g_strstrip (copy), ' ');
  g_autofree char *user = NULL;
  g_autofree char *hostport = NULL;
  const char *password = NULL;
  g_autoptr (SpAccount) account = NULL;
  SpDnssdService *service;
  guint16 tls_port = 0;
  char *colon;

  if (space == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "use-server: give the server's name and USER[:PASSWORD]");
      return FALSE;
    }
  *space = '\0';
  user = g_strdup (space + 1);
  g_strstrip (copy);
  colon = strchr (user, ':');
  if (colon != NULL)
    {
      *colon = '\0';
      password = colon + 1;
    }
  else
    password = g_getenv ("SOFTPHONE_PASSWORD");
  service = sp_dnssd_browser_find (sp_node_browse_servers (r->node), copy);
  if (service == NULL)
    {
      g_autofree char *names = found_names (sp_node_browse_servers (r->node));
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "use-server: no server called “%s” on this network (found: %s)", copy, names);
      return FALSE;
    }
  account = sp_account_new ("lan");
  /* A server that advertises TLS is registered with over TLS, its
   * advertised certificate pinned: nothing to choose (issue 16). */
  if (sp_node_found_server_tls (service, &tls_port))
    {
      const char *address = sp_dnssd_service_get_address (service);
      hostport = strchr (address, ':') ? g_strdup_printf ("[%s]:%u", address, tls_port)
                                       : g_strdup_printf ("%s:%u", address, tls_port);
      sp_account_set_transport (account, SP_ACCOUNT_TRANSPORT_TLS);
    }
  else
    hostport = sp_dnssd_service_dup_host_port (service);
  g_object_set (account, "name", sp_dnssd_service_get_name (service), "username", user, "password",
                password, "server", hostport, NULL);
  if (!sp_account_validate (account, error) || !sp_node_pin_found_server (r->node, service, error))
    return FALSE;
  sp_phone_add_account (r->phone, account);
  sp_phone_register (r->phone, account);
  return TRUE;
}

/* The discovery commands; FALSE with @handled unset for other verbs. */
static gboolean
discovery_command (Runner *r, const char *verb, const char *arg, gboolean *handled, GError **error)
{
  *handled = TRUE;
  if (strcmp (verb, "call-nearby") == 0)
    return call_nearby (r, arg, error);
  if (strcmp (verb, "use-server") == 0)
    return use_server (r, arg, error);
  *handled = FALSE;
  return FALSE;
}

static gboolean
run_command (Runner *r, const char *line, GError **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (line));
  char *arg = copy;
  const char *verb;
  SpCall *call;

  if (*copy == '\0' || *copy == '#')
    return TRUE;
  verb = arg;
  while (*arg != '\0' && !g_ascii_isspace (*arg))
    arg++;
  if (*arg != '\0')
    {
      *arg++ = '\0';
      g_strchug (arg);
    }
  if (*arg == '\0')
    arg = NULL;

  if (strcmp (verb, "call") == 0)
    {
      if (arg == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "call: give a number, a SIP address or an IP address");
          return FALSE;
        }
      return sp_phone_call (r->phone, arg, NULL, error) != NULL;
    }
  if (strcmp (verb, "pickup") == 0)
    return run_pickup (r, arg, error);
  if (strcmp (verb, "answer") == 0)
    {
      call = pick_call (r, arg, SP_CALL_STATE_INCOMING, error);
      return call != NULL && sp_phone_answer (r->phone, call, error);
    }
  if (strcmp (verb, "hangup") == 0)
    {
      call = pick_call (r, arg, SP_CALL_STATE_ESTABLISHED, error);
      return call != NULL && sp_call_hangup (call, error);
    }
  if (strcmp (verb, "sas-match") == 0)
    {
      call = pick_call (r, arg, SP_CALL_STATE_ESTABLISHED, error);
      if (call != NULL && !sp_call_confirm_sas (call))
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                             "sas-match: this call has no DTLS-SRTP words to compare");
      return call != NULL && sp_call_get_sas (call) != NULL;
    }
  if (strcmp (verb, "hold") == 0)
    {
      call = pick_call (r, arg, SP_CALL_STATE_ESTABLISHED, error);
      return call != NULL && sp_call_hold (call, error);
    }
  if (strcmp (verb, "resume") == 0)
    {
      call = pick_call (r, arg, SP_CALL_STATE_HELD, error);
      return call != NULL && sp_call_resume (call, error);
    }
  if (strcmp (verb, "dtmf") == 0)
    {
      if (arg == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "dtmf: give the digits to send");
          return FALSE;
        }
      call = pick_call (r, NULL, SP_CALL_STATE_ESTABLISHED, error);
      return call != NULL && sp_call_send_dtmf (call, arg, error);
    }
  if (strcmp (verb, "dnd") == 0)
    {
      /* Not in the list: do-not-disturb, for tests and scripts. */
      if (g_strcmp0 (arg, "on") != 0 && g_strcmp0 (arg, "off") != 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "dnd: say \"dnd on\" or \"dnd off\"");
          return FALSE;
        }
      g_object_set (r->phone, "do-not-disturb", strcmp (arg, "on") == 0, NULL);
      return TRUE;
    }
  if (strcmp (verb, "transfer") == 0)
    {
      call = pick_call (r, NULL, SP_CALL_STATE_ESTABLISHED, error);
      return call != NULL && sp_call_transfer (call, arg ? arg : "", error);
    }
  if (strcmp (verb, "register") == 0)
    {
      sp_phone_register (r->phone, NULL);
      return TRUE;
    }
  if (strcmp (verb, "unregister") == 0)
    {
      sp_phone_unregister (r->phone, NULL);
      return TRUE;
    }
  if (strcmp (verb, "accept-certificate") == 0)
    {
      /* accept-certificate HOST:PORT [FINGERPRINT]: trust a TLS server's
       * new certificate (the one last refused, or the one named). */
      g_auto (GStrv) words = g_strsplit_set (arg ? arg : "", " \t", 2);
      JsonBuilder *b;

      if (words[0] == NULL || *words[0] == '\0')
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "accept-certificate: give HOST:PORT [FINGERPRINT]");
          return FALSE;
        }
      if (words[1] != NULL)
        g_strstrip (words[1]);
      if (!sp_phone_accept_certificate (r->phone, words[0], words[1] && *words[1] ? words[1] : NULL,
                                        error))
        return FALSE;
      b = event_begin ("certificate_accepted");
      add_string (b, "server", words[0]);
      event_end (b);
      return TRUE;
    }
  if (strcmp (verb, "subscribe") == 0)
    return run_subscribe (r, arg, error);
  if (strcmp (verb, "unsubscribe") == 0)
    {
      sp_phone_unwatch_contacts (r->phone);
      return TRUE;
    }
  if (strcmp (verb, "status") == 0)
    {
      emit_status (r);
      return TRUE;
    }
  if (strcmp (verb, "audio-in") == 0 || strcmp (verb, "audio-out") == 0)
    return switch_audio (r, verb[6] == 'i' ? SP_AUDIO_SOURCE : SP_AUDIO_SINK, arg, FALSE, error);
  if (strcmp (verb, "call-audio-in") == 0 || strcmp (verb, "call-audio-out") == 0)
    return switch_audio (r, verb[11] == 'i' ? SP_AUDIO_SOURCE : SP_AUDIO_SINK, arg, TRUE, error);
  if (strcmp (verb, "stats") == 0)
    {
      /* Not in the list: the media statistics now. */
      call = pick_call (r, arg, SP_CALL_STATE_ESTABLISHED, error);
      if (call != NULL)
        emit_stats (call);
      return call != NULL;
    }
  if (strcmp (verb, "quit") == 0)
    {
      runner_quit (r);
      return TRUE;
    }
  {
    gboolean handled = FALSE;
    gboolean ok = discovery_command (r, verb, arg, &handled, error);
    if (handled)
      return ok;
  }
  g_set_error (
      error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "Unknown command \"%s\" (commands: call, answer, hangup, hold, resume, dtmf, "
      "transfer, pickup, dnd, stats, audio-in, audio-out, call-audio-in, call-audio-out, "
      "register, unregister, subscribe, unsubscribe, status, call-nearby, use-server, quit)",
      verb);
  return FALSE;
}

static void read_next_line (Runner *r);

static void
on_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Runner *r = data;
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, &len, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      /* Not UTF-8, or a read error: report it and go on with the next. */
      emit_error (error->message);
      if (!g_error_matches (error, G_CONVERT_ERROR, G_CONVERT_ERROR_ILLEGAL_SEQUENCE))
        return;
      read_next_line (r);
      return;
    }
  if (line == NULL)
    {
      g_debug ("stdin closed; commands end here");
      return;
    }
  if (len > MAX_COMMAND_LENGTH)
    emit_error ("Command line too long");
  else if (!r->quitting && !run_command (r, line, &error))
    emit_error (error->message);
  if (!r->quitting)
    read_next_line (r);
}

static void
read_next_line (Runner *r)
{
  g_data_input_stream_read_line_async (r->input, G_PRIORITY_DEFAULT, r->cancellable, on_line, r);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void
place_cli_call (Runner *r)
{
  g_autoptr (GError) error = NULL;

  if (r->opts->call == NULL || r->call_placed || r->quitting)
    return;
  r->call_placed = TRUE;
  if (sp_phone_call (r->phone, r->opts->call, NULL, &error) == NULL)
    {
      emit_error (error->message);
      if (r->opts->exit_when_idle)
        {
          r->exit_status = 1;
          runner_quit (r);
        }
    }
}

static gboolean
start_cli_call (gpointer data)
{
  place_cli_call (data);
  return G_SOURCE_REMOVE;
}

static void
on_shutdown_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Runner *r = data;
  g_autoptr (GError) error = NULL;

  if (!sp_node_shutdown_finish (SP_NODE (source), result, &error))
    g_warning ("Shutdown: %s", error->message);
  g_main_loop_quit (r->loop);
}

static void
runner_quit (Runner *r)
{
  if (r->quitting)
    return;
  r->quitting = TRUE;
  g_cancellable_cancel (r->cancellable);
  discovery_stop (r);
  sp_node_shutdown_async (r->node, on_shutdown_done, r);
}

static gboolean
on_signal (gpointer data)
{
  Runner *r = data;

  g_message ("Signal received: hanging up and unregistering");
  runner_quit (r);
  return G_SOURCE_CONTINUE;
}

/* ---- the mini-server ---------------------------------------------------- */

static void
on_server_registered (SpServer *server, const char *user, const char *contact, Runner *r)
{
  JsonBuilder *b = event_begin ("server_registered");
  add_string (b, "user", user);
  add_string (b, "contact", contact);
  event_end (b);
}

static void
on_server_unregistered (SpServer *server, const char *user, const char *contact, gboolean expired,
                        Runner *r)
{
  JsonBuilder *b = event_begin ("server_unregistered");
  add_string (b, "user", user);
  add_string (b, "contact", contact);
  json_builder_set_member_name (b, "expired");
  json_builder_add_boolean_value (b, expired);
  event_end (b);
}

static void
on_server_call (SpServer *server, SpServerCall *call, Runner *r)
{
  JsonBuilder *b = event_begin ("server_call");
  add_string (b, "call_id", call->id);
  add_string (b, "caller", call->caller);
  add_string (b, "called", call->called);
  add_string (b, "callee", call->callee);
  event_end (b);
}

static void
on_server_call_ended (SpServer *server, SpServerCall *call, guint status, Runner *r)
{
  JsonBuilder *b = event_begin ("server_call_ended");
  add_string (b, "call_id", call->id);
  add_int (b, "status", status);
  event_end (b);
}

static gboolean
parse_on_off (const char *key, const char *value, gboolean *out, GError **error)
{
  if (g_strcmp0 (value, "on") == 0 || g_strcmp0 (value, "yes") == 0 || g_strcmp0 (value, "1") == 0)
    *out = TRUE;
  else if (g_strcmp0 (value, "off") == 0 || g_strcmp0 (value, "no") == 0 ||
           g_strcmp0 (value, "0") == 0)
    *out = FALSE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--server-option %s: on or off, not '%s'", key, value);
      return FALSE;
    }
  return TRUE;
}

/* The caps among --server-option settings (docs/headless.md): a count,
 * 0 for none; timer-c and tcp-idle-timeout in seconds. TRUE when @key is one of them. */
static gboolean
server_limit_option (SpServerLimits *limits, const char *key, const char *value, gboolean *ok,
                     GError **error)
{
  static const struct
  {
    const char *key;
    gsize offset;
  } caps[] = {
    { "max-calls", G_STRUCT_OFFSET (SpServerLimits, max_calls) },
    { "max-calls-per-source", G_STRUCT_OFFSET (SpServerLimits, max_calls_per_source) },
    { "max-calls-per-user", G_STRUCT_OFFSET (SpServerLimits, max_calls_per_user) },
    { "max-transactions", G_STRUCT_OFFSET (SpServerLimits, max_transactions) },
    { "max-transactions-per-source",
      G_STRUCT_OFFSET (SpServerLimits, max_transactions_per_source) },
    { "max-tcp", G_STRUCT_OFFSET (SpServerLimits, max_tcp) },
    { "max-tcp-per-address", G_STRUCT_OFFSET (SpServerLimits, max_tcp_per_address) },
  };
  guint64 n = 0;

  if (g_str_equal (key, "timer-c") || g_str_equal (key, "tcp-idle-timeout"))
    {
      *ok = g_ascii_string_to_unsigned (value, 10, 1, 86400, &n, error);
      if (*ok)
        *(g_str_equal (key, "timer-c") ? &limits->timer_c_ms : &limits->tcp_idle_ms) =
            (guint) n * 1000;
      return TRUE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (caps); i++)
    if (g_str_equal (key, caps[i].key))
      {
        *ok = g_ascii_string_to_unsigned (value, 10, 0, 1000000, &n, error);
        if (*ok)
          G_STRUCT_MEMBER (guint, limits, caps[i].offset) = (guint) n;
        return TRUE;
      }
  return FALSE;
}

/* Applies --server-option settings; @realm and @admin_password (or its
 * hash) are set when given (they are needed before the server exists /
 * for --http). */
static gboolean
server_options_apply (Runner *r, SpServer *server, const char **admin_password,
                      const char **admin_password_hash, GError **error)
{
  SpServerLimits limits = *sp_server_get_limits (server);

  for (char **o = r->opts->server_options; o != NULL && *o != NULL; o++)
    {
      g_auto (GStrv) kv = g_strsplit (*o, "=", 2);
      gboolean flag;
      gboolean ok = TRUE;
      g_autoptr (GError) local = NULL;

      if (kv[0] == NULL || kv[1] == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--server-option %s: KEY=VALUE expected", *o);
          return FALSE;
        }
      if (server_limit_option (&limits, kv[0], kv[1], &ok, &local))
        {
          if (!ok)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--server-option %s: %s", kv[0], local->message);
              return FALSE;
            }
        }
      else if (g_str_equal (kv[0], "relay"))
        {
          if (!parse_on_off (kv[0], kv[1], &flag, error))
            return FALSE;
          sp_server_set_media_relay (server, flag);
        }
      else if (g_str_equal (kv[0], "digest"))
        {
          if (!sp_server_set_digest_algorithms (server, kv[1], error))
            return FALSE;
        }
      else if (g_str_equal (kv[0], "challenge-bye"))
        {
          if (!parse_on_off (kv[0], kv[1], &flag, error))
            return FALSE;
          sp_server_set_challenge_bye (server, flag);
        }
      else if (g_str_equal (kv[0], "relay-ports"))
        {
          guint64 lo = 0, hi = 0;
          g_auto (GStrv) range = g_strsplit (kv[1], "-", 2);
          if (range[1] == NULL ||
              !g_ascii_string_to_unsigned (range[0], 10, 1024, 65535, &lo, NULL) ||
              !g_ascii_string_to_unsigned (range[1], 10, lo + 3, 65535, &hi, NULL))
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--server-option relay-ports: MIN-MAX, not '%s'", kv[1]);
              return FALSE;
            }
          sp_server_set_relay_ports (server, (guint16) lo, (guint16) hi);
        }
      else if (g_str_equal (kv[0], "min-expires"))
        {
          guint64 min = 0;
          if (!g_ascii_string_to_unsigned (kv[1], 10, 1, 86400, &min, error))
            return FALSE;
          sp_location_store_set_expires (sp_server_get_locations (server), (guint) min,
                                         MAX ((guint) min, 3600), 3600);
        }
      else if (g_str_equal (kv[0], "trusted-peers"))
        {
          if (!sp_server_set_trusted_peers (server, kv[1], error))
            {
              g_prefix_error (error, "--server-option ");
              return FALSE;
            }
        }
      else if (g_str_equal (kv[0], "trusted-forward"))
        {
          if (!parse_on_off (kv[0], kv[1], &flag, error))
            return FALSE;
          sp_server_set_trusted_forward (server, flag);
        }
      else if (g_str_equal (kv[0], "md5-user-agents"))
        sp_server_set_md5_user_agents (server, kv[1]);
      else if (g_str_equal (kv[0], "sha256-user-agents"))
        sp_server_set_sha256_user_agents (server, kv[1]);
      else if (g_str_equal (kv[0], "admin-password"))
        *admin_password = *o + strlen ("admin-password=");
      else if (g_str_equal (kv[0], "admin-password-hash"))
        *admin_password_hash = *o + strlen ("admin-password-hash=");
      else if (g_str_equal (kv[0], "session-expires") || g_str_equal (kv[0], "min-se"))
        ; /* read and checked by session_timer_options */
      else if (!g_str_equal (kv[0], "realm"))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--server-option: unknown setting '%s'", kv[0]);
          return FALSE;
        }
    }
  sp_server_set_limits (server, &limits);
  return sp_server_set_session_timer (server, r->session_expires, r->min_se, error);
}

static const char *
server_option_realm (Runner *r)
{
  for (char **o = r->opts->server_options; o != NULL && *o != NULL; o++)
    if (g_str_has_prefix (*o, "realm="))
      return *o + strlen ("realm=");
  return NULL;
}

static void
print_warnings (const char *file, GPtrArray *warnings)
{
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    g_warning ("%s: %s", file, (const char *) g_ptr_array_index (warnings, i));
}

static gboolean
server_start (Runner *r, GError **error)
{
  SpHeadlessOptions *opts = r->opts;
  const char *admin_password = NULL;
  const char *admin_password_hash = NULL;
  g_autofree char *hashed = NULL;

  r->server = sp_node_get_server (r->node);
  if (!server_options_apply (r, r->server, &admin_password, &admin_password_hash, error))
    return FALSE;
  /* From the environment the password stays off the command line, which
   * every local user can read (the system service takes it this way). */
  if (admin_password == NULL)
    admin_password = g_getenv ("SOFTPHONE_ADMIN_PASSWORD");
  /* The console keeps only a hash, as the GUI's setting does. */
  if (admin_password != NULL && admin_password[0] != '\0')
    {
      hashed = sp_password_hash_new (admin_password, error);
      if (hashed == NULL)
        return FALSE;
      admin_password_hash = hashed;
    }
  if (opts->users != NULL)
    {
      g_autoptr (GPtrArray) warnings = NULL;
      guint n = 0;
      if (!sp_user_db_import_regfile_path (sp_server_get_users (r->server), opts->users, &n,
                                           &warnings, error))
        return FALSE;
      print_warnings (opts->users, warnings);
      g_message ("%u users imported from %s", n, opts->users);
    }
  if (opts->routes != NULL)
    {
      g_autoptr (GPtrArray) warnings = NULL;
      if (!sp_router_import_path (sp_server_get_router (r->server), opts->routes, &warnings, error))
        return FALSE;
      print_warnings (opts->routes, warnings);
    }
  g_signal_connect (r->server, "registered", G_CALLBACK (on_server_registered), r);
  g_signal_connect (r->server, "unregistered", G_CALLBACK (on_server_unregistered), r);
  g_signal_connect (r->server, "call-started", G_CALLBACK (on_server_call), r);
  g_signal_connect (r->server, "call-ended", G_CALLBACK (on_server_call_ended), r);
  /* On any bind, 0.0.0.0 and :: too, the relay serves; each leg's SDP
   * names the address that leg's peer reaches (node.h). */
  if (!sp_node_start_server (r->node, error))
    return FALSE;
  if (opts->http != NULL)
    {
      g_autofree char *url = NULL;
      g_autofree char *token_file = NULL;
      JsonBuilder *b;

      if (!sp_server_start_http (r->server, opts->http, admin_password_hash, error))
        return FALSE;
      url = sp_web_console_dup_url (sp_server_get_web_console (r->server));
      token_file = sp_api_token_path (sp_node_get_config_dir (r->node));
      b = event_begin ("server_http");
      add_string (b, "url", url);
      /* Where the API token is, never the token. */
      add_string (b, "token_file", token_file);
      event_end (b);
    }
  return TRUE;
}

/* Something the node did by itself (an automatic answer) failed. */
static void
on_node_error (SpNode *node, const char *message, Runner *r)
{
  emit_error (message);
}

static gboolean
runner_start (Runner *r, GError **error)
{
  SpHeadlessOptions *opts = r->opts;
  g_autofree char *sip = NULL;
  g_autoptr (GInputStream) in = NULL;
  JsonBuilder *b;
  guint16 moved_from;

  r->node = sp_node_new (opts->config_dir, server_option_realm (r));
  r->phone = sp_node_get_phone (r->node);
  sp_node_set_auto_answer (r->node, opts->auto_answer, (guint) opts->auto_answer_delay);
  g_signal_connect (r->node, "error", G_CALLBACK (on_node_error), r);
  g_object_set (r->phone, "log-sip", opts->log_sip || opts->log_sip_raw, "log-sip-raw",
                opts->log_sip_raw, "audio-in", opts->audio_in, "audio-out", opts->audio_out, NULL);
  /* Nothing here shows the SIP log; --log-sip prints the wire itself. */
  g_object_set (r->phone, "record-sip", FALSE, NULL);
  if (opts->media_timeout >= 0)
    g_object_set (r->phone, "media-timeout", (guint) opts->media_timeout, NULL);
  if (opts->no_inband_dtmf)
    g_object_set (r->phone, "detect-inband-dtmf", FALSE, NULL);
  if (opts->no_echo_cancellation)
    g_object_set (r->phone, "echo-cancellation", FALSE, NULL);
  if (opts->sip_t1 > 0)
    g_object_set (r->phone, "sip-t1", (guint) opts->sip_t1, NULL);
  sp_phone_set_tls_port (r->phone, opts->tls_port);
  if (opts->keepalive >= 0)
    g_object_set (r->phone, "keepalive-interval", (guint) opts->keepalive, NULL);
  if (opts->ring_timeout >= 0)
    g_object_set (r->phone, "ring-timeout", (guint) opts->ring_timeout, NULL);
  if (opts->ptime >= 0)
    g_object_set (r->phone, "ptime", (guint) opts->ptime, NULL);
  if (opts->media_encryption != NULL)
    g_object_set (r->phone, "media-encryption", opts->media_encryption, NULL);
  g_object_set (r->phone, "refuse-strangers", opts->refuse_strangers, NULL);
  g_signal_connect (r->phone, "registration-changed", G_CALLBACK (on_registration_changed), r);
  g_signal_connect (r->phone, "call-added", G_CALLBACK (on_call_added), r);
  g_signal_connect (r->phone, "incoming-call", G_CALLBACK (on_incoming_call), r);
  g_signal_connect (r->phone, "call-ended", G_CALLBACK (on_call_ended), r);

  /* --account replaces the saved accounts for this run (and is not saved). */
  if (r->cli_account != NULL)
    sp_phone_add_account (r->phone, r->cli_account);
  else
    {
      g_autoptr (GError) local = NULL;
      if (!sp_phone_load_accounts (r->phone, &local))
        g_warning ("Saved accounts not loaded: %s", local->message);
    }

  discovery_start (r);
  /* A server keeps its well-known port (phones are configured with it);
   * a phone alone takes another one when that is held, and says so. */
  if (!sp_node_listen (r->node, r->bind_host, r->bind_port, opts->server, error))
    return FALSE;
  discovery_report_state (r);
  moved_from = sp_node_get_moved_from_port (r->node);
  if (moved_from != 0)
    {
      g_autofree char *moved = sp_phone_dup_sip_address (r->phone);

      b = event_begin ("port_moved");
      add_int (b, "wanted", moved_from);
      add_string (b, "sip", moved);
      event_end (b);
    }
  /* Before the accounts register: the phone may be a user of its own
   * server. */
  if (opts->server && !server_start (r, error))
    return FALSE;

  /* The certificate TLS peers see: a user compares its fingerprint with
   * what their phone pinned. */
  if (sp_phone_get_tls_port (r->phone) != 0)
    {
      b = event_begin ("tls");
      add_int (b, "port", sp_phone_get_tls_port (r->phone));
      add_string (b, "fingerprint", sp_phone_get_tls_fingerprint (r->phone));
      event_end (b);
    }
  sip = sp_phone_dup_sip_address (r->phone);
  b = event_begin ("ready");
  add_string (b, "sip", sip);
  if (sp_phone_get_tls_port (r->phone) != 0)
    add_int (b, "tls_port", sp_phone_get_tls_port (r->phone));
  event_end (b);

  in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  r->input = g_data_input_stream_new (in);
  g_data_input_stream_set_newline_type (r->input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  read_next_line (r);

  sp_phone_register (r->phone, NULL);
  /* With an account that registers, call once it has an answer. */
  r->waiting_registration = FALSE;
  for (guint i = 0; i < g_list_model_get_n_items (sp_phone_get_accounts (r->phone)); i++)
    {
      g_autoptr (SpAccount) a = g_list_model_get_item (sp_phone_get_accounts (r->phone), i);
      if (sp_account_get_status (a) == SP_ACCOUNT_STATUS_REGISTERING)
        r->waiting_registration = TRUE;
    }
  if (!r->waiting_registration)
    g_idle_add (start_cli_call, r);
  return TRUE;
}

int
sp_headless_run (SpHeadlessOptions *opts)
{
  Runner r = { .opts = opts, .exit_status = 0 };
  g_autoptr (GError) error = NULL;

  /* A peer that closes its end while we write an event must not kill us. */
  signal (SIGPIPE, SIG_IGN);

  if (!check_options (&r, &error))
    {
      g_printerr ("softphone: %s\n", error->message);
      g_printerr ("%s", _ ("Run 'softphone --help-headless' to see the options.\n"));
      g_free (r.bind_host);
      g_clear_object (&r.cli_account);
      return 2;
    }

  r.loop = g_main_loop_new (NULL, FALSE);
  r.cancellable = g_cancellable_new ();
  r.sigint_id = g_unix_signal_add (SIGINT, on_signal, &r);
  r.sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &r);

  if (!runner_start (&r, &error))
    {
      g_printerr ("softphone: %s\n", error->message);
      r.exit_status = 1;
    }
  else
    g_main_loop_run (r.loop);

  g_source_remove (r.sigint_id);
  g_source_remove (r.sigterm_id);
  if (r.phone != NULL)
    g_signal_handlers_disconnect_by_data (r.phone, &r);
  g_clear_object (&r.input);
  if (r.server != NULL)
    g_signal_handlers_disconnect_by_data (r.server, &r);
  discovery_stop (&r);
  if (r.node != NULL)
    {
      g_signal_handlers_disconnect_by_data (r.node, &r);
      sp_node_stop_server (r.node);
    }
  g_clear_object (&r.node);
  g_clear_object (&r.cancellable);
  g_clear_object (&r.cli_account);
  g_main_loop_unref (r.loop);
  g_free (r.bind_host);
  return r.exit_status;
}
