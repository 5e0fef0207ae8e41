/* An S3 bucket or prefix as an under file system (read-only). */
#ifndef DORAFS_UFS_S3_H
#define DORAFS_UFS_S3_H

#include "config.h"
#include "source.h"
#include "uri.h"

/*
 * root: an s3:// URI (authority = bucket, path = prefix). Resolves the
 * credentials and checks that the bucket answers (one LIST request). Starts
 * no thread. Returns NULL with a one-line message in err; the message never
 * contains a secret.
 */
dfs_source *dfs_s3_source_new(const dfs_uri *root, const dfs_config *cfg, char *err, size_t errlen);

/* Called (from a reader's thread) with the mount path of an object whose
 * ETag changed under an open file, so the caches above can forget it. */
void dfs_s3_source_on_stale(dfs_source *s, void (*fn)(void *arg, const char *path), void *arg);

/* Map a listed key to a child name under the listed prefix: NULL if the key
 * cannot be a name in this folder (empty, '.', '..', a '/' inside, or longer
 * than 255 bytes). Exposed for tests. */
const char *dfs_s3_child_name(const char *key, const char *dir_prefix, bool is_prefix, char *buf, size_t buflen);

#endif
