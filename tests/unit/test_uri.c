/* UFS URIs and AlluxioURI-style path normalisation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uri.h"

static void check_norm(const char *in, const char *want)
{
	char buf[256];

	strcpy(buf, in);
	assert_int_equal(dfs_path_normalize(buf), 0);
	assert_string_equal(buf, want);
}

static void test_normalize(void **state)
{
	char rel[] = "a/b";

	(void)state;
	check_norm("/", "/");
	check_norm("//", "/");
	check_norm("/a//b///c/", "/a/b/c");
	check_norm("/a/./b/.", "/a/b");
	check_norm("/a/b/../c", "/a/c");
	check_norm("/../../x", "/x");
	check_norm("/a/..", "/");
	check_norm("/a/..b/c", "/a/..b/c");
	check_norm("/with space/日本", "/with space/日本");
	assert_int_equal(dfs_path_normalize(rel), -1);
}

static void check_uri(const char *in, dfs_ufs_kind kind, const char *str, const char *auth, const char *path)
{
	dfs_uri u;
	char err[256];

	assert_int_equal(dfs_uri_parse(in, &u, err, sizeof(err)), 0);
	assert_int_equal(u.kind, kind);
	assert_string_equal(u.str, str);
	if (auth)
		assert_string_equal(u.authority, auth);
	assert_string_equal(u.path, path);
	dfs_uri_free(&u);
}

static void test_parse(void **state)
{
	dfs_uri u;
	char err[256];

	(void)state;
	check_uri("s3://bucket/datasets/imagenet/", DFS_UFS_S3, "s3://bucket/datasets/imagenet", "bucket",
		  "/datasets/imagenet");
	check_uri("s3://bucket", DFS_UFS_S3, "s3://bucket/", "bucket", "/");
	check_uri("S3://b//x/./y", DFS_UFS_S3, "s3://b/x/y", "b", "/x/y");
	check_uri("hdfs://nn:8020/data", DFS_UFS_HDFS, "hdfs://nn:8020/data", "nn:8020", "/data");
	check_uri("file:///data/x/", DFS_UFS_LOCAL, "file:///data/x", "", "/data/x");
	check_uri("/data//x/", DFS_UFS_LOCAL, "/data/x", NULL, "/data/x");

	assert_int_equal(dfs_uri_parse("gopher://x/y", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "gopher"));
	assert_int_equal(dfs_uri_parse("s3:///nobucket", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bucket"));
	assert_int_equal(dfs_uri_parse("file://host/x", &u, err, sizeof(err)), -1);
	assert_int_equal(dfs_uri_parse("", &u, err, sizeof(err)), -1);
	assert_int_equal(dfs_uri_parse(NULL, &u, err, sizeof(err)), -1);
}

static void test_join(void **state)
{
	dfs_uri u;
	char err[256], *s;

	(void)state;
	assert_int_equal(dfs_uri_parse("s3://bucket/prefix", &u, err, sizeof(err)), 0);
	s = dfs_uri_join(&u, "/a/b c");
	assert_string_equal(s, "s3://bucket/prefix/a/b c");
	free(s);
	s = dfs_uri_join(&u, "/");
	assert_string_equal(s, "s3://bucket/prefix");
	free(s);
	dfs_uri_free(&u);

	assert_int_equal(dfs_uri_parse("s3://bucket/", &u, err, sizeof(err)), 0);
	s = dfs_uri_join(&u, "/k");
	assert_string_equal(s, "s3://bucket/k");
	free(s);
	dfs_uri_free(&u);

	assert_int_equal(dfs_uri_parse("/", &u, err, sizeof(err)), 0);
	s = dfs_uri_join(&u, "/k");
	assert_string_equal(s, "/k");
	free(s);
	dfs_uri_free(&u);
}

static void test_path_child(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(dfs_path_child(buf, sizeof(buf), "/", "a"), 0);
	assert_string_equal(buf, "/a");
	assert_int_equal(dfs_path_child(buf, sizeof(buf), "/d", "x y"), 0);
	assert_string_equal(buf, "/d/x y");
	assert_int_equal(dfs_path_child(buf, sizeof(buf), "/d", "abcd"), 0); /* 7 bytes and NUL */
	assert_int_equal(dfs_path_child(buf, sizeof(buf), "/d", "abcde"), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_path_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
