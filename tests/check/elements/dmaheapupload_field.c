/* gst-dmaheap: dmaheapupload with the caps, sizes and peers of the field
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Typed bitstream caps (video/x-h264, image/jpeg, audio, application), a
 * downstream that asks for more than the frame (a driver's sizeimage),
 * allocation queries that must not touch the heap, heap nodes held only
 * while the element runs, and copies of heap memory that land in system
 * memory.
 *
 * The heap is the first of $GST_DMA_HEAP_TEST_HEAPS (the guest runs this
 * program once per heap), else the first heap present: a fake one of
 * tests/fakeheap, or with GST_DMA_HEAP_TEST_REAL=1 one of the machine's.
 * Heap allocations are counted by the ioctl interposer of tests/fakeheap,
 * which counts on real heaps too.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>

#include "../libs/dmaheaptestutil.h"
#include "fakeheap.h"

/* a V4L2 decoder's OUTPUT queue answers its buffer size */
#define DECODER_SIZE    (1024 * 1024)
/* 640x480 NV12 is 460800 bytes; a driver that pads asks for more */
#define FRAME_CAPS      "video/x-raw,format=NV12,width=640,height=480," \
                        "framerate=30/1"
#define FRAME_SIZE      460800
#define SIZEIMAGE       526336
#define DOWNSTREAM_MIN  3
#define DOWNSTREAM_ALIGN 255
#define DEFAULT_MIN     2       /* the element's min-buffers default */
#define LATE_HEAP       "late@70000000"
#define HEAP_DIR        "/dev/dma_heap/"

static const gchar *bitstream_caps[] = {
  "video/x-h264,stream-format=byte-stream,alignment=au",
  "image/jpeg,width=640,height=480",
  "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2",
  "application/octet-stream",
};

/* the spec handed to the element, and the heap its memories report */
static const gchar *test_heap;
static gchar *test_heap_name;

/* What the downstream peer answers to ALLOCATION: no pool entry when
 * @peer_size is 0, else a NULL pool of @peer_size bytes and @peer_min
 * buffers, as a V4L2 decoder or v4l2sink does; an allocation param of
 * alignment @peer_align. */
static GstPadQueryFunction harness_sink_query;
static guint peer_size;
static guint peer_min;
static gsize peer_align;

static gboolean
peer_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstAllocationParams params;

  if (!harness_sink_query (pad, parent, query))
    return FALSE;
  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return TRUE;

  if (peer_size > 0)
    gst_query_add_allocation_pool (query, NULL, peer_size, peer_min, 0);
  if (peer_align > 0) {
    gst_allocation_params_init (&params);
    params.align = peer_align;
    if (gst_query_get_n_allocation_params (query) > 0)
      gst_query_set_nth_allocation_param (query, 0, NULL, &params);
    else
      gst_query_add_allocation_param (query, NULL, &params);
  }

  return TRUE;
}

static GstHarness *
upload_harness (const gchar * heap, guint size, guint min, gsize align)
{
  GstElement *element;
  GstHarness *h;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  fail_unless (element != NULL);
  g_object_set (element, "heap", heap, NULL);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);

  peer_size = size;
  peer_min = min;
  peer_align = align;
  harness_sink_query = GST_PAD_QUERYFUNC (h->sinkpad);
  gst_pad_set_query_function (h->sinkpad, peer_sink_query);

  return h;
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

static guint8
pattern (guint seed, gsize i)
{
  return (seed * 29 + i * 7 + i / 251) & 0xff;
}

/* @size bytes of system memory holding the pattern of @seed */
static GstBuffer *
system_buffer (gsize size, guint seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  gsize i;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (i = 0; i < size; i++)
    map.data[i] = pattern (seed, i);
  gst_buffer_unmap (buf, &map);

  return buf;
}

/* @out holds exactly the bytes of @in, in our heap */
static void
check_same_bytes (GstBuffer * in, GstBuffer * out)
{
  GstMapInfo in_map, out_map;
  gsize i;

  fail_unless (gst_is_dma_heap_memory (gst_buffer_peek_memory (out, 0)),
      "output not in the heap");
  fail_unless_equals_string (gst_dma_heap_memory_get_heap
      (gst_buffer_peek_memory (out, 0)), test_heap_name);
  fail_unless_equals_uint64 (gst_buffer_get_size (out),
      gst_buffer_get_size (in));
  fail_unless (gst_buffer_map (in, &in_map, GST_MAP_READ));
  fail_unless (gst_buffer_map (out, &out_map, GST_MAP_READ));
  for (i = 0; i < in_map.size; i++)
    if (in_map.data[i] != out_map.data[i])
      fail ("byte %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " differs", i,
          in_map.size);
  gst_buffer_unmap (out, &out_map);
  gst_buffer_unmap (in, &in_map);
}

/* Fails on an error message posted by the element. */
static void
check_no_error (GstBus * bus)
{
  GstMessage *msg;

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail ("error: %s", err->message);
  }
}

/* Item 1: bitstreams */

/* Buffers of typed bitstream caps in system memory are copied into the
 * heap byte for byte, whatever downstream says about sizes. */
static void
run_bitstream (const gchar * caps_str, guint downstream_size)
{
  const gsize sizes[] = { 5000, 12345, 700, 5000, 30001 };
  GstHarness *h;
  GstBus *bus;
  guint64 bytes = 0;
  guint i;

  GST_INFO ("%s, downstream size %u", caps_str, downstream_size);
  h = upload_harness (test_heap, downstream_size, 0, 0);
  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, caps_str);

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GstBuffer *in = system_buffer (sizes[i], i + 1), *out;
    gsize maxsize = 0;

    GST_BUFFER_PTS (in) = i * GST_SECOND;
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
        GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out != NULL);
    fail_unless (out != in);
    check_same_bytes (in, out);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), i * GST_SECOND);
    /* flat buffers of downstream's size when it gave one */
    gst_buffer_get_sizes (out, NULL, &maxsize);
    if (downstream_size > 0)
      fail_unless (maxsize >= downstream_size, "buffer of %" G_GSIZE_FORMAT
          " bytes, downstream asked %u", maxsize, downstream_size);
    bytes += sizes[i];
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }

  fail_unless_equals_uint64 (stats_field (h->element, "copied"),
      G_N_ELEMENTS (sizes));
  fail_unless_equals_uint64 (stats_field (h->element, "bytes-copied"), bytes);
  fail_unless_equals_uint64 (stats_field (h->element, "passed-through"), 0);
  check_no_error (bus);

  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_START_TEST (test_bitstream_no_downstream_size)
{
  run_bitstream (bitstream_caps[__i__], 0);
}

GST_END_TEST;

GST_START_TEST (test_bitstream_downstream_size)
{
  run_bitstream (bitstream_caps[__i__], DECODER_SIZE);
}

GST_END_TEST;

/* Upstream of a bitstream gets the allocator, no pool and no GstVideoMeta:
 * the caps say nothing of a buffer size or layout. */
GST_START_TEST (test_bitstream_proposal)
{
  GstAllocator *allocator = NULL;
  GstQuery *query;
  GstCaps *caps;
  GstHarness *h;

  h = upload_harness (test_heap, DECODER_SIZE, 0, 0);
  gst_harness_set_src_caps_str (h, bitstream_caps[__i__]);

  caps = gst_caps_from_string (bitstream_caps[__i__]);
  query = gst_query_new_allocation (caps, TRUE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless_equals_int (gst_query_get_n_allocation_pools (query), 0);
  fail_if (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE,
          NULL));
  fail_unless (gst_query_get_n_allocation_params (query) > 0);
  gst_query_parse_nth_allocation_param (query, 0, &allocator, NULL);
  fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (allocator));
  gst_object_unref (allocator);
  gst_query_unref (query);
  gst_caps_unref (caps);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* With bitstream-pool, upstream of a bitstream gets a pool of flat heap
 * buffers: downstream's size, at least a page, no GstVideoMeta. Upstream
 * configures it with its own size, as a V4L2 encoder importing into it
 * does, and its buffers pass through. */
static void
run_bitstream_pool (const gchar * caps_str, guint downstream_size)
{
  GstBufferPool *pool = NULL;
  GstStructure *config;
  GstQuery *query;
  GstCaps *caps;
  GstHarness *h;
  guint size = 0, min = 0, i;
  const guint upstream_size = 200000;

  h = upload_harness (test_heap, downstream_size, 0, 0);
  g_object_set (h->element, "bitstream-pool", TRUE, NULL);
  gst_harness_set_src_caps_str (h, caps_str);

  caps = gst_caps_from_string (caps_str);
  query = gst_query_new_allocation (caps, TRUE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless_equals_int (gst_query_get_n_allocation_pools (query), 1);
  gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, NULL);
  fail_unless (GST_IS_DMA_HEAP_BUFFER_POOL (pool));
  fail_unless_equals_int (size, MAX (downstream_size, 4096));
  fail_unless_equals_int (min, DEFAULT_MIN);
  fail_if (gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE,
          NULL));
  gst_query_unref (query);
  config = gst_buffer_pool_get_config (pool);
  fail_if (gst_buffer_pool_config_has_option (config,
          GST_BUFFER_POOL_OPTION_VIDEO_META));

  /* upstream's own size and minimum, as GstV4l2Object sets them */
  gst_buffer_pool_config_set_params (config, caps, upstream_size, 3, 0);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 5; i++) {
    GstBuffer *in = NULL, *out;

    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &in, NULL),
        GST_FLOW_OK);
    fail_unless_equals_int (gst_buffer_get_size (in), upstream_size);
    fail_unless (gst_is_dma_heap_memory (gst_buffer_peek_memory (in, 0)));
    /* an encoder sets the size of what it wrote */
    gst_buffer_set_size (in, 1000 + i);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out == in, "buffer of the proposed pool was copied");
    fail_unless_equals_int (gst_buffer_get_size (out), 1000 + i);
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (stats_field (h->element, "copied"), 0);
  fail_unless_equals_uint64 (stats_field (h->element, "passed-through"), 5);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_caps_unref (caps);

  /* off again: the allocator only, as for a GstBaseSrc */
  g_object_set (h->element, "bitstream-pool", FALSE, NULL);
  caps = gst_caps_from_string (caps_str);
  query = gst_query_new_allocation (caps, TRUE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless_equals_int (gst_query_get_n_allocation_pools (query), 0);
  gst_query_unref (query);
  gst_caps_unref (caps);

  gst_harness_teardown (h);
}

GST_START_TEST (test_bitstream_pool)
{
  run_bitstream_pool (bitstream_caps[__i__], 0);
  run_bitstream_pool (bitstream_caps[__i__], DECODER_SIZE);
}

GST_END_TEST;

/* Item 2: sizes */

/* Upstream's ALLOCATION query, answered by the element. Returns the
 * proposed pool (ref), its size, minimum and the first param's align. */
static GstBufferPool *
query_pool (GstHarness * h, const gchar * caps_str, guint * size, guint * min,
    gsize * align)
{
  GstAllocationParams params;
  GstBufferPool *pool = NULL;
  GstQuery *query;
  GstCaps *caps;

  caps = gst_caps_from_string (caps_str);
  query = gst_query_new_allocation (caps, TRUE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless (gst_query_get_n_allocation_pools (query) > 0, "no pool");
  gst_query_parse_nth_allocation_pool (query, 0, &pool, size, min, NULL);
  fail_unless (GST_IS_DMA_HEAP_BUFFER_POOL (pool));
  fail_unless (gst_query_get_n_allocation_params (query) > 0);
  gst_query_parse_nth_allocation_param (query, 0, NULL, &params);
  if (align)
    *align = params.align;
  gst_query_unref (query);
  gst_caps_unref (caps);

  return pool;
}

/* A downstream that pads its frames (sizeimage 526336 for a 460800-byte
 * frame) gets buffers of that size from upstream, through the pool the
 * element proposes: they pass through, nothing is copied. */
GST_START_TEST (test_propose_downstream_size)
{
  GstBufferPool *pool;
  GstStructure *config;
  GstCaps *caps = NULL;
  GstHarness *h;
  guint size = 0, min = 0, config_size = 0, i;
  gsize align = 0;

  h = upload_harness (test_heap, SIZEIMAGE, DOWNSTREAM_MIN, DOWNSTREAM_ALIGN);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);

  pool = query_pool (h, FRAME_CAPS, &size, &min, &align);
  fail_unless_equals_int (size, SIZEIMAGE);
  fail_unless_equals_int (min, DOWNSTREAM_MIN + DEFAULT_MIN);
  fail_unless ((align & DOWNSTREAM_ALIGN) == DOWNSTREAM_ALIGN,
      "align %" G_GSIZE_FORMAT " does not cover downstream's %d", align,
      DOWNSTREAM_ALIGN);
  config = gst_buffer_pool_get_config (pool);
  fail_unless (gst_buffer_pool_config_get_params (config, &caps, &config_size,
          NULL, NULL));
  fail_unless_equals_int (config_size, SIZEIMAGE);
  gst_structure_free (config);

  /* upstream as GstBaseSrc: activates the pool as it was proposed */
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 8; i++) {
    GstBuffer *in = NULL, *out;
    gsize maxsize = 0;

    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &in, NULL),
        GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless (out == in, "buffer of the proposed pool was copied");
    gst_buffer_get_sizes (out, NULL, &maxsize);
    fail_unless (maxsize >= SIZEIMAGE, "maxsize %" G_GSIZE_FORMAT, maxsize);
    gst_buffer_unref (out);
  }
  fail_unless_equals_uint64 (stats_field (h->element, "bytes-copied"), 0);
  fail_unless_equals_uint64 (stats_field (h->element, "copied"), 0);
  fail_unless_equals_uint64 (stats_field (h->element, "passed-through"), 8);

  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A downstream asking less than the frame gets the frame size. */
GST_START_TEST (test_propose_frame_size)
{
  GstBufferPool *pool;
  GstHarness *h;
  guint size = 0, min = 0;

  h = upload_harness (test_heap, 4096, 1, 0);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);

  pool = query_pool (h, FRAME_CAPS, &size, &min, NULL);
  fail_unless_equals_int (size, FRAME_SIZE);
  fail_unless_equals_int (min, 1 + DEFAULT_MIN);
  gst_object_unref (pool);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* Item 3: no heap allocation at query time */

/* Ten identical ALLOCATION queries allocate nothing from the heap and get
 * the same pool; the pool allocates its minimum when upstream activates
 * it. */
GST_START_TEST (test_queries_allocate_nothing)
{
  GstBufferPool *proposed, *pool;
  GstHarness *h;
  guint size = 0, min = 0, i;

  h = upload_harness (test_heap, SIZEIMAGE, DOWNSTREAM_MIN, 0);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);

  fake_heap_reset_counts ();
  proposed = query_pool (h, FRAME_CAPS, &size, &min, NULL);
  for (i = 1; i < 10; i++) {
    pool = query_pool (h, FRAME_CAPS, &size, &min, NULL);
    fail_unless (pool == proposed, "query %u gave another pool", i + 1);
    gst_object_unref (pool);
  }
  fail_unless_equals_int (fake_heap_alloc_count (NULL), 0);

  fail_unless (gst_buffer_pool_set_active (proposed, TRUE));
  fail_unless_equals_int (fake_heap_alloc_count (NULL), min);
  /* the pool upstream holds active is the one the next query gets */
  pool = query_pool (h, FRAME_CAPS, &size, &min, NULL);
  fail_unless (pool == proposed);
  gst_object_unref (pool);
  fail_unless_equals_int (fake_heap_alloc_count (NULL), min);
  fail_unless (gst_buffer_pool_set_active (proposed, FALSE));
  gst_object_unref (proposed);

  /* other caps, another pool, still nothing allocated by the query */
  min = DOWNSTREAM_MIN + DEFAULT_MIN;
  pool = query_pool (h, "video/x-raw,format=NV12,width=320,height=240,"
      "framerate=30/1", &size, NULL, NULL);
  fail_unless (pool != proposed);
  gst_object_unref (pool);
  fail_unless_equals_int (fake_heap_alloc_count (NULL), min);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A heap that cannot hold the minimum makes the activation of the
 * proposed pool fail, with the numbers; the query itself succeeded. */
GST_START_TEST (test_activation_fails_with_numbers)
{
  GstBufferPool *pool;
  GstHarness *h;
  GError *error;
  gchar *expected;
  guint size = 0, min = 0;

  h = upload_harness (test_heap, 0, 0, 0);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);

  fake_heap_reset_counts ();
  pool = query_pool (h, FRAME_CAPS, &size, &min, NULL);
  fail_unless_equals_int (min, DEFAULT_MIN);
  g_object_set (h->element, "min-buffers", 4, NULL);
  gst_object_unref (pool);
  pool = query_pool (h, FRAME_CAPS, &size, &min, NULL);
  fail_unless_equals_int (min, 4);
  fail_unless_equals_int (fake_heap_alloc_count (NULL), 0);

  /* the heap refuses every buffer */
  fake_heap_fail_alloc (NULL, ENOMEM, -1);
  fail_if (gst_buffer_pool_set_active (pool, TRUE));
  fake_heap_fail_alloc (NULL, 0, 0);

  error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  fail_unless (error != NULL);
  expected = g_strdup_printf ("Cannot preallocate 4 buffers of %u bytes",
      FRAME_SIZE);
  fail_unless (strstr (error->message, expected) != NULL, "%s",
      error->message);
  fail_unless (strstr (error->message, test_heap_name) != NULL, "%s",
      error->message);
  g_free (expected);
  g_error_free (error);

  gst_object_unref (pool);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Item 4: heap nodes are open only while the element runs */

/* Open fds of this process on a heap node: readlink says /dev/dma_heap/ */
static guint
count_heap_nodes (void)
{
  GDir *dir;
  const gchar *name;
  guint n = 0;

  dir = g_dir_open ("/proc/self/fd", 0, NULL);
  fail_unless (dir != NULL);
  while ((name = g_dir_read_name (dir)) != NULL) {
    gchar *path = g_build_filename ("/proc/self/fd", name, NULL);
    gchar *target = g_file_read_link (path, NULL);

    if (target && g_str_has_prefix (target, HEAP_DIR)) {
      GST_DEBUG ("fd %s: %s", name, target);
      n++;
    }
    g_free (target);
    g_free (path);
  }
  g_dir_close (dir);

  return n;
}

/* Loading the plugin and making an element open no heap, and nothing
 * registers a "dmaheap" allocator behind the application's back. */
GST_START_TEST (test_plugin_load_opens_nothing)
{
  GstPlugin *plugin;
  GstElement *element;

  plugin = gst_plugin_load_by_name ("dmaheap");
  fail_unless (plugin != NULL);
  gst_object_unref (plugin);
  fail_unless_equals_int (count_heap_nodes (), 0);

  element = gst_element_factory_make ("dmaheapupload", NULL);
  fail_unless (element != NULL);
  fail_unless_equals_int (count_heap_nodes (), 0);
  /* BaseTransform starts in READY to PAUSED */
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (count_heap_nodes () > 0, "the element in PAUSED has no heap");
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (count_heap_nodes (), 0);
  gst_object_unref (element);

  fail_unless (gst_allocator_find (GST_ALLOCATOR_DMAHEAP) == NULL);
}

GST_END_TEST;

/* After a run that copied, allocated and passed buffers through, an
 * element back in NULL holds no heap node. */
GST_START_TEST (test_null_holds_no_heap)
{
  GstBufferPool *pool;
  GstBuffer *buf;
  GstHarness *h;
  guint size = 0, min = 0, i;

  fail_unless_equals_int (count_heap_nodes (), 0);

  for (i = 0; i < 3; i++) {
    h = upload_harness (test_heap, 0, 0, 0);
    gst_harness_set_src_caps_str (h, FRAME_CAPS);
    fail_unless (count_heap_nodes () > 0);

    buf = system_buffer (FRAME_SIZE, 3);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));

    pool = query_pool (h, FRAME_CAPS, &size, &min, NULL);
    fail_unless (gst_buffer_pool_set_active (pool, TRUE));
    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &buf, NULL),
        GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
    fail_unless (gst_buffer_pool_set_active (pool, FALSE));
    /* upstream keeps the pool (and its allocator) past the element's run */
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (pool);
    fail_unless_equals_int (count_heap_nodes (), 0);

    gst_harness_teardown (h);
    fail_unless_equals_int (count_heap_nodes (), 0);
  }
}

GST_END_TEST;

/* The allocator the element offers upstream (ref) */
static GstAllocator *
query_allocator (GstHarness * h, const gchar * caps_str)
{
  GstAllocator *allocator = NULL;
  GstQuery *query;
  GstCaps *caps;

  caps = gst_caps_from_string (caps_str);
  query = gst_query_new_allocation (caps, FALSE);
  fail_unless (gst_pad_peer_query (h->srcpad, query));
  fail_unless (gst_query_get_n_allocation_params (query) > 0);
  gst_query_parse_nth_allocation_param (query, 0, &allocator, NULL);
  fail_unless (GST_IS_DMA_HEAP_ALLOCATOR (allocator));
  gst_query_unref (query);
  gst_caps_unref (caps);

  return allocator;
}

/* An upstream element that keeps the allocator it was given past its run
 * (v4l2src in 1.22) keeps its heap nodes open; the element's next runs take
 * that allocator again instead of opening the heaps once more per run.
 * When upstream drops it, no node stays open. */
GST_START_TEST (test_upstream_keeps_allocator)
{
  GstAllocator *kept, *again;
  GstHarness *h;
  guint nodes, i;

  h = upload_harness (test_heap, 0, 0, 0);
  gst_harness_set_src_caps_str (h, FRAME_CAPS);
  kept = query_allocator (h, FRAME_CAPS);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  nodes = count_heap_nodes ();
  fail_unless (nodes > 0, "the allocator upstream holds has no heap open");

  for (i = 0; i < 5; i++) {
    gst_harness_play (h);
    gst_harness_set_src_caps_str (h, FRAME_CAPS);
    again = query_allocator (h, FRAME_CAPS);
    fail_unless (again == kept, "run %u made another allocator", i + 2);
    gst_object_unref (again);
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (count_heap_nodes (), nodes);
  }

  gst_object_unref (kept);
  fail_unless_equals_int (count_heap_nodes (), 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Fake heaps only (a heap cannot be made to appear on a real machine): a
 * heap that appears while the element is in NULL is used at its next
 * start, even while upstream still holds the allocator of the last run. */
GST_START_TEST (test_heap_appears_in_null)
{
  GstAllocator *kept, *now;
  GstElement *element;
  GstHarness *h;
  GstBuffer *out;
  gchar *spec;

  spec = g_strdup_printf (LATE_HEAP ",%s", test_heap);
  h = upload_harness (spec, 0, 0, 0);
  element = gst_object_ref (h->element);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  kept = query_allocator (h, "application/octet-stream");
  fail_unless_equals_int (gst_harness_push (h, system_buffer (4000, 1)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_string (gst_dma_heap_memory_get_heap
      (gst_buffer_peek_memory (out, 0)), test_heap_name);
  gst_buffer_unref (out);

  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (fake_heap_add (LATE_HEAP, 16 * 1024 * 1024, NULL),
      0);

  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  now = query_allocator (h, "application/octet-stream");
  fail_unless (now != kept);
  gst_object_unref (now);
  gst_object_unref (kept);
  fail_unless_equals_int (gst_harness_push (h, system_buffer (4000, 2)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_string (gst_dma_heap_memory_get_heap
      (gst_buffer_peek_memory (out, 0)), LATE_HEAP);
  gst_buffer_unref (out);

  gst_harness_teardown (h);
  gst_object_unref (element);
  g_free (spec);
}

GST_END_TEST;

/* Item 5: copies of heap memory go to system memory */

static void
check_system_copy (GstMemory * mem, GstMemory * orig, guint seed)
{
  GstMapInfo map;
  gsize i;

  fail_unless (mem != orig);
  fail_if (gst_is_dma_heap_memory (mem), "the copy is in the heap");
  fail_if (GST_IS_DMA_HEAP_ALLOCATOR (mem->allocator));
  fail_unless (gst_memory_is_type (mem, GST_ALLOCATOR_SYSMEM));
  fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
  for (i = 0; i < map.size; i++)
    if (map.data[i] != pattern (seed, i))
      fail ("byte %" G_GSIZE_FORMAT " of the copy differs", i);
  gst_memory_unmap (mem, &map);
}

GST_START_TEST (test_copy_goes_to_system_memory)
{
  GstAllocator *allocator;
  GstBuffer *buf, *writable;
  GstMemory *mem, *copy;
  GstMapInfo map;
  GError *error = NULL;
  gchar *area;
  gint64 pages_before = 0, pages_after = 0;
  gsize i;

  allocator = gst_dma_heap_allocator_new (test_heap, &error);
  fail_unless (allocator != NULL, "%s", error ? error->message : "");
#if GST_CHECK_VERSION(1, 24, 0)
  fail_unless (GST_OBJECT_FLAG_IS_SET (allocator,
          GST_ALLOCATOR_FLAG_NO_COPY));
#endif
  buf = gst_buffer_new_allocate (allocator, 100000, NULL);
  fail_unless (buf != NULL);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (i = 0; i < map.size; i++)
    map.data[i] = pattern (9, i);
  gst_buffer_unmap (buf, &map);
  mem = gst_buffer_peek_memory (buf, 0);
  fail_unless (gst_is_dma_heap_memory (mem));

  fake_heap_reset_counts ();
  /* on a CMA region, the kernel's own count of pages handed out too */
  area = dma_heap_test_cma_area (test_heap_name);
  if (area)
    fail_unless (dma_heap_test_cma_counter (area, "alloc_pages_success",
            &pages_before), "no alloc_pages_success for CMA area %s", area);

  /* a buffer shared with another holder (a tee branch, a queue) made
   * writable and written to, as an in-place transform does */
  gst_buffer_ref (buf);
  writable = gst_buffer_make_writable (buf);
  fail_unless (writable != buf);
  fail_unless (gst_buffer_map (writable, &map, GST_MAP_WRITE));
  gst_buffer_unmap (writable, &map);
  check_system_copy (gst_buffer_peek_memory (writable, 0), mem, 9);
  /* the original is untouched, in the heap */
  fail_unless (gst_buffer_peek_memory (buf, 0) == mem);
  gst_buffer_unref (writable);

  /* a deep copy, and a copy of the memory itself */
  writable = gst_buffer_copy_deep (buf);
  check_system_copy (gst_buffer_peek_memory (writable, 0), mem, 9);
  gst_buffer_unref (writable);
  copy = gst_memory_copy (mem, 0, -1);
  fail_unless (copy != NULL);
  check_system_copy (copy, mem, 9);
  gst_memory_unref (copy);

  /* part of it */
  copy = gst_memory_copy (mem, 1000, 5000);
  fail_unless (copy != NULL);
  fail_unless_equals_uint64 (copy->size, 5000);
  fail_if (gst_is_dma_heap_memory (copy));
  fail_unless (gst_memory_map (copy, &map, GST_MAP_READ));
  for (i = 0; i < map.size; i++)
    if (map.data[i] != pattern (9, i + 1000))
      fail ("byte %" G_GSIZE_FORMAT " of the partial copy differs", i);
  gst_memory_unmap (copy, &map);
  gst_memory_unref (copy);

  /* none of it came from the heap */
  fail_unless_equals_int (fake_heap_alloc_count (NULL), 0);
  if (area) {
    fail_unless (dma_heap_test_cma_counter (area, "alloc_pages_success",
            &pages_after));
    fail_unless (pages_after == pages_before, "CMA area %s handed out %"
        G_GINT64_FORMAT " pages for the copies", area,
        pages_after - pages_before);
    g_free (area);
  }

  gst_buffer_unref (buf);
  gst_object_unref (allocator);
}

GST_END_TEST;

static Suite *
dmaheapupload_field_suite (void)
{
  Suite *s = suite_create ("dmaheapupload_field");
  TCase *tc;
  GstAllocator *allocator;
  GstMemory *mem;

  /* the name the heap's memories report */
  test_heap = dma_heap_test_heaps[0];
  allocator = gst_dma_heap_allocator_new (test_heap, NULL);
  if (allocator) {
    mem = gst_allocator_alloc (allocator, 4096, NULL);
    if (mem) {
      test_heap_name = g_strdup (gst_dma_heap_memory_get_heap (mem));
      gst_memory_unref (mem);
    }
    gst_object_unref (allocator);
  }
  if (!test_heap_name)
    test_heap_name = g_strdup (test_heap);

  tc = tcase_create ("bitstream");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_bitstream_no_downstream_size, 0,
      G_N_ELEMENTS (bitstream_caps));
  tcase_add_loop_test (tc, test_bitstream_downstream_size, 0,
      G_N_ELEMENTS (bitstream_caps));
  tcase_add_loop_test (tc, test_bitstream_proposal, 0,
      G_N_ELEMENTS (bitstream_caps));
  tcase_add_loop_test (tc, test_bitstream_pool, 0,
      G_N_ELEMENTS (bitstream_caps));

  tc = tcase_create ("sizes");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_propose_downstream_size);
  tcase_add_test (tc, test_propose_frame_size);

  tc = tcase_create ("queries");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_queries_allocate_nothing);
  tcase_add_test (tc, test_activation_fails_with_numbers);

  tc = tcase_create ("heap-nodes");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_plugin_load_opens_nothing);
  tcase_add_test (tc, test_null_holds_no_heap);
  tcase_add_test (tc, test_upstream_keeps_allocator);
  if (dma_heap_test_is_fake ())
    tcase_add_test (tc, test_heap_appears_in_null);

  tc = tcase_create ("copies");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_copy_goes_to_system_memory);

  return s;
}

int
main (int argc, char **argv)
{
  int ret;

  ret = dma_heap_test_main (argc, argv, dmaheapupload_field_suite,
      "dmaheapupload_field");
  g_free (test_heap_name);

  return ret;
}
