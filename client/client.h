/*
 * The dorafs client: builds the chain of sources for a mount from its
 * configuration and is what the FUSE front end and the CLI call.
 */
#ifndef DORAFS_CLIENT_H
#define DORAFS_CLIENT_H

#include "config.h"
#include "dir_stream.h"
#include "source.h"
#include "uri.h"

typedef struct dfs_client dfs_client;

/* Validate the UFS and open the caches. Starts no thread (dorafs may fork
 * after this). Returns 0, or -1 with a one-line message in err. */
int dfs_client_new(const dfs_config *cfg, const char *ufs_uri, dfs_client **out,
		   char *err, size_t errlen);
void dfs_client_free(dfs_client *c);

/* The top of the chain: stat, list, open and read through it. */
dfs_source *dfs_client_source(dfs_client *c);
const dfs_uri *dfs_client_root(const dfs_client *c);

/* Streaming listings of the top of the chain (dir_stream.h). */
dfs_dir_lister *dfs_client_dirs(dfs_client *c);

/* Counters of every layer as a JSON object text; caller frees. */
char *dfs_client_stats_json(dfs_client *c);

/* statfs figures of the mount: from the UFS, or the cache disk. */
int dfs_client_statfs(dfs_client *c, dfs_fs_usage *out);

/* Forget cached metadata of path (NULL: all). */
void dfs_client_invalidate(dfs_client *c, const char *path);

#endif
