#include "server/presence.h"

#include "sip/random.h"

#include <string.h>

#define PIDF_TYPE        "application/pidf+xml"
#define DIALOG_INFO_TYPE "application/dialog-info+xml"
#define RLMI_BOUNDARY    "sp-rlmi-boundary-7f3a"
#define RLMI_TYPE                                                                                  \
  "multipart/related;type=\"application/"                                                          \
  "rlmi+xml\";start=\"<rlmi@directory>\";boundary=\"" RLMI_BOUNDARY "\""
/* A PUBLISH body is at most this long; PIDF from a phone is a few hundred
 * bytes. */
#define MAX_PUBLISH_BODY       8192
#define PUBLISH_DEFAULT_EXPIRY 3600
#define PUBLISH_MAX_EXPIRY     86400

typedef enum
{
  CALL_NONE,
  CALL_CALLING, /* the user's own call, not answered yet */
  CALL_RINGING, /* a call rings for the user */
  CALL_IN_CALL, /* answered */
} CallRole;

/* One user's calls through the B2BUA, for both packages. */
typedef struct
{
  CallRole role;    /* the strongest: in call > ringing > calling */
  GString *dialogs; /* <dialog> elements, sorted by call id */
} UserCalls;

typedef struct
{
  char *etag;
  gboolean dnd;
  gint64 expires; /* wall seconds */
} Publication;

struct _SpPresenceAgent
{
  SpSipStack *stack;
  SpAccessPolicy *policy;
  SpUserDb *users;
  SpLocationStore *locations;
  SpServerCallList *calls;
  SpNotifier *notifier;
  GHashTable *user_calls;   /* user name -> UserCalls */
  GHashTable *publications; /* user name -> Publication */
  GHashTable *online;       /* user names with a binding, as last told */
};

static void
user_calls_free (gpointer data)
{
  UserCalls *uc = data;

  g_string_free (uc->dialogs, TRUE);
  g_free (uc);
}

static void
publication_free (gpointer data)
{
  Publication *p = data;

  g_free (p->etag);
  g_free (p);
}

static gint64
wall_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static char *
entity_of (SpPresenceAgent *self, const char *user)
{
  g_autofree char *u = g_uri_escape_string (user, "!*'()&=+$,;?/", FALSE);
  return g_strdup_printf ("sip:%s@%s", u, sp_user_db_get_realm (self->users));
}

static gboolean
is_online (SpPresenceAgent *self, const char *user)
{
  g_autoptr (GPtrArray) bindings = sp_location_store_lookup (self->locations, user, wall_now ());
  return bindings->len > 0;
}

static gboolean
is_dnd (SpPresenceAgent *self, const char *user)
{
  Publication *p = g_hash_table_lookup (self->publications, user);

  return p != NULL && p->dnd && p->expires > wall_now ();
}

/* ---- bodies ---- */

static char *
pidf_body (SpPresenceAgent *self, const char *user)
{
  g_autofree char *entity = entity_of (self, user);
  g_autofree char *escaped = g_markup_escape_text (entity, -1);
  UserCalls *uc = g_hash_table_lookup (self->user_calls, user);
  gboolean online = is_online (self, user);
  const char *activity = "";
  const char *note = "Available";

  if (!online)
    note = "Offline";
  else if (uc != NULL && uc->role == CALL_RINGING)
    {
      activity = "<rpid:activities><rpid:other>ringing</rpid:other></rpid:activities>";
      note = "Ringing";
    }
  else if (uc != NULL && uc->role != CALL_NONE)
    {
      activity = "<rpid:activities><rpid:on-the-phone/></rpid:activities>";
      note = "On the phone";
    }
  else if (is_dnd (self, user))
    {
      activity = "<rpid:activities><rpid:busy/></rpid:activities>";
      note = "Do not disturb";
    }
  return g_strdup_printf (
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
      "xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "
      "xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"%s\">\n"
      "<tuple id=\"t1\"><status><basic>%s</basic></status><contact>%s</contact></tuple>\n"
      "<dm:person id=\"p1\">%s<dm:note>%s</dm:note></dm:person>\n"
      "<note>%s</note>\n"
      "</presence>\n",
      escaped, online ? "open" : "closed", escaped, activity, note, note);
}

static char *
dialog_info_body (SpPresenceAgent *self, const char *user, guint version)
{
  g_autofree char *entity = entity_of (self, user);
  g_autofree char *escaped = g_markup_escape_text (entity, -1);
  UserCalls *uc = g_hash_table_lookup (self->user_calls, user);

  return g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
                          "version=\"%u\" state=\"full\" entity=\"%s\">\n%s</dialog-info>\n",
                          version, escaped, uc ? uc->dialogs->str : "");
}

static gint
compare_users (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (sp_user_get_name (*(SpUser **) a), sp_user_get_name (*(SpUser **) b));
}

/* RFC 4662: the list, every user a resource: the URI names the number
 * when there is one (what one dials), <name> the user's name. */
static char *
directory_body (SpPresenceAgent *self, guint version)
{
  g_autoptr (GPtrArray) users = sp_user_db_list (self->users);
  g_autofree char *list_uri = entity_of (self, SP_PRESENCE_DIRECTORY);
  GString *rlmi = g_string_new (NULL);
  GString *out = g_string_new (NULL);

  g_ptr_array_sort (users, compare_users);
  g_string_append_printf (rlmi,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"%s\" version=\"%u\" "
                          "fullState=\"true\">\n",
                          list_uri, version);
  for (guint i = 0; i < users->len; i++)
    {
      SpUser *u = g_ptr_array_index (users, i);
      const char *number = sp_user_get_number (u);
      g_autofree char *uri = entity_of (self, number ? number : sp_user_get_name (u));
      g_autofree char *e_uri = g_markup_escape_text (uri, -1);
      g_autofree char *e_name = g_markup_escape_text (sp_user_get_name (u), -1);
      g_string_append_printf (rlmi, "<resource uri=\"%s\"><name>%s</name></resource>\n", e_uri,
                              e_name);
    }
  g_string_append (rlmi, "</list>\n");
  g_string_append_printf (out,
                          "--" RLMI_BOUNDARY "\r\n"
                          "Content-Transfer-Encoding: binary\r\n"
                          "Content-ID: <rlmi@directory>\r\n"
                          "Content-Type: application/rlmi+xml;charset=\"UTF-8\"\r\n\r\n"
                          "%s\r\n--" RLMI_BOUNDARY "--\r\n",
                          rlmi->str);
  g_string_free (rlmi, TRUE);
  return g_string_free (out, FALSE);
}

static char *
make_body (const char *event, const char *resource, const char *watcher, guint version,
           const char **content_type, gpointer user_data)
{
  SpPresenceAgent *self = user_data;

  if (strcmp (event, "dialog") == 0)
    {
      *content_type = DIALOG_INFO_TYPE;
      return dialog_info_body (self, resource, version);
    }
  if (strcmp (resource, SP_PRESENCE_DIRECTORY) == 0)
    {
      *content_type = RLMI_TYPE;
      return directory_body (self, version);
    }
  *content_type = PIDF_TYPE;
  return pidf_body (self, resource);
}

/* ---- what changed ---- */

static const char *
dialog_state (const char *call_state)
{
  if (g_strcmp0 (call_state, "answered") == 0)
    return "confirmed";
  if (g_strcmp0 (call_state, "ringing") == 0)
    return "early";
  return "trying";
}

static void
add_dialog (GHashTable *table, const char *user, const SpServerCall *call, gboolean initiator,
            const char *other, SpPresenceAgent *self)
{
  UserCalls *uc;
  CallRole role;
  g_autofree char *id = NULL;
  g_autofree char *remote = NULL;
  g_autofree char *e_remote = NULL;

  if (user == NULL || sp_user_db_lookup (self->users, user) == NULL)
    return;
  uc = g_hash_table_lookup (table, user);
  if (uc == NULL)
    {
      uc = g_new0 (UserCalls, 1);
      uc->dialogs = g_string_new (NULL);
      g_hash_table_insert (table, g_strdup (user), uc);
    }
  if (g_strcmp0 (call->state, "answered") == 0)
    role = CALL_IN_CALL;
  else if (initiator)
    role = CALL_CALLING;
  else
    role = CALL_RINGING;
  if (role > uc->role)
    uc->role = role;
  /* Not the call's Call-ID: watchers need an id, not a handle on the call. */
  id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, call->id ? call->id : "", -1);
  id[16] = '\0';
  remote = other && !strchr (other, ':') ? entity_of (self, other) : g_strdup (other ? other : "");
  e_remote = g_markup_escape_text (remote, -1);
  g_string_append_printf (uc->dialogs,
                          "<dialog id=\"%s\" direction=\"%s\"><state>%s</state>"
                          "<remote><identity>%s</identity></remote></dialog>\n",
                          id, initiator ? "initiator" : "recipient", dialog_state (call->state),
                          e_remote);
}

static void
on_calls_changed (SpServerCallList *list, SpPresenceAgent *self)
{
  g_autoptr (GPtrArray) calls = sp_server_call_list_get_calls (list);
  g_autoptr (GHashTable) now =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, user_calls_free);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < calls->len; i++)
    {
      const SpServerCall *call = g_ptr_array_index (calls, i);
      add_dialog (now, call->caller, call, TRUE, call->callee ? call->callee : call->called, self);
      /* A call routed to a user rings them once it rings at all. */
      if (call->callee != NULL && g_strcmp0 (call->state, "routing") != 0)
        add_dialog (now, call->callee, call, FALSE, call->caller, self);
    }
  /* Users whose calls differ (gone, new or changed) are told, once the
   * new state is in place (a NOTIFY may leave at once). */
  {
    g_autoptr (GHashTable) old = self->user_calls;
    g_autoptr (GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);

    self->user_calls = g_steal_pointer (&now);
    g_hash_table_iter_init (&iter, old);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        UserCalls *was = value, *cur = g_hash_table_lookup (self->user_calls, key);
        if (cur == NULL || cur->role != was->role || !g_string_equal (cur->dialogs, was->dialogs))
          g_ptr_array_add (changed, g_strdup (key));
      }
    g_hash_table_iter_init (&iter, self->user_calls);
    while (g_hash_table_iter_next (&iter, &key, &value))
      if (!g_hash_table_contains (old, key))
        g_ptr_array_add (changed, g_strdup (key));
    for (guint i = 0; i < changed->len; i++)
      sp_notifier_resource_changed (self->notifier, g_ptr_array_index (changed, i));
  }
}

/* Only a change of online/offline is news: a registration refresh (every
 * phone, every few minutes) is not. */
static void
on_location_changed (SpLocationStore *store, const char *aor, SpPresenceAgent *self)
{
  gboolean online = is_online (self, aor);

  if (online == g_hash_table_contains (self->online, aor))
    return;
  if (online)
    g_hash_table_add (self->online, g_strdup (aor));
  else
    g_hash_table_remove (self->online, aor);
  sp_notifier_resource_changed (self->notifier, aor);
}

static void
on_users_changed (SpUserDb *users, SpPresenceAgent *self)
{
  sp_notifier_resource_changed (self->notifier, SP_PRESENCE_DIRECTORY);
}

SpPresenceAgent *
sp_presence_agent_new (SpSipStack *stack, SpAccessPolicy *policy, SpUserDb *users,
                       SpLocationStore *locations, SpServerCallList *calls)
{
  SpPresenceAgent *self = g_new0 (SpPresenceAgent, 1);

  self->stack = stack;
  self->policy = policy;
  self->users = users;
  self->locations = locations;
  self->calls = calls;
  self->notifier = sp_notifier_new (stack, NULL);
  sp_notifier_add_package (self->notifier, "presence", PIDF_TYPE, make_body, self);
  sp_notifier_add_package (self->notifier, "dialog", DIALOG_INFO_TYPE, make_body, self);
  self->user_calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, user_calls_free);
  self->publications = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, publication_free);
  self->online = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  {
    g_autoptr (GPtrArray) bindings = sp_location_store_list (locations, wall_now ());
    for (guint i = 0; i < bindings->len; i++)
      g_hash_table_add (self->online,
                        g_strdup (((SpBinding *) g_ptr_array_index (bindings, i))->aor));
  }
  g_signal_connect (calls, "changed", G_CALLBACK (on_calls_changed), self);
  g_signal_connect (locations, "changed", G_CALLBACK (on_location_changed), self);
  g_signal_connect (users, "changed", G_CALLBACK (on_users_changed), self);
  on_calls_changed (calls, self);
  return self;
}

void
sp_presence_agent_free (SpPresenceAgent *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->calls, self);
  g_signal_handlers_disconnect_by_data (self->locations, self);
  g_signal_handlers_disconnect_by_data (self->users, self);
  sp_notifier_terminate (self->notifier, NULL, "deactivated");
  sp_notifier_free (self->notifier);
  g_hash_table_unref (self->user_calls);
  g_hash_table_unref (self->publications);
  g_hash_table_unref (self->online);
  g_free (self);
}

void
sp_presence_agent_set_limits (SpPresenceAgent *self, const SpNotifierLimits *limits)
{
  sp_notifier_set_limits (self->notifier, limits);
}

guint
sp_presence_agent_get_n_subscriptions (SpPresenceAgent *self)
{
  return sp_notifier_get_n_subscriptions (self->notifier);
}

gboolean
sp_presence_agent_owns_dialog (SpPresenceAgent *self, SpSipDialog *dialog)
{
  return sp_notifier_owns_dialog (self->notifier, dialog);
}

gboolean
sp_presence_agent_handle_in_dialog (SpPresenceAgent *self, SpSipServerTransaction *st,
                                    SpSipMessage *request, SpSipDialog *dialog)
{
  if (!sp_notifier_owns_dialog (self->notifier, dialog))
    return FALSE;
  if (sp_sip_message_get_method_id (request) == SP_SIP_METHOD_SUBSCRIBE)
    sp_notifier_handle_subscribe (self->notifier, st, request, dialog, NULL, NULL);
  else
    sp_sip_stack_reply (self->stack, st, 405, NULL);
  return TRUE;
}

static gboolean
has_option (const SpSipMessage *request, const char *header, const char *option)
{
  guint n = sp_sip_message_get_n_headers (request);

  for (guint i = 0; i < n; i++)
    {
      const char *name, *value;
      g_auto (GStrv) tags = NULL;

      sp_sip_message_get_nth_header (request, i, &name, &value);
      if (g_ascii_strcasecmp (name, header) != 0)
        continue;
      tags = g_strsplit (value, ",", 32);
      for (guint t = 0; tags[t] != NULL; t++)
        if (g_ascii_strcasecmp (g_strstrip (tags[t]), option) == 0)
          return TRUE;
    }
  return FALSE;
}

/* ---- PUBLISH (RFC 3903): the user's own do-not-disturb ---- */

static gboolean
pidf_says_dnd (const char *body, gsize len)
{
  g_autofree char *text = g_strndup (body, len);

  /* Minimal and bounded: the RPID busy activity, or basic closed. */
  return strstr (text, ":busy") != NULL || strstr (text, "<busy") != NULL ||
         strstr (text, ">closed<") != NULL;
}

static void
handle_publish (SpPresenceAgent *self, SpSipServerTransaction *st, SpSipMessage *request,
                const char *user, const char *resource)
{
  const char *event = sp_sip_message_get_header (request, "Event");
  const char *if_match = sp_sip_message_get_header (request, "SIP-If-Match");
  gint64 expires = sp_sip_message_get_expires (request);
  Publication *p = g_hash_table_lookup (self->publications, user);
  g_autoptr (SpSipMessage) response = NULL;
  g_autofree char *expires_text = NULL;
  const guint8 *body;
  gsize len = 0;

  if (event == NULL || g_ascii_strncasecmp (event, "presence", 8) != 0)
    {
      response = sp_sip_server_transaction_new_response (st, 489, NULL);
      sp_sip_message_add_header (response, "Allow-Events", "presence, dialog", NULL);
      sp_sip_stack_respond (self->stack, st, response, NULL);
      return;
    }
  if (g_strcmp0 (user, resource) != 0)
    {
      sp_sip_stack_reply (self->stack, st, 403, "Publish only your own state");
      return;
    }
  body = sp_sip_message_get_body (request, &len);
  if (len > MAX_PUBLISH_BODY)
    {
      sp_sip_stack_reply (self->stack, st, 413, NULL);
      return;
    }
  if (if_match != NULL && (p == NULL || strcmp (p->etag, if_match) != 0))
    {
      sp_sip_stack_reply (self->stack, st, 412, NULL);
      return;
    }
  if (if_match == NULL && len == 0)
    {
      sp_sip_stack_reply (self->stack, st, 400, "PUBLISH without a body");
      return;
    }
  if (expires < 0)
    expires = PUBLISH_DEFAULT_EXPIRY;
  if (expires > PUBLISH_MAX_EXPIRY)
    expires = PUBLISH_MAX_EXPIRY;
  if (expires == 0)
    {
      g_hash_table_remove (self->publications, user);
      sp_sip_stack_reply (self->stack, st, 200, NULL);
      sp_notifier_resource_changed (self->notifier, user);
      return;
    }
  if (p == NULL)
    {
      p = g_new0 (Publication, 1);
      g_hash_table_insert (self->publications, g_strdup (user), p);
    }
  g_free (p->etag);
  p->etag = sp_random_token (16);
  p->expires = wall_now () + expires;
  if (len > 0)
    p->dnd = pidf_says_dnd ((const char *) body, len);
  response = sp_sip_server_transaction_new_response (st, 200, NULL);
  expires_text = g_strdup_printf ("%" G_GINT64_FORMAT, expires);
  sp_sip_message_add_header (response, "SIP-ETag", p->etag, NULL);
  sp_sip_message_add_header (response, "Expires", expires_text, NULL);
  sp_sip_stack_respond (self->stack, st, response, NULL);
  sp_notifier_resource_changed (self->notifier, user);
}

gboolean
sp_presence_agent_handle_request (SpPresenceAgent *self, SpSipServerTransaction *st,
                                  SpSipMessage *request, gint64 now)
{
  SpSipMethod method = sp_sip_message_get_method_id (request);
  gboolean publish = g_strcmp0 (sp_sip_message_get_method (request), "PUBLISH") == 0;
  const SpSipUri *ruri = sp_sip_message_get_request_uri (request);
  const char *target = ruri ? sp_sip_uri_get_user (ruri) : NULL;
  g_auto (SpAccess) access = { 0 };
  SpUser *user = NULL; /* borrowed */
  const char *resource;

  if (method != SP_SIP_METHOD_SUBSCRIBE && !publish)
    return FALSE;
  switch (sp_access_policy_admit (self->policy, st, request, now, &access))
    {
      case SP_ACCESS_DENIED:
        return TRUE;
      case SP_ACCESS_TRUSTED:
        sp_sip_stack_reply (self->stack, st, 403, "Credentials required");
        return TRUE;
      case SP_ACCESS_USER:
      default:
        break;
    }
  if (target != NULL && (user = sp_user_db_lookup_target (self->users, target)) != NULL)
    resource = sp_user_get_name (user);
  else if (g_strcmp0 (target, SP_PRESENCE_DIRECTORY) == 0 && method == SP_SIP_METHOD_SUBSCRIBE)
    {
      resource = SP_PRESENCE_DIRECTORY;
      /* RFC 4662 5: a list only for a subscriber that takes one. */
      if (!has_option (request, "Supported", "eventlist"))
        {
          g_autoptr (SpSipMessage) response =
              sp_sip_server_transaction_new_response (st, 421, NULL);
          sp_sip_message_add_header (response, "Require", "eventlist", NULL);
          sp_sip_stack_respond (self->stack, st, response, NULL);
          return TRUE;
        }
    }
  else
    {
      sp_sip_stack_reply (self->stack, st, 404, NULL);
      return TRUE;
    }
  if (publish)
    handle_publish (self, st, request, access.user, resource);
  else
    sp_notifier_handle_subscribe (self->notifier, st, request, NULL, access.user, resource);
  return TRUE;
}
