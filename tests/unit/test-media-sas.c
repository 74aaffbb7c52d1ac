/* The short authentication string (media/sas.c). */
#include <glib.h>
#include <string.h>

#include "media/sas.h"

#define FP_A                                                                                       \
  "5A:1B:E4:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:20:"  \
  "30"
#define FP_B                                                                                       \
  "C0:FF:EE:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:20:"  \
  "30"

static void
test_order_independent (void)
{
  g_autofree char *ab = sp_sas_compute (FP_A, FP_B);
  g_autofree char *ba = sp_sas_compute (FP_B, FP_A);
  g_autofree char *lower = g_ascii_strdown (FP_B, -1);
  g_autofree char *ab_lower = sp_sas_compute (FP_A, lower);
  g_auto (GStrv) words = NULL;

  g_assert_nonnull (ab);
  g_assert_cmpstr (ab, ==, ba);
  g_assert_cmpstr (ab, ==, ab_lower);
  words = g_strsplit (ab, " ", -1);
  g_assert_cmpuint (g_strv_length (words), ==, 4);
  /* Even positions from the two-syllable list, odd from the other. */
  for (guint i = 0; i < 4; i++)
    {
      gboolean found = FALSE;
      for (guint b = 0; b < 256 && !found; b++)
        found = strcmp (words[i], sp_sas_word ((guint8) b, i)) == 0;
      g_assert_true (found);
    }
}

/* A changed byte in either fingerprint changes the words (checked for
 * every byte position of both: 64 changes, none may keep all four words;
 * a 32-bit SAS collides by chance once in 2^32). */
static void
test_changes (void)
{
  g_autofree char *base = sp_sas_compute (FP_A, FP_B);

  for (guint which = 0; which < 2; which++)
    for (guint i = 0; i < 32; i++)
      {
        g_autofree char *a = g_strdup (FP_A);
        g_autofree char *b = g_strdup (FP_B);
        char *fp = which ? b : a;
        g_autofree char *sas = NULL;
        fp[i * 3] = fp[i * 3] == '0' ? '1' : '0';
        sas = sp_sas_compute (a, b);
        g_assert_nonnull (sas);
        g_assert_cmpstr (sas, !=, base);
      }
}

/* Two phones A and B through a server that replaced both fingerprints
 * with its own M1 (to A) and M2 (to B): A computes (A, M1), B (B, M2). */
static void
test_man_in_the_middle (void)
{
  const char *m1 = "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:"
                   "1B:1C:1D:1E:1F:20";
  const char *m2 = "F1:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:"
                   "1B:1C:1D:1E:1F:20";
  g_autofree char *at_a = sp_sas_compute (FP_A, m1);
  g_autofree char *at_b = sp_sas_compute (m2, FP_B);

  g_assert_cmpstr (at_a, !=, at_b);
}

/* A published vector of the PGP word list: bytes E5 82 94 F2 read
 * "topmost Istanbul Pluto vagabond". */
static void
test_word_list (void)
{
  g_assert_cmpstr (sp_sas_word (0xE5, 0), ==, "topmost");
  g_assert_cmpstr (sp_sas_word (0x82, 1), ==, "Istanbul");
  g_assert_cmpstr (sp_sas_word (0x94, 2), ==, "Pluto");
  g_assert_cmpstr (sp_sas_word (0xF2, 3), ==, "vagabond");
  g_assert_cmpstr (sp_sas_word (0x00, 0), ==, "aardvark");
  g_assert_cmpstr (sp_sas_word (0xFF, 1), ==, "Yucatan");
}

static void
test_invalid (void)
{
  const char *bad[] = {
    NULL,
    "",
    "5A:1B",
    FP_A ":00",
    "5A:1B:E4:7C:9D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:23:45:67:89:AB:CD:EF:10:20:"
    "3G",
    FP_A ":",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (sp_sas_compute (bad[i], FP_B));
      g_assert_null (sp_sas_compute (FP_A, bad[i]));
    }
  /* Colons are optional. */
  {
    g_autofree char *plain = g_strdup (FP_A);
    g_autofree char *with = sp_sas_compute (FP_A, FP_B);
    g_autofree char *without = NULL;
    char *w = plain;
    for (const char *r = FP_A; *r; r++)
      if (*r != ':')
        *w++ = *r;
    *w = '\0';
    without = sp_sas_compute (plain, FP_B);
    g_assert_cmpstr (with, ==, without);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/sas/order-independent", test_order_independent);
  g_test_add_func ("/media/sas/changes", test_changes);
  g_test_add_func ("/media/sas/man-in-the-middle", test_man_in_the_middle);
  g_test_add_func ("/media/sas/word-list", test_word_list);
  g_test_add_func ("/media/sas/invalid", test_invalid);
  return g_test_run ();
}
