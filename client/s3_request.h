/*
 * S3 requests: URL building, SigV4 signing by libcurl (CURLOPT_AWS_SIGV4),
 * a bounded pool of kept-alive curl handles, and retries with exponential
 * backoff and jitter. One call = one logical request, however many attempts.
 */
#ifndef DORAFS_S3_REQUEST_H
#define DORAFS_S3_REQUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3_creds.h"

enum { S3_HEAD, S3_GET, S3_LIST, S3_NKINDS };

/* Error classes counted in stats (a request may count several retries). */
enum { S3E_HTTP_4XX, S3E_HTTP_5XX, S3E_THROTTLE, S3E_NETWORK, S3E_TIMEOUT, S3E_SHORT, S3E_STALE,
       S3E_NCLASSES };

typedef struct s3_settings {
	const char *endpoint;        /* NULL: https://s3.<region>.amazonaws.com */
	const char *region;
	const char *bucket;
	const char *addressing;      /* "auto", "path", "virtual" */
	double connect_timeout;      /* seconds */
	double stall_timeout;        /* seconds without a byte before the attempt fails */
	unsigned max_retries;
	double retry_budget;         /* seconds one request may spend in retries */
	unsigned max_connections;
} s3_settings;

typedef struct s3_client s3_client;

typedef struct s3_resp {
	long status;                 /* HTTP status of the last attempt, 0 if none */
	char etag[80];               /* without quotes */
	int64_t content_length;      /* -1: absent */
	int64_t cr_start, cr_end, cr_total;  /* Content-Range, -1: absent */
	int64_t last_modified;       /* seconds since the epoch, -1: absent */
	char *body;                  /* non-GET bodies and error bodies (NUL-terminated) */
	size_t body_len, body_cap;
	size_t got;                  /* ranged GET: bytes placed in dst */
	char err_code[64];           /* S3 error <Code>, if the body had one */
	int curl_code;               /* CURLcode of the last attempt (0: OK) */
} s3_resp;

typedef struct s3_req {
	int kind;                    /* S3_HEAD, S3_GET, S3_LIST (counters, method) */
	const char *key;             /* object key (not encoded); "" for the bucket */
	const char *query;           /* canonical query (sorted, encoded) or NULL */
	void *dst;                   /* ranged GET: buffer of range_len bytes */
	uint64_t range_off, range_len;
	const char *if_match;        /* ETag the object must have (no quotes) or NULL */
} s3_req;

int s3_client_new(const s3_settings *set, s3_creds *creds, s3_client **out, char *err, size_t errlen);
void s3_client_free(s3_client *c);

/*
 * Perform a request with retries. Returns 0 when an HTTP answer that is not
 * retried came back (resp->status says which; 2xx ranged GETs are complete and
 * checked), or -errno: -EACCES (403), -ENOENT (404), -ESTALE (ETag differs
 * from if_match), -EIO (retries exhausted, malformed answers). resp must be
 * released with s3_resp_free.
 */
int s3_perform(s3_client *c, const s3_req *req, s3_resp *resp);
void s3_resp_free(s3_resp *r);

/* While quiet, requests that fail for good are not logged (the mount-time
 * check words its own message); the last such failure is kept either way. */
void s3_client_set_quiet(s3_client *c, bool quiet);
void s3_client_last_failure(s3_client *c, char *buf, size_t len);

/* The endpoint a human should read in messages (no credentials in it). */
const char *s3_client_endpoint(const s3_client *c);

/* Where the credentials came from ("environment", ...), for messages. */
const char *s3_client_creds_source(const s3_client *c);

/* Append counters to a json-c object. */
void s3_client_stats_json(s3_client *c, void *json_object);

/* Helpers, exposed for tests. */
char *s3_encode_key(const char *key);          /* per segment, '/' kept; caller frees */
char *s3_encode_query_value(const char *v);    /* everything but unreserved; caller frees */
int s3_parse_content_range(const char *v, int64_t *start, int64_t *end, int64_t *total);
void s3_strip_etag(const char *in, char *out, size_t outlen);

#endif
