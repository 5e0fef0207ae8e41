#include "tune.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	int rc = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", v) < 0)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

int tune_pipe_max_size(size_t max_read)
{
	static const char path[] = "/proc/sys/fs/pipe-max-size";
	/* libfuse needs the reply header in the pipe too; round up to a power of two. */
	long need = 1;
	long cur = read_long(path);

	while ((size_t)need < max_read + 4096)
		need <<= 1;
	if (cur >= need)
		return 0;
	return write_long(path, need);
}

int tune_read_ahead(const char *mountpoint, size_t max_read)
{
	char dev[64], path[128];
	int rc = dfs_mountinfo_find(mountpoint, dev, sizeof(dev), NULL, 0, NULL);

	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	return write_long(path, (long)(max_read / 1024));
}
