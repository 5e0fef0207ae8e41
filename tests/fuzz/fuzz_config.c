/* libFuzzer harness: option lists, size/duration values and UFS URIs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256];
	dfs_config c;
	dfs_uri u;
	uint64_t v;
	double d;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	dfs_config_init(&c);
	(void)dfs_config_apply_list(&c, s, err, sizeof(err));
	dfs_config_free(&c);
	(void)dfs_parse_size(s, &v);
	(void)dfs_parse_duration(s, &d);
	if (dfs_uri_parse(s, &u, err, sizeof(err)) == 0) {
		char *j = dfs_uri_join(&u, "/a/b");
		free(j);
		dfs_uri_free(&u);
	}
	if (s[0] == '/')
		(void)dfs_path_normalize(s);
	free(s);
	return 0;
}
