/*
 * UFS URIs as Alluxio spells them. Every path a Dora worker receives is the
 * file's full UFS URI (e.g. s3://bucket/dir/file), and that string is also
 * the key workers are chosen by and pages are cached under, so it must be
 * byte-identical to what Alluxio's Java client would send: AlluxioURI's
 * normalisation (backslashes to '/', '//' collapsed, trailing '/' stripped
 * except for the root, '.' and '..' resolved as java.net.URI.normalize does).
 */
#ifndef DORAFS_WORKER_URI_H
#define DORAFS_WORKER_URI_H

#include <stddef.h>

/* Normalise uri ("scheme://authority/path", or a bare path) into out.
 * Returns 0, -ENAMETOOLONG or -EINVAL. */
int dfs_alluxio_uri_normalize(const char *uri, char *out, size_t outlen);

/* The full UFS URI of mount-relative path rel ("/a/b") under root
 * ("s3://bucket/prefix"), normalised. Returns 0, -ENAMETOOLONG or -EINVAL. */
int dfs_ufs_uri_join(const char *root, const char *rel, char *out, size_t outlen);

#endif
