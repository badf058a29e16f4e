/* gst-dmaheap: the test suite's fake dma-buf heaps and ioctl interposer
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two things in one small library, linked into the test programs (and
 * LD_PRELOADed into the examples by fakeheap-run):
 *
 * - An interposer of ioctl(): every ioctl of the process goes through it.
 *   It counts DMA_HEAP_IOCTL_ALLOC per heap, lets a test inject errors into
 *   DMA_HEAP_IOCTL_ALLOC and DMA_BUF_IOCTL_SYNC, and calls an observer. It
 *   is active on real heaps too, so the same tests count and inject in the
 *   test guest.
 *
 * - Fake heaps, for machines without /dev/dma_heap. fake_heap_setup(), in a
 *   private mount namespace (root only), puts a tmpfs on /dev that copies
 *   the real /dev and adds /dev/dma_heap with heap nodes, gives each heap a
 *   pool (a tmpfs of the heap's capacity, shared by heaps that are the same
 *   region), and makes /sys/dev/char say that the nodes are of the dma_heap
 *   class. The interposer answers DMA_HEAP_IOCTL_ALLOC on those nodes with
 *   a file of the pool (so the kernel counts the bytes: a full pool gives
 *   ENOMEM, a freed buffer gives its bytes back whichever process held it
 *   last), and DMA_BUF_IOCTL_SYNC and DMA_BUF_SET_NAME on those files as
 *   the kernel's dma-buf code does.
 *
 * The fake never activates when GST_DMA_HEAP_TEST_REAL=1 (set in the test
 * guest): the tests then use the kernel's heaps. What only the kernel can
 * show (the exporter name in fdinfo, debugfs bufinfo, CMA counters) is not
 * faked: tests check it on real heaps.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where the fake keeps its pools and its heap table, inside the private
 * /dev of the namespace. */
#define FAKE_HEAP_DIR "/dev/.fakeheap"

/* Heaps of the default layout, which mirrors the test guest's "regions"
 * device tree: NAME=SIZE[/POOL], SIZE in bytes with an optional K or M
 * suffix, 0 for no limit; heaps with the same POOL are the same region. */
#define FAKE_HEAP_DEFAULT_LAYOUT \
  "system=0 " \
  "default_cma_region=64M/cma linux,cma@80000000=64M/cma " \
  "ecc-off@78000000=64M camera@7c000000=64M"

typedef enum
{
  FAKE_HEAP_REAL = 0,           /* GST_DMA_HEAP_TEST_REAL=1: no fake */
  FAKE_HEAP_ACTIVE = 1,
  FAKE_HEAP_UNAVAILABLE = -1,   /* cannot be set up here (not root...) */
} FakeHeapMode;

/* Sets up the fake heaps for this process and its children, unless
 * GST_DMA_HEAP_TEST_REAL=1; idempotent. @layout is NULL for
 * GST_DMA_HEAP_FAKE_LAYOUT, else FAKE_HEAP_DEFAULT_LAYOUT. Call it before
 * any thread is started. On FAKE_HEAP_UNAVAILABLE, @reason (of
 * @reason_size bytes) says why. */
FakeHeapMode fake_heap_setup (const char *layout, char *reason,
                              size_t reason_size);

/* Whether this process allocates from fake heaps. */
int          fake_heap_is_active (void);

/* Successful DMA_HEAP_IOCTL_ALLOC calls of this process on heap @name
 * (NULL: on any heap) since the last fake_heap_reset_counts(); real and
 * fake heaps alike. */
unsigned     fake_heap_alloc_count (const char *name);
void         fake_heap_reset_counts (void);

/* The next @count DMA_HEAP_IOCTL_ALLOC on heap @name (NULL: any) fail
 * with @err (-1: every one from now on, 0: stop injecting). Real and fake
 * heaps alike: the kernel is not called for an injected failure. */
void         fake_heap_fail_alloc (const char *name, int err, int count);

/* The next @count DMA_BUF_IOCTL_SYNC on dma-buf @fd (-1: any) fail with
 * @err, as fake_heap_fail_alloc(). */
void         fake_heap_fail_sync (int fd, int err, int count);

/* Called before every ioctl() of the process (NULL to remove). */
typedef void (*FakeHeapObserver) (int fd, unsigned long request, void *arg,
                                  void *user_data);
void         fake_heap_set_observer (FakeHeapObserver observer,
                                     void *user_data);

/* Fake heaps only. Bytes of the pool of heap @name in use, and its
 * capacity (0 when unlimited); -1 for a heap the fake does not have. */
int64_t      fake_heap_get_used (const char *name);
int64_t      fake_heap_get_capacity (const char *name);

/* Fake heaps only (the process must be root): changes the capacity of the
 * pool of @name (0: no limit); adds a heap node (in pool @pool, a new pool
 * of @capacity bytes when @pool is NULL or new). 0 on success, else an
 * errno value. */
int          fake_heap_set_capacity (const char *name, uint64_t capacity);
int          fake_heap_add (const char *name, uint64_t capacity,
                            const char *pool);

/* Fake heaps only: the name DMA_BUF_SET_NAME gave dma-buf @fd, newly
 * allocated (free()), or NULL. */
char *       fake_heap_get_buf_name (int fd);

/* Whether @fd is a dma-buf of a fake heap. */
int          fake_heap_is_buffer (int fd);

#ifdef __cplusplus
}
#endif
