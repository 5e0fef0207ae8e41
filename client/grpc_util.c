/* Helpers over the gRPC C core: init, message (de)serialisation, deadlines. */
#include "grpc_util.h"

#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

void dfs_grpc_ref(void)
{
	grpc_init();
}

void dfs_grpc_unref(void)
{
	/* grpc_shutdown() is asynchronous; blocking makes valgrind runs clean
	 * and guarantees no gRPC thread outlives the last user. */
	grpc_shutdown_blocking();
}

grpc_byte_buffer *dfs_grpc_buffer(const void *p, size_t n)
{
	grpc_slice s = grpc_slice_from_copied_buffer(p, n);
	grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);

	grpc_slice_unref(s);
	return bb;
}

grpc_byte_buffer *dfs_grpc_pack(const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(n);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	return bb;
}

int dfs_grpc_flatten(grpc_byte_buffer *bb, grpc_slice *out)
{
	grpc_byte_buffer_reader r;

	if (bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE &&
	    bb->data.raw.slice_buffer.count == 1) {
		*out = grpc_slice_ref(bb->data.raw.slice_buffer.slices[0]);
		return 0;
	}
	if (!grpc_byte_buffer_reader_init(&r, bb))
		return -EBADMSG;
	*out = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	return 0;
}

ProtobufCMessage *dfs_grpc_unpack(const ProtobufCMessageDescriptor *desc, grpc_byte_buffer *bb)
{
	grpc_slice s;
	ProtobufCMessage *m;

	if (dfs_grpc_flatten(bb, &s) < 0)
		return NULL;
	m = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	return m;
}

/* Read a base-128 varint; returns bytes used, 0 on error. */
static size_t get_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < n && i < 10; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/*
 * Walk the fields of one message; for field `want` (length-delimited) return
 * its bytes. Other fields of any wire type are skipped, so that fields a
 * newer server adds do not break us.
 */
static int find_bytes_field(const uint8_t *p, size_t n, uint32_t want,
			    const uint8_t **out, size_t *outlen)
{
	size_t i = 0;

	*out = NULL;
	*outlen = 0;
	while (i < n) {
		uint64_t key, v;
		size_t k = get_varint(p + i, n - i, &key);

		if (!k)
			return -EBADMSG;
		i += k;
		switch (key & 7) {
		case 0:
			k = get_varint(p + i, n - i, &v);
			if (!k)
				return -EBADMSG;
			i += k;
			break;
		case 1:
			if (n - i < 8)
				return -EBADMSG;
			i += 8;
			break;
		case 5:
			if (n - i < 4)
				return -EBADMSG;
			i += 4;
			break;
		case 2:
			k = get_varint(p + i, n - i, &v);
			if (!k || v > n - i - k)
				return -EBADMSG;
			i += k;
			if ((key >> 3) == want) {
				/* proto semantics: the last occurrence wins */
				*out = p + i;
				*outlen = (size_t)v;
			}
			i += (size_t)v;
			break;
		default:
			return -EBADMSG;   /* groups (3, 4) are not used by Alluxio */
		}
	}
	return 0;
}

int dfs_grpc_parse_read_response(const uint8_t *buf, size_t len,
				 const uint8_t **data, size_t *data_len)
{
	const uint8_t *chunk;
	size_t chunk_len;
	int rc;

	/* ReadResponse{chunk = 1 Chunk{data = 1 bytes}} */
	rc = find_bytes_field(buf, len, 1, &chunk, &chunk_len);
	if (rc < 0)
		return rc;
	if (!chunk) {
		*data = buf;
		*data_len = 0;
		return 0;
	}
	rc = find_bytes_field(chunk, chunk_len, 1, data, data_len);
	if (rc < 0)
		return rc;
	if (!*data)
		*data = chunk;
	return 0;
}

gpr_timespec dfs_grpc_deadline_ms(int64_t ms)
{
	if (ms <= 0)
		return gpr_inf_future(GPR_CLOCK_MONOTONIC);
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}
