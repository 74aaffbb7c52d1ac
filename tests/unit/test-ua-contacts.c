/* The watcher's parsers (ua/contacts.c) and the publisher's PIDF
 * (ua/presence-publisher.c): what our server sends, what baresip and
 * others send, and what must not parse. */
#include <glib.h>
#include <string.h>

#include "ua/contacts.h"
#include "ua/presence-publisher.h"

static void
test_pidf_states (void)
{
  static const struct
  {
    const char *body;
    SpContactState state;
  } cases[] = {
    { "<presence><tuple id=\"t\"><status><basic>closed</basic></status></tuple></presence>",
      SP_CONTACT_STATE_OFFLINE },
    { "<presence><tuple><status><basic>open</basic></status></tuple>"
      "<dm:person><rpid:activities><rpid:other>ringing</rpid:other></rpid:activities>"
      "</dm:person></presence>",
      SP_CONTACT_STATE_RINGING },
    { "<presence><tuple><status><basic>open</basic></status></tuple>"
      "<rpid:activities><rpid:on-the-phone/></rpid:activities></presence>",
      SP_CONTACT_STATE_IN_CALL },
    { "<presence><tuple><status><basic>open</basic></status></tuple>"
      "<rpid:activities><rpid:busy/></rpid:activities></presence>",
      SP_CONTACT_STATE_DND },
    { "<presence><tuple><status><basic>open</basic></status></tuple></presence>",
      SP_CONTACT_STATE_AVAILABLE },
    { "", SP_CONTACT_STATE_UNKNOWN },
    { "<presence><tuple><status><basic>op", SP_CONTACT_STATE_UNKNOWN },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (sp_contact_state_from_pidf (cases[i].body, strlen (cases[i].body)), ==,
                     cases[i].state);
}

/* What we publish for do-not-disturb reads back as dnd, and off as
 * available; the entity is escaped. */
static void
test_published_pidf (void)
{
  g_autofree char *on = sp_presence_publisher_pidf ("sip:a\"<b>@h", TRUE);
  g_autofree char *off = sp_presence_publisher_pidf ("sip:a@h", FALSE);

  g_assert_cmpint (sp_contact_state_from_pidf (on, strlen (on)), ==, SP_CONTACT_STATE_DND);
  g_assert_cmpint (sp_contact_state_from_pidf (off, strlen (off)), ==, SP_CONTACT_STATE_AVAILABLE);
  g_assert_nonnull (strstr (on, "entity=\"sip:a&quot;&lt;b&gt;@h\""));
}

static void
test_rlmi (void)
{
  const char *body =
      "--b\r\nContent-Type: application/rlmi+xml\r\n\r\n"
      "<?xml version=\"1.0\"?>\n<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:d@x\" "
      "version=\"0\" fullState=\"true\">\n"
      "<resource uri=\"sip:201@x\"><name>Ann &amp; Bo</name></resource>\n"
      "<resource uri=\"sip:bob@x\"></resource>\n"
      "<resource uri=\"sip:202@x\"><name>Cy</name><instance id=\"1\" "
      "state=\"active\"/></resource>\n"
      "</list>\r\n--b--\r\n";
  g_autoptr (GPtrArray) pairs = sp_contact_list_parse_rlmi (body, strlen (body), 100);
  g_autoptr (GPtrArray) capped = sp_contact_list_parse_rlmi (body, strlen (body), 2);

  g_assert_nonnull (pairs);
  g_assert_cmpuint (pairs->len, ==, 6);
  g_assert_cmpstr (g_ptr_array_index (pairs, 0), ==, "sip:201@x");
  g_assert_cmpstr (g_ptr_array_index (pairs, 1), ==, "Ann & Bo");
  g_assert_cmpstr (g_ptr_array_index (pairs, 2), ==, "sip:bob@x");
  g_assert_cmpstr (g_ptr_array_index (pairs, 3), ==, "");
  g_assert_cmpstr (g_ptr_array_index (pairs, 5), ==, "Cy");
  g_assert_cmpuint (capped->len, ==, 4);
}

static void
test_rlmi_bad (void)
{
  static const char *const bad[] = {
    "",
    "no list here",
    "<list><resource uri=\"sip:a@x\"><name>x</resource></list>",
    "<list><resource uri=\"sip:a@x\">",
    "<list>&bogus;</list>",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_null (sp_contact_list_parse_rlmi (bad[i], strlen (bad[i]), 100));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ua-contacts/pidf-states", test_pidf_states);
  g_test_add_func ("/ua-contacts/published-pidf", test_published_pidf);
  g_test_add_func ("/ua-contacts/rlmi", test_rlmi);
  g_test_add_func ("/ua-contacts/rlmi-bad", test_rlmi_bad);
  return g_test_run ();
}
