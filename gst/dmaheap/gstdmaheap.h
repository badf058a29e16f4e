/* gst-dmaheap: heap names, listing and opening
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/dmaheap/dmaheap-prelude.h>

G_BEGIN_DECLS

/**
 * GST_DMA_HEAP_DIR:
 *
 * The only directory heaps are ever opened from.
 *
 * Since: 0.1
 */
#define GST_DMA_HEAP_DIR "/dev/dma_heap"

/**
 * GST_DMA_HEAP_DEFAULT_ALIAS:
 *
 * The heap spec that means "the default CMA heap", whatever the running
 * kernel calls it (see gst_dma_heap_default_names()).
 *
 * Since: 0.1
 */
#define GST_DMA_HEAP_DEFAULT_ALIAS "default"

/**
 * GST_DMA_HEAP_ERROR:
 *
 * Error domain of the heap functions, of #GstDmaHeapAllocator and of
 * #GstDmaHeapBufferPool.
 *
 * Since: 0.1
 */
#define GST_DMA_HEAP_ERROR (gst_dma_heap_error_quark ())

/**
 * GstDmaHeapError:
 * @GST_DMA_HEAP_ERROR_INVALID_NAME: the spec or a name in it is malformed,
 *   or designates something outside %GST_DMA_HEAP_DIR
 * @GST_DMA_HEAP_ERROR_NOT_FOUND: no heap of that name exists
 * @GST_DMA_HEAP_ERROR_AMBIGUOUS: a name without unit address matches
 *   several heaps
 * @GST_DMA_HEAP_ERROR_PERMISSION: the device node exists but cannot be
 *   opened by this process
 * @GST_DMA_HEAP_ERROR_NO_MEMORY: the heap could not satisfy an allocation
 * @GST_DMA_HEAP_ERROR_FAILED: any other failure (errno text in the message)
 *
 * Error codes of the %GST_DMA_HEAP_ERROR domain. Messages are meant for a
 * person: they name the heap or device node and give the errno text.
 *
 * Since: 0.1
 */
typedef enum
{
  GST_DMA_HEAP_ERROR_INVALID_NAME,
  GST_DMA_HEAP_ERROR_NOT_FOUND,
  GST_DMA_HEAP_ERROR_AMBIGUOUS,
  GST_DMA_HEAP_ERROR_PERMISSION,
  GST_DMA_HEAP_ERROR_NO_MEMORY,
  GST_DMA_HEAP_ERROR_FAILED,
} GstDmaHeapError;

GST_DMA_HEAP_API
GQuark    gst_dma_heap_error_quark (void);

/* The names the default CMA heap has had across kernels, in order of
 * preference (NULL terminated). */
GST_DMA_HEAP_API
const gchar * const * gst_dma_heap_default_names (void);

GST_DMA_HEAP_API
gboolean  gst_dma_heap_name_is_valid (const gchar * name, GError ** error);

GST_DMA_HEAP_API
gchar **  gst_dma_heap_list (GError ** error);

GST_DMA_HEAP_API
gchar **  gst_dma_heap_resolve_in (const gchar * spec,
                                   const gchar * const * available,
                                   GError ** error);

GST_DMA_HEAP_API
gchar **  gst_dma_heap_resolve (const gchar * spec, GError ** error);

GST_DMA_HEAP_API
gchar *   gst_dma_heap_get_device_path (const gchar * name);

GST_DMA_HEAP_API
gint      gst_dma_heap_open (const gchar * name, GError ** error);

GST_DMA_HEAP_API
gchar *   gst_dma_heap_describe_available (void);

G_END_DECLS
