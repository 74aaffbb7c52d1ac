/* The core's user-visible messages come out translated: LANGUAGE=zh_CN
 * with the build tree's .mo (the same domain the app binds), as the
 * window shows them: validation errors, SpCall's refusals, and end
 * reasons built from parts (no common codec, a name that does not
 * resolve) on a loopback phone. Skipped when no UTF-8 locale can be set,
 * since gettext ignores LANGUAGE in the plain C locale. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "server/userdb.h"
#include "ua/account.h"
#include "ua/call.h"
#include "ua/phone.h"
#include "ua/resolve.h"
#include "ua/target.h"

#define PHONE_ADDR "127.0.55.60"
#define PEER_ADDR  "127.0.55.61"

static gboolean have_zh;

static gboolean
skip_without_zh (void)
{
  if (!have_zh)
    g_test_skip ("no UTF-8 locale to follow LANGUAGE=zh_CN (see locale -a), or no built .mo");
  return !have_zh;
}

static void
test_target_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpTarget) target = NULL;

  if (skip_without_zh ())
    return;
  target = sp_target_parse ("   ", NULL, &error);
  g_assert_null (target);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "请输入要呼叫的号码、SIP 地址或 IP 地址");

  g_clear_error (&error);
  target = sp_target_parse ("mailto:a@b", NULL, &error);
  g_assert_null (target);
  g_assert_cmpstr (error->message, ==, "无法呼叫“mailto:a@b”：只支持 sip:、sips: 和 tel: 地址");
}

/* A field name and the host:port error, both translated, joined by a
 * translated "%s: %s". */
static void
test_account_error (void)
{
  g_autoptr (GError) error = NULL;

  if (skip_without_zh ())
    return;
  g_assert_false (sp_account_check_fields ("pbx.example:99999", NULL, NULL,
                                           SP_ACCOUNT_DEFAULT_INTERVAL, &error));
  g_assert_cmpstr (error->message, ==, "服务器：端口“99999”无效：应为 1 到 65535 之间的数字");
}

/* Import warnings are translated ("第 N 行：") and still in line order,
 * though entries are warned about after the whole file was read. */
static void
test_userdb_import_warnings (void)
{
  const char *conf = "[general]\n"       /* line 1: section ignored */
                     "[alice]\n"         /* line 2: no password, warned last */
                     "[bob]\n"           /* line 3 */
                     "password=secret\n" /* line 4 */
                     "colour=blue\n"     /* line 5: unknown key */
                     "garbage\n";        /* line 6: not key=value */
  g_autoptr (SpUserDb) db = sp_user_db_new ("example");
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;
  guint added = 0;

  if (skip_without_zh ())
    return;
  g_assert_true (sp_user_db_import_regfile (db, conf, -1, &added, &warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (added, ==, 1);
  g_assert_cmpuint (warnings->len, ==, 4);
  g_assert_cmpstr (warnings->pdata[0], ==, "第 1 行：已忽略节 [general]（Yate 模块设置）");
  g_assert_cmpstr (warnings->pdata[1], ==,
                   "第 2 行：用户 alice 没有密码，已跳过（Yate 允许这类用户不经认证注册）");
  g_assert_cmpstr (warnings->pdata[2], ==, "第 5 行：已忽略用户 bob 的未知键“colour”");
  g_assert_cmpstr (warnings->pdata[3], ==, "第 6 行：不是 [节] 或 键=值 行，已忽略");
}

/* End reasons stay English in the core (events and history carry them);
 * the catalogue still has their translation for the window. */
static void
test_end_reason_catalogue (void)
{
  if (skip_without_zh ())
    return;
  g_assert_cmpstr (g_dgettext (GETTEXT_PACKAGE, "User hangup"), ==, "本方挂断");
  g_assert_cmpstr (g_dgettext (GETTEXT_PACKAGE, "No answer (timeout)"), ==, "无应答（超时）");
}

/* ---- calls on a loopback phone ------------------------------------------ */

typedef struct
{
  char *dir;
  SpPhone *phone;
  guint16 port;
  SpCall *incoming;
} Phone;

static void
on_incoming_call (SpPhone *phone, SpCall *call, gpointer data)
{
  Phone *p = data;

  g_set_object (&p->incoming, call);
}

static void
phone_start (Phone *p)
{
  g_autoptr (GError) error = NULL;
  const char *host = NULL;

  p->dir = g_dir_make_tmp ("sp-test-i18n-XXXXXX", NULL);
  g_assert_nonnull (p->dir);
  p->phone = sp_phone_new (p->dir, p->dir);
  g_object_set (p->phone, "media-timeout", 0u, NULL);
  g_assert_true (sp_phone_start (p->phone, PHONE_ADDR, 0, &error));
  g_assert_no_error (error);
  g_assert_true (sp_phone_get_local_address (p->phone, &host, &p->port));
  g_signal_connect (p->phone, "incoming-call", G_CALLBACK (on_incoming_call), p);
}

static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
}

static void
phone_stop (Phone *p)
{
  g_autoptr (GDir) d = NULL;
  const char *name;

  g_clear_object (&p->incoming);
  g_clear_object (&p->phone);
  run_for (50);
  d = g_dir_open (p->dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (p->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (p->dir);
  g_free (p->dir);
}

static gboolean
wait_ended (SpCall *call, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (sp_call_get_state (call) != SP_CALL_STATE_ENDED && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return sp_call_get_state (call) == SP_CALL_STATE_ENDED;
}

/* SpCall's refusals are whole translated sentences, one per action. */
static void
test_call_check_state (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpCall) call = NULL;
  Phone p = { 0 };
  g_autofree char *expected = NULL;

  if (skip_without_zh ())
    return;
  phone_start (&p);
  /* Nobody listens there: the call stays "calling". */
  call = sp_phone_call (p.phone, "sip:bob@" PEER_ADDR, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (call);
  g_object_ref (call);
  g_assert_false (sp_call_hold (call, &error));
  expected = g_strdup_printf ("无法保持呼叫 %s：该呼叫尚未接通", sp_call_get_id (call));
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_assert_false (sp_call_send_dtmf (call, "1", &error));
  g_free (expected);
  expected = g_strdup_printf ("无法在呼叫 %s 中发送 DTMF：该呼叫尚未接通", sp_call_get_id (call));
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  /* The phone goes first: it ends the live call, released after it. */
  phone_stop (&p);
  g_assert_cmpint (sp_call_get_state (call), ==, SP_CALL_STATE_ENDED);
  g_assert_cmpstr (sp_call_get_end_reason_text (call), ==, "电话已关闭");
}

/* An offer with only GSM: the 488's Warning to the caller stays English
 * (protocol text), the end reason for events too; the window's text is
 * the whole sentence in Chinese with the same codec lists. */
static void
test_no_common_codec (void)
{
  const char *sdp = "v=0\r\no=peer 1 1 IN IP4 " PEER_ADDR "\r\ns=-\r\n"
                    "c=IN IP4 " PEER_ADDR "\r\nt=0 0\r\n"
                    "m=audio 40000 RTP/AVP 3\r\na=rtpmap:3 GSM/8000\r\n";
  const char *prefix = "No common codec: we offer ", *suffix = ", they offer GSM";
  g_autoptr (GSocketAddress) local = g_inet_socket_address_new_from_string (PEER_ADDR, 0);
  g_autoptr (GSocketAddress) to = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *ours = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *warning = NULL;
  g_autoptr (GError) error = NULL;
  const char *reason;
  guint16 peer_port;
  char buf[4096];
  gint64 end;
  Phone p = { 0 };

  if (skip_without_zh ())
    return;
  phone_start (&p);
  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_assert_nonnull (sock);
  g_assert_true (g_socket_bind (sock, local, FALSE, NULL));
  g_socket_set_blocking (sock, FALSE);
  g_clear_object (&local);
  local = g_socket_get_local_address (sock, NULL);
  peer_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  to = g_inet_socket_address_new_from_string (PHONE_ADDR, p.port);
  invite = g_strdup_printf ("INVITE sip:u@" PHONE_ADDR ":%u SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP " PEER_ADDR ":%u;branch=z9hG4bKi18n1\r\n"
                            "From: <sip:peer@" PEER_ADDR ">;tag=pt\r\n"
                            "To: <sip:u@" PHONE_ADDR ">\r\n"
                            "Call-ID: i18n-codec@" PEER_ADDR "\r\nCSeq: 1 INVITE\r\n"
                            "Contact: <sip:peer@" PEER_ADDR ":%u>\r\nMax-Forwards: 70\r\n"
                            "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
                            p.port, peer_port, peer_port, strlen (sdp), sdp);
  g_assert_cmpint (g_socket_send_to (sock, to, invite, strlen (invite), NULL, NULL), ==,
                   (gssize) strlen (invite));

  /* The phone's 488, with its Warning. */
  end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (warning == NULL && g_get_monotonic_time () < end)
    {
      gssize n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, NULL);
      if (n > 0)
        {
          buf[n] = '\0';
          if (g_str_has_prefix (buf, "SIP/2.0 488"))
            warning = g_strdup (strstr (buf, "\r\nWarning: "));
          continue;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  g_assert_nonnull (warning);
  g_assert_nonnull (strstr (warning, "399 softphone \"No common codec: we offer "));

  g_assert_nonnull (p.incoming);
  g_assert_true (wait_ended (p.incoming, 1000));
  g_assert_cmpuint (sp_call_get_end_code (p.incoming), ==, 488);
  reason = sp_call_get_end_reason (p.incoming);
  g_assert_true (g_str_has_prefix (reason, prefix));
  g_assert_true (g_str_has_suffix (reason, suffix));
  ours = g_strndup (reason + strlen (prefix), strlen (reason) - strlen (prefix) - strlen (suffix));
  g_assert_nonnull (strstr (ours, "PCMU"));
  expected = g_strdup_printf ("没有双方都支持的编解码器：本方提供 %s，对方提供 GSM", ours);
  g_assert_cmpstr (sp_call_get_end_reason_text (p.incoming), ==, expected);

  /* An ended call refuses the hang-up in a sentence of its own. */
  g_assert_false (sp_call_hangup (p.incoming, &error));
  g_free (expected);
  expected = g_strdup_printf ("无法挂断呼叫 %s：该呼叫已经结束", sp_call_get_id (p.incoming));
  g_assert_cmpstr (error->message, ==, expected);
  phone_stop (&p);
}

typedef struct
{
  gboolean done;
  GError *error;
} Resolved;

static void
on_resolved (GObject *source, GAsyncResult *result, gpointer data)
{
  Resolved *r = data;
  SpSipPeer peer;

  sp_ua_resolve_peer_finish (result, &peer, &r->error);
  r->done = TRUE;
}

/* A name the resolver cannot take (longer than an SpSipPeer holds):
 * the lookup's error, and a call to it ends with that reason, both in
 * Chinese. */
static void
test_resolve_failure (void)
{
  g_autofree char *host = g_strnfill (60, 'a');
  g_autofree char *target = g_strdup_printf ("sip:bob@%s", host);
  g_autofree char *expected = g_strdup_printf ("无法解析“%s”：不是主机名", host);
  g_autoptr (GError) error = NULL;
  g_autoptr (SpCall) call = NULL;
  Resolved r = { 0 };
  gint64 end;
  Phone p = { 0 };

  if (skip_without_zh ())
    return;
  sp_ua_resolve_peer_async (host, 0, SP_SIP_TRANSPORT_UDP, G_SOCKET_FAMILY_INVALID, NULL,
                            on_resolved, &r);
  end = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (!r.done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (r.done);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (r.error->message, ==, expected);
  g_clear_error (&r.error);

  phone_start (&p);
  call = sp_phone_call (p.phone, target, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (call);
  g_object_ref (call);
  g_assert_true (wait_ended (call, 3000));
  g_assert_cmpstr (sp_call_get_end_reason_text (call), ==, expected);
  g_clear_object (&call);
  phone_stop (&p);
}

int
main (int argc, char **argv)
{
  g_autofree char *mo =
      g_build_filename (SP_BUILD_PO_DIR, "zh_CN", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);

  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  have_zh = (setlocale (LC_ALL, "C.UTF-8") != NULL || setlocale (LC_ALL, "zh_CN.UTF-8") != NULL) &&
            g_file_test (mo, G_FILE_TEST_IS_REGULAR);
  bindtextdomain (GETTEXT_PACKAGE, SP_BUILD_PO_DIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/i18n/target-error", test_target_error);
  g_test_add_func ("/i18n/account-error", test_account_error);
  g_test_add_func ("/i18n/userdb-import-warnings", test_userdb_import_warnings);
  g_test_add_func ("/i18n/end-reason-catalogue", test_end_reason_catalogue);
  g_test_add_func ("/i18n/call-check-state", test_call_check_state);
  g_test_add_func ("/i18n/no-common-codec", test_no_common_codec);
  g_test_add_func ("/i18n/resolve-failure", test_resolve_failure);
  return g_test_run ();
}
