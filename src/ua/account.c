#include "ua/account.h"

#include <gio/gio.h>
#include <string.h>

#include "i18n.h"

#include "ua/hostport.h"

struct _SpAccount
{
  GObject parent_instance;

  char *id;
  char *name;
  char *username;
  char *password;
  char *server;
  char *display_name;
  SpAccountTransport transport;
  char *outbound_proxy;
  guint register_interval;
  gboolean enabled;
  char *realm;
  gboolean allow_md5_without_qop;
  guint ptime_ms; /* 0 = automatic */
  SpMediaEncryption media_encryption;

  SpAccountStatus status;
  char *status_reason;
};

G_DEFINE_TYPE (SpAccount, sp_account, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_PROTOCOL,
  PROP_NAME,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_SERVER,
  PROP_DISPLAY_NAME,
  PROP_TRANSPORT,
  PROP_OUTBOUND_PROXY,
  PROP_REGISTER_INTERVAL,
  PROP_ENABLED,
  PROP_REALM,
  PROP_ALLOW_MD5_WITHOUT_QOP,
  PROP_STATUS,
  PROP_STATUS_REASON,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

const char *
sp_account_transport_to_string (SpAccountTransport transport)
{
  return transport == SP_ACCOUNT_TRANSPORT_TLS   ? "tls"
         : transport == SP_ACCOUNT_TRANSPORT_TCP ? "tcp"
                                                 : "udp";
}

SpSipTransportKind
sp_account_transport_to_kind (SpAccountTransport transport)
{
  return transport == SP_ACCOUNT_TRANSPORT_TLS   ? SP_SIP_TRANSPORT_TLS
         : transport == SP_ACCOUNT_TRANSPORT_TCP ? SP_SIP_TRANSPORT_TCP
                                                 : SP_SIP_TRANSPORT_UDP;
}

const char *
sp_account_transport_uri_param (SpAccountTransport transport)
{
  return transport == SP_ACCOUNT_TRANSPORT_TLS   ? ";transport=tls"
         : transport == SP_ACCOUNT_TRANSPORT_TCP ? ";transport=tcp"
                                                 : "";
}

gboolean
sp_account_transport_from_string (const char *text, SpAccountTransport *transport, GError **error)
{
  if (text != NULL && g_ascii_strcasecmp (text, "udp") == 0)
    *transport = SP_ACCOUNT_TRANSPORT_UDP;
  else if (text != NULL && g_ascii_strcasecmp (text, "tcp") == 0)
    *transport = SP_ACCOUNT_TRANSPORT_TCP;
  else if (text != NULL && g_ascii_strcasecmp (text, "tls") == 0)
    *transport = SP_ACCOUNT_TRANSPORT_TLS;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Bad transport \"%s\": expected udp, tcp or tls"), text ? text : "");
      return FALSE;
    }
  return TRUE;
}

const char *
sp_account_status_to_string (SpAccountStatus status)
{
  /* Referenced once and kept: a static enum's class lives as long as
   * the process. */
  static GEnumClass *klass = NULL;
  GEnumValue *value;

  if (g_once_init_enter (&klass))
    g_once_init_leave (&klass, g_type_class_ref (SP_TYPE_ACCOUNT_STATUS));
  value = g_enum_get_value (klass, status);

  if (value != NULL)
    return value->value_nick;
  return "unknown";
}

static void
sp_account_finalize (GObject *object)
{
  SpAccount *self = SP_ACCOUNT (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->username);
  /* The password may sit in freed memory a while: wipe it first. */
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_free (self->server);
  g_free (self->display_name);
  g_free (self->outbound_proxy);
  g_free (self->realm);
  g_free (self->status_reason);

  G_OBJECT_CLASS (sp_account_parent_class)->finalize (object);
}

static void
sp_account_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SpAccount *self = SP_ACCOUNT (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_string (value, self->id);
        break;
      case PROP_PROTOCOL:
        g_value_set_string (value, sp_account_get_protocol (self));
        break;
      case PROP_NAME:
        g_value_set_string (value, self->name);
        break;
      case PROP_USERNAME:
        g_value_set_string (value, self->username);
        break;
      case PROP_PASSWORD:
        g_value_set_string (value, self->password);
        break;
      case PROP_SERVER:
        g_value_set_string (value, self->server);
        break;
      case PROP_DISPLAY_NAME:
        g_value_set_string (value, self->display_name);
        break;
      case PROP_TRANSPORT:
        g_value_set_enum (value, self->transport);
        break;
      case PROP_OUTBOUND_PROXY:
        g_value_set_string (value, self->outbound_proxy);
        break;
      case PROP_REGISTER_INTERVAL:
        g_value_set_uint (value, self->register_interval);
        break;
      case PROP_ENABLED:
        g_value_set_boolean (value, self->enabled);
        break;
      case PROP_REALM:
        g_value_set_string (value, self->realm);
        break;
      case PROP_ALLOW_MD5_WITHOUT_QOP:
        g_value_set_boolean (value, self->allow_md5_without_qop);
        break;
      case PROP_STATUS:
        g_value_set_enum (value, self->status);
        break;
      case PROP_STATUS_REASON:
        g_value_set_string (value, self->status_reason);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_account_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  SpAccount *self = SP_ACCOUNT (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_free (self->id);
        self->id = g_value_dup_string (value);
        break;
      case PROP_NAME:
        sp_account_set_name (self, g_value_get_string (value));
        break;
      case PROP_USERNAME:
        sp_account_set_username (self, g_value_get_string (value));
        break;
      case PROP_PASSWORD:
        sp_account_set_password (self, g_value_get_string (value));
        break;
      case PROP_SERVER:
        sp_account_set_server (self, g_value_get_string (value));
        break;
      case PROP_DISPLAY_NAME:
        sp_account_set_display_name (self, g_value_get_string (value));
        break;
      case PROP_TRANSPORT:
        sp_account_set_transport (self, g_value_get_enum (value));
        break;
      case PROP_OUTBOUND_PROXY:
        sp_account_set_outbound_proxy (self, g_value_get_string (value));
        break;
      case PROP_REGISTER_INTERVAL:
        sp_account_set_register_interval (self, g_value_get_uint (value));
        break;
      case PROP_ENABLED:
        sp_account_set_enabled (self, g_value_get_boolean (value));
        break;
      case PROP_REALM:
        sp_account_set_realm (self, g_value_get_string (value));
        break;
      case PROP_ALLOW_MD5_WITHOUT_QOP:
        sp_account_set_allow_md5_without_qop (self, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_account_class_init (SpAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sp_account_finalize;
  object_class->get_property = sp_account_get_property;
  object_class->set_property = sp_account_set_property;

  props[PROP_ID] = g_param_spec_string (
      "id", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_PROTOCOL] = g_param_spec_string ("protocol", NULL, NULL, "sip", ro);
  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, rw);
  props[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, rw);
  props[PROP_PASSWORD] = g_param_spec_string ("password", NULL, NULL, NULL, rw);
  props[PROP_SERVER] = g_param_spec_string ("server", NULL, NULL, NULL, rw);
  props[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, rw);
  props[PROP_TRANSPORT] = g_param_spec_enum ("transport", NULL, NULL, SP_TYPE_ACCOUNT_TRANSPORT,
                                             SP_ACCOUNT_TRANSPORT_UDP, rw);
  props[PROP_OUTBOUND_PROXY] = g_param_spec_string ("outbound-proxy", NULL, NULL, NULL, rw);
  props[PROP_REGISTER_INTERVAL] =
      g_param_spec_uint ("register-interval", NULL, NULL, SP_ACCOUNT_MIN_INTERVAL,
                         SP_ACCOUNT_MAX_INTERVAL, SP_ACCOUNT_DEFAULT_INTERVAL, rw);
  props[PROP_ENABLED] = g_param_spec_boolean ("enabled", NULL, NULL, TRUE, rw);
  props[PROP_REALM] = g_param_spec_string ("realm", NULL, NULL, NULL, rw);
  props[PROP_ALLOW_MD5_WITHOUT_QOP] =
      g_param_spec_boolean ("allow-md5-without-qop", NULL, NULL, FALSE, rw);
  props[PROP_STATUS] = g_param_spec_enum ("status", NULL, NULL, SP_TYPE_ACCOUNT_STATUS,
                                          SP_ACCOUNT_STATUS_UNREGISTERED, ro);
  props[PROP_STATUS_REASON] = g_param_spec_string ("status-reason", NULL, NULL, NULL, ro);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
sp_account_init (SpAccount *self)
{
  self->transport = SP_ACCOUNT_TRANSPORT_UDP;
  self->register_interval = SP_ACCOUNT_DEFAULT_INTERVAL;
  self->enabled = TRUE;
  self->status = SP_ACCOUNT_STATUS_UNREGISTERED;
}

SpAccount *
sp_account_new (const char *id)
{
  g_autofree char *generated = NULL;

  if (id == NULL || *id == '\0')
    {
      g_autofree char *uuid = g_uuid_string_random ();
      generated = g_strdup_printf ("account-%.8s", uuid);
      id = generated;
    }
  return g_object_new (SP_TYPE_ACCOUNT, "id", id, NULL);
}

/* Stores @value (NULL for "") and notifies when it changed. */
static void
set_string (SpAccount *self, char **field, const char *value, guint prop)
{
  if (value != NULL && *value == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

const char *
sp_account_get_id (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->id;
}

const char *
sp_account_get_protocol (SpAccount *self)
{
  return "sip";
}

const char *
sp_account_get_name (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->name;
}

void
sp_account_set_name (SpAccount *self, const char *name)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  set_string (self, &self->name, name, PROP_NAME);
}

const char *
sp_account_get_username (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->username;
}

void
sp_account_set_username (SpAccount *self, const char *username)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  set_string (self, &self->username, username, PROP_USERNAME);
}

const char *
sp_account_get_password (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->password;
}

void
sp_account_set_password (SpAccount *self, const char *password)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  if (g_strcmp0 (self->password, password) == 0)
    return;
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  self->password = g_strdup (password);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PASSWORD]);
}

const char *
sp_account_get_server (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->server;
}

void
sp_account_set_server (SpAccount *self, const char *server)
{
  g_autofree char *trimmed = server ? g_strstrip (g_strdup (server)) : NULL;

  g_return_if_fail (SP_IS_ACCOUNT (self));
  set_string (self, &self->server, trimmed, PROP_SERVER);
}

const char *
sp_account_get_display_name (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->display_name;
}

void
sp_account_set_display_name (SpAccount *self, const char *display_name)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  set_string (self, &self->display_name, display_name, PROP_DISPLAY_NAME);
}

SpAccountTransport
sp_account_get_transport (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), SP_ACCOUNT_TRANSPORT_UDP);
  return self->transport;
}

void
sp_account_set_transport (SpAccount *self, SpAccountTransport transport)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  if (self->transport == transport)
    return;
  self->transport = transport;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRANSPORT]);
}

const char *
sp_account_get_outbound_proxy (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->outbound_proxy;
}

void
sp_account_set_outbound_proxy (SpAccount *self, const char *proxy)
{
  g_autofree char *trimmed = proxy ? g_strstrip (g_strdup (proxy)) : NULL;

  g_return_if_fail (SP_IS_ACCOUNT (self));
  set_string (self, &self->outbound_proxy, trimmed, PROP_OUTBOUND_PROXY);
}

guint
sp_account_get_register_interval (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), SP_ACCOUNT_DEFAULT_INTERVAL);
  return self->register_interval;
}

void
sp_account_set_register_interval (SpAccount *self, guint seconds)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  seconds = CLAMP (seconds, SP_ACCOUNT_MIN_INTERVAL, SP_ACCOUNT_MAX_INTERVAL);
  if (self->register_interval == seconds)
    return;
  self->register_interval = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_REGISTER_INTERVAL]);
}

gboolean
sp_account_get_enabled (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), FALSE);
  return self->enabled;
}

void
sp_account_set_enabled (SpAccount *self, gboolean enabled)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  enabled = !!enabled;
  if (self->enabled == enabled)
    return;
  self->enabled = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ENABLED]);
}

const char *
sp_account_get_realm (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->realm;
}

void
sp_account_set_realm (SpAccount *self, const char *realm)
{
  g_autofree char *trimmed = realm ? g_strstrip (g_strdup (realm)) : NULL;

  g_return_if_fail (SP_IS_ACCOUNT (self));
  set_string (self, &self->realm, trimmed, PROP_REALM);
}

guint
sp_account_get_ptime (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), 0);
  return self->ptime_ms;
}

gboolean
sp_account_ptime_is_valid (guint ms)
{
  return ms == 0 || ms == 10 || ms == 20 || ms == 30 || ms == 40;
}

void
sp_account_set_ptime (SpAccount *self, guint ms)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  g_return_if_fail (sp_account_ptime_is_valid (ms));
  self->ptime_ms = ms;
}

SpMediaEncryption
sp_account_get_media_encryption (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), SP_MEDIA_ENCRYPTION_PREFERRED);
  return self->media_encryption;
}

void
sp_account_set_media_encryption (SpAccount *self, SpMediaEncryption encryption)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  self->media_encryption = encryption;
}

gboolean
sp_account_get_allow_md5_without_qop (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), FALSE);
  return self->allow_md5_without_qop;
}

void
sp_account_set_allow_md5_without_qop (SpAccount *self, gboolean allow)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));
  allow = !!allow;
  if (self->allow_md5_without_qop == allow)
    return;
  self->allow_md5_without_qop = allow;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ALLOW_MD5_WITHOUT_QOP]);
}

SpAccountStatus
sp_account_get_status (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), SP_ACCOUNT_STATUS_UNREGISTERED);
  return self->status;
}

const char *
sp_account_get_status_reason (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return self->status_reason;
}

void
sp_account_set_status (SpAccount *self, SpAccountStatus status, const char *reason)
{
  g_return_if_fail (SP_IS_ACCOUNT (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (self->status != status)
    {
      self->status = status;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATUS]);
    }
  set_string (self, &self->status_reason, reason, PROP_STATUS_REASON);
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
sp_account_get_server_host_port (SpAccount *self, char **host, guint16 *port)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), FALSE);
  return sp_host_port_parse (self->server, host, port, NULL);
}

static gboolean
check_address (const char *what, const char *text, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GError) local = NULL;
  guint16 port = 0;

  if (!sp_host_port_parse (text, &host, &port, &local))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   /* TRANSLATORS: a field name, then what is wrong with it */
                   _ ("%s: %s"), what, local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_account_check_fields (const char *server, const char *transport, const char *outbound_proxy,
                         guint register_interval, GError **error)
{
  SpAccountTransport t;

  if (server == NULL || *server == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _ ("Server: enter the server's address (host or host:port)"));
      return FALSE;
    }
  if (!check_address (_ ("Server"), server, error))
    return FALSE;
  if (transport != NULL && !sp_account_transport_from_string (transport, &t, error))
    return FALSE;
  if (outbound_proxy != NULL && *outbound_proxy != '\0' &&
      !check_address (_ ("Outbound proxy"), outbound_proxy, error))
    return FALSE;
  if (register_interval < SP_ACCOUNT_MIN_INTERVAL || register_interval > SP_ACCOUNT_MAX_INTERVAL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("Registration interval: %u s is out of range (%u to %u s)"),
                   register_interval, SP_ACCOUNT_MIN_INTERVAL, SP_ACCOUNT_MAX_INTERVAL);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_account_validate (SpAccount *self, GError **error)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), FALSE);
  return sp_account_check_fields (self->server, sp_account_transport_to_string (self->transport),
                                  self->outbound_proxy, self->register_interval, error);
}

gboolean
sp_account_has_credentials (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), FALSE);
  return self->username != NULL;
}

char *
sp_account_to_debug_string (SpAccount *self)
{
  g_return_val_if_fail (SP_IS_ACCOUNT (self), NULL);
  return g_strdup_printf (
      "%s \"%s\" <sip:%s%s%s> %s%s%s password=%s", self->id, self->name ? self->name : "",
      self->username ? self->username : "", self->username ? "@" : "",
      self->server ? self->server : "", sp_account_transport_to_string (self->transport),
      self->outbound_proxy ? " proxy=" : "", self->outbound_proxy ? self->outbound_proxy : "",
      self->password ? "***" : "(none)");
}
