/* The dorafs command: one function per subcommand. */
#ifndef DORAFS_CLI_H
#define DORAFS_CLI_H

int cmd_mount(int argc, char **argv);
int cmd_unmount(int argc, char **argv);
int cmd_stat(int argc, char **argv);

/* Print a one-line error "dorafs <cmd>: <message>" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
