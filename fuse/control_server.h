/* The mount daemon's end of the mount's control socket (client/control_name.h). */
#ifndef DORAFS_CONTROL_SERVER_H
#define DORAFS_CONTROL_SERVER_H

#include <stddef.h>

#include "client.h"

typedef struct ctl_server ctl_server;

/*
 * Bind the control socket of the mount at mountpoint and start the thread
 * that answers it. Call it after the daemon has forked. Returns NULL with a
 * one-line message in err if it cannot (e.g. another mount of the same path
 * in this network namespace holds the name): the mount works without it.
 */
ctl_server *ctl_server_start(dfs_client *client, const char *mountpoint, char *err, size_t errlen);

/* Stop accepting, wait for the thread (a connection being answered ends
 * within its 2 s deadline) and free. NULL is allowed. */
void ctl_server_stop(ctl_server *s);

#endif
