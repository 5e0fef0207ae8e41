/* libFuzzer harness: S3 XML answers (ListObjectsV2 pages, <Error> bodies),
 * Content-Range and ETag headers, and listed keys mapped to child names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3_request.h"
#include "s3_xml.h"
#include "ufs_s3.h"

static int item_cb(void *arg, const s3_list_item *it)
{
	char buf[256];

	(void)arg;
	(void)dfs_s3_child_name(it->key, "p/", it->is_prefix, buf, sizeof(buf));
	(void)dfs_s3_child_name(it->key, "", it->is_prefix, buf, sizeof(buf));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), code[64], et[80], *tok = NULL, *enc;
	int64_t a, b, t;
	bool trunc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)s3_xml_parse_list(s, size, item_cb, NULL, &trunc, &tok);
	free(tok);
	s3_xml_error_code(s, size, code, sizeof(code));
	(void)s3_parse_content_range(s, &a, &b, &t);
	s3_strip_etag(s, et, sizeof(et));
	(void)s3_parse_iso8601(s);
	enc = s3_encode_key(s);
	free(enc);
	free(s);
	return 0;
}
