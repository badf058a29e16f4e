/* gst-dmaheap: GstDmaHeapBufferPool with real buffers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs on the fake heaps of tests/fakeheap, or on the machine's with
 * GST_DMA_HEAP_TEST_REAL=1 (the test guest). The heaps exercised are those
 * of GST_DMA_HEAP_TEST_HEAPS (a heap spec), or every heap present.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dmaheaptestutil.h"
#include "fakeheap.h"

#include <gst/allocators/allocators.h>
#include <gst/dmaheap/dmaheap.h>
#include <gst/video/video.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

static GstAllocator *
new_allocator (const gchar * spec)
{
  GError *error = NULL;
  GstAllocator *allocator = gst_dma_heap_allocator_new (spec, &error);

  fail_unless (allocator != NULL, "no allocator on '%s': %s", spec,
      error ? error->message : "");
  return allocator;
}

static GstCaps *
video_caps (const gchar * format, gint width, gint height, GstVideoInfo * info)
{
  GstCaps *caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, format,
      "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
      "framerate", GST_TYPE_FRACTION, 30, 1, NULL);

  fail_unless (gst_video_info_from_caps (info, caps));
  return caps;
}

/* set_config, accepting a corrected config once */
static void
configure (GstBufferPool * pool, GstStructure * config)
{
  if (!gst_buffer_pool_set_config (pool, config)) {
    config = gst_buffer_pool_get_config (pool);
    fail_unless (gst_buffer_pool_set_config (pool, config),
        "corrected config refused");
  }
}

static GstBufferPool *
new_pool (GstAllocator * allocator, GstCaps * caps, guint size, guint min,
    guint max, gboolean videometa)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (allocator);
  GstStructure *config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  if (videometa)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  configure (pool, config);

  return pool;
}

static GstBuffer *
acquire (GstBufferPool * pool)
{
  GstBuffer *buf = NULL;

  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf, NULL),
      GST_FLOW_OK);
  fail_unless (buf != NULL);
  return buf;
}

/* Write every line of every plane through a video frame, read it back. */
static void
check_frame_access (GstBuffer * buf, GstVideoInfo * info)
{
  GstVideoFrame frame;
  guint p, y;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    guint rows = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);
    guint row_bytes = GST_VIDEO_FRAME_COMP_WIDTH (&frame, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, p);

    for (y = 0; y < rows; y++)
      memset (data + y * stride, (guint8) (y + p * 7), row_bytes);
  }
  gst_video_frame_unmap (&frame);

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    guint rows = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);
    guint row_bytes = GST_VIDEO_FRAME_COMP_WIDTH (&frame, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, p);

    for (y = 0; y < rows; y++) {
      fail_unless (data[y * stride] == (guint8) (y + p * 7));
      fail_unless (data[y * stride + row_bytes - 1] == (guint8) (y + p * 7));
    }
  }
  gst_video_frame_unmap (&frame);
}

static void
check_video_meta (GstBuffer * buf, GstVideoInfo * info)
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);
  guint p;

  fail_unless (meta != NULL, "no video meta");
  fail_unless_equals_int (meta->format, GST_VIDEO_INFO_FORMAT (info));
  fail_unless_equals_int (meta->width, GST_VIDEO_INFO_WIDTH (info));
  fail_unless_equals_int (meta->height, GST_VIDEO_INFO_HEIGHT (info));
  fail_unless_equals_int (meta->n_planes, GST_VIDEO_INFO_N_PLANES (info));
  for (p = 0; p < meta->n_planes; p++) {
    fail_unless_equals_uint64 (meta->offset[p],
        GST_VIDEO_INFO_PLANE_OFFSET (info, p));
    fail_unless_equals_int (meta->stride[p],
        GST_VIDEO_INFO_PLANE_STRIDE (info, p));
  }
}

GST_START_TEST (test_video_bgrx)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator = new_allocator (heap);
    GstVideoInfo info;
    GstCaps *caps = video_caps ("BGRx", 642, 482, &info);
    GstBufferPool *pool;
    GstBuffer *buf;
    GstMemory *mem;
    GstAllocator *got;

    pool = new_pool (allocator, caps, GST_VIDEO_INFO_SIZE (&info), 2, 4, TRUE);
    got = gst_dma_heap_buffer_pool_get_allocator (GST_DMA_HEAP_BUFFER_POOL
        (pool));
    fail_unless (got == allocator);
    gst_object_unref (got);

    fail_unless (gst_buffer_pool_set_active (pool, TRUE));
    buf = acquire (pool);

    fail_unless_equals_int (gst_buffer_n_memory (buf), 1);
    mem = gst_buffer_peek_memory (buf, 0);
    fail_unless (gst_is_dmabuf_memory (mem));
    fail_unless (gst_is_dma_heap_memory (mem));
    fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem), heap);
    fail_unless_equals_uint64 (mem->offset, 0);
    fail_unless_equals_uint64 (gst_buffer_get_size (buf),
        GST_VIDEO_INFO_SIZE (&info));
    fail_unless_equals_int (GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 642 * 4);
    check_video_meta (buf, &info);
    check_frame_access (buf, &info);

    gst_buffer_unref (buf);
    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    gst_object_unref (pool);
    gst_caps_unref (caps);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

GST_START_TEST (test_video_nv12_aligned)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    const gchar *heap = dma_heap_test_heaps[i];
    GstAllocator *allocator = new_allocator (heap);
    GstVideoInfo info, aligned;
    GstCaps *caps = video_caps ("NV12", 1366, 768, &info);
    GstVideoAlignment align;
    GstStructure *config;
    GstBufferPool *pool;
    GstVideoMeta *meta;
    GstBuffer *buf;
    GstMemory *mem;
    guint p;

    gst_video_alignment_reset (&align);
    align.padding_bottom = 16;
    for (p = 0; p < GST_VIDEO_MAX_PLANES; p++)
      align.stride_align[p] = 63;
    aligned = info;
    fail_unless (gst_video_info_align (&aligned, &align));

    pool = gst_dma_heap_buffer_pool_new (allocator);
    config = gst_buffer_pool_get_config (pool);
    gst_buffer_pool_config_set_params (config, caps,
        GST_VIDEO_INFO_SIZE (&info), 2, 0);
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, &align);
    configure (pool, config);

    fail_unless (gst_buffer_pool_set_active (pool, TRUE));
    buf = acquire (pool);

    fail_unless_equals_int (gst_buffer_n_memory (buf), 1);
    mem = gst_buffer_peek_memory (buf, 0);
    fail_unless (gst_is_dma_heap_memory (mem));
    fail_unless_equals_uint64 (gst_buffer_get_size (buf),
        GST_VIDEO_INFO_SIZE (&aligned));
    fail_unless (mem->align >= 63);

    check_video_meta (buf, &aligned);
    meta = gst_buffer_get_video_meta (buf);
    for (p = 0; p < meta->n_planes; p++)
      fail_unless_equals_int (meta->stride[p] % 64, 0);
    fail_unless (meta->offset[1] >= (gsize) meta->stride[0] * (768 + 16));
    fail_unless_equals_int (meta->alignment.padding_bottom, 16);

    check_frame_access (buf, &aligned);

    gst_buffer_unref (buf);
    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    gst_object_unref (pool);
    gst_caps_unref (caps);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* A driver's sizeimage larger than the frame is what gets allocated */
GST_START_TEST (test_video_size_kept)
{
  GstAllocator *allocator = new_allocator (dma_heap_test_heaps[0]);
  GstVideoInfo info;
  GstCaps *caps = video_caps ("NV12", 1920, 1080, &info);
  guint larger = GST_VIDEO_INFO_SIZE (&info) + 16 * 1920 * 3 / 2;
  GstBufferPool *pool;
  GstBuffer *buf;

  pool = new_pool (allocator, caps, larger, 1, 0, TRUE);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  buf = acquire (pool);
  fail_unless_equals_uint64 (gst_buffer_get_size (buf), larger);
  check_video_meta (buf, &info);
  gst_buffer_unref (buf);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_END_TEST;

GST_START_TEST (test_flat_buffers)
{
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    GstAllocator *allocator = new_allocator (dma_heap_test_heaps[i]);
    GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
    GstBufferPool *pool;
    GstBuffer *buf;
    GstMapInfo map;

    pool = new_pool (allocator, caps, 10000, 1, 2, FALSE);
    fail_unless (gst_buffer_pool_set_active (pool, TRUE));
    buf = acquire (pool);
    fail_unless_equals_uint64 (gst_buffer_get_size (buf), 10000);
    fail_unless_equals_int (gst_buffer_n_memory (buf), 1);
    fail_unless (gst_is_dma_heap_memory (gst_buffer_peek_memory (buf, 0)));
    fail_unless (gst_buffer_get_video_meta (buf) == NULL);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READWRITE));
    memset (map.data, 0x11, map.size);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);

    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    gst_object_unref (pool);
    gst_caps_unref (caps);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* min buffers exist right after activation, max buffers is a limit */
GST_START_TEST (test_min_preallocated)
{
  GstAllocator *allocator = new_allocator (dma_heap_test_heaps[0]);
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstBufferPoolAcquireParams params = { 0, };
  GstBuffer *bufs[3], *extra = NULL;
  GstBufferPool *pool;
  guint before, i;

  pool = new_pool (allocator, caps, 1 << 20, 3, 3, FALSE);

  before = dma_heap_test_count_fds ();
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  /* one dma-buf fd per buffer */
  fail_unless_equals_int (dma_heap_test_count_fds (), before + 3);

  for (i = 0; i < 3; i++)
    bufs[i] = acquire (pool);
  fail_unless_equals_int (dma_heap_test_count_fds (), before + 3);

  params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &extra,
          &params), GST_FLOW_EOS);

  for (i = 0; i < 3; i++)
    gst_buffer_unref (bufs[i]);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  fail_unless_equals_int (dma_heap_test_count_fds (), before);

  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_END_TEST;

/* Recycled buffers keep their memories (kmssink caches per GstMemory) */
GST_START_TEST (test_recycle_same_memory)
{
  GstAllocator *allocator = new_allocator (dma_heap_test_heaps[0]);
  GstVideoInfo info;
  GstCaps *caps = video_caps ("BGRx", 642, 482, &info);
  GstBufferPool *pool;
  GstBuffer *buf;
  GstMemory *mem;
  gint fd;
  guint round;

  pool = new_pool (allocator, caps, GST_VIDEO_INFO_SIZE (&info), 1, 1, TRUE);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  buf = acquire (pool);
  mem = gst_buffer_peek_memory (buf, 0);
  fd = gst_dmabuf_memory_get_fd (mem);
  gst_buffer_unref (buf);

  for (round = 0; round < 5; round++) {
    buf = acquire (pool);
    fail_unless (gst_buffer_peek_memory (buf, 0) == mem,
        "round %u: another memory", round);
    fail_unless_equals_int (gst_dmabuf_memory_get_fd (gst_buffer_peek_memory
            (buf, 0)), fd);
    fail_unless_equals_uint64 (gst_buffer_get_size (buf),
        GST_VIDEO_INFO_SIZE (&info));
    check_video_meta (buf, &info);

    /* what downstream may do to a buffer without changing its memory */
    GST_BUFFER_PTS (buf) = round * GST_SECOND;
    gst_buffer_resize (buf, 0, 1000);
    gst_buffer_add_video_crop_meta (buf);
    gst_buffer_unref (buf);
  }

  buf = acquire (pool);
  fail_unless (gst_buffer_get_video_crop_meta (buf) == NULL);
  fail_unless (!GST_BUFFER_PTS_IS_VALID (buf));
  gst_buffer_unref (buf);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_END_TEST;

/* A region too small fails at activation, with numbers. Tries @heap as it
 * is, or, with @inject_after, with every allocation after that many failing
 * with ENOMEM; FALSE when the heap held every buffer. */
static gboolean
check_prealloc_failure (const gchar * heap, guint inject_after)
{
  const guint n = 100, size = 8 << 20;
  gchar *needed = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64) n * size);
  gchar *each = g_strdup_printf ("%u", size);
  gboolean tested = FALSE;
  GstAllocator *allocator;
  GstCaps *caps;
  GstBufferPool *pool;
  GError *error;
  guint before;

  allocator = new_allocator (heap);
  caps = gst_caps_new_empty_simple ("application/octet-stream");
  pool = new_pool (allocator, caps, size, n, 0, FALSE);

  before = dma_heap_test_count_fds ();
  if (inject_after)
    dma_heap_test_fail_alloc_after (heap, inject_after, ENOMEM);
  if (gst_buffer_pool_set_active (pool, TRUE)) {
    fail_if (inject_after, "activated with ENOMEM injected");
    GST_INFO ("heap %s holds %u buffers of %u bytes: not small", heap, n,
        size);
    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    goto done;
  }
  dma_heap_test_fail_alloc_after (heap, 0, 0);
  if (inject_after)
    fail_unless_equals_int (fake_heap_alloc_count (heap), inject_after);

  error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  fail_unless (error != NULL);
  GST_INFO ("%s", error->message);
  fail_unless (error->domain == GST_DMA_HEAP_ERROR);
  fail_unless_equals_int (error->code, GST_DMA_HEAP_ERROR_NO_MEMORY);
  fail_unless (strstr (error->message, heap) != NULL, "%s", error->message);
  fail_unless (strstr (error->message, needed) != NULL, "%s", error->message);
  fail_unless (strstr (error->message, each) != NULL, "%s", error->message);
  fail_unless (strstr (error->message, "were allocated") != NULL, "%s",
      error->message);
  fail_unless (strstr (error->message, g_strerror (ENOMEM)) != NULL, "%s",
      error->message);
  g_error_free (error);

  /* what was preallocated went back to the heap */
  fail_unless_equals_int (dma_heap_test_count_fds (), before);
  tested = TRUE;

  /* the heap is usable again */
  gst_object_unref (pool);
  pool = new_pool (allocator, caps, size, 1, 0, FALSE);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));

done:
  dma_heap_test_fail_alloc_after (heap, 0, 0);
  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
  g_free (needed);
  g_free (each);

  return tested;
}

GST_START_TEST (test_prealloc_failure)
{
  gboolean tested = FALSE;
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    if (!dma_heap_test_is_system (dma_heap_test_heaps[i]))
      tested |= check_prealloc_failure (dma_heap_test_heaps[i], 0);
  }

  /* no region here is that small: the first heap is made to run out
   * after three buffers */
  if (!tested) {
    GST_INFO ("no contiguous heap small enough: ENOMEM injected");
    fail_unless (check_prealloc_failure (dma_heap_test_heaps[0], 3));
  }
}

GST_END_TEST;

/* A pool without allocator opens the default heap when activated */
GST_START_TEST (test_default_heap_pool)
{
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstBufferPool *pool;
  GstAllocator *allocator;
  gchar **defaults;
  gint fd = -1;

  defaults = gst_dma_heap_resolve ("default", NULL);
  if (defaults)
    fd = gst_dma_heap_open (defaults[0], NULL);

  pool = new_pool (NULL, caps, 4096, 1, 0, FALSE);

  if (fd < 0) {
    GError *error;

    fail_if (gst_buffer_pool_set_active (pool, TRUE));
    error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
        (pool));
    fail_unless (error != NULL);
    g_error_free (error);
  } else {
    GstBuffer *buf;
    gchar *name;

    close (fd);
    fail_unless (gst_buffer_pool_set_active (pool, TRUE));
    allocator =
        gst_dma_heap_buffer_pool_get_allocator (GST_DMA_HEAP_BUFFER_POOL
        (pool));
    fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (allocator));

    buf = acquire (pool);
    fail_unless_equals_string (gst_dma_heap_memory_get_heap
        (gst_buffer_peek_memory (buf, 0)), defaults[0]);

    /* the buffers carry the pool's name */
    name = dma_heap_test_get_buf_name (gst_dmabuf_memory_get_fd
        (gst_buffer_peek_memory (buf, 0)));
    fail_unless (name != NULL);
    fail_unless (g_str_has_prefix (name, GST_OBJECT_NAME (pool)), "%s", name);
    g_free (name);

    gst_buffer_unref (buf);
    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    gst_object_unref (allocator);
  }

  g_strfreev (defaults);
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_max_bytes_enforced)
{
  GstAllocator *allocator = new_allocator (dma_heap_test_heaps[0]);
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstBufferPoolAcquireParams params = { 0, };
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (allocator);
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstBuffer *bufs[3], *extra = NULL;
  guint max, i;

  gst_buffer_pool_config_set_params (config, caps, 1 << 20, 1, 0);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config, 3 << 20);
  fail_if (gst_buffer_pool_set_config (pool, config));
  config = gst_buffer_pool_get_config (pool);
  fail_unless (gst_buffer_pool_config_get_params (config, NULL, NULL, NULL,
          &max));
  fail_unless_equals_int (max, 3);
  fail_unless (gst_buffer_pool_set_config (pool, config));

  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 3; i++)
    bufs[i] = acquire (pool);
  params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &extra,
          &params), GST_FLOW_EOS);
  for (i = 0; i < 3; i++)
    gst_buffer_unref (bufs[i]);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_END_TEST;

/* A dma-heap allocator in the config is used; its heap is the buffers' */
GST_START_TEST (test_allocator_from_config)
{
  const gchar *heap_a = dma_heap_test_heaps[0];
  const gchar *heap_b = dma_heap_test_heaps[1] ? dma_heap_test_heaps[1] :
      heap_a;
  GstAllocator *a1 = new_allocator (heap_a);
  GstAllocator *a2 = new_allocator (heap_b);
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (a1);
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstAllocator *got;
  GstBuffer *buf;

  gst_buffer_pool_config_set_params (config, caps, 4096, 1, 0);
  gst_buffer_pool_config_set_allocator (config, a2, NULL);
  fail_unless (gst_buffer_pool_set_config (pool, config));

  got = gst_dma_heap_buffer_pool_get_allocator (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  fail_unless (got == a2);
  gst_object_unref (got);

  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  buf = acquire (pool);
  fail_unless (gst_buffer_peek_memory (buf, 0)->allocator == a2);
  fail_unless_equals_string (gst_dma_heap_memory_get_heap
      (gst_buffer_peek_memory (buf, 0)), heap_b);
  gst_buffer_unref (buf);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));

  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (a1);
  gst_object_unref (a2);
}

GST_END_TEST;

/* Threads */

/* More threads than the pool has buffers: one must wait whenever the
 * others hold all of them. Not many more: with several threads waiting at
 * once, GStreamer 1.22.0's GstBufferPool itself (gst_buffer_pool_new(), no
 * code of ours) was seen to hang (seven threads on three buffers on a
 * build machine, six under AddressSanitizer in the test guest). One waiter
 * at a time is what a pipeline does: one streaming thread acquires. */
#define N_THREADS       4
#define N_ROUNDS        200
#define POOL_MAX        3

typedef struct
{
  GstBufferPool *pool;
  guint id;
  guint rounds;
  guint waited;                 /* acquires that found the pool at max */
} Worker;

static gint outstanding, max_outstanding;

/* Acquires (first without waiting, to see whether the pool is at its
 * maximum, then waiting for a release if it is), stamps the buffer with
 * its id, checks that nobody else wrote it while it was held, releases. */
static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  guint i;

  for (i = 0; i < w->rounds; i++) {
    GstBufferPoolAcquireParams params = {
      .flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT
    };
    GstBuffer *buf = NULL;
    GstFlowReturn ret;
    GstMapInfo map;
    guint8 mark = (guint8) (w->id * 32 + i % 32);
    gint now, seen;

    ret = gst_buffer_pool_acquire_buffer (w->pool, &buf, &params);
    if (ret == GST_FLOW_EOS) {
      /* every buffer is out: this one waits until another thread gives
       * one back */
      w->waited++;
      ret = gst_buffer_pool_acquire_buffer (w->pool, &buf, NULL);
    }
    if (ret != GST_FLOW_OK)
      return GINT_TO_POINTER (FALSE);

    now = g_atomic_int_add (&outstanding, 1) + 1;
    seen = g_atomic_int_get (&max_outstanding);
    while (now > seen &&
        !g_atomic_int_compare_and_exchange (&max_outstanding, seen, now))
      seen = g_atomic_int_get (&max_outstanding);

    if (!gst_buffer_map (buf, &map, GST_MAP_WRITE))
      return GINT_TO_POINTER (FALSE);
    memset (map.data, mark, 64);
    map.data[map.size - 1] = mark;
    /* held long enough for the others to run into the maximum */
    g_usleep (200);
    if (map.data[0] != mark || map.data[63] != mark ||
        map.data[map.size - 1] != mark) {
      gst_buffer_unmap (buf, &map);
      return GINT_TO_POINTER (FALSE);
    }
    gst_buffer_unmap (buf, &map);
    g_atomic_int_add (&outstanding, -1);
    gst_buffer_unref (buf);
  }

  return GINT_TO_POINTER (TRUE);
}

/* Four threads acquire from and release to one pool of at most three
 * buffers: they wait for each other, never hold more than three, and the
 * heap is asked for three buffers at most. */
GST_START_TEST (test_threads_one_pool)
{
  const gchar *heap = dma_heap_test_heaps[0];
  GstAllocator *allocator = new_allocator (heap);
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  Worker workers[N_THREADS];
  GThread *threads[N_THREADS];
  GstBufferPool *pool;
  guint fds, maps, i, waited = 0;

  /* counted with the allocator's heap fd and the pool's own fds */
  pool = new_pool (allocator, caps, 64 * 1024, 2, POOL_MAX, FALSE);
  fds = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();
  fake_heap_reset_counts ();
  outstanding = max_outstanding = 0;
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  for (i = 0; i < N_THREADS; i++) {
    workers[i].pool = pool;
    workers[i].id = i;
    workers[i].rounds = N_ROUNDS;
    workers[i].waited = 0;
    threads[i] = g_thread_new ("worker", worker_run, &workers[i]);
  }
  for (i = 0; i < N_THREADS; i++) {
    fail_unless (GPOINTER_TO_INT (g_thread_join (threads[i])),
        "worker %u saw a buffer shared or a failed acquire", i);
    waited += workers[i].waited;
  }
  GST_INFO ("%u of %u acquires waited for a release, at most %d buffers "
      "out, %u allocated", waited, N_THREADS * N_ROUNDS, max_outstanding,
      fake_heap_alloc_count (heap));

  /* the maximum was reached and waited on, and never passed */
  fail_unless (waited > 0, "no acquire ever found the pool at its maximum");
  fail_unless (max_outstanding <= POOL_MAX, "%d buffers out at once",
      max_outstanding);
  fail_unless_equals_int (max_outstanding, POOL_MAX);
  fail_unless (fake_heap_alloc_count (heap) <= POOL_MAX,
      "%u allocations for a pool of at most %d buffers",
      fake_heap_alloc_count (heap), POOL_MAX);
  fail_unless (dma_heap_test_count_fds () <= fds + POOL_MAX);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);

  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_END_TEST;

static gpointer
blocked_acquire (gpointer data)
{
  GstBuffer *buf = NULL;
  GstFlowReturn ret;

  ret = gst_buffer_pool_acquire_buffer (GST_BUFFER_POOL (data), &buf, NULL);
  if (buf)
    gst_buffer_unref (buf);

  return GINT_TO_POINTER (ret);
}

/* Deactivated while buffers are out and a thread waits for one: the
 * waiter gets FLUSHING, the buffers stay usable, their memory goes back to
 * the heap when they are released, and the pool starts again. */
GST_START_TEST (test_deactivate_outstanding)
{
  GstAllocator *allocator = new_allocator (dma_heap_test_heaps[0]);
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstBuffer *bufs[3], *extra = NULL;
  GstBufferPool *pool;
  GThread *waiter;
  GstMapInfo map;
  guint fds, maps, i;

  /* a pool has fds of its own (the GstPoll that wakes waiters) */
  pool = new_pool (allocator, caps, 256 * 1024, 3, 3, FALSE);
  fds = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 3; i++) {
    bufs[i] = acquire (pool);
    gst_buffer_memset (bufs[i], 0, 0x30 + i, 256 * 1024);
  }

  waiter = g_thread_new ("waiter", blocked_acquire, pool);
  g_usleep (G_USEC_PER_SEC / 10);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (waiter)),
      GST_FLOW_FLUSHING);
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &extra,
          NULL), GST_FLOW_FLUSHING);

  /* still the buffers' own memory, still mapped and intact */
  fail_unless_equals_int (dma_heap_test_count_fds (), fds + 3);
  for (i = 0; i < 3; i++) {
    fail_unless (gst_buffer_map (bufs[i], &map, GST_MAP_READ));
    fail_unless (map.data[0] == 0x30 + i && map.data[map.size - 1] == 0x30 + i);
    gst_buffer_unmap (bufs[i], &map);
    gst_buffer_unref (bufs[i]);
  }
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);

  /* and the pool works again */
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  bufs[0] = acquire (pool);
  gst_buffer_unref (bufs[0]);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));

  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_END_TEST;

/* A pool without a maximum grows until the region is full: acquire
 * returns an error and the pool's last error names the heap; the buffers
 * out stay good and everything goes back. @limit acquires at most; with
 * @inject_after, the heap runs out after that many allocations. */
static void
check_grow_until_full (const gchar * heap, guint limit, guint inject_after)
{
  const guint size = 4 << 20;
  GQueue held = G_QUEUE_INIT;
  GstAllocator *allocator;
  GstBufferPool *pool;
  GstBuffer *buf;
  GstCaps *caps;
  GError *error;
  GstFlowReturn ret = GST_FLOW_OK;
  guint fds, n;

  allocator = new_allocator (heap);
  caps = gst_caps_new_empty_simple ("application/octet-stream");
  pool = new_pool (allocator, caps, size, 1, 0, FALSE);
  fds = dma_heap_test_count_fds ();
  if (inject_after)
    dma_heap_test_fail_alloc_after (heap, inject_after, ENOMEM);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  for (n = 0; n < limit; n++) {
    buf = NULL;
    ret = gst_buffer_pool_acquire_buffer (pool, &buf, NULL);
    if (ret != GST_FLOW_OK)
      break;
    g_queue_push_tail (&held, buf);
  }
  dma_heap_test_fail_alloc_after (heap, 0, 0);
  GST_INFO ("%u buffers of %u bytes from %s", n, size, heap);
  fail_unless_equals_int (ret, GST_FLOW_ERROR);
  fail_unless (n > 0);
  if (inject_after)
    fail_unless_equals_int (n, inject_after);

  error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  fail_unless (error != NULL);
  GST_INFO ("%s", error->message);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_NO_MEMORY), "%s", error->message);
  fail_unless (strstr (error->message, heap) != NULL, "%s", error->message);
  g_error_free (error);

  /* the region gave back what the pool held: it can fill again */
  g_queue_clear_full (&held, (GDestroyNotify) gst_buffer_unref);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  buf = acquire (pool);
  gst_buffer_unref (buf);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));

  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  gst_object_unref (pool);
  gst_caps_unref (caps);
  gst_object_unref (allocator);
}

GST_START_TEST (test_grow_until_full)
{
  gboolean tested = FALSE;
  guint i;

  for (i = 0; dma_heap_test_heaps[i]; i++) {
    gsize failing = dma_heap_test_find_failing_size (dma_heap_test_heaps[i]);

    if (failing == 0)
      continue;
    check_grow_until_full (dma_heap_test_heaps[i], failing / (4 << 20) + 2,
        0);
    tested = TRUE;
  }

  /* no region here can be filled: the first heap is made to run out */
  if (!tested) {
    GST_INFO ("no region can be filled here: ENOMEM injected");
    check_grow_until_full (dma_heap_test_heaps[0], 8, 5);
  }
}

GST_END_TEST;

static Suite *
dmaheappool_suite (void)
{
  Suite *s = suite_create ("dmaheappool");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 150);

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_video_bgrx);
  tcase_add_test (tc, test_video_nv12_aligned);
  tcase_add_test (tc, test_video_size_kept);
  tcase_add_test (tc, test_flat_buffers);
  tcase_add_test (tc, test_min_preallocated);
  tcase_add_test (tc, test_recycle_same_memory);
  tcase_add_test (tc, test_prealloc_failure);
  tcase_add_test (tc, test_default_heap_pool);
  tcase_add_test (tc, test_max_bytes_enforced);
  tcase_add_test (tc, test_allocator_from_config);
  tcase_add_test (tc, test_threads_one_pool);
  tcase_add_test (tc, test_deactivate_outstanding);
  tcase_add_test (tc, test_grow_until_full);

  return s;
}

int
main (int argc, char **argv)
{
  return dma_heap_test_main (argc, argv, dmaheappool_suite, "dmaheappool");
}
