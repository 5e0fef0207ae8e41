/*
 * The read path of a mount, built in one place. From the top:
 *
 *   metadata cache   (meta_cache.c)          attributes, listings, negatives
 *   page cache       (page_cache_source.c)   local on-disk pages (localcache/)
 *   UFS              (ufs_local.c, ...)      the under file system
 *
 * Each is a dfs_source wrapping the next; a layer that is switched off is
 * simply not in the chain.
 */
#include "client.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "localcache.h"
#include "meta_cache.h"
#include "page_cache_source.h"
#include "fallback_source.h"
#include "membership.h"
#include "readahead.h"
#include "worker_ring.h"
#include "worker_source.h"
#include "ufs_local.h"
#include "ufs_s3.h"

struct dfs_client {
	dfs_uri root;
	dfs_source *top;
	dfs_source *ufs;
	dfs_membership *membership;   /* NULL without workers */
	dfs_worker_ring *ring;
	dfs_dir_lister *dirs;         /* streams listings of top */
};

static void cache_log(int level, const char *msg)
{
	fprintf(stderr, "dorafs: %s%s\n", level <= LOG_ERR ? "error: " : level <= LOG_WARNING ? "warning: " : "", msg);
}

static dfs_source *open_ufs(const dfs_uri *root, const dfs_config *cfg, char *err, size_t errlen)
{
	switch (root->kind) {
	case DFS_UFS_LOCAL:
		return dfs_local_source_new(root->path, err, errlen);
	case DFS_UFS_S3:
		return dfs_s3_source_new(root, cfg, err, errlen);
	case DFS_UFS_HDFS:
		break;
	}
	snprintf(err, errlen, "UFS '%s': %s is not supported yet", root->str, root->scheme);
	return NULL;
}

/*
 * With a membership configured, put the Alluxio workers in front of the UFS:
 * fallback(worker picked by consistent hashing, ufs). The membership starts
 * here (its watch thread runs for the mount's life).
 */
static dfs_source *add_workers(dfs_client *c, const dfs_config *cfg, dfs_source *ufs,
			       char *err, size_t errlen)
{
	dfs_worker_conn_options wo = {
		.auth_disabled = cfg->worker_auth_disabled,
		.user = cfg->worker_user,
		.password = cfg->worker_password,
		.rpc_timeout_ms = (int)(cfg->worker_rpc_timeout * 1000),
		.stream_timeout_ms = (int)(cfg->worker_stream_timeout * 1000),
		.chunk_size = (uint32_t)cfg->worker_chunk_size,
		.log = cache_log,
	};
	dfs_worker_picker picker;
	dfs_source *worker, *layer;
	char sub[512];

	c->membership = dfs_membership_new(cfg, err, errlen);
	if (!c->membership)
		return NULL;
	dfs_membership_set_log(c->membership, cache_log);
	if (dfs_membership_start(c->membership, sub, sizeof(sub)) < 0) {
		snprintf(err, errlen, "%s (mount without -o membership to read the UFS only)", sub);
		return NULL;
	}
	c->ring = dfs_worker_ring_new(c->membership, &wo, err, errlen);
	if (!c->ring)
		return NULL;
	dfs_worker_ring_picker(c->ring, &picker);
	worker = dfs_worker_source_new_picker(c->root.str, &picker, err, errlen);
	if (!worker)
		return NULL;
	/* The read-ahead layer (added above this one when enabled) streams. */
	dfs_worker_source_set_exact_ranges(worker, cfg->readahead_max > 0 && cfg->readahead_memory > 0);
	layer = dfs_fallback_source_new(worker, ufs);
	if (!layer) {
		dfs_source_destroy(worker);
		snprintf(err, errlen, "out of memory");
	}
	return layer;
}

/* An S3 object changed under an open file: forget what the caches know of it. */
static void on_stale(void *arg, const char *path)
{
	dfs_client_invalidate(arg, path);
}

int dfs_client_new(const dfs_config *cfg, const char *ufs_uri, dfs_client **out,
		   char *err, size_t errlen)
{
	dfs_client *c = calloc(1, sizeof(*c));
	dfs_source *top, *layer;
	dfs_attr root_attr;
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (dfs_uri_parse(ufs_uri, &c->root, err, errlen) < 0)
		goto fail;
	top = c->ufs = open_ufs(&c->root, cfg, err, errlen);
	if (!top)
		goto fail;
	c->top = top;
	rc = dfs_stat(top, "/", &root_attr);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read UFS root '%s': %s", c->root.str, strerror(-rc));
		goto fail;
	}
	if (!S_ISDIR(root_attr.mode)) {
		snprintf(err, errlen, "UFS root '%s' is not a folder", c->root.str);
		goto fail;
	}
	if (c->root.kind == DFS_UFS_S3)
		dfs_s3_source_on_stale(c->ufs, on_stale, c);

	if (cfg->membership) {
		layer = add_workers(c, cfg, top, err, errlen);
		if (!layer)
			goto fail;
		c->top = top = layer;
	}

	/* Remote sources only: a local folder has the kernel's own read-ahead. */
	if (cfg->readahead_max > 0 && cfg->readahead_memory > 0 &&
	    (c->root.kind != DFS_UFS_LOCAL || c->membership)) {
		layer = dfs_readahead_new(top, cfg->readahead_max, cfg->readahead_memory, cfg->page_size, 16);
		if (!layer) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		c->top = top = layer;
	}

	if (cfg->cache_dir) {
		lc_options lo = {
			.dir = cfg->cache_dir,
			.capacity = cfg->cache_size,
			.page_size = (uint32_t)cfg->page_size,
			.min_free_ratio = cfg->cache_min_free,
			.verify_every_read = cfg->cache_verify,
			.buffered_write = !cfg->cache_direct_write,
			.write_behind = cfg->cache_write_behind,
			.log = cache_log,
		};
		lc_cache *lc;
		char sub[512];

		rc = lc_open(&lo, &lc, sub, sizeof(sub));
		if (rc < 0) {
			snprintf(err, errlen, "local_data_cache '%s': %s", cfg->cache_dir, sub);
			goto fail;
		}
		layer = dfs_page_cache_source_new(top, lc, &c->root);
		if (!layer) {
			lc_close(lc);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		c->top = top = layer;
	}

	if (cfg->meta_cache_size > 0) {
		layer = dfs_meta_cache_new(top, cfg->meta_cache_size, cfg->meta_cache_expire);
		if (!layer) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		c->top = top = layer;
	}
	c->dirs = dfs_dir_lister_new(c->top, 16, 0);
	if (!c->dirs) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	dfs_client_free(c);
	return -1;
}

void dfs_client_free(dfs_client *c)
{
	if (!c)
		return;
	/* Listings still running use the sources; sources hold references
	 * to the ring's connections. */
	dfs_dir_lister_free(c->dirs);
	dfs_source_destroy(c->top);
	dfs_worker_ring_free(c->ring);
	dfs_membership_free(c->membership);
	dfs_uri_free(&c->root);
	free(c);
}

dfs_source *dfs_client_source(dfs_client *c)
{
	return c->top;
}

dfs_dir_lister *dfs_client_dirs(dfs_client *c)
{
	return c->dirs;
}

const dfs_uri *dfs_client_root(const dfs_client *c)
{
	return &c->root;
}

char *dfs_client_stats_json(dfs_client *c)
{
	json_object *o = json_object_new_object();
	char *text;

	json_object_object_add(o, "ufs_uri", json_object_new_string(c->root.str));
	for (dfs_source *s = c->top; s; s = s->inner)
		if (s->ops->stats_json)
			s->ops->stats_json(s, o);
	if (c->membership) {
		char *m = dfs_membership_json(c->membership);
		json_object *mo = m ? json_tokener_parse(m) : NULL;

		if (mo)
			json_object_object_add(o, "membership", mo);
		free(m);
	}
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

int dfs_client_statfs(dfs_client *c, dfs_fs_usage *out)
{
	if (c->ufs->ops->statfs)
		return c->ufs->ops->statfs(c->ufs, out);
	return -ENOSYS;
}

void dfs_client_invalidate(dfs_client *c, const char *path)
{
	for (dfs_source *s = c->top; s; s = s->inner)
		if (s->ops->invalidate) {
			s->ops->invalidate(s, path);
			return; /* a layer passes it on to its inner layers itself */
		}
}
