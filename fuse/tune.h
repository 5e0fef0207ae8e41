/* Kernel settings that decide FUSE read throughput (see docs/architecture.md). */
#ifndef DORAFS_TUNE_H
#define DORAFS_TUNE_H

#include <stddef.h>

/* Make sure a pipe can hold a whole reply of max_read bytes, so libfuse
 * really splices page files instead of silently copying. Best effort;
 * returns 0 or -errno. */
int tune_pipe_max_size(size_t max_read);

/* Raise the read-ahead of the mount's backing device so buffered reads reach
 * the daemon as requests of max_read bytes, not 128 KiB. Uses
 * /proc/self/mountinfo (statting the mount point would deadlock before the
 * loop runs). Best effort; returns 0 or -errno. */
int tune_read_ahead(const char *mountpoint, size_t max_read);

#endif
