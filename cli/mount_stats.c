/*
 * Reading a running mount's counters: connect to the mount's control socket
 * (client/control_name.h), send "stats", read the JSON to the end. The whole
 * exchange has 5 s; a daemon whose FUSE handlers hang still answers, since
 * the socket has its own thread and nothing here enters the mount.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "control_io.h"
#include "control_name.h"
#include "mountinfo.h"

#define TIMEOUT_MS 5000
#define REPLY_MAX (16 << 20)

/* The one-line reason why nothing answers at the mount's socket. */
static void explain_refused(const char *cmd, const char *mp, const char *canon)
{
	char type[64];

	if (dfs_mountinfo_find(canon, NULL, 0, type, sizeof(type), NULL) < 0)
		cli_error(cmd, "'%s' is not a running dorafs mount (not a mount point)", mp);
	else if (strcmp(type, "fuse.dorafs") != 0)
		cli_error(cmd, "'%s' is not a running dorafs mount (it is a %s mount)", mp, type);
	else
		cli_error(cmd, "'%s' is not a running dorafs mount (no control socket)", mp);
}

/*
 * The name is in the abstract namespace, where anyone may bind it first (a
 * mount that finds it taken runs without a control socket). Believe only a
 * listener run by root, by us, or by the mount's owner; otherwise say who
 * holds the name. 0, or -1 after the error line.
 */
static int check_listener(const char *cmd, const char *mp, const char *canon, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	long owner = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		cli_error(cmd, "cannot check who answers for '%s': %s", mp, strerror(errno));
		return -1;
	}
	if (cred.uid == 0 || cred.uid == getuid())
		return 0;
	if (dfs_mountinfo_find(canon, NULL, 0, NULL, 0, &owner) == 0 && owner == (long)cred.uid)
		return 0;
	cli_error(cmd, "the control socket of '%s' is held by uid %u (pid %d), not by the mount's "
		  "owner: not trusted", mp, (unsigned)cred.uid, (int)cred.pid);
	return -1;
}

/* Read until the daemon closes; NULL on a timeout, an error or too much. */
static char *read_all(int fd, long long deadline, size_t *len)
{
	size_t cap = 65536, used = 0;
	char *buf = malloc(cap), *bigger;

	while (buf) {
		ssize_t n;

		if (used + 1 == cap) {
			if (cap >= REPLY_MAX) {
				errno = EFBIG;
				break;
			}
			bigger = realloc(buf, cap * 2);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		if (dfs_ctl_arm(fd, deadline) < 0)
			break;
		n = recv(fd, buf + used, cap - 1 - used, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* A daemon that closes without reading our request (it refused
		 * us) resets the connection after its answer. */
		if (n < 0 && !(errno == ECONNRESET && used > 0))
			break;
		if (n <= 0) {
			buf[used] = '\0';
			*len = used;
			return buf;
		}
		used += (size_t)n;
	}
	free(buf);
	return NULL;
}

char *cli_read_mount_stats(const char *cmd, const char *mp)
{
	static const char request[] = "stats\n";
	long long deadline = dfs_ctl_now_ms() + TIMEOUT_MS;
	struct sockaddr_un addr;
	socklen_t alen;
	char *canon = dfs_control_canonical(mp), *reply = NULL;
	size_t len = 0;
	int fd = -1;

	if (!canon) {
		cli_error(cmd, "'%s' is not a running dorafs mount (%s)", mp, strerror(errno));
		goto out;
	}
	alen = dfs_control_addr(canon, &addr);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cli_error(cmd, "socket: %s", strerror(errno));
		goto out;
	}
	/* A full backlog makes connect wait, up to the send timeout. */
	if (dfs_ctl_arm(fd, deadline) < 0 || connect(fd, (struct sockaddr *)&addr, alen) < 0) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			explain_refused(cmd, mp, canon);
		else if (errno == EAGAIN || errno == ETIMEDOUT)
			cli_error(cmd, "the dorafs daemon of '%s' did not answer within %d s", mp, TIMEOUT_MS / 1000);
		else
			cli_error(cmd, "cannot reach the dorafs daemon of '%s': %s", mp, strerror(errno));
		goto out;
	}
	if (check_listener(cmd, mp, canon, fd) < 0)
		goto out;
	/* A daemon that refuses us answers and closes without reading: its
	 * answer is still there to read after our send failed with EPIPE. */
	if (dfs_ctl_send_all(fd, request, sizeof(request) - 1, deadline) == 0 ||
	    errno == EPIPE || errno == ECONNRESET)
		reply = read_all(fd, deadline, &len);
	if (!reply) {
		if (errno == EAGAIN || errno == ETIMEDOUT)
			cli_error(cmd, "the dorafs daemon of '%s' did not answer within %d s", mp, TIMEOUT_MS / 1000);
		else
			cli_error(cmd, "cannot read the counters of '%s': %s", mp, strerror(errno));
		goto out;
	}
	while (len > 0 && (reply[len - 1] == '\n' || reply[len - 1] == '\r'))
		reply[--len] = '\0';
	if (len == 0 || strncmp(reply, "error: ", 7) == 0) {
		cli_error(cmd, "the dorafs daemon of '%s' answered: %.200s", mp,
			  len == 0 ? "nothing (closed the connection)" : reply + 7);
		free(reply);
		reply = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(canon);
	return reply;
}
