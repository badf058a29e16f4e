/* gst-dmaheap: helpers of the tests that need a heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dmaheaptestutil.h"
#include "fakeheap.h"

#include <gst/dmaheap/dmaheap.h>

#include <linux/dma-heap.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

gchar **dma_heap_test_heaps = NULL;

static gboolean fake_active;

/* What the tests that skipped said, kept in memory shared with the
 * processes libcheck forks for them. */
typedef struct
{
  gint n_skipped;
  gsize len;
  gchar text[16384];
} SkipRecord;

static SkipRecord *skips;
static SkipRecord skips_unshared;

void
dma_heap_test_skip (const gchar * test, const gchar * format, ...)
{
  SkipRecord *r = skips ? skips : &skips_unshared;
  va_list args;
  gchar *why;
  gint n;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("SKIP-REASON: %s: %s\n", test, why);
  fflush (stdout);
  GST_INFO ("skipped: %s", why);

  r->n_skipped++;
  n = g_snprintf (r->text + r->len, sizeof (r->text) - r->len, "%s%s (%s)",
      r->len ? "; " : "", test, why);
  if (n > 0)
    r->len = MIN (r->len + n, sizeof (r->text) - 1);
  g_free (why);
}

guint
dma_heap_test_n_skipped (void)
{
  SkipRecord *r = skips ? skips : &skips_unshared;

  return r->n_skipped;
}

int
dma_heap_test_run_suite (Suite * suite, const gchar * name,
    const gchar * fname)
{
  int failed;

  if (skips == NULL) {
    gpointer mem = mmap (NULL, sizeof (SkipRecord), PROT_READ | PROT_WRITE,
        MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    g_assert (mem != MAP_FAILED);
    skips = mem;
    /* what was skipped before the suite started */
    *skips = skips_unshared;
  }

  failed = gst_check_run_suite (suite, name, fname);
  if (failed == 0 && skips->n_skipped > 0) {
    g_print ("SKIP: %s: %d test(s) skipped: %s\n", name, skips->n_skipped,
        skips->text);
    return DMA_HEAP_TEST_SKIP;
  }

  return failed;
}

gboolean
dma_heap_test_is_fake (void)
{
  return fake_active;
}

gboolean
dma_heap_test_strict (void)
{
  return fake_active || g_strcmp0 (g_getenv ("GST_DMA_HEAP_TEST_STRICT"),
      "1") == 0;
}

void
dma_heap_test_setup (const gchar * name)
{
  gchar reason[512] = "";

  switch (fake_heap_setup (NULL, reason, sizeof (reason))) {
    case FAKE_HEAP_ACTIVE:
      fake_active = TRUE;
      break;
    case FAKE_HEAP_REAL:
      fake_active = FALSE;
      break;
    default:
      g_print ("SKIP: %s: %s\n", name, reason);
      exit (DMA_HEAP_TEST_SKIP);
  }
}

/* @spec with the white space around its items taken out */
static gchar *
normalise_spec (const gchar * spec)
{
  gchar **items = g_strsplit (spec, ",", -1);
  gchar *ret;
  guint i;

  for (i = 0; items[i]; i++)
    g_strstrip (items[i]);
  ret = g_strjoinv (",", items);
  g_strfreev (items);

  return ret;
}

gchar **
dma_heap_test_find_heaps (gchar ** reason, gboolean * failed)
{
  const gchar *env = g_getenv ("GST_DMA_HEAP_TEST_HEAPS");
  GError *error = NULL;
  GPtrArray *usable;
  GString *why;
  gchar **candidates;
  guint i;

  *failed = FALSE;
  if (env && *env)
    candidates = gst_dma_heap_resolve (env, &error);
  else
    candidates = gst_dma_heap_list (&error);

  if (candidates == NULL) {
    *reason = g_strdup_printf ("no heap to test: %s", error->message);
    *failed = dma_heap_test_strict () && env && *env;
    g_error_free (error);
    return NULL;
  }

  /* In strict mode the heaps to test are named exactly, and every one of
   * them must be there: a heap that went missing is not one test less. */
  if (dma_heap_test_strict () && env && *env) {
    gchar *want = normalise_spec (env);
    gchar *got = g_strjoinv (",", candidates);

    if (strcmp (want, got) != 0) {
      gchar *present = gst_dma_heap_describe_available ();

      *reason = g_strdup_printf ("GST_DMA_HEAP_TEST_HEAPS is '%s' but only "
          "'%s' resolve (heaps present: %s)", want, got, present);
      g_free (present);
      *failed = TRUE;
    }
    g_free (want);
    g_free (got);
    if (*failed) {
      g_strfreev (candidates);
      return NULL;
    }
  }

  usable = g_ptr_array_new ();
  why = g_string_new (NULL);

  for (i = 0; candidates[i]; i++) {
    gint fd = gst_dma_heap_open (candidates[i], &error);

    if (fd < 0) {
      g_string_append_printf (why, "%s%s", why->len ? "; " : "",
          error->message);
      g_clear_error (&error);
      /* strict: a heap to test that does not open fails the run; else
       * it is not tested, and that is said and counted as a skip */
      if (dma_heap_test_strict ())
        *failed = TRUE;
      else
        dma_heap_test_skip ("dma_heap_test_find_heaps", "heap %s not "
            "tested: %s", candidates[i], why->str);
      continue;
    }
    close (fd);
    g_ptr_array_add (usable, g_strdup (candidates[i]));
  }
  g_strfreev (candidates);

  if (*failed) {
    *reason = g_strdup_printf ("a heap to test does not open: %s", why->str);
    g_string_free (why, TRUE);
    g_ptr_array_free (usable, TRUE);
    return NULL;
  }

  if (usable->len == 0) {
    gchar *present = gst_dma_heap_describe_available ();

    *reason = g_strdup_printf ("no heap can be opened (heaps present: %s)%s%s",
        present, why->len ? ": " : "", why->str);
    g_free (present);
    g_string_free (why, TRUE);
    g_ptr_array_free (usable, TRUE);
    return NULL;
  }

  g_string_free (why, TRUE);
  g_ptr_array_add (usable, NULL);

  return (gchar **) g_ptr_array_free (usable, FALSE);
}

int
dma_heap_test_main (int argc, char **argv, Suite * (*make_suite) (void),
    const gchar * name)
{
  gchar *reason = NULL;
  gboolean failed;
  gchar *heaps;

  dma_heap_test_setup (name);
  gst_check_init (&argc, &argv);

  dma_heap_test_heaps = dma_heap_test_find_heaps (&reason, &failed);
  if (dma_heap_test_heaps == NULL) {
    if (failed || dma_heap_test_strict ()) {
      g_printerr ("FAIL: %s: %s\n", name, reason);
      g_free (reason);
      return 1;
    }
    g_print ("SKIP: %s: %s\n", name, reason);
    g_free (reason);
    return DMA_HEAP_TEST_SKIP;
  }

  heaps = g_strjoinv (", ", dma_heap_test_heaps);
  g_print ("%s: testing %s heaps %s\n", name,
      fake_active ? "fake" : "the machine's", heaps);
  g_free (heaps);

  return dma_heap_test_run_suite (make_suite (), name, __FILE__);
}

guint
dma_heap_test_count_fds (void)
{
  DIR *dir;
  struct dirent *entry;
  guint n = 0;

  dir = opendir ("/proc/self/fd");
  g_assert_nonnull (dir);
  while ((entry = readdir (dir)) != NULL) {
    if (entry->d_name[0] != '.')
      n++;
  }
  closedir (dir);

  /* the directory itself was one */
  return n - 1;
}

guint
dma_heap_test_count_dmabuf_maps (void)
{
  gchar *contents = NULL;
  gchar **lines;
  guint i, n = 0;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &contents, NULL,
          NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    /* a dma-buf file is named "/dmabuf:<buffer name>"; a fake heap's
     * buffers are files of its pools */
    if (strstr (lines[i], " /dmabuf:") != NULL ||
        strstr (lines[i], " " FAKE_HEAP_DIR "/") != NULL)
      n++;
  }
  g_strfreev (lines);
  g_free (contents);

  return n;
}

gchar *
dma_heap_test_get_buf_name (gint fd)
{
  gchar *path, *contents = NULL, *ret = NULL;
  gchar **lines;
  guint i;

  if (fake_heap_is_buffer (fd)) {
    gchar *name = fake_heap_get_buf_name (fd);

    ret = g_strdup (name);
    free (name);
    return ret;
  }

  path = g_strdup_printf ("/proc/self/fdinfo/%d", fd);
  if (!g_file_get_contents (path, &contents, NULL, NULL)) {
    g_free (path);
    return NULL;
  }
  g_free (path);

  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "name:")) {
      ret = g_strdup (g_strstrip (lines[i] + strlen ("name:")));
      break;
    }
  }
  g_strfreev (lines);
  g_free (contents);

  return ret;
}

gchar *
dma_heap_test_read_bufinfo (void)
{
  gchar *contents = NULL;

  if (!g_file_get_contents ("/sys/kernel/debug/dma_buf/bufinfo", &contents,
          NULL, NULL))
    return NULL;

  return contents;
}

gboolean
dma_heap_test_is_system (const gchar * heap)
{
  return g_str_has_prefix (heap, "system");
}

gchar *
dma_heap_test_cma_area (const gchar * heap)
{
  const gchar *const *names = gst_dma_heap_default_names ();
  gchar *path = g_build_filename ("/sys/kernel/mm/cma", heap, NULL);
  GDir *dir;
  const gchar *entry;
  gchar *ret = NULL;
  guint i;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_free (path);
    return g_strdup (heap);
  }
  g_free (path);
  if (strcmp (heap, names[0]) != 0)
    return NULL;

  dir = g_dir_open ("/sys/kernel/mm/cma", 0, NULL);
  while (dir && !ret && (entry = g_dir_read_name (dir)) != NULL) {
    gsize base = strcspn (entry, "@");

    for (i = 1; names[i] && !ret; i++) {
      if (strlen (names[i]) == base && strncmp (entry, names[i], base) == 0)
        ret = g_strdup (entry);
    }
  }
  if (dir)
    g_dir_close (dir);

  return ret;
}

gboolean
dma_heap_test_cma_counter (const gchar * area, const gchar * counter,
    gint64 * value)
{
  gchar *path = g_build_filename ("/sys/kernel/mm/cma", area, counter, NULL);
  gchar *contents = NULL;
  gboolean ok;

  ok = g_file_get_contents (path, &contents, NULL, NULL);
  if (ok)
    *value = g_ascii_strtoll (contents, NULL, 10);
  g_free (contents);
  g_free (path);

  return ok;
}

gsize
dma_heap_test_find_failing_size (const gchar * heap)
{
  static const gsize mib[] = { 64, 96, 128, 192, 256, 384, 512 };
  GstAllocator *allocator;
  gsize ret = 0;
  guint i;

  if (dma_heap_test_is_system (heap))
    return 0;

  allocator = gst_dma_heap_allocator_new (heap, NULL);
  if (allocator == NULL)
    return 0;

  for (i = 0; i < G_N_ELEMENTS (mib); i++) {
    GError *error = NULL;
    GstMemory *mem;

    mem = gst_dma_heap_allocator_alloc_full (GST_DMA_HEAP_ALLOCATOR
        (allocator), mib[i] << 20, NULL, &error);
    if (mem == NULL) {
      GST_INFO ("heap %s cannot allocate %" G_GSIZE_FORMAT " MiB: %s", heap,
          mib[i], error->message);
      g_error_free (error);
      ret = mib[i] << 20;
      break;
    }
    gst_memory_unref (mem);
  }
  gst_object_unref (allocator);

  return ret;
}

static gchar fail_after_heap[256];
static guint fail_after_n;
static gint fail_after_err;

static void
fail_after_observer (int fd, unsigned long request, void *arg,
    void *user_data)
{
  if (request != DMA_HEAP_IOCTL_ALLOC)
    return;
  if (fake_heap_alloc_count (fail_after_heap) >= fail_after_n)
    fake_heap_fail_alloc (fail_after_heap, fail_after_err, -1);
}

void
dma_heap_test_fail_alloc_after (const gchar * heap, guint n_ok, gint err)
{
  fake_heap_set_observer (NULL, NULL);
  if (fail_after_heap[0])
    fake_heap_fail_alloc (fail_after_heap, 0, 0);
  fail_after_heap[0] = '\0';
  if (err == 0)
    return;

  g_strlcpy (fail_after_heap, heap, sizeof (fail_after_heap));
  fail_after_n = n_ok;
  fail_after_err = err;
  fake_heap_reset_counts ();
  if (n_ok == 0)
    fake_heap_fail_alloc (fail_after_heap, err, -1);
  else
    fake_heap_set_observer (fail_after_observer, NULL);
}
