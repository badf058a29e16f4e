/* gst-dmaheap: GstDmaHeapAllocator on real heaps
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs on the fake heaps of tests/fakeheap, or on the machine's with
 * GST_DMA_HEAP_TEST_REAL=1 (the test guest). The heaps exercised are those
 * of GST_DMA_HEAP_TEST_HEAPS (a heap spec), or every heap present.
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
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

/* Every ioctl of the process passes the interposer of tests/fakeheap,
 * which calls this: the tests count the DMA_BUF_IOCTL_SYNC and
 * DMA_BUF_SET_NAME calls GStreamer and the library make. */
static gint sync_fd = -1;
static guint sync_start_read, sync_start_write, sync_end_read, sync_end_write;
static guint set_name_calls;

static void
count_ioctl (int fd, unsigned long request, void *arg, void *user_data)
{
  if (request == DMA_BUF_IOCTL_SYNC && fd == sync_fd && arg) {
    const struct dma_buf_sync *sync = arg;
    gboolean end = (sync->flags & DMA_BUF_SYNC_END) != 0;

    if (sync->flags & DMA_BUF_SYNC_READ)
      end ? sync_end_read++ : sync_start_read++;
    if (sync->flags & DMA_BUF_SYNC_WRITE)
      end ? sync_end_write++ : sync_start_write++;
  }
  if (request == DMA_BUF_SET_NAME || request == DMA_BUF_SET_NAME_A ||
      request == DMA_BUF_SET_NAME_B)
    set_name_calls++;
}

static void
reset_sync_counts (gint fd)
{
  fake_heap_set_observer (count_ioctl, NULL);
  sync_fd = fd;
  sync_start_read = sync_start_write = sync_end_read = sync_end_write = 0;
  set_name_calls = 0;
}

static GstAllocator *
new_allocator (const gchar * spec)
{
  GError *error = NULL;
  GstAllocator *allocator = gst_dma_heap_allocator_new (spec, &error);

  fail_unless (allocator != NULL, "no allocator on '%s': %s", spec,
      error ? error->message : "");
  fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (allocator));
  fail_if (g_object_is_floating (allocator));

  return allocator;
}

static void
fill (guint8 * data, gsize size, guint seed)
{
  gsize i;

  for (i = 0; i < size; i++)
    data[i] = (guint8) ((i * 31 + seed) ^ (i >> 12));
}

static gboolean
check_fill (const guint8 * data, gsize size, guint seed)
{
  gsize i;

  for (i = 0; i < size; i++) {
    if (data[i] != (guint8) ((i * 31 + seed) ^ (i >> 12)))
      return FALSE;
  }
  return TRUE;
}

static gsize
page_size (void)
{
  return (gsize) sysconf (_SC_PAGESIZE);
}

GST_START_TEST (test_allocator_new)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator = new_allocator (heap);
    gchar **heaps;

    fail_unless_equals_string (gst_dma_heap_allocator_get_heap_spec
        (GST_DMA_HEAP_ALLOCATOR (allocator)), heap);
    heaps = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
        (allocator));
    fail_unless_equals_int (g_strv_length (heaps), 1);
    fail_unless_equals_string (heaps[0], heap);
    g_strfreev (heaps);

    fail_unless_equals_string (allocator->mem_type, GST_ALLOCATOR_DMABUF);
    fail_unless (GST_IS_DMABUF_ALLOCATOR (allocator));
    fail_if (GST_OBJECT_FLAG_IS_SET (allocator,
            GST_ALLOCATOR_FLAG_CUSTOM_ALLOC));
    fail_unless (gst_dma_heap_allocator_get_last_error (GST_DMA_HEAP_ALLOCATOR
            (allocator)) == NULL);

    ASSERT_OBJECT_REFCOUNT (allocator, "allocator", 1);
    gst_object_unref (allocator);
  }

  /* a path and a list */
  {
    gchar *path = g_strconcat ("/dev/dma_heap/", dma_heap_test_heaps[0], NULL);
    gchar *list = g_strjoinv (",", dma_heap_test_heaps);
    GstAllocator *allocator;
    gchar **heaps;

    allocator = new_allocator (path);
    heaps = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
        (allocator));
    fail_unless_equals_string (heaps[0], dma_heap_test_heaps[0]);
    g_strfreev (heaps);
    gst_object_unref (allocator);

    allocator = new_allocator (list);
    heaps = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
        (allocator));
    fail_unless (g_strv_equal ((const gchar * const *) heaps,
            (const gchar * const *) dma_heap_test_heaps));
    g_strfreev (heaps);
    gst_object_unref (allocator);

    g_free (path);
    g_free (list);
  }
}

GST_END_TEST;

GST_START_TEST (test_alloc_sizes)
{
  const gsize mib = 1024 * 1024;
  const gsize sizes[] = {
    1, 3, 4095, 4096, 4097, 65537, 300001, mib - 1, mib, mib + 3,
    2 * mib + 4095, 3 * mib + 1, 5 * mib + 17, 7 * mib - 5, 8 * mib
  };
  guint i, j;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator = new_allocator (heap);

    for (j = 0; j < G_N_ELEMENTS (sizes); j++) {
      GstMemory *mem;
      GstMapInfo map;

      mem = gst_allocator_alloc (allocator, sizes[j], NULL);
      fail_unless (mem != NULL, "heap %s: no memory of %" G_GSIZE_FORMAT
          " bytes", heap, sizes[j]);

      fail_unless_equals_uint64 (mem->size, sizes[j]);
      fail_unless_equals_uint64 (mem->offset, 0);
      fail_unless (mem->maxsize >= sizes[j]);
      fail_unless_equals_uint64 (mem->maxsize % page_size (), 0);
      fail_unless (mem->maxsize - sizes[j] < page_size ());
      fail_unless (gst_dmabuf_memory_get_fd (mem) >= 0);

      fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
      fail_unless_equals_uint64 (map.size, sizes[j]);
      fill (map.data, map.size, j);
      gst_memory_unmap (mem, &map);

      fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
      fail_unless (check_fill (map.data, map.size, j),
          "heap %s: %" G_GSIZE_FORMAT " bytes read back wrong", heap,
          sizes[j]);
      gst_memory_unmap (mem, &map);

      gst_memory_unref (mem);
    }

    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* Heaps hand out zeroed memory */
GST_START_TEST (test_alloc_zeroed)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[i]);
    GstMemory *mem;
    GstMapInfo map;
    gsize k;

    mem = gst_allocator_alloc (allocator, 3 * page_size () + 5, NULL);
    fail_unless (mem != NULL);
    fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
    for (k = 0; k < map.size; k++)
      fail_unless (map.data[k] == 0, "byte %" G_GSIZE_FORMAT " not zero", k);
    gst_memory_unmap (mem, &map);
    gst_memory_unref (mem);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

GST_START_TEST (test_alloc_params)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[i]);
    GstAllocationParams params;
    GstMemory *mem;
    GstMapInfo map;
    guint8 *base;
    gsize k;

    /* prefix and padding inside the dma-buf, zeroed on request */
    gst_allocation_params_init (&params);
    params.prefix = 100;
    params.padding = 50;
    params.align = 63;
    params.flags = GST_MEMORY_FLAG_ZERO_PREFIXED | GST_MEMORY_FLAG_ZERO_PADDED;

    mem = gst_allocator_alloc (allocator, 1000, &params);
    fail_unless (mem != NULL);
    fail_unless_equals_uint64 (mem->offset, 100);
    fail_unless_equals_uint64 (mem->size, 1000);
    fail_unless_equals_uint64 (mem->maxsize, page_size ());
    fail_unless_equals_uint64 (mem->align, 63);
    fail_unless (GST_MEMORY_IS_ZERO_PREFIXED (mem));
    fail_unless (GST_MEMORY_IS_ZERO_PADDED (mem));

    fail_unless (gst_memory_map (mem, &map, GST_MAP_READWRITE));
    base = map.data - mem->offset;
    fail_unless_equals_uint64 ((guintptr) base % page_size (), 0);
    for (k = 0; k < 100; k++)
      fail_unless (base[k] == 0);
    for (k = 100 + 1000; k < mem->maxsize; k++)
      fail_unless (base[k] == 0);
    memset (map.data, 0xaa, map.size);
    gst_memory_unmap (mem, &map);
    gst_memory_unref (mem);

    /* sizes add up over a page */
    params.flags = 0;
    params.prefix = page_size () - 10;
    params.padding = 20;
    mem = gst_allocator_alloc (allocator, page_size (), &params);
    fail_unless (mem != NULL);
    fail_unless_equals_uint64 (mem->maxsize, 3 * page_size ());
    gst_memory_unref (mem);

    /* more than page alignment cannot be promised: allocated anyway, the
     * memory says what holds */
    gst_allocation_params_init (&params);
    params.align = 4 * page_size () - 1;
    mem = gst_allocator_alloc (allocator, 5000, &params);
    fail_unless (mem != NULL);
    fail_unless_equals_uint64 (mem->align, page_size () - 1);
    gst_memory_unref (mem);

    /* overflow is refused, with a reason */
    {
      GError *error = NULL;

      gst_allocation_params_init (&params);
      params.prefix = 4096;
      mem = gst_dma_heap_allocator_alloc_full (GST_DMA_HEAP_ALLOCATOR
          (allocator), G_MAXSIZE - 100, &params, &error);
      fail_unless (mem == NULL);
      fail_unless (error != NULL);
      fail_unless (strstr (error->message, "overflow") != NULL, "%s",
          error->message);
      g_error_free (error);
    }

    gst_object_unref (allocator);
  }
}

GST_END_TEST;

GST_START_TEST (test_memory_identity)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator = new_allocator (heap);
    GstMemory *mem, *sub, *sysmem;

    mem = gst_allocator_alloc (allocator, 10000, NULL);
    fail_unless (mem != NULL);

    fail_unless (gst_is_dmabuf_memory (mem));
    fail_unless (gst_is_fd_memory (mem));
    fail_unless (gst_is_dma_heap_memory (mem));
    fail_unless (gst_memory_is_type (mem, GST_ALLOCATOR_DMABUF));
    fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem), heap);
    /* the name is interned: a plain pointer comparison works */
    fail_unless (gst_dma_heap_memory_get_heap (mem) == g_intern_string (heap));

    sub = gst_memory_share (mem, 100, 1000);
    fail_unless (sub != NULL);
    fail_unless (gst_is_dmabuf_memory (sub));
    fail_unless (gst_is_dma_heap_memory (sub));
    fail_unless_equals_string (gst_dma_heap_memory_get_heap (sub), heap);
    gst_memory_unref (sub);

    sysmem = gst_allocator_alloc (NULL, 100, NULL);
    fail_if (gst_is_dma_heap_memory (sysmem));
    fail_unless (gst_dma_heap_memory_get_heap (sysmem) == NULL);
    gst_memory_unref (sysmem);

    gst_memory_unref (mem);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* Maps keep the first mapping, and each map/unmap is bracketed by
 * DMA_BUF_IOCTL_SYNC start/end with the map's flags. */
GST_START_TEST (test_keep_mapped_and_sync)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[i]);
    GstMemory *mem;
    GstMapInfo map;
    gpointer first_data;
    gint fd;

    mem = gst_allocator_alloc (allocator, 1 << 20, NULL);
    fail_unless (mem != NULL);
    fd = gst_dmabuf_memory_get_fd (mem);
    reset_sync_counts (fd);

    fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
    fail_unless_equals_int (sync_start_write, 1);
    fail_unless_equals_int (sync_start_read, 0);
    fail_unless_equals_int (sync_end_write, 0);
    first_data = map.data;
    memset (map.data, 0x5a, map.size);
    gst_memory_unmap (mem, &map);
    fail_unless_equals_int (sync_end_write, 1);
    fail_unless_equals_int (sync_end_read, 0);

    fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
    fail_unless_equals_int (sync_start_read, 1);
    fail_unless (map.data == first_data, "not kept mapped");
    fail_unless (map.data[0] == 0x5a && map.data[map.size - 1] == 0x5a);
    gst_memory_unmap (mem, &map);
    fail_unless_equals_int (sync_end_read, 1);

    fail_unless (gst_memory_map (mem, &map, GST_MAP_READWRITE));
    fail_unless (map.data == first_data, "not kept mapped");
    fail_unless_equals_int (sync_start_read, 2);
    fail_unless_equals_int (sync_start_write, 2);
    gst_memory_unmap (mem, &map);
    fail_unless_equals_int (sync_end_read, 2);
    fail_unless_equals_int (sync_end_write, 2);

    /* the explicit sync */
    fail_unless (gst_dma_heap_memory_sync (mem, TRUE, GST_MAP_READ));
    fail_unless_equals_int (sync_start_read, 3);
    fail_unless (gst_dma_heap_memory_sync (mem, FALSE, GST_MAP_READ));
    fail_unless_equals_int (sync_end_read, 3);
    fail_unless (gst_dma_heap_memory_sync (mem, TRUE, GST_MAP_WRITE));
    fail_unless_equals_int (sync_start_write, 3);
    fail_unless_equals_int (sync_start_read, 3);
    fail_unless (gst_dma_heap_memory_sync (mem, FALSE, GST_MAP_WRITE));
    fail_unless_equals_int (sync_end_write, 3);
    /* no flags: both */
    fail_unless (gst_dma_heap_memory_sync (mem, TRUE, 0));
    fail_unless (gst_dma_heap_memory_sync (mem, FALSE, 0));
    fail_unless_equals_int (sync_start_read, 4);
    fail_unless_equals_int (sync_end_write, 4);

    reset_sync_counts (-1);
    gst_memory_unref (mem);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* With a label, each dma-buf is named "<label>:<heap>", as the kernel
 * shows it; without one (the default, or after a NULL label) it is not
 * named at all, which saves the system call. */
GST_START_TEST (test_buffer_name)
{
  gboolean bufinfo_checked = FALSE;
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator = new_allocator (heap);
    gchar *expected, *name, *bufinfo, *label;
    GstMemory *mem;
    gint fd;

    /* no label: no name, and no DMA_BUF_SET_NAME */
    reset_sync_counts (-1);
    mem = gst_allocator_alloc (allocator, 4096, NULL);
    fail_unless (mem != NULL);
    fail_unless_equals_int (set_name_calls, 0);
    name = dma_heap_test_get_buf_name (gst_dmabuf_memory_get_fd (mem));
    fail_unless (name == NULL, "unlabelled buffer named '%s'", name);
    gst_memory_unref (mem);

    /* a label */
    label = g_strdup_printf ("chk%u", i);
    gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (allocator),
        label);
    mem = gst_allocator_alloc (allocator, 4096, NULL);
    fail_unless (mem != NULL);
    fd = gst_dmabuf_memory_get_fd (mem);
    expected = g_strdup_printf ("%s:%s", label, heap);
    expected[MIN (strlen (expected), DMA_BUF_NAME_LEN - 1)] = '\0';
    name = dma_heap_test_get_buf_name (fd);
    fail_unless_equals_string (name, expected);
    g_free (name);

    bufinfo = dma_heap_test_read_bufinfo ();
    if (bufinfo) {
      fail_unless (strstr (bufinfo, expected) != NULL,
          "'%s' not in /sys/kernel/debug/dma_buf/bufinfo", expected);
      bufinfo_checked = TRUE;
      g_free (bufinfo);
    }
    g_free (expected);
    gst_memory_unref (mem);
    g_free (label);

    /* a long label is cut to what the kernel takes */
    gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (allocator),
        "a-label-far-too-long-for-a-dma-buf-name");
    mem = gst_allocator_alloc (allocator, 4096, NULL);
    fail_unless (mem != NULL);
    name = dma_heap_test_get_buf_name (gst_dmabuf_memory_get_fd (mem));
    fail_unless_equals_string (name, "a-label-far-too-long-for-a-dma-");
    g_free (name);
    gst_memory_unref (mem);

    /* a NULL label stops the naming again */
    gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (allocator),
        NULL);
    mem = gst_allocator_alloc (allocator, 4096, NULL);
    fail_unless (mem != NULL);
    name = dma_heap_test_get_buf_name (gst_dmabuf_memory_get_fd (mem));
    fail_unless (name == NULL, "buffer named '%s' after a NULL label", name);
    gst_memory_unref (mem);

    gst_object_unref (allocator);
  }

  /* On a fake heap the name checked is the one DMA_BUF_SET_NAME was given;
   * what the kernel shows of it (fdinfo, bufinfo) is checked on real heaps,
   * where the test guest mounts debugfs. */
  if (dma_heap_test_is_fake ())
    GST_INFO ("fake heaps: names checked as DMA_BUF_SET_NAME set them");
  else if (g_file_test ("/sys/kernel/debug/dma_buf", G_FILE_TEST_IS_DIR))
    fail_unless (bufinfo_checked, "debugfs is mounted but bufinfo unreadable");
  else if (dma_heap_test_strict ())
    fail ("debugfs is not mounted: the names in bufinfo cannot be checked");
  else
    GST_INFO ("debugfs not mounted: names checked through fdinfo only");
}

GST_END_TEST;

/* A request the contiguous heap cannot satisfy lands in the next heap */
GST_START_TEST (test_fallback_on_enomem)
{
  const gchar *small = NULL;
  gsize too_big = 0;
  gchar *spec;
  GstAllocator *allocator;
  GstMemory *mem;
  GError *error = NULL;
  GstMapInfo map;
  gboolean inject = FALSE;
  gint fd;
  guint i;

  /* system is the fallback, tested or not */
  fd = gst_dma_heap_open ("system", NULL);
  dma_heap_test_require (fd >= 0, "no system heap to fall back to");
  close (fd);

  for (i = 0; dma_heap_test_heaps[i] && too_big == 0; i++) {
    if (dma_heap_test_is_system (dma_heap_test_heaps[i]))
      continue;
    if (small == NULL)
      small = dma_heap_test_heaps[i];
    too_big = dma_heap_test_find_failing_size (dma_heap_test_heaps[i]);
    if (too_big)
      small = dma_heap_test_heaps[i];
  }
  dma_heap_test_require (small != NULL, "no heap but system to fall back "
      "from");

  /* no region here can be filled: the first heap is made to refuse the
   * big requests, as a full region does */
  if (too_big == 0) {
    inject = TRUE;
    too_big = 8 << 20;
  }
  GST_INFO ("heap %s cannot allocate %" G_GSIZE_FORMAT " bytes%s", small,
      too_big, inject ? " (ENOMEM injected)" : "");

  /* alone, it fails and says why */
  allocator = new_allocator (small);
  if (inject)
    fake_heap_fail_alloc (small, ENOMEM, 1);
  mem = gst_dma_heap_allocator_alloc_full (GST_DMA_HEAP_ALLOCATOR (allocator),
      too_big, NULL, &error);
  fail_unless (mem == NULL);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_NO_MEMORY), "%s", error->message);
  g_clear_error (&error);
  gst_object_unref (allocator);

  /* with system behind it, the memory comes from system */
  spec = g_strdup_printf ("%s,system", small);
  allocator = new_allocator (spec);
  if (inject)
    fake_heap_fail_alloc (small, ENOMEM, 1);
  mem = gst_allocator_alloc (allocator, too_big, NULL);
  fail_unless (mem != NULL, "no fallback to system");
  fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem), "system");
  fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
  map.data[0] = 1;
  map.data[map.size - 1] = 2;
  gst_memory_unmap (mem, &map);
  gst_memory_unref (mem);

  /* small requests still come from the first heap */
  mem = gst_allocator_alloc (allocator, 1 << 20, NULL);
  fail_unless (mem != NULL);
  fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem), small);
  gst_memory_unref (mem);

  gst_object_unref (allocator);
  g_free (spec);
}

GST_END_TEST;

/* When every heap fails, the error says which, how much and why. Only the
 * contiguous heaps are asked for more than they hold: the system heap
 * takes pages until the OOM killer steps in. */
GST_START_TEST (test_all_heaps_fail)
{
  const gsize huge = sizeof (gsize) >= 8 ? (gsize) 1 << 40 : (gsize) 3 << 30;
  GPtrArray *small = g_ptr_array_new ();
  gboolean inject = FALSE;
  GstAllocator *allocator;
  GError *error = NULL, *last;
  GstMemory *mem;
  gchar *spec, *asked;
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    if (!dma_heap_test_is_system (dma_heap_test_heaps[i]))
      g_ptr_array_add (small, dma_heap_test_heaps[i]);
  }
  /* Only the system heap: it is made to refuse, as it would refuse a
   * request above the machine's memory if the OOM killer did not come
   * first. */
  if (small->len == 0) {
    inject = TRUE;
    for (i = 0; dma_heap_test_heaps[i]; i++) {
      g_ptr_array_add (small, dma_heap_test_heaps[i]);
      fake_heap_fail_alloc (dma_heap_test_heaps[i], ENOMEM, -1);
    }
  }
  g_ptr_array_add (small, NULL);

  spec = g_strjoinv (",", (gchar **) small->pdata);
  asked = g_strdup_printf ("%" G_GSIZE_FORMAT, huge);
  allocator = new_allocator (spec);

  mem = gst_dma_heap_allocator_alloc_full (GST_DMA_HEAP_ALLOCATOR (allocator),
      huge, NULL, &error);
  fail_unless (mem == NULL);
  fail_unless (error != NULL);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_NO_MEMORY), "%s", error->message);
  fail_unless (strstr (error->message, asked) != NULL, "%s", error->message);
  for (i = 0; i + 1 < small->len; i++)
    fail_unless (strstr (error->message, g_ptr_array_index (small, i)) !=
        NULL, "%s", error->message);
  fail_unless (strstr (error->message, g_strerror (ENOMEM)) != NULL, "%s",
      error->message);

  last = gst_dma_heap_allocator_get_last_error (GST_DMA_HEAP_ALLOCATOR
      (allocator));
  fail_unless (last != NULL);
  fail_unless_equals_string (last->message, error->message);
  g_error_free (last);
  g_clear_error (&error);

  /* through the GstAllocator API: NULL, and the error is kept */
  mem = gst_allocator_alloc (allocator, huge + 4096, NULL);
  fail_unless (mem == NULL);
  last = gst_dma_heap_allocator_get_last_error (GST_DMA_HEAP_ALLOCATOR
      (allocator));
  fail_unless (last != NULL);
  g_free (asked);
  asked = g_strdup_printf ("%" G_GSIZE_FORMAT, huge + 4096);
  fail_unless (strstr (last->message, asked) != NULL, "%s", last->message);
  g_error_free (last);

  /* and the allocator still works */
  for (i = 0; inject && i + 1 < small->len; i++)
    fake_heap_fail_alloc (g_ptr_array_index (small, i), 0, 0);
  mem = gst_allocator_alloc (allocator, 4096, NULL);
  fail_unless (mem != NULL);
  gst_memory_unref (mem);

  gst_object_unref (allocator);
  g_ptr_array_free (small, TRUE);
  g_free (asked);
  g_free (spec);
}

GST_END_TEST;

/* No fd leaks: heap devices and dma-bufs are all closed */
GST_START_TEST (test_fd_count)
{
  guint before, during, i, j;
  GstMemory *mems[10];

  /* anything GStreamer opens once, opened before counting */
  gst_dma_heap_allocator_init_once ();

  before = dma_heap_test_count_fds ();

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[i]);
    GError *error = NULL;
    gint fd;

    fail_unless_equals_int (dma_heap_test_count_fds (), before + 1);

    for (j = 0; j < G_N_ELEMENTS (mems); j++) {
      GstMapInfo map;

      mems[j] = gst_allocator_alloc (allocator, 65536 + j, NULL);
      fail_unless (mems[j] != NULL);
      fail_unless (gst_memory_map (mems[j], &map, GST_MAP_READWRITE));
      gst_memory_unmap (mems[j], &map);
    }
    during = dma_heap_test_count_fds ();
    fail_unless_equals_int (during, before + 1 + G_N_ELEMENTS (mems));

    for (j = 0; j < G_N_ELEMENTS (mems); j++)
      gst_memory_unref (mems[j]);
    fail_unless_equals_int (dma_heap_test_count_fds (), before + 1);

    gst_object_unref (allocator);
    fail_unless_equals_int (dma_heap_test_count_fds (), before);

    fd = gst_dma_heap_open (dma_heap_test_heaps[i], &error);
    fail_unless (fd >= 0, "%s", error ? error->message : "");
    fail_unless (fcntl (fd, F_GETFD) & FD_CLOEXEC);
    close (fd);
  }

  fail_unless_equals_int (dma_heap_test_count_fds (), before);
}

GST_END_TEST;

GST_START_TEST (test_registered_allocator)
{
  GstAllocator *found;
  gchar **defaults;
  gint fd = -1;

  gst_dma_heap_allocator_init_once ();
  gst_dma_heap_allocator_init_once ();

  defaults = gst_dma_heap_resolve ("default", NULL);
  if (defaults)
    fd = gst_dma_heap_open (defaults[0], NULL);

  found = gst_allocator_find (GST_ALLOCATOR_DMAHEAP);
  if (fd < 0) {
    fail_unless (found == NULL, "registered without a default heap");
  } else {
    GstMemory *mem;

    close (fd);
    fail_unless (found != NULL, "nothing registered as '%s'",
        GST_ALLOCATOR_DMAHEAP);
    fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (found));
    fail_unless_equals_string (gst_dma_heap_allocator_get_heap_spec
        (GST_DMA_HEAP_ALLOCATOR (found)), GST_DMA_HEAP_DEFAULT_ALIAS);

    mem = gst_allocator_alloc (found, 1000, NULL);
    fail_unless (mem != NULL);
    fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem),
        defaults[0]);
    gst_memory_unref (mem);
    gst_object_unref (found);
  }
  g_strfreev (defaults);
}

GST_END_TEST;

/* CUSTOM_ALLOC is cleared: generic code allocates from the allocator */
GST_START_TEST (test_buffer_new_allocate)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[i]);
    GstBuffer *buf;
    GstMemory *mem;
    GstMapInfo map;

    buf = gst_buffer_new_allocate (allocator, 12345, NULL);
    fail_unless (buf != NULL);
    fail_unless_equals_int (gst_buffer_n_memory (buf), 1);
    fail_unless_equals_uint64 (gst_buffer_get_size (buf), 12345);
    mem = gst_buffer_peek_memory (buf, 0);
    fail_unless (gst_is_dma_heap_memory (mem));
    fail_unless (mem->allocator == allocator);

    fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
    fill (map.data, map.size, 7);
    gst_buffer_unmap (buf, &map);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (check_fill (map.data, map.size, 7));
    gst_buffer_unmap (buf, &map);

    gst_buffer_unref (buf);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* A copy comes from the same heap, with the same bytes */
GST_START_TEST (test_mem_copy)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator;
    GstMemory *mem, *copy;
    GstMapInfo map, cmap;
    gchar *spec;

    /* copies go to system memory, whichever heap of the list the
     * original is in */
    spec = dma_heap_test_heaps[i + 1] ?
        g_strdup_printf ("%s,%s", dma_heap_test_heaps[i + 1], heap) :
        g_strdup (heap);
    allocator = new_allocator (spec);

    mem = gst_allocator_alloc (allocator, 100000, NULL);
    fail_unless (mem != NULL);
    if (dma_heap_test_heaps[i + 1])
      fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem),
          dma_heap_test_heaps[i + 1]);
    fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
    fill (map.data, map.size, 3);
    gst_memory_unmap (mem, &map);

    fake_heap_reset_counts ();
    copy = gst_memory_copy (mem, 0, -1);
    fail_unless (copy != NULL);
    fail_unless (copy != mem);
    fail_if (gst_is_dma_heap_memory (copy));
    fail_if (gst_is_dmabuf_memory (copy));
    fail_unless (gst_memory_is_type (copy, GST_ALLOCATOR_SYSMEM));
    fail_unless_equals_uint64 (copy->size, 100000);
    fail_unless (gst_memory_map (copy, &cmap, GST_MAP_READ));
    fail_unless (check_fill (cmap.data, cmap.size, 3));
    gst_memory_unmap (copy, &cmap);
    gst_memory_unref (copy);

    /* a part */
    copy = gst_memory_copy (mem, 4096, 5000);
    fail_unless (copy != NULL);
    fail_unless_equals_uint64 (copy->size, 5000);
    fail_unless (gst_memory_map (copy, &cmap, GST_MAP_READ));
    fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
    fail_unless (memcmp (cmap.data, map.data + 4096, 5000) == 0);
    gst_memory_unmap (mem, &map);
    gst_memory_unmap (copy, &cmap);
    gst_memory_unref (copy);

    /* a writable copy of a buffer (what gst_buffer_make_writable and
     * friends end up doing) */
    {
      GstBuffer *buf = gst_buffer_new ();
      GstBuffer *deep;

      gst_buffer_append_memory (buf, gst_memory_ref (mem));
      deep = gst_buffer_copy_deep (buf);
      fail_unless (deep != NULL);
      fail_if (gst_is_dma_heap_memory (gst_buffer_peek_memory (deep, 0)));
      fail_unless (gst_buffer_peek_memory (deep, 0) != mem);
      gst_buffer_unref (deep);
      gst_buffer_unref (buf);
    }
    /* none of the copies took memory from a heap */
    fail_unless_equals_int (fake_heap_alloc_count (NULL), 0);

    gst_memory_unref (mem);
    gst_object_unref (allocator);
    g_free (spec);
  }
}

GST_END_TEST;

/* Symlinks inside /dev/dma_heap: followed only to another heap there */
GST_START_TEST (test_open_symlinks)
{
  const gchar *inside = "/dev/dma_heap/gstcheck-alias";
  const gchar *outside = "/dev/dma_heap/gstcheck-outside";
  const gchar *chain = "/dev/dma_heap/gstcheck-chain";
  GError *error = NULL;
  gchar *target;
  gint fd, err;

  /* leftovers of an interrupted run */
  unlink (inside);
  unlink (outside);
  unlink (chain);

  err = symlink (dma_heap_test_heaps[0], inside) < 0 ? errno : 0;
  dma_heap_test_require (err == 0, "cannot create a symlink in "
      "/dev/dma_heap: %s", g_strerror (err));
  target = g_strconcat ("../dma_heap/", dma_heap_test_heaps[0], NULL);
  fail_unless (symlink ("/dev/zero", outside) == 0);
  fail_unless (symlink ("gstcheck-alias", chain) == 0);

  fd = gst_dma_heap_open ("gstcheck-alias", &error);
  fail_unless (fd >= 0, "%s", error ? error->message : "");
  close (fd);

  fd = gst_dma_heap_open ("gstcheck-outside", &error);
  fail_unless_equals_int (fd, -1);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_INVALID_NAME));
  fail_unless (strstr (error->message, "symlink leaves /dev/dma_heap") !=
      NULL, "%s", error->message);
  g_clear_error (&error);

  fd = gst_dma_heap_open ("gstcheck-chain", &error);
  fail_unless_equals_int (fd, -1);
  fail_unless (error != NULL);
  g_clear_error (&error);

  /* a relative link that goes out and comes back in is fine */
  fail_unless (unlink (inside) == 0);
  fail_unless (symlink (target, inside) == 0);
  fd = gst_dma_heap_open ("gstcheck-alias", &error);
  fail_unless (fd >= 0, "%s", error ? error->message : "");
  close (fd);

  unlink (inside);
  unlink (outside);
  unlink (chain);
  g_free (target);
}

GST_END_TEST;

/* A user without access gets told what to do */
GST_START_TEST (test_open_permission)
{
  const gchar *heap = dma_heap_test_heaps[0];
  gchar *path;
  struct stat st;
  pid_t pid;
  int status;

  dma_heap_test_require (getuid () == 0, "not root: cannot become a user "
      "without access to the heap");
  path = gst_dma_heap_get_device_path (heap);
  fail_unless (stat (path, &st) == 0);
  /* the node for root alone while the test runs, whatever it was */
  fail_unless (chmod (path, 0600) == 0);

  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    GError *error = NULL;
    gint fd;

    if (setgroups (0, NULL) < 0 || setgid (65534) < 0 || setuid (65534) < 0)
      _exit (2);

    fd = gst_dma_heap_open (heap, &error);
    if (fd >= 0)
      _exit (3);
    if (!g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_PERMISSION))
      _exit (4);
    if (strstr (error->message, path) == NULL ||
        strstr (error->message, g_strerror (EACCES)) == NULL ||
        strstr (error->message, "SUBSYSTEM==\"dma_heap\"") == NULL ||
        strstr (error->message, "GROUP=\"video\"") == NULL ||
        strstr (error->message, "crw") == NULL ||
        strstr (error->message, "another heap") == NULL) {
      g_printerr ("permission message: %s\n", error->message);
      _exit (5);
    }

    /* the allocator keeps that message */
    g_clear_error (&error);
    if (gst_dma_heap_allocator_new (heap, &error) != NULL)
      _exit (6);
    if (!g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_PERMISSION))
      _exit (7);
    _exit (0);
  }

  /* put the node back before any assertion */
  status = -1;
  if (pid > 0 && waitpid (pid, &status, 0) != pid)
    status = -1;
  fail_unless (chmod (path, st.st_mode & 07777) == 0);
  fail_unless (status != -1);
  fail_unless (WIFEXITED (status));
  fail_unless_equals_int (WEXITSTATUS (status), 0);
  g_free (path);
}

GST_END_TEST;

/* What the udev rule of the docs gives: the node group-readable and
 * writable, and a user in that group (not root) allocates; a user outside
 * it still gets the permission error. The node's owner and mode are put
 * back afterwards. */
#define TEST_GROUP 4242

static gint
child_open_and_alloc (const gchar * heap, gboolean in_group)
{
  gid_t groups[1] = { TEST_GROUP };
  GstAllocator *allocator;
  GstMemory *mem;
  GError *error = NULL;
  gint fd;

  if (setgroups (in_group ? 1 : 0, groups) < 0 || setgid (65534) < 0 ||
      setuid (65534) < 0)
    return 2;

  fd = gst_dma_heap_open (heap, &error);
  if (!in_group) {
    if (fd >= 0 || !g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_PERMISSION))
      return 3;
    g_error_free (error);
    return 0;
  }
  if (fd < 0) {
    g_printerr ("in the group: %s\n", error->message);
    return 4;
  }
  close (fd);

  allocator = gst_dma_heap_allocator_new (heap, &error);
  if (!allocator) {
    g_printerr ("in the group: %s\n", error->message);
    return 5;
  }
  mem = gst_allocator_alloc (allocator, 4096, NULL);
  if (!mem)
    return 6;
  gst_memory_unref (mem);
  gst_object_unref (allocator);
  return 0;
}

GST_START_TEST (test_open_group_permission)
{
  const gchar *heap = dma_heap_test_heaps[0];
  gchar *path;
  struct stat st;
  gint results[2];
  guint i;

  dma_heap_test_require (getuid () == 0, "not root: cannot change the "
      "heap node's group or become a user in it");
  path = gst_dma_heap_get_device_path (heap);
  fail_unless (stat (path, &st) == 0);

  fail_unless (chown (path, st.st_uid, TEST_GROUP) == 0);
  fail_unless (chmod (path, 0660) == 0);

  for (i = 0; i < 2; i++) {
    pid_t pid = fork ();
    int status;

    if (pid == 0)
      _exit (child_open_and_alloc (heap, i == 0));
    results[i] = -1;
    if (pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status))
      results[i] = WEXITSTATUS (status);
  }

  /* put the node back before any assertion */
  fail_unless (chmod (path, st.st_mode & 07777) == 0);
  fail_unless (chown (path, st.st_uid, st.st_gid) == 0);

  fail_unless_equals_int (results[0], 0);       /* in the group: works */
  fail_unless_equals_int (results[1], 0);       /* outside: refused */
  g_free (path);
}

GST_END_TEST;

static Suite *
dmaheapallocator_suite (void)
{
  Suite *s = suite_create ("dmaheapallocator");
  TCase *tc = tcase_create ("general");

  /* fills CMA regions and the system heap in an emulated machine */
  tcase_set_timeout (tc, 150);

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_allocator_new);
  tcase_add_test (tc, test_alloc_sizes);
  tcase_add_test (tc, test_alloc_zeroed);
  tcase_add_test (tc, test_alloc_params);
  tcase_add_test (tc, test_memory_identity);
  tcase_add_test (tc, test_keep_mapped_and_sync);
  tcase_add_test (tc, test_buffer_name);
  tcase_add_test (tc, test_fallback_on_enomem);
  tcase_add_test (tc, test_all_heaps_fail);
  tcase_add_test (tc, test_fd_count);
  tcase_add_test (tc, test_registered_allocator);
  tcase_add_test (tc, test_buffer_new_allocate);
  tcase_add_test (tc, test_mem_copy);
  tcase_add_test (tc, test_open_symlinks);
  tcase_add_test (tc, test_open_permission);
  tcase_add_test (tc, test_open_group_permission);

  return s;
}

int
main (int argc, char **argv)
{
  return dma_heap_test_main (argc, argv, dmaheapallocator_suite,
      "dmaheapallocator");
}
