/* gst-dmaheap: GstDmaHeapAllocator
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstdmaheapallocator
 * @title: GstDmaHeapAllocator
 * @short_description: Memory allocated from Linux dma-buf heaps
 * @see_also: #GstDmaBufAllocator, #GstDmaHeapBufferPool
 *
 * A #GstDmaHeapAllocator allocates dma-bufs from one or more dma-buf heaps,
 * chosen with a heap spec (see gst_dma_heap_resolve()). It is a subclass of
 * #GstDmaBufAllocator: its memories pass gst_is_dmabuf_memory(), have the
 * memory type %GST_ALLOCATOR_DMABUF, and elements that import dma-bufs
 * (kmssink, the v4l2 elements) use them without copying.
 *
 * Each heap of the spec is opened once, when the allocator is created. An
 * allocation is tried on the heaps in the order of the spec: when a heap
 * fails (out of memory, or any other error), a warning is logged and the
 * next heap is tried. When every heap fails, gst_allocator_alloc() returns
 * %NULL and gst_dma_heap_allocator_get_last_error() tells which heaps were
 * tried, how many bytes were asked and why each heap refused (the ioctl
 * that failed and the errno text); gst_dma_heap_allocator_alloc_full()
 * gives that error directly. A `DMA_HEAP_IOCTL_ALLOC` or
 * `DMA_BUF_IOCTL_SYNC` interrupted by a signal (`EINTR`) or answered
 * `EAGAIN` is issued again, 8 times in all at most: then it fails, and the
 * error says so.
 *
 * Memories stay mapped from their first map until they are freed
 * (%GST_FD_MEMORY_FLAG_KEEP_MAPPED), and every CPU access made through
 * gst_memory_map() is bracketed by `DMA_BUF_IOCTL_SYNC`:
 * `DMA_BUF_SYNC_START` in the map and `DMA_BUF_SYNC_END` in the unmap, with
 * the read/write flags of the map. A `DMA_BUF_SYNC_START` that fails makes
 * the map fail (gst_memory_map() returns %FALSE, with a warning giving the
 * errno text), where #GstDmaBufAllocator, the parent class, only logs it and
 * hands out a mapping whose caches may not be coherent. A failing
 * `DMA_BUF_SYNC_END` can only be logged: an unmap cannot fail. Code that
 * accesses the memory through its own mapping of the fd can use
 * gst_dma_heap_memory_sync().
 *
 * Once gst_dma_heap_allocator_set_label() gave it a label, the allocator
 * names every dma-buf with `DMA_BUF_SET_NAME` as `<label>:<heap>`,
 * truncated to what the kernel accepts, so that it can be recognised in
 * `/sys/kernel/debug/dma_buf/bufinfo`. Naming costs one more system call
 * per allocation, so an allocator without a label does not name its
 * buffers (bufinfo still shows the heap as their exporter).
 * #GstDmaHeapBufferPool and dmaheapupload label the allocators they create.
 *
 * #GstAllocationParams are honoured: sizes are rounded up to whole pages
 * (with overflow checks), @prefix and @padding are part of the dma-buf, and
 * %GST_MEMORY_FLAG_ZERO_PREFIXED and %GST_MEMORY_FLAG_ZERO_PADDED are
 * honoured even though the kernel's heaps return zeroed memory. A dma-buf
 * always starts on a page boundary, in every mapping and, for contiguous
 * heaps, in physical memory, so any alignment up to the page size holds
 * without extra space. A larger alignment cannot be promised by user space
 * (the address of a CPU mapping and the device address are chosen by the
 * kernel); such a request is allocated anyway, with a warning, and the
 * memory's align field says the page alignment that is guaranteed. The CMA
 * heap in practice aligns large buffers further (to their size order, up to
 * `CONFIG_CMA_ALIGNMENT`).
 *
 * Copying a memory (gst_memory_copy(), and so gst_buffer_make_writable()
 * followed by a write map, or gst_buffer_copy_deep()) puts the copy in
 * system memory, never in a heap: a heap is scarce (a CMA region) and
 * filled through pools, and a copy made per frame by an in-place transform
 * would otherwise take a heap allocation each time, or fail when the
 * region is full. The CPU copies through a synchronised map of the
 * original. From GStreamer 1.24 on the allocator also has
 * %GST_ALLOCATOR_FLAG_NO_COPY, which says the same to generic code.
 *
 * %GST_ALLOCATOR_FLAG_CUSTOM_ALLOC is cleared, so generic code such as
 * gst_buffer_new_allocate() or #GstVideoBufferPool can allocate from this
 * allocator.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdmaheapallocator.h"
#include "gstdmaheap.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

GST_DEBUG_CATEGORY_STATIC (gst_dma_heap_allocator_debug);
GST_DEBUG_CATEGORY_STATIC (GST_CAT_PERFORMANCE);
#define GST_CAT_DEFAULT gst_dma_heap_allocator_debug

struct _GstDmaHeapAllocator
{
  GstDmaBufAllocator parent;

  /* set at construction, read-only afterwards */
  gchar *spec;
  gchar **heaps;                /* interned heap names that opened */
  gint *fds;                    /* device fd of each of @heaps */
  guint n_heaps;
  gsize page_mask;

  /* protected by object lock; @labelled (atomic) says whether @label is
   * set, so that allocations without a label take no lock for it */
  gchar *label;
  gint labelled;
  GError *last_error;
  gboolean warned_align;
};

/* The heap of a memory is kept as its index + 1 in the allocator's heaps,
 * in bits of the memory's flags that GstMemory leaves to implementations
 * (from GST_MEMORY_FLAG_LAST on): it costs nothing per allocation, and
 * gst_memory_share() copies the flags of the parent. A heap beyond the 255
 * first of an allocator is kept as qdata instead. */
#define HEAP_INDEX_SHIFT 24
#define HEAP_INDEX_MAX 0xffu
G_STATIC_ASSERT ((1u << HEAP_INDEX_SHIFT) >= (guint) GST_MEMORY_FLAG_LAST);

static GQuark heap_quark;

#define parent_class gst_dma_heap_allocator_parent_class
G_DEFINE_TYPE_WITH_CODE (GstDmaHeapAllocator, gst_dma_heap_allocator,
    GST_TYPE_DMABUF_ALLOCATOR,
    GST_DEBUG_CATEGORY_INIT (gst_dma_heap_allocator_debug, "dmaheapallocator",
        0, "dma-buf heap allocator");
    GST_DEBUG_CATEGORY_GET (GST_CAT_PERFORMANCE, "GST_PERFORMANCE");
    heap_quark = g_quark_from_static_string ("GstDmaHeapMemoryHeap"));

static GstMemory *gst_dma_heap_allocator_mem_copy (GstMemory * mem,
    gssize offset, gssize size);

/* How many times an ioctl interrupted by a signal (EINTR) or told to try
 * again (EAGAIN) is issued before giving up: a heap that keeps answering
 * EAGAIN, or a storm of signals, ends in an error instead of a busy loop. */
#define IOCTL_TRIES 8

/* ioctl() issued again on EINTR and EAGAIN, IOCTL_TRIES times in all at
 * most; errno is that of the last call. */
static int
xioctl (int fd, unsigned long request, void *arg)
{
  guint n = 0;
  int ret;

  do {
    ret = ioctl (fd, request, arg);
    n++;
  } while (ret < 0 && (errno == EINTR || errno == EAGAIN) &&
      n < IOCTL_TRIES);

  return ret;
}

/* " (tried 8 times)" after the errno text of an ioctl that gave up, else
 * "". Static strings. */
static const gchar *
retry_note (int err)
{
  if (err == EINTR || err == EAGAIN)
    return " (tried " G_STRINGIFY (IOCTL_TRIES) " times)";

  return "";
}

/* Name the dma-buf "<label>:<heap>", cut to what DMA_BUF_SET_NAME takes
 * (DMA_BUF_NAME_LEN bytes with the terminating NUL), on a character
 * boundary. Nothing without a label. */
static void
gst_dma_heap_allocator_name_buffer (GstDmaHeapAllocator * self, gint fd,
    const gchar * heap)
{
  gchar name[DMA_BUF_NAME_LEN];
  gchar *full = NULL;
  const gchar *end;

  if (!g_atomic_int_get (&self->labelled))
    return;

  GST_OBJECT_LOCK (self);
  if (self->label)
    full = g_strdup_printf ("%s:%s", self->label, heap);
  GST_OBJECT_UNLOCK (self);
  if (full == NULL)
    return;

  g_strlcpy (name, full, sizeof (name));
  if (strlen (full) >= sizeof (name)) {
    /* do not leave half a UTF-8 sequence at the end */
    end = g_utf8_find_prev_char (name, name + strlen (name));
    if (end && !g_utf8_validate (name, -1, NULL))
      name[end - name] = '\0';
  }

  if (xioctl (fd, DMA_BUF_SET_NAME, name) < 0) {
    int err = errno;

    GST_DEBUG_OBJECT (self, "could not name dma-buf %d '%s': "
        "DMA_BUF_SET_NAME: %s%s", fd, name, g_strerror (err), retry_note (err));
  } else {
    GST_LOG_OBJECT (self, "named dma-buf %d '%s'", fd, name);
  }
  g_free (full);
}

/* Zero the prefix and padding areas when @params asks for it. The heaps of
 * the kernel hand out zeroed pages, but a heap driver is not bound to. */
static gboolean
gst_dma_heap_allocator_zero_areas (GstDmaHeapAllocator * self,
    GstMemory * mem, const GstAllocationParams * params)
{
  gboolean zero_prefix, zero_padding;
  gsize tail;
  GstMapInfo info;
  guint8 *base;

  zero_prefix = (params->flags & GST_MEMORY_FLAG_ZERO_PREFIXED) &&
      mem->offset > 0;
  tail = mem->maxsize - mem->offset - mem->size;
  zero_padding = (params->flags & GST_MEMORY_FLAG_ZERO_PADDED) && tail > 0;

  if (!zero_prefix && !zero_padding)
    return TRUE;

  /* through gst_memory_map() so that the write is synchronised */
  if (!gst_memory_map (mem, &info, GST_MAP_WRITE))
    return FALSE;

  base = info.data - mem->offset;
  if (zero_prefix)
    memset (base, 0, mem->offset);
  if (zero_padding)
    memset (base + mem->offset + mem->size, 0, tail);

  gst_memory_unmap (mem, &info);

  if (zero_prefix)
    GST_MINI_OBJECT_FLAG_SET (mem, GST_MEMORY_FLAG_ZERO_PREFIXED);
  if (zero_padding)
    GST_MINI_OBJECT_FLAG_SET (mem, GST_MEMORY_FLAG_ZERO_PADDED);

  return TRUE;
}

/* Allocate from heap number @idx. Returns NULL and sets @err to the errno
 * of the failure and @failed to what failed (a static string: the ioctl,
 * for one). */
static GstMemory *
gst_dma_heap_allocator_alloc_on_heap (GstDmaHeapAllocator * self, guint idx,
    gsize maxsize, gsize size, const GstAllocationParams * params, int *err,
    const gchar ** failed)
{
  struct dma_heap_allocation_data data = { 0, };
  GstMemory *mem;
  gint64 start = 0;
  gboolean timed;

  data.len = maxsize;
  data.fd_flags = O_RDWR | O_CLOEXEC;
  data.heap_flags = 0;

  /* the clock is read only for the log */
  timed = gst_debug_category_get_threshold (GST_CAT_PERFORMANCE) >=
      GST_LEVEL_DEBUG;
  if (timed)
    start = g_get_monotonic_time ();
  if (xioctl (self->fds[idx], DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
    *err = errno;
    *failed = "DMA_HEAP_IOCTL_ALLOC";
    return NULL;
  }

  if (timed) {
    GST_CAT_DEBUG_OBJECT (GST_CAT_PERFORMANCE, self,
        "allocated %" G_GSIZE_FORMAT " bytes from heap %s in %"
        G_GINT64_FORMAT " us", maxsize, self->heaps[idx],
        g_get_monotonic_time () - start);
  }

  gst_dma_heap_allocator_name_buffer (self, (gint) data.fd, self->heaps[idx]);

  mem = gst_fd_allocator_alloc (GST_ALLOCATOR_CAST (self), (gint) data.fd,
      maxsize, GST_FD_MEMORY_FLAG_KEEP_MAPPED);
  if (mem == NULL) {
    close ((gint) data.fd);
    *err = ENOMEM;
    *failed = "wrapping the dma-buf";
    return NULL;
  }

  gst_memory_resize (mem, params->prefix, size);
  mem->align = MIN (params->align, self->page_mask);

  if (idx < HEAP_INDEX_MAX) {
    GST_MINI_OBJECT_FLAG_SET (mem, (idx + 1) << HEAP_INDEX_SHIFT);
  } else {
    /* the string is interned: it outlives any memory */
    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (mem), heap_quark,
        (gpointer) self->heaps[idx], NULL);
  }

  if (!gst_dma_heap_allocator_zero_areas (self, mem, params)) {
    gst_memory_unref (mem);
    *err = EIO;
    *failed = "zeroing the prefix and padding";
    return NULL;
  }

  GST_LOG_OBJECT (self, "memory %p: fd %d, %" G_GSIZE_FORMAT " bytes at "
      "offset %" G_GSIZE_FORMAT " in %" G_GSIZE_FORMAT " from heap %s", mem,
      (gint) data.fd, mem->size, mem->offset, mem->maxsize, self->heaps[idx]);

  return mem;
}

static void
gst_dma_heap_allocator_store_error (GstDmaHeapAllocator * self,
    const GError * error)
{
  GST_OBJECT_LOCK (self);
  g_clear_error (&self->last_error);
  self->last_error = g_error_copy (error);
  GST_OBJECT_UNLOCK (self);
}

/* Try @first (when >= 0) then every heap in order. */
static GstMemory *
gst_dma_heap_allocator_alloc_internal (GstDmaHeapAllocator * self,
    gint first, gsize size, const GstAllocationParams * params,
    GError ** error)
{
  GstAllocationParams defaults;
  GstMemory *mem = NULL;
  GString *failures = NULL;
  gsize maxsize;
  gboolean no_memory = FALSE;
  const gchar *failed = NULL;
  gint i, idx;
  int err = 0;

  if (params == NULL) {
    gst_allocation_params_init (&defaults);
    params = &defaults;
  }

  if ((params->align & (params->align + 1)) != 0)
    goto bad_align;

  if (params->align > self->page_mask) {
    gboolean warn;

    GST_OBJECT_LOCK (self);
    warn = !self->warned_align;
    self->warned_align = TRUE;
    GST_OBJECT_UNLOCK (self);

    if (warn) {
      GST_WARNING_OBJECT (self, "alignment of %" G_GSIZE_FORMAT " bytes asked, "
          "only page alignment (%" G_GSIZE_FORMAT " bytes) can be guaranteed",
          params->align + 1, self->page_mask + 1);
    }
  }

  /* a dma-buf starts on a page boundary: no slack is needed for alignments
   * up to a page, and none helps beyond it */
  maxsize = size;
  if (!g_size_checked_add (&maxsize, maxsize, params->prefix) ||
      !g_size_checked_add (&maxsize, maxsize, params->padding) ||
      !g_size_checked_add (&maxsize, maxsize, self->page_mask))
    goto too_big;
  maxsize &= ~self->page_mask;
  if (maxsize == 0)
    maxsize = self->page_mask + 1;

  if (self->n_heaps == 0)
    goto no_heap;

  for (i = (first >= 0) ? -1 : 0; i < (gint) self->n_heaps; i++) {
    idx = (i < 0) ? first : i;
    if (i >= 0 && idx == first)
      continue;

    mem = gst_dma_heap_allocator_alloc_on_heap (self, idx, maxsize, size,
        params, &err, &failed);
    if (mem)
      break;

    if (err == ENOMEM || err == ENOSPC)
      no_memory = TRUE;

    /* made at the first failure only: most allocations succeed */
    if (failures == NULL)
      failures = g_string_new (NULL);
    g_string_append_printf (failures, "%sheap %s: %s: %s%s",
        failures->len ? "; " : "", self->heaps[idx], failed, g_strerror (err),
        retry_note (err));

    GST_WARNING_OBJECT (self, "heap %s could not allocate %" G_GSIZE_FORMAT
        " bytes: %s: %s%s%s", self->heaps[idx], maxsize, failed,
        g_strerror (err), retry_note (err),
        (i + 1 < (gint) self->n_heaps) ? ", trying the next heap" : "");
  }

  if (mem == NULL)
    goto all_failed;

  if (failures)
    g_string_free (failures, TRUE);

  return mem;

  /* ERRORS */
bad_align:
  {
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Invalid alignment mask %" G_GSIZE_FORMAT ": it must be a power of "
        "two minus one", params->align);
    return NULL;
  }
too_big:
  {
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_NO_MEMORY,
        "Cannot allocate %" G_GSIZE_FORMAT " bytes with a prefix of %"
        G_GSIZE_FORMAT " and a padding of %" G_GSIZE_FORMAT " bytes: the "
        "size overflows", size, params->prefix, params->padding);
    return NULL;
  }
no_heap:
  {
    /* made with g_object_new() rather than gst_dma_heap_allocator_new() */
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Cannot allocate %" G_GSIZE_FORMAT " bytes: the allocator has no "
        "heap (create it with gst_dma_heap_allocator_new())", size);
    return NULL;
  }
all_failed:
  {
    gchar *total = NULL;

    if (maxsize != size)
      total = g_strdup_printf (" (%" G_GSIZE_FORMAT " bytes with prefix, "
          "padding and page rounding)", maxsize);

    g_set_error (error, GST_DMA_HEAP_ERROR,
        no_memory ? GST_DMA_HEAP_ERROR_NO_MEMORY : GST_DMA_HEAP_ERROR_FAILED,
        "Cannot allocate %" G_GSIZE_FORMAT " bytes%s: %s", size,
        total ? total : "", failures->str);
    g_free (total);
    g_string_free (failures, TRUE);
    return NULL;
  }
}

static GstMemory *
gst_dma_heap_allocator_alloc (GstAllocator * allocator, gsize size,
    GstAllocationParams * params)
{
  GstDmaHeapAllocator *self = GST_DMA_HEAP_ALLOCATOR (allocator);
  GError *error = NULL;
  GstMemory *mem;

  mem = gst_dma_heap_allocator_alloc_internal (self, -1, size, params,
      &error);
  if (mem == NULL) {
    GST_WARNING_OBJECT (self, "%s", error->message);
    gst_dma_heap_allocator_store_error (self, error);
    g_error_free (error);
  }

  return mem;
}

static GstMemory *
gst_dma_heap_allocator_mem_copy (GstMemory * mem, gssize offset, gssize size)
{
  GstDmaHeapAllocator *self = GST_DMA_HEAP_ALLOCATOR (mem->allocator);
  GstAllocationParams params;
  GstMapInfo src, dst;
  GstMemory *copy;

  gst_allocation_params_init (&params);
  params.align = mem->align;

  if (!gst_memory_map (mem, &src, GST_MAP_READ))
    goto map_failed;

  /* in the unsigned domain, without a sum that can wrap: offset 2^62 and
   * size -2^62 once passed; -1 alone means "to the end" */
  if (offset < 0 || (gsize) offset > src.size)
    goto bad_range;
  if (size == -1)
    size = (gssize) (src.size - (gsize) offset);
  else if (size < 0 || (gsize) size > src.size - (gsize) offset)
    goto bad_range;

  /* system memory: what GST_ALLOCATOR_FLAG_NO_COPY asks of 1.24 */
  copy = gst_allocator_alloc (NULL, size, &params);
  if (copy == NULL)
    goto alloc_failed;

  if (!gst_memory_map (copy, &dst, GST_MAP_WRITE)) {
    gst_memory_unref (copy);
    gst_memory_unmap (mem, &src);
    goto map_failed;
  }

  memcpy (dst.data, src.data + offset, size);
  gst_memory_unmap (copy, &dst);
  gst_memory_unmap (mem, &src);

  GST_CAT_DEBUG_OBJECT (GST_CAT_PERFORMANCE, self, "copied %" G_GSSIZE_FORMAT
      " bytes of memory %p into %p", size, mem, copy);

  return copy;

  /* ERRORS */
map_failed:
  {
    GST_WARNING_OBJECT (self, "cannot copy memory %p: map failed", mem);
    return NULL;
  }
bad_range:
  {
    GST_WARNING_OBJECT (self, "cannot copy %" G_GSSIZE_FORMAT " bytes at "
        "offset %" G_GSSIZE_FORMAT " of memory %p of %" G_GSIZE_FORMAT
        " bytes", size, offset, mem, src.size);
    gst_memory_unmap (mem, &src);
    return NULL;
  }
alloc_failed:
  {
    GST_WARNING_OBJECT (self, "cannot copy memory %p: no system memory for "
        "%" G_GSSIZE_FORMAT " bytes", mem, size);
    gst_memory_unmap (mem, &src);
    return NULL;
  }
}

/* DMA_BUF_IOCTL_SYNC for a map with @flags: DMA_BUF_SYNC_START when @start,
 * else DMA_BUF_SYNC_END. Returns 0 or the errno of the failure. */
static int
gst_dma_heap_allocator_sync_map (GstMemory * mem, GstMapFlags flags,
    gboolean start)
{
  struct dma_buf_sync sync = { 0, };

  sync.flags = start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END;
  if (flags & GST_MAP_READ)
    sync.flags |= DMA_BUF_SYNC_READ;
  if (flags & GST_MAP_WRITE)
    sync.flags |= DMA_BUF_SYNC_WRITE;

  if (xioctl (gst_fd_memory_get_fd (mem), DMA_BUF_IOCTL_SYNC, &sync) < 0)
    return errno;

  return 0;
}

/* gst_memory_map(): the mapping of GstFdAllocator (kept from the first
 * map on), then DMA_BUF_SYNC_START. Unlike GstDmaBufAllocator's map, a
 * failed sync fails the map: the CPU would otherwise read or write through
 * caches that were not made coherent with the device. */
static gpointer
gst_dma_heap_allocator_mem_map (GstMemory * mem, GstMapInfo * info,
    gsize maxsize)
{
  GstAllocator *allocator = mem->allocator;
  gpointer data;
  int err;

  data = allocator->mem_map (mem, maxsize, info->flags);
  if (data == NULL)
    return NULL;

  err = gst_dma_heap_allocator_sync_map (mem, info->flags, TRUE);
  if (err != 0) {
    GST_WARNING_OBJECT (allocator, "cannot map memory %p: DMA_BUF_IOCTL_SYNC "
        "start on dma-buf %d failed: %s", mem, gst_fd_memory_get_fd (mem),
        g_strerror (err));
    allocator->mem_unmap (mem);
    return NULL;
  }

  return data;
}

static void
gst_dma_heap_allocator_mem_unmap (GstMemory * mem, GstMapInfo * info)
{
  GstAllocator *allocator = mem->allocator;
  int err;

  err = gst_dma_heap_allocator_sync_map (mem, info->flags, FALSE);
  if (err != 0) {
    GST_WARNING_OBJECT (allocator, "DMA_BUF_IOCTL_SYNC end on dma-buf %d of "
        "memory %p failed: %s", gst_fd_memory_get_fd (mem), mem,
        g_strerror (err));
  }

  allocator->mem_unmap (mem);
}

static void
gst_dma_heap_allocator_finalize (GObject * object)
{
  GstDmaHeapAllocator *self = GST_DMA_HEAP_ALLOCATOR (object);
  guint i;

  for (i = 0; i < self->n_heaps; i++) {
    if (self->fds[i] >= 0)
      close (self->fds[i]);
  }
  g_free (self->fds);
  g_free (self->heaps);
  g_free (self->spec);
  g_free (self->label);
  g_clear_error (&self->last_error);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_dma_heap_allocator_class_init (GstDmaHeapAllocatorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstAllocatorClass *allocator_class = GST_ALLOCATOR_CLASS (klass);

  gobject_class->finalize = gst_dma_heap_allocator_finalize;
  allocator_class->alloc = GST_DEBUG_FUNCPTR (gst_dma_heap_allocator_alloc);
}

static void
gst_dma_heap_allocator_init (GstDmaHeapAllocator * self)
{
  GstAllocator *allocator = GST_ALLOCATOR_CAST (self);
  long page_size = sysconf (_SC_PAGESIZE);

  /* mem_type stays GST_ALLOCATOR_DMABUF, as the parent set it. Map and
   * unmap bracket CPU access with DMA_BUF_IOCTL_SYNC as the parent's do,
   * on GstFdAllocator's mem_map and mem_unmap, which the parent leaves in
   * place; a failed sync fails the map. */
  allocator->mem_map_full = gst_dma_heap_allocator_mem_map;
  allocator->mem_unmap_full = gst_dma_heap_allocator_mem_unmap;
  allocator->mem_copy = gst_dma_heap_allocator_mem_copy;

  /* Inherited from GstFdAllocator; this class implements alloc() */
  GST_OBJECT_FLAG_UNSET (self, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
#if GST_CHECK_VERSION(1, 24, 0)
  /* copies go to system memory (our mem_copy does so on 1.22 too) */
  GST_OBJECT_FLAG_SET (self, GST_ALLOCATOR_FLAG_NO_COPY);
#endif

  self->page_mask = (page_size > 0 ? (gsize) page_size : 4096) - 1;
}

/**
 * gst_dma_heap_allocator_new:
 * @heap_spec: (nullable): a heap spec (see gst_dma_heap_resolve_in()),
 *   %NULL for %GST_DMA_HEAP_DEFAULT_ALIAS
 * @error: return location for a #GError, or %NULL
 *
 * Creates an allocator on the heaps @heap_spec resolves to. The heaps are
 * opened now, in the order of the spec; a heap that cannot be opened is
 * skipped with a warning. The allocator keeps each device open until it is
 * finalized.
 *
 * Returns: (transfer full) (nullable): a new #GstDmaHeapAllocator (not
 *   floating), or %NULL with @error set when the spec does not resolve or no
 *   heap of it could be opened; the error is then the one of the first heap
 *   (for instance %GST_DMA_HEAP_ERROR_PERMISSION, whose message says how to
 *   give access).
 *
 * Since: 0.1
 */
GstAllocator *
gst_dma_heap_allocator_new (const gchar * heap_spec, GError ** error)
{
  GstDmaHeapAllocator *self;
  GError *first_error = NULL;
  GArray *fds;
  GPtrArray *heaps;
  gchar **names;
  guint i;

  if (heap_spec == NULL)
    heap_spec = GST_DMA_HEAP_DEFAULT_ALIAS;

  /* registers the debug category used below */
  g_type_ensure (GST_TYPE_DMA_HEAP_ALLOCATOR);

  names = gst_dma_heap_resolve (heap_spec, error);
  if (names == NULL)
    return NULL;

  fds = g_array_new (FALSE, FALSE, sizeof (gint));
  heaps = g_ptr_array_new ();

  for (i = 0; names[i]; i++) {
    GError *err = NULL;
    gint fd;

    fd = gst_dma_heap_open (names[i], &err);
    if (fd < 0) {
      GST_WARNING ("skipping heap %s of spec '%s': %s", names[i], heap_spec,
          err->message);
      if (first_error == NULL)
        first_error = err;
      else
        g_error_free (err);
      continue;
    }

    g_array_append_val (fds, fd);
    g_ptr_array_add (heaps, (gpointer) g_intern_string (names[i]));
  }
  g_strfreev (names);

  if (fds->len == 0)
    goto no_heap;

  g_clear_error (&first_error);
  g_ptr_array_add (heaps, NULL);

  self = g_object_new (GST_TYPE_DMA_HEAP_ALLOCATOR, NULL);
  gst_object_ref_sink (self);

  self->spec = g_strdup (heap_spec);
  self->n_heaps = fds->len;
  self->fds = (gint *) g_array_free (fds, FALSE);
  self->heaps = (gchar **) g_ptr_array_free (heaps, FALSE);

  GST_INFO_OBJECT (self, "heap spec '%s': %u heap(s), first %s", self->spec,
      self->n_heaps, self->heaps[0]);

  return GST_ALLOCATOR_CAST (self);

  /* ERRORS */
no_heap:
  {
    g_array_free (fds, TRUE);
    g_ptr_array_free (heaps, TRUE);
    g_propagate_error (error, first_error);
    return NULL;
  }
}

/**
 * gst_dma_heap_allocator_init_once:
 *
 * Registers an allocator on the %GST_DMA_HEAP_DEFAULT_ALIAS heap with
 * gst_allocator_register() under the name %GST_ALLOCATOR_DMAHEAP, so that
 * gst_allocator_find() returns it. Nothing is registered (and an INFO
 * message says why) when no default heap can be opened. Only the first call
 * does anything; calling it again, from any thread, is harmless.
 *
 * Since: 0.1
 */
void
gst_dma_heap_allocator_init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GstAllocator *allocator;
    GError *error = NULL;

    /* the type init also initialises the debug category */
    g_type_ensure (GST_TYPE_DMA_HEAP_ALLOCATOR);

    allocator = gst_dma_heap_allocator_new (GST_DMA_HEAP_DEFAULT_ALIAS,
        &error);
    if (allocator) {
      GST_INFO_OBJECT (allocator, "registering as '%s'", GST_ALLOCATOR_DMAHEAP);
      gst_allocator_register (GST_ALLOCATOR_DMAHEAP, allocator);
    } else {
      GST_INFO ("no '%s' allocator registered: %s", GST_ALLOCATOR_DMAHEAP,
          error->message);
      g_error_free (error);
    }

    g_once_init_leave (&done, 1);
  }
}

/**
 * gst_dma_heap_allocator_get_heap_spec:
 * @self: a #GstDmaHeapAllocator
 *
 * Returns: (transfer none): the heap spec @self was created with
 *
 * Since: 0.1
 */
const gchar *
gst_dma_heap_allocator_get_heap_spec (GstDmaHeapAllocator * self)
{
  g_return_val_if_fail (GST_IS_DMA_HEAP_ALLOCATOR (self), NULL);

  return self->spec;
}

/**
 * gst_dma_heap_allocator_get_heaps:
 * @self: a #GstDmaHeapAllocator
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of the heaps
 *   @self allocates from, in the order they are tried (the heaps of the spec
 *   that could be opened). Free with g_strfreev().
 *
 * Since: 0.1
 */
gchar **
gst_dma_heap_allocator_get_heaps (GstDmaHeapAllocator * self)
{
  g_return_val_if_fail (GST_IS_DMA_HEAP_ALLOCATOR (self), NULL);

  if (self->heaps == NULL)
    return g_new0 (gchar *, 1);

  return g_strdupv (self->heaps);
}

/**
 * gst_dma_heap_allocator_set_label:
 * @self: a #GstDmaHeapAllocator
 * @label: (nullable): a short label, %NULL to stop naming buffers
 *
 * Sets the label of the dma-bufs allocated from now on: each is named
 * `<label>:<heap>` with `DMA_BUF_SET_NAME` (cut to 31 bytes), which shows in
 * `/sys/kernel/debug/dma_buf/bufinfo`. Without a label (the default) buffers
 * are not named, which saves a system call per allocation. A
 * #GstDmaHeapBufferPool that creates its own allocator labels it with the
 * pool's name, dmaheapupload with the element's.
 *
 * Since: 0.1
 */
void
gst_dma_heap_allocator_set_label (GstDmaHeapAllocator * self,
    const gchar * label)
{
  g_return_if_fail (GST_IS_DMA_HEAP_ALLOCATOR (self));

  GST_OBJECT_LOCK (self);
  g_free (self->label);
  self->label = g_strdup (label);
  g_atomic_int_set (&self->labelled, label != NULL);
  GST_OBJECT_UNLOCK (self);
}

/**
 * gst_dma_heap_allocator_alloc_full:
 * @self: a #GstDmaHeapAllocator
 * @size: size of the memory, without prefix and padding
 * @params: (nullable): allocation parameters, %NULL for the defaults
 * @error: return location for a #GError, or %NULL
 *
 * Allocates a memory like gst_allocator_alloc() does, and returns the reason
 * of a failure: which heaps were tried, the number of bytes asked, and the
 * errno text of each heap (%GST_DMA_HEAP_ERROR_NO_MEMORY when a heap ran out
 * of memory). The error is also kept for
 * gst_dma_heap_allocator_get_last_error().
 *
 * Returns: (transfer full) (nullable): a new memory, or %NULL with @error set
 *
 * Since: 0.1
 */
GstMemory *
gst_dma_heap_allocator_alloc_full (GstDmaHeapAllocator * self, gsize size,
    const GstAllocationParams * params, GError ** error)
{
  GError *err = NULL;
  GstMemory *mem;

  g_return_val_if_fail (GST_IS_DMA_HEAP_ALLOCATOR (self), NULL);

  mem = gst_dma_heap_allocator_alloc_internal (self, -1, size, params, &err);
  if (mem == NULL) {
    GST_WARNING_OBJECT (self, "%s", err->message);
    gst_dma_heap_allocator_store_error (self, err);
    g_propagate_error (error, err);
  }

  return mem;
}

/**
 * gst_dma_heap_allocator_get_last_error:
 * @self: a #GstDmaHeapAllocator
 *
 * Returns: (transfer full) (nullable): a copy of the error of the last
 *   allocation of @self that failed, or %NULL if none failed. Free with
 *   g_error_free().
 *
 * Since: 0.1
 */
GError *
gst_dma_heap_allocator_get_last_error (GstDmaHeapAllocator * self)
{
  GError *ret = NULL;

  g_return_val_if_fail (GST_IS_DMA_HEAP_ALLOCATOR (self), NULL);

  GST_OBJECT_LOCK (self);
  if (self->last_error)
    ret = g_error_copy (self->last_error);
  GST_OBJECT_UNLOCK (self);

  return ret;
}

/**
 * gst_is_dma_heap_memory:
 * @mem: a #GstMemory
 *
 * Returns: %TRUE when @mem was allocated by a #GstDmaHeapAllocator (or is a
 *   sub-memory of such a memory). Such a memory is also dma-buf memory
 *   (gst_is_dmabuf_memory()).
 *
 * Since: 0.1
 */
gboolean
gst_is_dma_heap_memory (GstMemory * mem)
{
  g_return_val_if_fail (mem != NULL, FALSE);

  return mem->allocator != NULL && GST_IS_DMA_HEAP_ALLOCATOR (mem->allocator);
}

/**
 * gst_dma_heap_memory_get_heap:
 * @mem: a #GstMemory
 *
 * Returns: (transfer none) (nullable): the name of the heap @mem was
 *   allocated from (an interned string, valid for the life of the process),
 *   or %NULL when @mem is not dma-heap memory
 *
 * Since: 0.1
 */
const gchar *
gst_dma_heap_memory_get_heap (GstMemory * mem)
{
  GstDmaHeapAllocator *self;
  const gchar *heap;
  guint idx;

  g_return_val_if_fail (mem != NULL, NULL);

  if (!gst_is_dma_heap_memory (mem))
    return NULL;

  self = GST_DMA_HEAP_ALLOCATOR (mem->allocator);
  idx = (GST_MINI_OBJECT_FLAGS (mem) >> HEAP_INDEX_SHIFT) & HEAP_INDEX_MAX;
  if (idx > 0 && idx <= self->n_heaps)
    return self->heaps[idx - 1];

  heap = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (mem), heap_quark);
  if (heap == NULL && mem->parent)
    heap = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (mem->parent),
        heap_quark);

  return heap;
}

/**
 * gst_dma_heap_memory_sync:
 * @mem: a dma-buf #GstMemory
 * @start: %TRUE before the CPU accesses the memory, %FALSE after
 * @flags: the access: %GST_MAP_READ, %GST_MAP_WRITE or both (neither means
 *   both)
 *
 * Issues `DMA_BUF_IOCTL_SYNC` on the dma-buf of @mem: `DMA_BUF_SYNC_START`
 * when @start is %TRUE, `DMA_BUF_SYNC_END` otherwise, with the read/write
 * flags of @flags. gst_memory_map() and gst_memory_unmap() already do this;
 * this function is for code that accesses the memory through its own
 * mapping of the fd.
 *
 * Returns: %TRUE on success; on failure a warning with the errno text is
 *   logged
 *
 * Since: 0.1
 */
gboolean
gst_dma_heap_memory_sync (GstMemory * mem, gboolean start, GstMapFlags flags)
{
  struct dma_buf_sync sync = { 0, };
  gint fd;

  g_return_val_if_fail (mem != NULL, FALSE);
  g_return_val_if_fail (gst_is_dmabuf_memory (mem), FALSE);

  fd = gst_dmabuf_memory_get_fd (mem);

  sync.flags = start ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END;
  if (flags & GST_MAP_READ)
    sync.flags |= DMA_BUF_SYNC_READ;
  if (flags & GST_MAP_WRITE)
    sync.flags |= DMA_BUF_SYNC_WRITE;
  if ((sync.flags & DMA_BUF_SYNC_RW) == 0)
    sync.flags |= DMA_BUF_SYNC_RW;

  if (xioctl (fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
    int err = errno;

    GST_WARNING_OBJECT (mem->allocator, "DMA_BUF_IOCTL_SYNC %s on dma-buf %d "
        "failed: %s%s", start ? "start" : "end", fd, g_strerror (err),
        retry_note (err));
    return FALSE;
  }

  return TRUE;
}
