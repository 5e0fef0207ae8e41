/* Looking a mount point up in /proc/self/mountinfo (see mountinfo.h). */
#include "mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The value of user_id= in a comma-separated option list, or -1. */
static long user_id_of(const char *opts)
{
	for (const char *p = opts; p; p = strchr(p, ',')) {
		char *end;
		long v;

		if (*p == ',')
			p++;
		if (strncmp(p, "user_id=", 8) != 0)
			continue;
		errno = 0;
		v = strtol(p + 8, &end, 10);
		if (errno || end == p + 8 || v < 0 || (*end && *end != ','))
			return -1;
		return v;
	}
	return -1;
}

int dfs_mountinfo_find(const char *mp, char *majmin, size_t majlen, char *fstype, size_t typelen,
		       long *user_id)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = -ENOENT;

	if (!f)
		return -errno;
	/* Fields: id parent major:minor root mountpoint ... " - " fstype source
	 * superoptions */
	while (getline(&line, &cap, f) >= 0) {
		char dev[64], mnt[4096], type[64], opts[1024] = "", *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*d %*d %63s %*s %4095s", dev, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", type, opts) < 1)
			continue;
		unescape(mnt);
		if (strcmp(mnt, mp) != 0)
			continue;
		if (majmin)
			snprintf(majmin, majlen, "%s", dev);
		if (fstype)
			snprintf(fstype, typelen, "%s", type);
		if (user_id)
			*user_id = user_id_of(opts);
		rc = 0;
	}
	free(line);
	fclose(f);
	return rc;
}
