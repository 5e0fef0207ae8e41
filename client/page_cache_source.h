/* A layer that serves reads from the local on-disk page cache (localcache/),
 * fetching missing pages from the source it wraps. */
#ifndef DORAFS_PAGE_CACHE_SOURCE_H
#define DORAFS_PAGE_CACHE_SOURCE_H

#include "localcache.h"
#include "source.h"
#include "uri.h"

/* Pages are keyed by the file's full UFS URI under root plus its version.
 * Takes ownership of inner and of cache. */
dfs_source *dfs_page_cache_source_new(dfs_source *inner, lc_cache *cache, const dfs_uri *root);

#endif
