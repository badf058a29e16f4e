/* gst-dmaheap: malformed heap specs, caps and allocation parameters; no
 * device needed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/dmaheap/dmaheap.h>
#include <gst/video/video.h>

#include <limits.h>
#include <string.h>
#include <unistd.h>

static const gchar *const heaps[] =
    { "camera@7a000000", "ecc-off@78000000", "linux,cma@7c000000", "system",
  NULL
};

static guint
count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  fail_unless (dir != NULL);
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);

  return n;
}

/* @spec must fail with @code, whatever the heaps present, and with a
 * message holding @text and no raw control byte. */
static void
check_spec_fails (const gchar * spec, gint code, const gchar * text)
{
  GError *error = NULL;
  gchar **found;
  gchar *shown = g_strescape (spec ? spec : "(null)", NULL);

  found = gst_dma_heap_resolve_in (spec, heaps, &error);
  fail_unless (found == NULL, "spec '%s' resolved to '%s'", shown,
      found ? found[0] : "");
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR, code),
      "spec '%s': %s", shown, error->message);
  fail_unless (strstr (error->message, text) != NULL, "'%s' not in '%s'",
      text, error->message);
  fail_unless (g_utf8_validate (error->message, -1, NULL));
  fail_if (strpbrk (error->message, "\n\r\t\x1b") != NULL);
  g_clear_error (&error);

  /* the same against the heaps of this machine, when the spec is
   * malformed: no heap list makes it valid */
  if (code == GST_DMA_HEAP_ERROR_INVALID_NAME) {
    found = gst_dma_heap_resolve (spec, &error);
    fail_unless (found == NULL);
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR, code),
        "spec '%s': %s", shown, error->message);
    g_clear_error (&error);
  }
  g_free (shown);
}

GST_START_TEST (test_spec_paths_and_dots)
{
  static const gchar *const specs[] = {
    "a/b", "../system", "..", ".", "system/", "/system", "/etc/passwd",
    "/dev/dma_heap", "/dev/dma_heap/", "/dev/dma_heap/../../etc/passwd",
    "/dev/dma_heap/./system", "/dev/dma_heap//system",
    "/dev/dma_heap/sub/system", "/dev/dma_heap/..", "/dev/dma_heapsystem",
    "/dev/shm/x", "system,../x", "../x,system", "default,/tmp/x",
  };
  guint i, fds = count_fds ();

  for (i = 0; i < G_N_ELEMENTS (specs); i++)
    check_spec_fails (specs[i], GST_DMA_HEAP_ERROR_INVALID_NAME, "Invalid");

  /* and nothing is opened for them */
  for (i = 0; i < G_N_ELEMENTS (specs); i++) {
    GError *error = NULL;

    if (specs[i][0] == '/')
      continue;
    fail_unless_equals_int (gst_dma_heap_open (specs[i], &error), -1);
    fail_unless (error != NULL);
    g_clear_error (&error);
  }
  fail_unless_equals_int (count_fds (), fds);
}

GST_END_TEST;

GST_START_TEST (test_spec_empty_items)
{
  check_spec_fails (NULL, GST_DMA_HEAP_ERROR_INVALID_NAME, "Empty heap spec");
  check_spec_fails ("", GST_DMA_HEAP_ERROR_INVALID_NAME, "Empty heap spec");
  check_spec_fails (" ", GST_DMA_HEAP_ERROR_INVALID_NAME, "item 1 is empty");
  check_spec_fails (",", GST_DMA_HEAP_ERROR_INVALID_NAME, "item 1 is empty");
  check_spec_fails (",,,", GST_DMA_HEAP_ERROR_INVALID_NAME, "is empty");
  check_spec_fails (",system", GST_DMA_HEAP_ERROR_INVALID_NAME,
      "item 1 is empty");
  check_spec_fails ("system,", GST_DMA_HEAP_ERROR_INVALID_NAME,
      "item 2 is empty");
  check_spec_fails ("system,,default", GST_DMA_HEAP_ERROR_INVALID_NAME,
      "item 2 is empty");
  check_spec_fails (" \t , ", GST_DMA_HEAP_ERROR_INVALID_NAME, "is empty");
}

GST_END_TEST;

GST_START_TEST (test_spec_only_invalid_items)
{
  check_spec_fails ("../a,b/c,/etc/x", GST_DMA_HEAP_ERROR_INVALID_NAME,
      "Invalid");
  /* an invalid item fails the spec even after a good one */
  check_spec_fails ("system,../a", GST_DMA_HEAP_ERROR_INVALID_NAME,
      "'../a'");
  /* valid names that are absent: not found, and the heaps are listed */
  check_spec_fails ("nope,also-not", GST_DMA_HEAP_ERROR_NOT_FOUND,
      "ecc-off@78000000");
}

GST_END_TEST;

GST_START_TEST (test_spec_long)
{
  gchar *name_max = g_strnfill (NAME_MAX, 'a');
  gchar *too_long = g_strnfill (NAME_MAX + 1, 'a');
  gchar *huge = g_strnfill (64 * 1024, 'a');
  gchar *path = g_strconcat ("/dev/dma_heap/", too_long, NULL);
  gchar *huge_list;
  GString *list;
  GError *error = NULL;
  gchar **found;
  gint64 start;

  fail_unless (gst_dma_heap_name_is_valid (name_max, NULL));
  check_spec_fails (name_max, GST_DMA_HEAP_ERROR_NOT_FOUND, "No heap");
  check_spec_fails (too_long, GST_DMA_HEAP_ERROR_INVALID_NAME, "NAME_MAX");
  check_spec_fails (huge, GST_DMA_HEAP_ERROR_INVALID_NAME, "65536 bytes");
  check_spec_fails (path, GST_DMA_HEAP_ERROR_INVALID_NAME, "Invalid heap path");

  fail_unless_equals_int (gst_dma_heap_open (huge, &error), -1);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_INVALID_NAME));
  g_clear_error (&error);

  /* 64 KiB of short absent names before a present one: a fallback list
   * that long resolves at once (the comma handling once took cubic time,
   * hours for this) */
  list = g_string_new (NULL);
  while (list->len < 64 * 1024)
    g_string_append (list, "nx,");
  g_string_append (list, "linux,cma");
  huge_list = g_string_free (list, FALSE);

  /* milliseconds normally, about a second under AddressSanitizer */
  start = g_get_monotonic_time ();
  found = gst_dma_heap_resolve_in (huge_list, heaps, &error);
  fail_unless (found != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (found[0], "linux,cma@7c000000");
  fail_unless (found[1] == NULL);
  g_strfreev (found);
  fail_unless (g_get_monotonic_time () - start < 20 * G_USEC_PER_SEC,
      "resolving a 64 KiB spec took %" G_GINT64_FORMAT " us",
      g_get_monotonic_time () - start);

  g_free (huge_list);
  g_free (path);
  g_free (huge);
  g_free (too_long);
  g_free (name_max);
}

GST_END_TEST;

GST_START_TEST (test_spec_bytes)
{
  static const gchar *const specs[] = {
    "sys\xfftem", "\xc3", "ecc-off\xe2\x82", "\xed\xa0\x80",    /* surrogate */
    "sys\ntem", "sys\ttem", "\x1b[31m", "system\x7f", "\r",
    "/dev/dma_heap/sys\xfftem", "/dev/dma_heap/sys\ntem",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (specs); i++)
    check_spec_fails (specs[i], GST_DMA_HEAP_ERROR_INVALID_NAME, "Invalid");

  /* white space around items is trimmed, inside a name it is not */
  check_spec_fails ("sys tem", GST_DMA_HEAP_ERROR_NOT_FOUND, "No heap");
}

GST_END_TEST;

/* A pool without allocator (nothing is opened) configured with @caps;
 * returns whether set_config accepted it, directly or once corrected. */
static gboolean
pool_accepts (GstCaps * caps, guint size, gsize prefix, gsize padding,
    gsize align, guint64 max_bytes, const GstVideoAlignment * valign,
    guint * size_out)
{
  GstBufferPool *pool = gst_dma_heap_buffer_pool_new (NULL);
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstAllocationParams params;
  gboolean ok;

  gst_buffer_pool_config_set_params (config, caps, size, 2, 0);
  gst_allocation_params_init (&params);
  params.prefix = prefix;
  params.padding = padding;
  params.align = align;
  gst_buffer_pool_config_set_allocator (config, NULL, &params);
  if (max_bytes)
    gst_dma_heap_buffer_pool_config_set_max_bytes (config, max_bytes);
  if (valign) {
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, valign);
  }

  ok = gst_buffer_pool_set_config (pool, config);
  if (!ok)
    ok = gst_buffer_pool_set_config (pool, gst_buffer_pool_get_config (pool));

  if (ok && size_out) {
    config = gst_buffer_pool_get_config (pool);
    fail_unless (gst_buffer_pool_config_get_params (config, NULL, size_out,
            NULL, NULL));
    gst_structure_free (config);
  }

  gst_object_unref (pool);

  return ok;
}

static gboolean
pool_accepts_caps (const gchar * caps_str, guint * size_out)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  gboolean ok;

  fail_unless (caps != NULL, "%s", caps_str);
  ok = pool_accepts (caps, 0, 0, 0, 0, 0, NULL, size_out);
  gst_caps_unref (caps);

  return ok;
}

GST_START_TEST (test_pool_bad_dimensions)
{
  static const gchar *const bad[] = {
    "video/x-raw,format=NV12,width=0,height=480",
    "video/x-raw,format=NV12,width=640,height=0",
    "video/x-raw,format=NV12,width=-1,height=480",
    "video/x-raw,format=RGBA,width=-2,height=16",
    "video/x-raw,format=I420,width=-1,height=-1",
    "video/x-raw,format=RGBA,width=2147483647,height=2147483647",
    "video/x-raw,format=RGBA,width=65536,height=65536",
    "video/x-raw,format=RGBA,width=536870912,height=2",
    "video/x-raw,format=v210,width=2147483647,height=1",
    /* GstVideoInfo of GStreamer 1.22 computes 688783360 bytes for a frame
     * that needs more than 1.6 GB */
    "video/x-raw,format=NV12_8L128,width=539561472,height=2",
    "video/x-raw,format=NV12_4L4,width=2147483644,height=4",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    fail_if (pool_accepts_caps (bad[i], NULL), "%s accepted", bad[i]);
}

GST_END_TEST;

/* Sizes GstVideoInfo of GStreamer 1.22 computes with a wrapped gint: the
 * pool computes the least size of the frame from the format's description
 * and refuses them. Each GstVideoInfo is shown to be wrapped here, with a
 * bound worked out by hand: the luma (or packed) plane's rows at its pixel
 * stride, plus for NV12 the interleaved chroma, half the rows of 2 bytes a
 * pair. */
GST_START_TEST (test_pool_wrapped_sizes)
{
  static const struct
  {
    const gchar *format;
    gint width, height;
  } wrapped[] = {
    {"Y412_LE", 715827752, 1},  /* 1431654720 bytes for 5726622016 */
    {"Y412_BE", 715827752, 1},
    {"Y412_LE", 683290250, 1},
    {"Y412_LE", 671088641, 1},
    {"NV12_8L128", 238609164, 3},       /* 954404864 for 1073741238 */
    {"NV12_8L128", 238609164, 5},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (wrapped); i++) {
    GstVideoFormat format = gst_video_format_from_string (wrapped[i].format);
    const GstVideoFormatInfo *finfo = gst_video_format_get_info (format);
    GstVideoInfo info;
    GstCaps *caps;
    guint64 needs;

    fail_unless (gst_video_info_set_format (&info, format, wrapped[i].width,
            wrapped[i].height));
    needs = (guint64) wrapped[i].width * wrapped[i].height *
        GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);
    if (GST_VIDEO_FORMAT_INFO_N_PLANES (finfo) == 2)
      needs += (guint64) GST_ROUND_UP_2 (wrapped[i].width) *
          ((wrapped[i].height + 1) / 2);
    fail_unless (info.size < needs, "%s %dx%d: %" G_GSIZE_FORMAT " bytes "
        "is not wrapped", wrapped[i].format, wrapped[i].width,
        wrapped[i].height, info.size);

    caps = gst_video_info_to_caps (&info);
    fail_if (pool_accepts (caps, 0, 0, 0, 0, 0, NULL, NULL),
        "%s %dx%d (%" G_GSIZE_FORMAT " bytes, a frame needs more than %"
        G_GUINT64_FORMAT ") accepted", wrapped[i].format, wrapped[i].width,
        wrapped[i].height, info.size, needs);
    /* nor with a size that covers the frame: the layout is wrong */
    fail_if (pool_accepts (caps, G_MAXUINT, 0, 0, 0, 0, NULL, NULL),
        "%s %dx%d accepted with a large size", wrapped[i].format,
        wrapped[i].width, wrapped[i].height);
    gst_caps_unref (caps);
  }
}

GST_END_TEST;

/* Alignment masks that are not 2^n - 1, of the allocation or of the
 * strides: refused, and not corrected into something accepted */
GST_START_TEST (test_pool_bad_masks)
{
  static const gsize bad_align[] = { 1 + 1, 5, 6, 4096, G_MAXSIZE - 1 };
  static const gsize good_align[] = { 0, 1, 15, 4095, 65535 };
  static const guint bad_stride[] = { 2, 5, 16, 100, G_MAXUINT - 1 };
  static const guint good_stride[] = { 0, 1, 15, 63, 255 };
  GstCaps *flat = gst_caps_new_empty_simple ("application/x-raw-bytes");
  GstCaps *video = gst_caps_from_string
      ("video/x-raw,format=NV12,width=640,height=480");
  GstVideoAlignment valign;
  guint i, p;

  for (i = 0; i < G_N_ELEMENTS (bad_align); i++) {
    fail_if (pool_accepts (flat, 4096, 0, 0, bad_align[i], 0, NULL, NULL),
        "align %" G_GSIZE_FORMAT " accepted", bad_align[i]);
    fail_if (pool_accepts (video, 0, 0, 0, bad_align[i], 0, NULL, NULL),
        "align %" G_GSIZE_FORMAT " accepted", bad_align[i]);
  }
  for (i = 0; i < G_N_ELEMENTS (good_align); i++) {
    fail_unless (pool_accepts (flat, 4096, 0, 0, good_align[i], 0, NULL,
            NULL), "align %" G_GSIZE_FORMAT " refused", good_align[i]);
    fail_unless (pool_accepts (video, 0, 0, 0, good_align[i], 0, NULL, NULL),
        "align %" G_GSIZE_FORMAT " refused", good_align[i]);
  }

  /* each plane's stride alignment */
  for (p = 0; p < GST_VIDEO_MAX_PLANES; p++) {
    for (i = 0; i < G_N_ELEMENTS (bad_stride); i++) {
      gst_video_alignment_reset (&valign);
      valign.stride_align[p] = bad_stride[i];
      fail_if (pool_accepts (video, 0, 0, 0, 0, 0, &valign, NULL),
          "stride alignment %u of plane %u accepted", bad_stride[i], p);
    }
    for (i = 0; i < G_N_ELEMENTS (good_stride); i++) {
      gst_video_alignment_reset (&valign);
      valign.stride_align[p] = good_stride[i];
      fail_unless (pool_accepts (video, 0, 0, 0, 0, 0, &valign, NULL),
          "stride alignment %u of plane %u refused", good_stride[i], p);
    }
  }

  gst_caps_unref (video);
  gst_caps_unref (flat);
}

GST_END_TEST;

/* Every raw format at ordinary sizes still passes the wrapped size check,
 * progressive and with alternate fields: the least size computed from the
 * format's description is never above GStreamer's (odd widths included,
 * where GStreamer packs subsampled 10-bit formats tightly). */
GST_START_TEST (test_pool_every_format)
{
  static const gint sizes[][2] = { {1920, 1080}, {17, 9}, {1, 1}, {4096, 2},
    {3, 1}, {19, 3}, {7, 5}, {8192, 4320},
  };
  const GstVideoFormat *formats;
  guint n_formats, i, j, k;

  formats = gst_video_formats_raw (&n_formats);
  fail_unless (n_formats > 50);

  for (i = 0; i < n_formats; i++) {
    for (j = 0; j < G_N_ELEMENTS (sizes); j++) {
      for (k = 0; k < 2; k++) {
        GstVideoInfo info;
        GstCaps *caps;
        guint size = 0;

        caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
            gst_video_format_to_string (formats[i]),
            "width", G_TYPE_INT, sizes[j][0],
            "height", G_TYPE_INT, sizes[j][1],
            "interlace-mode", G_TYPE_STRING,
            k ? "alternate" : "progressive", NULL);
        if (k)
          gst_caps_set_features (caps, 0,
              gst_caps_features_new (GST_CAPS_FEATURE_FORMAT_INTERLACED,
                  NULL));
        fail_unless (gst_video_info_from_caps (&info, caps));

        fail_unless (pool_accepts (caps, 0, 0, 0, 0, 0, NULL, &size),
            "%" GST_PTR_FORMAT " refused", caps);
        fail_unless_equals_uint64 (size, info.size);
        gst_caps_unref (caps);
      }
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_pool_alignment_overflow)
{
  GstCaps *caps = gst_caps_from_string
      ("video/x-raw,format=NV12,width=1920,height=1080");
  GstVideoAlignment valign;
  guint size = 0;

  /* paddings that take a frame beyond 4 GiB */
  gst_video_alignment_reset (&valign);
  valign.padding_right = G_MAXUINT - 1920;
  valign.padding_bottom = 1;
  fail_if (pool_accepts (caps, 0, 0, 0, 0, 0, &valign, NULL));

  gst_video_alignment_reset (&valign);
  valign.padding_bottom = G_MAXUINT - 1080;
  fail_if (pool_accepts (caps, 0, 0, 0, 0, 0, &valign, NULL));

  /* a huge stride alignment */
  gst_video_alignment_reset (&valign);
  valign.stride_align[0] = G_MAXUINT;
  fail_if (pool_accepts (caps, 0, 0, 0, 0, 0, &valign, NULL));

  /* sane padding still works, and the size covers it */
  gst_video_alignment_reset (&valign);
  valign.padding_right = 64;
  valign.padding_bottom = 8;
  fail_unless (pool_accepts (caps, 0, 0, 0, 0, 0, &valign, &size));
  fail_unless (size >= (1920 + 64) * (1080 + 8) * 3 / 2, "size %u", size);

  gst_caps_unref (caps);
}

GST_END_TEST;

GST_START_TEST (test_pool_params_overflow)
{
  GstCaps *flat = gst_caps_new_empty_simple ("application/x-raw-bytes");
  GstCaps *video = gst_caps_from_string
      ("video/x-raw,format=NV12,width=640,height=480");
  gsize page = (gsize) sysconf (_SC_PAGESIZE);

  /* prefix or padding that wrap the heap size: refused, with or without
   * a byte cap (which the wrapped size once passed) */
  fail_if (pool_accepts (flat, 100, G_MAXSIZE - 10, 0, 0, 0, NULL, NULL));
  fail_if (pool_accepts (flat, 100, 0, G_MAXSIZE - 10, 0, 0, NULL, NULL));
  fail_if (pool_accepts (flat, 100, G_MAXSIZE / 2, G_MAXSIZE / 2, 0, 0,
          NULL, NULL));
  fail_if (pool_accepts (flat, 100, G_MAXSIZE - 10, 0, 0, 4 * page, NULL,
          NULL));
  fail_if (pool_accepts (video, 0, 0, G_MAXSIZE - page, 0, 4 * page, NULL,
          NULL));
  /* page rounding wraps */
  fail_if (pool_accepts (flat, 1, G_MAXSIZE - page, 0, 0, 0, NULL, NULL));
  /* the largest size that can be asked for, but not twice */
  fail_if (pool_accepts (flat, 1, G_MAXSIZE / 2, 0, 0, 0, NULL, NULL));

  /* large but sane values pass */
  fail_unless (pool_accepts (flat, 100, 4096, 4096, 0, 0, NULL, NULL));
  fail_unless (pool_accepts (flat, G_MAXUINT, G_MAXUINT, G_MAXUINT, 0, 0,
          NULL, NULL));

  gst_caps_unref (video);
  gst_caps_unref (flat);
}

GST_END_TEST;

/* An allocator made with g_object_new() has no heap: its size checks run
 * and every allocation fails with a clear error. */
static GstDmaHeapAllocator *
allocator_without_heap (void)
{
  GstDmaHeapAllocator *allocator;

  allocator = g_object_new (GST_TYPE_DMA_HEAP_ALLOCATOR, NULL);
  gst_object_ref_sink (allocator);

  return allocator;
}

static void
check_alloc_fails (GstDmaHeapAllocator * allocator, gsize size, gsize prefix,
    gsize padding, gsize align, gint code, const gchar * text)
{
  GstAllocationParams params;
  GError *error = NULL, *last;
  GstMemory *mem;

  gst_allocation_params_init (&params);
  params.prefix = prefix;
  params.padding = padding;
  params.align = align;

  mem = gst_dma_heap_allocator_alloc_full (allocator, size, &params, &error);
  fail_unless (mem == NULL);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR, code),
      "size %" G_GSIZE_FORMAT ": %s", size, error->message);
  fail_unless (strstr (error->message, text) != NULL, "'%s' not in '%s'",
      text, error->message);

  last = gst_dma_heap_allocator_get_last_error (allocator);
  fail_unless (last != NULL && strcmp (last->message, error->message) == 0);
  g_error_free (last);
  g_error_free (error);

  /* the GstAllocator way, which itself refuses bad alignment masks */
  if ((align & (align + 1)) == 0) {
    mem = gst_allocator_alloc (GST_ALLOCATOR (allocator), size, &params);
    fail_unless (mem == NULL);
  }
}

GST_START_TEST (test_allocator_sizes)
{
  GstDmaHeapAllocator *allocator = allocator_without_heap ();
  gsize page_mask = (gsize) sysconf (_SC_PAGESIZE) - 1;
  gchar **names;

  names = gst_dma_heap_allocator_get_heaps (allocator);
  fail_unless (names != NULL && names[0] == NULL);
  g_strfreev (names);

  /* sizes that wrap once prefix, padding and page rounding are added */
  check_alloc_fails (allocator, G_MAXSIZE, 0, 0, 0,
      GST_DMA_HEAP_ERROR_NO_MEMORY, "overflows");
  check_alloc_fails (allocator, G_MAXSIZE - page_mask + 1, 0, 0, 0,
      GST_DMA_HEAP_ERROR_NO_MEMORY, "overflows");
  check_alloc_fails (allocator, 100, G_MAXSIZE - 10, 0, 0,
      GST_DMA_HEAP_ERROR_NO_MEMORY, "overflows");
  check_alloc_fails (allocator, 100, 0, G_MAXSIZE - 10, 0,
      GST_DMA_HEAP_ERROR_NO_MEMORY, "overflows");
  check_alloc_fails (allocator, G_MAXSIZE / 2, G_MAXSIZE / 2, 2, 0,
      GST_DMA_HEAP_ERROR_NO_MEMORY, "overflows");

  /* alignments that are not a power of two minus one */
  check_alloc_fails (allocator, 100, 0, 0, 5, GST_DMA_HEAP_ERROR_FAILED,
      "Invalid alignment mask 5");
  check_alloc_fails (allocator, 100, 0, 0, 4096, GST_DMA_HEAP_ERROR_FAILED,
      "Invalid alignment mask");
  check_alloc_fails (allocator, 100, 0, 0, G_MAXSIZE - 1,
      GST_DMA_HEAP_ERROR_FAILED, "Invalid alignment mask");

  /* what passes the checks reaches the heaps, of which there is none; the
   * largest size that does not wrap, and the largest alignment mask */
  check_alloc_fails (allocator, G_MAXSIZE - page_mask, 0, 0, 0,
      GST_DMA_HEAP_ERROR_FAILED, "has no heap");
  check_alloc_fails (allocator, 100, 0, 0, G_MAXSIZE,
      GST_DMA_HEAP_ERROR_FAILED, "has no heap");
  check_alloc_fails (allocator, 0, 0, 0, 0, GST_DMA_HEAP_ERROR_FAILED,
      "has no heap");

  gst_object_unref (allocator);
}

GST_END_TEST;

/* A pool on an allocator without heap fails to start with an error, and
 * one with an alignment that is no mask does not get configured. */
GST_START_TEST (test_pool_on_allocator_without_heap)
{
  GstDmaHeapAllocator *allocator = allocator_without_heap ();
  GstAllocationParams params;
  GstBufferPool *pool;
  GstStructure *config;
  GstCaps *caps;
  GError *error;
  guint fds = count_fds ();

  caps = gst_caps_new_empty_simple ("application/x-raw-bytes");

  pool = gst_dma_heap_buffer_pool_new (GST_ALLOCATOR (allocator));
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, 4096, 2, 0);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  fail_if (gst_buffer_pool_set_active (pool, TRUE));
  error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  fail_unless (error != NULL);
  fail_unless (strstr (error->message, "has no heap") != NULL, "%s",
      error->message);
  g_error_free (error);
  gst_object_unref (pool);

  /* an alignment that is no mask is refused by set_config already, so
   * that the pool cannot start with it */
  pool = gst_dma_heap_buffer_pool_new (GST_ALLOCATOR (allocator));
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, 4096, 1, 0);
  gst_allocation_params_init (&params);
  params.align = 6;
  gst_buffer_pool_config_set_allocator (config, GST_ALLOCATOR (allocator),
      &params);
  fail_if (gst_buffer_pool_set_config (pool, config));
  fail_if (gst_buffer_pool_set_config (pool,
          gst_buffer_pool_get_config (pool)));
  fail_if (gst_buffer_pool_set_active (pool, TRUE));
  gst_object_unref (pool);

  fail_unless_equals_int (count_fds (), fds);
  ASSERT_OBJECT_REFCOUNT (allocator, "allocator", 1);
  gst_object_unref (allocator);
  gst_caps_unref (caps);
}

GST_END_TEST;

static Suite *
dmaheapbadinput_suite (void)
{
  Suite *s = suite_create ("dmaheapbadinput");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_spec_paths_and_dots);
  tcase_add_test (tc, test_spec_empty_items);
  tcase_add_test (tc, test_spec_only_invalid_items);
  tcase_add_test (tc, test_spec_long);
  tcase_add_test (tc, test_spec_bytes);
  tcase_add_test (tc, test_pool_bad_dimensions);
  tcase_add_test (tc, test_pool_wrapped_sizes);
  tcase_add_test (tc, test_pool_bad_masks);
  tcase_add_test (tc, test_pool_every_format);
  tcase_add_test (tc, test_pool_alignment_overflow);
  tcase_add_test (tc, test_pool_params_overflow);
  tcase_add_test (tc, test_allocator_sizes);
  tcase_add_test (tc, test_pool_on_allocator_without_heap);

  return s;
}

GST_CHECK_MAIN (dmaheapbadinput);
