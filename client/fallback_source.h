/* A layer that asks the Alluxio worker first and the UFS when the worker
 * cannot answer: the "worker, then UFS" step of the read path. */
#ifndef DORAFS_FALLBACK_SOURCE_H
#define DORAFS_FALLBACK_SOURCE_H

#include "source.h"

/* Takes ownership of both sources. */
dfs_source *dfs_fallback_source_new(dfs_source *worker, dfs_source *ufs);

#endif
