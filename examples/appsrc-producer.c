/* gst-dmaheap example: an application producing frames in a dma-buf heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   appsrc-producer [--heap SPEC] [--frames N] [--width W] [--height H]
 *                   [--format FORMAT]
 *
 * An application that draws its own frames (a renderer, a compositor, a
 * camera stack) can draw them straight into the memory the rest of the
 * pipeline wants, here a chosen dma-buf heap:
 *
 *   GstDmaHeapBufferPool --acquire--> draw with the CPU --> appsrc
 *     ! dmaheapupload heap=SPEC allow-copy=false ! appsink
 *
 * The pool gives one dma-buf per frame, laid out as the caps say, with a
 * GstVideoMeta. The frames are written through gst_video_frame_map(), which
 * syncs the dma-buf around the CPU access. dmaheapupload stands for the
 * consumer that needs heap memory (a display, an encoder): it passes
 * buffers already in its heap through untouched, and with
 * allow-copy=false any other buffer is an error. At the end the program
 * checks, at the appsink:
 *
 *  - every buffer arrived, in order, with the pixels that were drawn;
 *  - every memory is dma-heap memory of the chosen heap, and one of the
 *    pool's memories (recycled, never copied);
 *  - dmaheapupload's "stats" count every buffer as passed through and none
 *    as copied.
 *
 * Exit status: 0 when every check passes, 1 otherwise, 77 when this system
 * has no dma-buf heap this user can open.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>

#define EXIT_SKIP 77

typedef struct
{
  GstVideoInfo info;
  const gchar *heap;            /* the heap the pool allocates from */

  /* the memories of the pool's buffers, seen when they were acquired */
  GMutex lock;
  GHashTable *pool_memories;

  /* written by the appsink's streaming thread */
  guint received;
  guint errors;
} App;

static guint8
pixel (guint frame, guint plane, guint x, guint y)
{
  return (guint8) (frame * 7 + plane * 50 + x * 3 + y * 5);
}

/* Draws frame @n with the CPU, plane by plane, honouring the strides of
 * the GstVideoMeta the pool put on the buffer. */
static gboolean
draw_frame (App * app, GstBuffer * buf, guint n)
{
  GstVideoFrame frame;
  guint p, x, y;

  if (!gst_video_frame_map (&frame, &app->info, buf, GST_MAP_WRITE))
    return FALSE;

  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    guint width = GST_VIDEO_FRAME_COMP_WIDTH (&frame, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, p);
    guint height = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);

    for (y = 0; y < height; y++) {
      for (x = 0; x < width; x++)
        data[y * stride + x] = pixel (n, p, x, y);
    }
  }
  gst_video_frame_unmap (&frame);

  return TRUE;
}

/* Checks frame @n as the sink received it. Returns an error text. */
static gchar *
check_frame (App * app, GstBuffer * buf, guint n)
{
  GstVideoFrame frame;
  gchar *problem = NULL;
  guint i, p, x, y;

  for (i = 0; i < gst_buffer_n_memory (buf); i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    gboolean ours;

    if (!gst_is_dma_heap_memory (mem))
      return g_strdup_printf ("memory %u is not dma-heap memory", i);
    if (g_strcmp0 (gst_dma_heap_memory_get_heap (mem), app->heap) != 0)
      return g_strdup_printf ("memory %u comes from heap %s, not %s", i,
          gst_dma_heap_memory_get_heap (mem), app->heap);

    g_mutex_lock (&app->lock);
    ours = g_hash_table_contains (app->pool_memories, mem);
    g_mutex_unlock (&app->lock);
    if (!ours)
      return g_strdup_printf ("memory %u is not one of the pool's: a copy",
          i);
  }

  if (!gst_video_frame_map (&frame, &app->info, buf, GST_MAP_READ))
    return g_strdup ("cannot map the frame for reading");

  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame) && !problem; p++) {
    const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    guint width = GST_VIDEO_FRAME_COMP_WIDTH (&frame, p) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, p);
    guint height = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);

    for (y = 0; y < height && !problem; y++) {
      for (x = 0; x < width; x++) {
        if (data[y * stride + x] != pixel (n, p, x, y)) {
          problem = g_strdup_printf ("plane %u, byte %u of line %u is 0x%02x, "
              "0x%02x was drawn", p, x, y, data[y * stride + x],
              pixel (n, p, x, y));
          break;
        }
      }
    }
  }
  gst_video_frame_unmap (&frame);

  return problem;
}

static GstFlowReturn
new_sample (GstAppSink * sink, gpointer user_data)
{
  App *app = user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  gchar *problem;
  guint n;

  if (sample == NULL)
    return GST_FLOW_EOS;

  buf = gst_sample_get_buffer (sample);
  n = (guint) GST_BUFFER_OFFSET (buf);
  if (n != app->received)
    problem = g_strdup_printf ("frame %u arrived when %u was expected", n,
        app->received);
  else
    problem = check_frame (app, buf, n);

  if (problem) {
    g_printerr ("frame %u: %s\n", n, problem);
    app->errors++;
    g_free (problem);
  }
  app->received++;
  gst_sample_unref (sample);

  return GST_FLOW_OK;
}

static GstBufferPool *
make_pool (App * app, GstAllocator * allocator, GstCaps * caps)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (allocator);
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GError *error;

  /* 2 buffers allocated when the pool starts, at most 4 in flight: the
   * producer waits for the pipeline to give buffers back */
  gst_buffer_pool_config_set_params (config, caps, app->info.size, 2, 4);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_META);

  if (!gst_buffer_pool_set_config (pool, config)) {
    /* the pool corrected the configuration: accept it if it still fits */
    config = gst_buffer_pool_get_config (pool);
    if (!gst_buffer_pool_config_validate_params (config, caps,
            app->info.size, 2, 4) ||
        !gst_buffer_pool_set_config (pool, config)) {
      g_printerr ("the pool refused the configuration\n");
      gst_object_unref (pool);
      return NULL;
    }
  }

  if (!gst_buffer_pool_set_active (pool, TRUE)) {
    /* for instance a CMA region too small: the error has the numbers */
    error = gst_dma_heap_buffer_pool_get_last_error
        (GST_DMA_HEAP_BUFFER_POOL (pool));
    g_printerr ("cannot start the pool: %s\n",
        error ? error->message : "unknown error");
    g_clear_error (&error);
    gst_object_unref (pool);
    return NULL;
  }

  return pool;
}

/* Waits for the end of the stream; FALSE on an error message. */
static gboolean
wait_eos (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean ok;

  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;

  if (msg == NULL) {
    g_printerr ("no end of stream after 60 s\n");
  } else if (!ok) {
    GError *error = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &error, &debug);
    g_printerr ("error from %s: %s\n%s\n", GST_OBJECT_NAME (msg->src),
        error->message, debug ? debug : "");
    g_clear_error (&error);
    g_free (debug);
  }
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);

  return ok;
}

/* TRUE when at least one heap of this system can be opened. */
static gboolean
any_heap_usable (void)
{
  gchar **names = gst_dma_heap_list (NULL);
  gboolean usable = FALSE;
  guint i;

  for (i = 0; names && names[i] && !usable; i++) {
    gint fd = gst_dma_heap_open (names[i], NULL);

    if (fd >= 0) {
      close (fd);
      usable = TRUE;
    }
  }
  g_strfreev (names);

  return usable;
}

int
main (int argc, char **argv)
{
  gchar *heap_spec = NULL, *format = NULL;
  gint frames = 30, width = 320, height = 240;
  GOptionEntry entries[] = {
    {"heap", 'H', 0, G_OPTION_ARG_STRING, &heap_spec,
        "Heap spec to allocate from (default: default)", "SPEC"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames,
        "Frames to produce (default: 30)", "N"},
    {"width", 0, 0, G_OPTION_ARG_INT, &width, "Width (default: 320)", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &height, "Height (default: 240)",
        "H"},
    {"format", 0, 0, G_OPTION_ARG_STRING, &format,
        "Video format (default: NV12)", "FORMAT"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  App app = { 0 };
  GstAllocator *allocator = NULL;
  GstBufferPool *pool = NULL;
  GstElement *pipeline = NULL, *src, *upload, *sink;
  GstAppSinkCallbacks callbacks = { 0 };
  GstStructure *stats = NULL;
  gchar *stats_str;
  GstCaps *caps = NULL;
  guint64 passed = 0, copied = G_MAXUINT64;
  gchar **heaps;
  int ret = EXIT_FAILURE;
  gint i;

  ctx = g_option_context_new ("- draw frames into a dma-buf heap and push "
      "them through appsrc");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return EXIT_FAILURE;
  }
  g_option_context_free (ctx);
  gst_init (NULL, NULL);

  if (frames < 1 || width < 16 || height < 16 || width > 8192 ||
      height > 8192) {
    g_printerr ("--frames must be at least 1, sizes 16 to 8192\n");
    return EXIT_FAILURE;
  }

  caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, format ? format : "NV12",
      "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
      "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  if (!gst_video_info_from_caps (&app.info, caps)) {
    g_printerr ("unusable video format %s\n", format ? format : "NV12");
    goto done;
  }

  /* 1. The allocator and the pool, on the chosen heap. */
  allocator = gst_dma_heap_allocator_new (heap_spec, &error);
  if (allocator == NULL) {
    g_printerr ("%s\n", error->message);
    if (!any_heap_usable ()) {
      g_print ("SKIP: no dma-buf heap can be opened here\n");
      ret = EXIT_SKIP;
    }
    g_clear_error (&error);
    goto done;
  }
  gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (allocator),
      "appsrc-producer");
  heaps = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
      (allocator));
  /* heap names are interned: the string outlives the array */
  app.heap = g_intern_string (heaps[0]);
  g_strfreev (heaps);

  g_mutex_init (&app.lock);
  app.pool_memories = g_hash_table_new (NULL, NULL);

  pool = make_pool (&app, allocator, caps);
  if (pool == NULL)
    goto done;

  g_print ("producing %d frames of %s from heap %s\n", frames,
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&app.info)),
      app.heap);

  /* 2. appsrc ! dmaheapupload allow-copy=false ! appsink */
  pipeline = gst_pipeline_new ("producer");
  src = gst_element_factory_make ("appsrc", "src");
  upload = gst_element_factory_make ("dmaheapupload", "upload");
  sink = gst_element_factory_make ("appsink", "sink");
  if (!src || !upload || !sink) {
    g_printerr ("missing element: appsrc, dmaheapupload or appsink (is "
        "GST_PLUGIN_PATH set to the gst-dmaheap plugin?)\n");
    gst_clear_object (&src);
    gst_clear_object (&upload);
    gst_clear_object (&sink);
    goto done;
  }
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, NULL);
  g_object_set (upload, "heap", app.heap, "allow-copy", FALSE, NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  callbacks.new_sample = new_sample;
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, &app, NULL);

  gst_bin_add_many (GST_BIN (pipeline), src, upload, sink, NULL);
  if (!gst_element_link_many (src, upload, sink, NULL)) {
    g_printerr ("cannot link appsrc ! dmaheapupload ! appsink\n");
    goto done;
  }
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("the pipeline does not start\n");
    wait_eos (pipeline);
    goto done;
  }

  /* 3. Draw and push. acquire_buffer() blocks while all 4 buffers are in
   * the pipeline: the pool paces the producer. */
  for (i = 0; i < frames; i++) {
    GstBuffer *buf = NULL;
    guint m;

    if (gst_buffer_pool_acquire_buffer (pool, &buf, NULL) != GST_FLOW_OK) {
      g_printerr ("cannot acquire buffer %d\n", i);
      goto done;
    }

    g_mutex_lock (&app.lock);
    for (m = 0; m < gst_buffer_n_memory (buf); m++)
      g_hash_table_add (app.pool_memories, gst_buffer_peek_memory (buf, m));
    g_mutex_unlock (&app.lock);

    if (!draw_frame (&app, buf, i)) {
      g_printerr ("cannot map buffer %d for writing\n", i);
      gst_buffer_unref (buf);
      goto done;
    }
    GST_BUFFER_OFFSET (buf) = i;
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, 30);
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;

    if (gst_app_src_push_buffer (GST_APP_SRC (src), buf) != GST_FLOW_OK) {
      g_printerr ("appsrc refused buffer %d\n", i);
      break;
    }
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  if (!wait_eos (pipeline))
    goto done;

  /* 4. What dmaheapupload counted. */
  g_object_get (upload, "stats", &stats, NULL);
  stats_str = gst_structure_to_string (stats);
  g_print ("dmaheapupload stats: %s\n", stats_str);
  g_free (stats_str);
  gst_structure_get_uint64 (stats, "passed-through", &passed);
  gst_structure_get_uint64 (stats, "copied", &copied);

  ret = EXIT_SUCCESS;
  if (app.received != (guint) frames) {
    g_printerr ("%u frames received, %d pushed\n", app.received, frames);
    ret = EXIT_FAILURE;
  }
  if (app.errors) {
    g_printerr ("%u frames were wrong at the sink\n", app.errors);
    ret = EXIT_FAILURE;
  }
  if (passed != (guint64) frames || copied != 0) {
    g_printerr ("dmaheapupload passed %" G_GUINT64_FORMAT " buffers through "
        "and copied %" G_GUINT64_FORMAT ", expected %d and 0\n", passed,
        copied, frames);
    ret = EXIT_FAILURE;
  }
  if (g_hash_table_size (app.pool_memories) > 4) {
    g_printerr ("%u distinct memories for a pool of at most 4 buffers: the "
        "pool did not recycle them\n", g_hash_table_size (app.pool_memories));
    ret = EXIT_FAILURE;
  }
  if (g_strcmp0 (gst_structure_get_string (stats, "heap"), app.heap) != 0) {
    g_printerr ("dmaheapupload's last buffer was in heap %s, not %s\n",
        gst_structure_get_string (stats, "heap"), app.heap);
    ret = EXIT_FAILURE;
  }
  if (ret == EXIT_SUCCESS)
    g_print ("PASS: %d frames from heap %s, drawn in place, none copied "
        "(%u distinct memories)\n", frames, app.heap,
        g_hash_table_size (app.pool_memories));

done:
  if (pipeline) {
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
  if (pool) {
    gst_buffer_pool_set_active (pool, FALSE);
    gst_object_unref (pool);
  }
  if (app.pool_memories) {
    g_hash_table_unref (app.pool_memories);
    g_mutex_clear (&app.lock);
  }
  if (stats)
    gst_structure_free (stats);
  if (caps)
    gst_caps_unref (caps);
  gst_clear_object (&allocator);
  g_free (heap_spec);
  g_free (format);

  return ret;
}
