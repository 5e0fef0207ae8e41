/*
 * S3 credentials, resolved once at mount in this order: mount options, the
 * s3.credentials_file option, the AWS_* environment, ~/.aws/credentials
 * (profile from s3.profile or AWS_PROFILE), else anonymous. Secrets live
 * only here and in the curl handles; they are zeroed when freed and never
 * written to a message.
 */
#ifndef DORAFS_S3_CREDS_H
#define DORAFS_S3_CREDS_H

#include <stddef.h>

#include "config.h"

typedef struct s3_creds {
	char *access_key;      /* NULL: anonymous */
	char *secret_key;
	char *session_token;   /* may be NULL */
	char *region;          /* always set */
	const char *source;    /* "options", "credentials file", "environment", "~/.aws/credentials", "anonymous" */
} s3_creds;

int s3_creds_resolve(const dfs_config *cfg, s3_creds *out, char *err, size_t errlen);
void s3_creds_free(s3_creds *c);

/* Read one profile of an AWS credentials (ini) file. Returns 0, -ENOENT if
 * the file or profile is missing, or -errno. Exposed for tests. */
int s3_creds_read_file(const char *path, const char *profile, s3_creds *out);

#endif
