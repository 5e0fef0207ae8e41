/* The read-ahead layer over a fake remote source: byte-exact results for
 * sequential, random and concurrent readers, the memory budget, one fetch
 * per chunk, closing with fetches in flight, and whole small files read
 * without a chunk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "fake_source.h"
#include "readahead.h"

#define MiB (1u << 20)

static int64_t stat_of(dfs_source *ra, const char *name)
{
	json_object *o = json_object_new_object(), *sec, *v;
	int64_t r = -1;

	ra->ops->stats_json(ra, o);
	if (json_object_object_get_ex(o, "readahead", &sec) && json_object_object_get_ex(sec, name, &v))
		r = json_object_get_int64(v);
	json_object_put(o);
	return r;
}

static void test_sequential(void **state)
{
	size_t size = 40 * MiB + 123;
	fake *f = fake_new(size);
	dfs_source *ra = dfs_readahead_new(&f->base, 16 * MiB, 64 * MiB, MiB, 4);
	dfs_handle *h;
	uint8_t *buf = malloc(MiB);
	size_t off = 0;

	(void)state;
	f->delay_us = 1000;
	assert_non_null(ra);
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	while (off < size) {
		ssize_t n = dfs_pread(h, buf, MiB, off);
		assert_true(n > 0);
		check_range(buf, off, (size_t)n);
		off += (size_t)n;
	}
	assert_int_equal(dfs_pread(h, buf, MiB, off), 0);
	dfs_close(h);
	/* Fetched in chunks, all of it used, each byte fetched once. */
	assert_true(stat_of(ra, "chunks") > 0);
	assert_int_equal(stat_of(ra, "direct_reads"), 0);
	assert_true(atomic_load(&f->bytes) == size);
	assert_true(atomic_load(&f->reads) < 20);
	assert_true(atomic_load(&f->max_inflight) > 1); /* chunks fetched in parallel */
	assert_int_equal(stat_of(ra, "memory_in_use"), 0);
	/* Chunks of this window (up to 4 MiB) were allocated to size: no 8 MiB
	 * buffer was kept back for them. */
	assert_int_equal(stat_of(ra, "spare_bytes"), 0);
	dfs_source_destroy(ra);
	free(buf);
}

static void test_random_reads_are_direct(void **state)
{
	size_t size = 64 * MiB;
	fake *f = fake_new(size);
	dfs_source *ra = dfs_readahead_new(&f->base, 16 * MiB, 64 * MiB, MiB, 4);
	dfs_handle *h;
	uint8_t buf[8192];
	unsigned seed = 7;

	(void)state;
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	for (int i = 0; i < 300; i++) {
		size_t off = 16 * MiB + (size_t)rand_r(&seed) % (size - 16 * MiB - sizeof(buf));
		size_t len = 1 + (size_t)rand_r(&seed) % sizeof(buf);
		ssize_t n = dfs_pread(h, buf, len, off);
		assert_int_equal(n, (ssize_t)len);
		check_range(buf, off, len);
	}
	dfs_close(h);
	/* Random readers cost no more than what they read. */
	assert_true(atomic_load(&f->bytes) < 300 * sizeof(buf) + 16 * MiB);
	dfs_source_destroy(ra);
}

static void test_budget(void **state)
{
	size_t size = 32 * MiB;
	fake *f = fake_new(size);
	/* Two pages of budget for everything: read-ahead stays under it. */
	dfs_source *ra = dfs_readahead_new(&f->base, 16 * MiB, 2 * MiB, MiB, 4);
	dfs_handle *h1, *h2;
	uint8_t *buf = malloc(MiB);

	(void)state;
	f->delay_us = 2000;
	assert_int_equal(dfs_open(ra, "/f", NULL, &h1), 0);
	assert_int_equal(dfs_open(ra, "/f", NULL, &h2), 0);
	for (size_t off = 0; off < size; off += MiB) {
		assert_int_equal(dfs_pread(h1, buf, MiB, off), MiB);
		check_range(buf, off, MiB);
		assert_true(stat_of(ra, "memory_in_use") <= 2 * MiB);
		assert_int_equal(dfs_pread(h2, buf, MiB, off), MiB);
		check_range(buf, off, MiB);
	}
	assert_true(stat_of(ra, "over_budget") > 0);
	dfs_close(h1);
	dfs_close(h2);
	dfs_source_destroy(ra);
	free(buf);
}

typedef struct thr {
	dfs_handle *h;
	pthread_barrier_t *round;
	int id;
	int bad;
} thr;

static void *reader(void *arg)
{
	thr *t = arg;
	uint8_t *buf = malloc(MiB);

	/* Each thread takes every 4th page of one handle, in order, as the
	 * kernel's parallel FUSE reads do: the four pages of a round in any
	 * order, never a round ahead (the kernel's read-ahead window). Without
	 * the barrier, a thread valgrind let run alone for a while got rounds
	 * ahead, which the layer rightly took for a seek. */
	for (size_t p = (size_t)t->id; p < 24; p += 4) {
		ssize_t n;

		pthread_barrier_wait(t->round);
		n = dfs_pread(t->h, buf, MiB, p * MiB);
		if (n != MiB)
			t->bad++;
		else
			for (size_t i = 0; i < MiB; i += 4096)
				if (buf[i] != byte_at(p * MiB + i))
					t->bad++;
	}
	free(buf);
	return NULL;
}

static void test_parallel_readers_one_handle(void **state)
{
	fake *f = fake_new(24 * MiB);
	dfs_source *ra = dfs_readahead_new(&f->base, 16 * MiB, 64 * MiB, MiB, 4);
	dfs_handle *h;
	pthread_barrier_t round;
	pthread_t th[4];
	thr t[4];

	(void)state;
	f->delay_us = 3000;
	assert_int_equal(pthread_barrier_init(&round, NULL, 4), 0);
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	for (int i = 0; i < 4; i++) {
		t[i] = (thr){ .h = h, .round = &round, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, reader, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].bad, 0);
	}
	dfs_close(h);
	pthread_barrier_destroy(&round);
	/* Chunks in flight were waited for, not fetched twice. */
	assert_true(atomic_load(&f->bytes) <= 24 * MiB + 4 * MiB);
	dfs_source_destroy(ra);
}

static void test_close_with_fetches_in_flight_and_errors(void **state)
{
	fake *f = fake_new(64 * MiB);
	dfs_source *ra = dfs_readahead_new(&f->base, 32 * MiB, 64 * MiB, MiB, 4);
	dfs_handle *h;
	uint8_t *buf = malloc(MiB);

	(void)state;
	f->delay_us = 20000;
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	assert_int_equal(dfs_pread(h, buf, MiB, 0), MiB);
	dfs_close(h);  /* chunks still being fetched: freed by their fetchers */
	f->fail = -EIO;
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	assert_int_equal(dfs_pread(h, buf, MiB, 0), -EIO);
	dfs_close(h);
	dfs_source_destroy(ra); /* waits for every fetch; valgrind checks the rest */
	free(buf);
}

static void test_whole_file_read(void **state)
{
	size_t size = 100 * 1024;
	fake *f = fake_new(size);
	dfs_source *ra = dfs_readahead_new(&f->base, 16 * MiB, 64 * MiB, MiB, 4);
	dfs_handle *h;
	uint8_t *buf = malloc(MiB);

	(void)state;
	/* A small file read whole, as the page cache fetches its only page:
	 * one read into the caller's buffer, no chunk. */
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	assert_int_equal(dfs_pread(h, buf, MiB, 0), (ssize_t)size);
	check_range(buf, 0, size);
	assert_int_equal(dfs_pread(h, buf, MiB, size), 0);
	dfs_close(h);
	assert_int_equal(atomic_load(&f->reads), 1);
	assert_true(atomic_load(&f->bytes) == size);
	assert_int_equal(stat_of(ra, "whole_file_reads"), 1);
	assert_int_equal(stat_of(ra, "chunks"), 0);

	/* Shorter than it was at open: changed under us, not a short read. */
	assert_int_equal(dfs_open(ra, "/f", NULL, &h), 0);
	f->size = size - 1;
	assert_int_equal(dfs_pread(h, buf, MiB, 0), -EIO);
	f->size = size;
	f->fail = -EACCES;
	assert_int_equal(dfs_pread(h, buf, MiB, 0), -EACCES);
	dfs_close(h);
	assert_int_equal(stat_of(ra, "whole_file_reads"), 1);
	assert_int_equal(stat_of(ra, "errors"), 2);
	dfs_source_destroy(ra);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_random_reads_are_direct),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_parallel_readers_one_handle),
		cmocka_unit_test(test_close_with_fetches_in_flight_and_errors),
		cmocka_unit_test(test_whole_file_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
