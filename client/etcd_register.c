/* Alluxio-style worker registration in etcd; see etcd_register.h. */
#include "etcd_register.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mono_cond.h"

struct etcd_registration {
	etcd_client *c;
	char *live_key;
	char *value;
	int ttl;
	int64_t lease;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
};

static char *key_for(const char *fmt, const char *cluster, const char *name)
{
	size_t n = strlen(fmt) + strlen(cluster) + strlen(name) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, fmt, cluster, name);
	return s;
}

/* Grant a lease and write the live key with it. */
static int put_live(etcd_registration *r, char *err, size_t errlen)
{
	int64_t lease;

	if (etcd_lease_grant(r->c, r->ttl, &lease, err, errlen) < 0)
		return -1;
	if (etcd_put(r->c, r->live_key, strlen(r->live_key), r->value, strlen(r->value), lease, err, errlen) < 0) {
		char e2[256];

		if (etcd_lease_revoke(r->c, lease, e2, sizeof(e2)) < 0) {
			/* It expires by itself after ttl. */
		}
		return -1;
	}
	r->lease = lease;
	return 0;
}

static void *keepalive_thread(void *arg)
{
	etcd_registration *r = arg;
	double period = r->ttl / 3.0;
	char err[512];

	if (period < 0.2)
		period = 0.2;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec ts;
		int64_t ttl = 0;

		dfs_deadline_in_ns(&ts, (int64_t)(period * 1e9));
		while (!r->stop && pthread_cond_timedwait(&r->cond, &r->mu, &ts) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		/* etcd unreachable: try again next period; lease gone (TTL 0 or
		 * "requested lease not found"): register anew. */
		if (etcd_lease_keepalive(r->c, r->lease, &ttl, err, sizeof(err)) < 0) {
			if (strstr(err, "not found") && put_live(r, err, sizeof(err)) < 0)
				fprintf(stderr, "dorafs: warning: etcd re-registration failed: %s\n", err);
		} else if (ttl <= 0 && put_live(r, err, sizeof(err)) < 0) {
			fprintf(stderr, "dorafs: warning: etcd re-registration failed: %s\n", err);
		}
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void reg_free(etcd_registration *r)
{
	if (!r)
		return;
	if (r->c)
		etcd_client_free(r->c);
	free(r->live_key);
	free(r->value);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int etcd_register_worker(const etcd_options *o, const char *cluster, const dfs_worker_entity *e,
			 int ttl_seconds, etcd_registration **out, char *err, size_t errlen)
{
	etcd_registration *r = calloc(1, sizeof(*r));
	char name[64], *ring_key = NULL;
	int rc = -1;

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (dfs_cond_init_monotonic(&r->cond) != 0) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!cluster || !*cluster)
		cluster = "DefaultAlluxioCluster";
	r->ttl = ttl_seconds > 0 ? ttl_seconds : 120;
	dfs_worker_entity_name(e, name, sizeof(name));
	r->live_key = key_for("/ServiceDiscovery/%s/%s", cluster, name);
	ring_key = key_for("/DHT/%s/AUTHORIZED/%s", cluster, name);
	r->value = dfs_worker_entity_to_json(e);
	if (!r->live_key || !ring_key || !r->value) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r->c = etcd_client_new(o, err, errlen);
	if (!r->c)
		goto out;
	if (etcd_put(r->c, ring_key, strlen(ring_key), r->value, strlen(r->value), 0, err, errlen) < 0 ||
	    put_live(r, err, errlen) < 0)
		goto out;
	if (pthread_create(&r->thread, NULL, keepalive_thread, r) != 0) {
		char e2[256];

		snprintf(err, errlen, "cannot start the etcd keep-alive thread");
		if (etcd_lease_revoke(r->c, r->lease, e2, sizeof(e2)) < 0) {
			/* It expires by itself after ttl. */
		}
		goto out;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	free(ring_key);
	reg_free(r);
	return rc;
}

void etcd_unregister_worker(etcd_registration *r, bool leave)
{
	char err[256];

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	if (leave && etcd_lease_revoke(r->c, r->lease, err, sizeof(err)) < 0)
		fprintf(stderr, "dorafs: warning: cannot revoke the etcd lease: %s\n", err);
	reg_free(r);
}
