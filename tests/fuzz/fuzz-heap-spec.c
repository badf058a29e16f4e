/* gst-dmaheap: fuzz target for heap name validation and heap spec resolution
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input: a heap spec, then the names of the heaps present, all separated by
 * NUL bytes:
 *
 *   <spec> NUL <name> NUL <name> ...
 *
 * Every piece is also checked with gst_dma_heap_name_is_valid() and
 * gst_dma_heap_get_device_path(). The spec is resolved twice: against the
 * valid names only (what gst_dma_heap_list() can return), where every
 * promise of gst_dma_heap_resolve_in() is checked, and against all the
 * names, where only memory safety and membership are.
 *
 * A broken invariant aborts, which libFuzzer reports as a crash with the
 * input that caused it.
 */

#include <gst/gst.h>
#include <gst/dmaheap/dmaheap.h>

#include "fuzz-common.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* The rules of gst_dma_heap_name_is_valid(), written again from its
 * documentation. */
static gboolean
expect_valid (const gchar * name)
{
  gsize len = strlen (name);
  const guchar *p;

  if (len == 0 || len > NAME_MAX)
    return FALSE;
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;
  for (p = (const guchar *) name; *p; p++) {
    if (*p == '/' || *p < 0x20 || *p == 0x7f)
      return FALSE;
  }

  return g_utf8_validate (name, len, NULL);
}

static void
check_name (const gchar * name)
{
  GError *error = NULL;
  gboolean valid;
  gchar *path;

  valid = gst_dma_heap_name_is_valid (name, &error);
  CHECK (valid == expect_valid (name), "name_is_valid says %d", valid);
  CHECK (valid == (error == NULL), "error set on success or not on failure");
  CHECK (gst_dma_heap_name_is_valid (name, NULL) == valid,
      "the answer depends on @error");

  if (error) {
    CHECK (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_INVALID_NAME), "error %s",
        g_quark_to_string (error->domain));
    CHECK (g_utf8_validate (error->message, -1, NULL),
        "the message is not UTF-8");
    CHECK (strpbrk (error->message, "\n\r\t\x1b") == NULL,
        "raw control byte in '%s'", error->message);
    g_error_free (error);
  }

  path = gst_dma_heap_get_device_path (name);
  if (valid) {
    CHECK (path != NULL && g_str_has_prefix (path, GST_DMA_HEAP_DIR "/") &&
        strcmp (path + strlen (GST_DMA_HEAP_DIR "/"), name) == 0,
        "path '%s'", path ? path : "(null)");
  } else {
    CHECK (path == NULL, "path '%s' for an invalid name", path);
  }
  g_free (path);
}

static gboolean
strv_has (const gchar * const *strv, const gchar * s)
{
  for (; *strv; strv++) {
    if (strcmp (*strv, s) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
check_resolve (const gchar * spec, const gchar * const *available,
    gboolean strict)
{
  GError *error = NULL;
  gchar **heaps;
  guint i, j;

  heaps = gst_dma_heap_resolve_in (spec, available, &error);
  CHECK ((heaps == NULL) == (error != NULL), "result and error disagree");

  if (heaps == NULL) {
    CHECK (error->domain == GST_DMA_HEAP_ERROR, "error domain %s",
        g_quark_to_string (error->domain));
    CHECK (error->code == GST_DMA_HEAP_ERROR_INVALID_NAME ||
        error->code == GST_DMA_HEAP_ERROR_NOT_FOUND ||
        error->code == GST_DMA_HEAP_ERROR_AMBIGUOUS,
        "error code %d: %s", error->code, error->message);
    CHECK (error->message != NULL && error->message[0] != '\0',
        "empty error message");
    if (strict) {
      CHECK (g_utf8_validate (error->message, -1, NULL),
          "the message is not UTF-8");
    }
    g_error_free (error);
    return;
  }

  CHECK (heaps[0] != NULL, "success with no heap");

  for (i = 0; heaps[i]; i++) {
    CHECK (strv_has (available, heaps[i]), "'%s' is not available",
        heaps[i]);
    for (j = 0; j < i; j++)
      CHECK (strcmp (heaps[i], heaps[j]) != 0, "'%s' twice", heaps[i]);

    if (strict) {
      CHECK (gst_dma_heap_name_is_valid (heaps[i], NULL),
          "invalid name returned");
      CHECK (strchr (heaps[i], '/') == NULL, "'%s' has a '/'", heaps[i]);
      CHECK (!g_str_has_prefix (heaps[i], GST_DMA_HEAP_DIR),
          "'%s' is a path", heaps[i]);
    }
  }

  g_strfreev (heaps);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* stay quiet and do not let a warning of the library abort */
  g_setenv ("GST_DEBUG", "0", TRUE);
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_init (NULL, NULL);
  g_log_set_default_handler (log_handler, NULL);

  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GPtrArray *all, *valid;
  gchar *copy, *p, *end, *spec;

  /* NUL-terminated copy, so the last piece ends too */
  copy = g_malloc (size + 1);
  memcpy (copy, data, size);
  copy[size] = '\0';
  end = copy + size;

  spec = copy;
  all = g_ptr_array_new ();
  valid = g_ptr_array_new ();

  check_name (spec);
  for (p = spec + strlen (spec) + 1; p < end; p += strlen (p) + 1) {
    check_name (p);
    g_ptr_array_add (all, p);
    if (gst_dma_heap_name_is_valid (p, NULL))
      g_ptr_array_add (valid, p);
  }
  g_ptr_array_add (all, NULL);
  g_ptr_array_add (valid, NULL);

  check_resolve (spec, (const gchar * const *) valid->pdata, TRUE);
  check_resolve (spec, (const gchar * const *) all->pdata, FALSE);

  /* the same spec without a list of heaps: nothing can be found */
  {
    GError *error = NULL;
    gchar **none = gst_dma_heap_resolve_in (spec, NULL, &error);

    CHECK (none == NULL && error != NULL, "a heap found in an empty list");
    g_error_free (error);
  }

  g_ptr_array_free (valid, TRUE);
  g_ptr_array_free (all, TRUE);
  g_free (copy);

  return 0;
}
