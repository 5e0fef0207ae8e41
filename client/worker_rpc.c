/*
 * Calls to a Dora worker's BlockWorker service over the gRPC C core.
 *
 * Each call gets its own completion queue (pluck), so calls from many
 * threads share the channel without sharing any lock; the channel
 * multiplexes them on one HTTP/2 connection.
 */
#include "worker_internal.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "grpc/block_worker.pb-c.h"
#include "grpc/file_system_master.pb-c.h"
#include "worker_wire.h"

#define M_GET_STATUS "/alluxio.grpc.block.BlockWorker/GetStatus"
#define M_LIST_STATUS "/alluxio.grpc.block.BlockWorker/ListStatus"
#define M_READ_BLOCK "/alluxio.grpc.block.BlockWorker/ReadBlock"
#define M_EXISTS "/alluxio.grpc.block.BlockWorker/Exists"
#define M_CACHE_DATA "/alluxio.grpc.block.BlockWorker/CacheData"

/* Messages can be large: a ListStatus batch is 10,000 FileInfos. */
#define MAX_RECV_MESSAGE (128 << 20)

void dfs_worker_log(dfs_worker_conn *c, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->log)
		c->log(level, buf);
	else if (level <= LOG_WARNING)
		fprintf(stderr, "dorafs: %s\n", buf);
}

int dfs_worker_fail(dfs_worker_conn *c, dfs_worker_error *err, grpc_status_code code,
		    const char *what, const char *detail)
{
	int e = dfs_grpc_status_errno(code);

	if (e == 0)
		e = EIO;
	if (err) {
		err->grpc_code = (int)code;
		snprintf(err->message, sizeof(err->message), "%s", detail ? detail : "");
	}
	DFS_STAT_ADD(c, failures, 1);
	dfs_worker_log(c, code == GRPC_STATUS_NOT_FOUND ? LOG_DEBUG : LOG_INFO,
		       "worker %s: %s: %s: %s", c->target, what, dfs_grpc_status_name(code),
		       detail ? detail : "");
	return -e;
}

void dfs_worker_fileinfo_clear(dfs_worker_fileinfo *fi)
{
	free(fi->name);
	free(fi->path);
	free(fi->content_hash);
	free(fi->owner);
	free(fi->group);
	memset(fi, 0, sizeof(*fi));
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* Borrow the strings of a FileInfo (valid while it lives). */
static void fileinfo_view(const Alluxio__Grpc__File__FileInfo *f, dfs_worker_fileinfo *out)
{
	static char empty[] = "";

	out->name = f->name ? f->name : empty;
	out->path = f->path ? f->path : empty;
	out->length = f->has_length && f->length > 0 ? (uint64_t)f->length : 0;
	out->folder = f->has_folder && f->folder;
	out->mode = f->has_mode ? (uint32_t)f->mode & 07777 : (out->folder ? 0755 : 0644);
	out->mtime_ms = f->has_lastmodificationtimems ? f->lastmodificationtimems : 0;
	out->content_hash = f->contenthash ? f->contenthash : empty;
	out->owner = f->owner ? f->owner : empty;
	out->group = f->group ? f->group : empty;
}

int dfs_worker_conn_new(const dfs_worker_conn_options *opt, dfs_worker_conn **out,
			char *err, size_t errlen)
{
	dfs_worker_conn *c;
	grpc_channel_credentials *creds;
	grpc_arg args[5];
	grpc_channel_args chargs;
	const char *user = opt->user;
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];
	int rc;

	*out = NULL;
	if (!opt->target || !*opt->target) {
		snprintf(err, errlen, "worker: no target address");
		return -EINVAL;
	}
	if (!user || !*user) {
		/* Alluxio's SIMPLE mode sends the OS login user. */
		if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp)
			user = pwp->pw_name;
		else
			user = "dorafs";
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "worker: out of memory");
		return -ENOMEM;
	}
	c->target = strdup(opt->target);
	c->user = strdup(user);
	c->password = strdup(opt->password ? opt->password : "noPassword");
	c->authzid = strdup(opt->impersonate ? opt->impersonate : "");
	if (!c->target || !c->user || !c->password || !c->authzid) {
		snprintf(err, errlen, "worker: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	c->refs = 1;
	c->auth = !opt->auth_disabled;
	c->rpc_timeout_ms = opt->rpc_timeout_ms > 0 ? opt->rpc_timeout_ms : DFS_WORKER_DEFAULT_RPC_TIMEOUT_MS;
	c->stream_timeout_ms = opt->stream_timeout_ms > 0 ? opt->stream_timeout_ms
							   : DFS_WORKER_DEFAULT_STREAM_TIMEOUT_MS;
	c->chunk_size = opt->chunk_size ? opt->chunk_size : DFS_WORKER_DEFAULT_CHUNK;
	if (c->chunk_size > DFS_WORKER_MAX_CHUNK)
		c->chunk_size = DFS_WORKER_MAX_CHUNK;
	c->log = opt->log;
	pthread_mutex_init(&c->auth_mu, NULL);

	/* gRPC starts threads: only now, after any daemonising fork. */
	dfs_grpc_ref();
	memset(args, 0, sizeof(args));
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[0].value.integer = MAX_RECV_MESSAGE;
	/* One channel = its own connection, not one shared with other
	 * channels to the same address (the channel id belongs to it). */
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
	args[1].value.integer = 1;
	/* A restarted worker should be found again within a second or two,
	 * not after gRPC's default backoff of up to two minutes. */
	args[2].type = GRPC_ARG_INTEGER;
	args[2].key = (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
	args[2].value.integer = 200;
	/* gRPC also uses this as the minimum time a connection attempt
	 * (TCP + HTTP/2 handshake) may take: keep it generous, or a slow
	 * network (or valgrind) turns every connect into UNAVAILABLE. */
	args[3].type = GRPC_ARG_INTEGER;
	args[3].key = (char *)GRPC_ARG_MIN_RECONNECT_BACKOFF_MS;
	args[3].value.integer = 10000;
	args[4].type = GRPC_ARG_INTEGER;
	args[4].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
	args[4].value.integer = 2000;
	chargs.num_args = 5;
	chargs.args = args;
	creds = grpc_insecure_credentials_create();
	c->ch = grpc_channel_create(c->target, creds, &chargs);
	grpc_channel_credentials_release(creds);
	if (!c->ch) {
		snprintf(err, errlen, "worker %s: cannot create channel", c->target);
		rc = -EINVAL;
		goto fail_grpc;
	}
	*out = c;
	return 0;
fail_grpc:
	pthread_mutex_destroy(&c->auth_mu);
	dfs_grpc_unref();
fail:
	free(c->target);
	free(c->user);
	free(c->password);
	free(c->authzid);
	free(c);
	return rc;
}

dfs_worker_conn *dfs_worker_conn_ref(dfs_worker_conn *c)
{
	__atomic_fetch_add(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void dfs_worker_conn_free(dfs_worker_conn *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	dfs_worker_auth_close(c);
	grpc_channel_destroy(c->ch);
	pthread_mutex_destroy(&c->auth_mu);
	free(c->target);
	free(c->user);
	free(c->password);
	free(c->authzid);
	free(c);
	dfs_grpc_unref();
}

const char *dfs_worker_conn_target(const dfs_worker_conn *c)
{
	return c->target;
}

void dfs_worker_conn_get_stats(dfs_worker_conn *c, dfs_worker_conn_stats *out)
{
	out->calls = __atomic_load_n(&c->stats.calls, __ATOMIC_RELAXED);
	out->handshakes = __atomic_load_n(&c->stats.handshakes, __ATOMIC_RELAXED);
	out->unauthenticated = __atomic_load_n(&c->stats.unauthenticated, __ATOMIC_RELAXED);
	out->list_batches = __atomic_load_n(&c->stats.list_batches, __ATOMIC_RELAXED);
	out->read_streams = __atomic_load_n(&c->stats.read_streams, __ATOMIC_RELAXED);
	out->read_bytes = __atomic_load_n(&c->stats.read_bytes, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&c->stats.failures, __ATOMIC_RELAXED);
}

/* ---- one call: its queue, metadata and status ---------------------------- */

typedef struct call {
	dfs_worker_conn *c;
	grpc_completion_queue *cq;
	grpc_call *call;
	char id[DFS_CHANNEL_ID_LEN];
	grpc_metadata md;
	grpc_metadata_array md_in, trailing;
	grpc_status_code status;
	grpc_slice details;
} call;

static int call_start(call *k, dfs_worker_conn *c, const char *method, gpr_timespec deadline,
		      dfs_worker_error *err)
{
	int rc;

	memset(k, 0, sizeof(*k));
	k->c = c;
	k->details = grpc_empty_slice();
	grpc_metadata_array_init(&k->md_in);
	grpc_metadata_array_init(&k->trailing);
	rc = dfs_worker_auth_ensure(c, k->id, err);
	if (rc < 0)
		return rc;
	k->md.key = grpc_slice_from_static_string("channel-id");
	k->md.value = grpc_slice_from_static_string(k->id);
	k->cq = grpc_completion_queue_create_for_pluck(NULL);
	k->call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, k->cq,
					   grpc_slice_from_static_string(method), NULL, deadline, NULL);
	if (!k->call)
		return dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, method, "cannot create call");
	DFS_STAT_ADD(c, calls, 1);
	return 0;
}

static void call_end(call *k)
{
	if (k->call)
		grpc_call_unref(k->call);
	if (k->cq) {
		/* every tag has been plucked by now */
		grpc_completion_queue_shutdown(k->cq);
		grpc_completion_queue_destroy(k->cq);
	}
	grpc_metadata_array_destroy(&k->md_in);
	grpc_metadata_array_destroy(&k->trailing);
	grpc_slice_unref(k->details);
	k->call = NULL;
	k->cq = NULL;
}

/* Start one batch and wait for it (no deadline: the call's own applies). */
static bool call_batch(call *k, grpc_op *ops, size_t n)
{
	grpc_event ev;

	if (grpc_call_start_batch(k->call, ops, n, k, NULL) != GRPC_CALL_OK)
		return false;
	ev = grpc_completion_queue_pluck(k->cq, k, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	return ev.type == GRPC_OP_COMPLETE && ev.success;
}

static void op_send_md(grpc_op *op, call *k)
{
	op->op = GRPC_OP_SEND_INITIAL_METADATA;
	op->data.send_initial_metadata.count = k->id[0] ? 1 : 0;
	op->data.send_initial_metadata.metadata = k->id[0] ? &k->md : NULL;
}

static void op_recv_status(grpc_op *op, call *k)
{
	op->op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	op->data.recv_status_on_client.trailing_metadata = &k->trailing;
	op->data.recv_status_on_client.status = &k->status;
	op->data.recv_status_on_client.status_details = &k->details;
}

/* The failure a finished call reports, as -errno (0 for OK). */
static int call_result(call *k, const char *what, dfs_worker_error *err)
{
	char *d;
	int rc;

	if (k->status == GRPC_STATUS_OK)
		return 0;
	if (k->status == GRPC_STATUS_UNAUTHENTICATED)
		DFS_STAT_ADD(k->c, unauthenticated, 1);
	d = grpc_slice_to_c_string(k->details);
	rc = dfs_worker_fail(k->c, err, k->status, what, d);
	gpr_free(d);
	return rc;
}

/*
 * A unary call. On UNAUTHENTICATED (the worker restarted and forgot our
 * channel id, or purged it), authenticate again and retry once.
 */
static int unary(dfs_worker_conn *c, const char *method, uint8_t *reqbuf, size_t reqlen,
		 const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp,
		 dfs_worker_error *err)
{
	int attempt, rc = -EIO;

	*resp = NULL;
	if (!reqbuf)
		return -ENOMEM;
	for (attempt = 0; attempt < 2; attempt++) {
		call k;
		grpc_op ops[6];
		grpc_byte_buffer *send = NULL, *recv = NULL;

		rc = call_start(&k, c, method, dfs_grpc_deadline_ms(c->rpc_timeout_ms), err);
		if (rc < 0) {
			call_end(&k);
			return rc;
		}
		send = dfs_grpc_buffer(reqbuf, reqlen);
		memset(ops, 0, sizeof(ops));
		op_send_md(&ops[0], &k);
		ops[1].op = GRPC_OP_SEND_MESSAGE;
		ops[1].data.send_message.send_message = send;
		ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[3].data.recv_initial_metadata.recv_initial_metadata = &k.md_in;
		ops[4].op = GRPC_OP_RECV_MESSAGE;
		ops[4].data.recv_message.recv_message = &recv;
		op_recv_status(&ops[5], &k);
		if (!call_batch(&k, ops, 6)) {
			rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, method, "batch failed");
		} else if (k.status != GRPC_STATUS_OK) {
			rc = call_result(&k, method, err);
		} else if (!recv) {
			rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, method, "no response message");
		} else {
			*resp = dfs_grpc_unpack(rdesc, recv);
			rc = *resp ? 0 : dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, method,
							 "unparsable response");
		}
		grpc_byte_buffer_destroy(send);
		if (recv)
			grpc_byte_buffer_destroy(recv);
		if (k.status == GRPC_STATUS_UNAUTHENTICATED && c->auth && attempt == 0) {
			dfs_worker_auth_invalidate(c, k.id);
			call_end(&k);
			continue;
		}
		call_end(&k);
		break;
	}
	return rc;
}

int dfs_worker_get_status(dfs_worker_conn *c, const char *uri, dfs_worker_fileinfo *out,
			  dfs_worker_error *err)
{
	Alluxio__Grpc__File__GetStatusPResponse *resp = NULL;
	dfs_worker_fileinfo v;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	dfs_wire_get_status(uri, &buf, &len);
	rc = unary(c, M_GET_STATUS, buf, len, &alluxio__grpc__file__get_status_presponse__descriptor,
		   (ProtobufCMessage **)&resp, err);
	free(buf);
	if (rc < 0)
		return rc;
	if (!resp->fileinfo) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, M_GET_STATUS, "response without fileInfo");
		goto out;
	}
	fileinfo_view(resp->fileinfo, &v);
	out->name = dup_or_empty(v.name);
	out->path = dup_or_empty(v.path);
	out->content_hash = dup_or_empty(v.content_hash);
	out->owner = dup_or_empty(v.owner);
	out->group = dup_or_empty(v.group);
	out->length = v.length;
	out->folder = v.folder;
	out->mode = v.mode;
	out->mtime_ms = v.mtime_ms;
	if (!out->name || !out->path || !out->content_hash || !out->owner || !out->group) {
		dfs_worker_fileinfo_clear(out);
		rc = -ENOMEM;
	}
out:
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return rc;
}

int dfs_worker_exists(dfs_worker_conn *c, const char *uri, bool *exists, dfs_worker_error *err)
{
	Alluxio__Grpc__File__ExistsPResponse *resp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	dfs_wire_exists(uri, &buf, &len);
	rc = unary(c, M_EXISTS, buf, len, &alluxio__grpc__file__exists_presponse__descriptor,
		   (ProtobufCMessage **)&resp, err);
	free(buf);
	if (rc < 0)
		return rc;
	*exists = resp->has_exists && resp->exists;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

int dfs_worker_cache_data(dfs_worker_conn *c, const char *uri, int64_t pos, int64_t length,
			  bool async, dfs_worker_error *err)
{
	ProtobufCMessage *resp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	dfs_wire_cache_data(uri, pos, length, async, &buf, &len);
	rc = unary(c, M_CACHE_DATA, buf, len, &alluxio__grpc__block__cache_data_response__descriptor,
		   &resp, err);
	free(buf);
	if (rc < 0)
		return rc;
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

/* ---- ListStatus: a server stream of FileInfo batches --------------------- */

static int list_once(dfs_worker_conn *c, const char *uri, dfs_worker_list_cb cb, void *arg,
		     dfs_worker_error *err, bool *unauth, char *id_used, bool *delivered)
{
	grpc_byte_buffer *send = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	grpc_op ops[4];
	call k;
	int rc, stop = 0;
	grpc_event ev;
	bool status_posted = false;

	*unauth = false;
	rc = call_start(&k, c, M_LIST_STATUS, dfs_grpc_deadline_ms(c->rpc_timeout_ms), err);
	if (rc < 0)
		goto out;
	memcpy(id_used, k.id, DFS_CHANNEL_ID_LEN);
	if (dfs_wire_list_status(uri, &buf, &len) == 0)
		send = dfs_grpc_buffer(buf, len);
	free(buf);
	if (!send) {
		rc = -ENOMEM;
		goto out;
	}
	/* The status batch completes when the stream ends, however it ends. */
	memset(ops, 0, sizeof(ops));
	op_recv_status(&ops[0], &k);
	if (grpc_call_start_batch(k.call, ops, 1, &k.status, NULL) != GRPC_CALL_OK) {
		rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, M_LIST_STATUS, "start_batch");
		goto out;
	}
	status_posted = true;
	memset(ops, 0, sizeof(ops));
	op_send_md(&ops[0], &k);
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &k.md_in;
	call_batch(&k, ops, 4);   /* a failure shows in the status */
	for (;;) {
		grpc_byte_buffer *recv = NULL;
		Alluxio__Grpc__File__ListStatusPResponse *resp;
		size_t i;

		memset(ops, 0, sizeof(ops));
		ops[0].op = GRPC_OP_RECV_MESSAGE;
		ops[0].data.recv_message.recv_message = &recv;
		if (!call_batch(&k, ops, 1) || !recv)
			break;
		resp = (Alluxio__Grpc__File__ListStatusPResponse *)dfs_grpc_unpack(
			&alluxio__grpc__file__list_status_presponse__descriptor, recv);
		grpc_byte_buffer_destroy(recv);
		if (!resp) {
			rc = dfs_worker_fail(c, err, GRPC_STATUS_INTERNAL, M_LIST_STATUS, "unparsable batch");
			grpc_call_cancel(k.call, NULL);
			stop = 1;
			break;
		}
		DFS_STAT_ADD(c, list_batches, 1);
		for (i = 0; i < resp->n_fileinfos && !stop; i++) {
			dfs_worker_fileinfo v;
			fileinfo_view(resp->fileinfos[i], &v);
			*delivered = true;
			stop = cb(arg, &v);
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		if (stop) {
			if (rc == 0)
				rc = stop;
			grpc_call_cancel(k.call, NULL);
			break;
		}
	}
	ev = grpc_completion_queue_pluck(k.cq, &k.status, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	status_posted = false;
	(void)ev;
	if (!stop) {
		rc = call_result(&k, M_LIST_STATUS, err);
		*unauth = k.status == GRPC_STATUS_UNAUTHENTICATED;
	}
out:
	if (status_posted)
		grpc_completion_queue_pluck(k.cq, &k.status, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (send)
		grpc_byte_buffer_destroy(send);
	call_end(&k);
	return rc;
}

int dfs_worker_list_status(dfs_worker_conn *c, const char *uri, dfs_worker_list_cb cb,
			   void *arg, dfs_worker_error *err)
{
	char id[DFS_CHANNEL_ID_LEN] = "";
	bool unauth, delivered = false;
	int rc = list_once(c, uri, cb, arg, err, &unauth, id, &delivered);

	/* Retry only if nothing was handed to the caller yet. */
	if (rc < 0 && unauth && c->auth && !delivered) {
		dfs_worker_auth_invalidate(c, id);
		rc = list_once(c, uri, cb, arg, err, &unauth, id, &delivered);
	}
	return rc;
}
