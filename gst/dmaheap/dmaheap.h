/* gst-dmaheap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/dmaheap/dmaheap-prelude.h>
#include <gst/dmaheap/gstdmaheap.h>
#include <gst/dmaheap/gstdmaheapallocator.h>
#include <gst/dmaheap/gstdmaheapbufferpool.h>
