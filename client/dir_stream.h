/*
 * Directory listings that stream: a listing runs on a pool thread and its
 * entries can be read while later ones are still being fetched, so the
 * first names of a 10,000-object S3 folder reach `ls` after one LIST, and
 * the kernel's work on them overlaps the remaining pages.
 *
 * A dfs_dir is a snapshot: entries only ever get appended, so an index
 * names the same entry for the life of the handle (FUSE readdir offsets).
 */
#ifndef DORAFS_DIR_STREAM_H
#define DORAFS_DIR_STREAM_H

#include <stddef.h>

#include "source.h"

typedef struct dfs_dir_lister dfs_dir_lister;
typedef struct dfs_dir dfs_dir;

/* Listings of src, at most `threads` running at once; batch_wait_ns is
 * how long dfs_dir_wait waits for a batch (<= 0: 2 ms). Starts no thread
 * until the first dfs_dir_open. NULL when out of memory. */
dfs_dir_lister *dfs_dir_lister_new(dfs_source *src, unsigned threads, long batch_wait_ns);
/* Stops listings still running (their handles then end with -ECANCELED)
 * and waits for them. Handles not closed yet stay valid until closed. */
void dfs_dir_lister_free(dfs_dir_lister *l);

/* Start listing path and wait for its first entry or its end, so that a
 * missing folder or a refused request fails here: 0, or -errno. */
int dfs_dir_open(dfs_dir_lister *l, const char *path, dfs_dir **out);

/* Wait until entry i is listed or the listing ended; then, if fewer than
 * i + want are listed and the listing goes on, wait up to the lister's
 * batch_wait_ns more for them (so that a reply carries a batch, not one entry). Returns how many
 * entries are listed now (more than i, or fewer at the end of the listing),
 * or -errno if the listing failed before reaching entry i. */
long dfs_dir_wait(dfs_dir *d, size_t i, size_t want);

/* Entry i, which an earlier dfs_dir_wait showed listed. The name stays
 * valid until dfs_dir_close. */
void dfs_dir_entry(dfs_dir *d, size_t i, const char **name, dfs_attr *attr);

/* Entries listed so far and whether the listing is over (for statistics
 * and tests). */
size_t dfs_dir_count(dfs_dir *d, int *state);

/* Stop the listing if it still runs and free the handle once it stopped. */
void dfs_dir_close(dfs_dir *d);

#endif
