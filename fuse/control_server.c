/*
 * The mount's control socket: one thread accepts connections one at a time,
 * lets in root and the daemon's own user (SO_PEERCRED), reads one request
 * line and writes one answer, then closes. Requests:
 *
 *   stats    the JSON counters of every layer (dfs_client_stats_json), "\n"
 *
 * Anything else gets "error: <why>\n". `dorafs stat` is the usual client;
 * `socat - ABSTRACT-CONNECT:dorafs/<hex>` works too.
 *
 * This is what used to be the root's user.dorafs.stats extended attribute:
 * serving getxattr at all made the kernel send every file's getxattr
 * (ls -l asks two per entry) to the daemon; without it the kernel asks once,
 * gets ENOSYS and stops.
 *
 * Threads: the accept thread is this file's only thread and owns the
 * listening socket and each accepted connection. It takes no lock of its
 * own; dfs_client_stats_json is safe alongside the FUSE handlers. It blocks
 * every signal, so that SIGTERM/SIGINT reach the FUSE loop. Stopping shuts
 * the listening socket down, which makes a waiting accept() fail, and joins.
 */
#include "control_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_io.h"
#include "control_name.h"

/* A client's whole exchange (request and answer) must fit in this: one
 * slow client delays the others (and unmount) by at most that. */
#define EXCHANGE_MS 2000
#define REQUEST_MAX 64

struct ctl_server {
	dfs_client *client;
	int fd;
	atomic_int stopping;
	pthread_t thread;
};

/* One request line without its "\n" (or "\r\n"); the end of the stream ends
 * it too. Returns 0, -1 on a timeout or error, -2 if the line is too long. */
static int read_line(int fd, char *buf, size_t size, long long deadline)
{
	size_t used = 0;
	char *nl = NULL;

	while (!nl) {
		ssize_t n;

		if (used == size - 1)
			return -2;
		if (dfs_ctl_arm(fd, deadline) < 0)
			return -1;
		n = recv(fd, buf + used, size - 1 - used, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		nl = memchr(buf + used, '\n', (size_t)n);
		used += (size_t)n;
	}
	if (nl)
		used = (size_t)(nl - buf);
	if (used > 0 && buf[used - 1] == '\r')
		used--;
	buf[used] = '\0';
	return 0;
}

static void answer(ctl_server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char req[REQUEST_MAX], line[REQUEST_MAX + 64], *json;
	long long deadline = dfs_ctl_now_ms() + EXCHANGE_MS;
	int rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		snprintf(line, sizeof(line), "error: permission denied (only root and uid %u may ask)\n",
			 (unsigned)geteuid());
		(void)dfs_ctl_send_all(fd, line, strlen(line), deadline);
		return;
	}
	rc = read_line(fd, req, sizeof(req), deadline);
	if (rc == -1)
		return;
	if (rc == -2) {
		snprintf(line, sizeof(line), "error: request longer than %d bytes\n", REQUEST_MAX - 1);
	} else if (strcmp(req, "stats") == 0) {
		json = dfs_client_stats_json(s->client);
		if (json) {
			if (dfs_ctl_send_all(fd, json, strlen(json), deadline) == 0)
				(void)dfs_ctl_send_all(fd, "\n", 1, deadline);
			free(json);
			return;
		}
		snprintf(line, sizeof(line), "error: out of memory\n");
	} else {
		/* Echo the request without control characters. */
		for (char *p = req; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		snprintf(line, sizeof(line), "error: unknown request '%s' (known: stats)\n", req);
	}
	(void)dfs_ctl_send_all(fd, line, strlen(line), deadline);
}

static void *accept_main(void *arg)
{
	ctl_server *s = arg;

	for (;;) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (atomic_load(&s->stopping))
				break;
			/* Out of descriptors or memory: wait instead of spinning. */
			if (errno != EINTR && errno != ECONNABORTED)
				(void)poll(NULL, 0, 100);
			continue;
		}
		answer(s, fd);
		close(fd);
	}
	return NULL;
}

ctl_server *ctl_server_start(dfs_client *client, const char *mountpoint, char *err, size_t errlen)
{
	struct sockaddr_un addr;
	socklen_t alen;
	sigset_t all, old;
	char *canon = dfs_control_canonical(mountpoint);
	ctl_server *s = calloc(1, sizeof(*s));
	int rc;

	if (s)
		s->fd = -1;
	if (!canon || !s) {
		snprintf(err, errlen, "no control socket for '%s': %s", mountpoint, strerror(errno));
		goto fail;
	}
	s->client = client;
	atomic_init(&s->stopping, 0);
	alen = dfs_control_addr(canon, &addr);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "no control socket for '%s': socket: %s", mountpoint, strerror(errno));
		goto fail;
	}
	/* The daemon of an earlier mount of this path may still be exiting
	 * (unmount, then mount again at once): give it a second to let go. */
	for (int i = 0; (rc = bind(s->fd, (struct sockaddr *)&addr, alen)) < 0 && errno == EADDRINUSE && i < 10; i++)
		(void)poll(NULL, 0, 100);
	if (rc < 0) {
		if (errno == EADDRINUSE)
			snprintf(err, errlen,
				 "another mount of '%s' in this network namespace holds its control socket "
				 "@%.*s: 'dorafs stat' reaches that mount, not this one",
				 canon, (int)DFS_CONTROL_NAME_LEN, addr.sun_path + 1);
		else
			snprintf(err, errlen, "no control socket for '%s': bind @%.*s: %s", mountpoint,
				 (int)DFS_CONTROL_NAME_LEN, addr.sun_path + 1, strerror(errno));
		goto fail;
	}
	if (listen(s->fd, 16) < 0) {
		snprintf(err, errlen, "no control socket for '%s': listen: %s", mountpoint, strerror(errno));
		goto fail;
	}
	/* The thread inherits a full signal mask: signals are the FUSE loop's. */
	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc == 0) {
		rc = pthread_create(&s->thread, NULL, accept_main, s);
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (rc != 0) {
		snprintf(err, errlen, "no control socket for '%s': cannot start its thread: %s", mountpoint,
			 strerror(rc));
		goto fail;
	}
	free(canon);
	return s;
fail:
	if (s && s->fd >= 0)
		close(s->fd);
	free(s);
	free(canon);
	return NULL;
}

void ctl_server_stop(ctl_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, 1);
	/* A listening socket that is shut down fails accept() with EINVAL. */
	(void)shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
}
