/* gst-dmaheap: what a pipeline that runs for months meets, on one heap
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test plays one thing that happens to a long-running pipeline and
 * asserts what the project does about it:
 *
 *   test_fds_not_inherited     a program the process starts (fork + exec)
 *                              gets none of its heap nodes and dma-bufs
 *   test_sigkill_releases      a pipeline killed with SIGKILL gives the heap
 *                              all its memory back
 *   test_hog_while_running     another process fills the region while a
 *                              preallocated pipeline runs
 *   test_permission_change     the heap node's mode changes while a pipeline
 *                              of an unprivileged user runs
 *   test_fallback_then_room    a fallback list whose first heap was full,
 *                              once that heap has room again
 *   test_sync_failure_fails_map  DMA_BUF_IOCTL_SYNC fails on a map
 *
 * The heap under test is the first of $GST_DMA_HEAP_TEST_HEAPS (the guest
 * runs the program once per heap), else the first heap present: a fake one
 * of tests/fakeheap on the build machine, the kernel's in the test guest
 * (GST_DMA_HEAP_TEST_REAL=1).
 *
 * The other processes are this program again, run with --child MODE HEAP
 * UID (see child_main()): a pipeline that reports its frames, a hog that
 * allocates from a heap until it is full, and a lister of inherited fds.
 * The results of measurements are printed on lines starting "MEASURED ",
 * which the guest copies to its console.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/dmaheap/dmaheap.h>

#include "../libs/dmaheaptestutil.h"
#include "fakeheap.h"

/* uid and gid of the unprivileged user (nobody) */
#define NOBODY          65534

#define FRAME_CAPS \
  "video/x-raw,format=BGRx,width=160,height=120,framerate=30/1"
#define FLAT_CAPS       "application/octet-stream"
#define GROWTH_SIZE     (64 * 1024)

/* the heap under test, the heaps of the run, and this program */
static gchar *test_heap;
static gchar **test_heaps;
static gchar *self_exe;

/* the mode of the node of the heap under test before
 * test_permission_change, put back whatever happens to the test */
static gchar *node_path;
static mode_t node_mode;
static gboolean node_saved;

/* ------------------------------------------------------------------------
 * Other processes
 * ------------------------------------------------------------------------ */

typedef struct
{
  pid_t pid;
  gint to_child;                /* its standard input, -1 once closed */
  gint from_child;              /* its standard output */
  GString *pending;             /* read, not yet a whole line */
} Child;

/* Starts this program as `--child @mode @heap @uid` with pipes on its
 * standard input and output; nothing else of ours is inherited that is
 * not inherited by any exec. */
static void
child_spawn (Child * c, const gchar * mode, const gchar * heap, guint uid)
{
  gchar uid_str[16];
  int in[2], out[2];
  char *argv[6];

  fail_unless (pipe2 (in, O_CLOEXEC) == 0 && pipe2 (out, O_CLOEXEC) == 0);
  g_snprintf (uid_str, sizeof (uid_str), "%u", uid);
  argv[0] = self_exe;
  argv[1] = (char *) "--child";
  argv[2] = (char *) mode;
  argv[3] = (char *) heap;
  argv[4] = uid_str;
  argv[5] = NULL;

  c->pid = fork ();
  fail_unless (c->pid >= 0, "fork: %s", g_strerror (errno));
  if (c->pid == 0) {
    /* only async-signal-safe calls until exec */
    if (dup2 (in[0], 0) < 0 || dup2 (out[1], 1) < 0)
      _exit (126);
    execv (self_exe, argv);
    _exit (127);
  }
  close (in[0]);
  close (out[1]);
  c->to_child = in[1];
  c->from_child = out[0];
  c->pending = g_string_new (NULL);
}

/* The next line the child writes, without its newline; NULL after
 * @timeout_s seconds or at its end of output. */
static gchar *
child_read_line (Child * c, gint timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  for (;;) {
    gchar *nl = memchr (c->pending->str, '\n', c->pending->len);
    struct pollfd p = { c->from_child, POLLIN, 0 };
    gint64 left;
    gchar buf[1024];
    ssize_t n;
    int r;

    if (nl) {
      gsize len = nl - c->pending->str;
      gchar *line = g_strndup (c->pending->str, len);

      g_string_erase (c->pending, 0, len + 1);
      return line;
    }
    left = end - g_get_monotonic_time ();
    if (left <= 0)
      return NULL;
    r = poll (&p, 1, (int) MIN (left / 1000 + 1, 1000));
    if (r < 0 && errno != EINTR)
      return NULL;
    if (r <= 0)
      continue;
    n = read (c->from_child, buf, sizeof (buf));
    if (n <= 0)
      return NULL;
    g_string_append_len (c->pending, buf, n);
  }
}

/* Reads lines until one starts with @prefix and returns the rest of it.
 * An "ERROR " line fails the test, unless @prefix is "ERROR ". */
static gchar *
child_expect (Child * c, const gchar * prefix, gint timeout_s)
{
  for (;;) {
    gchar *line = child_read_line (c, timeout_s), *ret;

    fail_unless (line != NULL, "the child (pid %d) said no '%s' within %d s",
        (gint) c->pid, prefix, timeout_s);
    GST_INFO ("child %d: %s", (gint) c->pid, line);
    if (g_str_has_prefix (line, prefix)) {
      ret = g_strdup (line + strlen (prefix));
      g_free (line);
      return ret;
    }
    fail_if (g_str_has_prefix (line, "ERROR "), "child %d: %s", (gint) c->pid,
        line);
    g_free (line);
  }
}

static void
child_send (Child * c, const gchar * command)
{
  gchar *line = g_strdup_printf ("%s\n", command);
  gsize len = strlen (line);

  fail_unless (write (c->to_child, line, len) == (gssize) len,
      "cannot write to child %d: %s", (gint) c->pid, g_strerror (errno));
  g_free (line);
}

/* Closes the child's input (it ends at that) and waits for it; returns its
 * wait status. Kills it after @timeout_s seconds. */
static gint
child_finish (Child * c, gint timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  int status = 0;
  pid_t r;

  if (c->to_child >= 0)
    close (c->to_child);
  c->to_child = -1;
  while ((r = waitpid (c->pid, &status, WNOHANG)) == 0 &&
      g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  if (r == 0) {
    kill (c->pid, SIGKILL);
    waitpid (c->pid, &status, 0);
    fail ("child %d did not end within %d s", (gint) c->pid, timeout_s);
  }
  fail_unless (r == c->pid);
  close (c->from_child);
  g_string_free (c->pending, TRUE);

  return status;
}

/* "COUNT" from a pipeline child: the buffers it passed through */
static guint64
child_frames (Child * c)
{
  gchar *rest;
  guint64 n;

  child_send (c, "count");
  rest = child_expect (c, "COUNT ", 60);
  n = g_ascii_strtoull (rest, NULL, 10);
  g_free (rest);

  return n;
}

/* Waits until the pipeline child passed @more buffers more than now. */
static guint64
child_wait_frames (Child * c, guint64 more, gint timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  guint64 first = child_frames (c), n = first;

  while (n < first + more) {
    fail_unless (g_get_monotonic_time () < end, "child %d passed %"
        G_GUINT64_FORMAT " buffers in %d s, not %" G_GUINT64_FORMAT,
        (gint) c->pid, n - first, timeout_s, more);
    g_usleep (50 * 1000);
    n = child_frames (c);
  }

  return n;
}

/* ------------------------------------------------------------------------
 * Pipelines in this process
 * ------------------------------------------------------------------------ */

/* A live source at 30 frames a second into a sink that syncs and keeps no
 * last sample: one buffer out at a time, so the pool of min-buffers 3
 * never grows. The sink counts the buffers and the heaps they are in. */
typedef struct
{
  GstElement *pipeline;
  GstElement *upload;
  GstBus *bus;

  GMutex lock;
  GCond cond;
  guint64 frames;
  guint64 in_first;             /* in @first */
  guint64 in_second;            /* in @second */
  const gchar *first;           /* interned */
  const gchar *second;          /* interned */
} Run;

#define PIPELINE_DESC "videotestsrc is-live=true ! " FRAME_CAPS " ! " \
  "dmaheapupload name=up min-buffers=3 heap=\"%s\" ! " \
  "fakesink name=sink sync=true enable-last-sample=false"

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *run = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  const gchar *heap = NULL;

  if (gst_buffer_n_memory (buf) > 0)
    heap = gst_dma_heap_memory_get_heap (gst_buffer_peek_memory (buf, 0));

  g_mutex_lock (&run->lock);
  run->frames++;
  if (heap && heap == run->first)
    run->in_first++;
  else if (heap && heap == run->second)
    run->in_second++;
  g_cond_broadcast (&run->cond);
  g_mutex_unlock (&run->lock);

  return GST_PAD_PROBE_OK;
}

static void
run_reset_counts (Run * run)
{
  g_mutex_lock (&run->lock);
  run->frames = run->in_first = run->in_second = 0;
  g_mutex_unlock (&run->lock);
}

/* Waits until @more buffers more reached the sink. */
static void
run_wait_frames (Run * run, guint64 more, gint timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_TIME_SPAN_SECOND;
  guint64 target;

  g_mutex_lock (&run->lock);
  target = run->frames + more;
  while (run->frames < target) {
    if (!g_cond_wait_until (&run->cond, &run->lock, end))
      break;
  }
  fail_unless (run->frames >= target, "the pipeline passed %" G_GUINT64_FORMAT
      " buffers in %d s, not %" G_GUINT64_FORMAT, more - (target - run->frames),
      timeout_s, more);
  g_mutex_unlock (&run->lock);
}

/* Pops the messages of the run's bus: an error fails the test; returns the
 * number of warnings RESOURCE/NO_SPACE_LEFT, the text of the last in @text */
static guint
run_drain_bus (Run * run, gchar ** text)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop (run->bus)) != NULL) {
    GError *err = NULL;
    gchar *debug = NULL;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, &debug);
      fail ("error from %s: %s (%s)", GST_OBJECT_NAME (msg->src),
          err->message, GST_STR_NULL (debug));
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (msg, &err, &debug);
      GST_INFO ("warning: %s (%s)", err->message, GST_STR_NULL (debug));
      if (g_error_matches (err, GST_RESOURCE_ERROR,
              GST_RESOURCE_ERROR_NO_SPACE_LEFT)) {
        n++;
        if (text) {
          g_free (*text);
          *text = g_strdup (err->message);
        }
      }
      g_error_free (err);
      g_free (debug);
    }
    gst_message_unref (msg);
  }

  return n;
}

static void
run_set_state (Run * run, GstState state)
{
  GstStateChangeReturn ret;

  ret = gst_element_set_state (run->pipeline, state);
  if (ret == GST_STATE_CHANGE_FAILURE)
    run_drain_bus (run, NULL);
  fail_if (ret == GST_STATE_CHANGE_FAILURE, "state change failed");
  ret = gst_element_get_state (run->pipeline, NULL, NULL, 60 * GST_SECOND);
  fail_if (ret == GST_STATE_CHANGE_FAILURE || ret == GST_STATE_CHANGE_ASYNC,
      "state change did not complete");
}

/* Starts the pipeline on @spec and waits for its first frames. @first
 * and @second are the heaps the sink counts. */
static Run *
run_start (const gchar * spec, const gchar * first, const gchar * second)
{
  GError *error = NULL;
  GstElement *sink;
  GstPad *pad;
  gchar *desc;
  Run *run = g_new0 (Run, 1);

  g_mutex_init (&run->lock);
  g_cond_init (&run->cond);
  run->first = first ? g_intern_string (first) : NULL;
  run->second = second ? g_intern_string (second) : NULL;

  desc = g_strdup_printf (PIPELINE_DESC, spec);
  run->pipeline = gst_parse_launch (desc, &error);
  fail_unless (run->pipeline != NULL, "%s: %s", desc,
      error ? error->message : "");
  g_free (desc);
  run->upload = gst_bin_get_by_name (GST_BIN (run->pipeline), "up");
  sink = gst_bin_get_by_name (GST_BIN (run->pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, run, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  run->bus = gst_element_get_bus (run->pipeline);

  run_set_state (run, GST_STATE_PLAYING);
  run_wait_frames (run, 3, 60);

  return run;
}

static void
run_stop (Run * run)
{
  run_set_state (run, GST_STATE_NULL);
  run_drain_bus (run, NULL);
  gst_object_unref (run->bus);
  gst_object_unref (run->upload);
  gst_object_unref (run->pipeline);
  g_mutex_clear (&run->lock);
  g_cond_clear (&run->cond);
  g_free (run);
}

/* A counter of the element's stats; 0 when missing (also usable in the
 * child processes, which run no check) */
static guint64
stats_value (GstElement * upload, const gchar * field)
{
  GstStructure *stats = NULL;
  guint64 v = 0;

  g_object_get (upload, "stats", &stats, NULL);
  if (stats && !gst_structure_get_uint64 (stats, field, &v))
    v = 0;
  if (stats)
    gst_structure_free (stats);

  return v;
}

static guint64
stats_field (GstElement * upload, const gchar * field)
{
  GstStructure *stats = NULL;
  guint64 v = 0;

  g_object_get (upload, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, field, &v), "no %s", field);
  gst_structure_free (stats);

  return v;
}

/* A harness around a dmaheapupload on @heap that copies flat buffers,
 * its messages on *@bus */
static GstHarness *
upload_harness (const gchar * heap, GstBus ** bus)
{
  GstElement *element = gst_element_factory_make ("dmaheapupload", NULL);
  GstHarness *h;

  fail_unless (element != NULL);
  g_object_set (element, "heap", heap, NULL);
  *bus = gst_bus_new ();
  gst_element_set_bus (element, *bus);
  h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_src_caps_str (h, FLAT_CAPS);

  return h;
}

/* ------------------------------------------------------------------------
 * Heaps
 * ------------------------------------------------------------------------ */

/* Bytes of the dma-bufs of @heap that /sys/kernel/debug/dma_buf/bufinfo
 * lists (the exporter of a heap's buffers is the heap), in @bytes; FALSE
 * when bufinfo cannot be read. */
static gboolean
bufinfo_bytes (const gchar * heap, gint64 * bytes)
{
  gchar *contents = dma_heap_test_read_bufinfo ();
  gchar **lines;
  guint i;

  if (contents == NULL)
    return FALSE;
  *bytes = 0;
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar **f = g_strsplit (lines[i], "\t", -1);

    /* size flags mode count exp_name ino name */
    if (g_strv_length (f) >= 5 && g_ascii_isdigit (f[0][0]) &&
        strcmp (f[4], heap) == 0)
      *bytes += g_ascii_strtoll (f[0], NULL, 10);
    g_strfreev (f);
  }
  g_strfreev (lines);
  g_free (contents);

  return TRUE;
}

/* The memory of @heap in use, as well as this machine can tell, in @used;
 * @how (optional) says in what unit and from where. FALSE when it cannot
 * tell. */
static gboolean
heap_in_use (const gchar * heap, gint64 * used, gchar ** how)
{
  gint64 alloc, release;
  gchar *area;

  if (dma_heap_test_is_fake ()) {
    *used = fake_heap_get_used (heap);
    if (how)
      *how = g_strdup ("bytes used in the fake heap's pool");
    return *used >= 0;
  }

  area = dma_heap_test_cma_area (heap);
  if (area) {
    gboolean ok =
        dma_heap_test_cma_counter (area, "alloc_pages_success", &alloc) &&
        dma_heap_test_cma_counter (area, "release_pages_success", &release);

    if (ok) {
      *used = alloc - release;
      if (how)
        *how = g_strdup_printf ("pages of CMA area %s (alloc_pages_success - "
          "release_pages_success)", area);
    }
    g_free (area);
    if (ok)
      return TRUE;
  }

  /* the system heap, or a kernel without CONFIG_CMA_SYSFS */
  if (bufinfo_bytes (heap, used)) {
    if (how)
      *how = g_strdup_printf ("bytes of %s dma-bufs in dma_buf/bufinfo", heap);
    return TRUE;
  }

  return FALSE;
}

/* Whether no other process can fill @heap: the system heap is the
 * machine's memory (the OOM killer would come first), a fake heap without
 * a size likewise. */
static gboolean
heap_unbounded (const gchar * heap)
{
  if (dma_heap_test_is_fake ())
    return fake_heap_get_capacity (heap) == 0;

  return dma_heap_test_is_system (heap);
}

/* Makes @heap full for this process: a hog (another process) allocates
 * from it until it is full, and holds; for a heap no process can fill,
 * every allocation of this process on it fails with ENOMEM instead (the
 * interposer of tests/fakeheap, on real heaps too). Returns the bytes the
 * hog holds, 0 when injected. */
static guint64
heap_fill (const gchar * heap, Child * hog)
{
  gchar *rest;
  guint64 held;

  if (heap_unbounded (heap)) {
    fake_heap_fail_alloc (heap, ENOMEM, -1);
    hog->pid = 0;
    return 0;
  }

  child_spawn (hog, "hog", heap, 0);
  rest = child_expect (hog, "HELD ", 300);
  held = g_ascii_strtoull (rest, NULL, 10);
  g_free (rest);
  fail_unless (held > 0, "the hog could not allocate anything from %s", heap);

  return held;
}

static void
heap_release (const gchar * heap, Child * hog)
{
  gint status;

  if (hog->pid == 0) {
    fake_heap_fail_alloc (heap, 0, 0);
    return;
  }
  status = child_finish (hog, 60);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "the hog ended with status 0x%x", status);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

typedef enum
{
  FD_OTHER,
  FD_HEAP,
  FD_BUF,
} FdKind;

/* What the target of an fd link is: a heap node, a dma-buf (the kernel
 * names them "/dmabuf:<name>", older kernels "anon_inode:dmabuf"; a fake
 * heap's buffers are files of its pools), or something else. */
static FdKind
fd_kind (const gchar * target)
{
  if (g_str_has_prefix (target, GST_DMA_HEAP_DIR "/"))
    return FD_HEAP;
  if (g_str_has_prefix (target, "/dmabuf:") ||
      g_str_has_prefix (target, "anon_inode:dmabuf") ||
      g_str_has_prefix (target, FAKE_HEAP_DIR "/pools/"))
    return FD_BUF;

  return FD_OTHER;
}

/* Counts this process's fds of each kind. */
static void
count_own_fds (guint * heaps, guint * bufs)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *e;

  *heaps = *bufs = 0;
  fail_unless (dir != NULL);
  while ((e = readdir (dir)) != NULL) {
    gchar *link, *target;

    if (e->d_name[0] == '.')
      continue;
    link = g_strdup_printf ("/proc/self/fd/%s", e->d_name);
    target = g_file_read_link (link, NULL);
    if (target) {
      FdKind kind = fd_kind (target);

      if (kind == FD_HEAP)
        (*heaps)++;
      else if (kind == FD_BUF)
        (*bufs)++;
    }
    g_free (target);
    g_free (link);
  }
  closedir (dir);
}

/* A program started while a pipeline runs (its pool full of dma-bufs, its
 * allocator with the heap open) has none of them: every heap node and
 * dma-buf fd is close-on-exec. The one fd made inheritable on purpose
 * shows that the child does see inherited dma-bufs. */
GST_START_TEST (test_fds_not_inherited)
{
  GstAllocator *allocator;
  GstMemory *mem;
  GstMapInfo map;
  Child lister;
  Run *run;
  guint heaps, bufs, child_heaps = 0, child_bufs = 0;
  gint inherited, seen_inherited = 0, status;
  gchar *line;

  run = run_start (test_heap, test_heap, NULL);
  allocator = gst_dma_heap_allocator_new (test_heap, NULL);
  fail_unless (allocator != NULL);
  mem = gst_allocator_alloc (allocator, 4096, NULL);
  fail_unless (mem != NULL);
  fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
  gst_memory_unmap (mem, &map);

  count_own_fds (&heaps, &bufs);
  /* the element's allocator, this one and the registered one; the pool's
   * buffers and this memory */
  fail_unless (heaps >= 2, "only %u heap nodes open here", heaps);
  fail_unless (bufs >= 4, "only %u dma-bufs open here", bufs);

  inherited = dup (gst_dmabuf_memory_get_fd (mem));
  fail_unless (inherited >= 0);

  child_spawn (&lister, "fds", test_heap, 0);
  while ((line = child_read_line (&lister, 120)) != NULL &&
      strcmp (line, "END") != 0) {
    gchar **f = g_strsplit (line, " ", 3);

    if (g_strv_length (f) == 3 && strcmp (f[0], "FD") == 0) {
      FdKind kind = fd_kind (f[2]);

      if (kind == FD_HEAP)
        child_heaps++;
      if (kind == FD_BUF) {
        if (atoi (f[1]) == inherited)
          seen_inherited++;
        else
          child_bufs++;
      }
      if (kind != FD_OTHER)
        GST_INFO ("in the child: fd %s -> %s", f[1], f[2]);
    }
    g_strfreev (f);
    g_free (line);
  }
  fail_unless (line != NULL, "the child listed no END");
  g_free (line);
  status = child_finish (&lister, 60);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  close (inherited);

  g_print ("MEASURED fds: this process had %u heap nodes and %u dma-bufs "
      "open; the child had %u heap nodes, %u dma-bufs besides the one made "
      "inheritable, which it saw %d time(s)\n", heaps, bufs, child_heaps,
      child_bufs, seen_inherited);
  fail_unless_equals_int (seen_inherited, 1);
  fail_unless_equals_int (child_heaps, 0);
  fail_unless_equals_int (child_bufs, 0);

  gst_memory_unref (mem);
  gst_object_unref (allocator);
  run_stop (run);
}

GST_END_TEST;

/* A pipeline in another process killed with SIGKILL while frames flow:
 * once it is reaped, the heap has all its memory back. */
GST_START_TEST (test_sigkill_releases)
{
  gint64 base, during, after = -1, end;
  gchar *how = NULL;
  guint64 frames;
  Child child;
  gint status;

  if (!heap_in_use (test_heap, &base, &how))
    dma_heap_test_require (FALSE, "no way to tell the memory in use of heap %s: no "
        "CMA area in /sys/kernel/mm/cma and no dma_buf/bufinfo in debugfs",
        test_heap);

  child_spawn (&child, "pipeline", test_heap, 0);
  g_free (child_expect (&child, "RUNNING", 120));
  frames = child_wait_frames (&child, 10, 60);
  fail_unless (heap_in_use (test_heap, &during, NULL));

  fail_unless (kill (child.pid, SIGKILL) == 0);
  status = child_finish (&child, 60);
  fail_unless (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
      "the child was not killed: status 0x%x", status);

  /* the kernel frees the buffers as the process exits; give it a moment */
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  do {
    fail_unless (heap_in_use (test_heap, &after, NULL));
    if (after == base)
      break;
    g_usleep (100 * 1000);
  } while (g_get_monotonic_time () < end);

  g_print ("MEASURED sigkill: %s: %" G_GINT64_FORMAT " before, %"
      G_GINT64_FORMAT " with the pipeline running (%" G_GUINT64_FORMAT
      " buffers passed), %" G_GINT64_FORMAT " after SIGKILL\n", how, base,
      during, frames, after);
  fail_unless (during > base, "the pipeline's buffers do not show in %s",
      how);
  fail_unless_equals_int64 (after, base);
  g_free (how);
}

GST_END_TEST;

/* Another process fills the region while a preallocated pipeline runs:
 * the pipeline goes on, a pool that must grow and an element that needs a
 * new buffer fail with NO_SPACE_LEFT naming the heap; after the hog is
 * gone both work again. On a heap no process can fill (system) the
 * allocations of this process fail instead (heap_fill()). */
GST_START_TEST (test_hog_while_running)
{
  GstBufferPool *pool;
  GstStructure *config;
  GstAllocator *allocator;
  GstBuffer *held[2], *extra = NULL, *out;
  GstHarness *h;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  GstCaps *caps;
  Child hog;
  Run *run;
  guint64 hog_bytes, frames_before, frames_during;
  gchar *pool_text, *element_text;
  guint i;

  run = run_start (test_heap, test_heap, NULL);

  /* a pool of two preallocated buffers, both out */
  allocator = gst_dma_heap_allocator_new (test_heap, NULL);
  fail_unless (allocator != NULL);
  pool = gst_dma_heap_buffer_pool_new (allocator);
  config = gst_buffer_pool_get_config (pool);
  caps = gst_caps_from_string (FLAT_CAPS);
  gst_buffer_pool_config_set_params (config, caps, GROWTH_SIZE, 2, 0);
  gst_caps_unref (caps);
  fail_unless (gst_buffer_pool_set_config (pool, config));
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  for (i = 0; i < 2; i++)
    fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &held[i],
            NULL), GST_FLOW_OK);

  /* an element whose copy pool is made at its first buffer */
  h = upload_harness (test_heap, &bus);

  hog_bytes = heap_fill (test_heap, &hog);
  g_mutex_lock (&run->lock);
  frames_before = run->frames;
  g_mutex_unlock (&run->lock);

  /* the running pipeline goes on */
  run_wait_frames (run, 15, 60);

  /* growth fails */
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &extra, NULL),
      GST_FLOW_ERROR);
  err = gst_dma_heap_buffer_pool_get_last_error (GST_DMA_HEAP_BUFFER_POOL
      (pool));
  fail_unless (err != NULL);
  fail_unless (g_error_matches (err, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_NO_MEMORY), "%s", err->message);
  fail_unless (strstr (err->message, test_heap) != NULL, "%s", err->message);
  pool_text = g_strdup (err->message);
  g_clear_error (&err);

  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_allocate (NULL, GROWTH_SIZE, NULL)), GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error from the element");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT), "%s", err->message);
  fail_unless (strstr (err->message, test_heap) != NULL, "%s", err->message);
  element_text = g_strdup (err->message);
  g_clear_error (&err);
  gst_message_unref (msg);

  /* and still the pipeline goes on */
  run_wait_frames (run, 15, 60);
  g_mutex_lock (&run->lock);
  frames_during = run->frames - frames_before;
  g_mutex_unlock (&run->lock);

  heap_release (test_heap, &hog);

  /* room again: the pool grows, the element runs again after NULL */
  fail_unless_equals_int (gst_buffer_pool_acquire_buffer (pool, &extra, NULL),
      GST_FLOW_OK);
  gst_buffer_unref (extra);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_play (h);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("2")));
  gst_harness_set_src_caps_str (h, FLAT_CAPS);
  fail_unless_equals_int (gst_harness_push (h,
          gst_buffer_new_allocate (NULL, GROWTH_SIZE, NULL)), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_string (gst_dma_heap_memory_get_heap
      (gst_buffer_peek_memory (out, 0)), test_heap);
  gst_buffer_unref (out);

  run_wait_frames (run, 5, 60);
  fail_unless_equals_int (run_drain_bus (run, NULL), 0);
  fail_unless_equals_uint64 (stats_field (run->upload, "copied"), 0);

  g_print ("MEASURED hog: %s %" G_GUINT64_FORMAT " bytes of %s; %"
      G_GUINT64_FORMAT " frames passed meanwhile; the pool: \"%s\"; the "
      "element: \"%s\"\n", hog.pid ? "the hog held" : "injected ENOMEM, no "
      "hog:", hog_bytes, test_heap, frames_during, pool_text, element_text);
  g_free (pool_text);
  g_free (element_text);

  for (i = 0; i < 2; i++)
    gst_buffer_unref (held[i]);
  fail_unless (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_object_unref (allocator);
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  run_stop (run);
}

GST_END_TEST;

/* The spec "H,system" (for the system heap: "system,<next heap>") with H
 * full when the pipeline starts: its pool is preallocated in the second
 * heap, with one NO_SPACE_LEFT warning. When H has room again, the running
 * pipeline's buffers stay where they are: the pool recycles them, nothing
 * is allocated, so they all stay in the second heap for the pool's life.
 * The next start makes a new pool, all in H again. */
GST_START_TEST (test_fallback_then_room)
{
  const gchar *heap1 = test_heap, *heap2 = "system";
  gchar *spec, *text = NULL;
  guint64 fallback_full, allocs_first, allocs_second, frames_room,
      in_second_room, allocs_restart;
  Child hog;
  Run *run;
  guint i, warnings;

  if (dma_heap_test_is_system (test_heap)) {
    heap2 = NULL;
    for (i = 0; test_heaps[i] && !heap2; i++) {
      if (!dma_heap_test_is_system (test_heaps[i]))
        heap2 = test_heaps[i];
    }
  } else if (!g_strv_contains ((const gchar * const *) test_heaps, "system")) {
    heap2 = NULL;
  }
  if (heap2 == NULL)
    dma_heap_test_require (FALSE, "no second heap to fall back to from %s", heap1);
  spec = g_strdup_printf ("%s,%s", heap1, heap2);

  heap_fill (heap1, &hog);
  run = run_start (spec, heap1, heap2);
  run_wait_frames (run, 10, 60);
  g_mutex_lock (&run->lock);
  fail_unless_equals_uint64 (run->in_first, 0);
  fail_unless_equals_uint64 (run->in_second, run->frames);
  g_mutex_unlock (&run->lock);
  fallback_full = stats_field (run->upload, "fallback-buffers");
  fail_unless (fallback_full > 0);
  warnings = run_drain_bus (run, &text);
  fail_unless_equals_int (warnings, 1);
  fail_unless (strstr (text, heap1) && strstr (text, heap2), "%s", text);

  heap_release (heap1, &hog);

  /* room in the first heap again, the same run */
  fake_heap_reset_counts ();
  run_reset_counts (run);
  run_wait_frames (run, 20, 60);
  allocs_first = fake_heap_alloc_count (heap1);
  allocs_second = fake_heap_alloc_count (heap2);
  g_mutex_lock (&run->lock);
  frames_room = run->frames;
  in_second_room = run->in_second;
  fail_unless_equals_uint64 (run->in_first, 0);
  fail_unless_equals_uint64 (run->in_second, run->frames);
  g_mutex_unlock (&run->lock);
  fail_unless_equals_uint64 (allocs_first, 0);
  fail_unless_equals_uint64 (allocs_second, 0);

  /* the next start */
  run_set_state (run, GST_STATE_NULL);
  fake_heap_reset_counts ();
  run_reset_counts (run);
  run_set_state (run, GST_STATE_PLAYING);
  run_wait_frames (run, 10, 60);
  allocs_restart = fake_heap_alloc_count (heap1);
  g_mutex_lock (&run->lock);
  fail_unless_equals_uint64 (run->in_first, run->frames);
  g_mutex_unlock (&run->lock);
  fail_unless_equals_uint64 (stats_field (run->upload, "fallback-buffers"), 0);
  fail_unless (allocs_restart >= 3, "%" G_GUINT64_FORMAT " allocations",
      allocs_restart);
  fail_unless_equals_int (fake_heap_alloc_count (heap2), 0);
  fail_unless_equals_int (run_drain_bus (run, NULL), 0);

  g_print ("MEASURED fallback: %s full (%s): %" G_GUINT64_FORMAT " buffers "
      "counted as fallback, %u warning \"%s\"; with room again, same run: %"
      G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " frames in %s, allocations "
      "%" G_GUINT64_FORMAT " in %s and %" G_GUINT64_FORMAT " in %s; after a "
      "restart: all frames in %s, %" G_GUINT64_FORMAT " allocations there\n",
      heap1, hog.pid ? "a hog" : "injected ENOMEM", fallback_full, warnings,
      text, in_second_room, frames_room, heap2, allocs_first, heap1,
      allocs_second, heap2, heap1, allocs_restart);

  g_free (text);
  g_free (spec);
  run_stop (run);
}

GST_END_TEST;

/* The node of the heap is made readable and writable by all, a pipeline of
 * an unprivileged user (uid 65534) starts on it, then the node is made
 * 0000 while it runs. The running pipeline goes on; its next start (the
 * element opens its heap at each start) and a new process of that user
 * fail, with an error that names the node and the fix. The mode is put
 * back. */
static void
save_node_mode (void)
{
  struct stat st;

  node_saved = FALSE;
  g_clear_pointer (&node_path, g_free);
  if (getuid () != 0)
    return;
  node_path = gst_dma_heap_get_device_path (test_heap);
  if (lstat (node_path, &st) == 0 && S_ISCHR (st.st_mode)) {
    node_mode = st.st_mode & 07777;
    node_saved = TRUE;
  }
}

static void
restore_node_mode (void)
{
  if (node_saved && chmod (node_path, node_mode) < 0)
    g_printerr ("cannot restore the mode of %s: %s\n", node_path,
        g_strerror (errno));
}

GST_START_TEST (test_permission_change)
{
  Child running, late;
  struct stat st;
  guint64 n0, n1;
  gchar *err_line, *restart_line, **f;
  gint status, restart_status, i;

  if (getuid () != 0)
    dma_heap_test_require (FALSE, "only root can change the mode of a heap node");
  fail_unless (node_saved, "%s is not a character device", node_path);

  fail_unless (chmod (node_path, 0666) == 0, "chmod %s: %s", node_path,
      g_strerror (errno));
  child_spawn (&running, "pipeline", test_heap, NOBODY);
  g_free (child_expect (&running, "RUNNING", 120));
  n0 = child_frames (&running);

  fail_unless (chmod (node_path, 0000) == 0);
  fail_unless (stat (node_path, &st) == 0 && (st.st_mode & 07777) == 0);

  /* the running pipeline goes on; its next start opens the node again */
  n1 = child_wait_frames (&running, 15, 60);
  child_send (&running, "restart");
  restart_line = child_expect (&running, "ERROR ", 120);
  restart_status = child_finish (&running, 60);

  /* a new process of that user cannot start */
  child_spawn (&late, "pipeline", test_heap, NOBODY);
  err_line = child_expect (&late, "ERROR ", 120);
  status = child_finish (&late, 60);

  restore_node_mode ();

  g_print ("MEASURED permission: node 0000 while running: %" G_GUINT64_FORMAT
      " -> %" G_GUINT64_FORMAT " buffers; its next start: %s; a new process "
      "as uid %d: %s\n", n0, n1, restart_line, NOBODY, err_line);

  /* "<domain> <code> <message>", both times */
  for (i = 0; i < 2; i++) {
    const gchar *line = i == 0 ? restart_line : err_line;
    gint st_exit = i == 0 ? restart_status : status;

    f = g_strsplit (line, " ", 3);
    fail_unless (g_strv_length (f) == 3);
    fail_unless_equals_string (f[0], g_quark_to_string (GST_RESOURCE_ERROR));
    fail_unless_equals_int (atoi (f[1]), GST_RESOURCE_ERROR_OPEN_READ_WRITE);
    fail_unless (strstr (f[2], node_path) != NULL, "%s", f[2]);
    fail_unless (strstr (f[2], g_strerror (EACCES)) != NULL, "%s", f[2]);
    fail_unless (strstr (f[2], "SUBSYSTEM==\"dma_heap\"") != NULL, "%s",
        f[2]);
    fail_unless (strstr (f[2], "another heap") != NULL, "%s", f[2]);
    fail_unless (WIFEXITED (st_exit) && WEXITSTATUS (st_exit) == 3,
        "status 0x%x", st_exit);
    g_strfreev (f);
  }
  g_free (restart_line);
  g_free (err_line);

  fail_unless (stat (node_path, &st) == 0);
  fail_unless_equals_int (st.st_mode & 07777, node_mode);
}

GST_END_TEST;

static guint sync_calls;
static gint sync_fd = -1;

static void
count_sync (int fd, unsigned long request, void *arg, void *user_data)
{
  if (request == DMA_BUF_IOCTL_SYNC && (sync_fd < 0 || fd == sync_fd))
    g_atomic_int_inc (&sync_calls);
}

static GstBuffer *
pattern_buffer (guint8 value)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GROWTH_SIZE, NULL);

  gst_buffer_memset (buf, 0, value, GROWTH_SIZE);
  return buf;
}

/* @buf is dma-heap memory of the heap under test holding @value only */
static void
check_pattern (GstBuffer * buf, guint8 value)
{
  GstMemory *mem = gst_buffer_peek_memory (buf, 0);
  GstMapInfo map;
  gsize i;

  fail_unless (gst_is_dma_heap_memory (mem));
  fail_unless_equals_string (gst_dma_heap_memory_get_heap (mem), test_heap);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, GROWTH_SIZE);
  for (i = 0; i < map.size && map.data[i] == value; i++);
  fail_unless (i == map.size, "byte %" G_GSIZE_FORMAT " is 0x%02x, not "
      "0x%02x", i, map.data[i], value);
  gst_buffer_unmap (buf, &map);
}

/* A DMA_BUF_IOCTL_SYNC that fails (injected by the interposer, before the
 * kernel) makes gst_memory_map() fail; the next map works. */
GST_START_TEST (test_sync_failure_fails_map)
{
  GstAllocator *allocator;
  GstMemory *mem;
  GstMapInfo map;
  GstHarness *h;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  GstBuffer *out;
  guint calls, once_allocs;

  allocator = gst_dma_heap_allocator_new (test_heap, NULL);
  fail_unless (allocator != NULL);
  mem = gst_allocator_alloc (allocator, 4 * 4096, NULL);
  fail_unless (mem != NULL);
  sync_fd = gst_dmabuf_memory_get_fd (mem);
  sync_calls = 0;
  fake_heap_set_observer (count_sync, NULL);

  fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
  memset (map.data, 0xa5, map.size);
  gst_memory_unmap (mem, &map);
  fail_unless_equals_int (sync_calls, 2);

  fake_heap_fail_sync (sync_fd, EIO, 1);
  fail_if (gst_memory_map (mem, &map, GST_MAP_READ),
      "a map whose DMA_BUF_IOCTL_SYNC failed succeeded");
  calls = sync_calls;
  fail_unless_equals_int (calls, 3);
  fail_unless (gst_memory_map (mem, &map, GST_MAP_READ));
  fail_unless (map.data[0] == 0xa5 && map.data[map.size - 1] == 0xa5);
  gst_memory_unmap (mem, &map);

  /* The element copying a buffer into the heap. One failed sync: the map
   * of the output buffer fails, and gst_buffer_map() (GStreamer's
   * gst_memory_make_mapped()) maps a copy of the memory instead. Copies of
   * heap memory are made in system memory: the frame goes out with the
   * right bytes, but not in the heap. */
  h = upload_harness (test_heap, &bus);
  sync_fd = -1;
  fake_heap_reset_counts ();
  fake_heap_fail_sync (-1, EIO, 1);
  fail_unless_equals_int (gst_harness_push (h, pattern_buffer (0x3c)),
      GST_FLOW_OK);
  fake_heap_fail_sync (-1, 0, 0);
  out = gst_harness_pull (h);
  fail_if (gst_is_dma_heap_memory (gst_buffer_peek_memory (out, 0)));
  fail_unless (gst_buffer_memcmp (out, 0, "\x3c\x3c\x3c\x3c", 4) == 0);
  gst_buffer_unref (out);
  once_allocs = fake_heap_alloc_count (test_heap);
  /* the pool's buffer only: the copy is in system memory */
  fail_unless_equals_int (once_allocs, 1);

  /* Every sync fails: the copy cannot be read either, the map fails and
   * the element posts an error. */
  fake_heap_fail_sync (-1, EIO, -1);
  fail_unless_equals_int (gst_harness_push (h, pattern_buffer (0x4b)),
      GST_FLOW_ERROR);
  fake_heap_fail_sync (-1, 0, 0);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error from the element");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED),
      "%s", err->message);
  g_print ("MEASURED sync: a failed DMA_BUF_SYNC_START (EIO) on %s: "
      "gst_memory_map() FALSE after %u sync calls; one failure in the "
      "element: the frame went out right in a system-memory copy (%u heap "
      "allocation); every "
      "sync failing: \"%s\"\n", test_heap, calls, once_allocs, err->message);
  g_clear_error (&err);
  gst_message_unref (msg);

  /* the next buffer is copied */
  fail_unless_equals_int (gst_harness_push (h, pattern_buffer (0x5a)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  check_pattern (out, 0x5a);
  gst_buffer_unref (out);

  fake_heap_set_observer (NULL, NULL);
  gst_element_set_bus (h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  gst_memory_unref (mem);
  gst_object_unref (allocator);
}

GST_END_TEST;

static Suite *
dmaheapreliability_suite (void)
{
  Suite *s = suite_create ("dmaheapreliability");
  TCase *tc;

  tc = tcase_create ("process");
  tcase_set_timeout (tc, 600);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_fds_not_inherited);
  tcase_add_test (tc, test_sigkill_releases);
  tcase_add_test (tc, test_hog_while_running);
  tcase_add_test (tc, test_fallback_then_room);
  tcase_add_test (tc, test_sync_failure_fails_map);

  /* the node's mode is saved and put back by the runner itself, even when
   * the test dies half-way */
  tc = tcase_create ("permission");
  tcase_set_timeout (tc, 600);
  tcase_add_unchecked_fixture (tc, save_node_mode, restore_node_mode);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_permission_change);

  return s;
}

/* ------------------------------------------------------------------------
 * The other processes: --child MODE HEAP UID
 * ------------------------------------------------------------------------ */

static void
say (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

static void
say (const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

/* "fds": every fd this process was started with and what it is */
static int
child_list_fds (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *e;
  int own = dir ? dirfd (dir) : -1;

  while (dir && (e = readdir (dir)) != NULL) {
    char link[300], target[4096];
    ssize_t n;

    if (e->d_name[0] == '.' || atoi (e->d_name) == own)
      continue;
    snprintf (link, sizeof (link), "/proc/self/fd/%s", e->d_name);
    n = readlink (link, target, sizeof (target) - 1);
    if (n < 0)
      continue;
    target[n] = '\0';
    printf ("FD %s %s\n", e->d_name, target);
  }
  if (dir)
    closedir (dir);
  printf ("END\n");
  fflush (stdout);

  return 0;
}

/* "hog": allocates from @heap until it is full for anything of
 * GROWTH_SIZE or more (4 MiB blocks, then smaller ones down to
 * GROWTH_SIZE, twice over in case the region was busy), says "HELD <bytes>
 * <buffers>", and holds until its input ends. Smaller blocks are not
 * tried: the tests ask for no less, and on a CMA heap every failed small
 * block makes the kernel try each free page of the region. */
static int
child_hog (const gchar * heap)
{
  GError *error = NULL;
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (gint));
  guint64 held = 0, page = sysconf (_SC_PAGESIZE), size;
  gchar buf[64];
  guint pass, i;
  gint fd;

  fd = gst_dma_heap_open (heap, &error);
  if (fd < 0) {
    say ("ERROR hog %s", error->message);
    return 2;
  }

  for (pass = 0; pass < 2; pass++) {
    size = 4 << 20;
    while (size >= MAX (page, GROWTH_SIZE)) {
      struct dma_heap_allocation_data data = { 0, };

      /* a heap this big is not a region */
      if (held >= ((guint64) 4 << 30)) {
        say ("ERROR hog: %s gave 4 GiB and is not full", heap);
        return 2;
      }
      data.len = size;
      data.fd_flags = O_RDWR | O_CLOEXEC;
      if (ioctl (fd, DMA_HEAP_IOCTL_ALLOC, &data) == 0) {
        gint buf_fd = (gint) data.fd;

        g_array_append_val (fds, buf_fd);
        held += size;
        continue;
      }
      if (errno == EINTR || errno == EAGAIN)
        continue;
      if (errno != ENOMEM && errno != ENOSPC && errno != EBUSY) {
        say ("ERROR hog: DMA_HEAP_IOCTL_ALLOC of %" G_GUINT64_FORMAT
            " bytes on %s: %s", size, heap, g_strerror (errno));
        return 2;
      }
      size /= 2;
    }
  }
  say ("HELD %" G_GUINT64_FORMAT " %u", held, fds->len);

  while (read (0, buf, sizeof (buf)) > 0);

  for (i = 0; i < fds->len; i++)
    close (g_array_index (fds, gint, i));
  g_array_free (fds, TRUE);
  close (fd);

  return 0;
}

static void
say_error (GstMessage * msg)
{
  GError *err = NULL;

  gst_message_parse_error (msg, &err, NULL);
  g_strdelimit (err->message, "\n", ' ');
  say ("ERROR %s %d %s", g_quark_to_string (err->domain), err->code,
      err->message);
  g_error_free (err);
}

/* "pipeline": PIPELINE_DESC on @heap, as @uid when not 0 (dropped after
 * the plugins are loaded, before the heap is opened). Says "RUNNING" once
 * a buffer passed, answers "count" with "COUNT <buffers passed>",
 * "restart" with NULL and PLAYING again (then "RUNNING"), and ends at
 * "quit" or at the end of its input with "DONE". An error message ends it
 * with "ERROR <domain> <code> <message>" and exit status 3. */
static int
child_pipeline (const gchar * heap, guint uid)
{
  GstElement *pipeline, *upload;
  GError *error = NULL;
  GstBus *bus;
  GString *input = g_string_new (NULL);
  gboolean running = FALSE, done = FALSE;
  gchar *desc;
  int ret = 0;

  desc = g_strdup_printf (PIPELINE_DESC, heap);
  pipeline = gst_parse_launch (desc, &error);
  g_free (desc);
  if (pipeline == NULL) {
    say ("ERROR parse %s", error->message);
    return 2;
  }
  upload = gst_bin_get_by_name (GST_BIN (pipeline), "up");

  if (uid != 0) {
    if (setgroups (0, NULL) < 0 || setgid (uid) < 0 || setuid (uid) < 0) {
      say ("ERROR privileges: cannot become uid %u: %s", uid,
          g_strerror (errno));
      return 2;
    }
    /* a changed uid makes the process undumpable, and LeakSanitizer then
     * cannot inspect it */
    prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  }

  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  while (!done) {
    struct pollfd p = { 0, POLLIN, 0 };
    GstMessage *msg;

    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) != NULL) {
      say_error (msg);
      gst_message_unref (msg);
      ret = 3;
      done = TRUE;
    }
    if (done)
      break;

    if (!running && stats_value (upload, "passed-through") > 0) {
      running = TRUE;
      say ("RUNNING");
    }

    if (poll (&p, 1, 20) <= 0)
      continue;
    {
      gchar buf[256];
      ssize_t n = read (0, buf, sizeof (buf));

      if (n <= 0) {
        done = TRUE;
        break;
      }
      g_string_append_len (input, buf, n);
    }
    for (;;) {
      gchar *nl = memchr (input->str, '\n', input->len), *cmd;

      if (nl == NULL)
        break;
      cmd = g_strndup (input->str, nl - input->str);
      g_string_erase (input, 0, nl - input->str + 1);
      if (strcmp (cmd, "count") == 0) {
        say ("COUNT %" G_GUINT64_FORMAT, stats_value (upload,
                "passed-through"));
      } else if (strcmp (cmd, "restart") == 0) {
        gst_element_set_state (pipeline, GST_STATE_NULL);
        running = FALSE;
        gst_element_set_state (pipeline, GST_STATE_PLAYING);
      } else if (strcmp (cmd, "quit") == 0) {
        done = TRUE;
      }
      g_free (cmd);
    }
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (ret == 0)
    say ("DONE");
  g_string_free (input, TRUE);
  gst_object_unref (bus);
  gst_object_unref (upload);
  gst_object_unref (pipeline);

  return ret;
}

static int
child_main (int argc, char **argv)
{
  const gchar *mode = argv[2], *heap = argc > 3 ? argv[3] : "";
  guint uid = argc > 4 ? (guint) atoi (argv[4]) : 0;

  /* before anything of this process opens a file */
  if (strcmp (mode, "fds") == 0)
    return child_list_fds ();

  /* the fake heaps of the parent, if it has them */
  dma_heap_test_setup ("dmaheapreliability child");
  gst_init (NULL, NULL);

  if (strcmp (mode, "hog") == 0)
    return child_hog (heap);
  if (strcmp (mode, "pipeline") == 0)
    return child_pipeline (heap, uid);

  say ("ERROR usage: unknown mode %s", mode);
  return 2;
}

/* ------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  gchar *reason = NULL;
  gboolean failed;
  Suite *s;
  int ret;

  if (argc >= 3 && strcmp (argv[1], "--child") == 0)
    return child_main (argc, argv);

  /* a child that died must not take this process with it */
  signal (SIGPIPE, SIG_IGN);

  dma_heap_test_setup ("dmaheapreliability");
  gst_check_init (&argc, &argv);

  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe == NULL) {
    g_printerr ("FAIL: dmaheapreliability: /proc/self/exe cannot be read\n");
    return 1;
  }

  test_heaps = dma_heap_test_find_heaps (&reason, &failed);
  if (test_heaps == NULL) {
    if (failed || dma_heap_test_strict ()) {
      g_printerr ("FAIL: dmaheapreliability: %s\n", reason);
      g_free (reason);
      return 1;
    }
    g_print ("SKIP: dmaheapreliability: %s\n", reason);
    g_free (reason);
    return DMA_HEAP_TEST_SKIP;
  }
  test_heap = test_heaps[0];
  reason = g_strjoinv (",", test_heaps);
  g_print ("testing on %s heap \"%s\" (heaps: %s)\n",
      dma_heap_test_is_fake ()? "the fake" : "the machine's", test_heap,
      reason);
  g_free (reason);

  /* the allocator registered as "dmaheap" holds the default heap open for
   * the life of the process: made now, it is in every count */
  gst_dma_heap_allocator_init_once ();

  s = dmaheapreliability_suite ();
  ret = gst_check_run_suite (s, "dmaheapreliability", __FILE__);

  g_free (node_path);
  g_free (self_exe);
  g_strfreev (test_heaps);

  return ret;
}
