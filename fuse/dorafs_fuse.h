/* The libfuse3 front end: translates FUSE requests into client calls. */
#ifndef DORAFS_FUSE_H
#define DORAFS_FUSE_H

#include "client.h"
#include "config.h"

/*
 * Mount client at mountpoint and serve requests until unmounted or signalled;
 * the mount's counters are served on its control socket meanwhile
 * (client/control_name.h). Call it on the side of any fork that will serve.
 * ready(arg, NULL) is called once the mount is live, or ready(arg, message)
 * if mounting failed. Returns 0 after a clean unmount, 1 on failure.
 */
int dfs_fuse_run(dfs_client *client, const dfs_config *cfg, const char *mountpoint,
		 void (*ready)(void *arg, const char *error), void *arg);

#endif
