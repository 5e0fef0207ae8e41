/* Unit tests: Alluxio worker entity JSON and workers files (client/worker_entity.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashring.h"
#include "worker_entity.h"

/* What an Alluxio 3.x worker writes (Gson; subclass fields first). */
static const char *ALLUXIO_JSON =
	"{\"WorkerNetAddress\":{\"Host\":\"worker-0.example\",\"ContainerHost\":\"10.0.0.5\",\"RpcPort\":29999,"
	"\"DataPort\":29997,\"SecureRpcPort\":0,\"NettyDataPort\":29997,\"WebPort\":30000,"
	"\"DomainSocketPath\":\"/run/alluxio.sock\",\"HttpServerPort\":28080},\"State\":\"AUTHORIZED\","
	"\"GenerationNumber\":-1,\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
	"\"ServiceEntityName\":\"worker-f4c597fd-0865-329c-a22e-1ab30e0adf33\"}";

static int parse(const char *s, dfs_worker_entity *e, char *err)
{
	return dfs_worker_entity_parse(s, strlen(s), e, err, 256);
}

static void test_parse_alluxio(void **state)
{
	dfs_worker_entity e;
	char err[256], name[64], id[40];

	(void)state;
	assert_int_equal(parse(ALLUXIO_JSON, &e, err), 0);
	assert_int_equal(e.version, 1);
	assert_int_equal(e.id_len, 16);
	assert_int_equal(e.id[0], 0xf4);
	assert_int_equal(e.id[15], 0x33);
	assert_string_equal(e.addr.host, "worker-0.example");
	assert_string_equal(e.addr.container_host, "10.0.0.5");
	assert_int_equal(e.addr.rpc_port, 29999);
	assert_int_equal(e.addr.data_port, 29997);
	assert_int_equal(e.addr.netty_data_port, 29997);
	assert_int_equal(e.addr.web_port, 30000);
	assert_int_equal(e.addr.http_port, 28080);
	assert_string_equal(e.addr.domain_socket, "/run/alluxio.sock");
	assert_string_equal(e.state, "AUTHORIZED");
	assert_int_equal(e.generation, -1);
	dfs_worker_entity_name(&e, name, sizeof(name));
	assert_string_equal(name, "worker-f4c597fd-0865-329c-a22e-1ab30e0adf33");
	dfs_worker_entity_id_string(&e, id, sizeof(id));
	assert_string_equal(id, "f4c597fd-0865-329c-a22e-1ab30e0adf33");
}

static void test_parse_lenient_like_gson(void **state)
{
	dfs_worker_entity e;
	char err[256];

	(void)state;
	/* Minimal: defaults for every absent field; unknown fields ignored;
	 * numbers as strings (Gson reads them); uppercase hex; blanks after. */
	assert_int_equal(parse("{\"Identity\":{\"identifier\":\"F4C597FD0865329CA22E1AB30E0ADF33\",\"version\":1},"
			       "\"WorkerNetAddress\":{\"Host\":\"h\",\"RpcPort\":\"1234\",\"WebPort\":30000.0,"
			       "\"Extra\":[1,2]},\"Future\":{\"x\":1},\"State\":\"SOMETHING_NEW\"} \n", &e, err), 0);
	assert_int_equal(e.id[0], 0xf4);
	assert_int_equal(e.addr.rpc_port, 1234);
	assert_int_equal(e.addr.web_port, 30000);
	assert_int_equal(e.addr.data_port, 0);
	assert_string_equal(e.addr.container_host, "");
	assert_string_equal(e.state, "");
	assert_int_equal(e.generation, -1);
	/* Gson reads a number or boolean into a String field as its text, a
	 * quoted "29999.0" as an int, and the version with getAsInt(), which
	 * truncates and keeps the low 32 bits. */
	assert_int_equal(parse("{\"Identity\":{\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\",\"version\":1.7},"
			       "\"WorkerNetAddress\":{\"Host\":10,\"ContainerHost\":true,\"RpcPort\":\"29999.0\"}}",
			       &e, err), 0);
	assert_int_equal(e.version, 1);
	assert_string_equal(e.addr.host, "10");
	assert_string_equal(e.addr.container_host, "true");
	assert_int_equal(e.addr.rpc_port, 29999);
	assert_int_equal(parse("{\"Identity\":{\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\",\"version\":4294967297},"
			       "\"WorkerNetAddress\":{}}", &e, err), 0);
	assert_int_equal(e.version, 1);
}

static void test_parse_legacy_identity(void **state)
{
	dfs_worker_entity e;
	char err[256], name[64];

	(void)state;
	assert_int_equal(parse("{\"Identity\":{\"version\":0,\"identifier\":\"0000000000000007\"},"
			       "\"WorkerNetAddress\":{\"Host\":\"h\"}}", &e, err), 0);
	assert_int_equal(e.version, 0);
	assert_int_equal(e.id_len, 8);
	dfs_worker_entity_name(&e, name, sizeof(name));
	assert_string_equal(name, "worker-7");
	assert_int_equal(parse("{\"Identity\":{\"version\":0,\"identifier\":\"fffffffffffffffe\"},"
			       "\"WorkerNetAddress\":{}}", &e, err), 0);
	dfs_worker_entity_name(&e, name, sizeof(name));
	assert_string_equal(name, "worker--2");
}

static void test_parse_rejects(void **state)
{
	static const char *bad[] = {
		"",
		"{",
		"[]",
		"\"x\"",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{}} x",                                   /* trailing data */
		"{\"WorkerNetAddress\":{\"Host\":\"h\"}}",                        /* no identity */
		"{\"Identity\":null,\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":\"1\",\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{}}",                                     /* version as a string */
		"{\"Identity\":{\"version\":2,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329c\"},\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":0,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"g4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":1,\"identifier\":12},\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":[]}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{\"Host\":{}}}",
		"{\"Identity\":{\"version\":1.0e300,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{\"RpcPort\":4294967296}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{\"RpcPort\":1.5}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{\"RpcPort\":\"12x\"}}",
		"{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
		"\"WorkerNetAddress\":{},\"GenerationNumber\":\"many\"}",
	};
	dfs_worker_entity e;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i], &e, err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* A host name longer than any DNS name is refused, not truncated. */
	{
		char big[600];

		snprintf(big, sizeof(big), "{\"Identity\":{\"version\":1,\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\"},"
			 "\"WorkerNetAddress\":{\"Host\":\"%0300d\"}}", 0);
		assert_int_equal(parse(big, &e, err), -1);
	}
	/* Length is honoured: no NUL needed, nothing read past it. */
	{
		char *copy = malloc(strlen(ALLUXIO_JSON));

		assert_non_null(copy);
		memcpy(copy, ALLUXIO_JSON, strlen(ALLUXIO_JSON));
		assert_int_equal(dfs_worker_entity_parse(copy, strlen(ALLUXIO_JSON), &e, err, sizeof(err)), 0);
		assert_int_equal(dfs_worker_entity_parse(copy, strlen(ALLUXIO_JSON) - 1, &e, err, sizeof(err)), -1);
		free(copy);
	}
}

static void test_to_json_round_trip(void **state)
{
	dfs_worker_entity e, e2;
	char err[256], *s;

	(void)state;
	assert_int_equal(parse(ALLUXIO_JSON, &e, err), 0);
	s = dfs_worker_entity_to_json(&e);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"ServiceEntityName\":\"worker-f4c597fd-0865-329c-a22e-1ab30e0adf33\""));
	assert_non_null(strstr(s, "\"identifier\":\"f4c597fd0865329ca22e1ab30e0adf33\""));
	assert_non_null(strstr(s, "\"DomainSocketPath\":\"/run/alluxio.sock\""));
	assert_int_equal(parse(s, &e2, err), 0);
	assert_memory_equal(&e, &e2, sizeof(e));
	free(s);
}

static void test_static_entity(void **state)
{
	dfs_worker_entity e;
	char id[40];

	(void)state;
	/* Printed by Java: UUID.nameUUIDFromBytes("worker-fmvjygixyt-8993".getBytes(UTF_8)). */
	assert_int_equal(dfs_worker_entity_static("worker-fmvjygixyt-8993", 1, 2, 3, 4, &e), 0);
	dfs_worker_entity_id_string(&e, id, sizeof(id));
	assert_string_equal(id, "4f23e7a1-a230-318a-912d-bdf8f78e0aed");
	assert_int_equal(e.addr.rpc_port, 1);
	assert_int_equal(e.addr.data_port, 2);
	assert_int_equal(e.addr.netty_data_port, 2);
	assert_int_equal(e.addr.web_port, 3);
	assert_int_equal(e.addr.http_port, 4);
	assert_int_equal(dfs_worker_entity_static("", 1, 2, 3, 4, &e), -1);
}

static void test_java_string_hash(void **state)
{
	(void)state;
	assert_int_equal(dfs_java_string_hash("", 0), 0);
	assert_int_equal(dfs_java_string_hash("Aa", 2), 2112);
	assert_int_equal(dfs_java_string_hash("BB", 2), 2112);
	assert_int_equal(dfs_java_string_hash("hello", 5), 99162322);
	/* U+1F600 is two UTF-16 units, d83d de00. */
	assert_int_equal(dfs_java_string_hash("\xf0\x9f\x98\x80", 4), 31 * 0xd83d + 0xde00);
	/* é (U+00E9) is one unit. */
	assert_int_equal(dfs_java_string_hash("\xc3\xa9", 2), 0xe9);
}

static char *slurp(const char *name, size_t *len)
{
	char path[4096];
	const char *src = __FILE__, *slash = strrchr(src, '/');
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%.*s/data/membership/%s", slash ? (int)(slash - src) : 1,
		 slash ? src : ".", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_workers_file_java_order(void **state)
{
	size_t len, olen, n, k = 0;
	char *in = slurp("workers_java_order.in", &len), *outs = slurp("workers_java_order.out", &olen);
	char **hosts, err[256], *line, *save = NULL;

	(void)state;
	assert_int_equal(dfs_workers_file_parse(in, len, &hosts, &n, err, sizeof(err)), 0);
	for (line = strtok_r(outs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), id[40];
		dfs_worker_entity e;

		if (line[0] == '#')
			continue;
		assert_non_null(tab);
		*tab = '\0';
		assert_true(k < n);
		assert_string_equal(hosts[k], line);
		assert_int_equal(dfs_worker_entity_static(hosts[k], 1, 2, 3, 4, &e), 0);
		dfs_worker_entity_id_string(&e, id, sizeof(id));
		assert_string_equal(id, tab + 1);
		k++;
	}
	assert_int_equal(k, n);
	assert_int_equal(n, 65);
	free(hosts);
	free(in);
	free(outs);
}

static void test_workers_file_edges(void **state)
{
	char **hosts, err[256];
	size_t n;
	static const char ok[] = "\n# c\n\n  a \r\rb\r\n#x y\nc\n\n\na\n  # d e\n\tc\t";

	(void)state;
	assert_int_equal(dfs_workers_file_parse(ok, sizeof(ok) - 1, &hosts, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);   /* a, b, c (HashSet order: 'a' < 'b' < 'c' by bucket) */
	assert_string_equal(hosts[0], "a");
	assert_string_equal(hosts[1], "b");
	assert_string_equal(hosts[2], "c");
	assert_null(hosts[3]);
	free(hosts);
	assert_int_equal(dfs_workers_file_parse("", 0, &hosts, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(hosts);
	assert_int_equal(dfs_workers_file_parse("a\nb c\n", 6, &hosts, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
	assert_null(hosts);
	assert_int_equal(dfs_workers_file_parse("a\n\xff\xfe\n", 5, &hosts, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "UTF-8"));
	{
		char big[400];

		memset(big, 'h', sizeof(big));
		assert_int_equal(dfs_workers_file_parse(big, sizeof(big), &hosts, &n, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "longer"));
	}
	/* An embedded NUL is a control character: refused like a blank. */
	assert_int_equal(dfs_workers_file_parse("ab\0cd\n", 6, &hosts, &n, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_alluxio),
		cmocka_unit_test(test_parse_lenient_like_gson),
		cmocka_unit_test(test_parse_legacy_identity),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_to_json_round_trip),
		cmocka_unit_test(test_static_entity),
		cmocka_unit_test(test_java_string_hash),
		cmocka_unit_test(test_workers_file_java_order),
		cmocka_unit_test(test_workers_file_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
