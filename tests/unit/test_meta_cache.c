/* The metadata cache layer over a fake source that counts what reaches it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "meta_cache.h"

/* A folder "/d" with files "/d/a" (size 1) and "/d/b" (size 2), and
 * "/d/c" (size 4) once with_c is set; "/f" (size 3). */
typedef struct fake {
	dfs_source base;
	int stats, lists;
	uint64_t f_size;
	bool with_c;
} fake;

static int fake_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	fake *f = (fake *)s;

	f->stats++;
	memset(out, 0, sizeof(*out));
	if (strcmp(path, "/") == 0 || strcmp(path, "/d") == 0) {
		out->mode = S_IFDIR | 0755;
		return 0;
	}
	out->mode = S_IFREG | 0644;
	if (strcmp(path, "/d/a") == 0)
		out->size = 1;
	else if (strcmp(path, "/d/b") == 0)
		out->size = 2;
	else if (strcmp(path, "/d/c") == 0 && f->with_c)
		out->size = 4;
	else if (strcmp(path, "/f") == 0)
		out->size = f->f_size;
	else
		return -ENOENT;
	return 0;
}

static int fake_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	fake *f = (fake *)s;
	dfs_attr a = { .mode = S_IFREG | 0644 };
	int rc;

	f->lists++;
	if (strcmp(path, "/d") != 0)
		return -ENOTDIR;
	a.size = 1;
	if ((rc = cb(arg, "a", &a)))
		return rc;
	a.size = 2;
	if ((rc = cb(arg, "b", &a)) || !f->with_c)
		return rc;
	a.size = 4;
	return cb(arg, "c", &a);
}

static const dfs_source_ops fake_ops = { .name = "fake", .stat = fake_stat, .list = fake_list };

static int count_cb(void *arg, const char *name, const dfs_attr *attr)
{
	(void)name;
	*(uint64_t *)arg += attr->size;
	return 0;
}

static void test_positive_negative_and_listing(void **state)
{
	fake f = { .base.ops = &fake_ops, .f_size = 3 };
	dfs_source *mc = dfs_meta_cache_new(&f.base, 100, -1);
	dfs_attr a;
	uint64_t sum = 0;

	(void)state;
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);
	assert_int_equal(a.size, 3);
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);
	assert_int_equal(f.stats, 1);

	assert_int_equal(dfs_stat(mc, "/nope", &a), -ENOENT);
	assert_int_equal(dfs_stat(mc, "/nope", &a), -ENOENT);
	assert_int_equal(f.stats, 2); /* the negative entry answered the second */

	assert_int_equal(dfs_list(mc, "/d", count_cb, &sum), 0);
	assert_int_equal(sum, 3);
	assert_int_equal(dfs_list(mc, "/d", count_cb, &sum), 0);
	assert_int_equal(sum, 6);
	assert_int_equal(f.lists, 1);
	f.stats = 0;
	/* Children come from the listing; a name absent from it is ENOENT for free. */
	assert_int_equal(dfs_stat(mc, "/d/b", &a), 0);
	assert_int_equal(a.size, 2);
	assert_int_equal(dfs_stat(mc, "/d/zzz", &a), -ENOENT);
	assert_int_equal(f.stats, 0);

	/* Invalidation sends the next stat to the source. */
	f.f_size = 30;
	mc->ops->invalidate(mc, "/f");
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);
	assert_int_equal(a.size, 30);
	assert_int_equal(f.stats, 1);
	mc->ops->destroy(mc);
}

static void test_expiry(void **state)
{
	fake f = { .base.ops = &fake_ops, .f_size = 3 };
	dfs_source *mc = dfs_meta_cache_new(&f.base, 100, 0.2);
	dfs_attr a;

	(void)state;
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);
	f.f_size = 4;
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);
	assert_int_equal(a.size, 3);
	usleep(300000);
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);
	assert_int_equal(a.size, 4);
	assert_int_equal(f.stats, 2);
	mc->ops->destroy(mc);
}

/* A folder's attributes and its listing expire apart: the stat before
 * every opendir, which refreshes the attributes, once kept an expired
 * listing fresh forever (new objects never showed, and were ENOENT). */
static void test_fresh_stat_does_not_refresh_listing(void **state)
{
	fake f = { .base.ops = &fake_ops, .f_size = 3 };
	dfs_source *mc = dfs_meta_cache_new(&f.base, 100, 0.3);
	dfs_attr a;
	uint64_t sum = 0;

	(void)state;
	assert_int_equal(dfs_list(mc, "/d", count_cb, &sum), 0);
	assert_int_equal(sum, 3);
	f.with_c = true;
	usleep(350000);
	assert_int_equal(dfs_stat(mc, "/d", &a), 0); /* attributes fetched anew */
	assert_int_equal(dfs_stat(mc, "/d/c", &a), 0);
	assert_int_equal(a.size, 4);
	sum = 0;
	assert_int_equal(dfs_list(mc, "/d", count_cb, &sum), 0);
	assert_int_equal(sum, 7);
	assert_int_equal(f.lists, 2);
	mc->ops->destroy(mc);
}

static void test_bound_evicts_least_recent(void **state)
{
	fake f = { .base.ops = &fake_ops, .f_size = 3 };
	dfs_source *mc = dfs_meta_cache_new(&f.base, 2, -1);
	dfs_attr a;
	char path[32];

	(void)state;
	assert_int_equal(dfs_stat(mc, "/f", &a), 0);        /* 1 stat */
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/x%d", i);
		assert_int_equal(dfs_stat(mc, path, &a), -ENOENT);
		assert_int_equal(dfs_stat(mc, "/f", &a), 0); /* kept warm: stays */
	}
	assert_int_equal(f.stats, 6);
	assert_int_equal(dfs_stat(mc, "/x0", &a), -ENOENT); /* evicted: asks again */
	assert_int_equal(f.stats, 7);
	mc->ops->destroy(mc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive_negative_and_listing),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_fresh_stat_does_not_refresh_listing),
		cmocka_unit_test(test_bound_evicts_least_recent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
