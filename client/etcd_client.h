/*
 * A small etcd v3 client over etcd's HTTP/JSON gateway (libcurl + json-c):
 * prefix range, watch, put, delete, leases and user/password auth.
 *
 * Gateway facts it relies on (etcd 3.4, see platform-notes §4): POST only;
 * keys and values are base64 in JSON; every int64 (revision, lease id, TTL)
 * arrives as a JSON string; fields holding their default value are omitted;
 * /v3/watch streams one JSON object per line; /v3/lease/keepalive answers
 * once and closes, so each refresh is one POST; an auth token goes in the
 * "Authorization" header and is only valid on the member that issued it.
 *
 * Several endpoints may be given; each call tries them in turn, starting
 * with the last one that worked, and moves on when one cannot be reached.
 * An answer from etcd that is an error (bad request, unknown lease) is not
 * retried elsewhere.
 *
 * Thread safety: unary calls on one client are serialised by a mutex (they
 * share one connection); a watch runs on its own connection, so one thread
 * may watch while others range or put on the same client.
 */
#ifndef DORAFS_ETCD_CLIENT_H
#define DORAFS_ETCD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct etcd_client etcd_client;

typedef struct etcd_options {
	/* "http://h1:2379,http://h2:2379"; ',', ';' and blanks all separate */
	const char *endpoints;
	const char *username;   /* both or neither, as Alluxio requires */
	const char *password;
	double timeout;         /* seconds per unary request; 0: 5 s */
} etcd_options;

typedef struct etcd_kv {
	char *key;              /* NUL-terminated copies (a NUL inside is kept, see *_len) */
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t lease;
} etcd_kv;

/* Validates every endpoint (http:// or https://, a host, an optional port).
 * Returns NULL with a one-line message naming the bad value in err. */
etcd_client *etcd_client_new(const etcd_options *o, char *err, size_t errlen);
void etcd_client_free(etcd_client *c);

/* The endpoints as given ("http://h:2379", no trailing '/'). */
size_t etcd_client_endpoint_count(const etcd_client *c);
const char *etcd_client_endpoint(const etcd_client *c, size_t i);
/* The endpoint that answered last (the first one before any call). */
const char *etcd_client_current(etcd_client *c);

/*
 * All keys starting with prefix (range_end = prefix with its last byte + 1,
 * as jetcd's isPrefix), in etcd's key order.  *revision: the store revision
 * of the answer (watch from *revision + 1 to miss nothing).
 * Returns 0, or -1 with a message naming the endpoint(s) in err.
 */
int etcd_range_prefix(etcd_client *c, const char *prefix, size_t prefix_len, etcd_kv **kvs,
		      size_t *n, int64_t *revision, char *err, size_t errlen);
void etcd_kvs_free(etcd_kv *kvs, size_t n);

/* lease = 0: no lease. */
int etcd_put(etcd_client *c, const char *key, size_t key_len, const char *value, size_t value_len,
	     int64_t lease, char *err, size_t errlen);
int etcd_delete(etcd_client *c, const char *key, size_t key_len, char *err, size_t errlen);

int etcd_lease_grant(etcd_client *c, int64_t ttl, int64_t *id, char *err, size_t errlen);
/* *ttl: the remaining TTL granted; 0 means the lease no longer exists. */
int etcd_lease_keepalive(etcd_client *c, int64_t id, int64_t *ttl, char *err, size_t errlen);
int etcd_lease_revoke(etcd_client *c, int64_t id, char *err, size_t errlen);

typedef enum { ETCD_EV_PUT = 0, ETCD_EV_DELETE = 1 } etcd_event_type;

typedef struct etcd_event {
	etcd_event_type type;
	etcd_kv kv;             /* for DELETE: key and mod_revision only */
} etcd_event;

/*
 * Called once per watch response that carries events, in revision order.
 * Return non-zero to end the watch (etcd_watch_prefix then returns 0).
 */
typedef int (*etcd_watch_cb)(void *arg, const etcd_event *ev, size_t n, int64_t revision);
/* Polled about once a second (libcurl's progress callback); non-zero ends the watch. */
typedef int (*etcd_watch_stop_cb)(void *arg);

/*
 * Watches every key under prefix from start_revision (0: from now) until cb
 * or should_stop asks to stop (returns 0), or the stream fails or etcd
 * cancels it (e.g. the revision was compacted) (returns -1 with err).
 * Blocks the calling thread; uses its own connection.
 */
int etcd_watch_prefix(etcd_client *c, const char *prefix, size_t prefix_len, int64_t start_revision,
		      etcd_watch_cb cb, etcd_watch_stop_cb should_stop, void *arg, char *err, size_t errlen);

/* ---- parsers, exposed for unit tests and fuzzing ---------------------- */

/* A /v3/kv/range answer. */
int etcd_parse_range(const char *json, size_t len, etcd_kv **kvs, size_t *n, int64_t *revision,
		     char *err, size_t errlen);

/*
 * The watch stream decoder: feed it bytes as they arrive, in pieces of any
 * size; every complete line is decoded and passed to cb.  Lines longer than
 * 64 MiB are an error.
 */
typedef struct etcd_watch_decoder etcd_watch_decoder;
etcd_watch_decoder *etcd_watch_decoder_new(etcd_watch_cb cb, void *arg);
void etcd_watch_decoder_free(etcd_watch_decoder *d);
/*
 * Returns 0 to go on, 1 if cb asked to stop, -1 on a malformed line or a
 * cancelled watch (message in err).  *created is set once etcd confirmed
 * the watch.
 */
int etcd_watch_decoder_feed(etcd_watch_decoder *d, const char *buf, size_t len, bool *created,
			    char *err, size_t errlen);

/* "abc" → "abd"; a prefix of only 0xff bytes (or empty) gives "\0" (all keys). */
void etcd_prefix_end(const char *prefix, size_t len, char *out, size_t *out_len);

#endif
