#include "media/sas.h"

#include <string.h>

#define FINGERPRINT_BYTES 32 /* SHA-256 */
#define SAS_WORDS         4
/* Versions the derivation: a later change of it must not silently give
 * other words for the same certificates to only one end. */
#define SAS_LABEL "softphone-dtls-sas-1"

/* The PGP word list, a published table (one word per byte value). */
static const char *const even_words[256] = {
  "aardvark",  "absurd",    "accrue",    "acme",      "adrift",    "adult",     "afflict",
  "ahead",     "aimless",   "Algol",     "allow",     "alone",     "ammo",      "ancient",
  "apple",     "artist",    "assume",    "Athens",    "atlas",     "Aztec",     "baboon",
  "backfield", "backward",  "banjo",     "beaming",   "bedlamp",   "beehive",   "beeswax",
  "befriend",  "Belfast",   "berserk",   "billiard",  "bison",     "blackjack", "blockade",
  "blowtorch", "bluebird",  "bombast",   "bookshelf", "brackish",  "breadline", "breakup",
  "brickyard", "briefcase", "Burbank",   "button",    "buzzard",   "cement",    "chairlift",
  "chatter",   "checkup",   "chisel",    "choking",   "chopper",   "Christmas", "clamshell",
  "classic",   "classroom", "cleanup",   "clockwork", "cobra",     "commence",  "concert",
  "cowbell",   "crackdown", "cranky",    "crowfoot",  "crucial",   "crumpled",  "crusade",
  "cubic",     "dashboard", "deadbolt",  "deckhand",  "dogsled",   "dragnet",   "drainage",
  "dreadful",  "drifter",   "dropper",   "drumbeat",  "drunken",   "Dupont",    "dwelling",
  "eating",    "edict",     "egghead",   "eightball", "endorse",   "endow",     "enlist",
  "erase",     "escape",    "exceed",    "eyeglass",  "eyetooth",  "facial",    "fallout",
  "flagpole",  "flatfoot",  "flytrap",   "fracture",  "framework", "freedom",   "frighten",
  "gazelle",   "Geiger",    "glitter",   "glucose",   "goggles",   "goldfish",  "gremlin",
  "guidance",  "hamlet",    "highchair", "hockey",    "indoors",   "indulge",   "inverse",
  "involve",   "island",    "jawbone",   "keyboard",  "kickoff",   "kiwi",      "klaxon",
  "locale",    "lockup",    "merit",     "minnow",    "miser",     "Mohawk",    "mural",
  "music",     "necklace",  "Neptune",   "newborn",   "nightbird", "Oakland",   "obtuse",
  "offload",   "optic",     "orca",      "payday",    "peachy",    "pheasant",  "physique",
  "playhouse", "Pluto",     "preclude",  "prefer",    "preshrunk", "printer",   "prowler",
  "pupil",     "puppy",     "python",    "quadrant",  "quiver",    "quota",     "ragtime",
  "ratchet",   "rebirth",   "reform",    "regain",    "reindeer",  "rematch",   "repay",
  "retouch",   "revenge",   "reward",    "rhythm",    "ribcage",   "ringbolt",  "robust",
  "rocker",    "ruffled",   "sailboat",  "sawdust",   "scallion",  "scenic",    "scorecard",
  "Scotland",  "seabird",   "select",    "sentence",  "shadow",    "shamrock",  "showgirl",
  "skullcap",  "skydive",   "slingshot", "slowdown",  "snapline",  "snapshot",  "snowcap",
  "snowslide", "solo",      "southward", "soybean",   "spaniel",   "spearhead", "spellbind",
  "spheroid",  "spigot",    "spindle",   "spyglass",  "stagehand", "stagnate",  "stairway",
  "standard",  "stapler",   "steamship", "sterling",  "stockman",  "stopwatch", "stormy",
  "sugar",     "surmount",  "suspense",  "sweatband", "swelter",   "tactics",   "talon",
  "tapeworm",  "tempest",   "tiger",     "tissue",    "tonic",     "topmost",   "tracker",
  "transit",   "trauma",    "treadmill", "Trojan",    "trouble",   "tumor",     "tunnel",
  "tycoon",    "uncut",     "unearth",   "unwind",    "uproot",    "upset",     "upshot",
  "vapor",     "village",   "virus",     "Vulcan",    "waffle",    "wallet",    "watchword",
  "wayside",   "willow",    "woodlark",  "Zulu",
};

static const char *const odd_words[256] = {
  "adroitness",  "adviser",     "aftermath",   "aggregate",   "alkali",     "almighty",
  "amulet",      "amusement",   "antenna",     "applicant",   "Apollo",     "armistice",
  "article",     "asteroid",    "Atlantic",    "atmosphere",  "autopsy",    "Babylon",
  "backwater",   "barbecue",    "belowground", "bifocals",    "bodyguard",  "bookseller",
  "borderline",  "bottomless",  "Bradbury",    "bravado",     "Brazilian",  "breakaway",
  "Burlington",  "businessman", "butterfat",   "Camelot",     "candidate",  "cannonball",
  "Capricorn",   "caravan",     "caretaker",   "celebrate",   "cellulose",  "certify",
  "chambermaid", "Cherokee",    "Chicago",     "clergyman",   "coherence",  "combustion",
  "commando",    "company",     "component",   "concurrent",  "confidence", "conformist",
  "congregate",  "consensus",   "consulting",  "corporate",   "corrosion",  "councilman",
  "crossover",   "crucifix",    "cumbersome",  "customer",    "Dakota",     "decadence",
  "December",    "decimal",     "designing",   "detector",    "detergent",  "determine",
  "dictator",    "dinosaur",    "direction",   "disable",     "disbelief",  "disruptive",
  "distortion",  "document",    "embezzle",    "enchanting",  "enrollment", "enterprise",
  "equation",    "equipment",   "escapade",    "Eskimo",      "everyday",   "examine",
  "existence",   "exodus",      "fascinate",   "filament",    "finicky",    "forever",
  "fortitude",   "frequency",   "gadgetry",    "Galveston",   "getaway",    "glossary",
  "gossamer",    "graduate",    "gravity",     "guitarist",   "hamburger",  "Hamilton",
  "handiwork",   "hazardous",   "headwaters",  "hemisphere",  "hesitate",   "hideaway",
  "holiness",    "hurricane",   "hydraulic",   "impartial",   "impetus",    "inception",
  "indigo",      "inertia",     "infancy",     "inferno",     "informant",  "insincere",
  "insurgent",   "integrate",   "intention",   "inventive",   "Istanbul",   "Jamaica",
  "Jupiter",     "leprosy",     "letterhead",  "liberty",     "maritime",   "matchmaker",
  "maverick",    "Medusa",      "megaton",     "microscope",  "microwave",  "midsummer",
  "millionaire", "miracle",     "misnomer",    "molasses",    "molecule",   "Montana",
  "monument",    "mosquito",    "narrative",   "nebula",      "newsletter", "Norwegian",
  "October",     "Ohio",        "onlooker",    "opulent",     "Orlando",    "outfielder",
  "Pacific",     "pandemic",    "Pandora",     "paperweight", "paragon",    "paragraph",
  "paramount",   "passenger",   "pedigree",    "Pegasus",     "penetrate",  "perceptive",
  "performance", "pharmacy",    "phonetic",    "photograph",  "pioneer",    "pocketful",
  "politeness",  "positive",    "potato",      "processor",   "provincial", "proximate",
  "puberty",     "publisher",   "pyramid",     "quantity",    "racketeer",  "rebellion",
  "recipe",      "recover",     "repellent",   "replica",     "reproduce",  "resistor",
  "responsive",  "retraction",  "retrieval",   "retrospect",  "revenue",    "revival",
  "revolver",    "sandalwood",  "sardonic",    "Saturday",    "savagery",   "scavenger",
  "sensation",   "sociable",    "souvenir",    "specialist",  "speculate",  "stethoscope",
  "stupendous",  "supportive",  "surrender",   "suspicious",  "sympathy",   "tambourine",
  "telephone",   "therapist",   "tobacco",     "tolerance",   "tomorrow",   "torpedo",
  "tradition",   "travesty",    "trombonist",  "truncated",   "typewriter", "ultimate",
  "undaunted",   "underfoot",   "unicorn",     "unify",       "universe",   "unravel",
  "upcoming",    "vacancy",     "vagabond",    "vertigo",     "Virginia",   "visitor",
  "vocalist",    "voyager",     "warranty",    "Waterloo",    "whimsical",  "Wichita",
  "Wilmington",  "Wyoming",     "yesteryear",  "Yucatan",
};

const char *
sp_sas_word (guint8 byte, guint position)
{
  return position % 2 == 0 ? even_words[byte] : odd_words[byte];
}

/* Hex pairs with optional colons, exactly FINGERPRINT_BYTES of them. The
 * text comes from the network (SDP): every character is checked. */
static gboolean
parse_fingerprint (const char *text, guint8 out[FINGERPRINT_BYTES])
{
  gsize n = 0;

  if (text == NULL)
    return FALSE;
  for (const char *p = text; *p != '\0';)
    {
      if (*p == ':' && n > 0 && p[1] != '\0')
        {
          p++;
          continue;
        }
      if (n == FINGERPRINT_BYTES || !g_ascii_isxdigit (p[0]) || !g_ascii_isxdigit (p[1]))
        return FALSE;
      out[n++] = (guint8) (g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      p += 2;
    }
  return n == FINGERPRINT_BYTES;
}

char *
sp_sas_compute (const char *fingerprint_a, const char *fingerprint_b)
{
  guint8 a[FINGERPRINT_BYTES], b[FINGERPRINT_BYTES];
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  const guint8 *first, *second;
  g_autoptr (GChecksum) sum = NULL;
  GString *words;

  if (!parse_fingerprint (fingerprint_a, a) || !parse_fingerprint (fingerprint_b, b))
    return NULL;
  first = memcmp (a, b, sizeof a) <= 0 ? a : b;
  second = first == a ? b : a;
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) SAS_LABEL, sizeof SAS_LABEL);
  g_checksum_update (sum, first, FINGERPRINT_BYTES);
  g_checksum_update (sum, second, FINGERPRINT_BYTES);
  g_checksum_get_digest (sum, digest, &digest_len);
  words = g_string_new (NULL);
  for (guint i = 0; i < SAS_WORDS; i++)
    {
      if (i > 0)
        g_string_append_c (words, ' ');
      g_string_append (words, sp_sas_word (digest[i], i));
    }
  return g_string_free (words, FALSE);
}
