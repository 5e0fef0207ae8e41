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

#include "fake_source.h"
#include "localcache.h"
#include "page_cache_source.h"
#include "source.h"
#include "uri.h"

#define PS (64u << 10)
#define SIZE (4 * PS)

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
	x->f = fake_new(SIZE);
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
		check_range(b, at, rb.seg[i].len);
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
	check_range(buf, PS / 2, 3 * PS);
	/* A read that ends at the end of the file is short, not an error. */
	assert_int_equal(dfs_pread(h, buf, 3 * PS, SIZE - PS), PS);
	check_range(buf, SIZE - PS, PS);
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
