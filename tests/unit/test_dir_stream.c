/* Streaming listings (client/dir_stream.c) over a fake source whose
 * listing can be held after a number of entries, as a slow S3 page would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include "dir_stream.h"

typedef struct fake {
	dfs_source base;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int total;          /* entries in the listing */
	int hold_after;     /* the listing waits for `open` after this many */
	bool open;
	int fail_after;     /* return fail_rc after this many (-1: never) */
	int fail_rc;
	int cb_rc;          /* what the last refused callback returned */
	long gap_ns;        /* pause before each entry after the hold */
} fake;

static int fake_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	fake *f = (fake *)s;
	dfs_attr a = { .mode = S_IFREG | 0444 };
	char name[32];

	(void)path;
	for (int i = 0; i < f->total; i++) {
		int rc;

		if (i == f->fail_after)
			return f->fail_rc;
		if (i == f->hold_after) {
			pthread_mutex_lock(&f->lock);
			while (!f->open)
				pthread_cond_wait(&f->cond, &f->lock);
			pthread_mutex_unlock(&f->lock);
		}
		if (f->gap_ns && i >= f->hold_after) {
			struct timespec t = { 0, f->gap_ns };
			nanosleep(&t, NULL);
		}
		snprintf(name, sizeof(name), "e%d", i);
		a.size = (uint64_t)i;
		rc = cb(arg, name, &a);
		if (rc) {
			f->cb_rc = rc;
			return rc;
		}
	}
	return f->fail_after == f->total ? f->fail_rc : 0;
}

static const dfs_source_ops fake_ops = { .name = "fake", .list = fake_list };

static void fake_init(fake *f, int total, int hold_after, int fail_after, int fail_rc)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = &fake_ops;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->total = total;
	f->hold_after = hold_after;
	f->fail_after = fail_after;
	f->fail_rc = fail_rc;
}

static void fake_release(fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->open = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void fake_fini(fake *f)
{
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
}

static void test_entries_are_readable_before_the_listing_ends(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d;
	const char *name;
	dfs_attr a;
	int st;

	(void)state;
	fake_init(&f, 10, 3, -1, 0);
	l = dfs_dir_lister_new(&f.base, 2, 0);
	assert_non_null(l);
	/* opendir returns with the first entries while the rest is held. */
	assert_int_equal(dfs_dir_open(l, "/d", &d), 0);
	assert_int_equal(dfs_dir_wait(d, 2, 1), 3);
	assert_int_equal(dfs_dir_count(d, &st), 3);
	assert_int_equal(st, 0);
	dfs_dir_entry(d, 2, &name, &a);
	assert_string_equal(name, "e2");
	assert_int_equal(a.size, 2);
	fake_release(&f);
	assert_int_equal(dfs_dir_wait(d, 9, 1), 10);
	/* Past the end: the count, no more. */
	assert_int_equal(dfs_dir_wait(d, 10, 1), 10);
	assert_int_equal(dfs_dir_count(d, &st), 10);
	assert_int_equal(st, 1);
	dfs_dir_entry(d, 9, &name, &a);
	assert_string_equal(name, "e9");
	/* Earlier entries keep their index (readdir offsets). */
	dfs_dir_entry(d, 0, &name, &a);
	assert_string_equal(name, "e0");
	dfs_dir_close(d);
	dfs_dir_lister_free(l);
	fake_fini(&f);
}

static void test_error_before_any_entry_fails_open(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d = (dfs_dir *)&f;

	(void)state;
	fake_init(&f, 5, -1, 0, -ENOENT);
	l = dfs_dir_lister_new(&f.base, 2, 0);
	assert_int_equal(dfs_dir_open(l, "/missing", &d), -ENOENT);
	assert_null(d);
	dfs_dir_lister_free(l);
	fake_fini(&f);
}

static void test_empty_folder(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d;

	(void)state;
	fake_init(&f, 0, -1, -1, 0);
	l = dfs_dir_lister_new(&f.base, 2, 0);
	assert_int_equal(dfs_dir_open(l, "/empty", &d), 0);
	assert_int_equal(dfs_dir_wait(d, 0, 1), 0);
	dfs_dir_close(d);
	dfs_dir_lister_free(l);
	fake_fini(&f);
}

static void test_error_midway_ends_after_the_listed_entries(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d;

	(void)state;
	fake_init(&f, 5, -1, 2, -EIO);
	l = dfs_dir_lister_new(&f.base, 2, 0);
	assert_int_equal(dfs_dir_open(l, "/d", &d), 0);
	assert_int_equal(dfs_dir_wait(d, 1, 1), 2);
	assert_int_equal(dfs_dir_wait(d, 2, 1), -EIO);
	dfs_dir_close(d);
	dfs_dir_lister_free(l);
	fake_fini(&f);
}

static void test_close_stops_a_running_listing(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d;

	(void)state;
	fake_init(&f, 1000, 1, -1, 0);
	l = dfs_dir_lister_new(&f.base, 2, 0);
	assert_int_equal(dfs_dir_open(l, "/d", &d), 0);
	dfs_dir_close(d);
	fake_release(&f);
	dfs_dir_lister_free(l); /* waits for the job */
	assert_int_equal(f.cb_rc, -ECANCELED);
	fake_fini(&f);
}

static void *release_later(void *arg)
{
	struct timespec t = { 0, 50 * 1000 * 1000 };

	nanosleep(&t, NULL);
	fake_release(arg);
	return NULL;
}

static void test_a_waiter_gets_the_whole_burst(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d;
	pthread_t t;

	(void)state;
	fake_init(&f, 10, 3, -1, 0);
	/* Entries 3 to 9 come 5 ms apart, and the batch wait is far longer
	 * than that: the wait ends because all 7 arrived, not by the clock. */
	f.gap_ns = 5 * 1000 * 1000;
	l = dfs_dir_lister_new(&f.base, 2, 30L * 1000 * 1000 * 1000);
	assert_int_equal(dfs_dir_open(l, "/d", &d), 0);
	assert_int_equal(pthread_create(&t, NULL, release_later, &f), 0);
	/* Woken by entry 3 alone, a reader would reply with 4 of the 10; it
	 * waits for the 7 it has room for. */
	assert_int_equal(dfs_dir_wait(d, 3, 7), 10);
	pthread_join(t, NULL);
	dfs_dir_close(d);
	dfs_dir_lister_free(l);
	fake_fini(&f);
}

static void test_the_batch_wait_ends_when_the_listing_stalls(void **state)
{
	fake f;
	dfs_dir_lister *l;
	dfs_dir *d;
	int st;

	(void)state;
	fake_init(&f, 10, 3, -1, 0);
	l = dfs_dir_lister_new(&f.base, 2, 0);
	assert_int_equal(dfs_dir_open(l, "/d", &d), 0);
	/* Room for 10, 3 listed, the rest held (a LIST in flight): the
	 * reader gets the 3 after the short batch wait, not after the page. */
	assert_int_equal(dfs_dir_wait(d, 0, 10), 3);
	assert_int_equal(dfs_dir_count(d, &st), 3);
	assert_int_equal(st, 0);
	fake_release(&f);
	assert_int_equal(dfs_dir_wait(d, 9, 1), 10);
	dfs_dir_close(d);
	dfs_dir_lister_free(l);
	fake_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_are_readable_before_the_listing_ends),
		cmocka_unit_test(test_error_before_any_entry_fails_open),
		cmocka_unit_test(test_empty_folder),
		cmocka_unit_test(test_error_midway_ends_after_the_listed_entries),
		cmocka_unit_test(test_close_stops_a_running_listing),
		cmocka_unit_test(test_a_waiter_gets_the_whole_burst),
		cmocka_unit_test(test_the_batch_wait_ends_when_the_listing_stalls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
