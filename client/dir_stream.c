/*
 * Streaming directory listings (see dir_stream.h).
 *
 * Locks: dfs_dir.lock guards the handle's entry arrays, its state and the
 * closed flag; the lister thread appends under it and readers wait on
 * dfs_dir.cond. No code holds two handles' locks. A handle is freed by the
 * last of its two owners (the reader that closes it, the job listing it),
 * counted in refs.
 */
#include "dir_stream.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct dfs_dir_lister {
	dfs_source *src;
	GThreadPool *pool;
	atomic_bool stopping;
};

struct dfs_dir {
	dfs_dir_lister *lister;
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	GPtrArray *names;          /* char *, owned */
	GArray *attrs;             /* dfs_attr */
	int state;                 /* 0 listing, 1 complete, < 0 -errno */
	bool closed;               /* the reader is gone: stop listing */
	unsigned waiters;          /* readers in pthread_cond_wait */
	atomic_int refs;
};

static void dir_unref(dfs_dir *d)
{
	if (atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	g_ptr_array_unref(d->names);
	g_array_unref(d->attrs);
	free(d->path);
	free(d);
}

static int add_cb(void *arg, const char *name, const dfs_attr *attr)
{
	dfs_dir *d = arg;
	char *copy;
	int rc = 0;

	if (atomic_load(&d->lister->stopping))
		return -ECANCELED;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	if (d->closed) {
		rc = -ECANCELED;
		free(copy);
	} else {
		g_ptr_array_add(d->names, copy);
		g_array_append_val(d->attrs, *attr);
		/* A woken reader takes what is there by then; the rest of the
		 * page is appended meanwhile and goes in its next reply. */
		if (d->waiters)
			pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static void list_job(gpointer data, gpointer user)
{
	dfs_dir *d = data;
	int rc;

	(void)user;
	rc = atomic_load(&d->lister->stopping) ? -ECANCELED
					       : dfs_list(d->lister->src, d->path, add_cb, d);
	pthread_mutex_lock(&d->lock);
	d->state = rc < 0 ? rc : 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	dir_unref(d);
}

dfs_dir_lister *dfs_dir_lister_new(dfs_source *src, unsigned threads)
{
	dfs_dir_lister *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->src = src;
	atomic_init(&l->stopping, false);
	/* Not exclusive: GLib starts threads on the first push, after the
	 * daemon has forked. */
	l->pool = g_thread_pool_new(list_job, l, (gint)(threads ? threads : 8), FALSE, NULL);
	if (!l->pool) {
		free(l);
		return NULL;
	}
	return l;
}

void dfs_dir_lister_free(dfs_dir_lister *l)
{
	if (!l)
		return;
	atomic_store(&l->stopping, true);
	g_thread_pool_free(l->pool, FALSE, TRUE);
	free(l);
}

long dfs_dir_wait(dfs_dir *d, size_t i)
{
	long rc;

	pthread_mutex_lock(&d->lock);
	while (d->names->len <= i && d->state == 0) {
		d->waiters++;
		pthread_cond_wait(&d->cond, &d->lock);
		d->waiters--;
	}
	if (d->names->len > i || d->state > 0)
		rc = (long)d->names->len;
	else
		rc = d->state;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int dfs_dir_open(dfs_dir_lister *l, const char *path, dfs_dir **out)
{
	dfs_dir *d = calloc(1, sizeof(*d));
	long n;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->lister = l;
	d->path = strdup(path);
	d->names = g_ptr_array_new_with_free_func(free);
	d->attrs = g_array_new(FALSE, FALSE, sizeof(dfs_attr));
	atomic_init(&d->refs, 2); /* the caller's and the job's */
	if (!d->path || pthread_mutex_init(&d->lock, NULL) != 0)
		goto nomem;
	if (pthread_cond_init(&d->cond, NULL) != 0) {
		pthread_mutex_destroy(&d->lock);
		goto nomem;
	}
	if (!g_thread_pool_push(l->pool, d, NULL)) {
		atomic_store(&d->refs, 1);
		dir_unref(d);
		return -ENOMEM;
	}
	n = dfs_dir_wait(d, 0);
	if (n < 0) {
		dfs_dir_close(d);
		return (int)n;
	}
	*out = d;
	return 0;
nomem:
	g_ptr_array_unref(d->names);
	g_array_unref(d->attrs);
	free(d->path);
	free(d);
	return -ENOMEM;
}

void dfs_dir_entry(dfs_dir *d, size_t i, const char **name, dfs_attr *attr)
{
	/* The arrays may be reallocated by the lister meanwhile: read under
	 * the lock. The name itself never moves. */
	pthread_mutex_lock(&d->lock);
	*name = g_ptr_array_index(d->names, i);
	*attr = g_array_index(d->attrs, dfs_attr, i);
	pthread_mutex_unlock(&d->lock);
}

size_t dfs_dir_count(dfs_dir *d, int *state)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = d->names->len;
	if (state)
		*state = d->state;
	pthread_mutex_unlock(&d->lock);
	return n;
}

void dfs_dir_close(dfs_dir *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->closed = true;
	pthread_mutex_unlock(&d->lock);
	dir_unref(d);
}
