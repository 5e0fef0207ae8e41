/* Private to client/worker_*.c: the connection and its authentication. */
#ifndef DORAFS_WORKER_INTERNAL_H
#define DORAFS_WORKER_INTERNAL_H

#include <pthread.h>

#include "grpc_util.h"
#include "worker_rpc.h"

#define DFS_CHANNEL_ID_LEN 37      /* a UUID string and its NUL */

struct auth_stream;

struct dfs_worker_conn {
	int refs;                          /* __atomic; freed at 0 */
	char *target;
	grpc_channel *ch;
	bool auth;
	char *user, *password, *authzid;
	int rpc_timeout_ms, stream_timeout_ms;
	uint32_t chunk_size;
	void (*log)(int level, const char *msg);

	/* Held only to check or (re)build the authentication stream, never
	 * across a data RPC. */
	pthread_mutex_t auth_mu;
	struct auth_stream *as;            /* NULL: not authenticated */
	char channel_id[DFS_CHANNEL_ID_LEN];

	dfs_worker_conn_stats stats;       /* updated with __atomic builtins */
};

#define DFS_STAT_ADD(c, field, n) __atomic_fetch_add(&(c)->stats.field, (n), __ATOMIC_RELAXED)

void dfs_worker_log(dfs_worker_conn *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill err (may be NULL) from a gRPC status; returns -errno for it. */
int dfs_worker_fail(dfs_worker_conn *c, dfs_worker_error *err, grpc_status_code code,
		    const char *what, const char *detail);

/*
 * Make sure the channel is authenticated; copy the channel id to send into
 * id ("" when authentication is off). Returns 0 or -errno.
 */
int dfs_worker_auth_ensure(dfs_worker_conn *c, char id[DFS_CHANNEL_ID_LEN], dfs_worker_error *err);
/* A call with channel id `id` came back UNAUTHENTICATED: drop that
 * authentication so that the next ensure() redoes the handshake. */
void dfs_worker_auth_invalidate(dfs_worker_conn *c, const char *id);
/* Close the authentication stream (the server unregisters the channel). */
void dfs_worker_auth_close(dfs_worker_conn *c);

/* Generate a random (version 4) UUID string. */
int dfs_worker_uuid(char out[DFS_CHANNEL_ID_LEN]);

#endif
