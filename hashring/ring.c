/*
 * Worker rings for Alluxio's worker-location policies.
 *
 * Each policy below restates the Java provider it mirrors (package
 * alluxio.client.file.dora, Alluxio 3.x "Dora"); the comments point out the
 * Java details that decide bit-exactness.  All hashing is Guava's
 * murmur3_32_fixed (MurmurHash3 x86_32, seed 0) read as a signed int.
 *
 * Common to all providers: getMultiple(key, count) tries attempt = 1, 2, ...
 * (starting at 1, not 0) up to maxAttempts = 100, and appends each attempt's
 * worker to a LinkedHashSet until `count` distinct workers were collected.
 */
#include "hashring.h"
#include "hr_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refuse configurations whose ring would not fit any sane memory budget. */
#define HR_MAX_POINTS ((size_t)1 << 28)
#define HR_MAX_PROBES 65536
#define HR_MAX_ATTEMPTS 1000000

/* Rings with at most this many workers dedup with an on-stack bitmap. */
#define HR_BITMAP_SLOTS 4096

/* MultiProbeHashProvider.SEED = 0xDEADBEEF, formatted with %d. */
#define MULTI_PROBE_SEED ((int32_t)-559038737)

struct hr_ring {
    atomic_size_t refs;
    hr_policy policy;
    hr_options opts; /* resolved: no zero fields */

    size_t n_in;   /* entries given to hr_ring_build */
    hr_worker *in; /* copy of them */

    size_t nslots;         /* distinct identities */
    uint32_t *slot_index;  /* slot -> input index reported to callers */
    uint32_t *by_identity; /* slots sorted by identity, for set comparison */

    size_t npoints;    /* CONSISTENT, KETAMA, MULTI_PROBE */
    int32_t *pt_hash;  /* ascending, signed (Java Integer order) */
    uint32_t *pt_slot; /* owner slot of each point */
};

/* ------------------------------------------------------------------ */
/* Options and identities                                              */
/* ------------------------------------------------------------------ */

static int resolve_one(int v, int dflt, int max, int *out)
{
    if (v < 0 || v > max)
        return -1;
    *out = v == 0 ? dflt : v;
    return 0;
}

static int resolve_opts(const hr_options *in, hr_options *out)
{
    hr_options z = {0};
    if (in == NULL)
        in = &z;
    *out = *in;
    if (resolve_one(in->virtual_nodes, HR_DEFAULT_VIRTUAL_NODES, INT_MAX, &out->virtual_nodes) ||
        resolve_one(in->ketama_replicas, HR_DEFAULT_KETAMA_REPLICAS, INT_MAX,
                    &out->ketama_replicas) ||
        resolve_one(in->probes, HR_DEFAULT_PROBES, HR_MAX_PROBES, &out->probes) ||
        resolve_one(in->max_attempts, HR_DEFAULT_MAX_ATTEMPTS, HR_MAX_ATTEMPTS,
                    &out->max_attempts))
        return -1;
    return 0;
}

static int identity_cmp(const hr_worker *a, const hr_worker *b)
{
    if (a->version != b->version)
        return a->version < b->version ? -1 : 1;
    if (a->id_len != b->id_len)
        return a->id_len < b->id_len ? -1 : 1;
    return memcmp(a->id, b->id, a->id_len);
}

/* Sorting entries for dedup: identity first, then input position. */
typedef struct {
    const hr_worker *w;
    uint32_t idx;
} ident_ref;

static int ident_ref_cmp(const void *pa, const void *pb)
{
    const ident_ref *a = pa, *b = pb;
    int c = identity_cmp(a->w, b->w);
    if (c != 0)
        return c;
    return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

static int check_workers(const hr_worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].id_len == 0 || w[i].id_len > HR_ID_MAX)
            return -1;
    return 0;
}

/* Hash state after WorkerIdentity.HashFunnel: putBytes(id).putInt(version). */
static void funnel_identity(hr_mm3 *s, const hr_worker *w)
{
    hr_mm3_init(s, 0);
    hr_mm3_update(s, w->id, w->id_len);
    hr_mm3_update_le32(s, (uint32_t)w->version);
}

/* ------------------------------------------------------------------ */
/* Build                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    int32_t hash;
    uint32_t slot;
} point;

static int point_cmp(const void *pa, const void *pb)
{
    const point *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->slot < b->slot ? -1 : (a->slot > b->slot);
}

static void ring_destroy(hr_ring *r)
{
    if (r == NULL)
        return;
    if (r->opts.user_free != NULL)
        for (size_t i = 0; i < r->n_in; i++)
            if (r->in[i].user != NULL)
                r->opts.user_free(r->in[i].user);
    free(r->in);
    free(r->slot_index);
    free(r->by_identity);
    free(r->pt_hash);
    free(r->pt_slot);
    free(r);
}

/*
 * Collapses duplicate identities.  Java's WorkerClusterView builds an
 * ImmutableMap with merge (first, second) -> second: a key keeps the position
 * of its first occurrence and the value of its last one.
 */
static int build_slots(hr_ring *r)
{
    size_t n = r->n_in;
    ident_ref *refs = NULL;
    uint32_t *last_of = NULL, *slot_of = NULL;
    int rc = -1;

    if (n == 0)
        return 0;
    refs = malloc(n * sizeof *refs);
    last_of = malloc(n * sizeof *last_of);
    slot_of = malloc(n * sizeof *slot_of);
    r->slot_index = malloc(n * sizeof *r->slot_index);
    r->by_identity = malloc(n * sizeof *r->by_identity);
    if (!refs || !last_of || !slot_of || !r->slot_index || !r->by_identity) {
        errno = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].w = &r->in[i];
        refs[i].idx = (uint32_t)i;
        last_of[i] = UINT32_MAX; /* "not the first occurrence of a group" */
    }
    qsort(refs, n, sizeof *refs, ident_ref_cmp);
    for (size_t g = 0; g < n;) {
        size_t e = g + 1;
        while (e < n && identity_cmp(refs[g].w, refs[e].w) == 0)
            e++;
        last_of[refs[g].idx] = refs[e - 1].idx;
        g = e;
    }
    /* Slots in order of first occurrence. */
    for (size_t i = 0; i < n; i++) {
        if (last_of[i] == UINT32_MAX)
            continue;
        slot_of[i] = (uint32_t)r->nslots;
        r->slot_index[r->nslots++] = last_of[i];
    }
    /* Groups are contiguous in refs, so first members appear in identity order. */
    size_t k = 0;
    for (size_t g = 0; g < n; g++)
        if (last_of[refs[g].idx] != UINT32_MAX) /* only first occurrences are marked */
            r->by_identity[k++] = slot_of[refs[g].idx];
    rc = 0;
out:
    free(refs);
    free(last_of);
    free(slot_of);
    return rc;
}

static const hr_worker *slot_worker(const hr_ring *r, uint32_t slot)
{
    return &r->in[r->slot_index[slot]];
}

/*
 * Sorts points and stores them.  With keep_last, equal hashes collapse to the
 * entry inserted last — Java TreeMap.put() replacing the value, where later
 * insertions come from later workers in iteration order (higher slot).
 */
static int store_points(hr_ring *r, point *pts, size_t np, bool keep_last)
{
    qsort(pts, np, sizeof *pts, point_cmp);
    r->pt_hash = malloc((np ? np : 1) * sizeof *r->pt_hash);
    r->pt_slot = malloc((np ? np : 1) * sizeof *r->pt_slot);
    if (!r->pt_hash || !r->pt_slot) {
        errno = ENOMEM;
        return -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < np; i++) {
        if (keep_last && i + 1 < np && pts[i + 1].hash == pts[i].hash)
            continue;
        r->pt_hash[o] = pts[i].hash;
        r->pt_slot[o] = pts[i].slot;
        o++;
    }
    r->npoints = o;
    return 0;
}

/*
 * ConsistentHashProvider.build(): for each worker, for i in [0, vnodes):
 *   ring.put(murmur(id || le32(version) || le32(i)), worker)
 */
static void points_consistent(const hr_ring *r, point *pts)
{
    size_t o = 0;
    for (uint32_t s = 0; s < r->nslots; s++) {
        hr_mm3 base;
        funnel_identity(&base, slot_worker(r, s));
        for (int i = 0; i < r->opts.virtual_nodes; i++) {
            hr_mm3 h = base;
            hr_mm3_update_le32(&h, (uint32_t)i);
            pts[o].hash = hr_mm3_final(&h);
            pts[o].slot = s;
            o++;
        }
    }
}

/*
 * KetamaHashProvider.add(): base = murmur(id || le32(version)) (no index);
 * for i in [0, replicas): ring.put(base + i, worker) with int overflow.
 */
static void points_ketama(const hr_ring *r, point *pts)
{
    size_t o = 0;
    for (uint32_t s = 0; s < r->nslots; s++) {
        hr_mm3 h;
        funnel_identity(&h, slot_worker(r, s));
        uint32_t base = (uint32_t)hr_mm3_final(&h);
        for (int i = 0; i < r->opts.ketama_replicas; i++) {
            uint32_t v = base + (uint32_t)i; /* Java int addition wraps */
            int32_t sv;
            memcpy(&sv, &v, sizeof sv);
            pts[o].hash = sv;
            pts[o].slot = s;
            o++;
        }
    }
}

/*
 * MultiProbeHashProvider.wrap(): one point per worker,
 *   hash(String.format("%d%d", murmur(id || le32(version)), SEED))
 * i.e. the decimal of the identity hash immediately followed by "-559038737".
 */
static void points_multi_probe(const hr_ring *r, point *pts)
{
    for (uint32_t s = 0; s < r->nslots; s++) {
        hr_mm3 h;
        funnel_identity(&h, slot_worker(r, s));
        int32_t ih = hr_mm3_final(&h);
        hr_mm3 p;
        hr_mm3_init(&p, 0);
        hr_mm3_update_dec(&p, ih);
        hr_mm3_update_dec(&p, MULTI_PROBE_SEED);
        pts[s].hash = hr_mm3_final(&p);
        pts[s].slot = s;
    }
}

static int build_points(hr_ring *r)
{
    size_t per;
    bool keep_last = true;

    switch (r->policy) {
    case HR_POLICY_JUMP:
        return 0; /* buckets are the slots themselves */
    case HR_POLICY_CONSISTENT:
        per = (size_t)r->opts.virtual_nodes;
        break;
    case HR_POLICY_KETAMA:
        per = (size_t)r->opts.ketama_replicas;
        break;
    case HR_POLICY_MULTI_PROBE:
        per = 1;
        /* Java inserts into a sorted ArrayList; an exact duplicate point makes
         * its add() throw, so there is no Java behaviour to copy.  Keep both
         * (sorted by slot) rather than failing the whole ring. */
        keep_last = false;
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    if (r->nslots != 0 && per > HR_MAX_POINTS / r->nslots) {
        errno = EINVAL;
        return -1;
    }
    size_t np = r->nslots * per;
    point *pts = malloc((np ? np : 1) * sizeof *pts);
    if (pts == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (r->policy == HR_POLICY_CONSISTENT)
        points_consistent(r, pts);
    else if (r->policy == HR_POLICY_KETAMA)
        points_ketama(r, pts);
    else
        points_multi_probe(r, pts);
    int rc = store_points(r, pts, np, keep_last);
    free(pts);
    return rc;
}

hr_ring *hr_ring_build(hr_policy policy, const hr_worker *workers, size_t n,
                       const hr_options *opts)
{
    hr_options ro;

    if ((unsigned)policy > (unsigned)HR_POLICY_MULTI_PROBE || (n != 0 && workers == NULL) ||
        n > (size_t)INT32_MAX /* Java sizes and JUMP buckets are ints */ ||
        resolve_opts(opts, &ro) != 0 || check_workers(workers, n) != 0) {
        errno = EINVAL;
        return NULL;
    }
    hr_ring *r = calloc(1, sizeof *r);
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_init(&r->refs, 1);
    r->policy = policy;
    /* No user_free until the build succeeded: on failure the caller keeps
     * ownership of its user pointers, so ring_destroy must not free them. */
    r->opts = ro;
    r->opts.user_free = NULL;
    r->n_in = n;
    r->in = malloc((n ? n : 1) * sizeof *r->in);
    if (r->in == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    if (n != 0)
        memcpy(r->in, workers, n * sizeof *r->in);
    if (build_slots(r) != 0 || build_points(r) != 0)
        goto fail;
    r->opts.user_free = ro.user_free;
    return r;
fail:;
    int saved = errno;
    ring_destroy(r);
    errno = saved;
    return NULL;
}

void hr_ring_free(hr_ring *r)
{
    if (r == NULL)
        return;
    /* acq_rel: the thread that frees must see every other holder's reads
     * finished, and the others' releases must not be reordered after it. */
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        ring_destroy(r);
}

void hr_ring_release(const hr_ring *r)
{
    /* The reference count is the one mutable part of a ring. */
    hr_ring_free((hr_ring *)r);
}

void hr_ring_ref_internal(const hr_ring *r)
{
    atomic_fetch_add_explicit(&((hr_ring *)r)->refs, 1, memory_order_relaxed);
}

bool hr_ring_same_config_internal(const hr_ring *r, hr_policy policy, const hr_options *opts)
{
    hr_options ro;
    if (resolve_opts(opts, &ro) != 0)
        return false;
    return r->policy == policy && r->opts.virtual_nodes == ro.virtual_nodes &&
           r->opts.ketama_replicas == ro.ketama_replicas && r->opts.probes == ro.probes &&
           r->opts.max_attempts == ro.max_attempts;
}

size_t hr_ring_points_internal(const hr_ring *r, const int32_t **hash, const uint32_t **slot)
{
    *hash = r->pt_hash;
    *slot = r->pt_slot;
    return r->npoints;
}

uint32_t hr_ring_slot_index_internal(const hr_ring *r, uint32_t slot)
{
    return r->slot_index[slot];
}

const hr_worker *hr_ring_worker(const hr_ring *r, uint32_t index)
{
    if (r == NULL || index >= r->n_in)
        return NULL;
    return &r->in[index];
}

size_t hr_ring_size(const hr_ring *r)
{
    return r == NULL ? 0 : r->nslots;
}

hr_policy hr_ring_policy(const hr_ring *r)
{
    return r->policy;
}

/* ------------------------------------------------------------------ */
/* Lookup                                                               */
/* ------------------------------------------------------------------ */

/* First point with hash >= h, wrapping to 0: TreeMap.ceilingEntry/firstEntry. */
static uint32_t ceiling_slot(const hr_ring *r, int32_t h)
{
    size_t lo = 0, hi = r->npoints;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->pt_hash[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r->pt_slot[lo == r->npoints ? 0 : lo];
}

/*
 * JumpHashProvider.jumpConsistentHash(int key, int buckets), Lamping & Veach,
 * with Java's arithmetic: the int key is sign-extended to long, the LCG wraps
 * mod 2^64, and the jump is computed in double then truncated to long.
 * (k >>> 33) + 1 is at most 2^31, so it converts to double exactly, and the
 * product is below 2^62, so the truncation is defined in C too.
 */
static uint32_t jump_bucket(int32_t key, uint32_t buckets)
{
    int64_t b = -1, j = 0;
    uint64_t k = (uint64_t)(int64_t)key;

    while (j < (int64_t)buckets) {
        b = j;
        k = k * 2862933555777941757ull + 1u;
        double d = (double)((k >> 33) + 1u);
        j = (int64_t)((double)(b + 1) * (2147483648.0 / d));
    }
    return (uint32_t)b;
}

/* Java Math.abs(int): abs(Integer.MIN_VALUE) stays Integer.MIN_VALUE. */
static int32_t java_abs_diff(int32_t a, int32_t b)
{
    uint32_t d = (uint32_t)a - (uint32_t)b; /* int subtraction wraps */
    if (d & 0x80000000u && d != 0x80000000u)
        d = 0u - d;
    int32_t out;
    memcpy(&out, &d, sizeof out);
    return out;
}

/*
 * MultiProbeHashProvider.getIndex(key + attempt): for each probe i, hash
 * key + attempt + i (decimal strings), find the first point with hash > hv
 * (upper bound, wrapping to 0), measure |point - hv| in int arithmetic and
 * keep the strictly smallest; the first probe wins ties.
 */
static uint32_t multi_probe_slot(const hr_ring *r, const hr_mm3 *with_attempt)
{
    size_t best = 0;
    int32_t min_dist = INT32_MAX;

    for (int i = 0; i < r->opts.probes; i++) {
        hr_mm3 h = *with_attempt;
        hr_mm3_update_dec(&h, i);
        int32_t hv = hr_mm3_final(&h);
        size_t lo = 0, hi = r->npoints;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->pt_hash[mid] > hv)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (lo >= r->npoints)
            lo = 0;
        int32_t dist = java_abs_diff(r->pt_hash[lo], hv);
        if (dist < min_dist) {
            min_dist = dist;
            best = lo;
        }
    }
    return r->pt_slot[best];
}

/* The slot chosen by one attempt; key_state holds murmur state after key. */
static uint32_t pick(const hr_ring *r, const hr_mm3 *key_state, int attempt)
{
    hr_mm3 h = *key_state;

    switch (r->policy) {
    case HR_POLICY_CONSISTENT:
        /* ConsistentHashProvider.get: putString(key, UTF_8).putInt(attempt) */
        hr_mm3_update_le32(&h, (uint32_t)attempt);
        return ceiling_slot(r, hr_mm3_final(&h));
    case HR_POLICY_KETAMA:
        /* KetamaHashProvider.get: hash(String.format("%s%d", key, attempt)),
         * then the exact key or tailMap(hash).firstKey(), wrapping. */
        hr_mm3_update_dec(&h, attempt);
        return ceiling_slot(r, hr_mm3_final(&h));
    case HR_POLICY_JUMP:
        /* JumpHashProvider.get: hash("%s%d"), bucket = position in the
         * worker set's iteration order. */
        hr_mm3_update_dec(&h, attempt);
        return jump_bucket(hr_mm3_final(&h), (uint32_t)r->nslots);
    case HR_POLICY_MULTI_PROBE:
        hr_mm3_update_dec(&h, attempt);
        return multi_probe_slot(r, &h);
    }
    return 0; /* unreachable: policy validated at build time */
}

int hr_ring_select_internal(const hr_ring *r, const char *key, size_t keylen, size_t n,
                            uint32_t *out_idx, hr_worker *out_w)
{
    uint64_t seen[HR_BITMAP_SLOTS / 64];
    bool use_bitmap;
    size_t want, count = 0;
    hr_mm3 key_state;

    if (r == NULL || (keylen != 0 && key == NULL) || (n != 0 && out_idx == NULL && out_w == NULL)) {
        errno = EINVAL;
        return -1;
    }
    want = n < r->nslots ? n : r->nslots;
    if (want > INT_MAX)
        want = INT_MAX;
    if (want == 0)
        return 0;

    /* Small rings: O(1) duplicate checks with a bitmap sized to the ring.
     * Large rings: scan the results so far; they number at most
     * max_attempts, and usually one (Alluxio asks for a single worker). */
    use_bitmap = r->nslots <= HR_BITMAP_SLOTS;
    if (use_bitmap)
        memset(seen, 0, ((r->nslots + 63) / 64) * sizeof seen[0]);

    hr_mm3_init(&key_state, 0);
    hr_mm3_update(&key_state, key, keylen);

    for (int attempt = 1; count < want && attempt <= r->opts.max_attempts; attempt++) {
        uint32_t slot = pick(r, &key_state, attempt);
        uint32_t idx = r->slot_index[slot];
        bool dup = false;
        if (use_bitmap) {
            dup = (seen[slot / 64] >> (slot % 64)) & 1u;
            seen[slot / 64] |= (uint64_t)1 << (slot % 64);
        } else {
            for (size_t j = 0; j < count && !dup; j++)
                dup = out_idx ? out_idx[j] == idx
                              : hr_worker_same_identity(&out_w[j], &r->in[idx]);
        }
        if (dup)
            continue;
        if (out_idx)
            out_idx[count] = idx;
        else
            out_w[count] = r->in[idx];
        count++;
    }
    return (int)count;
}

int hr_ring_select(const hr_ring *r, const char *key, size_t keylen, size_t n,
                   uint32_t *out_indices)
{
    if (n != 0 && out_indices == NULL) {
        errno = EINVAL;
        return -1;
    }
    return hr_ring_select_internal(r, key, keylen, n, out_indices, NULL);
}

/* ------------------------------------------------------------------ */
/* Worker-set comparison                                                */
/* ------------------------------------------------------------------ */

static int ptr_identity_cmp(const void *pa, const void *pb)
{
    const hr_worker *const *a = pa, *const *b = pb;
    return identity_cmp(*a, *b);
}

/* Sorted, de-duplicated identity pointers; *out NULL when n == 0. */
static int sorted_unique(const hr_worker *w, size_t n, const hr_worker ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return 0;
    const hr_worker **p = malloc(n * sizeof *p);
    if (p == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = &w[i];
    qsort(p, n, sizeof *p, ptr_identity_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || identity_cmp(p[u - 1], p[i]) != 0)
            p[u++] = p[i];
    *out = p;
    *nout = u;
    return 0;
}

int hr_workers_same_set(const hr_worker *a, size_t na, const hr_worker *b, size_t nb)
{
    const hr_worker **pa = NULL, **pb = NULL;
    size_t ua, ub;
    int rc = -1;

    if ((na != 0 && a == NULL) || (nb != 0 && b == NULL)) {
        errno = EINVAL;
        return -1;
    }
    if (sorted_unique(a, na, &pa, &ua) != 0 || sorted_unique(b, nb, &pb, &ub) != 0)
        goto out;
    rc = ua == ub;
    for (size_t i = 0; rc == 1 && i < ua; i++)
        if (identity_cmp(pa[i], pb[i]) != 0)
            rc = 0;
out:
    free(pa);
    free(pb);
    return rc;
}

int hr_ring_same_workers(const hr_ring *r, const hr_worker *w, size_t n)
{
    const hr_worker **p = NULL;
    size_t u;

    if (r == NULL || (n != 0 && w == NULL)) {
        errno = EINVAL;
        return -1;
    }
    if (sorted_unique(w, n, &p, &u) != 0)
        return -1;
    int rc = u == r->nslots;
    for (size_t i = 0; rc == 1 && i < u; i++)
        if (identity_cmp(p[i], slot_worker(r, r->by_identity[i])) != 0)
            rc = 0;
    free(p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Policy names                                                         */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;     /* WorkerLocationPolicyEnum constant */
    const char *cls;      /* its class, the pre-enum property value */
    int policy;           /* -1: valid in Alluxio, not implemented here */
} POLICIES[] = {
    {"CONSISTENT", "alluxio.client.file.dora.ConsistentHashPolicy", HR_POLICY_CONSISTENT},
    {"JUMP", "alluxio.client.file.dora.JumpHashPolicy", HR_POLICY_JUMP},
    {"KETAMA", "alluxio.client.file.dora.KetamaHashPolicy", HR_POLICY_KETAMA},
    {"MULTI_PROBE", "alluxio.client.file.dora.MultiProbeHashPolicy", HR_POLICY_MULTI_PROBE},
    {"MAGLEV", "alluxio.client.file.dora.MaglevHashPolicy", -1},
    {"LOCAL", "alluxio.client.file.dora.LocalWorkerPolicy", -1},
    {"REMOTE_ONLY", "alluxio.client.file.dora.RemoteOnlyPolicy", -1},
};

/* ASCII-only case folding: config parsing must not depend on the locale. */
static bool ascii_ieq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int hr_policy_from_string(const char *s, hr_policy *out, char *err, size_t errlen)
{
    if (s == NULL || out == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "worker selection policy: no value given");
        errno = EINVAL;
        return -1;
    }
    const char *b = s, *e = s + strlen(s);
    while (b < e && is_blank(*b))
        b++;
    while (e > b && is_blank(e[-1]))
        e--;
    size_t len = (size_t)(e - b);

    for (size_t i = 0; i < sizeof POLICIES / sizeof POLICIES[0]; i++) {
        bool match = (strlen(POLICIES[i].name) == len && ascii_ieq(b, POLICIES[i].name, len)) ||
                     (strlen(POLICIES[i].cls) == len && ascii_ieq(b, POLICIES[i].cls, len));
        if (!match)
            continue;
        if (POLICIES[i].policy < 0) {
            if (err && errlen)
                snprintf(err, errlen,
                         "worker selection policy '%.*s' is an Alluxio policy that dorafs "
                         "does not implement (supported: CONSISTENT, JUMP, KETAMA, MULTI_PROBE)",
                         (int)(len > 64 ? 64 : len), b);
            errno = ENOTSUP;
            return -1;
        }
        *out = (hr_policy)POLICIES[i].policy;
        return 0;
    }
    if (err && errlen)
        snprintf(err, errlen,
                 "unknown worker selection policy '%.*s' (expected CONSISTENT, JUMP, KETAMA "
                 "or MULTI_PROBE)",
                 (int)(len > 64 ? 64 : len), b);
    errno = EINVAL;
    return -1;
}

const char *hr_policy_name(hr_policy p)
{
    switch (p) {
    case HR_POLICY_CONSISTENT:
        return "CONSISTENT";
    case HR_POLICY_JUMP:
        return "JUMP";
    case HR_POLICY_KETAMA:
        return "KETAMA";
    case HR_POLICY_MULTI_PROBE:
        return "MULTI_PROBE";
    }
    return "?";
}
