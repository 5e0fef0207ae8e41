/*
 * UFS URIs: parsing the mount's root ("s3://bucket/prefix", "hdfs://nn:8020/p",
 * "file:///data", "/data") and building the full URI of a path under it, the
 * string that keys the page cache, is sent to workers and is hashed to pick
 * one. Normalisation follows Alluxio's AlluxioURI: '//' collapsed, '.' and
 * '..' resolved (never above the root), no trailing '/' except for the root.
 */
#ifndef DORAFS_URI_H
#define DORAFS_URI_H

#include <stddef.h>

typedef enum { DFS_UFS_LOCAL, DFS_UFS_S3, DFS_UFS_HDFS } dfs_ufs_kind;

typedef struct dfs_uri {
	dfs_ufs_kind kind;
	char *scheme;      /* "s3", "hdfs", "file", or NULL for a plain path */
	char *authority;   /* bucket or host:port; "" for file:///; NULL for a plain path */
	char *path;        /* normalised, absolute */
	char *str;         /* the whole normalised URI */
} dfs_uri;

/* Parse a mount source. A relative local path is made absolute against the
 * current directory. Returns 0, or -1 with a one-line message in err. */
int dfs_uri_parse(const char *in, dfs_uri *out, char *err, size_t errlen);
void dfs_uri_free(dfs_uri *u);

/* Normalise an absolute path in place (see above). Returns 0, or -1 if it
 * does not start with '/'. */
int dfs_path_normalize(char *path);

/* The mount path of entry `name` of folder `dir` ("/" or "/a/b") into buf.
 * Returns 0, or -ENAMETOOLONG if it does not fit. */
int dfs_path_child(char *buf, size_t size, const char *dir, const char *name);

/* The full normalised URI of mount path `path` ("/a/b") under root. Caller frees. */
char *dfs_uri_join(const dfs_uri *root, const char *path);

#endif
