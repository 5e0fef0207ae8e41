/*
 * Condition variables timed on CLOCK_MONOTONIC, for the waits with a
 * deadline (a listing's batch, the etcd keep-alive period, membership
 * refreshes): a wall clock set back or forward must neither stretch nor cut
 * them short.
 */
#ifndef DORAFS_MONO_COND_H
#define DORAFS_MONO_COND_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* pthread_cond_init on CLOCK_MONOTONIC: 0 or an errno value. */
int dfs_cond_init_monotonic(pthread_cond_t *c);

/* The CLOCK_MONOTONIC time ns nanoseconds from now, for
 * pthread_cond_timedwait on such a condition variable. */
void dfs_deadline_in_ns(struct timespec *ts, int64_t ns);

#endif
