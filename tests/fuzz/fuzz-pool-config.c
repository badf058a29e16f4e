/* gst-dmaheap: fuzz target for GstDmaHeapBufferPool configuration
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Input: a 64-byte header (missing bytes read as 0, integers little
 * endian), then, unless the header asks for structured caps, a caps string.
 *
 *   0      flags: 0x01 caps from the header (format, width, height),
 *                 0x02 VIDEO_META option, 0x04 VIDEO_ALIGNMENT option,
 *                 0x08 a byte cap (max_bytes), 0x10 flat caps instead of
 *                 video ones (with 0x01)
 *   1      format: index into the raw video formats (with 0x01)
 *   2, 3   min and max buffers
 *   4      u32 size
 *   8      i32 width        12  i32 height      (with 0x01)
 *   16     u64 prefix       24  u64 padding
 *   32     u64 align        40  u64 max_bytes
 *   48     u16 padding top, bottom, left, right of the video alignment
 *   56     u16 stride alignment of planes 0 to 3
 *   64...  caps string
 *
 * The configuration goes through set_config() of a pool without allocator,
 * so no heap is opened. When the pool corrects the configuration, the
 * corrected one is given back once, as a caller would. Whenever the pool
 * accepts a configuration, the sizes in it are checked against sizes
 * computed here with 128-bit arithmetic: the buffer size covers a frame,
 * prefix, padding and page rounding do not wrap, and the byte cap holds.
 * The least size of a frame is computed from the format's description
 * (gst_dma_heap_video_min_frame_size(), shared with the pool), never from
 * GstVideoInfo's size, which GStreamer 1.22 wraps for some formats; the
 * alignments accepted must be masks (2^n - 1).
 */

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>

#include "gst/dmaheap/gstdmaheap-private.h"
#include "fuzz-common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define HEADER_SIZE 64

typedef unsigned __int128 u128;

typedef struct
{
  guint8 flags;
  guint8 format;
  guint8 min, max;
  guint32 size;
  gint32 width, height;
  guint64 prefix, padding, align, max_bytes;
  guint16 pad[4];
  guint16 stride_align[4];
} Header;

static const GstVideoFormat *raw_formats;
static guint n_raw_formats;
static guint64 page_size;

static guint64
read_le (const guint8 * p, guint n)
{
  guint64 v = 0;

  while (n--)
    v = (v << 8) | p[n];
  return v;
}

static void
parse_header (const uint8_t * data, size_t size, Header * h)
{
  guint8 raw[HEADER_SIZE] = { 0, };
  guint i;

  memcpy (raw, data, MIN (size, HEADER_SIZE));

  h->flags = raw[0];
  h->format = raw[1];
  h->min = raw[2];
  h->max = raw[3];
  /* GstBufferPool refuses min > max with a critical: not ours to test */
  if (h->max != 0 && h->min > h->max)
    h->max = h->min;
  h->size = (guint32) read_le (raw + 4, 4);
  h->width = (gint32) (guint32) read_le (raw + 8, 4);
  h->height = (gint32) (guint32) read_le (raw + 12, 4);
  h->prefix = read_le (raw + 16, 8);
  h->padding = read_le (raw + 24, 8);
  h->align = read_le (raw + 32, 8);
  h->max_bytes = read_le (raw + 40, 8);
  for (i = 0; i < 4; i++) {
    h->pad[i] = (guint16) read_le (raw + 48 + 2 * i, 2);
    h->stride_align[i] = (guint16) read_le (raw + 56 + 2 * i, 2);
  }
}

/* GStreamer's caps parser backtracks over unclosed brackets: a few
 * hundred bytes of nested "[\"..." take it longer than the time limit of an
 * input (16 of them took 0.44 s of CPU here, over 10 s on a loaded
 * machine). Its speed is not what this target is about. */
static gboolean
too_many_brackets (const gchar * str)
{
  guint n = 0;

  for (; *str; str++) {
    if (strchr ("[{<(", *str) && ++n > 10)
      return TRUE;
  }

  return FALSE;
}

static GstCaps *
make_caps (const Header * h, const uint8_t * data, size_t size)
{
  gchar *str;
  GstCaps *caps;

  if (h->flags & 0x10) {
    return gst_caps_new_empty_simple ("application/x-fuzz");
  } else if (h->flags & 0x01) {
    GstVideoFormat format = raw_formats[h->format % n_raw_formats];

    return gst_caps_new_simple ("video/x-raw",
        "format", G_TYPE_STRING, gst_video_format_to_string (format),
        "width", G_TYPE_INT, h->width, "height", G_TYPE_INT, h->height,
        "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  }

  if (size <= HEADER_SIZE)
    return NULL;

  str = g_strndup ((const gchar *) data + HEADER_SIZE, size - HEADER_SIZE);
  if (too_many_brackets (str)) {
    g_free (str);
    return NULL;
  }
  in_harness = TRUE;
  caps = gst_caps_from_string (str);
  /* a pool configuration holds fixed caps (or none) */
  if (caps && (gst_caps_is_any (caps) || gst_caps_is_empty (caps)))
    gst_clear_caps (&caps);
  if (caps && !gst_caps_is_fixed (caps))
    caps = gst_caps_fixate (caps);
  in_harness = FALSE;
  g_free (str);

  return caps;
}

/* The smallest a frame of @caps can be, padded lines included when the
 * pool applied a video alignment: from the format's description
 * (pixel strides, planes, subsampling, tiles), not from GstVideoInfo's
 * size. */
static u128
frame_lower_bound (GstCaps * caps, const GstVideoAlignment * align)
{
  GstVideoInfo info;
  guint64 width, height, bound = 0;

  if (!gst_video_info_from_caps (&info, caps))
    return 0;

  CHECK (GST_VIDEO_INFO_WIDTH (&info) > 0 && GST_VIDEO_INFO_HEIGHT (&info) > 0,
      "frames of %dx%d accepted", GST_VIDEO_INFO_WIDTH (&info),
      GST_VIDEO_INFO_HEIGHT (&info));

  width = (guint) GST_VIDEO_INFO_WIDTH (&info);
  height = (guint) GST_VIDEO_INFO_HEIGHT (&info);
  if (align) {
    width += (guint64) align->padding_left + align->padding_right;
    height += (guint64) align->padding_top + align->padding_bottom;
  }
  if (GST_VIDEO_INFO_INTERLACE_MODE (&info) ==
      GST_VIDEO_INTERLACE_MODE_ALTERNATE)
    height = (height + 1) / 2;

  CHECK (gst_dma_heap_video_min_frame_size (info.finfo, width, height,
          &bound, NULL, NULL), "accepted a %" G_GUINT64_FORMAT "x%"
      G_GUINT64_FORMAT " frame of %s, over 2^64 bytes", width, height,
      GST_VIDEO_INFO_NAME (&info));

  return bound;
}

static u128
heap_bytes (guint size, const GstAllocationParams * params)
{
  u128 bytes = (u128) size + params->prefix + params->padding;

  bytes = (bytes + page_size - 1) / page_size * page_size;
  return MAX (bytes, page_size);
}

static void
check_accepted (GstBufferPool * pool, const Header * h)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstAllocationParams params;
  GstAllocator *allocator = NULL;
  GstVideoAlignment valign;
  gboolean aligned;
  GstCaps *caps;
  guint size, min, max, i;
  guint64 max_bytes = 0;
  u128 bytes, bound;

  CHECK (gst_buffer_pool_config_get_params (config, &caps, &size, &min, &max),
      "no params in an accepted config");
  CHECK (caps != NULL, "no caps in an accepted config");
  CHECK (gst_buffer_pool_config_get_allocator (config, &allocator, &params),
      "no allocator field in an accepted config");
  CHECK (allocator == NULL, "an allocator appeared");
  CHECK ((params.align & (params.align + 1)) == 0, "alignment %"
      G_GSIZE_FORMAT " accepted: not a mask", params.align);

  aligned = gst_structure_has_name (gst_caps_get_structure (caps, 0),
      "video/x-raw") &&
      gst_buffer_pool_config_has_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_META) &&
      gst_buffer_pool_config_has_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);

  if (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw")) {
    if (aligned)
      CHECK (gst_buffer_pool_config_get_video_alignment (config, &valign),
          "alignment option without alignment");

    bound = frame_lower_bound (caps, aligned ? &valign : NULL);
    CHECK (bound <= size, "size %u below a frame of at least %" G_GUINT64_FORMAT
        " bytes", size, (guint64) MIN (bound, (u128) G_MAXUINT64));

    if (aligned) {
      for (i = 0; i < GST_VIDEO_MAX_PLANES; i++) {
        CHECK ((valign.stride_align[i] & (valign.stride_align[i] + 1)) == 0,
            "stride alignment %u accepted: not a mask",
            valign.stride_align[i]);
        CHECK ((params.align & valign.stride_align[i]) ==
            valign.stride_align[i], "align %" G_GSIZE_FORMAT " does not cover "
            "stride alignment %u", params.align, valign.stride_align[i]);
      }
    }
  } else {
    CHECK (size > 0, "flat buffers of size 0");
  }

  /* what a buffer takes in the heap can be asked for without wrapping */
  bytes = heap_bytes (size, &params);
  CHECK (bytes <= G_MAXSIZE, "size %u + prefix %" G_GSIZE_FORMAT
      " + padding %" G_GSIZE_FORMAT " wraps", size, params.prefix,
      params.padding);

  if (gst_dma_heap_buffer_pool_config_get_max_bytes (config, &max_bytes) &&
      max_bytes > 0) {
    CHECK (max > 0, "unlimited buffers under a cap of %" G_GUINT64_FORMAT,
        max_bytes);
    CHECK (bytes * max <= max_bytes, "%u buffers of %" G_GUINT64_FORMAT
        " bytes over the cap of %" G_GUINT64_FORMAT, max, (guint64) bytes,
        max_bytes);
    CHECK (bytes * min <= max_bytes, "min %u buffers over the cap", min);
  }

  gst_structure_free (config);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  long page = sysconf (_SC_PAGESIZE);

  g_setenv ("GST_DEBUG", "0", TRUE);
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_init (NULL, NULL);
  g_log_set_default_handler (log_handler, NULL);

  raw_formats = gst_video_formats_raw (&n_raw_formats);
  page_size = page > 0 ? (guint64) page : 4096;
  /* registers the type before the first input, so that its one-time
   * allocations do not count as a leak of that input */
  gst_object_unref (gst_dma_heap_buffer_pool_new (NULL));

  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GstBufferPool *pool;
  GstStructure *config;
  GstAllocationParams params;
  GstCaps *caps;
  Header h;
  gboolean ok;

  parse_header (data, size, &h);
  caps = make_caps (&h, data, size);
  if (caps == NULL)
    return 0;

  pool = gst_dma_heap_buffer_pool_new (NULL);
  config = gst_buffer_pool_get_config (pool);

  gst_buffer_pool_config_set_params (config, caps, h.size, h.min, h.max);

  gst_allocation_params_init (&params);
  params.prefix = h.prefix;
  params.padding = h.padding;
  params.align = h.align;
  gst_buffer_pool_config_set_allocator (config, NULL, &params);

  if (h.flags & 0x02)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (h.flags & 0x04) {
    GstVideoAlignment valign;
    guint i;

    gst_video_alignment_reset (&valign);
    valign.padding_top = h.pad[0];
    valign.padding_bottom = h.pad[1];
    valign.padding_left = h.pad[2];
    valign.padding_right = h.pad[3];
    for (i = 0; i < 4; i++)
      valign.stride_align[i] = h.stride_align[i];
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
    gst_buffer_pool_config_set_video_alignment (config, &valign);
  }
  if (h.flags & 0x08)
    gst_dma_heap_buffer_pool_config_set_max_bytes (config, h.max_bytes);

  ok = gst_buffer_pool_set_config (pool, config);
  if (ok) {
    /* TRUE means nothing was corrected */
    config = gst_buffer_pool_get_config (pool);
    CHECK (gst_buffer_pool_config_validate_params (config, caps, h.size,
            h.min, h.max), "set_config changed the config and returned TRUE");
    gst_structure_free (config);
    check_accepted (pool, &h);
  } else if (gst_buffer_pool_set_config (pool,
          gst_buffer_pool_get_config (pool))) {
    check_accepted (pool, &h);
  }

  gst_object_unref (pool);
  gst_caps_unref (caps);

  return 0;
}
