/*
 * libFuzzer harness: etcd gateway answers (range) and the watch stream
 * decoder.  The first byte picks where the stream is split, so objects cut
 * across network reads are exercised too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_client.h"

static int count_events(void *arg, const etcd_event *ev, size_t n, int64_t revision)
{
	size_t *total = arg;

	(void)revision;
	for (size_t i = 0; i < n; i++)
		if (!ev[i].kv.key || !ev[i].kv.value)   /* always allocated, even when empty */
			abort();
	*total += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	etcd_kv *kvs = NULL;
	size_t n = 0, total = 0, cut;
	int64_t rev;
	char err[256], end[64];
	bool created = false;
	etcd_watch_decoder *d;

	if (etcd_parse_range((const char *)data, size, &kvs, &n, &rev, err, sizeof(err)) == 0)
		etcd_kvs_free(kvs, n);
	if (size == 0)
		return 0;
	cut = data[0] % size;
	d = etcd_watch_decoder_new(count_events, &total);
	if (!d)
		return 0;
	if (etcd_watch_decoder_feed(d, (const char *)data + 1, cut, &created, err, sizeof(err)) == 0)
		(void)etcd_watch_decoder_feed(d, (const char *)data + 1 + cut, size - 1 - cut, &created, err, sizeof(err));
	etcd_watch_decoder_free(d);
	etcd_prefix_end((const char *)data, size < sizeof(end) ? size : sizeof(end), end, &n);
	return 0;
}
