/*
 * localcache internals shared by its files. Not part of the public API: only
 * the .c files of localcache/ and its tests include this.
 *
 * Files:
 *   page_file.c   on-disk format: header, names, writing, verifying
 *   page_index.c  sharded index, LRU lists, entry lifetime, eviction
 *   space.c       the byte cap, the free-space floor, degraded mode
 *   restore.c     folder set-up and the start-up scan
 *   page_cache.c  the lc_* API
 *   store_queue.c write-behind: pages queued for the writer threads
 *   prefetch.c    warming stored pages ahead of sequential readers
 *   log.c         logging and clocks
 */
#ifndef DORAFS_LC_INTERNAL_H
#define DORAFS_LC_INTERNAL_H

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <syslog.h>

#include "localcache.h"

#define LC_SHARDS 64u
#define LC_DEFAULT_PAGE_SIZE (1u << 20)
#define LC_DEFAULT_RETRY_MS 30000u
/* Larger pages would make a miss allocate and fetch an unreasonable amount. */
#define LC_MAX_PAGE_SIZE (256u << 20)

/* ---- on-disk format (page_file.c) ---- */

#define LC_HDR_SIZE 64u
#define LC_MAGIC 0x50434c44u /* "DLCP" read as little-endian bytes */
#define LC_FORMAT 1u
#define LC_LAYOUT "v1"       /* top folder; bump with an incompatible layout */

/* Where a page lives: its file (by hash) and its index in that file. */
typedef struct lc_pkey {
	uint64_t file_hi, file_lo, index;
} lc_pkey;

typedef struct lc_header {
	uint32_t page_size;
	uint32_t data_len;
	uint64_t file_hi, file_lo, version, index;
	uint64_t data_sum; /* xxh3-64 of the data */
} lc_header;

/* "hh/<32 hex>-<index>" plus NUL fits easily. */
#define LC_NAME_MAX 64

/* Pending prefetch hints; more are dropped (they are only hints). */
#define LC_PREFETCH_QUEUE 256

/* Writer threads of the write-behind queue (store_queue.c). */
#define LC_SQ_THREADS 2

void pf_encode_header(const lc_header *h, unsigned char out[LC_HDR_SIZE]);
/* 0 when buf holds a well-formed header (magic, format, header checksum). */
int pf_decode_header(const unsigned char buf[LC_HDR_SIZE], lc_header *h);
/* Page file name relative to the page-size folder. */
void pf_page_name(const lc_pkey *pk, char out[LC_NAME_MAX]);
/* The fan-out folder name ("hh") of a page. */
void pf_fanout_name(uint64_t file_hi, char out[3]);
/* Parse "<32 hex>-<index>" found in fan-out folder fan (0..255). 0 or -1. */
int pf_parse_name(const char *name, unsigned fan, lc_pkey *pk);

#define LC_DIO_ALIGN 4096u
/* Freed page buffers kept for reuse (page_buf.c). */
#define LC_BUF_POOL 16
/*
 * Pages shorter than this are written buffered even when O_DIRECT is on: for
 * a small page the copy saved is cheap and the write's wait for the device
 * is not (2,000 files of 100 KiB from S3: 0.74-0.78x curl's rate with
 * O_DIRECT against 0.80-0.86x buffered, more daemon CPU).
 */
#define LC_DIRECT_MIN (256u << 10)

/*
 * Write a page (its data_sum is computed here) into a new temp file `name`
 * in tmpfd. On success *fd is the open (read-write) temp file. Returns 0 or
 * -errno; on failure nothing is left behind.
 * *direct: on entry, true to write with O_DIRECT; data must then come from
 * lc_buf_alloc (its header room is written over). Set to false
 * when the file system refused O_DIRECT (EINVAL) and the page was written
 * buffered instead.
 */
int pf_write_temp(int tmpfd, const char *name, const lc_header *h,
		  void *data, bool *direct, int *fd);

/* Outcome of checking a stored page against what it should hold. */
enum pf_verdict {
	PF_OK = 0,
	PF_CORRUPT,  /* malformed, truncated, checksum mismatch */
	PF_STALE,    /* intact, but another version of the file */
	PF_IOERR,    /* could not read it */
};
/* Read and check the page in fd. version == NULL: accept any version and
 * report the one found in *found_version. */
enum pf_verdict pf_verify(int fd, const lc_pkey *pk, uint32_t page_size,
			  uint32_t len, const uint64_t *version,
			  uint64_t *found_version);

/* ---- index (page_index.c) ---- */

enum lc_state {
	LC_FETCHING, /* in flight: one thread fetches and stores, others wait */
	LC_READY,    /* stored: the file at the page's name is this entry's */
	LC_GONE,     /* no longer in the index */
};

typedef struct lc_entry {
	lc_pkey pk;               /* first member: the hash table keys on it */
	uint64_t version;         /* meaningful once verified (or while fetching) */
	uint64_t tick;            /* last access, from lc_cache.tick */
	uint64_t charge;          /* bytes charged to the cap until the entry dies */
	struct lc_entry *prev, *next; /* shard LRU (READY only); prev is newer */
	lc_cache *cache;
	atomic_uint refs;         /* the index holds one; each lc_page and waiter one */
	uint32_t len;             /* data bytes */
	uint32_t waiters;         /* threads blocked on this in-flight entry */
	uint32_t stamp;           /* wall-clock seconds last put in the file's atime */
	int err;                  /* LC_GONE after a failed fetch: its -errno */
	uint8_t state;
	bool verified;            /* contents checked (or written) by this process */
	bool doomed;              /* invalidated while in flight: do not publish */
	bool stream;              /* in flight: fetched by lc_get for a sequential reader
	                           * (LC_STREAM), into a page buffer (lc_buf_alloc) */
	bool stuck;               /* its file could not be removed: the charge stays
	                           * (the blocks are still on the disk) */
	void *handoff;            /* LC_GONE, store failed: bytes for the waiters */
	struct sq_job *queued;    /* LC_FETCHING, fetched and waiting for a writer
	                           * thread (store_queue.c): its job, whose buffer
	                           * readers share (a reference each); cleared
	                           * under the shard lock as the entry settles */
} lc_entry;

typedef struct lc_shard {
	_Alignas(64) pthread_mutex_t mu;
	pthread_cond_t cv;        /* broadcast when an in-flight entry settles */
	GHashTable *map;          /* set of lc_entry, keyed by pk */
	lc_entry *head, *tail;    /* READY entries, head most recently used */
	_Atomic uint64_t tail_tick; /* tick of tail, UINT64_MAX if none: read unlocked */
	uint64_t pages, hits, misses, evictions, checksum_failures, stale_drops;
} lc_shard;

/* ---- the cache ---- */

struct lc_cache {
	lc_shard shards[LC_SHARDS];

	char *dir;
	int v1fd, rootfd, tmpfd, lockfd; /* <dir>/v1, <dir>/v1/<page_size>, <dir>/v1/tmp */
	uint32_t page_size;
	uint64_t capacity;
	double min_free_ratio;    /* 0: no floor */
	bool verify_every_read;
	_Atomic bool direct;      /* write page files with O_DIRECT; cleared for good
	                           * when the file system refuses it */
	lc_log_fn log;
	int64_t retry_ns;
	uint32_t stamp_every_s;   /* LC_STAMP_EVERY_S; tests shorten it */
	uint64_t blk;             /* allocation unit of the cache disk */

	_Atomic uint64_t tick;
	_Atomic uint64_t tmp_seq;

	/* space.c */
	_Atomic uint64_t used;    /* charged: pages, pages evicted but still open, reservations */
	_Atomic uint64_t stuck_bytes; /* part of used: files that could not be removed */
	_Atomic bool stuck_logged;
	_Atomic uint64_t pending; /* reserved, not yet on disk */
	_Atomic uint64_t eff_cap; /* min(capacity, what the floor allows) */
	_Atomic uint64_t written; /* bytes stored since the last statvfs */
	_Atomic int64_t fs_checked_ns;
	_Atomic bool fs_floor_limited; /* eff_cap comes from the floor (written under fs_mu) */
	bool floor_logged;        /* under fs_mu: the floor's limit was reported */
	pthread_mutex_t fs_mu;    /* one statvfs refresh at a time */
	_Atomic bool degraded;
	_Atomic int64_t retry_at_ns;

	_Atomic uint64_t fetches, store_errors, restored;
	_Atomic long pages_out;   /* lc_pages handed out and not yet released */

	/* prefetch.c: pages to warm into the kernel's page cache, and the one
	 * thread that does it (started on first use). pf_mu guards the ring,
	 * pf_started and pf_stop. */
	pthread_mutex_t pf_mu;
	pthread_cond_t pf_cv;
	lc_pkey pf_ring[LC_PREFETCH_QUEUE];
	unsigned pf_head, pf_len;
	bool pf_started, pf_stop;
	pthread_t pf_thread;
	_Atomic uint64_t prefetches, prefetch_drops;

	/* store_queue.c: pages waiting to be written by the writer threads.
	 * sq_mu guards the queue, sq_claimed, sq_running, sq_started,
	 * sq_start_failed and sq_stop. */
	pthread_mutex_t sq_mu;
	pthread_cond_t sq_cv;      /* a job or sq_stop for the writers */
	pthread_cond_t sq_idle_cv; /* nothing queued nor being written */
	GQueue sq_jobs;
	uint64_t sq_max;           /* pages queued or being written at most
	                           * (write_behind / page_size); 0: off */
	unsigned sq_claimed;       /* slots taken by defer_store, job not pushed yet */
	unsigned sq_running, sq_started;
	bool sq_start_failed, sq_stop;
	pthread_t sq_threads[LC_SQ_THREADS];
	_Atomic uint64_t deferred_stores;

	/* page_buf.c: freed page buffers kept for reuse, guarded by buf_mu */
	pthread_mutex_t buf_mu;
	void *buf_free[LC_BUF_POOL];
	unsigned buf_free_n;
};

/* page_buf.c: a page buffer holds page_size bytes of data, with
 * LC_HDR_SIZE bytes of room in front, the whole aligned to LC_DIO_ALIGN (see
 * pf_write_temp). lc_buf_free(c, NULL) does nothing. */
void *lc_buf_alloc(lc_cache *c);
void lc_buf_free(lc_cache *c, void *data);
void lc_buf_pool_clear(lc_cache *c); /* at close */

/* prefetch.c */
int prefetch_init(lc_cache *c);
void prefetch_stop(lc_cache *c);

/* store_queue.c: a page waiting for a writer thread. refs: the writer's
 * and one per reader sharing buf; the last frees buf and the job. */
typedef struct sq_job {
	lc_cache *c;
	lc_entry *e;       /* in flight; the job holds a reference */
	void *buf;         /* page buffer (lc_buf_alloc) */
	uint32_t len;
	uint64_t reserved; /* room reserved on disk (sp_reserve) */
	atomic_uint refs;
} sq_job;

/* sq_claim: a place in the queue (false when write-behind is off, full or
 * stopping); then either sq_push the job into it or sq_unclaim. sq_stop
 * writes what is queued, then stops. */
int sq_init(lc_cache *c, uint64_t limit);
bool sq_claim(lc_cache *c);
void sq_unclaim(lc_cache *c);
void sq_push(lc_cache *c, sq_job *j);
void sq_job_unref(sq_job *j);
void sq_flush(lc_cache *c);
uint64_t sq_queued(lc_cache *c);
void sq_stop(lc_cache *c);

/* page_cache.c: write and publish a queued page (unless invalidated
 * meanwhile), then drop the job's references. */
void pc_store_queued(sq_job *j);

lc_shard *ix_shard(lc_cache *c, const lc_pkey *pk);
int ix_init(lc_shard *s);
void ix_destroy(lc_cache *c, lc_shard *s);
lc_entry *ix_new_entry(lc_cache *c, const lc_pkey *pk);
/* Under s->mu. */
lc_entry *ix_find(lc_shard *s, const lc_pkey *pk);
void ix_insert(lc_shard *s, lc_entry *e);
void ix_make_ready(lc_cache *c, lc_shard *s, lc_entry *e, uint64_t tick);
void ix_touch(lc_cache *c, lc_shard *s, lc_entry *e);
/* Take e out of the index (and unlink its file if it was READY). The index's
 * reference is returned to the caller, who must ix_unref it after unlocking. */
void ix_remove(lc_cache *c, lc_shard *s, lc_entry *e, bool unlink_file);
/* An entry's file could not be removed (errno says why): keep its charge. */
void ix_file_stuck(lc_cache *c, lc_entry *e, const char *name);
/* Not under any shard lock. */
void ix_ref(lc_entry *e);
void ix_unref(lc_entry *e);
/* Evict the globally least recently used page. false if there is none. */
bool ix_evict_one(lc_cache *c);
/* Insert READY entries at open (single-threaded), oldest first. */
void ix_restore_insert(lc_cache *c, lc_entry *e);

/* ---- space (space.c) ---- */

void sp_init(lc_cache *c);
/* Reserve bytes under the cap and the floor, evicting LRU pages if needed.
 * 0; -ENOSPC if the free-space floor leaves no room even with the cache
 * empty; -ENOBUFS if the cap cannot be met (pages held open by readers, or
 * a cap smaller than a page). */
int sp_reserve(lc_cache *c, uint64_t bytes);
/* Give back a reservation that never reached the disk. */
void sp_cancel(lc_cache *c, uint64_t reserved);
/* A reservation reached the disk and actual is its real size: it becomes a
 * charge (held by an entry). On failure the reservation is cancelled. */
int sp_settle(lc_cache *c, uint64_t reserved, uint64_t actual);
/* Drop a charge: the page's blocks are free. */
void sp_release(lc_cache *c, uint64_t bytes);
/* Bytes a page of len data bytes takes on disk, by our estimate. */
uint64_t sp_page_bytes(const lc_cache *c, uint64_t file_size);
/* After open: evict until under the cap. */
void sp_enforce(lc_cache *c);
/* Degraded mode: may we try to store now? */
bool sp_may_store(lc_cache *c);
void sp_store_failed(lc_cache *c, int err, const char *what);
void sp_store_ok(lc_cache *c);

/* ---- restore (restore.c) ---- */

/* Create or open the folders, lock them, clean temp files and rebuild the
 * index. 0 or -errno with a message in err. */
int rs_open_dirs(lc_cache *c, char *err, size_t errlen);
int rs_scan(lc_cache *c, char *err, size_t errlen);

/* ---- log.c ---- */

void lc_logf(const lc_cache *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t lc_now_ns(void);
/* Wall clock in seconds (coarse): file times are wall-clock. */
uint32_t lc_wall_s(void);

/* A hit refreshes the page file's atime when the last refresh is older than
 * this, so the LRU order rebuilt at the next start follows use, not only
 * writes (relatime alone updates atime at most daily once read). */
#define LC_STAMP_EVERY_S 600u

#endif
