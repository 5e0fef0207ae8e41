/*
 * Alluxio worker entities: the JSON value an Alluxio 3.x worker writes to
 * etcd (WorkerServiceEntity, serialised by Gson), and the static workers
 * file (StaticMembershipManager).
 *
 * The JSON (field order is not significant):
 *   {"Identity":{"version":1,"identifier":"<32 hex digits>"},
 *    "WorkerNetAddress":{"Host":"h","ContainerHost":"","RpcPort":29999,
 *       "DataPort":29997,"SecureRpcPort":0,"NettyDataPort":29997,
 *       "WebPort":30000,"DomainSocketPath":"","HttpServerPort":28080},
 *    "State":"AUTHORIZED","GenerationNumber":-1,
 *    "ServiceEntityName":"worker-<uuid>"}
 *
 * Parsing follows what Alluxio's Gson deserialisers accept, so that dorafs
 * keeps exactly the entries Alluxio's Java client keeps (an entry dropped by
 * one client and kept by another would change every client's ring):
 *  - Identity.version must be a JSON number, 0 or 1; Identity.identifier a
 *    hex string (either case) of 8 bytes (version 0) or 16 bytes (version 1);
 *  - address fields are optional (Java's defaults: "" and 0); an int field
 *    may be a number or a numeric string (Gson reads both) but must fit in
 *    int32; a string field must be a string;
 *  - unknown fields are ignored; the whole value must be one JSON object.
 */
#ifndef DORAFS_WORKER_ENTITY_H
#define DORAFS_WORKER_ENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest host name kept (DNS names are at most 253 bytes). */
#define DFS_HOST_MAX 256
/* Longest domain socket path (sun_path is 108 bytes on Linux). */
#define DFS_SOCKPATH_MAX 108

/* WorkerNetAddress, with Alluxio's JSON names in the comments. */
typedef struct dfs_worker_addr {
	char host[DFS_HOST_MAX];            /* Host */
	char container_host[DFS_HOST_MAX];  /* ContainerHost */
	int32_t rpc_port;                   /* RpcPort: worker gRPC */
	int32_t data_port;                  /* DataPort */
	int32_t secure_rpc_port;            /* SecureRpcPort */
	int32_t netty_data_port;            /* NettyDataPort */
	int32_t web_port;                   /* WebPort */
	char domain_socket[DFS_SOCKPATH_MAX]; /* DomainSocketPath */
	int32_t http_port;                  /* HttpServerPort */
} dfs_worker_addr;

typedef struct dfs_worker_entity {
	int32_t version;        /* Identity.version: 1 = UUID, 0 = legacy long id */
	uint8_t id[16];         /* Identity.identifier bytes */
	uint8_t id_len;         /* 16 (version 1) or 8 (version 0) */
	dfs_worker_addr addr;
	char state[16];         /* State ("AUTHORIZED", ...); "" if absent or unknown */
	int32_t generation;     /* GenerationNumber; -1 if absent, as Java's default */
} dfs_worker_entity;

/*
 * Parses one etcd value.  Returns 0, or -1 with a one-line reason in err
 * (the caller names the key).  Never reads past json[len].
 */
int dfs_worker_entity_parse(const char *json, size_t len, dfs_worker_entity *out,
			    char *err, size_t errlen);

/*
 * Alluxio's JSON for e, as a worker writes it, with ServiceEntityName set to
 * dfs_worker_entity_name(e).  Caller frees; NULL on out of memory.
 */
char *dfs_worker_entity_to_json(const dfs_worker_entity *e);

/*
 * WorkerIdentity.toString(): "worker-<uuid>" for version 1 (the etcd key's
 * last component), "worker-<decimal long>" for version 0.  buf of 64 bytes
 * is always enough.
 */
void dfs_worker_entity_name(const dfs_worker_entity *e, char *buf, size_t len);

/* Identity only, for display: canonical UUID or the decimal long id. */
void dfs_worker_entity_id_string(const dfs_worker_entity *e, char *buf, size_t len);

/*
 * A version-1 entity for host with identity nameUUIDFromBytes(host) and the
 * given ports (STATIC membership: Alluxio derives every address field but the
 * host from the client's own configuration).  Returns -1 if host is empty or
 * too long.
 */
int dfs_worker_entity_static(const char *host, int32_t rpc, int32_t data, int32_t web,
			     int32_t http, dfs_worker_entity *out);

/*
 * Parses a workers file's text (CommandUtils.readNodeList): each line is
 * trimmed of surrounding blanks; empty lines and lines starting with '#' are
 * skipped; duplicates are dropped.  A line with blanks inside is an error
 * (Alluxio would use the whole line as one host name, e.g. "w1 # main", so
 * no client could reach it; better to refuse than to hash a nonsense name).
 *
 * The hosts are returned in the order Java's HashSet<String> iterates them,
 * which is the order Alluxio's STATIC membership lists workers (it matters
 * for the JUMP policy only).  *hosts is one allocation (array and strings),
 * freed with free().  Returns 0, or -1 with "line N: ..." in err.
 */
int dfs_workers_file_parse(const char *text, size_t len, char ***hosts, size_t *n,
			   char *err, size_t errlen);

/* Java's String.hashCode() of UTF-8 text (decoded to UTF-16 as Java does;
 * invalid UTF-8 bytes count as U+FFFD, as new String(bytes, UTF_8)). */
int32_t dfs_java_string_hash(const char *s, size_t len);

#endif
