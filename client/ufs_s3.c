/*
 * S3 backend: maps mount paths onto object keys under the mount's prefix.
 *
 *   file         an object whose key is prefix + path
 *   directory    a common prefix (key + "/" has objects under it), or a
 *                zero-byte "dir/" marker object
 *   both         a name that is an object AND a prefix ("a" and "a/b") is the
 *                file; the keys under "a/" are hidden. stat and readdir agree.
 *                (The object wins because a stat is then one HEAD, the
 *                cheapest and fastest request, in the common case.)
 *   unreachable  keys with empty, "." or ".." segments ("a//b", "a/../b") and
 *                names over 255 bytes are left out of listings: they can never
 *                name anything outside the mount, nor crash it.
 *
 * Requests: stat = a HEAD, and only if there is no such object, one LIST
 * (prefix="key/", max-keys=1) for a folder; readdir = ListObjectsV2 pages, each
 * entry with size, mtime and ETag so the metadata cache needs no HEAD per
 * file; read = ranged GET with If-Match, checked (s3_request.c).
 * The version of a file is its ETag; a GET that meets another ETag fails
 * with EIO and the path is reported stale, never mixing two versions.
 */
#include "ufs_s3.h"

#include <errno.h>
#include <glib.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "s3_creds.h"
#include "s3_request.h"
#include "s3_xml.h"

#define NAME_MAX_BYTES 255

typedef struct s3_source {
	dfs_source base;
	s3_client *cli;
	char *bucket;
	char *prefix;              /* "" or "some/prefix/" */
	unsigned page_keys;        /* max-keys of readdir pages */
	int64_t mount_ns;          /* mtime shown for folders (S3 has none) */
	void (*stale_fn)(void *arg, const char *path);
	void *stale_arg;
	atomic_uint_fast64_t stale_objects, skipped_keys;
	atomic_bool stale_logged;
} s3_source;

typedef struct s3_handle {
	dfs_handle base;
	char *key;
} s3_handle;

/* Key of a mount path: "/" -> "prefix" (no trailing '/'), "/a/b" -> "prefix" "a/b". */
static char *key_of(const s3_source *s, const char *path)
{
	char *k;

	if (strcmp(path, "/") == 0)
		return strndup(s->prefix, strlen(s->prefix) ? strlen(s->prefix) - 1 : 0);
	return asprintf(&k, "%s%s", s->prefix, path + 1) < 0 ? NULL : k;
}

/* Prefix that lists the children of a folder path. */
static char *dir_prefix_of(const s3_source *s, const char *path)
{
	char *k;

	if (strcmp(path, "/") == 0)
		return strdup(s->prefix);
	return asprintf(&k, "%s%s/", s->prefix, path + 1) < 0 ? NULL : k;
}

const char *dfs_s3_child_name(const char *key, const char *dir_prefix, bool is_prefix, char *buf, size_t buflen)
{
	size_t plen = strlen(dir_prefix), n;
	const char *name;

	if (strncmp(key, dir_prefix, plen) != 0)
		return NULL;
	name = key + plen;
	n = strlen(name);
	if (is_prefix && n && name[n - 1] == '/')
		n--;
	if (n == 0 || n > NAME_MAX_BYTES || n >= buflen || memchr(name, '/', n) || memchr(name, '\0', n))
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	if (strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		return NULL;
	return buf;
}

static void dir_attr(const s3_source *s, dfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->mode = S_IFDIR | 0555;
	a->mtime_ns = s->mount_ns;
}

static void file_attr(const s3_list_item *it, dfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->mode = S_IFREG | 0444;
	a->size = it->size;
	a->mtime_ns = it->mtime_ns < 0 ? 0 : it->mtime_ns;
	snprintf(a->version, sizeof(a->version), "%s", it->etag);
}

/* One ListObjectsV2 request. The query is built in canonical order (sorted
 * names, encoded values) because curl signs it as it is. */
static int list_page(s3_source *s, const char *prefix, const char *token, unsigned max_keys,
		     s3_list_item_cb cb, void *arg, bool *truncated, char **next)
{
	char *ep = s3_encode_query_value(prefix), *et = token ? s3_encode_query_value(token) : NULL;
	char *query = NULL;
	s3_resp resp;
	s3_req req = { .kind = S3_LIST, .key = "" };
	int rc;

	*truncated = false;
	*next = NULL;
	/* encoding-type=url: a name with a character XML 1.0 cannot carry (a
	 * control character) comes escaped instead of breaking the whole page.
	 * Parameters in canonical (sorted) order: curl signs them as given. */
	if (!ep || (token && !et) ||
	    asprintf(&query, "%s%s%sdelimiter=%%2F&encoding-type=url&list-type=2&max-keys=%u&prefix=%s",
		     et ? "continuation-token=" : "", et ? et : "", et ? "&" : "", max_keys, ep) < 0) {
		free(ep);
		free(et);
		return -ENOMEM;
	}
	free(ep);
	free(et);
	req.query = query;
	rc = s3_perform(s->cli, &req, &resp);
	if (rc == 0 && resp.status / 100 != 2)
		rc = -EIO;
	if (rc == 0)
		rc = s3_xml_parse_list(resp.body ? resp.body : "", resp.body_len, cb, arg, truncated, next);
	if (rc == -ENOENT && strcmp(resp.err_code, "NoSuchBucket") == 0)
		rc = -ENXIO; /* the caller words it: the bucket, not the key, is missing */
	s3_resp_free(&resp);
	free(query);
	return rc;
}

/* ---- stat ---- */

/* Counts the items of a listing page (does anything exist under a prefix?). */
static int count_cb(void *arg, const s3_list_item *it)
{
	(void)it;
	(*(unsigned *)arg)++;
	return 0;
}

static int head_attr(s3_source *s, const char *key, dfs_attr *out)
{
	s3_resp resp;
	s3_req req = { .kind = S3_HEAD, .key = key };
	int rc = s3_perform(s->cli, &req, &resp);

	if (rc == 0 && resp.status / 100 != 2)
		rc = -EIO;
	if (rc == 0) {
		memset(out, 0, sizeof(*out));
		out->mode = S_IFREG | 0444;
		out->size = resp.content_length < 0 ? 0 : (uint64_t)resp.content_length;
		out->mtime_ns = resp.last_modified < 0 ? 0 : resp.last_modified * 1000000000LL;
		snprintf(out->version, sizeof(out->version), "%s", resp.etag);
	}
	s3_resp_free(&resp);
	return rc;
}

/* Is there any key under dir_prefix (a "dir/" marker counts)? 0 yes, -ENOENT no. */
static int prefix_exists(s3_source *s, const char *dir_prefix)
{
	unsigned n = 0;
	char *next = NULL;
	bool truncated;
	int rc = list_page(s, dir_prefix, NULL, 1, count_cb, &n, &truncated, &next);

	free(next);
	if (rc < 0)
		return rc;
	return n ? 0 : -ENOENT;
}

static int s3_stat(dfs_source *src, const char *path, dfs_attr *out)
{
	s3_source *s = (s3_source *)src;
	char *key = NULL, *dir = NULL;
	int rc;

	if (strcmp(path, "/") == 0) {
		/* The root is a folder as long as the bucket answers. */
		rc = prefix_exists(s, s->prefix);
		if (rc == 0 || rc == -ENOENT) {
			dir_attr(s, out);
			rc = 0;
		}
		goto out;
	}
	key = key_of(s, path);
	dir = dir_prefix_of(s, path);
	if (!key || !dir) {
		rc = -ENOMEM;
		goto out;
	}
	/* A HEAD first: most stats that no listing answered are of files, and
	 * an object wins over a prefix of the same name (see the top). */
	rc = head_attr(s, key, out);
	if (rc != -ENOENT)
		goto out;
	rc = prefix_exists(s, dir);
	if (rc == 0)
		dir_attr(s, out);
out:
	free(key);
	free(dir);
	return rc == -ENXIO ? -ENOENT : rc;
}

/* ---- readdir ---- */

/*
 * Entries are handed on page by page, so a reader of a big folder sees its
 * first names after one LIST rather than after all of them. Within a page
 * files go first and a folder with a file's name is hidden (see the top).
 * Across pages the rule still holds because ListObjectsV2 is in key order:
 * the object "a" sorts before the common prefix "a/", so it is never in a
 * later page. A server that breaks that order gets the name once, as
 * whichever came first (the late one is counted in skipped_keys).
 */
typedef struct list_scan {
	s3_source *s;
	const char *dir_prefix;
	GHashTable *seen;          /* names handed on: name -> GINT(1 file, 2 dir) */
	GPtrArray *page_dirs;      /* this page's folder names */
	GPtrArray *page_files;     /* this page's file_ent */
	bool any;                  /* some key exists under the prefix */
} list_scan;

typedef struct file_ent {
	dfs_attr attr;
	char name[];
} file_ent;

static int list_cb(void *arg, const s3_list_item *it)
{
	list_scan *ls = arg;
	char buf[NAME_MAX_BYTES + 1];
	const char *name = dfs_s3_child_name(it->key, ls->dir_prefix, it->is_prefix, buf, sizeof(buf));

	ls->any = true;
	if (!name) {
		/* The folder's own marker ("dir/") is expected; anything else is a
		 * key that cannot be a name here. */
		if (strcmp(it->key, ls->dir_prefix) != 0)
			atomic_fetch_add(&ls->s->skipped_keys, 1);
		return 0;
	}
	if (it->is_prefix) {
		char *copy = g_strdup(name);
		g_ptr_array_add(ls->page_dirs, copy);
	} else {
		file_ent *f = malloc(sizeof(*f) + strlen(name) + 1);

		if (!f)
			return -ENOMEM;
		file_attr(it, &f->attr);
		strcpy(f->name, name);
		g_ptr_array_add(ls->page_files, f);
	}
	return 0;
}

/* Hand on a name not handed on before; kind 1 file, 2 folder. */
static int emit(list_scan *ls, const char *name, int kind, const dfs_attr *a, dfs_list_cb cb, void *arg)
{
	gpointer had = g_hash_table_lookup(ls->seen, name);

	if (had) {
		/* A folder under a file's name is the expected case; the other
		 * way round only comes from a server out of key order. */
		if (!(GPOINTER_TO_INT(had) == 1 && kind == 2))
			atomic_fetch_add(&ls->s->skipped_keys, 1);
		return 0;
	}
	g_hash_table_insert(ls->seen, g_strdup(name), GINT_TO_POINTER(kind));
	return cb(arg, name, a);
}

static int flush_page(list_scan *ls, dfs_list_cb cb, void *arg)
{
	dfs_attr da;
	int rc = 0;

	for (guint i = 0; i < ls->page_files->len && rc == 0; i++) {
		file_ent *f = g_ptr_array_index(ls->page_files, i);
		rc = emit(ls, f->name, 1, &f->attr, cb, arg);
	}
	dir_attr(ls->s, &da);
	for (guint i = 0; i < ls->page_dirs->len && rc == 0; i++)
		rc = emit(ls, g_ptr_array_index(ls->page_dirs, i), 2, &da, cb, arg);
	g_ptr_array_set_size(ls->page_files, 0);
	g_ptr_array_set_size(ls->page_dirs, 0);
	return rc;
}

static int s3_list(dfs_source *src, const char *path, dfs_list_cb cb, void *arg)
{
	s3_source *s = (s3_source *)src;
	list_scan ls = { .s = s };
	char *prefix = dir_prefix_of(s, path), *token = NULL;
	/* Every continuation token of this listing: a server that hands one
	 * out twice would otherwise keep us listing forever. */
	GHashTable *tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	bool truncated = true;
	dfs_attr da;
	int rc = 0;

	ls.dir_prefix = prefix;
	ls.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ls.page_dirs = g_ptr_array_new_with_free_func(g_free);
	ls.page_files = g_ptr_array_new_with_free_func(free);
	if (!prefix) {
		rc = -ENOMEM;
		goto out;
	}
	while (truncated) {
		char *next = NULL;

		rc = list_page(s, prefix, token, s->page_keys, list_cb, &ls, &truncated, &next);
		free(token);
		token = next;
		if (rc < 0)
			goto out;
		if (truncated) {
			if (g_hash_table_contains(tokens, token)) {
				fprintf(stderr, "dorafs: s3: LIST of '%s' returned a continuation token "
					"it had already returned; the listing fails instead of looping\n", prefix);
				rc = -EIO;
				goto out;
			}
			g_hash_table_add(tokens, g_strdup(token));
		}
		if (!ls.any)
			continue; /* nothing to hand on, and maybe not a folder at all */
		rc = flush_page(&ls, cb, arg);
		if (rc != 0)
			goto out;
	}
	if (!ls.any && strcmp(path, "/") != 0) {
		/* No key under it: not a folder (maybe a file, maybe nothing). */
		rc = s3_stat(src, path, &da);
		rc = rc < 0 ? rc : S_ISDIR(da.mode) ? 0 : -ENOTDIR;
	}
out:
	free(token);
	free(prefix);
	g_hash_table_destroy(tokens);
	g_hash_table_destroy(ls.seen);
	g_ptr_array_unref(ls.page_dirs);
	g_ptr_array_unref(ls.page_files);
	return rc == -ENXIO ? -ENOENT : rc;
}

/* ---- open, read ---- */

static int s3_open(dfs_source *src, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	s3_source *s = (s3_source *)src;
	s3_handle *h = calloc(1, sizeof(*h));
	dfs_attr a;
	int rc;

	if (!h)
		return -ENOMEM;
	if (attr && attr->version[0]) {
		a = *attr; /* fresh from a listing or stat above us: no request */
	} else {
		rc = s3_stat(src, path, &a);
		if (rc < 0)
			goto fail;
	}
	if (S_ISDIR(a.mode)) {
		rc = -EISDIR;
		goto fail;
	}
	h->key = key_of(s, path);
	h->base.path = strdup(path);
	if (!h->key || !h->base.path) {
		rc = -ENOMEM;
		goto fail;
	}
	h->base.src = src;
	h->base.attr = a;
	*out = &h->base;
	return 0;
fail:
	free(h->key);
	free(h->base.path);
	free(h);
	return rc;
}

static void report_stale(s3_source *s, s3_handle *h, bool gone)
{
	atomic_fetch_add(&s->stale_objects, 1);
	if (!atomic_exchange(&s->stale_logged, true))
		fprintf(stderr, "dorafs: s3: '%s' %s while open; reads of it fail until it is "
			"reopened (logged once)\n", h->key, gone ? "was deleted" : "changed (new ETag)");
	if (s->stale_fn)
		s->stale_fn(s->stale_arg, h->base.path);
}

static ssize_t s3_pread(dfs_handle *dh, void *buf, size_t len, uint64_t off)
{
	s3_handle *h = (s3_handle *)dh;
	s3_source *s = (s3_source *)dh->src;
	s3_resp resp;
	s3_req req = { .kind = S3_GET, .key = h->key, .dst = buf, .range_off = off, .range_len = len,
		       .if_match = dh->attr.version[0] ? dh->attr.version : NULL };
	ssize_t rc;

	/* dfs_pread has clamped len to the size at open. */
	rc = s3_perform(s->cli, &req, &resp);
	if (rc == 0 && resp.status == 416)
		rc = -ESTALE; /* shorter than at open: another version */
	else if (rc == 0)
		rc = (ssize_t)resp.got;
	s3_resp_free(&resp);
	if (rc == -ESTALE) {
		report_stale(s, h, false);
		rc = -EIO;
	} else if (rc == -ENOENT) {
		/* Deleted since it was opened: the read fails (ENOENT), and the
		 * cached attributes go, so stat and ls stop showing it. */
		report_stale(s, h, true);
	}
	return rc;
}

static void s3_close(dfs_handle *dh)
{
	s3_handle *h = (s3_handle *)dh;

	free(h->key);
	free(h->base.path);
	free(h);
}

static void s3_stats_json(dfs_source *src, void *obj)
{
	s3_source *s = (s3_source *)src;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string("s3"));
	json_object_object_add(o, "bucket", json_object_new_string(s->bucket));
	json_object_object_add(o, "prefix", json_object_new_string(s->prefix));
	s3_client_stats_json(s->cli, o);
	json_object_object_add(o, "stale_objects", json_object_new_int64((int64_t)atomic_load(&s->stale_objects)));
	json_object_object_add(o, "skipped_keys", json_object_new_int64((int64_t)atomic_load(&s->skipped_keys)));
	json_object_object_add(obj, "ufs", o);
}

static void s3_destroy(dfs_source *src)
{
	s3_source *s = (s3_source *)src;

	s3_client_free(s->cli);
	free(s->bucket);
	free(s->prefix);
	free(s);
}

static const dfs_source_ops s3_ops = {
	.name = "s3",
	.stat = s3_stat,
	.list = s3_list,
	.open = s3_open,
	.pread = s3_pread,
	.close = s3_close,
	.stats_json = s3_stats_json,
	.destroy = s3_destroy,
};

void dfs_s3_source_on_stale(dfs_source *src, void (*fn)(void *arg, const char *path), void *arg)
{
	s3_source *s = (s3_source *)src;

	s->stale_fn = fn;
	s->stale_arg = arg;
}

dfs_source *dfs_s3_source_new(const dfs_uri *root, const dfs_config *cfg, char *err, size_t errlen)
{
	s3_source *s = calloc(1, sizeof(*s));
	s3_creds creds = { 0 };
	s3_settings set;
	struct timespec now;
	dfs_attr a;
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &s3_ops;
	s->page_keys = cfg->s3_list_page_size ? (unsigned)cfg->s3_list_page_size : 1000;
	clock_gettime(CLOCK_REALTIME, &now);
	s->mount_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	s->bucket = strdup(root->authority ? root->authority : "");
	/* "/a/b" -> "a/b/": the prefix every key of the mount starts with. */
	if (!s->bucket || asprintf(&s->prefix, "%s%s", root->path + 1, root->path[1] ? "/" : "") < 0) {
		s->prefix = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!*s->bucket) {
		snprintf(err, errlen, "S3 URI '%s' names no bucket", root->str);
		goto fail;
	}
	if (s3_creds_resolve(cfg, &creds, err, errlen) < 0)
		goto fail;
	set = (s3_settings){
		.endpoint = cfg->s3_endpoint, .region = creds.region, .bucket = s->bucket,
		.addressing = cfg->s3_addressing ? cfg->s3_addressing : "auto",
		.connect_timeout = cfg->s3_connect_timeout, .stall_timeout = cfg->s3_stall_timeout,
		.max_retries = (unsigned)cfg->s3_max_retries, .retry_budget = cfg->s3_retry_budget,
		.max_connections = (unsigned)cfg->s3_max_connections,
	};
	if (s3_client_new(&set, &creds, &s->cli, err, errlen) < 0)
		goto fail;
	/* One LIST now, so a wrong bucket or key fails the mount with one clear
	 * line (and no log line per failed request before it). */
	s3_client_set_quiet(s->cli, true);
	rc = s3_stat(&s->base, "/", &a);
	s3_client_set_quiet(s->cli, false);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "bucket '%s' does not exist at %s", s->bucket, s3_client_endpoint(s->cli));
		goto fail;
	}
	if (rc == -EACCES) {
		snprintf(err, errlen, "access to bucket '%s' at %s denied (credentials: %s); check the access "
			 "key and secret", s->bucket, s3_client_endpoint(s->cli), s3_client_creds_source(s->cli));
		goto fail;
	}
	if (rc < 0) {
		char why[200];

		if (rc == -EIO)
			s3_client_last_failure(s->cli, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s", strerror(-rc));
		snprintf(err, errlen, "cannot list bucket '%s' at %s: %s", s->bucket, s3_client_endpoint(s->cli), why);
		goto fail;
	}
	return &s->base;
fail:
	s3_creds_free(&creds);
	s3_destroy(&s->base);
	return NULL;
}
