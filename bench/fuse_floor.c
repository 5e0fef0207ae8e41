/*
 * fuse_floor: the smallest useful FUSE file system, to measure what FUSE
 * itself costs on this machine ("the FUSE floor").
 *
 *   fuse_floor <backing-file> <mountpoint> [--direct-io] [--keep-cache]
 *              [--single-thread] [--no-splice] [--debug]
 *              [--offset=N] [--reopen] [--page-dir=DIR [--prefetch=N]]
 *
 * The mount holds one regular file, named like the backing file's basename,
 * whose bytes are the backing file's. Every read is answered with
 * fuse_reply_data() and a file-descriptor buffer (FUSE_BUF_IS_FD |
 * FUSE_BUF_FD_SEEK) on the backing file, i.e. spliced from it into /dev/fuse,
 * exactly as dorafs answers a page-cache hit from a page file.
 *
 * It is mounted the way fuse/dorafs_fuse.c mounts dorafs, so the two can be
 * compared: -o max_read=1 MiB matched by conn->max_read in init(), splice
 * write, async read, max_readahead = max_read, no auto_inval_data, attribute
 * and entry timeouts of 600 s, the multi-threaded loop with 64 threads /
 * 64 idle threads, fs.pipe-max-size raised so a 1 MiB reply fits in a pipe,
 * and the mount's bdi read_ahead_kb raised to max_read (found through
 * /proc/self/mountinfo, as fuse/tune.c does). --direct-io and --keep-cache
 * set fi->direct_io / fi->keep_cache in open(), like dorafs's -o direct_io
 * and -o kernel_cache.
 *
 * Some switches exist only to take dorafs's page-hit path apart (see
 * bench/README.md): --offset=N serves the backing file from byte N on (a
 * dorafs page file's data starts after a 64-byte header, so its reads are not
 * page-aligned), and --reopen opens and closes the backing file for every
 * read (dorafs opens the page file on every hit). --page-dir=DIR serves the
 * bytes from the 1 MiB page files of a dorafs page cache in DIR (one cached
 * file; each page's data after its 64-byte header) instead of from the
 * backing file, which still names the file and gives its size: dorafs's
 * page-hit I/O without the rest of dorafs. With --prefetch=N, a read that
 * continues the previous one also posix_fadvise(WILLNEED)s the next N page
 * files: the prefetch proposed for dorafs (bench/README.md).
 *
 * Runs in the foreground until unmounted (fusermount3 -u) or sent
 * SIGTERM/SIGINT/SIGHUP.
 */
#define FUSE_USE_VERSION 312
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tune.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define FILE_INO 2
#define MAX_READ (1024 * 1024)
#define TIMEOUT 600.0

static struct {
	int fd;
	struct stat st;
	const char *name;
	const char *path;
	off_t offset;
	int direct_io, keep_cache, splice, reopen;
	unsigned prefetch;          /* --prefetch=N (with --page-dir) */
	off_t next_off;             /* where a sequential reader reads next */
	/* --page-dir */
	size_t npages, cap;
	char **page_path;
	int *page_fd;
	unsigned long long *page_idx;
} g;

#define PAGE_SIZE_DFS (1024 * 1024)
#define PAGE_HDR 64

/* The kernel tuning is dorafs's own (fuse/tune.c), so the floor runs with the
 * same pipe size and read-ahead as the mount it is compared with. */

/* --- --page-dir: a dorafs page cache holding one file ------------------------ */

static int page_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	char *end;
	unsigned long long idx;

	(void)st;
	if (type != FTW_F || strlen(base) < 34 || base[32] != '-')
		return 0;
	idx = strtoull(base + 33, &end, 10);
	if (*end)
		return 0;
	if (g.npages == g.cap) {
		g.cap = g.cap ? 2 * g.cap : 1024;
		g.page_path = realloc(g.page_path, g.cap * sizeof(*g.page_path));
		g.page_idx = realloc(g.page_idx, g.cap * sizeof(*g.page_idx));
		if (!g.page_path || !g.page_idx)
			return -1;
	}
	g.page_path[g.npages] = strdup(path);
	g.page_idx[g.npages++] = idx;
	return 0;
}

static int load_pages(const char *dir)
{
	char **path;
	int *fd;

	if (nftw(dir, page_visit, 64, FTW_PHYS) != 0)
		return -1;
	/* Index them by page number (one cached file expected). */
	path = calloc(g.npages + 1, sizeof(*path));
	fd = malloc((g.npages + 1) * sizeof(*fd));
	if (!path || !fd)
		return -1;
	for (size_t i = 0; i < g.npages; i++) {
		if (g.page_idx[i] >= g.npages || path[g.page_idx[i]]) {
			fprintf(stderr, "fuse_floor: %s does not hold exactly one file's pages\n", dir);
			return -1;
		}
		path[g.page_idx[i]] = g.page_path[i];
	}
	for (size_t i = 0; i < g.npages; i++) {
		fd[i] = g.reopen ? -1 : open(path[i], O_RDONLY | O_CLOEXEC);
		if (!g.reopen && fd[i] < 0)
			return -1;
	}
	g.page_path = path;
	g.page_fd = fd;
	if ((off_t)g.npages * PAGE_SIZE_DFS < g.st.st_size ||
	    (off_t)(g.npages - 1) * PAGE_SIZE_DFS >= g.st.st_size) {
		fprintf(stderr, "fuse_floor: %zu pages in %s do not match the size of the backing file\n",
			g.npages, dir);
		return -1;
	}
	return 0;
}

/* Reply from page files: at most 2 pages for a read of up to 1 MiB. */
static void read_pages(fuse_req_t req, size_t size, off_t off)
{
	struct {
		struct fuse_bufvec v;
		struct fuse_buf more[2];
	} bv;
	int fds[3] = { -1, -1, -1 };
	size_t done = 0;

	memset(&bv, 0, sizeof(bv));
	while (done < size && bv.v.count < 3) {
		off_t pos = off + (off_t)done;
		size_t idx = (size_t)(pos / PAGE_SIZE_DFS), in = (size_t)(pos % PAGE_SIZE_DFS);
		size_t n = PAGE_SIZE_DFS - in;
		struct fuse_buf *b = &bv.v.buf[bv.v.count];
		int fd = g.page_fd[idx];

		if (n > size - done)
			n = size - done;
		if (g.reopen) {
			fd = fds[bv.v.count] = open(g.page_path[idx], O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				break;
		}
		b->size = n;
		b->flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		b->fd = fd;
		b->pos = PAGE_HDR + (off_t)in;
		bv.v.count++;
		done += n;
	}
	if (done < size)
		fuse_reply_err(req, EIO);
	else
		fuse_reply_data(req, &bv.v, FUSE_BUF_SPLICE_NONBLOCK);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* --prefetch: a read that continues the last one starts the disk reads
	 * of the next N page files (the fix proposed for dorafs's page cache). */
	if (g.prefetch && !g.reopen) {
		off_t expect = __atomic_exchange_n(&g.next_off, off + (off_t)size, __ATOMIC_RELAXED);
		size_t first = (size_t)((off + (off_t)size - 1) / PAGE_SIZE_DFS) + 1;

		if (off == expect || off == 0)
			for (size_t j = first; j < first + g.prefetch && j < g.npages; j++)
				posix_fadvise(g.page_fd[j], 0, 0, POSIX_FADV_WILLNEED);
	}
}

/* --- file system --------------------------------------------------------- */

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = g.st.st_size - g.offset;
		st->st_blksize = 4096;
		st->st_blocks = (st->st_size + 511) / 512;
	}
	st->st_mtim = g.st.st_mtim;
	st->st_ctim = g.st.st_mtim;
	st->st_atim = g.st.st_mtim;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_read = MAX_READ;
	if (g.splice && (conn->capable & FUSE_CAP_SPLICE_WRITE))
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (!g.splice)
		conn->want &= ~(unsigned)FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->max_readahead < MAX_READ)
		conn->max_readahead = MAX_READ;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	if (parent != FUSE_ROOT_ID || strcmp(name, g.name) != 0) {
		fuse_reply_entry(req, &e); /* negative entry */
		return;
	}
	e.ino = FILE_INO;
	fill_stat(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	char *buf = malloc(size);
	size_t used = 0;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		free(buf);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (off_t i = off; i < 3; i++) {
		static const char *const names[2] = { ".", ".." };
		struct stat st;
		size_t need;

		memset(&st, 0, sizeof(st));
		st.st_ino = i < 2 ? FUSE_ROOT_ID : FILE_INO;
		st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		need = fuse_add_direntry(req, buf + used, size - used, i < 2 ? names[i] : g.name, &st, i + 1);
		if (used + need > size)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->direct_io = g.direct_io;
	fi->keep_cache = g.keep_cache;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	off_t end = g.st.st_size - g.offset;
	int fd = g.fd;

	(void)ino;
	(void)fi;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (off >= end) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if ((off_t)size > end - off)
		size = (size_t)(end - off);
	if (g.page_fd) {
		read_pages(req, size, off);
		return;
	}
	if (g.reopen) {
		fd = open(g.path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fuse_reply_err(req, errno);
			return;
		}
	}
	bv.buf[0].size = size;
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = fd;
	bv.buf[0].pos = g.offset + off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_NONBLOCK);
	if (g.reopen)
		close(fd);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	if (fstatvfs(g.fd, &sv) != 0)
		memset(&sv, 0, sizeof(sv));
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.statfs = op_statfs,
};

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s <backing-file> <mountpoint> [--direct-io] [--keep-cache]\n"
		"          [--single-thread] [--no-splice] [--debug] [--offset=N] [--reopen]\n"
		"          [--page-dir=DIR [--prefetch=N]]\n", argv0);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *loop = NULL;
	const char *backing = NULL, *mnt = NULL, *page_dir = NULL;
	char mntabs[PATH_MAX], opt[PATH_MAX + 64];
	int single = 0, debug = 0, rc = 1, mounted = 0, handlers = 0;

	g.splice = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--direct-io") == 0)
			g.direct_io = 1;
		else if (strcmp(argv[i], "--keep-cache") == 0)
			g.keep_cache = 1;
		else if (strcmp(argv[i], "--single-thread") == 0)
			single = 1;
		else if (strcmp(argv[i], "--no-splice") == 0)
			g.splice = 0;
		else if (strcmp(argv[i], "--debug") == 0)
			debug = 1;
		else if (strcmp(argv[i], "--reopen") == 0)
			g.reopen = 1;
		else if (strncmp(argv[i], "--prefetch=", 11) == 0)
			g.prefetch = (unsigned)strtoul(argv[i] + 11, NULL, 10);
		else if (strncmp(argv[i], "--page-dir=", 11) == 0)
			page_dir = argv[i] + 11;
		else if (strncmp(argv[i], "--offset=", 9) == 0)
			g.offset = strtoll(argv[i] + 9, NULL, 0);
		else if (argv[i][0] == '-') {
			usage(argv[0]);
			return 2;
		} else if (!backing)
			backing = argv[i];
		else if (!mnt)
			mnt = argv[i];
		else {
			usage(argv[0]);
			return 2;
		}
	}
	if (!backing || !mnt) {
		usage(argv[0]);
		return 2;
	}
	g.fd = open(backing, O_RDONLY | O_CLOEXEC);
	if (g.fd < 0 || fstat(g.fd, &g.st) != 0 || !S_ISREG(g.st.st_mode)) {
		fprintf(stderr, "fuse_floor: cannot open regular file %s: %s\n", backing, strerror(errno));
		return 1;
	}
	if (g.offset < 0 || g.offset > g.st.st_size) {
		fprintf(stderr, "fuse_floor: --offset beyond the end of %s\n", backing);
		return 1;
	}
	g.path = backing;
	if (page_dir && load_pages(page_dir) != 0) {
		fprintf(stderr, "fuse_floor: cannot use the page files in %s\n", page_dir);
		return 1;
	}
	g.name = strrchr(backing, '/') ? strrchr(backing, '/') + 1 : backing;
	if (!realpath(mnt, mntabs)) {
		fprintf(stderr, "fuse_floor: bad mount point %s: %s\n", mnt, strerror(errno));
		return 1;
	}

	/* fsname with its commas and backslashes escaped, as dorafs does. */
	{
		size_t j = (size_t)snprintf(opt, sizeof(opt), "fsname=");
		for (const char *p = backing; *p && j + 64 < sizeof(opt); p++) {
			if (*p == ',' || *p == '\\')
				opt[j++] = '\\';
			opt[j++] = *p;
		}
		snprintf(opt + j, sizeof(opt) - j, ",subtype=fuse_floor,max_read=%d", MAX_READ);
	}
	if (fuse_opt_add_arg(&args, "fuse_floor") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opt) || (debug && fuse_opt_add_arg(&args, "-d")))
		goto out;
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	handlers = 1;
	if (g.splice && tune_pipe_max_size(MAX_READ) < 0)
		fprintf(stderr, "fuse_floor: cannot raise fs.pipe-max-size; 1 MiB replies will be copied\n");
	if (fuse_session_mount(se, mntabs) != 0)
		goto out;
	mounted = 1;
	if (tune_read_ahead(mntabs, MAX_READ) < 0)
		fprintf(stderr, "fuse_floor: cannot raise the mount's read_ahead_kb\n");

	if (single) {
		rc = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out;
		fuse_loop_cfg_set_max_threads(loop, 64);
		fuse_loop_cfg_set_idle_threads(loop, 64);
		rc = fuse_session_loop_mt(se, loop);
	}
	rc = (rc == 0 || rc == -SIGTERM || rc == -SIGINT || rc == -SIGHUP ||
	      rc == SIGTERM || rc == SIGINT || rc == SIGHUP) ? 0 : 1;
out:
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	close(g.fd);
	return rc;
}
