/*
 * Alluxio's SIMPLE channel authentication over gRPC
 * (/alluxio.grpc.sasl.SaslAuthenticationService/authenticate):
 *
 *   client -> CHALLENGE{scheme SIMPLE, message = authzid NUL user NUL password,
 *                       clientId = <uuid>, channelRef}
 *   server -> SUCCESS
 *
 * after which the stream must stay open: the worker unregisters the channel
 * id when the stream ends. Every other call carries "channel-id: <uuid>".
 */
#include "worker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/random.h>

#include <grpc/support/alloc.h>

#include "grpc/sasl_server.pb-c.h"
#include "worker_wire.h"

enum { TAG_SEND = 1, TAG_RECV, TAG_STATUS, TAG_CLOSE };

struct auth_stream {
	grpc_call *call;
	grpc_completion_queue *cq;
	grpc_metadata md;
	grpc_metadata_array md_in, trailing;
	grpc_byte_buffer *resp;
	grpc_status_code status;
	grpc_slice details;
	int pending;            /* batches started and not yet completed */
	bool status_done;
};

int dfs_worker_uuid(char out[DFS_CHANNEL_ID_LEN])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	snprintf(out, DFS_CHANNEL_ID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	return 0;
}

/* Record one completion; returns its tag, or 0 on timeout. */
static intptr_t auth_next(struct auth_stream *as, gpr_timespec deadline)
{
	grpc_event ev = grpc_completion_queue_next(as->cq, deadline, NULL);

	if (ev.type != GRPC_OP_COMPLETE)
		return 0;
	as->pending--;
	if ((intptr_t)ev.tag == TAG_STATUS)
		as->status_done = true;
	return (intptr_t)ev.tag;
}

static void auth_stream_free(struct auth_stream *as, bool polite)
{
	if (!as)
		return;
	if (as->call) {
		if (polite && !as->status_done) {
			/* Half-close: the worker then unregisters the channel id and
			 * ends the stream; give it a moment, then cancel. */
			grpc_op op = { .op = GRPC_OP_SEND_CLOSE_FROM_CLIENT };
			if (grpc_call_start_batch(as->call, &op, 1, (void *)(intptr_t)TAG_CLOSE, NULL) ==
			    GRPC_CALL_OK)
				as->pending++;
			gpr_timespec dl = dfs_grpc_deadline_ms(1000);
			while (as->pending > 0 && !as->status_done && auth_next(as, dl) != 0)
				;
		}
		grpc_call_cancel(as->call, NULL);
		while (as->pending > 0)
			auth_next(as, gpr_inf_future(GPR_CLOCK_MONOTONIC));
		grpc_call_unref(as->call);
	}
	if (as->cq) {
		grpc_completion_queue_shutdown(as->cq);
		while (grpc_completion_queue_next(as->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
		       GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(as->cq);
	}
	if (as->resp)
		grpc_byte_buffer_destroy(as->resp);
	grpc_metadata_array_destroy(&as->md_in);
	grpc_metadata_array_destroy(&as->trailing);
	grpc_slice_unref(as->details);
	grpc_slice_unref(as->md.value);
	free(as);
}

/* Run the handshake; on success *out is the open stream. */
static int handshake(dfs_worker_conn *c, const char *id, struct auth_stream **out,
		     dfs_worker_error *err)
{
	Alluxio__Grpc__Sasl__SaslMessage *reply = NULL;
	struct auth_stream *as;
	grpc_byte_buffer *req = NULL;
	grpc_op ops[3];
	char ref[160];
	uint8_t *buf = NULL;
	size_t len = 0;
	gpr_timespec deadline = dfs_grpc_deadline_ms(c->rpc_timeout_ms);
	int rc;

	as = calloc(1, sizeof(*as));
	if (!as) {
		rc = -ENOMEM;
		goto out;
	}
	as->details = grpc_empty_slice();
	as->md.key = grpc_slice_from_static_string("channel-id");
	as->md.value = grpc_slice_from_copied_string(id);
	grpc_metadata_array_init(&as->md_in);
	grpc_metadata_array_init(&as->trailing);
	as->cq = grpc_completion_queue_create_for_next(NULL);
	/* The stream lives as long as the channel: no deadline on the call
	 * itself, only on waiting for the answer. */
	as->call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, as->cq,
			grpc_slice_from_static_string("/alluxio.grpc.sasl.SaslAuthenticationService/authenticate"),
			NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (!as->call) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, "authenticate", "cannot create call");
		goto out;
	}

	snprintf(ref, sizeof(ref), "dorafs-%d-%s", (int)getpid(), c->target);
	if (dfs_wire_sasl_challenge(c->authzid, c->user, c->password, id, ref, &buf, &len) == 0)
		req = dfs_grpc_buffer(buf, len);
	free(buf);
	if (!req) {
		rc = -ENOMEM;
		goto out;
	}

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &as->trailing;
	ops[0].data.recv_status_on_client.status = &as->status;
	ops[0].data.recv_status_on_client.status_details = &as->details;
	if (grpc_call_start_batch(as->call, ops, 1, (void *)(intptr_t)TAG_STATUS, NULL) != GRPC_CALL_OK) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, "authenticate", "start_batch");
		goto out;
	}
	as->pending++;

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = 1;
	ops[0].data.send_initial_metadata.metadata = &as->md;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = req;
	if (grpc_call_start_batch(as->call, ops, 2, (void *)(intptr_t)TAG_SEND, NULL) != GRPC_CALL_OK) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, "authenticate", "start_batch");
		goto out;
	}
	as->pending++;

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[0].data.recv_initial_metadata.recv_initial_metadata = &as->md_in;
	ops[1].op = GRPC_OP_RECV_MESSAGE;
	ops[1].data.recv_message.recv_message = &as->resp;
	if (grpc_call_start_batch(as->call, ops, 2, (void *)(intptr_t)TAG_RECV, NULL) != GRPC_CALL_OK) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, "authenticate", "start_batch");
		goto out;
	}
	as->pending++;

	/* Wait for the reply (or the end of the stream). */
	{
		bool got_recv = false;
		while (!got_recv) {
			intptr_t t = auth_next(as, deadline);
			if (t == 0) {
				rc = dfs_worker_fail(c, err, GRPC_STATUS_DEADLINE_EXCEEDED, "authenticate",
						     "no answer within the deadline");
				goto out;
			}
			if (t == TAG_RECV)
				got_recv = true;
		}
	}
	if (!as->resp) {
		char *d;
		/* The stream ended without a reply: the status says why. */
		while (!as->status_done)
			auth_next(as, gpr_inf_future(GPR_CLOCK_MONOTONIC));
		d = grpc_slice_to_c_string(as->details);
		rc = dfs_worker_fail(c, err, as->status == GRPC_STATUS_OK ? GRPC_STATUS_UNAUTHENTICATED
								      : as->status,
				     "authenticate", d);
		gpr_free(d);
		goto out;
	}
	reply = (Alluxio__Grpc__Sasl__SaslMessage *)dfs_grpc_unpack(
		&alluxio__grpc__sasl__sasl_message__descriptor, as->resp);
	if (!reply || !reply->has_messagetype ||
	    reply->messagetype != ALLUXIO__GRPC__SASL__SASL_MESSAGE_TYPE__SUCCESS) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_UNAUTHENTICATED, "authenticate",
				     reply ? "server did not answer SUCCESS" : "unparsable reply");
		goto out;
	}
	rc = 0;
out:
	if (reply)
		protobuf_c_message_free_unpacked(&reply->base, NULL);
	if (req)
		grpc_byte_buffer_destroy(req);
	if (rc < 0) {
		auth_stream_free(as, false);
		as = NULL;
	}
	*out = as;
	return rc;
}

int dfs_worker_auth_ensure(dfs_worker_conn *c, char id[DFS_CHANNEL_ID_LEN], dfs_worker_error *err)
{
	int rc = 0;

	id[0] = '\0';
	if (!c->auth)
		return 0;
	pthread_mutex_lock(&c->auth_mu);
	if (c->as) {
		/* Cheap poll: has the stream ended since (worker restart,
		 * reconnect, server-side close)? */
		while (c->as->pending > 0 && auth_next(c->as, gpr_inf_past(GPR_CLOCK_MONOTONIC)) != 0)
			;
		if (c->as->status_done) {
			char *d = grpc_slice_to_c_string(c->as->details);
			dfs_worker_log(c, LOG_INFO, "worker %s: authentication stream ended (%s: %s); re-authenticating",
				       c->target, dfs_grpc_status_name(c->as->status), d);
			gpr_free(d);
			auth_stream_free(c->as, false);
			c->as = NULL;
		}
	}
	if (!c->as) {
		char nid[DFS_CHANNEL_ID_LEN];
		rc = dfs_worker_uuid(nid);
		if (rc == 0)
			rc = handshake(c, nid, &c->as, err);
		if (rc == 0) {
			memcpy(c->channel_id, nid, sizeof(nid));
			DFS_STAT_ADD(c, handshakes, 1);
		}
	}
	if (rc == 0)
		memcpy(id, c->channel_id, DFS_CHANNEL_ID_LEN);
	pthread_mutex_unlock(&c->auth_mu);
	return rc;
}

void dfs_worker_auth_invalidate(dfs_worker_conn *c, const char *id)
{
	pthread_mutex_lock(&c->auth_mu);
	/* Only the first of many failing callers tears down; later ones see a
	 * new channel id already. */
	if (c->as && strcmp(c->channel_id, id) == 0) {
		auth_stream_free(c->as, true);
		c->as = NULL;
	}
	pthread_mutex_unlock(&c->auth_mu);
}

void dfs_worker_auth_close(dfs_worker_conn *c)
{
	pthread_mutex_lock(&c->auth_mu);
	auth_stream_free(c->as, true);
	c->as = NULL;
	pthread_mutex_unlock(&c->auth_mu);
}
