/*
 * page_cache.c: the lc_* API on top of the index, the page files and the
 * space accounting.
 *
 * Locking (who guards what):
 *
 *   lc_shard.mu  guards the shard's hash table, LRU list and counters, and
 *                every field of the entries in that shard except refs and
 *                charge. A page file's name belongs to the entry of its key
 *                in the index: a drop or eviction unlinks it under mu as the
 *                entry leaves, and only the thread that owns an in-flight
 *                entry renames a new file into it (unlocked: nobody else
 *                touches a name whose entry is in flight). A hit opens the
 *                name unlocked, pinning the entry, and keeps the descriptor
 *                only if the entry is still READY when it relocks: a name is
 *                reused only after its entry left the index, and an entry
 *                that left never comes back. So a reader never gets another
 *                version's file, and no syscall but an unlink runs under mu.
 *                No function holds two shard locks at once.
 *   lc_shard.cv  with mu: waiters of in-flight entries of that shard.
 *   lc_cache.fs_mu  one statvfs refresh at a time; never held with a shard lock.
 *   lc_cache.buf_mu the pool of free page buffers (page_buf.c); a leaf lock.
 *   atomics      lc_cache.tick (recency), used/pending/eff_cap (space.c),
 *                degraded/retry_at_ns, fetches/store_errors/restored,
 *                lc_entry.refs, lc_shard.tail_tick.
 *   lc_entry.charge is written by the single thread that stores the page,
 *                before it is published, and read by the last ix_unref.
 *
 * The hit path: lock the shard, look up, pin, unlock, open, lock, check,
 * LRU bump, unlock. No global lock; the only syscall is the open (plus, every
 * LC_STAMP_EVERY_S per page, an atime update).
 *
 * Slow work (fetching, writing a page, verifying a restored page) happens
 * with no lock held; an entry it works on is pinned with a reference and
 * rechecked after relocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lc_internal.h"

void lc_make_key(lc_key *key, const char *uri, const char *version)
{
	XXH128_hash_t h;

	if (!uri)
		uri = "";
	if (!version)
		version = "";
	h = XXH3_128bits(uri, strlen(uri));
	key->file_hi = h.high64;
	key->file_lo = h.low64;
	key->version = XXH3_64bits(version, strlen(version));
}

uint32_t lc_page_size(const lc_cache *c)
{
	return c->page_size;
}

static void page_init(lc_page *p)
{
	p->fd = -1;
	p->fd_offset = 0;
	p->mem = NULL;
	p->len = 0;
	p->from_cache = false;
	p->pin = NULL;
	p->store = NULL;
	p->owner = NULL;
	p->shared = NULL;
}

static int store_page(lc_cache *c, lc_entry *e, uint64_t version,
		      void *data, uint32_t len);
static int write_page(lc_cache *c, lc_entry *e, uint64_t version,
		      void *data, uint32_t len, uint64_t reserved);
static bool finish_inflight(lc_cache *c, lc_shard *s, lc_entry *e, bool stored,
			    const void *data, uint32_t len, int err);

static void store_fetched(lc_cache *c, lc_entry *e, void *buf, uint32_t len)
{
	int rc = store_page(c, e, e->version, buf, len);

	finish_inflight(c, ix_shard(c, &e->pk), e, rc == 0, buf, len, 0);
	ix_unref(e);
}

void pc_store_queued(sq_job *j)
{
	lc_cache *c = j->c;
	lc_entry *e = j->e;
	lc_shard *s = ix_shard(c, &e->pk);
	bool doomed;
	int rc;

	pthread_mutex_lock(&s->mu);
	doomed = e->doomed;
	pthread_mutex_unlock(&s->mu);
	if (doomed) {
		/* Invalidated while queued: the write would only be unlinked. */
		sp_cancel(c, j->reserved);
		rc = -ECANCELED;
	} else {
		rc = write_page(c, e, e->version, j->buf, j->len, j->reserved);
	}
	finish_inflight(c, s, e, rc == 0, j->buf, j->len, 0);
	ix_unref(e);
	sq_job_unref(j);
}

/*
 * Hand the miss's page to the writer threads: true if they took it, with
 * the buffer and our reference on e. The room on disk is reserved here,
 * at the releasing thread's priority: reserving may evict, and evicting
 * takes shard locks that an idle-priority thread must not sit on.
 */
static bool defer_store(lc_cache *c, lc_entry *e, void *buf, uint32_t len)
{
	lc_shard *s = ix_shard(c, &e->pk);
	uint64_t reserved = sp_page_bytes(c, LC_HDR_SIZE + (uint64_t)len);
	sq_job *j;

	if (c->sq_max == 0 || !sp_may_store(c) || !sq_claim(c))
		return false; /* off, degraded or full: store_page decides */
	if (sp_reserve(c, reserved) != 0)
		goto unclaim; /* store_page fails the same way and reports it */
	j = malloc(sizeof(*j));
	if (!j)
		goto cancel;
	*j = (sq_job){ .c = c, .e = e, .buf = buf, .len = len, .reserved = reserved };
	atomic_init(&j->refs, 1); /* the writer's */
	pthread_mutex_lock(&s->mu);
	e->queued = j;
	e->len = len;
	if (e->waiters)
		pthread_cond_broadcast(&s->cv); /* they can share the bytes now */
	pthread_mutex_unlock(&s->mu);
	sq_push(c, j);
	return true;

cancel:
	sp_cancel(c, reserved);
unclaim:
	sq_unclaim(c);
	return false;
}

void lc_page_release(lc_page *p)
{
	if (!p)
		return;
	if (p->store) {
		/* The miss's page, after its reader had the bytes: have it
		 * stored and published (see fetch_and_store). */
		lc_entry *e = p->store;
		lc_cache *c = e->cache;

		if (defer_store(c, e, p->mem, (uint32_t)p->len)) {
			atomic_fetch_sub(&c->pages_out, 1);
			page_init(p);
			return;
		}
		store_fetched(c, e, p->mem, (uint32_t)p->len);
	}
	if (p->fd >= 0)
		close(p->fd);
	if (p->owner) {
		lc_buf_free(p->owner, p->mem);
		atomic_fetch_sub(&p->owner->pages_out, 1);
	}
	if (p->shared) {
		sq_job *j = p->shared;
		atomic_fetch_sub(&j->c->pages_out, 1);
		sq_job_unref(j);
	}
	if (p->pin) {
		lc_entry *e = p->pin;
		atomic_fetch_sub(&e->cache->pages_out, 1);
		/* After the close: the charge may go once the blocks are free. */
		ix_unref(e);
	}
	page_init(p);
}

void lc_flush(lc_cache *c)
{
	if (c)
		sq_flush(c);
}

/* A page whose bytes are in buf, one of c's page buffers. Counted in
 * pages_out like a hit: releasing it after lc_close would return the
 * buffer to a freed pool (and store into a freed cache, for a miss). */
static void serve_buf(lc_cache *c, void *buf, size_t len, lc_page *out)
{
	out->owner = c;
	out->mem = buf;
	out->len = len;
	out->from_cache = false;
	atomic_fetch_add(&c->pages_out, 1);
}

static void serve_fd(lc_cache *c, lc_entry *e, int fd, bool from_cache, lc_page *out)
{
	out->fd = fd;
	out->fd_offset = LC_HDR_SIZE;
	out->len = e->len;
	out->from_cache = from_cache;
	out->pin = e; /* the caller's reference on e moves to the page */
	atomic_fetch_add(&c->pages_out, 1);
}

/* Hand over a memory copy (len <= page_size). Never NULL, even for 0 bytes,
 * so that "fd >= 0 or mem != NULL" holds for every page. */
static int serve_copy(lc_cache *c, const void *data, size_t len, lc_page *out)
{
	void *m = lc_buf_alloc(c);
	if (!m)
		return -ENOMEM;
	if (len)
		memcpy(m, data, len);
	serve_buf(c, m, len, out);
	return 0;
}

static int run_fetch(lc_cache *c, lc_fetch_fn fetch, void *arg, uint64_t index,
		     void *buf)
{
	ssize_t n;

	atomic_fetch_add(&c->fetches, 1);
	n = fetch(arg, index * c->page_size, buf, c->page_size);
	if (n < 0)
		return n < -4095 ? -EIO : (int)n;
	if ((size_t)n > c->page_size)
		return -EIO; /* a callback overran the buffer: do not trust it */
	return (int)n;
}

/* Fetch into memory, leaving the index alone: the page file cannot be opened
 * (fd limit, ...) but the reader must still get its bytes. */
static int fetch_bypass(lc_cache *c, lc_fetch_fn fetch, void *arg, uint64_t index,
			lc_page *out)
{
	void *buf = lc_buf_alloc(c);
	int n;

	if (!buf)
		return -ENOMEM;
	n = run_fetch(c, fetch, arg, index, buf);
	if (n < 0) {
		lc_buf_free(c, buf);
		return n;
	}
	serve_buf(c, buf, (size_t)n, out); /* the reader takes the buffer, as in fetch_and_store */
	return 0;
}

/*
 * Write the page to a temp file and rename it into place, with `reserved`
 * bytes (sp_page_bytes of it) already reserved by store_page or
 * defer_store. On success e->charge is its charge. Does not publish. A
 * stream entry's data is in a page buffer (lc_buf_alloc), which O_DIRECT
 * can write as it is.
 */
static int write_page(lc_cache *c, lc_entry *e, uint64_t version,
		      void *data, uint32_t len, uint64_t reserved)
{
	char tmp[48], name[LC_NAME_MAX];
	lc_header h = {
		.page_size = c->page_size,
		.data_len = len,
		.file_hi = e->pk.file_hi,
		.file_lo = e->pk.file_lo,
		.version = version,
		.index = e->pk.index,
	};
	uint64_t actual;
	struct stat st;
	const char *what;
	bool want_direct = e->stream && len >= LC_DIRECT_MIN && atomic_load(&c->direct);
	bool direct = want_direct;
	int rc, wfd;

	snprintf(tmp, sizeof(tmp), "%ld-%" PRIu64, (long)getpid(),
		 atomic_fetch_add(&c->tmp_seq, 1));
	what = "write";
	rc = pf_write_temp(c->tmpfd, tmp, &h, data, &direct, &wfd);
	if (want_direct && !direct && atomic_exchange(&c->direct, false))
		lc_logf(c, LOG_INFO, "%s: the file system refuses O_DIRECT; writing pages buffered",
			c->dir);
	if (rc) {
		sp_cancel(c, reserved);
		goto fail;
	}
	/* The writer's descriptor is closed before measuring: closing is when
	 * XFS trims the blocks it speculatively allocated past the end. */
	close(wfd);
	if (fstatat(c->tmpfd, tmp, &st, 0) < 0) {
		rc = -errno;
		sp_cancel(c, reserved);
		goto fail_file;
	}
	actual = (uint64_t)st.st_blocks * 512;
	if (actual < reserved)
		actual = reserved;
	what = "free-space floor";
	rc = sp_settle(c, reserved, actual);
	if (rc)
		goto fail_file;

	/* The name is ours while the entry is in flight: nobody opens or
	 * unlinks it, so no lock is needed to rename into it. */
	pf_page_name(&e->pk, name);
	what = "rename";
	if (renameat(c->tmpfd, tmp, c->rootfd, name) < 0) {
		rc = -errno;
		if (rc == -ENOENT) {
			/* Fan-out folders are made on first use. */
			char fan[3];
			pf_fanout_name(e->pk.file_hi, fan);
			if (mkdirat(c->rootfd, fan, 0755) == 0 || errno == EEXIST)
				rc = renameat(c->tmpfd, tmp, c->rootfd, name) < 0 ? -errno : 0;
			else
				what = "mkdir", rc = -errno;
		}
		if (rc) {
			sp_release(c, actual);
			goto fail_file;
		}
	}
	e->charge = actual;
	sp_store_ok(c);
	return 0;

fail_file:
	unlinkat(c->tmpfd, tmp, 0);
fail:
	sp_store_failed(c, rc, what);
	return rc;
}

/* Reserve room for the page (evicting as needed), then write it. */
static int store_page(lc_cache *c, lc_entry *e, uint64_t version,
		      void *data, uint32_t len)
{
	uint64_t reserved = sp_page_bytes(c, LC_HDR_SIZE + (uint64_t)len);
	int rc;

	if (!sp_may_store(c))
		return -EAGAIN; /* degraded: not an attempt, not an error */
	rc = sp_reserve(c, reserved);
	if (rc) {
		sp_store_failed(c, rc, "free-space floor");
		return rc;
	}
	return write_page(c, e, version, data, len, reserved);
}

/*
 * End an in-flight entry we created, under no lock. stored: the page file is
 * in place (fd open). Publishes it unless invalidated meanwhile; otherwise
 * takes it out of the index and leaves the bytes for the waiters.
 * Returns true if published. Consumes the index's reference, not ours.
 */
static bool finish_inflight(lc_cache *c, lc_shard *s, lc_entry *e, bool stored,
			    const void *data, uint32_t len, int err)
{
	bool published = false;

	pthread_mutex_lock(&s->mu);
	e->len = len;
	e->queued = NULL; /* no new reader shares its buffer after this */
	if (stored && !e->doomed) {
		e->verified = true;
		e->stamp = lc_wall_s();
		ix_make_ready(c, s, e, atomic_fetch_add(&c->tick, 1) + 1);
		published = true;
	} else {
		if (stored) {
			/* Invalidated while we wrote: our name, our file to remove. */
			char name[LC_NAME_MAX];
			pf_page_name(&e->pk, name);
			if (unlinkat(c->rootfd, name, 0) < 0 && errno != ENOENT)
				ix_file_stuck(c, e, name);
		}
		ix_remove(c, s, e, false);
		e->err = err;
		/* Bytes for the waiters, so they need not fetch again. If the
		 * copy fails they find neither bytes nor error and fetch. */
		if (!err && e->waiters && data)
			e->handoff = g_memdup2(data, len ? len : 1);
		ix_unref(e); /* the index's; ours keeps e alive */
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return published;
}

/* The miss: fetch, then hand the buffer to the reader; lc_page_release
 * stores and publishes it. e is in flight, in the index, and we hold a
 * reference of our own on it, which moves to the page. Replying from memory
 * is one write to the kernel, where serving the new file would cost a second
 * open of it and a splice through a pipe; storing after the reply takes the
 * cache disk off the reader's path (a sequential reader's next page is
 * handled on another thread meanwhile). Waiters for the page wait until it
 * is stored. */
static int fetch_and_store(lc_cache *c, lc_shard *s, lc_entry *e,
			   lc_fetch_fn fetch, void *arg, lc_page *out)
{
	void *buf = lc_buf_alloc(c);
	int n;

	if (!buf) {
		finish_inflight(c, s, e, false, NULL, 0, -ENOMEM);
		ix_unref(e);
		return -ENOMEM;
	}
	n = run_fetch(c, fetch, arg, e->pk.index, buf);
	if (n < 0) {
		finish_inflight(c, s, e, false, NULL, 0, n);
		lc_buf_free(c, buf);
		ix_unref(e);
		return n;
	}
	serve_buf(c, buf, (size_t)n, out);
	if (n == 0) {
		/* Past EOF: nothing worth a file. */
		finish_inflight(c, s, e, false, buf, 0, 0);
		ix_unref(e);
		return 0;
	}
	out->store = e;
	return 0;
}

/*
 * Wait for an in-flight entry (under s->mu, which the wait releases).
 * Returns 1 to look the page up again, 0 when out holds the waited-for bytes,
 * or the fetcher's -errno.
 */
static int wait_inflight(lc_shard *s, lc_entry *e, uint64_t version, lc_page *out)
{
	int rc = 1;

	ix_ref(e);
	e->waiters++;
	while (e->state == LC_FETCHING && !e->queued)
		pthread_cond_wait(&s->cv, &s->mu);
	e->waiters--;
	if (e->state == LC_FETCHING) {
		/* Fetched, waiting for a writer thread. Our version: share
		 * its bytes rather than wait for a low-priority write. Another
		 * version: look again (get_page fetches around it). */
		if (e->version == version) {
			sq_job *j = e->queued;
			atomic_fetch_add(&j->refs, 1);
			out->mem = j->buf;
			out->len = j->len;
			out->from_cache = false;
			out->shared = j;
			atomic_fetch_add(&j->c->pages_out, 1);
			rc = 0;
		}
	} else if (e->state == LC_GONE && e->version == version) {
		/* READY: look again and take the stored page. Another version:
		 * look again, the page will be dropped as stale. */
		if (e->err)
			rc = e->err;
		else if (e->handoff)
			rc = serve_copy(e->cache, e->handoff, e->len, out);
	}
	ix_unref(e);
	return rc;
}

/* Drop e, found damaged or stale by pf_verify (under s->mu). */
static void drop_bad(lc_cache *c, lc_shard *s, lc_entry *e, enum pf_verdict v)
{
	switch (v) {
	case PF_OK:
		return;
	case PF_STALE:
		s->stale_drops++;
		break;
	case PF_CORRUPT:
		s->checksum_failures++;
		lc_logf(c, LOG_WARNING, "dropping corrupt page %016" PRIx64 "%016" PRIx64 "-%" PRIu64,
			e->pk.file_hi, e->pk.file_lo, e->pk.index);
		break;
	case PF_IOERR:
		lc_logf(c, LOG_WARNING, "dropping unreadable page %016" PRIx64 "%016" PRIx64 "-%" PRIu64,
			e->pk.file_hi, e->pk.file_lo, e->pk.index);
		break;
	}
	ix_remove(c, s, e, true);
	ix_unref(e); /* the index's */
}

/* lc_get (fetch != NULL) and lc_lookup (fetch == NULL). */
static int get_page(lc_cache *c, const lc_key *key, uint64_t index, unsigned flags,
		    lc_fetch_fn fetch, void *arg, lc_page *out)
{
	lc_pkey pk = {key->file_hi, key->file_lo, index};
	lc_shard *s = ix_shard(c, &pk);
	bool counted = false;
	lc_entry *e;

	page_init(out);
	if (fetch && index > UINT64_MAX / c->page_size)
		return -EINVAL;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		char name[LC_NAME_MAX];
		int fd, rc;

		e = ix_find(s, &pk);
		if (!e)
			break;
		if (e->state == LC_FETCHING) {
			if (!counted)
				s->misses++;
			counted = true;
			if (!fetch)
				goto unlock_miss;
			if (e->queued && e->version != key->version) {
				/* Another version waiting to be written: it will be
				 * dropped as stale once stored, so do not wait. */
				pthread_mutex_unlock(&s->mu);
				return fetch_bypass(c, fetch, arg, index, out);
			}
			rc = wait_inflight(s, e, key->version, out);
			if (rc <= 0) {
				pthread_mutex_unlock(&s->mu);
				return rc;
			}
			continue;
		}
		if (e->verified && e->version != key->version) {
			/* The file changed: this page can never be served again. */
			s->stale_drops++;
			ix_remove(c, s, e, true);
			ix_unref(e);
			continue;
		}
		/*
		 * Open (and verify) without the lock, so that other pages of
		 * the shard are not held up by a syscall. The file opened is
		 * e's if e is still READY when we relock: its name could only
		 * have been unlinked or reused after e left the index, and an
		 * entry that left never comes back.
		 */
		bool verify = !e->verified || c->verify_every_read;
		enum pf_verdict v = PF_OK;
		ix_ref(e);
		pthread_mutex_unlock(&s->mu);
		pf_page_name(&pk, name);
		fd = openat(c->rootfd, name, O_RDONLY | O_CLOEXEC);
		rc = fd < 0 ? -errno : 0;
		if (fd >= 0 && verify)
			v = pf_verify(fd, &pk, c->page_size, e->len, &key->version, NULL);
		pthread_mutex_lock(&s->mu);
		if (e->state != LC_READY) {
			/* Dropped meanwhile (and counted by whoever did): look again. */
			if (fd >= 0)
				close(fd);
			ix_unref(e);
			continue;
		}
		if (rc == -ENOENT) {
			/* Removed behind our back: forget it and refetch. */
			ix_remove(c, s, e, false);
			ix_unref(e); /* the index's */
			ix_unref(e);
			continue;
		}
		if (rc && rc != -EMFILE && rc != -ENFILE && rc != -ENOMEM && rc != -EINTR) {
			/* The file itself is the trouble (EIO, ELOOP, EACCES...):
			 * drop the page and fetch it anew, rather than fetch
			 * around it on every read while it holds its charge. */
			drop_bad(c, s, e, PF_IOERR);
			ix_unref(e);
			continue;
		}
		if (rc) {
			/* Out of descriptors or memory: serve without the cache. */
			pthread_mutex_unlock(&s->mu);
			ix_unref(e);
			if (!fetch)
				return rc;
			return fetch_bypass(c, fetch, arg, index, out);
		}
		if (v != PF_OK) {
			drop_bad(c, s, e, v);
			close(fd);
			ix_unref(e);
			continue;
		}
		if (verify) {
			e->verified = true;
			e->version = key->version;
		}
		ix_touch(c, s, e);
		if (!counted)
			s->hits++;
		uint32_t now = lc_wall_s();
		bool stamp = now - e->stamp >= c->stamp_every_s;
		if (stamp)
			e->stamp = now;
		pthread_mutex_unlock(&s->mu);
		if (stamp) {
			/* atime only: mtime stays the write time. Failure just
			 * makes the next start's LRU order coarser. */
			const struct timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
			futimens(fd, t);
		}
		serve_fd(c, e, fd, true, out);
		return 0;
	}

	/* Miss. */
	if (!counted)
		s->misses++;
	if (!fetch)
		goto unlock_miss;
	e = ix_new_entry(c, &pk);
	if (!e) {
		pthread_mutex_unlock(&s->mu);
		return fetch_bypass(c, fetch, arg, index, out);
	}
	e->version = key->version;
	e->stream = flags & LC_STREAM;
	ix_insert(s, e);
	pthread_mutex_unlock(&s->mu);
	return fetch_and_store(c, s, e, fetch, arg, out);

unlock_miss:
	pthread_mutex_unlock(&s->mu);
	return -ENOENT;
}

int lc_get(lc_cache *c, const lc_key *key, uint64_t index, unsigned flags,
	   lc_fetch_fn fetch, void *arg, lc_page *out)
{
	if (!c || !key || !fetch || !out)
		return -EINVAL;
	return get_page(c, key, index, flags, fetch, arg, out);
}

int lc_lookup(lc_cache *c, const lc_key *key, uint64_t index, lc_page *out)
{
	if (!c || !key || !out)
		return -EINVAL;
	return get_page(c, key, index, 0, NULL, NULL, out);
}

int lc_put(lc_cache *c, const lc_key *key, uint64_t index, const void *data, size_t len)
{
	lc_pkey pk;
	lc_shard *s;
	lc_entry *e;
	int rc;

	if (!c || !key || (!data && len) || len > c->page_size)
		return -EINVAL;
	if (len == 0)
		return 0; /* past EOF: never stored */
	pk = (lc_pkey){key->file_hi, key->file_lo, index};
	s = ix_shard(c, &pk);

	pthread_mutex_lock(&s->mu);
	e = ix_find(s, &pk);
	if (e && e->state == LC_FETCHING) {
		/* Someone is storing it right now. */
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	if (e && e->verified && e->version == key->version) {
		/* Already there; a prefetch announces a use, so count it as one. */
		ix_touch(c, s, e);
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	if (e) {
		/* Another version, or unverified: the caller's bytes are
		 * authoritative, replace the page. */
		if (e->verified)
			s->stale_drops++;
		ix_remove(c, s, e, true);
		ix_unref(e);
	}
	e = ix_new_entry(c, &pk);
	if (!e) {
		pthread_mutex_unlock(&s->mu);
		return -ENOMEM;
	}
	e->version = key->version;
	ix_insert(s, e);
	pthread_mutex_unlock(&s->mu);

	/* Not a stream entry, so written buffered: the caller's bytes have no
	 * room for the header O_DIRECT needs in front, and are only read. */
	rc = store_page(c, e, key->version, (void *)data, (uint32_t)len);
	finish_inflight(c, s, e, rc == 0, data, (uint32_t)len, 0);
	ix_unref(e);
	return rc;
}

void lc_invalidate_file(lc_cache *c, const lc_key *key)
{
	GPtrArray *drop;

	if (!c || !key)
		return;
	drop = g_ptr_array_new();
	/* Pages of one file are spread over all shards by design (so a file's
	 * hot pages do not share a lock); invalidation is rare, so it scans. */
	for (unsigned i = 0; i < LC_SHARDS; i++) {
		lc_shard *s = &c->shards[i];
		GHashTableIter it;
		gpointer k;

		pthread_mutex_lock(&s->mu);
		g_hash_table_iter_init(&it, s->map);
		while (g_hash_table_iter_next(&it, &k, NULL)) {
			lc_entry *e = k;
			if (e->pk.file_hi != key->file_hi || e->pk.file_lo != key->file_lo)
				continue;
			if (e->state == LC_FETCHING)
				e->doomed = true; /* its writer will not publish it */
			else
				g_ptr_array_add(drop, e);
		}
		/* Removal changes the table: not while iterating it. */
		for (guint j = 0; j < drop->len; j++) {
			lc_entry *e = drop->pdata[j];
			ix_remove(c, s, e, true);
			ix_unref(e);
		}
		g_ptr_array_set_size(drop, 0);
		pthread_mutex_unlock(&s->mu);
	}
	g_ptr_array_free(drop, TRUE);
}

void lc_get_stats(lc_cache *c, lc_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	for (unsigned i = 0; i < LC_SHARDS; i++) {
		lc_shard *s = &c->shards[i];
		pthread_mutex_lock(&s->mu);
		out->pages += s->pages;
		out->hits += s->hits;
		out->misses += s->misses;
		out->evictions += s->evictions;
		out->checksum_failures += s->checksum_failures;
		out->stale_drops += s->stale_drops;
		pthread_mutex_unlock(&s->mu);
	}
	out->capacity = atomic_load(&c->eff_cap);
	out->used_bytes = atomic_load(&c->used);
	out->fetches = atomic_load(&c->fetches);
	out->store_errors = atomic_load(&c->store_errors);
	out->restored_pages = atomic_load(&c->restored);
	out->stuck_bytes = atomic_load(&c->stuck_bytes);
	out->prefetches = atomic_load(&c->prefetches);
	out->deferred_stores = atomic_load(&c->deferred_stores);
	out->store_queue = sq_queued(c);
	out->degraded = atomic_load(&c->degraded);
	out->direct_write = atomic_load(&c->direct);
}

static void cache_free(lc_cache *c)
{
	/* First: the prefetch thread reads the index and the root fd, and
	 * the writers write into both. */
	prefetch_stop(c);
	sq_stop(c);
	for (unsigned i = 0; i < LC_SHARDS; i++)
		ix_destroy(c, &c->shards[i]);
	pthread_mutex_destroy(&c->fs_mu);
	lc_buf_pool_clear(c);
	pthread_mutex_destroy(&c->buf_mu);
	if (c->rootfd >= 0)
		close(c->rootfd);
	if (c->tmpfd >= 0)
		close(c->tmpfd);
	if (c->v1fd >= 0)
		close(c->v1fd);
	/* Last: closing it releases the folder to the next process. */
	if (c->lockfd >= 0)
		close(c->lockfd);
	free(c->dir);
	free(c);
}

int lc_open(const lc_options *opt, lc_cache **out, char *err, size_t errlen)
{
	char dummy[1];
	lc_cache *c = NULL;
	int rc;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (errlen)
		err[0] = '\0';
	if (!opt || !out || !opt->dir || !opt->dir[0]) {
		snprintf(err, errlen, "localcache: no cache folder given");
		return -EINVAL;
	}
	*out = NULL;
	if (opt->capacity == 0) {
		snprintf(err, errlen, "localcache: capacity must be > 0");
		return -EINVAL;
	}
	if (opt->page_size > LC_MAX_PAGE_SIZE) {
		snprintf(err, errlen, "localcache: page size %u over the %u maximum",
			 opt->page_size, LC_MAX_PAGE_SIZE);
		return -EINVAL;
	}
	if (!(opt->min_free_ratio >= 0 && opt->min_free_ratio < 1.0)) {
		snprintf(err, errlen, "localcache: min_free_ratio must be in [0, 1)");
		return -EINVAL;
	}

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "localcache: out of memory");
		return -ENOMEM;
	}
	c->rootfd = c->tmpfd = c->v1fd = c->lockfd = -1;
	c->page_size = opt->page_size ? opt->page_size : LC_DEFAULT_PAGE_SIZE;
	c->capacity = opt->capacity;
	c->min_free_ratio = opt->min_free_ratio;
	c->verify_every_read = opt->verify_every_read;
	atomic_init(&c->direct, !opt->buffered_write);
	c->stamp_every_s = LC_STAMP_EVERY_S;
	c->log = opt->log;
	c->retry_ns = (int64_t)(opt->retry_after_ms ? opt->retry_after_ms :
				LC_DEFAULT_RETRY_MS) * 1000000;
	atomic_init(&c->tick, 0);
	atomic_init(&c->tmp_seq, 0);
	atomic_init(&c->fetches, 0);
	atomic_init(&c->store_errors, 0);
	atomic_init(&c->restored, 0);
	atomic_init(&c->pages_out, 0);
	c->dir = strdup(opt->dir);
	if (!c->dir) {
		free(c);
		snprintf(err, errlen, "localcache: out of memory");
		return -ENOMEM;
	}
	rc = pthread_mutex_init(&c->fs_mu, NULL);
	if (rc) {
		free(c->dir);
		free(c);
		snprintf(err, errlen, "localcache: %s", g_strerror(rc));
		return -rc;
	}
	rc = pthread_mutex_init(&c->buf_mu, NULL);
	if (rc) {
		pthread_mutex_destroy(&c->fs_mu);
		free(c->dir);
		free(c);
		snprintf(err, errlen, "localcache: %s", g_strerror(rc));
		return -rc;
	}
	rc = prefetch_init(c);
	if (rc == 0) {
		rc = sq_init(c, opt->write_behind);
		if (rc)
			prefetch_stop(c);
	}
	if (rc) {
		pthread_mutex_destroy(&c->buf_mu);
		pthread_mutex_destroy(&c->fs_mu);
		free(c->dir);
		free(c);
		snprintf(err, errlen, "localcache: %s", g_strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < LC_SHARDS; i++) {
		rc = ix_init(&c->shards[i]);
		if (rc) {
			snprintf(err, errlen, "localcache: %s", g_strerror(-rc));
			goto fail;
		}
	}
	sp_init(c);

	rc = rs_open_dirs(c, err, errlen);
	if (rc)
		goto fail;
	rc = rs_scan(c, err, errlen);
	if (rc)
		goto fail;
	sp_enforce(c);
	if (c->capacity < sp_page_bytes(c, LC_HDR_SIZE + (uint64_t)c->page_size))
		lc_logf(c, LOG_WARNING, "%s: capacity %" PRIu64 " is below one page: full pages will not be cached",
			c->dir, c->capacity);
	*out = c;
	return 0;

fail:
	cache_free(c);
	return rc;
}

void lc_close(lc_cache *c)
{
	long out;

	if (!c)
		return;
	out = atomic_load(&c->pages_out);
	if (out)
		lc_logf(c, LOG_ERR, "lc_close with %ld pages not released: releasing them later is a use after free",
			out);
	cache_free(c);
}
