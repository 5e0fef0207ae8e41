/*
 * Page cache layer: cuts reads into pages and gets each from localcache,
 * which calls back into the inner source on a miss. Hits are handed up as
 * page-file descriptors, so the FUSE layer can splice them without a copy.
 *
 * No lock of its own: localcache shards its index, and the counters here are
 * atomics.
 */
#include "page_cache_source.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct page_cache_source {
	dfs_source base;
	lc_cache *cache;
	dfs_uri root;
	uint32_t page_size;
	atomic_uint_fast64_t reads, bytes_hit, bytes_fetched;
} page_cache_source;

typedef struct pc_handle {
	dfs_handle base;
	dfs_handle *inner;
	lc_key key;
	/* Sequential detection for prefetching stored pages. Parallel reads of
	 * one handle race on these; the worst outcome is a missed or repeated
	 * hint, so relaxed atomics suffice. */
	atomic_uint_fast64_t next_off;       /* where a continuing read would start */
	atomic_uint_fast64_t hinted_upto;    /* pages below this index were hinted */
} pc_handle;

/* How far ahead of a sequential reader stored pages are warmed. */
#define PREFETCH_BYTES (8u << 20)

static int pc_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	return dfs_stat(s->inner, path, out);
}

static int pc_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	return dfs_list(s->inner, path, cb, arg);
}

static int pc_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	page_cache_source *pc = (page_cache_source *)s;
	pc_handle *h = calloc(1, sizeof(*h));
	char *uri = NULL;
	int rc;

	if (!h)
		return -ENOMEM;
	rc = dfs_open(s->inner, path, attr, &h->inner);
	if (rc < 0)
		goto fail;
	uri = dfs_uri_join(&pc->root, path);
	h->base.path = strdup(path);
	if (!uri || !h->base.path) {
		rc = -ENOMEM;
		goto fail;
	}
	/* The version comes from the inner open: pages of an older version of
	 * the file are never served for this one. */
	h->base.src = s;
	h->base.attr = h->inner->attr;
	lc_make_key(&h->key, uri, h->inner->attr.version);
	free(uri);
	*out = &h->base;
	return 0;
fail:
	dfs_close(h->inner);
	free(h->base.path);
	free(uri);
	free(h);
	return rc;
}

/*
 * A read that continues the previous one (or starts the file) hints the
 * stored pages of the next PREFETCH_BYTES to localcache, each page once, so
 * the cache disk works ahead of the reader as it would for one contiguous
 * file. Returns the lc_get flags for the read: LC_STREAM if sequential.
 */
static unsigned note_read(page_cache_source *pc, pc_handle *h, uint64_t off, size_t len)
{
	uint64_t expect = atomic_exchange_explicit(&h->next_off, off + len, memory_order_relaxed);
	uint64_t ps = pc->page_size, last, from, to, npages;

	if (off != expect || len == 0 || h->base.attr.size == 0)
		return 0;
	npages = (h->base.attr.size + ps - 1) / ps;
	last = (off + len - 1) / ps;
	from = atomic_load_explicit(&h->hinted_upto, memory_order_relaxed);
	if (from < last + 1)
		from = last + 1;
	to = last + 1 + (PREFETCH_BYTES + ps - 1) / ps;
	if (to > npages)
		to = npages;
	if (from < to) {
		atomic_store_explicit(&h->hinted_upto, to, memory_order_relaxed);
		for (uint64_t i = from; i < to; i++)
			lc_prefetch(pc->cache, &h->key, i);
	}
	return LC_STREAM;
}

static ssize_t fetch_cb(void *arg, uint64_t offset, void *buf, size_t len)
{
	return dfs_pread_full(arg, buf, len, offset);
}

static void account(page_cache_source *pc, const lc_page *p, size_t n)
{
	if (p->from_cache)
		atomic_fetch_add(&pc->bytes_hit, n);
	else
		atomic_fetch_add(&pc->bytes_fetched, n);
}

static ssize_t pc_pread(dfs_handle *dh, void *buf, size_t len, uint64_t off)
{
	pc_handle *h = (pc_handle *)dh;
	page_cache_source *pc = (page_cache_source *)dh->src;
	size_t done = 0;
	unsigned flags;

	atomic_fetch_add(&pc->reads, 1);
	flags = note_read(pc, h, off, len);
	while (done < len) {
		uint64_t pos = off + done, idx = pos / pc->page_size;
		size_t in_page = (size_t)(pos % pc->page_size), n;
		lc_page p;
		int rc = lc_get(pc->cache, &h->key, idx, flags, fetch_cb, h->inner, &p);

		if (rc < 0)
			return rc; /* not the bytes before it: see pc_read_segs */
		if (p.len <= in_page) {
			lc_page_release(&p);
			break;
		}
		n = p.len - in_page;
		if (n > len - done)
			n = len - done;
		if (p.mem) {
			memcpy((char *)buf + done, (char *)p.mem + in_page, n);
		} else {
			ssize_t r = pread(p.fd, (char *)buf + done, n, p.fd_offset + (off_t)in_page);
			if (r != (ssize_t)n) {
				lc_page_release(&p);
				return -EIO;
			}
		}
		account(pc, &p, n);
		lc_page_release(&p);
		done += n;
	}
	return (ssize_t)done;
}

static void release_pages(dfs_readbuf *rb)
{
	for (int i = 0; i < rb->nseg; i++) {
		lc_page_release(rb->priv[i]);
		free(rb->priv[i]);
		rb->priv[i] = NULL;
	}
}

static int pc_read_segs(dfs_handle *dh, size_t len, uint64_t off, dfs_readbuf *out)
{
	pc_handle *h = (pc_handle *)dh;
	page_cache_source *pc = (page_cache_source *)dh->src;
	uint64_t first = off / pc->page_size, last;
	size_t done = 0;
	unsigned flags;
	int rc = 0;

	if (off >= dh->attr.size || len == 0)
		return 0;
	if (len > dh->attr.size - off)
		len = (size_t)(dh->attr.size - off);
	last = (off + len - 1) / pc->page_size;
	if (last - first + 1 > DFS_READ_MAX_SEGS)
		return dfs_read_copy(dh, len, off, out); /* small pages, large request */
	atomic_fetch_add(&pc->reads, 1);
	flags = note_read(pc, h, off, len);
	out->release = release_pages;
	out->where = DFS_FROM_PAGE_CACHE;
	while (done < len) {
		uint64_t pos = off + done, idx = pos / pc->page_size;
		size_t in_page = (size_t)(pos % pc->page_size), n;
		lc_page *p = malloc(sizeof(*p));

		if (!p) {
			rc = -ENOMEM;
			break;
		}
		rc = lc_get(pc->cache, &h->key, idx, flags, fetch_cb, h->inner, p);
		if (rc < 0) {
			free(p);
			break;
		}
		if (p->len <= in_page) {
			lc_page_release(p);
			free(p);
			break;
		}
		n = p->len - in_page;
		if (n > len - done)
			n = len - done;
		if (!p->from_cache)
			out->where = DFS_FROM_UFS;
		account(pc, p, n);
		out->seg[out->nseg] = p->mem
			? (dfs_seg){ .fd = -1, .mem = (char *)p->mem + in_page, .len = n }
			: (dfs_seg){ .fd = p->fd, .fd_offset = p->fd_offset + (off_t)in_page, .len = n };
		out->priv[out->nseg++] = p;
		out->total += n;
		done += n;
	}
	/* An error after some pages fails the whole read: the pages before it
	 * would make a short reply, which the kernel takes for the end of the
	 * file (it shrinks its size and zero-fills the rest) unless direct_io. */
	if (rc < 0) {
		dfs_readbuf_release(out);
		return rc;
	}
	return 0;
}

static void pc_close(dfs_handle *dh)
{
	pc_handle *h = (pc_handle *)dh;

	dfs_close(h->inner);
	free(h->base.path);
	free(h);
}

static void pc_stats_json(dfs_source *s, void *obj)
{
	page_cache_source *pc = (page_cache_source *)s;
	json_object *o = json_object_new_object();
	lc_stats st;

	lc_get_stats(pc->cache, &st);
#define ADD(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
	ADD("reads", atomic_load(&pc->reads));
	ADD("bytes_from_cache", atomic_load(&pc->bytes_hit));
	ADD("bytes_fetched", atomic_load(&pc->bytes_fetched));
	ADD("capacity", st.capacity);
	ADD("used_bytes", st.used_bytes);
	ADD("pages", st.pages);
	ADD("page_size", pc->page_size);
	ADD("hits", st.hits);
	ADD("misses", st.misses);
	ADD("fetches", st.fetches);
	ADD("evictions", st.evictions);
	ADD("checksum_failures", st.checksum_failures);
	ADD("stale_drops", st.stale_drops);
	ADD("store_errors", st.store_errors);
	ADD("stuck_bytes", st.stuck_bytes);
	ADD("restored_pages", st.restored_pages);
	ADD("prefetches", st.prefetches);
	ADD("deferred_stores", st.deferred_stores);
	ADD("store_queue", st.store_queue);
#undef ADD
	json_object_object_add(o, "degraded", json_object_new_boolean(st.degraded));
	json_object_object_add(o, "direct_write", json_object_new_boolean(st.direct_write));
	json_object_object_add(obj, "page_cache", o);
}

static void pc_destroy(dfs_source *s)
{
	page_cache_source *pc = (page_cache_source *)s;

	lc_close(pc->cache);
	dfs_uri_free(&pc->root);
	free(pc);
}

static const dfs_source_ops pc_ops = {
	.name = "page_cache",
	.stat = pc_stat,
	.list = pc_list,
	.open = pc_open,
	.pread = pc_pread,
	.read_segs = pc_read_segs,
	.close = pc_close,
	.stats_json = pc_stats_json,
	.destroy = pc_destroy,
};

dfs_source *dfs_page_cache_source_new(dfs_source *inner, lc_cache *cache, const dfs_uri *root)
{
	page_cache_source *pc = calloc(1, sizeof(*pc));
	char err[256];

	if (!pc)
		return NULL;
	if (dfs_uri_parse(root->str, &pc->root, err, sizeof(err)) < 0) {
		free(pc);
		return NULL;
	}
	pc->base.ops = &pc_ops;
	pc->base.inner = inner;
	pc->cache = cache;
	pc->page_size = lc_page_size(cache);
	return &pc->base;
}
