/* AlluxioURI-compatible normalisation of the UFS URIs sent to workers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "worker_uri.h"

static void norm(const char *in, const char *want)
{
	char out[256];

	assert_int_equal(dfs_alluxio_uri_normalize(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_normalize(void **state)
{
	(void)state;
	norm("s3://bucket/dir/file", "s3://bucket/dir/file");
	norm("s3://bucket//dir///file", "s3://bucket/dir/file");       /* collapse // */
	norm("s3://bucket/dir/file/", "s3://bucket/dir/file");          /* strip trailing / */
	norm("s3://bucket/", "s3://bucket/");                           /* but not the root's */
	norm("s3://bucket/a/./b/../c", "s3://bucket/a/c");              /* . and .. */
	norm("hdfs://nn:8020/a\\b", "hdfs://nn:8020/a/b");              /* \ -> / */
	norm("file:///tmp/x/", "file:///tmp/x");                        /* empty authority kept */
	norm("/local/path//x", "/local/path/x");                        /* no scheme */
	norm("/", "/");
	norm("s3://b/../x", "s3://b/../x");                             /* as java.net.URI keeps it */
}

static void test_join(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(dfs_ufs_uri_join("s3://bucket/prefix", "/dir/file", out, sizeof(out)), 0);
	assert_string_equal(out, "s3://bucket/prefix/dir/file");
	assert_int_equal(dfs_ufs_uri_join("s3://bucket/prefix/", "/", out, sizeof(out)), 0);
	assert_string_equal(out, "s3://bucket/prefix");
	assert_int_equal(dfs_ufs_uri_join("s3://bucket", "/", out, sizeof(out)), 0);
	assert_string_equal(out, "s3://bucket/");
	assert_int_equal(dfs_ufs_uri_join("s3://bucket", "/a b/ü", out, sizeof(out)), 0);
	assert_string_equal(out, "s3://bucket/a b/ü");
}

static void test_too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(dfs_alluxio_uri_normalize("s3://bucket/long", out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(dfs_ufs_uri_join("s3://b", "/x", out, 4), -ENAMETOOLONG);
	assert_int_equal(dfs_ufs_uri_join("", "/x", out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
