/*
 * libfuse3 low-level front end. Each handler turns a request into client
 * calls (dfs_stat, dfs_dir_open, dfs_open, dfs_read_segs) and an errno; no
 * caching or I/O policy lives here.
 *
 * There is deliberately no getxattr or listxattr: libfuse answers ENOSYS,
 * after which the kernel answers every file's xattr requests itself
 * (EOPNOTSUPP) instead of sending two per entry of an `ls -l`. The mount's
 * counters are served by its control socket (control_server.c).
 *
 * Threads: libfuse's multi-threaded loop runs the handlers; the control
 * socket has its own thread, started before the mount and joined after the
 * loop ends. Shared state is the inode table (its own mutex, metadata
 * requests only), the set of open files (open_lock, taken at open and
 * release only) and the client (see client/ for its locks). A read touches
 * only its file handle and the client: no lock of this file is taken on the
 * read path.
 */
#define FUSE_USE_VERSION 312
#include "dorafs_fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <glib.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "control_server.h"
#include "inode_table.h"
#include "tune.h"
#include "uri.h"

#define NAME_MAX_LEN 255

typedef struct fs {
	dfs_client *client;
	dfs_source *src;
	const dfs_config *cfg;
	inode_table *inodes;
	uid_t uid;
	gid_t gid;
	/* Open files, so that those the kernel never released (a lazily
	 * unmounted mount can end with files still open) are closed at exit.
	 * open_lock guards the set; taken at open and release only. */
	pthread_mutex_t open_lock;
	GHashTable *open_files;
} fs;

static fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/*
 * The inode number stat and readdir report: a hash of the path, so that a
 * plain readdir (which looks nothing up) gives each name the same d_ino as
 * stat's st_ino (ls -i, find -inum, duplicate finders compare them), and it
 * stays the same across mounts. The FUSE node id is the inode table's.
 */
static ino_t path_ino(const char *path)
{
	uint64_t h = 14695981039346656037ULL;

	if (strcmp(path, "/") == 0)
		return FUSE_ROOT_ID;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h |= 2; /* never 0 (glibc's readdir skips it) nor the root's 1 */
	return (ino_t)h;
}

static void to_stat(const fs *f, const char *path, const dfs_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = path_ino(path);
	st->st_mode = a->mode;
	st->st_nlink = S_ISDIR(a->mode) ? 2 : 1;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	/* Floored: before 1970 C's truncating division gave negative
	 * nanoseconds, which the kernel clamps (1960-01-01 00:00:00.5 showed
	 * as 00:00:01.999999999). */
	st->st_mtim.tv_sec = a->mtime_ns / 1000000000LL;
	st->st_mtim.tv_nsec = a->mtime_ns % 1000000000LL;
	if (st->st_mtim.tv_nsec < 0) {
		st->st_mtim.tv_nsec += 1000000000LL;
		st->st_mtim.tv_sec--;
	}
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

/* Path of name under the directory parent; errno-style result. */
static int child_path(fs *f, fuse_ino_t parent, const char *name, char *buf, size_t size)
{
	char dir[PATH_MAX];

	if (strlen(name) > NAME_MAX_LEN)
		return -ENAMETOOLONG;
	if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (!itab_path(f->inodes, parent, dir, sizeof(dir)))
		return -ESTALE;
	return dfs_path_child(buf, size, dir, name);
}

static void fill_entry(fs *f, const char *path, const dfs_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = itab_lookup(f->inodes, path);
	e->attr_timeout = f->cfg->attr_timeout;
	e->entry_timeout = f->cfg->entry_timeout;
	to_stat(f, path, a, &e->attr);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	fs *f = userdata;

	/* -o max_read must be matched here, or libfuse aborts INIT. */
	conn->max_read = (unsigned)f->cfg->max_read;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->max_readahead < f->cfg->max_read)
		conn->max_readahead = (unsigned)f->cfg->max_read;
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	if (f->cfg->auto_cache && (conn->capable & FUSE_CAP_AUTO_INVAL_DATA))
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs *f = fs_of(req);
	char path[PATH_MAX];
	struct fuse_entry_param e;
	dfs_attr a;
	int rc = child_path(f, parent, name, path, sizeof(path));

	if (rc == 0)
		rc = dfs_stat(f->src, path, &a);
	if (rc == -ENOENT) {
		/* A negative entry the kernel may keep for entry_timeout. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = f->cfg->entry_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fill_entry(f, path, &a, &e);
	fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	itab_forget(fs_of(req)->inodes, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		itab_forget(fs_of(req)->inodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs *f = fs_of(req);
	char path[PATH_MAX];
	struct stat st;
	dfs_attr a;
	int rc;

	(void)fi;
	if (!itab_path(f->inodes, ino, path, sizeof(path))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	rc = dfs_stat(f->src, path, &a);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	to_stat(f, path, &a, &st);
	fuse_reply_attr(req, &st, f->cfg->attr_timeout);
}

/* A directory handle is a dfs_dir: the listing streams in on a client
 * thread while readdir hands out what has arrived, and entry i keeps its
 * offset (i + 2) for the life of the handle. */
static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs *f = fs_of(req);
	char path[PATH_MAX];
	dfs_dir *d;
	int rc;

	if (!itab_path(f->inodes, ino, path, sizeof(path))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	rc = dfs_dir_open(dfs_client_dirs(f->client), path, &d);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fi->cache_readdir = f->cfg->kernel_cache;
	if (fuse_reply_open(req, fi) != 0)
		dfs_dir_close(d); /* the request was interrupted: no releasedir will come */
}

/* A stable, non-zero d_ino for a plain readdir entry (FNV-1a of the name). */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	fs *f = fs_of(req);
	dfs_dir *d = (dfs_dir *)(uintptr_t)fi->fh;
	char *buf, dir[PATH_MAX];
	size_t used = 0;
	long listed = 0;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* Offsets 0 and 1 are "." and ".."; entry i of the listing is offset
	 * i + 2. Wait for the first entry asked for and, briefly, for as many
	 * as the reply can hold, then take only what has arrived: the kernel
	 * hands those to the reader while the rest of the folder is still
	 * being listed. An entry takes at least 32 bytes (plain) or 160
	 * (plus: fuse_entry_out, the dirent and a short name). */
	listed = dfs_dir_wait(d, off >= 2 ? (size_t)off - 2 : 0, size / (plus ? 160 : 32));
	if (listed < 0) {
		fuse_reply_err(req, (int)-listed);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (!itab_path(f->inodes, ino, dir, sizeof(dir))) {
		free(buf);
		fuse_reply_err(req, ESTALE);
		return;
	}
	for (off_t i = off; i < (off_t)listed + 2; i++) {
		const char *name;
		char path[PATH_MAX];
		bool named = false;
		dfs_attr a;
		struct stat st;
		size_t need;

		memset(&st, 0, sizeof(st));
		if (i < 2) {
			name = i == 0 ? "." : "..";
			st.st_mode = S_IFDIR;
			st.st_ino = i == 0 ? path_ino(dir) : FUSE_ROOT_ID;
		} else {
			dfs_dir_entry(d, (size_t)i - 2, &name, &a);
			st.st_mode = a.mode;
			/* Plain readdir looks nothing up; d_ino is still what stat
			 * will say (path_ino), and never 0. */
			named = dfs_path_child(path, sizeof(path), dir, name) == 0;
			st.st_ino = path_ino(named ? path : name);
		}
		if (!plus) {
			need = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
		} else {
			struct fuse_entry_param e;

			memset(&e, 0, sizeof(e));
			if (i >= 2) {
				/* Reserve space first: a looked-up entry must reach the kernel. */
				e.attr = st;
				need = fuse_add_direntry_plus(req, NULL, 0, name, &e, i + 1);
				if (used + need > size)
					break;
				/* A path too long to look up is still listed, without
				 * attributes (node id 0): skipping it could leave a reply
				 * empty, which the kernel takes for the end of the folder. */
				if (named)
					fill_entry(f, path, &a, &e);
			} else {
				e.attr = st;
			}
			need = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, i + 1);
		}
		if (used + need > size)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dfs_dir_close((dfs_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* Close an open file and drop it from the set. */
static void forget_open(fs *f, dfs_handle *h)
{
	pthread_mutex_lock(&f->open_lock);
	g_hash_table_remove(f->open_files, h);
	pthread_mutex_unlock(&f->open_lock);
	dfs_close(h);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs *f = fs_of(req);
	char path[PATH_MAX];
	dfs_handle *h;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (!itab_path(f->inodes, ino, path, sizeof(path))) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	rc = dfs_open(f->src, path, NULL, &h);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	pthread_mutex_lock(&f->open_lock);
	g_hash_table_add(f->open_files, h);
	pthread_mutex_unlock(&f->open_lock);
	fi->direct_io = f->cfg->direct_io;
	if (f->cfg->kernel_cache)
		fi->keep_cache = 1;
	else if (f->cfg->auto_cache)
		fi->keep_cache = itab_same_as_last_open(f->inodes, ino, h->attr.mtime_ns, h->attr.size);
	if (fuse_reply_open(req, fi) != 0)
		forget_open(f, h); /* interrupted: no release will come */
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	dfs_handle *h = (dfs_handle *)(uintptr_t)fi->fh;
	/* fuse_bufvec ends in buf[1]: it must be the trailing array of its own
	 * storage for buf[i > 0] to be valid, so give it aligned raw storage. */
	union {
		struct fuse_bufvec v;
		char raw[sizeof(struct fuse_bufvec) + (DFS_READ_MAX_SEGS - 1) * sizeof(struct fuse_buf)];
	} store;
	struct fuse_bufvec *bv = &store.v;
	dfs_readbuf rb;
	enum fuse_buf_copy_flags splice = FUSE_BUF_NO_SPLICE;
	int rc;

	(void)ino;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	rc = dfs_read_segs(h, size, (uint64_t)off, &rb);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	memset(&store, 0, sizeof(store));
	bv->count = (size_t)rb.nseg;
	for (int i = 0; i < rb.nseg; i++) {
		struct fuse_buf *b = &bv->buf[i];
		b->size = rb.seg[i].len;
		if (rb.seg[i].fd >= 0) {
			b->flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
			b->fd = rb.seg[i].fd;
			b->pos = rb.seg[i].fd_offset;
			splice = FUSE_BUF_SPLICE_NONBLOCK;
		} else {
			b->mem = (void *)rb.seg[i].mem;
		}
	}
	/* Splicing pays only for file-backed pages: libfuse would write memory
	 * into a pipe and splice the pipe on, two copies and three system calls
	 * where a writev of the memory is one of each (page misses, read-ahead).
	 * Several memory segments libfuse first joins into one buffer: a copy
	 * more, as many as the pipe would cost. */
	if (rb.nseg == 0)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_data(req, bv, splice);
	dfs_readbuf_release(&rb);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	forget_open(fs_of(req), (dfs_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	fs *f = fs_of(req);
	struct statvfs sv;
	dfs_fs_usage u;
	const unsigned long bsize = 4096;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	if (dfs_client_statfs(f->client, &u) < 0) {
		/* Object stores have no size: report a large, stable figure as
		 * Alluxio does; no inode figures (df -i shows none). */
		u = (dfs_fs_usage){ .total = 1ULL << 50, .avail = 1ULL << 50 };
	}
	sv.f_bsize = bsize;
	sv.f_frsize = bsize;
	sv.f_blocks = u.total / bsize;
	sv.f_bfree = u.avail / bsize;
	sv.f_bavail = u.avail / bsize;
	sv.f_files = u.files;
	sv.f_ffree = u.ffree;
	sv.f_favail = u.ffree;
	sv.f_namemax = NAME_MAX_LEN;
	fuse_reply_statfs(req, &sv);
}

/* The mount is read-only for now: every call that would change it says so. */
static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t r)
{
	(void)p; (void)n; (void)m; (void)r;
	fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m)
{
	(void)p; (void)n; (void)m;
	fuse_reply_err(req, EROFS);
}

static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *n)
{
	(void)p; (void)n;
	fuse_reply_err(req, EROFS);
}

static void op_symlink(fuse_req_t req, const char *l, fuse_ino_t p, const char *n)
{
	(void)l; (void)p; (void)n;
	fuse_reply_err(req, EROFS);
}

static void op_rename(fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn,
		      unsigned int fl)
{
	(void)p; (void)n; (void)np; (void)nn; (void)fl;
	fuse_reply_err(req, EROFS);
}

static void op_link(fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *nn)
{
	(void)i; (void)np; (void)nn;
	fuse_reply_err(req, EROFS);
}

static void op_setattr(fuse_req_t req, fuse_ino_t i, struct stat *a, int s, struct fuse_file_info *fi)
{
	(void)i; (void)a; (void)s; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_create(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, struct fuse_file_info *fi)
{
	(void)p; (void)n; (void)m; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_write(fuse_req_t req, fuse_ino_t i, const char *b, size_t s, off_t o, struct fuse_file_info *fi)
{
	(void)i; (void)b; (void)s; (void)o; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t i, const char *n, const char *v, size_t s, int fl)
{
	(void)i; (void)n; (void)v; (void)s; (void)fl;
	fuse_reply_err(req, EROFS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t i, const char *n)
{
	(void)i; (void)n;
	fuse_reply_err(req, EROFS);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.statfs = op_statfs,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.setattr = op_setattr,
	.create = op_create,
	.write = op_write,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
};

static int add_opt(struct fuse_args *args, const char *fmt, const char *val)
{
	char buf[4200];
	int n = snprintf(buf, sizeof(buf), fmt, val);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return fuse_opt_add_arg(args, "-o") || fuse_opt_add_arg(args, buf) ? -1 : 0;
}

/* fsname may contain commas (which separate options) in theory: escape them. */
static void escape_commas(const char *in, char *out, size_t size)
{
	size_t j = 0;

	for (size_t i = 0; in[i] && j + 2 < size; i++) {
		if (in[i] == ',' || in[i] == '\\')
			out[j++] = '\\';
		out[j++] = in[i];
	}
	out[j] = '\0';
}

int dfs_fuse_run(dfs_client *client, const dfs_config *cfg, const char *mountpoint,
		 void (*ready)(void *arg, const char *error), void *arg)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *loop = NULL;
	ctl_server *ctl = NULL;
	char fsname[4096], num[32], msg[512];
	fs f = { .client = client, .src = dfs_client_source(client), .cfg = cfg,
		 .uid = getuid(), .gid = getgid() };
	int rc = 1, mounted = 0, handlers = 0;

	f.inodes = itab_new();
	f.open_files = g_hash_table_new(g_direct_hash, g_direct_equal);
	pthread_mutex_init(&f.open_lock, NULL);
	escape_commas(cfg->fsname ? cfg->fsname : dfs_client_root(client)->str, fsname, sizeof(fsname));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)cfg->max_read);
	if (!f.inodes || fuse_opt_add_arg(&args, "dorafs") ||
	    add_opt(&args, "fsname=%s", fsname) || add_opt(&args, "subtype=%s", "dorafs") ||
	    add_opt(&args, "max_read=%s", num) ||
	    /* Read-only for the kernel too: statvfs says ST_RDONLY, access(W_OK)
	     * and every write fail with EROFS before reaching us. */
	    add_opt(&args, "%s", "ro") ||
	    (cfg->allow_other && add_opt(&args, "%s", "allow_other")) ||
	    (cfg->debug && fuse_opt_add_arg(&args, "-d"))) {
		ready(arg, "out of memory");
		goto out;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), &f);
	if (!se) {
		ready(arg, "cannot create the FUSE session (bad FUSE option?)");
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		ready(arg, "cannot install signal handlers");
		goto out;
	}
	handlers = 1;
	if (tune_pipe_max_size(cfg->max_read) < 0 && cfg->debug)
		fprintf(stderr, "dorafs: cannot raise fs.pipe-max-size; large reads will be copied\n");
	/* Before the mount: resolving the mount point afterwards could ask this
	 * very daemon, whose loop is not running yet. Before ready(), so that
	 * `dorafs stat` works as soon as `dorafs mount` returns. */
	ctl = ctl_server_start(client, mountpoint, msg, sizeof(msg));
	if (!ctl)
		fprintf(stderr, "dorafs: warning: %s\n", msg);
	if (fuse_session_mount(se, mountpoint) != 0) {
		snprintf(msg, sizeof(msg), "cannot mount FUSE at '%s' (is /dev/fuse usable?)", mountpoint);
		ready(arg, msg);
		goto out;
	}
	mounted = 1;
	if (tune_read_ahead(mountpoint, cfg->max_read) < 0 && cfg->debug)
		fprintf(stderr, "dorafs: cannot raise the mount's read-ahead\n");
	ready(arg, NULL);

	loop = fuse_loop_cfg_create();
	if (!loop)
		goto out;
	fuse_loop_cfg_set_max_threads(loop, (unsigned)cfg->max_threads);
	fuse_loop_cfg_set_idle_threads(loop, (unsigned)cfg->max_idle_threads);
	rc = fuse_session_loop_mt(se, loop);
	/* A loop ended by SIGTERM/SIGINT/SIGHUP is a normal shutdown. */
	rc = (rc == 0 || rc == -SIGTERM || rc == -SIGINT || rc == -SIGHUP) ? 0 : 1;
out:
	ctl_server_stop(ctl);
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	itab_free(f.inodes);
	/* The loop has ended: no request runs, so the set is ours alone. */
	{
		GHashTableIter it;
		gpointer h;

		g_hash_table_iter_init(&it, f.open_files);
		while (g_hash_table_iter_next(&it, &h, NULL))
			dfs_close(h);
		g_hash_table_destroy(f.open_files);
	}
	pthread_mutex_destroy(&f.open_lock);
	return rc;
}
