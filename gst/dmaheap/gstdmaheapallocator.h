/* gst-dmaheap: GstDmaHeapAllocator
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/allocators/allocators.h>
#include <gst/dmaheap/dmaheap-prelude.h>

G_BEGIN_DECLS

/**
 * GST_ALLOCATOR_DMAHEAP:
 *
 * Name under which an allocator on the default heap is registered
 * (gst_allocator_find()). The memories of a #GstDmaHeapAllocator keep the
 * memory type %GST_ALLOCATOR_DMABUF of their parent class, so that dma-buf
 * importers recognise them; use gst_is_dma_heap_memory() to tell them apart.
 *
 * Since: 0.1
 */
#define GST_ALLOCATOR_DMAHEAP "dmaheap"

/**
 * GST_TYPE_DMA_HEAP_ALLOCATOR:
 *
 * The #GType of #GstDmaHeapAllocator.
 *
 * Since: 0.1
 */
#define GST_TYPE_DMA_HEAP_ALLOCATOR (gst_dma_heap_allocator_get_type ())

/**
 * GstDmaHeapAllocator:
 *
 * An allocator of dma-bufs from one or more dma-buf heaps. Opaque; a final
 * subclass of #GstDmaBufAllocator.
 *
 * Since: 0.1
 */
GST_DMA_HEAP_API
G_DECLARE_FINAL_TYPE (GstDmaHeapAllocator, gst_dma_heap_allocator,
    GST, DMA_HEAP_ALLOCATOR, GstDmaBufAllocator)

GST_DMA_HEAP_API
void            gst_dma_heap_allocator_init_once (void);

GST_DMA_HEAP_API
GstAllocator *  gst_dma_heap_allocator_new (const gchar * heap_spec,
                                            GError ** error);

GST_DMA_HEAP_API
const gchar *   gst_dma_heap_allocator_get_heap_spec (GstDmaHeapAllocator * self);

GST_DMA_HEAP_API
gchar **        gst_dma_heap_allocator_get_heaps (GstDmaHeapAllocator * self);

GST_DMA_HEAP_API
void            gst_dma_heap_allocator_set_label (GstDmaHeapAllocator * self,
                                                  const gchar * label);

GST_DMA_HEAP_API
GstMemory *     gst_dma_heap_allocator_alloc_full (GstDmaHeapAllocator * self,
                                                   gsize size,
                                                   const GstAllocationParams * params,
                                                   GError ** error);

GST_DMA_HEAP_API
GError *        gst_dma_heap_allocator_get_last_error (GstDmaHeapAllocator * self);

GST_DMA_HEAP_API
gboolean        gst_is_dma_heap_memory (GstMemory * mem);

GST_DMA_HEAP_API
const gchar *   gst_dma_heap_memory_get_heap (GstMemory * mem);

GST_DMA_HEAP_API
gboolean        gst_dma_heap_memory_sync (GstMemory * mem, gboolean start,
                                          GstMapFlags flags);

G_END_DECLS
