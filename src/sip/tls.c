#include "sip/tls.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/stat.h>

#include "i18n.h"

#define CERT_SUFFIX   "-certificate.pem"
#define KEY_SUFFIX    "-key.pem"
#define VALIDITY_SECS ((time_t) 10 * 365 * 24 * 3600)
#define MAX_PEM       (64 * 1024) /* a certificate or key file larger than this is not ours */
/* GnuTLS's largest record; one send never asks for more. */
#define MAX_SEND 16384

struct _SpSipTlsIdentity
{
  gatomicrefcount ref_count;
  gnutls_certificate_credentials_t credentials;
  char *fingerprint;
  char *certificate_path;
};

struct _SpSipTlsSession
{
  gnutls_session_t session;
  gnutls_certificate_credentials_t own_credentials; /* a client's (empty) */
  SpSipTlsIdentity *identity;                       /* a server's */
  gsize retry_len; /* a send that would block: its length, repeated as is */
};

static gboolean
tls_fail (GError **error, int code, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what, gnutls_strerror (code));
  return FALSE;
}

static char *
fingerprint_of_der (const gnutls_datum_t *der)
{
  guint8 digest[32];
  GString *s = g_string_sized_new (96);

  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, der->data, der->size, digest) < 0)
    return NULL;
  for (guint i = 0; i < sizeof digest; i++)
    g_string_append_printf (s, "%s%02X", i ? ":" : "", digest[i]);
  return g_string_free (s, FALSE);
}

/* ---- identity ---- */

static gboolean
add_names (gnutls_x509_crt_t crt, const char *const *names, GError **error)
{
  int ret;

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (names[i]);
      if (addr != NULL)
        ret = gnutls_x509_crt_set_subject_alt_name (
            crt, GNUTLS_SAN_IPADDRESS, g_inet_address_to_bytes (addr),
            (unsigned) g_inet_address_get_native_size (addr), GNUTLS_FSAN_APPEND);
      else
        ret = gnutls_x509_crt_set_subject_alt_name (
            crt, GNUTLS_SAN_DNSNAME, names[i], (unsigned) strlen (names[i]), GNUTLS_FSAN_APPEND);
      if (ret < 0)
        return tls_fail (error, ret, _ ("certificate name"));
    }
  return TRUE;
}

static gboolean
make_self_signed (const char *const *names, char **cert_pem, char **key_pem, GError **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t cert_out = { 0 }, key_out = { 0 };
  guint8 serial[16];
  const char *cn = names != NULL && names[0] != NULL ? names[0] : "softphone";
  time_t now = time (NULL);
  gboolean ok = FALSE;
  int ret;

  if ((ret = gnutls_x509_privkey_init (&key)) < 0 ||
      (ret = gnutls_x509_privkey_generate (
           key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
      (ret = gnutls_x509_crt_init (&crt)) < 0)
    {
      tls_fail (error, ret, _ ("key generation"));
      goto out;
    }
  if ((ret = gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
    {
      tls_fail (error, ret, _ ("random serial"));
      goto out;
    }
  serial[0] &= 0x7f; /* a positive integer */
  if ((ret = gnutls_x509_crt_set_version (crt, 3)) < 0 ||
      (ret = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0 ||
      (ret = gnutls_x509_crt_set_activation_time (crt, now - 3600)) < 0 ||
      (ret = gnutls_x509_crt_set_expiration_time (crt, now + VALIDITY_SECS)) < 0 ||
      (ret = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                            (unsigned) strlen (cn))) < 0 ||
      (ret = gnutls_x509_crt_set_basic_constraints (crt, 0, -1)) < 0 ||
      (ret = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
      (ret = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
      (ret = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0 ||
      (ret = gnutls_x509_crt_set_key (crt, key)) < 0)
    {
      tls_fail (error, ret, _ ("certificate"));
      goto out;
    }
  if (!add_names (crt, names, error))
    goto out;
  if ((ret = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
      (ret = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &cert_out)) < 0 ||
      (ret = gnutls_x509_privkey_export2 (key, GNUTLS_X509_FMT_PEM, &key_out)) < 0)
    {
      tls_fail (error, ret, _ ("certificate signing"));
      goto out;
    }
  *cert_pem = g_strndup ((const char *) cert_out.data, cert_out.size);
  *key_pem = g_strndup ((const char *) key_out.data, key_out.size);
  ok = TRUE;
out:
  if (key_out.data)
    {
      memset (key_out.data, 0, key_out.size);
      gnutls_free (key_out.data);
    }
  gnutls_free (cert_out.data);
  if (crt)
    gnutls_x509_crt_deinit (crt);
  if (key)
    gnutls_x509_privkey_deinit (key);
  return ok;
}

static gboolean
read_pem (const char *path, char **contents, gsize *len, GError **error)
{
  GStatBuf st;

  if (g_stat (path, &st) == 0 && st.st_size > MAX_PEM)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("%s is too large"), path);
      return FALSE;
    }
  return g_file_get_contents (path, contents, len, error);
}

static SpSipTlsIdentity *
identity_from_pem (const char *cert_pem, gsize cert_len, const char *key_pem, gsize key_len,
                   const char *cert_path, GError **error)
{
  g_autoptr (SpSipTlsIdentity) id = g_new0 (SpSipTlsIdentity, 1);
  gnutls_datum_t cert = { (unsigned char *) cert_pem, (unsigned) cert_len };
  gnutls_datum_t key = { (unsigned char *) key_pem, (unsigned) key_len };
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t der = { 0 };
  int ret;

  g_atomic_ref_count_init (&id->ref_count);
  id->certificate_path = g_strdup (cert_path);
  if ((ret = gnutls_certificate_allocate_credentials (&id->credentials)) < 0 ||
      (ret = gnutls_certificate_set_x509_key_mem (id->credentials, &cert, &key,
                                                  GNUTLS_X509_FMT_PEM)) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("%s: %s"), cert_path,
                   gnutls_strerror (ret));
      return NULL;
    }
  if ((ret = gnutls_x509_crt_init (&crt)) < 0 ||
      (ret = gnutls_x509_crt_import (crt, &cert, GNUTLS_X509_FMT_PEM)) < 0 ||
      (ret = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der)) < 0)
    {
      if (crt)
        gnutls_x509_crt_deinit (crt);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _ ("%s: %s"), cert_path,
                   gnutls_strerror (ret));
      return NULL;
    }
  id->fingerprint = fingerprint_of_der (&der);
  gnutls_free (der.data);
  gnutls_x509_crt_deinit (crt);
  return g_steal_pointer (&id);
}

SpSipTlsIdentity *
sp_sip_tls_identity_load_or_create (const char *dir, const char *const *names, gboolean *created,
                                    GError **error)
{
  return sp_sip_tls_identity_load_or_create_named (dir, "tls", names, created, error);
}

SpSipTlsIdentity *
sp_sip_tls_identity_load_or_create_named (const char *dir, const char *prefix,
                                          const char *const *names, gboolean *created,
                                          GError **error)
{
  g_autofree char *cert_name = g_strconcat (prefix, CERT_SUFFIX, NULL);
  g_autofree char *key_name = g_strconcat (prefix, KEY_SUFFIX, NULL);
  g_autofree char *cert_path = g_build_filename (dir, cert_name, NULL);
  g_autofree char *key_path = g_build_filename (dir, key_name, NULL);
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  gsize cert_len = 0, key_len = 0;
  gboolean have_cert = g_file_test (cert_path, G_FILE_TEST_EXISTS);
  gboolean have_key = g_file_test (key_path, G_FILE_TEST_EXISTS);
  SpSipTlsIdentity *id;

  if (created)
    *created = FALSE;
  if (have_cert != have_key)
    {
      /* Never overwrite half of someone's pair. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("%s exists without %s: remove it to make a new certificate"),
                   have_cert ? cert_path : key_path, have_cert ? key_path : cert_path);
      return NULL;
    }
  if (have_cert)
    {
      if (!read_pem (cert_path, &cert_pem, &cert_len, error) ||
          !read_pem (key_path, &key_pem, &key_len, error))
        return NULL;
    }
  else
    {
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("%s: %s"), dir,
                       g_strerror (saved));
          return NULL;
        }
      if (!make_self_signed (names, &cert_pem, &key_pem, error))
        return NULL;
      cert_len = strlen (cert_pem);
      key_len = strlen (key_pem);
      if (!g_file_set_contents_full (key_path, key_pem, (gssize) key_len,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) ||
          !g_file_set_contents_full (cert_path, cert_pem, (gssize) cert_len,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
        return NULL;
      if (created)
        *created = TRUE;
    }
  id = identity_from_pem (cert_pem, cert_len, key_pem, key_len, cert_path, error);
  if (key_pem != NULL)
    memset (key_pem, 0, key_len);
  return id;
}

SpSipTlsIdentity *
sp_sip_tls_identity_new_ephemeral (const char *const *names, GError **error)
{
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  SpSipTlsIdentity *id;
  gsize key_len;

  if (!make_self_signed (names, &cert_pem, &key_pem, error))
    return NULL;
  key_len = strlen (key_pem);
  id = identity_from_pem (cert_pem, strlen (cert_pem), key_pem, key_len, "(in memory)", error);
  memset (key_pem, 0, key_len);
  return id;
}

gpointer
sp_sip_tls_identity_get_credentials (SpSipTlsIdentity *id)
{
  return id->credentials;
}

SpSipTlsIdentity *
sp_sip_tls_identity_ref (SpSipTlsIdentity *id)
{
  g_atomic_ref_count_inc (&id->ref_count);
  return id;
}

void
sp_sip_tls_identity_unref (SpSipTlsIdentity *id)
{
  if (id == NULL || !g_atomic_ref_count_dec (&id->ref_count))
    return;
  if (id->credentials)
    gnutls_certificate_free_credentials (id->credentials);
  g_free (id->fingerprint);
  g_free (id->certificate_path);
  g_free (id);
}

const char *
sp_sip_tls_identity_get_fingerprint (SpSipTlsIdentity *id)
{
  return id->fingerprint;
}

const char *
sp_sip_tls_identity_get_certificate_path (SpSipTlsIdentity *id)
{
  return id->certificate_path;
}

/* ---- session ---- */

SpSipTlsSession *
sp_sip_tls_session_new (int fd, gboolean server, SpSipTlsIdentity *identity,
                        const char *server_name, GError **error)
{
  SpSipTlsSession *s = g_new0 (SpSipTlsSession, 1);
  gnutls_certificate_credentials_t credentials;
  int ret;

  if (server && identity == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _ ("TLS listener without a certificate"));
      g_free (s);
      return NULL;
    }
  if ((ret = gnutls_init (&s->session, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK |
                                           GNUTLS_NO_SIGNAL)) < 0)
    {
      tls_fail (error, ret, "TLS");
      g_free (s);
      return NULL;
    }
  if (server)
    {
      s->identity = sp_sip_tls_identity_ref (identity);
      credentials = identity->credentials;
    }
  else
    {
      ret = gnutls_certificate_allocate_credentials (&s->own_credentials);
      credentials = s->own_credentials;
    }
  if (ret < 0 || (ret = gnutls_set_default_priority (s->session)) < 0 ||
      (ret = gnutls_credentials_set (s->session, GNUTLS_CRD_CERTIFICATE, credentials)) < 0)
    {
      tls_fail (error, ret, "TLS");
      sp_sip_tls_session_free (s);
      return NULL;
    }
  if (server)
    gnutls_certificate_server_set_request (s->session, GNUTLS_CERT_IGNORE);
  else if (server_name != NULL && !g_hostname_is_ip_address (server_name))
    gnutls_server_name_set (s->session, GNUTLS_NAME_DNS, server_name, strlen (server_name));
  gnutls_transport_set_int (s->session, fd);
  return s;
}

void
sp_sip_tls_session_free (SpSipTlsSession *s)
{
  if (s == NULL)
    return;
  if (s->session)
    {
      /* A close_notify if the socket takes it now; never waits. */
      gnutls_bye (s->session, GNUTLS_SHUT_WR);
      gnutls_deinit (s->session);
    }
  if (s->own_credentials)
    gnutls_certificate_free_credentials (s->own_credentials);
  sp_sip_tls_identity_unref (s->identity);
  g_free (s);
}

SpSipTlsStatus
sp_sip_tls_session_handshake (SpSipTlsSession *s, GError **error)
{
  int ret = gnutls_handshake (s->session);

  if (ret == GNUTLS_E_SUCCESS)
    return SP_SIP_TLS_DONE;
  if (!gnutls_error_is_fatal (ret))
    return SP_SIP_TLS_AGAIN;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, _ ("TLS handshake failed: %s"),
               gnutls_strerror (ret));
  return SP_SIP_TLS_FAILED;
}

gboolean
sp_sip_tls_session_wants_write (SpSipTlsSession *s)
{
  return gnutls_record_get_direction (s->session) == 1;
}

gssize
sp_sip_tls_session_recv (SpSipTlsSession *s, guint8 *buffer, gsize size, GError **error)
{
  ssize_t n = gnutls_record_recv (s->session, buffer, size);

  if (n >= 0)
    return n;
  if (n == GNUTLS_E_PREMATURE_TERMINATION)
    return 0; /* closed without close_notify: SIP frames itself */
  if (!gnutls_error_is_fatal ((int) n))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "would block");
      return -1;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "TLS: %s",
               gnutls_strerror ((int) n));
  return -1;
}

gssize
sp_sip_tls_session_send (SpSipTlsSession *s, const guint8 *data, gsize size, GError **error)
{
  gsize len = s->retry_len > 0 ? s->retry_len : MIN (size, MAX_SEND);
  ssize_t n;

  g_return_val_if_fail (len <= size, -1);
  n = gnutls_record_send (s->session, data, len);
  if (n >= 0)
    {
      s->retry_len = 0;
      return n;
    }
  if (!gnutls_error_is_fatal ((int) n))
    {
      s->retry_len = len;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "would block");
      return -1;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "TLS: %s",
               gnutls_strerror ((int) n));
  return -1;
}

gsize
sp_sip_tls_session_pending (SpSipTlsSession *s)
{
  return gnutls_record_check_pending (s->session);
}

char *
sp_sip_tls_session_dup_peer_fingerprint (SpSipTlsSession *s)
{
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers (s->session, &n);

  if (certs == NULL || n == 0)
    return NULL;
  return fingerprint_of_der (&certs[0]);
}

/* The system's CAs, read once: the file is large and never changes
 * while we run. Immutable after the first call. */
static gnutls_x509_trust_list_t
system_trust (void)
{
  static gsize once;
  static gnutls_x509_trust_list_t list;

  if (g_once_init_enter (&once))
    {
      gnutls_x509_trust_list_t l = NULL;
      if (gnutls_x509_trust_list_init (&l, 0) < 0 ||
          gnutls_x509_trust_list_add_system_trust (l, 0, 0) < 0)
        g_debug ("TLS: the system's CA list could not be read");
      list = l;
      g_once_init_leave (&once, 1);
    }
  return list;
}

gboolean
sp_sip_tls_session_peer_is_trusted (SpSipTlsSession *s, const char *host)
{
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers (s->session, &n);
  gnutls_x509_crt_t *chain;
  gnutls_typed_vdata_st data[2];
  unsigned n_data = 0;
  unsigned status = 1;
  unsigned imported = 0;
  guint8 raw[16];
  gnutls_x509_trust_list_t trust = system_trust ();

  if (certs == NULL || n == 0 || trust == NULL || host == NULL)
    return FALSE;
  n = MIN (n, 16u);
  chain = g_new0 (gnutls_x509_crt_t, n);
  for (; imported < n; imported++)
    if (gnutls_x509_crt_init (&chain[imported]) < 0 ||
        gnutls_x509_crt_import (chain[imported], &certs[imported], GNUTLS_X509_FMT_DER) < 0)
      {
        if (chain[imported])
          gnutls_x509_crt_deinit (chain[imported]);
        break;
      }
  if (imported == n)
    {
      if (g_hostname_is_ip_address (host))
        data[n_data].type = GNUTLS_DT_IP_ADDRESS;
      else
        data[n_data].type = GNUTLS_DT_DNS_HOSTNAME;
      data[n_data].data = (unsigned char *) host;
      data[n_data].size = 0;
      n_data++;
      data[n_data].type = GNUTLS_DT_KEY_PURPOSE_OID;
      data[n_data].data = (unsigned char *) GNUTLS_KP_TLS_WWW_SERVER;
      data[n_data].size = 0;
      n_data++;
      if (g_hostname_is_ip_address (host))
        {
          /* GnuTLS wants the address in binary for an IP check. */
          g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
          gsize size = g_inet_address_get_native_size (addr);
          memcpy (raw, g_inet_address_to_bytes (addr), size);
          data[0].data = raw;
          data[0].size = (unsigned) size;
        }
      if (gnutls_x509_trust_list_verify_crt2 (trust, chain, n, data, n_data, 0, &status, NULL) < 0)
        status = 1;
    }
  for (unsigned i = 0; i < imported; i++)
    gnutls_x509_crt_deinit (chain[i]);
  g_free (chain);
  return status == 0;
}
