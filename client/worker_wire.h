/*
 * The request messages the worker client sends, built in one place so that
 * the wire tests (tests/unit/test_worker_wire.c) check the very bytes that go
 * out. Each function packs into a malloc'd buffer (*out, *len); free(*out).
 * Returns 0 or -ENOMEM.
 */
#ifndef DORAFS_WORKER_WIRE_H
#define DORAFS_WORKER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int dfs_wire_get_status(const char *uri, uint8_t **out, size_t *len);
int dfs_wire_list_status(const char *uri, uint8_t **out, size_t *len);
int dfs_wire_exists(const char *uri, uint8_t **out, size_t *len);
int dfs_wire_cache_data(const char *uri, int64_t pos, int64_t length, bool async,
			uint8_t **out, size_t *len);
/* ack < 0: the first request of a stream (no offset_received). */
int dfs_wire_read_request(const char *uri, uint64_t file_length, uint64_t offset,
			  uint64_t length, uint32_t chunk_size, int64_t ack,
			  uint8_t **out, size_t *len);
int dfs_wire_sasl_challenge(const char *authzid, const char *user, const char *password,
			    const char *client_id, const char *channel_ref,
			    uint8_t **out, size_t *len);

/*
 * POSIX permission bits <-> alluxio.grpc.PMode: each octal digit d is the
 * Bits enum value d + 1 (NONE=1 ... ALL=8), as Alluxio's Mode.Bits maps them
 * by name. pmode is an Alluxio__Grpc__PMode (void * keeps protobuf-c types
 * out of this header).
 */
void dfs_wire_pmode(uint32_t mode, void *pmode);
/* The permission bits of a PMode; -EINVAL if a Bits value is out of range. */
int dfs_wire_mode_from_pmode(const void *pmode, uint32_t *mode);
int dfs_wire_pack_pmode(uint32_t mode, uint8_t **out, size_t *len);

#endif
