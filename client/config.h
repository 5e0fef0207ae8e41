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

/* Value parsers (exposed for tests and fuzzing). Sizes accept B, KB/KiB/K,
 * MB/MiB/M, GB/GiB/G, TB/TiB/T (all powers of 1024, as Alluxio). Durations
 * accept ms, s/sec, m/min, h/hour, d/day; a bare number is seconds. */
int dfs_parse_size(const char *s, uint64_t *out);
int dfs_parse_duration(const char *s, double *out);
int dfs_parse_bool(const char *s, bool *out);
int dfs_parse_uint(const char *s, uint64_t *out);

#endif
