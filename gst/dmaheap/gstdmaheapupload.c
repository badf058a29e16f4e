/* gst-dmaheap: dmaheapupload element
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-dmaheapupload
 * @title: dmaheapupload
 *
 * Makes sure the buffers flowing downstream live in a chosen Linux dma-buf
 * heap, for instance a CMA region reserved for a display or a codec.
 *
 * Upstream is offered a #GstDmaHeapBufferPool on that heap in answer to its
 * ALLOCATION query, so a producer that takes the pool (v4l2src with
 * `io-mode=dmabuf-import`, decoders, most sources) fills heap memory
 * directly: its buffers are then pushed on untouched, same #GstMemory, no
 * copy. Buffers that are not in the heap are copied into buffers of the
 * element's own pool, respecting strides (#GstVideoMeta), unless
 * #GstDmaHeapUpload:allow-copy is %FALSE. The #GstDmaHeapUpload:stats
 * property counts both cases.
 *
 * Caps are passed on unchanged. Raw video caps (`video/x-raw` with a
 * format and a size) give pools laid out as #GstVideoInfo says, one dma-buf
 * per frame with #GstVideoMeta. Everything else is a bitstream, including
 * encoded video and images (`video/x-h264`, `image/jpeg`), audio and
 * `application/...`: upstream is offered the allocator only, since such
 * caps carry no buffer size, and copies go into flat buffers of
 * downstream's size (a decoder's input buffer size) or, when downstream
 * gives none, sized after the largest input seen; the bytes of each input
 * buffer are copied as they are and the output buffer has their size.
 *
 * Heap device nodes are usually only accessible to root: when the heap
 * cannot be opened the element fails to start with an error that names the
 * device node and the fix (a udev rule or a group membership).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 v4l2src io-mode=dmabuf-import ! dmaheapupload heap=ecc-off ! kmssink
 * ]| Captures straight into the CMA region `ecc-off` and displays it without
 * a copy.
 * |[
 * gst-launch-1.0 videotestsrc ! dmaheapupload heap=default ! v4l2sink io-mode=dmabuf-import
 * ]| Copies test frames into the default CMA heap, which the V4L2 output
 * device imports.
 * |[
 * gst-launch-1.0 filesrc location=a.h264 ! h264parse ! dmaheapupload heap=vpu,default ! v4l2h264dec ! fakesink
 * ]| Feeds a decoder with bitstream buffers from the `vpu` heap, or from the
 * default CMA heap when `vpu` is missing or full.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>

#include "gstdmaheapupload.h"

GST_DEBUG_CATEGORY_STATIC (gst_dma_heap_upload_debug);
#define GST_CAT_DEFAULT gst_dma_heap_upload_debug

#define DEFAULT_HEAP        GST_DMA_HEAP_DEFAULT_ALIAS
#define DEFAULT_ALLOW_COPY  TRUE
#define DEFAULT_MIN_BUFFERS 2
#define MAX_MIN_BUFFERS     64
#define DEFAULT_MAX_BYTES   0
#define DEFAULT_BITSTREAM_POOL FALSE
/* the size of a bitstream pool proposed without a size from downstream:
 * upstream configures the pool with its own (see bitstream-pool) */
#define BITSTREAM_POOL_MIN_SIZE 4096

#define STATS_NAME          "dmaheapupload-stats"

/* Flat (non-video) copy buffers grow by at least half their size and are
 * rounded to this, so a stream of varying sizes settles quickly. */
#define FLAT_SIZE_ALIGN     4096

enum
{
  PROP_0,
  PROP_HEAP,
  PROP_STATS,
  PROP_ALLOW_COPY,
  PROP_MIN_BUFFERS,
  PROP_MAX_BYTES,
  PROP_BITSTREAM_POOL,
  N_PROPS
};

static GParamSpec *g_props[N_PROPS];

struct _GstDmaHeapUpload
{
  GstBaseTransform parent;

  /* properties, protected by object lock */
  gchar *heap_spec;
  gboolean allow_copy;
  guint min_buffers;
  guint64 max_bytes;
  gboolean bitstream_pool;

  /* statistics, protected by object lock */
  guint64 passed_through;
  guint64 copied;
  guint64 bytes_copied;
  guint64 fallback_buffers;
  const gchar *last_heap;       /* interned */

  /* a buffer came from a heap after the first of the list: warned once
   * per run; streaming thread */
  gboolean fallback_warned;

  /* TRUE between start() and stop(), protected by object lock */
  gboolean started;

  /* Set in start(), cleared in stop(): the element holds its heap nodes
   * only while it runs, and each start resolves the spec again, so a heap
   * that appeared (or whose permissions changed) in between is seen. */
  GstAllocator *allocator;
  gchar **heaps;
  GstAllocationParams params;

  /* The allocator of the last run, without a ref: an upstream element
   * that keeps the allocator it was given past its run (v4l2src does in
   * 1.22) keeps it alive, and the next start takes that one again when
   * the spec resolves to the same heaps, instead of opening the heaps
   * once more per run while the old nodes stay open upstream. */
  GWeakRef last_allocator;

  /* negotiated state, streaming thread */
  GstCaps *caps;
  gboolean is_video;
  GstVideoInfo info;
  gboolean downstream_video_meta;
  GstBufferPool *pool;          /* copies go there */

  /* what downstream asked for (its minimum, its buffer size, 0 when it
   * gave none), read by propose_allocation; protected by object lock */
  guint downstream_min;
  guint downstream_size;

  /* The pool proposed upstream at the last ALLOCATION query and what it
   * was made for: a query for the same caps, size, minimum, max-bytes and
   * alignment gets it again. Upstream activates it (and the pool then
   * preallocates its minimum); we never do. Protected by object lock. */
  GstBufferPool *proposed;
  GstCaps *proposed_caps;
  guint proposed_size;
  guint proposed_min;
  guint64 proposed_max_bytes;
  gsize proposed_align;
};

#define gst_dma_heap_upload_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstDmaHeapUpload, gst_dma_heap_upload,
    GST_TYPE_BASE_TRANSFORM,
    GST_DEBUG_CATEGORY_INIT (gst_dma_heap_upload_debug, "dmaheapupload", 0,
        "dma-heap upload element"));
GST_ELEMENT_REGISTER_DEFINE (dmaheapupload, "dmaheapupload", GST_RANK_NONE,
    GST_TYPE_DMA_HEAP_UPLOAD);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
gst_dma_heap_upload_init (GstDmaHeapUpload * self)
{
  self->heap_spec = g_strdup (DEFAULT_HEAP);
  self->allow_copy = DEFAULT_ALLOW_COPY;
  self->min_buffers = DEFAULT_MIN_BUFFERS;
  self->max_bytes = DEFAULT_MAX_BYTES;
  self->bitstream_pool = DEFAULT_BITSTREAM_POOL;
  self->last_heap = g_intern_static_string ("");
  gst_allocation_params_init (&self->params);
  g_weak_ref_init (&self->last_allocator, NULL);
}

static void
gst_dma_heap_upload_finalize (GObject * object)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (object);

  g_free (self->heap_spec);
  g_weak_ref_clear (&self->last_allocator);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_dma_heap_upload_get_stats (GstDmaHeapUpload * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new (STATS_NAME,
      "passed-through", G_TYPE_UINT64, self->passed_through,
      "copied", G_TYPE_UINT64, self->copied,
      "bytes-copied", G_TYPE_UINT64, self->bytes_copied,
      "fallback-buffers", G_TYPE_UINT64, self->fallback_buffers,
      "heap", G_TYPE_STRING, self->last_heap, NULL);
  GST_OBJECT_UNLOCK (self);

  return s;
}

static void
gst_dma_heap_upload_set_heap (GstDmaHeapUpload * self, const gchar * spec)
{
  gchar *kept = NULL;

  /* NULL restores the default */
  if (!spec)
    spec = DEFAULT_HEAP;

  GST_OBJECT_LOCK (self);
  if (self->started || GST_STATE (self) > GST_STATE_READY) {
    kept = g_strdup (self->heap_spec);
  } else {
    g_free (self->heap_spec);
    self->heap_spec = g_strdup (spec);
  }
  GST_OBJECT_UNLOCK (self);

  if (kept) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The heap can only be changed in the NULL or READY state; "
            "still using \"%s\".", kept),
        ("refused heap=\"%s\" while running", GST_STR_NULL (spec)));
    g_free (kept);
  }
}

static void
gst_dma_heap_upload_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (object);

  switch (prop_id) {
    case PROP_HEAP:
      gst_dma_heap_upload_set_heap (self, g_value_get_string (value));
      break;
    case PROP_ALLOW_COPY:
      GST_OBJECT_LOCK (self);
      self->allow_copy = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MIN_BUFFERS:
      GST_OBJECT_LOCK (self);
      self->min_buffers = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_BYTES:
      GST_OBJECT_LOCK (self);
      self->max_bytes = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BITSTREAM_POOL:
      GST_OBJECT_LOCK (self);
      self->bitstream_pool = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_dma_heap_upload_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (object);

  switch (prop_id) {
    case PROP_HEAP:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->heap_spec);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_dma_heap_upload_get_stats (self));
      break;
    case PROP_ALLOW_COPY:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->allow_copy);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MIN_BUFFERS:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->min_buffers);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_BYTES:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->max_bytes);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_BITSTREAM_POOL:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->bitstream_pool);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* Streaming state */

static void
gst_dma_heap_upload_replace_pool (GstDmaHeapUpload * self, GstBufferPool * pool)
{
  GstBufferPool *old = self->pool;

  self->pool = pool;
  if (old) {
    /* Buffers still downstream keep the old pool alive until they come
     * back; deactivating frees the idle ones now. */
    gst_buffer_pool_set_active (old, FALSE);
    gst_object_unref (old);
  }
}

/* Posts @error (from the library, its message says what is wrong and what
 * to do) as a RESOURCE element error with the code that fits it. Takes
 * @debug. */
static void
gst_dma_heap_upload_post_heap_error (GstDmaHeapUpload * self,
    const GError * error, gchar * debug)
{
  GstResourceError code = GST_RESOURCE_ERROR_FAILED;

  if (error->domain == GST_DMA_HEAP_ERROR) {
    switch (error->code) {
      case GST_DMA_HEAP_ERROR_INVALID_NAME:
      case GST_DMA_HEAP_ERROR_AMBIGUOUS:
        code = GST_RESOURCE_ERROR_SETTINGS;
        break;
      case GST_DMA_HEAP_ERROR_NOT_FOUND:
        code = GST_RESOURCE_ERROR_NOT_FOUND;
        break;
      case GST_DMA_HEAP_ERROR_PERMISSION:
        code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
        break;
      case GST_DMA_HEAP_ERROR_NO_MEMORY:
        code = GST_RESOURCE_ERROR_NO_SPACE_LEFT;
        break;
      default:
        break;
    }
  }

  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR, code, g_strdup (error->message), debug,
      __FILE__, GST_FUNCTION, __LINE__);
}

/* The allocator of the last run when something still holds it and @spec
 * resolves now to the heaps it has open, else NULL. Resolving lists
 * /dev/dma_heap and opens nothing. */
static GstAllocator *
gst_dma_heap_upload_find_last_allocator (GstDmaHeapUpload * self,
    const gchar * spec)
{
  GstAllocator *allocator;
  gchar **now, **open;
  gboolean same;

  allocator = g_weak_ref_get (&self->last_allocator);
  if (!allocator)
    return NULL;

  now = gst_dma_heap_resolve (spec, NULL);
  open = gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
      (allocator));
  same = now && g_strcmp0 (spec, gst_dma_heap_allocator_get_heap_spec
      (GST_DMA_HEAP_ALLOCATOR (allocator))) == 0 &&
      g_strv_equal ((const gchar * const *) now,
      (const gchar * const *) open);
  g_strfreev (now);
  g_strfreev (open);

  if (!same)
    gst_clear_object (&allocator);

  return allocator;
}

static gboolean
gst_dma_heap_upload_start (GstBaseTransform * trans)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (trans);
  GError *error = NULL;
  gchar *spec;
  gchar *heaps;

  GST_OBJECT_LOCK (self);
  spec = g_strdup (self->heap_spec);
  self->passed_through = 0;
  self->copied = 0;
  self->bytes_copied = 0;
  self->fallback_buffers = 0;
  self->last_heap = g_intern_static_string ("");
  self->downstream_min = 0;
  self->downstream_size = 0;
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);
  self->fallback_warned = FALSE;

  self->allocator = gst_dma_heap_upload_find_last_allocator (self, spec);
  if (self->allocator) {
    GST_DEBUG_OBJECT (self, "the allocator of the last run, still alive "
        "upstream, serves again");
  } else {
    self->allocator = gst_dma_heap_allocator_new (spec, &error);
    if (!self->allocator)
      goto no_allocator;
    gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR
        (self->allocator), GST_OBJECT_NAME (self));
    g_weak_ref_set (&self->last_allocator, self->allocator);
  }
  self->heaps =
      gst_dma_heap_allocator_get_heaps (GST_DMA_HEAP_ALLOCATOR
      (self->allocator));
  gst_allocation_params_init (&self->params);

  heaps = g_strjoinv (", ", self->heaps);
  GST_INFO_OBJECT (self, "heap \"%s\" resolved to: %s", spec, heaps);
  g_free (heaps);
  g_free (spec);

  return TRUE;

  /* ERRORS */
no_allocator:
  {
    gst_dma_heap_upload_post_heap_error (self, error,
        g_strdup_printf ("heap=\"%s\", heaps are looked up in "
            GST_DMA_HEAP_DIR, spec));
    g_error_free (error);
    g_free (spec);
    GST_OBJECT_LOCK (self);
    self->started = FALSE;
    GST_OBJECT_UNLOCK (self);
    return FALSE;
  }
}

static void gst_dma_heap_upload_proposed_failed (GstBufferPool * pool,
    GParamSpec * pspec, GstDmaHeapUpload * self);

static gboolean
gst_dma_heap_upload_stop (GstBaseTransform * trans)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (trans);
  GstBufferPool *proposed;
  GstCaps *proposed_caps;

  gst_dma_heap_upload_replace_pool (self, NULL);
  gst_clear_caps (&self->caps);
  /* upstream deactivates the pool it took, when it is done with it */
  GST_OBJECT_LOCK (self);
  proposed = g_steal_pointer (&self->proposed);
  proposed_caps = g_steal_pointer (&self->proposed_caps);
  GST_OBJECT_UNLOCK (self);
  if (proposed)
    g_signal_handlers_disconnect_by_func (proposed,
        gst_dma_heap_upload_proposed_failed, self);
  gst_clear_object (&proposed);
  gst_clear_caps (&proposed_caps);
  gst_clear_object (&self->allocator);
  g_clear_pointer (&self->heaps, g_strfreev);
  self->is_video = FALSE;
  self->downstream_video_meta = FALSE;

  GST_OBJECT_LOCK (self);
  self->downstream_min = 0;
  self->downstream_size = 0;
  self->started = FALSE;
  GST_OBJECT_UNLOCK (self);

  return TRUE;
}

/* Configures @pool (a new one when NULL) of ours for @caps. Returns the
 * configured pool, or NULL when the pool refuses the configuration; takes
 * @pool either way. */
static GstBufferPool *
gst_dma_heap_upload_configure_pool (GstDmaHeapUpload * self,
    GstBufferPool * pool, GstCaps * caps, guint size, guint min,
    gboolean video_meta)
{
  GstStructure *config;
  guint64 max_bytes;

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_bytes;
  GST_OBJECT_UNLOCK (self);

  if (!pool)
    pool = gst_dma_heap_buffer_pool_new (self->allocator);

  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, caps, size, min, 0);
  gst_buffer_pool_config_set_allocator (config, self->allocator, &self->params);
  if (video_meta)
    gst_buffer_pool_config_add_option (config,
        GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (max_bytes > 0)
    gst_dma_heap_buffer_pool_config_set_max_bytes (config, max_bytes);

  if (!gst_buffer_pool_set_config (pool, config)) {
    /* The pool corrected the configuration; take it if it still serves. */
    config = gst_buffer_pool_get_config (pool);
    if (!gst_buffer_pool_config_validate_params (config, caps, size, min, 0)) {
      gst_structure_free (config);
      goto config_failed;
    }
    if (!gst_buffer_pool_set_config (pool, config))
      goto config_failed;
  }

  GST_DEBUG_OBJECT (self, "pool %" GST_PTR_FORMAT ": size %u, min %u, "
      "max-bytes %" G_GUINT64_FORMAT, pool, size, min, max_bytes);

  return pool;

  /* ERRORS */
config_failed:
  {
    GST_WARNING_OBJECT (self, "pool %" GST_PTR_FORMAT " refused size %u, "
        "min %u for %" GST_PTR_FORMAT, pool, size, min, caps);
    gst_object_unref (pool);
    return NULL;
  }
}

/* TRUE when @caps are raw video frames with a layout: video/x-raw with a
 * real format and a non-zero size, @info then filled. Everything else is a
 * bitstream, flat bytes: gst_video_info_from_caps() also accepts encoded
 * video and images (video/x-h264, image/jpeg: format ENCODED, size 0, no
 * planes) and, from 1.24 on, format=DMA_DRM, whose layout is the
 * modifier's, not GstVideoInfo's. */
static gboolean
gst_dma_heap_upload_caps_are_video (const GstCaps * caps, GstVideoInfo * info)
{
  GstVideoFormat format;

  if (gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return FALSE;
  if (!gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "video/x-raw"))
    return FALSE;
  if (!gst_video_info_from_caps (info, caps))
    return FALSE;

  format = GST_VIDEO_INFO_FORMAT (info);
  if (format == GST_VIDEO_FORMAT_ENCODED || format == GST_VIDEO_FORMAT_UNKNOWN)
    return FALSE;
#if GST_CHECK_VERSION(1, 24, 0)
  if (format == GST_VIDEO_FORMAT_DMA_DRM)
    return FALSE;
#endif

  return GST_VIDEO_INFO_SIZE (info) > 0;
}

/* Downstream's ALLOCATION answer. The output pool is always ours, on our
 * heap: downstream's pool (kmssink's dumb buffers, a decoder's buffers) is
 * not in the heap, only its minimum and size are kept. */
static gboolean
gst_dma_heap_upload_decide_allocation (GstBaseTransform * trans,
    GstQuery * query)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (trans);
  GstBufferPool *pool = NULL;
  GstCaps *caps = NULL;
  guint size = 0, min = 0, max = 0;

  gst_query_parse_allocation (query, &caps, NULL);
  if (!caps)
    goto no_caps;

  /* Caps are passed on unchanged, so these are the input caps too. They
   * are read here rather than in set_caps(): without set_caps() the base
   * class also lets through streams that never send caps (filesrc). */
  gst_caps_replace (&self->caps, caps);
  self->is_video = gst_dma_heap_upload_caps_are_video (caps, &self->info);
  GST_DEBUG_OBJECT (self, "%s caps %" GST_PTR_FORMAT,
      self->is_video ? "video" : "bitstream", caps);

  if (gst_query_get_n_allocation_pools (query) > 0) {
    gst_query_parse_nth_allocation_pool (query, 0, &pool, &size, &min, &max);
    GST_DEBUG_OBJECT (self, "downstream pool %" GST_PTR_FORMAT ": size %u, "
        "min %u, max %u", pool, size, min, max);
    gst_clear_object (&pool);
  }

  /* Downstream's alignment holds for our pools too, the one proposed
   * upstream included: its buffers go downstream untouched. */
  gst_allocation_params_init (&self->params);
  if (gst_query_get_n_allocation_params (query) > 0) {
    GstAllocationParams params;

    gst_query_parse_nth_allocation_param (query, 0, NULL, &params);
    self->params.align = params.align;
  }

  self->downstream_video_meta =
      gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  GST_OBJECT_LOCK (self);
  self->downstream_min = min;
  self->downstream_size = size;
  GST_OBJECT_UNLOCK (self);

  if (self->is_video) {
    /* A V4L2 output device may want more than the frame (sizeimage). Only
     * set VIDEO_META when downstream reads it; no alignment is asked for,
     * so without it the layout is GstVideoInfo's default. */
    size = MAX (size, GST_VIDEO_INFO_SIZE (&self->info));
    pool = gst_dma_heap_upload_configure_pool (self, NULL, caps, size, min,
        self->downstream_video_meta);
    if (!pool)
      goto pool_failed;
  } else if (size > 0) {
    pool = gst_dma_heap_upload_configure_pool (self, NULL, caps, size, min,
        FALSE);
    if (!pool)
      goto pool_failed;
  }
  /* else: non-video caps with no size from downstream; the pool is made
   * at the first copy, sized after that buffer. */

  gst_dma_heap_upload_replace_pool (self, pool);

  if (self->pool) {
    if (gst_query_get_n_allocation_pools (query) > 0)
      gst_query_set_nth_allocation_pool (query, 0, self->pool, size, min, 0);
    else
      gst_query_add_allocation_pool (query, self->pool, size, min, 0);
  } else {
    while (gst_query_get_n_allocation_pools (query) > 0)
      gst_query_remove_nth_allocation_pool (query, 0);
  }

  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_set_nth_allocation_param (query, 0, self->allocator,
        &self->params);
  else
    gst_query_add_allocation_param (query, self->allocator, &self->params);

  return TRUE;

  /* ERRORS */
no_caps:
  {
    GST_WARNING_OBJECT (self, "allocation query without caps");
    return FALSE;
  }
pool_failed:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Cannot set up a pool of %u buffers of %u bytes on the heap "
            "(is max-bytes too small?).", min, size),
        ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
}

/* The pool proposed at the last query, when it was made for the same
 * caps, @size, @min and @max_bytes, and our current alignment; else NULL. */
static GstBufferPool *
gst_dma_heap_upload_get_proposed (GstDmaHeapUpload * self, GstCaps * caps,
    guint size, guint min, guint64 max_bytes)
{
  GstBufferPool *pool = NULL;

  GST_OBJECT_LOCK (self);
  if (self->proposed && size == self->proposed_size &&
      min == self->proposed_min && max_bytes == self->proposed_max_bytes &&
      self->params.align == self->proposed_align &&
      gst_caps_is_equal (caps, self->proposed_caps))
    pool = gst_object_ref (self->proposed);
  GST_OBJECT_UNLOCK (self);

  return pool;
}

/* The pool offered upstream failed to activate (preallocation) or to grow,
 * in upstream's thread: upstream only says that it did, so the reason,
 * with the numbers, is posted here first. */
static void
gst_dma_heap_upload_proposed_failed (GstBufferPool * pool, GParamSpec * pspec,
    GstDmaHeapUpload * self)
{
  GError *error;
  gboolean current;

  GST_OBJECT_LOCK (self);
  current = self->proposed == pool;
  GST_OBJECT_UNLOCK (self);
  if (!current)
    return;

  error = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  if (!error)
    return;
  gst_dma_heap_upload_post_heap_error (self, error,
      g_strdup_printf ("the pool %s this element offered upstream failed",
          GST_OBJECT_NAME (pool)));
  g_error_free (error);
}

static void
gst_dma_heap_upload_set_proposed (GstDmaHeapUpload * self,
    GstBufferPool * pool, GstCaps * caps, guint size, guint min,
    guint64 max_bytes)
{
  GstBufferPool *old = NULL;
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = self->proposed != pool;
  if (changed) {
    old = self->proposed;
    self->proposed = gst_object_ref (pool);
  }
  gst_caps_replace (&self->proposed_caps, caps);
  self->proposed_size = size;
  self->proposed_min = min;
  self->proposed_max_bytes = max_bytes;
  self->proposed_align = self->params.align;
  GST_OBJECT_UNLOCK (self);

  if (!changed)
    return;
  if (old) {
    g_signal_handlers_disconnect_by_func (old,
        gst_dma_heap_upload_proposed_failed, self);
    gst_object_unref (old);
  }
  if (GST_IS_DMA_HEAP_BUFFER_POOL (pool))
    g_signal_connect_object (pool, "notify::last-error",
        G_CALLBACK (gst_dma_heap_upload_proposed_failed), self, 0);
}

/* Upstream's ALLOCATION query: offer our heap. */
static gboolean
gst_dma_heap_upload_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (trans);
  GQuark memory_tag = g_quark_from_static_string (GST_META_TAG_MEMORY_STR);
  GstBufferPool *pool = NULL;
  GstCaps *caps = NULL;
  GstVideoInfo info;
  gboolean need_pool = FALSE;
  gboolean is_video, bitstream_pool;
  guint min, size, downstream_size, i, n;
  guint64 max_bytes;

  gst_query_parse_allocation (query, &caps, &need_pool);
  if (!caps)
    goto no_caps;
  if (!self->allocator)
    goto not_started;

  GST_OBJECT_LOCK (self);
  min = self->downstream_min + self->min_buffers;
  downstream_size = self->downstream_size;
  max_bytes = self->max_bytes;
  bitstream_pool = self->bitstream_pool;
  GST_OBJECT_UNLOCK (self);

  /* Heap buffers go downstream untouched, and copies keep every meta that
   * does not describe the memory: propose what downstream accepts, except
   * memory metas (GstVideoMeta is ours to handle, added below). */
  if (decide_query) {
    n = gst_query_get_n_allocation_metas (decide_query);
    for (i = 0; i < n; i++) {
      const GstStructure *params;
      GType api;

      api = gst_query_parse_nth_allocation_meta (decide_query, i, &params);
      if (gst_meta_api_type_has_tag (api, memory_tag))
        continue;
      if (gst_query_find_allocation_meta (query, api, NULL))
        continue;
      GST_DEBUG_OBJECT (self, "proposing downstream's %s", g_type_name (api));
      gst_query_add_allocation_meta (query, api, params);
    }
  }

  is_video = gst_dma_heap_upload_caps_are_video (caps, &info);
  if (is_video &&
      !gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL))
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);

  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_set_nth_allocation_param (query, 0, self->allocator,
        &self->params);
  else
    gst_query_add_allocation_param (query, self->allocator, &self->params);

  /* Without a frame size there is nothing to size a pool with: for
   * non-video caps upstream gets the allocator only, which
   * gst_buffer_new_allocate() and GstBaseSrc use directly. A GstBaseSrc
   * given a pool reads its blocksize into the pool's buffers whatever
   * their size, so a bitstream pool is offered only when asked for
   * (bitstream-pool), for an upstream that sizes the pool itself. */
  if (!need_pool || (!is_video && !bitstream_pool))
    return TRUE;

  /* Upstream's buffers go downstream untouched: they must be as large as
   * downstream asked (a V4L2 driver's sizeimage can exceed the frame). */
  if (is_video)
    size = MAX (GST_VIDEO_INFO_SIZE (&info), downstream_size);
  else
    size = MAX (BITSTREAM_POOL_MIN_SIZE, downstream_size);

  /* Nothing is allocated here: a query must be cheap and leave the heap
   * alone (on a CMA region every allocation costs a migration). The pool
   * preallocates its minimum when upstream activates it; a heap too small
   * for it then fails that activation, and the element posts the pool's
   * error with the numbers (gst_dma_heap_upload_proposed_failed()). An
   * active pool is upstream's, in use:
   * it is offered again as it is. */
  pool = gst_dma_heap_upload_get_proposed (self, caps, size, min, max_bytes);
  if (pool && !gst_buffer_pool_is_active (pool))
    pool = gst_dma_heap_upload_configure_pool (self, pool, caps, size, min,
        is_video);
  if (!pool) {
    pool = gst_dma_heap_upload_configure_pool (self, NULL, caps, size, min,
        is_video);
    if (!pool) {
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
          ("Cannot offer upstream a pool of %u buffers of %u bytes (see "
              "max-bytes); offering the allocator only.", min, size),
          ("caps %" GST_PTR_FORMAT, caps));
      return TRUE;
    }
    gst_dma_heap_upload_set_proposed (self, pool, caps, size, min,
        max_bytes);
  }

  if (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_set_nth_allocation_pool (query, 0, pool, size, min, 0);
  else
    gst_query_add_allocation_pool (query, pool, size, min, 0);
  GST_DEBUG_OBJECT (self, "proposed %" GST_PTR_FORMAT " with %u buffers of "
      "%u bytes", pool, min, size);
  gst_object_unref (pool);

  return TRUE;

  /* ERRORS */
no_caps:
  {
    GST_DEBUG_OBJECT (self, "allocation query without caps");
    return FALSE;
  }
not_started:
  {
    GST_DEBUG_OBJECT (self, "no heap open yet");
    return FALSE;
  }
}

/* TRUE when every memory of @buf comes from one of the heaps we resolved. */
static gboolean
gst_dma_heap_upload_in_our_heaps (GstDmaHeapUpload * self, GstBuffer * buf)
{
  guint i, n;

  n = gst_buffer_n_memory (buf);
  if (n == 0)
    return FALSE;

  for (i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (buf, i);
    const gchar *heap;

    if (!gst_is_dma_heap_memory (mem))
      return FALSE;
    heap = gst_dma_heap_memory_get_heap (mem);
    if (!heap || !g_strv_contains ((const gchar * const *) self->heaps, heap))
      return FALSE;
  }

  return TRUE;
}

/* Downstream without GstVideoMeta support reads frames in the default
 * layout: a heap buffer with other strides or offsets must be copied. */
static gboolean
gst_dma_heap_upload_layout_readable (GstDmaHeapUpload * self, GstBuffer * buf)
{
  GstVideoMeta *meta;
  guint i;

  if (!self->is_video || self->downstream_video_meta)
    return TRUE;

  meta = gst_buffer_get_video_meta (buf);
  if (!meta)
    return TRUE;

  if (meta->n_planes != GST_VIDEO_INFO_N_PLANES (&self->info))
    return FALSE;
  for (i = 0; i < meta->n_planes; i++) {
    if (meta->offset[i] != GST_VIDEO_INFO_PLANE_OFFSET (&self->info, i) ||
        meta->stride[i] != GST_VIDEO_INFO_PLANE_STRIDE (&self->info, i))
      return FALSE;
  }

  return TRUE;
}

/* Non-video copies: grow the flat pool when @size does not fit. */
static gboolean
gst_dma_heap_upload_ensure_flat_pool (GstDmaHeapUpload * self, gsize size)
{
  GstBufferPool *pool;
  guint cur_size = 0, min;
  guint64 new_size;

  if (self->pool) {
    GstStructure *config = gst_buffer_pool_get_config (self->pool);

    gst_buffer_pool_config_get_params (config, NULL, &cur_size, NULL, NULL);
    gst_structure_free (config);
    if (cur_size >= size)
      return TRUE;
  }

  new_size = MAX ((guint64) size, (guint64) cur_size + cur_size / 2);
  new_size = GST_ROUND_UP_N (new_size, (guint64) FLAT_SIZE_ALIGN);
  if (new_size > G_MAXUINT)
    goto too_large;

  GST_OBJECT_LOCK (self);
  min = self->downstream_min;
  GST_OBJECT_UNLOCK (self);

  /* a stream without caps still needs some for the pool */
  if (!self->caps)
    self->caps = gst_caps_new_empty_simple ("application/octet-stream");

  GST_DEBUG_OBJECT (self, "flat pool: %u -> %" G_GUINT64_FORMAT " bytes",
      cur_size, new_size);
  pool = gst_dma_heap_upload_configure_pool (self, NULL, self->caps,
      (guint) new_size, min, FALSE);
  if (!pool)
    return FALSE;

  gst_dma_heap_upload_replace_pool (self, pool);

  return TRUE;

  /* ERRORS */
too_large:
  {
    GST_WARNING_OBJECT (self, "buffer of %" G_GSIZE_FORMAT " bytes is too "
        "large for a pool", size);
    return FALSE;
  }
}

/* Reports why our pool gave no buffer, in the pool's own words. */
static void
gst_dma_heap_upload_post_pool_error (GstDmaHeapUpload * self,
    const gchar * what)
{
  GError *error = NULL;

  if (GST_IS_DMA_HEAP_BUFFER_POOL (self->pool))
    error =
        gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
        (self->pool));

  if (error) {
    gst_dma_heap_upload_post_heap_error (self, error,
        g_strdup_printf ("%s (pool %s)", what, GST_OBJECT_NAME (self->pool)));
    g_error_free (error);
  } else {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not get a buffer from the dma-heap pool."), ("%s", what));
  }
}

static GstFlowReturn
gst_dma_heap_upload_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer ** outbuf)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (trans);
  GstFlowReturn ret;
  gboolean allow_copy;

  /* Already in the heap, or nothing to copy (gap): zero-copy. */
  if (gst_buffer_n_memory (inbuf) == 0 ||
      (gst_dma_heap_upload_in_our_heaps (self, inbuf) &&
          gst_dma_heap_upload_layout_readable (self, inbuf))) {
    *outbuf = inbuf;
    return GST_FLOW_OK;
  }

  GST_OBJECT_LOCK (self);
  allow_copy = self->allow_copy;
  GST_OBJECT_UNLOCK (self);
  if (!allow_copy)
    goto copy_refused;

  if (!self->is_video &&
      !gst_dma_heap_upload_ensure_flat_pool (self, gst_buffer_get_size (inbuf)))
    goto no_pool;
  if (!self->pool)
    goto no_pool;

  /* Activated at the first copy only: when upstream fills our proposed
   * pool, this one would hold heap memory for nothing. */
  if (!gst_buffer_pool_is_active (self->pool) &&
      !gst_buffer_pool_set_active (self->pool, TRUE))
    goto activate_failed;

  ret = gst_buffer_pool_acquire_buffer (self->pool, outbuf, NULL);
  if (ret != GST_FLOW_OK)
    goto acquire_failed;

  return GST_FLOW_OK;

  /* ERRORS */
copy_refused:
  {
    gchar *heaps = g_strjoinv (", ", self->heaps);

    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("A buffer is not in the dma-heap (%s) and allow-copy is disabled: "
            "upstream did not use the proposed pool.", heaps),
        ("buffer %" GST_PTR_FORMAT ", first memory %" GST_PTR_FORMAT, inbuf,
            gst_buffer_peek_memory (inbuf, 0)));
    g_free (heaps);
    return GST_FLOW_ERROR;
  }
no_pool:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No dma-heap buffer pool for %" G_GSIZE_FORMAT "-byte buffers.",
            gst_buffer_get_size (inbuf)), ("caps %" GST_PTR_FORMAT,
            self->caps));
    return GST_FLOW_NOT_NEGOTIATED;
  }
activate_failed:
  {
    gst_dma_heap_upload_post_pool_error (self, "activating the pool failed");
    return GST_FLOW_ERROR;
  }
acquire_failed:
  {
    if (ret == GST_FLOW_FLUSHING || ret == GST_FLOW_EOS) {
      GST_DEBUG_OBJECT (self, "pool is %s", gst_flow_get_name (ret));
      return ret;
    }
    gst_dma_heap_upload_post_pool_error (self, "acquiring a buffer failed");
    return ret;
  }
}

/* Bytes from the start of @buf that hold its frame: the end of the plane
 * that ends last, with the offsets and strides of its GstVideoMeta (or of
 * @info without one). Fills @offsets and @strides. 0 for tiled formats,
 * whose planes are not rows of bytes. */
static gsize
gst_dma_heap_upload_frame_extent (const GstVideoInfo * info, GstBuffer * buf,
    gsize offsets[GST_VIDEO_MAX_PLANES], gint strides[GST_VIDEO_MAX_PLANES])
{
  GstVideoMeta *meta = gst_buffer_get_video_meta (buf);
  const GstVideoFormatInfo *finfo = info->finfo;
  gsize extent = 0;
  guint p;

  if (GST_VIDEO_FORMAT_INFO_IS_TILED (finfo) ||
      GST_VIDEO_FORMAT_INFO_HAS_PALETTE (finfo))
    return 0;
  if (meta && (meta->n_planes != GST_VIDEO_INFO_N_PLANES (info) ||
          (gint) meta->width != GST_VIDEO_INFO_WIDTH (info) ||
          (gint) meta->height != GST_VIDEO_INFO_HEIGHT (info)))
    return 0;

  for (p = 0; p < GST_VIDEO_INFO_N_PLANES (info); p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    guint rows;
    gsize end;

    gst_video_format_info_component (finfo, p, comp);
    rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (finfo, comp[0],
        GST_VIDEO_INFO_FIELD_HEIGHT (info));
    offsets[p] = meta ? meta->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET (info, p);
    strides[p] = meta ? meta->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE (info, p);
    if (strides[p] <= 0 || rows == 0)
      return 0;
    end = offsets[p] + (gsize) strides[p] * rows;
    extent = MAX (extent, end);
  }

  return extent;
}

/* Maps both buffers once and copies their first @size bytes. */
static gboolean
gst_dma_heap_upload_copy_bytes (GstBuffer * inbuf, GstBuffer * outbuf,
    gsize size)
{
  GstMapInfo in_map, out_map;

  if (!gst_buffer_map (inbuf, &in_map, GST_MAP_READ))
    return FALSE;
  if (!gst_buffer_map (outbuf, &out_map, GST_MAP_WRITE)) {
    gst_buffer_unmap (inbuf, &in_map);
    return FALSE;
  }

  memcpy (out_map.data, in_map.data, size);

  gst_buffer_unmap (outbuf, &out_map);
  gst_buffer_unmap (inbuf, &in_map);

  return TRUE;
}

/* The frame extent when both buffers lay the frame out alike (same plane
 * offsets and strides, the common case of a producer with default
 * strides), else 0. Such a frame is one block of bytes: one map of each
 * buffer and one memcpy, instead of a map per plane and a copy per row. */
static gsize
gst_dma_heap_upload_shared_extent (GstDmaHeapUpload * self,
    GstBuffer * inbuf, GstBuffer * outbuf)
{
  gsize in_off[GST_VIDEO_MAX_PLANES], out_off[GST_VIDEO_MAX_PLANES];
  gint in_stride[GST_VIDEO_MAX_PLANES], out_stride[GST_VIDEO_MAX_PLANES];
  gsize extent, n_planes = GST_VIDEO_INFO_N_PLANES (&self->info);

  extent = gst_dma_heap_upload_frame_extent (&self->info, inbuf, in_off,
      in_stride);
  if (extent == 0 || extent != gst_dma_heap_upload_frame_extent (&self->info,
          outbuf, out_off, out_stride))
    return 0;
  if (memcmp (in_off, out_off, n_planes * sizeof (in_off[0])) != 0 ||
      memcmp (in_stride, out_stride, n_planes * sizeof (in_stride[0])) != 0)
    return 0;
  if (gst_buffer_get_size (inbuf) < extent ||
      gst_buffer_get_size (outbuf) < extent)
    return 0;

  return extent;
}

static gboolean
gst_dma_heap_upload_copy_video (GstDmaHeapUpload * self, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  GstVideoFrame in_frame, out_frame;
  gsize extent;
  gboolean ret;

  extent = gst_dma_heap_upload_shared_extent (self, inbuf, outbuf);
  if (extent > 0)
    return gst_dma_heap_upload_copy_bytes (inbuf, outbuf, extent);

  /* Both maps follow the buffers' GstVideoMeta, so any strides work. */
  if (!gst_video_frame_map (&in_frame, &self->info, inbuf, GST_MAP_READ))
    return FALSE;
  if (!gst_video_frame_map (&out_frame, &self->info, outbuf, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&in_frame);
    return FALSE;
  }

  ret = gst_video_frame_copy (&out_frame, &in_frame);

  gst_video_frame_unmap (&out_frame);
  gst_video_frame_unmap (&in_frame);

  return ret;
}

static gboolean
gst_dma_heap_upload_copy_flat (GstDmaHeapUpload * self, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  gsize size = gst_buffer_get_size (inbuf);

  if (gst_buffer_get_size (outbuf) < size)
    return FALSE;
  gst_buffer_set_size (outbuf, size);

  return gst_dma_heap_upload_copy_bytes (inbuf, outbuf, size);
}

static const gchar *
gst_dma_heap_upload_heap_of (GstBuffer * buf)
{
  GstMemory *mem;

  if (gst_buffer_n_memory (buf) == 0)
    return NULL;

  mem = gst_buffer_peek_memory (buf, 0);
  if (!gst_is_dma_heap_memory (mem))
    return NULL;

  return gst_dma_heap_memory_get_heap (mem);
}

/* Counts the output buffers that the first heap of the list could not
 * hold (the allocator went on to the next one), and says so on the bus
 * once per run: the pipeline goes on, but not in the memory asked for. */
static void
gst_dma_heap_upload_note_heap (GstDmaHeapUpload * self, const gchar * heap,
    GstBuffer * outbuf)
{
  const gchar *first = (self->heaps && self->heaps[0]) ? self->heaps[0] : NULL;

  if (!heap || !first || strcmp (heap, first) == 0)
    return;
  /* memory of another element's allocator was not our choice */
  if (gst_buffer_peek_memory (outbuf, 0)->allocator != self->allocator)
    return;

  GST_OBJECT_LOCK (self);
  self->fallback_buffers++;
  GST_OBJECT_UNLOCK (self);

  if (self->fallback_warned)
    return;
  self->fallback_warned = TRUE;

  GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
      ("Heap %s could not hold another buffer of %" G_GSIZE_FORMAT " bytes; "
          "buffers now also come from heap %s, the next one of the list. "
          "Give the region more memory, or use fewer or smaller buffers "
          "(min-buffers, max-bytes) so that all of them fit.", first,
          gst_buffer_get_size (outbuf), heap),
      ("buffer %" GST_PTR_FORMAT, outbuf));
}

/* Announces the final counts at end of stream, so that
 * `gst-launch-1.0 -v` prints them (deep-notify) without a notification
 * per buffer. */
static gboolean
gst_dma_heap_upload_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    g_object_notify_by_pspec (G_OBJECT (trans), g_props[PROP_STATS]);

  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstFlowReturn
gst_dma_heap_upload_transform (GstBaseTransform * trans, GstBuffer * inbuf,
    GstBuffer * outbuf)
{
  GstDmaHeapUpload *self = GST_DMA_HEAP_UPLOAD (trans);
  const gchar *heap;
  gsize size;
  gboolean copied;

  heap = gst_dma_heap_upload_heap_of (outbuf);

  gst_dma_heap_upload_note_heap (self, heap, outbuf);

  if (inbuf == outbuf) {
    if (heap) {
      GST_OBJECT_LOCK (self);
      self->passed_through++;
      self->last_heap = g_intern_string (heap);
      GST_OBJECT_UNLOCK (self);
    }
    GST_LOG_OBJECT (self, "passing %" GST_PTR_FORMAT " through", inbuf);
    return GST_FLOW_OK;
  }

  size = gst_buffer_get_size (inbuf);
  if (self->is_video)
    copied = gst_dma_heap_upload_copy_video (self, inbuf, outbuf);
  else
    copied = gst_dma_heap_upload_copy_flat (self, inbuf, outbuf);
  if (!copied)
    goto copy_failed;

  /* Flags, timestamps and the metas that do not describe the memory
   * (GstVideoMeta is the pool's). */
  if (!gst_buffer_copy_into (outbuf, inbuf, GST_BUFFER_COPY_METADATA, 0, -1))
    GST_WARNING_OBJECT (self, "could not copy all metadata");

  GST_OBJECT_LOCK (self);
  self->copied++;
  self->bytes_copied += size;
  if (heap)
    self->last_heap = g_intern_string (heap);
  GST_OBJECT_UNLOCK (self);

  GST_LOG_OBJECT (self, "copied %" G_GSIZE_FORMAT " bytes into %"
      GST_PTR_FORMAT, size, outbuf);

  return GST_FLOW_OK;

  /* ERRORS */
copy_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not copy a buffer into the dma-heap."),
        ("input %" GST_PTR_FORMAT " does not match caps %" GST_PTR_FORMAT
            " or could not be mapped", inbuf, self->caps));
    return GST_FLOW_ERROR;
  }
}

static void
gst_dma_heap_upload_class_init (GstDmaHeapUploadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  gchar *available, *heap_blurb;

  gobject_class->set_property = gst_dma_heap_upload_set_property;
  gobject_class->get_property = gst_dma_heap_upload_get_property;
  gobject_class->finalize = gst_dma_heap_upload_finalize;

  available = gst_dma_heap_describe_available ();
  heap_blurb = g_strdup_printf ("The dma-buf heap to put buffers in: "
      "a heap name as listed in " GST_DMA_HEAP_DIR " (\"ecc-off@78000000\"), "
      "a name without its unit address when only one heap matches "
      "(\"ecc-off\"), an absolute path inside " GST_DMA_HEAP_DIR ", "
      "\"" GST_DMA_HEAP_DEFAULT_ALIAS "\" for the default CMA heap whatever "
      "the kernel calls it (default_cma_region, linux,cma, reserved, "
      "default-pool), or a comma-separated list tried in order when a heap "
      "is missing or full (\"vpu,default\"). Heaps present: %s", available);

  /**
   * GstDmaHeapUpload:heap:
   *
   * The heap spec: a name, a name without unit address, a path inside
   * /dev/dma_heap, `default`, or a comma-separated fallback list (%NULL
   * restores `default`). Read when the element starts; refused (with a
   * warning message, the value kept) while running.
   */
  g_props[PROP_HEAP] = g_param_spec_string ("heap", "Heap", heap_blurb,
      DEFAULT_HEAP, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
      G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK);

  /**
   * GstDmaHeapUpload:stats:
   *
   * A "dmaheapupload-stats" structure: `passed-through` (guint64, buffers
   * already in the heap pushed on without copy), `copied` (guint64,
   * buffers copied into the heap), `bytes-copied` (guint64, input bytes of
   * those), `fallback-buffers` (guint64, output buffers that are not in
   * the first heap of the list because it was full; the first one is
   * also announced by a warning message) and `heap` (string, heap of the
   * last output buffer, empty before the first). Reset when the element
   * starts.
   */
  g_props[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Buffers passed through (already in the heap), buffers copied, bytes "
      "copied, buffers on a fallback heap, and the heap of the last output "
      "buffer, as a "
      "\"" STATS_NAME "\" structure; reset at start", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * GstDmaHeapUpload:allow-copy:
   *
   * Whether buffers that are not in the heap are copied into it. When
   * %FALSE such a buffer is an error: use it to make sure upstream fills
   * the proposed pool.
   */
  g_props[PROP_ALLOW_COPY] = g_param_spec_boolean ("allow-copy",
      "Allow copy", "Copy buffers that are not in the heap into it; when "
      "false such a buffer (upstream did not use the proposed pool) is an "
      "error", DEFAULT_ALLOW_COPY, G_PARAM_READWRITE |
      GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS);

  /**
   * GstDmaHeapUpload:min-buffers:
   *
   * Buffers the pool proposed upstream holds at least, on top of
   * downstream's minimum; they are allocated when upstream activates the
   * pool, so a heap too small fails at start. Used at the next allocation
   * query.
   */
  g_props[PROP_MIN_BUFFERS] = g_param_spec_uint ("min-buffers",
      "Minimum buffers", "Buffers preallocated in the pool proposed "
      "upstream, on top of downstream's minimum (used at the next "
      "allocation query)", 0, MAX_MIN_BUFFERS, DEFAULT_MIN_BUFFERS,
      G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS);

  /**
   * GstDmaHeapUpload:max-bytes:
   *
   * Upper bound of the heap memory each of the element's pools (the one
   * proposed upstream and the one copies go to) may hold, 0 for no bound.
   * Used at the next allocation query.
   */
  g_props[PROP_MAX_BYTES] = g_param_spec_uint64 ("max-bytes",
      "Maximum bytes", "Most heap memory each pool may hold, in bytes "
      "(0 = unlimited; used at the next allocation query)", 0, G_MAXUINT64,
      DEFAULT_MAX_BYTES, G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
      G_PARAM_STATIC_STRINGS);

  /**
   * GstDmaHeapUpload:bitstream-pool:
   *
   * Whether a pool of heap buffers is offered upstream for bitstream caps
   * (anything but raw video frames) too, sized to what downstream asked
   * (at least a page); upstream may configure it with its own size. Only
   * for an upstream that writes no more than the size it configured, such
   * as a V4L2 encoder with `capture-io-mode=dmabuf-import`, which then
   * writes its bitstream straight into the heap. Off by default: a
   * GstBaseSrc source (filesrc) reads its blocksize into a pool's buffers
   * whatever their size. Used at the next allocation query.
   *
   * Since: 0.2
   */
  g_props[PROP_BITSTREAM_POOL] = g_param_spec_boolean ("bitstream-pool",
      "Bitstream pool", "Offer upstream a pool of heap buffers for "
      "bitstream caps too, for an upstream that sizes it itself (a V4L2 "
      "encoder with capture-io-mode=dmabuf-import); not for GstBaseSrc "
      "sources such as filesrc (used at the next allocation query)",
      DEFAULT_BITSTREAM_POOL, G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
      G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (gobject_class, N_PROPS, g_props);
  g_free (heap_blurb);
  g_free (available);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "dma-buf heap upload", "Filter/Converter/Memory",
      "Puts buffers in a Linux dma-buf heap: offers upstream a pool on the "
      "heap, passes heap buffers on untouched, copies the others (memory "
      "from GstDmaHeapAllocator)",
      "gst-dmaheap project");
  /* gst-inspect-1.0 prints every metadata key: the example shows there. */
  gst_element_class_add_static_metadata (element_class,
      "example-launch-line",
      "gst-launch-1.0 v4l2src io-mode=dmabuf-import ! "
      "dmaheapupload heap=ecc-off ! kmssink");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_dma_heap_upload_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_dma_heap_upload_stop);
  trans_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_dma_heap_upload_decide_allocation);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_dma_heap_upload_propose_allocation);
  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_dma_heap_upload_prepare_output_buffer);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_dma_heap_upload_transform);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_dma_heap_upload_sink_event);
  trans_class->passthrough_on_same_caps = FALSE;
}
