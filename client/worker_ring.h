/*
 * Glue between the membership (which worker owns a URI) and the worker
 * client (a connection per worker): a dfs_worker_picker for
 * dfs_worker_source_new_picker().
 *
 * pick(uri) = the connection to the worker Alluxio's client would read the
 * URI from: the first worker of dfs_membership_select(uri), at
 * WorkerNetAddress Host:RpcPort (the address Alluxio's gRPC client dials).
 * Like DoraCacheClient, only the first choice is used; if it fails the
 * caller falls back to the UFS.
 *
 * One connection per worker address, created on first use and kept in a
 * pool; when the membership publishes a new list, connections to workers no
 * longer in it are dropped from the pool (open files keep theirs: they are
 * reference counted).
 */
#ifndef DORAFS_WORKER_RING_H
#define DORAFS_WORKER_RING_H

#include <stddef.h>

#include "membership.h"
#include "worker_rpc.h"
#include "worker_source.h"

typedef struct dfs_worker_ring dfs_worker_ring;

/*
 * m and the strings in base must outlive the ring; base->target is ignored.
 * Returns NULL with a message in err.
 */
dfs_worker_ring *dfs_worker_ring_new(dfs_membership *m, const dfs_worker_conn_options *base,
				     char *err, size_t errlen);
/* Drops the pool's references; connections still held elsewhere stay. */
void dfs_worker_ring_free(dfs_worker_ring *r);

/* A picker over r (destroy = NULL: the caller frees r after the source). */
void dfs_worker_ring_picker(dfs_worker_ring *r, dfs_worker_picker *p);

/* The pick itself: a new reference, or NULL if there is no live worker. */
dfs_worker_conn *dfs_worker_ring_pick(dfs_worker_ring *r, const char *uri);

/* "host:port" (IPv6 literals in brackets) of a worker's gRPC port. */
void dfs_worker_rpc_target(const dfs_worker *w, char *buf, size_t len);

/* Connections currently pooled (for stats and tests). */
size_t dfs_worker_ring_pool_size(dfs_worker_ring *r);

#endif
