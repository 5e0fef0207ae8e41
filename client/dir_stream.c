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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mono_cond.h"

struct dfs_dir_lister {
	dfs_source *src;
	GThreadPool *pool;
	long batch_wait_ns;
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
	size_t wake_at;            /* wake the waiters when this many are listed */
	long batch_wait_ns;        /* the lister's, copied: a handle outlives it */
	atomic_int refs;
};

/* How long a reader that has its first entry waits for the rest of its
 * batch, by default: a LIST page of 1,000 is handed on in well under a
 * millisecond. */
#define DIR_BATCH_WAIT_NS (2 * 1000 * 1000L)

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
		/* Not on every entry: a reader woken by the first of a page
		 * would reply with the one or two entries there by then, and a
		 * 2,000-entry folder took ~1,300 READDIRs instead of ~80. */
		if (d->waiters && d->names->len >= d->wake_at) {
			d->wake_at = SIZE_MAX;
			pthread_cond_broadcast(&d->cond);
		}
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

dfs_dir_lister *dfs_dir_lister_new(dfs_source *src, unsigned threads, long batch_wait_ns)
{
	dfs_dir_lister *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->src = src;
	l->batch_wait_ns = batch_wait_ns > 0 ? batch_wait_ns : DIR_BATCH_WAIT_NS;
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

/* Sleep on d->cond until d->names->len >= target, the listing ends, or the
 * deadline (NULL: none) passes. Under d->lock. */
static void wait_for(dfs_dir *d, size_t target, const struct timespec *deadline)
{
	while (d->names->len < target && d->state == 0) {
		int rc;

		if (target < d->wake_at)
			d->wake_at = target;
		d->waiters++;
		rc = deadline ? pthread_cond_timedwait(&d->cond, &d->lock, deadline)
			      : pthread_cond_wait(&d->cond, &d->lock);
		d->waiters--;
		if (rc == ETIMEDOUT)
			break;
	}
	/* Whoever still waits lowers it again on its way back to sleep. */
	if (!d->waiters)
		d->wake_at = SIZE_MAX;
}

long dfs_dir_wait(dfs_dir *d, size_t i, size_t want)
{
	long rc;

	if (want == 0)
		want = 1;
	pthread_mutex_lock(&d->lock);
	wait_for(d, i + 1, NULL);
	if (d->names->len > i && d->names->len < i + want && d->state == 0) {
		/* Entry i is there and more are coming: a page of a listing
		 * arrives in a burst, so a short wait fills the caller's reply
		 * instead of sending it off with a few entries. */
		struct timespec dl;

		dfs_deadline_in_ns(&dl, d->batch_wait_ns);
		wait_for(d, i + want, &dl);
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
	d->wake_at = SIZE_MAX;
	d->batch_wait_ns = l->batch_wait_ns;
	if (!d->path || pthread_mutex_init(&d->lock, NULL) != 0)
		goto nomem;
	if (dfs_cond_init_monotonic(&d->cond) != 0) {
		pthread_mutex_destroy(&d->lock);
		goto nomem;
	}
	if (!g_thread_pool_push(l->pool, d, NULL)) {
		atomic_store(&d->refs, 1);
		dir_unref(d);
		return -ENOMEM;
	}
	n = dfs_dir_wait(d, 0, 1);
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
