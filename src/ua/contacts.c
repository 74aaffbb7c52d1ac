#include "ua/contacts.h"

#include "i18n.h"
#include "session/subscriber.h"

#include <string.h>

#define MAX_CONTACTS      1000
#define PRESENCE_EXPIRES  600
#define PRESENCE_ACCEPT   "application/pidf+xml"
#define DIRECTORY_ACCEPT  "application/pidf+xml, application/rlmi+xml, multipart/related"
#define MAX_PRESENCE_BODY 16384

/* ---- SpContact ---- */

struct _SpContact
{
  GObject parent_instance;
  char *name;
  char *number;
  SpContactState state;
  SpSubscriber *subscriber;
};

G_DEFINE_FINAL_TYPE (SpContact, sp_contact, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_NUMBER,
  PROP_STATE,
  PROP_STATE_TEXT,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

const char *
sp_contact_state_to_string (SpContactState state)
{
  static const char *const names[] = { "unknown", "offline", "available",
                                       "ringing", "in-call", "dnd" };
  return state <= SP_CONTACT_STATE_DND ? names[state] : "unknown";
}

static const char *
state_text (SpContactState state)
{
  switch (state)
    {
      case SP_CONTACT_STATE_OFFLINE:
        return _ ("Offline");
      case SP_CONTACT_STATE_AVAILABLE:
        return _ ("Available");
      case SP_CONTACT_STATE_RINGING:
        return _ ("Ringing");
      case SP_CONTACT_STATE_IN_CALL:
        return _ ("In a call");
      case SP_CONTACT_STATE_DND:
        return _ ("Do not disturb");
      case SP_CONTACT_STATE_UNKNOWN:
      default:
        return _ ("Unknown");
    }
}

SpContactState
sp_contact_state_from_pidf (const char *body, gsize len)
{
  g_autofree char *text = g_strndup (body, MIN (len, MAX_PRESENCE_BODY));

  if (strstr (text, "<basic>closed</basic>") != NULL || strstr (text, ">closed<") != NULL)
    return SP_CONTACT_STATE_OFFLINE;
  if (strstr (text, ">ringing<") != NULL)
    return SP_CONTACT_STATE_RINGING;
  if (strstr (text, "on-the-phone") != NULL)
    return SP_CONTACT_STATE_IN_CALL;
  if (strstr (text, ":busy") != NULL || strstr (text, "<busy") != NULL)
    return SP_CONTACT_STATE_DND;
  if (strstr (text, ">open<") != NULL)
    return SP_CONTACT_STATE_AVAILABLE;
  return SP_CONTACT_STATE_UNKNOWN;
}

static void
sp_contact_finalize (GObject *object)
{
  SpContact *self = SP_CONTACT (object);

  g_clear_pointer (&self->subscriber, sp_subscriber_free);
  g_free (self->name);
  g_free (self->number);
  G_OBJECT_CLASS (sp_contact_parent_class)->finalize (object);
}

static void
sp_contact_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SpContact *self = SP_CONTACT (object);

  switch (id)
    {
      case PROP_NAME:
        g_value_set_string (value, self->name);
        break;
      case PROP_NUMBER:
        g_value_set_string (value, self->number);
        break;
      case PROP_STATE:
        g_value_set_uint (value, self->state);
        break;
      case PROP_STATE_TEXT:
        g_value_set_string (value, state_text (self->state));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
sp_contact_class_init (SpContactClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sp_contact_finalize;
  object_class->get_property = sp_contact_get_property;
  props[PROP_NAME] =
      g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_NUMBER] =
      g_param_spec_string ("number", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_STATE] = g_param_spec_uint ("state", NULL, NULL, 0, SP_CONTACT_STATE_DND, 0,
                                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_STATE_TEXT] = g_param_spec_string ("state-text", NULL, NULL, NULL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
sp_contact_init (SpContact *self)
{
}

const char *
sp_contact_get_name (SpContact *self)
{
  return self->name;
}

const char *
sp_contact_get_number (SpContact *self)
{
  return self->number;
}

SpContactState
sp_contact_get_state (SpContact *self)
{
  return self->state;
}

/* ---- SpContactList ---- */

struct _SpContactList
{
  GObject parent_instance;
  SpSipStack *stack;
  gulong missing_handler;
  GPtrArray *contacts; /* SpContact, sorted by name */
  SpSubscriber *directory;
  SpCredentials *credentials;
  char *host;
  guint16 port;
  char *transport_param;
  char *from;
  char *own_user;
};

static void sp_contact_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SpContactList, sp_contact_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      sp_contact_list_model_init))

enum
{
  SIGNAL_CONTACT_CHANGED,
  SIGNAL_DIRECTORY_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static GType
model_get_item_type (GListModel *model)
{
  return SP_TYPE_CONTACT;
}

static guint
model_get_n_items (GListModel *model)
{
  return SP_CONTACT_LIST (model)->contacts->len;
}

static gpointer
model_get_item (GListModel *model, guint position)
{
  SpContactList *self = SP_CONTACT_LIST (model);

  if (position >= self->contacts->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->contacts, position));
}

static void
sp_contact_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = model_get_item_type;
  iface->get_n_items = model_get_n_items;
  iface->get_item = model_get_item;
}

static gboolean
on_dialog_missing (SpSipStack *stack, SpSipMessage *request, SpContactList *self)
{
  if (self->directory != NULL && sp_subscriber_take_early_notify (self->directory, request))
    return TRUE;
  for (guint i = 0; i < self->contacts->len; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (c->subscriber != NULL && sp_subscriber_take_early_notify (c->subscriber, request))
        return TRUE;
    }
  return FALSE;
}

static void
clear_contacts (SpContactList *self)
{
  guint n = self->contacts->len;

  for (guint i = 0; i < n; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (c->subscriber != NULL)
        sp_subscriber_stop (c->subscriber);
    }
  g_ptr_array_set_size (self->contacts, 0);
  if (n > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}

void
sp_contact_list_stop (SpContactList *self)
{
  if (self->directory != NULL)
    sp_subscriber_stop (self->directory);
  g_clear_pointer (&self->directory, sp_subscriber_free);
  clear_contacts (self);
  g_clear_pointer (&self->credentials, sp_credentials_unref);
}

static void
sp_contact_list_dispose (GObject *object)
{
  SpContactList *self = SP_CONTACT_LIST (object);

  if (self->stack != NULL)
    {
      sp_contact_list_stop (self);
      g_clear_signal_handler (&self->missing_handler, self->stack);
      g_clear_object (&self->stack);
    }
  G_OBJECT_CLASS (sp_contact_list_parent_class)->dispose (object);
}

static void
sp_contact_list_finalize (GObject *object)
{
  SpContactList *self = SP_CONTACT_LIST (object);

  g_ptr_array_unref (self->contacts);
  g_free (self->host);
  g_free (self->transport_param);
  g_free (self->from);
  g_free (self->own_user);
  G_OBJECT_CLASS (sp_contact_list_parent_class)->finalize (object);
}

static void
sp_contact_list_class_init (SpContactListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sp_contact_list_dispose;
  object_class->finalize = sp_contact_list_finalize;
  signals[SIGNAL_CONTACT_CHANGED] =
      g_signal_new ("contact-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, SP_TYPE_CONTACT);
  signals[SIGNAL_DIRECTORY_CHANGED] =
      g_signal_new ("directory-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_contact_list_init (SpContactList *self)
{
  self->contacts = g_ptr_array_new_with_free_func (g_object_unref);
}

SpContactList *
sp_contact_list_new (SpSipStack *stack)
{
  SpContactList *self = g_object_new (SP_TYPE_CONTACT_LIST, NULL);

  self->stack = g_object_ref (stack);
  self->missing_handler =
      g_signal_connect (stack, "dialog-missing", G_CALLBACK (on_dialog_missing), self);
  return self;
}

gboolean
sp_contact_list_is_watching (SpContactList *self)
{
  return self->directory != NULL;
}

SpContact *
sp_contact_list_find (SpContactList *self, const char *number)
{
  for (guint i = 0; i < self->contacts->len; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (g_strcmp0 (c->number, number) == 0)
        return c;
    }
  return NULL;
}

/* ---- RLMI (RFC 4662) ---- */

typedef struct
{
  GPtrArray *out;
  guint max;
  char *uri;
  GString *name;
  gboolean in_name;
} RlmiParse;

static const char *
local_name (const char *element)
{
  const char *colon = strrchr (element, ':');
  return colon ? colon + 1 : element;
}

static void
rlmi_start (GMarkupParseContext *context, const char *element, const char **names,
            const char **values, gpointer data, GError **error)
{
  RlmiParse *p = data;

  if (strcmp (local_name (element), "resource") == 0)
    {
      g_clear_pointer (&p->uri, g_free);
      g_string_truncate (p->name, 0);
      for (guint i = 0; names[i] != NULL; i++)
        if (strcmp (names[i], "uri") == 0)
          p->uri = g_strndup (values[i], 512);
    }
  else if (strcmp (local_name (element), "name") == 0 && p->uri != NULL)
    p->in_name = TRUE;
}

static void
rlmi_end (GMarkupParseContext *context, const char *element, gpointer data, GError **error)
{
  RlmiParse *p = data;

  if (strcmp (local_name (element), "name") == 0)
    p->in_name = FALSE;
  else if (strcmp (local_name (element), "resource") == 0 && p->uri != NULL &&
           p->out->len / 2 < p->max)
    {
      g_ptr_array_add (p->out, g_steal_pointer (&p->uri));
      g_ptr_array_add (p->out, g_strdup (p->name->str));
    }
}

static void
rlmi_text (GMarkupParseContext *context, const char *text, gsize len, gpointer data, GError **error)
{
  RlmiParse *p = data;

  if (p->in_name && p->name->len + len <= 256)
    g_string_append_len (p->name, text, len);
}

GPtrArray *
sp_contact_list_parse_rlmi (const char *body, gsize len, guint max)
{
  static const GMarkupParser parser = { rlmi_start, rlmi_end, rlmi_text, NULL, NULL };
  g_autofree char *text = g_strndup (body, MIN (len, SP_SIP_MAX_MESSAGE_SIZE));
  const char *start = strstr (text, "<list");
  const char *end = start ? g_strrstr (start, "</list>") : NULL;
  RlmiParse p = { 0 };
  GMarkupParseContext *context;
  gboolean ok;

  if (start == NULL || end == NULL)
    return NULL;
  p.out = g_ptr_array_new_with_free_func (g_free);
  p.max = max;
  p.name = g_string_new (NULL);
  context = g_markup_parse_context_new (&parser, 0, &p, NULL);
  ok = g_markup_parse_context_parse (context, start, end + strlen ("</list>") - start, NULL) &&
       g_markup_parse_context_end_parse (context, NULL);
  g_markup_parse_context_free (context);
  g_free (p.uri);
  g_string_free (p.name, TRUE);
  if (!ok)
    g_clear_pointer (&p.out, g_ptr_array_unref);
  return p.out;
}

/* ---- watching ---- */

static void
contact_notify (SpSubscriber *sub, const char *content_type, const char *body, gsize len,
                gpointer user_data)
{
  SpContact *c = user_data;
  SpContactList *self = g_object_get_data (G_OBJECT (c), "sp-list");
  SpContactState state;

  if (strcmp (content_type, PRESENCE_ACCEPT) != 0)
    return;
  state = sp_contact_state_from_pidf (body, len);
  if (state == c->state)
    return;
  c->state = state;
  g_object_notify_by_pspec (G_OBJECT (c), props[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (c), props[PROP_STATE_TEXT]);
  if (self != NULL)
    g_signal_emit (self, signals[SIGNAL_CONTACT_CHANGED], 0, c);
}

static void
contact_state_changed (SpSubscriber *sub, SpSubscriberState state, guint status, const char *reason,
                       gpointer user_data)
{
  SpContact *c = user_data;
  SpContactList *self = g_object_get_data (G_OBJECT (c), "sp-list");

  if (state == SP_SUBSCRIBER_ACTIVE || c->state == SP_CONTACT_STATE_UNKNOWN)
    return;
  /* Broken or refused: what we knew is no longer known. */
  c->state = SP_CONTACT_STATE_UNKNOWN;
  g_object_notify_by_pspec (G_OBJECT (c), props[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (c), props[PROP_STATE_TEXT]);
  if (self != NULL)
    g_signal_emit (self, signals[SIGNAL_CONTACT_CHANGED], 0, c);
}

static char *
target_for (SpContactList *self, const char *user)
{
  g_autofree char *u = g_uri_escape_string (user, "!*'()&=+$,;?/", FALSE);
  gboolean v6 = strchr (self->host, ':') != NULL;

  return g_strdup_printf ("sip:%s@%s%s%s:%u%s", u, v6 ? "[" : "", self->host, v6 ? "]" : "",
                          self->port, self->transport_param);
}

static SpContact *
contact_new (SpContactList *self, const char *name, const char *number)
{
  static const SpSubscriberFuncs funcs = { contact_notify, contact_state_changed };
  SpContact *c = g_object_new (SP_TYPE_CONTACT, NULL);
  g_autofree char *target = target_for (self, number);

  c->name = g_strdup (name);
  c->number = g_strdup (number);
  g_object_set_data (G_OBJECT (c), "sp-list", self);
  c->subscriber = sp_subscriber_new (self->stack, self->credentials, NULL, target, self->from,
                                     "presence", PRESENCE_ACCEPT, PRESENCE_EXPIRES, &funcs, c);
  sp_subscriber_start (c->subscriber);
  return c;
}

static gint
compare_contacts (gconstpointer a, gconstpointer b)
{
  SpContact *x = *(SpContact **) a, *y = *(SpContact **) b;
  gint r = g_utf8_collate (x->name, y->name);

  return r != 0 ? r : g_strcmp0 (x->number, y->number);
}

/* The directory: contacts that stay keep their subscription. */
static void
apply_directory (SpContactList *self, GPtrArray *pairs)
{
  g_autoptr (GPtrArray) next = g_ptr_array_new_with_free_func (g_object_unref);
  guint old_n = self->contacts->len;

  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      g_autoptr (SpSipUri) uri = sp_sip_uri_parse (g_ptr_array_index (pairs, i), -1, NULL);
      const char *name = g_ptr_array_index (pairs, i + 1);
      const char *number = uri ? sp_sip_uri_get_user (uri) : NULL;
      SpContact *c;

      if (number == NULL || *number == '\0' || g_strcmp0 (number, self->own_user) == 0 ||
          g_strcmp0 (name, self->own_user) == 0)
        continue;
      c = sp_contact_list_find (self, number);
      if (c != NULL && g_strcmp0 (c->name, *name ? name : number) == 0)
        g_ptr_array_add (next, g_object_ref (c));
      else
        g_ptr_array_add (next, contact_new (self, *name ? name : number, number));
    }
  g_ptr_array_sort (next, compare_contacts);
  /* Those gone unsubscribe. */
  for (guint i = 0; i < self->contacts->len; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (!g_ptr_array_find (next, c, NULL) && c->subscriber != NULL)
        sp_subscriber_stop (c->subscriber);
    }
  g_ptr_array_unref (self->contacts);
  self->contacts = g_steal_pointer (&next);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->contacts->len);
  g_signal_emit (self, signals[SIGNAL_DIRECTORY_CHANGED], 0);
}

static void
directory_notify (SpSubscriber *sub, const char *content_type, const char *body, gsize len,
                  gpointer user_data)
{
  SpContactList *self = user_data;
  g_autoptr (GPtrArray) pairs = NULL;

  if (!g_str_has_prefix (content_type, "multipart/related") &&
      strcmp (content_type, "application/rlmi+xml") != 0)
    return;
  pairs = sp_contact_list_parse_rlmi (body, len, MAX_CONTACTS);
  if (pairs == NULL)
    {
      g_message ("directory: the server's list did not parse");
      return;
    }
  apply_directory (self, pairs);
}

static void
directory_state_changed (SpSubscriber *sub, SpSubscriberState state, guint status,
                         const char *reason, gpointer user_data)
{
  SpContactList *self = user_data;

  if (state == SP_SUBSCRIBER_TERMINATED)
    g_message ("directory: refused (%u %s)", status, reason ? reason : "");
  if (state != SP_SUBSCRIBER_RETRYING)
    return;
  /* The server lost the list (a restart): it lost the others too. */
  for (guint i = 0; i < self->contacts->len; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (c->subscriber != NULL)
        sp_subscriber_restart (c->subscriber);
    }
}

void
sp_contact_list_watch (SpContactList *self, SpCredentials *credentials, const char *server_host,
                       guint16 port, const char *transport_param, const char *from,
                       const char *own_user)
{
  static const SpSubscriberFuncs funcs = { directory_notify, directory_state_changed };
  g_autofree char *target = NULL;

  sp_contact_list_stop (self);
  self->credentials = credentials ? sp_credentials_ref (credentials) : NULL;
  g_free (self->host);
  self->host = g_strdup (server_host);
  self->port = port ? port : 5060;
  g_free (self->transport_param);
  self->transport_param = g_strdup (transport_param ? transport_param : "");
  g_free (self->from);
  self->from = g_strdup (from);
  g_free (self->own_user);
  self->own_user = g_strdup (own_user);
  target = target_for (self, "directory");
  self->directory =
      sp_subscriber_new (self->stack, self->credentials, NULL, target, from, "presence",
                         DIRECTORY_ACCEPT, PRESENCE_EXPIRES, &funcs, self);
  sp_subscriber_add_header (self->directory, "Supported", "eventlist");
  sp_subscriber_start (self->directory);
}

void
sp_contact_list_registered (SpContactList *self)
{
  /* A registration (also its refresh) checks the directory's
   * subscription: a server that restarted answers 481, and everything is
   * subscribed again. One SUBSCRIBE per registration interval. */
  if (self->directory != NULL)
    sp_subscriber_refresh (self->directory);
  for (guint i = 0; i < self->contacts->len; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (c->subscriber != NULL &&
          sp_subscriber_get_state (c->subscriber) == SP_SUBSCRIBER_RETRYING)
        sp_subscriber_restart (c->subscriber);
    }
}

gboolean
sp_contact_list_handle_request (SpContactList *self, SpSipServerTransaction *st,
                                SpSipMessage *request, SpSipDialog *dialog)
{
  if (sp_sip_message_get_method_id (request) != SP_SIP_METHOD_NOTIFY || dialog == NULL)
    return FALSE;
  if (self->directory != NULL &&
      sp_subscriber_handle_request (self->directory, st, request, dialog))
    return TRUE;
  for (guint i = 0; i < self->contacts->len; i++)
    {
      SpContact *c = g_ptr_array_index (self->contacts, i);
      if (c->subscriber != NULL &&
          sp_subscriber_handle_request (c->subscriber, st, request, dialog))
        return TRUE;
    }
  return FALSE;
}
