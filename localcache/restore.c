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
#include <pthread.h>
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

/* A page file seen by readdir, not yet stat()ed. */
struct cand {
	uint64_t ino;
	lc_pkey pk;
};

struct cand_list {
	struct cand *v;
	size_t n, cap;
};

struct found {
	int64_t t;
	lc_entry *e;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

static int cmp_found(const void *a, const void *b)
{
	const struct found *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

/* One fan-out folder: collect the names of well-formed pages, remove junk. */
static int list_fanout(lc_cache *c, const char *fname, unsigned fan,
		       struct cand_list *out)
{
	DIR *d = opendir_at(c->rootfd, fname);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		lc_logf(c, LOG_WARNING, "%s: cannot open %s: %s", c->dir, fname, g_strerror(errno));
		return 0; /* not fatal: its pages are just not reused */
	}
	while ((de = readdir(d)) != NULL) {
		lc_pkey pk;

		if (is_dot(de->d_name))
			continue;
		if (pf_parse_name(de->d_name, fan, &pk) != 0) {
			rm_tree_at(c, dirfd(d), de->d_name);
			continue;
		}
		if (out->n == out->cap) {
			size_t ncap = out->cap ? out->cap * 2 : 4096;
			struct cand *nv = realloc(out->v, ncap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			out->v = nv;
			out->cap = ncap;
		}
		out->v[out->n++] = (struct cand){de->d_ino, pk};
	}
	closedir(d);
	return rc;
}

/* Check one candidate; fills *out, or leaves out->e NULL if it is no page. */
static int stat_one(lc_cache *c, const struct cand *cd, struct found *out)
{
	char name[LC_NAME_MAX];
	struct stat st;
	lc_entry *e;

	out->e = NULL;
	pf_page_name(&cd->pk, name);
	if (fstatat(c->rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	/* Size must be a header plus 1..page_size bytes: anything else is a
	 * torn or foreign file (0-byte pages are never stored). */
	if (!S_ISREG(st.st_mode) || st.st_size <= (off_t)LC_HDR_SIZE ||
	    st.st_size > (off_t)LC_HDR_SIZE + (off_t)c->page_size) {
		rm_tree_at(c, c->rootfd, name);
		return 0;
	}
	e = ix_new_entry(c, &cd->pk);
	if (!e)
		return -ENOMEM;
	e->len = (uint32_t)(st.st_size - LC_HDR_SIZE);
	e->charge = sp_page_bytes(c, (uint64_t)st.st_size);
	if ((uint64_t)st.st_blocks * 512 > e->charge)
		e->charge = (uint64_t)st.st_blocks * 512;
	e->verified = false;
	/* Last use: atime when the kernel kept it, else the write. */
	out->t = ts_ns(&st.st_mtim);
	if (ts_ns(&st.st_atim) > out->t)
		out->t = ts_ns(&st.st_atim);
	e->stamp = (uint32_t)(out->t / 1000000000ll);
	out->e = e;
	return 0;
}

struct stat_job {
	lc_cache *c;
	const struct cand *cand;
	struct found *found;
	size_t from, to;
	int rc;
};

static void *stat_range(void *arg)
{
	struct stat_job *j = arg;

	for (size_t i = j->from; i < j->to; i++) {
		j->found[i].e = NULL;
		if (j->rc == 0)
			j->rc = stat_one(j->c, &j->cand[i], &j->found[i]);
	}
	return NULL;
}

/* Enough parallel stat()s to keep a disk's queue busy after a reboot, when
 * no inode is cached; with a warm cache they just share the CPUs. */
#define STAT_THREADS 8
#define STAT_MIN_PER_THREAD 2048

/*
 * stat() every candidate, sorted by inode number: after a reboot the inodes
 * are not cached, and reading them in readdir (hash) order is random I/O on
 * the inode table, while sorted it is mostly sequential; several threads
 * take contiguous ranges. found[i] receives candidate i (e NULL if no page).
 */
static int stat_cands(lc_cache *c, struct cand_list *cl, struct found *found)
{
	struct stat_job jobs[STAT_THREADS];
	pthread_t tid[STAT_THREADS];
	bool started[STAT_THREADS];
	size_t nt = cl->n / STAT_MIN_PER_THREAD;
	int rc = 0;

	if (cl->n == 0)
		return 0;
	qsort(cl->v, cl->n, sizeof(*cl->v), cmp_cand);
	if (nt > STAT_THREADS)
		nt = STAT_THREADS;
	if (nt < 1)
		nt = 1;
	for (size_t t = 0; t < nt; t++) {
		jobs[t] = (struct stat_job){c, cl->v, found, cl->n * t / nt,
					    cl->n * (t + 1) / nt, 0};
		/* Range 0 is done by this thread; so is a range whose thread
		 * cannot start: slower, not wrong. */
		started[t] = t > 0 && pthread_create(&tid[t], NULL, stat_range, &jobs[t]) == 0;
	}
	for (size_t t = 0; t < nt; t++) {
		if (!started[t])
			stat_range(&jobs[t]);
	}
	for (size_t t = 0; t < nt; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		if (jobs[t].rc && !rc)
			rc = jobs[t].rc;
	}
	return rc;
}

int rs_scan(lc_cache *c, char *err, size_t errlen)
{
	struct cand_list cl = {0};
	struct found *found = NULL;
	size_t nfound = 0;
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
		rc = list_fanout(c, n, fan, &cl);
		if (rc)
			goto out;
	}

	if (cl.n) {
		found = malloc(cl.n * sizeof(*found));
		if (!found) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = stat_cands(c, &cl, found);
	/* Keep the pages found; on failure they are all let go below. */
	for (size_t i = 0; i < cl.n; i++) {
		if (found[i].e)
			found[nfound++] = found[i];
	}
	if (rc)
		goto out;

	/* Oldest first, so the newest end at the heads of the LRU lists. */
	if (nfound) /* qsort's base must not be NULL, even for 0 items */
		qsort(found, nfound, sizeof(*found), cmp_found);
	for (size_t i = 0; i < nfound; i++) {
		atomic_fetch_add(&c->used, found[i].e->charge);
		ix_restore_insert(c, found[i].e);
	}
	atomic_store(&c->restored, nfound);
	nfound = 0;

out:
	if (rc)
		snprintf(err, errlen, "%s: scanning pages: %s", c->dir, g_strerror(-rc));
	for (size_t i = 0; i < nfound; i++) {
		/* Not in the index: no charge was taken. */
		found[i].e->charge = 0;
		ix_unref(found[i].e);
	}
	free(found);
	free(cl.v);
	if (d)
		closedir(d);
	return rc;
}
