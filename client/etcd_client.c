/* etcd v3 over the HTTP/JSON gateway; see etcd_client.h. */
#include "etcd_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT 5.0
#define MAX_BODY (256u << 20)        /* a range answer larger than this is refused */
#define MAX_LINE (64u << 20)
#define GRPC_UNAVAILABLE 14
#define GRPC_UNAUTHENTICATED 16

struct etcd_client {
	char **endpoints;
	size_t nendpoints;
	char *username, *password;
	double timeout;
	pthread_mutex_t mu;     /* guards everything below */
	size_t current;         /* endpoint that answered last */
	CURL *curl;             /* unary calls (keeps the connection) */
	char *token;            /* auth token ... */
	size_t token_endpoint;  /* ... and the endpoint that issued it */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small JSON helpers ------------------------------------------------ */

/* int64 fields come as strings ("7668682466629665550"), sometimes as numbers. */
static int get_i64(json_object *o, const char *name, int64_t *out)
{
	json_object *v;
	const char *s;
	char *end;
	long long ll;

	*out = 0;
	if (!json_object_object_get_ex(o, name, &v) || !v)
		return 0;  /* omitted: the default, 0 */
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	errno = 0;
	ll = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return -1;
	*out = ll;
	return 0;
}

/* Decodes a base64 member into a NUL-terminated malloc'd copy. */
static int get_b64(json_object *o, const char *name, char **out, size_t *len)
{
	json_object *v;
	const char *s = "";
	guchar *raw;
	gsize n = 0;

	*out = NULL;
	*len = 0;
	if (json_object_object_get_ex(o, name, &v) && v) {
		if (!json_object_is_type(v, json_type_string))
			return -1;
		s = json_object_get_string(v);
	}
	/* g_base64_decode is lenient (skips invalid characters); the gateway
	 * only sends valid base64, and a fuzzed value just decodes to junk. */
	raw = g_base64_decode(s, &n);
	*out = malloc(n + 1);
	if (!*out) {
		g_free(raw);
		return -1;
	}
	if (n)
		memcpy(*out, raw, n);
	(*out)[n] = '\0';
	*len = n;
	g_free(raw);
	return 0;
}

static int add_b64(json_object *o, const char *name, const char *data, size_t len)
{
	gchar *b = g_base64_encode((const guchar *)data, len);
	json_object *s;

	if (!b)
		return -1;
	s = json_object_new_string(b);
	g_free(b);
	if (!s)
		return -1;
	if (json_object_object_add(o, name, s) < 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

static int add_i64_str(json_object *o, const char *name, int64_t v)
{
	char buf[32];
	json_object *s;

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	s = json_object_new_string(buf);
	if (!s)
		return -1;
	if (json_object_object_add(o, name, s) < 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

static json_object *parse_json(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *o;

	if (len > INT_MAX)
		return NULL;
	tok = json_tokener_new_ex(64);
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

void etcd_prefix_end(const char *prefix, size_t len, char *out, size_t *out_len)
{
	/* clientv3.GetPrefixRangeEnd: drop trailing 0xff bytes, bump the last. */
	while (len > 0 && (unsigned char)prefix[len - 1] == 0xff)
		len--;
	if (len == 0) {
		out[0] = '\0';
		*out_len = 1;
		return;
	}
	memcpy(out, prefix, len);
	out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
	*out_len = len;
}

void etcd_kvs_free(etcd_kv *kvs, size_t n)
{
	if (!kvs)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

static int parse_kv(json_object *o, etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	if (!json_object_is_type(o, json_type_object))
		return -1;
	if (get_b64(o, "key", &kv->key, &kv->key_len) < 0 || get_b64(o, "value", &kv->value, &kv->value_len) < 0 ||
	    get_i64(o, "create_revision", &kv->create_revision) < 0 ||
	    get_i64(o, "mod_revision", &kv->mod_revision) < 0 || get_i64(o, "lease", &kv->lease) < 0) {
		free(kv->key);
		free(kv->value);
		memset(kv, 0, sizeof(*kv));
		return -1;
	}
	return 0;
}

static int parse_kv_array(json_object *arr, etcd_kv **kvs, size_t *n)
{
	size_t len, i;
	etcd_kv *out;

	*kvs = NULL;
	*n = 0;
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	len = json_object_array_length(arr);
	if (len == 0)
		return 0;
	out = calloc(len, sizeof(*out));
	if (!out)
		return -1;
	for (i = 0; i < len; i++) {
		if (parse_kv(json_object_array_get_idx(arr, i), &out[i]) < 0) {
			etcd_kvs_free(out, i);
			return -1;
		}
	}
	*kvs = out;
	*n = len;
	return 0;
}

int etcd_parse_range(const char *json, size_t len, etcd_kv **kvs, size_t *n, int64_t *revision,
		     char *err, size_t errlen)
{
	json_object *o = parse_json(json, len), *v = NULL, *h;
	int rc = -1;

	*kvs = NULL;
	*n = 0;
	*revision = 0;
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "unreadable range answer from etcd");
		goto out;
	}
	if (json_object_object_get_ex(o, "header", &h) && h && json_object_is_type(h, json_type_object) &&
	    get_i64(h, "revision", revision) < 0) {
		snprintf(err, errlen, "bad revision in etcd's range answer");
		goto out;
	}
	json_object_object_get_ex(o, "kvs", &v);
	if (parse_kv_array(v, kvs, n) < 0) {
		snprintf(err, errlen, "bad kvs in etcd's range answer");
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* ---- the client ------------------------------------------------------- */

/* Accepts http(s)://host[:port][/]; returns a normalised copy or NULL. */
static char *check_endpoint(const char *s, size_t len, char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *copy = strndup(s, len), *scheme = NULL, *host = NULL, *path = NULL, *out = NULL;
	size_t n;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, copy, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host ||
	    (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") != 0) ||
	    strncmp(copy, scheme, strlen(scheme)) != 0) {
		snprintf(err, errlen, "bad etcd endpoint '%s' (expected http://host:port)", copy);
		goto out;
	}
	/* Keep it as given, less a trailing '/'. */
	n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	out = copy;
	copy = NULL;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	free(copy);
	return out;
}

etcd_client *etcd_client_new(const etcd_options *o, char *err, size_t errlen)
{
	etcd_client *c = NULL;
	const char *p;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return NULL;
	}
	if (!o->endpoints || !*o->endpoints) {
		snprintf(err, errlen, "no etcd endpoints (set etcd_endpoints / alluxio.etcd.endpoints)");
		return NULL;
	}
	if ((o->username && *o->username) != (o->password && *o->password)) {
		snprintf(err, errlen, "etcd_username and etcd_password must be set together");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		c = NULL;
		goto nomem;
	}
	c->timeout = o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
	for (p = o->endpoints; *p;) {
		size_t len = strcspn(p, ",; \t");
		char **ne, *ep;

		if (len == 0) {
			p++;
			continue;
		}
		ep = check_endpoint(p, len, err, errlen);
		if (!ep)
			goto fail;
		ne = realloc(c->endpoints, (c->nendpoints + 1) * sizeof(char *));
		if (!ne) {
			free(ep);
			goto nomem;
		}
		c->endpoints = ne;
		c->endpoints[c->nendpoints++] = ep;
		p += len;
	}
	if (c->nendpoints == 0) {
		snprintf(err, errlen, "no etcd endpoints in '%s'", o->endpoints);
		goto fail;
	}
	if (o->username && *o->username) {
		c->username = strdup(o->username);
		c->password = strdup(o->password);
		if (!c->username || !c->password)
			goto nomem;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		goto nomem;
	return c;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	etcd_client_free(c);
	return NULL;
}

void etcd_client_free(etcd_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nendpoints; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->username);
	free(c->password);
	free(c->token);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

size_t etcd_client_endpoint_count(const etcd_client *c)
{
	return c->nendpoints;
}

const char *etcd_client_endpoint(const etcd_client *c, size_t i)
{
	return i < c->nendpoints ? c->endpoints[i] : NULL;
}

const char *etcd_client_current(etcd_client *c)
{
	const char *e;

	pthread_mutex_lock(&c->mu);
	e = c->endpoints[c->current];
	pthread_mutex_unlock(&c->mu);
	return e;
}

typedef struct {
	char *data;
	size_t len, cap;
} buf_t;

static size_t buf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	buf_t *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > MAX_BODY)
		return 0;   /* aborts the transfer */
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		char *nd;

		while (nc < b->len + n + 1)
			nc *= 2;
		nd = realloc(b->data, nc);
		if (!nd)
			return 0;
		b->data = nd;
		b->cap = nc;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Result of one HTTP exchange with one endpoint. */
enum { XC_OK = 0, XC_UNREACHABLE = 1, XC_ETCD_ERROR = 2, XC_AUTH = 3 };

/*
 * POSTs body to endpoint ep + path on curl (locked by the caller).  On
 * XC_OK, *resp holds the answer.  Errors describe themselves in err.
 */
static int exchange(etcd_client *c, const char *ep, const char *path, const char *body, const char *token,
		    buf_t *resp, char *err, size_t errlen)
{
	char url[1024], auth[1100];
	struct curl_slist *hdr = NULL, *h2;
	char ebuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	long status = 0;
	int rc = XC_UNREACHABLE;

	snprintf(url, sizeof(url), "%s%s", ep, path);
	curl_easy_reset(c->curl);
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!hdr) {
		snprintf(err, errlen, "out of memory");
		return XC_ETCD_ERROR;
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: %s", token);
		h2 = curl_slist_append(hdr, auth);
		if (!h2) {
			curl_slist_free_all(hdr);
			snprintf(err, errlen, "out of memory");
			return XC_ETCD_ERROR;
		}
		hdr = h2;
	}
	if (curl_easy_setopt(c->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000)) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout * 1000 < 2000 ? c->timeout * 1000 : 2000)) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, buf_write) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused an option");
		rc = XC_ETCD_ERROR;
		goto out;
	}
	cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", ep, ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (status == 200) {
		rc = XC_OK;
		goto out;
	}
	{
		/* {"error":"...","code":N,"message":"..."} */
		json_object *o = resp->data ? parse_json(resp->data, resp->len) : NULL, *m = NULL, *cd = NULL;
		int code = -1;

		if (o && json_object_is_type(o, json_type_object)) {
			if (json_object_object_get_ex(o, "code", &cd))
				code = json_object_get_int(cd);
			if (!json_object_object_get_ex(o, "message", &m))
				json_object_object_get_ex(o, "error", &m);
		}
		snprintf(err, errlen, "%s: HTTP %ld%s%s", ep, status, m ? ": " : "",
			 m ? json_object_get_string(m) : "");
		if (code == GRPC_UNAUTHENTICATED)
			rc = XC_AUTH;
		else if (code == GRPC_UNAVAILABLE || status >= 500 || status == 404 || !o)
			/* 404/HTML: not an etcd gateway there; 5xx/unavailable: a member
			 * without quorum; the next endpoint may do better. */
			rc = XC_UNREACHABLE;
		else
			rc = XC_ETCD_ERROR;
		json_object_put(o);
	}
out:
	curl_slist_free_all(hdr);
	return rc;
}

/* Gets a token from endpoint i (locked).  0 or an XC_* error. */
static int authenticate(etcd_client *c, size_t i, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL, *t;
	buf_t b = { 0 };
	int rc = XC_ETCD_ERROR;
	json_object *name = NULL, *pass = NULL;

	if (!req)
		goto nomem;
	name = json_object_new_string(c->username);
	pass = json_object_new_string(c->password);
	if (!name || !pass || json_object_object_add(req, "name", name) < 0) {
		json_object_put(name);
		json_object_put(pass);
		goto nomem;
	}
	if (json_object_object_add(req, "password", pass) < 0) {
		json_object_put(pass);
		goto nomem;
	}
	rc = exchange(c, c->endpoints[i], "/v3/auth/authenticate", json_object_to_json_string(req), NULL, &b,
		      err, errlen);
	if (rc == XC_AUTH || (rc == XC_ETCD_ERROR && strstr(err, "authentication failed"))) {
		rc = XC_ETCD_ERROR;
		snprintf(err, errlen, "%s: etcd refused user '%s' (wrong etcd_username/etcd_password?)",
			 c->endpoints[i], c->username);
	}
	if (rc != XC_OK)
		goto out;
	resp = parse_json(b.data ? b.data : "", b.len);
	if (!resp || !json_object_object_get_ex(resp, "token", &t) || !json_object_is_type(t, json_type_string)) {
		snprintf(err, errlen, "%s: no token in etcd's authenticate answer", c->endpoints[i]);
		rc = XC_ETCD_ERROR;
		goto out;
	}
	free(c->token);
	c->token = strdup(json_object_get_string(t));
	if (!c->token)
		goto nomem;
	c->token_endpoint = i;
	rc = XC_OK;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = XC_ETCD_ERROR;
out:
	json_object_put(req);
	json_object_put(resp);
	free(b.data);
	return rc;
}

/*
 * One unary call: tries every endpoint once, starting with the current one.
 * On success *out is the parsed answer (an object; caller puts it).
 */
static int call(etcd_client *c, const char *path, json_object *req, json_object **out, char *err, size_t errlen)
{
	const char *body = json_object_to_json_string(req);
	char e1[512] = "", all[1024] = "";
	int rc = -1;

	*out = NULL;
	if (!body) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	for (size_t k = 0; k < c->nendpoints; k++) {
		size_t i = (c->current + k) % c->nendpoints;
		buf_t b = { 0 };
		int x = XC_OK;

		for (int attempt = 0; attempt < 2; attempt++) {
			if (c->username && (!c->token || c->token_endpoint != i))
				x = authenticate(c, i, e1, sizeof(e1));
			if (x == XC_OK) {
				b.len = 0;
				x = exchange(c, c->endpoints[i], path, body, c->username ? c->token : NULL, &b, e1,
					     sizeof(e1));
			}
			if (x != XC_AUTH)
				break;
			/* Expired or foreign token: get a new one, once. */
			free(c->token);
			c->token = NULL;
		}
		if (x == XC_OK) {
			json_object *o = parse_json(b.data ? b.data : "", b.len);

			free(b.data);
			if (!o || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				snprintf(err, errlen, "%s: unreadable answer to %s", c->endpoints[i], path);
				goto out;
			}
			c->current = i;
			*out = o;
			rc = 0;
			goto out;
		}
		free(b.data);
		if (x != XC_UNREACHABLE) {
			snprintf(err, errlen, "%s", e1);
			goto out;
		}
		if (all[0])
			strncat(all, "; ", sizeof(all) - strlen(all) - 1);
		strncat(all, e1, sizeof(all) - strlen(all) - 1);
	}
	snprintf(err, errlen, "cannot reach etcd (%s)", all);
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int etcd_range_prefix(etcd_client *c, const char *prefix, size_t prefix_len, etcd_kv **kvs,
		      size_t *n, int64_t *revision, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL, *h, *v = NULL;
	char *end = malloc(prefix_len + 1);
	size_t end_len;
	int rc = -1;

	*kvs = NULL;
	*n = 0;
	*revision = 0;
	if (!req || !end)
		goto nomem;
	etcd_prefix_end(prefix, prefix_len, end, &end_len);
	if (add_b64(req, "key", prefix, prefix_len) < 0 || add_b64(req, "range_end", end, end_len) < 0)
		goto nomem;
	if (call(c, "/v3/kv/range", req, &resp, err, errlen) < 0)
		goto out;
	if (json_object_object_get_ex(resp, "header", &h) && get_i64(h, "revision", revision) < 0) {
		snprintf(err, errlen, "%s: bad revision in range answer", etcd_client_current(c));
		goto out;
	}
	json_object_object_get_ex(resp, "kvs", &v);
	if (parse_kv_array(v, kvs, n) < 0) {
		snprintf(err, errlen, "%s: bad kvs in range answer", etcd_client_current(c));
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	free(end);
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

int etcd_put(etcd_client *c, const char *key, size_t key_len, const char *value, size_t value_len,
	     int64_t lease, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL;
	int rc = -1;

	if (!req || add_b64(req, "key", key, key_len) < 0 || add_b64(req, "value", value, value_len) < 0 ||
	    (lease && add_i64_str(req, "lease", lease) < 0)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = call(c, "/v3/kv/put", req, &resp, err, errlen);
out:
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

int etcd_delete(etcd_client *c, const char *key, size_t key_len, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL;
	int rc = -1;

	if (!req || add_b64(req, "key", key, key_len) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = call(c, "/v3/kv/deleterange", req, &resp, err, errlen);
out:
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

int etcd_lease_grant(etcd_client *c, int64_t ttl, int64_t *id, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL;
	int rc = -1;

	*id = 0;
	if (!req || add_i64_str(req, "TTL", ttl) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (call(c, "/v3/lease/grant", req, &resp, err, errlen) < 0)
		goto out;
	if (get_i64(resp, "ID", id) < 0 || *id == 0) {
		snprintf(err, errlen, "%s: no lease ID in grant answer", etcd_client_current(c));
		goto out;
	}
	rc = 0;
out:
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

int etcd_lease_keepalive(etcd_client *c, int64_t id, int64_t *ttl, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL, *r;
	int rc = -1;

	*ttl = 0;
	if (!req || add_i64_str(req, "ID", id) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (call(c, "/v3/lease/keepalive", req, &resp, err, errlen) < 0)
		goto out;
	/* {"result":{"header":...,"ID":"..","TTL":"5"}}; an expired lease
	 * answers without TTL (0). */
	if (!json_object_object_get_ex(resp, "result", &r) || !r || get_i64(r, "TTL", ttl) < 0) {
		snprintf(err, errlen, "%s: unreadable keepalive answer", etcd_client_current(c));
		goto out;
	}
	rc = 0;
out:
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

int etcd_lease_revoke(etcd_client *c, int64_t id, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *resp = NULL;
	int rc = -1;

	if (!req || add_i64_str(req, "ID", id) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = call(c, "/v3/lease/revoke", req, &resp, err, errlen);
out:
	json_object_put(req);
	json_object_put(resp);
	return rc;
}

/* ---- watch -------------------------------------------------------------- */

struct etcd_watch_decoder {
	etcd_watch_cb cb;
	void *arg;
	buf_t line;
};

etcd_watch_decoder *etcd_watch_decoder_new(etcd_watch_cb cb, void *arg)
{
	etcd_watch_decoder *d = calloc(1, sizeof(*d));

	if (d) {
		d->cb = cb;
		d->arg = arg;
	}
	return d;
}

void etcd_watch_decoder_free(etcd_watch_decoder *d)
{
	if (!d)
		return;
	free(d->line.data);
	free(d);
}

static void events_free(etcd_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ev[i].kv.key);
		free(ev[i].kv.value);
	}
	free(ev);
}

/* One line: {"result":{"header":{..},"created":true,"events":[..]}} or {"error":..}. */
static int decode_line(etcd_watch_decoder *d, const char *s, size_t len, bool *created, char *err, size_t errlen)
{
	json_object *o = parse_json(s, len), *r, *v, *arr = NULL;
	etcd_event *ev = NULL;
	size_t n = 0;
	int64_t rev = 0;
	int rc = -1;

	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "malformed line in etcd's watch stream");
		goto out;
	}
	if (!json_object_object_get_ex(o, "result", &r) || !r || !json_object_is_type(r, json_type_object)) {
		json_object *m = NULL;

		if (!json_object_object_get_ex(o, "error", &m) || !m)
			json_object_object_get_ex(o, "message", &m);
		snprintf(err, errlen, "etcd ended the watch: %s", m ? json_object_get_string(m) : "no result");
		goto out;
	}
	if (json_object_object_get_ex(r, "created", &v) && json_object_get_boolean(v))
		*created = true;
	if (json_object_object_get_ex(r, "canceled", &v) && json_object_get_boolean(v)) {
		json_object *m = NULL;
		int64_t compact = 0;

		get_i64(r, "compact_revision", &compact);
		json_object_object_get_ex(r, "cancel_reason", &m);
		if (compact)
			snprintf(err, errlen, "etcd cancelled the watch: revision compacted (now %" PRId64 ")", compact);
		else
			snprintf(err, errlen, "etcd cancelled the watch%s%s", m ? ": " : "",
				 m ? json_object_get_string(m) : "");
		goto out;
	}
	if (json_object_object_get_ex(r, "header", &v) && v && json_object_is_type(v, json_type_object) &&
	    get_i64(v, "revision", &rev) < 0) {
		snprintf(err, errlen, "bad revision in etcd's watch stream");
		goto out;
	}
	json_object_object_get_ex(r, "events", &arr);
	if (arr && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) > 0) {
		size_t len2 = json_object_array_length(arr);

		ev = calloc(len2, sizeof(*ev));
		if (!ev) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (n = 0; n < len2; n++) {
			json_object *e = json_object_array_get_idx(arr, n), *t, *kv;

			if (!e || !json_object_is_type(e, json_type_object) ||
			    !json_object_object_get_ex(e, "kv", &kv) || parse_kv(kv, &ev[n].kv) < 0) {
				snprintf(err, errlen, "bad event in etcd's watch stream");
				goto out;
			}
			/* A PUT has no "type" (the default value is omitted). */
			ev[n].type = json_object_object_get_ex(e, "type", &t) &&
					     strcmp(json_object_get_string(t), "DELETE") == 0
				     ? ETCD_EV_DELETE : ETCD_EV_PUT;
		}
		rc = d->cb(d->arg, ev, n, rev) ? 1 : 0;
		goto out;
	} else if (arr && !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "bad events in etcd's watch stream");
		goto out;
	}
	rc = 0;
out:
	events_free(ev, n);
	json_object_put(o);
	return rc;
}

int etcd_watch_decoder_feed(etcd_watch_decoder *d, const char *buf, size_t len, bool *created,
			    char *err, size_t errlen)
{
	/* Objects may be split across (and share) network reads: keep the
	 * partial line, decode every complete one. */
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t take = nl ? (size_t)(nl - buf) : len;
		int rc;

		if (d->line.len + take > MAX_LINE) {
			snprintf(err, errlen, "watch line longer than %u bytes", MAX_LINE);
			return -1;
		}
		if (take && buf_write((char *)buf, 1, take, &d->line) != take) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (!nl)
			return 0;
		buf += take + 1;
		len -= take + 1;
		if (d->line.len == 0)
			continue;
		rc = decode_line(d, d->line.data, d->line.len, created, err, errlen);
		d->line.len = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

typedef struct {
	etcd_watch_decoder *dec;
	etcd_watch_stop_cb should_stop;
	void *arg;
	bool created, stopped, failed;
	char err[512];
} watch_ctx;

static size_t watch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	watch_ctx *w = arg;
	int rc = etcd_watch_decoder_feed(w->dec, ptr, size * nmemb, &w->created, w->err, sizeof(w->err));

	if (rc == 1)
		w->stopped = true;
	else if (rc < 0)
		w->failed = true;
	return rc == 0 ? size * nmemb : 0;
}

static int watch_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	watch_ctx *w = arg;

	(void)dt; (void)dn; (void)ut; (void)un;
	if (w->should_stop && w->should_stop(w->arg)) {
		w->stopped = true;
		return 1;
	}
	return 0;
}

int etcd_watch_prefix(etcd_client *c, const char *prefix, size_t prefix_len, int64_t start_revision,
		      etcd_watch_cb cb, etcd_watch_stop_cb should_stop, void *arg, char *err, size_t errlen)
{
	json_object *req = json_object_new_object(), *cr = json_object_new_object();
	char *end = malloc(prefix_len + 1), url[1024], auth[1100], ebuf[CURL_ERROR_SIZE] = "";
	size_t end_len, i;
	struct curl_slist *hdr = NULL, *h2;
	watch_ctx w = { .should_stop = should_stop, .arg = arg };
	CURL *curl = NULL;
	CURLcode cc;
	long status = 0;
	int rc = -1;

	if (!req || !cr || !end)
		goto nomem;
	etcd_prefix_end(prefix, prefix_len, end, &end_len);
	if (add_b64(cr, "key", prefix, prefix_len) < 0 || add_b64(cr, "range_end", end, end_len) < 0 ||
	    (start_revision > 0 && add_i64_str(cr, "start_revision", start_revision) < 0))
		goto nomem;
	if (json_object_object_add(req, "create_request", cr) < 0)
		goto nomem;
	cr = NULL;
	w.dec = etcd_watch_decoder_new(cb, arg);
	curl = curl_easy_init();
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!w.dec || !curl || !hdr)
		goto nomem;
	/* The endpoint (and token) that answered last; a unary call made
	 * before the watch (the range) has picked a reachable one. */
	pthread_mutex_lock(&c->mu);
	i = c->current;
	if (c->username && (!c->token || c->token_endpoint != i)) {
		int x = authenticate(c, i, err, errlen);

		if (x != XC_OK) {
			pthread_mutex_unlock(&c->mu);
			goto out;
		}
	}
	snprintf(url, sizeof(url), "%s/v3/watch", c->endpoints[i]);
	if (c->username)
		snprintf(auth, sizeof(auth), "Authorization: %s", c->token);
	pthread_mutex_unlock(&c->mu);
	if (c->username) {
		h2 = curl_slist_append(hdr, auth);
		if (!h2)
			goto nomem;
		hdr = h2;
	}
	if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_object_to_json_string(req)) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, watch_write) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &w) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, watch_progress) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &w) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
	    /* A silent etcd host (no FIN) is found by TCP keepalive. */
	    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 10L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 5L) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused an option");
		goto out;
	}
	cc = curl_easy_perform(curl);
	if (w.stopped) {
		rc = 0;
		goto out;
	}
	if (w.failed) {
		snprintf(err, errlen, "%s: %s", url, w.err);
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	snprintf(err, errlen, "%s: watch stream ended (HTTP %ld)", url, status);
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	if (curl)
		curl_easy_cleanup(curl);
	curl_slist_free_all(hdr);
	etcd_watch_decoder_free(w.dec);
	json_object_put(cr);
	json_object_put(req);
	free(end);
	return rc;
}
