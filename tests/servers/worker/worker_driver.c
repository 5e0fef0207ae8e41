/*
 * dfs_worker_driver: drives dorafs's worker client (the product code: the
 * worker dfs_source and worker_rpc.h) against a worker, for the integration
 * tests and the benchmark. Each command prints one result line, "OK ..." or
 * "ERR <errno name> grpc=<code> <message> ...", and exits 0 or 3.
 *
 * usage: dfs_worker_driver --target H:P --root URI [--no-auth] [--user U]
 *          [--timeout-ms N] [--stream-timeout-ms N] [--chunk N] [--stats] [--picker] CMD ARGS
 *   stat PATH | exists PATH | list PATH | cachedata PATH
 *   read PATH LOCALFILE NRANDOM SEED       byte-exact sequential + random reads
 *   concurrent PATH LOCALFILE THREADS N    N random reads per thread, one channel
 *   slowread PATH                          read 256 KiB, print STARTED, wait for a
 *                                          line on stdin, then read the rest
 *   stat2 PATH                             stat, print READY, wait for a line on
 *                                          stdin, stat again (same connection;
 *                                          retried while ETRYOTHER, up to 20 s)
 *   read2 PATH LOCALFILE                   the same with `read`
 *   bench PATH LOCALFILE SECONDS           ReadBlock MB/s vs a plain gRPC stream of
 *                                          the same cached bytes (and vs pread of
 *                                          LOCALFILE), GetStatus round trips per s
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>

#include "grpc_util.h"
#include "source.h"
#include "worker_rpc.h"
#include "worker_uri.h"
#include "worker_wire.h"
#include "worker_source.h"

static dfs_source *src;
static dfs_worker_conn *conn;
static const char *root;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *ename(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EEXIST: return "EEXIST";
	case ENOTSUP: return "ENOTSUP";
	case DFS_ETRYOTHER: return "ETRYOTHER";
	case EIO: return "EIO";
	case EISDIR: return "EISDIR";
	default: return "E?";
	}
}

static int fail(int rc, const dfs_worker_error *we, double t0)
{
	printf("ERR %s grpc=%d elapsed_ms=%.0f %s\n", ename(-rc), we ? we->grpc_code : -1,
	       (now_s() - t0) * 1000, we ? we->message : "");
	return 3;
}

/* Read a whole local file (the UFS copy) for comparisons. */
static uint8_t *slurp(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto out;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)n;
	}
	*size = (uint64_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: reproducible from the seed */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int cmd_read(const char *path, const char *local, int nrandom, uint64_t seed)
{
	uint64_t size = 0, off = 0;
	uint8_t *want = slurp(local, &size), *buf = NULL;
	dfs_handle *h = NULL;
	double t0 = now_s();
	int rc, i, ret = 3;
	size_t step = 1;

	if (!want) {
		printf("ERR cannot read %s\n", local);
		return 3;
	}
	buf = malloc(4 << 20);
	rc = dfs_open(src, path, NULL, &h);
	if (rc < 0 || !buf) {
		ret = fail(rc ? rc : -ENOMEM, NULL, t0);
		goto out;
	}
	if (h->attr.size != size) {
		printf("ERR size %" PRIu64 " != %" PRIu64 "\n", h->attr.size, size);
		goto out;
	}
	/* Sequential, with read sizes that vary (1 B .. 4 MiB). */
	while (off < size) {
		ssize_t n = dfs_pread(h, buf, step < (4u << 20) ? step : (4u << 20), off);
		if (n <= 0 || memcmp(buf, want + off, (size_t)n) != 0) {
			if (n < 0)
				ret = fail((int)n, NULL, t0);
			else
				printf("ERR mismatch or short read at %" PRIu64 " (n=%zd)\n", off, n);
			goto out;
		}
		off += (uint64_t)n;
		step = step >= (4u << 20) ? 1 : step * 7 + 1;
	}
	if (dfs_pread(h, buf, 16, size) != 0) {
		printf("ERR read past EOF returned data\n");
		goto out;
	}
	/* Random offsets and lengths; every other read continues where the
	 * previous one ended (a seek, then sequential reading). */
	for (i = 0; i < nrandom && size > 0; i++) {
		static uint64_t next;
		uint64_t o = (i & 1) && next < size ? next : rnd(&seed) % size;
		size_t len = (size_t)(rnd(&seed) % (2u << 20)) + 1;
		ssize_t n;
		if (len > size - o)
			len = (size_t)(size - o);
		next = o + len;
		n = dfs_pread_full(h, buf, len, o);
		if (n != (ssize_t)len || memcmp(buf, want + o, len) != 0) {
			if (n < 0)
				ret = fail((int)n, NULL, t0);
			else
				printf("ERR random read %d at %" PRIu64 "+%zu: n=%zd\n", i, o, len, n);
			goto out;
		}
	}
	printf("OK bytes=%" PRIu64 " random=%d\n", size, nrandom);
	ret = 0;
out:
	if (h)
		dfs_close(h);
	free(buf);
	free(want);
	return ret;
}

struct conc {
	const char *path;
	const uint8_t *want;
	uint64_t size;
	int iters;
	uint64_t seed;
	int result;
};

static void *conc_thread(void *arg)
{
	struct conc *c = arg;
	uint8_t *buf = malloc(1 << 20);
	dfs_handle *h = NULL;
	int i, rc;

	c->result = -EIO;
	if (!buf)
		return NULL;
	/* Each thread its own handle, all on the source's one channel. */
	rc = dfs_open(src, c->path, NULL, &h);
	if (rc < 0) {
		c->result = rc;
		goto out;
	}
	for (i = 0; i < c->iters; i++) {
		uint64_t o = c->size ? rnd(&c->seed) % c->size : 0;
		size_t len = (size_t)(rnd(&c->seed) % (1u << 20)) + 1;
		ssize_t n;
		if (len > c->size - o)
			len = (size_t)(c->size - o);
		n = dfs_pread_full(h, buf, len, o);
		if (n != (ssize_t)len || memcmp(buf, c->want + o, len) != 0) {
			c->result = n < 0 ? (int)n : -EIO;
			goto out;
		}
	}
	c->result = 0;
out:
	if (h)
		dfs_close(h);
	free(buf);
	return NULL;
}

static int cmd_concurrent(const char *path, const char *local, int threads, int iters)
{
	uint64_t size = 0;
	uint8_t *want = slurp(local, &size);
	pthread_t t[64];
	struct conc c[64];
	double t0 = now_s();
	int i, started = 0, ret = 0;

	if (!want || threads < 1 || threads > 64) {
		printf("ERR bad arguments\n");
		free(want);
		return 3;
	}
	for (i = 0; i < threads; i++) {
		c[i] = (struct conc){ path, want, size, iters, 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1), 0 };
		if (pthread_create(&t[i], NULL, conc_thread, &c[i]) == 0)
			started++;
		else
			break;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		if (c[i].result < 0 && ret == 0)
			ret = fail(c[i].result, NULL, t0);
	}
	if (ret == 0 && started == threads)
		printf("OK threads=%d iters=%d seconds=%.2f\n", threads, iters, now_s() - t0);
	else if (ret == 0)
		ret = 3;
	free(want);
	return ret;
}

static int cmd_slowread(const char *path)
{
	dfs_handle *h = NULL;
	uint8_t *buf = malloc(1 << 20);
	uint64_t off = 0;
	char line[16];
	double t0;
	int rc, ret = 3;

	rc = dfs_open(src, path, NULL, &h);
	if (rc < 0 || !buf) {
		ret = fail(rc ? rc : -ENOMEM, NULL, now_s());
		goto out;
	}
	rc = (int)dfs_pread(h, buf, 256 << 10, 0);
	if (rc <= 0) {
		ret = fail(rc ? rc : -EIO, NULL, now_s());
		goto out;
	}
	off = (uint64_t)rc;
	printf("STARTED\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		goto out;
	t0 = now_s();
	while (off < h->attr.size) {
		ssize_t n = dfs_pread(h, buf, 1 << 20, off);
		if (n < 0) {
			ret = fail((int)n, NULL, t0);
			goto out;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
	}
	printf("OK read=%" PRIu64 " elapsed_ms=%.0f\n", off, (now_s() - t0) * 1000);
	ret = 0;
out:
	if (h)
		dfs_close(h);
	free(buf);
	return ret;
}

/*
 * The baseline: the same bytes from the same worker cache as a plain gRPC
 * server stream (the test worker's /dorafs.test.Bench/Stream), copied into a
 * buffer as the ReadBlock path copies them. Returns bytes, or -1.
 */
static int64_t raw_stream(const char *target, const char *uri, uint64_t size, uint32_t chunk)
{
	grpc_channel_credentials *creds = grpc_insecure_credentials_create();
	grpc_arg arg = { .type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
			 .value.integer = 64 << 20 };
	grpc_channel_args args = { 1, &arg };
	grpc_channel *ch = grpc_channel_create(target, creds, &args);
	grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
	grpc_call *call;
	grpc_metadata_array md_in, trailing;
	grpc_status_code status = GRPC_STATUS_UNKNOWN;
	grpc_slice details = grpc_empty_slice();
	grpc_byte_buffer *send = NULL, *recv = NULL;
	grpc_op ops[6];
	uint8_t *req = NULL, *buf = malloc(4 << 20);
	size_t reqlen = 0, at = 0;
	int64_t total = 0;

	grpc_channel_credentials_release(creds);
	grpc_metadata_array_init(&md_in);
	grpc_metadata_array_init(&trailing);
	call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
					grpc_slice_from_static_string("/dorafs.test.Bench/Stream"), NULL,
					gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (!buf || dfs_wire_read_request(uri, size, 0, size, chunk, -1, &req, &reqlen) < 0) {
		total = -1;
		goto out;
	}
	send = dfs_grpc_buffer(req, reqlen);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &md_in;
	if (grpc_call_start_batch(call, ops, 4, (void *)1, NULL) != GRPC_CALL_OK) {
		total = -1;
		goto out;
	}
	grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	for (;;) {
		grpc_byte_buffer_reader rd;
		grpc_slice sl;
		memset(ops, 0, sizeof(ops));
		ops[0].op = GRPC_OP_RECV_MESSAGE;
		ops[0].data.recv_message.recv_message = &recv;
		recv = NULL;
		if (grpc_call_start_batch(call, ops, 1, (void *)2, NULL) != GRPC_CALL_OK)
			break;
		grpc_completion_queue_pluck(cq, (void *)2, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (!recv)
			break;
		if (grpc_byte_buffer_reader_init(&rd, recv)) {
			while (grpc_byte_buffer_reader_next(&rd, &sl)) {
				size_t n = GRPC_SLICE_LENGTH(sl);
				if (at + n > (4u << 20))
					at = 0;
				memcpy(buf + at, GRPC_SLICE_START_PTR(sl), n);
				at += n;
				total += (int64_t)n;
				grpc_slice_unref(sl);
			}
			grpc_byte_buffer_reader_destroy(&rd);
		}
		grpc_byte_buffer_destroy(recv);
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &trailing;
	ops[0].data.recv_status_on_client.status = &status;
	ops[0].data.recv_status_on_client.status_details = &details;
	if (grpc_call_start_batch(call, ops, 1, (void *)3, NULL) == GRPC_CALL_OK)
		grpc_completion_queue_pluck(cq, (void *)3, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	if (status != GRPC_STATUS_OK)
		total = -1;
out:
	if (send)
		grpc_byte_buffer_destroy(send);
	grpc_call_unref(call);
	grpc_completion_queue_shutdown(cq);
	grpc_completion_queue_destroy(cq);
	grpc_channel_destroy(ch);
	grpc_metadata_array_destroy(&md_in);
	grpc_metadata_array_destroy(&trailing);
	grpc_slice_unref(details);
	free(req);
	free(buf);
	return total;
}

static const char *bench_target;
static uint32_t bench_chunk;

static int cmd_bench(const char *path, const char *local, double seconds)
{
	dfs_handle *h = NULL;
	const size_t bs = 1 << 20;
	uint8_t *buf = malloc(bs);
	uint64_t off = 0, calls = 0;
	double t0, t_worker, t_file, t_raw;
	int fd = -1, rc, ret = 3;
	dfs_attr a;

	rc = dfs_open(src, path, NULL, &h);
	if (rc < 0 || !buf) {
		ret = fail(rc ? rc : -ENOMEM, NULL, now_s());
		goto out;
	}
	t0 = now_s();
	while (off < h->attr.size) {
		ssize_t n = dfs_pread(h, buf, bs, off);
		if (n <= 0) {
			ret = fail(n ? (int)n : -EIO, NULL, t0);
			goto out;
		}
		off += (uint64_t)n;
	}
	t_worker = now_s() - t0;
	/* Baseline: the same bytes read straight from the file. */
	fd = open(local, O_RDONLY);
	if (fd < 0) {
		printf("ERR cannot open %s\n", local);
		goto out;
	}
	t0 = now_s();
	for (off = 0;;) {
		ssize_t n = pread(fd, buf, bs, (off_t)off);
		if (n <= 0)
			break;
		off += (uint64_t)n;
	}
	t_file = now_s() - t0;
	/* The same bytes as a plain gRPC stream from the worker's cache. */
	{
		char uri[8192];
		int64_t got;
		if (dfs_ufs_uri_join(root, path, uri, sizeof(uri)) < 0) {
			printf("ERR uri\n");
			goto out;
		}
		t0 = now_s();
		got = raw_stream(bench_target, uri, h->attr.size, bench_chunk ? bench_chunk : (1u << 20));
		t_raw = now_s() - t0;
		if (got < (int64_t)h->attr.size) {
			printf("ERR raw stream failed (%lld bytes)\n", (long long)got);
			goto out;
		}
	}
	/* Unary round trips. */
	t0 = now_s();
	while (now_s() - t0 < seconds) {
		rc = dfs_stat(src, path, &a);
		if (rc < 0) {
			ret = fail(rc, NULL, t0);
			goto out;
		}
		calls++;
	}
	printf("OK bytes=%" PRIu64 " readblock_MBps=%.0f rawstream_MBps=%.0f ratio=%.2f file_MBps=%.0f "
	       "getstatus_per_s=%.0f\n",
	       h->attr.size, (double)h->attr.size / 1e6 / t_worker, (double)h->attr.size / 1e6 / t_raw,
	       t_raw / t_worker, (double)off / 1e6 / t_file, (double)calls / (now_s() - t0));
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (h)
		dfs_close(h);
	free(buf);
	return ret;
}

static int list_count(void *arg, const char *name, const dfs_attr *attr)
{
	(void)name;
	(void)attr;
	(*(uint64_t *)arg)++;
	return 0;
}

/* --picker: the many-worker form of the source, with one worker behind it. */
static dfs_worker_conn *pick_one(void *arg, const char *uri)
{
	(void)uri;
	return dfs_worker_conn_ref(arg);
}

static void pick_destroy(void *arg)
{
	dfs_worker_conn_free(arg);
}

/* DFS_WORKER_LOG=1: show the client's log (every failed call with its status). */
static void log_stderr(int level, const char *msg)
{
	fprintf(stderr, "[%d] %s\n", level, msg);
}

static void usage(void)
{
	fprintf(stderr, "usage: dfs_worker_driver --target H:P --root URI [--no-auth] [--user U]\n"
		"  [--timeout-ms N] [--stream-timeout-ms N] [--chunk N] [--stats] CMD ARGS...\n");
}

int main(int argc, char **argv)
{
	dfs_worker_options o;
	dfs_worker_error we;
	char err[256], uri[8192];
	bool print_stats = false, use_picker = false;
	double t0;
	int i, ret = 3, rc;
	const char *cmd;

	memset(&o, 0, sizeof(o));
	memset(&we, 0, sizeof(we));
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
		if (OPT("--target")) o.conn.target = v;
		else if (OPT("--root")) o.ufs_root = v;
		else if (OPT("--user")) o.conn.user = v;
		else if (OPT("--timeout-ms")) o.conn.rpc_timeout_ms = atoi(v);
		else if (OPT("--stream-timeout-ms")) o.conn.stream_timeout_ms = atoi(v);
		else if (OPT("--chunk")) o.conn.chunk_size = (uint32_t)atoi(v);
		else if (strcmp(a, "--no-auth") == 0) o.conn.auth_disabled = true;
		else if (strcmp(a, "--stats") == 0) print_stats = true;
		else if (strcmp(a, "--picker") == 0) use_picker = true;
		else {
			usage();
			return 2;
		}
#undef OPT
	}
	if (i >= argc || !o.conn.target || !o.ufs_root) {
		usage();
		return 2;
	}
	root = o.ufs_root;
	bench_target = o.conn.target;
	bench_chunk = o.conn.chunk_size;
	cmd = argv[i++];
	if (getenv("DFS_WORKER_LOG"))
		o.conn.log = log_stderr;
	if (use_picker) {
		dfs_worker_picker pk = { pick_one, pick_destroy, NULL };
		if (dfs_worker_conn_new(&o.conn, &conn, err, sizeof(err)) < 0) {
			printf("ERR %s\n", err);
			return 3;
		}
		pk.arg = conn;
		src = dfs_worker_source_new_picker(o.ufs_root, &pk, err, sizeof(err));
		if (!src)
			dfs_worker_conn_free(conn);
	} else {
		src = dfs_worker_source_new(&o, err, sizeof(err));
		if (src)
			conn = dfs_worker_source_conn(src);
	}
	if (!src) {
		printf("ERR %s\n", err);
		return 3;
	}
	t0 = now_s();
#define NEED(n) do { if (argc - i < (n)) { usage(); ret = 2; goto out; } } while (0)
	if (strcmp(cmd, "stat") == 0) {
		dfs_worker_fileinfo fi;
		NEED(1);
		/* through the worker API, to show the gRPC code and message */
		snprintf(uri, sizeof(uri), "%s%s", root, argv[i]);
		rc = dfs_worker_get_status(conn, uri, &fi, &we);
		if (rc < 0) {
			ret = fail(rc, &we, t0);
		} else {
			dfs_attr a;
			rc = dfs_stat(src, argv[i], &a);
			printf("OK type=%s size=%" PRIu64 " mode=%o name=%s path=%s version=%s\n",
			       fi.folder ? "dir" : "file", fi.length, fi.mode, fi.name, fi.path,
			       rc == 0 ? a.version : "?");
			dfs_worker_fileinfo_clear(&fi);
			ret = 0;
		}
	} else if (strcmp(cmd, "exists") == 0) {
		bool ex = false;
		NEED(1);
		snprintf(uri, sizeof(uri), "%s%s", root, argv[i]);
		rc = dfs_worker_exists(conn, uri, &ex, &we);
		ret = rc < 0 ? fail(rc, &we, t0) : (printf("OK exists=%d\n", ex), 0);
	} else if (strcmp(cmd, "cachedata") == 0) {
		NEED(1);
		snprintf(uri, sizeof(uri), "%s%s", root, argv[i]);
		rc = dfs_worker_cache_data(conn, uri, 0, -1, false, &we);
		ret = rc < 0 ? fail(rc, &we, t0) : (printf("OK\n"), 0);
	} else if (strcmp(cmd, "list") == 0) {
		uint64_t n = 0;
		NEED(1);
		rc = dfs_list(src, argv[i], list_count, &n);
		if (rc < 0) {
			ret = fail(rc, NULL, t0);
		} else {
			dfs_worker_conn_stats st;
			dfs_worker_conn_get_stats(conn, &st);
			printf("OK count=%" PRIu64 " batches=%" PRIu64 " seconds=%.2f\n", n, st.list_batches,
			       now_s() - t0);
			ret = 0;
		}
	} else if (strcmp(cmd, "read") == 0) {
		NEED(4);
		ret = cmd_read(argv[i], argv[i + 1], atoi(argv[i + 2]), strtoull(argv[i + 3], NULL, 0) | 1);
	} else if (strcmp(cmd, "concurrent") == 0) {
		NEED(4);
		ret = cmd_concurrent(argv[i], argv[i + 1], atoi(argv[i + 2]), atoi(argv[i + 3]));
	} else if (strcmp(cmd, "stat2") == 0) {
		dfs_attr a;
		char line[16];
		NEED(1);
		rc = dfs_stat(src, argv[i], &a);
		if (rc < 0) {
			ret = fail(rc, NULL, t0);
			goto out;
		}
		printf("READY\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			goto out;
		t0 = now_s();
		/* A worker that was just restarted may still be inside gRPC's
		 * reconnect backoff of this channel (1 s, growing 1.6x per failed
		 * attempt while it was down): calls then fail at once with
		 * ETRYOTHER, which a mount answers from the UFS. What is tested
		 * here is the handshake once the worker is reached. */
		while ((rc = dfs_stat(src, argv[i], &a)) == -DFS_ETRYOTHER && now_s() - t0 < 20)
			usleep(100 * 1000);
		ret = rc < 0 ? fail(rc, NULL, t0) : (printf("OK size=%" PRIu64 "\n", a.size), 0);
	} else if (strcmp(cmd, "read2") == 0) {
		char line[16];
		NEED(2);
		ret = cmd_read(argv[i], argv[i + 1], 3, 1);
		if (ret != 0)
			goto out;
		printf("READY\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			goto out;
		ret = cmd_read(argv[i], argv[i + 1], 3, 2);
	} else if (strcmp(cmd, "slowread") == 0) {
		NEED(1);
		ret = cmd_slowread(argv[i]);
	} else if (strcmp(cmd, "bench") == 0) {
		NEED(3);
		ret = cmd_bench(argv[i], argv[i + 1], atof(argv[i + 2]));
	} else {
		usage();
		ret = 2;
	}
out:
	if (print_stats) {
		dfs_worker_conn_stats st;
		dfs_worker_conn_get_stats(conn, &st);
		printf("STATS calls=%" PRIu64 " handshakes=%" PRIu64 " unauthenticated=%" PRIu64
		       " list_batches=%" PRIu64 " read_streams=%" PRIu64 " read_bytes=%" PRIu64
		       " failures=%" PRIu64 "\n", st.calls, st.handshakes, st.unauthenticated,
		       st.list_batches, st.read_streams, st.read_bytes, st.failures);
	}
	fflush(stdout);
	dfs_source_destroy(src);
	return ret;
}
