/*
 * S3 requests over libcurl (see s3_request.h).
 *
 * Handles: a pool of at most max_connections easy handles; a handle keeps
 * its connection alive between requests (curl_easy_reset keeps the
 * connection cache), so a busy mount reuses its TCP connections.
 *
 * Signing: libcurl's own SigV4 (CURLOPT_AWS_SIGV4). The payload is declared
 * UNSIGNED-PAYLOAD (we only send GET/HEAD, with no body). curl 7.88 signs the
 * query string as given, so callers pass it already canonical: parameters
 * sorted by name, values encoded with s3_encode_query_value.
 *
 * Checks: a ranged GET's answer is never trusted. Content-Range decides where
 * the body starts (a 200 means "from 0": some servers ignore Range), only the
 * requested window is copied, a short body is retried, and the ETag must be
 * the one asked for (If-Match is sent, but not every server honours it).
 */
#include "s3_request.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "s3_xml.h"

#define BODY_MAX (64u << 20)   /* listings of 1000 long keys stay far below */

struct s3_client {
	char *base;                /* scheme://host[:port] with the bucket's style applied */
	char *endpoint_shown;      /* what messages name */
	bool path_style;
	char *bucket;
	char *sigv4;               /* "aws:amz:REGION:s3", NULL if anonymous */
	s3_creds creds;
	char *token_header;        /* "x-amz-security-token: ..." or NULL */
	long connect_ms, stall_s;
	unsigned max_retries;
	double retry_budget;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	CURL **idle;
	unsigned nidle, in_use, max;

	atomic_uint_fast64_t requests[S3_NKINDS], bytes, retries, errors[S3E_NCLASSES], failures;
	atomic_bool quiet;
	char last_failure[200];    /* guarded by lock */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	/* curl_global_init is not thread-safe in curl 7.88: run it exactly once. */
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

char *s3_encode_query_value(const char *v)
{
	char *e = curl_easy_escape(NULL, v, 0);
	char *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

char *s3_encode_key(const char *key)
{
	size_t cap = strlen(key) * 3 + 1, n = 0;
	char *out = malloc(cap);
	const char *seg = key;

	if (!out)
		return NULL;
	for (;;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
		char *e = len ? curl_easy_escape(NULL, seg, (int)len) : NULL;

		if (len && !e) {
			free(out);
			return NULL;
		}
		if (e) {
			memcpy(out + n, e, strlen(e));
			n += strlen(e);
			curl_free(e);
		}
		if (!slash)
			break;
		out[n++] = '/';
		seg = slash + 1;
	}
	out[n] = '\0';
	return out;
}

void s3_strip_etag(const char *in, char *out, size_t outlen)
{
	size_t len;

	while (*in == ' ')
		in++;
	if (strncmp(in, "W/", 2) == 0)
		in += 2;
	if (*in == '"')
		in++;
	len = strcspn(in, "\"\r\n");
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, in, len);
	out[len] = '\0';
}

int s3_parse_content_range(const char *v, int64_t *start, int64_t *end, int64_t *total)
{
	long long a, b;
	char tot[32];

	while (*v == ' ')
		v++;
	if (sscanf(v, "bytes %lld-%lld/%31s", &a, &b, tot) != 3 || a < 0 || b < a)
		return -1;
	*start = a;
	*end = b;
	*total = strcmp(tot, "*") == 0 ? -1 : strtoll(tot, NULL, 10);
	return 0;
}

void s3_resp_free(s3_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}

static void resp_reset(s3_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->content_length = r->cr_start = r->cr_end = r->cr_total = r->last_modified = -1;
}

/* State of one attempt, shared by the header and write callbacks. */
typedef struct attempt {
	const s3_req *req;
	s3_resp *resp;
	bool body_started;
	int64_t body_pos;          /* absolute object offset of the next body byte */
	bool stale, bad_range, done_early, too_big;
} attempt;

static size_t header_cb(char *data, size_t size, size_t n, void *arg)
{
	attempt *a = arg;
	s3_resp *r = a->resp;
	size_t len = size * n;
	char line[1024], *colon, *val;

	if (len >= sizeof(line))
		return len; /* no header we read is that long */
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new status line (after a 100 Continue, say): forget older headers. */
		char *sp = strchr(line, ' ');
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = '\0';
		r->content_length = r->cr_start = r->cr_end = r->cr_total = r->last_modified = -1;
		return len;
	}
	colon = strchr(line, ':');
	if (!colon)
		return len;
	*colon = '\0';
	val = colon + 1;
	while (*val == ' ')
		val++;
	if (strcasecmp(line, "etag") == 0)
		s3_strip_etag(val, r->etag, sizeof(r->etag));
	else if (strcasecmp(line, "content-length") == 0)
		r->content_length = strtoll(val, NULL, 10);
	else if (strcasecmp(line, "content-range") == 0) {
		if (s3_parse_content_range(val, &r->cr_start, &r->cr_end, &r->cr_total) < 0)
			r->cr_start = -2; /* present but unreadable */
	} else if (strcasecmp(line, "last-modified") == 0) {
		time_t t = curl_getdate(val, NULL);
		r->last_modified = t == (time_t)-1 ? -1 : (int64_t)t;
	}
	return len;
}

static int body_append(s3_resp *r, const char *data, size_t len)
{
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 16384;
		char *nb;

		while (cap < r->body_len + len + 1)
			cap *= 2;
		if (cap > BODY_MAX)
			return -1;
		nb = realloc(r->body, cap);
		if (!nb)
			return -1;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	attempt *a = arg;
	const s3_req *q = a->req;
	s3_resp *r = a->resp;
	size_t len = size * n;
	int64_t win_start, win_end, from, to;

	if (!q->dst || (r->status != 200 && r->status != 206)) {
		if (body_append(r, data, len) < 0) {
			a->too_big = true;
			return 0;
		}
		return len;
	}
	if (!a->body_started) {
		a->body_started = true;
		if (q->if_match && r->etag[0] && strcmp(r->etag, q->if_match) != 0) {
			a->stale = true;
			return 0; /* abort: bytes of another version */
		}
		if (r->status == 206) {
			if (r->cr_start < 0 || (uint64_t)r->cr_start > q->range_off) {
				a->bad_range = true;
				return 0;
			}
			a->body_pos = r->cr_start;
		} else {
			a->body_pos = 0; /* the server ignored Range: the body starts at 0 */
		}
	}
	win_start = (int64_t)q->range_off;
	win_end = (int64_t)(q->range_off + q->range_len);
	from = a->body_pos > win_start ? a->body_pos : win_start;
	to = a->body_pos + (int64_t)len < win_end ? a->body_pos + (int64_t)len : win_end;
	if (to > from) {
		memcpy((char *)q->dst + (from - win_start), data + (from - a->body_pos), (size_t)(to - from));
		r->got = (size_t)(to - win_start);
	}
	a->body_pos += (int64_t)len;
	if (a->body_pos > win_end && r->got == q->range_len) {
		/* More than we asked for (e.g. a server answering a Range with the
		 * whole object): we have our window, stop the transfer. */
		a->done_early = true;
		return 0;
	}
	return len;
}

static CURL *handle_get(s3_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	while (c->in_use >= c->max)
		pthread_cond_wait(&c->cond, &c->lock);
	c->in_use++;
	if (c->nidle)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_reset(h);
	else
		h = curl_easy_init();
	if (!h) {
		pthread_mutex_lock(&c->lock);
		c->in_use--;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	return h;
}

static void handle_put(s3_client *c, CURL *h, bool keep)
{
	pthread_mutex_lock(&c->lock);
	c->in_use--;
	if (keep && c->nidle < c->max) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

static char *build_url(s3_client *c, const s3_req *q)
{
	char *key = s3_encode_key(q->key), *url = NULL;
	int n;

	if (!key)
		return NULL;
	if (c->path_style)
		n = asprintf(&url, "%s/%s/%s%s%s", c->base, c->bucket, key, q->query ? "?" : "", q->query ? q->query : "");
	else
		n = asprintf(&url, "%s/%s%s%s", c->base, key, q->query ? "?" : "", q->query ? q->query : "");
	free(key);
	return n < 0 ? NULL : url;
}

enum outcome { DONE, RETRY, FAIL };

/* One attempt, of at most timeout_ms. Returns what to do next; *err is the
 * errno for FAIL. */
static enum outcome attempt_once(s3_client *c, const s3_req *q, s3_resp *r, const char *url,
				 long timeout_ms, int *err)
{
	struct curl_slist *hdrs = NULL, *tmp;
	char range[80], ifm[128];
	attempt a = { .req = q, .resp = r };
	enum outcome out = FAIL;
	CURLcode cc;
	CURL *h;
	bool keep = true;

	*err = EIO;
	resp_reset(r);
	h = handle_get(c);
	if (!h) {
		*err = ENOMEM;
		return FAIL;
	}
#define H(x) do { if (!(tmp = curl_slist_append(hdrs, (x)))) { *err = ENOMEM; goto done; } hdrs = tmp; } while (0)
	if (c->sigv4) {
		H("x-amz-content-sha256: UNSIGNED-PAYLOAD");
		if (c->token_header)
			H(c->token_header);
	}
	if (q->range_len) {
		snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, q->range_off,
			 q->range_off + q->range_len - 1);
		H(range);
	}
	if (q->if_match && *q->if_match) {
		snprintf(ifm, sizeof(ifm), "If-Match: \"%s\"", q->if_match);
		H(ifm);
	}
	/* No "Expect:" line to switch off 100-continue: we never send a body,
	 * and curl 7.88 would sign the empty header it then does not send. */
#undef H
	/* An option libcurl refuses (too old a libcurl, no memory) fails the
	 * request rather than sending it half configured. */
#define SET(opt, val) do { if (curl_easy_setopt(h, opt, val) != CURLE_OK) { keep = false; goto done; } } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_BUFFERSIZE, 512L * 1024);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	/* A transfer that moves no byte for stall_s seconds fails (and is
	 * retried). One that trickles a byte now and then is cut by the
	 * request's time budget instead: without it, a server sending a few
	 * bytes a second held a read for days. */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, c->stall_s);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, &a);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, &a);
	if (q->kind == S3_HEAD)
		SET(CURLOPT_NOBODY, 1L);
	if (c->sigv4) {
		SET(CURLOPT_AWS_SIGV4, c->sigv4);
		SET(CURLOPT_USERNAME, c->creds.access_key);
		SET(CURLOPT_PASSWORD, c->creds.secret_key);
	}
#undef SET
	atomic_fetch_add(&c->requests[q->kind], 1);
	cc = curl_easy_perform(h);
	r->curl_code = (int)cc;
	atomic_fetch_add(&c->bytes, (uint64_t)(q->dst ? r->got : r->body_len));

	if (a.stale) {
		atomic_fetch_add(&c->errors[S3E_STALE], 1);
		keep = false;
		*err = ESTALE;
		goto done;
	}
	if (a.bad_range || a.too_big) {
		keep = false;
		atomic_fetch_add(&c->errors[S3E_SHORT], 1);
		out = RETRY;
		goto done;
	}
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && a.done_early)) {
		keep = false;
		switch (cc) {
		case CURLE_OPERATION_TIMEDOUT:
			atomic_fetch_add(&c->errors[S3E_TIMEOUT], 1);
			out = RETRY;
			break;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			atomic_fetch_add(&c->errors[S3E_NETWORK], 1);
			out = RETRY;
			break;
		default:
			atomic_fetch_add(&c->errors[S3E_NETWORK], 1);
			break;
		}
		goto done;
	}
	if (r->body && r->body_len && r->status >= 300)
		s3_xml_error_code(r->body, r->body_len, r->err_code, sizeof(r->err_code));
	if (r->status >= 200 && r->status < 300) {
		if (q->dst) {
			if (r->got != q->range_len) {
				/* A body that ended early: the connection broke mid-way. */
				atomic_fetch_add(&c->errors[S3E_SHORT], 1);
				keep = false;
				out = RETRY;
				goto done;
			}
			if (q->if_match && r->etag[0] && strcmp(r->etag, q->if_match) != 0) {
				atomic_fetch_add(&c->errors[S3E_STALE], 1);
				*err = ESTALE;
				goto done;
			}
		}
		out = DONE;
		goto done;
	}
	if (r->status == 429 || r->status == 503 || strcmp(r->err_code, "SlowDown") == 0) {
		atomic_fetch_add(&c->errors[S3E_THROTTLE], 1);
		out = RETRY;
		goto done;
	}
	if (r->status >= 500 || strcmp(r->err_code, "RequestTimeout") == 0) {
		atomic_fetch_add(&c->errors[S3E_HTTP_5XX], 1);
		out = RETRY;
		goto done;
	}
	atomic_fetch_add(&c->errors[S3E_HTTP_4XX], 1);
	switch (r->status) {
	case 403:
		*err = EACCES;
		break;
	case 404:
		*err = ENOENT;
		break;
	case 412:
		*err = ESTALE;
		break;
	case 416:
		out = DONE; /* the caller decides: a range past the end */
		break;
	default:
		*err = EIO;
		break;
	}
done:
	curl_slist_free_all(hdrs);
	handle_put(c, h, keep);
	return out;
}

static unsigned jitter_seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned)ts.tv_nsec ^ (unsigned)pthread_self();
}

int s3_perform(s3_client *c, const s3_req *q, s3_resp *r)
{
	double start = now_s(), delay = 0.1;
	char *url = build_url(c, q);
	unsigned seed = jitter_seed();
	int err = EIO, rc;

	memset(r, 0, sizeof(*r));
	if (!url)
		return -ENOMEM;
	for (unsigned attempt = 0;; attempt++) {
		/* Every attempt gets what is left of the budget (a second at
		 * least), so a request ends within retry_budget + 1 s. */
		double left = c->retry_budget - (now_s() - start);
		long timeout_ms = left < 1 ? 1000 : (long)(left * 1000);
		enum outcome o = attempt_once(c, q, r, url, timeout_ms, &err);
		double sleep_s;

		if (o == DONE) {
			rc = 0;
			break;
		}
		if (o == FAIL) {
			rc = -err;
			break;
		}
		/* Exponential backoff with full jitter in [delay/2, delay], never
		 * past the budget: then the request fails with EIO. */
		sleep_s = delay / 2 + (delay / 2) * ((double)rand_r(&seed) / RAND_MAX);
		if (attempt >= c->max_retries || now_s() + sleep_s - start > c->retry_budget) {
			atomic_fetch_add(&c->failures, 1);
			char why[200];

			if (r->status)
				snprintf(why, sizeof(why), "HTTP %ld%s%s after %u attempts", r->status,
					 r->err_code[0] ? " " : "", r->err_code, attempt + 1);
			else
				snprintf(why, sizeof(why), "%s, after %u attempts",
					 curl_easy_strerror((CURLcode)r->curl_code), attempt + 1);
			pthread_mutex_lock(&c->lock);
			snprintf(c->last_failure, sizeof(c->last_failure), "%s", why);
			pthread_mutex_unlock(&c->lock);
			if (!atomic_load(&c->quiet))
				fprintf(stderr, "dorafs: s3: %s of '%s' failed: %s\n",
					q->kind == S3_HEAD ? "HEAD" : q->kind == S3_LIST ? "LIST" : "GET", q->key, why);
			rc = -EIO;
			break;
		}
		atomic_fetch_add(&c->retries, 1);
		usleep((useconds_t)(sleep_s * 1e6));
		delay = delay * 2 > 5 ? 5 : delay * 2;
	}
	free(url);
	return rc;
}

const char *s3_client_endpoint(const s3_client *c)
{
	return c->endpoint_shown;
}

void s3_client_set_quiet(s3_client *c, bool quiet)
{
	atomic_store(&c->quiet, quiet);
}

void s3_client_last_failure(s3_client *c, char *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	snprintf(buf, len, "%s", c->last_failure[0] ? c->last_failure : "no valid answer");
	pthread_mutex_unlock(&c->lock);
}

const char *s3_client_creds_source(const s3_client *c)
{
	return c->creds.source;
}

void s3_client_stats_json(s3_client *c, void *obj)
{
	static const char *kinds[S3_NKINDS] = { "head", "get", "list" };
	static const char *classes[S3E_NCLASSES] = { "http_4xx", "http_5xx", "throttled", "network",
						    "stalled", "short_or_bad_range", "etag_changed" };
	json_object *req = json_object_new_object(), *errs = json_object_new_object();

	for (int i = 0; i < S3_NKINDS; i++)
		json_object_object_add(req, kinds[i], json_object_new_int64((int64_t)atomic_load(&c->requests[i])));
	for (int i = 0; i < S3E_NCLASSES; i++)
		json_object_object_add(errs, classes[i], json_object_new_int64((int64_t)atomic_load(&c->errors[i])));
	json_object_object_add(obj, "requests", req);
	json_object_object_add(obj, "errors", errs);
	json_object_object_add(obj, "bytes", json_object_new_int64((int64_t)atomic_load(&c->bytes)));
	json_object_object_add(obj, "retries", json_object_new_int64((int64_t)atomic_load(&c->retries)));
	json_object_object_add(obj, "failed_requests", json_object_new_int64((int64_t)atomic_load(&c->failures)));
	json_object_object_add(obj, "endpoint", json_object_new_string(c->endpoint_shown));
	json_object_object_add(obj, "credentials", json_object_new_string(c->creds.source));
}

void s3_client_free(s3_client *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	free(c->idle);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->base);
	free(c->endpoint_shown);
	free(c->bucket);
	free(c->sigv4);
	if (c->token_header) {
		explicit_bzero(c->token_header, strlen(c->token_header));
		free(c->token_header);
	}
	s3_creds_free(&c->creds);
	free(c);
}

int s3_client_new(const s3_settings *set, s3_creds *creds, s3_client **out, char *err, size_t errlen)
{
	s3_client *c = calloc(1, sizeof(*c));
	const char *ep = set->endpoint;
	char *aws_ep = NULL;
	const char *scheme_end, *hostpart;
	size_t eplen;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->creds = *creds;  /* takes ownership */
	memset(creds, 0, sizeof(*creds));
	/* (calloc'd: destroying a zeroed mutex or cond on failure is harmless) */
	if (pthread_mutex_init(&c->lock, NULL) != 0 || pthread_cond_init(&c->cond, NULL) != 0) {
		snprintf(err, errlen, "cannot create a lock");
		goto fail;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed: %s", curl_easy_strerror(global_rc));
		goto fail;
	}
	if (!ep) {
		if (asprintf(&aws_ep, "https://s3.%s.amazonaws.com", c->creds.region) < 0) {
			aws_ep = NULL;
			goto oom;
		}
		ep = aws_ep;
	}
	scheme_end = strstr(ep, "://");
	if (!scheme_end || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)) {
		snprintf(err, errlen, "s3.endpoint '%s' is not an http:// or https:// URL", ep);
		goto fail;
	}
	hostpart = scheme_end + 3;
	eplen = strlen(ep);
	while (eplen > (size_t)(hostpart - ep) && ep[eplen - 1] == '/')
		eplen--;
	if (strcmp(set->addressing, "path") == 0)
		c->path_style = true;
	else if (strcmp(set->addressing, "virtual") == 0)
		c->path_style = false;
	else if (strcmp(set->addressing, "auto") == 0)
		/* AWS: virtual-hosted (path-style is deprecated there) unless the
		 * bucket name cannot be a TLS host label; custom endpoints: path. */
		c->path_style = set->endpoint != NULL || strchr(set->bucket, '.') != NULL;
	else {
		snprintf(err, errlen, "s3.addressing must be auto, path or virtual, not '%s'", set->addressing);
		goto fail;
	}
	if (strpbrk(set->bucket, "/?#@ ") || !*set->bucket) {
		snprintf(err, errlen, "invalid bucket name '%s'", set->bucket);
		goto fail;
	}
	if (c->path_style) {
		if (asprintf(&c->base, "%.*s", (int)eplen, ep) < 0)
			c->base = NULL;
	} else if (asprintf(&c->base, "%.*s%s.%.*s", (int)(hostpart - ep), ep, set->bucket,
			    (int)(eplen - (size_t)(hostpart - ep)), hostpart) < 0) {
		c->base = NULL;
	}
	if (!c->base || !(c->bucket = strdup(set->bucket)))
		goto oom;
	if (asprintf(&c->endpoint_shown, "%.*s", (int)eplen, ep) < 0) {
		c->endpoint_shown = NULL;
		goto oom;
	}
	if (c->creds.access_key) {
		if (asprintf(&c->sigv4, "aws:amz:%s:s3", c->creds.region) < 0) {
			c->sigv4 = NULL;
			goto oom;
		}
		if (c->creds.session_token &&
		    asprintf(&c->token_header, "x-amz-security-token: %s", c->creds.session_token) < 0) {
			c->token_header = NULL;
			goto oom;
		}
	}
	c->connect_ms = set->connect_timeout > 0 ? (long)(set->connect_timeout * 1000) : 5000;
	c->stall_s = set->stall_timeout >= 1 ? (long)set->stall_timeout : 1;
	c->max_retries = set->max_retries;
	c->retry_budget = set->retry_budget;
	c->max = set->max_connections ? set->max_connections : 1;
	c->idle = calloc(c->max, sizeof(CURL *));
	if (!c->idle)
		goto oom;
	free(aws_ep);
	*out = c;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(aws_ep);
	s3_client_free(c);
	return -1;
}
