/* gst-dmaheap: dmaheapupload element
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_DMA_HEAP_UPLOAD (gst_dma_heap_upload_get_type ())
G_DECLARE_FINAL_TYPE (GstDmaHeapUpload, gst_dma_heap_upload,
    GST, DMA_HEAP_UPLOAD, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (dmaheapupload);

G_END_DECLS
