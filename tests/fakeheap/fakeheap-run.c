/* gst-dmaheap: runs a program on the fake heaps
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   fakeheap-run PROGRAM [ARG...]
 *
 * Sets up the fake heaps (fakeheap.h) and runs PROGRAM with the ioctl
 * interposer preloaded, for programs that do not link it (the examples).
 * With GST_DMA_HEAP_TEST_REAL=1 it runs PROGRAM as it is, on the heaps of
 * the machine. Exits 77 (skipped) when the fake heaps cannot be set up.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "fakeheap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKIP 77

int
main (int argc, char **argv)
{
  char reason[512] = "";
  const char *old;
  char *preload;

  if (argc < 2) {
    fprintf (stderr, "usage: %s PROGRAM [ARG...]\n", argv[0]);
    return 2;
  }

  switch (fake_heap_setup (NULL, reason, sizeof (reason))) {
    case FAKE_HEAP_REAL:
      break;
    case FAKE_HEAP_ACTIVE:
      old = getenv ("LD_PRELOAD");
      if (old && *old) {
        if (asprintf (&preload, "%s:%s", FAKEHEAP_PRELOAD, old) < 0)
          return 1;
      } else {
        preload = strdup (FAKEHEAP_PRELOAD);
      }
      setenv ("LD_PRELOAD", preload, 1);
      free (preload);
      break;
    default:
      printf ("SKIP: %s\n", reason);
      return SKIP;
  }

  execvp (argv[1], argv + 1);
  fprintf (stderr, "%s: cannot run %s: %s\n", argv[0], argv[1],
      strerror (errno));
  return 127;
}
