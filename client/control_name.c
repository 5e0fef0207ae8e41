/* The name of a mount's control socket (see control_name.h). */
#include "control_name.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "uri.h"

char *dfs_control_canonical(const char *path)
{
	char *canon = realpath(path, NULL);

	if (canon || (errno != ENOENT && errno != ENOTDIR && errno != EACCES) || path[0] != '/')
		return canon;
	canon = strdup(path);
	if (!canon)
		return NULL;
	/* Cannot fail: the path is absolute. */
	(void)dfs_path_normalize(canon);
	return canon;
}

socklen_t dfs_control_addr(const char *mp, struct sockaddr_un *addr)
{
	char name[DFS_CONTROL_NAME_LEN + 1];

	/* The hash keeps any path within sun_path's 108 bytes. */
	snprintf(name, sizeof(name), DFS_CONTROL_PREFIX "%016llx",
		 (unsigned long long)XXH3_64bits(mp, strlen(mp)));
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* sun_path[0] stays NUL: the abstract namespace. The name is not
	 * NUL-terminated; its length is part of the address. */
	memcpy(addr->sun_path + 1, name, DFS_CONTROL_NAME_LEN);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + DFS_CONTROL_NAME_LEN);
}
