/*
 * dorafs mount <ufs-uri> <mountpoint> [-o opt,...] [-f]
 *
 * Without -f the command forks first and the child builds the client and
 * mounts; the parent waits on a pipe until the mount is live (exit 0) or
 * has failed (the child's message is printed, exit 1). Building everything
 * in the child keeps threads and sockets on the side of the fork that uses
 * them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "config.h"
#include "dorafs_fuse.h"

static void mount_usage(FILE *out)
{
	fprintf(out,
		"usage: dorafs mount <ufs-uri> <mountpoint> [-o opt[=value],...] [-f]\n"
		"\n"
		"  <ufs-uri>     s3://bucket/prefix, hdfs://namenode:port/path, file:///path or a folder\n"
		"  <mountpoint>  an existing, empty folder\n"
		"  -f            stay in the foreground (default: return once the mount is live)\n"
		"  -o opts       comma-separated options (may be repeated):\n\n");
	dfs_config_print_help(out);
}

/* The mount point must be an existing, empty folder; returns its absolute path. */
static int check_mountpoint(const char *mp, char *abs, size_t size, char *err, size_t errlen)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int empty = 1;

	if (stat(mp, &st) < 0) {
		snprintf(err, errlen, "mount point '%s': %s", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mount point '%s' is not a folder", mp);
		return -1;
	}
	d = opendir(mp);
	if (!d) {
		snprintf(err, errlen, "mount point '%s': %s", mp, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	if (!empty) {
		snprintf(err, errlen, "mount point '%s' is not empty", mp);
		return -1;
	}
	if (!realpath(mp, abs) || strlen(abs) >= size) {
		snprintf(err, errlen, "mount point '%s': %s", mp, strerror(errno));
		return -1;
	}
	return 0;
}

/* Make a relative path option absolute against the current folder. */
static int absolutize(char **path)
{
	char cwd[PATH_MAX], *abs;
	size_t n;

	if (!*path || (*path)[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	n = strlen(cwd) + strlen(*path) + 2;
	abs = malloc(n);
	if (!abs)
		return -1;
	snprintf(abs, n, "%s/%s", cwd, *path);
	free(*path);
	*path = abs;
	return 0;
}

typedef struct ready_ctx {
	int fd;          /* pipe to the waiting parent, or -1 in the foreground */
	const char *log_file;
} ready_ctx;

static void on_ready(void *arg, const char *error)
{
	ready_ctx *r = arg;

	if (r->fd < 0) {
		if (error)
			cli_error("mount", "%s", error);
		return;
	}
	/* The message (empty = success) is all the parent waits for. */
	if (error) {
		ssize_t n = write(r->fd, error, strlen(error));
		(void)n;
	} else {
		ssize_t n = write(r->fd, "", 1);
		(void)n;
	}
	close(r->fd);
	r->fd = -1;
	if (!error) {
		/* From now on nobody reads our terminal. */
		int out = r->log_file ? open(r->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)
				      : open("/dev/null", O_WRONLY | O_CLOEXEC);
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (out >= 0) {
			dup2(out, STDOUT_FILENO);
			dup2(out, STDERR_FILENO);
			close(out);
		}
		if (in >= 0) {
			dup2(in, STDIN_FILENO);
			close(in);
		}
	}
}

static int serve(const dfs_config *cfg, const char *ufs, const char *mp, ready_ctx *r)
{
	dfs_client *client = NULL;
	char err[1024];
	int rc;

	if (dfs_client_new(cfg, ufs, &client, err, sizeof(err)) < 0) {
		on_ready(r, err);
		return 1;
	}
	rc = dfs_fuse_run(client, cfg, mp, on_ready, r);
	dfs_client_free(client);
	return rc;
}

/*
 * Overwrite the values of secret options in the -o strings, which live in
 * argv: /proc/PID/cmdline (ps) of the mount daemon then shows '*'s. The
 * configuration already holds its own copies.
 */

/* Parent side of the background start: wait for the child's word. */
static int wait_child(pid_t pid, int fd, const char *mp)
{
	char msg[1024];
	ssize_t n, total = 0;
	int status;

	while ((n = read(fd, msg + total, sizeof(msg) - 1 - (size_t)total)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			total += n;
	close(fd);
	msg[total] = '\0';
	if (total == 1 && msg[0] == '\0')
		return 0;
	if (total > 0) {
		cli_error("mount", "%s", msg);
	} else {
		waitpid(pid, &status, 0);
		cli_error("mount", "the mount daemon for '%s' exited before the mount was live", mp);
		return 1;
	}
	waitpid(pid, &status, 0);
	return 1;
}

int cmd_mount(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "options", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	char **lists = calloc((size_t)argc + 1, sizeof(char *));
	size_t nlists = 0;
	int foreground = 0, c, rc = 1, pipefd[2];
	char err[1024], mp[PATH_MAX];
	dfs_config cfg;
	dfs_uri ufs = { 0 };
	pid_t pid;

	dfs_config_init(&cfg);
	if (!lists) {
		cli_error("mount", "out of memory");
		goto out;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:fhd", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			lists[nlists++] = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'd':
			lists[nlists++] = "debug";
			foreground = 1;
			break;
		case 'h':
			mount_usage(stdout);
			rc = 0;
			goto out;
		case ':':
			cli_error("mount", "option '-%c' needs a value", optopt);
			rc = 2;
			goto out;
		default:
			cli_error("mount", "unknown flag '%s' (see 'dorafs mount --help')", argv[optind - 1]);
			rc = 2;
			goto out;
		}
	}
	rc = 2;
	if (argc - optind < 2) {
		cli_error("mount", argc - optind == 0 ? "missing UFS URI and mount point" : "missing mount point");
		goto out;
	}
	if (argc - optind > 2) {
		cli_error("mount", "unexpected argument '%s'", argv[optind + 2]);
		goto out;
	}
	if (dfs_config_from_options(&cfg, lists, nlists, err, sizeof(err)) < 0) {
		cli_error("mount", "%s", err);
		goto out;
	}
	cli_scrub_secrets(lists, nlists);
	rc = 1;
	/* The daemon runs in "/": resolve everything relative now. */
	if (dfs_uri_parse(argv[optind], &ufs, err, sizeof(err)) < 0) {
		cli_error("mount", "%s", err);
		goto out;
	}
	if (absolutize(&cfg.cache_dir) < 0 || absolutize(&cfg.log_file) < 0) {
		cli_error("mount", "cannot resolve a relative path: %s", strerror(errno));
		goto out;
	}
	if (check_mountpoint(argv[optind + 1], mp, sizeof(mp), err, sizeof(err)) < 0) {
		cli_error("mount", "%s", err);
		goto out;
	}
	if (foreground) {
		ready_ctx r = { .fd = -1 };
		rc = serve(&cfg, ufs.str, mp, &r);
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		cli_error("mount", "pipe: %s", strerror(errno));
		goto out;
	}
	/* Nothing buffered may be printed twice: the child runs exit() (not
	 * _exit) so that leak checkers and atexit handlers see its end. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		cli_error("mount", "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		goto out;
	}
	if (pid == 0) {
		ready_ctx r = { .fd = pipefd[1], .log_file = cfg.log_file };
		close(pipefd[0]);
		setsid();
		if (chdir("/") < 0) {
			/* keep going: the mount does not depend on the cwd */
		}
		rc = serve(&cfg, ufs.str, mp, &r);
		dfs_config_free(&cfg);
		dfs_uri_free(&ufs);
		free(lists);
		exit(rc);
	}
	close(pipefd[1]);
	rc = wait_child(pid, pipefd[0], mp);
out:
	dfs_config_free(&cfg);
	dfs_uri_free(&ufs);
	free(lists);
	return rc;
}
