/* The page cache layer over a fake source whose reads fail from some offset
 * on: a read that spans a good page and a failing one must fail as a whole.
 * Handing up the good page alone would be a short reply, which the kernel
 * takes for the end of the file (it shrinks the file and zero-fills). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "localcache.h"
#include "page_cache_source.h"
#include "source.h"
#include "uri.h"

#define PS (64u << 10)
#define SIZE (4 * PS)

typedef struct fake {
	dfs_source base;
	uint64_t fail_from;        /* reads reaching this offset fail with EIO */
	int reads;
} fake;

static uint8_t byte_at(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static int f_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	(void)s;
	(void)path;
	memset(out, 0, sizeof(*out));
	out->mode = S_IFREG | 0444;
	out->size = SIZE;
	strcpy(out->version, "v1");
	return 0;
}

static int f_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	dfs_handle *h = calloc(1, sizeof(*h));

	(void)attr;
	if (!h)
		return -ENOMEM;
	h->src = s;
	h->path = strdup(path);
	if (!h->path) {
		free(h);
		return -ENOMEM;
	}
	f_stat(s, path, &h->attr);
	*out = h;
	return 0;
}

static ssize_t f_pread(dfs_handle *h, void *buf, size_t len, uint64_t off)
{
	fake *f = (fake *)h->src;

	f->reads++;
	if (off >= SIZE)
		return 0;
	if (len > SIZE - off)
		len = (size_t)(SIZE - off);
	if (off + len > f->fail_from)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = byte_at(off + i);
	return (ssize_t)len;
}

static void f_close(dfs_handle *h)
{
	free(h->path);
	free(h);
}

static void f_destroy(dfs_source *s)
{
	free(s);
}

static const dfs_source_ops fake_ops = {
	.name = "fake", .stat = f_stat, .open = f_open, .pread = f_pread, .close = f_close, .destroy = f_destroy,
};

typedef struct fx {
	char dir[64];
	fake *f;
	lc_cache *lc;
	dfs_source *pc;
	dfs_uri root;
} fx;

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	char err[256] = "";
	lc_options o = { .capacity = 64u << 20, .page_size = PS };

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/dorafs-pcs-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	o.dir = x->dir;
	assert_int_equal(lc_open(&o, &x->lc, err, sizeof(err)), 0);
	x->f = calloc(1, sizeof(*x->f));
	assert_non_null(x->f);
	x->f->base.ops = &fake_ops;
	x->f->fail_from = UINT64_MAX;
	assert_int_equal(dfs_uri_parse("/data", &x->root, err, sizeof(err)), 0);
	x->pc = dfs_page_cache_source_new(&x->f->base, x->lc, &x->root);
	assert_non_null(x->pc);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	char cmd[128];

	dfs_source_destroy(x->pc); /* closes the cache and the fake too */
	dfs_uri_free(&x->root);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

static void check(const uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != byte_at(off + i))
			fail_msg("byte %zu of the read at %llu differs", i, (unsigned long long)off);
}

/* Pages 0 and 1 requested, page 1 fails: an error, not page 0 alone. */
static void test_read_segs_error_after_a_page(void **state)
{
	fx *x = *state;
	dfs_handle *h;
	dfs_readbuf rb;

	x->f->fail_from = PS;
	assert_int_equal(dfs_open(x->pc, "/f", NULL, &h), 0);
	assert_int_equal(dfs_read_segs(h, 2 * PS, 0, &rb), -EIO);
	assert_int_equal(rb.total, 0);
	assert_int_equal(rb.nseg, 0);
	/* Page 0 alone is fine (and was stored by the failed read). */
	assert_int_equal(dfs_read_segs(h, PS, 0, &rb), 0);
	assert_int_equal(rb.total, PS);
	dfs_readbuf_release(&rb);
	/* Once the source recovers, the whole range reads, byte-exact. */
	x->f->fail_from = UINT64_MAX;
	assert_int_equal(dfs_read_segs(h, 2 * PS, 0, &rb), 0);
	assert_int_equal(rb.total, 2 * PS);
	for (int i = 0; i < rb.nseg; i++) {
		uint8_t *b = malloc(rb.seg[i].len);
		uint64_t at = i == 0 ? 0 : rb.seg[0].len;

		assert_non_null(b);
		if (rb.seg[i].fd >= 0)
			assert_int_equal(pread(rb.seg[i].fd, b, rb.seg[i].len, rb.seg[i].fd_offset),
					 (ssize_t)rb.seg[i].len);
		else
			memcpy(b, rb.seg[i].mem, rb.seg[i].len);
		check(b, at, rb.seg[i].len);
		free(b);
	}
	dfs_readbuf_release(&rb);
	dfs_close(h);
}

/* The copying read path fails the same way. */
static void test_pread_error_after_a_page(void **state)
{
	fx *x = *state;
	dfs_handle *h;
	uint8_t *buf = malloc(3 * PS);

	assert_non_null(buf);
	x->f->fail_from = 2 * PS;
	assert_int_equal(dfs_open(x->pc, "/g", NULL, &h), 0);
	assert_int_equal(dfs_pread(h, buf, 3 * PS, PS / 2), -EIO);
	x->f->fail_from = UINT64_MAX;
	assert_int_equal(dfs_pread(h, buf, 3 * PS, PS / 2), 3 * PS);
	check(buf, PS / 2, 3 * PS);
	/* A read that ends at the end of the file is short, not an error. */
	assert_int_equal(dfs_pread(h, buf, 3 * PS, SIZE - PS), PS);
	check(buf, SIZE - PS, PS);
	dfs_close(h);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_segs_error_after_a_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pread_error_after_a_page, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
