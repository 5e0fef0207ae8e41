/*
 * Read-ahead layer (see readahead.h for the policy).
 *
 * Ownership: a chunk sits in its handle's queue until served or dropped. A
 * chunk still being fetched when it is dropped (seek, close) is only marked;
 * the pool thread fetching it frees it. Pool jobs hold a reference on the
 * handle, so the inner handle stays open until the last job is done.
 */
#include "readahead.h"

#include <errno.h>
#include <glib.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_WINDOW (4ULL << 20)
#define MAX_CHUNK (8ULL << 20)
#define SPARE_BUFS 4      /* chunk buffers kept for reuse */

typedef struct ra_source {
	dfs_source base;
	uint64_t max_window, memory, page;
	atomic_uint_fast64_t reserved;      /* bytes of live chunks, all files */
	GThreadPool *pool;
	/* Freed chunk buffers of MAX_CHUNK bytes, reused: a fresh 8 MiB malloc
	 * is an mmap whose every page faults and is zeroed, which cost a fifth
	 * of the daemon's CPU on a cold sequential read. */
	pthread_mutex_t spare_lock;
	void *spare[SPARE_BUFS];
	int nspare;
	atomic_uint_fast64_t chunks, chunk_bytes, served_bytes, direct_reads, direct_bytes,
		whole_reads, denied, dropped_bytes, waits, errors;
} ra_source;

typedef struct chunk {
	uint64_t off;
	size_t len, served;
	char *buf;
	int state;                 /* 0: in flight, 1: ready, < 0: -errno */
	bool dropped;              /* no longer in the queue; the fetcher frees it */
} chunk;

typedef struct ra_handle {
	dfs_handle base;
	dfs_handle *inner;
	ra_source *ra;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int refs;
	GQueue chunks;             /* chunk *, by offset */
	uint64_t next_off;         /* where the reader is expected next */
	uint64_t ahead_end;        /* end of the last chunk scheduled */
	uint64_t window;           /* 0: not sequential */
	unsigned streak;           /* sequential reads in a row */
} ra_handle;

typedef struct job {
	ra_handle *h;
	chunk *c;
} job;

static void handle_unref(ra_handle *h)
{
	if (atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	dfs_close(h->inner);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h->base.path);
	free(h);
}

/* Only full-size chunks (every chunk once a window has grown) get their
 * buffers from the spares and give them back; smaller ones are allocated to
 * size, so `reserved` is what the chunks hold. Rounding every chunk above
 * 1 MiB up to a spare let a reused, fully written 8 MiB buffer stand for a
 * 2 MiB chunk, beyond the budget. */
static bool pooled(size_t len)
{
	return len == MAX_CHUNK;
}

static void *buf_get(ra_source *ra, size_t len)
{
	void *b = NULL;

	if (!pooled(len))
		return malloc(len);
	pthread_mutex_lock(&ra->spare_lock);
	if (ra->nspare)
		b = ra->spare[--ra->nspare];
	pthread_mutex_unlock(&ra->spare_lock);
	return b ? b : malloc(MAX_CHUNK);
}

static void buf_put(ra_source *ra, void *b, size_t len)
{
	if (b && pooled(len)) {
		pthread_mutex_lock(&ra->spare_lock);
		if (ra->nspare < SPARE_BUFS) {
			ra->spare[ra->nspare++] = b;
			b = NULL;
		}
		pthread_mutex_unlock(&ra->spare_lock);
	}
	free(b);
}

static void chunk_free(ra_source *ra, chunk *c)
{
	if (c->served < c->len && c->state == 1)
		atomic_fetch_add(&ra->dropped_bytes, c->len - c->served);
	atomic_fetch_sub(&ra->reserved, c->len);
	buf_put(ra, c->buf, c->len);
	free(c);
}

/* Take a chunk out of the queue: freed now, or by its fetcher. Lock held. */
static void chunk_drop(ra_handle *h, GList *link)
{
	chunk *c = link->data;

	g_queue_delete_link(&h->chunks, link);
	if (c->state == 0)
		c->dropped = true;
	else
		chunk_free(h->ra, c);
}

static void fetch_job(gpointer data, gpointer user)
{
	job *j = data;
	ra_handle *h = j->h;
	chunk *c = j->c;
	ra_source *ra = user;
	ssize_t n = -ECANCELED;
	bool dropped;

	pthread_mutex_lock(&h->lock);
	dropped = c->dropped;
	pthread_mutex_unlock(&h->lock);
	if (!dropped)
		n = dfs_pread_full(h->inner, c->buf, c->len, c->off);
	pthread_mutex_lock(&h->lock);
	if (n >= 0 && (size_t)n != c->len)
		n = -EIO; /* the source checks lengths; a short chunk means it changed */
	c->state = n < 0 ? (int)n : 1;
	if (n < 0 && n != -ECANCELED)
		atomic_fetch_add(&ra->errors, 1);
	if (c->dropped)
		chunk_free(ra, c);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	handle_unref(h);
	free(j);
}

/* Queue chunks until the window ahead of `pos` is covered. Lock held. If
 * `mine` is given, the chunk holding `pos` itself is not queued but handed
 * back: the reader, who would only wait for it, fetches it on its own
 * thread (one thread switch less per small file or first chunk). */
static void schedule(ra_handle *h, uint64_t pos, chunk **mine)
{
	ra_source *ra = h->ra;
	uint64_t size = h->base.attr.size, end = pos + h->window;

	if (h->ahead_end < pos)
		h->ahead_end = pos;
	if (end > size)
		end = size;
	while (h->ahead_end < end) {
		uint64_t len = h->window / 4;
		chunk *c;
		job *j;

		if (len < ra->page)
			len = ra->page;
		if (len > MAX_CHUNK)
			len = MAX_CHUNK;
		if (len > size - h->ahead_end)
			len = size - h->ahead_end;
		if (atomic_fetch_add(&ra->reserved, len) + len > ra->memory) {
			atomic_fetch_sub(&ra->reserved, len);
			atomic_fetch_add(&ra->denied, 1);
			return; /* over the global budget: read on without read-ahead */
		}
		c = calloc(1, sizeof(*c));
		j = malloc(sizeof(*j));
		if (c)
			c->buf = buf_get(ra, len);
		if (!c || !j || !c->buf) {
			atomic_fetch_sub(&ra->reserved, len);
			if (c)
				buf_put(ra, c->buf, len);
			free(c);
			free(j);
			return;
		}
		c->off = h->ahead_end;
		c->len = (size_t)len;
		if (mine && !*mine && pos >= c->off && pos < c->off + c->len) {
			free(j);
			*mine = c;
			goto queued;
		}
		*j = (job){ .h = h, .c = c };
		atomic_fetch_add(&h->refs, 1);
		if (!g_thread_pool_push(ra->pool, j, NULL)) {
			atomic_fetch_sub(&h->refs, 1);
			atomic_fetch_sub(&ra->reserved, len);
			buf_put(ra, c->buf, len);
			free(c);
			free(j);
			return;
		}
queued:
		g_queue_push_tail(&h->chunks, c);
		atomic_fetch_add(&ra->chunks, 1);
		atomic_fetch_add(&ra->chunk_bytes, len);
		h->ahead_end += len;
	}
}

static GList *find_chunk(ra_handle *h, uint64_t pos)
{
	for (GList *l = h->chunks.head; l; l = l->next) {
		chunk *c = l->data;
		if (pos >= c->off && pos < c->off + c->len)
			return l;
	}
	return NULL;
}

static ssize_t ra_pread(dfs_handle *dh, void *buf, size_t len, uint64_t off)
{
	ra_handle *h = (ra_handle *)dh;
	ra_source *ra = h->ra;
	uint64_t tol = 2 * ra->page;
	size_t done = 0;
	ssize_t rc = 0;
	bool seq;

	pthread_mutex_lock(&h->lock);
	if (off == 0 && len >= h->base.attr.size && !h->chunks.head) {
		/* The whole file in one read (a small file's only page): nothing
		 * lies ahead, so it goes straight into the caller's buffer, without
		 * a chunk buffer and a copy. */
		ssize_t n;

		h->next_off = h->base.attr.size;
		h->streak++;
		pthread_mutex_unlock(&h->lock);
		n = dfs_pread_full(h->inner, buf, len, 0);
		if (n >= 0 && (uint64_t)n != h->base.attr.size)
			n = -EIO; /* as for a chunk: a short file means it changed */
		atomic_fetch_add(n < 0 ? &ra->errors : &ra->whole_reads, 1);
		return n;
	}
	/* Sequential: inside what is read ahead, or near where the last read
	 * ended (parallel FUSE reads arrive out of order: while read-ahead is
	 * on, anything within a window of the furthest read counts). The window
	 * opens at the start of a file or after two sequential reads, so a
	 * random reader rarely triggers it by chance. */
	seq = (h->window && find_chunk(h, off)) ||
	      (off + (h->window > tol ? h->window : tol) >= h->next_off &&
	       off <= h->next_off + (h->window > tol ? h->window : tol));
	h->streak = seq ? h->streak + 1 : 0;
	if (!seq) {
		/* A seek: forget the window and everything fetched ahead. */
		while (h->chunks.head)
			chunk_drop(h, h->chunks.head);
		h->window = 0;
		h->ahead_end = 0;
	}
	if (!h->window && (off == 0 || h->streak >= 2))
		h->window = FIRST_WINDOW < ra->max_window ? FIRST_WINDOW : ra->max_window;
	if (off + len > h->next_off || !seq)
		h->next_off = off + len;
	if (h->window) {
		chunk *mine = NULL;

		schedule(h, off, &mine);
		if (mine) {
			ssize_t n;

			pthread_mutex_unlock(&h->lock);
			n = dfs_pread_full(h->inner, mine->buf, mine->len, mine->off);
			pthread_mutex_lock(&h->lock);
			if (n >= 0 && (size_t)n != mine->len)
				n = -EIO;
			mine->state = n < 0 ? (int)n : 1;
			if (n < 0)
				atomic_fetch_add(&ra->errors, 1);
			if (mine->dropped)
				chunk_free(ra, mine);
			pthread_cond_broadcast(&h->cond);
		}
	}
	while (done < len) {
		uint64_t pos = off + done;
		GList *l = find_chunk(h, pos);
		chunk *c;
		size_t n;

		if (!l)
			break;
		c = l->data;
		if (c->state == 0) {
			/* Wait for its fetch (one GET for every reader of it), then
			 * look it up again: it may have been dropped and freed. */
			atomic_fetch_add(&ra->waits, 1);
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		if (c->state < 0) {
			rc = c->state;
			chunk_drop(h, l);
			break;
		}
		n = (size_t)(c->off + c->len - pos);
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, c->buf + (pos - c->off), n);
		c->served += n;
		done += n;
		atomic_fetch_add(&ra->served_bytes, n);
		if (c->served >= c->len) {
			/* Finished a chunk: the reader keeps up, widen the window. */
			chunk_drop(h, l);
			h->window = h->window * 2 < ra->max_window ? h->window * 2 : ra->max_window;
			schedule(h, pos + n, NULL);
		}
	}
	/* Chunks a window behind the reader will not be read. */
	while (h->chunks.head) {
		chunk *c = h->chunks.head->data;
		if (c->off + c->len + (h->window > tol ? h->window : tol) > off)
			break;
		chunk_drop(h, h->chunks.head);
	}
	pthread_mutex_unlock(&h->lock);
	if (rc < 0 && done == 0)
		return rc;
	if (done < len && rc == 0) {
		/* Not read ahead (random access, budget spent): read directly. */
		ssize_t n = dfs_pread_full(h->inner, (char *)buf + done, len - done, off + done);

		atomic_fetch_add(&ra->direct_reads, 1);
		if (n < 0)
			return done ? (ssize_t)done : n;
		atomic_fetch_add(&ra->direct_bytes, (uint64_t)n);
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int ra_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	return dfs_stat(s->inner, path, out);
}

static int ra_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	return dfs_list(s->inner, path, cb, arg);
}

static int ra_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	ra_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	rc = dfs_open(s->inner, path, attr, &h->inner);
	if (rc < 0) {
		free(h);
		return rc;
	}
	h->base.path = strdup(path);
	if (!h->base.path) {
		rc = -ENOMEM;
		goto fail;
	}
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	if (pthread_cond_init(&h->cond, NULL) != 0) {
		pthread_mutex_destroy(&h->lock);
		rc = -ENOMEM;
		goto fail;
	}
	h->base.src = s;
	h->base.attr = h->inner->attr;
	h->ra = (ra_source *)s;
	atomic_init(&h->refs, 1);
	g_queue_init(&h->chunks);
	*out = &h->base;
	return 0;
fail:
	dfs_close(h->inner);
	free(h->base.path);
	free(h);
	return rc;
}

static void ra_close(dfs_handle *dh)
{
	ra_handle *h = (ra_handle *)dh;

	pthread_mutex_lock(&h->lock);
	while (h->chunks.head)
		chunk_drop(h, h->chunks.head);
	pthread_mutex_unlock(&h->lock);
	handle_unref(h);
}

static void ra_invalidate(dfs_source *s, const char *path)
{
	if (s->inner->ops->invalidate)
		s->inner->ops->invalidate(s->inner, path);
}

static void ra_stats_json(dfs_source *s, void *obj)
{
	ra_source *ra = (ra_source *)s;
	json_object *o = json_object_new_object();

#define ADD(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
	ADD("max_window", ra->max_window);
	ADD("memory_budget", ra->memory);
	ADD("memory_in_use", atomic_load(&ra->reserved));
	pthread_mutex_lock(&ra->spare_lock);
	ADD("spare_bytes", (uint64_t)ra->nspare * MAX_CHUNK); /* kept for reuse, outside the budget */
	pthread_mutex_unlock(&ra->spare_lock);
	ADD("chunks", atomic_load(&ra->chunks));
	ADD("chunk_bytes", atomic_load(&ra->chunk_bytes));
	ADD("served_bytes", atomic_load(&ra->served_bytes));
	ADD("unused_bytes", atomic_load(&ra->dropped_bytes));
	ADD("reader_waits", atomic_load(&ra->waits));
	ADD("direct_reads", atomic_load(&ra->direct_reads));
	ADD("direct_bytes", atomic_load(&ra->direct_bytes));
	ADD("whole_file_reads", atomic_load(&ra->whole_reads));
	ADD("over_budget", atomic_load(&ra->denied));
	ADD("errors", atomic_load(&ra->errors));
#undef ADD
	json_object_object_add(obj, "readahead", o);
}

static void ra_destroy(dfs_source *s)
{
	ra_source *ra = (ra_source *)s;

	/* Every handle is closed by now; let queued jobs run (they see their
	 * chunks dropped and fetch nothing) so every reference is released. */
	g_thread_pool_free(ra->pool, FALSE, TRUE);
	for (int i = 0; i < ra->nspare; i++)
		free(ra->spare[i]);
	pthread_mutex_destroy(&ra->spare_lock);
	free(ra);
}

static const dfs_source_ops ra_ops = {
	.name = "readahead",
	.stat = ra_stat,
	.list = ra_list,
	.open = ra_open,
	.pread = ra_pread,
	.close = ra_close,
	.stats_json = ra_stats_json,
	.invalidate = ra_invalidate,
	.destroy = ra_destroy,
};

dfs_source *dfs_readahead_new(dfs_source *inner, uint64_t max_window, uint64_t memory, uint64_t page,
			      unsigned threads)
{
	ra_source *ra = calloc(1, sizeof(*ra));

	if (!ra)
		return NULL;
	if (pthread_mutex_init(&ra->spare_lock, NULL) != 0) {
		free(ra);
		return NULL;
	}
	ra->base.ops = &ra_ops;
	ra->base.inner = inner;
	ra->max_window = max_window;
	ra->memory = memory;
	ra->page = page ? page : (1 << 20);
	/* Not exclusive: GLib starts the threads on the first push, after the
	 * daemon has forked. */
	ra->pool = g_thread_pool_new(fetch_job, ra, (gint)(threads ? threads : 8), FALSE, NULL);
	if (!ra->pool) {
		pthread_mutex_destroy(&ra->spare_lock);
		free(ra);
		return NULL;
	}
	return &ra->base;
}
