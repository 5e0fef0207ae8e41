/*
 * localcache: the on-disk page cache.
 *
 * Every test gets a fresh folder under /tmp (or a small tmpfs mounted there,
 * for the disk-full, read-only and free-space tests: those are skipped when
 * mounting is not permitted). Page contents are a function of (seed, offset),
 * so any byte served from the wrong page, file, version or offset shows.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "localcache.h"
#include "lc_internal.h"

#define PS (64u * 1024)   /* page size used by most tests */

/* ---- a fake file behind the cache ---- */

typedef struct src {
	uint64_t size;
	uint32_t seed;
	atomic_int fetches;
	int delay_ms;      /* slow fetch, to make concurrent misses meet */
	int fail;          /* -errno to return instead of data */
} src;

static uint8_t byte_at(uint32_t seed, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)x;
}

static void fill(uint32_t seed, uint64_t off, void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = byte_at(seed, off + i);
}

static ssize_t fetch_cb(void *arg, uint64_t off, void *buf, size_t len)
{
	src *s = arg;

	atomic_fetch_add(&s->fetches, 1);
	if (s->delay_ms) {
		struct timespec ts = {s->delay_ms / 1000, (long)(s->delay_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	if (s->fail)
		return s->fail;
	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	fill(s->seed, off, buf, len);
	return (ssize_t)len;
}

static ssize_t fetch_forbidden(void *arg, uint64_t off, void *buf, size_t len)
{
	(void)arg, (void)off, (void)buf, (void)len;
	fail_msg("fetch called for a page that should be cached");
	return -EIO;
}

static size_t expect_len(const src *s, uint64_t index, uint32_t ps)
{
	uint64_t off = index * ps;
	if (off >= s->size)
		return 0;
	return s->size - off < ps ? (size_t)(s->size - off) : ps;
}

/* The page holds exactly the bytes of page index of s. */
static void check_page(const lc_page *p, const src *s, uint64_t index, uint32_t ps)
{
	size_t want = expect_len(s, index, ps);
	uint8_t *got, *exp;

	assert_int_equal(p->len, want);
	assert_true(p->fd >= 0 || p->mem != NULL);
	got = malloc(want + 1);
	exp = malloc(want + 1);
	assert_non_null(got);
	assert_non_null(exp);
	if (p->mem) {
		memcpy(got, p->mem, want);
	} else {
		assert_int_equal(pread(p->fd, got, want, p->fd_offset), (ssize_t)want);
	}
	fill(s->seed, index * ps, exp, want);
	assert_memory_equal(got, exp, want);
	free(got);
	free(exp);
}

/* ---- logging ---- */

static atomic_int n_errors, n_warnings;
static char last_error[512];

static void log_cb(int level, const char *msg)
{
	if (level <= LOG_ERR) {
		atomic_fetch_add(&n_errors, 1);
		snprintf(last_error, sizeof(last_error), "%s", msg);
	} else if (level == LOG_WARNING) {
		atomic_fetch_add(&n_warnings, 1);
	}
}

/* ---- fixture ---- */

typedef struct fx {
	char dir[64];      /* the test's folder */
	char cache[96];    /* the cache folder inside it */
	bool mounted;
} fx;

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(path);
	return 0;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_localcache.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->cache, sizeof(f->cache), "%s/cache", f->dir);
	atomic_store(&n_errors, 0);
	atomic_store(&n_warnings, 0);
	last_error[0] = '\0';
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	if (f->mounted) {
		/* Remount rw first, so a test that failed while read-only cannot
		 * leave the folder un-removable; then unmount. */
		mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT, NULL);
		if (umount2(f->dir, MNT_DETACH) != 0)
			fprintf(stderr, "umount %s: %s\n", f->dir, strerror(errno));
	}
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Mount a tmpfs of size bytes on the test folder; false if not permitted. */
static bool mount_tmpfs(fx *f, const char *size)
{
	char opts[64];
	snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
	if (mount("tmpfs", f->dir, "tmpfs", 0, opts) != 0)
		return false;
	f->mounted = true;
	return true;
}

static lc_options opts(const fx *f, uint64_t capacity, uint32_t ps)
{
	lc_options o = {
		.dir = f->cache,
		.capacity = capacity,
		.page_size = ps,
		.min_free_ratio = 0,
		.log = log_cb,
	};
	return o;
}

static lc_cache *open_ok(const lc_options *o)
{
	lc_cache *c = NULL;
	char err[256] = "";
	int rc = lc_open(o, &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("lc_open: %d %s", rc, err);
	assert_non_null(c);
	return c;
}

static lc_stats stats(lc_cache *c)
{
	lc_stats st;
	lc_get_stats(c, &st);
	return st;
}

/* Bytes charged for a stored page of len data bytes, as the cache counts them
 * on this disk (allocation unit of the test folder). */
static uint64_t page_charge(const fx *f, size_t len)
{
	struct statvfs v;
	assert_int_equal(statvfs(f->dir, &v), 0);
	uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
	return (LC_HDR_SIZE + len + unit - 1) / unit * unit;
}

/* Real disk usage of the regular files under dir. */
static uint64_t du_acc;
static int du_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path, (void)f;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		du_acc += (uint64_t)st->st_blocks * 512;
	return 0;
}

static uint64_t du_files(const char *dir)
{
	du_acc = 0;
	nftw(dir, du_cb, 16, FTW_PHYS);
	return du_acc;
}

static void page_path(const fx *f, const lc_key *k, uint64_t index, uint32_t ps,
		      char *out, size_t n)
{
	lc_pkey pk = {k->file_hi, k->file_lo, index};
	char name[LC_NAME_MAX];
	pf_page_name(&pk, name);
	snprintf(out, n, "%s/v1/%u/%s", f->cache, ps, name);
}

/* Create path (and its missing parents) holding a few bytes. */
static void write_junk(const char *path)
{
	char *p = strdup(path);
	int fd;

	assert_non_null(p);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	free(p);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk\n", 5), 5);
	close(fd);
}

static void get_check_flags(lc_cache *c, const lc_key *k, uint64_t index, unsigned flags,
			    src *s, uint32_t ps, bool want_from_cache)
{
	lc_page p;
	int before = atomic_load(&s->fetches);
	assert_int_equal(lc_get(c, k, index, flags, fetch_cb, s, &p), 0);
	check_page(&p, s, index, ps);
	assert_int_equal(p.from_cache, want_from_cache);
	assert_int_equal(atomic_load(&s->fetches) - before, want_from_cache ? 0 : 1);
	lc_page_release(&p);
}

/* As a sequential reader asks (LC_STREAM), which most tests do. */
static void get_check(lc_cache *c, const lc_key *k, uint64_t index, src *s,
		      uint32_t ps, bool want_from_cache)
{
	get_check_flags(c, k, index, LC_STREAM, s, ps, want_from_cache);
}

/* ---- tests ---- */

static void test_make_key(void **state)
{
	lc_key a, b, c, d;

	(void)state;
	lc_make_key(&a, "s3://bucket/x", "v1");
	lc_make_key(&b, "s3://bucket/x", "v1");
	lc_make_key(&c, "s3://bucket/x", "v2");
	lc_make_key(&d, "s3://bucket/y", "v1");
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(a.file_hi == c.file_hi && a.file_lo == c.file_lo);
	assert_true(a.version != c.version);
	assert_true(a.file_hi != d.file_hi || a.file_lo != d.file_lo);
	assert_true(a.version == d.version);
}

static void test_page_name_roundtrip(void **state)
{
	lc_pkey pk = {0xab00112233445566ull, 0x778899aabbccddeeull, 18446744073709551615ull}, back;
	char name[LC_NAME_MAX];

	(void)state;
	pf_page_name(&pk, name);
	assert_string_equal(name, "ab/ab00112233445566778899aabbccddee-18446744073709551615");
	assert_int_equal(pf_parse_name(name + 3, 0xab, &back), 0);
	assert_memory_equal(&pk, &back, sizeof(pk));
	assert_int_equal(pf_parse_name(name + 3, 0xac, &back), -1);      /* wrong folder */
	assert_int_equal(pf_parse_name("ab00112233445566778899aabbccddee-01", 0xab, &back), -1);
	assert_int_equal(pf_parse_name("ab00112233445566778899aabbccddee-18446744073709551616", 0xab, &back), -1);
	assert_int_equal(pf_parse_name("AB00112233445566778899aabbccddee-1", 0xab, &back), -1);
	assert_int_equal(pf_parse_name("ab00112233445566778899aabbccddee-1.tmp", 0xab, &back), -1);
	assert_int_equal(pf_parse_name("ab00112233445566778899aabbccddee-", 0xab, &back), -1);
}

static void test_sizes_hit_miss(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	lc_key k1, k2, k3, k0;
	src s1 = {.size = PS - 1, .seed = 1};           /* one page minus a byte */
	src s2 = {.size = PS, .seed = 2};               /* exactly one page */
	src s3 = {.size = 2 * PS + PS / 2, .seed = 3};  /* short last page */
	src s0 = {.size = 0, .seed = 4};                /* empty file */
	lc_page p;

	lc_make_key(&k1, "f1", "v");
	lc_make_key(&k2, "f2", "v");
	lc_make_key(&k3, "f3", "v");
	lc_make_key(&k0, "f0", "v");
	assert_int_equal(lc_page_size(c), PS);

	assert_int_equal(lc_lookup(c, &k1, 0, &p), -ENOENT);
	get_check(c, &k1, 0, &s1, PS, false);
	get_check(c, &k1, 0, &s1, PS, true);
	assert_int_equal(lc_lookup(c, &k1, 0, &p), 0);
	check_page(&p, &s1, 0, PS);
	assert_true(p.from_cache);
	assert_true(p.fd >= 0);
	assert_int_equal(p.fd_offset, LC_HDR_SIZE);
	lc_page_release(&p);

	get_check(c, &k2, 0, &s2, PS, false);
	get_check(c, &k2, 0, &s2, PS, true);
	/* Page past EOF: 0 bytes, never stored, so fetched each time. */
	get_check(c, &k2, 1, &s2, PS, false);
	get_check(c, &k2, 1, &s2, PS, false);

	for (uint64_t i = 0; i < 3; i++)
		get_check(c, &k3, i, &s3, PS, false);
	for (uint64_t i = 0; i < 3; i++)
		get_check(c, &k3, i, &s3, PS, true);

	assert_int_equal(lc_get(c, &k0, 0, LC_STREAM, fetch_cb, &s0, &p), 0);
	assert_int_equal(p.len, 0);
	assert_non_null(p.mem);
	assert_false(p.from_cache);
	lc_page_release(&p);
	assert_int_equal(lc_lookup(c, &k0, 0, &p), -ENOENT);

	lc_stats st = stats(c);
	assert_int_equal(st.pages, 5);
	assert_int_equal(st.used_bytes, 2 * page_charge(f, PS) + page_charge(f, PS - 1) +
				      page_charge(f, PS / 2) + page_charge(f, PS));
	assert_int_equal(st.hits, 6);       /* 1 lookup + 5 gets */
	assert_int_equal(st.misses, 10);    /* 2 lookups + 8 gets */
	assert_int_equal(st.fetches, 8);
	assert_int_equal(st.evictions, 0);
	assert_false(st.degraded);
	assert_int_equal(du_files(f->cache) - 0, st.used_bytes);
	lc_close(c);
}

/* page_size 0 means the default of 1 MiB. Such pages are written with
 * O_DIRECT (where the file system takes it), the last block apart: after a
 * restart their first hits check every page's checksum against the stored
 * bytes. test_write_modes checks both ways of writing in detail. */
static void test_default_page_size(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, 0);
	lc_cache *c = open_ok(&o);
	src s = {.size = (3u << 20) / 2 + 12345, .seed = 3};
	lc_key k;

	assert_int_equal(lc_page_size(c), 1u << 20);
	lc_make_key(&k, "default", "v");
	get_check(c, &k, 0, &s, 1u << 20, false);
	get_check(c, &k, 1, &s, 1u << 20, false);
	get_check(c, &k, 1, &s, 1u << 20, true);
	get_check(c, &k, 0, &s, 1u << 20, true);
	lc_close(c);
	c = open_ok(&o);
	assert_int_equal(stats(c).restored_pages, 2);
	get_check(c, &k, 0, &s, 1u << 20, true);
	get_check(c, &k, 1, &s, 1u << 20, true);
	assert_int_equal(stats(c).fetches, 0);
	lc_close(c);
}

/* How many of the file's pages are in the kernel's page cache. */
static size_t resident_pages(const char *path, size_t *total)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct stat st;
	unsigned char *vec;
	size_t n, in = 0;
	void *m;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = ((size_t)st.st_size + (size_t)pg - 1) / (size_t)pg;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	vec = malloc(n);
	assert_non_null(vec);
	assert_int_equal(mincore(m, (size_t)st.st_size, vec), 0);
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	munmap(m, (size_t)st.st_size);
	close(fd);
	*total = n;
	return in;
}

/* Whether the test folder's file system takes O_DIRECT at all. */
static bool dir_takes_o_direct(const fx *f)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/o_direct_probe", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

/*
 * Both ways of writing a page file. Direct (the default): large pages of a
 * sequential reader (LC_STREAM) skip the kernel's page cache (a few blocks
 * at most, the last partial one) and the file is exactly header + data
 * long; pages under LC_DIRECT_MIN, and pages of random readers (no
 * LC_STREAM), are written buffered. buffered_write: every page is in the
 * page cache after the store. Either way the pages pass their checksum
 * after a restart.
 */
static void test_write_modes(void **state)
{
	fx *f = *state;
	const uint32_t ps = 1u << 20;
	bool can_direct = dir_takes_o_direct(f);
	/* a full page, a short last page over LC_DIRECT_MIN and not a
	 * multiple of a block, and a small file's only page */
	src big = {.size = ps + 300001, .seed = 21};
	src small = {.size = 100 * 1024 + 7, .seed = 22};
	src rnd = {.size = 3ull * ps, .seed = 23};

	static_assert(300001 >= LC_DIRECT_MIN && 100 * 1024 + 7 < LC_DIRECT_MIN,
		      "sizes on both sides of LC_DIRECT_MIN");
	for (int buffered = 0; buffered < 2; buffered++) {
		char sub[PATH_MAX];
		lc_options o = opts(f, 64ull << 20, ps);
		lc_cache *c;
		lc_key kb, ks, kr;

		snprintf(sub, sizeof(sub), "%s/mode%d", f->cache, buffered);
		o.dir = sub;
		o.buffered_write = buffered;
		c = open_ok(&o);
		lc_make_key(&kb, "big", "v");
		lc_make_key(&ks, "small", "v");
		lc_make_key(&kr, "random", "v");
		for (uint64_t i = 0; i < 2; i++)
			get_check(c, &kb, i, &big, ps, false);
		get_check(c, &ks, 0, &small, ps, false);
		get_check_flags(c, &kr, 1, 0, &rnd, ps, false);
		assert_int_equal(stats(c).direct_write, !buffered && can_direct);
		assert_int_equal(stats(c).store_errors, 0);

		for (int which = 0; which < 4; which++) {
			const lc_key *k = which < 2 ? &kb : which == 2 ? &ks : &kr;
			uint64_t idx = which == 1 || which == 3 ? 1 : 0;
			size_t len = expect_len(which < 2 ? &big : which == 2 ? &small : &rnd, idx, ps);
			char path[PATH_MAX + 128], name[LC_NAME_MAX];
			lc_pkey pk = {k->file_hi, k->file_lo, idx};
			struct stat st;
			size_t total, in;

			pf_page_name(&pk, name);
			snprintf(path, sizeof(path), "%s/v1/%u/%s", sub, ps, name);
			assert_int_equal(stat(path, &st), 0);
			assert_int_equal(st.st_size, (off_t)(LC_HDR_SIZE + len));
			in = resident_pages(path, &total);
			if (!buffered && can_direct && len >= LC_DIRECT_MIN && which != 3)
				/* Not exactly the tail block: under valgrind ext4
				 * finishes a few blocks of a direct write buffered. */
				assert_true(in <= total / 8);
			else
				assert_int_equal(in, total);
		}
		lc_close(c);

		c = open_ok(&o);
		assert_int_equal(stats(c).restored_pages, 4);
		get_check(c, &kb, 0, &big, ps, true);
		get_check(c, &kb, 1, &big, ps, true);
		get_check(c, &ks, 0, &small, ps, true);
		get_check_flags(c, &kr, 1, 0, &rnd, ps, true);
		assert_int_equal(stats(c).checksum_failures, 0);
		lc_close(c);
	}
}

/* A file system that refuses O_DIRECT (ramfs: EINVAL at open, after
 * creating the file): the first store falls back to a buffered write,
 * direct writes are off for the cache from then on, and nothing is lost or
 * counted as an error. */
static void test_direct_refused(void **state)
{
	fx *f = *state;
	const uint32_t ps = 1u << 20;
	src big = {.size = 3ull * ps, .seed = 24};
	lc_options o = opts(f, 64ull << 20, ps);
	lc_cache *c;
	lc_key k;

	if (mount("ramfs", f->dir, "ramfs", 0, "mode=0755") != 0)
		skip(); /* not root */
	f->mounted = true;
	assert_false(dir_takes_o_direct(f));
	c = open_ok(&o);
	assert_true(stats(c).direct_write);
	lc_make_key(&k, "big", "v");
	for (uint64_t i = 0; i < 3; i++)
		get_check(c, &k, i, &big, ps, false);
	assert_false(stats(c).direct_write);
	assert_int_equal(stats(c).pages, 3);
	assert_int_equal(stats(c).store_errors, 0);
	assert_int_equal(atomic_load(&n_errors), 0);
	lc_close(c);
	c = open_ok(&o);
	assert_int_equal(stats(c).restored_pages, 3);
	for (uint64_t i = 0; i < 3; i++)
		get_check(c, &k, i, &big, ps, true);
	assert_int_equal(stats(c).checksum_failures, 0);
	lc_close(c);
}

static void test_fetch_error_passed_through(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 8ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 10 * PS, .seed = 5, .fail = -EHOSTUNREACH};
	lc_key k;
	lc_page p;

	lc_make_key(&k, "f", "v");
	assert_int_equal(lc_get(c, &k, 0, LC_STREAM, fetch_cb, &s, &p), -EHOSTUNREACH);
	assert_int_equal(p.fd, -1);
	assert_null(p.mem);
	s.fail = 0;
	get_check(c, &k, 0, &s, PS, false);
	assert_int_equal(stats(c).pages, 1);
	lc_close(c);
}

/* Write a working set three times the cap, in a loop; the cap must hold at
 * every step, by the cache's count and on disk. */
static void test_cap_holds(void **state)
{
	fx *f = *state;
	uint64_t cap = 16 * page_charge(f, PS);
	lc_options o = opts(f, cap, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 48ull * PS, .seed = 6};
	lc_key k;

	lc_make_key(&k, "big", "v");
	for (int round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < 48; i++) {
			lc_page p;
			assert_int_equal(lc_get(c, &k, i, LC_STREAM, fetch_cb, &s, &p), 0);
			check_page(&p, &s, i, PS);
			lc_page_release(&p);
			lc_stats st = stats(c);
			assert_true(st.used_bytes <= cap);
			assert_true(du_files(f->cache) <= cap);
		}
	}
	lc_stats st = stats(c);
	assert_int_equal(st.pages, 16);
	assert_int_equal(st.used_bytes, cap);
	assert_int_equal(st.evictions, 3 * 48 - 16);
	assert_int_equal(st.store_errors, 0);
	assert_true(du_files(f->cache) <= cap);
	lc_close(c);
}

static void test_lru_order(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 8 * page_charge(f, PS), PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 100ull * PS, .seed = 7};
	lc_key k;
	lc_page p;

	lc_make_key(&k, "lru", "v");
	for (uint64_t i = 0; i < 8; i++)
		get_check(c, &k, i, &s, PS, false);
	for (uint64_t i = 0; i < 4; i++)
		get_check(c, &k, i, &s, PS, true);  /* 0..3 now newer than 4..7 */
	for (uint64_t i = 8; i < 12; i++)
		get_check(c, &k, i, &s, PS, false); /* evicts 4..7 */
	for (uint64_t i = 0; i < 12; i++) {
		int rc = lc_lookup(c, &k, i, &p);
		assert_int_equal(rc, (i >= 4 && i < 8) ? -ENOENT : 0);
		if (rc == 0) {
			check_page(&p, &s, i, PS);
			lc_page_release(&p);
		}
	}
	assert_int_equal(stats(c).evictions, 4);
	lc_close(c);
}

static void test_restart_reuse(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 9ull * PS + 100, .seed = 8};
	lc_key k;
	lc_stats st;
	uint64_t used;

	lc_make_key(&k, "restart", "v");
	for (uint64_t i = 0; i < 10; i++)
		get_check(c, &k, i, &s, PS, false);
	used = stats(c).used_bytes;
	lc_close(c);

	c = open_ok(&o);
	st = stats(c);
	assert_int_equal(st.restored_pages, 10);
	assert_int_equal(st.pages, 10);
	assert_int_equal(st.used_bytes, used);
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t i = 0; i < 10; i++) {
			lc_page p;
			assert_int_equal(lc_get(c, &k, i, LC_STREAM, fetch_forbidden, NULL, &p), 0);
			check_page(&p, &s, i, PS);
			assert_true(p.from_cache);
			lc_page_release(&p);
		}
	}
	st = stats(c);
	assert_int_equal(st.fetches, 0);
	assert_int_equal(st.hits, 20);
	assert_int_equal(st.checksum_failures, 0);
	lc_close(c);
}

/* The LRU order survives a restart: it comes from the files' times. */
static void test_restart_lru_order(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 10ull * PS, .seed = 9};
	lc_key k;
	char path[256];

	lc_make_key(&k, "order", "v");
	for (uint64_t i = 0; i < 10; i++)
		get_check(c, &k, i, &s, PS, false);
	lc_close(c);
	/* Page i last used i hours ago: 9 is the oldest. */
	for (uint64_t i = 0; i < 10; i++) {
		struct timespec t[2] = {{time(NULL) - (time_t)i * 3600, 0},
					{time(NULL) - (time_t)i * 3600, 0}};
		page_path(f, &k, i, PS, path, sizeof(path));
		assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
	}
	o.capacity = 5 * page_charge(f, PS);
	c = open_ok(&o);
	lc_stats st = stats(c);
	assert_int_equal(st.restored_pages, 10);
	assert_int_equal(st.pages, 5);
	assert_int_equal(st.evictions, 5);
	for (uint64_t i = 0; i < 10; i++) {
		lc_page p;
		int rc = lc_lookup(c, &k, i, &p);
		assert_int_equal(rc, i < 5 ? 0 : -ENOENT);
		if (rc == 0)
			lc_page_release(&p);
	}
	assert_true(du_files(f->cache) <= o.capacity);
	lc_close(c);
}

/* A hit refreshes the page file's atime now and then, so the next start
 * orders pages by use; the kernel (relatime) would not, once the page has
 * been read after its write. */
static void test_hit_refreshes_atime(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = PS, .seed = 9};
	lc_key k;
	lc_page p;
	char path[256], b;
	struct stat st1, st2;
	int fd;

	lc_make_key(&k, "atime", "v");
	get_check(c, &k, 0, &s, PS, false);
	page_path(f, &k, 0, PS, path, sizeof(path));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, LC_HDR_SIZE), 1); /* relatime's one update */
	close(fd);
	assert_int_equal(stat(path, &st1), 0);
	usleep(1100 * 1000);

	c->stamp_every_s = 3600;
	assert_int_equal(lc_lookup(c, &k, 0, &p), 0);
	lc_page_release(&p);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st2.st_atim.tv_sec == st1.st_atim.tv_sec &&
		    st2.st_atim.tv_nsec == st1.st_atim.tv_nsec);

	c->stamp_every_s = 1;
	assert_int_equal(lc_lookup(c, &k, 0, &p), 0);
	lc_page_release(&p);
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st2.st_atim.tv_sec > st1.st_atim.tv_sec);
	assert_true(st2.st_mtim.tv_sec == st1.st_mtim.tv_sec); /* the write time stays */
	lc_close(c);
}

static void test_restart_many(void **state)
{
	fx *f = *state;
	const uint32_t ps = 512;
	const uint64_t n = 20000;
	lc_options o = opts(f, 1ull << 30, ps);
	lc_cache *c = open_ok(&o);
	src s = {.size = n * ps, .seed = 10};
	uint8_t buf[512];
	lc_key k;
	struct timespec t0, t1;

	lc_make_key(&k, "many", "v");
	for (uint64_t i = 0; i < n; i++) {
		fill(s.seed, i * ps, buf, ps);
		assert_int_equal(lc_put(c, &k, i, buf, ps), 0);
	}
	assert_int_equal(stats(c).pages, n);
	lc_close(c);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = open_ok(&o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("reopen with %llu pages: %.3f s\n", (unsigned long long)n,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	lc_stats st = stats(c);
	assert_int_equal(st.restored_pages, n);
	assert_int_equal(st.pages, n);
	for (uint64_t i = 0; i < n; i += 997) {
		lc_page p;
		assert_int_equal(lc_get(c, &k, i, LC_STREAM, fetch_forbidden, NULL, &p), 0);
		check_page(&p, &s, i, ps);
		lc_page_release(&p);
	}
	lc_close(c);
}

enum damage { FLIP_DATA, FLIP_HEADER, TRUNCATE_DATA, TRUNCATE_HEADER, GROW };

static void corrupt_case(fx *f, enum damage how)
{
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 4ull * PS, .seed = 11};
	lc_key k;
	char path[256];
	int fd;
	lc_stats st;

	lc_make_key(&k, "corrupt", "v");
	for (uint64_t i = 0; i < 4; i++)
		get_check(c, &k, i, &s, PS, false);
	lc_close(c);

	page_path(f, &k, 2, PS, path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	switch (how) {
	case FLIP_DATA:
	case FLIP_HEADER: {
		off_t at = how == FLIP_DATA ? LC_HDR_SIZE + 12345 : 20;
		uint8_t b;
		assert_int_equal(pread(fd, &b, 1, at), 1);
		b ^= 0x40;
		assert_int_equal(pwrite(fd, &b, 1, at), 1);
		break;
	}
	case TRUNCATE_DATA:
		assert_int_equal(ftruncate(fd, LC_HDR_SIZE + PS / 2), 0);
		break;
	case TRUNCATE_HEADER:
		assert_int_equal(ftruncate(fd, LC_HDR_SIZE / 2), 0);
		break;
	case GROW:
		/* Longer than any page can be: dropped by the scan itself. */
		assert_int_equal(ftruncate(fd, LC_HDR_SIZE + PS + 1), 0);
		break;
	}
	close(fd);

	c = open_ok(&o);
	st = stats(c);
	/* A file too short for a header, or too long, is dropped by the scan. */
	bool by_scan = how == TRUNCATE_HEADER || how == GROW;
	assert_int_equal(st.restored_pages, by_scan ? 3 : 4);
	get_check(c, &k, 2, &s, PS, false);  /* detected, refetched, right bytes */
	get_check(c, &k, 2, &s, PS, true);   /* and stored again */
	for (uint64_t i = 0; i < 4; i++)
		if (i != 2)
			get_check(c, &k, i, &s, PS, true);
	st = stats(c);
	assert_int_equal(st.checksum_failures, by_scan ? 0 : 1);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.stale_drops, 0);
	lc_close(c);
}

static void test_corrupt_flip_data(void **state) { corrupt_case(*state, FLIP_DATA); }
static void test_corrupt_flip_header(void **state) { corrupt_case(*state, FLIP_HEADER); }
/* A page file that can no longer be opened (here a symlink loop: ELOOP;
 * a bad disk gives EIO) is dropped and fetched anew, not fetched around on
 * every read while it holds its charge. */
static void test_unopenable_page_is_replaced(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 2ull * PS, .seed = 33};
	char path[PATH_MAX + 128];
	lc_key k;

	lc_make_key(&k, "loop", "v");
	get_check(c, &k, 0, &s, PS, false);
	page_path(f, &k, 0, PS, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(path, path), 0);
	get_check(c, &k, 0, &s, PS, false); /* fetched again, and stored */
	get_check(c, &k, 0, &s, PS, true);
	assert_int_equal(stats(c).pages, 1);
	assert_int_equal(stats(c).store_errors, 0);
	lc_close(c);
}

static void test_corrupt_truncate(void **state) { corrupt_case(*state, TRUNCATE_DATA); }
static void test_corrupt_truncate_header(void **state) { corrupt_case(*state, TRUNCATE_HEADER); }
static void test_corrupt_grown(void **state) { corrupt_case(*state, GROW); }

/* Junk in the cache folder is removed at open, real pages are kept. */
static void test_junk_removed(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = PS, .seed = 12};
	lc_key k;
	char path[256], page[256];
	const char *junk[] = {"v1/tmp/123-4", "v1/4096/00/x", "v1/zzz",
			      "v1/" "65536" "/0g/a", "v1/65536/ab/not-a-page",
			      "v1/65536/ab/ab000000000000000000000000000000-07"};

	lc_make_key(&k, "junk", "v");
	get_check(c, &k, 0, &s, PS, false);
	lc_close(c);
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->cache, junk[i]);
		write_junk(path);
	}
	c = open_ok(&o);
	assert_int_equal(stats(c).restored_pages, 1);
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->cache, junk[i]);
		assert_int_equal(access(path, F_OK), -1);
	}
	snprintf(path, sizeof(path), "%s/v1/4096", f->cache);
	assert_int_equal(access(path, F_OK), -1);
	page_path(f, &k, 0, PS, page, sizeof(page));
	assert_int_equal(access(page, F_OK), 0);
	get_check(c, &k, 0, &s, PS, true);
	lc_close(c);
}

static void test_version_change(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src old = {.size = 2ull * PS, .seed = 13}, new = {.size = 2ull * PS, .seed = 14};
	lc_key k1, k2;
	lc_page p;

	lc_make_key(&k1, "file", "etag-1");
	lc_make_key(&k2, "file", "etag-2");
	get_check(c, &k1, 0, &old, PS, false);
	get_check(c, &k1, 1, &old, PS, false);
	get_check(c, &k2, 0, &new, PS, false);   /* old page dropped, new fetched */
	get_check(c, &k2, 0, &new, PS, true);
	assert_int_equal(stats(c).stale_drops, 1);
	assert_int_equal(stats(c).pages, 2);
	get_check(c, &k1, 0, &old, PS, false);   /* and back: a mismatch either way drops */
	assert_int_equal(stats(c).stale_drops, 2);
	assert_int_equal(lc_lookup(c, &k2, 0, &p), -ENOENT);
	assert_int_equal(stats(c).stale_drops, 3);
	assert_int_equal(stats(c).pages, 1);
	get_check(c, &k2, 0, &new, PS, false);
	lc_close(c);

	/* After a restart the version is only known from the header. */
	c = open_ok(&o);
	get_check(c, &k2, 1, &new, PS, false);   /* page 1 is still version 1 */
	get_check(c, &k2, 1, &new, PS, true);
	get_check(c, &k2, 0, &new, PS, true);
	lc_stats st = stats(c);
	assert_int_equal(st.stale_drops, 1);
	assert_int_equal(st.checksum_failures, 0);
	assert_int_equal(st.fetches, 1);
	lc_close(c);
}

struct racer {
	lc_cache *c;
	lc_key *k;
	src *s;
	uint64_t index;
	pthread_barrier_t *go;
	int rc;
	bool from_cache;
	bool bytes_ok;
	bool in_mem;
};

static void *race_get(void *arg)
{
	struct racer *r = arg;
	lc_page p;

	pthread_barrier_wait(r->go);
	r->rc = lc_get(r->c, r->k, r->index, LC_STREAM, fetch_cb, r->s, &p);
	if (r->rc == 0) {
		uint8_t *got = malloc(p.len + 1), *exp = malloc(p.len + 1);
		size_t want = expect_len(r->s, r->index, lc_page_size(r->c));
		r->from_cache = p.from_cache;
		r->in_mem = p.mem != NULL;
		if (p.mem)
			memcpy(got, p.mem, p.len);
		else if (pread(p.fd, got, p.len, p.fd_offset) != (ssize_t)p.len)
			memset(got, 0, p.len);
		fill(r->s->seed, r->index * lc_page_size(r->c), exp, p.len);
		r->bytes_ok = p.len == want && memcmp(got, exp, p.len) == 0;
		free(got);
		free(exp);
		lc_page_release(&p);
	}
	return NULL;
}

enum { RACERS = 8 };

/* RACERS threads miss on page 3 of k at once; one fetch, each racer's
 * outcome in r. The fetch is slow (delay_ms) so that all meet it in
 * flight. */
static void run_racers(lc_cache *c, src *s, lc_key *k, struct racer r[RACERS])
{
	pthread_t t[RACERS];
	pthread_barrier_t go;

	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){.c = c, .k = k, .s = s, .index = 3, .go = &go};
		assert_int_equal(pthread_create(&t[i], NULL, race_get, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(atomic_load(&s->fetches), 1);
}

/* 8 threads miss on one page at once: one fetch, all get the bytes. */
static void race(fx *f, lc_cache *c, src *s, int want_rc, bool want_stored)
{
	struct racer r[RACERS];
	lc_key k;
	int from_cache = 0, in_mem = 0;

	(void)f;
	lc_make_key(&k, "race", "v");
	run_racers(c, s, &k, r);
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(r[i].rc, want_rc);
		if (want_rc == 0) {
			assert_true(r[i].bytes_ok);
			/* Only a page read from its file is not in memory; the
			 * fetcher gets its own buffer even when it stored it. */
			assert_int_equal(r[i].in_mem, !r[i].from_cache);
			from_cache += r[i].from_cache;
			in_mem += r[i].in_mem;
		}
	}
	if (want_rc == 0) {
		assert_int_equal(from_cache, want_stored ? RACERS - 1 : 0);
		assert_int_equal(in_mem, want_stored ? 1 : RACERS);
	}
}

static void test_concurrent_miss_one_fetch(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 10ull * PS, .seed = 15, .delay_ms = 400};

	race(f, c, &s, 0, true);
	lc_stats st = stats(c);
	assert_int_equal(st.fetches, 1);
	assert_int_equal(st.misses + st.hits, 8); /* a thread late past the fetch hits */
	assert_true(st.misses >= 2);
	assert_int_equal(st.pages, 1);
	lc_close(c);
}

/* Same, when the page cannot be stored: the waiters get the fetcher's bytes. */
static void test_concurrent_miss_unstored(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	o.min_free_ratio = 0.999; /* no disk is that empty: nothing can be stored */
	lc_cache *c = open_ok(&o);
	src s = {.size = 10ull * PS, .seed = 16, .delay_ms = 400};

	race(f, c, &s, 0, false);
	lc_stats st = stats(c);
	assert_int_equal(st.pages, 0);
	assert_true(st.degraded);
	lc_close(c);
}

static void test_concurrent_miss_error(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 10ull * PS, .seed = 17, .delay_ms = 400, .fail = -ETIMEDOUT};

	race(f, c, &s, -ETIMEDOUT, false);
	assert_int_equal(stats(c).pages, 0);
	lc_close(c);
}

/* The free-space floor: with it above the disk's free space nothing is
 * stored, yet every read succeeds, and the state is reported once. */
static void test_floor_blocks_storing(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	o.min_free_ratio = 0.999;
	lc_cache *c = open_ok(&o);
	src s = {.size = 20ull * PS, .seed = 18};
	lc_key k;

	lc_make_key(&k, "floor", "v");
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t i = 0; i < 20; i++)
			get_check(c, &k, i, &s, PS, false);
	lc_stats st = stats(c);
	assert_int_equal(st.pages, 0);
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(st.capacity, 0);
	assert_true(st.degraded);
	assert_int_equal(atomic_load(&n_errors), 1);
	assert_non_null(strstr(last_error, "free even with the cache empty"));
	assert_int_equal(atomic_load(&n_warnings), 1); /* the floor's limit, once */
	assert_int_equal(du_files(f->cache), 0);
	lc_close(c);
}

/* On a 4 MiB tmpfs with a 50% floor the cache holds ~2 MiB, whatever its cap. */
static void test_floor_on_tmpfs(void **state)
{
	fx *f = *state;
	struct statvfs v;

	if (!mount_tmpfs(f, "4m"))
		skip();
	lc_options o = opts(f, 64ull << 20, PS);
	o.min_free_ratio = 0.5;
	lc_cache *c = open_ok(&o);
	src s = {.size = 100ull * PS, .seed = 19};
	lc_key k;

	lc_make_key(&k, "floor", "v");
	for (uint64_t i = 0; i < 100; i++) {
		get_check(c, &k, i, &s, PS, false);
		assert_int_equal(statvfs(f->dir, &v), 0);
		assert_true((uint64_t)v.f_bavail * v.f_frsize >= (uint64_t)v.f_blocks * v.f_frsize / 2);
	}
	lc_stats st = stats(c);
	assert_true(st.pages >= 20);   /* 2 MiB of 64 KiB pages, give or take */
	assert_true(st.used_bytes <= 2ull << 20);
	assert_false(st.degraded);
	/* Once someone else takes the space, the cache gives its share back. */
	{
		char junk[128];
		snprintf(junk, sizeof(junk), "%s/junk", f->dir);
		int fd = open(junk, O_CREAT | O_WRONLY, 0644);
		assert_true(fd >= 0);
		assert_int_equal(posix_fallocate(fd, 0, 1ull << 20), 0);
		close(fd);
	}
	sleep(1); /* past the statvfs sampling interval */
	get_check(c, &k, 0, &s, PS, false);
	assert_int_equal(statvfs(f->dir, &v), 0);
	assert_true((uint64_t)v.f_bavail * v.f_frsize >= (uint64_t)v.f_blocks * v.f_frsize / 2);
	assert_true(stats(c).used_bytes <= 1ull << 20);
	assert_int_equal(atomic_load(&n_warnings), 1);
	assert_int_equal(atomic_load(&n_errors), 0);
	lc_close(c);
}

/* A real disk-full (no floor): writes fail with ENOSPC, reads still work,
 * logged once; the cache recovers once there is room again. */
static void test_disk_full(void **state)
{
	fx *f = *state;
	char junk[128];

	if (!mount_tmpfs(f, "2m"))
		skip();
	lc_options o = opts(f, 64ull << 20, PS);
	o.retry_after_ms = 200;
	lc_cache *c = open_ok(&o);
	src s = {.size = 100ull * PS, .seed = 20};
	lc_key k;
	int fd;

	lc_make_key(&k, "full", "v");
	get_check(c, &k, 0, &s, PS, false);
	snprintf(junk, sizeof(junk), "%s/junk", f->dir);
	fd = open(junk, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	{
		char b[4096] = {0};
		while (write(fd, b, sizeof(b)) > 0)
			; /* fill the disk */
	}
	close(fd);
	for (uint64_t i = 1; i < 30; i++)
		get_check(c, &k, i, &s, PS, false);
	get_check(c, &k, 0, &s, PS, true);  /* stored pages still served */
	lc_stats st = stats(c);
	assert_true(st.degraded);
	assert_true(st.store_errors >= 1);
	assert_int_equal(st.pages, 1);
	assert_int_equal(atomic_load(&n_errors), 1);
	assert_non_null(strstr(last_error, "No space left"));
	assert_int_equal(du_files(f->cache), st.used_bytes); /* no temp file left */

	assert_int_equal(unlink(junk), 0);
	usleep(300 * 1000);
	get_check(c, &k, 40, &s, PS, false);
	get_check(c, &k, 40, &s, PS, true);
	assert_false(stats(c).degraded);
	assert_int_equal(atomic_load(&n_errors), 1);
	lc_close(c);
}

static void test_read_only(void **state)
{
	fx *f = *state;

	if (!mount_tmpfs(f, "8m"))
		skip();
	lc_options o = opts(f, 64ull << 20, PS);
	o.retry_after_ms = 200;
	lc_cache *c = open_ok(&o);
	src s = {.size = 100ull * PS, .seed = 21};
	lc_key k;
	lc_page p;

	lc_make_key(&k, "ro", "v");
	get_check(c, &k, 0, &s, PS, false);
	assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 1; i < 20; i++) {
		assert_int_equal(lc_get(c, &k, i, LC_STREAM, fetch_cb, &s, &p), 0);
		check_page(&p, &s, i, PS);
		assert_false(p.from_cache);
		assert_non_null(p.mem);
		assert_int_equal(p.fd, -1);
		lc_page_release(&p);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	get_check(c, &k, 0, &s, PS, true);
	lc_stats st = stats(c);
	assert_true(st.degraded);
	assert_int_equal(st.pages, 1);
	assert_int_equal(atomic_load(&n_errors), 1);
	assert_non_null(strstr(last_error, "Read-only"));
	/* One write tried per retry interval, not one per read. */
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(st.store_errors >= 1);
	assert_true(st.store_errors <= 1 + (uint64_t)ms / 200);

	assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT, "size=8m"), 0);
	usleep(300 * 1000);
	get_check(c, &k, 50, &s, PS, false);
	get_check(c, &k, 50, &s, PS, true);
	assert_false(stats(c).degraded);
	lc_close(c);
}

/* Page files that cannot be removed (the disk went read-only) keep their
 * charge: once the disk takes writes again, new pages must not fill the cap
 * on top of them (found by review: the disk held twice the cap). */
static void test_unremovable_files_keep_their_charge(void **state)
{
	fx *f = *state;

	if (!mount_tmpfs(f, "64m"))
		skip();
	uint64_t cap = 8 * page_charge(f, PS);
	lc_options o = opts(f, cap, PS);
	lc_cache *c = open_ok(&o);
	src a = {.size = 8ull * PS, .seed = 31}, b = {.size = 8ull * PS, .seed = 32};
	lc_key ka, kb;

	lc_make_key(&ka, "A", "v");
	lc_make_key(&kb, "B", "v");
	for (uint64_t i = 0; i < 8; i++)
		get_check(c, &ka, i, &a, PS, false);
	assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
	lc_invalidate_file(c, &ka);
	assert_int_equal(stats(c).pages, 0);
	assert_true(stats(c).stuck_bytes == cap);
	assert_int_equal(atomic_load(&n_warnings), 1); /* logged once, not per file */
	assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT, "size=64m"), 0);
	for (int round = 0; round < 2; round++)
		for (uint64_t i = 0; i < 8; i++) {
			get_check(c, &kb, i, &b, PS, false); /* nothing fits beside the stuck files */
			assert_true(stats(c).used_bytes <= cap);
			assert_true(du_files(f->cache) <= cap);
		}
	lc_close(c);
}

/* A failing folder without mounting: the temp folder vanishes under the cache. */
static void test_tmp_dir_gone(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 10ull * PS, .seed = 22};
	lc_key k;
	char tmp[256];

	lc_make_key(&k, "gone", "v");
	get_check(c, &k, 0, &s, PS, false);
	snprintf(tmp, sizeof(tmp), "%s/v1/tmp", f->cache);
	assert_int_equal(rmdir(tmp), 0);
	for (uint64_t i = 1; i < 10; i++)
		get_check(c, &k, i, &s, PS, false);
	get_check(c, &k, 0, &s, PS, true);
	assert_true(stats(c).degraded);
	assert_int_equal(atomic_load(&n_errors), 1);
	lc_close(c);
	/* The next open repairs it. */
	c = open_ok(&o);
	get_check(c, &k, 5, &s, PS, false);
	get_check(c, &k, 5, &s, PS, true);
	assert_false(stats(c).degraded);
	lc_close(c);
}

static void test_invalidate(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src a = {.size = 5ull * PS, .seed = 23}, b = {.size = 5ull * PS, .seed = 24};
	lc_key ka, ka2, kb;
	lc_page p;
	char path[256];

	lc_make_key(&ka, "a", "1");
	lc_make_key(&ka2, "a", "2");
	lc_make_key(&kb, "b", "1");
	for (uint64_t i = 0; i < 5; i++) {
		get_check(c, &ka, i, &a, PS, false);
		get_check(c, &kb, i, &b, PS, false);
	}
	lc_invalidate_file(c, &ka2); /* any version of a */
	for (uint64_t i = 0; i < 5; i++) {
		assert_int_equal(lc_lookup(c, &ka, i, &p), -ENOENT);
		page_path(f, &ka, i, PS, path, sizeof(path));
		assert_int_equal(access(path, F_OK), -1);
		get_check(c, &kb, i, &b, PS, true);
	}
	lc_stats st = stats(c);
	assert_int_equal(st.pages, 5);
	assert_int_equal(st.used_bytes, 5 * page_charge(f, PS));
	assert_int_equal(du_files(f->cache), st.used_bytes);
	lc_close(c);
}

static void test_put(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 3ull * PS - 7, .seed = 25};
	uint8_t *buf = malloc(PS + 1);
	lc_key k;
	lc_page p;

	assert_non_null(buf);
	lc_make_key(&k, "put", "v");
	for (uint64_t i = 0; i < 3; i++) {
		size_t n = expect_len(&s, i, PS);
		fill(s.seed, i * PS, buf, n);
		assert_int_equal(lc_put(c, &k, i, buf, n), 0);
	}
	assert_int_equal(lc_put(c, &k, 0, buf, PS), 0);      /* already there */
	assert_int_equal(lc_put(c, &k, 9, buf, PS + 1), -EINVAL);
	assert_int_equal(lc_put(c, &k, 9, buf, 0), 0);
	assert_int_equal(lc_lookup(c, &k, 9, &p), -ENOENT);
	for (uint64_t i = 0; i < 3; i++) {
		assert_int_equal(lc_get(c, &k, i, LC_STREAM, fetch_forbidden, NULL, &p), 0);
		check_page(&p, &s, i, PS);
		assert_true(p.from_cache);
		lc_page_release(&p);
	}
	assert_int_equal(stats(c).pages, 3);
	free(buf);
	lc_close(c);
}

/* A page a reader holds stays readable after eviction, and stays charged
 * (its blocks are not free) until released. */
static void test_held_page_survives_eviction(void **state)
{
	fx *f = *state;
	uint64_t one = page_charge(f, PS);
	lc_options o = opts(f, 4 * one, PS);
	lc_cache *c = open_ok(&o);
	src s = {.size = 20ull * PS, .seed = 26};
	lc_key k;
	lc_page held;

	lc_make_key(&k, "held", "v");
	/* A miss hands over memory; a hit is the page file, which pins. */
	get_check(c, &k, 0, &s, PS, false);
	assert_int_equal(lc_get(c, &k, 0, LC_STREAM, fetch_forbidden, NULL, &held), 0);
	assert_true(held.fd >= 0);
	for (uint64_t i = 1; i < 10; i++) {
		get_check(c, &k, i, &s, PS, false);
		assert_true(stats(c).used_bytes <= 4 * one);
	}
	assert_int_equal(lc_lookup(c, &k, 0, &(lc_page){0}), -ENOENT);
	check_page(&held, &s, 0, PS);
	lc_stats st = stats(c);
	assert_int_equal(st.pages, 3);                 /* the 4th slot is held */
	assert_int_equal(st.used_bytes, 4 * one);
	lc_page_release(&held);
	assert_int_equal(stats(c).used_bytes, 3 * one);
	lc_close(c);
}

/* verify_every_read catches damage done while running. */
static void test_verify_every_read(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	o.verify_every_read = true;
	lc_cache *c = open_ok(&o);
	src s = {.size = 2ull * PS, .seed = 27};
	lc_key k;
	char path[256];
	int fd;
	uint8_t b = 0;

	lc_make_key(&k, "verify", "v");
	get_check(c, &k, 1, &s, PS, false);
	get_check(c, &k, 1, &s, PS, true);
	page_path(f, &k, 1, PS, path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, LC_HDR_SIZE + 7), 1);
	b = (uint8_t)~b;
	assert_int_equal(pwrite(fd, &b, 1, LC_HDR_SIZE + 7), 1);
	close(fd);
	get_check(c, &k, 1, &s, PS, false);
	get_check(c, &k, 1, &s, PS, true);
	assert_int_equal(stats(c).checksum_failures, 1);
	lc_close(c);
}

static void test_open_errors(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 64ull << 20, PS);
	lc_cache *c = NULL, *c2 = NULL;
	char err[256], file[128];
	int fd;

	/* A second process (or cache) on the same folder is refused. */
	c = open_ok(&o);
	assert_int_equal(lc_open(&o, &c2, err, sizeof(err)), -EBUSY);
	assert_null(c2);
	assert_non_null(strstr(err, f->cache));
	lc_close(c);

	/* A folder whose parent is a regular file. */
	snprintf(file, sizeof(file), "%s/file", f->dir);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(f->cache, sizeof(f->cache), "%s/file/cache", f->dir);
	o = opts(f, 64ull << 20, PS);
	assert_int_equal(lc_open(&o, &c, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "Not a directory"));

	o.capacity = 0;
	assert_int_equal(lc_open(&o, &c, err, sizeof(err)), -EINVAL);
	o.capacity = 1 << 20;
	o.min_free_ratio = 1.5;
	assert_int_equal(lc_open(&o, &c, err, sizeof(err)), -EINVAL);
	o.min_free_ratio = -0.1;
	assert_int_equal(lc_open(&o, &c, err, sizeof(err)), -EINVAL);
	o.min_free_ratio = 0;
	o.dir = NULL;
	assert_int_equal(lc_open(&o, &c, err, sizeof(err)), -EINVAL);
}

/* Many threads, random pages of several files, a cap a third of the working
 * set, puts and invalidations mixed in, and two versions of one file asked
 * for in turn (so its pages are dropped as stale while others hit them):
 * every read must get the bytes of the version it asked for, and the cap
 * must hold throughout. */
#define NFILES 6

struct stress {
	lc_cache *c;
	uint64_t cap;
	unsigned seed;
	atomic_bool *bad;
	src *files;
	lc_key *keys;
};

static void *stress_run(void *arg)
{
	struct stress *st = arg;
	unsigned r = st->seed;
	uint8_t *buf = malloc(PS);

	for (int n = 0; n < 1500 && !atomic_load(st->bad); n++) {
		int fi = rand_r(&r) % NFILES;
		uint64_t idx = (uint64_t)(rand_r(&r) % 16);
		src *s = &st->files[fi];
		int op = rand_r(&r) % 100;
		lc_page p;

		if (op < 2) {
			lc_invalidate_file(st->c, &st->keys[fi]);
			continue;
		}
		if (op < 10) {
			size_t len = expect_len(s, idx, PS);
			fill(s->seed, idx * PS, buf, len);
			if (len && lc_put(st->c, &st->keys[fi], idx, buf, len) < 0)
				atomic_store(st->bad, true);
			continue;
		}
		/* Both ways of storing a miss, side by side. */
		if (lc_get(st->c, &st->keys[fi], idx, idx & 1 ? LC_STREAM : 0, fetch_cb, s, &p) != 0) {
			atomic_store(st->bad, true);
			break;
		}
		size_t want = expect_len(s, idx, PS);
		if (p.len != want) {
			atomic_store(st->bad, true);
		} else {
			uint8_t *exp = malloc(want + 1);
			fill(s->seed, idx * PS, exp, want);
			if (p.mem)
				memcpy(buf, p.mem, want);
			else if (pread(p.fd, buf, want, p.fd_offset) != (ssize_t)want)
				atomic_store(st->bad, true);
			if (memcmp(buf, exp, want) != 0)
				atomic_store(st->bad, true);
			free(exp);
		}
		lc_page_release(&p);
		lc_stats s2;
		lc_get_stats(st->c, &s2);
		if (s2.used_bytes > st->cap)
			atomic_store(st->bad, true);
	}
	free(buf);
	return NULL;
}

static void test_stress(void **state)
{
	enum { T = 8 };
	fx *f = *state;
	uint64_t cap = 20 * page_charge(f, PS);
	lc_options o = opts(f, cap, PS);
	lc_cache *c = open_ok(&o);
	src files[NFILES] = {
		{.size = 16ull * PS, .seed = 31},
		{.size = 15ull * PS + 1, .seed = 32},
		{.size = 10ull * PS, .seed = 33},
		{.size = 16ull * PS - 1000, .seed = 34},
		{.size = 16ull * PS, .seed = 35}, /* "versions": version a */
		{.size = 12ull * PS + 5, .seed = 36}, /* version b: other bytes, other size */
	};
	lc_key keys[NFILES];
	atomic_bool bad = false;
	pthread_t t[T];
	struct stress st[T];

	for (int i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "stress%d", i);
		lc_make_key(&keys[i], name, "v");
	}
	lc_make_key(&keys[4], "versions", "a");
	lc_make_key(&keys[5], "versions", "b");
	for (int i = 0; i < T; i++) {
		st[i] = (struct stress){c, cap, (unsigned)i * 7919u + 1, &bad, files, keys};
		assert_int_equal(pthread_create(&t[i], NULL, stress_run, &st[i]), 0);
	}
	for (int i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	assert_false(atomic_load(&bad));
	lc_stats s = stats(c);
	assert_true(s.used_bytes <= cap);
	assert_true(s.evictions > 0);
	assert_true(s.stale_drops > 0);
	assert_int_equal(s.store_errors, 0);
	assert_int_equal(du_files(f->cache), s.used_bytes);
	lc_close(c);

	/* And what is left on disk is all good. */
	c = open_ok(&o);
	for (int fi = 0; fi < NFILES; fi++)
		for (uint64_t i = 0; i < 16; i++) {
			lc_page p;
			if (lc_lookup(c, &keys[fi], i, &p) == 0) {
				check_page(&p, &files[fi], i, PS);
				lc_page_release(&p);
			}
		}
	assert_int_equal(stats(c).checksum_failures, 0);
	lc_close(c);
}

/* kill -9 at random moments while pages are written, evicted, replaced:
 * afterwards, every page the cache serves is right. */
static void test_kill9(void **state)
{
	fx *f = *state;
	lc_options o = opts(f, 24 * page_charge(f, PS), PS);
	unsigned r = 12345;

	for (int round = 0; round < 12; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			lc_cache *c = NULL;
			char err[256];
			if (lc_open(&o, &c, err, sizeof(err)) != 0)
				_exit(2);
			for (unsigned n = 0;; n++) {
				/* Versions change too, so pages are also replaced. */
				char ver[8];
				lc_key k;
				src s = {.size = 40ull * PS, .seed = 100 + n / 50 % 3};
				lc_page p;
				snprintf(ver, sizeof(ver), "%u", s.seed);
				lc_make_key(&k, "crash", ver);
				if (lc_get(c, &k, n * 7 % 40, LC_STREAM, fetch_cb, &s, &p) == 0)
					lc_page_release(&p);
			}
		}
		usleep(20000 + rand_r(&r) % 100000);
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));

		lc_cache *c = open_ok(&o);
		assert_true(du_files(f->cache) <= o.capacity);
		for (uint32_t seed = 100; seed < 103; seed++) {
			char ver[8];
			lc_key k;
			src s = {.size = 40ull * PS, .seed = seed};
			snprintf(ver, sizeof(ver), "%u", seed);
			lc_make_key(&k, "crash", ver);
			for (uint64_t i = 0; i < 40; i++) {
				lc_page p;
				if (lc_lookup(c, &k, i, &p) == 0) {
					check_page(&p, &s, i, PS);
					lc_page_release(&p);
				}
			}
		}
		assert_int_equal(stats(c).checksum_failures, 0);
		lc_close(c);
	}
}

/* ---- write-behind (store_queue.c) ---- */

/* A cache whose write-behind queue holds `pages` page buffers. */
static lc_cache *open_write_behind(fx *f, uint64_t pages, lc_options *o)
{
	*o = opts(f, 64ull << 20, PS);
	o->write_behind = pages * PS;
	return open_ok(o);
}

/* Miss on pages 0..n-1 of k, each fetched and released in turn. */
static void miss_pages(lc_cache *c, const lc_key *k, src *s, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		get_check(c, k, i, s, PS, false);
}

/* Pages wait for the writer threads, are all written by lc_flush, and the
 * queue never holds more than write_behind bytes of buffers. */
static void test_write_behind_bounded(void **state)
{
	fx *f = *state;
	lc_options o;
	lc_cache *c = open_write_behind(f, 2, &o);
	src s = {.size = 30ull * PS, .seed = 41};
	lc_key k;

	lc_make_key(&k, "wb", "1");
	for (uint64_t i = 0; i < 30; i++) {
		get_check(c, &k, i, &s, PS, false);
		assert_true(stats(c).store_queue <= 2);
	}
	lc_flush(c);
	lc_stats st = stats(c);
	assert_int_equal(st.store_queue, 0);
	assert_true(st.deferred_stores >= 1);
	assert_int_equal(st.pages, 30);
	assert_int_equal(st.used_bytes, 30 * page_charge(f, PS));
	for (uint64_t i = 0; i < 30; i++)
		get_check(c, &k, i, &s, PS, true);
	assert_int_equal(atomic_load(&s.fetches), 30);
	lc_close(c);
}

/* Concurrent misses with write-behind: one fetch, every reader the right
 * bytes (the stored page, or a copy of the queued one), one page stored. */
static void test_write_behind_concurrent_miss(void **state)
{
	fx *f = *state;
	lc_options o;
	lc_cache *c = open_write_behind(f, 16, &o);
	src s = {.size = 10ull * PS, .seed = 42, .delay_ms = 400};
	struct racer r[RACERS];
	lc_key k;

	lc_make_key(&k, "race-wb", "v");
	run_racers(c, &s, &k, r);
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(r[i].rc, 0);
		assert_true(r[i].bytes_ok);
	}
	lc_flush(c);
	assert_int_equal(stats(c).pages, 1);
	get_check(c, &k, 3, &s, PS, true);
	lc_close(c);
}

/* lc_close writes what is still queued: the next open finds every page. */
static void test_write_behind_close_keeps_pages(void **state)
{
	fx *f = *state;
	lc_options o;
	lc_cache *c = open_write_behind(f, 64, &o);
	src s = {.size = 20ull * PS, .seed = 43};
	lc_key k;

	lc_make_key(&k, "wb-close", "1");
	miss_pages(c, &k, &s, 20);
	lc_close(c);
	c = open_ok(&o);
	assert_int_equal(stats(c).restored_pages, 20);
	for (uint64_t i = 0; i < 20; i++)
		get_check(c, &k, i, &s, PS, true);
	lc_close(c);
}

/* A file invalidated while its pages wait to be written: none is served
 * or left on disk afterwards. */
static void test_write_behind_invalidate(void **state)
{
	fx *f = *state;
	lc_options o;
	lc_cache *c = open_write_behind(f, 64, &o);
	src s = {.size = 20ull * PS, .seed = 44};
	lc_key k;
	lc_page p;

	lc_make_key(&k, "wb-inval", "1");
	miss_pages(c, &k, &s, 20);
	lc_invalidate_file(c, &k);
	lc_flush(c);
	for (uint64_t i = 0; i < 20; i++)
		assert_int_equal(lc_lookup(c, &k, i, &p), -ENOENT);
	lc_stats st = stats(c);
	assert_int_equal(st.pages, 0);
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(du_files(f->cache), 0);
	lc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_key),
		cmocka_unit_test(test_page_name_roundtrip),
		cmocka_unit_test_setup_teardown(test_sizes_hit_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_page_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unopenable_page_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unremovable_files_keep_their_charge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_error_passed_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_lru_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hit_refreshes_atime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_flip_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_flip_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_truncate_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_grown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junk_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_miss_one_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_miss_unstored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_miss_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_blocks_storing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_on_tmpfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_dir_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalidate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_page_survives_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_every_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_behind_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_behind_concurrent_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_behind_close_keeps_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_behind_invalidate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
