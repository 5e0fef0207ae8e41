/*
 * page_index.c: the in-memory index of stored and in-flight pages.
 *
 * The index is cut into LC_SHARDS shards by a hash of (file, index); each has
 * its own mutex, hash table and LRU list, so hits on different pages rarely
 * meet on a lock. Recency is a global counter (lc_cache.tick) stamped on each
 * access: within a shard the list keeps the order, and eviction compares the
 * stamps of the shard tails (published in tail_tick, readable without the
 * lock) to take the globally oldest page.
 *
 * Entries are reference counted because a page handed to a reader must keep
 * its charge against the cap until the reader closes it: an evicted page
 * whose file is still open still occupies the disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "lc_internal.h"

static uint64_t pk_mix(const lc_pkey *k)
{
	uint64_t x = k->file_lo ^ (k->file_hi * 0x9e3779b97f4a7c15ull) ^
		     (k->index * 0xc2b2ae3d27d4eb4full);
	/* murmur3 finaliser: the file hash is already uniform, the index is not. */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static guint pk_hash(gconstpointer p)
{
	/* High bits: the low ones already chose the shard. */
	return (guint)(pk_mix(p) >> 32);
}

static gboolean pk_equal(gconstpointer a, gconstpointer b)
{
	const lc_pkey *x = a, *y = b;
	return x->file_hi == y->file_hi && x->file_lo == y->file_lo &&
	       x->index == y->index;
}

lc_shard *ix_shard(lc_cache *c, const lc_pkey *pk)
{
	return &c->shards[pk_mix(pk) % LC_SHARDS];
}

int ix_init(lc_shard *s)
{
	int rc = pthread_mutex_init(&s->mu, NULL);
	if (rc)
		return -rc;
	rc = pthread_cond_init(&s->cv, NULL);
	if (rc) {
		pthread_mutex_destroy(&s->mu);
		return -rc;
	}
	/* Key and value are the entry itself (a set); the index's reference is
	 * dropped by whoever removes the entry, not by the table. */
	s->map = g_hash_table_new(pk_hash, pk_equal);
	s->head = s->tail = NULL;
	atomic_init(&s->tail_tick, UINT64_MAX);
	return 0;
}

void ix_destroy(lc_cache *c, lc_shard *s)
{
	GHashTableIter it;
	gpointer key;

	(void)c;
	if (!s->map)
		return;
	g_hash_table_iter_init(&it, s->map);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		lc_entry *e = key;
		e->state = LC_GONE;
		g_hash_table_iter_remove(&it);
		ix_unref(e);
	}
	g_hash_table_destroy(s->map);
	s->map = NULL;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

lc_entry *ix_new_entry(lc_cache *c, const lc_pkey *pk)
{
	lc_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pk = *pk;
	e->cache = c;
	e->state = LC_FETCHING;
	atomic_init(&e->refs, 1);
	return e;
}

lc_entry *ix_find(lc_shard *s, const lc_pkey *pk)
{
	return g_hash_table_lookup(s->map, pk);
}

void ix_insert(lc_shard *s, lc_entry *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	g_hash_table_add(s->map, e);
}

static void publish_tail(lc_shard *s)
{
	atomic_store_explicit(&s->tail_tick, s->tail ? s->tail->tick : UINT64_MAX,
			      memory_order_relaxed);
}

static void lru_unlink(lc_shard *s, lc_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_head(lc_shard *s, lc_entry *e)
{
	e->prev = NULL;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
}

void ix_make_ready(lc_cache *c, lc_shard *s, lc_entry *e, uint64_t tick)
{
	(void)c;
	e->state = LC_READY;
	e->tick = tick;
	lru_push_head(s, e);
	s->pages++;
	publish_tail(s);
}

void ix_touch(lc_cache *c, lc_shard *s, lc_entry *e)
{
	bool was_tail = s->tail == e;

	e->tick = atomic_fetch_add_explicit(&c->tick, 1, memory_order_relaxed) + 1;
	if (s->head != e) {
		lru_unlink(s, e);
		lru_push_head(s, e);
	}
	/* Also when e stays the tail (alone in its shard): its stamp changed. */
	if (was_tail)
		publish_tail(s);
}

void ix_file_stuck(lc_cache *c, lc_entry *e, const char *name)
{
	/* Releasing the charge would let new pages fill the cap on top of a
	 * file still on the disk (a read-only or failing disk; after a
	 * remount read-write the cap was exceeded twice over). The charge is
	 * kept for the daemon's life; a restart finds and indexes the file. */
	int err = errno;

	e->stuck = true;
	atomic_fetch_add(&c->stuck_bytes, e->charge);
	if (!atomic_exchange(&c->stuck_logged, true))
		lc_logf(c, LOG_WARNING, "%s: cannot remove page file %s (%s): its bytes stay charged "
			"to the cap until a restart (stat stuck_bytes; logged once)", c->dir, name,
			g_strerror(err));
}

void ix_remove(lc_cache *c, lc_shard *s, lc_entry *e, bool unlink_file)
{
	g_hash_table_remove(s->map, &e->pk);
	if (e->state == LC_READY) {
		lru_unlink(s, e);
		s->pages--;
		publish_tail(s);
		if (unlink_file) {
			char name[LC_NAME_MAX];
			pf_page_name(&e->pk, name);
			/* Under the shard lock: once the entry is gone another thread
			 * may publish a new page under this name, which an unlink done
			 * later would destroy. ENOENT just means someone beat us. */
			if (unlinkat(c->rootfd, name, 0) < 0 && errno != ENOENT)
				ix_file_stuck(c, e, name);
		}
	}
	e->state = LC_GONE;
}

void ix_ref(lc_entry *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void ix_unref(lc_entry *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Last holder: the page's file is closed everywhere, its blocks are
	 * free now, so its charge may go. */
	if (e->charge && !e->stuck)
		sp_release(e->cache, e->charge);
	free(e->handoff);
	free(e);
}

bool ix_evict_one(lc_cache *c)
{
	/* Bounded: each round either evicts or saw a tail vanish under it,
	 * which only happens while other threads drain the cache. */
	for (unsigned round = 0; round < 4 * LC_SHARDS; round++) {
		uint64_t best = UINT64_MAX;
		lc_shard *s = NULL;
		lc_entry *e;

		for (unsigned i = 0; i < LC_SHARDS; i++) {
			uint64_t t = atomic_load_explicit(&c->shards[i].tail_tick,
							  memory_order_relaxed);
			if (t < best) {
				best = t;
				s = &c->shards[i];
			}
		}
		if (!s)
			return false;
		pthread_mutex_lock(&s->mu);
		e = s->tail;
		if (!e) {
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		ix_remove(c, s, e, true);
		s->evictions++;
		pthread_mutex_unlock(&s->mu);
		ix_unref(e);
		return true;
	}
	return false;
}

void ix_restore_insert(lc_cache *c, lc_entry *e)
{
	lc_shard *s = ix_shard(c, &e->pk);
	uint64_t tick = atomic_fetch_add_explicit(&c->tick, 1, memory_order_relaxed) + 1;

	/* The creator's reference becomes the index's. */
	g_hash_table_add(s->map, e);
	ix_make_ready(c, s, e, tick);
}
