/*
 * Blocking socket I/O under one deadline, for the control socket's two
 * ends (fuse/control_server.c, cli/mount_stats.c): every call gets what is
 * left of the whole exchange, so a peer that trickles bytes cannot stretch
 * it past the deadline.
 */
#ifndef DORAFS_CONTROL_IO_H
#define DORAFS_CONTROL_IO_H

#include <stddef.h>

/* Milliseconds on the monotonic clock. */
long long dfs_ctl_now_ms(void);

/* Give the next blocking call on fd what is left until deadline: 0, or -1
 * with errno (ETIMEDOUT once it has passed). */
int dfs_ctl_arm(int fd, long long deadline);

/* Send all of buf before deadline: 0, or -1 with errno (EAGAIN on the
 * deadline, EPIPE if the peer is gone). */
int dfs_ctl_send_all(int fd, const void *buf, size_t len, long long deadline);

#endif
