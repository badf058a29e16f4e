/* gst-dmaheap: helpers of the tests that need a heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/check/gstcheck.h>

G_BEGIN_DECLS

/* meson's exit code for a skipped test */
#define DMA_HEAP_TEST_SKIP 77

/* Heaps to exercise: GST_DMA_HEAP_TEST_HEAPS (a heap spec, every item
 * kept) or else every heap present; only those that open. NULL (and
 * @reason set) when none. */
gchar **      dma_heap_test_find_heaps (gchar ** reason);

/* Runs @suite like GST_CHECK_MAIN does, or exits 77 when no heap opens. */
int           dma_heap_test_main (int argc, char **argv,
                                  Suite * (*make_suite) (void),
                                  const gchar * name);

/* The heaps found by dma_heap_test_main(), NULL terminated. */
extern gchar **dma_heap_test_heaps;

/* Number of open file descriptors of this process. */
guint         dma_heap_test_count_fds (void);

/* Number of dma-buf mappings of this process (lines of /proc/self/maps
 * whose file is a dma-buf). */
guint         dma_heap_test_count_dmabuf_maps (void);

/* The name the kernel has for the dma-buf of @fd (from
 * /proc/self/fdinfo), or NULL. */
gchar *       dma_heap_test_get_buf_name (gint fd);

/* Contents of /sys/kernel/debug/dma_buf/bufinfo, or NULL when debugfs is
 * not mounted or not readable. */
gchar *       dma_heap_test_read_bufinfo (void);

/* TRUE when @heap is the system heap (not physically contiguous). */
gboolean      dma_heap_test_is_system (const gchar * heap);

/* A size @heap alone cannot allocate (probing upwards from its region),
 * or 0 when none up to a limit was found. */
gsize         dma_heap_test_find_failing_size (const gchar * heap);

G_END_DECLS
