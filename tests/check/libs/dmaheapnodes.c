/* gst-dmaheap: entries of /dev/dma_heap that are not heaps
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A FIFO, a regular file, a directory, a character device of another class
 * (with /dev/zero's numbers) and a symlink to the FIFO are put in the heap
 * directory: opening them fails at once with an error that says what they
 * are, without opening them, and they are not listed as heaps, by the
 * library nor by gst-dmaheap-info; a heap node readable (not writable) by
 * a user's group is enough for that user to allocate. Runs on the fake
 * heaps of tests/fakeheap (whose /dev is private to the test), or in the
 * machine's /dev/dma_heap with GST_DMA_HEAP_TEST_REAL=1 (the test guest).
 * Needs root, for mknod().
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* the program defines open64() and openat64() itself (see below) */
#undef _FORTIFY_SOURCE

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fakeheap.h"

#include <gst/check/gstcheck.h>
#include <gst/dmaheap/dmaheap.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP_EXIT 77
#define DIR_PATH "/dev/dma_heap"

typedef struct
{
  const gchar *name;            /* entry in the heap directory */
  const gchar *node;            /* the node the error names */
  const gchar *what;            /* what the error says it is */
} NonHeap;

static const NonHeap non_heaps[] = {
  {"gstcheck-fifo", "gstcheck-fifo", "it is a FIFO, not a dma-buf heap"},
  {"gstcheck-file", "gstcheck-file", "it is a regular file, not a dma-buf "
        "heap"},
  {"gstcheck-dir", "gstcheck-dir", "it is a directory, not a dma-buf heap"},
  {"gstcheck-zero", "gstcheck-zero", "it is a character device of class "
        "mem (1:5), not a dma-buf heap"},
  {"gstcheck-to-fifo", "gstcheck-fifo", "it is a FIFO, not a dma-buf heap"},
};

#define ALIAS "gstcheck-alias"

/* a heap of the machine (or of the fake), found in main() */
static gchar *good_heap;
static gboolean strict;

static gchar *
entry_path (const gchar * name)
{
  return g_strconcat (DIR_PATH "/", name, NULL);
}

static void
remove_entries (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (non_heaps); i++) {
    gchar *path = entry_path (non_heaps[i].name);

    if (rmdir (path) < 0)
      unlink (path);
    g_free (path);
  }
  unlink (DIR_PATH "/" ALIAS);
}

static void
make_entries (void)
{
  gint fd;

  remove_entries ();

  fail_unless (mkfifo (DIR_PATH "/gstcheck-fifo", 0666) == 0, "mkfifo: %s",
      g_strerror (errno));
  fd = open (DIR_PATH "/gstcheck-file", O_WRONLY | O_CREAT | O_EXCL |
      O_CLOEXEC, 0666);
  fail_unless (fd >= 0, "creating a file: %s", g_strerror (errno));
  close (fd);
  fail_unless (mkdir (DIR_PATH "/gstcheck-dir", 0755) == 0);
  fail_unless (mknod (DIR_PATH "/gstcheck-zero", S_IFCHR | 0666,
          makedev (1, 5)) == 0, "mknod: %s", g_strerror (errno));
  fail_unless (symlink ("gstcheck-fifo", DIR_PATH "/gstcheck-to-fifo") == 0);
  fail_unless (symlink (good_heap, DIR_PATH "/" ALIAS) == 0);
}

static guint
count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  fail_unless (dir != NULL);
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);

  return n;
}

/* Every open the library makes comes through here first: a program's own
 * definitions come before libc's in the lookup, and the library calls the
 * 64-bit names (large file support). Opens of the watched entries are
 * counted. (inotify would tell the same, but not every kernel has it; the
 * test guest's has not.) */
static const gchar *watched[G_N_ELEMENTS (non_heaps) + 1];
static gint opens_seen;

static void
note_open (const char *path)
{
  const char *base;
  guint i;

  if (path == NULL)
    return;
  base = strrchr (path, '/');
  base = base ? base + 1 : path;
  for (i = 0; i < G_N_ELEMENTS (watched) && watched[i]; i++) {
    if (strcmp (base, watched[i]) == 0)
      g_atomic_int_inc (&opens_seen);
  }
}

int open64 (const char *path, int flags, ...);
int openat64 (int dirfd, const char *path, int flags, ...);

int
open64 (const char *path, int flags, ...)
{
  static int (*real) (const char *, int, ...);
  int mode = 0;

  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list args;

    va_start (args, flags);
    mode = va_arg (args, int);
    va_end (args);
  }
  if (real == NULL)
    real = (int (*)(const char *, int, ...)) dlsym (RTLD_NEXT, "open64");
  note_open (path);
  return real (path, flags, mode);
}

int
openat64 (int dirfd, const char *path, int flags, ...)
{
  static int (*real) (int, const char *, int, ...);
  int mode = 0;

  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list args;

    va_start (args, flags);
    mode = va_arg (args, int);
    va_end (args);
  }
  if (real == NULL)
    real = (int (*)(int, const char *, int, ...)) dlsym (RTLD_NEXT,
        "openat64");
  note_open (path);
  return real (dirfd, path, flags, mode);
}

/* watch_opens NAME...: count the opens of these entries from now on */
static void
watch_opens (const gchar * first, ...)
{
  va_list args;
  const gchar *name;
  guint n = 0;

  memset (watched, 0, sizeof (watched));
  va_start (args, first);
  for (name = first; name && n < G_N_ELEMENTS (watched) - 1;
      name = va_arg (args, const gchar *))
    watched[n++] = name;
  va_end (args);
  g_atomic_int_set (&opens_seen, 0);
}

static guint
count_opens (void)
{
  guint n = g_atomic_int_get (&opens_seen);

  memset (watched, 0, sizeof (watched));
  return n;
}

static void
check_refused (const NonHeap * entry, const GError * error)
{
  gchar *node = entry_path (entry->node);
  gchar *quoted = g_strdup_printf ("'%s'", entry->name);

  fail_unless (error != NULL);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_FAILED), "%s: %s", entry->name, error->message);
  fail_unless (strstr (error->message, quoted) != NULL, "%s not in '%s'",
      quoted, error->message);
  fail_unless (strstr (error->message, node) != NULL, "%s not in '%s'",
      node, error->message);
  fail_unless (strstr (error->message, entry->what) != NULL, "'%s' not in "
      "'%s'", entry->what, error->message);
  g_free (quoted);
  g_free (node);
}

GST_START_TEST (test_open_refuses_non_heaps)
{
  guint fds = count_fds ();
  guint i;

  watch_opens (non_heaps[0].name, non_heaps[1].name, non_heaps[2].name,
      non_heaps[3].name, non_heaps[4].name, NULL);

  for (i = 0; i < G_N_ELEMENTS (non_heaps); i++) {
    GError *error = NULL;
    GstAllocator *allocator;
    gint64 start;
    gint fd;

    /* a FIFO opened for reading blocks until a writer comes: the alarm
     * ends the test then, as a failure */
    alarm (10);
    start = g_get_monotonic_time ();
    fd = gst_dma_heap_open (non_heaps[i].name, &error);
    alarm (0);
    fail_unless_equals_int (fd, -1);
    check_refused (&non_heaps[i], error);
    fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC,
        "refusing %s took %" G_GINT64_FORMAT " us", non_heaps[i].name,
        g_get_monotonic_time () - start);
    g_clear_error (&error);

    /* the allocator gives the same reason */
    alarm (10);
    allocator = gst_dma_heap_allocator_new (non_heaps[i].name, &error);
    alarm (0);
    fail_unless (allocator == NULL);
    fail_unless (error != NULL);
    /* the spec does not resolve: the entry is no heap present, and the
     * message says what it is */
    fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_NOT_FOUND), "%s", error->message);
    {
      gchar *said = g_strdup_printf ("'%s' is a", non_heaps[i].name);

      fail_unless (strstr (error->message, said) != NULL, "'%s' not in '%s'",
          said, error->message);
      g_free (said);
    }
    g_clear_error (&error);
  }

  /* nothing was opened to find that out */
  fail_unless_equals_int (count_opens (), 0);
  fail_unless_equals_int (count_fds (), fds);
}

GST_END_TEST;

/* the count does see the library's opens: the check above can fail */
GST_START_TEST (test_open_watch_works)
{
  GError *error = NULL;
  gint fd;

  watch_opens (good_heap, NULL);
  fd = gst_dma_heap_open (good_heap, &error);
  fail_unless (fd >= 0, "%s", error ? error->message : "?");
  close (fd);
  fd = gst_dma_heap_open (good_heap, &error);
  fail_unless (fd >= 0, "%s", error ? error->message : "?");
  close (fd);
  fail_unless_equals_int (count_opens (), 2);
}

GST_END_TEST;

GST_START_TEST (test_list_leaves_out_non_heaps)
{
  GError *error = NULL;
  gchar **names, **found, *text;
  guint i;

  names = gst_dma_heap_list (&error);
  fail_unless (names != NULL, "%s", error ? error->message : "");
  fail_unless (g_strv_contains ((const gchar * const *) names, good_heap));
  /* a symlink to a heap is one */
  fail_unless (g_strv_contains ((const gchar * const *) names, ALIAS));
  for (i = 0; i < G_N_ELEMENTS (non_heaps); i++)
    fail_if (g_strv_contains ((const gchar * const *) names,
            non_heaps[i].name), "%s listed as a heap", non_heaps[i].name);
  g_strfreev (names);

  /* the heaps present are described without them, and they are said to
   * be no heaps */
  text = gst_dma_heap_describe_available ();
  fail_unless (strstr (text, good_heap) != NULL, "%s", text);
  fail_unless (strstr (text, "not heaps, ignored: ") != NULL, "%s", text);
  fail_unless (strstr (text, "'gstcheck-fifo' is a FIFO") != NULL, "%s",
      text);
  fail_unless (strstr (text, "'gstcheck-zero' is a character device of "
          "class mem (1:5)") != NULL, "%s", text);
  fail_unless (strstr (text, "'gstcheck-to-fifo' is a symlink to "
          "'gstcheck-fifo', a FIFO") != NULL, "%s", text);
  g_free (text);

  /* `default` and fallback lists never land on them */
  found = gst_dma_heap_resolve ("gstcheck-fifo,gstcheck-zero,gstcheck-file",
      &error);
  fail_unless (found == NULL);
  fail_unless (g_error_matches (error, GST_DMA_HEAP_ERROR,
          GST_DMA_HEAP_ERROR_NOT_FOUND), "%s", error->message);
  fail_unless (strstr (error->message, "'gstcheck-file' is a regular file")
      != NULL, "%s", error->message);
  g_clear_error (&error);

  found = gst_dma_heap_resolve ("gstcheck-fifo," ALIAS, &error);
  fail_unless (found != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (found[0], ALIAS);
  fail_unless (found[1] == NULL);
  g_strfreev (found);
}

GST_END_TEST;

/* A real heap opens read-only, non-blocking, close-on-exec, and allocates
 * through that fd */
GST_START_TEST (test_heap_opens_read_only)
{
  const gchar *names[] = { NULL, ALIAS };
  guint i;

  names[0] = good_heap;
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    GError *error = NULL;
    GstAllocator *allocator;
    GstMemory *mem;
    gint fd, flags;

    fd = gst_dma_heap_open (names[i], &error);
    fail_unless (fd >= 0, "%s", error ? error->message : "");
    flags = fcntl (fd, F_GETFL);
    fail_unless (flags >= 0);
    fail_unless_equals_int (flags & O_ACCMODE, O_RDONLY);
    fail_unless (flags & O_NONBLOCK);
    fail_unless (fcntl (fd, F_GETFD) & FD_CLOEXEC);
    close (fd);

    allocator = gst_dma_heap_allocator_new (names[i], &error);
    fail_unless (allocator != NULL, "%s", error ? error->message : "");
    mem = gst_allocator_alloc (allocator, 4096, NULL);
    fail_unless (mem != NULL, "no memory from %s", names[i]);
    gst_memory_unref (mem);
    gst_object_unref (allocator);
  }
}

GST_END_TEST;

/* Least privilege: a node readable by its group only (0640 root:<group>,
 * as a udev rule with MODE="0640" makes it) is enough for a user of that
 * group to open the heap and allocate. The node's owner and mode are put
 * back afterwards. */
#define TEST_GROUP 4243

static gint
child_read_only_alloc (void)
{
  gid_t groups[1] = { TEST_GROUP };
  GstAllocator *allocator;
  GstMemory *mem;
  GError *error = NULL;
  gint fd;

  if (setgroups (1, groups) < 0 || setgid (65534) < 0 || setuid (65534) < 0)
    return 2;

  /* the node is not writable for this user: the test means something */
  if (access (DIR_PATH "/", F_OK) < 0)
    return 3;
  {
    gchar *path = entry_path (good_heap);
    gboolean writable = access (path, W_OK) == 0;

    g_free (path);
    if (writable)
      return 7;
  }

  fd = gst_dma_heap_open (good_heap, &error);
  if (fd < 0) {
    g_printerr ("read-only user: %s\n", error->message);
    return 4;
  }
  close (fd);

  allocator = gst_dma_heap_allocator_new (good_heap, &error);
  if (allocator == NULL) {
    g_printerr ("read-only user: %s\n", error->message);
    return 5;
  }
  mem = gst_allocator_alloc (allocator, 65536, NULL);
  if (mem == NULL)
    return 6;
  gst_memory_unref (mem);
  gst_object_unref (allocator);

  return 0;
}

GST_START_TEST (test_read_only_node_allocates)
{
  gchar *path = entry_path (good_heap);
  struct stat st;
  pid_t pid;
  gint status, result = -1;

  fail_unless (stat (path, &st) == 0);
  fail_unless (chown (path, 0, TEST_GROUP) == 0);
  fail_unless (chmod (path, 0640) == 0);

  pid = fork ();
  if (pid == 0)
    _exit (child_read_only_alloc ());
  if (pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status))
    result = WEXITSTATUS (status);

  /* put the node back before any assertion */
  fail_unless (chmod (path, st.st_mode & 07777) == 0);
  fail_unless (chown (path, st.st_uid, st.st_gid) == 0);

  fail_unless_equals_int (result, 0);
  g_free (path);
}

GST_END_TEST;

static gchar *
run_info (const gchar * arg)
{
  const gchar *tool = g_getenv ("GST_DMA_HEAP_INFO_TOOL");
  const gchar *argv[] = { tool, arg, NULL };
  GError *error = NULL;
  gchar *out = NULL;
  gint status;

  fail_unless (tool != NULL, "GST_DMA_HEAP_INFO_TOOL is not set");
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
          &error), "%s: %s", tool, error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, &error), "%s %s: %s", tool,
      arg ? arg : "", error->message);

  return out;
}

GST_START_TEST (test_info_tool_leaves_out_non_heaps)
{
  gchar *json, *human, *want;
  guint i;

  alarm (30);
  json = run_info ("--json");
  human = run_info (NULL);
  alarm (0);

  want = g_strdup_printf ("\"%s/%s\"", DIR_PATH, good_heap);
  fail_unless (strstr (json, want) != NULL, "%s not in %s", want, json);
  g_free (want);
  want = g_strdup_printf ("%s (%s/%s):", good_heap, DIR_PATH, good_heap);
  fail_unless (strstr (human, want) != NULL, "%s not in %s", want, human);
  g_free (want);

  for (i = 0; i < G_N_ELEMENTS (non_heaps); i++) {
    fail_if (strstr (json, non_heaps[i].name) != NULL, "%s in %s",
        non_heaps[i].name, json);
    fail_if (strstr (human, non_heaps[i].name) != NULL, "%s in %s",
        non_heaps[i].name, human);
  }

  g_free (json);
  g_free (human);
}

GST_END_TEST;

static Suite *
dmaheapnodes_suite (void)
{
  Suite *s = suite_create ("dmaheapnodes");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, make_entries, remove_entries);
  tcase_add_test (tc, test_open_refuses_non_heaps);
  tcase_add_test (tc, test_open_watch_works);
  tcase_add_test (tc, test_list_leaves_out_non_heaps);
  tcase_add_test (tc, test_heap_opens_read_only);
  tcase_add_test (tc, test_read_only_node_allocates);
  tcase_add_test (tc, test_info_tool_leaves_out_non_heaps);

  return s;
}

/* Not runnable here: skipped, or failed in strict mode (the guest). */
static int
cannot_run (const gchar * fmt, ...) G_GNUC_PRINTF (1, 2);

static int
cannot_run (const gchar * fmt, ...)
{
  va_list args;
  gchar *reason;

  va_start (args, fmt);
  reason = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (strict) {
    g_printerr ("FAIL: dmaheapnodes: %s\n", reason);
    g_free (reason);
    return 1;
  }
  g_print ("SKIP: dmaheapnodes: %s\n", reason);
  g_free (reason);

  return SKIP_EXIT;
}

int
main (int argc, char **argv)
{
  gchar reason[512] = "";
  GError *error = NULL;
  gchar **names;
  int ret;

  switch (fake_heap_setup (NULL, reason, sizeof (reason))) {
    case FAKE_HEAP_ACTIVE:
      strict = TRUE;
      break;
    case FAKE_HEAP_REAL:
      strict = g_strcmp0 (g_getenv ("GST_DMA_HEAP_TEST_STRICT"), "1") == 0;
      break;
    default:
      g_print ("SKIP: dmaheapnodes: %s\n", reason);
      return SKIP_EXIT;
  }

  gst_check_init (&argc, &argv);
  /* the time bounds are alarm()s: their signal must end the test */
  signal (SIGALRM, SIG_DFL);

  names = gst_dma_heap_list (&error);
  if (names == NULL || names[0] == NULL) {
    ret = cannot_run ("no heap to compare with: %s", names ? "none present" :
        error->message);
    g_clear_error (&error);
    g_strfreev (names);
    return ret;
  }
  good_heap = g_strdup (names[0]);
  g_strfreev (names);

  /* device nodes can only be made with CAP_MKNOD */
  unlink (DIR_PATH "/gstcheck-probe");
  if (mknod (DIR_PATH "/gstcheck-probe", S_IFCHR | 0600, makedev (1, 5)) < 0) {
    int err = errno;

    if (err == EPERM)
      return cannot_run ("cannot make device nodes in %s: %s", DIR_PATH,
          g_strerror (err));
    g_printerr ("FAIL: dmaheapnodes: mknod in %s: %s\n", DIR_PATH,
        g_strerror (err));
    return 1;
  }
  unlink (DIR_PATH "/gstcheck-probe");

  g_print ("dmaheapnodes: non-heaps next to %s heap %s\n",
      fake_heap_is_active ()? "fake" : "the machine's", good_heap);
  ret = gst_check_run_suite (dmaheapnodes_suite (), "dmaheapnodes", __FILE__);
  g_free (good_heap);

  return ret;
}
