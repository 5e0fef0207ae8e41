/*
 * Worker-then-UFS layer.
 *
 * Every operation goes to the worker source first (the worker that owns the
 * path by consistent hashing; see worker_ring.c). The worker's answer is
 * final when it is about the file (ENOENT, ENOTDIR, EISDIR): the worker
 * reads the same UFS. Any other failure (no live worker, unreachable,
 * deadline, auth, internal error) is retried on the UFS directly, as
 * Alluxio's DoraCacheFileSystem does, so a sick cluster slows reads down but
 * never fails them.
 *
 * An open file that started on the worker moves to the UFS if the worker
 * fails mid-file; it does so only if the UFS shows the same size and mtime
 * (to the millisecond, the worker's precision), so bytes of two versions are
 * never mixed in one open file.
 *
 * Locking: none of its own; counters are atomics and a handle is used by one
 * reader at a time per FUSE semantics... except that FUSE may run reads of
 * one open file in parallel, so the switch to the UFS is guarded by the
 * handle's mutex.
 */
#include "fallback_source.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct fallback_source {
	dfs_source base;
	dfs_source *ufs;           /* base.inner is the worker source */
	atomic_uint_fast64_t worker_ops, ufs_ops, fallbacks, switches, worker_bytes, ufs_bytes;
} fallback_source;

typedef struct fb_handle {
	dfs_handle base;
	pthread_mutex_t lock;      /* guards the switch from worker to ufs */
	dfs_handle *worker;        /* NULL once switched (or never opened) */
	dfs_handle *ufs;
} fb_handle;

/* Errors that speak about the file itself, which the UFS would repeat. */
static bool final_error(int rc)
{
	return rc == -ENOENT || rc == -ENOTDIR || rc == -EISDIR || rc == -ENAMETOOLONG;
}

static fallback_source *fs_of(dfs_source *s)
{
	return (fallback_source *)s;
}

static int fb_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	fallback_source *f = fs_of(s);
	int rc = dfs_stat(s->inner, path, out);

	if (rc == 0 || final_error(rc)) {
		atomic_fetch_add(&f->worker_ops, 1);
		return rc;
	}
	atomic_fetch_add(&f->fallbacks, 1);
	atomic_fetch_add(&f->ufs_ops, 1);
	return dfs_stat(f->ufs, path, out);
}

typedef struct entry_buf {
	size_t n, cap;
	char **names;
	dfs_attr *attrs;
} entry_buf;

static int buffer_entry(void *arg, const char *name, const dfs_attr *attr)
{
	entry_buf *b = arg;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		char **names = realloc(b->names, cap * sizeof(*names));
		dfs_attr *attrs;

		if (!names)
			return -ENOMEM;
		b->names = names;
		attrs = realloc(b->attrs, cap * sizeof(*attrs));
		if (!attrs)
			return -ENOMEM;
		b->attrs = attrs;
		b->cap = cap;
	}
	if (!(b->names[b->n] = strdup(name)))
		return -ENOMEM;
	b->attrs[b->n++] = *attr;
	return 0;
}

static void entry_buf_free(entry_buf *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->names[i]);
	free(b->names);
	free(b->attrs);
}

static int fb_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	fallback_source *f = fs_of(s);
	entry_buf b = { 0 };
	int rc;

	/* The worker's listing arrives in batches and may fail halfway: buffer it
	 * so the caller never sees a half listing followed by a full one. */
	rc = dfs_list(s->inner, path, buffer_entry, &b);
	if (rc == 0 || final_error(rc)) {
		atomic_fetch_add(&f->worker_ops, 1);
		for (size_t i = 0; rc == 0 && i < b.n; i++)
			rc = cb(arg, b.names[i], &b.attrs[i]);
		entry_buf_free(&b);
		return rc;
	}
	entry_buf_free(&b);
	atomic_fetch_add(&f->fallbacks, 1);
	atomic_fetch_add(&f->ufs_ops, 1);
	return dfs_list(f->ufs, path, cb, arg);
}

static int fb_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	fallback_source *f = fs_of(s);
	fb_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	if (!(h->base.path = strdup(path))) {
		free(h);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->lock, NULL);
	rc = dfs_open(s->inner, path, attr, &h->worker);
	if (rc == 0) {
		h->base.attr = h->worker->attr;
	} else if (final_error(rc)) {
		goto fail;
	} else {
		atomic_fetch_add(&f->fallbacks, 1);
		rc = dfs_open(f->ufs, path, attr, &h->ufs);
		if (rc < 0)
			goto fail;
		h->base.attr = h->ufs->attr;
	}
	h->base.src = s;
	*out = &h->base;
	return 0;
fail:
	pthread_mutex_destroy(&h->lock);
	free(h->base.path);
	free(h);
	return rc;
}

/* Move an open file from its worker to the UFS; with h->lock held. */
static int switch_to_ufs(fallback_source *f, fb_handle *h)
{
	dfs_handle *u;
	int rc;

	if (h->ufs)
		return 0;
	rc = dfs_open(f->ufs, h->base.path, &h->base.attr, &u);
	if (rc < 0)
		return rc;
	if (u->attr.size != h->base.attr.size ||
	    u->attr.mtime_ns / 1000000 != h->base.attr.mtime_ns / 1000000) {
		/* The file changed since it was opened: reading on would mix versions. */
		dfs_close(u);
		return -EIO;
	}
	h->ufs = u;
	atomic_fetch_add(&f->switches, 1);
	return 0;
}

static ssize_t fb_pread(dfs_handle *dh, void *buf, size_t len, uint64_t off)
{
	fb_handle *h = (fb_handle *)dh;
	fallback_source *f = fs_of(dh->src);
	dfs_handle *use;
	bool on_ufs;
	ssize_t n;
	int rc;

	/* h->ufs is set once, under the lock, by whichever reader fails over
	 * first: read it there only (another thread may be setting it). */
	pthread_mutex_lock(&h->lock);
	on_ufs = h->ufs != NULL;
	use = on_ufs ? h->ufs : h->worker;
	pthread_mutex_unlock(&h->lock);
	n = dfs_pread(use, buf, len, off);
	if (n >= 0 || on_ufs || final_error((int)n)) {
		if (n > 0)
			atomic_fetch_add(on_ufs ? &f->ufs_bytes : &f->worker_bytes, (uint64_t)n);
		return n;
	}
	atomic_fetch_add(&f->fallbacks, 1);
	pthread_mutex_lock(&h->lock);
	rc = switch_to_ufs(f, h);
	use = h->ufs;
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		return rc;
	n = dfs_pread(use, buf, len, off);
	if (n > 0)
		atomic_fetch_add(&f->ufs_bytes, (uint64_t)n);
	return n;
}

static void fb_close(dfs_handle *dh)
{
	fb_handle *h = (fb_handle *)dh;

	dfs_close(h->worker);
	dfs_close(h->ufs);
	pthread_mutex_destroy(&h->lock);
	free(h->base.path);
	free(h);
}

static int fb_statfs(dfs_source *s, dfs_fs_usage *out)
{
	fallback_source *f = fs_of(s);

	if (!f->ufs->ops->statfs)
		return -ENOSYS;
	return f->ufs->ops->statfs(f->ufs, out);
}

static void fb_stats_json(dfs_source *s, void *obj)
{
	fallback_source *f = fs_of(s);
	json_object *o = json_object_new_object();

#define ADD(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)atomic_load(&f->v)))
	ADD("worker_ops", worker_ops);
	ADD("ufs_ops", ufs_ops);
	ADD("fallbacks", fallbacks);
	ADD("files_moved_to_ufs", switches);
	ADD("bytes_from_workers", worker_bytes);
	ADD("bytes_from_ufs", ufs_bytes);
#undef ADD
	json_object_object_add(obj, "worker_fallback", o);
	/* The UFS is not on the inner chain: report it here. */
	if (f->ufs->ops->stats_json)
		f->ufs->ops->stats_json(f->ufs, obj);
}

static void fb_invalidate(dfs_source *s, const char *path)
{
	fallback_source *f = fs_of(s);

	if (s->inner->ops->invalidate)
		s->inner->ops->invalidate(s->inner, path);
	if (f->ufs->ops->invalidate)
		f->ufs->ops->invalidate(f->ufs, path);
}

static void fb_destroy(dfs_source *s)
{
	fallback_source *f = fs_of(s);

	dfs_source_destroy(f->ufs);
	free(f);
}

static const dfs_source_ops fb_ops = {
	.name = "worker_fallback",
	.stat = fb_stat,
	.list = fb_list,
	.open = fb_open,
	.pread = fb_pread,
	.close = fb_close,
	.statfs = fb_statfs,
	.stats_json = fb_stats_json,
	.invalidate = fb_invalidate,
	.destroy = fb_destroy,
};

dfs_source *dfs_fallback_source_new(dfs_source *worker, dfs_source *ufs)
{
	fallback_source *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->base.ops = &fb_ops;
	f->base.inner = worker;
	f->ufs = ufs;
	return &f->base;
}
