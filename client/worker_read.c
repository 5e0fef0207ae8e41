/*
 * Alluxio's gRPC read protocol (BlockWorker/ReadBlock, a bidi stream), as the
 * worker's FileReadHandler expects it:
 *
 *   -> ReadRequest{offset, length, chunk_size, open_ufs_block_options{ufs_path,
 *                  block_size = file length, offset_in_file = 0}}   (no offset_received)
 *   <- ReadResponse{chunk{data}} ...   the worker stops when 4 MiB are unacked
 *   -> ReadRequest{..., offset_received = absolute offset consumed}  (acks)
 *   <- status OK after the range (or at end of file)
 *   -> half-close (before the end, half-close + cancel = abandon the read)
 *
 * A wait for any single message is bounded by the stream timeout, so a dead
 * or stuck worker yields -DFS_ETRYOTHER instead of a hang.
 */
#include "worker_internal.h"

#include <stdlib.h>
#include <string.h>

#include <grpc/support/alloc.h>

#include "worker_wire.h"

#define M_READ_BLOCK "/alluxio.grpc.block.BlockWorker/ReadBlock"

enum { TAG_SEND = 1, TAG_RECV, TAG_STATUS, TAG_CLOSE };

struct dfs_worker_read {
	dfs_worker_conn *c;
	char *uri;
	uint64_t file_length, offset, length;

	grpc_completion_queue *cq;
	grpc_call *call;
	char id[DFS_CHANNEL_ID_LEN];
	grpc_metadata md;
	grpc_metadata_array md_in, trailing;
	grpc_status_code status;
	grpc_slice details;
	grpc_byte_buffer *send_bb, *recv_bb;
	bool send_pending, close_pending, status_pending, got_md, closed_sent;

	/* The chunk being consumed: its data is read in place from the slices
	 * of the received buffer (no flattening copy); cur_bb and flat own them. */
	grpc_byte_buffer *cur_bb;
	grpc_slice flat;
	bool have_flat;
	grpc_slice *sl;
	size_t nsl, si, so;      /* cursor: slice index, offset in it */
	size_t left;
	bool need_ack;
	uint64_t received;       /* bytes of the range received */
	bool eof;
	int error;               /* sticky -errno */
	bool retried;
};

/* Wait for tag; false on timeout (the call is then cancelled and the tag
 * still collected, so nothing is left pending). */
static bool wait_tag(dfs_worker_read *r, intptr_t tag, int timeout_ms, bool *ok)
{
	grpc_event ev = grpc_completion_queue_pluck(r->cq, (void *)tag, dfs_grpc_deadline_ms(timeout_ms), NULL);

	if (ev.type == GRPC_QUEUE_TIMEOUT) {
		grpc_call_cancel(r->call, NULL);
		ev = grpc_completion_queue_pluck(r->cq, (void *)tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		*ok = false;
		return false;
	}
	*ok = ev.type == GRPC_OP_COMPLETE && ev.success;
	return true;
}

/* Send a ReadRequest (ack < 0: the first one) as the last op of ops[n]. */
static int post_send(dfs_worker_read *r, grpc_op *ops, size_t n, int64_t ack)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (r->send_bb) {
		grpc_byte_buffer_destroy(r->send_bb);
		r->send_bb = NULL;
	}
	if (dfs_wire_read_request(r->uri, r->file_length, r->offset, r->length, r->c->chunk_size,
				  ack, &buf, &len) < 0)
		return -ENOMEM;
	r->send_bb = dfs_grpc_buffer(buf, len);
	free(buf);
	ops[n - 1].op = GRPC_OP_SEND_MESSAGE;
	ops[n - 1].data.send_message.send_message = r->send_bb;
	if (grpc_call_start_batch(r->call, ops, n, (void *)(intptr_t)TAG_SEND, NULL) != GRPC_CALL_OK)
		return -EIO;
	r->send_pending = true;
	return 0;
}

static void chunk_release(dfs_worker_read *r)
{
	if (r->cur_bb)
		grpc_byte_buffer_destroy(r->cur_bb);
	if (r->have_flat)
		grpc_slice_unref(r->flat);
	r->cur_bb = NULL;
	r->have_flat = false;
	r->sl = NULL;
	r->nsl = r->si = r->so = r->left = 0;
}

/* Move the cursor forward by n bytes. */
static void chunk_skip(dfs_worker_read *r, size_t n)
{
	while (n > 0 && r->si < r->nsl) {
		size_t avail = GRPC_SLICE_LENGTH(r->sl[r->si]) - r->so;
		if (n < avail) {
			r->so += n;
			return;
		}
		n -= avail;
		r->si++;
		r->so = 0;
	}
}

static size_t hdr_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && i < 10; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/*
 * Take a received ReadResponse. Fast path: ReadResponse{chunk{data}} laid out
 * as every protobuf encoder writes it (chunk = field 1 first, data = field 1
 * first), so the data is found from the first few bytes and read straight
 * from the message's slices. Anything else (an unusual field order, a
 * compressed buffer) is flattened and parsed in full, skipping unknown fields.
 */
static int chunk_take(dfs_worker_read *r, grpc_byte_buffer *bb)
{
	grpc_slice_buffer *sb = &bb->data.raw.slice_buffer;
	uint8_t hdr[24];
	size_t got = 0, total = 0, i, k, hl;
	uint64_t inner, dlen;
	const uint8_t *data;
	int rc;

	r->cur_bb = bb;
	if (bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE) {
		for (i = 0; i < sb->count; i++) {
			size_t n = GRPC_SLICE_LENGTH(sb->slices[i]);
			size_t take = n < sizeof(hdr) - got ? n : sizeof(hdr) - got;
			memcpy(hdr + got, GRPC_SLICE_START_PTR(sb->slices[i]), take);
			got += take;
			total += n;
		}
		if (total == 0) {
			r->left = 0;
			return 0;
		}
		if (got >= 2 && hdr[0] == 0x0a && (k = hdr_varint(hdr + 1, got - 1, &inner)) &&
		    1 + k < got && hdr[1 + k] == 0x0a) {
			size_t k2 = hdr_varint(hdr + 2 + k, got - 2 - k, &dlen);
			hl = 2 + k + k2;
			if (k2 && dlen <= total - hl && 1 + k2 + dlen <= inner && inner <= total - 1 - k) {
				r->sl = sb->slices;
				r->nsl = sb->count;
				r->si = r->so = 0;
				chunk_skip(r, hl);
				r->left = (size_t)dlen;
				return 0;
			}
		}
	}
	rc = dfs_grpc_flatten(bb, &r->flat);
	if (rc < 0)
		return rc;
	r->have_flat = true;
	rc = dfs_grpc_parse_read_response(GRPC_SLICE_START_PTR(r->flat), GRPC_SLICE_LENGTH(r->flat),
					  &data, &r->left);
	if (rc < 0)
		return rc;
	r->sl = &r->flat;
	r->nsl = 1;
	r->si = 0;
	r->so = r->left ? (size_t)(data - GRPC_SLICE_START_PTR(r->flat)) : 0;
	return 0;
}

/* Copy up to len bytes of the chunk out; returns the count. */
static size_t chunk_copy(dfs_worker_read *r, uint8_t *buf, size_t len)
{
	size_t done = 0;

	if (len > r->left)
		len = r->left;
	while (done < len && r->si < r->nsl) {
		size_t avail = GRPC_SLICE_LENGTH(r->sl[r->si]) - r->so;
		size_t n = len - done < avail ? len - done : avail;
		memcpy(buf + done, GRPC_SLICE_START_PTR(r->sl[r->si]) + r->so, n);
		done += n;
		chunk_skip(r, n);
	}
	r->left -= done;
	return done;
}

/* Collect every outstanding completion and free the call. */
static void stream_end(dfs_worker_read *r)
{
	bool ok;

	if (!r->call)
		goto free_cq;
	if (r->status_pending && !r->eof) {
		/* Half-close: after the whole range that finishes the stream; before
		 * it, it is Alluxio's cancel, and a local cancel drops the chunks
		 * still in flight at once. */
		if (!r->closed_sent) {
			grpc_op op = { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };
			if (grpc_call_start_batch(r->call, &op, 1, (void *)(intptr_t)TAG_CLOSE, NULL) ==
			    GRPC_CALL_OK)
				r->close_pending = true;
			r->closed_sent = true;
		}
		if (r->received < r->length)
			grpc_call_cancel(r->call, NULL);
		else if (wait_tag(r, TAG_STATUS, r->c->stream_timeout_ms, &ok))
			r->status_pending = false;
	}
	if (r->send_pending)
		wait_tag(r, TAG_SEND, -1, &ok);
	if (r->close_pending)
		wait_tag(r, TAG_CLOSE, -1, &ok);
	if (r->status_pending)
		wait_tag(r, TAG_STATUS, -1, &ok);
	r->send_pending = r->close_pending = r->status_pending = false;
	grpc_call_unref(r->call);
	r->call = NULL;
free_cq:
	if (r->cq) {
		grpc_completion_queue_shutdown(r->cq);
		grpc_completion_queue_destroy(r->cq);
		r->cq = NULL;
	}
	chunk_release(r);
	if (r->send_bb)
		grpc_byte_buffer_destroy(r->send_bb);
	r->send_bb = NULL;
	grpc_metadata_array_destroy(&r->md_in);
	grpc_metadata_array_destroy(&r->trailing);
	grpc_slice_unref(r->details);
	r->details = grpc_empty_slice();
}

static int stream_start(dfs_worker_read *r, dfs_worker_error *err)
{
	grpc_op ops[2];
	int rc;

	grpc_metadata_array_init(&r->md_in);
	grpc_metadata_array_init(&r->trailing);
	r->details = grpc_empty_slice();
	r->got_md = false;
	rc = dfs_worker_auth_ensure(r->c, r->id, err);
	if (rc < 0)
		return rc;
	r->md.key = grpc_slice_from_static_string("channel-id");
	r->md.value = grpc_slice_from_static_string(r->id);
	r->cq = grpc_completion_queue_create_for_pluck(NULL);
	/* No deadline on the stream as a whole (a large read may take long);
	 * each wait is bounded instead. */
	r->call = grpc_channel_create_call(r->c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, r->cq,
					   grpc_slice_from_static_string(M_READ_BLOCK), NULL,
					   gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (!r->call)
		return dfs_worker_fail(r->c, err, GRPC_STATUS_INTERNAL, M_READ_BLOCK, "cannot create call");
	DFS_STAT_ADD(r->c, calls, 1);
	DFS_STAT_ADD(r->c, read_streams, 1);

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &r->trailing;
	ops[0].data.recv_status_on_client.status = &r->status;
	ops[0].data.recv_status_on_client.status_details = &r->details;
	if (grpc_call_start_batch(r->call, ops, 1, (void *)(intptr_t)TAG_STATUS, NULL) != GRPC_CALL_OK)
		return dfs_worker_fail(r->c, err, GRPC_STATUS_INTERNAL, M_READ_BLOCK, "start_batch");
	r->status_pending = true;

	/* The first request: without offset_received. */
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = r->id[0] ? 1 : 0;
	ops[0].data.send_initial_metadata.metadata = r->id[0] ? &r->md : NULL;
	rc = post_send(r, ops, 2, -1);
	if (rc < 0)
		return dfs_worker_fail(r->c, err, GRPC_STATUS_INTERNAL, M_READ_BLOCK, "start_batch");
	return 0;
}

int dfs_worker_read_open(dfs_worker_conn *c, const char *uri, uint64_t file_length,
			 uint64_t offset, uint64_t length, dfs_worker_read **out,
			 dfs_worker_error *err)
{
	dfs_worker_read *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->c = c;
	r->details = grpc_empty_slice();
	r->uri = strdup(uri);
	if (!r->uri) {
		free(r);
		return -ENOMEM;
	}
	r->file_length = file_length;
	r->offset = offset;
	if (offset >= file_length)
		length = 0;
	else if (length > file_length - offset)
		length = file_length - offset;
	r->length = length;
	if (length == 0) {
		/* Nothing to read: no stream at all. */
		r->eof = true;
		*out = r;
		return 0;
	}
	rc = stream_start(r, err);
	if (rc < 0) {
		dfs_worker_read_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The stream ended: turn its status into EOF or an error. */
static int finish(dfs_worker_read *r, dfs_worker_error *err)
{
	bool ok;
	char *d;
	int rc;

	if (r->status_pending) {
		if (!wait_tag(r, TAG_STATUS, r->c->stream_timeout_ms, &ok)) {
			r->status_pending = false;
			return dfs_worker_fail(r->c, err, GRPC_STATUS_DEADLINE_EXCEEDED, M_READ_BLOCK,
					       "no status within the stream timeout");
		}
		r->status_pending = false;
	}
	if (r->status == GRPC_STATUS_OK) {
		r->eof = true;
		return 0;
	}
	if (r->status == GRPC_STATUS_UNAUTHENTICATED)
		DFS_STAT_ADD(r->c, unauthenticated, 1);
	d = grpc_slice_to_c_string(r->details);
	rc = dfs_worker_fail(r->c, err, r->status, M_READ_BLOCK, d);
	gpr_free(d);
	return rc;
}

/* Fetch the next chunk; 0, or -errno; sets r->eof at the end. */
static int next_chunk(dfs_worker_read *r, dfs_worker_error *err)
{
	grpc_op ops[2];
	size_t n = 0;
	bool ok;
	int rc;

	if (r->need_ack && r->received < r->length) {
		/* Ack what was consumed so the worker may send further. */

		if (r->send_pending) {
			if (!wait_tag(r, TAG_SEND, r->c->stream_timeout_ms, &ok))
				return dfs_worker_fail(r->c, err, GRPC_STATUS_DEADLINE_EXCEEDED,
						       M_READ_BLOCK, "send blocked beyond the stream timeout");
			r->send_pending = false;
		}
		memset(ops, 0, sizeof(ops));
		rc = post_send(r, ops, 1, (int64_t)(r->offset + r->received));
		if (rc < 0)
			return dfs_worker_fail(r->c, err, GRPC_STATUS_INTERNAL, M_READ_BLOCK, "ack");
	}
	r->need_ack = false;
	if (r->received >= r->length && !r->closed_sent) {
		/* All asked for is here: half-close, as the Java client does. */
		grpc_op op = { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };
		if (grpc_call_start_batch(r->call, &op, 1, (void *)(intptr_t)TAG_CLOSE, NULL) == GRPC_CALL_OK)
			r->close_pending = true;
		r->closed_sent = true;
	}
	memset(ops, 0, sizeof(ops));
	if (!r->got_md) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n].data.recv_initial_metadata.recv_initial_metadata = &r->md_in;
		n++;
		r->got_md = true;
	}
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n].data.recv_message.recv_message = &r->recv_bb;
	n++;
	r->recv_bb = NULL;
	if (grpc_call_start_batch(r->call, ops, n, (void *)(intptr_t)TAG_RECV, NULL) != GRPC_CALL_OK)
		return dfs_worker_fail(r->c, err, GRPC_STATUS_INTERNAL, M_READ_BLOCK, "start_batch");
	if (!wait_tag(r, TAG_RECV, r->c->stream_timeout_ms, &ok)) {
		if (r->recv_bb)
			grpc_byte_buffer_destroy(r->recv_bb);
		r->recv_bb = NULL;
		return dfs_worker_fail(r->c, err, GRPC_STATUS_DEADLINE_EXCEEDED, M_READ_BLOCK,
				       "no data within the stream timeout");
	}
	if (!r->recv_bb)
		return finish(r, err);
	rc = chunk_take(r, r->recv_bb);
	r->recv_bb = NULL;
	if (rc < 0 || r->left > r->length - r->received) {
		chunk_release(r);
		grpc_call_cancel(r->call, NULL);
		return dfs_worker_fail(r->c, err, GRPC_STATUS_INTERNAL, M_READ_BLOCK,
				       rc < 0 ? "unparsable chunk" : "more data than asked for");
	}
	r->received += r->left;
	DFS_STAT_ADD(r->c, read_bytes, r->left);
	if (r->left == 0)
		chunk_release(r);
	return 0;
}

ssize_t dfs_worker_read_next(dfs_worker_read *r, void *buf, size_t len, dfs_worker_error *err)
{
	int rc;

	if (r->error)
		return r->error;
	while (r->left == 0) {
		if (r->eof)
			return 0;
		rc = next_chunk(r, err);
		if (rc < 0 && r->received == 0 && !r->retried && r->c->auth &&
		    r->status == GRPC_STATUS_UNAUTHENTICATED) {
			/* The worker forgot our channel id: authenticate again and
			 * start over, once. */
			r->retried = true;
			dfs_worker_auth_invalidate(r->c, r->id);
			stream_end(r);
			r->status = GRPC_STATUS_OK;
			r->closed_sent = false;
			r->need_ack = false;
			rc = stream_start(r, err);
			if (rc == 0)
				continue;
		}
		if (rc < 0) {
			r->error = rc;
			return rc;
		}
	}
	len = chunk_copy(r, buf, len);
	if (r->left == 0) {
		chunk_release(r);
		r->need_ack = true;
	}
	return (ssize_t)len;
}

void dfs_worker_read_close(dfs_worker_read *r)
{
	if (!r)
		return;
	stream_end(r);
	free(r->uri);
	free(r);
}
