/*
 * Unit tests: etcd gateway client (client/etcd_client.c) without an etcd:
 * answer parsers, the watch stream decoder fed in every possible split,
 * prefix range ends, endpoint validation and unreachable endpoints.
 * (tests/integration/test_membership.py runs it against a real etcd.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "etcd_client.h"

/* etcd 3.4's answers, as measured (platform-notes §4): int64 as strings,
 * base64 keys and values, default fields omitted. */
static const char *RANGE =
	"{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\","
	"\"revision\":\"3\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L3dvcmtlcnMvdzE=\",\"create_revision\":\"2\","
	"\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"eyJhIjoxfQ==\",\"lease\":\"7668682466629665550\"},"
	"{\"key\":\"L3dvcmtlcnMvdzI=\",\"create_revision\":\"3\",\"mod_revision\":\"3\",\"version\":\"1\"}],"
	"\"count\":\"2\"}";

static void test_parse_range(void **state)
{
	etcd_kv *kvs;
	size_t n;
	int64_t rev;
	char err[256];

	(void)state;
	assert_int_equal(etcd_parse_range(RANGE, strlen(RANGE), &kvs, &n, &rev, err, sizeof(err)), 0);
	assert_int_equal(rev, 3);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "/workers/w1");
	assert_int_equal(kvs[0].key_len, 11);
	assert_string_equal(kvs[0].value, "{\"a\":1}");
	assert_int_equal(kvs[0].lease, 7668682466629665550LL);   /* > 2^53: no doubles */
	assert_int_equal(kvs[0].mod_revision, 2);
	assert_string_equal(kvs[1].key, "/workers/w2");
	assert_int_equal(kvs[1].value_len, 0);          /* empty value: field omitted */
	assert_string_equal(kvs[1].value, "");
	etcd_kvs_free(kvs, n);

	/* No match: no "kvs", no "count". */
	assert_int_equal(etcd_parse_range("{\"header\":{\"revision\":\"9\"}}", 28, &kvs, &n, &rev, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(kvs);
	assert_int_equal(rev, 9);

	{
		static const char *bad[] = { "", "[", "[]", "{\"kvs\":{}}", "{\"kvs\":[1]}",
					     "{\"kvs\":[{\"key\":5}]}", "{\"header\":{\"revision\":\"x\"}}",
					     "{\"kvs\":[{\"key\":\"YQ==\",\"lease\":\"1e5\"}]}" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (etcd_parse_range(bad[i], strlen(bad[i]), &kvs, &n, &rev, err, sizeof(err)) != -1)
				fail_msg("accepted %s", bad[i]);
			assert_null(kvs);
		}
	}
}

static void test_prefix_end(void **state)
{
	char out[32];
	size_t n;

	(void)state;
	etcd_prefix_end("abc", 3, out, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "abd", 3);
	etcd_prefix_end("a\xff\xff", 3, out, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(out, "b", 1);
	etcd_prefix_end("\xff", 1, out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	etcd_prefix_end("", 0, out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	etcd_prefix_end("/ServiceDiscovery/C/", 20, out, &n);
	assert_memory_equal(out, "/ServiceDiscovery/C0", 20);
}

/* A watch stream: created, a PUT, a DELETE and a PUT in one response. */
static const char *STREAM =
	"{\"result\":{\"header\":{\"revision\":\"5\"},\"created\":true}}\n"
	"{\"result\":{\"header\":{\"revision\":\"6\"},\"events\":[{\"kv\":{\"key\":\"L3cvYQ==\",\"create_revision\":"
	"\"6\",\"mod_revision\":\"6\",\"version\":\"1\",\"value\":\"eA==\",\"lease\":\"12\"}}]}}\n"
	"\n"
	"{\"result\":{\"header\":{\"revision\":\"8\"},\"events\":[{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3cvYQ==\","
	"\"mod_revision\":\"7\"}},{\"kv\":{\"key\":\"L3cvYg==\",\"mod_revision\":\"8\",\"value\":\"eQ==\"}}]}}\n";

typedef struct {
	int calls, puts, deletes;
	int64_t last_rev;
	char keys[8][16];
	int stop_after;
} seen_t;

static int on_events(void *arg, const etcd_event *ev, size_t n, int64_t rev)
{
	seen_t *s = arg;

	s->calls++;
	s->last_rev = rev;
	for (size_t i = 0; i < n; i++) {
		int k = s->puts + s->deletes;

		if (k < 8)
			snprintf(s->keys[k], sizeof(s->keys[k]), "%c%s", ev[i].type == ETCD_EV_PUT ? '+' : '-',
				 ev[i].kv.key);
		if (ev[i].type == ETCD_EV_PUT)
			s->puts++;
		else
			s->deletes++;
	}
	return s->stop_after && s->calls >= s->stop_after;
}

static void test_watch_decoder_every_split(void **state)
{
	size_t len = strlen(STREAM);

	(void)state;
	/* Objects can be split anywhere between network reads. */
	for (size_t cut1 = 0; cut1 <= len; cut1 += 1) {
		for (size_t cut2 = cut1; cut2 <= len; cut2 += 37) {
			seen_t s = { 0 };
			etcd_watch_decoder *d = etcd_watch_decoder_new(on_events, &s);
			bool created = false;
			char err[256];

			assert_non_null(d);
			assert_int_equal(etcd_watch_decoder_feed(d, STREAM, cut1, &created, err, sizeof(err)), 0);
			assert_int_equal(etcd_watch_decoder_feed(d, STREAM + cut1, cut2 - cut1, &created, err, sizeof(err)), 0);
			assert_int_equal(etcd_watch_decoder_feed(d, STREAM + cut2, len - cut2, &created, err, sizeof(err)), 0);
			assert_true(created);
			assert_int_equal(s.calls, 2);
			assert_int_equal(s.puts, 2);
			assert_int_equal(s.deletes, 1);
			assert_int_equal(s.last_rev, 8);
			assert_string_equal(s.keys[0], "+/w/a");
			assert_string_equal(s.keys[1], "-/w/a");
			assert_string_equal(s.keys[2], "+/w/b");
			etcd_watch_decoder_free(d);
		}
	}
}

static void test_watch_decoder_stop_and_errors(void **state)
{
	seen_t s = { .stop_after = 1 };
	etcd_watch_decoder *d = etcd_watch_decoder_new(on_events, &s);
	bool created = false;
	char err[256];

	(void)state;
	assert_non_null(d);
	assert_int_equal(etcd_watch_decoder_feed(d, STREAM, strlen(STREAM), &created, err, sizeof(err)), 1);
	assert_int_equal(s.calls, 1);
	etcd_watch_decoder_free(d);

	{
		static const char *bad[] = {
			"{\"result\":{\"canceled\":true,\"compact_revision\":\"40\"}}\n",
			"{\"error\":{\"grpc_code\":16,\"message\":\"etcdserver: invalid auth token\"}}\n",
			"not json\n",
			"{\"result\":{\"events\":{}}}\n",
			"{\"result\":{\"events\":[{\"kv\":{\"key\":7}}]}}\n",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			seen_t s2 = { 0 };

			d = etcd_watch_decoder_new(on_events, &s2);
			assert_non_null(d);
			err[0] = '\0';
			assert_int_equal(etcd_watch_decoder_feed(d, bad[i], strlen(bad[i]), &created, err, sizeof(err)), -1);
			assert_true(err[0] != '\0');
			etcd_watch_decoder_free(d);
		}
	}
	/* compaction is named */
	d = etcd_watch_decoder_new(on_events, &s);
	assert_non_null(d);
	assert_int_equal(etcd_watch_decoder_feed(d, "{\"result\":{\"canceled\":true,\"compact_revision\":\"40\"}}\n",
						 53, &created, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "compacted"));
	etcd_watch_decoder_free(d);
}

static void test_endpoints(void **state)
{
	etcd_options o = { 0 };
	etcd_client *c;
	char err[256];

	(void)state;
	/* ',' (files), ';' and blanks (-o, where ',' separates options). */
	o.endpoints = "http://h1:2379, http://h2:2379/;https://h3:2379 ;";
	c = etcd_client_new(&o, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(etcd_client_endpoint_count(c), 3);
	assert_string_equal(etcd_client_endpoint(c, 0), "http://h1:2379");
	assert_string_equal(etcd_client_endpoint(c, 1), "http://h2:2379");
	assert_string_equal(etcd_client_endpoint(c, 2), "https://h3:2379");
	assert_string_equal(etcd_client_current(c), "http://h1:2379");
	etcd_client_free(c);

	{
		static const char *bad[] = { "h1:2379", "ftp://h:1", "http://", "http://h:99999", "http://h:1/v3",
					     "http://h1:2379;nonsense" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			o.endpoints = bad[i];
			assert_null(etcd_client_new(&o, err, sizeof(err)));
			assert_non_null(strstr(err, "bad etcd endpoint"));
		}
	}
	o.endpoints = " ; ";
	assert_null(etcd_client_new(&o, err, sizeof(err)));
	o.endpoints = NULL;
	assert_null(etcd_client_new(&o, err, sizeof(err)));
	o.endpoints = "http://h:1";
	o.username = "root";
	assert_null(etcd_client_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "together"));
}

static void test_unreachable(void **state)
{
	etcd_options o = { .endpoints = "http://127.0.0.1:1;http://127.0.0.1:2", .timeout = 2 };
	etcd_client *c = etcd_client_new(&o, NULL, 0);
	etcd_kv *kvs;
	size_t n;
	int64_t rev, id;
	char err[512];
	time_t t0 = time(NULL);

	(void)state;
	assert_non_null(c);
	assert_int_equal(etcd_range_prefix(c, "/a", 2, &kvs, &n, &rev, err, sizeof(err)), -1);
	/* Both endpoints are named. */
	assert_non_null(strstr(err, "http://127.0.0.1:1"));
	assert_non_null(strstr(err, "http://127.0.0.1:2"));
	assert_null(kvs);
	assert_int_equal(etcd_put(c, "k", 1, "v", 1, 0, err, sizeof(err)), -1);
	assert_int_equal(etcd_lease_grant(c, 5, &id, err, sizeof(err)), -1);
	assert_true(time(NULL) - t0 < 10);
	etcd_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_watch_decoder_every_split),
		cmocka_unit_test(test_watch_decoder_stop_and_errors),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
