/*
 * restore.c: set up the cache folder and rebuild the index from it.
 *
 *   <dir>/v1/lock          flock()ed while a process uses the cache
 *   <dir>/v1/tmp/          pages being written; emptied at open
 *   <dir>/v1/<page_size>/  the pages (see page_file.c)
 *
 * Anything else under v1/ (pages of another page size, unknown files) is
 * removed: it would take disk space the cap does not count.
 *
 * The scan reads names and stat results only, never page contents, so start
 * up costs a readdir per folder and an fstatat per page. Pages come back
 * unverified: their header and checksum are checked when first served.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lc_internal.h"

static bool is_dot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

/* A fresh open file description: a dup() would share (and leave moved) the
 * directory offset of the original descriptor. */
static DIR *opendir_at(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

/* Remove name in folder at, recursively if it is a folder. Best effort: what
 * cannot be removed is retried at the next open. */
static void rm_tree_at(const lc_cache *c, int at, const char *name)
{
	DIR *d;
	struct dirent *de;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return;
	if (errno != EISDIR && errno != EPERM) {
		lc_logf(c, LOG_WARNING, "cannot remove %s/%s: %s", c->dir, name, g_strerror(errno));
		return;
	}
	d = opendir_at(at, name);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!is_dot(de->d_name))
			rm_tree_at(c, dirfd(d), de->d_name);
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		lc_logf(c, LOG_WARNING, "cannot remove %s/%s: %s", c->dir, name, g_strerror(errno));
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	/* Parents first; EEXIST is fine at every level, the final open checks
	 * that the result is a folder. */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -errno;
out:
	free(p);
	return rc;
}

static int open_subdir(int at, const char *name)
{
	int fd;

	if (mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Empty a folder we own, keeping the folder and the names in keep (NULL-ended). */
static int empty_dir(const lc_cache *c, int at, const char *const *keep, bool tell)
{
	DIR *d = opendir_at(at, ".");
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		bool kept = is_dot(n);
		for (const char *const *k = keep; !kept && *k; k++)
			kept = !strcmp(n, *k);
		if (!kept) {
			if (tell)
				lc_logf(c, LOG_INFO, "%s: removing stale %s", c->dir, n);
			rm_tree_at(c, at, n);
		}
	}
	closedir(d);
	return 0;
}

int rs_open_dirs(lc_cache *c, char *err, size_t errlen)
{
	char psname[16];
	struct statvfs v;
	int top = -1, rc;
	const char *what = "create";

	snprintf(psname, sizeof(psname), "%u", c->page_size);

	rc = mkdir_p(c->dir);
	if (rc)
		goto fail;
	top = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0) {
		rc = -errno;
		goto fail;
	}
	what = LC_LAYOUT;
	rc = open_subdir(top, LC_LAYOUT);
	if (rc < 0)
		goto fail;
	c->v1fd = rc;

	what = "lock";
	/* Read-only is enough for flock, and a file open for writing would
	 * keep an admin from remounting the disk read-only. */
	c->lockfd = openat(c->v1fd, "lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (c->lockfd < 0) {
		rc = -errno;
		goto fail;
	}
	/* Two processes sharing a folder would evict and clean each other's
	 * pages and temp files behind each other's index. */
	if (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		what = "lock (in use by another process?)";
		goto fail;
	}

	what = "tmp";
	rc = open_subdir(c->v1fd, "tmp");
	if (rc < 0)
		goto fail;
	c->tmpfd = rc;
	/* Leftovers of writes cut short by a crash: never renamed into place,
	 * so never part of the cache. Not logged: expected after a crash. */
	{
		const char *const none[] = {NULL};
		const char *const ours[] = {"lock", "tmp", psname, NULL};
		rc = empty_dir(c, c->tmpfd, none, false);
		if (rc == 0)
			rc = empty_dir(c, c->v1fd, ours, true);
		if (rc)
			goto fail;
	}

	what = psname;
	rc = open_subdir(c->v1fd, psname);
	if (rc < 0)
		goto fail;
	c->rootfd = rc;

	what = "statvfs";
	if (fstatvfs(c->rootfd, &v) < 0) {
		rc = -errno;
		goto fail;
	}
	c->blk = v.f_frsize ? v.f_frsize : (v.f_bsize ? v.f_bsize : 4096);
	close(top);
	return 0;

fail:
	snprintf(err, errlen, "%s: %s: %s", c->dir, what, g_strerror(-rc));
	if (top >= 0)
		close(top);
	return rc;
}

struct found {
	int64_t t;
	lc_entry *e;
};

struct found_list {
	struct found *v;
	size_t n, cap;
};

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

/* One fan-out folder: every well-formed page becomes an entry. */
static int scan_fanout(lc_cache *c, const char *fname, unsigned fan,
		       struct found_list *out)
{
	DIR *d = opendir_at(c->rootfd, fname);
	struct dirent *de;
	int fd, rc = 0;

	if (!d) {
		lc_logf(c, LOG_WARNING, "%s: cannot open %s: %s", c->dir, fname, g_strerror(errno));
		return 0; /* not fatal: its pages are just not reused */
	}
	fd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		struct stat st;
		lc_pkey pk;
		lc_entry *e;

		if (is_dot(n))
			continue;
		if (pf_parse_name(n, fan, &pk) != 0) {
			rm_tree_at(c, fd, n);
			continue;
		}
		if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* Size must be a header plus 1..page_size bytes: anything else
		 * is a torn or foreign file (0-byte pages are never stored). */
		if (!S_ISREG(st.st_mode) || st.st_size <= (off_t)LC_HDR_SIZE ||
		    st.st_size > (off_t)LC_HDR_SIZE + (off_t)c->page_size) {
			rm_tree_at(c, fd, n);
			continue;
		}
		e = ix_new_entry(c, &pk);
		if (!e) {
			rc = -ENOMEM;
			break;
		}
		e->len = (uint32_t)(st.st_size - LC_HDR_SIZE);
		e->charge = sp_page_bytes(c, (uint64_t)st.st_size);
		if ((uint64_t)st.st_blocks * 512 > e->charge)
			e->charge = (uint64_t)st.st_blocks * 512;
		e->verified = false;
		if (out->n == out->cap) {
			size_t ncap = out->cap ? out->cap * 2 : 1024;
			struct found *nv = realloc(out->v, ncap * sizeof(*nv));
			if (!nv) {
				/* Not an index entry yet: no charge to give back. */
				e->charge = 0;
				ix_unref(e);
				rc = -ENOMEM;
				break;
			}
			out->v = nv;
			out->cap = ncap;
		}
		/* Last use: atime when the kernel kept it, else the write. */
		int64_t t = ts_ns(&st.st_mtim);
		if (ts_ns(&st.st_atim) > t)
			t = ts_ns(&st.st_atim);
		out->v[out->n++] = (struct found){t, e};
	}
	closedir(d);
	return rc;
}

int rs_scan(lc_cache *c, char *err, size_t errlen)
{
	struct found_list fl = {0};
	DIR *d = opendir_at(c->rootfd, ".");
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		unsigned fan;
		char canon[3];

		if (is_dot(n))
			continue;
		/* Only "00".."ff", as pf_fanout_name spells them. */
		if (strlen(n) != 2 || sscanf(n, "%2x", &fan) != 1) {
			rm_tree_at(c, c->rootfd, n);
			continue;
		}
		pf_fanout_name((uint64_t)fan << 56, canon);
		if (strcmp(canon, n) != 0 || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)) {
			rm_tree_at(c, c->rootfd, n);
			continue;
		}
		rc = scan_fanout(c, n, fan, &fl);
		if (rc)
			goto out;
	}

	/* Oldest first, so the newest end at the heads of the LRU lists. */
	qsort(fl.v, fl.n, sizeof(*fl.v), cmp_found);
	for (size_t i = 0; i < fl.n; i++) {
		atomic_fetch_add(&c->used, fl.v[i].e->charge);
		ix_restore_insert(c, fl.v[i].e);
	}
	atomic_store(&c->restored, fl.n);
	fl.n = 0;

out:
	if (rc)
		snprintf(err, errlen, "%s: scanning pages: %s", c->dir, g_strerror(-rc));
	for (size_t i = 0; i < fl.n; i++) {
		fl.v[i].e->charge = 0;
		ix_unref(fl.v[i].e);
	}
	free(fl.v);
	if (d)
		closedir(d);
	return rc;
}
