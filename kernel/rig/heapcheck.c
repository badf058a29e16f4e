// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * heapcheck: the rig's guest-side probe of dma-buf heaps.
 *
 *   heapcheck list              print the entries of /dev/dma_heap, one per line
 *   heapcheck alloc HEAP BYTES  allocate BYTES from /dev/dma_heap/HEAP, mmap the
 *                               buffer, write a pattern inside CPU access
 *                               brackets (DMA_BUF_IOCTL_SYNC), read it back
 *
 * Exit status 0 on success; on failure 1 and one line on stderr saying what
 * went wrong. Built static for arm64; needs only the kernel uapi headers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#define HEAP_DIR "/dev/dma_heap"

static int fail(const char *what, const char *heap)
{
	fprintf(stderr, "heapcheck: %s %s: %s\n", what, heap ? heap : "",
		strerror(errno));
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_heaps(void)
{
	char *names[256];
	size_t n = 0, i;
	struct dirent *e;
	DIR *d = opendir(HEAP_DIR);

	if (!d)
		return fail("cannot open", HEAP_DIR);
	while ((e = readdir(d)) && n < 256) {
		if (e->d_name[0] == '.')
			continue;
		names[n] = strdup(e->d_name);
		if (!names[n])
			return fail("out of memory", NULL);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	return 0;
}

static int sync_buf(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

static int alloc_check(const char *heap, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	char path[512];
	uint32_t *p;
	size_t i, words = len / sizeof(*p);
	int hfd, ret = 1;

	snprintf(path, sizeof(path), HEAP_DIR "/%s", heap);
	hfd = open(path, O_RDONLY | O_CLOEXEC);
	if (hfd < 0)
		return fail("cannot open heap", heap);
	if (ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
		fail("DMA_HEAP_IOCTL_ALLOC failed on", heap);
		close(hfd);
		return 1;
	}
	close(hfd);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, data.fd, 0);
	if (p == MAP_FAILED) {
		fail("mmap failed on a buffer of", heap);
		goto out;
	}
	if (sync_buf(data.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW) < 0) {
		fail("DMA_BUF_SYNC_START failed on", heap);
		goto unmap;
	}
	for (i = 0; i < words; i++)
		p[i] = (uint32_t)(i * 2654435761u) ^ 0x5a5a5a5au;
	for (i = 0; i < words; i++) {
		if (p[i] != ((uint32_t)(i * 2654435761u) ^ 0x5a5a5a5au)) {
			fprintf(stderr, "heapcheck: %s: word %zu reads back wrong\n",
				heap, i);
			goto unmap;
		}
	}
	if (sync_buf(data.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW) < 0) {
		fail("DMA_BUF_SYNC_END failed on", heap);
		goto unmap;
	}
	ret = 0;
unmap:
	munmap(p, len);
out:
	close(data.fd);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list_heaps();
	if (argc == 4 && !strcmp(argv[1], "alloc")) {
		char *end;
		unsigned long long len = strtoull(argv[3], &end, 0);

		if (*end || !len) {
			fprintf(stderr, "heapcheck: bad size '%s'\n", argv[3]);
			return 2;
		}
		return alloc_check(argv[2], (size_t)len);
	}
	fprintf(stderr, "usage: heapcheck list | heapcheck alloc HEAP BYTES\n");
	return 2;
}
