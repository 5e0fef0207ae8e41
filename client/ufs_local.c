/*
 * Local folder backend. Paths are opened relative to a descriptor of the root
 * folder, so the root stays the same folder even if its path is later renamed
 * or replaced. Symbolic links are followed, as any reader of the folder would.
 */
#include "ufs_local.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct local_source {
	dfs_source base;
	int root_fd;
	atomic_uint_fast64_t reads, bytes, stats, lists;
} local_source;

typedef struct local_handle {
	dfs_handle base;
	int fd;
} local_handle;

static const char *rel(const char *path)
{
	/* "/" is the root itself; "/a/b" is "a/b" under it. */
	return path[1] ? path + 1 : ".";
}

void dfs_local_version(dfs_attr *attr, uint64_t ino)
{
	if (S_ISDIR(attr->mode)) {
		attr->version[0] = '\0';
		return;
	}
	snprintf(attr->version, sizeof(attr->version), "%" PRIx64 "-%" PRIx64 "-%" PRIx64,
		 attr->size, (uint64_t)attr->mtime_ns, ino);
}

static int fill_attr(const struct stat *st, dfs_attr *out)
{
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return -ENOENT;   /* devices, sockets, fifos are not part of a dataset */
	memset(out, 0, sizeof(*out));
	out->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	out->mode = st->st_mode & (S_IFMT | 07777);
	out->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	dfs_local_version(out, (uint64_t)st->st_ino);
	return 0;
}

static int local_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	local_source *ls = (local_source *)s;
	struct stat st;

	atomic_fetch_add(&ls->stats, 1);
	if (fstatat(ls->root_fd, rel(path), &st, 0) < 0)
		return -errno;
	return fill_attr(&st, out);
}

static int local_list(dfs_source *s, const char *path, dfs_list_cb cb, void *arg)
{
	local_source *ls = (local_source *)s;
	DIR *d = NULL;
	struct dirent *de;
	int fd, rc = 0;

	atomic_fetch_add(&ls->lists, 1);
	fd = openat(ls->root_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (;;) {
		struct stat st;
		dfs_attr attr;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* An entry removed between readdir and stat is simply not listed. */
		if (fstatat(fd, de->d_name, &st, 0) < 0 || fill_attr(&st, &attr) < 0)
			continue;
		rc = cb(arg, de->d_name, &attr);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

static int local_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	local_source *ls = (local_source *)s;
	local_handle *h = NULL;
	struct stat st;
	int fd, rc;

	(void)attr; /* the open file's own attributes are authoritative */
	fd = openat(ls->root_fd, rel(path), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto fail;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->base.path = strdup(path))) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = fill_attr(&st, &h->base.attr);
	if (rc < 0)
		goto fail;
	h->base.src = s;
	h->fd = fd;
	*out = &h->base;
	return 0;
fail:
	if (h)
		free(h->base.path);
	free(h);
	close(fd);
	return rc;
}

static ssize_t local_pread(dfs_handle *dh, void *buf, size_t len, uint64_t off)
{
	local_handle *h = (local_handle *)dh;
	local_source *ls = (local_source *)dh->src;
	ssize_t n;

	do {
		n = pread(h->fd, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	atomic_fetch_add(&ls->reads, 1);
	atomic_fetch_add(&ls->bytes, (uint64_t)n);
	return n;
}

static void local_close(dfs_handle *dh)
{
	local_handle *h = (local_handle *)dh;

	close(h->fd);
	free(h->base.path);
	free(h);
}

static int local_statfs(dfs_source *s, dfs_fs_usage *out)
{
	local_source *ls = (local_source *)s;
	struct statvfs sv;

	if (fstatvfs(ls->root_fd, &sv) < 0)
		return -errno;
	out->total = (uint64_t)sv.f_blocks * sv.f_frsize;
	out->avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	out->files = sv.f_files;
	out->ffree = sv.f_favail;
	return 0;
}

static void local_stats_json(dfs_source *s, void *obj)
{
	local_source *ls = (local_source *)s;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string("local"));
	json_object_object_add(o, "reads", json_object_new_int64((int64_t)atomic_load(&ls->reads)));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)atomic_load(&ls->bytes)));
	json_object_object_add(o, "stats", json_object_new_int64((int64_t)atomic_load(&ls->stats)));
	json_object_object_add(o, "lists", json_object_new_int64((int64_t)atomic_load(&ls->lists)));
	json_object_object_add(obj, "ufs", o);
}

static void local_destroy(dfs_source *s)
{
	local_source *ls = (local_source *)s;

	close(ls->root_fd);
	free(ls);
}

static const dfs_source_ops local_ops = {
	.name = "local",
	.stat = local_stat,
	.list = local_list,
	.open = local_open,
	.pread = local_pread,
	.close = local_close,
	.statfs = local_statfs,
	.stats_json = local_stats_json,
	.destroy = local_destroy,
};

dfs_source *dfs_local_source_new(const char *root, char *err, size_t errlen)
{
	local_source *ls;
	int fd;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open UFS folder '%s': %s", root, strerror(errno));
		return NULL;
	}
	ls = calloc(1, sizeof(*ls));
	if (!ls) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	ls->base.ops = &local_ops;
	ls->root_fd = fd;
	return &ls->base;
}
