/*
 * Unit tests: the worker picker over a membership (client/worker_ring.c):
 * pick = the first worker Alluxio would choose, one pooled connection per
 * worker, pruned when workers leave (connections are created but never
 * dialled here: the worker client connects lazily).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "membership.h"
#include "worker_ring.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_pick_and_prune(void **state)
{
	char dir[] = "/tmp/dorafs-ring-XXXXXX", path[64], opts[128], err[512];
	dfs_config cfg;
	dfs_membership *m;
	dfs_worker_ring *r;
	dfs_worker_conn_options base = { .auth_disabled = true };
	dfs_worker_picker p;
	dfs_worker_conn *held = NULL;
	char held_target[64] = "";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/workers", dir);
	write_file(path, "127.0.0.1\n127.0.0.2\n127.0.0.3\n");
	dfs_config_init(&cfg);
	snprintf(opts, sizeof(opts), "membership=STATIC,workers_file=%s,worker_rpc_port=4321", path);
	assert_int_equal(dfs_config_apply_list(&cfg, opts, err, sizeof(err)), 0);
	m = dfs_membership_new(&cfg, err, sizeof(err));
	assert_non_null(m);
	r = dfs_worker_ring_new(m, &base, err, sizeof(err));
	assert_non_null(r);
	dfs_worker_ring_picker(r, &p);
	/* No list yet: nothing to pick. */
	assert_null(p.pick(p.arg, "s3://b/k"));
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
	for (int i = 0; i < 200; i++) {
		char key[64], t[64];
		dfs_worker w;
		dfs_worker_conn *c, *c2;

		snprintf(key, sizeof(key), "s3://bucket/file-%d", i);
		assert_int_equal(dfs_membership_select(m, key, 1, &w), 1);
		dfs_worker_rpc_target(&w, t, sizeof(t));
		c = p.pick(p.arg, key);
		assert_non_null(c);
		assert_string_equal(dfs_worker_conn_target(c), t);
		assert_non_null(strstr(t, ":4321"));
		c2 = p.pick(p.arg, key);
		assert_ptr_equal(c, c2);   /* pooled */
		dfs_worker_conn_free(c2);
		if (!held && strcmp(t, "127.0.0.3:4321") == 0) {
			held = c;   /* an "open file" keeps its worker */
			snprintf(held_target, sizeof(held_target), "%s", t);
		} else {
			dfs_worker_conn_free(c);
		}
	}
	assert_int_equal(dfs_worker_ring_pool_size(r), 3);
	assert_non_null(held);
	/* 127.0.0.3 leaves: its pooled connection goes at the next pick; the
	 * held reference stays usable. */
	write_file(path, "127.0.0.1\n127.0.0.2\n");
	assert_int_equal(dfs_membership_load(m, err, sizeof(err)), 0);
	for (int i = 0; i < 50; i++) {
		char key[64];
		dfs_worker_conn *c;

		snprintf(key, sizeof(key), "s3://bucket/file-%d", i);
		c = p.pick(p.arg, key);
		assert_non_null(c);
		assert_string_not_equal(dfs_worker_conn_target(c), "127.0.0.3:4321");
		dfs_worker_conn_free(c);
	}
	assert_int_equal(dfs_worker_ring_pool_size(r), 2);
	assert_string_equal(dfs_worker_conn_target(held), held_target);
	dfs_worker_conn_free(held);
	dfs_worker_ring_free(r);
	dfs_membership_free(m);
	dfs_config_free(&cfg);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_ipv6_target(void **state)
{
	dfs_worker w;
	char t[64];

	(void)state;
	memset(&w, 0, sizeof(w));
	snprintf(w.e.addr.host, sizeof(w.e.addr.host), "fd00::1");
	w.e.addr.rpc_port = 29999;
	dfs_worker_rpc_target(&w, t, sizeof(t));
	assert_string_equal(t, "[fd00::1]:29999");
	snprintf(w.e.addr.host, sizeof(w.e.addr.host), "w1.example");
	dfs_worker_rpc_target(&w, t, sizeof(t));
	assert_string_equal(t, "w1.example:29999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_and_prune),
		cmocka_unit_test(test_ipv6_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
