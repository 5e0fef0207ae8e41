/* Dispatchers over the source table, with defaults for optional operations. */
#include "source.h"

#include <errno.h>
#include <stdlib.h>

int dfs_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	return s->ops->stat(s, path, out);
}

int dfs_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	if (!s->ops->list)
		return -ENOTSUP;
	return s->ops->list(s, path, cb, arg);
}

int dfs_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	return s->ops->open(s, path, attr, out);
}

ssize_t dfs_pread(dfs_handle *h, void *buf, size_t len, uint64_t off)
{
	if (off >= h->attr.size || len == 0)
		return 0;
	if (len > h->attr.size - off)
		len = h->attr.size - off;
	return h->src->ops->pread(h, buf, len, off);
}

ssize_t dfs_pread_full(dfs_handle *h, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = dfs_pread(h, (char *)buf + done, len - done, off + done);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void release_mem(dfs_readbuf *rb)
{
	free(rb->priv[0]);
	rb->priv[0] = NULL;
}

int dfs_read_segs(dfs_handle *h, size_t len, uint64_t off, dfs_readbuf *out)
{
	out->nseg = 0;
	out->total = 0;
	out->release = NULL;
	out->where = DFS_FROM_UNKNOWN;
	if (off >= h->attr.size || len == 0)
		return 0;
	if (len > h->attr.size - off)
		len = (size_t)(h->attr.size - off);
	if (h->src->ops->read_segs)
		return h->src->ops->read_segs(h, len, off, out);
	return dfs_read_copy(h, len, off, out);
}

int dfs_read_copy(dfs_handle *h, size_t len, uint64_t off, dfs_readbuf *out)
{
	void *buf;
	ssize_t n;

	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	n = dfs_pread_full(h, buf, len, off);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	out->seg[0] = (dfs_seg){ .fd = -1, .mem = buf, .len = (size_t)n };
	out->nseg = 1;
	out->total = (size_t)n;
	out->priv[0] = buf;
	out->release = release_mem;
	return 0;
}


void dfs_readbuf_release(dfs_readbuf *rb)
{
	if (rb->release)
		rb->release(rb);
	rb->release = NULL;
	rb->nseg = 0;
	rb->total = 0;
}

void dfs_close(dfs_handle *h)
{
	if (h)
		h->src->ops->close(h);
}

void dfs_source_destroy(dfs_source *s)
{
	while (s) {
		dfs_source *inner = s->inner;
		if (s->ops->destroy)
			s->ops->destroy(s);
		s = inner;
	}
}
