/*
 * MD5 message digest (RFC 1321), written for dorafs.
 *
 * Why a private MD5: static membership derives worker identities with Java's
 * UUID.nameUUIDFromBytes(), which is MD5-based, and the hashring module must
 * not depend on anything beyond libc.  MD5 is used here only as Java uses it
 * (an identifier derivation), never for security.
 */
#include "hr_internal.h"

#include <string.h>

/* T[i] = floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4. */
static const uint32_t K[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu,
    0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu,
    0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau,
    0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu,
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu,
    0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u,
    0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u,
    0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u,
    0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u,
};

/* Per-round left-rotation amounts, four per round. */
static const uint8_t S[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static inline uint32_t rotl32(uint32_t x, unsigned r)
{
    return (x << r) | (x >> (32u - r));
}

static void md5_block(uint32_t st[4], const uint8_t blk[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)blk[4 * i] | ((uint32_t)blk[4 * i + 1] << 8) |
               ((uint32_t)blk[4 * i + 2] << 16) | ((uint32_t)blk[4 * i + 3] << 24);

    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        int round = i / 16;
        switch (round) {
        case 0: /* F(b,c,d) = (b & c) | (~b & d) */
            f = (b & c) | (~b & d);
            g = i;
            break;
        case 1: /* G(b,c,d) = (b & d) | (c & ~d) */
            f = (b & d) | (c & ~d);
            g = (5 * i + 1) % 16;
            break;
        case 2: /* H(b,c,d) = b ^ c ^ d */
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
            break;
        default: /* I(b,c,d) = c ^ (b | ~d) */
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
            break;
        }
        uint32_t tmp = d;
        d = c;
        c = b;
        b = b + rotl32(a + f + K[i] + x[g], S[round][i % 4]);
        a = tmp;
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

void hr_md5_init(hr_md5_ctx *c)
{
    c->state[0] = 0x67452301u;
    c->state[1] = 0xefcdab89u;
    c->state[2] = 0x98badcfeu;
    c->state[3] = 0x10325476u;
    c->nbytes = 0;
    c->nbuf = 0;
}

void hr_md5_update(hr_md5_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    c->nbytes += len;
    if (c->nbuf > 0) {
        size_t take = 64 - c->nbuf;
        if (take > len)
            take = len;
        memcpy(c->buf + c->nbuf, p, take);
        c->nbuf += take;
        p += take;
        len -= take;
        if (c->nbuf < 64)
            return;
        md5_block(c->state, c->buf);
        c->nbuf = 0;
    }
    while (len >= 64) {
        md5_block(c->state, p);
        p += 64;
        len -= 64;
    }
    if (len > 0) {
        memcpy(c->buf, p, len);
        c->nbuf = len;
    }
}

void hr_md5_final(hr_md5_ctx *c, uint8_t digest[16])
{
    /* Length in bits, taken before padding is appended. */
    uint64_t bits = c->nbytes * 8u;
    static const uint8_t pad[64] = {0x80};
    size_t padlen = (c->nbuf < 56) ? 56 - c->nbuf : 120 - c->nbuf;
    uint8_t lenle[8];

    for (int i = 0; i < 8; i++)
        lenle[i] = (uint8_t)(bits >> (8 * i));
    hr_md5_update(c, pad, padlen);
    hr_md5_update(c, lenle, sizeof lenle);
    for (int i = 0; i < 4; i++) {
        digest[4 * i] = (uint8_t)c->state[i];
        digest[4 * i + 1] = (uint8_t)(c->state[i] >> 8);
        digest[4 * i + 2] = (uint8_t)(c->state[i] >> 16);
        digest[4 * i + 3] = (uint8_t)(c->state[i] >> 24);
    }
    memset(c, 0, sizeof *c);
}

void hr_md5(const void *data, size_t len, uint8_t digest[16])
{
    hr_md5_ctx c;
    hr_md5_init(&c);
    hr_md5_update(&c, data, len);
    hr_md5_final(&c, digest);
}
