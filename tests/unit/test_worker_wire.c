/*
 * Wire tests of the worker protocol: every request dorafs sends is compared
 * byte for byte with a golden encoding made by `protoc --encode` from
 * proto/ (tests/data/proto/regen.sh), and server responses encoded from a
 * "newer" schema (extra and future fields) must decode, unknown fields
 * skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/block_worker.pb-c.h"
#include "grpc/common.pb-c.h"
#include "grpc/file_system_master.pb-c.h"
#include "grpc/sasl_server.pb-c.h"
#include "grpc_util.h"
#include "worker_rpc.h"
#include "worker_wire.h"

#define URI "s3://bucket/dir/file"
#define CLIENT_ID "0f8fad5b-d9cb-469f-a165-70867728950e"

/* Goldens live in tests/data/proto next to this file's folder. */
static uint8_t *golden(const char *name, size_t *len)
{
	char src[4096], path[4096];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../data/proto/%s", dirname(src), name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open golden %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void check(const char *name, uint8_t *got, size_t got_len)
{
	size_t n;
	uint8_t *want = golden(name, &n);

	if (got_len != n || memcmp(got, want, n) != 0) {
		size_t i;
		for (i = 0; i < n && i < got_len && got[i] == want[i]; i++)
			;
		fail_msg("%s: %zu bytes vs golden %zu, first difference at byte %zu", name, got_len, n, i);
	}
	free(want);
	free(got);
}

static void test_get_status_request(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(dfs_wire_get_status(URI, &b, &n), 0);
	check("get_status_request.bin", b, n);
}

static void test_list_status_request(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(dfs_wire_list_status("s3://bucket/dir", &b, &n), 0);
	check("list_status_request.bin", b, n);
}

static void test_exists_request(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(dfs_wire_exists(URI, &b, &n), 0);
	check("exists_request.bin", b, n);
}

static void test_cache_data_request(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(dfs_wire_cache_data(URI, 0, 1048576, false, &b, &n), 0);
	check("cache_data_request.bin", b, n);
}

static void test_read_requests(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	/* the first request must not carry offset_received */
	assert_int_equal(dfs_wire_read_request(URI, 5000000, 4096, 1000000, 1048576, -1, &b, &n), 0);
	check("read_request_first.bin", b, n);
	assert_int_equal(dfs_wire_read_request(URI, 5000000, 4096, 1000000, 1048576, 1052672, &b, &n), 0);
	check("read_request_ack.bin", b, n);
}

static void test_sasl_challenge(void **state)
{
	uint8_t *b;
	size_t n;

	(void)state;
	assert_int_equal(dfs_wire_sasl_challenge("", "alice", "noPassword", CLIENT_ID, "dorafs-test", &b, &n), 0);
	check("sasl_challenge.bin", b, n);
}

static void test_sasl_success_decodes(void **state)
{
	size_t n;
	uint8_t *b = golden("sasl_success.bin", &n);
	Alluxio__Grpc__Sasl__SaslMessage *m;

	(void)state;
	m = alluxio__grpc__sasl__sasl_message__unpack(NULL, n, b);
	assert_non_null(m);
	assert_true(m->has_messagetype);
	assert_int_equal(m->messagetype, ALLUXIO__GRPC__SASL__SASL_MESSAGE_TYPE__SUCCESS);
	assert_string_equal(m->clientid, CLIENT_ID);
	alluxio__grpc__sasl__sasl_message__free_unpacked(m, NULL);
	free(b);
}

static void test_get_status_response_newer(void **state)
{
	size_t n;
	uint8_t *b = golden("get_status_response_newer.bin", &n);
	Alluxio__Grpc__File__GetStatusPResponse *r;
	Alluxio__Grpc__File__FileInfo *fi;

	(void)state;
	r = alluxio__grpc__file__get_status_presponse__unpack(NULL, n, b);
	assert_non_null(r);
	fi = r->fileinfo;
	assert_non_null(fi);
	assert_string_equal(fi->name, "file");
	assert_string_equal(fi->path, URI);
	assert_int_equal(fi->length, 5000000);
	assert_false(fi->folder);
	assert_int_equal(fi->mode, 0644);
	assert_int_equal(fi->lastmodificationtimems, 1700000000123ll);
	assert_string_equal(fi->owner, "alice");
	assert_string_equal(fi->contenthash, "etag-123");
	assert_string_equal(fi->ufstype, "s3");
	assert_int_equal(fi->inalluxiopercentage, 100);
	/* acl, xattr, block infos and the future fields were skipped */
	assert_true(fi->base.n_unknown_fields >= 5);
	alluxio__grpc__file__get_status_presponse__free_unpacked(r, NULL);
	free(b);
}

static void test_list_status_response_newer(void **state)
{
	size_t n;
	uint8_t *b = golden("list_status_response_newer.bin", &n);
	Alluxio__Grpc__File__ListStatusPResponse *r;

	(void)state;
	r = alluxio__grpc__file__list_status_presponse__unpack(NULL, n, b);
	assert_non_null(r);
	assert_int_equal(r->n_fileinfos, 2);
	assert_string_equal(r->fileinfos[0]->name, "a");
	assert_int_equal(r->fileinfos[0]->length, 1);
	assert_string_equal(r->fileinfos[1]->name, "sub");
	assert_true(r->fileinfos[1]->folder);
	assert_int_equal(r->fileinfos[1]->mode, 0755);
	alluxio__grpc__file__list_status_presponse__free_unpacked(r, NULL);
	free(b);
}

static void test_read_response_newer(void **state)
{
	size_t n, dl;
	uint8_t *b = golden("read_response_newer.bin", &n);
	const uint8_t *d;

	(void)state;
	assert_int_equal(dfs_grpc_parse_read_response(b, n, &d, &dl), 0);
	assert_int_equal(dl, strlen("hello, chunk"));
	assert_memory_equal(d, "hello, chunk", dl);
	/* and protobuf-c agrees */
	{
		Alluxio__Grpc__Block__ReadResponse *r = alluxio__grpc__block__read_response__unpack(NULL, n, b);
		assert_non_null(r);
		assert_non_null(r->chunk);
		assert_int_equal(r->chunk->data.len, dl);
		alluxio__grpc__block__read_response__free_unpacked(r, NULL);
	}
	/* every truncation is an error or an empty chunk, never a crash */
	{
		size_t cut;
		for (cut = 0; cut < n; cut++) {
			int rc = dfs_grpc_parse_read_response(b, cut, &d, &dl);
			assert_true(rc == 0 || rc == -EBADMSG);
			if (rc == 0)
				assert_true(d >= b && d + dl <= b + cut);
		}
	}
	free(b);
}

static void test_read_response_empty(void **state)
{
	const uint8_t empty[1] = { 0 };
	const uint8_t no_data[2] = { 0x0a, 0x00 };   /* chunk {} */
	const uint8_t *d;
	size_t dl = 99;

	(void)state;
	assert_int_equal(dfs_grpc_parse_read_response(empty, 0, &d, &dl), 0);
	assert_int_equal(dl, 0);
	assert_int_equal(dfs_grpc_parse_read_response(no_data, 2, &d, &dl), 0);
	assert_int_equal(dl, 0);
}

static void test_pmode(void **state)
{
	Alluxio__Grpc__PMode p;
	uint8_t *b;
	size_t n;
	uint32_t m, back;

	(void)state;
	assert_int_equal(dfs_wire_pack_pmode(0754, &b, &n), 0);
	check("pmode_0754.bin", b, n);
	dfs_wire_pmode(0754, &p);
	assert_int_equal(p.ownerbits, ALLUXIO__GRPC__BITS__ALL);
	assert_int_equal(p.groupbits, ALLUXIO__GRPC__BITS__READ_EXECUTE);
	assert_int_equal(p.otherbits, ALLUXIO__GRPC__BITS__READ);
	for (m = 0; m < 0777; m++) {
		dfs_wire_pmode(m, &p);
		assert_int_equal(dfs_wire_mode_from_pmode(&p, &back), 0);
		assert_int_equal(back, m);
	}
	p.groupbits = (Alluxio__Grpc__Bits)0;
	assert_int_equal(dfs_wire_mode_from_pmode(&p, &back), -EINVAL);
}

static void test_status_errno(void **state)
{
	(void)state;
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_OK), 0);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_NOT_FOUND), ENOENT);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_PERMISSION_DENIED), EACCES);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_ALREADY_EXISTS), EEXIST);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_UNIMPLEMENTED), ENOTSUP);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_UNAVAILABLE), DFS_ETRYOTHER);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_DEADLINE_EXCEEDED), DFS_ETRYOTHER);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_INTERNAL), EIO);
	assert_int_equal(dfs_grpc_status_errno(GRPC_STATUS_DATA_LOSS), EIO);
	assert_string_equal(dfs_grpc_status_name(GRPC_STATUS_UNAVAILABLE), "UNAVAILABLE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_status_request),
		cmocka_unit_test(test_list_status_request),
		cmocka_unit_test(test_exists_request),
		cmocka_unit_test(test_cache_data_request),
		cmocka_unit_test(test_read_requests),
		cmocka_unit_test(test_sasl_challenge),
		cmocka_unit_test(test_sasl_success_decodes),
		cmocka_unit_test(test_get_status_response_newer),
		cmocka_unit_test(test_list_status_response_newer),
		cmocka_unit_test(test_read_response_newer),
		cmocka_unit_test(test_read_response_empty),
		cmocka_unit_test(test_pmode),
		cmocka_unit_test(test_status_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
