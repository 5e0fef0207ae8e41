/*
 * Unit tests: membership (client/membership.c) with static files and an
 * unreachable etcd: option validation, selection equal to hashring's own
 * ring over the same workers in the same order, publication only on change,
 * readers racing reloads, JSON, and a watch thread that stops promptly.
 * (tests/integration/test_membership.py covers a live etcd.)
 */
#include <json-c/json.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "hashring.h"
#include "membership.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dorafs-mtest-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static dfs_membership *new_m(dfs_config *cfg, const char *opts, char *err)
{
	dfs_config_init(cfg);
	if (dfs_config_apply_list(cfg, opts, err, 512) < 0)
		return NULL;
	return dfs_membership_new(cfg, err, 512);
}

static void quiet(int level, const char *msg)
{
	(void)level;
	(void)msg;
}

static void test_options(void **state)
{
	dfs_config cfg;
	char err[512];
	dfs_membership *m;
	dfs_worker out[4];

	(void)state;
	assert_null(new_m(&cfg, "membership=MASTER", err));
	assert_non_null(strstr(err, "'MASTER'"));
	dfs_config_free(&cfg);
	assert_null(new_m(&cfg, "membership=STATIC", err));
	assert_non_null(strstr(err, "workers_file"));
	dfs_config_free(&cfg);
	assert_null(new_m(&cfg, "membership=ETCD", err));
	assert_non_null(strstr(err, "etcd"));
	dfs_config_free(&cfg);
	assert_null(new_m(&cfg, "membership=ETCD,etcd_endpoints=nope", err));
	assert_non_null(strstr(err, "'nope'"));
	dfs_config_free(&cfg);
	assert_null(new_m(&cfg, "membership=STATIC,workers_file=/x,worker_selection_policy=MAGLEV", err));
	assert_non_null(strstr(err, "MAGLEV"));
	dfs_config_free(&cfg);

	/* No membership: a valid object without workers. */
	m = new_m(&cfg, "attr_timeout=1", err);
	assert_non_null(m);
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
	assert_int_equal(dfs_membership_select(m, "s3://b/k", 1, out), 0);
	dfs_membership_free(m);
	dfs_config_free(&cfg);
}

static void test_static_select_matches_hashring(void **state)
{
	static const char *policies[] = { "CONSISTENT", "JUMP", "KETAMA", "MULTI_PROBE" };
	char opts[512], err[512];

	(void)state;
	write_file("workers", "# test\n\nw1.example\nw2.example\n  w3.example\nw4.example\nw5.example\nw6.example\n");
	for (size_t p = 0; p < 4; p++) {
		dfs_config cfg;
		dfs_membership *m;
		dfs_worker_list *l;
		hr_worker hw[16];
		hr_ring *ring;
		hr_policy pol;

		snprintf(opts, sizeof(opts), "membership=STATIC,workers_file=%s/workers,worker_selection_policy=%s,"
			 "hash_virtual_nodes=50,ketama_replicas=50,multi_probe_probes=7", tmpdir, policies[p]);
		m = new_m(&cfg, opts, err);
		assert_non_null(m);
		assert_null(dfs_membership_snapshot(m));
		assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
		l = dfs_membership_snapshot(m);
		assert_non_null(l);
		assert_int_equal(l->n, 6);
		assert_int_equal(l->n_live, 6);
		/* The same identities in the same order, straight into hashring. */
		for (size_t i = 0; i < l->n; i++) {
			uint8_t uuid[16];

			hr_uuid_name_based(l->w[i].e.addr.host, strlen(l->w[i].e.addr.host), uuid);
			assert_memory_equal(uuid, l->w[i].e.id, 16);
			hr_worker_from_uuid(&hw[i], uuid);
		}
		assert_int_equal(hr_policy_from_string(policies[p], &pol, NULL, 0), 0);
		ring = hr_ring_build(pol, hw, l->n,
				     &(hr_options){ .virtual_nodes = 50, .ketama_replicas = 50, .probes = 7 });
		assert_non_null(ring);
		for (int k = 0; k < 300; k++) {
			char key[64];
			uint32_t idx[6];
			dfs_worker out[6];
			int a, b;

			snprintf(key, sizeof(key), "s3://bucket/dir/file-%d", k);
			a = hr_ring_select(ring, key, strlen(key), 3, idx);
			b = dfs_membership_select(m, key, 3, out);
			assert_int_equal(a, b);
			for (int j = 0; j < a; j++)
				assert_string_equal(out[j].e.addr.host, l->w[idx[j]].e.addr.host);
		}
		hr_ring_free(ring);
		dfs_worker_list_unref(l);
		dfs_membership_free(m);
		dfs_config_free(&cfg);
	}
}

static void test_generation_and_reload(void **state)
{
	dfs_config cfg;
	dfs_membership *m;
	char opts[512], err[512];
	dfs_worker_list *old;
	dfs_membership_status st;
	uint64_t g;

	(void)state;
	write_file("w2", "a\nb\n");
	snprintf(opts, sizeof(opts), "membership=STATIC,workers_file=%s/w2", tmpdir);
	m = new_m(&cfg, opts, err);
	assert_non_null(m);
	dfs_membership_set_log(m, quiet);
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
	g = dfs_membership_generation(m);
	assert_int_equal(g, 1);
	old = dfs_membership_snapshot(m);
	/* Same content: nothing published. */
	write_file("w2", "# same\nb\na\n");
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
	assert_int_equal(dfs_membership_generation(m), g);
	/* Changed: a new list; the old snapshot stays valid. */
	write_file("w2", "a\nb\nc\n");
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
	assert_int_equal(dfs_membership_generation(m), g + 1);
	assert_int_equal(old->n, 2);
	assert_string_equal(old->w[0].e.addr.host, "a");
	dfs_worker_list_unref(old);
	/* A broken file: error, last list kept, marked stale. */
	write_file("w2", "a\nb c\n");
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
	dfs_membership_status_get(m, &st);
	assert_true(st.loaded);
	assert_true(st.stale);
	assert_int_equal(st.type, DFS_MEMBERSHIP_STATIC);
	old = dfs_membership_snapshot(m);
	assert_int_equal(old->n, 3);
	dfs_worker_list_unref(old);
	{
		char *js = dfs_membership_json(m);
		json_object *o, *v;

		assert_non_null(js);
		o = json_tokener_parse(js);
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "status", &v));
		assert_string_equal(json_object_get_string(v), "stale");
		assert_true(json_object_object_get_ex(o, "workers", &v));
		assert_int_equal(json_object_array_length(v), 3);
		json_object_put(o);
		free(js);
	}
	dfs_membership_free(m);
	dfs_config_free(&cfg);
}

typedef struct {
	dfs_membership *m;
	atomic_bool stop;
	long selects;
} race_t;

static void *reader(void *arg)
{
	race_t *r = arg;
	dfs_worker out[3];
	long n = 0;

	while (!atomic_load(&r->stop)) {
		char key[32];
		int k;

		snprintf(key, sizeof(key), "/k/%ld", n++);
		k = dfs_membership_select(r->m, key, 3, out);
		/* Every list has 2 or 3 workers with hosts "a".."c". */
		if (k < 2 || out[0].e.addr.host[0] < 'a' || out[0].e.addr.host[0] > 'c')
			abort();
	}
	__atomic_add_fetch(&r->selects, n, __ATOMIC_RELAXED);
	return NULL;
}

static void test_readers_race_reloads(void **state)
{
	dfs_config cfg;
	char opts[512], err[512];
	race_t r = { 0 };
	pthread_t t[4];
	int rounds = getenv("DORAFS_UNDER_VALGRIND") ? 40 : 400;

	(void)state;
	write_file("w3", "a\nb\n");
	snprintf(opts, sizeof(opts), "membership=STATIC,workers_file=%s/w3", tmpdir);
	r.m = new_m(&cfg, opts, err);
	assert_non_null(r.m);
	assert_int_equal(dfs_membership_load(r.m, err, sizeof(err)), 0);
	atomic_init(&r.stop, false);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
	for (int i = 0; i < rounds; i++) {
		write_file("w3", i % 2 ? "a\nb\n" : "a\nb\nc\n");
		assert_int_equal(dfs_membership_load(r.m, err, sizeof(err)), 0);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_true(r.selects > 0);
	assert_int_equal(dfs_membership_generation(r.m), (uint64_t)rounds + 1);
	dfs_membership_free(r.m);
	dfs_config_free(&cfg);
}

static void test_etcd_unreachable(void **state)
{
	dfs_config cfg;
	char err[512];
	dfs_membership *m;
	dfs_membership_status st;
	dfs_worker out[1];
	struct timespec a, b;

	(void)state;
	m = new_m(&cfg, "membership=ETCD,etcd_endpoints=http://127.0.0.1:1;http://127.0.0.1:2,cluster_name=x", err);
	assert_non_null(m);
	dfs_membership_set_log(m, quiet);
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "http://127.0.0.1:1"));
	dfs_membership_status_get(m, &st);
	assert_false(st.loaded);
	assert_true(st.stale);
	assert_non_null(strstr(st.source, "/ServiceDiscovery/x/"));
	/* start: no list yet, so -1, but the thread keeps trying; stop is prompt. */
	assert_int_equal(dfs_membership_start(m, err, sizeof(err)), -1);
	usleep(300 * 1000);
	assert_int_equal(dfs_membership_select(m, "k", 1, out), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	dfs_membership_stop(m);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 3);
	dfs_membership_free(m);
	dfs_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_static_select_matches_hashring),
		cmocka_unit_test(test_generation_and_reload),
		cmocka_unit_test(test_readers_race_reloads),
		cmocka_unit_test(test_etcd_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
