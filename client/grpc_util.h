/*
 * Small helpers over the gRPC C core shared by the worker client and the
 * test worker: lazy init, protobuf-c <-> byte buffer, status -> errno.
 * Only the worker_* files and tests/servers/worker use this header.
 */
#ifndef DORAFS_GRPC_UTIL_H
#define DORAFS_GRPC_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

/*
 * "Try another worker, or the UFS": the worker is unreachable, went away
 * mid-call, or did not answer within the deadline (gRPC UNAVAILABLE or
 * DEADLINE_EXCEEDED). Returned negated, like every other errno here.
 */
#define DFS_ETRYOTHER EHOSTUNREACH

/* gRPC status -> positive errno (see DFS_ETRYOTHER); GRPC_STATUS_OK -> 0. */
int dfs_grpc_status_errno(grpc_status_code code);
/* "NOT_FOUND" etc., for logs. */
const char *dfs_grpc_status_name(grpc_status_code code);

/*
 * gRPC init is reference counted by gRPC itself; these wrap it so that the
 * first worker source (created after the CLI has forked) starts gRPC's
 * threads, and the last one stops them.
 */
void dfs_grpc_ref(void);
void dfs_grpc_unref(void);

/* A byte buffer holding a copy of n bytes at p. */
grpc_byte_buffer *dfs_grpc_buffer(const void *p, size_t n);

/* Serialise a message into a new byte buffer; NULL on allocation failure. */
grpc_byte_buffer *dfs_grpc_pack(const ProtobufCMessage *msg);

/*
 * Flatten a received byte buffer into one slice (no copy when it already is
 * one slice). The caller unrefs *out.
 */
int dfs_grpc_flatten(grpc_byte_buffer *bb, grpc_slice *out);

/* Unpack a received message; NULL if it does not parse. Free with
 * protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *dfs_grpc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb);

/*
 * Decode an alluxio.grpc.block.ReadResponse without copying its data:
 * *data points into buf. Unknown fields are skipped. Returns 0, or -EBADMSG.
 * A response without a chunk gives *len = 0.
 */
int dfs_grpc_parse_read_response(const uint8_t *buf, size_t len,
				 const uint8_t **data, size_t *data_len);

/* Deadline helpers. */
gpr_timespec dfs_grpc_deadline_ms(int64_t ms);

#endif
