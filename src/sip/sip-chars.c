#include "sip/sip-private.h"

#include <string.h>

/* Generated from the RFC 3261 section 25 character sets; see the bit
 * meanings in sip-private.h. */
const guint8 sp_sip_char_class[256] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x7f, 0x40, 0x00, 0x3c, 0x41, 0x1c, 0x7f, 0x7e, 0x7e, 0x7f, 0x7d, 0x0c, 0xff, 0xff, 0x74,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x70, 0x04, 0x40, 0x0c, 0x40, 0x64,
  0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x70, 0x40, 0x70, 0x00, 0x7f,
  0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x40, 0x00, 0x40, 0x7f, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

char *
sp_sip_dup_bytes (const char *p, gsize len)
{
  char *s = g_malloc (len + 1);

  if (len > 0)
    memcpy (s, p, len);
  s[len] = '\0';
  return s;
}

const char *
sp_sip_uint_to_text (char buf[SP_SIP_UINT_BUF], guint64 value)
{
  char *p = buf + SP_SIP_UINT_BUF - 1;

  *p = '\0';
  do
    {
      *--p = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value > 0);
  return p;
}

void
sp_sip_append_uint (GString *out, guint64 value)
{
  char buf[SP_SIP_UINT_BUF];

  g_string_append (out, sp_sip_uint_to_text (buf, value));
}

const char *
sp_sip_scan_escaped (const char *p, const char *end, guint8 cls)
{
  while (p < end)
    {
      if (sp_sip_is (*p, cls))
        p++;
      else if (*p == '%' && sp_sip_escape_len (p, end))
        p += 3;
      else
        break;
    }
  return p;
}

char *
sp_sip_unescape (const char *p, gsize len, gsize *out_len)
{
  char *out = g_malloc (len + 1);
  gsize n = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (p[i] == '%' && i + 2 < len && g_ascii_isxdigit (p[i + 1]) && g_ascii_isxdigit (p[i + 2]))
        {
          out[n++] =
              (char) ((g_ascii_xdigit_value (p[i + 1]) << 4) | g_ascii_xdigit_value (p[i + 2]));
          i += 2;
        }
      else
        out[n++] = p[i];
    }
  out[n] = '\0';
  if (out_len)
    *out_len = n;
  return out;
}

SpSipParam *
sp_sip_param_new (const char *name, gsize name_len, const char *value, gssize value_len)
{
  gsize vlen = value ? (gsize) value_len : 0;
  SpSipParam *param = g_malloc (sizeof (SpSipParam) + name_len + 1 + (value ? vlen + 1 : 0));
  char *buf = (char *) (param + 1);

  param->name = buf;
  memcpy (buf, name, name_len);
  buf[name_len] = '\0';
  if (value)
    {
      param->value = buf + name_len + 1;
      if (vlen > 0)
        memcpy (param->value, value, vlen);
      param->value[vlen] = '\0';
    }
  else
    param->value = NULL;
  return param;
}

SpSipParam *
sp_sip_param_copy (const SpSipParam *param)
{
  return sp_sip_param_new (param->name, strlen (param->name), param->value,
                           param->value ? (gssize) strlen (param->value) : -1);
}

GPtrArray *
sp_sip_params_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

GPtrArray *
sp_sip_params_copy (const GPtrArray *params)
{
  GPtrArray *copy = sp_sip_params_new ();

  for (guint i = 0; params && i < params->len; i++)
    g_ptr_array_add (copy, sp_sip_param_copy (g_ptr_array_index (params, i)));
  return copy;
}

gint
sp_sip_params_find (const GPtrArray *params, const char *name)
{
  for (guint i = 0; params && i < params->len; i++)
    {
      const SpSipParam *param = g_ptr_array_index (params, i);

      if (g_ascii_strcasecmp (param->name, name) == 0)
        return (gint) i;
    }
  return -1;
}

void
sp_sip_params_set (GPtrArray *params, const char *name, const char *value)
{
  gint i = sp_sip_params_find (params, name);
  SpSipParam *param =
      sp_sip_param_new (name, strlen (name), value, value ? (gssize) strlen (value) : -1);

  if (i < 0)
    g_ptr_array_add (params, param);
  else
    {
      g_free (g_ptr_array_index (params, i));
      g_ptr_array_index (params, i) = param;
    }
}

void
sp_sip_params_append_to (const GPtrArray *params, GString *out)
{
  for (guint i = 0; params && i < params->len; i++)
    {
      const SpSipParam *param = g_ptr_array_index (params, i);

      g_string_append_c (out, ';');
      g_string_append (out, param->name);
      if (param->value)
        {
          g_string_append_c (out, '=');
          g_string_append (out, param->value);
        }
    }
}

gboolean
sp_sip_parse_uint (const char *p, const char *end, guint64 max, guint64 *out)
{
  guint64 v = 0;

  if (p >= end)
    return FALSE;
  for (; p < end; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      v = v * 10 + (guint64) (*p - '0');
      if (v > max)
        return FALSE;
    }
  *out = v;
  return TRUE;
}
