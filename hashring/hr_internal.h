/*
 * hashring internals: the hash primitives and the few ring functions the
 * module's own files share.
 *
 * None of this is public API (that is hashring.h).  It is declared here so
 * that the unit tests can check the primitives against published test
 * vectors, and so that the ring code can use the incremental MurmurHash3.
 */
#ifndef DORAFS_HASHRING_HR_INTERNAL_H
#define DORAFS_HASHRING_HR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashring.h"

/*
 * MurmurHash3 x86_32, incremental.
 *
 * Alluxio hashes with Guava's Hashing.murmur3_32_fixed(), a streaming hasher:
 * the bytes of several putXxx() calls are concatenated and hashed as one
 * message.  Hashing "prefix" once and then finishing it with different
 * suffixes (the attempt number, a virtual-node index, ...) is exactly what the
 * ring code needs, so the state can be copied by value and continued.
 */
typedef struct {
    uint32_t h1;       /* running hash over the full 4-byte blocks seen so far */
    uint32_t carry;    /* up to 3 pending bytes, little-endian packed */
    uint32_t ncarry;   /* number of pending bytes (0..3) */
    uint32_t total;    /* total length mod 2^32, as MurmurHash3 mixes it in */
} hr_mm3;

void hr_mm3_init(hr_mm3 *s, uint32_t seed);
void hr_mm3_update(hr_mm3 *s, const void *data, size_t len);
/* Appends a 32-bit int little-endian, like Guava's Hasher.putInt(). */
void hr_mm3_update_le32(hr_mm3 *s, uint32_t v);
/* Appends the decimal ASCII form of v, like Java's String.format("%d", v). */
void hr_mm3_update_dec(hr_mm3 *s, int64_t v);
/* Returns the hash read as a signed int, like Guava's HashCode.asInt(). */
int32_t hr_mm3_final(const hr_mm3 *s);

/* One-shot convenience. */
int32_t hr_murmur3_32(const void *data, size_t len, uint32_t seed);

/* MD5 (RFC 1321), used only for name-based (version 3) UUIDs. */
typedef struct {
    uint32_t state[4];
    uint64_t nbytes;
    uint8_t buf[64];
    size_t nbuf;
} hr_md5_ctx;

void hr_md5_init(hr_md5_ctx *c);
void hr_md5_update(hr_md5_ctx *c, const void *data, size_t len);
void hr_md5_final(hr_md5_ctx *c, uint8_t digest[16]);
void hr_md5(const void *data, size_t len, uint8_t digest[16]);

/* Writes the decimal form of v into buf (>= 21 bytes), returns its length. */
size_t hr_fmt_dec(char *buf, int64_t v);

/* Ring internals shared with holder.c. */
/* Takes one more reference (the holder does this under its read lock). */
void hr_ring_ref_internal(const hr_ring *r);
/* Whether r was built with this policy and these (resolved) options. */
bool hr_ring_same_config_internal(const hr_ring *r, hr_policy policy, const hr_options *opts);
/* hr_ring_select with either indices (out_idx) or worker copies (out_w) out;
 * exactly one of them is non-NULL when n > 0. */
int hr_ring_select_internal(const hr_ring *r, const char *key, size_t keylen, size_t n,
                            uint32_t *out_idx, hr_worker *out_w);
/* For tests: the sorted ring points (NULL/0 for JUMP) and slot -> index. */
size_t hr_ring_points_internal(const hr_ring *r, const int32_t **hash, const uint32_t **slot);
uint32_t hr_ring_slot_index_internal(const hr_ring *r, uint32_t slot);

#endif
