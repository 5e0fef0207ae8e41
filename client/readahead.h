/*
 * Read-ahead layer for remote sources (S3, later HDFS).
 *
 * Sits right above the UFS (below the page cache, if any), so it serves both
 * the page cache's page fetches and, without a page cache, the FUSE reads
 * directly. Per open file it detects sequential access and keeps a window
 * of chunks being fetched ahead by a small thread pool, in memory:
 *
 *   - a read at offset 0, or within a few pages of where the last one ended
 *     (kernel and FUSE reorder a little), or inside a chunk already fetched
 *     ahead, is sequential; anything else resets the window and is read
 *     directly (random readers get exactly what they ask for);
 *   - the window starts at 4 MiB and doubles each time the reader finishes a
 *     chunk, up to readahead_max; chunks grow with it up to 8 MiB;
 *   - the bytes of all chunks of all files, in flight or waiting to be read,
 *     never exceed readahead_memory; past it, reads are simply not read ahead
 *     (up to 4 freed 8 MiB buffers are kept for reuse besides: stat
 *     spare_bytes);
 *   - a reader that needs bytes of a chunk in flight waits for that chunk
 *     (one GET), and a served chunk is freed at once (the page cache above
 *     keeps the bytes, if there is one).
 *   - a read of a whole file from offset 0 (a small file's only page) has
 *     nothing ahead of it and is read straight into the caller's buffer
 *     (stat whole_file_reads).
 *
 * Threads: a GLib pool, whose threads start on the first read-ahead.
 */
#ifndef DORAFS_READAHEAD_H
#define DORAFS_READAHEAD_H

#include <stdint.h>

#include "source.h"

/* max_window: per open file; memory: global; page: the reads' page size
 * (tolerance for reordered reads). Returns NULL on allocation failure. */
dfs_source *dfs_readahead_new(dfs_source *inner, uint64_t max_window, uint64_t memory, uint64_t page,
			      unsigned threads);

#endif
