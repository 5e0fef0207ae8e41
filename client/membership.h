/*
 * Worker membership: which Alluxio workers exist, and which of them owns a
 * path (hashring/), the way Alluxio 3.x clients see it.
 *
 *  ETCD    the live set under /ServiceDiscovery/<cluster>/ (one key per
 *          worker, held by the worker's lease), read with a prefix range and
 *          followed with a watch; a full re-read every
 *          worker_refresh_interval as well.  Registered workers whose lease
 *          is gone (/DHT/<cluster>/AUTHORIZED/ without a live key) are listed
 *          as lost; they are not in the ring (Alluxio's default
 *          alluxio.user.dynamic.consistent.hash.ring.enabled=true).  When
 *          etcd cannot be reached the last known list stays in use.
 *  STATIC  a workers file (one host name per line); identities are
 *          nameUUIDFromBytes(host); ports come from the worker_*_port options.
 *
 * The ring is ordered as Alluxio orders the cluster view (etcd key order;
 * Java HashSet order for a workers file), which only JUMP depends on.
 *
 * Threads: dfs_membership_select/snapshot/status may be called from any
 * thread at any time; a ring is replaced RCU-style (hashring's hr_holder) so
 * readers never wait for a refresh.  start/stop/free from one thread.
 */
#ifndef DORAFS_MEMBERSHIP_H
#define DORAFS_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "worker_entity.h"

typedef enum {
	DFS_MEMBERSHIP_NONE = 0,   /* no membership configured: no workers */
	DFS_MEMBERSHIP_ETCD,
	DFS_MEMBERSHIP_STATIC,
} dfs_membership_type;

typedef struct dfs_worker {
	dfs_worker_entity e;       /* identity and WorkerNetAddress */
	char name[64];             /* "worker-<uuid>", the etcd key's last part */
	bool live;                 /* false: registered but its lease is gone */
} dfs_worker;

/* An immutable list; shared, reference-counted. */
typedef struct dfs_worker_list {
	size_t n;                  /* all entries: live ones first, in ring order */
	size_t n_live;             /* w[0..n_live) form the ring */
	dfs_worker *w;
	int64_t revision;          /* etcd revision it was first read at (0: static) */
	time_t fetched;            /* when it was first read */
	int refs;                  /* internal */
} dfs_worker_list;

typedef struct dfs_membership dfs_membership;

/* Validates the options (type, endpoints, workers file name, policy and its
 * parameters).  Nothing is read or contacted yet.  NULL with a message. */
dfs_membership *dfs_membership_new(const dfs_config *cfg, char *err, size_t errlen);
void dfs_membership_free(dfs_membership *m);   /* stops first */

/* Log hook (syslog levels); default: warnings and errors to stderr. */
void dfs_membership_set_log(dfs_membership *m, void (*log)(int level, const char *msg));
/* Called (from the refresh thread) after each new worker list is in use. */
void dfs_membership_on_change(dfs_membership *m, void (*fn)(void *arg, uint64_t generation), void *arg);

/*
 * One-shot read of the membership (etcd range / workers file), publishes
 * it.  For the CLI, and the first read of a mount; not while the thread of
 * dfs_membership_start runs (it does the reading then).  Returns 0, or -1 with a
 * one-line message naming the endpoint or file (the previous list, if any,
 * stays in use).
 */
int dfs_membership_load(dfs_membership *m, char *err, size_t errlen);

/*
 * Loads (unless loaded) and, for ETCD, starts the thread that watches and
 * refreshes.  Fails only if there is no list at all yet, e.g. etcd was never
 * reachable: a mount may then choose to go on without workers.
 */
int dfs_membership_start(dfs_membership *m, char *err, size_t errlen);
/* Stops the thread (at most ~1 s); the last list stays readable. */
void dfs_membership_stop(dfs_membership *m);

/* Current list with a reference (never NULL after a successful load;
 * NULL before).  Release with dfs_worker_list_unref(). */
dfs_worker_list *dfs_membership_snapshot(dfs_membership *m);
void dfs_worker_list_unref(dfs_worker_list *l);

/* Bumped every time a different worker list is published. */
uint64_t dfs_membership_generation(dfs_membership *m);

typedef struct dfs_membership_status {
	dfs_membership_type type;
	bool loaded;               /* some list was read */
	bool stale;                /* the last refresh failed; last known list in use */
	char error[512];           /* the last refresh's error, if stale */
	char source[512];          /* "etcd http://h:2379 /ServiceDiscovery/C" or "file PATH" */
	time_t last_ok;            /* last successful read */
	uint64_t generation;
	int policy;                /* hr_policy */
} dfs_membership_status;

void dfs_membership_status_get(dfs_membership *m, dfs_membership_status *st);

/*
 * The preferred workers for key (the full normalised UFS URI), best first,
 * exactly as Alluxio's clients pick them: copies up to n (at most 64) to out
 * and returns how many (0 without workers).
 */
int dfs_membership_select(dfs_membership *m, const char *key, size_t n, dfs_worker *out);

/* The membership as JSON (status and every worker) for `dorafs workers
 * --json` and the mount's counters.  Caller frees; NULL on out of memory. */
char *dfs_membership_json(dfs_membership *m);
/* JSON object of one worker (as in the list above); caller frees. */
char *dfs_worker_json(const dfs_worker *w);

/* "ETCD", "STATIC", "NONE". */
const char *dfs_membership_type_name(dfs_membership_type t);

#endif
