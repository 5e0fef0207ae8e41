/*
 * Fuzz the page-file checks of localcache: whatever bytes a page file holds
 * after a crash or a bad disk, verifying it must not crash, must not read out
 * of bounds, and must accept it only if it is exactly a page we could have
 * written for that key.
 *
 * Input: byte 0 picks a mode.
 *   even: the rest is a raw page file (header and data as found on disk)
 *   odd:  the rest is data; a valid page is built from it, then damaged at
 *         the positions named by its first bytes, and must then be refused
 *         (unless the damage cancelled out)
 * Page names are fuzzed too (pf_parse_name on the input as a string).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "lc_internal.h"

#define FUZZ_PS 4096u

static const lc_pkey PK = {0x0123456789abcdefull, 0xfedcba9876543210ull, 7};
static const uint64_t VERSION = 42;

static int memfile(const void *data, size_t len)
{
	int fd = memfd_create("page", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (len && pwrite(fd, data, len, 0) != (ssize_t)len)
		abort();
	return fd;
}

static void check_raw(const uint8_t *d, size_t n)
{
	lc_header h;
	uint64_t found = 0;
	int fd;

	if (n >= LC_HDR_SIZE)
		(void)pf_decode_header(d, &h);
	if (n <= LC_HDR_SIZE || n > LC_HDR_SIZE + FUZZ_PS)
		return; /* the start-up scan drops such sizes without reading */
	fd = memfile(d, n);
	enum pf_verdict v = pf_verify(fd, &PK, FUZZ_PS, (uint32_t)(n - LC_HDR_SIZE), &VERSION, &found);
	if (v == PF_OK || v == PF_STALE) {
		/* Accepted as intact: it must be a well-formed page of this key. */
		if (pf_decode_header(d, &h) != 0 || h.index != PK.index ||
		    h.file_hi != PK.file_hi || h.file_lo != PK.file_lo ||
		    h.data_len != n - LC_HDR_SIZE || h.page_size != FUZZ_PS ||
		    XXH3_64bits(d + LC_HDR_SIZE, h.data_len) != h.data_sum ||
		    found != h.version || (v == PF_OK) != (h.version == VERSION))
			abort();
	}
	close(fd);
}

static void check_damaged(const uint8_t *d, size_t n)
{
	size_t len = n > FUZZ_PS ? FUZZ_PS : n;
	lc_header h = {
		.page_size = FUZZ_PS, .data_len = (uint32_t)len,
		.file_hi = PK.file_hi, .file_lo = PK.file_lo,
		.version = VERSION, .index = PK.index,
		.data_sum = XXH3_64bits(d, len),
	};
	size_t total = LC_HDR_SIZE + len;
	uint8_t *page, *orig;
	int fd;

	if (len == 0)
		return;
	page = malloc(total);
	orig = malloc(total);
	if (!page || !orig)
		abort();
	pf_encode_header(&h, page);
	memcpy(page + LC_HDR_SIZE, d, len);
	memcpy(orig, page, total);

	/* Intact, it must pass. */
	fd = memfile(page, total);
	if (pf_verify(fd, &PK, FUZZ_PS, (uint32_t)len, &VERSION, NULL) != PF_OK)
		abort();
	close(fd);

	/* Up to 4 flips, at positions and with masks taken from the data. */
	for (size_t i = 0; i + 3 <= len && i < 12; i += 3) {
		size_t at = ((size_t)d[i] << 8 | d[i + 1]) % total;
		page[at] ^= d[i + 2];
	}
	fd = memfile(page, total);
	enum pf_verdict v = pf_verify(fd, &PK, FUZZ_PS, (uint32_t)len, &VERSION, NULL);
	if (v == PF_OK && memcmp(page, orig, total) != 0)
		abort(); /* damage went unnoticed */
	close(fd);
	free(page);
	free(orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[80];
	lc_pkey pk;

	if (size == 0)
		return 0;
	if (data[0] & 1)
		check_damaged(data + 1, size - 1);
	else
		check_raw(data + 1, size - 1);

	size_t n = size - 1 < sizeof(name) - 1 ? size - 1 : sizeof(name) - 1;
	memcpy(name, data + 1, n);
	name[n] = '\0';
	if (pf_parse_name(name, data[0], &pk) == 0) {
		/* Accepted names are exactly the ones we write. */
		char back[LC_NAME_MAX];
		pf_page_name(&pk, back);
		if (strcmp(back + 3, name) != 0)
			abort();
	}
	return 0;
}
