/* dmaheap-bench: the measurements of scripts/bench, run inside the arm64
 * guest. Every mode prints "BENCH-<MODE> key=value ..." lines that
 * scripts/bench/report.py reads.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   dmaheap-bench pipe WARM FRAMES PIPELINE...
 *       run a gst-launch style pipeline; from the sink's buffer WARM+1 to
 *       its buffer WARM+FRAMES+1 (so FRAMES frames), count system calls and
 *       CPU time of the process, and the bytes element "up" copied
 *   dmaheap-bench feed WARM FRAMES FORMAT WIDTH HEIGHT PIPELINE...
 *       the same, with appsrc "src" at the head of PIPELINE fed with
 *       system-memory frames; then memcpy of the same frames, for comparison
 *   dmaheap-bench alloc HEAP SIZE ITERS ROUNDS
 *       DMA_HEAP_IOCTL_ALLOC + close against GstDmaHeapAllocator, alternated
 *   dmaheap-bench pool HEAP FORMAT WIDTH HEIGHT ITERS ROUNDS
 *       acquire + release on a GstDmaHeapBufferPool against a
 *       GstVideoBufferPool on system memory
 *   dmaheap-bench map HEAP FORMAT WIDTH HEIGHT ITERS ROUNDS
 *       gst_memory_map(WRITE), write the whole frame, unmap
 *   dmaheap-bench chain HEAP ITERS ROUNDS
 *       cost of one buffer of HEAP pushed through dmaheapupload against
 *       identity (a pad pushing straight into the element, fakesink after)
 *
 * System calls are counted by the ioctl(), mmap() and munmap() defined
 * below: the executable exports them, so GStreamer and its plugins call
 * these, which count and forward to the C library.
 */

/* mmap and mmap64 are both defined below: neither may be renamed */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include <gst/gst.h>
#include <gst/allocators/allocators.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <gst/dmaheap/dmaheap.h>
#include <gst/dmaheap/gstdmaheap.h>
#include <gst/dmaheap/gstdmaheapallocator.h>
#include <gst/dmaheap/gstdmaheapbufferpool.h>

/* ------------------------------------------------------------------------ */
/* system call counters */

typedef struct
{
  gint64 ioctl;
  gint64 heap_alloc;
  gint64 buf_sync;
  gint64 buf_set_name;
  gint64 drm;
  gint64 v4l2;
  gint64 mmap_fd;
  gint64 mmap_anon;
  gint64 munmap;
} Counts;

static Counts counts;

static int (*real_ioctl) (int, unsigned long, void *);
static void *(*real_mmap) (void *, size_t, int, int, int, off_t);
static int (*real_munmap) (void *, size_t);

static void
resolve_real (void)
{
  if (!real_ioctl)
    real_ioctl = (int (*)(int, unsigned long, void *)) dlsym (RTLD_NEXT,
        "ioctl");
  if (!real_mmap)
    real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))
        dlsym (RTLD_NEXT, "mmap");
  if (!real_munmap)
    real_munmap = (int (*)(void *, size_t)) dlsym (RTLD_NEXT, "munmap");
}

int
ioctl (int fd, unsigned long request, ...)
{
  va_list ap;
  void *arg;

  va_start (ap, request);
  arg = va_arg (ap, void *);
  va_end (ap);

  resolve_real ();
  __atomic_add_fetch (&counts.ioctl, 1, __ATOMIC_RELAXED);
  if (request == DMA_HEAP_IOCTL_ALLOC)
    __atomic_add_fetch (&counts.heap_alloc, 1, __ATOMIC_RELAXED);
  else if (request == DMA_BUF_IOCTL_SYNC)
    __atomic_add_fetch (&counts.buf_sync, 1, __ATOMIC_RELAXED);
  else if (request == DMA_BUF_SET_NAME_B || request == DMA_BUF_SET_NAME_A)
    __atomic_add_fetch (&counts.buf_set_name, 1, __ATOMIC_RELAXED);
  else if (_IOC_TYPE (request) == 'd')
    __atomic_add_fetch (&counts.drm, 1, __ATOMIC_RELAXED);
  else if (_IOC_TYPE (request) == 'V')
    __atomic_add_fetch (&counts.v4l2, 1, __ATOMIC_RELAXED);

  return real_ioctl (fd, request, arg);
}

void *
mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  resolve_real ();
  if (fd >= 0 && !(flags & MAP_ANONYMOUS))
    __atomic_add_fetch (&counts.mmap_fd, 1, __ATOMIC_RELAXED);
  else
    __atomic_add_fetch (&counts.mmap_anon, 1, __ATOMIC_RELAXED);
  return real_mmap (addr, len, prot, flags, fd, off);
}

void *
mmap64 (void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
  return mmap (addr, len, prot, flags, fd, (off_t) off);
}

int
munmap (void *addr, size_t len)
{
  resolve_real ();
  __atomic_add_fetch (&counts.munmap, 1, __ATOMIC_RELAXED);
  return real_munmap (addr, len);
}

static void
counts_get (Counts * c)
{
  c->ioctl = __atomic_load_n (&counts.ioctl, __ATOMIC_RELAXED);
  c->heap_alloc = __atomic_load_n (&counts.heap_alloc, __ATOMIC_RELAXED);
  c->buf_sync = __atomic_load_n (&counts.buf_sync, __ATOMIC_RELAXED);
  c->buf_set_name = __atomic_load_n (&counts.buf_set_name, __ATOMIC_RELAXED);
  c->drm = __atomic_load_n (&counts.drm, __ATOMIC_RELAXED);
  c->v4l2 = __atomic_load_n (&counts.v4l2, __ATOMIC_RELAXED);
  c->mmap_fd = __atomic_load_n (&counts.mmap_fd, __ATOMIC_RELAXED);
  c->mmap_anon = __atomic_load_n (&counts.mmap_anon, __ATOMIC_RELAXED);
  c->munmap = __atomic_load_n (&counts.munmap, __ATOMIC_RELAXED);
}

/* @d = the counts now, less @a */
static void
counts_since (Counts * d, const Counts * a)
{
  Counts b;

  counts_get (&b);
  d->ioctl = b.ioctl - a->ioctl;
  d->heap_alloc = b.heap_alloc - a->heap_alloc;
  d->buf_sync = b.buf_sync - a->buf_sync;
  d->buf_set_name = b.buf_set_name - a->buf_set_name;
  d->drm = b.drm - a->drm;
  d->v4l2 = b.v4l2 - a->v4l2;
  d->mmap_fd = b.mmap_fd - a->mmap_fd;
  d->mmap_anon = b.mmap_anon - a->mmap_anon;
  d->munmap = b.munmap - a->munmap;
}

static void
print_counts (const Counts * a, const Counts * b)
{
  printf (" ioctl=%" G_GINT64_FORMAT " heap_alloc=%" G_GINT64_FORMAT
      " sync=%" G_GINT64_FORMAT " set_name=%" G_GINT64_FORMAT
      " drm=%" G_GINT64_FORMAT " v4l2=%" G_GINT64_FORMAT
      " mmap_fd=%" G_GINT64_FORMAT " mmap_anon=%" G_GINT64_FORMAT
      " munmap=%" G_GINT64_FORMAT,
      b->ioctl - a->ioctl, b->heap_alloc - a->heap_alloc,
      b->buf_sync - a->buf_sync, b->buf_set_name - a->buf_set_name,
      b->drm - a->drm, b->v4l2 - a->v4l2, b->mmap_fd - a->mmap_fd,
      b->mmap_anon - a->mmap_anon, b->munmap - a->munmap);
}

/* ------------------------------------------------------------------------ */
/* time */

/* user + system time of the whole process (every thread), in ns */
static gint64
process_cpu_ns (gint64 * user, gint64 * sys)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  *user = (gint64) ru.ru_utime.tv_sec * 1000000000 + ru.ru_utime.tv_usec * 1000;
  *sys = (gint64) ru.ru_stime.tv_sec * 1000000000 + ru.ru_stime.tv_usec * 1000;
  return *user + *sys;
}

/* CPU time of the process from the clock, finer than getrusage */
static gint64
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gint64
wall_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
fail (const gchar * fmt, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

static void
fail (const gchar * fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  printf ("BENCH-ERROR ");
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
  fflush (stdout);
  exit (1);
}

static guint
parse_uint (const gchar * s)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (s, 10, 1, G_MAXUINT, &v, NULL))
    fail ("not a count: '%s'", s);
  return (guint) v;
}

/* ------------------------------------------------------------------------ */
/* pipelines */

typedef struct
{
  Counts counts;
  gint64 cpu, user, sys, wall;
  guint64 bytes_copied, copied, passed;
} Snapshot;

typedef struct
{
  GstElement *pipeline;
  GstElement *up;
  guint warm, frames;
  volatile gint seen;
  Snapshot start, end;
  gboolean have_start, have_end;
} PipeRun;

static void
snapshot (PipeRun * run, Snapshot * s)
{
  s->wall = wall_now ();
  s->cpu = process_cpu_ns (&s->user, &s->sys);
  counts_get (&s->counts);
  s->bytes_copied = s->copied = s->passed = 0;
  if (run->up) {
    GstStructure *st = NULL;

    g_object_get (run->up, "stats", &st, NULL);
    if (st) {
      gst_structure_get_uint64 (st, "bytes-copied", &s->bytes_copied);
      gst_structure_get_uint64 (st, "copied", &s->copied);
      gst_structure_get_uint64 (st, "passed-through", &s->passed);
      gst_structure_free (st);
    }
  }
}

static GstPadProbeReturn
sink_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  PipeRun *run = user_data;
  gint n = g_atomic_int_add (&run->seen, 1) + 1;

  if (n == (gint) run->warm + 1) {
    snapshot (run, &run->start);
    run->have_start = TRUE;
  } else if (n == (gint) (run->warm + run->frames + 1)) {
    snapshot (run, &run->end);
    run->have_end = TRUE;
    /* a camera never ends by itself */
    gst_element_post_message (run->pipeline,
        gst_message_new_application (GST_OBJECT (run->pipeline),
            gst_structure_new_empty ("bench-done")));
  }
  return GST_PAD_PROBE_OK;
}

static GstElement *
first_sink (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_sinks (GST_BIN (pipeline));
  GValue v = G_VALUE_INIT;
  GstElement *sink = NULL;

  if (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    sink = g_value_dup_object (&v);
    g_value_unset (&v);
  }
  gst_iterator_free (it);
  return sink;
}

static gchar *
join_args (int argc, char **argv)
{
  GString *s = g_string_new (NULL);
  int i;

  for (i = 0; i < argc; i++) {
    if (i)
      g_string_append_c (s, ' ');
    g_string_append (s, argv[i]);
  }
  return g_string_free (s, FALSE);
}

typedef struct
{
  GstElement *appsrc;
  GstBuffer **frames;
  guint n_frames;
  guint total;
} Feeder;

static gpointer
feed_thread (gpointer data)
{
  Feeder *f = data;
  guint i;

  for (i = 0; i < f->total; i++) {
    GstBuffer *buf = gst_buffer_copy (f->frames[i % f->n_frames]);

    GST_BUFFER_PTS (buf) = i * GST_MSECOND;
    if (gst_app_src_push_buffer (GST_APP_SRC (f->appsrc), buf) != GST_FLOW_OK)
      break;
  }
  gst_app_src_end_of_stream (GST_APP_SRC (f->appsrc));
  return NULL;
}

/* Runs the pipeline, prints BENCH-PIPE. Returns the frames of a feeder. */
static void
run_pipeline (guint warm, guint frames, const gchar * desc, Feeder * feeder)
{
  GError *err = NULL;
  PipeRun run = { 0, };
  GstElement *sink;
  GstPad *pad;
  GstBus *bus;
  GstMessage *msg;
  GThread *thread = NULL;
  gboolean ok = FALSE;
  Snapshot *a, *b;

  run.pipeline = gst_parse_launch (desc, &err);
  if (!run.pipeline)
    fail ("cannot parse '%s': %s", desc, err ? err->message : "?");
  if (err)
    fail ("'%s': %s", desc, err->message);
  run.warm = warm;
  run.frames = frames;
  run.up = gst_bin_get_by_name (GST_BIN (run.pipeline), "up");

  sink = first_sink (run.pipeline);
  if (!sink)
    fail ("no sink in '%s'", desc);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sink_probe, &run, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  if (feeder) {
    feeder->appsrc = gst_bin_get_by_name (GST_BIN (run.pipeline), "src");
    if (!feeder->appsrc)
      fail ("no appsrc named src");
    feeder->total = warm + frames + 1;
  }

  if (gst_element_set_state (run.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    fail ("'%s' does not start", desc);
  if (feeder)
    thread = g_thread_new ("feed", feed_thread, feeder);

  bus = gst_element_get_bus (run.pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 600 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_APPLICATION);
  if (!msg) {
    printf ("BENCH-ERROR timeout after 600 s: %s\n", desc);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &e, &dbg);
    printf ("BENCH-ERROR %s: %s (%s)\n", GST_OBJECT_NAME (msg->src),
        e->message, dbg ? dbg : "");
    g_clear_error (&e);
    g_free (dbg);
  } else {
    ok = TRUE;
  }
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);
  if (thread) {
    if (!ok)
      gst_app_src_end_of_stream (GST_APP_SRC (feeder->appsrc));
    g_thread_join (thread);
  }
  gst_element_set_state (run.pipeline, GST_STATE_NULL);

  if (ok && !(run.have_start && run.have_end)) {
    printf ("BENCH-ERROR only %d buffers reached the sink\n", run.seen);
    ok = FALSE;
  }
  if (ok) {
    a = &run.start;
    b = &run.end;
    printf ("BENCH-PIPE frames=%u cpu_ns=%" G_GINT64_FORMAT " user_ns=%"
        G_GINT64_FORMAT " sys_ns=%" G_GINT64_FORMAT " wall_ns=%"
        G_GINT64_FORMAT " bytes_copied=%" G_GUINT64_FORMAT " copied=%"
        G_GUINT64_FORMAT " passed=%" G_GUINT64_FORMAT, frames,
        b->cpu - a->cpu, b->user - a->user, b->sys - a->sys,
        b->wall - a->wall, b->bytes_copied - a->bytes_copied,
        b->copied - a->copied, b->passed - a->passed);
    print_counts (&a->counts, &b->counts);
    printf ("\n");
  }
  if (feeder)
    gst_object_unref (feeder->appsrc);
  if (run.up)
    gst_object_unref (run.up);
  gst_object_unref (run.pipeline);
  fflush (stdout);
  if (!ok)
    exit (1);
}

static void
video_info (GstVideoInfo * info, const gchar * format, guint w, guint h)
{
  GstVideoFormat f = gst_video_format_from_string (format);

  if (f == GST_VIDEO_FORMAT_UNKNOWN)
    fail ("unknown format %s", format);
  gst_video_info_set_format (info, f, w, h);
  GST_VIDEO_INFO_FPS_N (info) = 30;
  GST_VIDEO_INFO_FPS_D (info) = 1;
}

/* Frames a producer would make: @n buffers of system memory. */
static GstBuffer **
system_frames (const GstVideoInfo * info, guint n)
{
  GstBuffer **frames = g_new0 (GstBuffer *, n);
  gsize size = GST_VIDEO_INFO_SIZE (info), k;
  GstMapInfo map;
  guint i;

  for (i = 0; i < n; i++) {
    frames[i] = gst_buffer_new_allocate (NULL, size, NULL);
    gst_buffer_map (frames[i], &map, GST_MAP_WRITE);
    for (k = 0; k < size; k++)
      map.data[k] = (guint8) (k * 7 + i * 31);
    gst_buffer_unmap (frames[i], &map);
  }
  return frames;
}

static int
mode_feed (int argc, char **argv)
{
  guint warm, frames, w, h, i, k, reps;
  GstVideoInfo info;
  GstCaps *caps;
  gchar *caps_str, *desc, *rest;
  Feeder feeder = { 0, };
  guint8 *dst[4];
  gsize size;
  gint64 t0, t1, w0, w1;

  if (argc < 6)
    fail ("feed WARM FRAMES FORMAT WIDTH HEIGHT PIPELINE...");
  warm = parse_uint (argv[0]);
  frames = parse_uint (argv[1]);
  w = parse_uint (argv[3]);
  h = parse_uint (argv[4]);
  video_info (&info, argv[2], w, h);
  size = GST_VIDEO_INFO_SIZE (&info);

  /* a few different frames, as a source would make */
  feeder.n_frames = 4;
  feeder.frames = system_frames (&info, feeder.n_frames);

  caps = gst_video_info_to_caps (&info);
  caps_str = gst_caps_to_string (caps);
  gst_caps_unref (caps);
  rest = join_args (argc - 5, argv + 5);
  desc = g_strdup_printf ("appsrc name=src format=time is-live=false "
      "block=true max-buffers=4 caps=\"%s\" ! %s", caps_str, rest);
  run_pipeline (warm, frames, desc, &feeder);

  /* The same frames with memcpy, each into a destination of its own, as
   * a copy into a pool of buffers would (every frame read, every byte
   * written, the same amount of memory touched). */
  for (i = 0; i < feeder.n_frames; i++)
    dst[i] = g_malloc0 (size);
  reps = frames;
  for (k = 0; k < 2; k++) {
    GstMapInfo maps[4];

    for (i = 0; i < feeder.n_frames; i++)
      gst_buffer_map (feeder.frames[i], &maps[i], GST_MAP_READ);
    t0 = cpu_now ();
    w0 = wall_now ();
    for (i = 0; i < reps; i++)
      memcpy (dst[i % feeder.n_frames], maps[i % feeder.n_frames].data, size);
    t1 = cpu_now ();
    w1 = wall_now ();
    for (i = 0; i < feeder.n_frames; i++)
      gst_buffer_unmap (feeder.frames[i], &maps[i]);
    /* the first round warms the destination */
    if (k == 1)
      printf ("BENCH-MEMCPY frames=%u bytes=%" G_GSIZE_FORMAT " cpu_ns=%"
          G_GINT64_FORMAT " wall_ns=%" G_GINT64_FORMAT "\n", reps,
          size * reps, t1 - t0, w1 - w0);
  }
  for (i = 0; i < feeder.n_frames; i++)
    g_free (dst[i]);
  for (i = 0; i < feeder.n_frames; i++)
    gst_buffer_unref (feeder.frames[i]);
  g_free (feeder.frames);
  g_free (caps_str);
  g_free (rest);
  g_free (desc);
  return 0;
}

static int
mode_pipe (int argc, char **argv)
{
  gchar *desc;

  if (argc < 3)
    fail ("pipe WARM FRAMES PIPELINE...");
  desc = join_args (argc - 2, argv + 2);
  run_pipeline (parse_uint (argv[0]), parse_uint (argv[1]), desc, NULL);
  g_free (desc);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* allocator */

/* The ways to allocate that mode_alloc compares. */
typedef enum
{
  ALLOC_RAW,                    /* DMA_HEAP_IOCTL_ALLOC + close() */
  ALLOC_WRAP,                   /* the same, wrapped by GstDmaBufAllocator */
  ALLOC_OURS,                   /* GstDmaHeapAllocator, no label */
  ALLOC_NAMED,                  /* GstDmaHeapAllocator with a label */
  N_ALLOC_WAYS
} AllocWay;

static const gchar *alloc_way_names[N_ALLOC_WAYS] = {
  "raw", "wrap", "ours", "named"
};

typedef struct
{
  const gchar *heap;
  gsize size;
  int heap_fd;
  GstAllocator *dmabuf;
  GstAllocator *ours;
  GstAllocator *named;
} AllocBench;

static int
raw_alloc (AllocBench * ab)
{
  struct dma_heap_allocation_data d = { 0, };

  d.len = ab->size;
  d.fd_flags = O_RDWR | O_CLOEXEC;
  if (ioctl (ab->heap_fd, DMA_HEAP_IOCTL_ALLOC, &d) < 0)
    fail ("DMA_HEAP_IOCTL_ALLOC %s %" G_GSIZE_FORMAT ": %s", ab->heap,
        ab->size, g_strerror (errno));
  return (int) d.fd;
}

/* One block of @iters allocations and frees one way: CPU ns. */
static gint64
alloc_block (AllocBench * ab, AllocWay way, guint iters)
{
  gint64 t0 = cpu_now ();
  GstMemory *mem;
  guint i;

  for (i = 0; i < iters; i++) {
    switch (way) {
      case ALLOC_RAW:
        close (raw_alloc (ab));
        continue;
      case ALLOC_WRAP:
        mem = gst_dmabuf_allocator_alloc (ab->dmabuf, raw_alloc (ab),
            ab->size);
        break;
      case ALLOC_OURS:
        mem = gst_allocator_alloc (ab->ours, ab->size, NULL);
        break;
      default:
        mem = gst_allocator_alloc (ab->named, ab->size, NULL);
        break;
    }
    if (!mem)
      fail ("%s allocation on %s of %" G_GSIZE_FORMAT " failed",
          alloc_way_names[way], ab->heap, ab->size);
    gst_memory_unref (mem);
  }
  return cpu_now () - t0;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Median of @n ratios kept as parts per million. */
static gint64
median_ppm (gint64 * v, guint n)
{
  qsort (v, n, sizeof (gint64), compare_gint64);
  return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Iterations for a block of about @target_ns, from one timed block of
 * @iters taking @ns (at least @iters, at most 100 times as many). */
static guint
scale_iters (guint iters, gint64 ns, gint64 target_ns)
{
  gint64 n;

  if (ns <= 0)
    return iters * 100;
  n = (gint64) iters * target_ns / ns;
  return (guint) CLAMP (n, (gint64) iters, (gint64) iters * 100);
}

static GstAllocator *
bench_allocator (const gchar * heap, const gchar * label)
{
  GError *err = NULL;
  GstAllocator *alloc = gst_dma_heap_allocator_new (heap, &err);

  if (!alloc)
    fail ("allocator on %s: %s", heap, err->message);
  if (label)
    gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (alloc), label);
  return alloc;
}

/* Alloc + free of SIZE bytes on HEAP four ways, in blocks of about 100 ms
 * (at least MIN_ITERS allocations), ROUNDS rounds after one of warm-up.
 * Each round runs the four blocks one after the other, so that they share
 * the load; the ratios printed are the medians of the rounds' ratios. */
static int
mode_alloc (int argc, char **argv)
{
  AllocBench ab = { 0, };
  guint iters, rounds, r, w;
  gint64 total[N_ALLOC_WAYS] = { 0, };
  gint64 ioctls[N_ALLOC_WAYS] = { 0, };
  gint64 *ppm[N_ALLOC_WAYS], *ppm_wrap;
  gint64 t[N_ALLOC_WAYS];
  Counts c0, c1;
  gchar *path;

  if (argc != 4)
    fail ("alloc HEAP SIZE MIN_ITERS ROUNDS");
  ab.heap = argv[0];
  ab.size = parse_uint (argv[1]);
  iters = parse_uint (argv[2]);
  rounds = parse_uint (argv[3]);

  ab.ours = bench_allocator (ab.heap, NULL);
  ab.named = bench_allocator (ab.heap, "bench");
  ab.dmabuf = gst_dmabuf_allocator_new ();
  path = g_strdup_printf ("/dev/dma_heap/%s", ab.heap);
  ab.heap_fd = open (path, O_RDWR | O_CLOEXEC);
  if (ab.heap_fd < 0)
    fail ("open %s: %s", path, g_strerror (errno));

  alloc_block (&ab, ALLOC_RAW, iters);
  iters = scale_iters (iters, alloc_block (&ab, ALLOC_RAW, iters),
      (gint64) 100 * 1000 * 1000);

  for (w = 0; w < N_ALLOC_WAYS; w++)
    ppm[w] = g_new0 (gint64, rounds);
  ppm_wrap = g_new0 (gint64, rounds);
  for (r = 0; r <= rounds; r++) {
    for (w = 0; w < N_ALLOC_WAYS; w++) {
      counts_get (&c0);
      t[w] = alloc_block (&ab, (AllocWay) w, iters);
      counts_get (&c1);
      ioctls[w] = (c1.ioctl - c0.ioctl) / iters;
    }
    /* the first round warms up */
    if (r == 0)
      continue;
    for (w = 0; w < N_ALLOC_WAYS; w++) {
      total[w] += t[w];
      ppm[w][r - 1] = t[w] * 1000000 / MAX (t[ALLOC_RAW], 1);
    }
    ppm_wrap[r - 1] = t[ALLOC_OURS] * 1000000 / MAX (t[ALLOC_WRAP], 1);
  }

  printf ("BENCH-ALLOC heap=%s size=%" G_GSIZE_FORMAT " iters=%u", ab.heap,
      ab.size, iters * rounds);
  for (w = 0; w < N_ALLOC_WAYS; w++) {
    printf (" %s_ns=%" G_GINT64_FORMAT " %s_ioctl=%" G_GINT64_FORMAT
        " %s_ppm=%" G_GINT64_FORMAT, alloc_way_names[w],
        total[w] / (gint64) (iters * rounds), alloc_way_names[w], ioctls[w],
        alloc_way_names[w], median_ppm (ppm[w], rounds));
    g_free (ppm[w]);
  }
  printf (" ours_wrap_ppm=%" G_GINT64_FORMAT "\n",
      median_ppm (ppm_wrap, rounds));
  g_free (ppm_wrap);

  close (ab.heap_fd);
  g_free (path);
  gst_object_unref (ab.ours);
  gst_object_unref (ab.named);
  gst_object_unref (ab.dmabuf);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* pool */

static gint64
pool_loop (GstBufferPool * pool, guint iters, Counts * delta)
{
  gint64 t0, t;
  guint i;
  Counts a;

  counts_get (&a);
  t0 = cpu_now ();
  for (i = 0; i < iters; i++) {
    GstBuffer *buf = NULL;

    if (gst_buffer_pool_acquire_buffer (pool, &buf, NULL) != GST_FLOW_OK)
      fail ("acquire failed");
    gst_buffer_unref (buf);
  }
  t = cpu_now () - t0;
  counts_since (delta, &a);
  return t;
}

static GstBufferPool *
pool_start (GstBufferPool * pool, GstAllocator * alloc, GstVideoInfo * info)
{
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstCaps *caps = gst_video_info_to_caps (info);

  gst_buffer_pool_config_set_params (config, caps,
      (guint) GST_VIDEO_INFO_SIZE (info), 4, 0);
  if (alloc)
    gst_buffer_pool_config_set_allocator (config, alloc, NULL);
  gst_buffer_pool_config_add_option (config,
      GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_caps_unref (caps);
  if (!gst_buffer_pool_set_config (pool, config))
    fail ("pool config refused");
  if (!gst_buffer_pool_set_active (pool, TRUE))
    fail ("pool does not activate");
  return pool;
}

static int
mode_pool (int argc, char **argv)
{
  GstVideoInfo info;
  GstAllocator *alloc;
  GstBufferPool *ours, *sys;
  GError *err = NULL;
  guint iters, rounds, r;
  gint64 t_ours = 0, t_sys = 0, t;
  Counts d_ours, d_sys;

  if (argc != 6)
    fail ("pool HEAP FORMAT WIDTH HEIGHT ITERS ROUNDS");
  video_info (&info, argv[1], parse_uint (argv[2]), parse_uint (argv[3]));
  iters = parse_uint (argv[4]);
  rounds = parse_uint (argv[5]);
  alloc = gst_dma_heap_allocator_new (argv[0], &err);
  if (!alloc)
    fail ("allocator on %s: %s", argv[0], err->message);

  ours = pool_start (gst_dma_heap_buffer_pool_new (alloc), alloc, &info);
  sys = pool_start (gst_video_buffer_pool_new (), NULL, &info);
  for (r = 0; r <= rounds; r++) {
    t = pool_loop (ours, iters, &d_ours);
    if (r > 0)
      t_ours += t;
    t = pool_loop (sys, iters, &d_sys);
    if (r > 0)
      t_sys += t;
  }
  printf ("BENCH-POOL heap=%s format=%s size=%ux%u iters=%u ours_ns=%"
      G_GINT64_FORMAT " system_ns=%" G_GINT64_FORMAT " ours_ioctl=%"
      G_GINT64_FORMAT " ours_mmap=%" G_GINT64_FORMAT " ours_alloc=%"
      G_GINT64_FORMAT "\n", argv[0], argv[1], GST_VIDEO_INFO_WIDTH (&info),
      GST_VIDEO_INFO_HEIGHT (&info), iters * rounds,
      t_ours / (gint64) (iters * rounds), t_sys / (gint64) (iters * rounds),
      d_ours.ioctl, d_ours.mmap_fd, d_ours.heap_alloc);
  gst_buffer_pool_set_active (ours, FALSE);
  gst_buffer_pool_set_active (sys, FALSE);
  gst_object_unref (ours);
  gst_object_unref (sys);
  gst_object_unref (alloc);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* CPU map cost */

static gint64
map_loop (GstMemory * mem, gsize size, guint iters, guint8 val, Counts * d)
{
  gint64 t0, t;
  guint i;
  Counts a;

  counts_get (&a);
  t0 = cpu_now ();
  for (i = 0; i < iters; i++) {
    GstMapInfo map;

    if (!gst_memory_map (mem, &map, GST_MAP_WRITE))
      fail ("map failed");
    memset (map.data, val + i, size);
    gst_memory_unmap (mem, &map);
  }
  t = cpu_now () - t0;
  counts_since (d, &a);
  return t;
}

static int
mode_map (int argc, char **argv)
{
  GstVideoInfo info;
  GstAllocator *alloc;
  GstMemory *mem, *sysmem;
  GError *err = NULL;
  guint iters, rounds, r;
  gsize size;
  gint64 t_heap = 0, t_sys = 0, t;
  Counts d_heap, d_sys;

  if (argc != 6)
    fail ("map HEAP FORMAT WIDTH HEIGHT ITERS ROUNDS");
  video_info (&info, argv[1], parse_uint (argv[2]), parse_uint (argv[3]));
  size = GST_VIDEO_INFO_SIZE (&info);
  iters = parse_uint (argv[4]);
  rounds = parse_uint (argv[5]);
  alloc = gst_dma_heap_allocator_new (argv[0], &err);
  if (!alloc)
    fail ("allocator on %s: %s", argv[0], err->message);
  mem = gst_allocator_alloc (alloc, size, NULL);
  sysmem = gst_allocator_alloc (NULL, size, NULL);
  if (!mem || !sysmem)
    fail ("allocation of %" G_GSIZE_FORMAT " bytes failed", size);

  for (r = 0; r <= rounds; r++) {
    t = map_loop (mem, size, iters, 1, &d_heap);
    if (r > 0)
      t_heap += t;
    t = map_loop (sysmem, size, iters, 2, &d_sys);
    if (r > 0)
      t_sys += t;
  }
  printf ("BENCH-MAP heap=%s format=%s size=%ux%u bytes=%" G_GSIZE_FORMAT
      " iters=%u heap_ns=%" G_GINT64_FORMAT " sysmem_ns=%" G_GINT64_FORMAT
      " sync_per_map=%" G_GINT64_FORMAT " mmap_per_map=%" G_GINT64_FORMAT
      "\n", argv[0], argv[1], GST_VIDEO_INFO_WIDTH (&info),
      GST_VIDEO_INFO_HEIGHT (&info), size, iters * rounds,
      t_heap / (gint64) (iters * rounds), t_sys / (gint64) (iters * rounds),
      d_heap.buf_sync / iters, d_heap.mmap_fd);
  gst_memory_unref (mem);
  gst_memory_unref (sysmem);
  gst_object_unref (alloc);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* element overhead: one heap buffer through ELEMENT ! fakesink */

typedef struct
{
  GstElement *pipeline;
  GstPad *src;
} Chain;

static void
chain_setup (Chain * c, const gchar * element, const gchar * heap,
    GstCaps * caps)
{
  gchar *desc = g_strdup_printf ("%s name=e%s%s ! fakesink sync=false",
      element, strcmp (element, "dmaheapupload") == 0 ? " heap=" : "",
      strcmp (element, "dmaheapupload") == 0 ? heap : "");
  GError *err = NULL;
  GstElement *e;
  GstPad *sinkpad;
  GstSegment seg;

  c->pipeline = gst_parse_launch (desc, &err);
  if (!c->pipeline || err)
    fail ("'%s': %s", desc, err ? err->message : "?");
  e = gst_bin_get_by_name (GST_BIN (c->pipeline), "e");
  sinkpad = gst_element_get_static_pad (e, "sink");
  c->src = gst_pad_new ("src", GST_PAD_SRC);
  gst_pad_set_active (c->src, TRUE);
  if (gst_pad_link (c->src, sinkpad) != GST_PAD_LINK_OK)
    fail ("cannot link to %s", element);
  gst_object_unref (sinkpad);
  gst_object_unref (e);
  if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    fail ("'%s' does not start", desc);
  gst_pad_push_event (c->src, gst_event_new_stream_start ("bench"));
  gst_pad_push_event (c->src, gst_event_new_caps (caps));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_pad_push_event (c->src, gst_event_new_segment (&seg));
  g_free (desc);
}

static gint64
chain_loop (Chain * c, GstBuffer * buf, guint iters)
{
  gint64 t0;
  guint i;

  t0 = cpu_now ();
  for (i = 0; i < iters; i++) {
    if (gst_pad_push (c->src, gst_buffer_ref (buf)) != GST_FLOW_OK)
      fail ("push failed");
  }
  return cpu_now () - t0;
}

static void
chain_teardown (Chain * c)
{
  gst_element_set_state (c->pipeline, GST_STATE_NULL);
  gst_pad_set_active (c->src, FALSE);
  gst_object_unref (c->src);
  gst_object_unref (c->pipeline);
}

/* A heap buffer pushed through dmaheapupload and through identity, in
 * alternating blocks of about 100 ms (at least MIN_ITERS buffers), ROUNDS
 * rounds after one of warm-up; the ratio is the median of the rounds'. */
static int
mode_chain (int argc, char **argv)
{
  GstVideoInfo info;
  GstAllocator *alloc;
  GError *err = NULL;
  GstBuffer *buf;
  GstCaps *caps;
  Chain up, id;
  guint iters, rounds, r;
  gint64 t_up = 0, t_id = 0, tu, ti, *ppm;
  Counts a, b;

  if (argc != 3)
    fail ("chain HEAP MIN_ITERS ROUNDS");
  iters = parse_uint (argv[1]);
  rounds = parse_uint (argv[2]);
  video_info (&info, "BGRx", 640, 480);
  caps = gst_video_info_to_caps (&info);
  alloc = gst_dma_heap_allocator_new (argv[0], &err);
  if (!alloc)
    fail ("allocator on %s: %s", argv[0], err->message);
  buf = gst_buffer_new ();
  gst_buffer_append_memory (buf, gst_allocator_alloc (alloc,
          GST_VIDEO_INFO_SIZE (&info), NULL));

  chain_setup (&up, "dmaheapupload", argv[0], caps);
  chain_setup (&id, "identity", argv[0], caps);
  chain_loop (&up, buf, iters);
  iters = scale_iters (iters, chain_loop (&id, buf, iters),
      (gint64) 100 * 1000 * 1000);

  ppm = g_new0 (gint64, rounds);
  counts_get (&a);
  for (r = 0; r <= rounds; r++) {
    tu = chain_loop (&up, buf, iters);
    ti = chain_loop (&id, buf, iters);
    if (r == 0)
      continue;
    t_up += tu;
    t_id += ti;
    ppm[r - 1] = tu * 1000000 / MAX (ti, 1);
  }
  counts_get (&b);
  printf ("BENCH-CHAIN heap=%s iters=%u upload_ns=%" G_GINT64_FORMAT
      " identity_ns=%" G_GINT64_FORMAT " ratio_ppm=%" G_GINT64_FORMAT
      " syscalls=%" G_GINT64_FORMAT "\n", argv[0], iters * rounds,
      t_up / (gint64) (iters * rounds), t_id / (gint64) (iters * rounds),
      median_ppm (ppm, rounds),
      (b.ioctl - a.ioctl) + (b.mmap_fd - a.mmap_fd) + (b.munmap - a.munmap));
  g_free (ppm);
  chain_teardown (&up);
  chain_teardown (&id);
  gst_buffer_unref (buf);
  gst_caps_unref (caps);
  gst_object_unref (alloc);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* copy path, per frame: system-memory frames pushed into dmaheapupload */

typedef enum
{
  COPY_MEMCPY,                  /* memcpy() into malloc'd frames */
  COPY_HEAP,                    /* memcpy() into mapped heap memories */
  COPY_ELEMENT,                 /* frames pushed into dmaheapupload */
  N_COPY_WAYS
} CopyWay;

static const gchar *copy_way_names[N_COPY_WAYS] = {
  "memcpy", "heap", "element"
};

typedef struct
{
  GstBuffer **frames;
  GstMapInfo *in;               /* the frames, mapped for reading */
  guint n_frames;
  gsize size;
  guint8 **dst;                 /* one malloc'd frame per heap memory */
  GstMemory **heap_mems;        /* as many as the pool would cycle through */
  Chain chain;
} CopyBench;

static gint64
copy_block (CopyBench * cb, CopyWay way, guint iters, Counts * d)
{
  gint64 t0;
  Counts a;
  guint i;

  counts_get (&a);
  t0 = cpu_now ();
  for (i = 0; i < iters; i++) {
    guint f = i % cb->n_frames;

    switch (way) {
      case COPY_MEMCPY:
        memcpy (cb->dst[f], cb->in[f].data, cb->size);
        break;
      case COPY_HEAP:{
        GstMapInfo out;

        /* as the element does: a synchronised map per frame */
        if (!gst_memory_map (cb->heap_mems[f], &out, GST_MAP_WRITE))
          fail ("cannot map heap memory");
        memcpy (out.data, cb->in[f].data, cb->size);
        gst_memory_unmap (cb->heap_mems[f], &out);
        break;
      }
      default:
        if (gst_pad_push (cb->chain.src, gst_buffer_ref (cb->frames[f])) !=
            GST_FLOW_OK)
          fail ("push into dmaheapupload failed");
        break;
    }
  }
  t0 = cpu_now () - t0;
  counts_since (d, &a);
  return t0;
}

/* Per frame copy cost of the element against memcpy() of the same frames
 * into as many malloc'd frames as there are heap memories (the same bytes
 * read and written), and against memcpy() into heap memory through
 * synchronised maps (what any CPU write into a dma-buf costs). Blocks of about 100 ms (at least
 * MIN_ITERS frames), ROUNDS rounds after one of warm-up, medians of the
 * rounds' ratios. */
static int
mode_copy (int argc, char **argv)
{
  CopyBench cb = { 0, };
  GstVideoInfo info;
  GstAllocator *alloc;
  GError *err = NULL;
  GstCaps *caps;
  guint iters, rounds, r, w, i;
  gint64 t[N_COPY_WAYS], total[N_COPY_WAYS] = { 0, };
  gint64 *ppm_heap, *ppm_element;
  Counts d[N_COPY_WAYS];

  if (argc != 6)
    fail ("copy HEAP FORMAT WIDTH HEIGHT MIN_ITERS ROUNDS");
  video_info (&info, argv[1], parse_uint (argv[2]), parse_uint (argv[3]));
  iters = parse_uint (argv[4]);
  rounds = parse_uint (argv[5]);
  cb.size = GST_VIDEO_INFO_SIZE (&info);
  cb.n_frames = 4;
  cb.frames = system_frames (&info, cb.n_frames);
  cb.in = g_new0 (GstMapInfo, cb.n_frames);
  for (i = 0; i < cb.n_frames; i++)
    gst_buffer_map (cb.frames[i], &cb.in[i], GST_MAP_READ);
  cb.dst = g_new0 (guint8 *, cb.n_frames);
  for (i = 0; i < cb.n_frames; i++)
    cb.dst[i] = g_malloc0 (cb.size);

  alloc = gst_dma_heap_allocator_new (argv[0], &err);
  if (!alloc)
    fail ("allocator on %s: %s", argv[0], err->message);
  cb.heap_mems = g_new0 (GstMemory *, cb.n_frames);
  for (i = 0; i < cb.n_frames; i++) {
    cb.heap_mems[i] = gst_allocator_alloc (alloc, cb.size, NULL);
    if (!cb.heap_mems[i])
      fail ("allocation of %" G_GSIZE_FORMAT " bytes failed", cb.size);
  }

  caps = gst_video_info_to_caps (&info);
  chain_setup (&cb.chain, "dmaheapupload", argv[0], caps);
  gst_caps_unref (caps);

  for (w = 0; w < N_COPY_WAYS; w++)
    copy_block (&cb, (CopyWay) w, iters, &d[w]);
  iters = scale_iters (iters, copy_block (&cb, COPY_MEMCPY, iters, &d[0]),
      (gint64) 100 * 1000 * 1000);

  ppm_heap = g_new0 (gint64, rounds);
  ppm_element = g_new0 (gint64, rounds);
  for (r = 0; r <= rounds; r++) {
    for (w = 0; w < N_COPY_WAYS; w++)
      t[w] = copy_block (&cb, (CopyWay) w, iters, &d[w]);
    if (r == 0)
      continue;
    for (w = 0; w < N_COPY_WAYS; w++)
      total[w] += t[w];
    /* throughput ratios: memcpy time over the other's time */
    ppm_heap[r - 1] = t[COPY_MEMCPY] * 1000000 / MAX (t[COPY_HEAP], 1);
    ppm_element[r - 1] = t[COPY_MEMCPY] * 1000000 / MAX (t[COPY_ELEMENT], 1);
  }

  printf ("BENCH-COPY heap=%s format=%s size=%ux%u bytes=%" G_GSIZE_FORMAT
      " frames=%u", argv[0], argv[1], GST_VIDEO_INFO_WIDTH (&info),
      GST_VIDEO_INFO_HEIGHT (&info), cb.size, iters * rounds);
  for (w = 0; w < N_COPY_WAYS; w++)
    printf (" %s_ns=%" G_GINT64_FORMAT, copy_way_names[w],
        total[w] / (gint64) (iters * rounds));
  printf (" heap_ppm=%" G_GINT64_FORMAT " element_ppm=%" G_GINT64_FORMAT
      " element_sync=%" G_GINT64_FORMAT " element_alloc=%" G_GINT64_FORMAT
      " element_mmap=%" G_GINT64_FORMAT "\n", median_ppm (ppm_heap, rounds),
      median_ppm (ppm_element, rounds), d[COPY_ELEMENT].buf_sync / iters,
      d[COPY_ELEMENT].heap_alloc, d[COPY_ELEMENT].mmap_fd);

  chain_teardown (&cb.chain);
  for (i = 0; i < cb.n_frames; i++) {
    gst_buffer_unmap (cb.frames[i], &cb.in[i]);
    gst_buffer_unref (cb.frames[i]);
    gst_memory_unref (cb.heap_mems[i]);
    g_free (cb.dst[i]);
  }
  g_free (cb.frames);
  g_free (cb.in);
  g_free (cb.heap_mems);
  g_free (cb.dst);
  g_free (ppm_heap);
  g_free (ppm_element);
  gst_object_unref (alloc);
  return 0;
}

int
main (int argc, char **argv)
{
  int ret;

  resolve_real ();
  gst_init (&argc, &argv);
  if (argc < 2)
    fail ("usage: dmaheap-bench pipe|feed|alloc|pool|map|chain|copy ARGS...");
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (strcmp (argv[1], "pipe") == 0)
    ret = mode_pipe (argc - 2, argv + 2);
  else if (strcmp (argv[1], "feed") == 0)
    ret = mode_feed (argc - 2, argv + 2);
  else if (strcmp (argv[1], "alloc") == 0)
    ret = mode_alloc (argc - 2, argv + 2);
  else if (strcmp (argv[1], "pool") == 0)
    ret = mode_pool (argc - 2, argv + 2);
  else if (strcmp (argv[1], "map") == 0)
    ret = mode_map (argc - 2, argv + 2);
  else if (strcmp (argv[1], "chain") == 0)
    ret = mode_chain (argc - 2, argv + 2);
  else if (strcmp (argv[1], "copy") == 0)
    ret = mode_copy (argc - 2, argv + 2);
  else
    fail ("unknown mode %s", argv[1]);

  gst_deinit ();
  return ret;
}
