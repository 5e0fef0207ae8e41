/*
 * A source of metadata and bytes.
 *
 * Every backend (a local folder, S3, HDFS, an Alluxio worker) implements this
 * one small table of operations, and every cache or fallback is a layer that
 * wraps another source and is itself a source. The read path of a mount is a
 * chain of sources built in one place (client.c), e.g.
 *
 *     meta_cache -> page_cache -> worker_fallback(worker, ufs) -> ufs
 *
 * Paths given to a source are relative to the mount root, always start with
 * '/', never end with '/' (except the root itself) and contain no '.', '..'
 * or empty segments. Every operation returns 0 (or a byte count) on success
 * and -errno on failure. All operations may be called from many threads.
 */
#ifndef DORAFS_SOURCE_H
#define DORAFS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DFS_VERSION_MAX 80

/* Attributes of a file or directory, as a source reports them. */
typedef struct dfs_attr {
	uint64_t size;
	uint32_t mode;                   /* S_IFREG/S_IFDIR | permission bits */
	int64_t mtime_ns;                /* last modification, ns since the epoch */
	char version[DFS_VERSION_MAX];   /* changes whenever the content may have changed
	                                    (size+mtime, an ETag, ...); "" for directories */
} dfs_attr;

/* Called once per directory entry by list(); return non-zero to stop early
 * (list then returns that value). */
typedef int (*dfs_list_cb)(void *arg, const char *name, const dfs_attr *attr);

/*
 * A byte segment handed up the chain: either fd >= 0 (fd_offset gives the
 * position) or mem. The FUSE layer replies from fd segments with splice.
 */
typedef struct dfs_seg {
	int fd;
	off_t fd_offset;
	const void *mem;
	size_t len;
} dfs_seg;

#define DFS_READ_MAX_SEGS 8

/* The result of read_segs(): up to DFS_READ_MAX_SEGS segments in order; release()
 * frees whatever backs them (page refs, buffers). */
typedef struct dfs_readbuf {
	dfs_seg seg[DFS_READ_MAX_SEGS];
	int nseg;
	size_t total;
	void (*release)(struct dfs_readbuf *rb);
	void *priv[DFS_READ_MAX_SEGS];   /* for the producer's release() */
	int where;                       /* DFS_FROM_*: which layer served the bytes */
} dfs_readbuf;

enum { DFS_FROM_UNKNOWN = 0, DFS_FROM_PAGE_CACHE, DFS_FROM_WORKER, DFS_FROM_UFS };

void dfs_readbuf_release(dfs_readbuf *rb);

typedef struct dfs_source dfs_source;
typedef struct dfs_handle dfs_handle;

/* An open file. Sources extend it by embedding it first in their own struct. */
struct dfs_handle {
	dfs_source *src;
	dfs_attr attr;        /* attributes at open; reads are of this version */
	char *path;
};

/* What statfs reports of a backing store. */
typedef struct dfs_fs_usage {
	uint64_t total, avail;    /* bytes */
	uint64_t files, ffree;    /* inodes: all, free */
} dfs_fs_usage;

typedef struct dfs_source_ops {
	const char *name;
	int (*stat)(dfs_source *s, const char *path, dfs_attr *out);
	int (*list)(dfs_source *s, const char *path, dfs_list_cb cb, void *arg);
	/* Open for reading. attr, if not NULL, is what the caller already knows
	 * of the file (saves a stat). */
	int (*open)(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out);
	/* Read up to len bytes at off into buf: short only at end of file. */
	ssize_t (*pread)(dfs_handle *h, void *buf, size_t len, uint64_t off);
	/* Optional zero-copy read; NULL means "pread into a buffer". */
	int (*read_segs)(dfs_handle *h, size_t len, uint64_t off, dfs_readbuf *out);
	void (*close)(dfs_handle *h);
	/* Optional: space and inodes of the backing store (statfs). */
	int (*statfs)(dfs_source *s, dfs_fs_usage *out);
	/* Append "name": {...} JSON members describing this layer's counters
	 * (no enclosing braces); optional. */
	void (*stats_json)(dfs_source *s, void *json_object);
	/* Forget cached state of path (NULL: everything); optional. */
	void (*invalidate)(dfs_source *s, const char *path);
	void (*destroy)(dfs_source *s);
} dfs_source_ops;

struct dfs_source {
	const dfs_source_ops *ops;
	dfs_source *inner;    /* the wrapped source, for layers; NULL for backends */
};

/* Dispatchers: call through the table, filling in defaults for optional ops. */
int dfs_stat(dfs_source *s, const char *path, dfs_attr *out);
int dfs_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg);
int dfs_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out);
ssize_t dfs_pread(dfs_handle *h, void *buf, size_t len, uint64_t off);
int dfs_read_segs(dfs_handle *h, size_t len, uint64_t off, dfs_readbuf *out);
void dfs_close(dfs_handle *h);
void dfs_source_destroy(dfs_source *s);   /* destroys the whole chain below it */

/* read_segs by copying: pread into one allocated buffer. */
int dfs_read_copy(dfs_handle *h, size_t len, uint64_t off, dfs_readbuf *out);

/* Read exactly len bytes unless EOF: loops over short preads. */
ssize_t dfs_pread_full(dfs_handle *h, void *buf, size_t len, uint64_t off);

#endif
