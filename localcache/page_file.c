/*
 * page_file.c: the on-disk format of one page.
 *
 * A page file is a 64-byte header followed by the data:
 *
 *   off size field
 *     0    4 magic      0x50434c44 ("DLCP")
 *     4    2 format     1
 *     6    2 hdr_size   64
 *     8    4 page_size  page size of the cache that wrote it
 *    12    4 data_len   bytes of data after the header (<= page_size, > 0)
 *    16    8 file_hi    lc_key.file_hi
 *    24    8 file_lo    lc_key.file_lo
 *    32    8 version    lc_key.version
 *    40    8 index      page index in the file
 *    48    8 data_sum   xxh3-64 of the data
 *    56    8 hdr_sum    xxh3-64 of bytes 0..55
 *
 * All integers little-endian. The file is exactly 64 + data_len bytes long.
 *
 * It lives at <dir>/v1/<page_size>/<hh>/<32 hex of file_hi,file_lo>-<index>,
 * hh being the first two hex digits. One flat folder per hash prefix (rather
 * than one per file) means no folder is ever created or removed per file, so
 * publishing and dropping a page never race with a folder's removal, and the
 * hit path resolves two names only. The version is not in the name: storing a
 * new version renames over the old one, and a version mismatch found in the
 * header drops the page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "lc_internal.h"

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void pf_encode_header(const lc_header *h, unsigned char out[LC_HDR_SIZE])
{
	put32(out + 0, LC_MAGIC);
	put16(out + 4, LC_FORMAT);
	put16(out + 6, LC_HDR_SIZE);
	put32(out + 8, h->page_size);
	put32(out + 12, h->data_len);
	put64(out + 16, h->file_hi);
	put64(out + 24, h->file_lo);
	put64(out + 32, h->version);
	put64(out + 40, h->index);
	put64(out + 48, h->data_sum);
	put64(out + 56, XXH3_64bits(out, 56));
}

int pf_decode_header(const unsigned char buf[LC_HDR_SIZE], lc_header *h)
{
	if (get32(buf) != LC_MAGIC || get16(buf + 4) != LC_FORMAT ||
	    get16(buf + 6) != LC_HDR_SIZE)
		return -1;
	/* The header checksum catches torn or garbage headers after a power
	 * loss, which would otherwise name the wrong length or key. */
	if (get64(buf + 56) != XXH3_64bits(buf, 56))
		return -1;
	h->page_size = get32(buf + 8);
	h->data_len = get32(buf + 12);
	h->file_hi = get64(buf + 16);
	h->file_lo = get64(buf + 24);
	h->version = get64(buf + 32);
	h->index = get64(buf + 40);
	h->data_sum = get64(buf + 48);
	return 0;
}

static const char hexdig[] = "0123456789abcdef";

static char *put_hex64(char *p, uint64_t v)
{
	for (int i = 15; i >= 0; i--)
		*p++ = hexdig[(v >> (4 * i)) & 0xf];
	return p;
}

void pf_fanout_name(uint64_t file_hi, char out[3])
{
	out[0] = hexdig[(file_hi >> 60) & 0xf];
	out[1] = hexdig[(file_hi >> 56) & 0xf];
	out[2] = '\0';
}

void pf_page_name(const lc_pkey *pk, char out[LC_NAME_MAX])
{
	/* Hand-rolled rather than snprintf: this runs on every hit. */
	char digits[20];
	int n = 0;
	uint64_t idx = pk->index;
	char *p = out;

	pf_fanout_name(pk->file_hi, p);
	p += 2;
	*p++ = '/';
	p = put_hex64(p, pk->file_hi);
	p = put_hex64(p, pk->file_lo);
	*p++ = '-';
	do {
		digits[n++] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx);
	while (n)
		*p++ = digits[--n];
	*p = '\0';
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int pf_parse_name(const char *name, unsigned fan, lc_pkey *pk)
{
	uint64_t words[2] = {0, 0};
	uint64_t idx = 0;
	const char *p = name;

	/* Strict: only names this module writes are accepted, so every other
	 * file is recognised as junk and removed. */
	for (int i = 0; i < 32; i++, p++) {
		int v = hexval(*p);
		if (v < 0)
			return -1;
		words[i / 16] = (words[i / 16] << 4) | (uint64_t)v;
	}
	if ((words[0] >> 56) != fan || *p++ != '-')
		return -1;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned d = (unsigned)(*p - '0');
		if (idx > (UINT64_MAX - d) / 10)
			return -1;
		idx = idx * 10 + d;
	}
	pk->file_hi = words[0];
	pk->file_lo = words[1];
	pk->index = idx;
	return 0;
}

/*
 * Largest piece written with one pwritev. One call per page (1 MiB and the
 * header) cost ext4 on 6.18 in a VM 1.4 to 2 times the CPU of 32 KiB to
 * 512 KiB pieces (perf: the copy into the page cache, while it allocates
 * large folios), and took a cold read from S3 from ~390 to ~300 MiB/s.
 */
#define PF_WRITE_PIECE (256u << 10)

static int write_buffered(int fd, const unsigned char *hdr, const void *data, size_t total)
{
	size_t done = 0;

	while (done < total) {
		struct iovec iov[2];
		size_t piece = total - done < PF_WRITE_PIECE ? total - done : PF_WRITE_PIECE;
		int n = 0;
		if (done < LC_HDR_SIZE) {
			iov[n].iov_base = (void *)(hdr + done);
			iov[n++].iov_len = LC_HDR_SIZE - done;
			iov[n].iov_base = (void *)data;
			iov[n++].iov_len = piece - (LC_HDR_SIZE - done);
		} else {
			iov[n].iov_base = (char *)data + (done - LC_HDR_SIZE);
			iov[n++].iov_len = piece;
		}
		ssize_t w = pwritev(fd, iov, n, (off_t)done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO; /* cannot happen for a regular file; do not spin */
		done += (size_t)w;
	}
	return 0;
}

/* Write base[done, end) at the same offsets; each write must move a
 * multiple of unit bytes (a short O_DIRECT write ends on a block; any other
 * is not resumable with the alignment O_DIRECT needs). */
static int pwrite_range(int fd, const unsigned char *base, size_t done, size_t end, size_t unit)
{
	while (done < end) {
		ssize_t w = pwrite(fd, base + done, end - done, (off_t)done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0 || (size_t)w % unit)
			return -EIO;
		done += (size_t)w;
	}
	return 0;
}

/*
 * The blocks holding header and data with one O_DIRECT write, then the tail
 * (under one block) buffered. Why O_DIRECT: a buffered write copies every
 * byte into the kernel's page cache (a quarter of the daemon's CPU on a cold
 * read from S3, measured) and then keeps a second copy of what the reader
 * already has in the FUSE file's own page cache; the device reads the buffer
 * itself instead. Why the tail apart: padding it to a block and truncating
 * the file back would make the file system read that block to zero its end.
 */
static int write_direct(int fd, const unsigned char *base, size_t total)
{
	size_t head = total / LC_DIO_ALIGN * LC_DIO_ALIGN;
	int fl, rc = pwrite_range(fd, base, 0, head, LC_DIO_ALIGN);

	if (rc || head == total)
		return rc;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return -errno;
	return pwrite_range(fd, base, head, total, 1);
}

int pf_write_temp(int tmpfd, const char *name, const lc_header *h,
		  void *data, bool *direct, int *fdp)
{
	unsigned char hdr[LC_HDR_SIZE];
	lc_header hh = *h;
	size_t total = LC_HDR_SIZE + (size_t)h->data_len;
	int fd, rc;

	hh.data_sum = XXH3_64bits(data, h->data_len);
	pf_encode_header(&hh, hdr);

	if (*direct) {
		unsigned char *base = (unsigned char *)data - LC_HDR_SIZE;

		memcpy(base, hdr, LC_HDR_SIZE);
		fd = openat(tmpfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, 0644);
		rc = fd < 0 ? -errno : write_direct(fd, base, total);
		if (rc == 0) {
			*fdp = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		/* Also when the open failed: a file system without O_DIRECT
		 * (ramfs) creates the file, then refuses the open with EINVAL.
		 * The name is ours alone, so removing it is safe either way. */
		if (fd >= 0 || rc == -EINVAL)
			unlinkat(tmpfd, name, 0);
		if (rc != -EINVAL)
			return rc;
		*direct = false; /* the file system does not take it: write buffered */
	}

	fd = openat(tmpfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = write_buffered(fd, hdr, data, total);
	if (rc) {
		close(fd);
		unlinkat(tmpfd, name, 0);
		return rc;
	}
	*fdp = fd;
	return 0;
}

enum pf_verdict pf_verify(int fd, const lc_pkey *pk, uint32_t page_size,
			  uint32_t len, const uint64_t *version,
			  uint64_t *found_version)
{
	/* One byte more than expected, to notice a file that grew. */
	size_t want = LC_HDR_SIZE + (size_t)len + 1;
	size_t got = 0;
	enum pf_verdict v = PF_CORRUPT;
	unsigned char *buf = malloc(want);
	lc_header h;

	if (!buf)
		return PF_IOERR;
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			v = PF_IOERR;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != want - 1)
		goto out;
	if (pf_decode_header(buf, &h) != 0)
		goto out;
	if (h.page_size != page_size || h.data_len != len || h.index != pk->index ||
	    h.file_hi != pk->file_hi || h.file_lo != pk->file_lo)
		goto out;
	if (XXH3_64bits(buf + LC_HDR_SIZE, len) != h.data_sum)
		goto out;
	if (found_version)
		*found_version = h.version;
	v = (version && *version != h.version) ? PF_STALE : PF_OK;
out:
	free(buf);
	return v;
}
