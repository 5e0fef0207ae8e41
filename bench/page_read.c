/*
 * page_read: read a cached file's bytes straight from dorafs's page files,
 * the "raw cache disk" baseline of bench/local_read.sh.
 *
 *   page_read [-w N] <cache-dir> [expected-bytes]
 *
 * Finds every page file under <cache-dir> (localcache layout:
 * <dir>/v1/<page_size>/<hh>/<32 hex>-<index>, a 64-byte header then the
 * data; see localcache/page_file.c), orders them by (file hash, index) and
 * reads each page's data after the header with 1 MiB read() calls into one
 * buffer, which is what `dd bs=1M of=/dev/null` does with a plain file.
 * Meant for a cache holding one file. Prints "<bytes> <seconds> <MB/s>"
 * (MB = 10^6 bytes, as dd) and fails if expected-bytes is given and differs.
 *
 * -w N: before reading page i, open pages i+1..i+N and posix_fadvise them
 * WILLNEED (start their disk reads), as a page cache that prefetches ahead
 * on sequential access would. Shows how much of the gap to reading one
 * contiguous file is the per-page-file read-ahead limit.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HDR 64
#define CHUNK (1024 * 1024)

typedef struct {
	char *path;
	char hash[33];
	unsigned long long index;
} page;

static page *pages;
static size_t npages, cap;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	char *end;
	page p;

	(void)st;
	if (type != FTW_F || strlen(base) < 34 || base[32] != '-')
		return 0;
	for (int i = 0; i < 32; i++)
		if (!strchr("0123456789abcdef", base[i]))
			return 0;
	errno = 0;
	p.index = strtoull(base + 33, &end, 10);
	if (*end || errno)
		return 0; /* temporary files and anything else */
	memcpy(p.hash, base, 32);
	p.hash[32] = '\0';
	p.path = strdup(path);
	if (!p.path)
		return -1;
	if (npages == cap) {
		cap = cap ? cap * 2 : 1024;
		pages = realloc(pages, cap * sizeof(*pages));
		if (!pages)
			return -1;
	}
	pages[npages++] = p;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const page *x = a, *y = b;
	int c = strcmp(x->hash, y->hash);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int open_page(size_t i, int *fds, size_t willneed)
{
	if (fds[i] < 0) {
		fds[i] = open(pages[i].path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			fprintf(stderr, "page_read: %s: %s\n", pages[i].path, strerror(errno));
			return -1;
		}
		if (willneed)
			posix_fadvise(fds[i], 0, 0, POSIX_FADV_WILLNEED);
	}
	return fds[i];
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	unsigned long long total = 0;
	size_t willneed = 0;
	int *fds;
	char *buf;
	double s;

	if (argc >= 3 && strcmp(argv[1], "-w") == 0) {
		willneed = strtoul(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: page_read [-w N] <cache-dir> [expected-bytes]\n");
		return 2;
	}
	buf = aligned_alloc(4096, CHUNK);
	if (!buf)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nftw(argv[1], visit, 64, FTW_PHYS) != 0) {
		fprintf(stderr, "page_read: cannot walk %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	qsort(pages, npages, sizeof(*pages), by_key);
	fds = malloc((npages + 1) * sizeof(*fds));
	if (!fds)
		return 1;
	for (size_t i = 0; i < npages; i++)
		fds[i] = -1;
	for (size_t i = 0; i < npages; i++) {
		int fd;
		ssize_t n;

		for (size_t j = i + 1; j <= i + willneed && j < npages; j++)
			if (open_page(j, fds, willneed) < 0)
				return 1;
		fd = open_page(i, fds, 0);
		if (fd < 0 || lseek(fd, HDR, SEEK_SET) != HDR) {
			fprintf(stderr, "page_read: %s: %s\n", pages[i].path, strerror(errno));
			return 1;
		}
		while ((n = read(fd, buf, CHUNK)) > 0)
			total += (unsigned long long)n;
		if (n < 0) {
			fprintf(stderr, "page_read: %s: %s\n", pages[i].path, strerror(errno));
			return 1;
		}
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu %.6f %.1f\n", total, s, s > 0 ? (double)total / s / 1e6 : 0.0);
	if (argc == 3 && total != strtoull(argv[2], NULL, 10)) {
		fprintf(stderr, "page_read: read %llu bytes from %zu pages, expected %s\n", total, npages, argv[2]);
		return 1;
	}
	return 0;
}
