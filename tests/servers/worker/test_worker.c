/*
 * dfs_test_worker: a small worker that speaks Alluxio 3.x (Dora) worker gRPC
 * on a loopback port, so that dorafs's worker client is tested over real
 * gRPC against the behaviour of Alluxio's own worker:
 *
 *  - SaslAuthenticationService/authenticate (SIMPLE/PLAIN); every other call
 *    without a registered "channel-id" gets UNAUTHENTICATED, as Alluxio's
 *    AuthenticatedUserInjector does; the id is dropped when its stream ends;
 *  - BlockWorker GetStatus, ListStatus (batches), Exists, CacheData and
 *    ReadBlock (Alluxio's flow control: at most --window bytes unacked);
 *  - the UFS is a local folder or an S3 bucket (the client's own UFS
 *    sources; --ufs s3://bucket/prefix with -o s3.endpoint=...) and data is
 *    kept in a page cache (localcache), so a miss reads the UFS and a repeat
 *    is a hit, as in Alluxio's PagedDoraWorker.
 *
 * SIGUSR1 makes it forget every registered channel id while the
 * authentication streams stay open (Alluxio's stale-channel purge), so
 * clients must re-authenticate on UNAUTHENTICATED.
 *
 * Counters (RPCs by method, pages from cache vs UFS, ...) are written as
 * "key value" lines to --stats-file every 100 ms when they change.
 *
 * Design: one thread per call in progress (a test tool: clear beats fast;
 * threads are reused). The main thread requests calls on the server queue;
 * each call gets its own completion queue and is served synchronously.
 *
 * Usage: dfs_test_worker --ufs DIR|s3://B/P [-o OPTS] [--ufs-uri URI] [--port N] [--cache-dir DIR]
 *        [--page-size N] [--capacity N] [--no-cache] [--no-auth] [--auth-user U]
 *        [--list-batch N] [--window N] [--delay-ms N] [--stats-file F]
 *        [--etcd ENDPOINTS [--identity UUID] [--cluster NAME] [--lease-ttl S]]
 * Prints "PORT <n>" on stdout once serving.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "grpc/block_worker.pb-c.h"
#include "grpc/file_system_master.pb-c.h"
#include "grpc/sasl_server.pb-c.h"
#include "config.h"
#include "etcd_register.h"
#include "grpc_util.h"
#include "hashring.h"
#include "localcache.h"
#include "source.h"
#include "ufs_local.h"
#include "ufs_s3.h"
#include "uri.h"
#include "worker_entity.h"
#include "worker_uri.h"
#include "worker_internal.h"   /* dfs_worker_uuid */

#define URI_MAX 8192
#define MAX_CHUNK (2u << 20)        /* alluxio.worker.network.reader.max.chunk.size.bytes */
#define BLOCK_SIZE (64ll << 20)     /* alluxio.user.block.size.bytes.default */

/* ---- configuration and counters ----------------------------------------- */

static struct {
	const char *ufs_dir, *ufs_uri, *cache_dir, *stats_file, *auth_user, *identity, *etcd;
	const char *cluster, *ufs_options;
	int lease_ttl;
	int port;
	uint32_t page_size;
	uint64_t capacity;
	bool no_cache, no_auth;
	int list_batch;
	uint64_t window;
	int delay_ms;
} cfg = {
	.page_size = 1 << 20,
	.capacity = 1ull << 31,
	.list_batch = 10000,          /* alluxio.master.filesystem.liststatus.result.message.length */
	.window = 4u << 20,           /* alluxio.worker.network.reader.buffer.size */
};

static char root_uri[URI_MAX];
static dfs_source *ufs;
static lc_cache *cache;

enum {
	ST_AUTH_OK, ST_AUTH_REJECTED, ST_UNAUTHENTICATED, ST_CHANNELS,
	ST_GET_STATUS, ST_LIST_STATUS, ST_READ_BLOCK, ST_EXISTS, ST_CACHE_DATA, ST_OTHER,
	ST_LIST_BATCHES, ST_PAGES_FROM_CACHE, ST_PAGES_FROM_UFS, ST_BYTES_SENT, ST_ACKS,
	ST_MAX_UNACKED, ST_READS_CANCELLED, ST_COUNT
};
static const char *const stat_names[ST_COUNT] = {
	"auth_ok", "auth_rejected", "unauthenticated_calls", "channels_registered",
	"rpc_GetStatus", "rpc_ListStatus", "rpc_ReadBlock", "rpc_Exists", "rpc_CacheData", "rpc_other",
	"list_batches", "pages_from_cache", "pages_from_ufs", "bytes_sent", "acks",
	"max_unacked_bytes", "reads_cancelled",
};
static uint64_t stats[ST_COUNT];
static uint64_t stats_gen;

static void stat_add(int i, uint64_t n)
{
	__atomic_fetch_add(&stats[i], n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&stats_gen, 1, __ATOMIC_RELAXED);
}

static void stat_max(int i, uint64_t v)
{
	uint64_t cur = __atomic_load_n(&stats[i], __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(&stats[i], &cur, v, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
	__atomic_fetch_add(&stats_gen, 1, __ATOMIC_RELAXED);
}

static void write_stats(void)
{
	char tmp[4096];
	FILE *f;
	int i;

	if (!cfg.stats_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	for (i = 0; i < ST_COUNT; i++)
		fprintf(f, "%s %" PRIu64 "\n", stat_names[i], __atomic_load_n(&stats[i], __ATOMIC_RELAXED));
	if (cache) {
		lc_stats s;
		lc_get_stats(cache, &s);
		fprintf(f, "lc_hits %" PRIu64 "\nlc_misses %" PRIu64 "\nlc_fetches %" PRIu64 "\nlc_pages %" PRIu64 "\n",
			s.hits, s.misses, s.fetches, s.pages);
	}
	if (fclose(f) == 0)
		rename(tmp, cfg.stats_file);
}

/* ---- channel registry (SASL) --------------------------------------------- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static char **reg_ids;
static size_t reg_n, reg_cap;

static bool reg_add(const char *id)
{
	char **n;
	bool ok = false;

	pthread_mutex_lock(&reg_mu);
	if (reg_n == reg_cap) {
		size_t cap = reg_cap ? reg_cap * 2 : 16;
		n = realloc(reg_ids, cap * sizeof(*n));
		if (!n)
			goto out;
		reg_ids = n;
		reg_cap = cap;
	}
	reg_ids[reg_n] = strdup(id);
	if (reg_ids[reg_n]) {
		reg_n++;
		ok = true;
	}
out:
	pthread_mutex_unlock(&reg_mu);
	return ok;
}

static void reg_remove(const char *id)
{
	size_t i;

	pthread_mutex_lock(&reg_mu);
	for (i = 0; i < reg_n; i++) {
		if (strcmp(reg_ids[i], id) == 0) {
			free(reg_ids[i]);
			reg_ids[i] = reg_ids[--reg_n];
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
}

/* SIGUSR1: forget every channel (as Alluxio's stale-channel purge, or a
 * worker that lost its state) while the streams stay open. */
static void reg_clear(void)
{
	size_t i;

	pthread_mutex_lock(&reg_mu);
	for (i = 0; i < reg_n; i++)
		free(reg_ids[i]);
	reg_n = 0;
	pthread_mutex_unlock(&reg_mu);
}

static bool reg_has(const char *id)
{
	size_t i;
	bool found = false;

	pthread_mutex_lock(&reg_mu);
	for (i = 0; i < reg_n && !found; i++)
		found = strcmp(reg_ids[i], id) == 0;
	pthread_mutex_unlock(&reg_mu);
	return found;
}

static bool is_uuid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	int i, d = 0;

	if (!s || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			     (s[i] >= 'A' && s[i] <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* ---- one call ------------------------------------------------------------- */

enum { T_RECV = 1, T_SEND, T_FIN, T_MAX };

typedef struct slot {
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array md;
	grpc_completion_queue *cq;
	char method[128];
	/* completions seen but not yet waited for */
	unsigned done, ok;
	struct slot *next_work;
	bool md_sent;
	int cancelled;
} slot;

static void slot_free(slot *s)
{
	if (s->call)
		grpc_call_unref(s->call);
	grpc_call_details_destroy(&s->details);
	grpc_metadata_array_destroy(&s->md);
	if (s->cq) {
		grpc_completion_queue_shutdown(s->cq);
		while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
		       GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(s->cq);
	}
	free(s);
}

/* Any next completion: its tag, or 0 on timeout. */
static int await_any(slot *s, gpr_timespec dl)
{
	grpc_event ev = grpc_completion_queue_next(s->cq, dl, NULL);
	int t;

	if (ev.type != GRPC_OP_COMPLETE)
		return 0;
	t = (int)(intptr_t)ev.tag;
	s->done |= 1u << t;
	if (ev.success)
		s->ok |= 1u << t;
	else
		s->ok &= ~(1u << t);
	return t;
}

/* Wait for one tag; returns whether its batch succeeded. */
static bool await_tag(slot *s, int tag)
{
	while (!(s->done & (1u << tag)))
		await_any(s, gpr_inf_future(GPR_CLOCK_REALTIME));
	s->done &= ~(1u << tag);
	return s->ok & (1u << tag);
}

static bool start(slot *s, grpc_op *ops, size_t n, int tag)
{
	return grpc_call_start_batch(s->call, ops, n, (void *)(intptr_t)tag, NULL) == GRPC_CALL_OK;
}

static void op_md(slot *s, grpc_op *op, size_t *n)
{
	if (s->md_sent)
		return;
	memset(&op[*n], 0, sizeof(op[*n]));
	op[*n].op = GRPC_OP_SEND_INITIAL_METADATA;
	(*n)++;
	s->md_sent = true;
}

static bool recv_msg(slot *s, grpc_byte_buffer **bb)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	*bb = NULL;
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = bb;
	if (!start(s, &op, 1, T_RECV))
		return false;
	return await_tag(s, T_RECV) && *bb;
}

static bool send_bb(slot *s, grpc_byte_buffer *bb)
{
	grpc_op ops[2];
	size_t n = 0;
	bool ok;

	op_md(s, ops, &n);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_SEND_MESSAGE;
	ops[n].data.send_message.send_message = bb;
	n++;
	ok = start(s, ops, n, T_SEND) && await_tag(s, T_SEND);
	grpc_byte_buffer_destroy(bb);
	return ok;
}

static bool send_msg(slot *s, const ProtobufCMessage *m)
{
	grpc_byte_buffer *bb = dfs_grpc_pack(m);

	return bb && send_bb(s, bb);
}

/* Start the final status batch (tag T_FIN); await it with await_tag. */
static bool start_finish(slot *s, grpc_status_code code, const char *msg)
{
	grpc_op ops[3];
	size_t n = 0;
	grpc_slice details = grpc_slice_from_copied_string(msg ? msg : "");
	bool ok;

	op_md(s, ops, &n);
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = code;
	ops[n].data.send_status_from_server.status_details = &details;
	n++;
	memset(&ops[n], 0, sizeof(ops[n]));
	ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[n].data.recv_close_on_server.cancelled = &s->cancelled;
	n++;
	ok = start(s, ops, n, T_FIN);
	grpc_slice_unref(details);
	return ok;
}

static void finish(slot *s, grpc_status_code code, const char *msg)
{
	if (start_finish(s, code, msg))
		await_tag(s, T_FIN);
}

static void finish_errno(slot *s, int e, const char *what)
{
	char msg[512];
	grpc_status_code code;

	switch (-e) {
	case ENOENT: code = GRPC_STATUS_NOT_FOUND; break;
	case EACCES: case EPERM: code = GRPC_STATUS_PERMISSION_DENIED; break;
	case EEXIST: code = GRPC_STATUS_ALREADY_EXISTS; break;
	case EINVAL: code = GRPC_STATUS_INVALID_ARGUMENT; break;
	default: code = GRPC_STATUS_UNKNOWN; break;
	}
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-e));
	finish(s, code, msg);
}

/* Receive the one request of a unary or server-streaming call. */
static ProtobufCMessage *recv_request(slot *s, const ProtobufCMessageDescriptor *d)
{
	grpc_byte_buffer *bb;
	ProtobufCMessage *m;

	if (!recv_msg(s, &bb)) {
		if (bb)
			grpc_byte_buffer_destroy(bb);
		finish(s, GRPC_STATUS_INVALID_ARGUMENT, "no request");
		return NULL;
	}
	m = dfs_grpc_unpack(d, bb);
	grpc_byte_buffer_destroy(bb);
	if (!m)
		finish(s, GRPC_STATUS_INVALID_ARGUMENT, "unparsable request");
	return m;
}

/* Map a full UFS URI to a path under the local UFS folder. */
static int uri_to_rel(const char *uri, char *rel, size_t rellen)
{
	char norm[URI_MAX];
	size_t rl = strlen(root_uri);
	int rc;

	if (!uri)
		return -EINVAL;
	rc = dfs_alluxio_uri_normalize(uri, norm, sizeof(norm));
	if (rc < 0)
		return rc;
	if (rl && root_uri[rl - 1] == '/')
		rl--;
	if (strncmp(norm, root_uri, rl) != 0 || (norm[rl] != '/' && norm[rl] != '\0'))
		return -EINVAL;
	snprintf(rel, rellen, "%s", norm[rl] ? norm + rl : "/");
	return 0;
}

/* Java's String.hashCode (UTF-16 units; ASCII paths here). */
static int64_t java_hash(const char *s)
{
	uint32_t h = 0;

	for (; *s; s++)
		h = 31 * h + (uint8_t)*s;
	return (int32_t)h;
}

/* Fill a FileInfo as PagedDoraWorker.buildFileInfoFromUfsStatus does. */
static void fill_info(Alluxio__Grpc__File__FileInfo *fi, const char *uri, const char *name,
		      const dfs_attr *a)
{
	bool dir = S_ISDIR(a->mode);

	fi->has_fileid = 1;
	fi->fileid = java_hash(uri);
	fi->name = (char *)name;
	fi->path = (char *)uri;
	fi->ufspath = (char *)uri;
	fi->has_length = 1;
	fi->length = dir ? 0 : (int64_t)a->size;
	fi->has_blocksizebytes = 1;
	fi->blocksizebytes = BLOCK_SIZE;
	fi->has_completed = 1;
	fi->completed = 1;
	fi->has_folder = 1;
	fi->folder = dir;
	fi->has_persisted = 1;
	fi->persisted = 1;
	fi->has_lastmodificationtimems = 1;
	fi->lastmodificationtimems = a->mtime_ns / 1000000;
	fi->owner = (char *)"";
	fi->group = (char *)"";
	fi->has_mode = 1;
	fi->mode = (int32_t)(a->mode & 07777);
	fi->has_inalluxiopercentage = 1;
	fi->has_inmemorypercentage = 1;
	fi->contenthash = dir ? (char *)"" : (char *)a->version;
	fi->ufstype = (char *)"local";
}

static const char *base_name(const char *rel)
{
	const char *b = strrchr(rel, '/');

	return b ? b + 1 : rel;
}

static void delay(void)
{
	if (cfg.delay_ms > 0) {
		struct timespec ts = { cfg.delay_ms / 1000, (long)(cfg.delay_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* ---- methods -------------------------------------------------------------- */

static void do_get_status(slot *s)
{
	Alluxio__Grpc__File__GetStatusPRequest *req;
	Alluxio__Grpc__File__GetStatusPResponse resp = ALLUXIO__GRPC__FILE__GET_STATUS_PRESPONSE__INIT;
	Alluxio__Grpc__File__FileInfo fi = ALLUXIO__GRPC__FILE__FILE_INFO__INIT;
	char rel[URI_MAX], uri[URI_MAX];
	dfs_attr a;
	int rc;

	stat_add(ST_GET_STATUS, 1);
	req = (Alluxio__Grpc__File__GetStatusPRequest *)recv_request(
		s, &alluxio__grpc__file__get_status_prequest__descriptor);
	if (!req)
		return;
	delay();
	rc = uri_to_rel(req->path, rel, sizeof(rel));
	if (rc == 0)
		rc = dfs_alluxio_uri_normalize(req->path, uri, sizeof(uri));
	if (rc == 0)
		rc = dfs_stat(ufs, rel, &a);
	if (rc < 0) {
		finish_errno(s, rc, req->path ? req->path : "(no path)");
		goto out;
	}
	fill_info(&fi, uri, base_name(rel), &a);
	resp.fileinfo = &fi;
	if (send_msg(s, &resp.base))
		finish(s, GRPC_STATUS_OK, NULL);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void do_exists(slot *s)
{
	Alluxio__Grpc__File__ExistsPRequest *req;
	Alluxio__Grpc__File__ExistsPResponse resp = ALLUXIO__GRPC__FILE__EXISTS_PRESPONSE__INIT;
	char rel[URI_MAX];
	dfs_attr a;
	int rc;

	stat_add(ST_EXISTS, 1);
	req = (Alluxio__Grpc__File__ExistsPRequest *)recv_request(
		s, &alluxio__grpc__file__exists_prequest__descriptor);
	if (!req)
		return;
	delay();
	rc = uri_to_rel(req->path, rel, sizeof(rel));
	if (rc == 0)
		rc = dfs_stat(ufs, rel, &a);
	if (rc < 0 && rc != -ENOENT) {
		finish_errno(s, rc, req->path ? req->path : "(no path)");
		goto out;
	}
	resp.has_exists = 1;
	resp.exists = rc == 0;
	if (send_msg(s, &resp.base))
		finish(s, GRPC_STATUS_OK, NULL);
out:
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

struct entry {
	char *name;
	dfs_attr attr;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int collect(void *arg, const char *name, const dfs_attr *attr)
{
	struct entries *e = arg;

	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		struct entry *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n].name = strdup(name);
	if (!e->v[e->n].name)
		return -ENOMEM;
	e->v[e->n].attr = *attr;
	e->n++;
	return 0;
}

/* ListStatus of a directory: its children in batches; of a file: itself. */
static void do_list_status(slot *s)
{
	Alluxio__Grpc__File__ListStatusPRequest *req;
	struct entries e = { 0 };
	Alluxio__Grpc__File__FileInfo *infos = NULL, **ptrs = NULL;
	char **uris = NULL;
	char rel[URI_MAX], uri[URI_MAX];
	dfs_attr a;
	size_t i, batch = (size_t)cfg.list_batch;
	int rc;

	stat_add(ST_LIST_STATUS, 1);
	req = (Alluxio__Grpc__File__ListStatusPRequest *)recv_request(
		s, &alluxio__grpc__file__list_status_prequest__descriptor);
	if (!req)
		return;
	delay();
	rc = uri_to_rel(req->path, rel, sizeof(rel));
	if (rc == 0)
		rc = dfs_alluxio_uri_normalize(req->path, uri, sizeof(uri));
	if (rc == 0)
		rc = dfs_stat(ufs, rel, &a);
	if (rc == 0 && S_ISDIR(a.mode))
		rc = dfs_list(ufs, rel, collect, &e);
	else if (rc == 0)
		rc = collect(&e, base_name(rel), &a);
	if (rc < 0) {
		finish_errno(s, rc, req->path ? req->path : "(no path)");
		goto out;
	}
	infos = calloc(e.n ? e.n : 1, sizeof(*infos));
	ptrs = calloc(e.n ? e.n : 1, sizeof(*ptrs));
	uris = calloc(e.n ? e.n : 1, sizeof(*uris));
	if (!infos || !ptrs || !uris) {
		finish(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (i = 0; i < e.n; i++) {
		bool self = !S_ISDIR(a.mode);
		size_t ul = strlen(uri);
		uris[i] = malloc(ul + strlen(e.v[i].name) + 2);
		if (!uris[i]) {
			finish(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		if (self)
			strcpy(uris[i], uri);
		else
			sprintf(uris[i], "%s%s%s", uri, ul && uri[ul - 1] == '/' ? "" : "/", e.v[i].name);
		alluxio__grpc__file__file_info__init(&infos[i]);
		fill_info(&infos[i], uris[i], e.v[i].name, &e.v[i].attr);
		ptrs[i] = &infos[i];
	}
	for (i = 0; i < e.n; i += batch) {
		Alluxio__Grpc__File__ListStatusPResponse resp = ALLUXIO__GRPC__FILE__LIST_STATUS_PRESPONSE__INIT;
		resp.n_fileinfos = e.n - i < batch ? e.n - i : batch;
		resp.fileinfos = ptrs + i;
		if (!send_msg(s, &resp.base))
			goto fin;  /* the client went away: the final batch fails too */
		stat_add(ST_LIST_BATCHES, 1);
	}
fin:
	finish(s, GRPC_STATUS_OK, NULL);
out:
	for (i = 0; i < e.n; i++) {
		free(e.v[i].name);
		if (uris)
			free(uris[i]);
	}
	free(e.v);
	free(uris);
	free(infos);
	free(ptrs);
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* Reading pages: through the cache, falling back to the UFS on a miss. */
typedef struct reader {
	dfs_handle *h;
	lc_key key;
} reader;

static ssize_t fetch_ufs(void *arg, uint64_t off, void *buf, size_t len)
{
	reader *r = arg;

	return dfs_pread_full(r->h, buf, len, off);
}

/* Copy [pos, pos + n) of the file into dst; returns bytes copied (short at EOF). */
static ssize_t read_range(reader *r, uint64_t pos, uint8_t *dst, size_t n)
{
	size_t done = 0;

	if (!cache)
		return dfs_pread_full(r->h, dst, n, pos);
	while (done < n) {
		uint64_t idx = (pos + done) / cfg.page_size, in = (pos + done) % cfg.page_size;
		lc_page pg;
		size_t take;
		int rc = lc_get(cache, &r->key, idx, 0, fetch_ufs, r, &pg);

		if (rc < 0)
			return done ? (ssize_t)done : rc;
		stat_add(pg.from_cache ? ST_PAGES_FROM_CACHE : ST_PAGES_FROM_UFS, 1);
		take = pg.len > in ? pg.len - (size_t)in : 0;
		if (take > n - done)
			take = n - done;
		if (pg.fd >= 0) {
			size_t got = 0;
			while (got < take) {
				ssize_t k = pread(pg.fd, dst + done + got, take - got,
						  pg.fd_offset + (off_t)in + (off_t)got);
				if (k <= 0) {
					lc_page_release(&pg);
					return k < 0 ? -errno : -EIO;
				}
				got += (size_t)k;
			}
		} else if (take) {
			memcpy(dst + done, (uint8_t *)pg.mem + in, take);
		}
		lc_page_release(&pg);
		if (take == 0)
			break;
		done += take;
	}
	return (ssize_t)done;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/*
 * One ReadResponse{chunk{data}} of [pos, pos + n), encoded by hand so the
 * data is read straight into the outgoing slice (one copy).
 */
static int make_chunk(reader *r, uint64_t pos, size_t n, grpc_byte_buffer **out, size_t *got)
{
	enum { RESERVE = 22 };   /* 2 tags + 2 varints of at most 10 bytes */
	grpc_slice sl = grpc_slice_malloc(RESERVE + n), sub;
	uint8_t *base = GRPC_SLICE_START_PTR(sl), *p;
	ssize_t k = read_range(r, pos, base + RESERVE, n);
	size_t inner, hl;

	if (k < 0) {
		grpc_slice_unref(sl);
		return (int)k;
	}
	inner = 1 + varint_len((uint64_t)k) + (size_t)k;
	hl = 1 + varint_len(inner) + 1 + varint_len((uint64_t)k);
	p = base + RESERVE - hl;
	*p++ = 0x0a;                       /* ReadResponse.chunk, field 1, bytes */
	p = put_varint(p, inner);
	*p++ = 0x0a;                       /* Chunk.data, field 1, bytes */
	put_varint(p, (uint64_t)k);
	sub = grpc_slice_sub(sl, RESERVE - hl, RESERVE + (size_t)k);
	*out = grpc_raw_byte_buffer_create(&sub, 1);
	grpc_slice_unref(sub);
	grpc_slice_unref(sl);
	*got = (size_t)k;
	return 0;
}

/*
 * ReadBlock, as FileReadHandler: the first message opens the range; later
 * messages are acks (offset_received); the worker keeps at most
 * cfg.window bytes unacked in flight; status OK at the end of the range or of
 * the file; a client half-close before that cancels the read.
 */
static void do_read_block(slot *s, bool raw)
{
	Alluxio__Grpc__Block__ReadRequest *req = NULL;
	grpc_byte_buffer *bb = NULL, *rbb = NULL;
	reader r = { 0 };
	char rel[URI_MAX], uri[URI_MAX];
	uint64_t pos, end, acked, fsize;
	size_t chunk;
	bool recv_out = false, send_out = false, client_done = false, failed = false;
	bool recv_closed = false;
	grpc_op op;
	int rc;

	stat_add(raw ? ST_OTHER : ST_READ_BLOCK, 1);
	if (!recv_msg(s, &bb)) {
		finish(s, GRPC_STATUS_INVALID_ARGUMENT, "no request");
		goto out;
	}
	req = (Alluxio__Grpc__Block__ReadRequest *)dfs_grpc_unpack(
		&alluxio__grpc__block__read_request__descriptor, bb);
	grpc_byte_buffer_destroy(bb);
	bb = NULL;
	if (!req || req->has_offset_received) {
		finish(s, GRPC_STATUS_INVALID_ARGUMENT, req ? "first message is an ack" : "unparsable request");
		goto out;
	}
	if (!req->has_chunk_size || req->chunk_size <= 0 || !req->open_ufs_block_options ||
	    !req->open_ufs_block_options->ufs_path || req->offset < 0 || req->length < 0) {
		finish(s, GRPC_STATUS_INVALID_ARGUMENT, "bad read request");
		goto out;
	}
	rc = uri_to_rel(req->open_ufs_block_options->ufs_path, rel, sizeof(rel));
	if (rc == 0)
		rc = dfs_alluxio_uri_normalize(req->open_ufs_block_options->ufs_path, uri, sizeof(uri));
	if (rc == 0)
		rc = dfs_open(ufs, rel, NULL, &r.h);
	if (rc < 0) {
		finish_errno(s, rc, req->open_ufs_block_options->ufs_path);
		goto out;
	}
	lc_make_key(&r.key, uri, r.h->attr.version);
	/* block_size bounds the read (Alluxio: the file size it was given) */
	fsize = r.h->attr.size;
	if (req->open_ufs_block_options->has_block_size && req->open_ufs_block_options->block_size >= 0 &&
	    (uint64_t)req->open_ufs_block_options->block_size < fsize)
		fsize = (uint64_t)req->open_ufs_block_options->block_size;
	pos = (uint64_t)req->offset;
	end = pos + (uint64_t)req->length;
	if (end > fsize)
		end = fsize;
	if (pos > end)
		pos = end;
	acked = pos;
	chunk = req->chunk_size > MAX_CHUNK ? MAX_CHUNK : (size_t)req->chunk_size;

	for (;;) {
		int t;

		if (!recv_out && !client_done && !recv_closed) {
			memset(&op, 0, sizeof(op));
			op.op = GRPC_OP_RECV_MESSAGE;
			op.data.recv_message.recv_message = &rbb;
			rbb = NULL;
			if (!start(s, &op, 1, T_RECV)) {
				failed = true;
				break;
			}
			recv_out = true;
		}
		if (!send_out && pos < end && (raw || pos - acked < cfg.window) && !client_done) {
			grpc_op ops[2];
			size_t n = 0, got = 0;
			rc = make_chunk(&r, pos, end - pos < chunk ? (size_t)(end - pos) : chunk, &bb, &got);
			if (rc < 0) {
				grpc_call_cancel(s->call, NULL);
				failed = true;
				break;
			}
			if (got == 0) {            /* the file shrank: end early */
				grpc_byte_buffer_destroy(bb);
				bb = NULL;
				end = pos;
				continue;
			}
			op_md(s, ops, &n);
			memset(&ops[n], 0, sizeof(ops[n]));
			ops[n].op = GRPC_OP_SEND_MESSAGE;
			ops[n].data.send_message.send_message = bb;
			n++;
			if (!start(s, ops, n, T_SEND)) {
				failed = true;
				break;
			}
			send_out = true;
			pos += got;
			stat_add(ST_BYTES_SENT, got);
			if (!raw)
				stat_max(ST_MAX_UNACKED, pos - acked);
		}
		if (!send_out && (pos >= end || client_done))
			break;
		t = await_any(s, gpr_inf_future(GPR_CLOCK_REALTIME));
		if (t == T_SEND) {
			s->done &= ~(1u << T_SEND);
			send_out = false;
			grpc_byte_buffer_destroy(bb);
			bb = NULL;
			if (!(s->ok & (1u << T_SEND))) {
				failed = true;
				break;
			}
		} else if (t == T_RECV) {
			s->done &= ~(1u << T_RECV);
			recv_out = false;
			if (!(s->ok & (1u << T_RECV))) {
				failed = true;         /* cancelled or gone */
				break;
			}
			if (!rbb && raw) {
				recv_closed = true;     /* a server stream: nothing more comes */
				continue;
			}
			if (!rbb) {
				/* half-close: done, or a cancel before the end */
				client_done = true;
				if (pos < end)
					stat_add(ST_READS_CANCELLED, 1);
				continue;
			}
			Alluxio__Grpc__Block__ReadRequest *ack = (Alluxio__Grpc__Block__ReadRequest *)
				dfs_grpc_unpack(&alluxio__grpc__block__read_request__descriptor, rbb);
			grpc_byte_buffer_destroy(rbb);
			rbb = NULL;
			if (ack && ack->has_offset_received && (uint64_t)ack->offset_received > acked)
				acked = (uint64_t)ack->offset_received;
			stat_add(ST_ACKS, 1);
			if (ack)
				protobuf_c_message_free_unpacked(&ack->base, NULL);
		}
	}
	if (failed) {
		grpc_call_cancel(s->call, NULL);
		stat_add(ST_READS_CANCELLED, 1);
	}
	/* Finish; then collect whatever is still outstanding. */
	if (start_finish(s, GRPC_STATUS_OK, NULL))
		await_tag(s, T_FIN);
	if (send_out) {
		await_tag(s, T_SEND);
		grpc_byte_buffer_destroy(bb);
		bb = NULL;
	}
	if (recv_out) {
		await_tag(s, T_RECV);
		if (rbb)
			grpc_byte_buffer_destroy(rbb);
	}
out:
	if (r.h)
		dfs_close(r.h);
	if (req)
		protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void do_cache_data(slot *s)
{
	Alluxio__Grpc__Block__CacheDataRequest *req;
	Alluxio__Grpc__Block__CacheDataResponse resp = ALLUXIO__GRPC__BLOCK__CACHE_DATA_RESPONSE__INIT;
	reader r = { 0 };
	char rel[URI_MAX], uri[URI_MAX];
	uint64_t pos, end;
	int rc;

	stat_add(ST_CACHE_DATA, 1);
	req = (Alluxio__Grpc__Block__CacheDataRequest *)recv_request(
		s, &alluxio__grpc__block__cache_data_request__descriptor);
	if (!req)
		return;
	rc = uri_to_rel(req->ufs_path, rel, sizeof(rel));
	if (rc == 0)
		rc = dfs_alluxio_uri_normalize(req->ufs_path, uri, sizeof(uri));
	if (rc == 0)
		rc = dfs_open(ufs, rel, NULL, &r.h);
	if (rc < 0) {
		finish_errno(s, rc, req->ufs_path ? req->ufs_path : "(no path)");
		goto out;
	}
	lc_make_key(&r.key, uri, r.h->attr.version);
	pos = req->pos > 0 ? (uint64_t)req->pos : 0;
	end = req->length > 0 ? pos + (uint64_t)req->length : r.h->attr.size;
	if (end > r.h->attr.size)
		end = r.h->attr.size;
	/* "async" is served synchronously: simpler, and a test can rely on
	 * the data being cached when the call returns. */
	for (pos -= pos % cfg.page_size; cache && pos < end; pos += cfg.page_size) {
		lc_page pg;
		rc = lc_get(cache, &r.key, pos / cfg.page_size, 0, fetch_ufs, &r, &pg);
		if (rc < 0) {
			finish_errno(s, rc, "cache");
			goto out;
		}
		stat_add(pg.from_cache ? ST_PAGES_FROM_CACHE : ST_PAGES_FROM_UFS, 1);
		lc_page_release(&pg);
	}
	if (send_msg(s, &resp.base))
		finish(s, GRPC_STATUS_OK, NULL);
out:
	if (r.h)
		dfs_close(r.h);
	protobuf_c_message_free_unpacked(&req->base, NULL);
}

/*
 * The SASL stream: one CHALLENGE in, SUCCESS out, then held open; the
 * channel id is registered until the stream ends (half-close or cancel).
 */
static void do_authenticate(slot *s)
{
	Alluxio__Grpc__Sasl__SaslMessage *m = NULL;
	Alluxio__Grpc__Sasl__SaslMessage reply = ALLUXIO__GRPC__SASL__SASL_MESSAGE__INIT;
	grpc_byte_buffer *bb;
	char id[64] = "";
	const char *user = NULL;
	bool registered = false;

	if (!recv_msg(s, &bb)) {
		finish(s, GRPC_STATUS_INVALID_ARGUMENT, "no message");
		return;
	}
	m = (Alluxio__Grpc__Sasl__SaslMessage *)dfs_grpc_unpack(
		&alluxio__grpc__sasl__sasl_message__descriptor, bb);
	grpc_byte_buffer_destroy(bb);
	if (m && m->has_message && m->message.len > 0) {
		/* PLAIN: authzid NUL authcid NUL password */
		const uint8_t *p = m->message.data, *z1, *z2;
		size_t n = m->message.len;
		z1 = memchr(p, 0, n);
		z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - p)) : NULL;
		if (z2 && z2 > z1 + 1)
			user = (const char *)z1 + 1;
	}
	if (!m || m->messagetype != ALLUXIO__GRPC__SASL__SASL_MESSAGE_TYPE__CHALLENGE ||
	    m->authenticationscheme != ALLUXIO__GRPC__SASL__CHANNEL_AUTHENTICATION_SCHEME__SIMPLE ||
	    !is_uuid(m->clientid) || !user ||
	    (cfg.auth_user && strcmp(user, cfg.auth_user) != 0)) {
		stat_add(ST_AUTH_REJECTED, 1);
		finish(s, GRPC_STATUS_UNAUTHENTICATED, "Authentication failed");
		goto out;
	}
	snprintf(id, sizeof(id), "%s", m->clientid);
	registered = reg_add(id);
	if (!registered) {
		finish(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	stat_add(ST_AUTH_OK, 1);
	stat_add(ST_CHANNELS, 1);
	reply.has_messagetype = 1;
	reply.messagetype = ALLUXIO__GRPC__SASL__SASL_MESSAGE_TYPE__SUCCESS;
	reply.clientid = id;
	if (!send_msg(s, &reply.base)) {
		finish(s, GRPC_STATUS_OK, NULL);
		goto out;
	}
	/* Hold the stream until the client ends it (or the call dies). */
	for (;;) {
		bool ok = recv_msg(s, &bb);
		if (bb)
			grpc_byte_buffer_destroy(bb);
		if (!ok)
			break;
	}
	finish(s, GRPC_STATUS_OK, NULL);
out:
	if (registered) {
		reg_remove(id);
		stat_add(ST_CHANNELS, (uint64_t)-1);
	}
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* ---- dispatch and server loop ---------------------------------------------- */

/*
 * Handler threads: one per call in progress, kept for reuse afterwards
 * (creating a thread per call would dominate the cost of a unary call).
 */
static pthread_mutex_t thr_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thr_cv = PTHREAD_COND_INITIALIZER;    /* a thread finished or exited */
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;   /* work queued, or stopping */
static int threads_running, threads_idle;
static slot *work_head, *work_tail;
static bool pool_stop;

static const char *md_get(const grpc_metadata_array *md, const char *key, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < md->count; i++) {
		if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
			size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
			if (n >= len)
				n = len - 1;
			memcpy(buf, GRPC_SLICE_START_PTR(md->metadata[i].value), n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

static void serve(slot *s)
{
	const char *m = s->method;
	char id[64];

	if (strcmp(m, "/alluxio.grpc.sasl.SaslAuthenticationService/authenticate") == 0) {
		do_authenticate(s);
		goto out;
	}
	if (strcmp(m, "/dorafs.test.Bench/Stream") == 0) {
		/* Benchmark baseline, not Alluxio's: the same bytes as ReadBlock
		 * from the same cache, as a plain server stream (no acks, no
		 * window but HTTP/2's, no authentication). */
		do_read_block(s, true);
		goto out;
	}
	if (!cfg.no_auth && (!md_get(&s->md, "channel-id", id, sizeof(id)) || !reg_has(id))) {
		/* as AuthenticatedUserInjector */
		stat_add(ST_UNAUTHENTICATED, 1);
		finish(s, GRPC_STATUS_UNAUTHENTICATED, "Unauthenticated: the channel is not authenticated");
		goto out;
	}
	if (strcmp(m, "/alluxio.grpc.block.BlockWorker/GetStatus") == 0)
		do_get_status(s);
	else if (strcmp(m, "/alluxio.grpc.block.BlockWorker/ListStatus") == 0)
		do_list_status(s);
	else if (strcmp(m, "/alluxio.grpc.block.BlockWorker/ReadBlock") == 0)
		do_read_block(s, false);
	else if (strcmp(m, "/alluxio.grpc.block.BlockWorker/Exists") == 0)
		do_exists(s);
	else if (strcmp(m, "/alluxio.grpc.block.BlockWorker/CacheData") == 0)
		do_cache_data(s);
	else {
		stat_add(ST_OTHER, 1);
		finish(s, GRPC_STATUS_UNIMPLEMENTED, m);
	}
out:
	slot_free(s);
}

static void *pool_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&thr_mu);
	for (;;) {
		slot *s;
		while (!work_head && !pool_stop)
			pthread_cond_wait(&work_cv, &thr_mu);
		if (!work_head)
			break;
		s = work_head;
		work_head = s->next_work;
		if (!work_head)
			work_tail = NULL;
		threads_idle--;
		pthread_mutex_unlock(&thr_mu);
		serve(s);
		pthread_mutex_lock(&thr_mu);
		threads_idle++;
	}
	threads_running--;
	threads_idle--;
	pthread_cond_broadcast(&thr_cv);
	pthread_mutex_unlock(&thr_mu);
	return NULL;
}

/* Hand a call to an idle thread, starting one if none is idle. */
static int dispatch(slot *s)
{
	int rc = 0;

	pthread_mutex_lock(&thr_mu);
	if (threads_idle == 0) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &at, pool_thread, NULL);
		pthread_attr_destroy(&at);
		if (rc == 0) {
			threads_running++;
			threads_idle++;
		}
	}
	if (rc == 0) {
		s->next_work = NULL;
		if (work_tail)
			work_tail->next_work = s;
		else
			work_head = s;
		work_tail = s;
		pthread_cond_signal(&work_cv);
	}
	pthread_mutex_unlock(&thr_mu);
	return rc;
}

static slot *slot_new(grpc_server *server, grpc_completion_queue *scq)
{
	slot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	grpc_call_details_init(&s->details);
	grpc_metadata_array_init(&s->md);
	s->cq = grpc_completion_queue_create_for_next(NULL);
	if (grpc_server_request_call(server, &s->call, &s->details, &s->md, s->cq, scq, s) != GRPC_CALL_OK) {
		slot_free(s);
		return NULL;
	}
	return s;
}

static volatile sig_atomic_t stopping, purge;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		purge = 1;
	else
		stopping = 1;
}

static void *stats_loop(void *arg)
{
	uint64_t last = (uint64_t)-1;

	(void)arg;
	while (!stopping) {
		uint64_t g = __atomic_load_n(&stats_gen, __ATOMIC_RELAXED);
		struct timespec ts = { 0, 100 * 1000000L };
		if (g != last) {
			write_stats();
			last = g;
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * Register in etcd exactly as an Alluxio worker joins (the membership code's
 * etcd_register_worker: /DHT/<cluster>/AUTHORIZED/worker-<uuid> and the
 * leased /ServiceDiscovery/<cluster>/worker-<uuid>), with identity
 * --identity (or a random UUID) and RpcPort = the bound gRPC port. The test
 * worker has no Netty data server, so DataPort/NettyDataPort are 0.
 */
static int register_in_etcd(int port, etcd_registration **out)
{
	dfs_worker_entity e;
	etcd_options eo = { .endpoints = cfg.etcd };
	char id[DFS_CHANNEL_ID_LEN], err[256];
	const char *ids = cfg.identity;

	memset(&e, 0, sizeof(e));
	if (!ids) {
		if (dfs_worker_uuid(id) < 0)
			return -1;
		ids = id;
	}
	if (hr_uuid_parse(ids, strlen(ids), e.id) < 0) {
		fprintf(stderr, "dfs_test_worker: bad identity %s\n", ids);
		return -1;
	}
	e.version = 1;
	e.id_len = 16;
	snprintf(e.addr.host, sizeof(e.addr.host), "127.0.0.1");
	e.addr.rpc_port = port;
	snprintf(e.state, sizeof(e.state), "AUTHORIZED");
	e.generation = -1;
	if (etcd_register_worker(&eo, cfg.cluster, &e, cfg.lease_ttl, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "dfs_test_worker: etcd: %s\n", err);
		return -1;
	}
	fprintf(stderr, "dfs_test_worker: registered worker-%s in etcd\n", ids);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dfs_test_worker --ufs DIR|s3://BUCKET/PREFIX [-o DORAFS_OPTIONS] [--ufs-uri URI]\n"
		"  [--port N] [--cache-dir DIR]\n"
		"  [--page-size N] [--capacity N] [--no-cache] [--no-auth] [--auth-user U]\n"
		"  [--list-batch N] [--window N] [--delay-ms N] [--stats-file F]\n"
		"  [--etcd ENDPOINTS [--identity UUID] [--cluster NAME] [--lease-ttl S]]\n");
}

static int parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
		if (OPT("--ufs")) cfg.ufs_dir = v;
		else if (OPT("--ufs-uri")) cfg.ufs_uri = v;
		else if (OPT("--port")) cfg.port = atoi(v);
		else if (OPT("--cache-dir")) cfg.cache_dir = v;
		else if (OPT("--page-size")) cfg.page_size = (uint32_t)strtoul(v, NULL, 0);
		else if (OPT("--capacity")) cfg.capacity = strtoull(v, NULL, 0);
		else if (OPT("--list-batch")) cfg.list_batch = atoi(v);
		else if (OPT("--window")) cfg.window = strtoull(v, NULL, 0);
		else if (OPT("--delay-ms")) cfg.delay_ms = atoi(v);
		else if (OPT("--stats-file")) cfg.stats_file = v;
		else if (OPT("--auth-user")) cfg.auth_user = v;
		else if (OPT("--identity")) cfg.identity = v;
		else if (OPT("--etcd")) cfg.etcd = v;
		else if (OPT("-o")) cfg.ufs_options = v;
		else if (OPT("--cluster")) cfg.cluster = v;
		else if (OPT("--lease-ttl")) cfg.lease_ttl = atoi(v);
		else if (strcmp(a, "--no-cache") == 0) cfg.no_cache = true;
		else if (strcmp(a, "--no-auth") == 0) cfg.no_auth = true;
		else {
			usage();
			return -1;
		}
#undef OPT
	}
	if (!cfg.ufs_dir || cfg.page_size == 0 || cfg.list_batch <= 0 || cfg.window == 0 ||
	    (!cfg.no_cache && !cfg.cache_dir)) {
		usage();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	grpc_server *server = NULL;
	grpc_completion_queue *scq = NULL;
	grpc_server_credentials *creds;
	grpc_arg arg;
	grpc_channel_args args;
	pthread_t stats_thr;
	char addr[64], err[256];
	int port, i, rc = 1;
	bool stats_started = false;
	struct sigaction sa;
	etcd_registration *reg = NULL;
	dfs_config ucfg;
	dfs_uri uuri;

	if (parse_args(argc, argv) < 0)
		return 2;
	if (dfs_alluxio_uri_normalize(cfg.ufs_uri ? cfg.ufs_uri : cfg.ufs_dir, root_uri, sizeof(root_uri)) < 0) {
		fprintf(stderr, "dfs_test_worker: bad --ufs-uri\n");
		return 2;
	}
	if (cfg.identity && !is_uuid(cfg.identity)) {
		fprintf(stderr, "dfs_test_worker: --identity must be a UUID\n");
		return 2;
	}
	/* The UFS, through dorafs's own UFS code, configured as a mount is
	 * (-o takes the same options, e.g. s3.endpoint=...). */
	dfs_config_init(&ucfg);
	if (dfs_uri_parse(cfg.ufs_dir, &uuri, err, sizeof(err)) < 0 ||
	    (cfg.ufs_options && dfs_config_apply_list(&ucfg, cfg.ufs_options, err, sizeof(err)) < 0)) {
		fprintf(stderr, "dfs_test_worker: %s\n", err);
		dfs_config_free(&ucfg);
		return 2;
	}
	if (uuri.scheme && strcmp(uuri.scheme, "s3") == 0)
		ufs = dfs_s3_source_new(&uuri, &ucfg, err, sizeof(err));
	else
		ufs = dfs_local_source_new(uuri.path, err, sizeof(err));
	if (!ufs) {
		fprintf(stderr, "dfs_test_worker: %s\n", err);
		dfs_uri_free(&uuri);
		dfs_config_free(&ucfg);
		return 1;
	}
	if (!cfg.no_cache) {
		lc_options lo = { .dir = cfg.cache_dir, .capacity = cfg.capacity,
				  .page_size = cfg.page_size, .min_free_ratio = 0.0 };
		if (lc_open(&lo, &cache, err, sizeof(err)) < 0) {
			fprintf(stderr, "dfs_test_worker: cache: %s\n", err);
			goto out_ufs;
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	dfs_grpc_ref();
	arg.type = GRPC_ARG_INTEGER;
	arg.key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	arg.value.integer = 64 << 20;
	args.num_args = 1;
	args.args = &arg;
	server = grpc_server_create(&args, NULL);
	scq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(server, scq, NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", cfg.port);
	creds = grpc_insecure_server_credentials_create();
	port = grpc_server_add_http2_port(server, addr, creds);
	grpc_server_credentials_release(creds);
	if (port == 0) {
		fprintf(stderr, "dfs_test_worker: cannot bind %s\n", addr);
		goto out_server;
	}
	grpc_server_start(server);
	for (i = 0; i < 16; i++) {
		if (!slot_new(server, scq)) {
			fprintf(stderr, "dfs_test_worker: request_call failed\n");
			goto out_server;
		}
	}
	if (cfg.etcd && register_in_etcd(port, &reg) < 0)
		goto out_server;
	write_stats();
	stats_started = pthread_create(&stats_thr, NULL, stats_loop, NULL) == 0;
	printf("PORT %d\n", port);
	fflush(stdout);

	while (!stopping) {
		grpc_event ev = grpc_completion_queue_next(scq, dfs_grpc_deadline_ms(200), NULL);
		slot *s;

		if (purge) {
			purge = 0;
			reg_clear();
			fprintf(stderr, "dfs_test_worker: forgot every channel id (SIGUSR1)\n");
		}
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		s = ev.tag;
		if (!ev.success) {
			slot_free(s);
			continue;
		}
		{
			size_t n = GRPC_SLICE_LENGTH(s->details.method);
			if (n >= sizeof(s->method))
				n = sizeof(s->method) - 1;
			memcpy(s->method, GRPC_SLICE_START_PTR(s->details.method), n);
			s->method[n] = '\0';
		}
		if (dispatch(s) != 0) {
			grpc_call_cancel(s->call, NULL);
			slot_free(s);
		}
		if (!slot_new(server, scq))
			fprintf(stderr, "dfs_test_worker: request_call failed\n");
	}
	rc = 0;
out_server:
	stopping = 1;
	/* a clean stop leaves the cluster at once (lease revoked); kill -9
	 * leaves the live key to expire with its lease, as a dead worker's */
	etcd_unregister_worker(reg, true);
	{
		int shutdown_tag;
		grpc_server_shutdown_and_notify(server, scq, &shutdown_tag);
		grpc_server_cancel_all_calls(server);
		for (;;) {
			grpc_event ev = grpc_completion_queue_next(scq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
			if (ev.type != GRPC_OP_COMPLETE)
				break;
			if (ev.tag == &shutdown_tag)
				break;
			slot_free(ev.tag);   /* a request slot that never got a call */
		}
	}
	pthread_mutex_lock(&thr_mu);
	pool_stop = true;
	pthread_cond_broadcast(&work_cv);
	while (threads_running > 0)
		pthread_cond_wait(&thr_cv, &thr_mu);
	pthread_mutex_unlock(&thr_mu);
	grpc_server_destroy(server);
	grpc_completion_queue_shutdown(scq);
	while (grpc_completion_queue_next(scq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(scq);
	if (stats_started)
		pthread_join(stats_thr, NULL);
	write_stats();
	dfs_grpc_unref();
	if (cache)
		lc_close(cache);
out_ufs:
	dfs_source_destroy(ufs);
	dfs_uri_free(&uuri);
	dfs_config_free(&ucfg);
	for (i = 0; i < (int)reg_n; i++)
		free(reg_ids[i]);
	free(reg_ids);
	return rc;
}
