/* gst-dmaheap: helpers shared inside libgstdmaheap, not installed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/dmaheap/gstdmaheap.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* Like gst_dma_heap_list(), and tells whether GST_DMA_HEAP_DIR exists
 * (an empty result means "no directory" or "empty directory") and, in
 * @ignored (optional, NULL when none, free with g_free()), which entries
 * were left out as no heaps and what they are. */
G_GNUC_INTERNAL
gchar **  gst_dma_heap_list_full (gboolean * dir_exists, gchar ** ignored,
                                  GError ** error);

/* "system, reserved", or a sentence saying why there is none; followed by
 * @ignored (nullable), the entries that are no heaps. */
G_GNUC_INTERNAL
gchar *   gst_dma_heap_describe_names (const gchar * const * names,
                                       gboolean dir_exists,
                                       const gchar * ignored);

/* The fewest bytes a @width x @height frame of @finfo can take, from the
 * format's own description (pixel strides, planes, subsampling, sample
 * depths, tiles), independently of GstVideoInfo, with checked 64-bit
 * arithmetic. @height is the height of what one buffer holds (a field,
 * for alternate interlacing), paddings included. @plane_bytes and
 * @row_bytes (optional) receive the least bytes of each plane and of one
 * of its rows (0 for a palette). FALSE when the size does not fit in 64
 * bits. */
G_GNUC_INTERNAL
gboolean  gst_dma_heap_video_min_frame_size (
              const GstVideoFormatInfo * finfo, guint64 width, guint64 height,
              guint64 * total, guint64 plane_bytes[GST_VIDEO_MAX_PLANES],
              guint64 row_bytes[GST_VIDEO_MAX_PLANES]);

G_END_DECLS
