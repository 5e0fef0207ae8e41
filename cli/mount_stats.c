/* Reading a running mount's counters (the root's user.dorafs.stats xattr). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "cli.h"
#include "dorafs_fuse.h"

char *cli_read_mount_stats(const char *cmd, const char *mp)
{
	ssize_t n = getxattr(mp, DFS_XATTR_STATS, NULL, 0);
	char *buf;

	if (n < 0) {
		cli_error(cmd, "'%s' is not a running dorafs mount (%s)", mp,
			  errno == ENODATA || errno == ENOTSUP ? "no dorafs counters" : strerror(errno));
		return NULL;
	}
	/* Counters grow between the two calls: leave room. */
	buf = malloc((size_t)n + 4096);
	if (!buf) {
		cli_error(cmd, "out of memory");
		return NULL;
	}
	n = getxattr(mp, DFS_XATTR_STATS, buf, (size_t)n + 4095);
	if (n < 0) {
		cli_error(cmd, "cannot read counters of '%s': %s", mp, strerror(errno));
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}
