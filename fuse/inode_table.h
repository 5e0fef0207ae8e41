/*
 * FUSE inode numbers <-> mount paths, with the kernel's lookup counts.
 * One mutex guards the table; it is taken by lookup, forget and the
 * metadata operations, never on the read path (which uses file handles).
 */
#ifndef DORAFS_INODE_TABLE_H
#define DORAFS_INODE_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct inode_table inode_table;

inode_table *itab_new(void);
void itab_free(inode_table *t);

/* Copy the path of ino into buf; returns false if ino is unknown. */
bool itab_path(inode_table *t, uint64_t ino, char *buf, size_t size);

/* The inode for path, created if new; its lookup count goes up by one. */
uint64_t itab_lookup(inode_table *t, const char *path);

/* The kernel forgot n lookups of ino. */
void itab_forget(inode_table *t, uint64_t ino, uint64_t n);

/* auto_cache support: remember what the file looked like at its last open;
 * returns true if it is unchanged since the previous open. */
bool itab_same_as_last_open(inode_table *t, uint64_t ino, int64_t mtime_ns, uint64_t size);

uint64_t itab_count(inode_table *t);

#endif
