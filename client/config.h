/*
 * Mount configuration: every option dorafs understands, its aliases (the
 * alluxio-fuse names and Alluxio property keys), its default and its help.
 * Options come from -o on the command line and from a key=value properties
 * file (-o conf=FILE); the command line wins.
 */
#ifndef DORAFS_CONFIG_H
#define DORAFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct dfs_config {
	/* data cache (local_data_cache) */
	char *cache_dir;            /* NULL: no local page cache */
	uint64_t cache_size;
	uint64_t page_size;
	double cache_min_free;      /* fraction of the cache disk kept free */
	bool cache_verify;          /* checksum every page hit, not only the first */
	bool cache_direct_write;    /* page files written with O_DIRECT */
	uint64_t cache_write_behind; /* bytes of pages queued for the writer threads */
	/* metadata cache */
	uint64_t meta_cache_size;   /* entries; 0 disables it */
	double meta_cache_expire;   /* seconds; < 0: never */
	/* kernel caches and libfuse */
	double attr_timeout;
	double entry_timeout;
	bool kernel_cache;
	bool auto_cache;
	bool direct_io;
	bool allow_other;
	uint64_t max_idle_threads;
	uint64_t max_threads;
	uint64_t max_read;
	char *fsname;
	bool debug;
	char *log_file;             /* where a background mount logs */
	/* where the options file came from, if any */
	char *conf_file;

	/* S3 under file system (client/ufs_s3*.c) */
	char *s3_endpoint;          /* e.g. http://127.0.0.1:9000; NULL: AWS */
	char *s3_region;            /* NULL: AWS_REGION, else us-east-1 */
	char *s3_access_key;
	char *s3_secret_key;        /* never logged nor printed */
	char *s3_session_token;
	char *s3_credentials_file;  /* AWS credentials file (ini) */
	char *s3_profile;           /* profile in it; NULL: AWS_PROFILE or default */
	char *s3_addressing;        /* "auto", "path" or "virtual" */
	bool s3_anonymous;          /* sign nothing even if credentials exist */
	double s3_connect_timeout;  /* seconds */
	double s3_stall_timeout;    /* seconds without progress before a retry */
	uint64_t s3_max_retries;
	double s3_retry_budget;     /* seconds a request may spend retrying */
	uint64_t s3_max_connections;
	uint64_t s3_list_page_size; /* max-keys per ListObjectsV2 request */
	/* read-ahead of sequential readers */
	uint64_t readahead_max;     /* largest window per open file, bytes; 0 disables */
	uint64_t readahead_memory;  /* global budget of bytes being read ahead */

	/* Alluxio workers: membership and selection (client/membership*.c) */
	char *membership;           /* "ETCD", "STATIC" or NULL (no workers) */
	char *etcd_endpoints;       /* comma-free: ';'- or space-separated in -o, ',' in files */
	char *etcd_username;
	char *etcd_password;
	char *cluster_name;
	char *workers_file;         /* STATIC: one hostname per line */
	double worker_refresh_interval;
	char *worker_policy;        /* CONSISTENT, KETAMA, JUMP, MULTI_PROBE */
	uint64_t hash_virtual_nodes;
	uint64_t ketama_replicas;
	uint64_t multi_probe_probes;
	uint64_t worker_rpc_port;
	uint64_t worker_data_port;
	uint64_t worker_web_port;
	uint64_t worker_http_port;
	/* the worker RPC client (client/worker_*.c) */
	bool worker_auth_disabled;  /* NOSASL clusters */
	char *worker_user;
	char *worker_password;
	double worker_rpc_timeout;  /* seconds */
	double worker_stream_timeout;
	uint64_t worker_chunk_size;
} dfs_config;

void dfs_config_init(dfs_config *c);
void dfs_config_free(dfs_config *c);

/*
 * Apply a comma-separated option list ("a=1,b,c=x"). A value may not contain
 * a comma. Returns 0, or -1 with a one-line message naming the bad option or
 * value in err.
 */
int dfs_config_apply_list(dfs_config *c, const char *list, char *err, size_t errlen);

/* Apply one key and value (value NULL for a bare flag). from_file: unknown
 * alluxio.* keys are ignored (the same file may configure an Alluxio
 * cluster); any other unknown key is an error. */
int dfs_config_set(dfs_config *c, const char *key, const char *value, bool from_file,
		   char *err, size_t errlen);

/* Read a properties file: key=value (or key value / key: value) lines,
 * '#' and '!' comments, blank lines. */
int dfs_config_load_file(dfs_config *c, const char *path, char *err, size_t errlen);

/*
 * Build a configuration from the -o lists given on a command line, in order:
 * a conf=FILE among them is read first, then the lists are applied over it.
 */
int dfs_config_from_options(dfs_config *c, char **lists, size_t nlists, char *err, size_t errlen);

/* Print every option with its aliases, default and meaning. */
void dfs_config_print_help(FILE *out);

/* Whether an option name (or alias) holds a secret: the CLI blanks its value
 * in argv, so ps does not show it. */
bool dfs_config_is_secret(const char *name);

/* Value parsers (exposed for tests and fuzzing). Sizes accept B, KB/KiB/K,
 * MB/MiB/M, GB/GiB/G, TB/TiB/T (all powers of 1024, as Alluxio). Durations
 * accept ms, s/sec, m/min, h/hour, d/day; a bare number is seconds. */
int dfs_parse_size(const char *s, uint64_t *out);
int dfs_parse_duration(const char *s, double *out);
int dfs_parse_bool(const char *s, bool *out);
int dfs_parse_uint(const char *s, uint64_t *out);

#endif
