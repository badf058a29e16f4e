/* gst-dmaheap-probe: run a pipeline to its end and report what its sinks
 * received, for the guest checks.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   gst-dmaheap-probe [-t SEC] [-c] [-b N] [-k N] [-p N:FILE] [-s N]
 *                     [-r N] PIPELINE...
 *
 *   -t SEC     give up after SEC seconds (default 60): exit status 2
 *   -c         checksum the visible pixels of every video frame each sink
 *              gets (strides and plane offsets of the GstVideoMeta honoured)
 *   -b N       when the first sink gets its N-th buffer, print
 *              /sys/kernel/debug/dma_buf/bufinfo
 *   -k N       when the first sink gets its N-th buffer, print a few CRCs of
 *              what CRTC 0 of the vkms device composes (debugfs crc/data)
 *   -p N:FILE  write the N-th buffer the first sink gets as PNG to FILE
 *   -s N       every N buffers of the first sink, print a PROBE-SAMPLE of
 *              this process's resources and of the free CMA memory
 *   -r N       run the same pipeline N times to its end, back to NULL in
 *              between (sink counts add up over the runs)
 *
 * GST_DMAHEAP_PROBE_LEAK=BYTES (for the check that shows the long-run
 * memory bound can trip): the first sink leaks BYTES of touched memory per
 * buffer.
 *
 * Output, one fact per line:
 *   PROBE-SINK name=S buffers=N dmabuf=N memories=N exporters=A,B names=X,Y
 *              span=SECONDS (from the first buffer to the last);
 *              memories counts distinct dma-bufs by inode (st_dev, st_ino
 *              of the fd), other memories by address
 *   PROBE-SUM name=S frames=N sha1=HEX
 *   PROBE-STATS name=E STRUCTURE      (every element with a "stats"
 *                                     structure property, read at the end)
 *   PROBE-SAMPLE buffers=N fds=N dmabuf-maps=N rss-kb=N cma-free-kb=N
 *   PROBE-RUN-STATS run=N name=E STRUCTURE  (with -r: as PROBE-STATS, at
 *              the end of run N, N < the number of runs)
 *   PROBE-CYCLE run=N fds=N dmabuf-fds=N heap-fds=N dmabuf-maps=N
 *              (after run N, back in NULL)
 *   PROBE-FDS before=N after=N dmabuf-before=N dmabuf-after=N
 *             heap-before=N heap-after=N
 *              open fds before the pipeline is made and once it is gone:
 *              all of them, dma-bufs, /dev/dma_heap nodes
 *   PROBE-BUFINFO line, PROBE-CRC line, PROBE-PNG file
 *   PROBE-WARNING / PROBE-ERROR element: message (debug)
 *   PROBE-RESULT eos|error|timeout seconds=S
 * Exit status: 0 EOS, 1 error, 2 timeout, 3 usage.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#define MAX_NAMES 8

typedef struct
{
  GstElement *element;
  gchar *name;
  gboolean first;
  guint64 buffers;
  guint64 dmabuf;
  GHashTable *memories;
  GPtrArray *exporters;
  GPtrArray *buf_names;
  GChecksum *sum;
  guint64 summed;
  gint64 first_time;
  gint64 last_time;
} SinkInfo;

static gboolean opt_checksum;
static gint opt_bufinfo_at = -1;
static gint opt_crc_at = -1;
static gint opt_png_at = -1;
static gint opt_sample_every;
static guint opt_runs = 1;
static gsize opt_leak;
static gchar *opt_png_file;
static GMutex print_lock;

static void
add_unique (GPtrArray * arr, const gchar * s)
{
  guint i;

  for (i = 0; i < arr->len; i++)
    if (g_str_equal (g_ptr_array_index (arr, i), s))
      return;
  if (arr->len < MAX_NAMES)
    g_ptr_array_add (arr, g_strdup (s));
}

static gchar *
join (GPtrArray * arr)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < arr->len; i++) {
    if (i)
      g_string_append_c (s, ',');
    g_string_append (s, g_ptr_array_index (arr, i));
  }
  if (!arr->len)
    g_string_append (s, "-");
  return g_string_free (s, FALSE);
}

/* The kernel tells which heap exported a dma-buf, and the name userspace
 * gave it, in /proc/self/fdinfo. */
static void
read_fdinfo (SinkInfo * si, gint fd)
{
  gchar *path, *text = NULL, **lines, **l;

  path = g_strdup_printf ("/proc/self/fdinfo/%d", fd);
  if (g_file_get_contents (path, &text, NULL, NULL)) {
    lines = g_strsplit (text, "\n", -1);
    for (l = lines; *l; l++) {
      if (g_str_has_prefix (*l, "exp_name:"))
        add_unique (si->exporters, g_strstrip (*l + strlen ("exp_name:")));
      else if (g_str_has_prefix (*l, "name:"))
        add_unique (si->buf_names, g_strstrip (*l + strlen ("name:")));
    }
    g_strfreev (lines);
  }
  g_free (text);
  g_free (path);
}

static void
checksum_frame (SinkInfo * si, GstPad * pad, GstBuffer * buf)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstVideoInfo info;
  GstVideoFrame frame;
  guint p, row;

  if (!caps)
    return;
  if (!gst_video_info_from_caps (&info, caps)) {
    gst_caps_unref (caps);
    return;
  }
  gst_caps_unref (caps);
  if (!gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
    g_mutex_lock (&print_lock);
    g_print ("PROBE-WARNING %s: cannot map frame %" G_GUINT64_FORMAT "\n",
        si->name, si->buffers);
    g_mutex_unlock (&print_lock);
    return;
  }
  for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    guint rows, row_bytes;

    gst_video_format_info_component (info.finfo, p, comp);
    rows = GST_VIDEO_FRAME_COMP_HEIGHT (&frame, comp[0]);
    row_bytes = GST_VIDEO_FRAME_COMP_WIDTH (&frame, comp[0]) *
        GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, comp[0]);
    for (row = 0; row < rows; row++)
      g_checksum_update (si->sum, data + (gsize) row * stride, row_bytes);
  }
  gst_video_frame_unmap (&frame);
  si->summed++;
}

static void
print_file (const gchar * prefix, const gchar * path)
{
  gchar *text = NULL, **lines, **l;
  GError *err = NULL;

  if (!g_file_get_contents (path, &text, NULL, &err)) {
    g_print ("%s cannot read %s: %s\n", prefix, path, err->message);
    g_clear_error (&err);
    return;
  }
  lines = g_strsplit (text, "\n", -1);
  for (l = lines; *l; l++)
    if (**l)
      g_print ("%s %s\n", prefix, *l);
  g_strfreev (lines);
  g_free (text);
}

/* The debugfs directory of the vkms device (there may be others, vgem). */
static gchar *
find_vkms_debugfs (void)
{
  gint i;

  for (i = 0; i < 16; i++) {
    gchar *dir = g_strdup_printf ("/sys/kernel/debug/dri/%d", i);
    gchar *name_file = g_build_filename (dir, "name", NULL);
    gchar *name = NULL;
    gboolean found;

    found = g_file_get_contents (name_file, &name, NULL, NULL) &&
        g_str_has_prefix (name, "vkms");
    g_free (name);
    g_free (name_file);
    if (found)
      return dir;
    g_free (dir);
  }
  return NULL;
}

/* vkms computes a CRC of every frame it composes once crc/data is open. */
static void
print_vkms_crcs (void)
{
  gchar *dri = find_vkms_debugfs ();
  gchar *control, *datapath;
  gchar line[128];
  FILE *data;
  gint i, fd;

  if (!dri) {
    g_print ("PROBE-CRC no vkms device in /sys/kernel/debug/dri\n");
    return;
  }
  control = g_build_filename (dri, "crtc-0", "crc", "control", NULL);
  datapath = g_build_filename (dri, "crtc-0", "crc", "data", NULL);
  g_free (dri);
  /* debugfs: written in place, not through a temporary file */
  data = fopen (control, "w");
  if (!data || fputs ("auto", data) < 0 || fclose (data) != 0) {
    g_print ("PROBE-CRC cannot write %s: %s\n", control, g_strerror (errno));
    goto out;
  }
  /* Each read() returns one "frame crc" line, followed by a NUL. */
  fd = open (datapath, O_RDONLY);
  if (fd < 0) {
    g_print ("PROBE-CRC cannot open %s: %s\n", datapath, g_strerror (errno));
    goto out;
  }
  for (i = 0; i < 4; i++) {
    ssize_t n = read (fd, line, sizeof (line) - 1);

    if (n <= 0)
      break;
    line[n] = '\0';
    g_print ("PROBE-CRC %s\n", g_strchomp (line));
  }
  close (fd);
out:
  g_free (control);
  g_free (datapath);
}

/* Written at the end: converting in the streaming thread would stall the
 * pipeline. */
static GstSample *png_sample;

static void
write_png (GstSample * sample)
{
  GstCaps *rgb_caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, "RGB", NULL);
  GstCaps *png_caps = gst_caps_new_empty_simple ("image/png");
  GstSample *rgb = NULL, *png = NULL;
  GError *err = NULL;
  GstMapInfo map;

  /* Through RGB first: straight to PNG (RGBA) the padding byte of BGRx
   * would become a transparent alpha. */
  rgb = gst_video_convert_sample (sample, rgb_caps, 20 * GST_SECOND, &err);
  if (rgb)
    png = gst_video_convert_sample (rgb, png_caps, 20 * GST_SECOND, &err);
  if (!png) {
    g_print ("PROBE-WARNING png: %s\n", err ? err->message : "failed");
    g_clear_error (&err);
  } else {
    GstBuffer *out = gst_sample_get_buffer (png);

    if (gst_buffer_map (out, &map, GST_MAP_READ)) {
      if (g_file_set_contents (opt_png_file, (const gchar *) map.data,
              map.size, &err))
        g_print ("PROBE-PNG %s\n", opt_png_file);
      else
        g_print ("PROBE-WARNING png: %s\n", err->message);
      g_clear_error (&err);
      gst_buffer_unmap (out, &map);
    }
    gst_sample_unref (png);
  }
  if (rgb)
    gst_sample_unref (rgb);
  gst_caps_unref (rgb_caps);
  gst_caps_unref (png_caps);
}

typedef struct
{
  guint all;
  guint dmabuf;
  guint heap;
} FdCounts;

/* Open fds of this process by kind (the target of /proc/self/fd/N). */
static void
count_fd_kinds (FdCounts * c)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const gchar *name;

  memset (c, 0, sizeof (*c));
  if (!dir)
    return;
  while ((name = g_dir_read_name (dir)) != NULL) {
    gchar *path = g_build_filename ("/proc/self/fd", name, NULL);
    gchar *target = g_file_read_link (path, NULL);

    c->all++;
    if (target && (g_str_has_prefix (target, "/dmabuf:") ||
            strcmp (target, "anon_inode:dmabuf") == 0))
      c->dmabuf++;
    if (target && g_str_has_prefix (target, "/dev/dma_heap/"))
      c->heap++;
    g_free (target);
    g_free (path);
  }
  g_dir_close (dir);

  /* the directory itself was one */
  c->all--;
}

/* The number after "@key:" in @path (a /proc file of "key: value" lines),
 * -1 when absent. */
static gint64
proc_value (const gchar * path, const gchar * key)
{
  gchar *contents = NULL, *line;
  gint64 v = -1;
  gsize klen = strlen (key);

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  for (line = contents; line && *line; line = strchr (line, '\n')) {
    if (*line == '\n')
      line++;
    if (strncmp (line, key, klen) == 0 && line[klen] == ':') {
      v = g_ascii_strtoll (line + klen + 1, NULL, 10);
      break;
    }
  }
  g_free (contents);

  return v;
}

static guint
count_dmabuf_maps (void)
{
  gchar *contents = NULL, *p;
  guint n = 0;

  if (!g_file_get_contents ("/proc/self/maps", &contents, NULL, NULL))
    return 0;
  for (p = contents; (p = strstr (p, " /dmabuf:")) != NULL; p++)
    n++;
  g_free (contents);

  return n;
}

static void
print_sample (guint64 buffers)
{
  FdCounts c;

  count_fd_kinds (&c);
  g_print ("PROBE-SAMPLE buffers=%" G_GUINT64_FORMAT " fds=%u dmabuf-maps=%u "
      "rss-kb=%" G_GINT64_FORMAT " cma-free-kb=%" G_GINT64_FORMAT "\n",
      buffers, c.all, count_dmabuf_maps (),
      proc_value ("/proc/self/status", "VmRSS"),
      proc_value ("/proc/meminfo", "CmaFree"));
}

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  SinkInfo *si = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMemory *mem;

  si->buffers++;
  si->last_time = g_get_monotonic_time ();
  if (si->buffers == 1)
    si->first_time = si->last_time;
  if (gst_buffer_n_memory (buf) > 0) {
    struct stat st;

    mem = gst_buffer_peek_memory (buf, 0);
    /* a dma-buf is known by its inode: freed and allocated again, a
     * GstMemory may well get the same address */
    if (gst_is_dmabuf_memory (mem) &&
        fstat (gst_dmabuf_memory_get_fd (mem), &st) == 0)
      g_hash_table_add (si->memories, g_strdup_printf ("dmabuf %"
              G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
              (guint64) st.st_dev, (guint64) st.st_ino));
    else
      g_hash_table_add (si->memories, g_strdup_printf ("mem %p", mem));
    if (gst_is_dmabuf_memory (mem)) {
      si->dmabuf++;
      read_fdinfo (si, gst_dmabuf_memory_get_fd (mem));
    }
  }
  if (opt_checksum)
    checksum_frame (si, pad, buf);

  if (si->first && opt_leak > 0) {
    /* leaked on purpose, and touched so that it is resident */
    gpointer leak = g_malloc (opt_leak);

    memset (leak, 0x6b, opt_leak);
  }

  if (si->first) {
    g_mutex_lock (&print_lock);
    if (si->buffers == (guint64) opt_bufinfo_at)
      print_file ("PROBE-BUFINFO", "/sys/kernel/debug/dma_buf/bufinfo");
    if (si->buffers == (guint64) opt_crc_at)
      print_vkms_crcs ();
    if (opt_sample_every > 0 && si->buffers % opt_sample_every == 0)
      print_sample (si->buffers);
    if (si->buffers == (guint64) opt_png_at && !png_sample) {
      /* a copy in system memory: the pool's buffer goes back at once */
      GstBuffer *copy = gst_buffer_copy_deep (buf);
      GstCaps *caps = gst_pad_get_current_caps (pad);

      png_sample = gst_sample_new (copy, caps, NULL, NULL);
      gst_buffer_unref (copy);
      gst_clear_caps (&caps);
    }
    g_mutex_unlock (&print_lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
sink_info_free (SinkInfo * si)
{
  gst_object_unref (si->element);
  g_free (si->name);
  g_hash_table_unref (si->memories);
  g_ptr_array_unref (si->exporters);
  g_ptr_array_unref (si->buf_names);
  g_checksum_free (si->sum);
  g_free (si);
}

static GPtrArray *
attach_to_sinks (GstElement * pipeline)
{
  GPtrArray *sinks = g_ptr_array_new_with_free_func ((GDestroyNotify)
      sink_info_free);
  GstIterator *it = gst_bin_iterate_sinks (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    GstPad *pad = gst_element_get_static_pad (e, "sink");

    if (pad) {
      SinkInfo *si = g_new0 (SinkInfo, 1);

      si->element = gst_object_ref (e);
      si->name = gst_object_get_name (GST_OBJECT (e));
      si->memories = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
          NULL);
      si->exporters = g_ptr_array_new_with_free_func (g_free);
      si->buf_names = g_ptr_array_new_with_free_func (g_free);
      si->sum = g_checksum_new (G_CHECKSUM_SHA1);
      g_ptr_array_add (sinks, si);
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, si, NULL);
      gst_object_unref (pad);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);

  /* gst_bin_iterate_sinks() goes from the last added: the first sink of
   * the description is the last one found. */
  if (sinks->len)
    ((SinkInfo *) g_ptr_array_index (sinks, sinks->len - 1))->first = TRUE;
  return sinks;
}

/* @user_data: the start of the line, NULL for "PROBE-STATS" */
static void
print_stats (const GValue * item, gpointer user_data)
{
  const gchar *prefix = user_data ? user_data : "PROBE-STATS";
  GstElement *e = g_value_get_object (item);
  GParamSpec *pspec;
  GstStructure *s = NULL;
  gchar *str, *name;

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "stats");
  if (!pspec || pspec->value_type != GST_TYPE_STRUCTURE)
    return;
  g_object_get (e, "stats", &s, NULL);
  if (!s)
    return;
  str = gst_structure_to_string (s);
  name = gst_object_get_name (GST_OBJECT (e));
  g_print ("%s name=%s %s\n", prefix, name, str);
  g_free (name);
  g_free (str);
  gst_structure_free (s);
}

static void
print_message (const gchar * what, GstMessage * msg)
{
  GError *err = NULL;
  gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, &debug);
  else
    gst_message_parse_warning (msg, &err, &debug);
  g_print ("%s %s: %s (%s)\n", what, GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
      err->message, debug ? debug : "");
  g_clear_error (&err);
  g_free (debug);
}

/* Pops messages until the end of the stream, an error or @deadline. */
static void
wait_for_end (GstBus * bus, gint64 deadline, const gchar ** result,
    gint * status)
{
  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;

    if (left <= 0)
      break;
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING);
    if (!msg)
      break;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      g_mutex_lock (&print_lock);
      print_message ("PROBE-WARNING", msg);
      g_mutex_unlock (&print_lock);
      gst_message_unref (msg);
      continue;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_mutex_lock (&print_lock);
      print_message ("PROBE-ERROR", msg);
      g_mutex_unlock (&print_lock);
      *result = "error";
      *status = 1;
    } else {
      *result = "eos";
      *status = 0;
    }
    gst_message_unref (msg);
    break;
  }
}

int
main (int argc, char **argv)
{
  gint timeout = 60, opt, status = 2;
  gchar *desc, *png_spec = NULL;
  GstElement *pipeline;
  GError *err = NULL;
  GPtrArray *sinks;
  GstBus *bus;
  GstIterator *it;
  gint64 start, deadline;
  const gchar *result = "timeout";
  guint i, run;
  FdCounts fds_before, fds_after;

  while ((opt = getopt (argc, argv, "+t:cb:k:p:s:r:")) != -1) {
    switch (opt) {
      case 't':
        timeout = atoi (optarg);
        break;
      case 'c':
        opt_checksum = TRUE;
        break;
      case 'b':
        opt_bufinfo_at = atoi (optarg);
        break;
      case 'k':
        opt_crc_at = atoi (optarg);
        break;
      case 'p':
        png_spec = optarg;
        break;
      case 's':
        opt_sample_every = atoi (optarg);
        break;
      case 'r':
        opt_runs = MAX (atoi (optarg), 1);
        break;
      default:
        return 3;
    }
  }
  if (optind >= argc) {
    g_printerr ("usage: %s [-t SEC] [-c] [-b N] [-k N] [-p N:FILE] [-s N] "
        "[-r N] PIPELINE...\n", argv[0]);
    return 3;
  }
  if (png_spec) {
    gchar *colon = strchr (png_spec, ':');

    if (!colon)
      return 3;
    *colon = '\0';
    opt_png_at = atoi (png_spec);
    opt_png_file = colon + 1;
  }

  if (g_getenv ("GST_DMAHEAP_PROBE_LEAK"))
    opt_leak = g_ascii_strtoull (g_getenv ("GST_DMAHEAP_PROBE_LEAK"), NULL, 10);

  gst_init (NULL, NULL);
  desc = g_strjoinv (" ", argv + optind);

  /* A first pipeline, never started, loads the plugins and whatever they
   * keep for the whole process (the "dmaheap" allocator registered by our
   * plugin keeps the default heap open): counted before the real one. */
  pipeline = gst_parse_launch (desc, NULL);
  if (pipeline)
    gst_object_unref (pipeline);
  count_fd_kinds (&fds_before);

  pipeline = gst_parse_launch (desc, &err);
  if (!pipeline || err) {
    g_print ("PROBE-ERROR parse: %s\n", err ? err->message : "failed");
    g_print ("PROBE-RESULT error seconds=0\n");
    return 1;
  }
  sinks = attach_to_sinks (pipeline);

  start = g_get_monotonic_time ();
  deadline = start + (gint64) timeout * G_USEC_PER_SEC;
  bus = gst_element_get_bus (pipeline);
  for (run = 1; run <= opt_runs; run++) {
    /* the same pipeline again: back to NULL between runs */
    if (run > 1) {
      gchar *prefix = g_strdup_printf ("PROBE-RUN-STATS run=%u", run - 1);
      FdCounts c;

      /* each run's statistics, before a restart resets them */
      g_mutex_lock (&print_lock);
      it = gst_bin_iterate_recurse (GST_BIN (pipeline));
      gst_iterator_foreach (it, print_stats, prefix);
      gst_iterator_free (it);
      g_mutex_unlock (&print_lock);
      g_free (prefix);

      gst_element_set_state (pipeline, GST_STATE_NULL);
      count_fd_kinds (&c);
      g_print ("PROBE-CYCLE run=%u fds=%u dmabuf-fds=%u heap-fds=%u "
          "dmabuf-maps=%u\n", run - 1, c.all, c.dmabuf, c.heap,
          count_dmabuf_maps ());
    }
    status = 2;
    result = "timeout";
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    wait_for_end (bus, deadline, &result, &status);
    if (status != 0)
      break;
  }

  g_mutex_lock (&print_lock);
  /* Statistics are read while the pipeline still runs, before any
   * element is stopped. */
  it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  gst_iterator_foreach (it, print_stats, NULL);
  gst_iterator_free (it);
  g_mutex_unlock (&print_lock);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (png_sample) {
    write_png (png_sample);
    gst_sample_unref (png_sample);
  }

  for (i = 0; i < sinks->len; i++) {
    SinkInfo *si = g_ptr_array_index (sinks, i);
    gchar *exp = join (si->exporters), *names = join (si->buf_names);

    g_print ("PROBE-SINK name=%s buffers=%" G_GUINT64_FORMAT
        " dmabuf=%" G_GUINT64_FORMAT " memories=%u exporters=%s names=%s"
        " span=%.2f\n", si->name, si->buffers, si->dmabuf,
        g_hash_table_size (si->memories), exp, names,
        (si->last_time - si->first_time) / (gdouble) G_USEC_PER_SEC);
    if (opt_checksum)
      g_print ("PROBE-SUM name=%s frames=%" G_GUINT64_FORMAT " sha1=%s\n",
          si->name, si->summed, g_checksum_get_string (si->sum));
    g_free (exp);
    g_free (names);
  }
  g_print ("PROBE-RESULT %s seconds=%.1f\n", result,
      (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC);

  g_ptr_array_unref (sinks);
  gst_object_unref (pipeline);
  gst_object_unref (bus);

  /* the pipeline is gone: what it opened must be closed */
  count_fd_kinds (&fds_after);
  g_print ("PROBE-FDS before=%u after=%u dmabuf-before=%u dmabuf-after=%u "
      "heap-before=%u heap-after=%u\n", fds_before.all, fds_after.all,
      fds_before.dmabuf, fds_after.dmabuf, fds_before.heap, fds_after.heap);

  g_free (desc);
  gst_deinit ();
  return status;
}
