/* gst-dmaheap: what the fuzz targets share
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each target is one translation unit that includes this once.
 */

#pragma once

#include <glib.h>

#include <stdio.h>
#include <stdlib.h>

/* An invariant: when broken, say which and why, and abort so that
 * libFuzzer keeps the input. */
#define CHECK(cond, ...) G_STMT_START {                                   \
  if (!(cond)) {                                                          \
    fprintf (stderr, "invariant broken at %s:%d: %s\n", __FILE__,         \
        __LINE__, #cond);                                                 \
    fprintf (stderr, __VA_ARGS__);                                        \
    fprintf (stderr, "\n");                                               \
    abort ();                                                             \
  }                                                                       \
} G_STMT_END

/* A critical or warning logged while the library runs is a bug, of the
 * library or of how it calls GLib and GStreamer: abort, so that libFuzzer
 * keeps the input. Those of the harness's own parsing (in_harness set)
 * are not. Installed with g_log_set_default_handler (log_handler, NULL). */
static gboolean in_harness;

static void
log_handler (const gchar * domain, GLogLevelFlags level, const gchar * message,
    gpointer user_data)
{
  if (!in_harness) {
    fprintf (stderr, "%s-%s: %s\n", domain ? domain : "(no domain)",
        (level & G_LOG_LEVEL_CRITICAL) ? "CRITICAL" : "WARNING", message);
    abort ();
  }
}
