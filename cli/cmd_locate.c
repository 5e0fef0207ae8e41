/*
 * dorafs locate [-o opt,...] [-n N] [--root URI] [--raw] [--json] <path-or-uri>...
 * For each argument: the normalised UFS URI (the hash key) and the workers
 * the selection policy picks for it, best first, so that dorafs's choice can
 * be compared with Alluxio's (Java or Python client) on the same cluster.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "membership.h"
#include "uri.h"

#define MAX_N 64

static void locate_usage(FILE *out)
{
	fprintf(out,
		"usage: dorafs locate [-o opt[=value],...] [-n N] [--root URI] [--raw] [--json] <path-or-uri>...\n\n"
		"Prints the normalised UFS URI of each argument (the key Alluxio hashes) and\n"
		"the workers the selection policy picks for it, best first.  Takes the same\n"
		"options and config file as 'dorafs mount' (membership, etcd_endpoints,\n"
		"workers_file, worker_selection_policy, hash_virtual_nodes, ...).\n\n"
		"  -o opts      options (may be repeated)\n"
		"  -n N         how many workers to list (default 1, what Alluxio reads from; max %d)\n"
		"  --root URI   the UFS root that relative or mount paths are under\n"
		"               (e.g. --root s3://bucket/prefix data/a.bin)\n"
		"  --raw        hash each argument exactly as given (no normalisation),\n"
		"               as Alluxio's Python client does\n"
		"  --json       a JSON array, one object per argument\n", MAX_N);
}

/* The hash key of one argument; caller frees.  NULL after an error line. */
static char *key_of(const char *arg, const dfs_uri *root, int raw)
{
	char err[512], *key = NULL, *path = NULL;
	dfs_uri u;

	if (raw)
		return strdup(arg);
	if (root && !strstr(arg, "://")) {
		size_t n = strlen(arg) + 2;

		path = malloc(n);
		if (!path)
			goto nomem;
		snprintf(path, n, "%s%s", arg[0] == '/' ? "" : "/", arg);
		if (dfs_path_normalize(path) < 0) {
			cli_error("locate", "bad path '%s'", arg);
			goto out;
		}
		key = dfs_uri_join(root, path);
		if (!key)
			goto nomem;
		goto out;
	}
	if (dfs_uri_parse(arg, &u, err, sizeof(err)) < 0) {
		cli_error("locate", "%s", err);
		goto out;
	}
	key = strdup(u.str);
	dfs_uri_free(&u);
	if (!key)
		goto nomem;
	goto out;
nomem:
	cli_error("locate", "out of memory");
out:
	free(path);
	return key;
}

int cmd_locate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "options", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "root", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	char **lists = calloc((size_t)argc + 1, sizeof(char *));
	size_t nlists = 0, n = 1;
	int c, rc = 2, as_json = 0, raw = 0;
	const char *root_arg = NULL;
	char err[1024];
	dfs_config cfg;
	dfs_uri root = { 0 };
	bool have_root = false;
	dfs_membership *m = NULL;
	dfs_worker *sel = NULL;
	json_object *arr = NULL;

	dfs_config_init(&cfg);
	if (!lists) {
		cli_error("locate", "out of memory");
		rc = 1;
		goto out;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			lists[nlists++] = optarg;
			break;
		case 'n': {
			uint64_t v;

			if (dfs_parse_uint(optarg, &v) < 0 || v < 1 || v > MAX_N) {
				cli_error("locate", "bad -n '%s' (a number from 1 to %d)", optarg, MAX_N);
				goto out;
			}
			n = (size_t)v;
			break;
		}
		case 'j':
			as_json = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 'R':
			root_arg = optarg;
			break;
		case 'h':
			locate_usage(stdout);
			rc = 0;
			goto out;
		case ':':
			cli_error("locate", "option '-%c' needs a value", optopt);
			goto out;
		default:
			cli_error("locate", "unknown flag '%s' (see 'dorafs locate --help')", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		cli_error("locate", "missing path or URI");
		goto out;
	}
	if (root_arg) {
		if (dfs_uri_parse(root_arg, &root, err, sizeof(err)) < 0) {
			cli_error("locate", "--root: %s", err);
			goto out;
		}
		have_root = true;
	}
	m = cli_membership_from_options("locate", lists, nlists, &cfg);
	if (!m)
		goto out;
	{
		dfs_membership_status st;

		dfs_membership_status_get(m, &st);
		if (st.type == DFS_MEMBERSHIP_NONE) {
			cli_error("locate", "no worker membership configured (-o membership=ETCD,etcd_endpoints=URL "
				  "or -o membership=STATIC,workers_file=FILE)");
			goto out;
		}
	}
	rc = 1;
	if (dfs_membership_load(m, err, sizeof(err)) < 0) {
		cli_error("locate", "%s", err);
		goto out;
	}
	{
		dfs_worker_list *l = dfs_membership_snapshot(m);
		size_t live = l ? l->n_live : 0;
		dfs_membership_status st;

		dfs_worker_list_unref(l);
		if (live == 0) {
			dfs_membership_status_get(m, &st);
			cli_error("locate", "no live workers in %s", st.source);
			goto out;
		}
	}
	sel = calloc(n, sizeof(*sel));
	if (!sel || (as_json && !(arr = json_object_new_array()))) {
		cli_error("locate", "out of memory");
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		char *key = key_of(argv[i], have_root ? &root : NULL, raw);
		int k;

		if (!key)
			goto out;
		k = dfs_membership_select(m, key, n, sel);
		if (as_json) {
			json_object *o = json_object_new_object(), *ws = json_object_new_array();

			if (!o || !ws || json_object_object_add(o, "uri", json_object_new_string(key)) < 0 ||
			    json_object_array_add(arr, o) < 0) {
				json_object_put(o);
				json_object_put(ws);
				free(key);
				cli_error("locate", "out of memory");
				goto out;
			}
			if (json_object_object_add(o, "workers", ws) < 0) {
				json_object_put(ws);
				free(key);
				cli_error("locate", "out of memory");
				goto out;
			}
			for (int j = 0; j < k; j++) {
				char *s = dfs_worker_json(&sel[j]);
				json_object *w = s ? json_tokener_parse(s) : NULL;

				free(s);
				if (!w || json_object_array_add(ws, w) < 0) {
					json_object_put(w);
					free(key);
					cli_error("locate", "out of memory");
					goto out;
				}
			}
		} else {
			printf("%s\n", key);
			for (int j = 0; j < k; j++) {
				char id[40];

				dfs_worker_entity_id_string(&sel[j].e, id, sizeof(id));
				printf("  %d. %s:%d  %s\n", j + 1, sel[j].e.addr.host, sel[j].e.addr.rpc_port, id);
			}
		}
		free(key);
	}
	if (as_json)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = 0;
out:
	json_object_put(arr);
	free(sel);
	dfs_membership_free(m);
	if (have_root)
		dfs_uri_free(&root);
	dfs_config_free(&cfg);
	free(lists);
	return rc;
}
