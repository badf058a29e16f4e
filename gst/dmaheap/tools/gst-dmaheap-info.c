/* gst-dmaheap-info: list the dma-buf heaps of this system
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For each heap in /dev/dma_heap: its device node, mode, owner and group,
 * whether this process can open it, what memory it hands out (the system
 * heap, a CMA region, or something this tool does not know), the size and
 * use of its CMA region where the kernel shows them, and the heap specs
 * other than its own name that resolve to it (`default`, a name without its
 * unit address). `--json` prints the same for scripts. Entries of
 * /dev/dma_heap that are no heaps (a FIFO, a file, a device of another
 * class: see gst_dma_heap_list()) are not shown.
 *
 * Where the numbers come from:
 * - /sys/kernel/mm/cma/<area>/ (CONFIG_CMA_SYSFS, readable by everyone):
 *   alloc_pages_success, alloc_pages_fail, release_pages_success, and on
 *   recent kernels total_pages and available_pages;
 * - /sys/kernel/debug/cma/<area>/{count,used} (CONFIG_CMA_DEBUGFS, usually
 *   readable by root only): size and use in pages.
 * The directory of an area is named after the CMA area (cma_get_name()):
 * the full device tree node name for a reserved-memory region
 * (`ecc-off@78000000`), `reserved` for a default area made by `cma=` or the
 * kernel configuration. The heap of a named region has the same name; the
 * default area's heap may be called `default_cma_region`, and then the area
 * is found under one of the other names of the default heap.
 *
 * The JSON output (format 1) is one object:
 *   format             1; a change that breaks readers will bump it
 *   heap_dir           "/dev/dma_heap"
 *   heap_dir_present   false on a kernel without CONFIG_DMABUF_HEAPS
 *   spec               the HEAP-SPEC argument, or null
 *   default_heap       the heap `default` resolves to, or null
 *   page_size          bytes per page, the unit of the kernel's counters
 *   heaps              array, sorted by name (spec order with a HEAP-SPEC):
 *     name, path, link_target (null unless a symlink), type ("char" for a
 *     heap device), mode ("crw-rw----"), mode_octal ("0660"), uid, owner,
 *     gid, group, can_open, open_error (null when can_open), backing
 *     ("system", "cma" or "unknown"), cma_region (null unless CMA),
 *     size_bytes and used_bytes (null when unknown), same_memory_as (the
 *     other heaps on the same CMA area), aliases (specs other than the
 *     name that resolve to this heap alone)
 *   cma_regions        array, sorted by name, every CMA area the kernel
 *                      shows, with or without a heap: name, heaps,
 *                      size_bytes, used_bytes, alloc_pages_success,
 *                      alloc_pages_fail, release_pages_success (each null
 *                      when unknown), size_unknown_reason (null when known)
 *
 * For the test suite, GST_DMA_HEAP_INFO_ROOT names a directory that stands
 * in for `/`: heaps are then read from <root>/dev/dma_heap and the CMA
 * counters from <root>/sys, and "can open" means the file can be opened for
 * reading.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gst/dmaheap/gstdmaheap.h>

#define CMA_SYSFS_DIR "/sys/kernel/mm/cma"
#define CMA_DEBUGFS_DIR "/sys/kernel/debug/cma"
#define ROOT_ENV "GST_DMA_HEAP_INFO_ROOT"

#define EXIT_USAGE 2

typedef enum
{
  BACKING_UNKNOWN,
  BACKING_SYSTEM,
  BACKING_CMA,
} Backing;

static const gchar *const backing_names[] = { "unknown", "system", "cma" };

/* A CMA area, as /sys/kernel/mm/cma and /sys/kernel/debug/cma show it.
 * Numbers are -1 when unknown. */
typedef struct
{
  gchar *name;
  gint64 total_pages;
  gint64 used_pages;
  gint64 alloc_pages_success;
  gint64 alloc_pages_fail;
  gint64 release_pages_success;
  const gchar *size_unknown_reason;
  GPtrArray *heaps;             /* names of the heaps on this area */
} Region;

typedef struct
{
  gchar *name;
  gchar *path;                  /* as the user knows it, in /dev/dma_heap */
  gboolean stat_ok;
  struct stat st;
  gchar *link_target;
  gboolean can_open;
  gchar *open_error;            /* full message */
  const gchar *open_short;      /* a few words for the table */
  Backing backing;
  Region *region;               /* not owned */
  GPtrArray *aliases;
  GPtrArray *same_memory_as;
} Heap;

typedef struct
{
  const gchar *root;            /* "" for the real system */
  const gchar *spec;            /* show only the heaps of this spec */
  gboolean dir_present;
  gsize page_size;
  const gchar *debugfs_problem; /* why debugfs gives no sizes, or NULL */
  GPtrArray *heaps;             /* every Heap, sorted by name */
  GPtrArray *shown;             /* the Heaps to print, in spec order */
  GPtrArray *regions;           /* every Region, sorted by name */
  gchar *default_heap;
} Info;

static gchar *
rooted (const Info * info, const gchar * path)
{
  return g_strconcat (info->root, path, NULL);
}

static void
region_free (Region * region)
{
  g_free (region->name);
  g_ptr_array_unref (region->heaps);
  g_free (region);
}

static void
heap_free (Heap * heap)
{
  g_free (heap->name);
  g_free (heap->path);
  g_free (heap->link_target);
  g_free (heap->open_error);
  g_ptr_array_unref (heap->aliases);
  g_ptr_array_unref (heap->same_memory_as);
  g_free (heap);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static gint
compare_regions (gconstpointer a, gconstpointer b)
{
  const Region *ra = *(const Region * const *) a;
  const Region *rb = *(const Region * const *) b;

  return strcmp (ra->name, rb->name);
}

/* A non-negative decimal number from a one-line file, or -1. */
static gint64
read_number (const gchar * dir, const gchar * file)
{
  gchar *path, *contents = NULL, *end;
  gint64 value = -1;

  path = g_build_filename (dir, file, NULL);
  if (g_file_get_contents (path, &contents, NULL, NULL)) {
    g_strstrip (contents);
    if (contents[0] >= '0' && contents[0] <= '9') {
      errno = 0;
      value = g_ascii_strtoll (contents, &end, 10);
      if (errno != 0 || *end != '\0' || value < 0)
        value = -1;
    }
  }
  g_free (contents);
  g_free (path);

  return value;
}


/* The entries of directory @path, sorted. Returns NULL with errno set when
 * it cannot be read. */
static GPtrArray *
list_dir (const gchar * path)
{
  GPtrArray *names;
  struct dirent *entry;
  DIR *dir;

  dir = opendir (path);
  if (dir == NULL)
    return NULL;

  names = g_ptr_array_new_with_free_func (g_free);
  while ((entry = readdir (dir)) != NULL) {
    if (strcmp (entry->d_name, ".") != 0 && strcmp (entry->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (entry->d_name));
  }
  closedir (dir);
  g_ptr_array_sort (names, compare_strings);

  return names;
}

static Region *
find_region (const Info * info, const gchar * name)
{
  guint i;

  for (i = 0; i < info->regions->len; i++) {
    Region *region = g_ptr_array_index (info->regions, i);

    if (strcmp (region->name, name) == 0)
      return region;
  }

  return NULL;
}

static Region *
add_region (Info * info, const gchar * name)
{
  Region *region = find_region (info, name);

  if (region)
    return region;

  region = g_new0 (Region, 1);
  region->name = g_strdup (name);
  region->total_pages = -1;
  region->used_pages = -1;
  region->alloc_pages_success = -1;
  region->alloc_pages_fail = -1;
  region->release_pages_success = -1;
  region->heaps = g_ptr_array_new ();
  g_ptr_array_add (info->regions, region);

  return region;
}

/* Reads what sysfs and debugfs say about the CMA areas. */
static void
collect_regions (Info * info)
{
  gchar *sysfs = rooted (info, CMA_SYSFS_DIR);
  gchar *debugfs = rooted (info, CMA_DEBUGFS_DIR);
  GPtrArray *names;
  guint i;

  names = list_dir (sysfs);
  for (i = 0; names && i < names->len; i++) {
    const gchar *name = g_ptr_array_index (names, i);
    Region *region = add_region (info, name);
    gchar *dir = g_build_filename (sysfs, name, NULL);
    gint64 total, available;

    region->alloc_pages_success = read_number (dir, "alloc_pages_success");
    region->alloc_pages_fail = read_number (dir, "alloc_pages_fail");
    region->release_pages_success = read_number (dir, "release_pages_success");

    /* recent kernels show the size here too, readable by everyone */
    total = read_number (dir, "total_pages");
    available = read_number (dir, "available_pages");
    if (total >= 0) {
      region->total_pages = total;
      if (available >= 0 && available <= total)
        region->used_pages = total - available;
    }
    g_free (dir);
  }
  g_clear_pointer (&names, g_ptr_array_unref);

  names = list_dir (debugfs);
  if (names == NULL && (errno == EACCES || errno == EPERM)) {
    info->debugfs_problem = CMA_DEBUGFS_DIR " is readable by root only";
  } else if (names == NULL) {
    info->debugfs_problem = "no " CMA_DEBUGFS_DIR ": debugfs not mounted, "
        "or a kernel without CONFIG_CMA_DEBUGFS";
  }

  for (i = 0; names && i < names->len; i++) {
    const gchar *name = g_ptr_array_index (names, i);
    Region *region = add_region (info, name);
    gchar *dir = g_build_filename (debugfs, name, NULL);
    gint64 count, used;

    count = read_number (dir, "count");
    used = read_number (dir, "used");
    if (region->total_pages < 0)
      region->total_pages = count;
    if (region->used_pages < 0)
      region->used_pages = used;
    g_free (dir);
  }
  g_clear_pointer (&names, g_ptr_array_unref);

  for (i = 0; i < info->regions->len; i++) {
    Region *region = g_ptr_array_index (info->regions, i);

    if (region->total_pages < 0 || region->used_pages < 0) {
      region->size_unknown_reason = info->debugfs_problem ?
          info->debugfs_problem : "the kernel does not show it";
    }
  }

  g_ptr_array_sort (info->regions, compare_regions);
  g_free (sysfs);
  g_free (debugfs);
}

/* TRUE when @name is @base, or @base followed by a unit address. */
static gboolean
name_has_base (const gchar * name, const gchar * base)
{
  gsize len = strlen (base);

  return strncmp (name, base, len) == 0 &&
      (name[len] == '\0' || (name[len] == '@' && name[len + 1] != '\0'));
}

static gboolean
is_default_name (const gchar * name)
{
  const gchar *const *names = gst_dma_heap_default_names ();
  guint i;

  for (i = 0; names[i]; i++) {
    if (name_has_base (name, names[i]))
      return TRUE;
  }

  return FALSE;
}

/* The default CMA area: the kernel names the area itself after the other
 * names the default heap has had (`reserved`, the node name), never
 * `default_cma_region`. */
static Region *
find_default_region (const Info * info)
{
  const gchar *const *names = gst_dma_heap_default_names ();
  guint i, j;

  for (i = 0; names[i]; i++) {
    for (j = 0; j < info->regions->len; j++) {
      Region *region = g_ptr_array_index (info->regions, j);

      if (name_has_base (region->name, names[i]))
        return region;
    }
  }

  return NULL;
}

static void
classify_heap (Info * info, Heap * heap)
{
  Region *region;

  if (strcmp (heap->name, "system") == 0) {
    heap->backing = BACKING_SYSTEM;
    return;
  }

  region = find_region (info, heap->name);
  if (region == NULL && is_default_name (heap->name))
    region = find_default_region (info);

  if (region) {
    heap->backing = BACKING_CMA;
    heap->region = region;
    g_ptr_array_add (region->heaps, heap->name);
  } else if (is_default_name (heap->name)) {
    /* the default CMA heap, on a kernel that shows no CMA areas */
    heap->backing = BACKING_CMA;
  } else {
    heap->backing = BACKING_UNKNOWN;
  }
}

static void
check_open (const Info * info, Heap * heap)
{
  GError *error = NULL;
  gint fd;

  if (info->root[0] != '\0') {
    gchar *file = rooted (info, heap->path);

    fd = open (file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;

      heap->open_error = g_strdup_printf ("Cannot open %s: %s", file,
          g_strerror (err));
      heap->open_short = (err == EACCES || err == EPERM) ?
          "permission denied" : "cannot open";
    }
    g_free (file);
  } else {
    fd = gst_dma_heap_open (heap->name, &error);
    if (fd < 0) {
      heap->open_error = g_strdup (error->message);
      switch (error->code) {
        case GST_DMA_HEAP_ERROR_PERMISSION:
          heap->open_short = "permission denied";
          break;
        case GST_DMA_HEAP_ERROR_NOT_FOUND:
          heap->open_short = "gone";
          break;
        case GST_DMA_HEAP_ERROR_INVALID_NAME:
          heap->open_short = "refused";
          break;
        default:
          heap->open_short = "cannot open";
          break;
      }
      g_error_free (error);
    }
  }

  if (fd >= 0) {
    heap->can_open = TRUE;
    close (fd);
  }
}

static Heap *
collect_heap (Info * info, const gchar * name)
{
  Heap *heap = g_new0 (Heap, 1);
  gchar *file;

  heap->name = g_strdup (name);
  heap->path = g_strconcat (GST_DMA_HEAP_DIR "/", name, NULL);
  heap->aliases = g_ptr_array_new_with_free_func (g_free);
  heap->same_memory_as = g_ptr_array_new ();

  file = rooted (info, heap->path);
  heap->stat_ok = lstat (file, &heap->st) == 0;
  if (heap->stat_ok && S_ISLNK (heap->st.st_mode)) {
    heap->link_target = g_file_read_link (file, NULL);
    /* describe the node the link leads to */
    heap->stat_ok = stat (file, &heap->st) == 0;
  }
  g_free (file);

  check_open (info, heap);
  classify_heap (info, heap);

  return heap;
}

/* The heap names, as gst_dma_heap_list() gives them, below the test root. */
static gchar **
list_heaps_in_root (Info * info)
{
  gchar *dir = rooted (info, GST_DMA_HEAP_DIR);
  GPtrArray *entries, *names;
  guint i;

  names = g_ptr_array_new ();
  entries = list_dir (dir);
  info->dir_present = entries != NULL || errno != ENOENT;
  for (i = 0; entries && i < entries->len; i++) {
    const gchar *name = g_ptr_array_index (entries, i);

    if (gst_dma_heap_name_is_valid (name, NULL))
      g_ptr_array_add (names, g_strdup (name));
  }
  g_ptr_array_add (names, NULL);
  g_clear_pointer (&entries, g_ptr_array_unref);
  g_free (dir);

  return (gchar **) g_ptr_array_free (names, FALSE);
}

/* For each heap: the specs other than its name and path that designate it
 * alone, and the other heaps on the same CMA area. */
static void
collect_aliases (Info * info, gchar ** names)
{
  const gchar *const *available = (const gchar * const *) names;
  gchar **resolved;
  guint i, j;

  resolved = gst_dma_heap_resolve_in (GST_DMA_HEAP_DEFAULT_ALIAS, available,
      NULL);
  if (resolved)
    info->default_heap = g_strdup (resolved[0]);
  g_strfreev (resolved);

  for (i = 0; i < info->heaps->len; i++) {
    Heap *heap = g_ptr_array_index (info->heaps, i);
    const gchar *at = strchr (heap->name, '@');

    if (g_strcmp0 (info->default_heap, heap->name) == 0)
      g_ptr_array_add (heap->aliases, g_strdup (GST_DMA_HEAP_DEFAULT_ALIAS));

    if (at && at != heap->name) {
      gchar *base = g_strndup (heap->name, at - heap->name);

      resolved = gst_dma_heap_resolve_in (base, available, NULL);
      if (resolved && resolved[1] == NULL &&
          strcmp (resolved[0], heap->name) == 0)
        g_ptr_array_add (heap->aliases, g_steal_pointer (&base));
      g_strfreev (resolved);
      g_free (base);
    }

    if (heap->region == NULL)
      continue;
    for (j = 0; j < heap->region->heaps->len; j++) {
      const gchar *other = g_ptr_array_index (heap->region->heaps, j);

      if (strcmp (other, heap->name) != 0)
        g_ptr_array_add (heap->same_memory_as, (gpointer) other);
    }
  }
}

static Heap *
find_heap (const Info * info, const gchar * name)
{
  guint i;

  for (i = 0; i < info->heaps->len; i++) {
    Heap *heap = g_ptr_array_index (info->heaps, i);

    if (strcmp (heap->name, name) == 0)
      return heap;
  }

  return NULL;
}

/* Fills @info. Returns FALSE with @error set when the heap directory cannot
 * be read or the spec designates no heap. */
static gboolean
collect (Info * info, GError ** error)
{
  gchar **names, **shown = NULL;
  guint i;

  if (info->root[0] != '\0') {
    names = list_heaps_in_root (info);
  } else {
    info->dir_present = access (GST_DMA_HEAP_DIR, F_OK) == 0;
    names = gst_dma_heap_list (error);
    if (names == NULL)
      return FALSE;
  }

  if (info->spec) {
    /* gst_dma_heap_resolve() words its errors knowing whether the heap
     * directory exists */
    if (info->root[0] != '\0')
      shown = gst_dma_heap_resolve_in (info->spec,
          (const gchar * const *) names, error);
    else
      shown = gst_dma_heap_resolve (info->spec, error);
    if (shown == NULL) {
      g_strfreev (names);
      return FALSE;
    }
  }

  collect_regions (info);
  for (i = 0; names[i]; i++)
    g_ptr_array_add (info->heaps, collect_heap (info, names[i]));
  collect_aliases (info, names);

  for (i = 0; shown ? shown[i] != NULL : i < info->heaps->len; i++) {
    Heap *heap = shown ? find_heap (info, shown[i]) :
        g_ptr_array_index (info->heaps, i);

    /* a heap that appeared since the listing is left out */
    if (heap)
      g_ptr_array_add (info->shown, heap);
  }

  g_strfreev (shown);
  g_strfreev (names);

  return TRUE;
}

/* Output */

static void
format_mode (mode_t mode, gchar out[11])
{
  out[0] = S_ISCHR (mode) ? 'c' : S_ISDIR (mode) ? 'd' : S_ISLNK (mode) ? 'l'
      : S_ISREG (mode) ? '-' : S_ISBLK (mode) ? 'b' : '?';
  out[1] = (mode & S_IRUSR) ? 'r' : '-';
  out[2] = (mode & S_IWUSR) ? 'w' : '-';
  out[3] = (mode & S_IXUSR) ? 'x' : '-';
  out[4] = (mode & S_IRGRP) ? 'r' : '-';
  out[5] = (mode & S_IWGRP) ? 'w' : '-';
  out[6] = (mode & S_IXGRP) ? 'x' : '-';
  out[7] = (mode & S_IROTH) ? 'r' : '-';
  out[8] = (mode & S_IWOTH) ? 'w' : '-';
  out[9] = (mode & S_IXOTH) ? 'x' : '-';
  out[10] = '\0';
}

static const gchar *
node_type (const Heap * heap)
{
  if (!heap->stat_ok)
    return "missing";
  if (S_ISCHR (heap->st.st_mode))
    return "char";
  if (S_ISREG (heap->st.st_mode))
    return "file";
  return "other";
}

static gchar *
user_name (uid_t uid)
{
  struct passwd *pw = getpwuid (uid);

  return pw ? g_strdup (pw->pw_name) : g_strdup_printf ("%u", (guint) uid);
}

static gchar *
group_name (gid_t gid)
{
  struct group *gr = getgrgid (gid);

  return gr ? g_strdup (gr->gr_name) : g_strdup_printf ("%u", (guint) gid);
}

static gint64
pages_to_bytes (const Info * info, gint64 pages)
{
  if (pages < 0 || (guint64) pages > G_MAXINT64 / info->page_size)
    return -1;
  return pages * (gint64) info->page_size;
}

static gchar *
join_names (GPtrArray * names)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < names->len; i++) {
    if (i > 0)
      g_string_append (s, ", ");
    g_string_append (s, (const gchar *) g_ptr_array_index (names, i));
  }

  return g_string_free (s, FALSE);
}

/* "64.0 MiB": like g_format_size_full() with IEC units, but with a plain
 * space and a dot whatever the locale, so that scripts can read it. */
static gchar *
format_size (guint64 bytes)
{
  static const gchar *const units[] = { "KiB", "MiB", "GiB", "TiB" };
  guint64 unit = 1024;
  guint i;

  if (bytes < unit)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);

  for (i = 0; i < G_N_ELEMENTS (units) - 1 && bytes >= unit * 1024; i++)
    unit *= 1024;

  /* tenths, rounded to nearest */
  bytes = (bytes * 10 + unit / 2) / unit;

  return g_strdup_printf ("%" G_GUINT64_FORMAT ".%u %s", bytes / 10,
      (guint) (bytes % 10), units[i]);
}

/* "2.3%", with a dot whatever the locale */
static gchar *
format_percent (gint64 part, gint64 whole)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strconcat (g_ascii_formatd (buf, sizeof (buf), "%.1f",
          100.0 * part / whole), "%", NULL);
}

static void
print_region_numbers (const Info * info, const Region * region)
{
  gint64 total = pages_to_bytes (info, region->total_pages);
  gint64 used = pages_to_bytes (info, region->used_pages);
  gchar *total_str = NULL, *used_str = NULL;

  if (total >= 0)
    total_str = format_size (total);
  if (used >= 0)
    used_str = format_size (used);

  if (total_str && used_str && total > 0) {
    gchar *percent = format_percent (used, total);

    g_print ("\tsize:     %s, %s used (%s)\n", total_str, used_str, percent);
    g_free (percent);
  } else if (total_str) {
    g_print ("\tsize:     %s, use unknown (%s)\n", total_str,
        region->size_unknown_reason);
  } else if (used_str) {
    g_print ("\tsize:     unknown, %s used (%s)\n", used_str,
        region->size_unknown_reason);
  } else {
    g_print ("\tsize:     unknown (%s)\n", region->size_unknown_reason);
  }
  g_free (total_str);
  g_free (used_str);

  if (region->alloc_pages_success >= 0) {
    g_print ("\tcounters: %" G_GINT64_FORMAT " pages allocated",
        region->alloc_pages_success);
    if (region->alloc_pages_fail >= 0)
      g_print (", %" G_GINT64_FORMAT " failed", region->alloc_pages_fail);
    if (region->release_pages_success >= 0)
      g_print (", %" G_GINT64_FORMAT " released",
          region->release_pages_success);
    g_print (" (since boot)\n");
  }
}

static void
print_heap (const Info * info, const Heap * heap)
{
  gchar *list;

  g_print ("%s (%s):\n", heap->name, heap->path);

  if (heap->link_target)
    g_print ("\tlink:     to %s\n", heap->link_target);

  if (heap->stat_ok) {
    gchar mode[11];
    gchar *owner = user_name (heap->st.st_uid);
    gchar *group = group_name (heap->st.st_gid);

    format_mode (heap->st.st_mode, mode);
    g_print ("\tnode:     %s %s %s\n", mode, owner, group);
    g_free (owner);
    g_free (group);
  } else {
    g_print ("\tnode:     cannot be examined\n");
  }

  if (heap->can_open)
    g_print ("\topen:     yes\n");
  else if (g_strcmp0 (heap->open_short, "permission denied") == 0)
    g_print ("\topen:     no, permission denied\n");
  else
    g_print ("\topen:     no, %s\n", heap->open_error);

  switch (heap->backing) {
    case BACKING_SYSTEM:
      g_print ("\tmemory:   system: any free pages, not physically "
          "contiguous\n");
      break;
    case BACKING_CMA:
      if (heap->region) {
        g_print ("\tmemory:   CMA area %s, physically contiguous\n",
            heap->region->name);
      } else {
        g_print ("\tmemory:   CMA, physically contiguous (the area is not "
            "shown: kernel without CONFIG_CMA_SYSFS and debugfs)\n");
      }
      break;
    default:
      g_print ("\tmemory:   unknown (neither the system heap nor a CMA "
          "area of this name)\n");
      break;
  }

  if (heap->region)
    print_region_numbers (info, heap->region);

  if (heap->same_memory_as->len > 0) {
    list = join_names (heap->same_memory_as);
    g_print ("\tsame as:  %s\n", list);
    g_free (list);
  }

  if (heap->aliases->len > 0) {
    list = join_names (heap->aliases);
    g_print ("\taliases:  %s\n", list);
    g_free (list);
  }
}

static void
print_human (const Info * info)
{
  GPtrArray *orphans;
  const gchar *denied = NULL;
  guint i;

  if (info->heaps->len == 0) {
    if (!info->dir_present)
      g_print ("no dma-buf heaps: %s missing (kernel without "
          "CONFIG_DMABUF_HEAPS)\n", GST_DMA_HEAP_DIR);
    else
      g_print ("no dma-buf heaps: %s is empty (no heap driver enabled in "
          "the kernel)\n", GST_DMA_HEAP_DIR);
  }

  if (info->spec) {
    g_print ("heap spec \"%s\" resolves to %u heap%s, tried in this "
        "order:\n\n", info->spec, info->shown->len,
        info->shown->len == 1 ? "" : "s");
  }

  for (i = 0; i < info->shown->len; i++) {
    const Heap *heap = g_ptr_array_index (info->shown, i);

    if (i > 0)
      g_print ("\n");
    print_heap (info, heap);
    if (!heap->can_open && !denied && g_strcmp0 (heap->open_short,
            "permission denied") == 0)
      denied = heap->name;
  }

  orphans = g_ptr_array_new ();
  for (i = 0; !info->spec && i < info->regions->len; i++) {
    Region *region = g_ptr_array_index (info->regions, i);

    if (region->heaps->len == 0)
      g_ptr_array_add (orphans, region->name);
  }
  if (orphans->len > 0) {
    gchar *list = join_names (orphans);

    g_print ("\nCMA areas without a heap: %s\n", list);
    g_print ("(this kernel makes a heap for the default CMA area only; "
        "a kernel with per-region CMA heaps gives each area its own)\n");
    g_free (list);
  }
  g_ptr_array_unref (orphans);

  if (denied) {
    g_print ("\nThis user (uid %u) cannot open some heaps. Grant access "
        "with a udev rule, for example\n"
        "  SUBSYSTEM==\"dma_heap\", KERNEL==\"%s\", GROUP=\"video\", "
        "MODE=\"0660\"\n"
        "and membership of group video (an example rules file: %s).\n",
        (guint) getuid (), denied, UDEV_RULES_EXAMPLE);
  }
}

/* JSON: a writer just big enough for this tool, strings escaped as
 * RFC 8259 asks. */

typedef struct
{
  GString *out;
  guint depth;
  gboolean first;
} Json;

static void
json_escape (GString * out, const gchar * str)
{
  gchar *valid = g_utf8_make_valid (str, -1);
  const guchar *p;

  g_string_append_c (out, '"');
  for (p = (const guchar *) valid; *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, *p);
        break;
    }
  }
  g_string_append_c (out, '"');
  g_free (valid);
}

/* Starts a member: separator, indentation, and the key inside objects. */
static void
json_member (Json * json, const gchar * key)
{
  if (!json->first)
    g_string_append_c (json->out, ',');
  json->first = FALSE;
  g_string_append_c (json->out, '\n');
  g_string_append_printf (json->out, "%*s", json->depth * 2, "");
  if (key) {
    json_escape (json->out, key);
    g_string_append (json->out, ": ");
  }
}

static void
json_open (Json * json, const gchar * key, gchar bracket)
{
  if (json->depth > 0 || json->out->len > 0)
    json_member (json, key);
  g_string_append_c (json->out, bracket);
  json->depth++;
  json->first = TRUE;
}

static void
json_close (Json * json, gchar bracket)
{
  json->depth--;
  if (!json->first) {
    g_string_append_c (json->out, '\n');
    g_string_append_printf (json->out, "%*s", json->depth * 2, "");
  }
  g_string_append_c (json->out, bracket);
  json->first = FALSE;
}

static void
json_string (Json * json, const gchar * key, const gchar * value)
{
  json_member (json, key);
  if (value)
    json_escape (json->out, value);
  else
    g_string_append (json->out, "null");
}

/* A count, or null when @value is negative (unknown). */
static void
json_count (Json * json, const gchar * key, gint64 value)
{
  json_member (json, key);
  if (value >= 0)
    g_string_append_printf (json->out, "%" G_GINT64_FORMAT, value);
  else
    g_string_append (json->out, "null");
}

static void
json_bool (Json * json, const gchar * key, gboolean value)
{
  json_member (json, key);
  g_string_append (json->out, value ? "true" : "false");
}

static void
json_names (Json * json, const gchar * key, GPtrArray * names)
{
  guint i;

  json_open (json, key, '[');
  for (i = 0; i < names->len; i++)
    json_string (json, NULL, g_ptr_array_index (names, i));
  json_close (json, ']');
}

static void
json_heap (Json * json, const Info * info, const Heap * heap)
{
  json_open (json, NULL, '{');
  json_string (json, "name", heap->name);
  json_string (json, "path", heap->path);
  json_string (json, "link_target", heap->link_target);
  json_string (json, "type", node_type (heap));
  if (heap->stat_ok) {
    gchar mode[11];
    gchar *octal = g_strdup_printf ("%04o", heap->st.st_mode & 07777);
    gchar *owner = user_name (heap->st.st_uid);
    gchar *group = group_name (heap->st.st_gid);

    format_mode (heap->st.st_mode, mode);
    json_string (json, "mode", mode);
    json_string (json, "mode_octal", octal);
    json_count (json, "uid", heap->st.st_uid);
    json_string (json, "owner", owner);
    json_count (json, "gid", heap->st.st_gid);
    json_string (json, "group", group);
    g_free (octal);
    g_free (owner);
    g_free (group);
  } else {
    json_string (json, "mode", NULL);
    json_string (json, "mode_octal", NULL);
    json_count (json, "uid", -1);
    json_string (json, "owner", NULL);
    json_count (json, "gid", -1);
    json_string (json, "group", NULL);
  }
  json_bool (json, "can_open", heap->can_open);
  json_string (json, "open_error", heap->open_error);
  json_string (json, "backing", backing_names[heap->backing]);
  json_string (json, "cma_region", heap->region ? heap->region->name : NULL);
  json_count (json, "size_bytes", heap->region ?
      pages_to_bytes (info, heap->region->total_pages) : -1);
  json_count (json, "used_bytes", heap->region ?
      pages_to_bytes (info, heap->region->used_pages) : -1);
  json_names (json, "same_memory_as", heap->same_memory_as);
  json_names (json, "aliases", heap->aliases);
  json_close (json, '}');
}

static void
json_region (Json * json, const Info * info, const Region * region)
{
  json_open (json, NULL, '{');
  json_string (json, "name", region->name);
  json_names (json, "heaps", region->heaps);
  json_count (json, "size_bytes", pages_to_bytes (info, region->total_pages));
  json_count (json, "used_bytes", pages_to_bytes (info, region->used_pages));
  json_count (json, "alloc_pages_success", region->alloc_pages_success);
  json_count (json, "alloc_pages_fail", region->alloc_pages_fail);
  json_count (json, "release_pages_success", region->release_pages_success);
  json_string (json, "size_unknown_reason", region->size_unknown_reason);
  json_close (json, '}');
}

static void
print_json (const Info * info)
{
  Json json = { g_string_new (NULL), 0, TRUE };
  guint i;

  json_open (&json, NULL, '{');
  json_count (&json, "format", 1);
  json_string (&json, "heap_dir", GST_DMA_HEAP_DIR);
  json_bool (&json, "heap_dir_present", info->dir_present);
  json_string (&json, "spec", info->spec);
  json_string (&json, "default_heap", info->default_heap);
  json_count (&json, "page_size", info->page_size);
  json_open (&json, "heaps", '[');
  for (i = 0; i < info->shown->len; i++)
    json_heap (&json, info, g_ptr_array_index (info->shown, i));
  json_close (&json, ']');
  json_open (&json, "cma_regions", '[');
  for (i = 0; i < info->regions->len; i++)
    json_region (&json, info, g_ptr_array_index (info->regions, i));
  json_close (&json, ']');
  json_close (&json, '}');
  g_string_append_c (json.out, '\n');

  fputs (json.out->str, stdout);
  g_string_free (json.out, TRUE);
}

int
main (int argc, char **argv)
{
  gboolean json = FALSE, version = FALSE;
  GOptionEntry entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &json,
        "Print JSON, for scripts", NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version,
        "Print the version and exit", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  Info info = { 0, };
  const gchar *root;
  int ret = EXIT_SUCCESS;

  setlocale (LC_ALL, "");

  /* Listing heaps needs no plugin: skip the registry and its scan. */
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);

  ctx = g_option_context_new ("[HEAP-SPEC] - list the dma-buf heaps");
  g_option_context_set_summary (ctx,
      "Lists the dma-buf heaps of " GST_DMA_HEAP_DIR ", with their device "
      "nodes, whether\nthis user can open them, the memory behind each "
      "(system or a CMA area, with\nits size and use where the kernel "
      "shows them) and the heap specs that resolve\nto each (\"default\", a "
      "name without its unit address).\n\n"
      "With a HEAP-SPEC (a name, a path in " GST_DMA_HEAP_DIR ", \"default\" "
      "or a comma-\nseparated list of those, as the heap property of "
      "dmaheapupload takes), shows\nthe heaps it resolves to, in the order "
      "they would be tried, and fails when\nit resolves to none.");
  g_option_context_set_description (ctx,
      "Sizes and use of CMA areas come from " CMA_SYSFS_DIR " and, as root, "
      "from\n" CMA_DEBUGFS_DIR ".\n\n"
      "Exit status: 0 on success, also when the system has no heap; 1 when "
      "the\nheaps cannot be listed or HEAP-SPEC resolves to no heap; 2 on "
      "a usage error.\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("gst-dmaheap-info: %s (see --help)\n", error->message);
    g_error_free (error);
    g_option_context_free (ctx);
    return EXIT_USAGE;
  }
  g_option_context_free (ctx);
  gst_init (NULL, NULL);

  if (version) {
    g_print ("gst-dmaheap-info %s\n", VERSION);
    return EXIT_SUCCESS;
  }

  if (argc > 2) {
    g_printerr ("gst-dmaheap-info: one heap spec at most; separate the heaps "
        "of a list with commas (see --help)\n");
    return EXIT_USAGE;
  }

  root = g_getenv (ROOT_ENV);
  info.root = root ? root : "";
  info.spec = argc == 2 ? argv[1] : NULL;
  info.page_size = sysconf (_SC_PAGESIZE) > 0 ? sysconf (_SC_PAGESIZE) : 4096;
  info.heaps = g_ptr_array_new_with_free_func ((GDestroyNotify) heap_free);
  info.shown = g_ptr_array_new ();
  info.regions = g_ptr_array_new_with_free_func ((GDestroyNotify)
      region_free);

  if (!collect (&info, &error)) {
    g_printerr ("gst-dmaheap-info: %s\n", error->message);
    g_error_free (error);
    ret = EXIT_FAILURE;
  } else if (json) {
    print_json (&info);
  } else {
    print_human (&info);
  }

  g_ptr_array_unref (info.shown);
  g_ptr_array_unref (info.heaps);
  g_ptr_array_unref (info.regions);
  g_free (info.default_heap);

  return ret;
}
