/* gst-dmaheap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/gst.h>

#ifndef GST_DMA_HEAP_API
# ifdef BUILDING_GST_DMA_HEAP
#  define GST_DMA_HEAP_API GST_API_EXPORT
# else
#  define GST_DMA_HEAP_API GST_API_IMPORT
# endif
#endif
