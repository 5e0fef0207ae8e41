/* dorafs stat [--json] <mountpoint>: the counters of a running mount, asked
 * from its daemon over the mount's control socket (mount_stats.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int64_t get(json_object *o, const char *section, const char *key)
{
	json_object *s, *v;

	if (!json_object_object_get_ex(o, section, &s) || !json_object_object_get_ex(s, key, &v))
		return -1;
	return json_object_get_int64(v);
}

static const char *human(int64_t v, char *buf, size_t size)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", d, units[u]);
	return buf;
}

static void print_human(const char *mp, json_object *o)
{
	json_object *v;
	char a[32], b[32], c[32], d[32];

	printf("mount        %s\n", mp);
	if (json_object_object_get_ex(o, "ufs_uri", &v))
		printf("ufs          %s\n", json_object_get_string(v));
	if (json_object_object_get_ex(o, "page_cache", &v)) {
		printf("page cache   %s of %s used, %lld pages of %s%s\n",
		       human(get(o, "page_cache", "used_bytes"), a, sizeof(a)),
		       human(get(o, "page_cache", "capacity"), b, sizeof(b)),
		       (long long)get(o, "page_cache", "pages"),
		       human(get(o, "page_cache", "page_size"), c, sizeof(c)),
		       json_object_get_boolean(json_object_object_get(v, "degraded")) ? " (DEGRADED: disk refuses writes)" : "");
		printf("             hits %lld, misses %lld, evictions %lld, checksum failures %lld, stale pages dropped %lld\n",
		       (long long)get(o, "page_cache", "hits"), (long long)get(o, "page_cache", "misses"),
		       (long long)get(o, "page_cache", "evictions"), (long long)get(o, "page_cache", "checksum_failures"),
		       (long long)get(o, "page_cache", "stale_drops"));
		printf("             pages written behind the reads %lld, waiting to be written %lld\n",
		       (long long)get(o, "page_cache", "deferred_stores"), (long long)get(o, "page_cache", "store_queue"));
		printf("served       %s from cached pages, %s from pages fetched for the read\n",
		       human(get(o, "page_cache", "bytes_from_cache"), a, sizeof(a)),
		       human(get(o, "page_cache", "bytes_fetched"), d, sizeof(d)));
	} else {
		printf("page cache   off (-o local_data_cache=DIR enables it)\n");
	}
	if (json_object_object_get_ex(o, "metadata_cache", &v))
		printf("metadata     %lld entries, hits %lld (negative %lld), misses %lld, listings %lld hits / %lld misses\n",
		       (long long)get(o, "metadata_cache", "entries"), (long long)get(o, "metadata_cache", "hits"),
		       (long long)get(o, "metadata_cache", "negative_hits"), (long long)get(o, "metadata_cache", "misses"),
		       (long long)get(o, "metadata_cache", "list_hits"), (long long)get(o, "metadata_cache", "list_misses"));
	if (json_object_object_get_ex(o, "membership", &v)) {
		json_object *st = json_object_object_get(v, "status"), *src = json_object_object_get(v, "source");
		printf("workers      %lld live (%s, %s)\n", (long long)get(o, "membership", "live_workers"),
		       src ? json_object_get_string(src) : "?", st ? json_object_get_string(st) : "?");
	}
	if (json_object_object_get_ex(o, "worker_fallback", &v))
		printf("             %s read from workers, %s from the UFS after %lld fallbacks\n",
		       human(get(o, "worker_fallback", "bytes_from_workers"), a, sizeof(a)),
		       human(get(o, "worker_fallback", "bytes_from_ufs"), b, sizeof(b)),
		       (long long)get(o, "worker_fallback", "fallbacks"));
	if (json_object_object_get_ex(o, "ufs", &v)) {
		json_object *req;

		if (json_object_object_get_ex(v, "requests", &req))
			/* A remote store counts requests; bytes include listings. */
			printf("ufs          %lld GET, %lld HEAD, %lld LIST requests, %s received, %lld retries\n",
			       (long long)get(v, "requests", "get"), (long long)get(v, "requests", "head"),
			       (long long)get(v, "requests", "list"), human(get(o, "ufs", "bytes"), a, sizeof(a)),
			       (long long)get(o, "ufs", "retries"));
		else
			printf("ufs reads    %lld reads, %s\n", (long long)get(o, "ufs", "reads"),
			       human(get(o, "ufs", "bytes"), a, sizeof(a)));
	}
}

int cmd_stat(int argc, char **argv)
{
	const char *mp = NULL;
	int as_json = 0, rc = 1;
	char *buf = NULL;
	json_object *o = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: dorafs stat [--json] <mountpoint>\n");
			return 0;
		} else if (argv[i][0] == '-') {
			cli_error("stat", "unknown flag '%s'", argv[i]);
			return 2;
		} else if (mp) {
			cli_error("stat", "unexpected argument '%s'", argv[i]);
			return 2;
		} else
			mp = argv[i];
	}
	if (!mp) {
		cli_error("stat", "missing mount point");
		return 2;
	}
	buf = cli_read_mount_stats("stat", mp);
	if (!buf)
		return 1;
	if (as_json) {
		printf("%s\n", buf);
		rc = 0;
		goto out;
	}
	o = json_tokener_parse(buf);
	if (!o) {
		cli_error("stat", "'%s' returned unreadable counters", mp);
		goto out;
	}
	print_human(mp, o);
	rc = 0;
out:
	json_object_put(o);
	free(buf);
	return rc;
}
