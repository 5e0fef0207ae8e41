/*
 * localcache: an on-disk page cache.
 *
 * A file is cut into pages of a fixed size. Each page is kept in its own file
 * under the cache folder, behind a small header that names what it caches
 * (the file's identity and version) and carries an xxh3 checksum of the data.
 * A page is written to a temporary name and renamed into place, so a crash
 * never leaves a half-written page visible; a page that fails its checksum, or
 * whose version differs from the one asked for, is dropped and refetched.
 *
 * This module depends on nothing else of dorafs. Thread-safe: every function
 * may be called from many threads at once.
 */
#ifndef DORAFS_LOCALCACHE_H
#define DORAFS_LOCALCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct lc_cache lc_cache;

/* Logging hook; level is a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
typedef void (*lc_log_fn)(int level, const char *msg);

typedef struct lc_options {
	const char *dir;          /* cache folder; created (with parents) if missing */
	uint64_t capacity;        /* byte cap for page files (headers included); never exceeded; > 0 */
	uint32_t page_size;       /* bytes per page, > 0 (0: 1 MiB); at most 256 MiB */
	double min_free_ratio;    /* keep at least this fraction of the cache disk free
	                           * (0.05 is the usual value; 0: no floor); in [0, 1) */
	bool verify_every_read;   /* check the checksum on every hit, not only the first after start */
	lc_log_fn log;            /* NULL: log to stderr (LOG_DEBUG messages dropped) */
	uint32_t retry_after_ms;  /* degraded: try storing again after this long (0: 30 s) */
	bool buffered_write;      /* write every page file through the kernel's page
	                           * cache; default (false): pages of sequential
	                           * readers (LC_STREAM) of LC_DIRECT_MIN and more go
	                           * with O_DIRECT where the file system takes it */
	uint64_t write_behind;    /* bytes of fetched pages that may wait for the
	                           * cache's own low-priority writer threads; under
	                           * one page (0): each page is written by the
	                           * thread releasing it */
} lc_options;

/* What a page caches: a file (by a 128-bit hash of its URI) at one version. */
typedef struct lc_key {
	uint64_t file_hi, file_lo; /* xxh3-128 of the file's URI */
	uint64_t version;          /* xxh3-64 of the version string (e.g. size+mtime, ETag) */
} lc_key;

/* Fill *key from a URI and a version string. */
void lc_make_key(lc_key *key, const char *uri, const char *version);

/*
 * A page handed to a reader. Either fd >= 0 (the page file, data at fd_offset:
 * a hit) or mem != NULL (the bytes in memory: the caller that fetched them,
 * or a waiter when they could not be stored). len is
 * the data length: page_size, or less for a file's last page (0 past EOF).
 * Release with lc_page_release; the fd stays valid until then even if the
 * page is evicted meanwhile. Read the fd with pread/splice at fd_offset (do
 * not rely on its file position). Release every page before lc_close.
 */
typedef struct lc_page {
	int fd;
	off_t fd_offset;
	void *mem;
	size_t len;
	bool from_cache;           /* true: served from a stored page; false: fetched now */
	void *pin;                 /* internal: keeps the page charged to the cap until
	                            * release (an open evicted file still uses the disk) */
	void *store;               /* internal: fetched bytes lc_page_release stores */
	lc_cache *owner;           /* internal: the cache whose buffer mem is */
	void *shared;              /* internal: the queued page whose buffer mem is */
} lc_page;

/*
 * Fetch callback: read up to len bytes of the file at offset into buf.
 * Return the number of bytes read (short only at end of file) or -errno.
 */
typedef ssize_t (*lc_fetch_fn)(void *arg, uint64_t offset, void *buf, size_t len);

/* Open (or create) the cache at opt->dir, reusing the pages already there.
 * Returns 0, or -errno with a message in err. */
int lc_open(const lc_options *opt, lc_cache **out, char *err, size_t errlen);
void lc_close(lc_cache *c);

uint32_t lc_page_size(const lc_cache *c);

/* lc_get flags. LC_STREAM: the page is read by a sequential reader, which
 * uses it once (and has it in its own page cache): a miss is stored past the
 * kernel's page cache (O_DIRECT) unless buffered_write. Without it the page
 * is kept in memory, where a random reader's next hits will find it. */
#define LC_STREAM 1u

/*
 * Get page `index` of the file `key`. On a hit, returns the stored page. On a
 * miss, calls fetch(arg, index * page_size, buf, page_size) once, stores the
 * page (evicting least-recently-used pages first to stay under the cap), and
 * returns the fetched bytes in memory. The page file is written when the
 * caller releases the page (by a writer thread, later, with write_behind),
 * so a reader gets its bytes before the cache disk is touched; release
 * promptly. Concurrent misses on the same page wait for the fetch, then get
 * the stored page, or a copy of the bytes while they wait to be written
 * (from_cache false either way until stored). If the cache cannot store the
 * page (disk full, read-only, failing) that failure is logged once, not per
 * call, and the bytes are still returned.
 * Returns 0 or -errno (a fetch error is passed through).
 */
int lc_get(lc_cache *c, const lc_key *key, uint64_t index, unsigned flags,
	   lc_fetch_fn fetch, void *arg, lc_page *out);

/* Return a stored page without fetching: 0 on a hit, -ENOENT on a miss. */
int lc_lookup(lc_cache *c, const lc_key *key, uint64_t index, lc_page *out);

/* Store a page whose bytes the caller already has (read-ahead, prefetch).
 * len must be page_size except for a file's last page. Returns 0 (also when
 * the page is already stored or being fetched, or len is 0) or -errno (the
 * page could not be stored; -EAGAIN while degraded). */
int lc_put(lc_cache *c, const lc_key *key, uint64_t index, const void *data, size_t len);

void lc_page_release(lc_page *p);

/* Wait until every page waiting for a writer thread (write_behind) is
 * written (or failed to be). */
void lc_flush(lc_cache *c);

/*
 * Hint that page `index` of `key` will be read soon: if it is stored, a
 * background thread asks the kernel to read its file ahead
 * (POSIX_FADV_WILLNEED). Page files are separate files, so the disk's own
 * read-ahead never runs from one page into the next; sequential readers of
 * a warm cache would otherwise wait for one synchronous disk read per page.
 * Never blocks, never fetches; hints beyond a small queue are dropped.
 */
void lc_prefetch(lc_cache *c, const lc_key *key, uint64_t index);

/* Drop every stored page of a file (any version). */
void lc_invalidate_file(lc_cache *c, const lc_key *key);

typedef struct lc_stats {
	uint64_t capacity;         /* effective cap in bytes: min(capacity, free-space floor) */
	uint64_t used_bytes;       /* bytes of page files, headers included (allocation
	                            * units, and pages being written or still held open) */
	uint64_t pages;
	uint64_t hits, misses;     /* lc_get/lc_lookup outcomes */
	uint64_t fetches;          /* fetch callbacks run */
	uint64_t evictions;
	uint64_t checksum_failures;
	uint64_t stale_drops;      /* pages dropped because their version changed */
	uint64_t store_errors;     /* pages that could not be written */
	uint64_t restored_pages;   /* pages found on disk at open */
	uint64_t stuck_bytes;      /* charged for page files that could not be removed */
	uint64_t prefetches;       /* stored pages the kernel was asked to read ahead */
	uint64_t deferred_stores;  /* pages handed to the writer threads */
	uint64_t store_queue;      /* of those, not written yet */
	bool degraded;             /* the disk refused writes: serving without storing */
	bool direct_write;         /* page files are written with O_DIRECT */
} lc_stats;

void lc_get_stats(lc_cache *c, lc_stats *out);

#endif
