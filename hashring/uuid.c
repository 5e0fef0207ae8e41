/*
 * UUID helpers and worker-identity constructors.
 *
 * Static membership (StaticMembershipManager) names each worker by
 * WorkerIdentity.ParserV1.fromUUID(UUID.nameUUIDFromBytes(hostname)), so a
 * client that reads a static worker list must derive the same 16 bytes.
 */
#include "hashring.h"
#include "hr_internal.h"

#include <errno.h>
#include <string.h>

void hr_uuid_name_based(const void *bytes, size_t len, uint8_t out[16])
{
    /* Java: md5 of the raw bytes (no namespace prefix), then stamp
     * version 3 into the high nibble of byte 6 and the IETF variant (10xx)
     * into the top bits of byte 8. */
    hr_md5(bytes, len, out);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x30);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hr_uuid_parse(const char *s, size_t len, uint8_t out[16])
{
    uint8_t tmp[16];
    size_t nib = 0;

    if (s == NULL || out == NULL || (len != 36 && len != 32)) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        /* Dashes only where the canonical 8-4-4-4-12 form has them. */
        if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i] != '-') {
                errno = EINVAL;
                return -1;
            }
            continue;
        }
        int v = hexval(s[i]);
        if (v < 0) {
            errno = EINVAL;
            return -1;
        }
        if (nib % 2 == 0)
            tmp[nib / 2] = (uint8_t)(v << 4);
        else
            tmp[nib / 2] |= (uint8_t)v;
        nib++;
    }
    /* Write the output only on success so callers never see half a UUID. */
    memcpy(out, tmp, sizeof tmp);
    return 0;
}

static const char HEX[] = "0123456789abcdef";

void hr_uuid_format(const uint8_t uuid[16], char out[37])
{
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = HEX[uuid[i] >> 4];
        out[o++] = HEX[uuid[i] & 0x0f];
    }
    out[o] = '\0';
}

void hr_uuid_format_hex(const uint8_t uuid[16], char out[33])
{
    for (int i = 0; i < 16; i++) {
        out[2 * i] = HEX[uuid[i] >> 4];
        out[2 * i + 1] = HEX[uuid[i] & 0x0f];
    }
    out[32] = '\0';
}

void hr_worker_from_uuid(hr_worker *w, const uint8_t uuid[16])
{
    memset(w, 0, sizeof *w);
    memcpy(w->id, uuid, 16);
    w->id_len = 16;
    w->version = 1;
}

void hr_worker_from_legacy_id(hr_worker *w, int64_t worker_id)
{
    /* Guava Longs.toByteArray(): big-endian. */
    uint64_t v = (uint64_t)worker_id;
    memset(w, 0, sizeof *w);
    for (int i = 0; i < 8; i++)
        w->id[i] = (uint8_t)(v >> (56 - 8 * i));
    w->id_len = 8;
    w->version = 0;
}

bool hr_worker_same_identity(const hr_worker *a, const hr_worker *b)
{
    return a->version == b->version && a->id_len == b->id_len &&
           memcmp(a->id, b->id, a->id_len) == 0;
}
