/* Worker picker over the membership with a connection pool; see worker_ring.h. */
#include "worker_ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define TARGET_MAX (DFS_HOST_MAX + 16)

typedef struct pooled {
	char target[TARGET_MAX];
	dfs_worker_conn *conn;
} pooled;

struct dfs_worker_ring {
	dfs_membership *m;
	dfs_worker_conn_options base;
	pthread_mutex_t mu;     /* guards the pool */
	pooled *pool;
	size_t n, cap;
	uint64_t pruned_gen;    /* membership generation the pool was last pruned for */
};

void dfs_worker_rpc_target(const dfs_worker *w, char *buf, size_t len)
{
	const char *h = w->e.addr.host;

	/* An IPv6 literal needs brackets in a gRPC target. */
	if (strchr(h, ':') && h[0] != '[')
		snprintf(buf, len, "[%s]:%d", h, w->e.addr.rpc_port);
	else
		snprintf(buf, len, "%s:%d", h, w->e.addr.rpc_port);
}

dfs_worker_ring *dfs_worker_ring_new(dfs_membership *m, const dfs_worker_conn_options *base,
				     char *err, size_t errlen)
{
	dfs_worker_ring *r = calloc(1, sizeof(*r));

	if (!r || pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->m = m;
	r->base = *base;
	r->base.target = NULL;
	return r;
}

void dfs_worker_ring_free(dfs_worker_ring *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		dfs_worker_conn_free(r->pool[i].conn);
	free(r->pool);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Drops pooled connections to addresses the current list no longer has.
 * Called with r->mu held. */
static void prune(dfs_worker_ring *r, uint64_t gen)
{
	dfs_worker_list *l = dfs_membership_snapshot(r->m);
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		bool keep = false;

		for (size_t j = 0; l && j < l->n_live && !keep; j++) {
			char t[TARGET_MAX];

			dfs_worker_rpc_target(&l->w[j], t, sizeof(t));
			keep = strcmp(t, r->pool[i].target) == 0;
		}
		if (keep)
			r->pool[k++] = r->pool[i];
		else
			dfs_worker_conn_free(r->pool[i].conn);
	}
	r->n = k;
	r->pruned_gen = gen;
	dfs_worker_list_unref(l);
}

dfs_worker_conn *dfs_worker_ring_pick(dfs_worker_ring *r, const char *uri)
{
	dfs_worker w;
	char target[TARGET_MAX], err[256];
	dfs_worker_conn *c = NULL;
	uint64_t gen;

	if (dfs_membership_select(r->m, uri, 1, &w) < 1)
		return NULL;
	dfs_worker_rpc_target(&w, target, sizeof(target));
	gen = dfs_membership_generation(r->m);
	pthread_mutex_lock(&r->mu);
	if (gen != r->pruned_gen)
		prune(r, gen);
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->pool[i].target, target) == 0) {
			c = dfs_worker_conn_ref(r->pool[i].conn);
			goto out;
		}
	}
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		pooled *np = realloc(r->pool, nc * sizeof(*np));

		if (!np)
			goto out;
		r->pool = np;
		r->cap = nc;
	}
	{
		dfs_worker_conn_options o = r->base;

		o.target = target;
		/* Creating a connection sends nothing (the handshake waits for
		 * the first call), so holding the lock here is cheap. */
		if (dfs_worker_conn_new(&o, &c, err, sizeof(err)) < 0) {
			if (r->base.log)
				r->base.log(LOG_WARNING, err);
			c = NULL;
			goto out;
		}
	}
	snprintf(r->pool[r->n].target, sizeof(r->pool[r->n].target), "%s", target);
	r->pool[r->n].conn = c;
	r->n++;
	c = dfs_worker_conn_ref(c);
out:
	pthread_mutex_unlock(&r->mu);
	return c;
}

static dfs_worker_conn *pick_cb(void *arg, const char *uri)
{
	return dfs_worker_ring_pick(arg, uri);
}

void dfs_worker_ring_picker(dfs_worker_ring *r, dfs_worker_picker *p)
{
	p->pick = pick_cb;
	p->destroy = NULL;
	p->arg = r;
}

size_t dfs_worker_ring_pool_size(dfs_worker_ring *r)
{
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}
