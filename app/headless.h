#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* `softphone --headless`: the phone with no window, driven by options and
 * by commands on standard input, reporting JSON events on standard
 * output, one object a line. The interface is documented in docs/headless.md
 * tests and scripts depend on it. */

typedef struct
{
  gboolean headless;
  char *bind; /* ADDR[:PORT] */
  char *config_dir;
  char *account; /* sip:USER[:PASSWORD]@HOST[:PORT] */
  char *call;    /* TARGET */
  gboolean auto_answer;
  gint auto_answer_delay; /* seconds */
  gint hangup_after;      /* seconds, -1 = never */
  char *audio_in;
  char *audio_out;
  gboolean exit_when_idle;
  gboolean log_sip;
  gboolean log_sip_raw; /* --log-sip with credentials left in */
  gint media_timeout;   /* seconds, -1 = the phone's default (30) */
  gint sip_t1;          /* ms, -1 = the phone's default (500); hidden, for tests */
  gint tls_port;        /* -1 = the SIP port + 1, 0 = no TLS listener */
  gint keepalive;       /* s, -1 = the phone's default (30); hidden, for tests */
  /* Hidden: keys sent as tones in the audio go unheard. */
  gboolean no_inband_dtmf;
  gboolean no_echo_cancellation;
  /* The server's (issue: mini-server); parsed here so one option table
   * documents the whole binary. */
  gboolean server;
  char *users;
  char *routes;
  char *http;
  gint ring_timeout; /* s, -1 = the phone's default (60) */
  gint ptime;        /* --ptime ms (10, 20, 30, 40); 0 = automatic; -1 = not given */
  gboolean refuse_strangers;
  /* --account-option KEY=VALUE, repeatable: realm=R,
   * allow-md5-without-qop=on|off, for --account. */
  char **account_options;
  char *media_encryption; /* --media-encryption (direct calls), or NULL */
  /* --server-option KEY=VALUE, repeatable (see headless.c). */
  char **server_options;
  /* LAN discovery (node/dnssd.h): --advertise[=NAME] lets computers on
   * the network find this phone (under NAME); --discover reports the
   * servers and phones found; --server-name names the server there;
   * --no-server-advertise keeps it off the LAN. */
  gboolean advertise;
  char *advertise_name;
  gboolean discover;
  char *server_name;
  gboolean no_server_advertise;
} SpHeadlessOptions;

void sp_headless_options_init (SpHeadlessOptions *opts);
void sp_headless_options_clear (SpHeadlessOptions *opts);

/* The first option given that only --headless takes ("--account"), for
 * the window to refuse it; NULL when none was. */
const char *sp_headless_options_first_given (const SpHeadlessOptions *opts);

/* The headless options, for main ()'s option context. */
GOptionGroup *sp_headless_option_group (SpHeadlessOptions *opts);

/* Runs until `quit`, a signal, or --exit-when-idle; returns the exit
 * status (0 on a clean exit, 2 with a message on stderr for bad options,
 * 1 when the phone cannot start). */
int sp_headless_run (SpHeadlessOptions *opts);

G_END_DECLS
