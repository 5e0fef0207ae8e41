/*
 * Parsing of S3 XML answers with libxml2: ListObjectsV2 result pages and
 * <Error> bodies. Elements are matched by local name, so answers with and
 * without the S3 namespace parse alike. Never resolves entities or fetches
 * anything (no XXE).
 */
#ifndef DORAFS_S3_XML_H
#define DORAFS_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct s3_list_item {
	const char *key;          /* full key (Contents) or prefix (CommonPrefixes) */
	bool is_prefix;
	uint64_t size;
	int64_t mtime_ns;         /* -1 if absent or unreadable */
	const char *etag;         /* without quotes; "" if absent */
} s3_list_item;

/* Called per Contents and per CommonPrefixes item, in document order;
 * non-zero stops parsing and is returned. */
typedef int (*s3_list_item_cb)(void *arg, const s3_list_item *item);

/*
 * Parse one ListObjectsV2 page. *truncated and *next_token (malloc'd, NULL if
 * none) say whether and how to continue. Returns 0, a callback's non-zero
 * value, or -EIO for a body that is not a ListBucketResult.
 */
int s3_xml_parse_list(const char *buf, size_t len, s3_list_item_cb cb, void *arg,
		      bool *truncated, char **next_token);

/* Copy the <Code> of an <Error> body into code ("" if none). */
void s3_xml_error_code(const char *buf, size_t len, char *code, size_t codelen);

/* "2026-11-25T13:45:17.000Z" -> ns since the epoch; -1 if unreadable. */
int64_t s3_parse_iso8601(const char *s);

#endif
