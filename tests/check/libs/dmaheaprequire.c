/* gst-dmaheap: dma_heap_test_require() itself, run by require-selftest.sh
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * test_requires needs DMA_HEAP_REQUIRE_OK in the environment. Without it,
 * strict mode must fail that test; otherwise the program must print the
 * reason and exit 77. test_asserts passes either way.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "dmaheaptestutil.h"

static gboolean reached_after_require;

GST_START_TEST (test_asserts)
{
  fail_unless_equals_int (1 + 1, 2);
}

GST_END_TEST;

GST_START_TEST (test_requires)
{
  dma_heap_test_require (g_getenv ("DMA_HEAP_REQUIRE_OK") != NULL,
      "DMA_HEAP_REQUIRE_OK is not set (%d)", 42);
  reached_after_require = TRUE;
  fail_unless (reached_after_require);
}

GST_END_TEST;

static Suite *
dmaheaprequire_suite (void)
{
  Suite *s = suite_create ("dmaheaprequire");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_asserts);
  tcase_add_test (tc, test_requires);

  return s;
}

int
main (int argc, char **argv)
{
  gst_check_init (&argc, &argv);

  return dma_heap_test_run_suite (dmaheaprequire_suite (), "dmaheaprequire",
      __FILE__);
}
