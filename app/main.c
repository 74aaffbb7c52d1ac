/* softphone: the single binary. For now it answers --version and --help;
 * the window and the headless runner land with their issues. */
#include "config.h"

#include <glib.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "application.h"
#include "fdlimit.h"
#include "headless.h"
#include "node/node.h"
#include "version.h"

int
main (int argc, char **argv)
{
  gboolean show_version = FALSE;
  gboolean background = FALSE;
  SpHeadlessOptions headless;
  /* --bind and --config-dir are the node's (node.h): the window and the
   * headless runner take them alike. */
  const GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &show_version, N_ ("Print the version and exit"),
      NULL },
    { "background", 0, 0, G_OPTION_ARG_NONE, &background,
      N_ ("Start without a window (at login): the phone and the server run, an incoming call "
          "notifies, and starting Softphone again shows the window"),
      NULL },
    { "bind", 0, 0, G_OPTION_ARG_STRING, &headless.bind,
      N_ ("SIP address for UDP and TCP (default 0.0.0.0:5060; port 0 picks one)"),
      N_ ("ADDR[:PORT]") },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &headless.config_dir,
      N_ ("Settings and state directory (two windows with two directories run side by side)"),
      N_ ("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  /* Logs go to stderr, in both front ends: the headless runner's stdout
   * carries nothing but events. First, before anything logs or makes a
   * thread (GLib's condition for switching). */
  g_log_writer_default_set_use_stderr (TRUE);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (_ ("[URI] - SIP softphone and small SIP server"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  sp_headless_options_init (&headless);
  /* Both front ends: a call, and the server's calls, hold descriptors. */
  sp_fd_limit_raise ();
  g_option_context_add_group (context, sp_headless_option_group (&headless));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("softphone: %s\n", error->message);
      g_printerr (_ ("Run 'softphone --help' to see the options.\n"));
      sp_headless_options_clear (&headless);
      return 2;
    }
  if (show_version)
    {
      printf ("softphone %s\n", sp_version ());
      sp_headless_options_clear (&headless);
      return 0;
    }
  if (headless.headless)
    {
      if (argc > 1)
        {
          g_printerr ("softphone: unexpected argument \"%s\"\n", argv[1]);
          sp_headless_options_clear (&headless);
          return 2;
        }
      status = sp_headless_run (&headless);
      sp_headless_options_clear (&headless);
      return status;
    }
  /* The window does not quietly drop what only the headless runner does. */
  if (sp_headless_options_first_given (&headless) != NULL)
    {
      g_printerr (_ ("softphone: %s needs --headless\n"),
                  sp_headless_options_first_given (&headless));
      sp_headless_options_clear (&headless);
      return 2;
    }
  /* The window takes --bind and --config-dir as the headless runner does
   * (two windows side by side on one machine); a bad address is said
   * here, before any window. */
  if (headless.bind != NULL)
    {
      g_autofree char *host = NULL;
      guint16 port = 0;

      if (!sp_node_parse_bind (headless.bind, &host, &port, &error))
        {
          g_printerr ("softphone: %s\n", error->message);
          sp_headless_options_clear (&headless);
          return 2;
        }
    }
  /* The GTK window; remaining arguments (sip:/tel: URIs) dial in it. */
  status = sp_application_run (argc, argv, background, headless.bind, headless.config_dir);
  sp_headless_options_clear (&headless);
  return status;
}
