/* gst-dmaheap: the test suite's fake dma-buf heaps and ioctl interposer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See fakeheap.h. Plain C and libc only: the same file is linked into the
 * test programs and LD_PRELOADed into others.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "fakeheap.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#define HEAP_DIR "/dev/dma_heap"
#define TABLE_PATH FAKE_HEAP_DIR "/heaps"
#define POOLS_DIR FAKE_HEAP_DIR "/pools"
#define MAX_HEAPS 64
#define NAME_LEN 256
#define XATTR_USER "user.dmabuf.name"
#define XATTR_TRUSTED "trusted.dmabuf.name"

/* The rdev of every fake heap node: /dev/null's, whose open() has no side
 * effect; inside the namespace /sys/dev/char says it is a dma_heap. */
#define NODE_MAJOR 1
#define NODE_MINOR 3

typedef struct
{
  char name[NAME_LEN];
  char pool[NAME_LEN];
  ino_t ino;
  dev_t pool_dev;
} FakeHeap;

typedef struct
{
  char name[NAME_LEN];          /* "" for any */
  int fd;                       /* sync rules: -1 for any */
  int err;
  int remaining;                /* -1: forever */
} Rule;

typedef struct
{
  char name[NAME_LEN];
  unsigned count;
} Count;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* the heap table, protected by @lock */
static FakeHeap heaps[MAX_HEAPS];
static unsigned n_heaps;
static dev_t nodes_dev;
static int table_loaded;
static struct timespec table_mtime;
static off_t table_size;

/* counts and injected errors, protected by @lock */
static Count counts[MAX_HEAPS];
static unsigned n_counts;
static Rule alloc_rules[MAX_HEAPS];
static unsigned n_alloc_rules;
static Rule sync_rules[MAX_HEAPS];
static unsigned n_sync_rules;

static FakeHeapObserver observer;
static void *observer_data;

static unsigned buffer_serial;

static int (*real_ioctl) (int, unsigned long, ...);

/* Helpers */

static int
env_is (const char *var, const char *value)
{
  const char *v = getenv (var);

  return v != NULL && strcmp (v, value) == 0;
}

static int
fake_wanted (void)
{
  return !env_is ("GST_DMA_HEAP_TEST_REAL", "1") &&
      getenv ("GST_DMA_HEAP_FAKE_DIR") != NULL;
}

static void
set_reason (char *reason, size_t size, const char *fmt, ...)
{
  va_list args;

  if (reason == NULL || size == 0)
    return;
  va_start (args, fmt);
  vsnprintf (reason, size, fmt, args);
  va_end (args);
}

static uint64_t
page_size (void)
{
  long page = sysconf (_SC_PAGESIZE);

  return page > 0 ? (uint64_t) page : 4096;
}

static void
pool_path (char *out, size_t size, const char *pool)
{
  snprintf (out, size, "%s/%s", POOLS_DIR, pool);
}

/* The heap table: one line per heap node, "<inode>\t<pool>\t<name>". */

static int
load_table_locked (void)
{
  struct stat st;
  char line[2 * NAME_LEN + 64];
  FILE *f;

  if (stat (TABLE_PATH, &st) < 0)
    return -1;
  if (table_loaded && st.st_size == table_size &&
      st.st_mtim.tv_sec == table_mtime.tv_sec &&
      st.st_mtim.tv_nsec == table_mtime.tv_nsec)
    return 0;

  f = fopen (TABLE_PATH, "re");
  if (f == NULL)
    return -1;

  n_heaps = 0;
  while (n_heaps < MAX_HEAPS && fgets (line, sizeof (line), f)) {
    FakeHeap *h = &heaps[n_heaps];
    char *ino_end, *pool, *name, *nl;
    char path[2 * NAME_LEN];
    struct stat pst;

    h->ino = (ino_t) strtoull (line, &ino_end, 10);
    if (*ino_end != '\t')
      continue;
    pool = ino_end + 1;
    name = strchr (pool, '\t');
    if (name == NULL)
      continue;
    *name++ = '\0';
    nl = strchr (name, '\n');
    if (nl)
      *nl = '\0';
    snprintf (h->pool, sizeof (h->pool), "%s", pool);
    snprintf (h->name, sizeof (h->name), "%s", name);
    pool_path (path, sizeof (path), h->pool);
    if (stat (path, &pst) < 0)
      continue;
    h->pool_dev = pst.st_dev;
    n_heaps++;
  }
  fclose (f);

  if (stat (HEAP_DIR, &st) == 0)
    nodes_dev = st.st_dev;
  if (stat (TABLE_PATH, &st) == 0) {
    table_size = st.st_size;
    table_mtime = st.st_mtim;
  }
  table_loaded = 1;

  return 0;
}

/* The fake heap whose node @fd is, or NULL. */
static const FakeHeap *
heap_of_node_locked (int fd)
{
  struct stat st;
  unsigned i;

  if (fstat (fd, &st) < 0 || !S_ISCHR (st.st_mode) ||
      st.st_rdev != makedev (NODE_MAJOR, NODE_MINOR))
    return NULL;
  if (load_table_locked () < 0 || st.st_dev != nodes_dev)
    return NULL;
  for (i = 0; i < n_heaps; i++) {
    if (heaps[i].ino == st.st_ino)
      return &heaps[i];
  }

  return NULL;
}

static const FakeHeap *
heap_by_name_locked (const char *name)
{
  unsigned i;

  if (load_table_locked () < 0)
    return NULL;
  for (i = 0; i < n_heaps; i++) {
    if (strcmp (heaps[i].name, name) == 0)
      return &heaps[i];
  }

  return NULL;
}

/* Whether @fd is a buffer of a fake pool. */
static int
is_fake_buffer_locked (int fd)
{
  struct stat st;
  unsigned i;

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return 0;
  if (load_table_locked () < 0)
    return 0;
  for (i = 0; i < n_heaps; i++) {
    if (heaps[i].pool_dev == st.st_dev)
      return 1;
  }

  return 0;
}

/* The name of the heap whose device node @fd is, real or fake, into @out
 * ("" when @fd is no node of the heap directory). */
static void
heap_name_of_fd_locked (int fd, char *out, size_t size)
{
  const FakeHeap *heap;
  char link[64], target[NAME_LEN + 32];
  ssize_t len;

  out[0] = '\0';
  if (fake_wanted () && (heap = heap_of_node_locked (fd)) != NULL) {
    snprintf (out, size, "%s", heap->name);
    return;
  }

  snprintf (link, sizeof (link), "/proc/self/fd/%d", fd);
  len = readlink (link, target, sizeof (target) - 1);
  if (len <= 0)
    return;
  target[len] = '\0';
  if (strncmp (target, HEAP_DIR "/", strlen (HEAP_DIR "/")) == 0) {
    const char *name = target + strlen (HEAP_DIR "/");
    size_t n = strlen (name);

    if (n < size)
      memcpy (out, name, n + 1);
  }
}

/* Consumes a matching rule of @rules; returns its errno, or 0. */
static int
take_rule_locked (Rule * rules, unsigned n, const char *name, int fd)
{
  unsigned i;

  for (i = 0; i < n; i++) {
    Rule *r = &rules[i];

    if (r->remaining == 0 || r->err == 0)
      continue;
    if (name && r->name[0] && strcmp (r->name, name) != 0)
      continue;
    if (!name && r->fd >= 0 && r->fd != fd)
      continue;
    if (r->remaining > 0)
      r->remaining--;
    return r->err;
  }

  return 0;
}

static void
set_rule (Rule * rules, unsigned *n, const char *name, int fd, int err,
    int count)
{
  unsigned i;

  pthread_mutex_lock (&lock);
  for (i = 0; i < *n; i++) {
    if (strcmp (rules[i].name, name ? name : "") == 0 && rules[i].fd == fd)
      break;
  }
  if (i == *n) {
    if (*n == MAX_HEAPS) {
      pthread_mutex_unlock (&lock);
      return;
    }
    (*n)++;
  }
  snprintf (rules[i].name, sizeof (rules[i].name), "%s", name ? name : "");
  rules[i].fd = fd;
  rules[i].err = err;
  rules[i].remaining = err == 0 ? 0 : count;
  pthread_mutex_unlock (&lock);
}

static void
count_alloc_locked (const char *name)
{
  unsigned i;

  for (i = 0; i < n_counts; i++) {
    if (strcmp (counts[i].name, name) == 0) {
      counts[i].count++;
      return;
    }
  }
  if (n_counts < MAX_HEAPS) {
    snprintf (counts[n_counts].name, sizeof (counts[0].name), "%s", name);
    counts[n_counts++].count = 1;
  }
}

/* What the kernel does */

/* DMA_HEAP_IOCTL_ALLOC on a fake heap: a file of the heap's pool, as big
 * as the buffer, unlinked at once; the checks of dma_heap_ioctl_allocate()
 * and dma_heap_buffer_alloc(). Returns 0 or an errno value. */
static int
fake_alloc (const FakeHeap * heap, struct dma_heap_allocation_data *data)
{
  uint64_t page = page_size (), len;
  char path[2 * NAME_LEN + 64], pool[2 * NAME_LEN];
  int fd, err, accmode;

  if (data->fd != 0 || (data->fd_flags & ~DMA_HEAP_VALID_FD_FLAGS) ||
      (data->heap_flags & ~DMA_HEAP_VALID_HEAP_FLAGS))
    return EINVAL;
  /* PAGE_ALIGN() wraps to 0 */
  if (data->len > UINT64_MAX - (page - 1))
    return EINVAL;
  len = (data->len + page - 1) & ~(page - 1);
  if (len == 0)
    return EINVAL;

  pool_path (pool, sizeof (pool), heap->pool);
  snprintf (path, sizeof (path), "%s/buf-%d-%u", pool, (int) getpid (),
      __atomic_add_fetch (&buffer_serial, 1, __ATOMIC_RELAXED));
  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return errno;
  if (fallocate (fd, 0, 0, (off_t) len) < 0) {
    err = errno;
    unlink (path);
    close (fd);
    return (err == ENOSPC || err == EFBIG) ? ENOMEM : err;
  }
  unlink (path);

  accmode = data->fd_flags & O_ACCMODE;
  if (accmode != O_RDWR) {
    char self[64];
    int again;

    snprintf (self, sizeof (self), "/proc/self/fd/%d", fd);
    again = open (self, accmode | O_CLOEXEC);
    err = errno;
    close (fd);
    if (again < 0)
      return err;
    fd = again;
  }
  if (!(data->fd_flags & O_CLOEXEC))
    fcntl (fd, F_SETFD, 0);

  data->fd = (unsigned) fd;

  return 0;
}

static int
heap_alloc (int fd, struct dma_heap_allocation_data *data)
{
  const FakeHeap *heap = NULL;
  FakeHeap copy;
  char name[NAME_LEN];
  int err, ret;

  pthread_mutex_lock (&lock);
  heap_name_of_fd_locked (fd, name, sizeof (name));
  err = name[0] ? take_rule_locked (alloc_rules, n_alloc_rules, name, -1) : 0;
  if (fake_wanted () && (heap = heap_of_node_locked (fd)) != NULL)
    copy = *heap;
  pthread_mutex_unlock (&lock);

  if (err) {
    errno = err;
    return -1;
  }

  if (heap) {
    err = fake_alloc (&copy, data);
    ret = err ? -1 : 0;
  } else {
    ret = real_ioctl (fd, DMA_HEAP_IOCTL_ALLOC, data);
    err = errno;
  }

  if (ret == 0 && name[0]) {
    pthread_mutex_lock (&lock);
    count_alloc_locked (name);
    pthread_mutex_unlock (&lock);
  }

  errno = err;
  return ret;
}

static int
buf_sync (int fd, struct dma_buf_sync *sync)
{
  int err, fake;

  pthread_mutex_lock (&lock);
  err = take_rule_locked (sync_rules, n_sync_rules, NULL, fd);
  fake = fake_wanted () && is_fake_buffer_locked (fd);
  pthread_mutex_unlock (&lock);

  if (err) {
    errno = err;
    return -1;
  }
  if (!fake)
    return real_ioctl (fd, DMA_BUF_IOCTL_SYNC, sync);

  /* dma_buf_ioctl() */
  if (sync == NULL || (sync->flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) ||
      (sync->flags & DMA_BUF_SYNC_RW) == 0) {
    errno = EINVAL;
    return -1;
  }

  return 0;
}

static int
buf_set_name (int fd, const char *name)
{
  size_t len;

  /* strndup_user (name, DMA_BUF_NAME_LEN) */
  if (name == NULL) {
    errno = EFAULT;
    return -1;
  }
  len = strnlen (name, DMA_BUF_NAME_LEN);
  if (len == DMA_BUF_NAME_LEN) {
    errno = EINVAL;
    return -1;
  }

  /* an unnamed buffer keeps no name, whichever attribute works here */
  if (fsetxattr (fd, XATTR_USER, name, len, 0) < 0)
    fsetxattr (fd, XATTR_TRUSTED, name, len, 0);

  return 0;
}

int
ioctl (int fd, unsigned long request, ...)
{
  va_list args;
  void *arg;

  va_start (args, request);
  arg = va_arg (args, void *);
  va_end (args);

  if (real_ioctl == NULL)
    real_ioctl = (int (*)(int, unsigned long, ...)) dlsym (RTLD_NEXT,
        "ioctl");

  if (observer)
    observer (fd, request, arg, observer_data);

  if (request == DMA_HEAP_IOCTL_ALLOC)
    return heap_alloc (fd, arg);
  if (request == DMA_BUF_IOCTL_SYNC)
    return buf_sync (fd, arg);
  if (request == DMA_BUF_SET_NAME || request == DMA_BUF_SET_NAME_A ||
      request == DMA_BUF_SET_NAME_B) {
    int fake;

    pthread_mutex_lock (&lock);
    fake = fake_wanted () && is_fake_buffer_locked (fd);
    pthread_mutex_unlock (&lock);
    if (fake)
      return buf_set_name (fd, arg);
  }

  return real_ioctl (fd, request, arg);
}

/* Setting up: the private /dev and /sys/dev/char */

/* Copies the entries of the real /dev (@old, a directory fd) into the new
 * one: nodes and links made again, directories and anything else bound
 * from the real ones, so that /dev/pts, /dev/shm and the like work. */
static void
copy_dev (int old)
{
  struct dirent *entry;
  DIR *dir;
  int fd = dup (old);

  dir = fd >= 0 ? fdopendir (fd) : NULL;
  if (dir == NULL)
    return;

  while ((entry = readdir (dir)) != NULL) {
    const char *n = entry->d_name;
    char target[4096], from[4096 + 64], to[4096 + 16];
    struct stat st;
    ssize_t len;

    if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0 ||
        strcmp (n, "dma_heap") == 0 || strcmp (n, ".fakeheap") == 0)
      continue;
    if (fstatat (old, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    snprintf (to, sizeof (to), "/dev/%s", n);
    snprintf (from, sizeof (from), "/proc/self/fd/%d/%s", old, n);

    if (S_ISLNK (st.st_mode)) {
      len = readlinkat (old, n, target, sizeof (target) - 1);
      if (len > 0) {
        target[len] = '\0';
        if (symlink (target, to) < 0)
          continue;
      }
    } else if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode)) {
      if (mknod (to, st.st_mode, st.st_rdev) == 0 &&
          chown (to, st.st_uid, st.st_gid) < 0)
        unlink (to);
    } else if (S_ISDIR (st.st_mode)) {
      if (mkdir (to, st.st_mode & 07777) == 0)
        mount (from, to, NULL, MS_BIND | MS_REC, NULL);
    } else {
      int f = open (to, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

      if (f >= 0) {
        close (f);
        mount (from, to, NULL, MS_BIND, NULL);
      }
    }
  }
  closedir (dir);
}

/* /sys/dev/char again, on a tmpfs, with the fake nodes' rdev in the
 * dma_heap class. The other links keep their relative targets, which
 * resolve into the real sysfs as before. */
static int
fake_sys_dev_char (char *reason, size_t size)
{
  const char *path = "/sys/dev/char";
  char fake[32], link[64];
  struct dirent *entry;
  DIR *dir;
  int old, fd;

  old = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (old < 0) {
    set_reason (reason, size, "%s: %s (sysfs is not mounted)", path,
        strerror (errno));
    return -1;
  }
  if (mount ("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          "mode=755") < 0) {
    set_reason (reason, size, "cannot mount a tmpfs on %s: %s", path,
        strerror (errno));
    close (old);
    return -1;
  }

  snprintf (fake, sizeof (fake), "%u:%u", NODE_MAJOR, NODE_MINOR);
  fd = dup (old);
  dir = fd >= 0 ? fdopendir (fd) : NULL;
  while (dir && (entry = readdir (dir)) != NULL) {
    char target[4096], to[512];
    ssize_t len;

    if (entry->d_name[0] == '.' || strcmp (entry->d_name, fake) == 0)
      continue;
    len = readlinkat (old, entry->d_name, target, sizeof (target) - 1);
    if (len <= 0)
      continue;
    target[len] = '\0';
    snprintf (to, sizeof (to), "%s/%s", path, entry->d_name);
    if (symlink (target, to) < 0)
      break;
  }
  if (dir)
    closedir (dir);
  close (old);

  snprintf (link, sizeof (link), "%s/%s", path, fake);
  if (mkdir (link, 0755) < 0)
    return -1;
  snprintf (link, sizeof (link), "%s/%s/subsystem", path, fake);
  if (symlink ("../../../class/dma_heap", link) < 0)
    return -1;

  return 0;
}

static int
parse_size (const char *s, uint64_t * out)
{
  char *end;
  unsigned long long v;

  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno || end == s)
    return -1;
  if (*end == 'K')
    v <<= 10, end++;
  else if (*end == 'M')
    v <<= 20, end++;
  else if (*end == 'G')
    v <<= 30, end++;
  if (*end != '\0')
    return -1;
  *out = v;

  return 0;
}

static int
make_pool (const char *pool, uint64_t capacity)
{
  char path[2 * NAME_LEN], opts[64];
  struct stat st;

  pool_path (path, sizeof (path), pool);
  if (stat (path, &st) == 0)
    return 0;
  if (mkdir (path, 01777) < 0)
    return errno;
  if (capacity)
    snprintf (opts, sizeof (opts), "size=%llu,mode=1777",
        (unsigned long long) capacity);
  else
    snprintf (opts, sizeof (opts), "mode=1777");
  if (mount ("fakeheap", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
          opts) < 0)
    return errno;

  return 0;
}

/* A node for heap @name in pool @pool, and its line in the table. */
static int
make_heap (const char *name, const char *pool)
{
  char node[NAME_LEN + 32];
  struct stat st;
  FILE *f;

  snprintf (node, sizeof (node), HEAP_DIR "/%s", name);
  if (mknod (node, S_IFCHR | 0600, makedev (NODE_MAJOR, NODE_MINOR)) < 0)
    return errno;
  if (stat (node, &st) < 0)
    return errno;

  f = fopen (TABLE_PATH, "ae");
  if (f == NULL)
    return errno;
  fprintf (f, "%llu\t%s\t%s\n", (unsigned long long) st.st_ino, pool, name);
  fclose (f);

  return 0;
}

static int
make_layout (const char *layout, char *reason, size_t size)
{
  char *copy = strdup (layout), *save = NULL, *item;
  int ret = 0;

  for (item = strtok_r (copy, " \t\n", &save); item;
      item = strtok_r (NULL, " \t\n", &save)) {
    char *eq = strrchr (item, '='), *slash;
    const char *pool;
    uint64_t capacity;
    int err;

    if (eq == NULL)
      goto bad;
    *eq = '\0';
    slash = strchr (eq + 1, '/');
    if (slash)
      *slash = '\0';
    pool = slash ? slash + 1 : item;
    if (parse_size (eq + 1, &capacity) < 0 || item[0] == '\0' ||
        strchr (item, '/') || pool[0] == '\0')
      goto bad;

    if ((err = make_pool (pool, capacity)) != 0 ||
        (err = make_heap (item, pool)) != 0) {
      set_reason (reason, size, "cannot make fake heap %s: %s", item,
          strerror (err));
      ret = -1;
      break;
    }
    continue;

  bad:
    set_reason (reason, size, "bad item '%s' in the fake heap layout (want "
        "NAME=SIZE[/POOL])", item);
    ret = -1;
    break;
  }
  free (copy);

  return ret;
}

FakeHeapMode
fake_heap_setup (const char *layout, char *reason, size_t reason_size)
{
  struct stat st;
  int old;

  if (env_is ("GST_DMA_HEAP_TEST_REAL", "1"))
    return FAKE_HEAP_REAL;

  /* a child of a process that set it up */
  if (getenv ("GST_DMA_HEAP_FAKE_DIR") && stat (TABLE_PATH, &st) == 0)
    return FAKE_HEAP_ACTIVE;

  if (layout == NULL)
    layout = getenv ("GST_DMA_HEAP_FAKE_LAYOUT");
  if (layout == NULL || layout[0] == '\0')
    layout = FAKE_HEAP_DEFAULT_LAYOUT;

  if (geteuid () != 0) {
    set_reason (reason, reason_size, "the fake heaps need root (a private "
        "mount namespace); set GST_DMA_HEAP_TEST_REAL=1 to test the heaps of "
        "this machine");
    return FAKE_HEAP_UNAVAILABLE;
  }
  if (unshare (CLONE_NEWNS) < 0 ||
      mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
    set_reason (reason, reason_size, "no private mount namespace: %s",
        strerror (errno));
    return FAKE_HEAP_UNAVAILABLE;
  }

  old = open ("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (old < 0 || mount ("tmpfs", "/dev", "tmpfs", MS_NOSUID,
          "mode=755") < 0) {
    set_reason (reason, reason_size, "cannot mount a tmpfs on /dev: %s",
        strerror (errno));
    return FAKE_HEAP_UNAVAILABLE;
  }
  copy_dev (old);
  close (old);

  if (mkdir (HEAP_DIR, 0755) < 0 || mkdir (FAKE_HEAP_DIR, 0755) < 0 ||
      mkdir (POOLS_DIR, 0755) < 0) {
    set_reason (reason, reason_size, "cannot make %s: %s", HEAP_DIR,
        strerror (errno));
    return FAKE_HEAP_UNAVAILABLE;
  }
  if (make_layout (layout, reason, reason_size) < 0 ||
      fake_sys_dev_char (reason, reason_size) < 0)
    return FAKE_HEAP_UNAVAILABLE;

  setenv ("GST_DMA_HEAP_FAKE_DIR", FAKE_HEAP_DIR, 1);

  return FAKE_HEAP_ACTIVE;
}

/* The API of the tests */

int
fake_heap_is_active (void)
{
  struct stat st;

  return fake_wanted () && stat (TABLE_PATH, &st) == 0;
}

unsigned
fake_heap_alloc_count (const char *name)
{
  unsigned i, n = 0;

  pthread_mutex_lock (&lock);
  for (i = 0; i < n_counts; i++) {
    if (name == NULL || strcmp (counts[i].name, name) == 0)
      n += counts[i].count;
  }
  pthread_mutex_unlock (&lock);

  return n;
}

void
fake_heap_reset_counts (void)
{
  pthread_mutex_lock (&lock);
  n_counts = 0;
  pthread_mutex_unlock (&lock);
}

void
fake_heap_fail_alloc (const char *name, int err, int count)
{
  set_rule (alloc_rules, &n_alloc_rules, name, -1, err, count);
}

void
fake_heap_fail_sync (int fd, int err, int count)
{
  set_rule (sync_rules, &n_sync_rules, NULL, fd, err, count);
}

void
fake_heap_set_observer (FakeHeapObserver cb, void *user_data)
{
  observer_data = user_data;
  observer = cb;
}

static int
pool_statfs (const char *name, struct statfs *sfs)
{
  const FakeHeap *heap;
  char path[2 * NAME_LEN];
  int ret = -1;

  pthread_mutex_lock (&lock);
  heap = fake_wanted () ? heap_by_name_locked (name) : NULL;
  if (heap) {
    pool_path (path, sizeof (path), heap->pool);
    ret = statfs (path, sfs);
  }
  pthread_mutex_unlock (&lock);

  return ret;
}

int64_t
fake_heap_get_used (const char *name)
{
  struct statfs sfs;

  if (pool_statfs (name, &sfs) < 0)
    return -1;

  return (int64_t) (sfs.f_blocks - sfs.f_bfree) * sfs.f_bsize;
}

int64_t
fake_heap_get_capacity (const char *name)
{
  const FakeHeap *heap;
  char path[2 * NAME_LEN], line[1024], want[2 * NAME_LEN + 8];
  int64_t ret = -1;
  FILE *f;

  pthread_mutex_lock (&lock);
  heap = fake_wanted () ? heap_by_name_locked (name) : NULL;
  if (heap)
    pool_path (path, sizeof (path), heap->pool);
  pthread_mutex_unlock (&lock);
  if (heap == NULL)
    return -1;

  /* the size= option of the mount, none when unlimited */
  f = fopen ("/proc/self/mounts", "re");
  if (f == NULL)
    return -1;
  snprintf (want, sizeof (want), " %s ", path);
  while (fgets (line, sizeof (line), f)) {
    const char *opt;

    if (strstr (line, want) == NULL)
      continue;
    opt = strstr (line, "size=");
    ret = 0;
    if (opt) {
      char *end;
      uint64_t v = strtoull (opt + 5, &end, 10);

      if (*end == 'k')
        v <<= 10;
      ret = (int64_t) v;
    }
  }
  fclose (f);

  return ret;
}

int
fake_heap_set_capacity (const char *name, uint64_t capacity)
{
  const FakeHeap *heap;
  char path[2 * NAME_LEN], opts[64];

  pthread_mutex_lock (&lock);
  heap = fake_wanted () ? heap_by_name_locked (name) : NULL;
  if (heap)
    pool_path (path, sizeof (path), heap->pool);
  pthread_mutex_unlock (&lock);
  if (heap == NULL)
    return ENOENT;

  snprintf (opts, sizeof (opts), "size=%llu", (unsigned long long) capacity);
  if (mount (NULL, path, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
          opts) < 0)
    return errno;

  return 0;
}

int
fake_heap_add (const char *name, uint64_t capacity, const char *pool)
{
  int err;

  if (!fake_heap_is_active ())
    return ENODEV;
  if (pool == NULL)
    pool = name;
  if ((err = make_pool (pool, capacity)) != 0)
    return err;

  return make_heap (name, pool);
}

char *
fake_heap_get_buf_name (int fd)
{
  char name[DMA_BUF_NAME_LEN + 1];
  ssize_t len;

  len = fgetxattr (fd, XATTR_USER, name, sizeof (name) - 1);
  if (len < 0)
    len = fgetxattr (fd, XATTR_TRUSTED, name, sizeof (name) - 1);
  if (len < 0)
    return NULL;
  name[len] = '\0';

  return strdup (name);
}

int
fake_heap_is_buffer (int fd)
{
  int ret;

  pthread_mutex_lock (&lock);
  ret = fake_wanted () && is_fake_buffer_locked (fd);
  pthread_mutex_unlock (&lock);

  return ret;
}
