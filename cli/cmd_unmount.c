/* dorafs unmount [-f] <mountpoint> */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* Not root: fusermount3 is the setuid helper that may unmount our mounts. */
static int run_fusermount(const char *mp, int lazy)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (lazy)
			execlp("fusermount3", "fusermount3", "-u", "-z", mp, (char *)NULL);
		else
			execlp("fusermount3", "fusermount3", "-u", mp, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cmd_unmount(int argc, char **argv)
{
	int lazy = 0, i;
	const char *mp = NULL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-z") == 0) {
			lazy = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: dorafs unmount [-f] <mountpoint>\n"
			       "  -f   lazy unmount: detach now, finish when the mount is no longer busy\n");
			return 0;
		} else if (argv[i][0] == '-') {
			cli_error("unmount", "unknown flag '%s'", argv[i]);
			return 2;
		} else if (mp) {
			cli_error("unmount", "unexpected argument '%s'", argv[i]);
			return 2;
		} else {
			mp = argv[i];
		}
	}
	if (!mp) {
		cli_error("unmount", "missing mount point");
		return 2;
	}
	if (umount2(mp, lazy ? MNT_DETACH : 0) == 0)
		return 0;
	if (errno == EPERM && run_fusermount(mp, lazy) == 0)
		return 0;
	cli_error("unmount", "cannot unmount '%s': %s", mp,
		  errno == EINVAL ? "not a mount point" : strerror(errno));
	return 1;
}
