/* Alluxio worker entity JSON and the static workers file; see worker_entity.h. */
#include "worker_entity.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hashring.h"

/* ---- JSON -------------------------------------------------------------- */

/* An integral double within int32, or -1. */
static int double_to_int32(double d, int32_t *out)
{
	if (d >= INT32_MIN && d <= INT32_MAX && d == (double)(int32_t)d) {
		*out = (int32_t)d;
		return 0;
	}
	return -1;
}

/*
 * An int field as Gson's int adapter (JsonReader.nextInt) reads it: a JSON
 * number, or a string holding one, that is integral and within int32 (Gson
 * throws otherwise, and Alluxio then skips the whole entry).
 */
static int get_int32(json_object *o, const char *name, int32_t *out, char *err, size_t errlen)
{
	json_object *v;
	const char *s;
	char *end;
	long long ll;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;     /* absent or null: keep the default */
	switch (json_object_get_type(v)) {
	case json_type_int:
		errno = 0;
		ll = (long long)json_object_get_int64(v);
		if (errno == 0 && ll >= INT32_MIN && ll <= INT32_MAX) {
			*out = (int32_t)ll;
			return 0;
		}
		break;
	case json_type_double:
		if (double_to_int32(json_object_get_double(v), out) == 0)
			return 0;
		break;
	case json_type_string:
		s = json_object_get_string(v);
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (*s && *end == '\0' && errno == 0 && ll >= INT32_MIN && ll <= INT32_MAX) {
			*out = (int32_t)ll;
			return 0;
		}
		/* "29999.0" in quotes: Gson falls back to parsing a double. */
		{
			double d;

			errno = 0;
			d = strtod(s, &end);
			if (*s && *end == '\0' && errno == 0 && double_to_int32(d, out) == 0)
				return 0;
		}
		break;
	default:
		break;
	}
	snprintf(err, errlen, "field %s is not a 32-bit integer", name);
	return -1;
}

/*
 * A string field as Gson's String adapter reads it: a string, or the text of
 * a number or boolean literal.  Absent or null keeps the default; too long
 * (or holding a NUL) is an error.
 */
static int get_str(json_object *o, const char *name, char *out, size_t size, char *err, size_t errlen)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		break;
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		s = json_object_get_string(v);
		n = strlen(s);
		break;
	default:
		snprintf(err, errlen, "field %s is not a string", name);
		return -1;
	}
	if (n >= size || memchr(s, '\0', n)) {
		snprintf(err, errlen, "field %s is too long or holds a NUL", name);
		return -1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int parse_identity(json_object *id, dfs_worker_entity *e, char *err, size_t errlen)
{
	json_object *v;
	const char *hex;
	size_t n, want;
	int64_t ver;

	if (!json_object_is_type(id, json_type_object)) {
		snprintf(err, errlen, "Identity is not an object");
		return -1;
	}
	/*
	 * WorkerIdentity's Gson deserialiser: version must be a JSON number,
	 * read with JsonPrimitive.getAsInt(), which truncates a fraction and
	 * keeps the low 32 bits of a long (LazilyParsedNumber.intValue()).
	 */
	if (!json_object_object_get_ex(id, "version", &v) ||
	    (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))) {
		snprintf(err, errlen, "Identity.version missing or not a number");
		return -1;
	}
	if (json_object_is_type(v, json_type_int)) {
		ver = (int32_t)(uint32_t)(uint64_t)json_object_get_int64(v);
	} else {
		double d = json_object_get_double(v);

		if (!(d > -9.2e18 && d < 9.2e18)) {
			snprintf(err, errlen, "Identity.version out of range");
			return -1;
		}
		ver = (int32_t)(uint32_t)(uint64_t)(int64_t)d;
	}
	if (ver != 0 && ver != 1) {
		snprintf(err, errlen, "Identity.version %" PRId64 " is not 0 or 1", ver);
		return -1;
	}
	if (!json_object_object_get_ex(id, "identifier", &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "Identity.identifier missing or not a string");
		return -1;
	}
	hex = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	want = ver == 1 ? 16 : 8;
	if (n != want * 2) {
		snprintf(err, errlen, "Identity.identifier has %zu hex digits, version %d needs %zu",
			 n, (int)ver, want * 2);
		return -1;
	}
	for (size_t i = 0; i < want; i++) {
		int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "Identity.identifier is not hex");
			return -1;
		}
		e->id[i] = (uint8_t)(hi << 4 | lo);
	}
	e->id_len = (uint8_t)want;
	e->version = (int32_t)ver;
	return 0;
}

static int parse_address(json_object *a, dfs_worker_addr *addr, char *err, size_t errlen)
{
	if (!json_object_is_type(a, json_type_object)) {
		snprintf(err, errlen, "WorkerNetAddress is not an object");
		return -1;
	}
	if (get_str(a, "Host", addr->host, sizeof(addr->host), err, errlen) < 0 ||
	    get_str(a, "ContainerHost", addr->container_host, sizeof(addr->container_host), err, errlen) < 0 ||
	    get_int32(a, "RpcPort", &addr->rpc_port, err, errlen) < 0 ||
	    get_int32(a, "DataPort", &addr->data_port, err, errlen) < 0 ||
	    get_int32(a, "SecureRpcPort", &addr->secure_rpc_port, err, errlen) < 0 ||
	    get_int32(a, "NettyDataPort", &addr->netty_data_port, err, errlen) < 0 ||
	    get_int32(a, "WebPort", &addr->web_port, err, errlen) < 0 ||
	    get_str(a, "DomainSocketPath", addr->domain_socket, sizeof(addr->domain_socket), err, errlen) < 0 ||
	    get_int32(a, "HttpServerPort", &addr->http_port, err, errlen) < 0)
		return -1;
	return 0;
}

int dfs_worker_entity_parse(const char *json, size_t len, dfs_worker_entity *out,
			    char *err, size_t errlen)
{
	json_tokener *tok = NULL;
	json_object *root = NULL, *v;
	dfs_worker_entity e;
	int rc = -1;

	memset(&e, 0, sizeof(e));
	e.generation = -1;
	if (len > INT_MAX) {
		snprintf(err, errlen, "value too large");
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(err, errlen, "not valid JSON");
		goto out;
	}
	/* Gson rejects a document with anything but blanks after the value. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
			snprintf(err, errlen, "trailing data after the JSON object");
			goto out;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(root, "Identity", &v) || v == NULL) {
		snprintf(err, errlen, "no Identity");
		goto out;
	}
	if (parse_identity(v, &e, err, errlen) < 0)
		goto out;
	if (!json_object_object_get_ex(root, "WorkerNetAddress", &v) || v == NULL) {
		snprintf(err, errlen, "no WorkerNetAddress");
		goto out;
	}
	if (parse_address(v, &e.addr, err, errlen) < 0)
		goto out;
	/* Gson maps an unknown enum constant to null rather than failing. */
	if (json_object_object_get_ex(root, "State", &v) && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (strcmp(s, "JOINED") == 0 || strcmp(s, "AUTHORIZED") == 0 || strcmp(s, "DECOMMISSIONED") == 0)
			snprintf(e.state, sizeof(e.state), "%s", s);
	}
	if (get_int32(root, "GenerationNumber", &e.generation, err, errlen) < 0)
		goto out;
	*out = e;
	rc = 0;
out:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

void dfs_worker_entity_id_string(const dfs_worker_entity *e, char *buf, size_t len)
{
	if (e->version == 1 && e->id_len == 16) {
		char s[37];

		hr_uuid_format(e->id, s);
		snprintf(buf, len, "%s", s);
	} else {
		uint64_t v = 0;

		for (int i = 0; i < e->id_len && i < 8; i++)
			v = v << 8 | e->id[i];
		snprintf(buf, len, "%" PRId64, (int64_t)v);
	}
}

void dfs_worker_entity_name(const dfs_worker_entity *e, char *buf, size_t len)
{
	char id[40];

	dfs_worker_entity_id_string(e, id, sizeof(id));
	snprintf(buf, len, "worker-%s", id);
}

/* Adds a string member; json-c copies it. */
static int add_str(json_object *o, const char *k, const char *v)
{
	json_object *s = json_object_new_string(v);

	if (!s)
		return -1;
	if (json_object_object_add(o, k, s) < 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

static int add_int(json_object *o, const char *k, int32_t v)
{
	json_object *i = json_object_new_int(v);

	if (!i)
		return -1;
	if (json_object_object_add(o, k, i) < 0) {
		json_object_put(i);
		return -1;
	}
	return 0;
}

static int add_obj(json_object *o, const char *k, json_object *child)
{
	if (json_object_object_add(o, k, child) < 0) {
		json_object_put(child);
		return -1;
	}
	return 0;
}

char *dfs_worker_entity_to_json(const dfs_worker_entity *e)
{
	json_object *root = json_object_new_object(), *id = NULL, *a = NULL;
	char hex[33], name[64];
	char *out = NULL;
	const dfs_worker_addr *ad = &e->addr;

	if (!root)
		return NULL;
	for (int i = 0; i < e->id_len && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", e->id[i]);
	hex[2 * (e->id_len < 16 ? e->id_len : 16)] = '\0';
	dfs_worker_entity_name(e, name, sizeof(name));
	id = json_object_new_object();
	if (!id || add_int(id, "version", e->version) < 0 || add_str(id, "identifier", hex) < 0) {
		json_object_put(id);
		goto out;
	}
	if (add_obj(root, "Identity", id) < 0)
		goto out;
	a = json_object_new_object();
	if (!a || add_str(a, "Host", ad->host) < 0 || add_str(a, "ContainerHost", ad->container_host) < 0 ||
	    add_int(a, "RpcPort", ad->rpc_port) < 0 || add_int(a, "DataPort", ad->data_port) < 0 ||
	    add_int(a, "SecureRpcPort", ad->secure_rpc_port) < 0 ||
	    add_int(a, "NettyDataPort", ad->netty_data_port) < 0 || add_int(a, "WebPort", ad->web_port) < 0 ||
	    add_str(a, "DomainSocketPath", ad->domain_socket) < 0 || add_int(a, "HttpServerPort", ad->http_port) < 0) {
		json_object_put(a);
		goto out;
	}
	if (add_obj(root, "WorkerNetAddress", a) < 0 ||
	    add_str(root, "State", e->state[0] ? e->state : "AUTHORIZED") < 0 ||
	    add_int(root, "GenerationNumber", e->generation) < 0 || add_str(root, "ServiceEntityName", name) < 0)
		goto out;
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(root);
	return out;
}

int dfs_worker_entity_static(const char *host, int32_t rpc, int32_t data, int32_t web,
			     int32_t http, dfs_worker_entity *out)
{
	size_t n = strlen(host);

	if (n == 0 || n >= DFS_HOST_MAX)
		return -1;
	memset(out, 0, sizeof(*out));
	/* WorkerIdentity.ParserV1.fromUUID(UUID.nameUUIDFromBytes(host UTF-8)). */
	hr_uuid_name_based(host, n, out->id);
	out->id_len = 16;
	out->version = 1;
	memcpy(out->addr.host, host, n + 1);
	out->addr.rpc_port = rpc;
	out->addr.data_port = data;
	out->addr.netty_data_port = data;
	out->addr.web_port = web;
	out->addr.http_port = http;
	out->generation = -1;
	snprintf(out->state, sizeof(out->state), "AUTHORIZED");
	return 0;
}

/* ---- workers file ----------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left, uint32_t *cp)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int32_t dfs_java_string_hash(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t h = 0, cp;
	size_t i = 0, n;

	/* Java's String.hashCode: h = 31*h + c over UTF-16 code units, int32 wrap. */
	while (i < len) {
		n = utf8_seq(p + i, len - i, &cp);
		if (n == 0) {
			cp = 0xfffd;
			n = 1;
		}
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;

			h = 31 * h + (0xd800 + (v >> 10));
			h = 31 * h + (0xdc00 + (v & 0x3ff));
		} else {
			h = 31 * h + cp;
		}
		i += n;
	}
	return (int32_t)h;
}

typedef struct {
	const char *s;
	size_t len;
	uint32_t hash;   /* HashMap.hash(): h ^ (h >>> 16) */
	size_t seq;      /* insertion order */
	size_t bucket;
} node_t;

static int by_bucket(const void *a, const void *b)
{
	const node_t *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The capacity java.util.HashMap (as behind new HashSet<>()) has after these
 * insertions: 16 initially, doubled when size exceeds 0.75 * capacity, and
 * also when a bucket reaches 9 entries while the table is smaller than 64
 * (treeifyBin resizes instead of building a tree).  Within a bucket, entries
 * stay in insertion order across resizes, so iteration order is (bucket at
 * the final capacity, insertion order).  Buckets that do become trees (9+
 * colliding host names with a table of 64 or more) are not modelled.
 * Returns 0 on out of memory.
 */
static size_t java_hashset_capacity(const node_t *nodes, size_t n)
{
	size_t cap = 16, *count = calloc(cap, sizeof(size_t));

	if (!count)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t ncap = cap;

		/* putVal: treeifyBin's resize first, then the size threshold
		 * of the (possibly already doubled) table. */
		if (++count[nodes[i].hash & (cap - 1)] >= 9 && ncap < 64)
			ncap *= 2;
		if (i + 1 > ncap / 4 * 3)
			ncap *= 2;
		if (ncap != cap) {
			cap = ncap;
			free(count);
			count = calloc(cap, sizeof(size_t));
			if (!count)
				return 0;
			for (size_t j = 0; j <= i; j++)
				count[nodes[j].hash & (cap - 1)]++;
		}
	}
	free(count);
	return cap;
}

int dfs_workers_file_parse(const char *text, size_t len, char ***hosts, size_t *n,
			   char *err, size_t errlen)
{
	node_t *nodes = NULL;
	size_t nn = 0, cap = 0, total = 0, line = 0, i = 0;
	char **out = NULL, *strs;
	int rc = -1;

	*hosts = NULL;
	*n = 0;
	while (i < len) {
		size_t start = i, end, b, e;
		uint32_t cp;
		bool dup = false;

		/* Files.readAllLines ends a line at \n, \r or \r\n. */
		while (i < len && text[i] != '\n' && text[i] != '\r')
			i++;
		end = i;
		if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			i++;
		if (i < len)
			i++;
		line++;
		/* String.trim(): every char <= ' ' on both ends. */
		b = start;
		e = end;
		while (b < e && (unsigned char)text[b] <= ' ')
			b++;
		while (e > b && (unsigned char)text[e - 1] <= ' ')
			e--;
		if (b == e || text[b] == '#')
			continue;
		for (size_t k = b; k < e;) {
			size_t l = utf8_seq((const unsigned char *)text + k, e - k, &cp);

			if (l == 0) {
				snprintf(err, errlen, "line %zu: not valid UTF-8", line);
				goto out;
			}
			if (cp <= ' ') {
				snprintf(err, errlen, "line %zu: '%.*s' is not one host name (only lines "
					 "starting with '#' are comments)", line, (int)(e - b > 200 ? 200 : e - b), text + b);
				goto out;
			}
			k += l;
		}
		if (e - b >= DFS_HOST_MAX) {
			snprintf(err, errlen, "line %zu: host name longer than %d bytes", line, DFS_HOST_MAX - 1);
			goto out;
		}
		for (size_t k = 0; k < nn && !dup; k++)
			dup = nodes[k].len == e - b && memcmp(nodes[k].s, text + b, e - b) == 0;
		if (dup)
			continue;
		if (nn == cap) {
			size_t nc = cap ? cap * 2 : 16;
			node_t *nw = realloc(nodes, nc * sizeof(*nodes));

			if (!nw) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			nodes = nw;
			cap = nc;
		}
		{
			uint32_t h = (uint32_t)dfs_java_string_hash(text + b, e - b);

			nodes[nn] = (node_t){ .s = text + b, .len = e - b, .hash = h ^ (h >> 16), .seq = nn };
		}
		total += e - b + 1;
		nn++;
	}
	if (nn) {
		size_t hcap = java_hashset_capacity(nodes, nn);

		if (hcap == 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < nn; k++)
			nodes[k].bucket = nodes[k].hash & (hcap - 1);
		qsort(nodes, nn, sizeof(*nodes), by_bucket);
	}
	out = malloc((nn + 1) * sizeof(char *) + total);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	strs = (char *)(out + nn + 1);
	for (size_t k = 0; k < nn; k++) {
		out[k] = strs;
		memcpy(strs, nodes[k].s, nodes[k].len);
		strs[nodes[k].len] = '\0';
		strs += nodes[k].len + 1;
	}
	out[nn] = NULL;
	*hosts = out;
	*n = nn;
	rc = 0;
out:
	free(nodes);
	return rc;
}
