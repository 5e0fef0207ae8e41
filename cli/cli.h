/* The dorafs command: one function per subcommand. */
#ifndef DORAFS_CLI_H
#define DORAFS_CLI_H

#include <stddef.h>

int cmd_mount(int argc, char **argv);
int cmd_unmount(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_workers(int argc, char **argv);
int cmd_locate(int argc, char **argv);

/* Worker membership from -o lists, for workers/locate (cmd_workers.c);
 * NULL after printing an error line. */
struct dfs_config;
struct dfs_membership;
struct dfs_membership *cli_membership_from_options(const char *cmd, char **lists, size_t nlists,
						   struct dfs_config *cfg);

/* The JSON counters of the running mount at mp (caller frees), or NULL after
 * printing an error line for cmd. */
char *cli_read_mount_stats(const char *cmd, const char *mp);

/* Print a one-line error "dorafs <cmd>: <message>" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Overwrite with '*' the value of every secret option (dfs_config_is_secret)
 * in the -o lists, which point into argv: ps shows argv for the process's
 * whole life. Call once the options are parsed. */
void cli_scrub_secrets(char **lists, size_t nlists);

#endif
