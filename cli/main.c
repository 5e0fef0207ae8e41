/* dorafs: mount and operate Alluxio-style cached views of S3, HDFS and local folders. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "mount", cmd_mount, "mount a UFS (s3://, hdfs://, a folder) at a mount point" },
	{ "unmount", cmd_unmount, "unmount a dorafs mount (-f: lazily)" },
	{ "umount", cmd_unmount, NULL },
	{ "stat", cmd_stat, "show what a running mount has served and cached" },
	{ "workers", cmd_workers, "list the cluster's Alluxio workers (etcd or static membership)" },
	{ "locate", cmd_locate, "show which workers own a path, as Alluxio's clients pick them" },
};

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dorafs %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: dorafs <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].summary)
			fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'dorafs <command> --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("dorafs 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dorafs: unknown command '%s' (see 'dorafs --help')\n", argv[1]);
	return 2;
}
