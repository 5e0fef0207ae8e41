/*
 * hashring — Alluxio-compatible worker selection for dorafs.
 *
 * Given the cluster's workers and a key (the full, normalised UFS URI string,
 * e.g. "s3://bucket/dir/file"), return the ordered list of preferred workers
 * exactly as Alluxio 3.x's Java client does (ConsistentHashProvider,
 * JumpHashProvider, KetamaHashProvider, MultiProbeHashProvider).  Every
 * client — Java, Python, dorafs — must pick the same worker for a path or the
 * cluster's cache is wasted, so bit-exactness is the point of this module.
 *
 * Depends on libc (and POSIX threads for hr_holder) only.
 *
 * Thread safety: an hr_ring is immutable after hr_ring_build() and may be
 * read by any number of threads.  hr_holder publishes rings RCU-style so a
 * rebuild never blocks lookups for longer than a pointer copy.
 */
#ifndef DORAFS_HASHRING_H
#define DORAFS_HASHRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* alluxio.user.worker.selection.policy values dorafs implements. */
typedef enum {
    HR_POLICY_CONSISTENT = 0, /* Alluxio's default */
    HR_POLICY_JUMP,
    HR_POLICY_KETAMA,
    HR_POLICY_MULTI_PROBE,
} hr_policy;

/* Defaults of the Alluxio properties, see README.md for their names. */
#define HR_DEFAULT_VIRTUAL_NODES 5    /* ...consistent.hash.virtual.node.count.per.worker */
#define HR_DEFAULT_KETAMA_REPLICAS 200 /* alluxio.user.ketama.hash.replicas */
#define HR_DEFAULT_PROBES 21          /* alluxio.user.multi.probe.hash.probe.num */
#define HR_DEFAULT_MAX_ATTEMPTS 100   /* hard-coded in every Java *HashPolicy */

#define HR_ID_MAX 16

/*
 * One worker.  Only (id, id_len, version) are hashed; they are what Alluxio's
 * WorkerIdentity.HashFunnel feeds the hash: the identifier bytes followed by
 * the version as a little-endian int32.
 *   version 1: id = the 16 UUID bytes, big-endian (most significant first);
 *              the etcd JSON "identifier" hex string decodes to exactly these.
 *   version 0: id = the legacy long worker id as 8 big-endian bytes.
 * `user` is opaque to the module and is handed back by hr_ring_worker().
 */
typedef struct {
    uint8_t id[HR_ID_MAX];
    uint8_t id_len; /* 1..HR_ID_MAX */
    int32_t version;
    void *user;
} hr_worker;

/* Fills w as a version-1 (UUID) identity; user is set to NULL. */
void hr_worker_from_uuid(hr_worker *w, const uint8_t uuid[16]);
/* Fills w as a version-0 (legacy long id) identity; user is set to NULL. */
void hr_worker_from_legacy_id(hr_worker *w, int64_t worker_id);
/* Same identity (version and identifier bytes); user is ignored. */
bool hr_worker_same_identity(const hr_worker *a, const hr_worker *b);

/*
 * Build options.  A zero field means "Alluxio's default" (HR_DEFAULT_*), so
 * `hr_options o = {0};` or a NULL pointer gives stock Alluxio behaviour.
 * Negative values are rejected with EINVAL.
 */
typedef struct {
    int virtual_nodes;   /* CONSISTENT: ring points per worker */
    int ketama_replicas; /* KETAMA: ring points per worker */
    int probes;          /* MULTI_PROBE: probes per lookup */
    int max_attempts;    /* all policies: rehash attempts per lookup */
    /*
     * Optional.  If set, the ring owns the `user` pointers of the workers it
     * was built from and calls user_free(user) once per input entry with a
     * non-NULL user when the ring is finally freed (see hr_holder_update for the no-rebuild case).
     * Lets readers that still hold an old ring use its user data safely.
     */
    void (*user_free)(void *user);
} hr_options;

typedef struct hr_ring hr_ring;

/*
 * Builds an immutable ring.  The worker array is copied; the caller may free
 * it afterwards.  Entries with the same identity are collapsed like Java's
 * ImmutableMap in WorkerClusterView: the first occurrence fixes the position
 * (which matters for JUMP), lookups report the index of the last occurrence.
 * Order the array the way Alluxio iterates the cluster view — for etcd
 * membership that is etcd's key order — if you use JUMP.  n == 0 is allowed
 * and yields a ring on which every lookup returns 0 workers.
 * Returns NULL with errno = EINVAL (bad policy, options or worker) or ENOMEM.
 * The returned ring holds one reference, released by hr_ring_free().
 */
hr_ring *hr_ring_build(hr_policy policy, const hr_worker *workers, size_t n,
                       const hr_options *opts);

/*
 * Ordered preferred workers for key[0..keylen).  Writes up to n distinct
 * indices (into the array given to hr_ring_build) to out_indices and returns
 * how many were written.  This is Java's getMultiple(key, min(n, workers)):
 * attempts 1..max_attempts, stop once enough distinct workers were found.
 * A result shorter than min(n, workers) means the attempts ran out (Java
 * would throw ResourceExhaustedException); its entries are still correct and
 * in order.  Does not allocate, does not modify the ring.
 * Returns -1 with errno = EINVAL if ring, or key/out_indices with non-zero
 * lengths, are NULL.
 */
int hr_ring_select(const hr_ring *ring, const char *key, size_t keylen, size_t n,
                   uint32_t *out_indices);

/* Drops one reference (the builder's, or one from hr_holder_acquire). NULL ok. */
void hr_ring_free(hr_ring *ring);

/* The worker (as copied at build time) for an index from hr_ring_select. */
const hr_worker *hr_ring_worker(const hr_ring *ring, uint32_t index);
/* Number of distinct workers in the ring (0 for NULL). */
size_t hr_ring_size(const hr_ring *ring);
/* The policy the ring was built for; ring must not be NULL. */
hr_policy hr_ring_policy(const hr_ring *ring);

/*
 * Set comparison of identities, ignoring order, duplicates and `user`, like
 * Java's Set<WorkerIdentity>.equals() in the providers' refresh().  Returns
 * 1 if equal, 0 if not, -1 with errno = ENOMEM.
 */
int hr_workers_same_set(const hr_worker *a, size_t na, const hr_worker *b, size_t nb);
/* Same, against the workers a ring was built from. */
int hr_ring_same_workers(const hr_ring *ring, const hr_worker *workers, size_t n);

/*
 * Parses alluxio.user.worker.selection.policy.  Accepts Alluxio's enum names
 * (CONSISTENT, JUMP, KETAMA, MULTI_PROBE; case-insensitive, surrounding
 * blanks ignored) and the class names older 3.x releases used
 * (alluxio.client.file.dora.ConsistentHashPolicy etc.).  Returns 0 on
 * success; -1 with errno = ENOTSUP for Alluxio policies dorafs does not
 * implement (MAGLEV, LOCAL, REMOTE_ONLY) and errno = EINVAL for anything
 * else.  On error, a one-line explanation is written to err if err != NULL.
 */
int hr_policy_from_string(const char *s, hr_policy *out, char *err, size_t errlen);
/* Alluxio's enum name of a policy, e.g. "MULTI_PROBE"; "?" if invalid. */
const char *hr_policy_name(hr_policy policy);

/*
 * hr_holder: the current ring, shared by many reader threads.
 *
 * Readers take a reference with hr_holder_acquire() (a read lock is held only
 * for the pointer copy and a reference-count increment), use the ring for as
 * long as they like, and drop it with hr_ring_free().  Publishing a new ring
 * takes the write lock only for the pointer store; the old ring is freed
 * outside the lock when its last reader lets go.  Rebuilding therefore never
 * blocks readers for more than that pointer swap.
 */
typedef struct hr_holder hr_holder;

hr_holder *hr_holder_new(void); /* empty holder; NULL with errno on failure */
/* Drops the holder's reference; rings still held by readers stay valid. */
void hr_holder_free(hr_holder *h);
/* Current ring with a new reference, or NULL if none was published yet. */
const hr_ring *hr_holder_acquire(hr_holder *h);
/* Releases a ring obtained from hr_holder_acquire(). */
void hr_ring_release(const hr_ring *ring);
/* Publishes ring (taking over the caller's reference; may be NULL). */
void hr_holder_swap(hr_holder *h, hr_ring *ring);
/*
 * Rebuilds and publishes only if the policy, the options or the identity set
 * differ from the current ring.  Returns 1 if a new ring was published, 0 if
 * nothing changed, -1 with errno (EINVAL, ENOMEM) on failure.
 * Ownership of `user` pointers when opts->user_free is set: on 1 the new ring
 * owns them; on 0 they are passed to user_free right away (the current ring
 * keeps its own); on -1 the caller keeps them.
 */
int hr_holder_update(hr_holder *h, hr_policy policy, const hr_worker *workers, size_t n,
                     const hr_options *opts);
/*
 * Convenience lookup on the current ring: copies up to n selected workers
 * (identity and the user pointer as stored in the ring) to out and returns
 * how many.  Returns 0 when no ring is published.  Note that `user` pointers
 * copied out are only guaranteed alive while some ring holding them is
 * alive; use acquire/select/release to keep the ring pinned instead.
 */
int hr_holder_select(hr_holder *h, const char *key, size_t keylen, size_t n, hr_worker *out);

/*
 * UUID helpers (static membership derives worker identities from host names).
 */
/* Java UUID.nameUUIDFromBytes(bytes): MD5, version 3, IETF variant, no namespace. */
void hr_uuid_name_based(const void *bytes, size_t len, uint8_t out[16]);
/*
 * Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (canonical) or 32 plain hex
 * digits (the etcd "identifier" form); either case.  Returns 0, or -1 with
 * errno = EINVAL.
 */
int hr_uuid_parse(const char *s, size_t len, uint8_t out[16]);
/* Canonical lowercase form, as Java's UUID.toString(); writes 37 bytes incl. NUL. */
void hr_uuid_format(const uint8_t uuid[16], char out[37]);
/* 32 lowercase hex digits, the etcd "identifier" form; writes 33 bytes incl. NUL. */
void hr_uuid_format_hex(const uint8_t uuid[16], char out[33]);

#ifdef __cplusplus
}
#endif

#endif
