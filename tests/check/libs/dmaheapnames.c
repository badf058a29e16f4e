/* gst-dmaheap: heap name validation and resolution, no device needed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/dmaheap/dmaheap.h>

#include <limits.h>
#include <string.h>
#include <unistd.h>

/* Kernels name their heaps differently; these are the lists the resolver
 * must cope with. */
static const gchar *const heaps_6_12[] = { "reserved", "system", NULL };
static const gchar *const heaps_dt[] =
    { "ecc-off@78000000", "linux,cma@7c000000", "system", NULL };
static const gchar *const heaps_6_17[] =
    { "default_cma_region", "reserved", "system", NULL };
static const gchar *const heaps_pool[] = { "default-pool", "system", NULL };
static const gchar *const heaps_regions[] =
    { "camera@80000000", "ecc-off@78000000", "reserved", "system", NULL };
static const gchar *const heaps_twins[] =
    { "ecc-off@78000000", "ecc-off@88000000", "system", NULL };
static const gchar *const heaps_system[] = { "system", NULL };

static void
check_invalid (const gchar * name, const gchar * expected_text)
{
  GError *error = NULL;

  fail_if (gst_dma_heap_name_is_valid (name, &error), "'%s' accepted", name);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_INVALID_NAME));
  fail_unless (strstr (error->message, expected_text) != NULL,
      "'%s' not in '%s'", expected_text, error->message);
  /* the message never carries a raw control byte */
  fail_if (strchr (error->message, '\n') || strchr (error->message, '\t'));
  g_error_free (error);

  fail_if (gst_dma_heap_name_is_valid (name, NULL));
  fail_unless (gst_dma_heap_get_device_path (name) == NULL);
}

GST_START_TEST (test_name_valid)
{
  static const gchar *const valid[] = {
    "system", "reserved", "linux,cma", "linux,cma@7c000000",
    "default_cma_region", "default-pool", "ecc-off@78000000", "a", "...",
    "caméra", "x.y", NULL
  };
  guint i;

  for (i = 0; valid[i]; i++) {
    GError *error = NULL;
    gchar *path;

    fail_unless (gst_dma_heap_name_is_valid (valid[i], &error),
        "'%s' refused: %s", valid[i], error ? error->message : "");
    fail_unless (error == NULL);

    path = gst_dma_heap_get_device_path (valid[i]);
    fail_unless (path != NULL);
    fail_unless (g_str_has_prefix (path, "/dev/dma_heap/"));
    fail_unless_equals_string (path + strlen ("/dev/dma_heap/"), valid[i]);
    g_free (path);
  }
}

GST_END_TEST;

GST_START_TEST (test_name_invalid)
{
  gchar longest[NAME_MAX + 1], too_long[NAME_MAX + 2];
  GError *error = NULL;

  check_invalid ("", "empty");
  fail_if (gst_dma_heap_name_is_valid (NULL, &error));
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_INVALID_NAME));
  g_clear_error (&error);

  check_invalid (".", "'.'");
  check_invalid ("..", "'..'");
  check_invalid ("a/b", "'a/b'");
  check_invalid ("a/b", "/");
  check_invalid ("/", "'/'");
  check_invalid ("../system", "'../system'");
  check_invalid ("system/", "'system/'");

  /* control characters, shown escaped */
  check_invalid ("sys\ntem", "'sys\\ntem'");
  check_invalid ("sys\ntem", "control");
  check_invalid ("tab\tbed", "'tab\\tbed'");
  check_invalid ("bell\a", "'bell\\007'");
  check_invalid ("esc\033", "'esc\\033'");
  check_invalid ("del\177", "'del\\177'");
  check_invalid ("\001", "control");

  /* not UTF-8 */
  check_invalid ("heap\377", "'heap\\377'");
  check_invalid ("heap\377", "UTF-8");
  check_invalid ("\303(", "UTF-8");

  /* NAME_MAX bytes is the limit */
  memset (longest, 'a', NAME_MAX);
  longest[NAME_MAX] = '\0';
  fail_unless (gst_dma_heap_name_is_valid (longest, NULL));

  memset (too_long, 'a', NAME_MAX + 1);
  too_long[NAME_MAX + 1] = '\0';
  check_invalid (too_long, "NAME_MAX");
  check_invalid (too_long, G_STRINGIFY (NAME_MAX));
}

GST_END_TEST;

GST_START_TEST (test_default_names)
{
  const gchar *const *names = gst_dma_heap_default_names ();

  fail_unless (names != NULL);
  fail_unless_equals_int (g_strv_length ((gchar **) names), 4);
  fail_unless_equals_string (names[0], "default_cma_region");
  fail_unless_equals_string (names[1], "reserved");
  fail_unless_equals_string (names[2], "linux,cma");
  fail_unless_equals_string (names[3], "default-pool");
  fail_unless (names[4] == NULL);
}

GST_END_TEST;

/* Resolve @spec in @available and compare with the names of @expected, a
 * comma-separated list. */
static void
check_resolves (const gchar * spec, const gchar * const *available,
    const gchar * expected)
{
  GError *error = NULL;
  gchar **result, *joined;
  guint i;

  result = gst_dma_heap_resolve_in (spec, available, &error);
  fail_unless (result != NULL, "'%s' did not resolve: %s", spec,
      error ? error->message : "no error");
  fail_unless (error == NULL);

  for (i = 0; result[i]; i++) {
    fail_if (strchr (result[i], '/') != NULL, "a path in the result");
    fail_unless (g_strv_contains (available, result[i]));
  }

  joined = g_strjoinv (",", result);
  fail_unless_equals_string (joined, expected);
  g_free (joined);
  g_strfreev (result);
}

/* Resolve @spec in @available, expect @code and every text of the NULL
 * terminated list in the message. */
static void
check_fails (const gchar * spec, const gchar * const *available,
    GstDmaHeapError code, ...)
{
  GError *error = NULL;
  const gchar *text;
  gchar **result;
  va_list args;

  result = gst_dma_heap_resolve_in (spec, available, &error);
  fail_unless (result == NULL, "'%s' resolved to '%s'", spec,
      result ? result[0] : "");
  fail_unless (error != NULL);
  fail_unless (error->domain == GST_DMA_HEAP_ERROR);
  fail_unless_equals_int (error->code, code);

  va_start (args, code);
  while ((text = va_arg (args, const gchar *)) != NULL) {
    fail_unless (strstr (error->message, text) != NULL,
        "'%s' not in '%s'", text, error->message);
  }
  va_end (args);

  g_error_free (error);

  /* without error location too */
  fail_unless (gst_dma_heap_resolve_in (spec, available, NULL) == NULL);
}

GST_START_TEST (test_resolve_exact)
{
  check_resolves ("system", heaps_6_12, "system");
  check_resolves ("reserved", heaps_6_12, "reserved");
  check_resolves ("ecc-off@78000000", heaps_dt, "ecc-off@78000000");
  check_resolves ("linux,cma@7c000000", heaps_dt, "linux,cma@7c000000");
  check_resolves ("default_cma_region", heaps_6_17, "default_cma_region");
}

GST_END_TEST;

GST_START_TEST (test_resolve_unit_address)
{
  check_resolves ("ecc-off", heaps_dt, "ecc-off@78000000");
  check_resolves ("camera", heaps_regions, "camera@80000000");
  check_resolves ("linux,cma", heaps_dt, "linux,cma@7c000000");

  /* only a whole name before '@' matches */
  check_fails ("ecc", heaps_dt, GST_DMA_HEAP_ERROR_NOT_FOUND, "'ecc'", NULL);
  check_fails ("ecc-of", heaps_dt, GST_DMA_HEAP_ERROR_NOT_FOUND, NULL);
  /* a name with a unit address must match exactly */
  check_fails ("ecc-off@7800", heaps_dt, GST_DMA_HEAP_ERROR_NOT_FOUND,
      "'ecc-off@7800'", NULL);
  check_fails ("ecc-off@88000000", heaps_dt, GST_DMA_HEAP_ERROR_NOT_FOUND,
      NULL);
  /* the unit address is not stripped from the available names the other
   * way round */
  check_fails ("system@0", heaps_dt, GST_DMA_HEAP_ERROR_NOT_FOUND, NULL);
}

GST_END_TEST;

GST_START_TEST (test_resolve_ambiguous)
{
  check_fails ("ecc-off", heaps_twins, GST_DMA_HEAP_ERROR_AMBIGUOUS,
      "'ecc-off'", "ecc-off@78000000", "ecc-off@88000000", NULL);
  /* an ambiguous item is an error even when another item would do */
  check_fails ("ecc-off,system", heaps_twins, GST_DMA_HEAP_ERROR_AMBIGUOUS,
      "ecc-off@78000000", "ecc-off@88000000", NULL);
  check_fails ("system,ecc-off", heaps_twins, GST_DMA_HEAP_ERROR_AMBIGUOUS,
      NULL);

  /* the full names are fine */
  check_resolves ("ecc-off@88000000,ecc-off@78000000", heaps_twins,
      "ecc-off@88000000,ecc-off@78000000");
}

GST_END_TEST;

GST_START_TEST (test_resolve_default)
{
  /* 6.12 with cma= or a "reserved" node */
  check_resolves ("default", heaps_6_12, "reserved");
  /* device tree linux,cma node with its unit address */
  check_resolves ("default", heaps_dt, "linux,cma@7c000000");
  /* 6.17+: two names for one region, only the first is taken */
  check_resolves ("default", heaps_6_17, "default_cma_region");
  check_resolves ("default", heaps_pool, "default-pool");
  check_resolves ("default", heaps_regions, "reserved");
  check_resolves (" default ", heaps_6_12, "reserved");

  /* no default heap */
  check_fails ("default", heaps_system, GST_DMA_HEAP_ERROR_NOT_FOUND,
      "'default'", "system", NULL);
  check_fails ("default", heaps_twins, GST_DMA_HEAP_ERROR_NOT_FOUND,
      "ecc-off@78000000, ecc-off@88000000, system", NULL);

  /* an exact name next to the alias */
  check_resolves ("default,system", heaps_6_17, "default_cma_region,system");
  check_resolves ("default,reserved", heaps_6_12, "reserved");
  check_resolves ("reserved,default", heaps_6_12, "reserved");
}

GST_END_TEST;

GST_START_TEST (test_resolve_fallback)
{
  check_resolves ("ecc-off,system", heaps_dt, "ecc-off@78000000,system");
  check_resolves ("system,ecc-off", heaps_dt, "system,ecc-off@78000000");
  check_resolves ("vpu,camera,system", heaps_regions,
      "camera@80000000,system");
  check_resolves ("vpu@1,system", heaps_regions, "system");
  check_resolves ("missing,default", heaps_dt, "linux,cma@7c000000");
  check_resolves ("ecc-off,default,system", heaps_6_12, "reserved,system");

  check_fails ("vpu,camera", heaps_6_12, GST_DMA_HEAP_ERROR_NOT_FOUND,
      "'vpu,camera'", "reserved, system", NULL);
}

GST_END_TEST;

GST_START_TEST (test_resolve_dedup)
{
  check_resolves ("system,system", heaps_6_12, "system");
  check_resolves ("system,/dev/dma_heap/system, system", heaps_6_12,
      "system");
  check_resolves ("ecc-off,ecc-off@78000000", heaps_dt, "ecc-off@78000000");
  check_resolves ("default,linux,cma", heaps_dt, "linux,cma@7c000000");
  check_resolves ("default,default_cma_region,system", heaps_6_17,
      "default_cma_region,system");
}

GST_END_TEST;

/* "linux,cma" holds the list separator */
GST_START_TEST (test_resolve_comma_names)
{
  static const gchar *const heaps_plain_cma[] =
      { "linux,cma", "linux", "system", NULL };
  static const gchar *const heaps_cma_twins[] =
      { "linux,cma@7c000000", "linux,cma@8c000000", "system", NULL };

  check_resolves ("linux,cma", heaps_dt, "linux,cma@7c000000");
  check_resolves ("linux,cma@7c000000", heaps_dt, "linux,cma@7c000000");
  check_resolves ("linux,cma,system", heaps_dt, "linux,cma@7c000000,system");
  check_resolves ("system, linux,cma", heaps_dt, "system,linux,cma@7c000000");
  check_resolves ("/dev/dma_heap/linux,cma@7c000000,system", heaps_dt,
      "linux,cma@7c000000,system");
  check_resolves ("ecc-off,linux,cma@7c000000", heaps_dt,
      "ecc-off@78000000,linux,cma@7c000000");

  /* the longest run that names a heap wins */
  check_resolves ("linux,cma", heaps_plain_cma, "linux,cma");
  check_resolves ("linux,system", heaps_plain_cma, "linux,system");

  /* ambiguous with commas too */
  check_fails ("linux,cma", heaps_cma_twins, GST_DMA_HEAP_ERROR_AMBIGUOUS,
      "linux,cma@7c000000", "linux,cma@8c000000", NULL);

  /* nothing present: the pieces are skipped, the message quotes the spec */
  check_fails ("linux,cma", heaps_6_12, GST_DMA_HEAP_ERROR_NOT_FOUND,
      "'linux,cma'", NULL);
}

GST_END_TEST;

GST_START_TEST (test_resolve_whitespace_and_empty)
{
  check_resolves ("  system  ", heaps_6_12, "system");
  check_resolves (" reserved ,\tsystem\n", heaps_6_12, "reserved,system");

  check_fails ("", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME, "mpty", NULL);
  check_fails (NULL, heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME, NULL);
  check_fails (" ", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME, "empty",
      NULL);
  check_fails (",", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME, "empty",
      NULL);
  check_fails ("system,", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
      "'system,'", "item 2", NULL);
  check_fails (",system", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
      "item 1", NULL);
  check_fails ("system,,reserved", heaps_6_12,
      GST_DMA_HEAP_ERROR_INVALID_NAME, "item 2", NULL);
  check_fails ("system, ,reserved", heaps_6_12,
      GST_DMA_HEAP_ERROR_INVALID_NAME, NULL);
}

GST_END_TEST;

GST_START_TEST (test_resolve_invalid_items)
{
  /* an invalid item fails at once, even after a good one */
  check_fails ("system,..", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
      "'..'", NULL);
  check_fails ("sys\ttem", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
      "'sys\\ttem'", NULL);
  check_fails ("system,bad\001", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
      "'bad\\001'", NULL);
  check_fails ("heap\377", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
      "UTF-8", NULL);
  check_fails ("dma_heap/system", heaps_6_12,
      GST_DMA_HEAP_ERROR_INVALID_NAME, "'dma_heap/system'", NULL);
  check_fails (".", heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME, NULL);
}

GST_END_TEST;

GST_START_TEST (test_resolve_paths)
{
  static const gchar *const outside[] = {
    "/dev/dma_heap/../system",
    "/dev/dma_heap/../../etc/passwd",
    "/dev/dma_heap/./system",
    "/dev/dma_heap//system",
    "//dev/dma_heap/system",
    "/dev//dma_heap/system",
    "/dev/dma_heap/system/",
    "/dev/dma_heap/",
    "/dev/dma_heap",
    "/dev/dma_heapx/system",
    "/dev/dma_heap/a/b",
    "/dev/dma_heap/..",
    "/dev/dma_heap/.",
    "/etc/passwd",
    "/dev/zero",
    "/",
    "/dev/dma_heap/sys\ntem",
    NULL
  };
  guint i;

  check_resolves ("/dev/dma_heap/system", heaps_6_12, "system");
  check_resolves ("/dev/dma_heap/ecc-off@78000000,/dev/dma_heap/system",
      heaps_dt, "ecc-off@78000000,system");
  check_resolves ("/dev/dma_heap/reserved, default", heaps_6_12, "reserved");

  /* a path designates a node exactly: no unit address matching */
  check_fails ("/dev/dma_heap/ecc-off", heaps_dt,
      GST_DMA_HEAP_ERROR_NOT_FOUND, "'/dev/dma_heap/ecc-off'", NULL);
  /* an alias is not a path */
  check_fails ("/dev/dma_heap/default", heaps_6_12,
      GST_DMA_HEAP_ERROR_NOT_FOUND, NULL);

  for (i = 0; outside[i]; i++) {
    gchar *escaped = g_strescape (outside[i], NULL);

    check_fails (outside[i], heaps_6_12, GST_DMA_HEAP_ERROR_INVALID_NAME,
        escaped, "/dev/dma_heap/", NULL);
    g_free (escaped);
  }

  /* a bad path fails the list even when another item is fine */
  check_fails ("system,/dev/dma_heap/../x", heaps_6_12,
      GST_DMA_HEAP_ERROR_INVALID_NAME, "'/dev/dma_heap/../x'", NULL);
}

GST_END_TEST;

GST_START_TEST (test_resolve_nothing_available)
{
  static const gchar *const empty[] = { NULL };

  check_fails ("default", NULL, GST_DMA_HEAP_ERROR_NOT_FOUND, "'default'",
      "/dev/dma_heap is missing", "CONFIG_DMABUF_HEAPS", NULL);
  check_fails ("system,reserved", empty, GST_DMA_HEAP_ERROR_NOT_FOUND,
      "'system,reserved'", "none", NULL);
  check_fails ("nope", heaps_6_17, GST_DMA_HEAP_ERROR_NOT_FOUND, "'nope'",
      "default_cma_region, reserved, system", NULL);

  /* still validated */
  check_fails ("..", NULL, GST_DMA_HEAP_ERROR_INVALID_NAME, NULL);
}

GST_END_TEST;

GST_START_TEST (test_device_path)
{
  gchar *path;

  path = gst_dma_heap_get_device_path ("system");
  fail_unless_equals_string (path, "/dev/dma_heap/system");
  g_free (path);

  path = gst_dma_heap_get_device_path ("linux,cma@7c000000");
  fail_unless_equals_string (path, "/dev/dma_heap/linux,cma@7c000000");
  g_free (path);

  fail_unless (gst_dma_heap_get_device_path ("../system") == NULL);
  fail_unless (gst_dma_heap_get_device_path ("") == NULL);
  fail_unless (gst_dma_heap_get_device_path (NULL) == NULL);
  fail_unless (gst_dma_heap_get_device_path ("/dev/dma_heap/system") == NULL);
}

GST_END_TEST;

/* Opening validates first: nothing outside /dev/dma_heap is touched. */
GST_START_TEST (test_open_invalid)
{
  static const gchar *const invalid[] = {
    "../../etc/passwd", "/dev/zero", "..", ".", "", "a/b", "x\n", NULL
  };
  guint i;

  for (i = 0; invalid[i]; i++) {
    GError *error = NULL;

    fail_unless_equals_int (gst_dma_heap_open (invalid[i], &error), -1);
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_INVALID_NAME), "%s", error->message);
    g_error_free (error);
  }
}

GST_END_TEST;

/* What the machine has: runs everywhere, checks more without heaps. */
GST_START_TEST (test_list_and_describe)
{
  gboolean have_dir = g_file_test ("/dev/dma_heap", G_FILE_TEST_IS_DIR);
  GError *error = NULL;
  gchar **names, *text;
  guint i;

  names = gst_dma_heap_list (&error);
  if (names == NULL) {
    /* only when the directory exists but is unreadable */
    fail_unless (have_dir);
    fail_unless (strstr (error->message, "/dev/dma_heap") != NULL);
    g_error_free (error);
    return;
  }

  for (i = 0; names[i]; i++) {
    fail_unless (gst_dma_heap_name_is_valid (names[i], NULL));
    if (i > 0)
      fail_unless (strcmp (names[i - 1], names[i]) < 0, "not sorted");
  }

  text = gst_dma_heap_describe_available ();
  fail_unless (text != NULL && *text != '\0');
  if (!have_dir) {
    fail_unless_equals_int (g_strv_length (names), 0);
    fail_unless (strstr (text, "CONFIG_DMABUF_HEAPS") != NULL, "%s", text);
  } else if (names[0]) {
    fail_unless (strstr (text, names[0]) != NULL, "%s", text);
  }
  g_free (text);

  if (!have_dir) {
    gchar **result;

    fail_unless_equals_int (gst_dma_heap_open ("system", &error), -1);
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_NOT_FOUND));
    fail_unless (strstr (error->message, "/dev/dma_heap/system") != NULL,
        "%s", error->message);
    fail_unless (strstr (error->message, "CONFIG_DMABUF_HEAPS") != NULL,
        "%s", error->message);
    g_clear_error (&error);

    result = gst_dma_heap_resolve ("default,system", &error);
    fail_unless (result == NULL);
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_NOT_FOUND));
    fail_unless (strstr (error->message, "is missing") != NULL, "%s",
        error->message);
    g_clear_error (&error);

    fail_unless (gst_dma_heap_allocator_new ("default", &error) == NULL);
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_NOT_FOUND));
    g_clear_error (&error);

    /* harmless without heaps, registers nothing */
    gst_dma_heap_allocator_init_once ();
    gst_dma_heap_allocator_init_once ();
    fail_unless (gst_allocator_find (GST_ALLOCATOR_DMAHEAP) == NULL);
  } else {
    gchar **result = gst_dma_heap_resolve ("default,system,", &error);

    /* the empty item fails before anything else */
    fail_unless (result == NULL);
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_INVALID_NAME));
    g_clear_error (&error);
  }

  g_strfreev (names);
}

GST_END_TEST;

static Suite *
dmaheapnames_suite (void)
{
  Suite *s = suite_create ("dmaheapnames");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_name_valid);
  tcase_add_test (tc, test_name_invalid);
  tcase_add_test (tc, test_default_names);
  tcase_add_test (tc, test_resolve_exact);
  tcase_add_test (tc, test_resolve_unit_address);
  tcase_add_test (tc, test_resolve_ambiguous);
  tcase_add_test (tc, test_resolve_default);
  tcase_add_test (tc, test_resolve_fallback);
  tcase_add_test (tc, test_resolve_dedup);
  tcase_add_test (tc, test_resolve_comma_names);
  tcase_add_test (tc, test_resolve_whitespace_and_empty);
  tcase_add_test (tc, test_resolve_invalid_items);
  tcase_add_test (tc, test_resolve_paths);
  tcase_add_test (tc, test_resolve_nothing_available);
  tcase_add_test (tc, test_device_path);
  tcase_add_test (tc, test_open_invalid);
  tcase_add_test (tc, test_list_and_describe);

  return s;
}

GST_CHECK_MAIN (dmaheapnames);
