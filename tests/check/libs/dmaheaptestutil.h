/* gst-dmaheap: helpers of the tests that need a heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/check/gstcheck.h>

G_BEGIN_DECLS

/* meson's exit code for a skipped test */
#define DMA_HEAP_TEST_SKIP 77

/* Strict mode: GST_DMA_HEAP_TEST_STRICT=1 (set in the test guest), and
 * always on the fake heaps, which can do everything a test asks. A test
 * that cannot do what it exists for (no second heap, no fillable region,
 * not root...) then fails instead of returning. */
gboolean      dma_heap_test_strict (void);

/* In a test body: @cond must hold for the test to do what it exists for.
 * When it does not: in strict mode the test fails with the message; else
 * it prints "SKIP-REASON: <test>: <message>", is counted as skipped and
 * returns. A program run with dma_heap_test_run_suite() then exits 77
 * (meson's skip) when a test skipped and none failed. */
#define dma_heap_test_require(cond, ...) G_STMT_START {                \
  if (G_UNLIKELY (!(cond))) {                                          \
    if (dma_heap_test_strict ())                                       \
      fail (__VA_ARGS__);                                              \
    dma_heap_test_skip (__func__, __VA_ARGS__);                        \
    return;                                                            \
  }                                                                    \
} G_STMT_END

/* Records that test @test skipped, and why (see dma_heap_test_require()).
 * The record survives libcheck's fork of each test. */
void          dma_heap_test_skip (const gchar * test, const gchar * format,
                                  ...) G_GNUC_PRINTF (2, 3);

/* Number of tests that skipped since the suite started. */
guint         dma_heap_test_n_skipped (void);

/* Runs @suite as gst_check_run_suite() does; returns the number of
 * failures, or 77 when there was none but a test skipped (the last line
 * printed then lists the skipped tests and why). */
int           dma_heap_test_run_suite (Suite * suite, const gchar * name,
                                       const gchar * fname);

/* Sets up the heaps the tests run on: the fake ones (tests/fakeheap),
 * unless GST_DMA_HEAP_TEST_REAL=1 asks for the machine's. Exits 77 when
 * the fake heaps cannot be set up here. Call first in main(). */
void          dma_heap_test_setup (const gchar * name);

/* Whether the tests run on the fake heaps. */
gboolean      dma_heap_test_is_fake (void);

/* Heaps to exercise: GST_DMA_HEAP_TEST_HEAPS (a heap spec) or else every
 * heap present; only those that open. NULL (and @reason set) when none. In
 * strict mode, a heap of GST_DMA_HEAP_TEST_HEAPS that is missing or does
 * not open is a failure: NULL, @reason set and @failed TRUE. */
gchar **      dma_heap_test_find_heaps (gchar ** reason, gboolean * failed);

/* Runs @suite like GST_CHECK_MAIN does, on the fake heaps unless
 * GST_DMA_HEAP_TEST_REAL=1; exits 77 when no heap opens (1 in strict mode). */
int           dma_heap_test_main (int argc, char **argv,
                                  Suite * (*make_suite) (void),
                                  const gchar * name);

/* The heaps found by dma_heap_test_main(), NULL terminated. */
extern gchar **dma_heap_test_heaps;

/* Number of open file descriptors of this process. */
guint         dma_heap_test_count_fds (void);

/* Number of dma-buf mappings of this process (lines of /proc/self/maps
 * whose file is a dma-buf, of the kernel or of a fake heap). */
guint         dma_heap_test_count_dmabuf_maps (void);

/* The name the kernel has for the dma-buf of @fd (from
 * /proc/self/fdinfo), or NULL. On a fake heap, the name the process gave
 * it with DMA_BUF_SET_NAME as the fake kept it. */
gchar *       dma_heap_test_get_buf_name (gint fd);

/* Contents of /sys/kernel/debug/dma_buf/bufinfo, or NULL when debugfs is
 * not mounted or not readable. */
gchar *       dma_heap_test_read_bufinfo (void);

/* TRUE when @heap is the system heap (not physically contiguous). */
gboolean      dma_heap_test_is_system (const gchar * heap);

/* The CMA area of @heap in /sys/kernel/mm/cma (free with g_free()), or
 * NULL (the system heap, a fake heap): a named region's area has the
 * heap's name; the default area keeps one of the older names of the
 * default heap, with or without a unit address. */
gchar *       dma_heap_test_cma_area (const gchar * heap);

/* @counter of CMA area @area (alloc_pages_success, release_pages_success,
 * ...) in @value; FALSE when the kernel has no such file
 * (CONFIG_CMA_SYSFS). */
gboolean      dma_heap_test_cma_counter (const gchar * area,
                                         const gchar * counter,
                                         gint64 * value);

/* A size @heap alone cannot allocate (probing upwards from its region),
 * or 0 when none up to a limit was found. */
gsize         dma_heap_test_find_failing_size (const gchar * heap);

/* From now on, every DMA_HEAP_IOCTL_ALLOC on @heap fails with @err once
 * @n_ok of them succeeded (counted from this call): a heap exhausted on
 * purpose, real or fake. @err 0 stops it. Uses the interposer's observer
 * and resets its counts. */
void          dma_heap_test_fail_alloc_after (const gchar * heap, guint n_ok,
                                              gint err);

G_END_DECLS
