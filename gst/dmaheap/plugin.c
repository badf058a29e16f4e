/* gst-dmaheap: the dmaheap plugin
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstdmaheapupload.h"

/* Opens no heap: the plugin is loaded by gst-inspect, the registry scan
 * and every pipeline, most of which never use a heap. Elements open their
 * heaps when they start; an application that wants the "dmaheap"
 * allocator registers it with gst_dma_heap_allocator_init_once(). */
static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (dmaheapupload, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, dmaheap,
    "Buffers in Linux dma-buf heaps (CMA regions, system heap)",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
