/* gst-dmaheap: the dmaheap plugin
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/dmaheap/gstdmaheapallocator.h>

#include "gstdmaheapupload.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  /* Makes gst_allocator_find ("dmaheap") work for applications that load
   * the plugin, when a default heap can be opened. */
  gst_dma_heap_allocator_init_once ();

  return GST_ELEMENT_REGISTER (dmaheapupload, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, dmaheap,
    "Buffers in Linux dma-buf heaps (CMA regions, system heap)",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
