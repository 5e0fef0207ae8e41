/*
 * libFuzzer harness: Alluxio worker entity JSON (etcd values written by
 * anyone with etcd access) and static workers files.  A parsed entity must
 * survive a round trip through dfs_worker_entity_to_json unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker_entity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dfs_worker_entity e, e2;
	char err[256], name[64], **hosts = NULL;
	size_t n = 0;

	/* Exactly size bytes, no NUL: the parsers must honour the length. */
	if (dfs_worker_entity_parse((const char *)data, size, &e, err, sizeof(err)) == 0) {
		char *js = dfs_worker_entity_to_json(&e);

		dfs_worker_entity_name(&e, name, sizeof(name));
		if (js) {
			if (dfs_worker_entity_parse(js, strlen(js), &e2, err, sizeof(err)) != 0 ||
			    memcmp(&e.addr, &e2.addr, sizeof(e.addr)) != 0 || e.version != e2.version ||
			    e.id_len != e2.id_len || memcmp(e.id, e2.id, e.id_len) != 0)
				abort();
			free(js);
		}
	}
	if (dfs_workers_file_parse((const char *)data, size, &hosts, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (dfs_worker_entity_static(hosts[i], 1, 2, 3, 4, &e) != 0 || strlen(hosts[i]) == 0)
				abort();
		free(hosts);
	}
	(void)dfs_java_string_hash((const char *)data, size);
	return 0;
}
