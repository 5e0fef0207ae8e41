/*
 * A gRPC client for one Alluxio 3.x (Dora) worker: alluxio.grpc.block.BlockWorker
 * over the gRPC C core, with Alluxio's SIMPLE (SASL PLAIN) channel
 * authentication.
 *
 * One connection = one gRPC channel (its own HTTP/2 connection), reused by
 * every call; any number of threads may call at once, no lock is held across
 * an RPC. With authentication on (the Alluxio default), the connection opens
 * the SaslAuthenticationService/authenticate stream, keeps it open for the
 * channel's life and sends "channel-id: <uuid>" on every call; it
 * re-authenticates when that stream ends (the worker restarted, the
 * connection dropped) or a call comes back UNAUTHENTICATED.
 *
 * Every path is a full UFS URI (see worker_uri.h). Every function returns 0
 * (or a count) or -errno: -ENOENT, -EACCES, -EEXIST, -ENOTSUP, -EIO, or
 * -DFS_ETRYOTHER when the worker is unreachable, died mid-call or missed the
 * deadline -- the caller should try another worker or the UFS. The gRPC code
 * and the server's message of a failure go to *err when err is not NULL.
 */
#ifndef DORAFS_WORKER_RPC_H
#define DORAFS_WORKER_RPC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef DFS_ETRYOTHER
/* "Try another worker or the UFS" (gRPC UNAVAILABLE / DEADLINE_EXCEEDED). */
#define DFS_ETRYOTHER EHOSTUNREACH
#endif

/* Defaults, as Alluxio's Java client has them. */
#define DFS_WORKER_DEFAULT_RPC_TIMEOUT_MS 120000    /* alluxio.user.rpc.retry.max.duration */
#define DFS_WORKER_DEFAULT_STREAM_TIMEOUT_MS 30000  /* per message of a read stream */
#define DFS_WORKER_DEFAULT_CHUNK 1048576            /* alluxio.user.streaming.reader.chunk.size.bytes */
#define DFS_WORKER_MAX_CHUNK 2097152                /* the worker caps chunks at 2 MiB */

typedef struct dfs_worker_conn_options {
	const char *target;        /* "host:port" of the worker's gRPC port */
	bool auth_disabled;        /* NOSASL clusters: no handshake, no channel-id */
	const char *user;          /* SASL PLAIN user; NULL: the OS login user */
	const char *password;      /* NULL: "noPassword", as the Java client sends */
	const char *impersonate;   /* authzid; NULL or "": no impersonation */
	int rpc_timeout_ms;        /* unary deadline; 0: default */
	int stream_timeout_ms;     /* max wait for each message of a stream; 0: default */
	uint32_t chunk_size;       /* ReadBlock chunk size; 0: default; capped at 2 MiB */
	/* Log hook (syslog levels); NULL: warnings to stderr. */
	void (*log)(int level, const char *msg);
} dfs_worker_conn_options;

typedef struct dfs_worker_conn dfs_worker_conn;

/* Why a call failed: the gRPC code and the server's message. */
typedef struct dfs_worker_error {
	int grpc_code;
	char message[256];
} dfs_worker_error;

/* A FileInfo, as much of it as dorafs uses. Strings live as long as the
 * callback (list) or until dfs_worker_fileinfo_clear (get_status). */
typedef struct dfs_worker_fileinfo {
	char *name;
	char *path;            /* full UFS URI, as the worker reports it */
	uint64_t length;
	bool folder;
	uint32_t mode;         /* permission bits only */
	int64_t mtime_ms;
	char *content_hash;    /* "" if the worker sent none */
	char *owner, *group;
} dfs_worker_fileinfo;

void dfs_worker_fileinfo_clear(dfs_worker_fileinfo *fi);

/* Connect lazily: creating the connection sends nothing; the handshake runs
 * before the first call. Returns 0 or -errno with a message in err. The new
 * connection holds one reference. */
int dfs_worker_conn_new(const dfs_worker_conn_options *opt, dfs_worker_conn **out,
			char *err, size_t errlen);
/* Connections are reference counted, so that a pool may drop a worker
 * while open files still read from it. */
dfs_worker_conn *dfs_worker_conn_ref(dfs_worker_conn *c);
/* Drop a reference; the last one closes the channel. NULL is ignored. */
void dfs_worker_conn_free(dfs_worker_conn *c);
const char *dfs_worker_conn_target(const dfs_worker_conn *c);

int dfs_worker_get_status(dfs_worker_conn *c, const char *uri, dfs_worker_fileinfo *out,
			  dfs_worker_error *err);

/* Called per entry; return non-zero to stop (list_status then returns it). */
typedef int (*dfs_worker_list_cb)(void *arg, const dfs_worker_fileinfo *fi);
int dfs_worker_list_status(dfs_worker_conn *c, const char *uri, dfs_worker_list_cb cb,
			   void *arg, dfs_worker_error *err);

int dfs_worker_exists(dfs_worker_conn *c, const char *uri, bool *exists, dfs_worker_error *err);

/* Ask the worker to cache [pos, pos + length) of a file. */
int dfs_worker_cache_data(dfs_worker_conn *c, const char *uri, int64_t pos, int64_t length,
			  bool async, dfs_worker_error *err);

/*
 * A ReadBlock stream over [offset, offset + length) of a file of file_length
 * bytes. Chunks are acknowledged (offset_received) as they are consumed, so
 * the worker keeps at most its window (4 MiB) in flight.
 */
typedef struct dfs_worker_read dfs_worker_read;

int dfs_worker_read_open(dfs_worker_conn *c, const char *uri, uint64_t file_length,
			 uint64_t offset, uint64_t length, dfs_worker_read **out,
			 dfs_worker_error *err);
/* Copy up to len bytes; 0 at the end of the range. */
ssize_t dfs_worker_read_next(dfs_worker_read *r, void *buf, size_t len, dfs_worker_error *err);
/* Finish (or cancel, if the range was not read to its end) and free. */
void dfs_worker_read_close(dfs_worker_read *r);

/* Counters, for tests and stats. */
typedef struct dfs_worker_conn_stats {
	uint64_t calls;            /* RPCs started (handshakes excluded) */
	uint64_t handshakes;       /* successful SASL handshakes */
	uint64_t unauthenticated;  /* calls answered UNAUTHENTICATED */
	uint64_t list_batches;     /* ListStatus responses received */
	uint64_t read_streams;
	uint64_t read_bytes;
	uint64_t failures;         /* calls that returned an error */
} dfs_worker_conn_stats;

void dfs_worker_conn_get_stats(dfs_worker_conn *c, dfs_worker_conn_stats *out);

#endif
