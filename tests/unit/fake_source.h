/*
 * A fake remote source for unit tests of the layers above a UFS: one file
 * of `size` bytes whose byte i is byte_at(i), with counters, an optional
 * delay per read, and failures on demand. Header-only: each unit test is
 * its own program.
 */
#ifndef DORAFS_TEST_FAKE_SOURCE_H
#define DORAFS_TEST_FAKE_SOURCE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "source.h"

typedef struct fake {
	dfs_source base;
	uint8_t *data;
	size_t size;
	atomic_int reads, inflight, max_inflight;
	atomic_ullong bytes;
	int delay_us;
	int fail;                 /* -errno for every read, 0: none */
	uint64_t fail_from;       /* reads reaching this offset fail with EIO */
} fake;

static uint8_t byte_at(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static int f_stat(dfs_source *s, const char *path, dfs_attr *out)
{
	fake *f = (fake *)s;

	(void)path;
	memset(out, 0, sizeof(*out));
	out->mode = S_IFREG | 0444;
	out->size = f->size;
	strcpy(out->version, "v1");
	return 0;
}

static int f_open(dfs_source *s, const char *path, const dfs_attr *attr, dfs_handle **out)
{
	dfs_handle *h = calloc(1, sizeof(*h));

	(void)attr;
	if (!h)
		return -ENOMEM;
	h->src = s;
	h->path = strdup(path);
	if (!h->path) {
		free(h);
		return -ENOMEM;
	}
	f_stat(s, path, &h->attr);
	*out = h;
	return 0;
}

static ssize_t f_pread(dfs_handle *h, void *buf, size_t len, uint64_t off)
{
	fake *f = (fake *)h->src;
	int now = atomic_fetch_add(&f->inflight, 1) + 1, max = atomic_load(&f->max_inflight);

	while (now > max && !atomic_compare_exchange_weak(&f->max_inflight, &max, now))
		;
	atomic_fetch_add(&f->reads, 1);
	if (f->delay_us)
		usleep((useconds_t)f->delay_us);
	atomic_fetch_sub(&f->inflight, 1);
	if (f->fail)
		return f->fail;
	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = (size_t)(f->size - off);
	if (off + len > f->fail_from)
		return -EIO;
	memcpy(buf, f->data + off, len);
	atomic_fetch_add(&f->bytes, len);
	return (ssize_t)len;
}

static void f_close(dfs_handle *h)
{
	free(h->path);
	free(h);
}

static void f_destroy(dfs_source *s)
{
	fake *f = (fake *)s;

	free(f->data);
	free(f);
}

static const dfs_source_ops fake_ops = {
	.name = "fake", .stat = f_stat, .open = f_open, .pread = f_pread, .close = f_close, .destroy = f_destroy,
};

static fake *fake_new(size_t size)
{
	fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base.ops = &fake_ops;
	f->size = size;
	f->fail_from = UINT64_MAX;
	f->data = malloc(size ? size : 1);
	assert_non_null(f->data);
	for (size_t i = 0; i < size; i++)
		f->data[i] = byte_at(i);
	return f;
}

/* Fail the test unless buf holds the file's bytes [off, off + len). */
static void check_range(const uint8_t *buf, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != byte_at(off + i))
			fail_msg("byte %zu of read at %zu differs", i, off);
}

#endif
