/* gst-dmaheap: GstDmaHeapBufferPool
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstdmaheapbufferpool
 * @title: GstDmaHeapBufferPool
 * @short_description: A buffer pool of dma-bufs from a dma-buf heap
 * @see_also: #GstDmaHeapAllocator, #GstVideoBufferPool
 *
 * A #GstDmaHeapBufferPool hands out buffers made of one dma-buf each,
 * allocated by a #GstDmaHeapAllocator.
 *
 * With `video/x-raw` caps the buffers follow the #GstVideoInfo layout of the
 * caps: one dma-buf per frame, the planes at their offsets inside it (the
 * layout kmssink and single-planar V4L2 devices import), and a #GstVideoMeta
 * with those offsets and strides on every buffer. When the configuration
 * has both %GST_BUFFER_POOL_OPTION_VIDEO_META and
 * %GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT, the #GstVideoAlignment of the
 * configuration is applied with gst_video_info_align(); the alignment
 * actually used (paddings, stride alignments) is written back to the
 * configuration, and so is the allocation alignment, widened to the largest
 * stride alignment. A configured size larger than the frame size is kept,
 * as drivers often need more (`sizeimage`). Other caps give flat buffers of
 * the configured size.
 *
 * set_config() follows the #GstBufferPool contract: when something must
 * change, the configuration is corrected and %FALSE returned, and the
 * caller reads the corrected configuration back with
 * gst_buffer_pool_get_config(). Corrected are: a size smaller than the
 * frame; an allocator that is not a #GstDmaHeapAllocator (replaced by the
 * pool's, or by none when the pool will create its own); a maximum number of
 * buffers above the byte cap set with
 * gst_buffer_pool_config_set_max_bytes(). Configurations that cannot be
 * corrected fail: no caps, unparsable video caps, video caps with a width
 * or height of 0 or less, video caps whose #GstVideoInfo size or strides
 * are below what the format needs (GStreamer 1.22 computes wrapped sizes
 * for some formats at large widths; the least size is computed from the
 * #GstVideoFormatInfo instead), an allocation alignment or a stride
 * alignment that is not a power of two minus one, size 0 with non-video
 * caps, a size that overflows once prefix, padding and page rounding are
 * added, or a minimum number of buffers beyond the byte cap. set_config()
 * never opens a heap.
 *
 * When activated, the pool preallocates its minimum number of buffers, so a
 * heap too small fails at once, with an error
 * (gst_dma_heap_buffer_pool_get_last_error()) that says how many bytes were
 * needed and how many could be allocated. Buffers are recycled with their
 * memories untouched: a consumer that caches something per #GstMemory (a
 * framebuffer in kmssink) finds the same memories again.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdmaheapbufferpool.h"
#include "gstdmaheapallocator.h"
#include "gstdmaheap.h"
#include "gstdmaheap-private.h"

#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (gst_dma_heap_buffer_pool_debug);
#define GST_CAT_DEFAULT gst_dma_heap_buffer_pool_debug

#define MAX_BYTES_FIELD "dmaheap-max-bytes"

struct _GstDmaHeapBufferPool
{
  GstBufferPool parent;

  /* protected by object lock */
  GstAllocator *allocator;
  GError *last_error;

  /* written by set_config and start, which do not run while the pool is
   * active; read by alloc_buffer */
  GstAllocationParams params;
  guint size;
  guint min_buffers;
  gboolean is_video;
  GstVideoInfo info;
  GstVideoAlignment video_align;

  /* preallocation bookkeeping, under the pool lock held by set_active */
  gboolean starting;
  guint n_allocated;
  guint64 bytes_allocated;
  GError *alloc_error;
};

enum
{
  PROP_0,
  PROP_LAST_ERROR,
};

#define parent_class gst_dma_heap_buffer_pool_parent_class
G_DEFINE_TYPE_WITH_CODE (GstDmaHeapBufferPool, gst_dma_heap_buffer_pool,
    GST_TYPE_BUFFER_POOL,
    GST_DEBUG_CATEGORY_INIT (gst_dma_heap_buffer_pool_debug, "dmaheappool", 0,
        "dma-buf heap buffer pool"));

static guint64
page_round (guint64 size)
{
  long page_size = sysconf (_SC_PAGESIZE);
  guint64 mask = (page_size > 0 ? (guint64) page_size : 4096) - 1;

  return MAX ((size + mask) & ~mask, mask + 1);
}

/* The bytes one buffer takes in the heap, or 0 when size, prefix, padding
 * and page rounding do not fit in a gsize (the allocator would refuse). */
static guint64
gst_dma_heap_buffer_pool_buffer_bytes (guint size,
    const GstAllocationParams * params)
{
  gsize total = size;
  guint64 rounded;

  if (!g_size_checked_add (&total, total, params->prefix) ||
      !g_size_checked_add (&total, total, params->padding))
    return 0;

  rounded = page_round (total);
  if (rounded < total || rounded > G_MAXSIZE)
    return 0;

  return rounded;
}

/* @value rounded up to a multiple of @multiple (> 0); FALSE on overflow */
static gboolean
round_up_checked (guint64 * value, guint64 multiple)
{
  guint64 rem = *value % multiple;

  if (rem == 0)
    return TRUE;

  return g_uint64_checked_add (value, *value, multiple - rem);
}

/* Lines of @length pixels subsampled by 2^@sub, rounded up, as GStreamer
 * counts them */
static guint64
sub_scale (guint sub, guint64 length)
{
  return (length + (G_GUINT64_CONSTANT (1) << sub) - 1) >> sub;
}

/* Each plane takes at least its rows times the bytes of a row:
 *
 * - a row holds the samples of each component of the plane at its pixel
 *   stride (the widest component decides, packed formats included);
 * - components without a pixel stride are packed in ways the description
 *   does not give (v210, UYVP, IYU1, the 10-bit formats packed in 32 or
 *   40 bits): for those only the bits of their samples are counted, depth
 *   times samples per row, which is below any packing. Subsampled samples
 *   are counted rounded down there: GStreamer's layouts of these formats
 *   hold only that many at odd widths (UYVP 3x1 has 8 bytes a row);
 * - rows are those of the component with the most (the least
 *   subsampled);
 * - a tiled plane is made of whole tiles: the row bytes are rounded up to
 *   the bytes of a tile row, the rows to the lines of a tile;
 * - the palette of a palette format is 256 entries at its pixel stride.
 *
 * Paddings and gaps between planes only add to that, so the sum of the
 * planes is a lower bound of any layout GStreamer computes. */
gboolean
gst_dma_heap_video_min_frame_size (const GstVideoFormatInfo * finfo,
    guint64 width, guint64 height, guint64 * total,
    guint64 plane_bytes[GST_VIDEO_MAX_PLANES],
    guint64 row_bytes[GST_VIDEO_MAX_PLANES])
{
  guint64 sum = 0;
  guint n_planes, n_components, p, c;

  g_return_val_if_fail (finfo != NULL, FALSE);

  n_planes = GST_VIDEO_FORMAT_INFO_N_PLANES (finfo);
  n_components = GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo);

  for (p = 0; p < GST_VIDEO_MAX_PLANES; p++) {
    guint64 row = 0, rows = 0, bits = 0, bytes = 0, palette = 0;

    for (c = 0; p < n_planes && c < n_components; c++) {
      guint64 samples, lines, v;
      gint pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c);

      if (GST_VIDEO_FORMAT_INFO_PLANE (finfo, c) != p)
        continue;

      if (GST_VIDEO_FORMAT_INFO_HAS_PALETTE (finfo) &&
          c == GST_VIDEO_COMP_PALETTE) {
        palette = 256 * (guint64) MAX (pstride, 1);
        continue;
      }

      samples = sub_scale (GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c), width);
      lines = sub_scale (GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c), height);

      if (pstride > 0) {
        if (!g_uint64_checked_mul (&v, samples, (guint64) pstride))
          return FALSE;
        row = MAX (row, v);
      } else {
        samples = width >> GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c);
        if (!g_uint64_checked_mul (&v, samples,
                GST_VIDEO_FORMAT_INFO_DEPTH (finfo, c)) ||
            !g_uint64_checked_add (&bits, bits, v))
          return FALSE;
      }
      rows = MAX (rows, lines);
    }
    row = MAX (row, bits / 8 + (bits % 8 != 0));

    if (rows > 0 && GST_VIDEO_FORMAT_INFO_IS_TILED (finfo)) {
      guint tile_stride = GST_VIDEO_FORMAT_INFO_TILE_STRIDE (finfo, p);
      guint tile_height = GST_VIDEO_FORMAT_INFO_TILE_HEIGHT (finfo, p);

      if ((tile_stride > 0 && !round_up_checked (&row, tile_stride)) ||
          (tile_height > 0 && !round_up_checked (&rows, tile_height)))
        return FALSE;
    }

    if (!g_uint64_checked_mul (&bytes, row, rows) ||
        !g_uint64_checked_add (&bytes, bytes, palette) ||
        !g_uint64_checked_add (&sum, sum, bytes))
      return FALSE;

    if (plane_bytes)
      plane_bytes[p] = bytes;
    if (row_bytes)
      row_bytes[p] = row;
  }

  *total = sum;

  return TRUE;
}

/* NULL when the layout of @info (aligned with @align) holds a frame, else
 * why not. GStreamer 1.22 computes strides and sizes in gint and wraps
 * them for some formats at large widths (Y412_LE 715827752x1 gets 1431654720
 * bytes for a frame of 5726622016); the least size is computed here from
 * the format's description instead, and every stride must hold a row. */
static gchar *
gst_dma_heap_buffer_pool_check_layout (const GstVideoInfo * info,
    const GstVideoAlignment * align)
{
  guint64 width, height, total = 0;
  guint64 planes[GST_VIDEO_MAX_PLANES], rows[GST_VIDEO_MAX_PLANES];
  guint p;

  width = (guint64) GST_VIDEO_INFO_WIDTH (info) + align->padding_left +
      align->padding_right;
  height = (guint64) GST_VIDEO_INFO_HEIGHT (info) + align->padding_top +
      align->padding_bottom;
  if (GST_VIDEO_INFO_INTERLACE_MODE (info) ==
      GST_VIDEO_INTERLACE_MODE_ALTERNATE)
    height = (height + 1) / 2;

  if (!gst_dma_heap_video_min_frame_size (info->finfo, width, height, &total,
          planes, rows))
    return g_strdup_printf ("a frame of %" G_GUINT64_FORMAT "x%"
        G_GUINT64_FORMAT " in %s needs more than 2^64 bytes", width, height,
        GST_VIDEO_INFO_NAME (info));

  if (info->size < total)
    return g_strdup_printf ("GstVideoInfo gives %" G_GSIZE_FORMAT " bytes "
        "for a frame of %" G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT " in %s, "
        "which needs at least %" G_GUINT64_FORMAT " (a size that wrapped)",
        info->size, width, height, GST_VIDEO_INFO_NAME (info), total);

  /* the stride of a tiled plane counts tiles */
  for (p = 0; !GST_VIDEO_FORMAT_INFO_IS_TILED (info->finfo) &&
      p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    gint stride = GST_VIDEO_INFO_PLANE_STRIDE (info, p);

    if (stride < 0 || (guint64) stride < rows[p])
      return g_strdup_printf ("GstVideoInfo gives plane %u of a frame of %"
          G_GUINT64_FORMAT "x%" G_GUINT64_FORMAT " in %s a stride of %d "
          "bytes, below the %" G_GUINT64_FORMAT " of a row", p, width,
          height, GST_VIDEO_INFO_NAME (info), stride, rows[p]);
  }

  return NULL;
}

/* TRUE when @mask is 2^n - 1 */
static gboolean
is_align_mask (guint64 mask)
{
  return (mask & (mask + 1)) == 0;
}

static void
gst_dma_heap_buffer_pool_set_error (GstDmaHeapBufferPool * self,
    GError * error)
{
  GST_OBJECT_LOCK (self);
  g_clear_error (&self->last_error);
  self->last_error = error;
  GST_OBJECT_UNLOCK (self);
  /* in the thread that failed, with no lock of ours held */
  g_object_notify (G_OBJECT (self), "last-error");
}

static const gchar **
gst_dma_heap_buffer_pool_get_options (GstBufferPool * pool)
{
  static const gchar *options[] = {
    GST_BUFFER_POOL_OPTION_VIDEO_META,
    GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT,
    NULL
  };

  return options;
}

static gboolean
gst_dma_heap_buffer_pool_set_config (GstBufferPool * pool,
    GstStructure * config)
{
  GstDmaHeapBufferPool *self = GST_DMA_HEAP_BUFFER_POOL (pool);
  GstAllocator *allocator;
  GstAllocationParams params;
  GstVideoAlignment align;
  GstVideoInfo info;
  GstCaps *caps;
  guint size, min_buffers, max_buffers;
  guint64 max_bytes = 0, buffer_bytes;
  gboolean is_video = FALSE;
  gboolean updated = FALSE;
  gchar *problem = NULL;
  guint i;

  if (!gst_buffer_pool_config_get_params (config, &caps, &size, &min_buffers,
          &max_buffers))
    goto wrong_config;

  if (caps == NULL)
    goto no_caps;

  if (!gst_buffer_pool_config_get_allocator (config, &allocator, &params))
    goto wrong_config;

  if (!is_align_mask (params.align))
    goto bad_align;

  gst_video_alignment_reset (&align);
  gst_video_info_init (&info);

  if (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw")) {
    is_video = TRUE;

    if (!gst_video_info_from_caps (&info, caps))
      goto wrong_caps;

    /* GstVideoInfo takes negative and zero sizes, and gives them frames of
     * 0 bytes or sizes that wrapped */
    if (GST_VIDEO_INFO_WIDTH (&info) <= 0 || GST_VIDEO_INFO_HEIGHT (&info) <= 0
        || info.size == 0)
      goto wrong_dimensions;

    if (gst_buffer_pool_config_has_option (config,
            GST_BUFFER_POOL_OPTION_VIDEO_META) &&
        gst_buffer_pool_config_has_option (config,
            GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT)) {
      gsize max_align = params.align;

      gst_buffer_pool_config_get_video_alignment (config, &align);
      for (i = 0; i < GST_VIDEO_MAX_PLANES; i++) {
        if (!is_align_mask (align.stride_align[i]))
          goto bad_stride_align;
      }
      if (!gst_video_info_align (&info, &align))
        goto failed_to_align;

      gst_buffer_pool_config_set_video_alignment (config, &align);

      for (i = 0; i < GST_VIDEO_MAX_PLANES; i++)
        max_align |= align.stride_align[i];

      if (params.align < max_align) {
        GST_DEBUG_OBJECT (self, "widening the allocation alignment from %"
            G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " for the strides",
            params.align, max_align);
        params.align = max_align;
      }
    }

    problem = gst_dma_heap_buffer_pool_check_layout (&info, &align);
    if (problem)
      goto wrapped_size;

    if (info.size > G_MAXUINT)
      goto too_big;

    if (size < info.size) {
      GST_INFO_OBJECT (self, "size %u is smaller than a frame, %"
          G_GSIZE_FORMAT " bytes: corrected", size, info.size);
      size = info.size;
      updated = TRUE;
    } else if (size > info.size) {
      GST_DEBUG_OBJECT (self, "keeping size %u, larger than a frame (%"
          G_GSIZE_FORMAT " bytes)", size, info.size);
    }
  } else if (size == 0) {
    goto zero_size;
  }

  if (allocator && !GST_IS_DMA_HEAP_ALLOCATOR (allocator)) {
    GST_INFO_OBJECT (self, "allocator %" GST_PTR_FORMAT " is not a dma-heap "
        "allocator: replaced", allocator);
    GST_OBJECT_LOCK (self);
    allocator = self->allocator;
    GST_OBJECT_UNLOCK (self);
    updated = TRUE;
  } else if (allocator) {
    GST_OBJECT_LOCK (self);
    gst_object_replace ((GstObject **) & self->allocator,
        GST_OBJECT_CAST (allocator));
    GST_OBJECT_UNLOCK (self);
  } else {
    GST_OBJECT_LOCK (self);
    allocator = self->allocator;
    GST_OBJECT_UNLOCK (self);
  }
  /* the pool holds a ref on self->allocator, which only start() or
   * set_config() change, so @allocator stays valid here */
  gst_buffer_pool_config_set_allocator (config, allocator, &params);

  buffer_bytes = gst_dma_heap_buffer_pool_buffer_bytes (size, &params);
  if (buffer_bytes == 0 || buffer_bytes > G_MAXUINT64 / MAX (min_buffers, 1))
    goto size_overflow;

  if (gst_dma_heap_buffer_pool_config_get_max_bytes (config, &max_bytes) &&
      max_bytes > 0) {
    guint64 cap_buffers = max_bytes / buffer_bytes;

    if (cap_buffers == 0 || min_buffers > cap_buffers)
      goto over_max_bytes;

    cap_buffers = MIN (cap_buffers, G_MAXUINT);
    if (max_buffers == 0 || max_buffers > cap_buffers) {
      GST_INFO_OBJECT (self, "max buffers %u corrected to %" G_GUINT64_FORMAT
          ": buffers of %" G_GUINT64_FORMAT " bytes, cap of %" G_GUINT64_FORMAT
          " bytes", max_buffers, cap_buffers, buffer_bytes, max_bytes);
      max_buffers = (guint) cap_buffers;
      updated = TRUE;
    }
  }

  gst_buffer_pool_config_set_params (config, caps, size, min_buffers,
      max_buffers);

  self->params = params;
  self->size = size;
  self->min_buffers = min_buffers;
  self->is_video = is_video;
  self->info = info;
  self->video_align = align;

  GST_DEBUG_OBJECT (self, "%s buffers of %u bytes (%" G_GUINT64_FORMAT
      " in the heap), min %u max %u%s", is_video ? "video" : "flat", size,
      buffer_bytes, min_buffers, max_buffers,
      updated ? ", configuration corrected" : "");

  if (!GST_BUFFER_POOL_CLASS (parent_class)->set_config (pool, config))
    return FALSE;

  return !updated;

  /* ERRORS */
wrong_config:
  {
    GST_WARNING_OBJECT (self, "invalid config %" GST_PTR_FORMAT, config);
    return FALSE;
  }
no_caps:
  {
    GST_WARNING_OBJECT (self, "no caps in config");
    return FALSE;
  }
wrong_caps:
  {
    GST_WARNING_OBJECT (self, "failed getting video info from caps %"
        GST_PTR_FORMAT, caps);
    return FALSE;
  }
wrong_dimensions:
  {
    GST_WARNING_OBJECT (self, "frames of %dx%d computed as %" G_GSIZE_FORMAT
        " bytes: no size or a wrapped one, caps %" GST_PTR_FORMAT,
        GST_VIDEO_INFO_WIDTH (&info),
        GST_VIDEO_INFO_HEIGHT (&info), info.size, caps);
    return FALSE;
  }
wrapped_size:
  {
    GST_WARNING_OBJECT (self, "refusing caps %" GST_PTR_FORMAT ": %s", caps,
        problem);
    g_free (problem);
    return FALSE;
  }
bad_align:
  {
    GST_WARNING_OBJECT (self, "invalid allocation alignment mask %"
        G_GSIZE_FORMAT ": it must be a power of two minus one", params.align);
    return FALSE;
  }
bad_stride_align:
  {
    GST_WARNING_OBJECT (self, "invalid stride alignment mask %u of plane %u: "
        "it must be a power of two minus one", align.stride_align[i], i);
    return FALSE;
  }
failed_to_align:
  {
    GST_WARNING_OBJECT (self, "failed to align the video info of caps %"
        GST_PTR_FORMAT, caps);
    return FALSE;
  }
too_big:
  {
    GST_WARNING_OBJECT (self, "a frame of %" G_GSIZE_FORMAT " bytes is too "
        "large for a pool", info.size);
    return FALSE;
  }
zero_size:
  {
    GST_WARNING_OBJECT (self, "size 0 with caps %" GST_PTR_FORMAT
        ": a size is needed for non-video buffers", caps);
    return FALSE;
  }
size_overflow:
  {
    GST_WARNING_OBJECT (self, "%u buffers of %u bytes with a prefix of %"
        G_GSIZE_FORMAT " and a padding of %" G_GSIZE_FORMAT " bytes: the "
        "size overflows", MAX (min_buffers, 1), size, params.prefix,
        params.padding);
    return FALSE;
  }
over_max_bytes:
  {
    GST_WARNING_OBJECT (self, "%u buffers of %" G_GUINT64_FORMAT " bytes do "
        "not fit under the cap of %" G_GUINT64_FORMAT " bytes",
        MAX (min_buffers, 1), buffer_bytes, max_bytes);
    return FALSE;
  }
}

static GstFlowReturn
gst_dma_heap_buffer_pool_alloc_buffer (GstBufferPool * pool,
    GstBuffer ** buffer, GstBufferPoolAcquireParams * params)
{
  GstDmaHeapBufferPool *self = GST_DMA_HEAP_BUFFER_POOL (pool);
  GstAllocator *allocator;
  GError *error = NULL;
  GstMemory *mem;
  GstBuffer *buf;

  GST_OBJECT_LOCK (self);
  allocator = self->allocator ? gst_object_ref (self->allocator) : NULL;
  GST_OBJECT_UNLOCK (self);

  if (allocator == NULL)
    goto no_allocator;

  mem = gst_dma_heap_allocator_alloc_full (GST_DMA_HEAP_ALLOCATOR (allocator),
      self->size, &self->params, &error);
  gst_object_unref (allocator);
  if (mem == NULL)
    goto alloc_failed;

  buf = gst_buffer_new ();
  gst_buffer_append_memory (buf, mem);

  if (self->is_video) {
    GstVideoMeta *meta;

    meta = gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_INFO_FORMAT (&self->info), GST_VIDEO_INFO_WIDTH (&self->info),
        GST_VIDEO_INFO_HEIGHT (&self->info),
        GST_VIDEO_INFO_N_PLANES (&self->info), self->info.offset,
        self->info.stride);
#if GST_CHECK_VERSION (1, 28, 0)
    gst_video_meta_set_alignment_full (meta, &self->video_align);
#else
    gst_video_meta_set_alignment (meta, self->video_align);
#endif
  }

  if (self->starting) {
    self->n_allocated++;
    self->bytes_allocated += mem->maxsize;
  }

  *buffer = buf;

  return GST_FLOW_OK;

  /* ERRORS */
no_allocator:
  {
    GST_ERROR_OBJECT (self, "no allocator: the pool is not started");
    return GST_FLOW_ERROR;
  }
alloc_failed:
  {
    GST_WARNING_OBJECT (self, "cannot allocate a buffer: %s", error->message);
    if (self->starting) {
      g_clear_error (&self->alloc_error);
      self->alloc_error = error;
    } else {
      gst_dma_heap_buffer_pool_set_error (self, error);
    }
    return GST_FLOW_ERROR;
  }
}

static gboolean
gst_dma_heap_buffer_pool_start (GstBufferPool * pool)
{
  GstDmaHeapBufferPool *self = GST_DMA_HEAP_BUFFER_POOL (pool);
  GstAllocator *allocator;
  GError *error = NULL;
  gboolean ret;

  GST_OBJECT_LOCK (self);
  allocator = self->allocator ? gst_object_ref (self->allocator) : NULL;
  GST_OBJECT_UNLOCK (self);

  if (allocator == NULL) {
    allocator = gst_dma_heap_allocator_new (GST_DMA_HEAP_DEFAULT_ALIAS,
        &error);
    if (allocator == NULL)
      goto no_allocator;

    gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (allocator),
        GST_OBJECT_NAME (self));

    GST_OBJECT_LOCK (self);
    gst_object_replace ((GstObject **) & self->allocator,
        GST_OBJECT_CAST (allocator));
    GST_OBJECT_UNLOCK (self);
  }

  self->starting = TRUE;
  self->n_allocated = 0;
  self->bytes_allocated = 0;
  g_clear_error (&self->alloc_error);

  ret = GST_BUFFER_POOL_CLASS (parent_class)->start (pool);

  self->starting = FALSE;

  if (!ret)
    goto prealloc_failed;

  GST_DEBUG_OBJECT (self, "started, %u buffers (%" G_GUINT64_FORMAT
      " bytes) preallocated", self->n_allocated, self->bytes_allocated);
  gst_object_unref (allocator);

  return TRUE;

  /* ERRORS */
no_allocator:
  {
    GST_ERROR_OBJECT (self, "cannot start: %s", error->message);
    gst_dma_heap_buffer_pool_set_error (self, error);
    return FALSE;
  }
prealloc_failed:
  {
    gchar **heaps, *heap_list, *each;
    guint64 buffer_bytes;

    heaps = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
        (allocator));
    heap_list = g_strjoinv (", ", heaps);
    buffer_bytes = gst_dma_heap_buffer_pool_buffer_bytes (self->size,
        &self->params);

    each = buffer_bytes != self->size ?
        g_strdup_printf (" (%" G_GUINT64_FORMAT " bytes each in the heap)",
        buffer_bytes) : NULL;
    error = g_error_new (GST_DMA_HEAP_ERROR,
        self->alloc_error ? self->alloc_error->code :
        GST_DMA_HEAP_ERROR_FAILED,
        "Cannot preallocate %u buffers of %u bytes%s from heap %s: %"
        G_GUINT64_FORMAT " bytes needed in total, %u buffers (%"
        G_GUINT64_FORMAT " bytes) were allocated before buffer %u failed. "
        "%s", self->min_buffers, self->size, each ? each : "", heap_list,
        buffer_bytes * self->min_buffers, self->n_allocated,
        self->bytes_allocated, self->n_allocated + 1,
        self->alloc_error ? self->alloc_error->message : "Unknown error");
    g_free (each);
    GST_ERROR_OBJECT (self, "%s", error->message);
    gst_dma_heap_buffer_pool_set_error (self, error);

    g_clear_error (&self->alloc_error);
    g_free (heap_list);
    g_strfreev (heaps);
    gst_object_unref (allocator);

    /* give the buffers allocated so far back to the heap now */
    GST_BUFFER_POOL_CLASS (parent_class)->stop (pool);

    return FALSE;
  }
}

static void
gst_dma_heap_buffer_pool_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDmaHeapBufferPool *self = GST_DMA_HEAP_BUFFER_POOL (object);

  switch (prop_id) {
    case PROP_LAST_ERROR:
      g_value_take_boxed (value,
          gst_dma_heap_buffer_pool_get_last_error (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_dma_heap_buffer_pool_finalize (GObject * object)
{
  GstDmaHeapBufferPool *self = GST_DMA_HEAP_BUFFER_POOL (object);

  gst_clear_object (&self->allocator);
  g_clear_error (&self->last_error);
  g_clear_error (&self->alloc_error);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_dma_heap_buffer_pool_class_init (GstDmaHeapBufferPoolClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS (klass);

  gobject_class->finalize = gst_dma_heap_buffer_pool_finalize;
  gobject_class->get_property = gst_dma_heap_buffer_pool_get_property;

  /**
   * GstDmaHeapBufferPool:last-error:
   *
   * Why the pool last failed to activate or to allocate a buffer, as
   * gst_dma_heap_buffer_pool_get_last_error() gives it. Notified from the
   * thread that failed, which for a pool offered upstream is upstream's
   * streaming thread: whoever offered the pool learns why its activation
   * failed, with the numbers, when upstream only says that it did.
   *
   * Since: 0.2
   */
  g_object_class_install_property (gobject_class, PROP_LAST_ERROR,
      g_param_spec_boxed ("last-error", "Last error",
          "Why the pool last failed to activate or to allocate a buffer",
          G_TYPE_ERROR, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  pool_class->get_options = gst_dma_heap_buffer_pool_get_options;
  pool_class->set_config = gst_dma_heap_buffer_pool_set_config;
  pool_class->start = gst_dma_heap_buffer_pool_start;
  pool_class->alloc_buffer = gst_dma_heap_buffer_pool_alloc_buffer;
  /* reset_buffer and release_buffer stay GstBufferPool's: they keep the
   * memories of a buffer whose memories were not replaced, so recycled
   * buffers carry the same GstMemory */
}

static void
gst_dma_heap_buffer_pool_init (GstDmaHeapBufferPool * self)
{
  gst_allocation_params_init (&self->params);
  gst_video_info_init (&self->info);
  gst_video_alignment_reset (&self->video_align);
}

/**
 * gst_dma_heap_buffer_pool_new:
 * @allocator: (nullable): a #GstDmaHeapAllocator, or %NULL
 *
 * Creates a pool of buffers allocated by @allocator. With %NULL, the pool
 * creates an allocator on the %GST_DMA_HEAP_DEFAULT_ALIAS heap when it is
 * activated (not before: configuring the pool opens no heap), labelled with
 * the pool's name.
 *
 * Returns: (transfer full): a new #GstDmaHeapBufferPool, not floating
 *
 * Since: 0.1
 */
GstBufferPool *
gst_dma_heap_buffer_pool_new (GstAllocator * allocator)
{
  static gint counter = 0;
  GstDmaHeapBufferPool *self;
  gchar *name;

  g_return_val_if_fail (allocator == NULL ||
      GST_IS_DMA_HEAP_ALLOCATOR (allocator), NULL);

  /* short default names leave room for the heap in dma-buf names */
  name = g_strdup_printf ("dmaheappool%d", g_atomic_int_add (&counter, 1));
  self = g_object_new (GST_TYPE_DMA_HEAP_BUFFER_POOL, "name", name, NULL);
  g_free (name);
  gst_object_ref_sink (self);

  if (allocator)
    self->allocator = gst_object_ref (allocator);

  return GST_BUFFER_POOL_CAST (self);
}

/**
 * gst_dma_heap_buffer_pool_get_allocator:
 * @self: a #GstDmaHeapBufferPool
 *
 * Returns: (transfer full) (nullable): the #GstDmaHeapAllocator of the
 *   pool, or %NULL when the pool was created without one and has not been
 *   activated yet
 *
 * Since: 0.1
 */
GstAllocator *
gst_dma_heap_buffer_pool_get_allocator (GstDmaHeapBufferPool * self)
{
  GstAllocator *ret;

  g_return_val_if_fail (GST_IS_DMA_HEAP_BUFFER_POOL (self), NULL);

  GST_OBJECT_LOCK (self);
  ret = self->allocator ? gst_object_ref (self->allocator) : NULL;
  GST_OBJECT_UNLOCK (self);

  return ret;
}

/**
 * gst_dma_heap_buffer_pool_config_set_max_bytes:
 * @config: a buffer pool configuration
 * @max_bytes: the most bytes the pool may take from the heap, 0 for no cap
 *
 * Caps the memory the pool takes from the heap (stored in @config as a
 * #guint64 field `dmaheap-max-bytes`). Each buffer counts for its size,
 * prefix and padding rounded up to whole pages. set_config() lowers the
 * maximum number of buffers to fit under the cap (and returns %FALSE), and
 * fails when the minimum number of buffers does not fit.
 *
 * Since: 0.1
 */
void
gst_dma_heap_buffer_pool_config_set_max_bytes (GstStructure * config,
    guint64 max_bytes)
{
  g_return_if_fail (config != NULL);

  gst_structure_set (config, MAX_BYTES_FIELD, G_TYPE_UINT64, max_bytes, NULL);
}

/**
 * gst_dma_heap_buffer_pool_config_get_max_bytes:
 * @config: a buffer pool configuration
 * @max_bytes: (out) (optional): the byte cap, 0 when none is set
 *
 * Returns: %TRUE when @config has a byte cap field
 *
 * Since: 0.1
 */
gboolean
gst_dma_heap_buffer_pool_config_get_max_bytes (GstStructure * config,
    guint64 * max_bytes)
{
  guint64 value = 0;
  gboolean ret;

  g_return_val_if_fail (config != NULL, FALSE);

  ret = gst_structure_get_uint64 (config, MAX_BYTES_FIELD, &value);
  if (max_bytes)
    *max_bytes = ret ? value : 0;

  return ret;
}

/**
 * gst_dma_heap_buffer_pool_get_last_error:
 * @self: a #GstDmaHeapBufferPool
 *
 * Tells why the pool last failed to activate or to allocate a buffer. A
 * failed preallocation gives the heap, the buffer size, the bytes needed in
 * total, how many buffers and bytes were allocated before the failure and
 * the errno text.
 *
 * Returns: (transfer full) (nullable): a copy of the last error, or %NULL.
 *   Free with g_error_free().
 *
 * Since: 0.1
 */
GError *
gst_dma_heap_buffer_pool_get_last_error (GstDmaHeapBufferPool * self)
{
  GError *ret = NULL;

  g_return_val_if_fail (GST_IS_DMA_HEAP_BUFFER_POOL (self), NULL);

  GST_OBJECT_LOCK (self);
  if (self->last_error)
    ret = g_error_copy (self->last_error);
  GST_OBJECT_UNLOCK (self);

  return ret;
}
