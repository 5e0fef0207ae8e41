/* The control socket name shared by the mount daemon and the CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "control_name.h"

/* The name after the leading NUL, as a C string. */
static void name_of(const char *mp, char *out)
{
	struct sockaddr_un a;
	socklen_t len = dfs_control_addr(mp, &a);

	assert_int_equal(a.sun_family, AF_UNIX);
	assert_int_equal(a.sun_path[0], '\0');
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 1 + DFS_CONTROL_NAME_LEN);
	memcpy(out, a.sun_path + 1, DFS_CONTROL_NAME_LEN);
	out[DFS_CONTROL_NAME_LEN] = '\0';
}

static void test_name(void **state)
{
	char a[64], b[64];

	(void)state;
	/* The name is an interface (an older CLI, a sidecar's script): pin it. */
	name_of("/mnt/data", a);
	assert_string_equal(a, "dorafs/d0462e1dde1667e0");
	name_of("/mnt/data2", b);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(b, DFS_CONTROL_PREFIX, strlen(DFS_CONTROL_PREFIX)), 0);
	assert_int_equal(strspn(b + strlen(DFS_CONTROL_PREFIX), "0123456789abcdef"), 16);
}

static void check_canonical(const char *in, const char *want)
{
	char *c = dfs_control_canonical(in);

	assert_non_null(c);
	assert_string_equal(c, want);
	free(c);
}

static void test_canonical(void **state)
{
	char dir[] = "/tmp/dorafs-ctl-XXXXXX", sub[64], link[64], want[PATH_MAX], *real;

	(void)state;
	assert_non_null(mkdtemp(dir));
	real = realpath(dir, NULL);
	assert_non_null(real);
	snprintf(sub, sizeof(sub), "%s/mnt", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink("mnt", link), 0);
	snprintf(want, sizeof(want), "%s/mnt", real);

	/* A symlink, '..' and a trailing '/' all name the same mount. */
	check_canonical(sub, want);
	check_canonical(link, want);
	snprintf(sub, sizeof(sub), "%s/mnt/../mnt//", dir);
	check_canonical(sub, want);
	/* A path that does not exist here is taken as given, normalised. */
	check_canonical("/nonexistent-dorafs/./a//b/../c/", "/nonexistent-dorafs/a/c");
	/* A relative path that does not exist cannot be made canonical. */
	assert_null(dfs_control_canonical("nonexistent-dorafs/a"));

	unlink(link);
	snprintf(sub, sizeof(sub), "%s/mnt", dir);
	rmdir(sub);
	rmdir(dir);
	free(real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
