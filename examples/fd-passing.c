/* gst-dmaheap example: hand a dma-heap buffer to another process
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   fd-passing [--heap SPEC] [--size BYTES]
 *
 * A dma-buf is a file descriptor: another process can use the same memory
 * once it holds the fd, which a UNIX socket carries (SCM_RIGHTS). This
 * program
 *
 *  1. starts a child process before it allocates anything, so that the
 *     child can only get the buffer through the socket;
 *  2. allocates a buffer with a GstDmaHeapAllocator and writes a pattern in
 *     its first half through gst_memory_map() (which brackets the CPU access
 *     with DMA_BUF_IOCTL_SYNC);
 *  3. sends the fd to the child, which maps it with mmap(), checks the
 *     pattern and writes another one in the second half, each access
 *     between DMA_BUF_SYNC_START and DMA_BUF_SYNC_END, as any process that
 *     touches a dma-buf with the CPU must;
 *  4. checks that the child's writes are visible in its own mapping: both
 *     processes use one piece of memory, nothing was copied.
 *
 * The child is plain POSIX code with no GStreamer, as the other side of
 * such a socket often is (a compositor, a hardware service).
 *
 * Exit status: 0 when both sides saw the other's data, 1 on failure, 77
 * when this system has no dma-buf heap this user can open.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include <gst/gst.h>
#include <gst/allocators/allocators.h>
#include <gst/dmaheap/dmaheap.h>

#define EXIT_SKIP 77

/* What the parent sends along with the fd. */
typedef struct
{
  guint64 size;
  guint32 seed;
} Request;

/* What the child answers: 0 for success, else the first bad offset + 1. */
typedef struct
{
  guint64 bad_offset;
  guint8 got, expected;
  gchar text[96];
} Reply;

static guint8
pattern (guint32 seed, guint64 offset)
{
  /* changes with every byte and with the seed, never constant over a page */
  return (guint8) ((offset * 131 + (offset >> 12) * 7 + seed) & 0xff);
}

/* The child's side: plain system calls. */

static int
sync_buf (int fd, guint64 flags)
{
  struct dma_buf_sync sync = { flags };

  while (ioctl (fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
    if (errno != EINTR && errno != EAGAIN)
      return -1;
  }

  return 0;
}

static int
receive_fd (int sock, Request * req)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { req, sizeof (*req) };
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  ssize_t n;
  int fd;

  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof (control.buf);

  do {
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);

  if (n != sizeof (*req))
    return -1;                  /* 0: the parent gave up before sending */

  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET ||
      cmsg->cmsg_type != SCM_RIGHTS ||
      cmsg->cmsg_len != CMSG_LEN (sizeof (int)))
    return -1;
  memcpy (&fd, CMSG_DATA (cmsg), sizeof (int));

  return fd;
}

static int
child_main (int sock)
{
  Request req;
  Reply reply = { 0 };
  guint8 *data;
  guint64 i, half;
  off_t end;
  int fd, ok = 0;

  fd = receive_fd (sock, &req);
  if (fd < 0)
    return 1;

  /* a dma-buf tells its size by seeking to its end */
  end = lseek (fd, 0, SEEK_END);
  if (end < 0 || (guint64) end < req.size) {
    snprintf (reply.text, sizeof (reply.text), "the dma-buf is %lld bytes, "
        "%llu expected", (long long) end, (unsigned long long) req.size);
    goto answer;
  }

  data = mmap (NULL, req.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    snprintf (reply.text, sizeof (reply.text), "mmap: %s", strerror (errno));
    goto answer;
  }
  half = req.size / 2;

  /* read what the parent wrote */
  if (sync_buf (fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ) < 0) {
    snprintf (reply.text, sizeof (reply.text), "DMA_BUF_IOCTL_SYNC: %s",
        strerror (errno));
    goto unmap;
  }
  for (i = 0; i < half; i++) {
    if (data[i] != pattern (req.seed, i)) {
      reply.bad_offset = i + 1;
      reply.got = data[i];
      reply.expected = pattern (req.seed, i);
      break;
    }
  }
  sync_buf (fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
  if (reply.bad_offset) {
    snprintf (reply.text, sizeof (reply.text), "the parent's pattern is "
        "wrong at offset %llu", (unsigned long long) reply.bad_offset - 1);
    goto unmap;
  }

  /* write the answer pattern in the second half */
  if (sync_buf (fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE) < 0) {
    snprintf (reply.text, sizeof (reply.text), "DMA_BUF_IOCTL_SYNC: %s",
        strerror (errno));
    goto unmap;
  }
  for (i = half; i < req.size; i++)
    data[i] = pattern (~req.seed, i);
  sync_buf (fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);

  snprintf (reply.text, sizeof (reply.text), "read %llu bytes, wrote %llu",
      (unsigned long long) half, (unsigned long long) (req.size - half));
  ok = 1;

unmap:
  munmap (data, req.size);
answer:
  close (fd);
  if (write (sock, &reply, sizeof (reply)) != sizeof (reply))
    return 1;

  return ok ? 0 : 1;
}

/* The parent's side. */

static gboolean
send_fd (int sock, int fd, const Request * req)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { (void *) req, sizeof (*req) };
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  ssize_t n;

  memset (&control, 0, sizeof (control));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof (control.buf);
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));

  do {
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);

  return n == sizeof (*req);
}

/* TRUE when at least one heap of this system can be opened. */
static gboolean
any_heap_usable (void)
{
  gchar **names = gst_dma_heap_list (NULL);
  gboolean usable = FALSE;
  guint i;

  for (i = 0; names && names[i] && !usable; i++) {
    gint fd = gst_dma_heap_open (names[i], NULL);

    if (fd >= 0) {
      close (fd);
      usable = TRUE;
    }
  }
  g_strfreev (names);

  return usable;
}

static int
wait_child (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0) {
    if (errno != EINTR)
      return -1;
  }

  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
main (int argc, char **argv)
{
  gchar *heap = NULL;
  gint64 size = 1024 * 1024;
  GOptionEntry entries[] = {
    {"heap", 'H', 0, G_OPTION_ARG_STRING, &heap,
        "Heap spec to allocate from (default: default)", "SPEC"},
    {"size", 's', 0, G_OPTION_ARG_INT64, &size,
        "Buffer size in bytes (default: 1048576)", "BYTES"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GstAllocator *allocator = NULL;
  GstMemory *mem = NULL;
  GstMapInfo map;
  Request req;
  Reply reply;
  int sv[2], child_status, ret = EXIT_FAILURE;
  guint64 i, half;
  pid_t pid;

  /* no GStreamer option group: GStreamer starts after the fork below */
  ctx = g_option_context_new ("- pass a dma-heap buffer to another process");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return EXIT_FAILURE;
  }
  g_option_context_free (ctx);
  if (size < 2 || size > G_MAXINT32) {
    g_printerr ("--size must be between 2 and %d\n", G_MAXINT32);
    return EXIT_FAILURE;
  }

  /* The child is started first: it inherits no buffer, only the socket. */
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    g_printerr ("socketpair: %s\n", g_strerror (errno));
    return EXIT_FAILURE;
  }
  pid = fork ();
  if (pid < 0) {
    g_printerr ("fork: %s\n", g_strerror (errno));
    return EXIT_FAILURE;
  }
  if (pid == 0) {
    close (sv[0]);
    _exit (child_main (sv[1]));
  }
  close (sv[1]);

  gst_init (NULL, NULL);

  allocator = gst_dma_heap_allocator_new (heap, &error);
  if (allocator == NULL) {
    g_printerr ("%s\n", error->message);
    if (!any_heap_usable ()) {
      g_print ("SKIP: no dma-buf heap can be opened here\n");
      ret = EXIT_SKIP;
    }
    g_clear_error (&error);
    goto done;
  }
  /* the name /sys/kernel/debug/dma_buf/bufinfo shows for the buffer */
  gst_dma_heap_allocator_set_label (GST_DMA_HEAP_ALLOCATOR (allocator),
      "fd-passing example");

  mem = gst_dma_heap_allocator_alloc_full (GST_DMA_HEAP_ALLOCATOR (allocator),
      size, NULL, &error);
  if (mem == NULL) {
    g_printerr ("allocation of %" G_GINT64_FORMAT " bytes failed: %s\n", size,
        error->message);
    g_clear_error (&error);
    goto done;
  }
  g_print ("parent: %" G_GINT64_FORMAT " bytes from heap %s, dma-buf fd %d\n",
      size, gst_dma_heap_memory_get_heap (mem),
      gst_dmabuf_memory_get_fd (mem));

  req.size = size;
  req.seed = g_random_int ();
  half = req.size / 2;

  if (!gst_memory_map (mem, &map, GST_MAP_WRITE)) {
    g_printerr ("cannot map the buffer for writing\n");
    goto done;
  }
  for (i = 0; i < half; i++)
    map.data[i] = pattern (req.seed, i);
  gst_memory_unmap (mem, &map);

  if (!send_fd (sv[0], gst_dmabuf_memory_get_fd (mem), &req)) {
    g_printerr ("cannot send the fd: %s\n", g_strerror (errno));
    goto done;
  }
  if (read (sv[0], &reply, sizeof (reply)) != sizeof (reply)) {
    g_printerr ("no answer from the child\n");
    goto done;
  }
  reply.text[sizeof (reply.text) - 1] = '\0';
  g_print ("child: %s\n", reply.text);
  if (reply.bad_offset) {
    g_printerr ("the child read 0x%02x at offset %" G_GUINT64_FORMAT
        ", 0x%02x was written\n", reply.got, reply.bad_offset - 1,
        reply.expected);
    goto done;
  }

  /* the child's writes, seen through our own mapping */
  if (!gst_memory_map (mem, &map, GST_MAP_READ)) {
    g_printerr ("cannot map the buffer for reading\n");
    goto done;
  }
  for (i = half; i < req.size; i++) {
    if (map.data[i] != pattern (~req.seed, i))
      break;
  }
  gst_memory_unmap (mem, &map);
  if (i < req.size) {
    g_printerr ("the child's writes are not visible at offset %"
        G_GUINT64_FORMAT "\n", i);
    goto done;
  }
  g_print ("parent: the child's %" G_GUINT64_FORMAT " bytes are visible: "
      "one buffer, shared\n", req.size - half);
  ret = EXIT_SUCCESS;

done:
  /* closing the socket tells a waiting child to stop */
  close (sv[0]);
  child_status = wait_child (pid);
  if (ret == EXIT_SUCCESS && child_status != 0) {
    g_printerr ("the child exited with status %d\n", child_status);
    ret = EXIT_FAILURE;
  }

  if (mem)
    gst_memory_unref (mem);
  gst_clear_object (&allocator);
  g_free (heap);

  if (ret == EXIT_SUCCESS)
    g_print ("PASS\n");

  return ret;
}
