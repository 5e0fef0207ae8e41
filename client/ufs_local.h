/* A local folder as an under file system. */
#ifndef DORAFS_UFS_LOCAL_H
#define DORAFS_UFS_LOCAL_H

#include "source.h"

/* root: an absolute path to an existing folder. Returns NULL with a message in err. */
dfs_source *dfs_local_source_new(const char *root, char *err, size_t errlen);

/* Fill attr->version for a local file: changes when size, mtime or inode do. */
void dfs_local_version(dfs_attr *attr, uint64_t ino);

#endif
