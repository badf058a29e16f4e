/* gst-dmaheap: ranges and retries of the allocator on a heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gst_memory_copy() ranges that wrap are refused before anything is
 * allocated, and an ioctl that keeps failing with EAGAIN or EINTR (injected
 * by the interposer of tests/fakeheap) is given up after a bounded number
 * of tries, with an error that names it. Runs on the fake heaps, or on the
 * machine's with GST_DMA_HEAP_TEST_REAL=1 (the test guest).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dmaheaptestutil.h"
#include "fakeheap.h"

#include <gst/allocators/allocators.h>
#include <gst/dmaheap/dmaheap.h>

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

/* what the allocator documents: 8 tries in all */
#define TRIES 8

static GstAllocator *
new_allocator (const gchar * spec)
{
  GError *error = NULL;
  GstAllocator *allocator = gst_dma_heap_allocator_new (spec, &error);

  fail_unless (allocator != NULL, "no allocator on '%s': %s", spec,
      error ? error->message : "");

  return allocator;
}

/* The interposer calls this before every ioctl of the process */
static gint counted_fd = -1;
static unsigned long counted_request;
static guint counted;

static void
count_ioctl (int fd, unsigned long request, void *arg, gpointer user_data)
{
  if (request == counted_request && (counted_fd < 0 || fd == counted_fd))
    g_atomic_int_inc (&counted);
}

static void
count_calls (unsigned long request, gint fd)
{
  counted_request = request;
  counted_fd = fd;
  g_atomic_int_set (&counted, 0);
  fake_heap_set_observer (count_ioctl, NULL);
}

GST_START_TEST (test_mem_copy_ranges)
{
  const gssize size = 100000;
  const struct
  {
    gssize offset, size;
  } bad[] = {
    {G_GINT64_CONSTANT (1) << 62, -(G_GINT64_CONSTANT (1) << 62)},
    {10, -5},
    {0, -2},
    {0, G_MINSSIZE},
    {0, size + 1},
    {1, size},
    {size + 1, -1},
    {size + 1, 0},
    {G_MAXSSIZE, 2},
    {G_MAXSSIZE, -1},
    {1, G_MAXSSIZE},
    {-1, 10},
    {G_MINSSIZE, -1},
  };
  guint h, i;

  for (h = 0; dma_heap_test_heaps[h]; h++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[h]);
    GstMemory *mem, *copy;

    mem = gst_allocator_alloc (allocator, size, NULL);
    fail_unless (mem != NULL);

    /* every DMA_HEAP_IOCTL_ALLOC, failed ones too: offset 2^62 and size
     * -2^62 once reached the heap with a size of 2^64 - 2^62 */
    count_calls (DMA_HEAP_IOCTL_ALLOC, -1);
    for (i = 0; i < G_N_ELEMENTS (bad); i++) {
      copy = gst_memory_copy (mem, bad[i].offset, bad[i].size);
      fail_unless (copy == NULL, "copy of %" G_GSSIZE_FORMAT " bytes at %"
          G_GSSIZE_FORMAT " of %" G_GSSIZE_FORMAT " made", bad[i].size,
          bad[i].offset, size);
    }
    /* refused by the range check, not by the heap */
    fail_unless_equals_int (g_atomic_int_get (&counted), 0);

    /* the edges that are in range */
    copy = gst_memory_copy (mem, size - 1, 1);
    fail_unless (copy != NULL);
    fail_unless_equals_uint64 (copy->size, 1);
    fail_if (GST_IS_DMA_HEAP_ALLOCATOR (copy->allocator));
    gst_memory_unref (copy);
    copy = gst_memory_copy (mem, 4096, -1);
    fail_unless (copy != NULL);
    fail_unless_equals_uint64 (copy->size, size - 4096);
    gst_memory_unref (copy);
    copy = gst_memory_copy (mem, size, -1);
    fail_unless (copy != NULL);
    fail_unless_equals_uint64 (copy->size, 0);
    gst_memory_unref (copy);
    /* and copies are made in system memory: the heap is never asked */
    fail_unless_equals_int (g_atomic_int_get (&counted), 0);
    fake_heap_set_observer (NULL, NULL);

    gst_memory_unref (mem);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

GST_START_TEST (test_alloc_retries_bounded)
{
  const gint errs[] = { EAGAIN, EINTR };
  guint h, e;

  for (h = 0; dma_heap_test_heaps[h]; h++) {
    const gchar *heap = dma_heap_test_heaps[h];
    GstAllocator *allocator = new_allocator (heap);
    GstDmaHeapAllocator *self = GST_DMA_HEAP_ALLOCATOR (allocator);

    for (e = 0; e < G_N_ELEMENTS (errs); e++) {
      GError *error = NULL;
      GstMemory *mem;
      gchar *text;
      gint64 start;

      /* a storm: every call fails */
      count_calls (DMA_HEAP_IOCTL_ALLOC, -1);
      fake_heap_fail_alloc (heap, errs[e], -1);
      start = g_get_monotonic_time ();
      mem = gst_dma_heap_allocator_alloc_full (self, 4096, NULL, &error);
      fake_heap_fail_alloc (heap, 0, 0);
      fail_unless (mem == NULL);
      fail_unless_equals_int (g_atomic_int_get (&counted), TRIES);
      fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC);
      fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
              GST_DMA_HEAP_ERROR_FAILED), "%s", error->message);
      text = g_strdup_printf ("heap %s: DMA_HEAP_IOCTL_ALLOC: %s (tried %d "
          "times)", heap, g_strerror (errs[e]), TRIES);
      fail_unless (strstr (error->message, text) != NULL, "'%s' not in '%s'",
          text, error->message);
      g_free (text);
      g_clear_error (&error);

      /* a shorter burst is ridden out */
      count_calls (DMA_HEAP_IOCTL_ALLOC, -1);
      fake_heap_fail_alloc (heap, errs[e], TRIES - 1);
      mem = gst_dma_heap_allocator_alloc_full (self, 4096, NULL, &error);
      fake_heap_fail_alloc (heap, 0, 0);
      fail_unless (mem != NULL, "%s", error ? error->message : "");
      fail_unless_equals_int (g_atomic_int_get (&counted), TRIES);
      gst_memory_unref (mem);
    }

    fake_heap_set_observer (NULL, NULL);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* The warnings of the allocator's category */
static GString *warnings;

static void
keep_warnings (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (level == GST_LEVEL_WARNING &&
      strcmp (gst_debug_category_get_name (category), "dmaheapallocator") == 0)
    g_string_append_printf (warnings, "%s\n",
        gst_debug_message_get (message));
}

GST_START_TEST (test_sync_retries_bounded)
{
  const gint errs[] = { EAGAIN, EINTR };
  guint h, e;

  warnings = g_string_new (NULL);
  gst_debug_set_threshold_for_name ("dmaheapallocator", GST_LEVEL_WARNING);
  gst_debug_add_log_function (keep_warnings, NULL, NULL);

  for (h = 0; dma_heap_test_heaps[h]; h++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[h]);
    GstMemory *mem = gst_allocator_alloc (allocator, 4096, NULL);
    gint fd;

    fail_unless (mem != NULL);
    fd = gst_dmabuf_memory_get_fd (mem);

    for (e = 0; e < G_N_ELEMENTS (errs); e++) {
      gchar *text;
      gboolean ok;

      g_string_truncate (warnings, 0);
      count_calls (DMA_BUF_IOCTL_SYNC, fd);
      fake_heap_fail_sync (fd, errs[e], -1);
      ok = gst_dma_heap_memory_sync (mem, TRUE, GST_MAP_READ);
      fake_heap_fail_sync (fd, 0, 0);
      fail_if (ok);
      fail_unless_equals_int (g_atomic_int_get (&counted), TRIES);
      text = g_strdup_printf ("DMA_BUF_IOCTL_SYNC start on dma-buf %d failed: "
          "%s (tried %d times)", fd, g_strerror (errs[e]), TRIES);
      fail_unless (strstr (warnings->str, text) != NULL, "'%s' not in '%s'",
          text, warnings->str);
      g_free (text);

      /* a shorter burst is ridden out */
      count_calls (DMA_BUF_IOCTL_SYNC, fd);
      fake_heap_fail_sync (fd, errs[e], TRIES - 1);
      ok = gst_dma_heap_memory_sync (mem, TRUE, GST_MAP_READ);
      fake_heap_fail_sync (fd, 0, 0);
      fail_unless (ok);
      fail_unless_equals_int (g_atomic_int_get (&counted), TRIES);
      fail_unless (gst_dma_heap_memory_sync (mem, FALSE, GST_MAP_READ));
    }

    fake_heap_set_observer (NULL, NULL);
    gst_memory_unref (mem);
    gst_object_unref (allocator);
  }

  gst_debug_remove_log_function (keep_warnings);
  g_string_free (warnings, TRUE);
}

GST_END_TEST;

static Suite *
dmaheaplimits_suite (void)
{
  Suite *s = suite_create ("dmaheaplimits");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_mem_copy_ranges);
  tcase_add_test (tc, test_alloc_retries_bounded);
  tcase_add_test (tc, test_sync_retries_bounded);

  return s;
}

int
main (int argc, char **argv)
{
  return dma_heap_test_main (argc, argv, dmaheaplimits_suite,
      "dmaheaplimits");
}
