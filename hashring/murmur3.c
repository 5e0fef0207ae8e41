/*
 * MurmurHash3 x86_32 (Austin Appleby's public-domain algorithm), written for
 * dorafs in an incremental form.
 *
 * Bit-compatibility notes (checked against Guava's Murmur3_32HashFunction,
 * which Alluxio uses through Hashing.murmur3_32_fixed()):
 *  - blocks and the tail are read little-endian, independent of host order;
 *  - the length mixed into the finaliser is the byte count truncated to 32
 *    bits (Guava keeps it in an int);
 *  - Guava's HashCode.asInt() is the final h1 reinterpreted as signed.
 */
#include "hr_internal.h"

#include <string.h>

#define MM3_C1 0xcc9e2d51u
#define MM3_C2 0x1b873593u

static inline uint32_t rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32u - r));
}

static inline uint32_t mix_k1(uint32_t k1)
{
    k1 *= MM3_C1;
    k1 = rotl32(k1, 15);
    k1 *= MM3_C2;
    return k1;
}

static inline uint32_t mix_h1(uint32_t h1, uint32_t k1)
{
    h1 ^= mix_k1(k1);
    h1 = rotl32(h1, 13);
    h1 = h1 * 5u + 0xe6546b64u;
    return h1;
}

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

void hr_mm3_init(hr_mm3 *s, uint32_t seed)
{
    s->h1 = seed;
    s->carry = 0;
    s->ncarry = 0;
    s->total = 0;
}

void hr_mm3_update(hr_mm3 *s, const void *data, size_t len)
{
    const uint8_t *p = data;

    s->total += (uint32_t)len; /* wraps like Java's int length */

    /* Complete a pending partial block first. */
    while (s->ncarry != 0 && len > 0) {
        s->carry |= (uint32_t)*p++ << (8u * s->ncarry);
        len--;
        if (++s->ncarry == 4) {
            s->h1 = mix_h1(s->h1, s->carry);
            s->carry = 0;
            s->ncarry = 0;
        }
    }
    /* Whole blocks straight from the input. */
    while (len >= 4) {
        s->h1 = mix_h1(s->h1, load_le32(p));
        p += 4;
        len -= 4;
    }
    /* Keep the remainder for the next update or the tail. */
    while (len > 0) {
        s->carry |= (uint32_t)*p++ << (8u * s->ncarry);
        s->ncarry++;
        len--;
    }
}

void hr_mm3_update_le32(hr_mm3 *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    hr_mm3_update(s, b, sizeof b);
}

size_t hr_fmt_dec(char *buf, int64_t v)
{
    char tmp[24];
    size_t n = 0, len = 0;
    /* Work on the magnitude as unsigned so INT64_MIN does not overflow. */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + (m % 10u));
        m /= 10u;
    } while (m != 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    return len;
}

void hr_mm3_update_dec(hr_mm3 *s, int64_t v)
{
    char buf[24];
    size_t n = hr_fmt_dec(buf, v);
    hr_mm3_update(s, buf, n);
}

int32_t hr_mm3_final(const hr_mm3 *s)
{
    uint32_t h1 = s->h1;

    if (s->ncarry != 0)
        h1 ^= mix_k1(s->carry); /* tail: no rotate/multiply-add step */
    h1 ^= s->total;
    /* fmix32 */
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6bu;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35u;
    h1 ^= h1 >> 16;
    /* Two's-complement reinterpretation, well-defined via memcpy. */
    int32_t out;
    memcpy(&out, &h1, sizeof out);
    return out;
}

int32_t hr_murmur3_32(const void *data, size_t len, uint32_t seed)
{
    hr_mm3 s;
    hr_mm3_init(&s, seed);
    hr_mm3_update(&s, data, len);
    return hr_mm3_final(&s);
}
