/*
 * dorafs workers [-o opt,...] [--json] [--follow]: the cluster's workers as
 * the membership (etcd or a static file) gives them: identity, address,
 * ports, live or lost, and where the list came from.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "hashring.h"
#include "membership.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void workers_usage(FILE *out)
{
	fprintf(out,
		"usage: dorafs workers [-o opt[=value],...] [--json] [--follow]\n"
		"       dorafs workers --mount MNT [--json]\n\n"
		"Lists the Alluxio workers of the cluster, read the way Alluxio's clients\n"
		"read them (etcd or a static workers file), with the same options and\n"
		"config file as 'dorafs mount', e.g.\n"
		"  dorafs workers -o membership=ETCD,etcd_endpoints=http://h1:2379;http://h2:2379\n"
		"  dorafs workers -o membership=STATIC,workers_file=/etc/alluxio/workers\n"
		"  dorafs workers -o conf=/etc/alluxio/alluxio-site.properties\n\n"
		"  -o opts     options (may be repeated; see 'dorafs mount --help')\n"
		"  --json      one JSON object\n"
		"  --follow    keep watching; print the list again on every change\n"
		"              (with --json: one object per line) until interrupted\n"
		"  --mount MNT the list a running mount uses (its last known list\n"
		"              while etcd is unreachable)\n");
}

/* A membership (not yet read) from the command line's -o lists; NULL after
 * an error line. */
struct dfs_membership *cli_membership_from_options(const char *cmd, char **lists, size_t nlists,
						   struct dfs_config *cfg)
{
	char err[1024];
	dfs_membership *m;

	if (dfs_config_from_options(cfg, lists, nlists, err, sizeof(err)) < 0) {
		cli_error(cmd, "%s", err);
		return NULL;
	}
	cli_scrub_secrets(lists, nlists); /* `workers --follow` lives long */
	m = dfs_membership_new(cfg, err, sizeof(err));
	if (!m) {
		cli_error(cmd, "%s", err);
		return NULL;
	}
	return m;
}

static void print_table(dfs_membership *m)
{
	dfs_membership_status st;
	dfs_worker_list *l = dfs_membership_snapshot(m);
	size_t live = 0;
	char when[64] = "never";

	dfs_membership_status_get(m, &st);
	if (st.last_ok) {
		struct tm tm;

		if (localtime_r(&st.last_ok, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	for (size_t i = 0; l && i < l->n; i++)
		live += l->w[i].live;
	printf("membership  %s from %s\n", dfs_membership_type_name(st.type), st.source);
	printf("policy      %s\n", hr_policy_name((hr_policy)st.policy));
	printf("status      %s, last read %s%s%s\n",
	       !st.loaded ? "UNAVAILABLE" : st.stale ? "STALE (showing the last known list)" : "ok", when,
	       st.stale ? ": " : "", st.stale ? st.error : "");
	printf("workers     %zu live, %zu lost\n", live, l ? l->n - live : 0);
	if (l && l->n) {
		printf("\n%-36s  %-24s %6s %6s %6s %6s  %s\n", "IDENTITY", "HOST", "RPC", "DATA", "WEB", "HTTP",
		       "STATE");
		for (size_t i = 0; i < l->n; i++) {
			const dfs_worker *w = &l->w[i];
			char id[40];

			dfs_worker_entity_id_string(&w->e, id, sizeof(id));
			printf("%-36s  %-24s %6d %6d %6d %6d  %s\n", id, w->e.addr.host, w->e.addr.rpc_port,
			       w->e.addr.data_port, w->e.addr.web_port, w->e.addr.http_port, w->live ? "live" : "lost");
		}
	}
	dfs_worker_list_unref(l);
	fflush(stdout);
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int(v) : 0;
}

/* The membership a running mount holds: its last known list even while etcd
 * is down. Same table (or JSON) as a one-shot read. */
static int print_from_mount(const char *mp, int as_json)
{
	char *text = cli_read_mount_stats("workers", mp);
	json_object *all = text ? json_tokener_parse(text) : NULL, *m, *ws;
	int rc = 1;

	if (!text)
		return 1;
	if (!all || !json_object_object_get_ex(all, "membership", &m)) {
		cli_error("workers", "the mount at '%s' has no worker membership (mounted without -o membership)", mp);
		goto out;
	}
	if (as_json) {
		printf("%s\n", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = 0;
		goto out;
	}
	printf("membership  %s from %s (as the mount at %s sees it)\n", jstr(m, "membership"), jstr(m, "source"), mp);
	printf("policy      %s\n", jstr(m, "policy"));
	printf("status      %s%s%s\n", strcmp(jstr(m, "status"), "stale") == 0 ? "STALE (showing the last known list)"
		: jstr(m, "status"), *jstr(m, "error") ? ": " : "", jstr(m, "error"));
	if (json_object_object_get_ex(m, "workers", &ws) && json_object_get_type(ws) == json_type_array) {
		size_t n = json_object_array_length(ws);

		printf("workers     %d live, %zu lost\n", jint(m, "live_workers"), n - (size_t)jint(m, "live_workers"));
		if (n)
			printf("\n%-36s  %-24s %6s %6s %6s %6s  %s\n", "IDENTITY", "HOST", "RPC", "DATA", "WEB", "HTTP",
			       "STATE");
		for (size_t i = 0; i < n; i++) {
			json_object *w = json_object_array_get_idx(ws, i), *live;

			printf("%-36s  %-24s %6d %6d %6d %6d  %s\n", jstr(w, "identity"), jstr(w, "host"),
			       jint(w, "rpc_port"), jint(w, "data_port"), jint(w, "web_port"), jint(w, "http_port"),
			       json_object_object_get_ex(w, "live", &live) && json_object_get_boolean(live) ? "live"
													   : "lost");
		}
	}
	rc = 0;
out:
	json_object_put(all);
	free(text);
	return rc;
}

static int print_json(dfs_membership *m)
{
	char *s = dfs_membership_json(m);

	if (!s)
		return -1;
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	return 0;
}

int cmd_workers(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "options", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'F' },
		{ "mount", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char **lists = calloc((size_t)argc + 1, sizeof(char *));
	size_t nlists = 0;
	int c, rc = 2, as_json = 0, follow = 0;
	char err[1024];
	dfs_config cfg;
	dfs_membership *m = NULL;
	const char *mount = NULL;

	dfs_config_init(&cfg);
	if (!lists) {
		cli_error("workers", "out of memory");
		rc = 1;
		goto out;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			lists[nlists++] = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'F':
			follow = 1;
			break;
		case 'm':
			mount = optarg;
			break;
		case 'h':
			workers_usage(stdout);
			rc = 0;
			goto out;
		case ':':
			cli_error("workers", "option '-%c' needs a value", optopt);
			goto out;
		default:
			cli_error("workers", "unknown flag '%s' (see 'dorafs workers --help')", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		cli_error("workers", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (mount) {
		if (nlists || follow) {
			cli_error("workers", "--mount reads the mount's own list: it takes no -o or --follow");
			goto out;
		}
		rc = print_from_mount(mount, as_json);
		goto out;
	}
	m = cli_membership_from_options("workers", lists, nlists, &cfg);
	if (!m)
		goto out;
	{
		dfs_membership_status st;

		dfs_membership_status_get(m, &st);
		if (st.type == DFS_MEMBERSHIP_NONE) {
			cli_error("workers", "no worker membership configured (-o membership=ETCD,etcd_endpoints=URL "
				  "or -o membership=STATIC,workers_file=FILE)");
			goto out;
		}
	}
	rc = 1;
	if (!follow) {
		if (dfs_membership_load(m, err, sizeof(err)) < 0) {
			cli_error("workers", "%s", err);
			goto out;
		}
		if (as_json ? print_json(m) < 0 : (print_table(m), 0)) {
			cli_error("workers", "out of memory");
			goto out;
		}
		rc = 0;
		goto out;
	}
	{
		struct sigaction sa;
		uint64_t shown_gen = 0;
		int shown_state = -1;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		/* The watch thread logs and retries on its own; a first failure
		 * is reported below like any later one. */
		if (dfs_membership_start(m, err, sizeof(err)) < 0 && !as_json)
			cli_error("workers", "%s (retrying)", err);
		while (!stop_requested) {
			dfs_membership_status st;
			int state;

			dfs_membership_status_get(m, &st);
			state = !st.loaded ? 0 : st.stale ? 1 : 2;
			if (st.generation != shown_gen || state != shown_state) {
				shown_gen = st.generation;
				shown_state = state;
				if (as_json) {
					if (print_json(m) < 0)
						break;
				} else {
					print_table(m);
					printf("\n");
				}
			}
			usleep(100 * 1000);
		}
		rc = 0;
	}
out:
	dfs_membership_free(m);
	dfs_config_free(&cfg);
	free(lists);
	return rc;
}
