/*
 * The control socket of a mount: a Linux abstract-namespace unix stream
 * socket named after the canonical mount point, "@dorafs/<16 hex digits of
 * xxh3-64 of the path>". The mount daemon serves it (fuse/control_server.c),
 * `dorafs stat` asks it (cli/mount_stats.c); both name it with these two
 * functions, so they cannot disagree. An abstract name leaves no file behind
 * after a crash and is reachable from anything in the same network namespace
 * (a sidecar container of the same pod).
 */
#ifndef DORAFS_CONTROL_NAME_H
#define DORAFS_CONTROL_NAME_H

#include <sys/socket.h>
#include <sys/un.h>

/* The name after the leading NUL: "dorafs/" + 16 hex digits. */
#define DFS_CONTROL_PREFIX "dorafs/"
#define DFS_CONTROL_NAME_LEN (sizeof(DFS_CONTROL_PREFIX) - 1 + 16)

/* The canonical form of a mount point path: realpath(3) of it, or, for an
 * absolute path that cannot be resolved here (a sidecar that does not see
 * the mount, a user who may not enter its parent), the path itself
 * normalised. Caller frees; NULL with errno set if neither applies.
 * Resolving never sends a request to a FUSE daemon: glibc resolves with
 * readlink, which stops at the mount's root without asking it. */
char *dfs_control_canonical(const char *path);

/* Fill addr with the control socket address of the mount at canonical path
 * mp; returns the address length to give bind(2) or connect(2). */
socklen_t dfs_control_addr(const char *mp, struct sockaddr_un *addr);

#endif
