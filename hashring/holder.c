/*
 * hr_holder: publish immutable rings to many readers, RCU-style.
 *
 * Design: the holder owns one reference to the current ring.  A reader takes
 * the read lock only long enough to copy the pointer and add a reference;
 * everything else (hashing, searching) happens on its private reference with
 * no lock held.  A writer takes the write lock only to store the new pointer
 * and drops the old ring's holder reference after unlocking, so the (possibly
 * expensive) free runs outside the lock, in whichever thread lets go last.
 *
 * Why a lock at all: "load pointer, then increment its count" is not atomic,
 * and without a lock (or hazard pointers / epochs) a writer could free the
 * ring between the two steps.  A read-write lock held for two instructions is
 * the simplest correct answer and keeps readers from excluding each other.
 *
 * Memory ordering: the increment can be relaxed because it happens before the
 * reader's unlock, which happens before any later writer's lock, which comes
 * before that writer's decrement; the count can therefore never reach zero
 * while a reader that obtained the pointer is still unaccounted for.
 */
/* pthread rwlocks are POSIX; make them visible under plain -std=c11 too. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "hashring.h"
#include "hr_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct hr_holder {
    pthread_rwlock_t lock;   /* guards `cur` (the pointer only) */
    hr_ring *cur;            /* the holder's own reference, or NULL */
    pthread_mutex_t updater; /* serialises hr_holder_update's compare-and-build */
};

hr_holder *hr_holder_new(void)
{
    hr_holder *h = calloc(1, sizeof *h);
    int rc;

    if (h == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if ((rc = pthread_rwlock_init(&h->lock, NULL)) != 0) {
        free(h);
        errno = rc;
        return NULL;
    }
    if ((rc = pthread_mutex_init(&h->updater, NULL)) != 0) {
        pthread_rwlock_destroy(&h->lock);
        free(h);
        errno = rc;
        return NULL;
    }
    return h;
}

void hr_holder_free(hr_holder *h)
{
    if (h == NULL)
        return;
    /* The caller guarantees no concurrent holder calls; readers that still
     * hold rings keep them alive through their own references. */
    hr_ring_free(h->cur);
    pthread_mutex_destroy(&h->updater);
    pthread_rwlock_destroy(&h->lock);
    free(h);
}

const hr_ring *hr_holder_acquire(hr_holder *h)
{
    const hr_ring *r;

    if (h == NULL)
        return NULL;
    /* rdlock only fails on resource exhaustion/deadlock detection, neither of
     * which can happen with this strictly nested, bounded use. */
    pthread_rwlock_rdlock(&h->lock);
    r = h->cur;
    if (r != NULL)
        hr_ring_ref_internal(r);
    pthread_rwlock_unlock(&h->lock);
    return r;
}

void hr_holder_swap(hr_holder *h, hr_ring *ring)
{
    hr_ring *old;

    if (h == NULL) {
        hr_ring_free(ring); /* we were handed a reference; don't leak it */
        return;
    }
    pthread_rwlock_wrlock(&h->lock);
    old = h->cur;
    h->cur = ring;
    pthread_rwlock_unlock(&h->lock);
    hr_ring_free(old); /* outside the lock: may run the destructor */
}

int hr_holder_update(hr_holder *h, hr_policy policy, const hr_worker *workers, size_t n,
                     const hr_options *opts)
{
    int rc;

    if (h == NULL || (n != 0 && workers == NULL)) {
        errno = EINVAL;
        return -1;
    }
    /* Serialise updaters so two of them cannot both decide "changed" and
     * publish in the wrong order.  Readers never take this mutex. */
    pthread_mutex_lock(&h->updater);
    const hr_ring *cur = hr_holder_acquire(h);
    if (cur != NULL && hr_ring_same_config_internal(cur, policy, opts)) {
        int same = hr_ring_same_workers(cur, workers, n);
        if (same < 0) {
            rc = -1;
            goto out;
        }
        if (same == 1) {
            /* Nothing to publish.  Honour the ownership contract: the new
             * user pointers were handed to us, so release them. */
            if (opts != NULL && opts->user_free != NULL)
                for (size_t i = 0; i < n; i++)
                    if (workers[i].user != NULL)
                        opts->user_free(workers[i].user);
            rc = 0;
            goto out;
        }
    }
    hr_ring *fresh = hr_ring_build(policy, workers, n, opts);
    if (fresh == NULL) {
        rc = -1;
        goto out;
    }
    hr_holder_swap(h, fresh);
    rc = 1;
out:;
    int saved = errno;
    hr_ring_release(cur);
    pthread_mutex_unlock(&h->updater);
    errno = saved;
    return rc;
}

int hr_holder_select(hr_holder *h, const char *key, size_t keylen, size_t n, hr_worker *out)
{
    if (h == NULL || (n != 0 && out == NULL)) {
        errno = EINVAL;
        return -1;
    }
    const hr_ring *r = hr_holder_acquire(h);
    if (r == NULL)
        return 0;
    int rc = hr_ring_select_internal(r, key, keylen, n, NULL, out);
    int saved = errno;
    hr_ring_release(r);
    errno = saved;
    return rc;
}
