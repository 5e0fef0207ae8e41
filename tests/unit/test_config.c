/* Option parsing: sizes, durations, aliases, files, precedence, errors. */
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

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(dfs_parse_size("512MB", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(dfs_parse_size("20GB", &v), 0);
	assert_int_equal(v, 20ULL << 30);
	assert_int_equal(dfs_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(dfs_parse_size("1.5k", &v), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(dfs_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(dfs_parse_size("2tb", &v), 0);
	assert_int_equal(v, 2ULL << 40);
	assert_int_equal(dfs_parse_size("12XB", &v), -1);
	assert_int_equal(dfs_parse_size("", &v), -1);
	assert_int_equal(dfs_parse_size("-1MB", &v), -1);
	assert_int_equal(dfs_parse_size("inf", &v), -1);
	assert_int_equal(dfs_parse_size("nan", &v), -1);
	assert_int_equal(dfs_parse_size("0x10", &v), -1);
	assert_int_equal(dfs_parse_size("99999999999TB", &v), -1);
	assert_int_equal(dfs_parse_size(NULL, &v), -1);
}

static void test_durations(void **state)
{
	double d;

	(void)state;
	assert_int_equal(dfs_parse_duration("600", &d), 0);
	assert_true(d == 600);
	assert_int_equal(dfs_parse_duration("2day", &d), 0);
	assert_true(d == 172800);
	assert_int_equal(dfs_parse_duration("10min", &d), 0);
	assert_true(d == 600);
	assert_int_equal(dfs_parse_duration("1500ms", &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(dfs_parse_duration("never", &d), 0);
	assert_true(d < 0);
	assert_int_equal(dfs_parse_duration("soon", &d), -1);
	assert_int_equal(dfs_parse_duration("5 years", &d), -1);
	assert_int_equal(dfs_parse_duration("-5", &d), -1);
}

static void test_defaults_and_aliases(void **state)
{
	dfs_config c;
	char err[256];

	(void)state;
	dfs_config_init(&c);
	assert_null(c.cache_dir);
	assert_int_equal(c.cache_size, 512ULL << 20);
	assert_int_equal(c.page_size, 1ULL << 20);
	assert_int_equal(c.meta_cache_size, 20000);
	assert_true(c.meta_cache_expire < 0);
	assert_true(c.attr_timeout == 600 && c.entry_timeout == 600);
	assert_false(c.kernel_cache);

	assert_int_equal(dfs_config_apply_list(&c, "local_data_cache=/tmp/x,local_cache_size=1GB,kernel_cache", err,
					       sizeof(err)), 0);
	assert_string_equal(c.cache_dir, "/tmp/x");
	assert_int_equal(c.cache_size, 1ULL << 30);
	assert_true(c.kernel_cache);
	assert_int_equal(dfs_config_apply_list(&c, "alluxio.user.client.cache.size=2GB,kernel_cache=false", err,
					       sizeof(err)), 0);
	assert_int_equal(c.cache_size, 2ULL << 30);
	assert_false(c.kernel_cache);
	dfs_config_free(&c);
}

static void test_errors_name_the_bad_value(void **state)
{
	dfs_config c;
	char err[256];

	(void)state;
	dfs_config_init(&c);
	assert_int_equal(dfs_config_apply_list(&c, "local_data_cache_size=12XB", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "12XB"));
	assert_non_null(strstr(err, "local_data_cache_size"));
	assert_int_equal(dfs_config_apply_list(&c, "bogus=1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(dfs_config_apply_list(&c, "local_data_cache", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(dfs_config_apply_list(&c, "kernel_cache=maybe", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "maybe"));
	assert_int_equal(dfs_config_apply_list(&c, "=5", err, sizeof(err)), -1);
	assert_int_equal(dfs_config_apply_list(&c, "page_size=100", err, sizeof(err)), -1);
	assert_int_equal(dfs_config_apply_list(&c, "local_data_cache_min_free=1.5", err, sizeof(err)), -1);
	/* An unknown alluxio.* key is an error on the command line, ignored in a file. */
	assert_int_equal(dfs_config_set(&c, "alluxio.master.hostname", "x", false, err, sizeof(err)), -1);
	assert_int_equal(dfs_config_set(&c, "alluxio.master.hostname", "x", true, err, sizeof(err)), 0);
	dfs_config_free(&c);
}

static void test_file_and_precedence(void **state)
{
	char path[] = "/tmp/dorafs-conf-XXXXXX", list[128], err[256];
	char *lists[2];
	dfs_config c;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# comment\n! also a comment\n\n  local_data_cache = /cache/a \n"
		   "local_cache_size: 64MB\nattr_timeout 5\nalluxio.worker.rpc.port=29999\nkernel_cache\n");
	fclose(f);
	snprintf(list, sizeof(list), "conf=%s,attr_timeout=7", path);
	lists[0] = list;
	lists[1] = "local_data_cache_size=32MB";
	dfs_config_init(&c);
	assert_int_equal(dfs_config_from_options(&c, lists, 2, err, sizeof(err)), 0);
	assert_string_equal(c.cache_dir, "/cache/a");
	assert_int_equal(c.cache_size, 32ULL << 20); /* command line wins */
	assert_true(c.attr_timeout == 7);
	assert_true(c.kernel_cache);
	assert_string_equal(c.conf_file, path);
	dfs_config_free(&c);

	f = fopen(path, "w");
	fprintf(f, "attr_timeout=5\nlocal_data_cache_size=lots\n");
	fclose(f);
	dfs_config_init(&c);
	assert_int_equal(dfs_config_from_options(&c, lists, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "lots"));
	dfs_config_free(&c);
	unlink(path);

	dfs_config_init(&c);
	assert_int_equal(dfs_config_from_options(&c, lists, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	dfs_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_defaults_and_aliases),
		cmocka_unit_test(test_errors_name_the_bad_value),
		cmocka_unit_test(test_file_and_precedence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
