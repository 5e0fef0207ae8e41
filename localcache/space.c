/*
 * space.c: how many bytes the cache may hold, and whether it may write.
 *
 * Accounting: lc_cache.used counts every byte the cache has on disk or is
 * about to put there: stored pages, evicted pages a reader still holds open
 * (their blocks are freed only at close), and reservations for pages being
 * written. A page's charge is max(its size rounded up to the allocation
 * unit, st_blocks * 512 after the write), so the real usage of page files
 * never exceeds the charge. A writer reserves before it writes; the
 * reservation fails rather than let used pass the limit, so the cap holds
 * at every instant, not only on average.
 *
 * The limit, eff_cap, is min(capacity, what the free-space floor allows).
 * statvfs is costly and the disk is shared, so it is sampled at most once a
 * second or after 64 MiB written; between samples our own writes and frees
 * are already in `used`, which makes the floor's allowance
 * (avail + our bytes on disk - floor) constant between samples.
 *
 * Degraded mode: when the disk refuses a write (read-only, full, failing)
 * the cache stops trying for retry_ns, serving fetched bytes from memory;
 * then one thread probes with a real store. The transition is logged, not
 * each refusal.
 */
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "lc_internal.h"

#define FS_REFRESH_NS 1000000000ll
#define FS_REFRESH_BYTES (64ull << 20)

void sp_init(lc_cache *c)
{
	atomic_init(&c->used, 0);
	atomic_init(&c->pending, 0);
	atomic_init(&c->eff_cap, c->capacity);
	atomic_init(&c->written, 0);
	atomic_init(&c->fs_checked_ns, 0);
	atomic_init(&c->degraded, false);
	atomic_init(&c->retry_at_ns, 0);
	atomic_init(&c->fs_floor_limited, false);
	c->floor_logged = false;
}

uint64_t sp_page_bytes(const lc_cache *c, uint64_t file_size)
{
	return (file_size + c->blk - 1) / c->blk * c->blk;
}

static void refresh_fs(lc_cache *c, bool force)
{
	int64_t now = lc_now_ns();
	struct statvfs v;

	if (!force &&
	    now - atomic_load(&c->fs_checked_ns) < FS_REFRESH_NS &&
	    atomic_load(&c->written) < FS_REFRESH_BYTES)
		return;
	if (force)
		pthread_mutex_lock(&c->fs_mu);
	else if (pthread_mutex_trylock(&c->fs_mu) != 0)
		return; /* another thread is sampling; its result will do */

	if (fstatvfs(c->rootfd, &v) == 0) {
		uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
		uint64_t cap = c->capacity, avail_cap = UINT64_MAX;
		bool limited = false;

		if (c->min_free_ratio > 0) {
			uint64_t total = (uint64_t)v.f_blocks * unit;
			uint64_t avail = (uint64_t)v.f_bavail * unit;
			uint64_t floor = (uint64_t)(c->min_free_ratio * (double)total);
			uint64_t used = atomic_load(&c->used);
			uint64_t pend = atomic_load(&c->pending);
			/* Reservations may or may not be on disk yet; assuming
			 * not errs towards keeping more free. */
			uint64_t mine = used > pend ? used - pend : 0;
			uint64_t allowed = avail + mine > floor ? avail + mine - floor : 0;
			avail_cap = allowed;
			if (allowed < cap) {
				cap = allowed;
				limited = true;
			}
		}
		/* Logged with hysteresis: near the floor the limit may cross
		 * the capacity at every sample. */
		if (limited && !c->floor_logged) {
			lc_logf(c, LOG_WARNING,
				"%s: keeping %.0f%% of the cache disk free limits the cache to %llu bytes",
				c->dir, c->min_free_ratio * 100, (unsigned long long)cap);
			c->floor_logged = true;
		} else if (!limited && c->floor_logged && cap == c->capacity &&
			   avail_cap >= c->capacity + c->capacity / 16) {
			lc_logf(c, LOG_INFO, "%s: the cache may use its full capacity again", c->dir);
			c->floor_logged = false;
		}
		atomic_store(&c->fs_floor_limited, limited);
		atomic_store(&c->eff_cap, cap);
	} else {
		/* Keep the last limit: failing to sample is no reason to grow. */
		lc_logf(c, LOG_DEBUG, "statvfs %s: %s", c->dir, g_strerror(errno));
	}
	atomic_store(&c->written, 0);
	atomic_store(&c->fs_checked_ns, now);
	pthread_mutex_unlock(&c->fs_mu);
}

int sp_reserve(lc_cache *c, uint64_t bytes)
{
	refresh_fs(c, false);
	for (;;) {
		uint64_t cap = atomic_load(&c->eff_cap);
		uint64_t u = atomic_load(&c->used);

		if (bytes <= cap && u <= cap - bytes) {
			if (!atomic_compare_exchange_weak(&c->used, &u, u + bytes))
				continue;
			atomic_fetch_add(&c->pending, bytes);
			atomic_fetch_add(&c->written, bytes);
			return 0;
		}
		if (bytes > cap) {
			/* Evicting cannot help: our frees raise the floor's
			 * allowance and our usage equally. */
			return atomic_load(&c->fs_floor_limited) ? -ENOSPC : -ENOBUFS;
		}
		if (!ix_evict_one(c)) {
			/* Nothing left to evict, yet no room: what remains is held
			 * open by readers or is being written by other threads. */
			return -ENOBUFS;
		}
	}
}

void sp_cancel(lc_cache *c, uint64_t reserved)
{
	atomic_fetch_sub(&c->pending, reserved);
	atomic_fetch_sub(&c->used, reserved);
}

int sp_settle(lc_cache *c, uint64_t reserved, uint64_t actual)
{
	if (actual > reserved) {
		/* The file took more blocks than its size suggests (metadata
		 * blocks, preallocation): charge them too, or drop the page. */
		int rc = sp_reserve(c, actual - reserved);
		if (rc) {
			sp_cancel(c, reserved);
			return rc;
		}
		atomic_fetch_sub(&c->pending, actual - reserved);
	} else if (actual < reserved) {
		atomic_fetch_sub(&c->used, reserved - actual);
	}
	atomic_fetch_sub(&c->pending, reserved);
	return 0;
}

void sp_release(lc_cache *c, uint64_t bytes)
{
	atomic_fetch_sub(&c->used, bytes);
}

void sp_enforce(lc_cache *c)
{
	uint64_t n = 0;

	refresh_fs(c, true);
	while (atomic_load(&c->used) > atomic_load(&c->eff_cap) && ix_evict_one(c))
		n++;
	if (n)
		lc_logf(c, LOG_INFO, "evicted %llu pages to fit the cache limit of %llu bytes",
			(unsigned long long)n, (unsigned long long)atomic_load(&c->eff_cap));
}

bool sp_may_store(lc_cache *c)
{
	int64_t now, at;

	if (!atomic_load_explicit(&c->degraded, memory_order_relaxed))
		return true;
	now = lc_now_ns();
	at = atomic_load(&c->retry_at_ns);
	if (now < at)
		return false;
	/* One prober per interval; the others keep serving from memory. */
	return atomic_compare_exchange_strong(&c->retry_at_ns, &at, now + c->retry_ns);
}

static bool disk_refused(int err)
{
	switch (-err) {
	case ENOMEM:
	case EMFILE:
	case ENFILE:
	case EINTR:
	case ENOBUFS:
		/* The process, not the disk, is short of something. */
		return false;
	default:
		return true;
	}
}

void sp_store_failed(lc_cache *c, int err, const char *what)
{
	atomic_fetch_add(&c->store_errors, 1);
	if (!disk_refused(err)) {
		lc_logf(c, LOG_DEBUG, "page not stored (%s: %s)", what, g_strerror(-err));
		return;
	}
	if (err == -ENOSPC)
		atomic_store(&c->fs_checked_ns, 0); /* resample before trusting the limit */
	atomic_store(&c->retry_at_ns, lc_now_ns() + c->retry_ns);
	if (atomic_exchange(&c->degraded, true))
		return;
	if (err == -ENOSPC && !strcmp(what, "free-space floor"))
		lc_logf(c, LOG_ERR,
			"cache disk of %s has less than %.0f%% free even with the cache empty: "
			"serving pages from memory, retrying every %.1f s",
			c->dir, c->min_free_ratio * 100, (double)c->retry_ns / 1e9);
	else
		lc_logf(c, LOG_ERR,
			"cache folder %s refuses writes (%s: %s): serving pages from memory, "
			"retrying every %.1f s",
			c->dir, what, g_strerror(-err), (double)c->retry_ns / 1e9);
}

void sp_store_ok(lc_cache *c)
{
	if (atomic_load_explicit(&c->degraded, memory_order_relaxed) &&
	    atomic_exchange(&c->degraded, false))
		lc_logf(c, LOG_INFO, "cache folder %s accepts writes again", c->dir);
}
