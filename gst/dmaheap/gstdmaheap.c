/* gst-dmaheap: heap names, listing and opening
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:gstdmaheap
 * @title: Heap names
 * @short_description: Validate, list, resolve and open Linux dma-buf heaps
 * @see_also: #GstDmaHeapAllocator, #GstDmaHeapBufferPool
 *
 * A dma-buf heap is a character device under %GST_DMA_HEAP_DIR whose name
 * the kernel chooses: `system`, the default CMA area (which has been called
 * `linux,cma`, `reserved`, `default-pool` and, since Linux 6.17,
 * `default_cma_region`), and one heap per named reserved-memory region,
 * usually spelt with the region's unit address (`ecc-off@78000000`).
 *
 * A *heap spec* is what a user writes to choose heaps: a comma-separated,
 * ordered list whose items are tried in turn. Each item is
 *
 * - `default`: the default CMA heap, whatever the running kernel calls it;
 * - an exact heap name, `ecc-off@78000000`;
 * - a heap name without its unit address, `ecc-off`, when exactly one heap
 *   carries that name;
 * - an absolute path inside %GST_DMA_HEAP_DIR, `/dev/dma_heap/system`.
 *
 * Names and paths are checked before anything is opened, and only device
 * nodes directly inside %GST_DMA_HEAP_DIR are ever opened, whatever the spec
 * says.
 *
 * Since: 0.1
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdmaheap.h"
#include "gstdmaheap-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef O_PATH
#define O_PATH 0
#endif

GST_DEBUG_CATEGORY_STATIC (gst_dma_heap_debug);
#define GST_CAT_DEFAULT gst_dma_heap_debug

#define DMA_HEAP_MISSING_TEXT \
  "none: " GST_DMA_HEAP_DIR " is missing, the kernel has no " \
  "CONFIG_DMABUF_HEAPS"
#define DMA_HEAP_EMPTY_TEXT \
  "none: " GST_DMA_HEAP_DIR " is empty, no heap driver is enabled"
#define DMA_HEAP_NO_HEAP_TEXT \
  "none: " GST_DMA_HEAP_DIR " holds no dma-buf heap"

/* Where the kernel tells the class of a character device: MAJ:MIN/subsystem
 * is a link to the class directory, ".../class/dma_heap" for a heap. */
#define SYS_DEV_CHAR "/sys/dev/char"
#define DMA_HEAP_CLASS_SUFFIX "/dma_heap"

static void
gst_dma_heap_debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_dma_heap_debug, "dmaheap", 0,
        "dma-buf heap names and device nodes");
    g_once_init_leave (&done, 1);
  }
}

/**
 * gst_dma_heap_error_quark:
 *
 * Returns: the quark of the %GST_DMA_HEAP_ERROR domain
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (gst-dma-heap-error-quark, gst_dma_heap_error);

static const gchar *const default_names[] = {
  "default_cma_region",
  "reserved",
  "linux,cma",
  "default-pool",
  NULL
};

/**
 * gst_dma_heap_default_names:
 *
 * The names the default CMA heap has had across kernels, in order of
 * preference: `default_cma_region` (Linux 6.17 and later, which also keep
 * `reserved` as a second name for the same region), `reserved` (the name
 * given by a `cma=` command line or a reserved-memory node called so),
 * `linux,cma` (a device tree node, possibly with a unit address such as
 * `linux,cma@7c000000`) and `default-pool`.
 *
 * These are the names the %GST_DMA_HEAP_DEFAULT_ALIAS item of a heap spec
 * looks for.
 *
 * Returns: (transfer none) (array zero-terminated=1): a %NULL terminated
 *   array of names, owned by the library
 *
 * Since: 0.1
 */
const gchar *const *
gst_dma_heap_default_names (void)
{
  return default_names;
}

/* Quote @name for an error message, control bytes made visible. */
static gchar *
quote_name (const gchar * name)
{
  gchar *escaped, *quoted;

  escaped = g_strescape (name, NULL);
  quoted = g_strdup_printf ("'%s'", escaped);
  g_free (escaped);

  return quoted;
}

/**
 * gst_dma_heap_name_is_valid:
 * @name: (nullable): a heap name, without directory
 * @error: return location for a #GError, or %NULL
 *
 * Checks that @name can be the name of a device node directly inside
 * %GST_DMA_HEAP_DIR: it is not empty, not `.` or `..`, holds no `/` and no
 * control character (bytes below 0x20, and 0x7f), is valid UTF-8 and is at
 * most `NAME_MAX` bytes long. Whether such a heap exists is not checked.
 *
 * On failure @error is set to %GST_DMA_HEAP_ERROR_INVALID_NAME with a
 * message that quotes @name (escaped, so control bytes are visible) and says
 * what is wrong with it.
 *
 * Returns: %TRUE when @name is a valid heap name
 *
 * Since: 0.1
 */
gboolean
gst_dma_heap_name_is_valid (const gchar * name, GError ** error)
{
  const gchar *problem = NULL;
  gsize len;
  const guchar *p;

  if (name == NULL || name[0] == '\0') {
    g_set_error_literal (error, GST_DMA_HEAP_ERROR,
        GST_DMA_HEAP_ERROR_INVALID_NAME,
        "Invalid heap name '': a heap name cannot be empty");
    return FALSE;
  }

  len = strlen (name);

  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0) {
    problem = "it designates a directory, not a heap";
  } else if (strchr (name, '/') != NULL) {
    problem = "a heap name cannot contain '/' (use the name alone, or a "
        "path directly inside " GST_DMA_HEAP_DIR ")";
  } else if (len > NAME_MAX) {
    problem = NULL;             /* message built below, it has numbers */
  } else {
    for (p = (const guchar *) name; *p; p++) {
      if (*p < 0x20 || *p == 0x7f) {
        problem = "a heap name cannot contain control characters";
        break;
      }
    }
    if (problem == NULL && !g_utf8_validate (name, len, NULL))
      problem = "a heap name must be valid UTF-8";
  }

  if (problem == NULL && len <= NAME_MAX)
    return TRUE;

  if (error) {
    gchar *quoted = quote_name (name);

    if (problem) {
      g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_INVALID_NAME,
          "Invalid heap name %s: %s", quoted, problem);
    } else {
      g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_INVALID_NAME,
          "Invalid heap name %s: it is %" G_GSIZE_FORMAT " bytes long, "
          "more than NAME_MAX (%d)", quoted, len, NAME_MAX);
    }
    g_free (quoted);
  }

  return FALSE;
}

/* The class of character device @rdev, as the link
 * /sys/dev/char/MAJ:MIN/subsystem names it; NULL with errno set when the
 * link cannot be read. */
static gchar *
char_device_class (dev_t rdev)
{
  gchar link[64], target[PATH_MAX];
  ssize_t len;

  g_snprintf (link, sizeof (link), SYS_DEV_CHAR "/%u:%u/subsystem",
      major (rdev), minor (rdev));
  len = readlink (link, target, sizeof (target) - 1);
  if (len < 0)
    return NULL;
  target[len] = '\0';

  return g_strdup (target);
}

/* NULL when @st is a device node of the dma_heap class; otherwise what it
 * is, for a message ("a FIFO"). Only stat() results and sysfs are read:
 * nothing is opened. */
static gchar *
describe_non_heap (const struct stat *st)
{
  const gchar *base;
  gchar *class, *ret;
  int err;

  if (S_ISFIFO (st->st_mode))
    return g_strdup ("a FIFO");
  if (S_ISREG (st->st_mode))
    return g_strdup ("a regular file");
  if (S_ISDIR (st->st_mode))
    return g_strdup ("a directory");
  if (S_ISSOCK (st->st_mode))
    return g_strdup ("a socket");
  if (S_ISBLK (st->st_mode))
    return g_strdup ("a block device");
  if (S_ISLNK (st->st_mode))
    return g_strdup ("a symlink");
  if (!S_ISCHR (st->st_mode))
    return g_strdup ("a file of unknown type");

  class = char_device_class (st->st_rdev);
  if (class == NULL) {
    err = errno;
    if (err == ENOENT)
      return g_strdup_printf ("a character device (%u:%u) of no class "
          "(%s/%u:%u/subsystem is missing; is sysfs mounted?)",
          major (st->st_rdev), minor (st->st_rdev), SYS_DEV_CHAR,
          major (st->st_rdev), minor (st->st_rdev));
    return g_strdup_printf ("a character device (%u:%u) whose class cannot "
        "be read from %s: %s", major (st->st_rdev), minor (st->st_rdev),
        SYS_DEV_CHAR, g_strerror (err));
  }

  if (g_str_has_suffix (class, DMA_HEAP_CLASS_SUFFIX)) {
    g_free (class);
    return NULL;
  }

  base = strrchr (class, '/');
  ret = g_strdup_printf ("a character device of class %s (%u:%u)",
      base ? base + 1 : class, major (st->st_rdev), minor (st->st_rdev));
  g_free (class);

  return ret;
}

/* The heap name symlink @name of the heap directory points to, when that
 * is a valid name directly inside GST_DMA_HEAP_DIR; else NULL. @target
 * (optional) is set to what the link holds, or NULL with errno set when
 * it cannot be read. */
static gchar *
link_target_name (int dirfd, const gchar * name, gchar ** target)
{
  static const gchar prefix[] = GST_DMA_HEAP_DIR "/";
  gchar buf[PATH_MAX];
  gchar *canonical, *ret = NULL;
  ssize_t len;

  if (target)
    *target = NULL;

  len = readlinkat (dirfd, name, buf, sizeof (buf) - 1);
  if (len < 0)
    return NULL;
  buf[len] = '\0';
  if (target)
    *target = g_strdup (buf);

  canonical = g_canonicalize_filename (buf, GST_DMA_HEAP_DIR);
  if (g_str_has_prefix (canonical, prefix) &&
      gst_dma_heap_name_is_valid (canonical + strlen (prefix), NULL))
    ret = g_strdup (canonical + strlen (prefix));
  g_free (canonical);

  return ret;
}

/* NULL when entry @name of the heap directory is a heap: a node of the
 * dma_heap class, or a symlink to one directly inside the directory. Else
 * what it is, for a message. */
static gchar *
describe_non_heap_entry (int dirfd, const gchar * name)
{
  struct stat st;
  gchar *target, *what, *ret;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return g_strdup_printf ("unreadable (%s)", g_strerror (errno));
  if (!S_ISLNK (st.st_mode))
    return describe_non_heap (&st);

  target = link_target_name (dirfd, name, NULL);
  if (target == NULL)
    return g_strdup ("a symlink that does not lead to a name in "
        GST_DMA_HEAP_DIR);

  if (fstatat (dirfd, target, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    ret = g_strdup_printf ("a symlink to '%s', which is missing", target);
  } else if (S_ISLNK (st.st_mode)) {
    ret = g_strdup_printf ("a symlink to '%s', itself a symlink", target);
  } else if ((what = describe_non_heap (&st)) != NULL) {
    ret = g_strdup_printf ("a symlink to '%s', %s", target, what);
    g_free (what);
  } else {
    ret = NULL;
  }
  g_free (target);

  return ret;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

gchar **
gst_dma_heap_list_full (gboolean * dir_exists, gchar ** ignored,
    GError ** error)
{
  GPtrArray *names;
  GString *others = NULL;
  DIR *dir;
  struct dirent *entry;

  gst_dma_heap_debug_init ();

  if (dir_exists)
    *dir_exists = FALSE;
  if (ignored)
    *ignored = NULL;

  dir = opendir (GST_DMA_HEAP_DIR);
  if (dir == NULL) {
    if (errno == ENOENT || errno == ENOTDIR) {
      GST_DEBUG ("%s does not exist: no heaps", GST_DMA_HEAP_DIR);
      return g_new0 (gchar *, 1);
    }
    goto open_failed;
  }

  if (dir_exists)
    *dir_exists = TRUE;

  names = g_ptr_array_new ();
  errno = 0;
  while ((entry = readdir (dir)) != NULL) {
    gchar *what;

    if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
      continue;

    if (!gst_dma_heap_name_is_valid (entry->d_name, NULL)) {
      GST_DEBUG ("ignoring entry with an invalid name in %s",
          GST_DMA_HEAP_DIR);
      continue;
    }

    /* FIFOs, files and foreign devices are no heaps: they are left out,
     * and said so where the heaps present are described */
    what = describe_non_heap_entry (dirfd (dir), entry->d_name);
    if (what) {
      gchar *quoted = quote_name (entry->d_name);

      GST_DEBUG ("ignoring %s/%s: it is %s, not a dma-buf heap",
          GST_DMA_HEAP_DIR, entry->d_name, what);
      if (others == NULL)
        others = g_string_new (NULL);
      g_string_append_printf (others, "%s%s is %s", others->len ? "; " : "",
          quoted, what);
      g_free (quoted);
      g_free (what);
      continue;
    }

    g_ptr_array_add (names, g_strdup (entry->d_name));
  }
  closedir (dir);

  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  if (others && ignored)
    *ignored = g_string_free (others, FALSE);
  else if (others)
    g_string_free (others, TRUE);

  return (gchar **) g_ptr_array_free (names, FALSE);

  /* ERRORS */
open_failed:
  {
    int err = errno;

    g_set_error (error, GST_DMA_HEAP_ERROR,
        (err == EACCES || err == EPERM) ? GST_DMA_HEAP_ERROR_PERMISSION :
        GST_DMA_HEAP_ERROR_FAILED,
        "Cannot list the heaps in %s: %s", GST_DMA_HEAP_DIR, g_strerror (err));
    return NULL;
  }
}

/**
 * gst_dma_heap_list:
 * @error: return location for a #GError, or %NULL
 *
 * Lists the heaps present in %GST_DMA_HEAP_DIR. Entries whose names are not
 * valid heap names (see gst_dma_heap_name_is_valid()) are left out, and so
 * are entries that are not heaps: only character devices of the `dma_heap`
 * class (as `/sys/dev/char/MAJ:MIN/subsystem` tells) are listed, and
 * symlinks to such a node directly inside the directory. A FIFO, a regular
 * file, a directory or another device is not listed (and nothing is opened
 * to find that out).
 *
 * A missing directory is not an error: the kernel has no dma-buf heap
 * support, and the list is empty.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the sorted
 *   names of the heaps, possibly an empty array; %NULL with @error set when
 *   the directory exists but cannot be read (the message names the directory
 *   and gives the errno text). Free with g_strfreev().
 *
 * Since: 0.1
 */
gchar **
gst_dma_heap_list (GError ** error)
{
  return gst_dma_heap_list_full (NULL, NULL, error);
}

gchar *
gst_dma_heap_describe_names (const gchar * const *names, gboolean dir_exists,
    const gchar * ignored)
{
  gchar *list, *ret;

  if (names == NULL || names[0] == NULL) {
    if (ignored == NULL)
      return g_strdup (dir_exists ? DMA_HEAP_EMPTY_TEXT :
          DMA_HEAP_MISSING_TEXT);
    return g_strdup_printf ("%s (not heaps, ignored: %s)",
        DMA_HEAP_NO_HEAP_TEXT, ignored);
  }

  list = g_strjoinv (", ", (gchar **) names);
  if (ignored == NULL)
    return list;

  ret = g_strdup_printf ("%s (not heaps, ignored: %s)", list, ignored);
  g_free (list);

  return ret;
}

/**
 * gst_dma_heap_describe_available:
 *
 * Describes the heaps present for a person to read, for example
 * `system, default_cma_region, ecc-off@78000000`, or, when there is none,
 * why: %GST_DMA_HEAP_DIR missing (no `CONFIG_DMABUF_HEAPS` in the kernel),
 * empty, or unreadable. Entries of the directory that are not heaps (see
 * gst_dma_heap_list()) are named after the heaps, with what they are.
 *
 * Returns: (transfer full): a newly allocated string, free with g_free()
 *
 * Since: 0.1
 */
gchar *
gst_dma_heap_describe_available (void)
{
  GError *error = NULL;
  gboolean dir_exists;
  gchar **names;
  gchar *ignored, *ret;

  names = gst_dma_heap_list_full (&dir_exists, &ignored, &error);
  if (names == NULL) {
    ret = g_strdup_printf ("unknown: %s", error->message);
    g_error_free (error);
    return ret;
  }

  ret = gst_dma_heap_describe_names ((const gchar * const *) names,
      dir_exists, ignored);
  g_strfreev (names);
  g_free (ignored);

  return ret;
}

/* TRUE when @name is @base itself or @base with a unit address. */
static gboolean
name_has_base (const gchar * name, const gchar * base)
{
  gsize len = strlen (base);

  return strncmp (name, base, len) == 0 &&
      (name[len] == '\0' || (name[len] == '@' && name[len + 1] != '\0'));
}

static const gchar *
find_default (const gchar * const *available)
{
  guint i, j;

  for (i = 0; default_names[i]; i++) {
    /* the exact name first, then one with a unit address */
    for (j = 0; available[j]; j++) {
      if (strcmp (available[j], default_names[i]) == 0)
        return available[j];
    }
    for (j = 0; available[j]; j++) {
      if (name_has_base (available[j], default_names[i]))
        return available[j];
    }
  }

  return NULL;
}

static void
add_unique (GPtrArray * result, const gchar * name)
{
  guint i;

  for (i = 0; i < result->len; i++) {
    if (strcmp (g_ptr_array_index (result, i), name) == 0)
      return;
  }
  g_ptr_array_add (result, g_strdup (name));
}

/* Resolves one trimmed, non-empty item. Returns FALSE with @error set when
 * the item is malformed or ambiguous; otherwise sets @found to the heap
 * name, or to NULL when the item designates no heap present. */
static gboolean
resolve_item (const gchar * item, const gchar * const *available,
    const gchar ** found, GError ** error)
{
  static const gchar prefix[] = GST_DMA_HEAP_DIR "/";
  const gchar *name = item;
  GPtrArray *matches;
  guint i;

  *found = NULL;

  if (strcmp (item, GST_DMA_HEAP_DEFAULT_ALIAS) == 0) {
    *found = find_default (available);
    return TRUE;
  }

  if (item[0] == '/') {
    GError *inner = NULL;

    if (!g_str_has_prefix (item, prefix))
      goto outside;

    name = item + strlen (prefix);
    if (!gst_dma_heap_name_is_valid (name, &inner)) {
      g_clear_error (&inner);
      goto outside;
    }

    /* a path names a node exactly: no unit address matching */
    for (i = 0; available[i]; i++) {
      if (strcmp (available[i], name) == 0) {
        *found = available[i];
        break;
      }
    }
    return TRUE;
  }

  if (!gst_dma_heap_name_is_valid (name, error))
    return FALSE;

  for (i = 0; available[i]; i++) {
    if (strcmp (available[i], name) == 0) {
      *found = available[i];
      return TRUE;
    }
  }

  if (strchr (name, '@') != NULL)
    return TRUE;

  matches = g_ptr_array_new ();
  for (i = 0; available[i]; i++) {
    if (name_has_base (available[i], name))
      g_ptr_array_add (matches, (gpointer) available[i]);
  }

  if (matches->len > 1)
    goto ambiguous;

  if (matches->len == 1)
    *found = g_ptr_array_index (matches, 0);
  g_ptr_array_free (matches, TRUE);

  return TRUE;

  /* ERRORS */
outside:
  {
    gchar *quoted = quote_name (item);

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_INVALID_NAME,
        "Invalid heap path %s: a path must be %s<name>, a device node "
        "directly inside %s", quoted, prefix, GST_DMA_HEAP_DIR);
    g_free (quoted);
    return FALSE;
  }
ambiguous:
  {
    gchar *list;

    g_ptr_array_add (matches, NULL);
    list = g_strjoinv (", ", (gchar **) matches->pdata);
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_AMBIGUOUS,
        "Heap name '%s' is ambiguous, it matches %s; give the full name",
        name, list);
    g_free (list);
    g_ptr_array_free (matches, TRUE);
    return FALSE;
  }
}

/* Items @first to @last of @items joined again with commas: sets @found
 * when they name a heap present. Only an ambiguous name is an error. */
static gboolean
resolve_joined (gchar ** items, guint first, guint last,
    const gchar * const *available, const gchar ** found, GError ** error)
{
  GError *inner = NULL;
  gchar *saved, *joined;
  gboolean ret = TRUE;

  saved = items[last + 1];
  items[last + 1] = NULL;
  joined = g_strjoinv (",", items + first);
  items[last + 1] = saved;
  g_strstrip (joined);

  *found = NULL;
  if (!resolve_item (joined, available, found, &inner)) {
    if (g_error_matches (inner, GST_DMA_HEAP_ERROR,
            GST_DMA_HEAP_ERROR_AMBIGUOUS)) {
      g_propagate_error (error, inner);
      inner = NULL;
      ret = FALSE;
    }
    g_clear_error (&inner);
    *found = NULL;
  }
  g_free (joined);

  return ret;
}

static gchar **
resolve_full (const gchar * spec, const gchar * const *available,
    gboolean dir_exists, const gchar * ignored, GError ** error)
{
  static const gchar *const none[] = { NULL };
  GPtrArray *result;
  gchar **items;
  guint i, n_items, max_commas = 0;

  gst_dma_heap_debug_init ();

  if (available == NULL)
    available = none;

  /* A run of items joined again can only designate a heap whose name has
   * at least as many commas: looking further would make long specs cost
   * cubic time for nothing. */
  for (i = 0; available[i]; i++) {
    const gchar *c;
    guint commas = 0;

    for (c = strchr (available[i], ','); c; c = strchr (c + 1, ','))
      commas++;
    max_commas = MAX (max_commas, commas);
  }

  if (spec == NULL || spec[0] == '\0')
    goto empty_spec;

  items = g_strsplit (spec, ",", -1);
  n_items = g_strv_length (items);
  result = g_ptr_array_new_with_free_func (g_free);

  for (i = 0; i < n_items; i++) {
    const gchar *found = NULL;
    gchar *item;
    guint last;

    /* Heap names may hold commas ("linux,cma"): the longest run of items
     * that names a heap present is that heap. */
    for (last = MIN (n_items - 1, i + max_commas); last > i; last--) {
      if (!resolve_joined (items, i, last, available, &found, error))
        goto failed;
      if (found)
        break;
    }
    if (found) {
      GST_DEBUG ("heap spec '%s': items %u to %u are heap '%s'", spec,
          i + 1, last + 1, found);
      add_unique (result, found);
      i = last;
      continue;
    }

    item = g_strstrip (items[i]);
    if (item[0] == '\0')
      goto empty_item;

    if (!resolve_item (item, available, &found, error))
      goto failed;

    if (found == NULL) {
      GST_DEBUG ("heap spec '%s': no heap for '%s', trying the next item",
          spec, item);
      continue;
    }

    GST_DEBUG ("heap spec '%s': '%s' is heap '%s'", spec, item, found);
    add_unique (result, found);
  }
  g_strfreev (items);

  if (result->len == 0)
    goto not_found;

  g_ptr_array_set_free_func (result, NULL);
  g_ptr_array_add (result, NULL);

  return (gchar **) g_ptr_array_free (result, FALSE);

  /* ERRORS */
empty_spec:
  {
    g_set_error_literal (error, GST_DMA_HEAP_ERROR,
        GST_DMA_HEAP_ERROR_INVALID_NAME,
        "Empty heap spec: give a heap name, a path in " GST_DMA_HEAP_DIR
        ", 'default' or a comma-separated list of those");
    return NULL;
  }
empty_item:
  {
    gchar *quoted = quote_name (spec);

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_INVALID_NAME,
        "Invalid heap spec %s: item %u is empty", quoted, i + 1);
    g_free (quoted);
    g_strfreev (items);
    g_ptr_array_free (result, TRUE);
    return NULL;
  }
failed:
  {
    g_strfreev (items);
    g_ptr_array_free (result, TRUE);
    return NULL;
  }
not_found:
  {
    gchar *quoted = quote_name (spec);
    gchar *present = gst_dma_heap_describe_names (available, dir_exists,
        ignored);

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_NOT_FOUND,
        "No heap matches the heap spec %s; heaps present: %s", quoted, present);
    g_free (present);
    g_free (quoted);
    g_ptr_array_free (result, TRUE);
    return NULL;
  }
}

/**
 * gst_dma_heap_resolve_in:
 * @spec: a heap spec (see the section description)
 * @available: (array zero-terminated=1) (nullable): the names of the heaps
 *   present, as gst_dma_heap_list() returns them
 * @error: return location for a #GError, or %NULL
 *
 * Resolves @spec against the heap names in @available. This function does
 * not touch the file system, so that a spec can be checked against any list
 * of names.
 *
 * Items of @spec are separated by commas, and white space around an item is
 * ignored. Items are resolved in order:
 *
 * - `default` becomes the first of gst_dma_heap_default_names() present in
 *   @available, a name with a unit address counting too (`linux,cma@7c000000`
 *   for `linux,cma`). Only the first one: `default_cma_region` and
 *   `reserved` are the same region on kernels that have both.
 * - an absolute path must be %GST_DMA_HEAP_DIR, a slash and a valid heap
 *   name; it designates that name exactly.
 * - any other item must be a valid heap name (gst_dma_heap_name_is_valid()).
 *   A name present in @available is taken as is; a name without `@` also
 *   designates the one available heap called `<name>@<unit address>`.
 *
 * A heap name may itself contain commas (`linux,cma`): consecutive items
 * that, joined again, designate a heap present are taken as that one name.
 *
 * An item that designates no heap present is skipped, so that a list works
 * as a fallback chain. A malformed item (empty, invalid name, path outside
 * %GST_DMA_HEAP_DIR) fails with %GST_DMA_HEAP_ERROR_INVALID_NAME, and a name
 * matching several heaps with %GST_DMA_HEAP_ERROR_AMBIGUOUS naming them,
 * whatever the other items. When no item designates a heap present, the
 * error is %GST_DMA_HEAP_ERROR_NOT_FOUND and its message gives @spec and the
 * heaps that exist.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the heap
 *   names, never paths, in the order of @spec and without duplicates; %NULL
 *   with @error set on failure. Free with g_strfreev().
 *
 * Since: 0.1
 */
gchar **
gst_dma_heap_resolve_in (const gchar * spec, const gchar * const *available,
    GError ** error)
{
  return resolve_full (spec, available, FALSE, NULL, error);
}

/**
 * gst_dma_heap_resolve:
 * @spec: a heap spec
 * @error: return location for a #GError, or %NULL
 *
 * Resolves @spec against the heaps present, as gst_dma_heap_resolve_in()
 * does with the names gst_dma_heap_list() returns.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the heap
 *   names, or %NULL with @error set. Free with g_strfreev().
 *
 * Since: 0.1
 */
gchar **
gst_dma_heap_resolve (const gchar * spec, GError ** error)
{
  gboolean dir_exists;
  gchar **available, **ret;
  gchar *ignored;

  available = gst_dma_heap_list_full (&dir_exists, &ignored, error);
  if (available == NULL)
    return NULL;

  ret = resolve_full (spec, (const gchar * const *) available, dir_exists,
      ignored, error);
  g_strfreev (available);
  g_free (ignored);

  return ret;
}

/**
 * gst_dma_heap_get_device_path:
 * @name: a heap name
 *
 * Returns: (transfer full) (nullable): the path of the device node of heap
 *   @name, `/dev/dma_heap/<name>`, or %NULL when @name is not a valid heap
 *   name. Free with g_free().
 *
 * Since: 0.1
 */
gchar *
gst_dma_heap_get_device_path (const gchar * name)
{
  if (!gst_dma_heap_name_is_valid (name, NULL))
    return NULL;

  return g_strconcat (GST_DMA_HEAP_DIR "/", name, NULL);
}

/* "crw------- root:root", or NULL when the node cannot be stat'ed. */
static gchar *
describe_node (int dirfd, const gchar * name)
{
  struct stat st;
  gchar mode[11];
  gchar *owner, *group;
  gchar *ret;
  struct passwd *pw;
  struct group *gr;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return NULL;

  mode[0] = S_ISCHR (st.st_mode) ? 'c' : S_ISDIR (st.st_mode) ? 'd' :
      S_ISLNK (st.st_mode) ? 'l' : S_ISREG (st.st_mode) ? '-' : '?';
  mode[1] = (st.st_mode & S_IRUSR) ? 'r' : '-';
  mode[2] = (st.st_mode & S_IWUSR) ? 'w' : '-';
  mode[3] = (st.st_mode & S_IXUSR) ? 'x' : '-';
  mode[4] = (st.st_mode & S_IRGRP) ? 'r' : '-';
  mode[5] = (st.st_mode & S_IWGRP) ? 'w' : '-';
  mode[6] = (st.st_mode & S_IXGRP) ? 'x' : '-';
  mode[7] = (st.st_mode & S_IROTH) ? 'r' : '-';
  mode[8] = (st.st_mode & S_IWOTH) ? 'w' : '-';
  mode[9] = (st.st_mode & S_IXOTH) ? 'x' : '-';
  mode[10] = '\0';

  /* not thread safe in theory, only used to word an error message */
  pw = getpwuid (st.st_uid);
  owner = pw ? g_strdup (pw->pw_name) : g_strdup_printf ("%u",
      (guint) st.st_uid);
  gr = getgrgid (st.st_gid);
  group = gr ? g_strdup (gr->gr_name) : g_strdup_printf ("%u",
      (guint) st.st_gid);

  ret = g_strdup_printf ("%s %s:%s", mode, owner, group);
  g_free (owner);
  g_free (group);

  return ret;
}

static void
set_open_error (GError ** error, int err, int dirfd, const gchar * name,
    const gchar * path)
{
  if (err == EACCES || err == EPERM) {
    gchar *node = dirfd >= 0 ? describe_node (dirfd, name) : NULL;

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_PERMISSION,
        "Cannot open heap %s: %s.%s%s%s This process (uid %u) may not use the "
        "heap. Allow it with a udev rule such as "
        "SUBSYSTEM==\"dma_heap\", KERNEL==\"%s\", GROUP=\"video\", "
        "MODE=\"0660\" (for example in /etc/udev/rules.d/70-dma-heap.rules) "
        "and add the user to the group video, or choose another heap",
        path, g_strerror (err), node ? " The node is " : "",
        node ? node : "", node ? "." : "", (guint) getuid (), name);
    g_free (node);
  } else if (err == ENOENT) {
    gchar *present = gst_dma_heap_describe_available ();

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_NOT_FOUND,
        "Cannot open heap %s: %s; heaps present: %s", path, g_strerror (err),
        present);
    g_free (present);
  } else {
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Cannot open heap %s: %s", path, g_strerror (err));
  }
}

/* @name is a symlink in the heap directory: returns the heap name it points
 * to, if that is a valid name directly inside GST_DMA_HEAP_DIR. */
static gchar *
follow_link (int dirfd, const gchar * name, const gchar * path,
    GError ** error)
{
  gchar *target, *ret;

  ret = link_target_name (dirfd, name, &target);
  if (target == NULL) {
    int err = errno;

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Cannot read the symlink %s: %s", path, g_strerror (err));
    return NULL;
  }

  if (ret) {
    GST_DEBUG ("%s is a symlink to heap %s", path, ret);
  } else {
    gchar *quoted = quote_name (target);

    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_INVALID_NAME,
        "Refusing to open %s: symlink leaves %s (it points to %s)", path,
        GST_DMA_HEAP_DIR, quoted);
    g_free (quoted);
  }
  g_free (target);

  return ret;
}

/**
 * gst_dma_heap_open:
 * @name: a heap name (not a spec: resolve specs with gst_dma_heap_resolve())
 * @error: return location for a #GError, or %NULL
 *
 * Opens the device node of heap @name with `O_RDONLY | O_CLOEXEC |
 * O_NONBLOCK | O_NOCTTY`: allocating from a heap needs no write access.
 *
 * @name is validated first (gst_dma_heap_name_is_valid()) and the node is
 * looked up relative to %GST_DMA_HEAP_DIR without following symlinks. A
 * symlink in that directory is accepted only when it points to another
 * valid heap name inside it, else the error is
 * %GST_DMA_HEAP_ERROR_INVALID_NAME ("symlink leaves /dev/dma_heap").
 * Nothing outside %GST_DMA_HEAP_DIR is opened because of @name.
 *
 * The node must be a character device of the `dma_heap` class, which
 * `/sys/dev/char/MAJ:MIN/subsystem` tells. That is checked before the node
 * is opened, so that a FIFO, a regular file or another device (`/dev/zero`'s
 * numbers, a tty) is never opened, and again on the opened file. Anything
 * else fails at once with %GST_DMA_HEAP_ERROR_FAILED and a message that
 * names the heap, the node and what it is ("is a FIFO, not a dma-buf
 * heap").
 *
 * Error messages name the device node and give the errno text. When access
 * is denied the error is %GST_DMA_HEAP_ERROR_PERMISSION and its message
 * gives the node's mode, owner and group and how to allow access (a udev
 * rule and group membership) or to choose another heap; a missing node is
 * %GST_DMA_HEAP_ERROR_NOT_FOUND and the message lists the heaps present.
 *
 * Returns: a file descriptor to close() after use, or -1 with @error set
 *
 * Since: 0.1
 */
gint
gst_dma_heap_open (const gchar * name, GError ** error)
{
  gchar *path = NULL;
  gchar *target = NULL;
  gchar *what = NULL;
  const gchar *opened;
  struct stat st, fst;
  int dirfd, fd = -1;
  int err;

  gst_dma_heap_debug_init ();

  if (!gst_dma_heap_name_is_valid (name, error))
    return -1;

  path = gst_dma_heap_get_device_path (name);

  dirfd = open (GST_DMA_HEAP_DIR, O_DIRECTORY | O_CLOEXEC | O_PATH);
  if (dirfd < 0 && errno == EINVAL)
    dirfd = open (GST_DMA_HEAP_DIR, O_DIRECTORY | O_CLOEXEC | O_RDONLY);
  if (dirfd < 0)
    goto no_directory;

  /* what the node is, before it is opened: opening a FIFO blocks, opening
   * a tty or a watchdog has side effects */
  opened = name;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    goto open_failed;

  if (S_ISLNK (st.st_mode)) {
    target = follow_link (dirfd, name, path, error);
    if (target == NULL)
      goto done;

    opened = target;
    g_free (path);
    path = gst_dma_heap_get_device_path (target);
    if (fstatat (dirfd, target, &st, AT_SYMLINK_NOFOLLOW) < 0)
      goto open_failed;
    if (S_ISLNK (st.st_mode))
      goto link_chain;
  }

  what = describe_non_heap (&st);
  if (what)
    goto not_a_heap;

  fd = openat (dirfd, opened,
      O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0 && errno == ELOOP)
    goto replaced;
  if (fd < 0)
    goto open_failed;

  /* and what was opened: the node may have been replaced in between */
  if (fstat (fd, &fst) < 0)
    goto stat_failed;

  if (!S_ISCHR (fst.st_mode) || fst.st_rdev != st.st_rdev) {
    what = describe_non_heap (&fst);
    if (what) {
      close (fd);
      fd = -1;
      goto not_a_heap;
    }
  }

  GST_DEBUG ("opened %s as fd %d", path, fd);

done:
  if (dirfd >= 0)
    close (dirfd);
  g_free (what);
  g_free (target);
  g_free (path);

  return fd;

  /* ERRORS */
no_directory:
  {
    err = errno;
    if (err == ENOENT) {
      g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_NOT_FOUND,
          "Cannot open heap %s: %s is missing, the kernel has no "
          "CONFIG_DMABUF_HEAPS", path, GST_DMA_HEAP_DIR);
    } else {
      g_set_error (error, GST_DMA_HEAP_ERROR,
          (err == EACCES || err == EPERM) ? GST_DMA_HEAP_ERROR_PERMISSION :
          GST_DMA_HEAP_ERROR_FAILED, "Cannot open heap %s: cannot open %s: %s",
          path, GST_DMA_HEAP_DIR, g_strerror (err));
    }
    fd = -1;
    goto done;
  }
link_chain:
  {
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_INVALID_NAME,
        "Refusing to open heap '%s': it is a symlink to %s, itself a symlink",
        name, path);
    fd = -1;
    goto done;
  }
open_failed:
  {
    err = errno;
    set_open_error (error, err, dirfd, opened, path);
    fd = -1;
    goto done;
  }
replaced:
  {
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Refusing to open heap '%s': %s became a symlink while it was being "
        "opened", name, path);
    fd = -1;
    goto done;
  }
stat_failed:
  {
    err = errno;
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Cannot stat heap %s: %s", path, g_strerror (err));
    close (fd);
    fd = -1;
    goto done;
  }
not_a_heap:
  {
    g_set_error (error, GST_DMA_HEAP_ERROR, GST_DMA_HEAP_ERROR_FAILED,
        "Refusing to open heap '%s' (%s): it is %s, not a dma-buf heap",
        name, path, what);
    goto done;
  }
}
