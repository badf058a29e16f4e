/* gst-dmaheap: runs gst-dmaheap-info and checks what it prints
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   test-gst-dmaheap-info [OPTION...] -- TOOL [ARG...]
 *
 *   --root DIR         run TOOL with GST_DMA_HEAP_INFO_ROOT=DIR (a fake
 *                      /dev/dma_heap and /sys below DIR)
 *   --exit N           expected exit status (default 0)
 *   --stdout-has S     the output must contain S (repeatable)
 *   --stderr-has S     the error output must contain S (repeatable)
 *   --json             the output must be JSON in the format of
 *                      gst-dmaheap-info --json
 *   --expect PATH=V    a value of that JSON (repeatable), see below
 *   --live             compare the output with this system's /dev/dma_heap
 *                      and /sys/kernel/mm/cma
 *
 * PATH is a dot-separated path of member names; `heaps[NAME]` picks the
 * element of array `heaps` whose "name" is NAME, `heaps#` is the length of
 * the array, and a member name applied to an array gives the values of all
 * its elements. A value is written as text: strings bare, null, true,
 * false, numbers in decimal, arrays joined with commas. `pages:N` stands
 * for N times the page size.
 *
 * A small JSON parser lives here so that the check runs where neither
 * python nor a JSON library is installed (the test guest).
 *
 * Exit status: 0 when every check passes, 1 otherwise.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

/* JSON values */

typedef enum
{
  JSON_NULL,
  JSON_BOOL,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT,
} JsonType;

typedef struct _JsonValue JsonValue;

struct _JsonValue
{
  JsonType type;
  gboolean boolean;
  gchar *text;                  /* string value, or a number as written */
  GPtrArray *items;             /* array items, or object values */
  GPtrArray *keys;              /* object keys, parallel to items */
};

static void
json_value_free (JsonValue * value)
{
  if (value == NULL)
    return;
  g_free (value->text);
  if (value->items)
    g_ptr_array_unref (value->items);
  if (value->keys)
    g_ptr_array_unref (value->keys);
  g_free (value);
}

static JsonValue *
json_value_new (JsonType type)
{
  JsonValue *value = g_new0 (JsonValue, 1);

  value->type = type;
  if (type == JSON_ARRAY || type == JSON_OBJECT)
    value->items = g_ptr_array_new_with_free_func ((GDestroyNotify)
        json_value_free);
  if (type == JSON_OBJECT)
    value->keys = g_ptr_array_new_with_free_func (g_free);

  return value;
}

static JsonValue *
json_get (const JsonValue * object, const gchar * key)
{
  guint i;

  if (object == NULL || object->type != JSON_OBJECT)
    return NULL;
  for (i = 0; i < object->keys->len; i++) {
    if (strcmp (g_ptr_array_index (object->keys, i), key) == 0)
      return g_ptr_array_index (object->items, i);
  }

  return NULL;
}

/* JSON parser (RFC 8259), strict: no trailing commas, no comments, no
 * duplicate keys, no control characters in strings. */

typedef struct
{
  const gchar *p;
  const gchar *start;
  gchar *error;
  guint depth;
} Parser;

static void
parse_fail (Parser * parser, const gchar * what)
{
  if (parser->error == NULL)
    parser->error = g_strdup_printf ("%s at offset %ld", what,
        (long) (parser->p - parser->start));
}

static void
skip_space (Parser * parser)
{
  while (*parser->p == ' ' || *parser->p == '\t' || *parser->p == '\n' ||
      *parser->p == '\r')
    parser->p++;
}

static JsonValue *parse_value (Parser * parser);

static gint
hex_digit (gchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
parse_hex4 (Parser * parser, gunichar * out)
{
  gunichar value = 0;
  gint i;

  for (i = 0; i < 4; i++) {
    gint digit = hex_digit (parser->p[i]);

    if (digit < 0) {
      parse_fail (parser, "bad \\u escape");
      return FALSE;
    }
    value = value * 16 + digit;
  }
  parser->p += 4;
  *out = value;

  return TRUE;
}

static gchar *
parse_string (Parser * parser)
{
  GString *s = g_string_new (NULL);

  parser->p++;                  /* opening quote */
  while (*parser->p != '"') {
    guchar c = *parser->p;

    if (c == '\0') {
      parse_fail (parser, "unterminated string");
      goto failed;
    }
    if (c < 0x20) {
      parse_fail (parser, "control character in a string");
      goto failed;
    }
    if (c != '\\') {
      g_string_append_c (s, c);
      parser->p++;
      continue;
    }

    parser->p++;
    switch (*parser->p++) {
      case '"':
        g_string_append_c (s, '"');
        break;
      case '\\':
        g_string_append_c (s, '\\');
        break;
      case '/':
        g_string_append_c (s, '/');
        break;
      case 'b':
        g_string_append_c (s, '\b');
        break;
      case 'f':
        g_string_append_c (s, '\f');
        break;
      case 'n':
        g_string_append_c (s, '\n');
        break;
      case 'r':
        g_string_append_c (s, '\r');
        break;
      case 't':
        g_string_append_c (s, '\t');
        break;
      case 'u':{
        gunichar ch, low;

        if (!parse_hex4 (parser, &ch))
          goto failed;
        if (ch >= 0xd800 && ch < 0xdc00) {
          if (parser->p[0] != '\\' || parser->p[1] != 'u') {
            parse_fail (parser, "lone surrogate");
            goto failed;
          }
          parser->p += 2;
          if (!parse_hex4 (parser, &low))
            goto failed;
          if (low < 0xdc00 || low > 0xdfff) {
            parse_fail (parser, "bad surrogate pair");
            goto failed;
          }
          ch = 0x10000 + ((ch - 0xd800) << 10) + (low - 0xdc00);
        } else if (ch >= 0xdc00 && ch <= 0xdfff) {
          parse_fail (parser, "lone surrogate");
          goto failed;
        }
        g_string_append_unichar (s, ch);
        break;
      }
      default:
        parse_fail (parser, "bad escape");
        goto failed;
    }
  }
  parser->p++;                  /* closing quote */

  if (!g_utf8_validate (s->str, s->len, NULL)) {
    parse_fail (parser, "string is not UTF-8");
    goto failed;
  }

  return g_string_free (s, FALSE);

failed:
  g_string_free (s, TRUE);
  return NULL;
}

static JsonValue *
parse_number (Parser * parser)
{
  const gchar *start = parser->p;
  JsonValue *value;

  if (*parser->p == '-')
    parser->p++;
  if (*parser->p == '0') {
    parser->p++;
  } else if (g_ascii_isdigit (*parser->p)) {
    while (g_ascii_isdigit (*parser->p))
      parser->p++;
  } else {
    parse_fail (parser, "bad number");
    return NULL;
  }
  if (*parser->p == '.') {
    parser->p++;
    if (!g_ascii_isdigit (*parser->p)) {
      parse_fail (parser, "bad fraction");
      return NULL;
    }
    while (g_ascii_isdigit (*parser->p))
      parser->p++;
  }
  if (*parser->p == 'e' || *parser->p == 'E') {
    parser->p++;
    if (*parser->p == '+' || *parser->p == '-')
      parser->p++;
    if (!g_ascii_isdigit (*parser->p)) {
      parse_fail (parser, "bad exponent");
      return NULL;
    }
    while (g_ascii_isdigit (*parser->p))
      parser->p++;
  }

  value = json_value_new (JSON_NUMBER);
  value->text = g_strndup (start, parser->p - start);

  return value;
}

static JsonValue *
parse_container (Parser * parser, gboolean object)
{
  JsonValue *value = json_value_new (object ? JSON_OBJECT : JSON_ARRAY);
  gchar close = object ? '}' : ']';

  if (++parser->depth > 64) {
    parse_fail (parser, "nested too deep");
    goto failed;
  }

  parser->p++;
  skip_space (parser);
  if (*parser->p == close) {
    parser->p++;
    parser->depth--;
    return value;
  }

  for (;;) {
    JsonValue *item;

    skip_space (parser);
    if (object) {
      gchar *key;

      if (*parser->p != '"') {
        parse_fail (parser, "expected a key");
        goto failed;
      }
      key = parse_string (parser);
      if (key == NULL)
        goto failed;
      if (json_get (value, key)) {
        parse_fail (parser, "duplicate key");
        g_free (key);
        goto failed;
      }
      g_ptr_array_add (value->keys, key);
      skip_space (parser);
      if (*parser->p != ':') {
        parse_fail (parser, "expected ':'");
        g_ptr_array_add (value->items, NULL);
        goto failed;
      }
      parser->p++;
    }

    item = parse_value (parser);
    g_ptr_array_add (value->items, item);
    if (item == NULL)
      goto failed;

    skip_space (parser);
    if (*parser->p == ',') {
      parser->p++;
      continue;
    }
    if (*parser->p == close) {
      parser->p++;
      break;
    }
    parse_fail (parser, object ? "expected ',' or '}'" :
        "expected ',' or ']'");
    goto failed;
  }
  parser->depth--;

  return value;

failed:
  json_value_free (value);
  return NULL;
}

static JsonValue *
parse_value (Parser * parser)
{
  JsonValue *value;

  skip_space (parser);
  switch (*parser->p) {
    case '{':
      return parse_container (parser, TRUE);
    case '[':
      return parse_container (parser, FALSE);
    case '"':{
      gchar *text = parse_string (parser);

      if (text == NULL)
        return NULL;
      value = json_value_new (JSON_STRING);
      value->text = text;
      return value;
    }
    case 't':
    case 'f':
    case 'n':
      if (g_str_has_prefix (parser->p, "true")) {
        value = json_value_new (JSON_BOOL);
        value->boolean = TRUE;
        parser->p += 4;
      } else if (g_str_has_prefix (parser->p, "false")) {
        value = json_value_new (JSON_BOOL);
        parser->p += 5;
      } else if (g_str_has_prefix (parser->p, "null")) {
        value = json_value_new (JSON_NULL);
        parser->p += 4;
      } else {
        parse_fail (parser, "unknown literal");
        return NULL;
      }
      return value;
    default:
      return parse_number (parser);
  }
}

static JsonValue *
json_parse (const gchar * text, gchar ** error)
{
  Parser parser = { text, text, NULL, 0 };
  JsonValue *value;

  value = parse_value (&parser);
  if (value) {
    skip_space (&parser);
    if (*parser.p != '\0') {
      parse_fail (&parser, "text after the value");
      g_clear_pointer (&value, json_value_free);
    }
  }
  *error = parser.error;

  return value;
}

/* Checks */

static guint failures;

static void
fail (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

static void
fail (const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("FAIL: %s\n", msg);
  g_free (msg);
  failures++;
}

static gboolean
is_type (const JsonValue * value, JsonType type, gboolean nullable)
{
  return value && (value->type == type || (nullable &&
          value->type == JSON_NULL));
}

static void
check_member (const JsonValue * object, const gchar * where,
    const gchar * key, JsonType type, gboolean nullable)
{
  static const gchar *const names[] = { "null", "a boolean", "a number",
    "a string", "an array", "an object"
  };
  JsonValue *value = json_get (object, key);

  if (value == NULL)
    fail ("%s: no member \"%s\"", where, key);
  else if (!is_type (value, type, nullable))
    fail ("%s: \"%s\" is not %s%s", where, key, names[type],
        nullable ? " or null" : "");
}

static void
check_names (const JsonValue * object, const gchar * where, const gchar * key)
{
  JsonValue *array = json_get (object, key);
  guint i;

  check_member (object, where, key, JSON_ARRAY, FALSE);
  if (!is_type (array, JSON_ARRAY, FALSE))
    return;
  for (i = 0; i < array->items->len; i++) {
    if (!is_type (g_ptr_array_index (array->items, i), JSON_STRING, FALSE))
      fail ("%s: \"%s\" holds something other than strings", where, key);
  }
}

static const gchar *
string_of (const JsonValue * object, const gchar * key)
{
  JsonValue *value = json_get (object, key);

  return is_type (value, JSON_STRING, FALSE) ? value->text : NULL;
}

static void
check_heap (const JsonValue * heap, guint index)
{
  gchar *where = g_strdup_printf ("heaps[%u]", index);
  const gchar *name, *backing, *path;
  JsonValue *can_open, *open_error, *region;

  if (!is_type (heap, JSON_OBJECT, FALSE)) {
    fail ("%s is not an object", where);
    g_free (where);
    return;
  }

  check_member (heap, where, "name", JSON_STRING, FALSE);
  check_member (heap, where, "path", JSON_STRING, FALSE);
  check_member (heap, where, "link_target", JSON_STRING, TRUE);
  check_member (heap, where, "type", JSON_STRING, FALSE);
  check_member (heap, where, "mode", JSON_STRING, TRUE);
  check_member (heap, where, "mode_octal", JSON_STRING, TRUE);
  check_member (heap, where, "uid", JSON_NUMBER, TRUE);
  check_member (heap, where, "owner", JSON_STRING, TRUE);
  check_member (heap, where, "gid", JSON_NUMBER, TRUE);
  check_member (heap, where, "group", JSON_STRING, TRUE);
  check_member (heap, where, "can_open", JSON_BOOL, FALSE);
  check_member (heap, where, "open_error", JSON_STRING, TRUE);
  check_member (heap, where, "backing", JSON_STRING, FALSE);
  check_member (heap, where, "cma_region", JSON_STRING, TRUE);
  check_member (heap, where, "size_bytes", JSON_NUMBER, TRUE);
  check_member (heap, where, "used_bytes", JSON_NUMBER, TRUE);
  check_names (heap, where, "same_memory_as");
  check_names (heap, where, "aliases");

  name = string_of (heap, "name");
  path = string_of (heap, "path");
  if (name && path) {
    gchar *expected = g_strconcat ("/dev/dma_heap/", name, NULL);

    if (strcmp (path, expected) != 0)
      fail ("%s: path %s, expected %s", where, path, expected);
    g_free (expected);
  }

  backing = string_of (heap, "backing");
  if (backing && strcmp (backing, "system") != 0 &&
      strcmp (backing, "cma") != 0 && strcmp (backing, "unknown") != 0)
    fail ("%s: backing \"%s\" is none of system, cma, unknown", where,
        backing);
  region = json_get (heap, "cma_region");
  if (backing && strcmp (backing, "cma") != 0 &&
      is_type (region, JSON_STRING, FALSE))
    fail ("%s: a CMA region for a heap whose backing is %s", where, backing);

  can_open = json_get (heap, "can_open");
  open_error = json_get (heap, "open_error");
  if (is_type (can_open, JSON_BOOL, FALSE) && open_error &&
      can_open->boolean != (open_error->type == JSON_NULL))
    fail ("%s: can_open and open_error disagree", where);

  g_free (where);
}

static void
check_region (const JsonValue * region, guint index)
{
  gchar *where = g_strdup_printf ("cma_regions[%u]", index);

  if (!is_type (region, JSON_OBJECT, FALSE)) {
    fail ("%s is not an object", where);
    g_free (where);
    return;
  }
  check_member (region, where, "name", JSON_STRING, FALSE);
  check_names (region, where, "heaps");
  check_member (region, where, "size_bytes", JSON_NUMBER, TRUE);
  check_member (region, where, "used_bytes", JSON_NUMBER, TRUE);
  check_member (region, where, "alloc_pages_success", JSON_NUMBER, TRUE);
  check_member (region, where, "alloc_pages_fail", JSON_NUMBER, TRUE);
  check_member (region, where, "release_pages_success", JSON_NUMBER, TRUE);
  check_member (region, where, "size_unknown_reason", JSON_STRING, TRUE);
  g_free (where);
}

static void
check_format (const JsonValue * root)
{
  JsonValue *format, *heaps, *regions;
  guint i;

  if (!is_type (root, JSON_OBJECT, FALSE)) {
    fail ("the JSON text is not an object");
    return;
  }

  format = json_get (root, "format");
  if (!is_type (format, JSON_NUMBER, FALSE) || strcmp (format->text, "1"))
    fail ("\"format\" is not 1");
  if (g_strcmp0 (string_of (root, "heap_dir"), "/dev/dma_heap") != 0)
    fail ("\"heap_dir\" is not /dev/dma_heap");
  check_member (root, "top level", "heap_dir_present", JSON_BOOL, FALSE);
  check_member (root, "top level", "spec", JSON_STRING, TRUE);
  check_member (root, "top level", "default_heap", JSON_STRING, TRUE);
  check_member (root, "top level", "page_size", JSON_NUMBER, FALSE);
  check_member (root, "top level", "heaps", JSON_ARRAY, FALSE);
  check_member (root, "top level", "cma_regions", JSON_ARRAY, FALSE);

  heaps = json_get (root, "heaps");
  for (i = 0; is_type (heaps, JSON_ARRAY, FALSE) && i < heaps->items->len;
      i++)
    check_heap (g_ptr_array_index (heaps->items, i), i);

  regions = json_get (root, "cma_regions");
  for (i = 0; is_type (regions, JSON_ARRAY, FALSE) &&
      i < regions->items->len; i++)
    check_region (g_ptr_array_index (regions->items, i), i);
}

/* --expect */

static void
render (const JsonValue * value, GString * out)
{
  guint i;

  switch (value->type) {
    case JSON_NULL:
      g_string_append (out, "null");
      break;
    case JSON_BOOL:
      g_string_append (out, value->boolean ? "true" : "false");
      break;
    case JSON_NUMBER:
    case JSON_STRING:
      g_string_append (out, value->text);
      break;
    case JSON_ARRAY:
      for (i = 0; i < value->items->len; i++) {
        if (i > 0)
          g_string_append_c (out, ',');
        render (g_ptr_array_index (value->items, i), out);
      }
      break;
    case JSON_OBJECT:
      g_string_append (out, "{...}");
      break;
  }
}

/* Splits "a.b[x.y].c" at the dots outside brackets. */
static gchar **
split_path (const gchar * path)
{
  GPtrArray *parts = g_ptr_array_new ();
  const gchar *start = path, *p;
  gboolean in_brackets = FALSE;

  for (p = path;; p++) {
    if (*p == '[')
      in_brackets = TRUE;
    else if (*p == ']')
      in_brackets = FALSE;
    else if ((*p == '.' && !in_brackets) || *p == '\0') {
      g_ptr_array_add (parts, g_strndup (start, p - start));
      start = p + 1;
      if (*p == '\0')
        break;
    }
  }
  g_ptr_array_add (parts, NULL);

  return (gchar **) g_ptr_array_free (parts, FALSE);
}

/* Follows @path from @value. Returns a rendering, or NULL when the path
 * leads nowhere. */
static gchar *
lookup (const JsonValue * value, const gchar * path)
{
  gchar **parts = split_path (path);
  GPtrArray *current = g_ptr_array_new ();
  GPtrArray *counts = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_value_free);
  GString *out;
  guint i, j;

  g_ptr_array_add (current, (gpointer) value);

  for (i = 0; parts[i]; i++) {
    GPtrArray *next = g_ptr_array_new ();
    gchar *part = parts[i];
    gchar *selector = NULL;
    gboolean count = FALSE;
    gsize len = strlen (part);

    if (len > 0 && part[len - 1] == '#') {
      count = TRUE;
      part[len - 1] = '\0';
    } else if (len > 0 && part[len - 1] == ']' && strchr (part, '[')) {
      selector = strchr (part, '[');
      *selector++ = '\0';
      part[len - 1] = '\0';
    }

    for (j = 0; j < current->len; j++) {
      const JsonValue *v = g_ptr_array_index (current, j);
      JsonValue *member;
      guint k;

      if (v->type == JSON_ARRAY && !selector && !count) {
        /* a member of every element */
        for (k = 0; k < v->items->len; k++) {
          member = json_get (g_ptr_array_index (v->items, k), part);
          if (member)
            g_ptr_array_add (next, member);
        }
        continue;
      }

      member = json_get (v, part);
      if (member == NULL)
        continue;

      if (count && member->type == JSON_ARRAY) {
        JsonValue *n = json_value_new (JSON_NUMBER);

        n->text = g_strdup_printf ("%u", member->items->len);
        g_ptr_array_add (counts, n);
        g_ptr_array_add (next, n);
      } else if (selector && member->type == JSON_ARRAY) {
        for (k = 0; k < member->items->len; k++) {
          JsonValue *item = g_ptr_array_index (member->items, k);

          if (g_strcmp0 (string_of (item, "name"), selector) == 0)
            g_ptr_array_add (next, item);
        }
      } else if (!selector && !count) {
        g_ptr_array_add (next, member);
      }
    }
    g_ptr_array_unref (current);
    current = next;
  }
  g_strfreev (parts);

  out = NULL;
  if (current->len > 0) {
    out = g_string_new (NULL);
    for (i = 0; i < current->len; i++) {
      if (i > 0)
        g_string_append_c (out, ',');
      render (g_ptr_array_index (current, i), out);
    }
  }
  g_ptr_array_unref (current);
  g_ptr_array_unref (counts);

  return out ? g_string_free (out, FALSE) : NULL;
}

static void
check_expect (const JsonValue * root, const gchar * expect)
{
  const gchar *eq = strchr (expect, '=');
  gchar *path, *expected, *got;

  if (eq == NULL) {
    fail ("--expect %s: no '='", expect);
    return;
  }
  path = g_strndup (expect, eq - expect);
  if (g_str_has_prefix (eq + 1, "pages:")) {
    guint64 pages = g_ascii_strtoull (eq + 1 + strlen ("pages:"), NULL, 10);

    expected = g_strdup_printf ("%" G_GUINT64_FORMAT,
        pages * (guint64) sysconf (_SC_PAGESIZE));
  } else {
    expected = g_strdup (eq + 1);
  }

  got = lookup (root, path);
  if (got == NULL)
    fail ("%s: nothing there (expected \"%s\")", path, expected);
  else if (strcmp (got, expected) != 0)
    fail ("%s is \"%s\", expected \"%s\"", path, got, expected);
  else
    g_print ("ok: %s = %s\n", path, got);

  g_free (got);
  g_free (expected);
  g_free (path);
}

/* --live: the heaps of the output are those of /dev/dma_heap */

static GPtrArray *
live_heaps (gboolean * present)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  DIR *dir;

  dir = opendir ("/dev/dma_heap");
  *present = dir != NULL || errno != ENOENT;
  if (dir == NULL)
    return names;
  while ((entry = readdir (dir)) != NULL) {
    if (entry->d_name[0] != '.')
      g_ptr_array_add (names, g_strdup (entry->d_name));
  }
  closedir (dir);

  return names;
}

static void
check_live_json (const JsonValue * root)
{
  JsonValue *heaps = json_get (root, "heaps");
  JsonValue *present_value = json_get (root, "heap_dir_present");
  gboolean present;
  GPtrArray *names = live_heaps (&present);
  guint i;

  if (is_type (present_value, JSON_BOOL, FALSE) &&
      present_value->boolean != present)
    fail ("heap_dir_present is %d, but /dev/dma_heap %s",
        present_value->boolean, present ? "exists" : "does not exist");

  if (!is_type (heaps, JSON_ARRAY, FALSE))
    goto done;

  if (heaps->items->len != names->len)
    fail ("%u heaps listed, /dev/dma_heap has %u entries", heaps->items->len,
        names->len);

  for (i = 0; i < names->len; i++) {
    const gchar *name = g_ptr_array_index (names, i);
    JsonValue *heap = NULL;
    gchar *sysfs;
    guint j;

    for (j = 0; j < heaps->items->len && !heap; j++) {
      JsonValue *h = g_ptr_array_index (heaps->items, j);

      if (g_strcmp0 (string_of (h, "name"), name) == 0)
        heap = h;
    }
    if (heap == NULL) {
      fail ("heap %s of /dev/dma_heap is not listed", name);
      continue;
    }

    /* root opens any heap */
    if (geteuid () == 0 && !json_get (heap, "can_open")->boolean)
      fail ("heap %s: cannot be opened, by root", name);

    if (strcmp (name, "system") == 0 &&
        g_strcmp0 (string_of (heap, "backing"), "system") != 0)
      fail ("heap system: backing is not \"system\"");

    /* a heap named after a CMA area allocates from that area */
    sysfs = g_build_filename ("/sys/kernel/mm/cma", name, NULL);
    if (g_file_test (sysfs, G_FILE_TEST_IS_DIR) &&
        g_strcmp0 (string_of (heap, "cma_region"), name) != 0)
      fail ("heap %s: not shown on its CMA area %s", name, name);
    g_free (sysfs);

    g_print ("ok: heap %s listed\n", name);
  }

done:
  g_ptr_array_unref (names);
}

static void
check_live_human (const gchar * out)
{
  gboolean present;
  GPtrArray *names = live_heaps (&present);
  guint i;

  if (names->len == 0 && !strstr (out, "no dma-buf heaps: "))
    fail ("no heap here, and the output does not say \"no dma-buf heaps\"");

  for (i = 0; i < names->len; i++) {
    gchar *line = g_strdup_printf ("%s (/dev/dma_heap/%s):\n",
        (gchar *) g_ptr_array_index (names, i),
        (gchar *) g_ptr_array_index (names, i));

    if (!strstr (out, line))
      fail ("no paragraph for heap %s", (gchar *) g_ptr_array_index (names,
              i));
    g_free (line);
  }
  g_ptr_array_unref (names);
}

int
main (int argc, char **argv)
{
  gchar *root = NULL;
  gint expected_exit = 0;
  gchar **stdout_has = NULL, **stderr_has = NULL, **expects = NULL;
  gboolean json = FALSE, live = FALSE;
  GOptionEntry entries[] = {
    {"root", 0, 0, G_OPTION_ARG_FILENAME, &root, "Fake root", "DIR"},
    {"exit", 0, 0, G_OPTION_ARG_INT, &expected_exit, "Exit status", "N"},
    {"stdout-has", 0, 0, G_OPTION_ARG_STRING_ARRAY, &stdout_has,
        "Text the output contains", "S"},
    {"stderr-has", 0, 0, G_OPTION_ARG_STRING_ARRAY, &stderr_has,
        "Text the error output contains", "S"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Check the JSON", NULL},
    {"expect", 0, 0, G_OPTION_ARG_STRING_ARRAY, &expects,
        "A value of the JSON", "PATH=VALUE"},
    {"live", 0, 0, G_OPTION_ARG_NONE, &live, "Compare with this system",
        NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  gchar **envp, **options, **command, *out = NULL, *err = NULL;
  gint status, i;
  gint sep;

  /* what follows "--" is the command: GOption must not see it */
  for (sep = 1; sep < argc && strcmp (argv[sep], "--") != 0; sep++);
  if (sep >= argc - 1) {
    g_printerr ("usage: %s [OPTION...] -- TOOL [ARG...]\n", argv[0]);
    return 2;
  }

  options = g_new0 (gchar *, sep + 1);
  for (i = 0; i < sep; i++)
    options[i] = g_strdup (argv[i]);
  command = &argv[sep + 1];

  ctx = g_option_context_new ("-- TOOL [ARG...]");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse_strv (ctx, &options, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  g_strfreev (options);

  envp = g_get_environ ();
  if (root)
    envp = g_environ_setenv (envp, "GST_DMA_HEAP_INFO_ROOT", root, TRUE);
  else
    envp = g_environ_unsetenv (envp, "GST_DMA_HEAP_INFO_ROOT");

  if (!g_spawn_sync (NULL, command, envp, G_SPAWN_DEFAULT, NULL, NULL,
          &out, &err, &status, &error)) {
    g_printerr ("FAIL: cannot run %s: %s\n", command[0], error->message);
    return 1;
  }
  g_strfreev (envp);

  g_print ("--- output of %s\n%s", command[0], out);
  g_print ("--- error output\n%s---\n", err);

  if (!WIFEXITED (status))
    fail ("%s did not exit normally (wait status 0x%x)", command[0], status);
  else if (WEXITSTATUS (status) != expected_exit)
    fail ("%s exited with %d, expected %d", command[0],
        WEXITSTATUS (status), expected_exit);

  for (i = 0; stdout_has && stdout_has[i]; i++) {
    if (!strstr (out, stdout_has[i]))
      fail ("the output does not contain \"%s\"", stdout_has[i]);
  }
  for (i = 0; stderr_has && stderr_has[i]; i++) {
    if (!strstr (err, stderr_has[i]))
      fail ("the error output does not contain \"%s\"", stderr_has[i]);
  }

  if (json) {
    gchar *parse_error = NULL;
    JsonValue *value = json_parse (out, &parse_error);

    if (value == NULL) {
      fail ("not JSON: %s", parse_error);
    } else {
      check_format (value);
      for (i = 0; expects && expects[i]; i++)
        check_expect (value, expects[i]);
      if (live)
        check_live_json (value);
    }
    json_value_free (value);
    g_free (parse_error);
  } else if (live) {
    check_live_human (out);
  }

  g_free (out);
  g_free (err);
  g_free (root);
  g_strfreev (stdout_has);
  g_strfreev (stderr_has);
  g_strfreev (expects);

  if (failures) {
    g_printerr ("%u check%s failed\n", failures, failures == 1 ? "" : "s");
    return 1;
  }
  g_print ("all checks passed\n");

  return 0;
}
