/* UFS URI parsing and AlluxioURI-style normalisation. */
#include "uri.h"
#include "worker_uri.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dfs_path_normalize(char *path)
{
	char *out = path, *in = path;

	if (*path != '/')
		return -1;
	/* Write "/seg" for each kept segment. out never passes in: each write
	 * of len + 1 bytes follows a read of at least as many. */
	while (*in) {
		char *seg;
		size_t len;

		while (*in == '/')
			in++;
		seg = in;
		while (*in && *in != '/')
			in++;
		len = (size_t)(in - seg);
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			/* Drop the last segment written; at the root there is none to drop. */
			while (out > path && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		memmove(out, seg, len);
		out += len;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
	return 0;
}

void dfs_uri_free(dfs_uri *u)
{
	free(u->scheme);
	free(u->authority);
	free(u->path);
	free(u->str);
	memset(u, 0, sizeof(*u));
}

static int build_str(dfs_uri *u)
{
	size_t n;

	if (!u->scheme) {
		u->str = strdup(u->path);
		return u->str ? 0 : -1;
	}
	n = strlen(u->scheme) + 3 + strlen(u->authority) + strlen(u->path) + 1;
	u->str = malloc(n);
	if (!u->str)
		return -1;
	snprintf(u->str, n, "%s://%s%s", u->scheme, u->authority, u->path);
	return 0;
}

int dfs_uri_parse(const char *in, dfs_uri *out, char *err, size_t errlen)
{
	const char *sep;
	char *path = NULL;

	memset(out, 0, sizeof(*out));
	if (!in || !*in) {
		snprintf(err, errlen, "missing UFS URI");
		return -1;
	}
	sep = strstr(in, "://");
	if (sep) {
		const char *auth = sep + 3, *p = strchr(auth, '/');
		size_t slen = (size_t)(sep - in);

		out->scheme = strndup(in, slen);
		if (!out->scheme)
			goto nomem;
		for (char *c = out->scheme; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strcmp(out->scheme, "s3") == 0 || strcmp(out->scheme, "s3a") == 0)
			out->kind = DFS_UFS_S3;
		else if (strcmp(out->scheme, "hdfs") == 0 || strcmp(out->scheme, "webhdfs") == 0)
			out->kind = DFS_UFS_HDFS;
		else if (strcmp(out->scheme, "file") == 0)
			out->kind = DFS_UFS_LOCAL;
		else {
			snprintf(err, errlen, "unsupported UFS scheme '%s' in '%s' (use s3://, hdfs://, file:// or a path)",
				 out->scheme, in);
			goto fail;
		}
		out->authority = strndup(auth, p ? (size_t)(p - auth) : strlen(auth));
		if (!out->authority)
			goto nomem;
		if (out->kind == DFS_UFS_LOCAL && *out->authority) {
			snprintf(err, errlen, "file URI '%s' must have an empty host (file:///path)", in);
			goto fail;
		}
		if (out->kind != DFS_UFS_LOCAL && !*out->authority) {
			snprintf(err, errlen, "UFS URI '%s' has no %s", in,
				 out->kind == DFS_UFS_S3 ? "bucket" : "name node");
			goto fail;
		}
		path = strdup(p ? p : "/");
	} else if (in[0] == '/') {
		path = strdup(in);
	} else {
		/* A relative folder: relative to where dorafs was started. */
		char cwd[4096];
		size_t n;

		if (!getcwd(cwd, sizeof(cwd))) {
			snprintf(err, errlen, "cannot resolve '%s': %s", in, strerror(errno));
			goto fail;
		}
		n = strlen(cwd) + 1 + strlen(in) + 1;
		path = malloc(n);
		if (path)
			snprintf(path, n, "%s/%s", cwd, in);
	}
	if (!path)
		goto nomem;
	if (dfs_path_normalize(path) < 0) {
		snprintf(err, errlen, "bad path in UFS URI '%s'", in);
		goto fail;
	}
	out->path = path;
	path = NULL;
	if (build_str(out) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(path);
	dfs_uri_free(out);
	return -1;
}

int dfs_path_child(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

char *dfs_uri_join(const dfs_uri *root, const char *path)
{
	/* One join for every key: the page cache's, the one workers are picked
	 * by and the one sent to them must be the same string (worker_uri.c
	 * spells it exactly as Alluxio's AlluxioURI does). */
	/* the joined text, its separator, its NUL and normalize's own slack */
	size_t size = strlen(root->str) + strlen(path) + 4;
	char *s = malloc(size);

	if (!s)
		return NULL;
	if (dfs_ufs_uri_join(root->str, path, s, size) < 0) {
		free(s);
		return NULL;
	}
	return s;
}
