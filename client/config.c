/* Option table, value parsers and properties-file reader. */
#include "config.h"

#include <ctype.h>
#include <glib.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type { T_STR, T_SIZE, T_UINT, T_DURATION, T_BOOL, T_RATIO };

typedef struct opt_desc {
	const char *names[4];   /* first is the dorafs name; others are aliases */
	enum opt_type type;
	size_t offset;
	const char *defval;     /* as printed in --help, and parsed by dfs_config_init */
	const char *help;
	uint64_t min, max;      /* for T_SIZE/T_UINT: accepted range */
} opt_desc;

#define OFF(f) offsetof(dfs_config, f)

/* names[] has room for the dorafs name and three aliases. */
static const opt_desc options[] = {
	{ { "local_data_cache", "alluxio.user.client.cache.dirs" }, T_STR, OFF(cache_dir), NULL,
	  "folder of the on-disk page cache (enables it)", 0, 0 },
	{ { "local_data_cache_size", "local_cache_size", "alluxio.user.client.cache.size" }, T_SIZE,
	  OFF(cache_size), "512MB", "byte cap of the page cache", 1, UINT64_MAX },
	{ { "page_size", "alluxio.user.client.cache.page.size" }, T_SIZE, OFF(page_size), "1MB",
	  "page size of the page cache", 4096, 64ULL << 20 },
	{ { "local_data_cache_min_free" }, T_RATIO, OFF(cache_min_free), "0.05",
	  "fraction of the cache disk always left free", 0, 0 },
	{ { "local_data_cache_verify" }, T_BOOL, OFF(cache_verify), "false",
	  "check each page's checksum on every hit (default: first hit after start)", 0, 0 },
	{ { "local_data_cache_direct_write" }, T_BOOL, OFF(cache_direct_write), "true",
	  "write pages with O_DIRECT, past the kernel's page cache (buffered where unsupported)", 0, 0 },
	{ { "local_data_cache_write_behind" }, T_SIZE, OFF(cache_write_behind), "64MB",
	  "memory for fetched pages waiting to be written by low-priority threads (0: written at once)",
	  0, 1ULL << 40 },
	{ { "local_metadata_cache_size", "alluxio.user.metadata.cache.max.size" }, T_UINT,
	  OFF(meta_cache_size), "20000", "entries in the metadata cache (0 disables it)", 0, UINT64_MAX },
	{ { "local_metadata_cache_expire", "alluxio.user.metadata.cache.expiration.time" }, T_DURATION,
	  OFF(meta_cache_expire), "never", "how long metadata stays cached", 0, 0 },
	{ { "attr_timeout" }, T_DURATION, OFF(attr_timeout), "600",
	  "seconds the kernel caches attributes", 0, 0 },
	{ { "entry_timeout" }, T_DURATION, OFF(entry_timeout), "600",
	  "seconds the kernel caches names", 0, 0 },
	{ { "kernel_cache" }, T_BOOL, OFF(kernel_cache), "false",
	  "keep the kernel page cache across opens", 0, 0 },
	{ { "auto_cache" }, T_BOOL, OFF(auto_cache), "false",
	  "keep the kernel page cache unless size or mtime changed", 0, 0 },
	{ { "direct_io" }, T_BOOL, OFF(direct_io), "false",
	  "bypass the kernel page cache (reads of up to max_read at once)", 0, 0 },
	{ { "allow_other" }, T_BOOL, OFF(allow_other), "false",
	  "let other users see the mount", 0, 0 },
	{ { "max_idle_threads" }, T_UINT, OFF(max_idle_threads), "64",
	  "idle FUSE worker threads kept", 1, 100000 },
	{ { "max_threads" }, T_UINT, OFF(max_threads), "64",
	  "most FUSE worker threads", 1, 100000 },
	{ { "max_read" }, T_SIZE, OFF(max_read), "1MB",
	  "largest read request from the kernel", 4096, 16ULL << 20 },
	{ { "fsname", "alluxio.fuse.fs.name" }, T_STR, OFF(fsname), NULL,
	  "file system name shown in mount tables (default: the UFS URI)", 0, 0 },
	{ { "debug", "alluxio.fuse.debug.enabled" }, T_BOOL, OFF(debug), "false",
	  "log every FUSE request", 0, 0 },
	{ { "log_file" }, T_STR, OFF(log_file), NULL,
	  "file a background mount appends its log to (default: discarded; foreground: stderr)", 0, 0 },
	{ { "conf" }, T_STR, OFF(conf_file), NULL,
	  "properties file with the same keys (command-line options win)", 0, 0 },

	/* S3 */
	{ { "s3.endpoint", "alluxio.underfs.s3.endpoint", "aws_endpoint_url" }, T_STR, OFF(s3_endpoint), NULL,
	  "S3 endpoint URL (default: AWS for the region)", 0, 0 },
	{ { "s3.region", "alluxio.underfs.s3.region", "aws_region" }, T_STR, OFF(s3_region), NULL,
	  "S3 region (default: $AWS_REGION, else us-east-1)", 0, 0 },
	{ { "s3.access_key", "s3a.accessKeyId", "aws_access_key_id" }, T_STR, OFF(s3_access_key), NULL,
	  "S3 access key id", 0, 0 },
	{ { "s3.secret_key", "s3a.secretKey", "aws_secret_access_key" }, T_STR, OFF(s3_secret_key), NULL,
	  "S3 secret key (prefer conf=FILE, s3.credentials_file or the environment: argv is public)", 0, 0 },
	{ { "s3.session_token", "aws_session_token" }, T_STR, OFF(s3_session_token), NULL,
	  "S3 session token", 0, 0 },
	{ { "s3.credentials_file" }, T_STR, OFF(s3_credentials_file), NULL,
	  "AWS credentials file (default: ~/.aws/credentials)", 0, 0 },
	{ { "s3.profile" }, T_STR, OFF(s3_profile), NULL,
	  "profile in the credentials file (default: $AWS_PROFILE, else default)", 0, 0 },
	{ { "s3.addressing" }, T_STR, OFF(s3_addressing), "auto",
	  "auto, path or virtual (auto: path-style with a custom endpoint)", 0, 0 },
	{ { "s3.anonymous" }, T_BOOL, OFF(s3_anonymous), "false",
	  "send unsigned requests", 0, 0 },
	{ { "s3.connect_timeout" }, T_DURATION, OFF(s3_connect_timeout), "5s",
	  "connect timeout of an S3 request", 0, 0 },
	{ { "s3.stall_timeout" }, T_DURATION, OFF(s3_stall_timeout), "20s",
	  "retry a transfer that made no progress for this long", 0, 0 },
	{ { "s3.max_retries" }, T_UINT, OFF(s3_max_retries), "6",
	  "retries of a failed S3 request (500, 503, SlowDown, resets, stalls)", 0, 100 },
	{ { "s3.retry_budget" }, T_DURATION, OFF(s3_retry_budget), "60s",
	  "most time one S3 request may spend retrying", 0, 0 },
	{ { "s3.max_connections" }, T_UINT, OFF(s3_max_connections), "64",
	  "kept-alive connections to S3", 1, 4096 },
	{ { "s3.list_page_size" }, T_UINT, OFF(s3_list_page_size), "1000",
	  "max-keys of each ListObjectsV2 request", 1, 1000 },
	{ { "readahead_max" }, T_SIZE, OFF(readahead_max), "64MB",
	  "largest read-ahead window of one sequentially read file (0: off)", 0, 1ULL << 40 },
	{ { "readahead_memory" }, T_SIZE, OFF(readahead_memory), "512MB",
	  "most bytes being read ahead at once, over all files", 0, 1ULL << 40 },

	/* Alluxio workers */
	{ { "membership", "alluxio.worker.membership.manager.type" }, T_STR, OFF(membership), NULL,
	  "where the worker list comes from: ETCD or STATIC (default: no workers)", 0, 0 },
	{ { "etcd_endpoints", "alluxio.etcd.endpoints" }, T_STR, OFF(etcd_endpoints), NULL,
	  "etcd URLs, e.g. http://h1:2379;http://h2:2379 (',' inside a file)", 0, 0 },
	{ { "etcd_username", "alluxio.etcd.username" }, T_STR, OFF(etcd_username), NULL,
	  "etcd user", 0, 0 },
	{ { "etcd_password", "alluxio.etcd.password" }, T_STR, OFF(etcd_password), NULL,
	  "etcd password", 0, 0 },
	{ { "cluster_name", "alluxio.cluster.name" }, T_STR, OFF(cluster_name), "DefaultAlluxioCluster",
	  "Alluxio cluster name (the etcd key prefix)", 0, 0 },
	{ { "workers_file", "alluxio.worker.static.membership.manager.config.file" }, T_STR, OFF(workers_file),
	  NULL, "STATIC membership: file with one worker hostname per line", 0, 0 },
	{ { "worker_refresh_interval", "alluxio.user.worker.list.refresh.interval" }, T_DURATION,
	  OFF(worker_refresh_interval), "2min", "full refresh of the worker list", 0, 0 },
	{ { "worker_selection_policy", "alluxio.user.worker.selection.policy" }, T_STR, OFF(worker_policy),
	  "CONSISTENT", "CONSISTENT, KETAMA, JUMP or MULTI_PROBE", 0, 0 },
	{ { "hash_virtual_nodes", "alluxio.user.consistent.hash.virtual.node.count.per.worker",
	    "alluxio.user.worker.selection.policy.consistent.hash.virtual.node.count.per.worker" }, T_UINT,
	  OFF(hash_virtual_nodes), "5", "virtual nodes per worker (CONSISTENT)", 1, 100000 },
	{ { "ketama_replicas", "alluxio.user.ketama.hash.replicas",
	    "alluxio.user.worker.selection.policy.ketama.hash.replicas" }, T_UINT, OFF(ketama_replicas), "200",
	  "points per worker (KETAMA)", 1, 100000 },
	{ { "multi_probe_probes", "alluxio.user.multi.probe.hash.probe.num",
	    "alluxio.user.worker.selection.policy.multi.probe.hash.probe.num" }, T_UINT, OFF(multi_probe_probes),
	  "21", "probes per key (MULTI_PROBE)", 1, 100000 },
	{ { "worker_rpc_port", "alluxio.worker.rpc.port" }, T_UINT, OFF(worker_rpc_port), "29999",
	  "worker gRPC port (STATIC membership)", 1, 65535 },
	{ { "worker_data_port", "alluxio.worker.data.port" }, T_UINT, OFF(worker_data_port), "29997",
	  "worker data port (STATIC membership)", 1, 65535 },
	{ { "worker_web_port", "alluxio.worker.web.port" }, T_UINT, OFF(worker_web_port), "30000",
	  "worker web port (STATIC membership)", 1, 65535 },
	{ { "worker_http_port", "alluxio.worker.http.server.port" }, T_UINT, OFF(worker_http_port), "28080",
	  "worker HTTP server port (STATIC membership)", 1, 65535 },
	{ { "worker_auth_disabled" }, T_BOOL, OFF(worker_auth_disabled), "false",
	  "skip SASL authentication (NOSASL clusters)", 0, 0 },
	{ { "worker_user", "alluxio.security.login.username" }, T_STR, OFF(worker_user), NULL,
	  "user sent to workers (default: the login user)", 0, 0 },
	{ { "worker_password" }, T_STR, OFF(worker_password), NULL,
	  "SASL password sent to workers", 0, 0 },
	{ { "worker_rpc_timeout", "alluxio.user.rpc.retry.max.duration" }, T_DURATION, OFF(worker_rpc_timeout),
	  "30s", "deadline of a unary worker call", 0, 0 },
	{ { "worker_stream_timeout", "alluxio.user.streaming.data.read.timeout" }, T_DURATION,
	  OFF(worker_stream_timeout), "30s", "longest wait for each message of a worker stream", 0, 0 },
	{ { "worker_chunk_size", "alluxio.user.streaming.reader.chunk.size.bytes" }, T_SIZE,
	  OFF(worker_chunk_size), "1MB", "ReadBlock chunk size (the worker caps it at 2 MiB)", 4096, 2ULL << 20 },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const opt_desc *find_option(const char *key)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		for (size_t j = 0; j < 4 && options[i].names[j]; j++)
			if (strcmp(options[i].names[j], key) == 0)
				return &options[i];
	return NULL;
}

bool dfs_config_is_secret(const char *name)
{
	/* By field, so every alias of a secret option counts. */
	static const size_t secret[] = { OFF(s3_secret_key), OFF(s3_session_token), OFF(etcd_password),
					 OFF(worker_password) };
	const opt_desc *o = find_option(name);

	for (size_t i = 0; o && i < sizeof(secret) / sizeof(secret[0]); i++)
		if (o->offset == secret[i])
			return true;
	return false;
}

int dfs_parse_uint(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* A plain decimal like "12" or "1.5": strtod alone would also take hex,
 * exponents, "inf" and "nan". */
static int parse_decimal(const char *s, double *v, char **end)
{
	size_t n = strspn(s, "0123456789.");

	if (n == 0)
		return -1;
	errno = 0;
	*v = strtod(s, end);
	if (errno || *end != s + n || !isfinite(*v) || *v < 0)
		return -1;
	return 0;
}

int dfs_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};
	char *end;
	double v;

	/* Digits first: strtod alone would take "inf", "nan" and hex. */
	if (!s || !(isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))))
		return -1;
	if (parse_decimal(s, &v, &end) < 0)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			double bytes = ldexp(v, (int)units[i].shift);
			if (bytes >= 18446744073709551616.0)
				return -1;
			*out = (uint64_t)bytes;
			return 0;
		}
	}
	return -1;
}

int dfs_parse_duration(const char *s, double *out)
{
	static const struct { const char *suffix; double secs; } units[] = {
		{ "", 1 }, { "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "ms", 0.001 },
		{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "h", 3600 }, { "hour", 3600 },
		{ "hours", 3600 }, { "d", 86400 }, { "day", 86400 }, { "days", 86400 },
	};
	char *end;
	double v;

	if (!s)
		return -1;
	if (strcasecmp(s, "never") == 0 || strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (!(isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))))
		return -1;
	if (parse_decimal(s, &v, &end) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			*out = v * units[i].secs;
			return 0;
		}
	}
	return -1;
}

int dfs_parse_bool(const char *s, bool *out)
{
	if (!s || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "off") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int set_value(dfs_config *c, const opt_desc *o, const char *key, const char *value,
		     char *err, size_t errlen)
{
	char *field = (char *)c + o->offset;
	uint64_t u;
	double d;
	bool b;

	switch (o->type) {
	case T_BOOL:
		if (dfs_parse_bool(value, &b) < 0)
			goto bad;
		*(bool *)field = b;
		return 0;
	case T_STR: {
		char *copy;
		if (!value || !*value)
			goto bad;
		copy = strdup(value);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case T_SIZE:
		if (dfs_parse_size(value, &u) < 0 || u < o->min || u > o->max)
			goto bad;
		*(uint64_t *)field = u;
		return 0;
	case T_UINT:
		if (dfs_parse_uint(value, &u) < 0 || u < o->min || u > o->max)
			goto bad;
		*(uint64_t *)field = u;
		return 0;
	case T_DURATION:
		if (dfs_parse_duration(value, &d) < 0)
			goto bad;
		*(double *)field = d;
		return 0;
	case T_RATIO:
		if (!value || dfs_parse_duration(value, &d) < 0 || d < 0 || d >= 1 || strpbrk(value, "a-zA-Z"))
			goto bad;
		*(double *)field = d;
		return 0;
	}
bad:
	if (!value)
		snprintf(err, errlen, "option '%s' needs a value", key);
	else if (o->type == T_SIZE || o->type == T_UINT)
		snprintf(err, errlen, "bad value '%s' for option '%s' (expected %s from %llu to %llu)",
			 value, key, o->type == T_SIZE ? "a size like 512MB" : "a whole number",
			 (unsigned long long)o->min, (unsigned long long)o->max);
	else
		snprintf(err, errlen, "bad value '%s' for option '%s'", value, key);
	return -1;
}

int dfs_config_set(dfs_config *c, const char *key, const char *value, bool from_file,
		   char *err, size_t errlen)
{
	const opt_desc *o = find_option(key);

	if (!o) {
		if (from_file && strncmp(key, "alluxio.", 8) == 0)
			return 0;
		snprintf(err, errlen, "unknown option '%s' (see 'dorafs mount --help')", key);
		return -1;
	}
	return set_value(c, o, key, value, err, errlen);
}

void dfs_config_init(dfs_config *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].defval)
			(void)set_value(c, &options[i], options[i].names[0], options[i].defval, err, sizeof(err));
}

void dfs_config_free(dfs_config *c)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (options[i].type == T_STR) {
			char **field = (char **)((char *)c + options[i].offset);
			free(*field);
			*field = NULL;
		}
	}
}

static int apply_list(dfs_config *c, const char *list, bool skip_conf, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *item;
	unsigned n = 0;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		n++;
		if (eq)
			*eq = '\0';
		if (!*item) {
			/* Neither the list nor the value: either may hold a secret. */
			snprintf(err, errlen, "option %u of the list has no name before its '='", n);
			rc = -1;
			break;
		}
		if (skip_conf && strcmp(item, "conf") == 0)
			continue;
		rc = dfs_config_set(c, item, eq ? eq + 1 : NULL, false, err, errlen);
		if (rc)
			break;
	}
	free(copy);
	return rc;
}

int dfs_config_apply_list(dfs_config *c, const char *list, char *err, size_t errlen)
{
	return apply_list(c, list, false, err, errlen);
}

int dfs_config_load_file(dfs_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read options file '%s': %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *key = g_strstrip(line), *sep, *value;
		char sub[200];

		lineno++;
		if (!*key || *key == '#' || *key == '!')
			continue;
		sep = key + strcspn(key, "=: \t");
		value = *sep ? sep + 1 : NULL;
		*sep = '\0';
		if (value) {
			value = g_strstrip(value);
			/* "key = value" and "key value" both occur in Java properties. */
			if ((*value == '=' || *value == ':'))
				value = g_strstrip(value + 1);
		}
		if (strcmp(key, "conf") == 0)
			continue;
		if (dfs_config_set(c, key, value, true, sub, sizeof(sub)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, sub);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "cannot read options file '%s': %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

int dfs_config_from_options(dfs_config *c, char **lists, size_t nlists, char *err, size_t errlen)
{
	/* Pass 1 finds conf=FILE (the last one wins), so the file is applied first. */
	for (size_t i = 0; i < nlists; i++)
		if (apply_list(c, lists[i], false, err, errlen) < 0)
			return -1;
	if (!c->conf_file)
		return 0;
	{
		dfs_config fresh;
		char *conf = strdup(c->conf_file);
		int rc;

		if (!conf) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		dfs_config_free(c);
		dfs_config_init(&fresh);
		*c = fresh;
		rc = dfs_config_load_file(c, conf, err, errlen);
		for (size_t i = 0; rc == 0 && i < nlists; i++)
			rc = apply_list(c, lists[i], true, err, errlen);
		if (rc == 0) {
			free(c->conf_file);
			c->conf_file = conf;
			conf = NULL;
		}
		free(conf);
		return rc;
	}
}

void dfs_config_print_help(FILE *out)
{
	static const char *type_names[] = { "text", "size", "number", "duration", "flag", "fraction" };

	for (size_t i = 0; i < NOPTIONS; i++) {
		const opt_desc *o = &options[i];
		fprintf(out, "    -o %s%s%s\n", o->names[0], o->type == T_BOOL ? "" : "=",
			o->type == T_BOOL ? "" : type_names[o->type]);
		fprintf(out, "        %s (default: %s)\n", o->help, o->defval ? o->defval : "none");
		for (size_t j = 1; j < 4 && o->names[j]; j++)
			fprintf(out, "        also: %s\n", o->names[j]);
	}
}
