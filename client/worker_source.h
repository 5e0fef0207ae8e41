/*
 * An Alluxio (Dora) worker as a dfs_source: stat = GetStatus, list =
 * ListStatus, open + pread = ReadBlock, each on the file's full UFS URI
 * (ufs_root + the mount-relative path, normalised as AlluxioURI does).
 *
 * Errors are -errno; -DFS_ETRYOTHER (worker_rpc.h) means the worker is
 * unreachable or too slow and the caller should try another worker or the
 * UFS itself.
 */
#ifndef DORAFS_WORKER_SOURCE_H
#define DORAFS_WORKER_SOURCE_H

#include <stddef.h>

#include "source.h"
#include "worker_rpc.h"

typedef struct dfs_worker_options {
	const char *ufs_root;            /* e.g. "s3://bucket/prefix"; required */
	dfs_worker_conn_options conn;    /* target, auth, deadlines, chunk size */
} dfs_worker_options;

/* One worker. Returns NULL with a message in err. Sends nothing until the
 * first call. */
dfs_source *dfs_worker_source_new(const dfs_worker_options *opt, char *err, size_t errlen);

/*
 * Many workers: pick() chooses the worker for a file's full UFS URI (the key
 * Alluxio hashes) and returns a reference to its connection (the source
 * drops it with dfs_worker_conn_free when done; an open file keeps its
 * worker until closed), or NULL when there is none (the operation then
 * fails with -DFS_ETRYOTHER). pick is called from many threads. destroy, if
 * not NULL, is called with arg when the source is destroyed.
 */
typedef struct dfs_worker_picker {
	dfs_worker_conn *(*pick)(void *arg, const char *uri);
	void (*destroy)(void *arg);
	void *arg;
} dfs_worker_picker;

dfs_source *dfs_worker_source_new_picker(const char *ufs_root, const dfs_worker_picker *p,
					 char *err, size_t errlen);

/* Ask the worker for exactly each read's range, never a stream to the end of
 * the file: for a source under a read-ahead layer, which issues its own
 * (parallel) chunk reads. */
void dfs_worker_source_set_exact_ranges(dfs_source *s, bool exact);

/* The connection of a one-worker source (for stats and tests); NULL for a
 * picker source. */
dfs_worker_conn *dfs_worker_source_conn(dfs_source *s);

#endif
