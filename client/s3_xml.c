/* S3 XML answers (see s3_xml.h). */
#include "s3_xml.h"

#include <errno.h>
#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_request.h"

int64_t s3_parse_iso8601(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;
	long frac_ns = 0;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	if (s[n] == '.') {
		/* fractional seconds: up to 9 digits count */
		long scale = 100000000;
		for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++) {
			frac_ns += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970 || y > 9999)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (int64_t)t * 1000000000LL + frac_ns;
}

static xmlDocPtr parse(const char *buf, size_t len)
{
	if (len > (size_t)0x7fffffff)
		return NULL;
	/* No NOENT (entities stay unexpanded), no network, no DTD loading. */
	return xmlReadMemory(buf, (int)len, "s3.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
			     XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
}

static bool is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* Text of a child element, malloc'd by libxml2 (xmlFree), or NULL. */
static xmlChar *child_text(xmlNodePtr n, const char *name)
{
	xmlNodePtr c = child(n, name);
	return c ? xmlNodeGetContent(c) : NULL;
}

/*
 * A name as S3 sends it with encoding-type=url: %XX escapes, '+' for a
 * space (what botocore's unquote_plus undoes; a real '+' comes as %2B).
 * NULL for a bad escape or an escaped NUL (no name can hold one). g_free.
 */
static char *url_decode(const char *in)
{
	char *spaced = g_strdelimit(g_strdup(in), "+", ' ');
	char *out = g_uri_unescape_string(spaced, NULL);

	g_free(spaced);
	return out;
}

/* Hand one item on, its name decoded if the page is url-encoded. A name that
 * does not decode is left out (a server bug, or a NUL): the rest of the
 * page still lists. */
static int emit_item(s3_list_item *it, bool encoded, s3_list_item_cb cb, void *arg)
{
	char *dec;
	int rc;

	if (!encoded)
		return cb(arg, it);
	dec = url_decode(it->key);
	if (!dec)
		return 0;
	it->key = dec;
	rc = cb(arg, it);
	g_free(dec);
	return rc;
}

int s3_xml_parse_list(const char *buf, size_t len, s3_list_item_cb cb, void *arg,
		      bool *truncated, char **next_token)
{
	xmlDocPtr doc = parse(buf, len);
	xmlNodePtr root;
	xmlChar *enc;
	bool encoded;
	int rc = 0;

	*truncated = false;
	*next_token = NULL;
	if (!doc)
		return -EIO;
	root = xmlDocGetRootElement(doc);
	if (!root || !is(root, "ListBucketResult")) {
		rc = -EIO;
		goto out;
	}
	/* Looked up first: it may come after the items. Only a server that
	 * says it encoded names gets them decoded (s3rver ignores the
	 * request, and its names are sent as they are). */
	enc = child_text(root, "EncodingType");
	encoded = enc && strcmp((const char *)enc, "url") == 0;
	xmlFree(enc);
	for (xmlNodePtr n = root->children; n && rc == 0; n = n->next) {
		if (is(n, "IsTruncated")) {
			xmlChar *t = xmlNodeGetContent(n);
			*truncated = t && strcmp((const char *)t, "true") == 0;
			xmlFree(t);
		} else if (is(n, "NextContinuationToken")) {
			xmlChar *t = xmlNodeGetContent(n);
			free(*next_token);
			*next_token = t ? strdup((const char *)t) : NULL;
			xmlFree(t);
			if (!*next_token)
				rc = -ENOMEM;
		} else if (is(n, "Contents")) {
			xmlChar *key = child_text(n, "Key"), *size = child_text(n, "Size"),
				*etag = child_text(n, "ETag"), *lm = child_text(n, "LastModified");
			char et[80] = "";
			s3_list_item it;

			if (etag)
				s3_strip_etag((const char *)etag, et, sizeof(et));
			it = (s3_list_item){ .key = (const char *)key, .is_prefix = false,
					     .size = size ? strtoull((const char *)size, NULL, 10) : 0,
					     .mtime_ns = s3_parse_iso8601((const char *)lm), .etag = et };
			if (key)
				rc = emit_item(&it, encoded, cb, arg);
			xmlFree(key);
			xmlFree(size);
			xmlFree(etag);
			xmlFree(lm);
		} else if (is(n, "CommonPrefixes")) {
			xmlChar *p = child_text(n, "Prefix");
			s3_list_item it = { .key = (const char *)p, .is_prefix = true, .mtime_ns = -1, .etag = "" };

			if (p)
				rc = emit_item(&it, encoded, cb, arg);
			xmlFree(p);
		}
	}
	if (*truncated && !*next_token && rc == 0)
		rc = -EIO; /* truncated with no way to go on */
out:
	if (rc != 0) {
		free(*next_token);
		*next_token = NULL;
	}
	xmlFreeDoc(doc);
	return rc;
}

void s3_xml_error_code(const char *buf, size_t len, char *code, size_t codelen)
{
	xmlDocPtr doc = parse(buf, len);
	xmlNodePtr root;
	xmlChar *c = NULL;

	code[0] = '\0';
	if (!doc)
		return;
	root = xmlDocGetRootElement(doc);
	if (root && is(root, "Error"))
		c = child_text(root, "Code");
	if (c)
		snprintf(code, codelen, "%s", (const char *)c);
	xmlFree(c);
	xmlFreeDoc(doc);
}
