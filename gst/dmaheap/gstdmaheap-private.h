/* gst-dmaheap: helpers shared inside libgstdmaheap, not installed
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/dmaheap/gstdmaheap.h>

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

G_END_DECLS
