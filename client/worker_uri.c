/* AlluxioURI-compatible normalisation of UFS URIs. */
#include "worker_uri.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of "scheme:" at the start of s (RFC 3986 scheme chars), or 0. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (s[i] && s[i] != ':' && s[i] != '/') {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return 0;
		i++;
	}
	return s[i] == ':' ? i + 1 : 0;
}

/*
 * Normalise a path in place: '\' -> '/', empty and '.' segments dropped, '..'
 * pops a segment. A '..' that would climb above the root of an absolute path
 * is kept, as java.net.URI.normalize keeps it; for a relative path it is kept
 * too. No trailing '/' except for "/".
 */
static void normalize_path(char *p)
{
	size_t n = strlen(p), i, o = 0;
	int absolute;
	size_t kept_dotdots = 0; /* leading '..' segments that cannot be popped */

	for (i = 0; i < n; i++)
		if (p[i] == '\\')
			p[i] = '/';
	absolute = p[0] == '/';
	if (absolute)
		o = 1;
	i = 0;
	while (i < n) {
		size_t s, len;

		while (i < n && p[i] == '/')
			i++;
		s = i;
		while (i < n && p[i] != '/')
			i++;
		len = i - s;
		if (len == 0 || (len == 1 && p[s] == '.'))
			continue;
		if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
			/* pop the last segment unless it is itself a kept '..' */
			size_t base = absolute ? 1 : 0;
			size_t floor = base + kept_dotdots * 3;
			if (o > floor) {
				size_t j = o;
				if (j > 0 && p[j - 1] == '/')
					j--;
				while (j > base && p[j - 1] != '/')
					j--;
				o = j;
				continue;
			}
			kept_dotdots++;
		}
		memmove(p + o, p + s, len);
		o += len;
		p[o++] = '/';
	}
	if (o > 1 && p[o - 1] == '/')
		o--;
	if (o == 0 && absolute)
		o = 1;
	p[o] = '\0';
}

int dfs_alluxio_uri_normalize(const char *uri, char *out, size_t outlen)
{
	size_t sl, head = 0, n = strlen(uri);
	char *tmp;

	if (n + 2 > outlen)
		return -ENAMETOOLONG;
	tmp = malloc(n + 2);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, uri, n + 1);
	sl = scheme_len(tmp);
	head = sl;
	if (sl && tmp[sl] == '/' && tmp[sl + 1] == '/') {
		/* authority runs to the next '/' */
		head = sl + 2;
		while (tmp[head] && tmp[head] != '/')
			head++;
	}
	memcpy(out, tmp, head);
	/* An empty path ("s3://bucket") stays empty, as in AlluxioURI. */
	normalize_path(tmp + head);
	memcpy(out + head, tmp + head, strlen(tmp + head) + 1);
	free(tmp);
	return 0;
}

int dfs_ufs_uri_join(const char *root, const char *rel, char *out, size_t outlen)
{
	size_t a = strlen(root), b = strlen(rel);
	char *tmp;
	int rc;

	if (a == 0)
		return -EINVAL;
	tmp = malloc(a + b + 2);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, root, a);
	tmp[a] = '/';
	memcpy(tmp + a + 1, rel, b + 1);
	rc = dfs_alluxio_uri_normalize(tmp, out, outlen);
	free(tmp);
	return rc;
}
