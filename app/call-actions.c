#define G_LOG_DOMAIN "softphone-app"

#include "config.h"

#include "call-actions.h"

#include <glib/gi18n.h>

typedef struct
{
  SpApplication *app; /* unowned: the application outlives its windows */
  SpCallActionsReportFunc report;
  gpointer user_data;
} CallActions;

typedef gboolean (*CallCommand) (CallActions *self, SpCall *call, GVariant *arg, GError **error);

/* The call named by the parameter's first member; NULL when it is gone
 * (a row's button pressed as its call ends, a script late). */
static SpCall *
find_call (CallActions *self, GVariant *param, GVariant **arg)
{
  const char *id = NULL;

  *arg = NULL;
  if (g_variant_is_of_type (param, G_VARIANT_TYPE_STRING))
    id = g_variant_get_string (param, NULL);
  else
    {
      g_variant_get_child (param, 0, "&s", &id);
      *arg = g_variant_get_child_value (param, 1);
    }
  return sp_phone_find_call (sp_application_get_phone (self->app), id);
}

static void
run (CallActions *self, GVariant *param, CallCommand command)
{
  g_autoptr (GVariant) arg = NULL;
  SpCall *call = find_call (self, param, &arg);
  g_autoptr (GError) error = NULL;

  if (call == NULL)
    return;
  if (!command (self, call, arg, &error) && error != NULL)
    self->report (error->message, self->user_data);
}

static gboolean
do_answer (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  return sp_phone_answer (sp_application_get_phone (self->app), call, error);
}

static gboolean
do_hangup (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  return sp_call_hangup (call, error);
}

static gboolean
do_hold (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  gboolean hold = g_variant_get_boolean (arg);
  gboolean held = sp_call_get_state (call) == SP_CALL_STATE_HELD;

  if (hold == held)
    return TRUE;
  return hold ? sp_call_hold (call, error) : sp_call_resume (call, error);
}

static gboolean
do_mute (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  sp_call_set_muted (call, g_variant_get_boolean (arg));
  return TRUE;
}

static gboolean
do_dtmf (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  return sp_call_send_dtmf (call, g_variant_get_string (arg, NULL), error);
}

static gboolean
do_transfer (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  g_autofree char *target = g_strstrip (g_variant_dup_string (arg, NULL));

  if (target[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _ ("Type the number or address to transfer the call to."));
      return FALSE;
    }
  return sp_call_transfer (call, target, error);
}

/* The users read DTLS-SRTP's four words to each other and they match. */
static gboolean
do_sas_match (CallActions *self, SpCall *call, GVariant *arg, GError **error)
{
  if (sp_call_confirm_sas (call))
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _ ("This call has no words to compare."));
  return FALSE;
}

static const struct
{
  const char *name;
  CallCommand command;
} commands[] = {
  { "call-answer", do_answer },       { "call-hangup", do_hangup },
  { "call-hold", do_hold },           { "call-mute", do_mute },
  { "call-dtmf", do_dtmf },           { "call-transfer", do_transfer },
  { "call-sas-match", do_sas_match },
};

static void
on_activate (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  const char *name = g_action_get_name (G_ACTION (action));

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      run (user_data, param, commands[i].command);
}

void
sp_call_actions_add (GActionMap *map, SpApplication *app, SpCallActionsReportFunc report,
                     gpointer user_data)
{
  static const GActionEntry entries[] = {
    { "call-answer", on_activate, "s" },    { "call-hangup", on_activate, "s" },
    { "call-hold", on_activate, "(sb)" },   { "call-mute", on_activate, "(sb)" },
    { "call-dtmf", on_activate, "(ss)" },   { "call-transfer", on_activate, "(ss)" },
    { "call-sas-match", on_activate, "s" },
  };
  CallActions *self = g_new0 (CallActions, 1);

  g_return_if_fail (G_IS_ACTION_MAP (map));
  self->app = app;
  self->report = report;
  self->user_data = user_data;
  /* The actions live as long as the map; so does this. */
  g_object_set_data_full (G_OBJECT (map), "sp-call-actions", self, g_free);
  g_action_map_add_action_entries (map, entries, G_N_ELEMENTS (entries), self);
}
