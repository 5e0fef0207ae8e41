/* The S3 credential chain (see s3_creds.h). */
#include "s3_creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CREDS_FILE_MAX (1 << 20) /* a credentials file bigger than this is not one */

static void zfree(char *s)
{
	/* Secrets are wiped, not just freed: a core dump should not hold them. */
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void s3_creds_free(s3_creds *c)
{
	zfree(c->access_key);
	zfree(c->secret_key);
	zfree(c->session_token);
	free(c->region);
	c->access_key = c->secret_key = c->session_token = c->region = NULL;
}

/* The whole file in one buffer (wiped by the caller): lines
 * of any length (session tokens pass 2 KiB), and no copy of a secret left
 * behind in memory a growing buffer gave back. NULL with errno. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	int e = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		e = errno;
		goto done;
	}
	if (S_ISREG(st.st_mode) && st.st_size > CREDS_FILE_MAX) {
		e = EFBIG;
		goto done;
	}
	/* A regular file's size is known; a pipe (-o s3.credentials_file=
	 * <(...)) is read to its end, up to the same cap. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size : CREDS_FILE_MAX + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		e = ENOMEM;
		goto done;
	}
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			break;
		}
		if (n == 0)
			break; /* shrank meanwhile, or the end of a pipe */
		got += (size_t)n;
	}
	if (!e && got > CREDS_FILE_MAX)
		e = EFBIG;
	if (e) {
		explicit_bzero(buf, got);
		free(buf);
		buf = NULL;
		goto done;
	}
	buf[got] = '\0';
	*len = got;
done:
	close(fd);
	if (e)
		errno = e;
	return buf;
}

int s3_creds_read_file(const char *path, const char *profile, s3_creds *out)
{
	size_t len = 0;
	char *text = slurp(path, &len), *save = NULL, *line;
	int in_profile = 0, found = 0, rc = 0;
	char *ak = NULL, *sk = NULL, *tok = NULL;

	if (!text)
		return -errno;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = g_strstrip(line), *eq, *key, *val, **slot = NULL;

		if (*l == '#' || *l == ';' || *l == '\0')
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']');
			if (end)
				*end = '\0';
			l = g_strstrip(l + 1);
			/* ~/.aws/config spells sections "profile NAME"; accept both. */
			if (strncmp(l, "profile ", 8) == 0)
				l = g_strstrip(l + 8);
			in_profile = strcmp(l, profile) == 0;
			found |= in_profile;
			continue;
		}
		if (!in_profile || !(eq = strchr(l, '=')))
			continue;
		*eq = '\0';
		key = g_strstrip(l);
		val = g_strstrip(eq + 1);
		if (strcmp(key, "aws_access_key_id") == 0)
			slot = &ak;
		else if (strcmp(key, "aws_secret_access_key") == 0)
			slot = &sk;
		else if (strcmp(key, "aws_session_token") == 0)
			slot = &tok;
		if (!slot)
			continue;
		zfree(*slot);
		*slot = strdup(val);
		if (!*slot) {
			rc = -ENOMEM;
			break;
		}
	}
	explicit_bzero(text, len);
	free(text);
	if (rc == 0 && (!found || !ak || !sk))
		rc = -ENOENT;
	if (rc < 0) {
		zfree(ak);
		zfree(sk);
		zfree(tok);
		return rc;
	}
	out->access_key = ak;
	out->secret_key = sk;
	out->session_token = tok;
	return 0;
}

static int set_keys(s3_creds *out, const char *ak, const char *sk, const char *tok)
{
	out->access_key = strdup(ak);
	out->secret_key = strdup(sk);
	out->session_token = tok && *tok ? strdup(tok) : NULL;
	if (!out->access_key || !out->secret_key || (tok && *tok && !out->session_token))
		return -ENOMEM;
	return 0;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int s3_creds_resolve(const dfs_config *cfg, s3_creds *out, char *err, size_t errlen)
{
	const char *profile = cfg->s3_profile ? cfg->s3_profile : env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
	const char *region = cfg->s3_region ? cfg->s3_region
		: env("AWS_REGION") ? env("AWS_REGION")
		: env("AWS_DEFAULT_REGION") ? env("AWS_DEFAULT_REGION") : "us-east-1";
	char path[4096];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->region = strdup(region);
	if (!out->region) {
		rc = -ENOMEM;
		goto out;
	}
	if (cfg->s3_anonymous) {
		out->source = "anonymous";
		goto out;
	}
	if (cfg->s3_access_key || cfg->s3_secret_key) {
		if (!cfg->s3_access_key || !cfg->s3_secret_key) {
			snprintf(err, errlen, "s3.access_key and s3.secret_key must be given together");
			rc = -EINVAL;
			goto out;
		}
		out->source = "options";
		rc = set_keys(out, cfg->s3_access_key, cfg->s3_secret_key, cfg->s3_session_token);
		goto out;
	}
	if (cfg->s3_credentials_file) {
		rc = s3_creds_read_file(cfg->s3_credentials_file, profile, out);
		if (rc < 0) {
			snprintf(err, errlen, "s3.credentials_file '%s': %s", cfg->s3_credentials_file,
				 rc == -ENOENT ? "no such file, or no profile with aws_access_key_id and "
				 "aws_secret_access_key" : strerror(-rc));
			goto out;
		}
		out->source = "credentials file";
		goto out;
	}
	if (env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
		out->source = "environment";
		rc = set_keys(out, env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"));
		goto out;
	}
	if (env("AWS_SHARED_CREDENTIALS_FILE"))
		snprintf(path, sizeof(path), "%s", env("AWS_SHARED_CREDENTIALS_FILE"));
	else
		snprintf(path, sizeof(path), "%s/.aws/credentials", env("HOME") ? env("HOME") : "/root");
	rc = s3_creds_read_file(path, profile, out);
	if (rc == 0) {
		out->source = "~/.aws/credentials";
		goto out;
	}
	/* Nothing found: public buckets still work. */
	rc = 0;
	out->source = "anonymous";
out:
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		s3_creds_free(out);
	}
	return rc;
}
