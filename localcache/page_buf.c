/*
 * page_buf.c: the buffers pages are fetched into.
 *
 * Every page buffer has room for page_size bytes of data with LC_HDR_SIZE
 * bytes in front, the whole aligned to LC_DIO_ALIGN, so pf_write_temp can
 * put the header there and write header and data with O_DIRECT as they are.
 *
 * Buffers are mapped one by one and up to LC_BUF_POOL freed ones are kept
 * for reuse. Why not malloc: aligned 1 MiB allocations from many threads
 * fragmented glibc's arenas (a cold 1 GiB read peaked at 200 to 340 MiB of
 * RSS against 115 MiB), and a fresh buffer costs a page fault and a page
 * clear per 4 KiB. A mapping beyond the pool goes back to the kernel at
 * once. lc_cache.buf_mu guards the pool (a push or a pop, on the miss path
 * only: a hit never allocates).
 */
#include <sys/mman.h>

#include "lc_internal.h"

static size_t buf_bytes(const lc_cache *c)
{
	size_t n = LC_HDR_SIZE + (size_t)c->page_size;
	return (n + LC_DIO_ALIGN - 1) / LC_DIO_ALIGN * LC_DIO_ALIGN;
}

void *lc_buf_alloc(lc_cache *c)
{
	void *base = NULL;

	pthread_mutex_lock(&c->buf_mu);
	if (c->buf_free_n > 0)
		base = c->buf_free[--c->buf_free_n];
	pthread_mutex_unlock(&c->buf_mu);
	if (!base) {
		base = mmap(NULL, buf_bytes(c), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base == MAP_FAILED)
			return NULL;
	}
	return (unsigned char *)base + LC_HDR_SIZE;
}

void lc_buf_free(lc_cache *c, void *data)
{
	void *base;

	if (!data)
		return;
	base = (unsigned char *)data - LC_HDR_SIZE;
	pthread_mutex_lock(&c->buf_mu);
	if (c->buf_free_n < LC_BUF_POOL) {
		c->buf_free[c->buf_free_n++] = base;
		base = NULL;
	}
	pthread_mutex_unlock(&c->buf_mu);
	if (base)
		munmap(base, buf_bytes(c));
}

void lc_buf_pool_clear(lc_cache *c)
{
	while (c->buf_free_n > 0)
		munmap(c->buf_free[--c->buf_free_n], buf_bytes(c));
}
