/* gst-dmaheap: dmaheapupload tests on a heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The harness plays the peers of a capture-to-display pipeline: upstream
 * like v4l2src io-mode=dmabuf-import (queries allocation, takes the pool it
 * is offered, fills its buffers), downstream like kmssink (proposes a pool
 * of its own, which is not in the heap, and GstVideoMeta).
 *
 * The heap is the first item of $GST_DMA_HEAP_TEST_HEAPS, else the first
 * heap present: a fake one of tests/fakeheap, or with
 * GST_DMA_HEAP_TEST_REAL=1 (the test guest) one of the machine's.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>

#include "../libs/dmaheaptestutil.h"
#include "fakeheap.h"

#include <fcntl.h>
#include <sys/stat.h>

#define MISSING_HEAP    "no-such-heap-x"
#define DEFAULT_MIN     2       /* the element's min-buffers default */
#define KMS_MIN         3       /* minimum of the kmssink-like peer */
#define DRIVER_MIN      2       /* what the v4l2-like peer adds */
#define SIZEIMAGE_EXTRA 8192    /* driver sizeimage above the frame size */

#define BGRX_CAPS "video/x-raw,format=BGRx,width=642,height=482,framerate=30/1"
#define NV12_CAPS "video/x-raw,format=NV12,width=1366,height=768,framerate=30/1"
#define FLAT_CAPS "application/octet-stream"

/* the spec handed to the element, and the heap its memories report */
static gchar *test_heap;
static gchar *test_heap_name;

/* Peers */

static GstPadQueryFunction harness_sink_query;

/* kmssink-like: answers with its own pool (dumb buffers there, plain
 * system memory here), its minimum, and GstVideoMeta support. */
static gboolean
kms_like_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstBufferPool *pool;
  GstStructure *config;
  GstCaps *caps = NULL;
  GstVideoInfo info;

  if (!harness_sink_query (pad, parent, query))
    return FALSE;
  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return TRUE;

  gst_query_parse_allocation (query, &caps, NULL);
  if (!caps || !gst_video_info_from_caps (&info, caps))
    return TRUE;

  pool = gst_video_buffer_pool_new ();
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, info.size, KMS_MIN, 0);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  gst_query_add_allocation_pool (query, pool, info.size, KMS_MIN, 0);
  gst_object_unref (pool);

  return TRUE;
}

/* A harness around a dmaheapupload on @heap. The element is created and
 * configured before the harness starts it. */
static GstHarness *
upload_harness (const gchar * heap, gboolean kms_like, GstBus ** bus)
{
  GstElement *element;
  GstHarness *h;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  fail_unless (element != NULL);
  g_object_set (element, "heap", heap, NULL);
  if (bus) {
    *bus = gst_bus_new ();
    gst_element_set_bus (element, *bus);
  }

  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);

  if (kms_like) {
    harness_sink_query = GST_PAD_QUERYFUNC (h->sinkpad);
    gst_pad_set_query_function (h->sinkpad, kms_like_sink_query);
    gst_harness_add_propose_allocation_meta (h, GST_VIDEO_META_API_TYPE, NULL);
  }

  return h;
}

static void
teardown_harness (GstHarness * h, GstBus * bus)
{
  if (bus) {
    gst_element_set_bus (h->element, NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
  gst_harness_teardown (h);
}

/* v4l2src-like with io-mode=dmabuf-import: asks for a pool, takes the one
 * offered, configures it with the driver's larger sizeimage and its own
 * extra buffers, and activates it. */
static GstBufferPool *
v4l2_like_take_pool (GstHarness * h, const gchar * caps_str, guint * min_out)
{
  GstAllocator *allocator = NULL;
  GstBufferPool *pool = NULL;
  GstStructure *config;
  GstQuery *query;
  GstCaps *caps;
  guint size = 0, min = 0, max = 0;

  caps = gst_caps_from_string (caps_str);
  query = gst_query_new_allocation (caps, TRUE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));

  fail_unless (gst_query_get_n_allocation_pools (query) > 0,
      "no pool to import from");
  gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
  fail_unless (GST_IS_DMA_HEAP_BUFFER_POOL (pool));
  fail_unless (gst_query_find_allocation_meta (query,
          GST_VIDEO_META_API_TYPE, NULL));
  fail_unless (gst_query_get_n_allocation_params (query) > 0);
  gst_query_parse_nth_allocation_param (query, 0, &allocator, NULL);
  fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (allocator));
  gst_object_unref (allocator);
  gst_query_unref (query);

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, size + SIZEIMAGE_EXTRA,
      min + DRIVER_MIN, 0);
  gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  fail_unless (gst_buffer_pool_set_config (pool, config),
      "the pool refused a size above the frame size");
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  gst_caps_unref (caps);
  if (min_out)
    *min_out = min;

  return pool;
}

static void
drop_pool (GstBufferPool * pool)
{
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
}

/* Frames */

static void
plane_geometry (const GstVideoInfo * info, guint plane, guint * row_bytes,
    guint * rows)
{
  gint comp[GST_VIDEO_MAX_COMPONENTS];

  gst_video_format_info_component (info->finfo, plane, comp);
  *rows = GST_VIDEO_INFO_COMP_HEIGHT (info, comp[0]);
  *row_bytes = GST_VIDEO_INFO_COMP_WIDTH (info, comp[0]) *
      GST_VIDEO_INFO_COMP_PSTRIDE (info, comp[0]);
}

static guint8
pattern (guint seed, guint plane, guint y, guint x)
{
  return (seed + plane * 31 + y * 7 + x * 3) & 0xff;
}

static void
fill_frame (GstBuffer * buf, const GstVideoInfo * info, guint seed)
{
  GstVideoFrame frame;
  guint p, x, y, row_bytes, rows;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_WRITE));
  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);

    plane_geometry (info, p, &row_bytes, &rows);
    for (y = 0; y < rows; y++)
      for (x = 0; x < row_bytes; x++)
        data[y * stride + x] = pattern (seed, p, y, x);
  }
  gst_video_frame_unmap (&frame);
}

static void
check_frame (GstBuffer * buf, const GstVideoInfo * info, guint seed)
{
  GstVideoFrame frame;
  guint p, x, y, row_bytes, rows;

  fail_unless (gst_video_frame_map (&frame, info, buf, GST_MAP_READ));
  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);

    plane_geometry (info, p, &row_bytes, &rows);
    for (y = 0; y < rows; y++)
      for (x = 0; x < row_bytes; x++)
        if (data[y * stride + x] != pattern (seed, p, y, x))
          fail ("plane %u differs at row %u, byte %u", p, y, x);
  }
  gst_video_frame_unmap (&frame);
}

/* A frame in plain system memory, each plane's rows @stride_pad bytes
 * longer than the default (described by a GstVideoMeta when not 0). */
static GstBuffer *
system_frame (const GstVideoInfo * info, guint stride_pad, guint seed)
{
  gsize offset[GST_VIDEO_MAX_PLANES] = { 0, };
  gint stride[GST_VIDEO_MAX_PLANES] = { 0, };
  gsize total = 0;
  GstBuffer *buf;
  guint p;

  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    guint row_bytes, rows;

    plane_geometry (info, p, &row_bytes, &rows);
    stride[p] = GST_VIDEO_INFO_PLANE_STRIDE (info, p) + stride_pad;
    offset[p] = total;
    total += (gsize) stride[p] * rows;
  }
  if (stride_pad == 0)
    total = MAX (total, GST_VIDEO_INFO_SIZE (info));

  buf = gst_buffer_new_allocate (NULL, total, NULL);
  if (stride_pad > 0)
    gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_INFO_FORMAT (info), GST_VIDEO_INFO_WIDTH (info),
        GST_VIDEO_INFO_HEIGHT (info), GST_VIDEO_INFO_N_PLANES (info), offset,
        stride);
  fill_frame (buf, info, seed);

  return buf;
}

static void
info_from_string (GstVideoInfo * info, const gchar * caps_str)
{
  GstCaps *caps = gst_caps_from_string (caps_str);

  fail_unless (gst_video_info_from_caps (info, caps));
  gst_caps_unref (caps);
}

/* Checks */

static void
check_stats (GstHarness * h, guint64 passed, guint64 copied,
    guint64 bytes_copied)
{
  GstStructure *stats = NULL;
  guint64 v = 0;

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_has_name (stats, "dmaheapupload-stats"));
  GST_INFO ("%" GST_PTR_FORMAT, stats);

  fail_unless (gst_structure_get_uint64 (stats, "passed-through", &v));
  fail_unless_equals_uint64 (v, passed);
  fail_unless (gst_structure_get_uint64 (stats, "copied", &v));
  fail_unless_equals_uint64 (v, copied);
  fail_unless (gst_structure_get_uint64 (stats, "bytes-copied", &v));
  fail_unless_equals_uint64 (v, bytes_copied);
  if (passed + copied > 0)
    fail_unless_equals_string (gst_structure_get_string (stats, "heap"),
        test_heap_name);

  gst_structure_free (stats);
}

static void
check_in_heap (GstBuffer * buf)
{
  guint i;

  fail_unless (gst_buffer_n_memory (buf) > 0);
  for (i = 0; i < gst_buffer_n_memory (buf); i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);

    fail_unless (gst_is_dma_heap_memory (mem));
    fail_unless (gst_is_dmabuf_memory (mem));
    fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem),
        test_heap_name);
  }
}

/* Pushes @n buffers of @pool, each must come out as itself, same memory. */
static void
push_pool_buffers (GstHarness * h, GstBufferPool * pool, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *in = NULL, *out;
    GstMemory *mem;

    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &in, NULL),
        GST_FLOW_OK);
    mem = gst_buffer_peek_memory (in, 0);
    GST_BUFFER_PTS (in) = i * GST_SECOND / 30;

    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out == in, "heap buffer was not passed through");
    fail_unless (gst_buffer_peek_memory (out, 0) == mem);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND / 30);
    check_in_heap (out);
    gst_buffer_unref (out);
  }
}

/* Pushes a system memory frame, which must come out as a copy in the heap
 * with the same pixels; returns its size. */
static gsize
push_system_frame (GstHarness * h, const gchar * caps_str, guint stride_pad,
    guint seed)
{
  GstBuffer *in, *out;
  GstVideoInfo info;
  gsize size;

  info_from_string (&info, caps_str);
  in = system_frame (&info, stride_pad, seed);
  size = gst_buffer_get_size (in);

  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != in);
  check_in_heap (out);
  check_frame (out, &info, seed);
  fail_unless (gst_buffer_get_size (out) >= GST_VIDEO_INFO_SIZE (&info));

  gst_buffer_unref (out);
  gst_buffer_unref (in);

  return size;
}

/* Tests */

GST_START_TEST (test_zero_copy_v4l2_to_kms)
{
  GstBufferPool *pool;
  GstHarness *h;
  guint min = 0;

  h = upload_harness (test_heap, TRUE, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);

  pool = v4l2_like_take_pool (h, BGRX_CAPS, &min);
  /* downstream's minimum plus ours */
  fail_unless_equals_int (min, KMS_MIN + DEFAULT_MIN);

  push_pool_buffers (h, pool, 2 * (min + DRIVER_MIN));
  check_stats (h, 2 * (min + DRIVER_MIN), 0, 0);

  drop_pool (pool);
  teardown_harness (h, NULL);
}

GST_END_TEST;

GST_START_TEST (test_min_buffers)
{
  GstBufferPool *pool;
  GstHarness *h;
  guint min = 0;

  h = upload_harness (test_heap, TRUE, NULL);
  g_object_set (h->element, "min-buffers", 5, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);

  pool = v4l2_like_take_pool (h, BGRX_CAPS, &min);
  fail_unless_equals_int (min, KMS_MIN + 5);

  drop_pool (pool);
  teardown_harness (h, NULL);
}

GST_END_TEST;

GST_START_TEST (test_copy_system_memory)
{
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstCaps *caps;
  GstHarness *h;
  gchar *name;
  gsize size;

  h = upload_harness (test_heap, TRUE, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);
  info_from_string (&info, BGRX_CAPS);

  /* timestamps, flags and metas that do not describe memory come along */
  in = system_frame (&info, 0, 11);
  size = gst_buffer_get_size (in);
  GST_BUFFER_PTS (in) = 5 * GST_SECOND;
  GST_BUFFER_DURATION (in) = GST_SECOND / 30;
  GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
  caps = gst_caps_new_empty_simple ("timestamp/x-test");
  gst_buffer_add_reference_timestamp_meta (in, caps, 42, GST_CLOCK_TIME_NONE);
  gst_caps_unref (caps);

  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != in);
  check_in_heap (out);
  check_frame (out, &info, 11);
  /* the element labels its allocator: the kernel names the buffer after it */
  name = dma_heap_test_get_buf_name (gst_dmabuf_memory_get_fd
      (gst_buffer_peek_memory (out, 0)));
  fail_unless (name && g_str_has_prefix (name, GST_OBJECT_NAME (h->element)),
      "buffer named '%s'", name ? name : "(none)");
  g_free (name);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 5 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 30);
  fail_unless (GST_BUFFER_FLAG_IS_SET (out, GST_BUFFER_FLAG_DISCONT));
  fail_unless (gst_buffer_get_reference_timestamp_meta (out, NULL) != NULL);
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  check_stats (h, 0, 1, size);

  /* the copies recycle the pool's memories */
  size += push_system_frame (h, BGRX_CAPS, 0, 12);
  size += push_system_frame (h, BGRX_CAPS, 0, 13);
  check_stats (h, 0, 3, size);

  teardown_harness (h, NULL);
}

GST_END_TEST;

GST_START_TEST (test_copy_strided_bgrx)
{
  GstHarness *h;
  gsize size;

  h = upload_harness (test_heap, TRUE, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);

  size = push_system_frame (h, BGRX_CAPS, 64, 21);
  size += push_system_frame (h, BGRX_CAPS, 0, 22);
  check_stats (h, 0, 2, size);

  teardown_harness (h, NULL);
}

GST_END_TEST;

GST_START_TEST (test_copy_strided_nv12_plain_downstream)
{
  GstVideoInfo info;
  GstVideoMeta *meta;
  GstBuffer *out;
  GstHarness *h;
  gsize size;
  guint p;

  /* downstream without GstVideoMeta: output must be in the default layout */
  h = upload_harness (test_heap, FALSE, NULL);
  gst_harness_set_src_caps_str (h, NV12_CAPS);
  info_from_string (&info, NV12_CAPS);

  fail_unless_equals_int (gst_harness_push (h, system_frame (&info, 42, 31)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  check_in_heap (out);
  check_frame (out, &info, 31);
  meta = gst_buffer_get_video_meta (out);
  if (meta) {
    for (p = 0; p < GST_VIDEO_INFO_N_PLANES (&info); p++) {
      fail_unless_equals_int (meta->stride[p],
          GST_VIDEO_INFO_PLANE_STRIDE (&info, p));
      fail_unless_equals_uint64 (meta->offset[p],
          GST_VIDEO_INFO_PLANE_OFFSET (&info, p));
    }
  }
  size = gst_buffer_get_size (out);
  fail_unless (size >= GST_VIDEO_INFO_SIZE (&info));
  gst_buffer_unref (out);

  size = push_system_frame (h, NV12_CAPS, 42, 32);
  check_stats (h, 0, 2, 2 * size);

  teardown_harness (h, NULL);
}

GST_END_TEST;

/* A heap buffer laid out with padding reaches a downstream that cannot
 * read GstVideoMeta: it is copied into the default layout. With a
 * downstream that reads it, it passes. */
static guint64
push_padded_heap_frame (gboolean kms_like)
{
  GstVideoAlignment align;
  GstBufferPool *pool;
  GstStructure *config;
  GstVideoMeta *meta;
  GstBuffer *in = NULL, *out;
  GstVideoInfo info;
  GstHarness *h;
  GstStructure *stats = NULL;
  guint64 copied = 0;

  h = upload_harness (test_heap, kms_like, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);
  info_from_string (&info, BGRX_CAPS);

  pool = v4l2_like_take_pool (h, BGRX_CAPS, NULL);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  config = gst_buffer_pool_get_config (pool);
  gst_video_alignment_reset (&align);
  align.padding_right = 62;
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
  gst_buffer_pool_config_set_video_alignment (config, &align);
  if (!gst_buffer_pool_set_config (pool, config)) {
    config = gst_buffer_pool_get_config (pool);
    fail_unless (gst_buffer_pool_set_config (pool, config));
  }
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));

  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &in, NULL),
      GST_FLOW_OK);
  meta = gst_buffer_get_video_meta (in);
  fail_unless (meta != NULL);
  fail_unless (meta->stride[0] > GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
  fill_frame (in, &info, 41);

  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  check_in_heap (out);
  check_frame (out, &info, 41);
  gst_buffer_unref (out);

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "copied", &copied));
  gst_structure_free (stats);

  drop_pool (pool);
  teardown_harness (h, NULL);

  return copied;
}

GST_START_TEST (test_padded_heap_frame)
{
  fail_unless_equals_uint64 (push_padded_heap_frame (TRUE), 0);
  fail_unless_equals_uint64 (push_padded_heap_frame (FALSE), 1);
}

GST_END_TEST;

GST_START_TEST (test_allow_copy_false)
{
  GstBufferPool *pool;
  GstVideoInfo info;
  GstMessage *msg;
  GstHarness *h;
  GstBus *bus = NULL;
  GError *error = NULL;

  h = upload_harness (test_heap, TRUE, &bus);
  g_object_set (h->element, "allow-copy", FALSE, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);
  info_from_string (&info, BGRX_CAPS);

  /* heap buffers still flow */
  pool = v4l2_like_take_pool (h, BGRX_CAPS, NULL);
  push_pool_buffers (h, pool, 3);
  check_stats (h, 3, 0, 0);

  /* others are an error that says what happened */
  fail_unless_equals_int (gst_harness_push (h, system_frame (&info, 0, 1)),
      GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &error, NULL);
  GST_INFO ("%s", error->message);
  fail_unless (strstr (error->message, test_heap_name) != NULL);
  fail_unless (strstr (error->message, "did not use the proposed pool"));
  g_error_free (error);
  gst_message_unref (msg);
  check_stats (h, 3, 0, 0);

  drop_pool (pool);
  teardown_harness (h, bus);
}

GST_END_TEST;

static GstBuffer *
flat_buffer (GstAllocator * allocator, gsize size, guint seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (allocator, size, NULL);
  GstMapInfo map;
  gsize i;

  fail_unless (buf != NULL);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (i = 0; i < size; i++)
    map.data[i] = pattern (seed, 0, i / 251, i);
  gst_buffer_unmap (buf, &map);

  return buf;
}

static void
check_flat (GstBuffer * buf, gsize size, guint seed)
{
  GstMapInfo map;
  gsize i;

  fail_unless_equals_uint64 (gst_buffer_get_size (buf), size);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (i = 0; i < size; i++)
    if (map.data[i] != pattern (seed, 0, i / 251, i))
      fail ("byte %" G_GSIZE_FORMAT " differs", i);
  gst_buffer_unmap (buf, &map);
}

GST_START_TEST (test_non_video)
{
  const gsize sizes[] = { 10000, 10000, 30000, 4096, 10000 };
  GstAllocator *allocator = NULL;
  GstBuffer *in, *out;
  GstQuery *query;
  GstCaps *caps;
  GstHarness *h;
  guint64 bytes = 0;
  guint i;

  h = upload_harness (test_heap, FALSE, NULL);
  gst_harness_set_src_caps_str (h, FLAT_CAPS);

  /* no frame size: the allocator is offered, no pool */
  caps = gst_caps_from_string (FLAT_CAPS);
  query = gst_query_new_allocation (caps, TRUE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless_equals_int (gst_query_get_n_allocation_pools (query), 0);
  fail_unless (gst_query_get_n_allocation_params (query) > 0);
  gst_query_parse_nth_allocation_param (query, 0, &allocator, NULL);
  fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (allocator));
  gst_query_unref (query);
  gst_caps_unref (caps);

  /* what upstream allocates from it passes */
  in = flat_buffer (allocator, 10000, 1);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out == in);
  gst_buffer_unref (out);
  gst_buffer_unref (in);
  gst_object_unref (allocator);
  check_stats (h, 1, 0, 0);

  /* system memory is copied, whatever the sizes */
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    in = flat_buffer (NULL, sizes[i], 2 + i);
    GST_BUFFER_OFFSET (in) = i;
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    check_in_heap (out);
    check_flat (out, sizes[i], 2 + i);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), i);
    gst_buffer_unref (out);
    bytes += sizes[i];
  }
  check_stats (h, 1, G_N_ELEMENTS (sizes), bytes);

  teardown_harness (h, NULL);
}

GST_END_TEST;

/* filesrc sends no caps at all */
GST_START_TEST (test_no_caps)
{
  GstSegment segment;
  GstBuffer *out;
  GstHarness *h;

  h = upload_harness (test_heap, FALSE, NULL);
  gst_segment_init (&segment, GST_FORMAT_BYTES);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));

  fail_unless_equals_int (gst_harness_push (h, flat_buffer (NULL, 7000, 9)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  check_in_heap (out);
  check_flat (out, 7000, 9);
  gst_buffer_unref (out);
  check_stats (h, 0, 1, 7000);

  teardown_harness (h, NULL);
}

GST_END_TEST;

GST_START_TEST (test_renegotiation)
{
  GstBufferPool *pool, *pool2;
  GstVideoInfo info;
  GstBuffer *out = NULL;
  GstHarness *h;
  gsize bytes;

  h = upload_harness (test_heap, TRUE, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);
  pool = v4l2_like_take_pool (h, BGRX_CAPS, NULL);
  push_pool_buffers (h, pool, 3);
  bytes = push_system_frame (h, BGRX_CAPS, 0, 51);

  /* new format and size mid-stream; upstream drops its old pool while
   * one of its buffers is still downstream */
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &out, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, out), GST_FLOW_OK);
  out = gst_harness_pull (h);

  gst_harness_set_src_caps_str (h, NV12_CAPS);
  info_from_string (&info, NV12_CAPS);
  drop_pool (pool);
  gst_buffer_unref (out);

  pool2 = v4l2_like_take_pool (h, NV12_CAPS, NULL);
  push_pool_buffers (h, pool2, 3);
  bytes += push_system_frame (h, NV12_CAPS, 0, 52);
  bytes += push_system_frame (h, NV12_CAPS, 16, 53);
  check_stats (h, 7, 3, bytes);

  /* and back */
  gst_harness_set_src_caps_str (h, BGRX_CAPS);
  drop_pool (pool2);
  bytes += push_system_frame (h, BGRX_CAPS, 0, 54);
  check_stats (h, 7, 4, bytes);

  teardown_harness (h, NULL);
}

GST_END_TEST;

GST_START_TEST (test_fallback_list)
{
  GstBufferPool *pool;
  GstHarness *h;
  gchar *spec;
  gsize size;

  spec = g_strdup_printf (MISSING_HEAP ",%s", test_heap);
  h = upload_harness (spec, TRUE, NULL);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);

  pool = v4l2_like_take_pool (h, BGRX_CAPS, NULL);
  push_pool_buffers (h, pool, 2);
  size = push_system_frame (h, BGRX_CAPS, 0, 61);
  check_stats (h, 2, 1, size);

  drop_pool (pool);
  teardown_harness (h, NULL);
  g_free (spec);
}

GST_END_TEST;

GST_START_TEST (test_heap_refused_in_playing)
{
  GstMessage *msg;
  GstHarness *h;
  GstBus *bus = NULL;
  gchar *heap = NULL;
  gsize size;

  h = upload_harness (test_heap, TRUE, &bus);
  gst_harness_set_src_caps_str (h, BGRX_CAPS);

  g_object_set (h->element, "heap", MISSING_HEAP, NULL);
  g_object_get (h->element, "heap", &heap, NULL);
  fail_unless_equals_string (heap, test_heap);
  g_free (heap);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  /* and the stream goes on, on the same heap */
  size = push_system_frame (h, BGRX_CAPS, 0, 71);
  check_stats (h, 0, 1, size);

  teardown_harness (h, bus);
}

GST_END_TEST;

/* Lifecycle, exhaustion and concurrency */

/* Flat buffers of this size fill a region quickly (4 MiB each). */
#define BIG_SIZE        (4 << 20)

static GstBuffer *
zeroed_buffer (gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  fail_unless (buf != NULL);
  gst_buffer_memset (buf, 0, 0x5a, size);
  return buf;
}

/* How many BIG_SIZE pushes are sure to exhaust @heap: a region that cannot
 * give one block of N bytes holds less than N bytes. 0 when the heap is
 * not a bounded region (system) or is larger than the probe goes. */
static guint
pushes_to_exhaust (const gchar * heap)
{
  gsize failing = dma_heap_test_find_failing_size (heap);

  if (failing == 0)
    return 0;
  return failing / BIG_SIZE + 2;
}

/* A heap that cannot be filled here (the system heap, or a region too big
 * to fill) is made to run out after this many allocations instead. */
#define INJECT_AFTER    6

/* A heap other than @heap that opens, @prefer if it does; NULL when none. */
static gchar *
other_heap (const gchar * heap, const gchar * prefer)
{
  gchar **present = gst_dma_heap_list (NULL);
  gchar *other = NULL;
  guint i;

  for (i = 0; present && present[i] && !other; i++) {
    gint fd;

    if (strcmp (present[i], heap) == 0)
      continue;
    if (prefer && strcmp (present[i], prefer) != 0)
      continue;
    fd = gst_dma_heap_open (present[i], NULL);
    if (fd >= 0) {
      close (fd);
      other = g_strdup (present[i]);
    }
  }
  g_strfreev (present);

  if (!other && prefer)
    return other_heap (heap, NULL);

  return other;
}

/* Pops every message of @bus; fails on an error, counts the warnings of
 * @domain/@code and keeps the text of the last one in @text. */
static guint
drain_bus (GstBus * bus, GQuark domain, gint code, gchar ** text)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop (bus)) != NULL) {
    GError *err = NULL;
    gchar *debug = NULL;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, &debug);
      fail ("error from %s: %s (%s)", GST_OBJECT_NAME (msg->src),
          err->message, GST_STR_NULL (debug));
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (msg, &err, &debug);
      GST_INFO ("warning: %s (%s)", err->message, GST_STR_NULL (debug));
      if (g_error_matches (err, domain, code)) {
        n++;
        if (text) {
          g_free (*text);
          *text = g_strdup (err->message);
        }
      }
      g_error_free (err);
      g_free (debug);
    }
    gst_message_unref (msg);
  }

  return n;
}

static guint64
stats_field (GstElement * element, const gchar * field)
{
  GstStructure *stats = NULL;
  guint64 v = 0;

  g_object_get (element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, field, &v), "no %s", field);
  gst_structure_free (stats);

  return v;
}

/* The pool copies go to grows while downstream holds every buffer, until
 * the region is full: a NO_SPACE_LEFT error naming the heap, a flow error,
 * nothing leaked, and the element runs again after NULL. */
GST_START_TEST (test_exhausted_mid_stream)
{
  GQueue held = G_QUEUE_INIT;
  GstFlowReturn ret = GST_FLOW_OK;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;
  GstBuffer *in, *out;
  GstHarness *h;
  GstBus *bus = NULL;
  gboolean inject;
  guint fds, maps, limit, n;

  limit = pushes_to_exhaust (test_heap_name);
  inject = limit == 0;
  if (inject) {
    GST_INFO ("heap %s cannot be filled here: it runs out after %u "
        "allocations", test_heap_name, INJECT_AFTER);
    limit = INJECT_AFTER + 2;
  }

  fds = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();

  if (inject)
    dma_heap_test_fail_alloc_after (test_heap_name, INJECT_AFTER, ENOMEM);
  h = upload_harness (test_heap, FALSE, &bus);
  gst_harness_set_src_caps_str (h, FLAT_CAPS);
  in = zeroed_buffer (BIG_SIZE);

  for (n = 0; n < limit; n++) {
    ret = gst_harness_push (h, gst_buffer_ref (in));
    if (ret != GST_FLOW_OK)
      break;
    out = gst_harness_pull (h);
    check_in_heap (out);
    g_queue_push_tail (&held, out);
  }
  dma_heap_test_fail_alloc_after (test_heap_name, 0, 0);
  GST_INFO ("%u buffers of %d bytes fitted in %s", n, BIG_SIZE,
      test_heap_name);
  fail_unless_equals_int (ret, GST_FLOW_ERROR);
  fail_unless (n > 0, "not even one buffer fitted");

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error: %s (%s)", err->message, debug);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", err->message);
  fail_unless (strstr (err->message, test_heap_name) != NULL, "%s",
      err->message);
  fail_unless (strstr (err->message, g_strerror (ENOMEM)) != NULL, "%s",
      err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  /* the buffers downstream held are intact and go back */
  while ((out = g_queue_pop_head (&held)) != NULL) {
    GstMapInfo map;

    fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
    fail_unless (map.data[0] == 0x5a && map.data[map.size - 1] == 0x5a);
    gst_buffer_unmap (out, &map);
    gst_buffer_unref (out);
  }

  /* back to NULL and on again: the stream runs */
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_play (h);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("again")));
  gst_harness_set_src_caps_str (h, FLAT_CAPS);
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  check_in_heap (out);
  gst_buffer_unref (out);
  fail_unless_equals_uint64 (stats_field (h->element, "copied"), 1);

  gst_buffer_unref (in);
  teardown_harness (h, bus);

  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);
}

GST_END_TEST;

/* Same, with a second heap in the spec: the pool goes on growing there,
 * with one warning on the bus and the buffers counted. */
GST_START_TEST (test_exhausted_fallback)
{
  GQueue held = G_QUEUE_INIT;
  GstBuffer *in, *out;
  GstHarness *h;
  GstBus *bus = NULL;
  gchar *spec, *text = NULL, *next_heap;
  gboolean inject;
  guint fds, maps, limit, n, in_first = 0, in_second = 0;

  next_heap = other_heap (test_heap_name, "system");
  dma_heap_test_require (next_heap != NULL, "no heap next to %s to fall "
      "back to", test_heap_name);

  limit = pushes_to_exhaust (test_heap_name);
  inject = limit == 0;
  if (inject) {
    GST_INFO ("heap %s cannot be filled here: it runs out after %u "
        "allocations", test_heap_name, INJECT_AFTER);
    limit = INJECT_AFTER + 3;
  }

  fds = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();

  if (inject)
    dma_heap_test_fail_alloc_after (test_heap_name, INJECT_AFTER, ENOMEM);
  spec = g_strdup_printf ("%s,%s", test_heap, next_heap);
  h = upload_harness (spec, FALSE, &bus);
  gst_harness_set_src_caps_str (h, FLAT_CAPS);
  in = zeroed_buffer (BIG_SIZE);

  for (n = 0; n < limit; n++) {
    const gchar *heap;

    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
        GST_FLOW_OK);
    out = gst_harness_pull (h);
    heap = gst_dma_heap_memory_get_heap (gst_buffer_peek_memory (out, 0));
    if (g_strcmp0 (heap, test_heap_name) == 0) {
      fail_unless (in_second == 0, "back in %s after the fallback", heap);
      in_first++;
    } else {
      fail_unless_equals_string (heap, next_heap);
      in_second++;
    }
    g_queue_push_tail (&held, out);
  }
  dma_heap_test_fail_alloc_after (test_heap_name, 0, 0);
  GST_INFO ("%u buffers in %s, %u in %s", in_first, test_heap_name,
      in_second, next_heap);
  fail_unless (in_first > 0);
  fail_unless (in_second > 0, "%s never ran out", test_heap_name);
  fail_unless_equals_uint64 (stats_field (h->element, "fallback-buffers"),
      in_second);
  fail_unless_equals_uint64 (stats_field (h->element, "copied"), limit);

  /* one warning, whatever the number of buffers */
  fail_unless_equals_int (drain_bus (bus, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT, &text), 1);
  fail_unless (strstr (text, test_heap_name) != NULL, "%s", text);
  fail_unless (strstr (text, next_heap) != NULL, "%s", text);
  g_free (text);

  g_queue_clear_full (&held, (GDestroyNotify) gst_buffer_unref);
  gst_buffer_unref (in);
  teardown_harness (h, bus);
  g_free (spec);
  g_free (next_heap);

  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);
}

GST_END_TEST;

#define PIPELINE_CAPS "video/x-raw,format=%s,width=%d,height=%d,framerate=30/1"

/* videotestsrc takes the pool dmaheapupload proposes: zero-copy */
static GstElement *
testsrc_pipeline (const gchar * heap, const gchar * format, gint width,
    gint height, gint num_buffers, GstElement ** upload)
{
  GstElement *pipeline;
  GError *error = NULL;
  gchar *caps, *desc;

  caps = g_strdup_printf (PIPELINE_CAPS, format, width, height);
  desc = g_strdup_printf ("videotestsrc num-buffers=%d ! %s ! "
      "dmaheapupload name=up heap=\"%s\" ! fakesink sync=false", num_buffers,
      caps, heap);
  pipeline = gst_parse_launch (desc, &error);
  fail_unless (pipeline != NULL, "%s: %s", desc, error ? error->message : "");
  g_free (desc);
  g_free (caps);

  *upload = gst_bin_get_by_name (GST_BIN (pipeline), "up");
  fail_unless (*upload != NULL);
  gst_object_unref (*upload);   /* the pipeline keeps it */

  return pipeline;
}

static void
wait_state (GstElement * pipeline, GstState state)
{
  GstState current = GST_STATE_VOID_PENDING;
  GstStateChangeReturn ret;

  ret = gst_element_set_state (pipeline, state);
#if GST_CHECK_VERSION (1, 28, 0)
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "cannot go to %s",
      gst_state_get_name (state));
#else
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "cannot go to %s",
      gst_element_state_get_name (state));
#endif
  ret = gst_element_get_state (pipeline, &current, NULL, 30 * GST_SECOND);
  fail_unless_equals_int (ret, GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (current, state);
}

static guint
test_cycles (void)
{
  const gchar *env = g_getenv ("GST_DMA_HEAP_TEST_CYCLES");

  return env ? (guint) g_ascii_strtoull (env, NULL, 10) : 1000;
}

/* NULL to PLAYING and back, many times: each run zero-copy, nothing kept */
GST_START_TEST (test_state_cycles)
{
  GstElement *pipeline, *upload;
  GstBus *bus;
  guint base, fds = 0, maps, i, n = test_cycles ();

  pipeline = testsrc_pipeline (test_heap, "BGRx", 64, 48, -1, &upload);
  bus = gst_element_get_bus (pipeline);
  base = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();

  for (i = 0; i < n; i++) {
    wait_state (pipeline, GST_STATE_PLAYING);
    /* prerolled: a buffer of our pool went through without a copy */
    fail_unless (stats_field (upload, "passed-through") >= 1);
    fail_unless_equals_uint64 (stats_field (upload, "copied"), 0);
    wait_state (pipeline, GST_STATE_NULL);
    drain_bus (bus, 0, 0, NULL);

    /* in NULL the element holds no heap node; nothing else stays open,
     * and nothing more after more runs */
    if (i == 0) {
      fds = dma_heap_test_count_fds ();
      fail_unless_equals_int (fds, base);
    }
    fail_unless_equals_int (dma_heap_test_count_fds (), fds);
    fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);
  }
  GST_INFO ("%u cycles on %s", n, test_heap_name);

  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* A heap spec set between two runs is the one the next run uses; the
 * allocator of each run is let go when it stops. */
GST_START_TEST (test_heap_changed_between_runs)
{
  GstElement *pipeline, *upload;
  GstStructure *stats = NULL;
  gchar *spec;
  guint base, before_pipeline = dma_heap_test_count_fds ();

  pipeline = testsrc_pipeline (MISSING_HEAP ",system", "BGRx", 64, 48, -1,
      &upload);
  base = dma_heap_test_count_fds ();
  wait_state (pipeline, GST_STATE_PLAYING);
  wait_state (pipeline, GST_STATE_NULL);
  fail_unless_equals_int (dma_heap_test_count_fds (), base);

  spec = g_strdup_printf (MISSING_HEAP ",%s", test_heap);
  g_object_set (upload, "heap", spec, NULL);
  wait_state (pipeline, GST_STATE_PLAYING);
  g_object_get (upload, "stats", &stats, NULL);
  fail_unless_equals_string (gst_structure_get_string (stats, "heap"),
      test_heap_name);
  gst_structure_free (stats);
  wait_state (pipeline, GST_STATE_NULL);
  /* neither allocator is kept */
  fail_unless_equals_int (dma_heap_test_count_fds (), base);

  g_free (spec);
  gst_object_unref (pipeline);
  fail_unless_equals_int (dma_heap_test_count_fds (), before_pipeline);
}

GST_END_TEST;

/* Flushing seeks while PLAYING: the pool is flushed and refilled */
GST_START_TEST (test_flushing_seeks)
{
  GstElement *pipeline, *upload;
  GstBus *bus;
  guint fds, maps, i, before_pipeline = dma_heap_test_count_fds ();

  pipeline = testsrc_pipeline (test_heap, "NV12", 320, 240, -1, &upload);
  bus = gst_element_get_bus (pipeline);
  fds = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();

  wait_state (pipeline, GST_STATE_PLAYING);
  for (i = 0; i < 50; i++) {
    guint64 before = stats_field (upload, "passed-through");
    GstState state;

    fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
            GST_SEEK_FLAG_FLUSH, (i % 7) * GST_SECOND));
    fail_unless_equals_int (gst_element_get_state (pipeline, &state, NULL,
            30 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (state, GST_STATE_PLAYING);
    /* frames flow again after each seek */
    while (stats_field (upload, "passed-through") <= before)
      g_usleep (1000);
    drain_bus (bus, 0, 0, NULL);
  }
  fail_unless_equals_uint64 (stats_field (upload, "copied"), 0);

  wait_state (pipeline, GST_STATE_NULL);
  /* back to the count before the run: no heap node stays open */
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);

  gst_object_unref (bus);
  gst_object_unref (pipeline);
  fail_unless_equals_int (dma_heap_test_count_fds (), before_pipeline);
}

GST_END_TEST;

/* Waits for the end of the stream of @pipeline; fails on an error. */
static void
wait_eos (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no end of stream after 120 s");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail ("%s: %s", GST_OBJECT_NAME (msg->src), err->message);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
}

/* Two pipelines at once, each on its own heap: the buffers of each are
 * in its heap, all zero-copy. */
GST_START_TEST (test_two_pipelines_two_heaps)
{
  const gint frames = 60;
  GstElement *p1, *p2, *up1, *up2;
  gchar *other;
  guint fds, maps;

  other = other_heap (test_heap_name, NULL);
  dma_heap_test_require (other != NULL, "no second heap next to %s",
      test_heap_name);

  fds = dma_heap_test_count_fds ();
  maps = dma_heap_test_count_dmabuf_maps ();

  p1 = testsrc_pipeline (test_heap, "BGRx", 640, 480, frames, &up1);
  p2 = testsrc_pipeline (other, "NV12", 640, 480, frames, &up2);
  fail_if (gst_element_set_state (p1, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  fail_if (gst_element_set_state (p2, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  wait_eos (p1);
  wait_eos (p2);

  fail_unless_equals_uint64 (stats_field (up1, "passed-through"), frames);
  fail_unless_equals_uint64 (stats_field (up2, "passed-through"), frames);
  fail_unless_equals_uint64 (stats_field (up1, "copied"), 0);
  fail_unless_equals_uint64 (stats_field (up2, "copied"), 0);
  fail_unless_equals_uint64 (stats_field (up1, "fallback-buffers"), 0);
  fail_unless_equals_uint64 (stats_field (up2, "fallback-buffers"), 0);
  {
    GstStructure *s1 = NULL, *s2 = NULL;

    g_object_get (up1, "stats", &s1, NULL);
    g_object_get (up2, "stats", &s2, NULL);
    fail_unless_equals_string (gst_structure_get_string (s1, "heap"),
        test_heap_name);
    fail_unless_equals_string (gst_structure_get_string (s2, "heap"), other);
    gst_structure_free (s1);
    gst_structure_free (s2);
  }

  wait_state (p1, GST_STATE_NULL);
  wait_state (p2, GST_STATE_NULL);
  gst_object_unref (p1);
  gst_object_unref (p2);
  g_free (other);

  fail_unless_equals_int (dma_heap_test_count_fds (), fds);
  fail_unless_equals_int (dma_heap_test_count_dmabuf_maps (), maps);
}

GST_END_TEST;

/* Starts that fail after a node of /dev/dma_heap was opened (a regular
 * file there opens, and is refused as not a device) leave no fd behind,
 * five times over, and the element starts on a heap afterwards. */
/* An entry of /dev/dma_heap that is no heap: refused before it is opened,
 * every time, and nothing stays open. */
GST_START_TEST (test_failed_start_on_non_heap)
{
  const gchar *name = "gstcheck-not-a-heap";
  gchar *path = gst_dma_heap_get_device_path (name);
  GstElement *element;
  GstBus *bus;
  guint fds, i;
  gint fd, err;

  unlink (path);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  err = fd < 0 ? errno : 0;
  g_free (path);
  dma_heap_test_require (fd >= 0, "cannot create a file in /dev/dma_heap: "
      "%s", g_strerror (err));
  close (fd);
  path = gst_dma_heap_get_device_path (name);

  /* it opens: the start fails past the name checks, at the node */
  fd = open (path, O_RDONLY | O_CLOEXEC);
  fail_unless (fd >= 0);
  close (fd);

  element = gst_element_factory_make ("dmaheapupload", NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (element, bus);
  g_object_set (element, "heap", name, NULL);

  /* a first start, for what GStreamer opens once */
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_flushing (bus, FALSE);

  fds = dma_heap_test_count_fds ();
  for (i = 0; i < 5; i++) {
    GstMessage *msg;
    GError *error = NULL;

    fail_unless_equals_int (gst_element_set_state (element,
            GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error for heap=\"%s\"", name);
    gst_message_parse_error (msg, &error, NULL);
    GST_INFO ("heap=\"%s\": %s", name, error->message);
    fail_unless (strstr (error->message, name) != NULL, "%s",
        error->message);
    g_error_free (error);
    gst_message_unref (msg);
    fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);

  fail_unless (unlink (path) == 0);
  g_free (path);

  /* and on a heap it starts */
  g_object_set (element, "heap", test_heap, NULL);
  fail_unless (gst_element_set_state (element, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);

  gst_element_set_bus (element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  ASSERT_OBJECT_REFCOUNT (element, "dmaheapupload", 1);
  gst_object_unref (element);
}

GST_END_TEST;

/* A start that fails after the heap node was opened: the heap refuses
 * every allocation, so preallocating the element's pool fails. Five such
 * runs leave no fd open, and the error names the heap. */
GST_START_TEST (test_failed_start_after_open)
{
  gchar *desc;
  guint fds = 0, i;

  desc = g_strdup_printf ("videotestsrc num-buffers=5 ! video/x-raw,"
      "format=BGRx,width=64,height=48 ! dmaheapupload name=up heap=\"%s\" "
      "min-buffers=3 ! fakesink", test_heap_name);
  dma_heap_test_fail_alloc_after (test_heap_name, 0, ENOMEM);

  for (i = 0; i < 6; i++) {
    GstElement *pipeline;
    GstBus *bus;
    GstMessage *msg;
    GError *error = NULL;
    gchar *debug = NULL;

    /* the first run loads what GStreamer keeps for the process */
    if (i == 1)
      fds = dma_heap_test_count_fds ();
    pipeline = gst_parse_launch (desc, NULL);
    fail_unless (pipeline != NULL);
    bus = gst_element_get_bus (pipeline);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    fail_unless (msg != NULL, "no error within 30 s");
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_ERROR);
    gst_message_parse_error (msg, &error, &debug);
    GST_INFO ("run %u: %s (%s)", i, error->message, GST_STR_NULL (debug));
    /* the element says why, first: the heap was opened and asked, and
     * refused the preallocation */
    fail_unless_equals_string (GST_MESSAGE_SRC_NAME (msg), "up");
    fail_unless (g_error_matches (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", error->message);
    fail_unless (strstr (error->message, test_heap_name) != NULL, "%s",
        error->message);
    fail_unless (strstr (error->message, "Cannot preallocate 3 buffers")
        != NULL, "%s", error->message);
    g_clear_error (&error);
    g_free (debug);
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
  }
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);

  dma_heap_test_fail_alloc_after (test_heap_name, 0, 0);
  g_free (desc);
}

GST_END_TEST;

static Suite *
dmaheapupload_heap_suite (void)
{
  Suite *s = suite_create ("dmaheapupload_heap");
  TCase *tc = tcase_create ("heap");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_zero_copy_v4l2_to_kms);
  tcase_add_test (tc, test_min_buffers);
  tcase_add_test (tc, test_copy_system_memory);
  tcase_add_test (tc, test_copy_strided_bgrx);
  tcase_add_test (tc, test_copy_strided_nv12_plain_downstream);
  tcase_add_test (tc, test_padded_heap_frame);
  tcase_add_test (tc, test_allow_copy_false);
  tcase_add_test (tc, test_non_video);
  tcase_add_test (tc, test_no_caps);
  tcase_add_test (tc, test_renegotiation);
  tcase_add_test (tc, test_fallback_list);
  tcase_add_test (tc, test_heap_refused_in_playing);
  tcase_add_test (tc, test_failed_start_on_non_heap);
  tcase_add_test (tc, test_failed_start_after_open);

  tc = tcase_create ("lifecycle");
  tcase_set_timeout (tc, 600);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_exhausted_mid_stream);
  tcase_add_test (tc, test_exhausted_fallback);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_heap_changed_between_runs);
  tcase_add_test (tc, test_flushing_seeks);
  tcase_add_test (tc, test_two_pipelines_two_heaps);

  return s;
}

/* Opens @spec and allocates a page from it; on success keeps the spec and
 * the name its memories report. */
static gboolean
try_heap (const gchar * spec, GString * reasons)
{
  GstAllocator *allocator;
  GstMemory *mem;
  GError *error = NULL;

  allocator = gst_dma_heap_allocator_new (spec, &error);
  if (!allocator) {
    g_string_append_printf (reasons, "\n  %s: %s", spec, error->message);
    g_error_free (error);
    return FALSE;
  }

  mem = gst_allocator_alloc (allocator, 4096, NULL);
  if (!mem) {
    g_string_append_printf (reasons, "\n  %s: a 4096-byte allocation failed",
        spec);
    gst_object_unref (allocator);
    return FALSE;
  }

  test_heap = g_strdup (spec);
  test_heap_name = g_strdup (gst_dma_heap_memory_get_heap (mem));
  gst_memory_unref (mem);
  gst_object_unref (allocator);

  return TRUE;
}

/* The first heap of GST_DMA_HEAP_TEST_HEAPS (or of those present) is the
 * one tested; exits 77 only when no heap can be opened at all. A heap that
 * opens but cannot give a page is a failure, not a skip. */
int
main (int argc, char **argv)
{
  gchar *reason = NULL;
  gboolean failed;
  gchar **heaps;
  GString *reasons;
  Suite *s;
  int ret;

  dma_heap_test_setup ("dmaheapupload_heap");
  gst_check_init (&argc, &argv);

  heaps = dma_heap_test_find_heaps (&reason, &failed);
  if (heaps == NULL) {
    if (failed || dma_heap_test_strict ()) {
      g_printerr ("FAIL: dmaheapupload_heap: %s\n", reason);
      g_free (reason);
      return 1;
    }
    g_print ("SKIP: dmaheapupload_heap: %s\n", reason);
    g_free (reason);
    return DMA_HEAP_TEST_SKIP;
  }

  reasons = g_string_new (NULL);
  if (!try_heap (heaps[0], reasons)) {
    g_printerr ("heap %s opens but does not allocate:%s\n", heaps[0],
        reasons->str);
    g_string_free (reasons, TRUE);
    g_strfreev (heaps);
    return 1;
  }
  g_string_free (reasons, TRUE);
  g_strfreev (heaps);
  g_print ("testing on heap \"%s\" (%s)\n", test_heap, test_heap_name);

  s = dmaheapupload_heap_suite ();
  ret = dma_heap_test_run_suite (s, "dmaheapupload_heap", __FILE__);

  g_free (test_heap);
  g_free (test_heap_name);

  return ret;
}
