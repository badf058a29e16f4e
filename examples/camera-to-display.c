/* gst-dmaheap example: camera to display through a pool the application owns
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   camera-to-display [--heap SPEC] [--source v4l2|test] [--device PATH]
 *                     [--sink kmssink|fakesink] [--kms-driver NAME]
 *                     [--frames N] [--width W] [--height H]
 *                     [--format FORMAT] [--timeout SEC]
 *
 * Builds
 *
 *   v4l2src io-mode=dmabuf-import ! capsfilter ! kmssink     (or fakesink)
 *
 * and makes the camera capture into a dma-buf heap the application chose,
 * without any element of the project in the pipeline: a pad probe on the
 * camera's source pad catches the ALLOCATION query, lets downstream answer
 * it first (kmssink adds the metas it handles and its own pool), then puts
 * a GstDmaHeapBufferPool in first place, with downstream's minimum number of
 * buffers plus two. v4l2src in dmabuf-import mode takes the first pool of
 * the query and has the driver write into its buffers; kmssink imports the
 * same dma-bufs as framebuffers. Nothing is copied.
 *
 * This is the "application bufferpool negotiation" every GStreamer
 * application can do; dmaheapupload does the same as an element.
 *
 * There is no queue: the camera's thread pushes to the display, and every
 * buffer a queue held would be one more the pool must have (a queue
 * answers the ALLOCATION query like the element after it, so one can be
 * added; give it max-size-buffers and count those in the pool's minimum).
 *
 * The program checks at the sink that every buffer is dma-heap memory of
 * its allocator and heap, that the pool recycles its buffers (a display
 * caches one framebuffer per memory), that the source wrote into them (the
 * heap hands out zeroed memory), and, with kmssink, when
 * /sys/kernel/debug/dma_buf/bufinfo is readable, that the display has our
 * buffers attached halfway through the stream: it imported them rather than
 * copying into its own.
 *
 * `--source test` puts videotestsrc in the camera's place: the same
 * negotiation, for machines without a camera (videotestsrc also takes the
 * first pool of the query).
 *
 * Exit status: 0 when every check passes, 1 otherwise, 77 when something
 * this run needs is missing: a dma-buf heap this user can open, a V4L2
 * capture device (with --source v4l2), kmssink or a DRM device (with
 * --sink kmssink).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>

#define EXIT_SKIP 77
#define LABEL "camera-app"
#define BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"

typedef struct
{
  GstAllocator *allocator;
  gchar **heaps;                /* what the allocator opened, in order */
  gboolean check_attached;

  /* written by the streaming thread, read after it stopped */
  guint frames;
  guint bad_frames;
  guint check_at;
  GHashTable *memories;
  gint attached;                /* our buffers attached to a device, -1 */
  gboolean blank;               /* the frame checked halfway was all zero */
  const gchar *heap_seen;
} App;

/* The ALLOCATION query, seen on the camera's source pad. */
static GstPadProbeReturn
allocation_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  App *app = user_data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  GstAllocationParams params;
  GstBufferPool *pool;
  GstStructure *config;
  GstVideoInfo vinfo;
  GstCaps *caps;
  GstPad *peer;
  gboolean need_pool, video_meta;
  guint size = 0, min = 0, max = 0;

  if (GST_QUERY_TYPE (query) != GST_QUERY_ALLOCATION)
    return GST_PAD_PROBE_OK;

  gst_query_parse_allocation (query, &caps, &need_pool);
  if (caps == NULL || !gst_video_info_from_caps (&vinfo, caps))
    return GST_PAD_PROBE_OK;

  /* Downstream answers first: its metas and the number of buffers it
   * holds. fakesink answers nothing, which is fine too. */
  peer = gst_pad_get_peer (pad);
  if (peer) {
    gst_pad_query (peer, query);
    gst_object_unref (peer);
  }
  if (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_parse_nth_allocation_pool (query, 0, NULL, &size, &min, &max);
  size = MAX (size, (guint) GST_VIDEO_INFO_SIZE (&vinfo));
  min += 2;
  video_meta = gst_query_find_allocation_meta (query,
      GST_VIDEO_META_API_TYPE, NULL);

  /* A new pool for each query: the one of an earlier negotiation may still
   * be active in the camera's hands. */
  pool = gst_dma_heap_buffer_pool_new (app->allocator);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, size, min, 0);
  gst_allocation_params_init (&params);
  gst_buffer_pool_config_set_allocator (config, app->allocator, &params);
  if (video_meta)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config (pool, config)) {
    /* corrected by the pool, for instance a larger size: take it */
    config = gst_buffer_pool_get_config (pool);
    gst_buffer_pool_config_get_params (config, NULL, &size, &min, &max);
    if (!gst_buffer_pool_set_config (pool, config))
      g_printerr ("warning: the pool refused its own configuration\n");
  }

  /* Our pool and allocator first: sources use the first of each. */
  if (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_set_nth_allocation_pool (query, 0, pool, size, min, 0);
  else
    gst_query_add_allocation_pool (query, pool, size, min, 0);
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_set_nth_allocation_param (query, 0, app->allocator, &params);
  else
    gst_query_add_allocation_param (query, app->allocator, &params);
  gst_object_unref (pool);

  g_print ("allocation query for %s %dx%d: offered a dma-heap pool on %s, "
      "%u buffers of %u bytes at least%s\n",
      GST_VIDEO_INFO_NAME (&vinfo), GST_VIDEO_INFO_WIDTH (&vinfo),
      GST_VIDEO_INFO_HEIGHT (&vinfo), app->heaps[0], min, size,
      video_meta ? ", with GstVideoMeta" : "");

  /* answered: the query returns TRUE to the camera */
  return GST_PAD_PROBE_HANDLED;
}

/* How many buffers named LABEL:... have at least one device attached, or
 * -1 when bufinfo cannot be read. */
static gint
count_attached (void)
{
  gchar *contents = NULL, **lines;
  gboolean ours = FALSE;
  gint count = 0, n;
  guint i;

  if (!g_file_get_contents (BUFINFO, &contents, NULL, NULL))
    return -1;

  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    const gchar *line = lines[i];
    const gchar *name = strrchr (line, '\t');

    /* "size\tflags\tmode\tcount\texp_name\tino\tname" per buffer, then
     * the devices, then "Total N devices attached" */
    if (g_ascii_isdigit (line[0]) && name) {
      ours = g_str_has_prefix (name + 1, LABEL ":");
    } else if (sscanf (line, "Total %d devices attached", &n) == 1) {
      if (ours && n > 0)
        count++;
      ours = FALSE;
    }
  }
  g_strfreev (lines);
  g_free (contents);

  return count;
}

/* Every buffer on its way into the sink. */
static GstPadProbeReturn
buffer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  App *app = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint i;

  for (i = 0; i < gst_buffer_n_memory (buf); i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    const gchar *heap = gst_dma_heap_memory_get_heap (mem);

    if (!gst_is_dma_heap_memory (mem) || mem->allocator != app->allocator) {
      if (app->bad_frames++ == 0)
        g_printerr ("frame %u: memory %u is %s, not from our allocator\n",
            app->frames, i, mem->allocator ?
            mem->allocator->mem_type : "system memory");
      continue;
    }
    if (!g_strv_contains ((const gchar * const *) app->heaps, heap)) {
      if (app->bad_frames++ == 0)
        g_printerr ("frame %u: heap %s is not one we chose\n", app->frames,
            heap);
      continue;
    }
    app->heap_seen = heap;
    g_hash_table_add (app->memories, mem);
  }

  if (++app->frames == app->check_at) {
    GstMapInfo map;

    /* heaps hand out zeroed memory: a frame with a byte set was written by
     * the source, in our buffer */
    if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
      gsize j;

      app->blank = TRUE;
      for (j = 0; j < map.size && app->blank; j++)
        app->blank = map.data[j] == 0;
      gst_buffer_unmap (buf, &map);
    }

    if (app->check_attached)
      app->attached = count_attached ();
  }

  return GST_PAD_PROBE_OK;
}

/* The first V4L2 device that captures video by streaming. */
static gchar *
find_capture_device (void)
{
  gint i;

  for (i = 0; i < 64; i++) {
    gchar *path = g_strdup_printf ("/dev/video%d", i);
    struct v4l2_capability cap;
    guint32 caps;
    gint fd;

    fd = open (path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      memset (&cap, 0, sizeof (cap));
      if (ioctl (fd, VIDIOC_QUERYCAP, &cap) == 0) {
        caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ?
            cap.device_caps : cap.capabilities;
        if ((caps & V4L2_CAP_VIDEO_CAPTURE) && (caps & V4L2_CAP_STREAMING)) {
          close (fd);
          return path;
        }
      }
      close (fd);
    }
    g_free (path);
  }

  return NULL;
}

static gboolean
have_drm_device (void)
{
  gint i;

  for (i = 0; i < 8; i++) {
    gchar *path = g_strdup_printf ("/dev/dri/card%d", i);
    gboolean found = g_file_test (path, G_FILE_TEST_EXISTS);

    g_free (path);
    if (found)
      return TRUE;
  }

  return FALSE;
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

/* Runs the pipeline to its end; FALSE on an error or a timeout. */
static gboolean
run (GstElement * pipeline, gint timeout)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean ok;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    g_printerr ("the pipeline does not start\n");

  msg = gst_bus_timed_pop_filtered (bus, timeout * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;

  if (msg == NULL) {
    g_printerr ("no end of stream after %d s\n", timeout);
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
  gst_element_set_state (pipeline, GST_STATE_NULL);

  return ok;
}

int
main (int argc, char **argv)
{
  gchar *heap_spec = NULL, *source = NULL, *device = NULL, *sink_name = NULL;
  gchar *kms_driver = NULL, *format = NULL;
  gint frames = 60, width = 640, height = 480, timeout = 60;
  GOptionEntry entries[] = {
    {"heap", 'H', 0, G_OPTION_ARG_STRING, &heap_spec,
        "Heap spec to capture into (default: default)", "SPEC"},
    {"source", 0, 0, G_OPTION_ARG_STRING, &source,
        "v4l2 (a camera, the default) or test (videotestsrc)", "v4l2|test"},
    {"device", 'd', 0, G_OPTION_ARG_FILENAME, &device,
        "V4L2 capture device (default: the first one found)", "PATH"},
    {"sink", 0, 0, G_OPTION_ARG_STRING, &sink_name,
        "kmssink (the default) or fakesink", "kmssink|fakesink"},
    {"kms-driver", 0, 0, G_OPTION_ARG_STRING, &kms_driver,
        "DRM driver for kmssink (driver-name property), e.g. vkms", "NAME"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames,
        "Frames to capture (default: 60)", "N"},
    {"width", 0, 0, G_OPTION_ARG_INT, &width, "Width (default: 640)", "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &height, "Height (default: 480)",
        "H"},
    {"format", 0, 0, G_OPTION_ARG_STRING, &format,
        "Video format (default: BGRx with kmssink, any with fakesink)",
        "FORMAT"},
    {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
        "Give up after SEC seconds (default: 60)", "SEC"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  App app = { 0 };
  GstElement *pipeline = NULL, *src = NULL, *filter = NULL, *sink = NULL;
  GstCaps *caps;
  GstPad *pad;
  gboolean use_test, use_kms;
  int ret = EXIT_FAILURE;

  ctx = g_option_context_new ("- capture into a dma-buf heap and display, "
      "zero copy");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return EXIT_FAILURE;
  }
  g_option_context_free (ctx);
  gst_init (NULL, NULL);

  use_test = g_strcmp0 (source, "test") == 0;
  use_kms = sink_name == NULL || strcmp (sink_name, "kmssink") == 0;
  if ((source && !use_test && strcmp (source, "v4l2") != 0) ||
      (sink_name && !use_kms && strcmp (sink_name, "fakesink") != 0) ||
      frames < 1 || width < 16 || height < 16 || timeout < 1) {
    g_printerr ("bad option value (see --help)\n");
    goto done;
  }

  /* What this run needs. */
  app.allocator = gst_dma_heap_allocator_new (heap_spec, &error);
  if (app.allocator == NULL) {
    g_printerr ("%s\n", error->message);
    if (!any_heap_usable ()) {
      g_print ("SKIP: no dma-buf heap can be opened here\n");
      ret = EXIT_SKIP;
    }
    g_clear_error (&error);
    goto done;
  }
  gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (app.allocator),
      LABEL);
  app.heaps = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
      (app.allocator));

  if (!use_test && device == NULL) {
    device = find_capture_device ();
    if (device == NULL) {
      g_print ("SKIP: no V4L2 capture device (try --source test)\n");
      ret = EXIT_SKIP;
      goto done;
    }
  }
  if (use_kms && !have_drm_device ()) {
    g_print ("SKIP: no DRM device for kmssink (try --sink fakesink)\n");
    ret = EXIT_SKIP;
    goto done;
  }

  /* The pipeline, element by element. */
  pipeline = gst_pipeline_new ("camera-to-display");
  src = gst_element_factory_make (use_test ? "videotestsrc" : "v4l2src",
      "source");
  filter = gst_element_factory_make ("capsfilter", "filter");
  sink = gst_element_factory_make (use_kms ? "kmssink" : "fakesink", "sink");
  if (!src || !filter || !sink) {
    g_print ("SKIP: element %s is not installed\n", !src ? (use_test ?
            "videotestsrc" : "v4l2src") : !filter ? "capsfilter" :
        (use_kms ? "kmssink" : "fakesink"));
    gst_clear_object (&src);
    gst_clear_object (&filter);
    gst_clear_object (&sink);
    ret = EXIT_SKIP;
    goto done;
  }

  g_object_set (src, "num-buffers", frames, NULL);
  if (!use_test) {
    g_object_set (src, "device", device, NULL);
    /* the camera writes into buffers of the downstream pool: ours */
    gst_util_set_object_arg (G_OBJECT (src), "io-mode", "dmabuf-import");
  }

  caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, width,
      "height", G_TYPE_INT, height, NULL);
  if (format || use_kms)
    gst_caps_set_simple (caps, "format", G_TYPE_STRING,
        format ? format : "BGRx", NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);

  g_object_set (sink, "sync", FALSE, NULL);
  if (use_kms && kms_driver)
    g_object_set (sink, "driver-name", kms_driver, NULL);

  gst_bin_add_many (GST_BIN (pipeline), src, filter, sink, NULL);
  if (!gst_element_link_many (src, filter, sink, NULL)) {
    g_printerr ("cannot link the pipeline\n");
    goto done;
  }

  /* The application's part of allocation negotiation. */
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      allocation_probe, &app, NULL);
  gst_object_unref (pad);

  app.memories = g_hash_table_new (NULL, NULL);
  app.attached = -1;
  app.check_at = (frames + 1) / 2;
  /* kmssink imports each dma-buf into the DRM device, which attaches to
   * it; a V4L2 driver on vmalloc memory (vivid) maps it without attaching */
  app.check_attached = use_kms;
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, buffer_probe, &app,
      NULL);
  gst_object_unref (pad);

  g_print ("%s%s ! %s ! %s, heap spec \"%s\" (heaps %s)\n",
      use_test ? "videotestsrc" : "v4l2src io-mode=dmabuf-import device=",
      use_test ? "" : device, GST_OBJECT_NAME (filter),
      use_kms ? "kmssink" : "fakesink",
      heap_spec ? heap_spec : GST_DMA_HEAP_DEFAULT_ALIAS,
      app.heaps[0]);

  if (!run (pipeline, timeout))
    goto done;

  /* The checks. */
  ret = EXIT_SUCCESS;
  g_print ("%u frames reached the sink, from heap %s, in %u distinct "
      "buffers\n", app.frames, app.heap_seen ? app.heap_seen : "(none)",
      g_hash_table_size (app.memories));
  if (app.frames != (guint) frames) {
    g_printerr ("%u frames expected\n", frames);
    ret = EXIT_FAILURE;
  }
  if (app.bad_frames) {
    g_printerr ("%u memories were not from our pool\n", app.bad_frames);
    ret = EXIT_FAILURE;
  }
  /* the pool hands the same buffers out again: far fewer than frames */
  if (app.frames >= 16 && g_hash_table_size (app.memories) > app.frames / 2) {
    g_printerr ("the buffers were not recycled\n");
    ret = EXIT_FAILURE;
  }
  if (app.blank) {
    g_printerr ("frame %u was blank: the source did not write into our "
        "buffer\n", app.check_at);
    ret = EXIT_FAILURE;
  }
  if (app.check_attached) {
    if (app.attached < 0) {
      g_print ("(" BUFINFO " not readable: import not checked)\n");
    } else if (app.attached == 0) {
      g_printerr ("halfway through, none of our buffers was attached to a "
          "device: kmssink did not import them\n");
      ret = EXIT_FAILURE;
    } else {
      g_print ("halfway through, %d of our buffers were attached to the "
          "display\n", app.attached);
    }
  }
  if (ret == EXIT_SUCCESS)
    g_print ("PASS\n");

done:
  if (pipeline)
    gst_object_unref (pipeline);
  if (app.memories)
    g_hash_table_unref (app.memories);
  g_strfreev (app.heaps);
  gst_clear_object (&app.allocator);
  g_free (heap_spec);
  g_free (source);
  g_free (device);
  g_free (sink_name);
  g_free (kms_driver);
  g_free (format);

  return ret;
}
