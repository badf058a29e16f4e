/* gst-dmaheap: dmaheapupload tests that need no heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * These pass on a machine without /dev/dma_heap as well as on one with
 * heaps: what they check (properties, error texts, refusing a heap change
 * while running, clean failure) does not depend on a heap being present.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/dmaheap/dmaheap.h>

#include "../libs/dmaheaptestutil.h"

#define MISSING_HEAP "no-such-heap-x"

static GParamSpec *
find_pspec (GstElement * element, const gchar * name)
{
  GParamSpec *pspec;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (element), name);
  fail_unless (pspec != NULL, "no property %s", name);
  fail_unless (g_param_spec_get_blurb (pspec) != NULL &&
      *g_param_spec_get_blurb (pspec) != '\0', "%s is undocumented", name);

  return pspec;
}

/* Sets @spec, expects the start (READY to PAUSED) to fail and returns the
 * error the element posted. */
static GError *
start_expecting_error (const gchar * spec, gchar ** debug)
{
  GstElement *element;
  GstMessage *msg;
  GstBus *bus;
  GError *error = NULL;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  fail_unless (element != NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (element, bus);
  g_object_set (element, "heap", spec, NULL);

  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message for heap=\"%s\"", spec);
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (element));
  gst_message_parse_error (msg, &error, debug);
  gst_message_unref (msg);
  GST_INFO ("heap=\"%s\": %s", spec, error->message);

  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);

  ASSERT_OBJECT_REFCOUNT (element, "dmaheapupload", 1);
  gst_object_unref (element);

  return error;
}

GST_START_TEST (test_metadata)
{
  GstElementFactory *factory;
  const GList *templates;

  factory = gst_element_factory_find ("dmaheapupload");
  fail_unless (factory != NULL);

  fail_unless (g_str_has_prefix (gst_element_factory_get_metadata (factory,
              GST_ELEMENT_METADATA_KLASS), "Filter/"));
  fail_unless_equals_string (gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_AUTHOR), "gst-dmaheap project");
  fail_unless (gst_element_factory_get_metadata (factory,
          GST_ELEMENT_METADATA_DESCRIPTION) != NULL);

  /* any caps, both ways */
  fail_unless_equals_int (gst_element_factory_get_num_pad_templates (factory),
      2);
  for (templates = gst_element_factory_get_static_pad_templates (factory);
      templates; templates = templates->next) {
    GstStaticPadTemplate *tmpl = templates->data;
    GstCaps *caps = gst_static_pad_template_get_caps (tmpl);

    fail_unless (gst_caps_is_any (caps));
    gst_caps_unref (caps);
  }

  gst_object_unref (factory);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *element;
  GParamSpec *pspec;
  gchar *heap = NULL;
  gboolean allow_copy = FALSE;
  guint min_buffers = 0;
  guint64 max_bytes = 1;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  fail_unless (element != NULL);

  pspec = find_pspec (element, "heap");
  fail_unless (G_IS_PARAM_SPEC_STRING (pspec));
  fail_unless_equals_string (G_PARAM_SPEC_STRING (pspec)->default_value,
      "default");
  fail_unless ((pspec->flags & G_PARAM_READWRITE) == G_PARAM_READWRITE);
  fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);

  pspec = find_pspec (element, "stats");
  fail_unless (G_IS_PARAM_SPEC_BOXED (pspec));
  fail_unless (pspec->value_type == GST_TYPE_STRUCTURE);
  fail_unless (pspec->flags & G_PARAM_READABLE);
  fail_if (pspec->flags & G_PARAM_WRITABLE);

  pspec = find_pspec (element, "allow-copy");
  fail_unless (G_IS_PARAM_SPEC_BOOLEAN (pspec));
  fail_unless (G_PARAM_SPEC_BOOLEAN (pspec)->default_value);
  fail_unless ((pspec->flags & G_PARAM_READWRITE) == G_PARAM_READWRITE);

  pspec = find_pspec (element, "min-buffers");
  fail_unless (G_IS_PARAM_SPEC_UINT (pspec));
  fail_unless_equals_int (G_PARAM_SPEC_UINT (pspec)->default_value, 2);
  fail_unless_equals_int (G_PARAM_SPEC_UINT (pspec)->minimum, 0);
  fail_unless (G_PARAM_SPEC_UINT (pspec)->maximum >= 16);
  fail_unless ((pspec->flags & G_PARAM_READWRITE) == G_PARAM_READWRITE);

  pspec = find_pspec (element, "max-bytes");
  fail_unless (G_IS_PARAM_SPEC_UINT64 (pspec));
  fail_unless_equals_uint64 (G_PARAM_SPEC_UINT64 (pspec)->default_value, 0);
  fail_unless_equals_uint64 (G_PARAM_SPEC_UINT64 (pspec)->minimum, 0);
  fail_unless_equals_uint64 (G_PARAM_SPEC_UINT64 (pspec)->maximum, G_MAXUINT64);
  fail_unless ((pspec->flags & G_PARAM_READWRITE) == G_PARAM_READWRITE);

  g_object_get (element, "heap", &heap, "allow-copy", &allow_copy,
      "min-buffers", &min_buffers, "max-bytes", &max_bytes, NULL);
  fail_unless_equals_string (heap, "default");
  fail_unless (allow_copy);
  fail_unless_equals_int (min_buffers, 2);
  fail_unless_equals_uint64 (max_bytes, 0);
  g_free (heap);

  /* values round-trip; NULL restores the default heap */
  g_object_set (element, "heap", "ecc-off,default", "allow-copy", FALSE,
      "min-buffers", 5, "max-bytes", G_GUINT64_CONSTANT (1) << 33, NULL);
  g_object_get (element, "heap", &heap, "allow-copy", &allow_copy,
      "min-buffers", &min_buffers, "max-bytes", &max_bytes, NULL);
  fail_unless_equals_string (heap, "ecc-off,default");
  fail_if (allow_copy);
  fail_unless_equals_int (min_buffers, 5);
  fail_unless_equals_uint64 (max_bytes, G_GUINT64_CONSTANT (1) << 33);
  g_free (heap);

  g_object_set (element, "heap", NULL, NULL);
  g_object_get (element, "heap", &heap, NULL);
  fail_unless_equals_string (heap, "default");
  g_free (heap);

  gst_object_unref (element);
}

GST_END_TEST;

GST_START_TEST (test_stats_initial)
{
  GstElement *element;
  GstStructure *stats = NULL;
  guint64 v = 1;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  g_object_get (element, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  fail_unless (gst_structure_has_name (stats, "dmaheapupload-stats"));

  fail_unless (gst_structure_get_uint64 (stats, "passed-through", &v));
  fail_unless_equals_uint64 (v, 0);
  fail_unless (gst_structure_get_uint64 (stats, "copied", &v));
  fail_unless_equals_uint64 (v, 0);
  fail_unless (gst_structure_get_uint64 (stats, "bytes-copied", &v));
  fail_unless_equals_uint64 (v, 0);
  fail_unless (gst_structure_get_uint64 (stats, "fallback-buffers", &v));
  fail_unless_equals_uint64 (v, 0);
  fail_unless (gst_structure_has_field_typed (stats, "heap", G_TYPE_STRING));
  fail_unless_equals_string (gst_structure_get_string (stats, "heap"), "");

  gst_structure_free (stats);
  gst_object_unref (element);
}

GST_END_TEST;

GST_START_TEST (test_heap_blurb)
{
  GstElement *element;
  GParamSpec *pspec;
  const gchar *blurb;
  gchar *available;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  pspec = find_pspec (element, "heap");
  blurb = g_param_spec_get_blurb (pspec);
  GST_INFO ("heap: %s", blurb);

  /* the spec forms */
  fail_unless (strstr (blurb, GST_DMA_HEAP_DIR) != NULL);
  fail_unless (strstr (blurb, "\"default\"") != NULL);
  fail_unless (strstr (blurb, "unit address") != NULL);
  fail_unless (strstr (blurb, "comma-separated") != NULL);

  /* the heaps of this machine, or why there are none */
  available = gst_dma_heap_describe_available ();
  fail_unless (available != NULL && *available != '\0');
  fail_unless (strstr (blurb, available) != NULL);
  g_free (available);

  gst_object_unref (element);
}

GST_END_TEST;

GST_START_TEST (test_heap_refused_while_running)
{
  GstElement *element;
  GstMessage *msg;
  GstBus *bus;
  GError *error = NULL;
  gchar *heap = NULL;
  gboolean emulated = FALSE;

  element = gst_element_factory_make ("dmaheapupload", NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (element, bus);

  if (gst_element_set_state (element, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* No default heap here, so the element cannot run: put it in the
     * PLAYING state by hand, which is what the property checks. */
    gst_element_set_state (element, GST_STATE_NULL);
    gst_bus_set_flushing (bus, TRUE);
    gst_bus_set_flushing (bus, FALSE);
    GST_OBJECT_LOCK (element);
    GST_STATE (element) = GST_STATE_PLAYING;
    GST_OBJECT_UNLOCK (element);
    emulated = TRUE;
  }

  g_object_set (element, "heap", "system", NULL);
  g_object_get (element, "heap", &heap, NULL);
  fail_unless_equals_string (heap, "default");
  g_free (heap);

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &error, NULL);
  fail_unless (strstr (error->message, "NULL or READY") != NULL,
      "unexpected warning: %s", error->message);
  fail_unless (strstr (error->message, "\"default\"") != NULL);
  g_error_free (error);
  gst_message_unref (msg);

  if (emulated) {
    GST_OBJECT_LOCK (element);
    GST_STATE (element) = GST_STATE_NULL;
    GST_OBJECT_UNLOCK (element);
  } else {
    fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }

  /* allowed again once stopped */
  g_object_set (element, "heap", "system", NULL);
  g_object_get (element, "heap", &heap, NULL);
  fail_unless_equals_string (heap, "system");
  g_free (heap);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "unexpected %" GST_PTR_FORMAT, msg);

  gst_element_set_bus (element, NULL);
  gst_object_unref (bus);
  gst_object_unref (element);
}

GST_END_TEST;

GST_START_TEST (test_invalid_spec)
{
  /* None of these may reach open(): each is refused with a message that
   * quotes the offending name (escaped) or says the spec is empty. */
  const struct
  {
    const gchar *spec;
    const gchar *named;
  } cases[] = {
    {"../etc/passwd", "../etc/passwd"},
    {"a/b", "a/b"},
    {"", "mpty"},
    {"/etc/passwd", "/etc/passwd"},
    {"bad\tname", "bad\\tname"},
    {"ok,..", "'..'"},
    {"default,,system", "mpty"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *error;
    gchar *debug = NULL;

    error = start_expecting_error (cases[i].spec, &debug);
    fail_unless (error->domain == GST_RESOURCE_ERROR);
    fail_unless_equals_int (error->code, GST_RESOURCE_ERROR_SETTINGS);
    fail_unless (strstr (error->message, cases[i].named) != NULL,
        "\"%s\" not named in: %s", cases[i].named, error->message);
    /* the debug part quotes the spec as given */
    fail_unless (debug != NULL && strstr (debug, cases[i].spec) != NULL);
    g_error_free (error);
    g_free (debug);
  }
}

GST_END_TEST;

GST_START_TEST (test_missing_heap)
{
  GError *error;
  gchar *debug = NULL;

  error = start_expecting_error (MISSING_HEAP, &debug);
  fail_unless (error->domain == GST_RESOURCE_ERROR);
  fail_unless_equals_int (error->code, GST_RESOURCE_ERROR_NOT_FOUND);
  fail_unless (strstr (error->message, MISSING_HEAP) != NULL,
      "error does not name the heap: %s", error->message);
  /* where heaps are looked for: in the message when there is no heap at
   * all, in the debug part (shown by gst-launch-1.0 too) always */
  fail_unless (strstr (debug, GST_DMA_HEAP_DIR) != NULL);
  if (!g_file_test (GST_DMA_HEAP_DIR, G_FILE_TEST_IS_DIR))
    fail_unless (strstr (error->message, GST_DMA_HEAP_DIR) != NULL,
        "error does not name " GST_DMA_HEAP_DIR ": %s", error->message);
  g_error_free (error);
  g_free (debug);
}

GST_END_TEST;

GST_START_TEST (test_failed_start_is_clean)
{
  GstElement *element;
  GstStructure *stats = NULL;
  guint64 v = 1;
  guint fds, i;

  /* warm up what GStreamer opens once */
  g_error_free (start_expecting_error (MISSING_HEAP, NULL));

  fds = dma_heap_test_count_fds ();
  for (i = 0; i < 5; i++) {
    GError *error = start_expecting_error (MISSING_HEAP, NULL);
    g_error_free (error);
  }
  fail_unless_equals_int (dma_heap_test_count_fds (), fds);

  /* a failed element can be used again */
  element = gst_element_factory_make ("dmaheapupload", NULL);
  g_object_set (element, "heap", MISSING_HEAP, NULL);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_set_state (element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "copied", &v));
  fail_unless_equals_uint64 (v, 0);
  gst_structure_free (stats);
  g_object_set (element, "heap", "default", NULL);
  ASSERT_OBJECT_REFCOUNT (element, "dmaheapupload", 1);
  gst_object_unref (element);
}

GST_END_TEST;

static Suite *
dmaheapupload_suite (void)
{
  Suite *s = suite_create ("dmaheapupload");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_metadata);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_stats_initial);
  tcase_add_test (tc, test_heap_blurb);
  tcase_add_test (tc, test_heap_refused_while_running);
  tcase_add_test (tc, test_invalid_spec);
  tcase_add_test (tc, test_missing_heap);
  tcase_add_test (tc, test_failed_start_is_clean);

  return s;
}

GST_CHECK_MAIN (dmaheapupload);
