/*
 * Metadata cache layer.
 *
 * Entries are keyed by mount path and hold either attributes, a negative
 * result (the errno, e.g. ENOENT) or both attributes and a listing of the
 * directory's children. A listing also fills one attribute entry per child,
 * so that `ls -l` after `ls` asks the source nothing more, and lets a stat
 * of a name missing from a fresh listing answer ENOENT without a request.
 *
 * Locking: one mutex guards the table and the LRU queue. It is never held
 * across a call to the inner source nor across a listing callback (listings
 * are reference-counted and iterated unlocked). The byte read path does not
 * come here: open handles carry their attributes.
 */
#include "meta_cache.h"

#include <errno.h>
#include <glib.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uri.h"

typedef struct listing {
	atomic_int refs;
	size_t n;
	char **names;
	dfs_attr *attrs;
	GHashTable *has;       /* the names (not owned): "is it listed?" in O(1);
	                        * built by the first listed_absent, under the lock */
} listing;

typedef struct entry {
	char *path;
	int err;               /* 0: attr valid; else a cached -errno */
	dfs_attr attr;
	listing *list;         /* directory children, if listed */
	double born;           /* monotonic seconds of the attributes' fetch */
	double list_born;      /* ... and of the listing's: a fresh stat of a
	                        * folder must not make its old listing fresh */
	GList link;            /* in the LRU queue; data points to the entry */
} entry;

typedef struct meta_cache {
	dfs_source base;
	pthread_mutex_t lock;
	GHashTable *table;     /* path -> entry* (owns) */
	GQueue lru;            /* head: most recently used */
	uint64_t max_entries;
	double expire_s;
	uint64_t hits, misses, neg_hits, evictions, list_hits, list_misses;
} meta_cache;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void listing_unref(listing *l)
{
	if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->has)
		g_hash_table_destroy(l->has);
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->attrs);
	free(l);
}

static void entry_free(gpointer p)
{
	entry *e = p;

	listing_unref(e->list);
	free(e->path);
	free(e);
}

static bool fresh_at(const meta_cache *mc, double born, double now)
{
	return mc->expire_s < 0 || now - born < mc->expire_s;
}

static bool fresh(const meta_cache *mc, const entry *e, double now)
{
	return fresh_at(mc, e->born, now);
}

static bool fresh_list(const meta_cache *mc, const entry *e, double now)
{
	return e->list && fresh_at(mc, e->list_born, now);
}

/* Called with the lock held. */
static void drop_entry(meta_cache *mc, entry *e)
{
	g_queue_unlink(&mc->lru, &e->link);
	g_hash_table_remove(mc->table, e->path);
}

static void touch(meta_cache *mc, entry *e)
{
	g_queue_unlink(&mc->lru, &e->link);
	g_queue_push_head_link(&mc->lru, &e->link);
}

/* Find or create the entry for path; called with the lock held. */
static entry *upsert(meta_cache *mc, const char *path, double now)
{
	entry *e = g_hash_table_lookup(mc->table, path);

	if (e) {
		touch(mc, e);
		e->born = now;
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path))) {
		free(e);
		return NULL;
	}
	e->born = now;
	e->link.data = e;
	g_hash_table_insert(mc->table, e->path, e);
	g_queue_push_head_link(&mc->lru, &e->link);
	while (mc->lru.length > mc->max_entries) {
		entry *victim = g_queue_peek_tail(&mc->lru);
		if (victim == e)
			break;
		drop_entry(mc, victim);
		mc->evictions++;
	}
	return e;
}

static void put_attr(meta_cache *mc, const char *path, int err, const dfs_attr *attr, double now)
{
	entry *e = upsert(mc, path, now);

	if (!e)
		return; /* caching is best effort */
	e->err = err;
	if (!err)
		e->attr = *attr;
	if (err) {
		listing_unref(e->list);
		e->list = NULL;
	}
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* Parent of "/a/b" is "/a"; of "/a" is "/". Writes into buf (PATH_MAX-sized). */
static bool parent_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = (size_t)(slash - path);

	if (strcmp(path, "/") == 0)
		return false;
	if (n == 0)
		n = 1;
	if (n >= size)
		return false;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return true;
}

/* With the lock held: does a fresh listing of the parent prove path absent? */
static bool listed_absent(meta_cache *mc, const char *path, double now)
{
	char parent[4096];
	entry *p;
	const char *name = base_name(path);

	if (!parent_of(path, parent, sizeof(parent)))
		return false;
	p = g_hash_table_lookup(mc->table, parent);
	/* A hash lookup, not a scan: under the cache's one lock, a scan of a
	 * 100,000-name folder per stat made stats 5 times slower than with
	 * no cache at all. */
	if (!p || p->err || !fresh_list(mc, p, now))
		return false;
	if (!p->list->has) {
		listing *l = p->list;
		l->has = g_hash_table_new(g_str_hash, g_str_equal);
		for (size_t i = 0; i < l->n; i++)
			g_hash_table_add(l->has, l->names[i]);
	}
	return !g_hash_table_contains(p->list->has, name);
}

static int mc_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	meta_cache *mc = (meta_cache *)s;
	double now = now_s();
	entry *e;
	int rc;

	pthread_mutex_lock(&mc->lock);
	e = g_hash_table_lookup(mc->table, path);
	if (e && fresh(mc, e, now)) {
		touch(mc, e);
		rc = e->err;
		if (!rc)
			*out = e->attr;
		mc->hits++;
		if (rc)
			mc->neg_hits++;
		pthread_mutex_unlock(&mc->lock);
		return rc;
	}
	if (listed_absent(mc, path, now)) {
		put_attr(mc, path, -ENOENT, NULL, now);
		mc->hits++;
		mc->neg_hits++;
		pthread_mutex_unlock(&mc->lock);
		return -ENOENT;
	}
	mc->misses++;
	pthread_mutex_unlock(&mc->lock);

	rc = dfs_stat(s->inner, path, out);
	if (rc == 0 || rc == -ENOENT || rc == -ENOTDIR) {
		pthread_mutex_lock(&mc->lock);
		put_attr(mc, path, rc, out, now_s());
		pthread_mutex_unlock(&mc->lock);
	}
	return rc;
}

/* A listing being fetched: kept for the cache and handed on as it comes,
 * so the caller's first entries do not wait for the last page. */
typedef struct collect {
	meta_cache *mc;
	const char *dir;
	GPtrArray *names;
	GArray *attrs;
	dfs_list_cb cb;
	void *arg;
} collect;

static int collect_cb(void *arg, const char *name, const dfs_attr *attr)
{
	collect *c = arg;
	char *copy = strdup(name), child[4096];

	if (!copy)
		return -ENOMEM;
	g_ptr_array_add(c->names, copy);
	g_array_append_val(c->attrs, *attr);
	/* Cached before it is handed on: a reader that sees the name and
	 * looks it up (plain readdir, then stat) must not cost a request. */
	if (dfs_path_child(child, sizeof(child), c->dir, name) == 0) {
		pthread_mutex_lock(&c->mc->lock);
		put_attr(c->mc, child, 0, attr, now_s());
		pthread_mutex_unlock(&c->mc->lock);
	}
	return c->cb(c->arg, name, attr);
}

/* The whole listing, or NULL with *rc: the inner error, or what cb
 * returned to stop early (a partial listing is not kept). */
static listing *fetch_listing(meta_cache *mc, const char *path, dfs_list_cb cb, void *arg, int *rc)
{
	collect c = { mc, path, g_ptr_array_new_with_free_func(free), g_array_new(FALSE, FALSE, sizeof(dfs_attr)),
		      cb, arg };
	listing *l = calloc(1, sizeof(*l));

	*rc = l ? dfs_list(mc->base.inner, path, collect_cb, &c) : -ENOMEM;
	if (*rc == 0) {
		atomic_init(&l->refs, 1);
		l->n = c.names->len;
		l->names = (char **)g_ptr_array_steal(c.names, NULL);
		l->attrs = (dfs_attr *)(void *)g_array_steal(c.attrs, NULL);
	} else {
		free(l);
		l = NULL;
	}
	g_ptr_array_unref(c.names);
	g_array_unref(c.attrs);
	return l;
}

static int mc_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	meta_cache *mc = (meta_cache *)s;
	double now = now_s();
	listing *l = NULL;
	dfs_attr dir_attr;
	bool know_dir = false;
	entry *e;
	int rc = 0;

	pthread_mutex_lock(&mc->lock);
	e = g_hash_table_lookup(mc->table, path);
	if (e && fresh_list(mc, e, now)) {
		l = e->list;
		atomic_fetch_add(&l->refs, 1);
		touch(mc, e);
		mc->list_hits++;
	} else {
		mc->list_misses++;
		/* The lookup before an opendir has usually just stored the
		 * folder's attributes: no need to ask the source again. */
		if (e && !e->err && fresh(mc, e, now)) {
			dir_attr = e->attr;
			know_dir = true;
		}
	}
	pthread_mutex_unlock(&mc->lock);

	if (l) {
		for (size_t i = 0; i < l->n && rc == 0; i++)
			rc = cb(arg, l->names[i], &l->attrs[i]);
		listing_unref(l);
		return rc;
	}
	now = now_s(); /* the listing is as old as its first page */
	l = fetch_listing(mc, path, cb, arg, &rc);
	if (!l)
		return rc;
	if (!know_dir)
		know_dir = dfs_stat(s->inner, path, &dir_attr) == 0;
	pthread_mutex_lock(&mc->lock);
	if (know_dir) {
		/* The entries' attributes went in as they came (collect_cb). */
		e = upsert(mc, path, now_s());
		if (e) {
			e->err = 0;
			e->attr = dir_attr;
			listing_unref(e->list);
			e->list = l;
			e->list_born = now;
			atomic_fetch_add(&l->refs, 1);
		}
	}
	pthread_mutex_unlock(&mc->lock);
	listing_unref(l);
	return 0;
}

static int mc_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	dfs_attr known;

	if (!attr && mc_stat(s, path, &known) == 0)
		attr = &known;
	/* The handle belongs to the inner source: reads bypass this layer. */
	return dfs_open(s->inner, path, attr, out);
}

static ssize_t mc_pread(dfs_handle *h, void *buf, size_t len, uint64_t off)
{
	(void)h; (void)buf; (void)len; (void)off;
	return -EBADF; /* never reached: handles are the inner source's */
}

static void mc_close(dfs_handle *h)
{
	(void)h;
}

static void mc_invalidate(dfs_source *s, const char *path)
{
	meta_cache *mc = (meta_cache *)s;
	char parent[4096];
	entry *e;

	pthread_mutex_lock(&mc->lock);
	if (!path) {
		/* The queue's links live inside the entries: reset it, don't free them. */
		g_queue_init(&mc->lru);
		g_hash_table_remove_all(mc->table);
	} else {
		if ((e = g_hash_table_lookup(mc->table, path)))
			drop_entry(mc, e);
		if (parent_of(path, parent, sizeof(parent)) && (e = g_hash_table_lookup(mc->table, parent)))
			drop_entry(mc, e);
	}
	pthread_mutex_unlock(&mc->lock);
	if (s->inner->ops->invalidate)
		s->inner->ops->invalidate(s->inner, path);
}

static void mc_stats_json(dfs_source *s, void *obj)
{
	meta_cache *mc = (meta_cache *)s;
	json_object *o = json_object_new_object();

	pthread_mutex_lock(&mc->lock);
	json_object_object_add(o, "entries", json_object_new_int64((int64_t)mc->lru.length));
	json_object_object_add(o, "max_entries", json_object_new_int64((int64_t)mc->max_entries));
	json_object_object_add(o, "hits", json_object_new_int64((int64_t)mc->hits));
	json_object_object_add(o, "negative_hits", json_object_new_int64((int64_t)mc->neg_hits));
	json_object_object_add(o, "misses", json_object_new_int64((int64_t)mc->misses));
	json_object_object_add(o, "list_hits", json_object_new_int64((int64_t)mc->list_hits));
	json_object_object_add(o, "list_misses", json_object_new_int64((int64_t)mc->list_misses));
	json_object_object_add(o, "evictions", json_object_new_int64((int64_t)mc->evictions));
	pthread_mutex_unlock(&mc->lock);
	json_object_object_add(obj, "metadata_cache", o);
}

static void mc_destroy(dfs_source *s)
{
	meta_cache *mc = (meta_cache *)s;

	g_queue_init(&mc->lru);
	g_hash_table_destroy(mc->table);
	pthread_mutex_destroy(&mc->lock);
	free(mc);
}

static const dfs_source_ops mc_ops = {
	.name = "metadata_cache",
	.stat = mc_stat,
	.list = mc_list,
	.open = mc_open,
	.pread = mc_pread,
	.close = mc_close,
	.stats_json = mc_stats_json,
	.invalidate = mc_invalidate,
	.destroy = mc_destroy,
};

dfs_source *dfs_meta_cache_new(dfs_source *inner, uint64_t max_entries, double expire_s)
{
	meta_cache *mc = calloc(1, sizeof(*mc));

	if (!mc)
		return NULL;
	mc->base.ops = &mc_ops;
	mc->base.inner = inner;
	pthread_mutex_init(&mc->lock, NULL);
	mc->table = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
	g_queue_init(&mc->lru);
	mc->max_entries = max_entries;
	mc->expire_s = expire_s;
	return &mc->base;
}
