/* S3 backend pieces that need no server: key and query encoding, header
 * parsing, ListObjectsV2/Error XML, child names, the credential chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include <glib.h>

#include "s3_creds.h"
#include "s3_request.h"
#include "s3_xml.h"
#include "ufs_s3.h"

static void check_key(const char *in, const char *want)
{
	char *e = s3_encode_key(in);

	assert_non_null(e);
	assert_string_equal(e, want);
	free(e);
}

static void test_encode(void **state)
{
	char *q;

	(void)state;
	check_key("plain/key.txt", "plain/key.txt");
	check_key("a b/c+d%/e", "a%20b/c%2Bd%25/e");
	check_key("été/日", "%C3%A9t%C3%A9/%E6%97%A5");
	check_key("a//b/", "a//b/");
	check_key("q?x&y=z#", "q%3Fx%26y%3Dz%23");
	check_key("", "");
	check_key("~-._", "~-._");
	q = s3_encode_query_value("a/b c+");
	assert_string_equal(q, "a%2Fb%20c%2B");
	free(q);
}

static void test_headers(void **state)
{
	int64_t a, b, t;
	char et[80];

	(void)state;
	assert_int_equal(s3_parse_content_range("bytes 0-99/1000", &a, &b, &t), 0);
	assert_true(a == 0 && b == 99 && t == 1000);
	assert_int_equal(s3_parse_content_range(" bytes 5-5/*", &a, &b, &t), 0);
	assert_true(a == 5 && b == 5 && t == -1);
	assert_int_equal(s3_parse_content_range("bytes 9-3/10", &a, &b, &t), -1);
	assert_int_equal(s3_parse_content_range("items 0-1/2", &a, &b, &t), -1);
	s3_strip_etag("\"d41d8cd98f00b204e9800998ecf8427e\"", et, sizeof(et));
	assert_string_equal(et, "d41d8cd98f00b204e9800998ecf8427e");
	s3_strip_etag("W/\"abc-2\"\r\n", et, sizeof(et));
	assert_string_equal(et, "abc-2");
	s3_strip_etag("noquotes", et, 4);
	assert_string_equal(et, "noq");
	assert_true(s3_parse_iso8601("1970-01-01T00:00:01.500Z") == 1500000000LL);
	assert_true(s3_parse_iso8601("2026-11-25T13:45:17.000Z") == 1795614317LL * 1000000000LL);
	assert_true(s3_parse_iso8601("garbage") == -1);
	assert_true(s3_parse_iso8601("2026-13-01T00:00:00Z") == -1);
}

static void test_child_names(void **state)
{
	char buf[300], big[400];

	(void)state;
	assert_string_equal(dfs_s3_child_name("p/a", "p/", false, buf, sizeof(buf)), "a");
	assert_string_equal(dfs_s3_child_name("p/dir/", "p/", true, buf, sizeof(buf)), "dir");
	assert_null(dfs_s3_child_name("p/", "p/", false, buf, sizeof(buf)));      /* the folder marker */
	assert_null(dfs_s3_child_name("p//", "p/", true, buf, sizeof(buf)));      /* "p//x": empty name */
	assert_null(dfs_s3_child_name("p/./", "p/", true, buf, sizeof(buf)));
	assert_null(dfs_s3_child_name("p/../", "p/", true, buf, sizeof(buf)));
	assert_null(dfs_s3_child_name("p/..", "p/", false, buf, sizeof(buf)));
	assert_null(dfs_s3_child_name("q/a", "p/", false, buf, sizeof(buf)));
	assert_null(dfs_s3_child_name("p/a/b", "p/", false, buf, sizeof(buf)));
	assert_string_equal(dfs_s3_child_name("...", "", false, buf, sizeof(buf)), "...");
	memset(big, 'x', 256);
	big[256] = '\0';
	assert_null(dfs_s3_child_name(big, "", false, buf, sizeof(buf)));         /* > 255 bytes */
	big[255] = '\0';
	assert_non_null(dfs_s3_child_name(big, "", false, buf, sizeof(buf)));
}

typedef struct seen {
	int n;
	char keys[8][64];
	int prefix[8];
	uint64_t size[8];
	char etag[8][64];
} seen;

static int collect(void *arg, const s3_list_item *it)
{
	seen *s = arg;

	if (s->n >= 8)
		return 42;
	snprintf(s->keys[s->n], 64, "%s", it->key);
	snprintf(s->etag[s->n], 64, "%s", it->etag);
	s->prefix[s->n] = it->is_prefix;
	s->size[s->n] = it->size;
	s->n++;
	return 0;
}

static void test_list_xml(void **state)
{
	static const char page[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
		"<Prefix>p/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
		"<NextContinuationToken>tok/+=</NextContinuationToken>"
		"<Contents><Key>p/a &amp; b</Key><LastModified>2026-11-25T13:45:17.000Z</LastModified>"
		"<ETag>&quot;abc&quot;</ETag><Size>12345678901</Size></Contents>"
		"<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes></ListBucketResult>";
	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>k</Key><Size>0</Size></Contents></ListBucketResult>";
	static const char broken_trunc[] = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&x;</Key></Contents></ListBucketResult>";
	static const char err[] = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>m</Message></Error>";
	seen s = { 0 };
	bool trunc;
	char *tok = NULL, code[64];

	(void)state;
	assert_int_equal(s3_xml_parse_list(page, sizeof(page) - 1, collect, &s, &trunc, &tok), 0);
	assert_true(trunc);
	assert_string_equal(tok, "tok/+=");
	free(tok);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "p/a & b");
	assert_string_equal(s.etag[0], "abc");
	assert_true(s.size[0] == 12345678901ULL);
	assert_false(s.prefix[0]);
	assert_string_equal(s.keys[1], "p/d/");
	assert_true(s.prefix[1]);

	memset(&s, 0, sizeof(s));
	assert_int_equal(s3_xml_parse_list(last, sizeof(last) - 1, collect, &s, &trunc, &tok), 0);
	assert_false(trunc);
	assert_null(tok);
	assert_int_equal(s.n, 1);
	assert_int_equal(s3_xml_parse_list(broken_trunc, sizeof(broken_trunc) - 1, collect, &s, &trunc, &tok), -EIO);
	assert_null(tok);
	assert_int_equal(s3_xml_parse_list("<x>", 3, collect, &s, &trunc, &tok), -EIO);
	assert_int_equal(s3_xml_parse_list(err, sizeof(err) - 1, collect, &s, &trunc, &tok), -EIO);
	assert_int_equal(s3_xml_parse_list("", 0, collect, &s, &trunc, &tok), -EIO);

	/* encoding-type=url, announced after the items: names decoded ('+' is a
	 * space, %2B a plus), one with a control character XML 1.0 could not
	 * carry kept, one with a bad escape and one with a NUL left out. The
	 * same names without EncodingType are taken as they are. */
	{
		static const char enc[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
			"<Contents><Key>p/a+b%2Bc%25d</Key><Size>1</Size></Contents>"
			"<Contents><Key>p/x%01y</Key><Size>2</Size></Contents>"
			"<Contents><Key>p/bad%zz</Key><Size>3</Size></Contents>"
			"<Contents><Key>p/nul%00</Key><Size>4</Size></Contents>"
			"<Contents><Key>p/end%4</Key><Size>5</Size></Contents>"
			"<CommonPrefixes><Prefix>p/%C3%A9+d/</Prefix></CommonPrefixes>"
			"<EncodingType>url</EncodingType></ListBucketResult>";
		static const char plain[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
			"<Contents><Key>p/a+b%2Bc</Key><Size>1</Size></Contents></ListBucketResult>";

		memset(&s, 0, sizeof(s));
		assert_int_equal(s3_xml_parse_list(enc, sizeof(enc) - 1, collect, &s, &trunc, &tok), 0);
		assert_int_equal(s.n, 3);
		assert_string_equal(s.keys[0], "p/a b+c%d");
		assert_string_equal(s.keys[1], "p/x\x01y");
		assert_true(s.size[1] == 2);
		assert_string_equal(s.keys[2], "p/\xc3\xa9 d/");
		assert_true(s.prefix[2]);
		memset(&s, 0, sizeof(s));
		assert_int_equal(s3_xml_parse_list(plain, sizeof(plain) - 1, collect, &s, &trunc, &tok), 0);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.keys[0], "p/a+b%2Bc");
	}

	/* An external entity is never fetched: the key is empty, not /etc/passwd. */
	memset(&s, 0, sizeof(s));
	(void)s3_xml_parse_list(xxe, sizeof(xxe) - 1, collect, &s, &trunc, &tok);
	free(tok);
	for (int i = 0; i < s.n; i++)
		assert_null(strstr(s.keys[i], "root:"));

	s3_xml_error_code(err, sizeof(err) - 1, code, sizeof(code));
	assert_string_equal(code, "NoSuchBucket");
	s3_xml_error_code("not xml", 7, code, sizeof(code));
	assert_string_equal(code, "");
}

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_creds_file(void **state)
{
	char path[128];
	s3_creds c = { 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/credentials", tmpdir);
	write_file(path, "# comment\n[default]\naws_access_key_id = AKDEF\naws_secret_access_key=SKDEF\n\n"
		   "[profile other]\n aws_access_key_id=AKO \naws_secret_access_key = SKO\naws_session_token=TOK\n"
		   "[half]\naws_access_key_id=ONLY\n");
	assert_int_equal(s3_creds_read_file(path, "default", &c), 0);
	assert_string_equal(c.access_key, "AKDEF");
	assert_string_equal(c.secret_key, "SKDEF");
	assert_null(c.session_token);
	s3_creds_free(&c);
	assert_int_equal(s3_creds_read_file(path, "other", &c), 0);
	assert_string_equal(c.access_key, "AKO");
	assert_string_equal(c.session_token, "TOK");
	s3_creds_free(&c);
	assert_int_equal(s3_creds_read_file(path, "half", &c), -ENOENT);
	assert_int_equal(s3_creds_read_file(path, "nope", &c), -ENOENT);
	assert_int_equal(s3_creds_read_file("/nonexistent/x", "default", &c), -ENOENT);

	/* A session token of 2,400 characters (role chaining, session tags),
	 * CRLF line ends, no newline at the end: read whole. */
	{
		char tok[2401], *text;

		memset(tok, 'T', sizeof(tok) - 1);
		tok[sizeof(tok) - 1] = '\0';
		tok[1200] = 'M';
		text = g_strdup_printf("[default]\r\naws_access_key_id=AK\r\naws_session_token = %s\r\n"
				       "aws_secret_access_key=SK", tok);
		write_file(path, text);
		g_free(text);
		assert_int_equal(s3_creds_read_file(path, "default", &c), 0);
		assert_string_equal(c.session_token, tok);
		assert_string_equal(c.secret_key, "SK");
		s3_creds_free(&c);
	}

	/* From a pipe (-o s3.credentials_file=<(...)), whose size is 0. */
	{
		static const char text[] = "[default]\naws_access_key_id=AKP\naws_secret_access_key=SKP\n";
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_int_equal(write(p[1], text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
		close(p[1]);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
		assert_int_equal(s3_creds_read_file(path, "default", &c), 0);
		assert_string_equal(c.access_key, "AKP");
		assert_string_equal(c.secret_key, "SKP");
		s3_creds_free(&c);
		close(p[0]);
	}
}

static void test_creds_chain(void **state)
{
	dfs_config cfg;
	s3_creds c;
	char err[256], path[128];

	(void)state;
	setenv("HOME", tmpdir, 1);
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	dfs_config_init(&cfg);

	/* Nothing anywhere: anonymous, default region. */
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "anonymous");
	assert_null(c.access_key);
	assert_string_equal(c.region, "us-east-1");
	s3_creds_free(&c);

	/* ~/.aws/credentials, then the environment over it. */
	snprintf(path, sizeof(path), "%s/.aws", tmpdir);
	assert_int_equal(mkdir(path, 0700) == 0 || errno == EEXIST, 1);
	snprintf(path, sizeof(path), "%s/.aws/credentials", tmpdir);
	write_file(path, "[default]\naws_access_key_id=HOMEAK\naws_secret_access_key=HOMESK\n");
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "~/.aws/credentials");
	assert_string_equal(c.access_key, "HOMEAK");
	s3_creds_free(&c);
	setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
	setenv("AWS_REGION", "eu-west-3", 1);
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "environment");
	assert_string_equal(c.access_key, "ENVAK");
	assert_string_equal(c.region, "eu-west-3");
	s3_creds_free(&c);

	/* A credentials file option beats the environment; a missing one is an error. */
	snprintf(path, sizeof(path), "%s/.aws/credentials", tmpdir);
	assert_int_equal(dfs_config_apply_list(&cfg, "s3.credentials_file=/nonexistent/creds", err, sizeof(err)), 0);
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/creds"));
	dfs_config_free(&cfg);
	dfs_config_init(&cfg);

	/* Options beat everything (Alluxio names), and never both halves missing. */
	assert_int_equal(dfs_config_apply_list(&cfg, "s3a.accessKeyId=OPTAK,s3a.secretKey=OPTSK,"
					       "alluxio.underfs.s3.region=ap-south-1", err, sizeof(err)), 0);
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "options");
	assert_string_equal(c.access_key, "OPTAK");
	assert_string_equal(c.secret_key, "OPTSK");
	assert_string_equal(c.region, "ap-south-1");
	s3_creds_free(&c);
	dfs_config_free(&cfg);
	dfs_config_init(&cfg);
	assert_int_equal(dfs_config_apply_list(&cfg, "s3.access_key=X", err, sizeof(err)), 0);
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), -EINVAL);
	dfs_config_free(&cfg);
	dfs_config_init(&cfg);
	assert_int_equal(dfs_config_apply_list(&cfg, "s3.anonymous=true", err, sizeof(err)), 0);
	assert_int_equal(s3_creds_resolve(&cfg, &c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "anonymous");
	s3_creds_free(&c);
	dfs_config_free(&cfg);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_REGION");
}

static void test_client_settings(void **state)
{
	s3_settings set = { .endpoint = "ftp://x", .region = "us-east-1", .bucket = "b", .addressing = "auto",
			    .max_connections = 2 };
	s3_creds c = { 0 };
	s3_client *cli = NULL;
	char err[256];

	(void)state;
	c.region = strdup("us-east-1");
	assert_int_equal(s3_client_new(&set, &c, &cli, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "http"));
	c.region = strdup("us-east-1");
	set.endpoint = "http://127.0.0.1:1/";
	set.addressing = "sideways";
	assert_int_equal(s3_client_new(&set, &c, &cli, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "addressing"));
	c.region = strdup("us-east-1");
	set.addressing = "path";
	assert_int_equal(s3_client_new(&set, &c, &cli, err, sizeof(err)), 0);
	assert_string_equal(s3_client_endpoint(cli), "http://127.0.0.1:1");
	s3_client_free(cli);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dorafs-test-s3-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_child_names),
		cmocka_unit_test(test_list_xml),
		cmocka_unit_test(test_creds_file),
		cmocka_unit_test(test_creds_chain),
		cmocka_unit_test(test_client_settings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
