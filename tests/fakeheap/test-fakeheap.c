/* gst-dmaheap: the fake heaps and the ioctl interposer of the test suite
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the other tests rely on. On real heaps (GST_DMA_HEAP_TEST_REAL=1,
 * the test guest) the kernel's answers are checked against what the fake
 * does, the interposer's counts and injected errors are checked, and the
 * fake is shown not to activate. On the fake heaps, also their capacity,
 * their shared regions and their nodes.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "../check/libs/dmaheaptestutil.h"
#include "fakeheap.h"

#include <gst/dmaheap/dmaheap.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

static gint
open_heap (const gchar * name)
{
  GError *error = NULL;
  gint fd = gst_dma_heap_open (name, &error);

  fail_unless (fd >= 0, "%s: %s", name, error ? error->message : "");
  return fd;
}

/* DMA_HEAP_IOCTL_ALLOC; the dma-buf fd, or -errno */
static gint
raw_alloc (gint heap_fd, guint64 len, guint32 fd_flags, guint64 heap_flags,
    guint32 in_fd)
{
  struct dma_heap_allocation_data data = { 0, };

  data.len = len;
  data.fd = in_fd;
  data.fd_flags = fd_flags;
  data.heap_flags = heap_flags;
  if (ioctl (heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
    return -errno;

  return (gint) data.fd;
}

static gint
sync_buf (gint fd, guint64 flags)
{
  struct dma_buf_sync sync = { 0, };

  sync.flags = flags;
  return ioctl (fd, DMA_BUF_IOCTL_SYNC, &sync) < 0 ? -errno : 0;
}

/* The checks of the kernel's dma-heap and dma-buf ioctls, which the fake
 * makes too. */
GST_START_TEST (test_alloc_like_the_kernel)
{
  const gchar *heap = dma_heap_test_heaps[0];
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gint hfd = open_heap (heap), fd;
  struct stat st;
  guint8 *data;

  fake_heap_reset_counts ();

  fd = raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (fd >= 0, "%s", g_strerror (-fd));
  close (fd);
  fail_unless_equals_int (raw_alloc (hfd, 0, O_RDWR | O_CLOEXEC, 0, 0),
      -EINVAL);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR | O_NONBLOCK, 0, 0),
      -EINVAL);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR, 1, 0), -EINVAL);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR, 0, 3), -EINVAL);
  fail_unless_equals_int (raw_alloc (hfd, G_MAXUINT64 - 1, O_RDWR, 0, 0),
      -EINVAL);
  /* only the first one succeeded, and that is what is counted */
  fail_unless_equals_int (fake_heap_alloc_count (heap), 1);
  fail_unless_equals_int (fake_heap_alloc_count (NULL), 1);
  fail_unless_equals_int (fake_heap_alloc_count ("no-such-heap"), 0);

  /* a page-rounded, mappable, close-on-exec buffer */
  fd = raw_alloc (hfd, 5000, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (fd >= 0, "%s", g_strerror (-fd));
  fail_unless (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  fail_unless_equals_int (fcntl (fd, F_GETFL) & O_ACCMODE, O_RDWR);
  fail_unless (fstat (fd, &st) == 0);
  fail_unless_equals_uint64 (lseek (fd, 0, SEEK_END), 2 * page);
  data = mmap (NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  fail_unless (data != MAP_FAILED);
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_START |
          DMA_BUF_SYNC_RW), 0);
  data[0] = 0x12;
  data[2 * page - 1] = 0x34;
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW),
      0);
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_START), -EINVAL);
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_READ | (1 << 5)),
      -EINVAL);
  munmap (data, 2 * page);
  close (fd);

  /* without O_CLOEXEC, the fd is inherited */
  fd = raw_alloc (hfd, 4096, O_RDWR, 0, 0);
  fail_unless (fd >= 0);
  fail_if (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  close (fd);

  fail_unless_equals_int (fake_heap_alloc_count (heap), 3);
  close (hfd);
}

GST_END_TEST;

GST_START_TEST (test_set_name)
{
  gint hfd = open_heap (dma_heap_test_heaps[0]), fd;
  gchar *name;

  fd = raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (fd >= 0);

  name = dma_heap_test_get_buf_name (fd);
  fail_unless (name == NULL || *name == '\0', "new buffer named '%s'", name);
  g_free (name);

  fail_unless (ioctl (fd, DMA_BUF_SET_NAME, "fake:test") == 0);
  name = dma_heap_test_get_buf_name (fd);
  fail_unless_equals_string (name, "fake:test");
  g_free (name);

  /* DMA_BUF_NAME_LEN with the NUL: 31 bytes, not 32 */
  fail_unless (ioctl (fd, DMA_BUF_SET_NAME,
          "0123456789012345678901234567890") == 0);
  errno = 0;
  fail_unless (ioctl (fd, DMA_BUF_SET_NAME,
          "01234567890123456789012345678901") < 0);
  fail_unless_equals_int (errno, EINVAL);
  name = dma_heap_test_get_buf_name (fd);
  fail_unless_equals_string (name, "0123456789012345678901234567890");
  g_free (name);

  close (fd);
  close (hfd);
}

GST_END_TEST;

/* Injected errors, on real heaps as on fake ones */
GST_START_TEST (test_injected_errors)
{
  const gchar *heap = dma_heap_test_heaps[0];
  gint hfd = open_heap (heap), fd;

  fake_heap_reset_counts ();
  fake_heap_fail_alloc (heap, ENOMEM, 2);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0),
      -ENOMEM);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0),
      -ENOMEM);
  fd = raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (fd >= 0, "%s", g_strerror (-fd));
  fail_unless_equals_int (fake_heap_alloc_count (heap), 1);

  /* another heap's name leaves this one alone */
  fake_heap_fail_alloc ("no-such-heap", EIO, -1);
  close (raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0));
  fake_heap_fail_alloc ("no-such-heap", 0, 0);

  /* every heap, until stopped */
  fake_heap_fail_alloc (NULL, EINTR, -1);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR, 0, 0), -EINTR);
  fail_unless_equals_int (raw_alloc (hfd, 4096, O_RDWR, 0, 0), -EINTR);
  fake_heap_fail_alloc (NULL, 0, 0);
  close (raw_alloc (hfd, 4096, O_RDWR | O_CLOEXEC, 0, 0));
  fail_unless_equals_int (fake_heap_alloc_count (heap), 3);

  fake_heap_fail_sync (fd, EIO, 1);
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_START |
          DMA_BUF_SYNC_READ), -EIO);
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_START |
          DMA_BUF_SYNC_READ), 0);
  fail_unless_equals_int (sync_buf (fd, DMA_BUF_SYNC_END |
          DMA_BUF_SYNC_READ), 0);

  close (fd);
  close (hfd);
}

GST_END_TEST;

/* GST_DMA_HEAP_TEST_REAL=1 keeps the fake off, whatever else is set */
GST_START_TEST (test_real_means_real)
{
  pid_t pid;
  int status;

  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    gchar reason[256];
    struct dma_heap_allocation_data data = { 0, };
    gint fd;

    g_setenv ("GST_DMA_HEAP_TEST_REAL", "1", TRUE);
    g_setenv ("GST_DMA_HEAP_FAKE_DIR", FAKE_HEAP_DIR, TRUE);
    if (fake_heap_setup (NULL, reason, sizeof (reason)) != FAKE_HEAP_REAL)
      _exit (2);
    if (fake_heap_is_active ())
      _exit (3);
    /* a node of the fake, if any: the kernel answers, and /dev/null is
     * no heap */
    fd = open (GST_DMA_HEAP_DIR "/system", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st;

      data.len = 4096;
      data.fd_flags = O_RDWR | O_CLOEXEC;
      if (fstat (fd, &st) == 0 && st.st_rdev == makedev (1, 3) &&
          ioctl (fd, DMA_HEAP_IOCTL_ALLOC, &data) == 0)
        _exit (4);
      close (fd);
    }
    _exit (0);
  }
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status));
  fail_unless_equals_int (WEXITSTATUS (status), 0);

  fail_unless_equals_int (fake_heap_is_active (), dma_heap_test_is_fake ());
}

GST_END_TEST;

/* The fake heaps themselves */

static gint64
used (const gchar * heap)
{
  gint64 v = fake_heap_get_used (heap);

  fail_unless (v >= 0, "no fake heap %s", heap);
  return v;
}

GST_START_TEST (test_fake_nodes)
{
  gchar **names = gst_dma_heap_list (NULL);
  gchar target[256];
  struct stat st;
  ssize_t len;
  guint i;

  fail_unless (names != NULL && names[0] != NULL);
  for (i = 0; names[i]; i++) {
    gchar *path = gst_dma_heap_get_device_path (names[i]);

    fail_unless (stat (path, &st) == 0);
    fail_unless (S_ISCHR (st.st_mode), "%s", path);
    fail_unless_equals_int (st.st_mode & 0777, 0600);
    fail_unless_equals_int (st.st_uid, 0);
    g_free (path);
  }
  g_strfreev (names);

  /* the class of their rdev in this namespace */
  len = readlink ("/sys/dev/char/1:3/subsystem", target, sizeof (target) - 1);
  fail_unless (len > 0);
  target[len] = '\0';
  fail_unless (g_str_has_suffix (target, "/dma_heap"), "%s", target);
  /* and the rest of /sys/dev/char still the machine's */
  len = readlink ("/sys/dev/char/1:5/subsystem", target, sizeof (target) - 1);
  fail_unless (len > 0);
  target[len] = '\0';
  fail_unless (g_str_has_suffix (target, "/mem"), "%s", target);

  /* the rest of /dev works */
  fail_unless (g_file_test ("/dev/null", G_FILE_TEST_EXISTS));
  fail_unless (g_file_test ("/dev/urandom", G_FILE_TEST_EXISTS));
  fail_unless (stat ("/dev/zero", &st) == 0 && S_ISCHR (st.st_mode));
}

GST_END_TEST;

GST_START_TEST (test_fake_capacity)
{
  const gchar *heap = "ecc-off@78000000";
  const gint64 mib = 1 << 20;
  gint hfd = open_heap (heap), a, b;

  fail_unless_equals_int64 (fake_heap_get_capacity (heap), 64 * mib);
  fail_unless_equals_int64 (fake_heap_get_capacity ("system"), 0);
  fail_unless_equals_int64 (used (heap), 0);

  a = raw_alloc (hfd, 48 * mib, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (a >= 0);
  fail_unless_equals_int64 (used (heap), 48 * mib);
  fail_unless_equals_int (raw_alloc (hfd, 32 * mib, O_RDWR | O_CLOEXEC, 0,
          0), -ENOMEM);
  /* a failed allocation takes nothing */
  fail_unless_equals_int64 (used (heap), 48 * mib);

  /* a buffer still mapped holds its memory; closed and unmapped, it is
   * given back */
  {
    void *map = mmap (NULL, 48 * mib, PROT_READ, MAP_SHARED, a, 0);

    fail_unless (map != MAP_FAILED);
    close (a);
    fail_unless_equals_int64 (used (heap), 48 * mib);
    munmap (map, 48 * mib);
  }
  fail_unless_equals_int64 (used (heap), 0);
  b = raw_alloc (hfd, 32 * mib, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (b >= 0);

  /* more room */
  fail_unless_equals_int (fake_heap_set_capacity (heap, 128 * mib), 0);
  a = raw_alloc (hfd, 64 * mib, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (a >= 0, "%s", g_strerror (-a));
  close (a);
  close (b);
  fail_unless_equals_int (fake_heap_set_capacity (heap, 64 * mib), 0);
  close (hfd);
}

GST_END_TEST;

/* Heaps of one region share its memory; a buffer held by a process that
 * exits is given back */
GST_START_TEST (test_fake_shared_region)
{
  const gint64 mib = 1 << 20;
  gint d = open_heap ("default_cma_region");
  gint l = open_heap ("linux,cma@80000000");
  gint a;
  pid_t pid;
  int status;

  a = raw_alloc (d, 40 * mib, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (a >= 0);
  fail_unless_equals_int64 (used ("linux,cma@80000000"), 40 * mib);
  fail_unless_equals_int (raw_alloc (l, 40 * mib, O_RDWR | O_CLOEXEC, 0, 0),
      -ENOMEM);
  fail_unless_equals_int64 (used ("camera@7c000000"), 0);
  close (a);

  pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    if (raw_alloc (l, 60 * mib, O_RDWR | O_CLOEXEC, 0, 0) < 0)
      _exit (2);
    if (fake_heap_get_used ("default_cma_region") != 60 * mib)
      _exit (3);
    _exit (0);
  }
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status));
  fail_unless_equals_int (WEXITSTATUS (status), 0);
  fail_unless_equals_int64 (used ("default_cma_region"), 0);

  close (d);
  close (l);
}

GST_END_TEST;

GST_START_TEST (test_fake_add_heap)
{
  gchar **names;
  gint hfd, fd;

  fail_unless_equals_int (fake_heap_add ("vpu@70000000", 8 << 20, NULL), 0);
  names = gst_dma_heap_resolve ("vpu", NULL);
  fail_unless (names != NULL);
  fail_unless_equals_string (names[0], "vpu@70000000");
  g_strfreev (names);

  hfd = open_heap ("vpu@70000000");
  fake_heap_reset_counts ();
  fd = raw_alloc (hfd, 4 << 20, O_RDWR | O_CLOEXEC, 0, 0);
  fail_unless (fd >= 0, "%s", g_strerror (-fd));
  fail_unless_equals_int (fake_heap_alloc_count ("vpu@70000000"), 1);
  fail_unless_equals_int (raw_alloc (hfd, 8 << 20, O_RDWR, 0, 0), -ENOMEM);
  close (fd);
  close (hfd);
  fail_unless (unlink (GST_DMA_HEAP_DIR "/vpu@70000000") == 0);
}

GST_END_TEST;

static Suite *
fakeheap_suite (void)
{
  Suite *s = suite_create ("fakeheap");
  TCase *tc = tcase_create ("interposer");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_alloc_like_the_kernel);
  tcase_add_test (tc, test_set_name);
  tcase_add_test (tc, test_injected_errors);
  tcase_add_test (tc, test_real_means_real);

  /* on real heaps there is no fake to test */
  if (dma_heap_test_is_fake ()) {
    tc = tcase_create ("fake");
    suite_add_tcase (s, tc);
    tcase_add_test (tc, test_fake_nodes);
    tcase_add_test (tc, test_fake_capacity);
    tcase_add_test (tc, test_fake_shared_region);
    tcase_add_test (tc, test_fake_add_heap);
  }

  return s;
}

int
main (int argc, char **argv)
{
  return dma_heap_test_main (argc, argv, fakeheap_suite, "fakeheap");
}
