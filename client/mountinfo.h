/*
 * What /proc/self/mountinfo says is mounted at a path. Reading it never
 * sends a request to a FUSE daemon (statfs or stat of the mount point
 * would, and deadlock before the daemon's loop runs or hang on a stuck one).
 * Depends on libc only, so the bench's FUSE floor can build it too.
 */
#ifndef DORAFS_MOUNTINFO_H
#define DORAFS_MOUNTINFO_H

#include <stddef.h>

/* The mount at canonical path mp; the last match wins (a later mount over
 * the same point hides earlier ones). Fills majmin ("0:52") and fstype
 * ("fuse.dorafs") when they are not NULL, and *user_id with the FUSE mount
 * owner's uid (its user_id= option; -1 without one). Returns 0, -ENOENT if
 * nothing is mounted there, or -errno. */
int dfs_mountinfo_find(const char *mp, char *majmin, size_t majlen, char *fstype, size_t typelen,
		       long *user_id);

#endif
