/* gst-dmaheap: GstDmaHeapBufferPool configuration, no device needed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE             /* unshare() */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dmaheaptestutil.h"

#include <gst/check/gstcheck.h>
#include <gst/dmaheap/dmaheap.h>
#include <gst/video/video.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static guint
page_round (guint size)
{
  guint page = (guint) sysconf (_SC_PAGESIZE);

  return (size + page - 1) / page * page;
}

static GstCaps *
video_caps (const gchar * format, gint width, gint height, GstVideoInfo * info)
{
  GstCaps *caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, format,
      "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
      "framerate", GST_TYPE_FRACTION, 30, 1, NULL);

  if (info)
    fail_unless (gst_video_info_from_caps (info, caps));

  return caps;
}

/* Sets @config; returns what set_config said. */
static gboolean
configure (GstBufferPool * pool, GstCaps * caps, guint size, guint min,
    guint max, gboolean videometa)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, caps, size, min, max);
  if (videometa)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);

  return gst_buffer_pool_set_config (pool, config);
}

static void
get_params (GstBufferPool * pool, guint * size, guint * min, guint * max)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);

  fail_unless (gst_buffer_pool_config_get_params (config, NULL, size, min,
          max));
  gst_structure_free (config);
}

/* The usual dance of a caller: accept the corrected config. */
static gboolean
accept_corrected (GstBufferPool * pool)
{
  return gst_buffer_pool_set_config (pool, gst_buffer_pool_get_config (pool));
}

GST_START_TEST (test_new_and_options)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstAllocator *allocator;

  fail_unless (GST_IS_DMA_HEAP_BUFFER_POOL (pool));
  fail_if (g_object_is_floating (pool));
  fail_unless (g_str_has_prefix (GST_OBJECT_NAME (pool), "dmaheappool"));

  fail_unless (gst_buffer_pool_has_option (pool,
          GST_BUFFER_POOL_OPTION_VIDEO_META));
  fail_unless (gst_buffer_pool_has_option (pool,
          GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT));

  /* no heap is opened before activation */
  allocator =
      gst_dma_heap_buffer_pool_get_allocator (GST_DMA_HEAP_BUFFER_POOL (pool));
  fail_unless (allocator == NULL);
  fail_unless (gst_dma_heap_buffer_pool_get_last_error
      (GST_DMA_HEAP_BUFFER_POOL (pool)) == NULL);

  ASSERT_OBJECT_REFCOUNT (pool, "pool", 1);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_size_corrected)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstVideoInfo info;
  GstCaps *caps = video_caps ("BGRx", 642, 482, &info);
  guint size, min, max;

  /* too small: corrected to a frame, FALSE */
  fail_if (configure (pool, caps, 100, 2, 4, TRUE));
  get_params (pool, &size, &min, &max);
  fail_unless_equals_int (size, GST_VIDEO_INFO_SIZE (&info));
  fail_unless_equals_int (min, 2);
  fail_unless_equals_int (max, 4);
  fail_unless (accept_corrected (pool));

  /* 0, as many callers write it */
  fail_if (configure (pool, caps, 0, 2, 0, TRUE));
  get_params (pool, &size, NULL, NULL);
  fail_unless_equals_int (size, GST_VIDEO_INFO_SIZE (&info));
  fail_unless (accept_corrected (pool));

  /* exact */
  fail_unless (configure (pool, caps, GST_VIDEO_INFO_SIZE (&info), 1, 0,
          FALSE));

  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

/* A driver's sizeimage, larger than the frame, is kept */
GST_START_TEST (test_size_kept)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstVideoInfo info;
  GstCaps *caps = video_caps ("NV12", 1920, 1080, &info);
  guint size, larger = GST_VIDEO_INFO_SIZE (&info) + 16 * 1920;

  fail_unless (configure (pool, caps, larger, 2, 0, TRUE));
  get_params (pool, &size, NULL, NULL);
  fail_unless_equals_int (size, larger);

  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_alignment_written_back)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstVideoInfo info, aligned;
  GstCaps *caps = video_caps ("NV12", 1366, 768, &info);
  GstVideoAlignment align, got;
  GstAllocationParams params;
  GstStructure *config;
  GstAllocator *allocator;
  guint size, i;

  gst_video_alignment_reset (&align);
  align.padding_bottom = 8;
  align.padding_right = 2;
  for (i = 0; i < GST_VIDEO_MAX_PLANES; i++)
    align.stride_align[i] = 255;

  aligned = info;
  fail_unless (gst_video_info_align (&aligned, &align));
  fail_unless (GST_VIDEO_INFO_SIZE (&aligned) > GST_VIDEO_INFO_SIZE (&info));

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps,
      GST_VIDEO_INFO_SIZE (&info), 2, 0);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
  gst_buffer_pool_config_set_video_alignment (config, &align);
  gst_allocation_params_init (&params);
  params.align = 15;
  gst_buffer_pool_config_set_allocator (config, NULL, &params);

  /* the padded frame does not fit the configured size: corrected */
  fail_if (gst_buffer_pool_set_config (pool, config));

  config = gst_buffer_pool_get_config (pool);
  fail_unless (gst_buffer_pool_config_get_params (config, NULL, &size, NULL,
          NULL));
  fail_unless_equals_int (size, GST_VIDEO_INFO_SIZE (&aligned));

  fail_unless (gst_buffer_pool_config_get_video_alignment (config, &got));
  fail_unless_equals_int (got.padding_bottom, align.padding_bottom);
  fail_unless (got.padding_right >= align.padding_right);
  for (i = 0; i < GST_VIDEO_INFO_N_PLANES (&info); i++)
    fail_unless_equals_int (got.stride_align[i], 255);

  /* the allocation alignment is widened to the stride alignment */
  fail_unless (gst_buffer_pool_config_get_allocator (config, &allocator,
          &params));
  fail_unless (allocator == NULL);
  fail_unless_equals_int (params.align, 255);

  fail_unless (gst_buffer_pool_set_config (pool, config));

  /* strides in the aligned info are multiples of 256 */
  for (i = 0; i < GST_VIDEO_INFO_N_PLANES (&aligned); i++)
    fail_unless_equals_int (GST_VIDEO_INFO_PLANE_STRIDE (&aligned, i) % 256,
        0);

  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

/* VIDEO_ALIGNMENT without VIDEO_META is not applied (as GstVideoBufferPool
 * does: nobody would know the strides) */
GST_START_TEST (test_alignment_needs_videometa)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstVideoInfo info;
  GstCaps *caps = video_caps ("NV12", 1366, 768, &info);
  GstVideoAlignment align;
  GstStructure *config;
  guint size, i;

  gst_video_alignment_reset (&align);
  align.padding_bottom = 8;
  for (i = 0; i < GST_VIDEO_MAX_PLANES; i++)
    align.stride_align[i] = 255;

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps,
      GST_VIDEO_INFO_SIZE (&info), 2, 0);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
  gst_buffer_pool_config_set_video_alignment (config, &align);
  fail_unless (gst_buffer_pool_set_config (pool, config));

  get_params (pool, &size, NULL, NULL);
  fail_unless_equals_int (size, GST_VIDEO_INFO_SIZE (&info));

  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_foreign_allocator_replaced)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstCaps *caps = video_caps ("BGRx", 320, 240, NULL);
  GstAllocator *sysmem = gst_allocator_find (NULL);
  GstAllocator *allocator = NULL;
  GstAllocationParams params;
  GstStructure *config;

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, 320 * 240 * 4, 1, 0);
  gst_allocation_params_init (&params);
  params.align = 31;
  gst_buffer_pool_config_set_allocator (config, sysmem, &params);
  fail_if (gst_buffer_pool_set_config (pool, config));

  /* replaced by the pool's own (none yet: created at activation); the
   * params are kept */
  config = gst_buffer_pool_get_config (pool);
  fail_unless (gst_buffer_pool_config_get_allocator (config, &allocator,
          &params));
  fail_unless (allocator == NULL);
  fail_unless_equals_int (params.align, 31);
  fail_unless (gst_buffer_pool_set_config (pool, config));

  gst_object_unref (sysmem);
  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_max_bytes)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstCaps *caps = gst_caps_new_empty_simple ("application/octet-stream");
  GstStructure *config;
  guint64 max_bytes;
  guint size, min, max;
  guint one_mib = 1024 * 1024;

  /* absent by default */
  config = gst_buffer_pool_get_config (pool);
  fail_if (gst_dma_heap_buffer_pool_config_get_max_bytes (config, &max_bytes));
  fail_unless (max_bytes == 0);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config, 5 * one_mib);
  fail_unless (gst_dma_heap_buffer_pool_config_get_max_bytes (config,
          &max_bytes));
  fail_unless (max_bytes == 5 * one_mib);
  fail_unless (gst_dma_heap_buffer_pool_config_get_max_bytes (config, NULL));

  /* unlimited max buffers: limited to 5 by the cap */
  gst_buffer_pool_config_set_params (config, caps, one_mib, 2, 0);
  fail_if (gst_buffer_pool_set_config (pool, config));
  get_params (pool, &size, &min, &max);
  fail_unless_equals_int (size, one_mib);
  fail_unless_equals_int (min, 2);
  fail_unless_equals_int (max, 5);
  fail_unless (accept_corrected (pool));

  /* max too high: corrected */
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, one_mib, 2, 8);
  fail_if (gst_buffer_pool_set_config (pool, config));
  get_params (pool, NULL, NULL, &max);
  fail_unless_equals_int (max, 5);

  /* under the cap: fine as is */
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, one_mib, 2, 4);
  fail_unless (gst_buffer_pool_set_config (pool, config));

  /* min above the cap: cannot be corrected. (A fresh pool each time:
   * GstBufferPool takes an unchanged config as accepted once a config was
   * accepted.) */
  gst_object_unref (pool);
  pool = gst_dma_heap_buffer_pool_new (NULL);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, one_mib, 6, 0);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config, 5 * one_mib);
  fail_if (gst_buffer_pool_set_config (pool, config));
  fail_if (accept_corrected (pool));
  get_params (pool, NULL, &min, NULL);
  fail_unless_equals_int (min, 6);
  fail_if (gst_buffer_pool_set_active (pool, TRUE));

  /* not even one buffer fits */
  gst_object_unref (pool);
  pool = gst_dma_heap_buffer_pool_new (NULL);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, 6 * one_mib, 0, 0);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config, 5 * one_mib);
  fail_if (gst_buffer_pool_set_config (pool, config));
  fail_if (accept_corrected (pool));

  /* each buffer counts with page rounding, prefix and padding */
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, page_round (1) + 1, 0, 0);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config,
      4 * page_round (page_round (1) + 1));
  fail_if (gst_buffer_pool_set_config (pool, config));
  get_params (pool, NULL, NULL, &max);
  fail_unless_equals_int (max, 4);

  /* 0 means no cap */
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, one_mib, 100, 0);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config, 0);
  fail_unless (gst_buffer_pool_set_config (pool, config));

  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_max_bytes_video)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstVideoInfo info;
  GstCaps *caps = video_caps ("BGRx", 642, 482, &info);
  GstStructure *config;
  guint frame = page_round (GST_VIDEO_INFO_SIZE (&info));
  guint max;

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, GST_VIDEO_INFO_SIZE (&info),
      1, 10);
  gst_dma_heap_buffer_pool_config_set_max_bytes (config, 3 * frame + 1);
  fail_if (gst_buffer_pool_set_config (pool, config));
  get_params (pool, NULL, NULL, &max);
  fail_unless_equals_int (max, 3);
  fail_unless (accept_corrected (pool));

  gst_caps_unref (caps);
  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_non_video_caps)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstCaps *caps;
  guint size;

  caps = gst_caps_new_empty_simple ("application/x-foo");
  /* flat buffers need a size */
  fail_if (configure (pool, caps, 0, 1, 0, FALSE));
  fail_unless (configure (pool, caps, 10000, 1, 0, FALSE));
  get_params (pool, &size, NULL, NULL);
  fail_unless_equals_int (size, 10000);
  gst_caps_unref (caps);

  /* compressed video is flat too */
  caps = gst_caps_new_simple ("video/x-h264", "stream-format", G_TYPE_STRING,
      "byte-stream", NULL);
  fail_unless (configure (pool, caps, 1 << 20, 2, 0, TRUE));
  get_params (pool, &size, NULL, NULL);
  fail_unless_equals_int (size, 1 << 20);
  gst_caps_unref (caps);

  /* raw video that cannot be parsed is refused */
  gst_object_unref (pool);
  pool = gst_dma_heap_buffer_pool_new (NULL);
  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "BGRx",
      NULL);
  fail_if (configure (pool, caps, 1 << 20, 2, 0, TRUE));
  fail_if (accept_corrected (pool));
  gst_caps_unref (caps);

  gst_object_unref (pool);
}

GST_END_TEST;

GST_START_TEST (test_no_caps)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);

  fail_if (configure (pool, NULL, 4096, 1, 0, FALSE));
  fail_if (gst_buffer_pool_set_active (pool, TRUE));

  gst_object_unref (pool);
}

GST_END_TEST;

/* Activation opens the default heap; without heaps it fails with a reason.
 * Run in a child that has no heap: an empty tmpfs on /dev/dma_heap in a
 * mount namespace of its own when the machine has heaps. */
#define NO_EMPTY_HEAP_DIR 10

static gint
activate_without_heap_child (void)
{
  GstBufferPool *pool;
  GstCaps *caps;
  GError *error;
  gchar **heaps;
  gint ret = 0;

  if (g_file_test (GST_DMA_HEAP_DIR, G_FILE_TEST_IS_DIR) &&
      (unshare (CLONE_NEWNS) < 0 ||
          mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
          mount ("gstcheck", GST_DMA_HEAP_DIR, "tmpfs", MS_NOSUID | MS_NOEXEC,
              "mode=0755") < 0)) {
    g_printerr ("cannot put an empty tmpfs on " GST_DMA_HEAP_DIR ": %s\n",
        g_strerror (errno));
    return NO_EMPTY_HEAP_DIR;
  }

  heaps = gst_dma_heap_resolve ("default", NULL);
  if (heaps) {
    g_printerr ("a default heap in an empty " GST_DMA_HEAP_DIR ": %s\n",
        heaps[0]);
    g_strfreev (heaps);
    return 1;
  }

  pool = gst_dma_heap_buffer_pool_new (NULL);
  caps = gst_caps_new_empty_simple ("application/x-foo");
  if (!configure (pool, caps, 4096, 1, 0, FALSE))
    ret = 2;
  else if (gst_buffer_pool_set_active (pool, TRUE))
    ret = 3;
  else {
    error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
        (pool));
    if (error == NULL)
      ret = 4;
    else if (error->domain != GST_DMA_HEAP_ERROR ||
        strstr (error->message, "default") == NULL) {
      g_printerr ("activation error: %s\n", error->message);
      ret = 5;
    }
    g_clear_error (&error);
  }

  gst_caps_unref (caps);
  gst_object_unref (pool);

  return ret;
}

GST_START_TEST (test_activate_without_heap)
{
  pid_t pid;
  int status = 0;

  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0)
    _exit (activate_without_heap_child ());

  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status), "the child died");
  dma_heap_test_require (WEXITSTATUS (status) != NO_EMPTY_HEAP_DIR,
      "cannot give a child an empty " GST_DMA_HEAP_DIR " (not root?)");
  fail_unless_equals_int (WEXITSTATUS (status), 0);
}

GST_END_TEST;

static Suite *
dmaheappoolconfig_suite (void)
{
  Suite *s = suite_create ("dmaheappoolconfig");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_new_and_options);
  tcase_add_test (tc, test_size_corrected);
  tcase_add_test (tc, test_size_kept);
  tcase_add_test (tc, test_alignment_written_back);
  tcase_add_test (tc, test_alignment_needs_videometa);
  tcase_add_test (tc, test_foreign_allocator_replaced);
  tcase_add_test (tc, test_max_bytes);
  tcase_add_test (tc, test_max_bytes_video);
  tcase_add_test (tc, test_non_video_caps);
  tcase_add_test (tc, test_no_caps);
  tcase_add_test (tc, test_activate_without_heap);

  return s;
}

int
main (int argc, char **argv)
{
  gst_check_init (&argc, &argv);

  return dma_heap_test_run_suite (dmaheappoolconfig_suite (),
      "dmaheappoolconfig", __FILE__);
}
