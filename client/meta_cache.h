/* A layer that caches stat results (positive and negative) and directory
 * listings of the source it wraps. */
#ifndef DORAFS_META_CACHE_H
#define DORAFS_META_CACHE_H

#include "source.h"

/* max_entries: bound on cached paths (a listing counts as one); expire_s < 0:
 * entries never expire. Takes ownership of inner. */
dfs_source *dfs_meta_cache_new(dfs_source *inner, uint64_t max_entries, double expire_s);

#endif
