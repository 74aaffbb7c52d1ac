#include "server/accesspolicy.h"

#include "sip/source-key.h"

#include "server/authguard.h"
#include "sip/transport.h"

#include <gio/gio.h>
#include <string.h>

struct _SpAccessPolicy
{
  SpSipStack *stack;
  SpUserDb *users;
  SpAuthenticator *auth;
  SpAuthGuard *sources; /* keyed by sp_access_policy_source_key */
  SpAuthGuard *names;   /* keyed by the user name claimed */
  GPtrArray *trusted;   /* GInetAddressMask */
  gboolean trusted_forward;
  GStrv md5_agents;    /* lower-case prefixes */
  GStrv sha256_agents; /* lower-case prefixes */
  /* "user\nsource key" -> gint64 time of the last login from there: a
   * user's own phone is not locked out by a guesser elsewhere. Only real
   * users get in here, so it is bounded by the user db (and capped). */
  GHashTable *known_good;
  SpAccessStats stats;
};

void
sp_access_clear (SpAccess *access)
{
  g_clear_pointer (&access->user, g_free);
  g_clear_pointer (&access->number, g_free);
  access->kind = SP_ACCESS_DENIED;
}

SpAccessPolicy *
sp_access_policy_new (SpSipStack *stack, SpUserDb *users, SpAuthenticator *auth)
{
  SpAccessPolicy *policy = g_new0 (SpAccessPolicy, 1);

  policy->stack = stack;
  policy->users = users;
  policy->auth = auth;
  policy->trusted = g_ptr_array_new_with_free_func (g_object_unref);
  policy->known_good = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sp_access_policy_set_lockout (policy, 10, 60, 300);
  sp_access_policy_set_md5_agents (policy, SP_ACCESS_POLICY_MD5_AGENTS);
  sp_access_policy_set_sha256_agents (policy, SP_ACCESS_POLICY_SHA256_AGENTS);
  return policy;
}

void
sp_access_policy_free (SpAccessPolicy *policy)
{
  if (policy == NULL)
    return;
  sp_auth_guard_free (policy->sources);
  sp_auth_guard_free (policy->names);
  g_ptr_array_unref (policy->trusted);
  g_strfreev (policy->md5_agents);
  g_strfreev (policy->sha256_agents);
  g_hash_table_unref (policy->known_good);
  g_free (policy);
}

void
sp_access_policy_set_lockout (SpAccessPolicy *policy, guint max_failures, guint window_s,
                              guint block_s)
{
  g_clear_pointer (&policy->sources, sp_auth_guard_free);
  g_clear_pointer (&policy->names, sp_auth_guard_free);
  policy->sources =
      sp_auth_guard_new (max_failures, window_s, block_s, SP_ACCESS_POLICY_MAX_TRACKED);
  policy->names = sp_auth_guard_new (max_failures, window_s, block_s, SP_ACCESS_POLICY_MAX_TRACKED);
}

/* ---- trusted peers ------------------------------------------------------ */

/* @text as an address; an IPv4-mapped IPv6 address (a dual-stack socket's
 * view of an IPv4 peer, ::ffff:a.b.c.d) as the IPv4 address it is, so it
 * matches IPv4 networks and is not lumped with every other IPv4 peer
 * into one /64. */
static GInetAddress *
parse_address (const char *text)
{
  GInetAddress *addr = text != NULL ? g_inet_address_new_from_string (text) : NULL;
  const guint8 *b;
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
    return addr;
  b = g_inet_address_to_bytes (addr);
  if (memcmp (b, mapped, sizeof mapped) == 0)
    {
      GInetAddress *v4 = g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
      g_object_unref (addr);
      return v4;
    }
  return addr;
}

gboolean
sp_access_policy_set_trusted_peers (SpAccessPolicy *policy, const char *list, GError **error)
{
  g_autoptr (GPtrArray) masks = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto (GStrv) parts = g_strsplit_set (list != NULL ? list : "", ", \t\n;", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      GInetAddressMask *mask;

      if (parts[i][0] == '\0')
        continue;
      if (masks->len == SP_ACCESS_POLICY_MAX_TRUSTED)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "trusted peers: at most %u entries", SP_ACCESS_POLICY_MAX_TRUSTED);
          return FALSE;
        }
      /* A host name would be resolved once and then be wrong: numbers only. */
      mask = g_inet_address_mask_new_from_string (parts[i], NULL);
      if (mask == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "trusted peers: '%s' is not an IP address or a network such as "
                       "192.168.1.0/24 or 2001:db8::/48",
                       parts[i]);
          return FALSE;
        }
      g_ptr_array_add (masks, mask);
    }
  g_ptr_array_unref (policy->trusted);
  policy->trusted = g_steal_pointer (&masks);
  return TRUE;
}

char *
sp_access_policy_dup_trusted_peers (SpAccessPolicy *policy)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < policy->trusted->len; i++)
    {
      g_autofree char *text = g_inet_address_mask_to_string (policy->trusted->pdata[i]);

      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, text);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

void
sp_access_policy_set_trusted_forward (SpAccessPolicy *policy, gboolean allow)
{
  policy->trusted_forward = allow;
}

gboolean
sp_access_policy_is_trusted (SpAccessPolicy *policy, const char *address)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (address == NULL || policy->trusted->len == 0)
    return FALSE;
  addr = parse_address (address);
  if (addr == NULL)
    return FALSE;
  for (guint i = 0; i < policy->trusted->len; i++)
    if (g_inet_address_mask_matches (policy->trusted->pdata[i], addr))
      return TRUE;
  return FALSE;
}

/* ---- digest algorithms per client --------------------------------------- */

static GStrv
parse_prefixes (const char *list)
{
  g_auto (GStrv) parts = g_strsplit (list != NULL ? list : "", ",", -1);
  g_autoptr (GPtrArray) out = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *p = g_strstrip (parts[i]);
      if (p[0] != '\0')
        g_ptr_array_add (out, g_ascii_strdown (p, -1));
    }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

void
sp_access_policy_set_md5_agents (SpAccessPolicy *policy, const char *list)
{
  g_strfreev (policy->md5_agents);
  policy->md5_agents = parse_prefixes (list);
}

void
sp_access_policy_set_sha256_agents (SpAccessPolicy *policy, const char *list)
{
  g_strfreev (policy->sha256_agents);
  policy->sha256_agents = parse_prefixes (list);
}

static gboolean
agent_in (GStrv prefixes, const SpSipMessage *request)
{
  const char *agent = sp_sip_message_get_header (request, "User-Agent");
  g_autofree char *lower = NULL;

  if (agent == NULL)
    return FALSE;
  lower = g_ascii_strdown (agent, MIN (strlen (agent), 256));
  for (guint i = 0; prefixes[i] != NULL; i++)
    if (g_str_has_prefix (lower, prefixes[i]))
      return TRUE;
  return FALSE;
}

/* The challenges for @request's client, in order. Many clients answer the
 * first challenge they can, and some that know MD5 alone read only the
 * first (SIPp 3.6), so the configured order (MD5 first by default) stays
 * for unknown clients. Clients known to handle SHA-256 get it first, so
 * they use it (linphonec takes whichever comes first). libre 1.1 (Debian
 * 12's baresip 1.0) answers "Function not implemented" to a 401 that
 * carries any SHA-256 challenge, even beside MD5, and never asks again:
 * MD5 alone is the only way it logs in. */
static guint
choose_algorithms (SpAccessPolicy *policy, const SpSipMessage *request, SpDigestAlgorithm out[2])
{
  guint n = 0;
  const SpDigestAlgorithm *configured = sp_authenticator_get_algorithms (policy->auth, &n);
  gboolean md5 = FALSE, sha256 = FALSE;
  guint k = 0;

  for (guint i = 0; i < n; i++)
    {
      md5 |= configured[i] == SP_DIGEST_ALGORITHM_MD5;
      sha256 |= configured[i] == SP_DIGEST_ALGORITHM_SHA256;
    }
  if (md5 && sha256 && agent_in (policy->md5_agents, request))
    {
      out[0] = SP_DIGEST_ALGORITHM_MD5;
      return 1;
    }
  if (md5 && sha256 && agent_in (policy->sha256_agents, request))
    {
      out[k++] = SP_DIGEST_ALGORITHM_SHA256;
      out[k++] = SP_DIGEST_ALGORITHM_MD5;
      return k;
    }
  n = MIN (n, 2);
  memcpy (out, configured, n * sizeof *out);
  return n;
}

/* ---- answers -------------------------------------------------------------- */

/* Sends @response once and forgets @st (RFC 3261 26.3.2.4: stateless),
 * so a request that is retransmitted, or a flood that never ACKs, leaves
 * no transaction and no retransmissions. It goes to the address and port
 * the packet came from, whatever the top Via claims: received and rport
 * are set to them and maddr is dropped, so a spoofed Via cannot aim our
 * refusals at a third host (the sent-by stays, the client checks it). */
static void
send_to_source (SpAccessPolicy *policy, SpSipServerTransaction *st, SpSipMessage *response)
{
  static const char *const drop[] = { "received", "rport", "maddr", NULL };
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  const SpSipVia *via = sp_sip_message_get_via (response);

  if (via != NULL && via->host != NULL)
    {
      g_autofree char *extra =
          g_strdup_printf (";received=%s;rport=%u", source->host, source->port);
      g_autofree char *value = sp_sip_via_format (via, via->transport ? via->transport : "UDP",
                                                  via->host, via->port, drop, extra);

      if (!sp_sip_via_replace_top (response, value, NULL))
        {
          sp_sip_server_transaction_drop (st);
          return;
        }
    }
  sp_sip_stack_respond (policy->stack, st, response, NULL);
  sp_sip_server_transaction_drop (st);
}

void
sp_access_policy_refuse (SpAccessPolicy *policy, SpSipServerTransaction *st, guint status,
                         const char *reason)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, status, reason);

  send_to_source (policy, st, response);
}

void
sp_access_policy_challenge (SpAccessPolicy *policy, SpSipServerTransaction *st, gboolean stale,
                            gint64 now)
{
  g_autoptr (SpSipMessage) response = sp_sip_server_transaction_new_response (st, 401, NULL);
  SpSipMessage *request = sp_sip_server_transaction_get_request (st);
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  SpDigestAlgorithm algorithms[2];
  guint n = choose_algorithms (policy, request, algorithms);

  sp_authenticator_add_challenges_for (policy->auth, response, stale, source->host, algorithms, n,
                                       now);
  policy->stats.challenged++;
  send_to_source (policy, st, response);
}

static void
count_failure (SpAccessPolicy *policy, const char *address, const char *user, gint64 now)
{
  g_autofree char *key = sp_sip_source_key (address);

  if (key != NULL)
    sp_auth_guard_record_failure (policy->sources, key, now);
  if (user != NULL && user[0] != '\0')
    sp_auth_guard_record_failure (policy->names, user, now);
}

/* ---- decisions ------------------------------------------------------------ */

#define KNOWN_GOOD_FOR_S (24 * 3600)

static char *
known_good_key (const char *user, const char *address)
{
  g_autofree char *key = sp_sip_source_key (address);

  return g_strconcat (user, "\n", key != NULL ? key : address, NULL);
}

/* Whether @user logged in from @address's network recently: then a lock
 * on the name (someone else guessing it) does not shut them out. */
static gboolean
known_good (SpAccessPolicy *policy, const char *user, const char *address, gint64 now)
{
  g_autofree char *key = known_good_key (user, address);
  gint64 *when = g_hash_table_lookup (policy->known_good, key);

  return when != NULL && now - *when <= KNOWN_GOOD_FOR_S;
}

static void
remember_good (SpAccessPolicy *policy, const char *user, const char *address, gint64 now)
{
  gint64 *when = g_new (gint64, 1);

  if (g_hash_table_size (policy->known_good) >= SP_ACCESS_POLICY_MAX_TRACKED)
    g_hash_table_remove_all (policy->known_good); /* rare: relearnt at the next login */
  *when = now;
  g_hash_table_replace (policy->known_good, known_good_key (user, address), when);
}

/* The credentials, if any, checked. OK gives @access a user. */
static SpAuthResult
check_credentials (SpAccessPolicy *policy, SpSipServerTransaction *st, SpSipMessage *request,
                   gboolean trusted, gint64 now, SpAccess *access)
{
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  g_autofree char *claimed = sp_authenticator_dup_claimed_user (policy->auth, request);
  g_autofree char *user = NULL;
  SpAuthResult result;
  SpUser *entry;

  /* A locked-out name is refused before its password is looked at, the
   * same way for names that exist and names that do not. */
  if (!trusted && claimed != NULL && !known_good (policy, claimed, source->host, now) &&
      sp_auth_guard_is_blocked (policy->names, claimed, now))
    return SP_AUTH_FAILED;
  result = sp_authenticator_check (policy->auth, request, source->host, now, &user);
  if (result == SP_AUTH_FAILED && !trusted)
    count_failure (policy, source->host, claimed, now);
  if (result != SP_AUTH_OK)
    return result;
  entry = sp_user_db_lookup (policy->users, user);
  if (entry == NULL) /* removed meanwhile */
    return SP_AUTH_FAILED;
  remember_good (policy, sp_user_get_name (entry), source->host, now);
  access->kind = SP_ACCESS_USER;
  access->user = g_strdup (sp_user_get_name (entry));
  access->number = g_strdup (sp_user_get_number (entry));
  return SP_AUTH_OK;
}

SpAccessKind
sp_access_policy_admit (SpAccessPolicy *policy, SpSipServerTransaction *st, SpSipMessage *request,
                        gint64 now, SpAccess *access)
{
  const SpSipPeer *source = sp_sip_server_transaction_get_source (st);
  gboolean trusted = sp_access_policy_is_trusted (policy, source->host);
  gboolean register_ = sp_sip_message_get_method_id (request) == SP_SIP_METHOD_REGISTER;
  g_autofree char *key = NULL;

  memset (access, 0, sizeof *access);
  if (!trusted)
    {
      key = sp_sip_source_key (source->host);
      if (key != NULL && sp_auth_guard_is_blocked (policy->sources, key, now))
        {
          /* No answer at all: a guesser learns nothing and gets no
           * traffic (not even 100 Trying), and a flood leaves nothing. */
          policy->stats.ignored++;
          sp_sip_server_transaction_drop (st);
          return SP_ACCESS_DENIED;
        }
    }
  switch (check_credentials (policy, st, request, trusted, now, access))
    {
      case SP_AUTH_OK:
        return SP_ACCESS_USER;
      case SP_AUTH_CHALLENGE:
        if (trusted && !register_)
          {
            policy->stats.trusted++;
            access->kind = SP_ACCESS_TRUSTED;
            return SP_ACCESS_TRUSTED;
          }
        sp_access_policy_challenge (policy, st, FALSE, now);
        return SP_ACCESS_DENIED;
      case SP_AUTH_STALE:
        sp_access_policy_challenge (policy, st, TRUE, now);
        return SP_ACCESS_DENIED;
      case SP_AUTH_FAILED:
      default:
        policy->stats.refused++;
        sp_access_policy_refuse (policy, st, 403, NULL);
        return SP_ACCESS_DENIED;
    }
}

gboolean
sp_access_policy_admit_bye (SpAccessPolicy *policy, SpSipServerTransaction *st,
                            SpSipMessage *request, const char *caller_user, gint64 now)
{
  g_auto (SpAccess) access = { 0 };

  if (caller_user == NULL)
    return TRUE; /* a trusted peer's call: the dialog's tags are its proof */
  switch (check_credentials (policy, st, request, FALSE, now, &access))
    {
      case SP_AUTH_OK:
        if (g_strcmp0 (access.user, caller_user) == 0)
          return TRUE;
        /* Someone else's credentials do not end this call. */
        policy->stats.refused++;
        sp_access_policy_refuse (policy, st, 403, NULL);
        return FALSE;
      case SP_AUTH_CHALLENGE:
        sp_access_policy_challenge (policy, st, FALSE, now);
        return FALSE;
      case SP_AUTH_STALE:
        sp_access_policy_challenge (policy, st, TRUE, now);
        return FALSE;
      case SP_AUTH_FAILED:
      default:
        policy->stats.refused++;
        sp_access_policy_refuse (policy, st, 403, NULL);
        return FALSE;
    }
}

gboolean
sp_access_policy_allows_route (SpAccessPolicy *policy, const SpAccess *access, SpRouteKind kind)
{
  if (access->kind == SP_ACCESS_USER)
    return TRUE;
  if (access->kind != SP_ACCESS_TRUSTED)
    return FALSE;
  /* A trunk's calls to local users are what it is trusted for; passing
   * them on to another server is a separate decision (no open relay). */
  return kind != SP_ROUTE_FORWARD || policy->trusted_forward;
}

/* ---- state ------------------------------------------------------------------ */

GPtrArray *
sp_access_policy_list_locked (SpAccessPolicy *policy, gint64 now)
{
  GPtrArray *out = sp_auth_guard_list_blocked (policy->sources, now);
  g_autoptr (GPtrArray) names = sp_auth_guard_list_blocked (policy->names, now);

  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (out, g_strconcat ("user ", (char *) names->pdata[i], NULL));
  return out;
}

void
sp_access_policy_get_stats (SpAccessPolicy *policy, SpAccessStats *stats)
{
  *stats = policy->stats;
}
