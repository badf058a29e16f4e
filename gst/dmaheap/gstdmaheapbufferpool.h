/* gst-dmaheap: GstDmaHeapBufferPool
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap-prelude.h>

G_BEGIN_DECLS

/**
 * GST_TYPE_DMA_HEAP_BUFFER_POOL:
 *
 * The #GType of #GstDmaHeapBufferPool.
 *
 * Since: 0.1
 */
#define GST_TYPE_DMA_HEAP_BUFFER_POOL (gst_dma_heap_buffer_pool_get_type ())

/**
 * GstDmaHeapBufferPool:
 *
 * A buffer pool of dma-heap buffers. Opaque; a final subclass of
 * #GstBufferPool.
 *
 * Since: 0.1
 */
GST_DMA_HEAP_API
G_DECLARE_FINAL_TYPE (GstDmaHeapBufferPool, gst_dma_heap_buffer_pool,
    GST, DMA_HEAP_BUFFER_POOL, GstBufferPool)

GST_DMA_HEAP_API
GstBufferPool * gst_dma_heap_buffer_pool_new (GstAllocator * allocator);

GST_DMA_HEAP_API
GstAllocator *  gst_dma_heap_buffer_pool_get_allocator (GstDmaHeapBufferPool * self);

GST_DMA_HEAP_API
void            gst_dma_heap_buffer_pool_config_set_max_bytes (GstStructure * config,
                                                               guint64 max_bytes);

GST_DMA_HEAP_API
gboolean        gst_dma_heap_buffer_pool_config_get_max_bytes (GstStructure * config,
                                                               guint64 * max_bytes);

GST_DMA_HEAP_API
GError *        gst_dma_heap_buffer_pool_get_last_error (GstDmaHeapBufferPool * self);

G_END_DECLS
