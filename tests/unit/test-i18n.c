/* The core's user-visible messages come out translated: LANGUAGE=zh_CN
 * with the build tree's .mo (the same domain the app binds), as the
 * window shows them. Skipped when no UTF-8 locale can be set, since
 * gettext ignores LANGUAGE in the plain C locale. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <locale.h>

#include "server/userdb.h"
#include "ua/account.h"
#include "ua/call.h"
#include "ua/target.h"

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
  return g_test_run ();
}
