/* A Dora worker as a dfs_source (see worker_source.h). */
#include "worker_source.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "worker_uri.h"

#define URI_MAX 8192

typedef struct worker_source {
	dfs_source base;
	dfs_worker_conn *conn;        /* one-worker source; NULL with a picker */
	dfs_worker_picker picker;
	char *root;
	bool exact_ranges;            /* a read-ahead layer above does the streaming */
} worker_source;

typedef struct worker_handle {
	dfs_handle base;
	char *uri;
	dfs_worker_conn *conn;        /* the file's worker, held while open */
	/* One open stream, continued while reads are sequential. */
	pthread_mutex_t mu;
	dfs_worker_read *rd;
	uint64_t rd_pos;         /* file offset the stream delivers next */
	uint64_t rd_end;         /* end of the stream's range */
	uint64_t last_end;       /* end of the previous read */
} worker_handle;

static int make_uri(worker_source *w, const char *path, char **out)
{
	char *buf = malloc(URI_MAX);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = dfs_ufs_uri_join(w->root, path, buf, URI_MAX);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

/* The worker for uri, as a reference the caller drops; NULL: none. */
static dfs_worker_conn *pick(worker_source *w, const char *uri)
{
	if (w->conn)
		return dfs_worker_conn_ref(w->conn);
	return w->picker.pick(w->picker.arg, uri);
}

static void to_attr(const dfs_worker_fileinfo *fi, dfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->size = fi->folder ? 0 : fi->length;
	a->mode = (fi->folder ? S_IFDIR : S_IFREG) | (fi->mode & 07777);
	a->mtime_ns = fi->mtime_ms * 1000000;
	if (fi->folder)
		return;
	/* The worker's content hash when it has one (an ETag...), else what
	 * changes with any rewrite it can see: length and mtime. */
	if (fi->content_hash && fi->content_hash[0])
		snprintf(a->version, sizeof(a->version), "h:%s", fi->content_hash);
	else
		snprintf(a->version, sizeof(a->version), "%llu-%lld",
			 (unsigned long long)fi->length, (long long)fi->mtime_ms);
}

static int w_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	worker_source *w = (worker_source *)s;
	dfs_worker_fileinfo fi;
	dfs_worker_conn *conn;
	char *uri;
	int rc = make_uri(w, path, &uri);

	if (rc < 0)
		return rc;
	conn = pick(w, uri);
	if (!conn) {
		free(uri);
		return -DFS_ETRYOTHER;
	}
	rc = dfs_worker_get_status(conn, uri, &fi, NULL);
	if (rc == 0) {
		to_attr(&fi, out);
		dfs_worker_fileinfo_clear(&fi);
	}
	dfs_worker_conn_free(conn);
	free(uri);
	return rc;
}

struct list_arg {
	dfs_list_cb cb;
	void *arg;
};

static int list_one(void *arg, const dfs_worker_fileinfo *fi)
{
	struct list_arg *la = arg;
	dfs_attr a;

	to_attr(fi, &a);
	return la->cb(la->arg, fi->name, &a);
}

static int w_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	worker_source *w = (worker_source *)s;
	struct list_arg la = { cb, arg };
	dfs_worker_conn *conn;
	char *uri;
	int rc = make_uri(w, path, &uri);

	if (rc < 0)
		return rc;
	conn = pick(w, uri);
	if (!conn) {
		free(uri);
		return -DFS_ETRYOTHER;
	}
	rc = dfs_worker_list_status(conn, uri, list_one, &la, NULL);
	dfs_worker_conn_free(conn);
	free(uri);
	return rc;
}

static int w_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	worker_source *w = (worker_source *)s;
	worker_handle *h;
	int rc;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	rc = make_uri(w, path, &h->uri);
	if (rc < 0)
		goto fail;
	h->base.path = strdup(path);
	if (!h->base.path) {
		rc = -ENOMEM;
		goto fail;
	}
	if (attr) {
		h->base.attr = *attr;
	} else {
		rc = w_stat(s, path, &h->base.attr);
		if (rc < 0)
			goto fail;
	}
	if (S_ISDIR(h->base.attr.mode)) {
		rc = -EISDIR;
		goto fail;
	}
	h->conn = pick(w, h->uri);
	if (!h->conn) {
		rc = -DFS_ETRYOTHER;
		goto fail;
	}
	h->base.src = s;
	pthread_mutex_init(&h->mu, NULL);
	*out = &h->base;
	return 0;
fail:
	free(h->uri);
	free(h->base.path);
	free(h);
	return rc;
}

static ssize_t w_pread(dfs_handle *hh, void *buf, size_t len, uint64_t off)
{
	worker_handle *h = (worker_handle *)hh;
	uint64_t size = hh->attr.size;
	size_t done = 0;
	ssize_t rc = 0;

	if (off >= size || len == 0)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	pthread_mutex_lock(&h->mu);
	if (h->rd && (h->rd_pos != off || h->rd_pos >= h->rd_end)) {
		dfs_worker_read_close(h->rd);
		h->rd = NULL;
	}
	if (!h->rd) {
		/* A sequential reader gets one stream to the end of the file
		 * (the worker's window does the read-ahead); a random read
		 * asks for exactly its range. Under a read-ahead layer every
		 * read is a chunk of its window, often one of several in
		 * parallel: a stream to the end would be cut by the next chunk,
		 * wasting what the worker already sent. */
		worker_source *w = (worker_source *)hh->src;
		uint64_t want = !w->exact_ranges && off == h->last_end ? size - off : len;
		rc = dfs_worker_read_open(h->conn, h->uri, size, off, want, &h->rd, NULL);
		if (rc < 0)
			goto out;
		h->rd_pos = off;
		h->rd_end = off + want;
	}
	while (done < len) {
		ssize_t n = dfs_worker_read_next(h->rd, (char *)buf + done, len - done, NULL);
		if (n < 0) {
			rc = n;
			goto out;
		}
		if (n == 0)
			break;
		done += (size_t)n;
		h->rd_pos += (uint64_t)n;
	}
	rc = (ssize_t)done;
	h->last_end = off + done;
	if (h->rd_pos >= h->rd_end || done < len) {
		/* at the end of its range: release the stream now */
		dfs_worker_read_close(h->rd);
		h->rd = NULL;
	}
out:
	if (rc < 0 && h->rd) {
		dfs_worker_read_close(h->rd);
		h->rd = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

void dfs_worker_source_set_exact_ranges(dfs_source *s, bool exact)
{
	((worker_source *)s)->exact_ranges = exact;
}

static void w_close(dfs_handle *hh)
{
	worker_handle *h = (worker_handle *)hh;

	dfs_worker_read_close(h->rd);
	dfs_worker_conn_free(h->conn);
	pthread_mutex_destroy(&h->mu);
	free(h->uri);
	free(h->base.path);
	free(h);
}

static void w_stats_json(dfs_source *s, void *obj)
{
	worker_source *w = (worker_source *)s;
	dfs_worker_conn_stats st;
	json_object *o;

	if (!w->conn)
		return;   /* a picker source: the pool reports its connections */
	o = json_object_new_object();
	if (!o)
		return;
	dfs_worker_conn_get_stats(w->conn, &st);
#define ADD(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
	ADD("calls", st.calls);
	ADD("handshakes", st.handshakes);
	ADD("unauthenticated", st.unauthenticated);
	ADD("list_batches", st.list_batches);
	ADD("read_streams", st.read_streams);
	ADD("read_bytes", st.read_bytes);
	ADD("failures", st.failures);
#undef ADD
	json_object_object_add(o, "target", json_object_new_string(dfs_worker_conn_target(w->conn)));
	json_object_object_add(obj, "worker", o);
}

static void w_destroy(dfs_source *s)
{
	worker_source *w = (worker_source *)s;

	dfs_worker_conn_free(w->conn);
	if (w->picker.destroy)
		w->picker.destroy(w->picker.arg);
	free(w->root);
	free(w);
}

static const dfs_source_ops worker_ops = {
	.name = "worker",
	.stat = w_stat,
	.list = w_list,
	.open = w_open,
	.pread = w_pread,
	.close = w_close,
	.stats_json = w_stats_json,
	.destroy = w_destroy,
};

static worker_source *source_alloc(const char *ufs_root, char *err, size_t errlen)
{
	worker_source *w;

	if (!ufs_root || !*ufs_root) {
		snprintf(err, errlen, "worker source: no UFS root URI");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w)
		w->root = strdup(ufs_root);
	if (!w || !w->root) {
		snprintf(err, errlen, "worker source: out of memory");
		free(w);
		return NULL;
	}
	w->base.ops = &worker_ops;
	w->base.inner = NULL;
	return w;
}

dfs_source *dfs_worker_source_new(const dfs_worker_options *opt, char *err, size_t errlen)
{
	worker_source *w = source_alloc(opt->ufs_root, err, errlen);

	if (!w)
		return NULL;
	if (dfs_worker_conn_new(&opt->conn, &w->conn, err, errlen) < 0) {
		free(w->root);
		free(w);
		return NULL;
	}
	return &w->base;
}

dfs_source *dfs_worker_source_new_picker(const char *ufs_root, const dfs_worker_picker *p,
					 char *err, size_t errlen)
{
	worker_source *w;

	if (!p || !p->pick) {
		snprintf(err, errlen, "worker source: no worker picker");
		return NULL;
	}
	w = source_alloc(ufs_root, err, errlen);
	if (!w)
		return NULL;
	w->picker = *p;
	return &w->base;
}

dfs_worker_conn *dfs_worker_source_conn(dfs_source *s)
{
	return ((worker_source *)s)->conn;
}
