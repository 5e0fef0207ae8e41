/*
 * prefetch.c: warming stored pages into the kernel's page cache ahead of a
 * sequential reader (lc_prefetch). One thread, a bounded ring of hints; the
 * FUSE threads only enqueue, so a cold inode read for openat() never holds
 * up a reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lc_internal.h"

static void warm(lc_cache *c, const lc_pkey *pk)
{
	lc_shard *s = ix_shard(c, pk);
	char name[LC_NAME_MAX];
	lc_entry *e;
	bool ready;
	int fd;

	pthread_mutex_lock(&s->mu);
	e = ix_find(s, pk);
	ready = e && e->state == LC_READY;
	pthread_mutex_unlock(&s->mu);
	if (!ready)
		return;
	/* Unlocked: at worst the page was evicted meanwhile and the open fails,
	 * or the hint warms a file about to be dropped. Neither serves a byte. */
	pf_page_name(pk, name);
	fd = openat(c->rootfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (posix_fadvise(fd, LC_HDR_SIZE, 0, POSIX_FADV_WILLNEED) == 0)
		atomic_fetch_add(&c->prefetches, 1);
	close(fd);
}

static void *prefetch_main(void *arg)
{
	lc_cache *c = arg;

	pthread_mutex_lock(&c->pf_mu);
	for (;;) {
		lc_pkey pk;

		while (!c->pf_stop && c->pf_len == 0)
			pthread_cond_wait(&c->pf_cv, &c->pf_mu);
		if (c->pf_stop)
			break;
		pk = c->pf_ring[c->pf_head];
		c->pf_head = (c->pf_head + 1) % LC_PREFETCH_QUEUE;
		c->pf_len--;
		pthread_mutex_unlock(&c->pf_mu);
		warm(c, &pk);
		pthread_mutex_lock(&c->pf_mu);
	}
	pthread_mutex_unlock(&c->pf_mu);
	return NULL;
}

int prefetch_init(lc_cache *c)
{
	int rc = pthread_mutex_init(&c->pf_mu, NULL);

	if (rc)
		return -rc;
	rc = pthread_cond_init(&c->pf_cv, NULL);
	if (rc) {
		pthread_mutex_destroy(&c->pf_mu);
		return -rc;
	}
	return 0;
}

void prefetch_stop(lc_cache *c)
{
	bool started;

	pthread_mutex_lock(&c->pf_mu);
	c->pf_stop = true;
	started = c->pf_started;
	pthread_cond_broadcast(&c->pf_cv);
	pthread_mutex_unlock(&c->pf_mu);
	if (started)
		pthread_join(c->pf_thread, NULL);
	pthread_cond_destroy(&c->pf_cv);
	pthread_mutex_destroy(&c->pf_mu);
}

void lc_prefetch(lc_cache *c, const lc_key *key, uint64_t index)
{
	lc_pkey pk = { key->file_hi, key->file_lo, index };

	pthread_mutex_lock(&c->pf_mu);
	if (c->pf_stop)
		goto out;
	/* The thread starts with the first hint: lc_open may run before the
	 * process forks into the background, and threads do not survive that. */
	if (!c->pf_started) {
		if (pthread_create(&c->pf_thread, NULL, prefetch_main, c) != 0)
			goto out; /* no thread, no hints: reads still work */
		c->pf_started = true;
	}
	if (c->pf_len == LC_PREFETCH_QUEUE) {
		atomic_fetch_add(&c->prefetch_drops, 1);
		goto out;
	}
	c->pf_ring[(c->pf_head + c->pf_len) % LC_PREFETCH_QUEUE] = pk;
	c->pf_len++;
	pthread_cond_signal(&c->pf_cv);
out:
	pthread_mutex_unlock(&c->pf_mu);
}
