/* Worker membership (etcd, static file) feeding the hash ring; see membership.h. */
#include "membership.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "etcd_client.h"
#include "hashring.h"
#include "mono_cond.h"

#define RETRY_SECONDS 1.0     /* etcd down: try again this often */
#define MAX_SELECT 64

struct dfs_membership {
	dfs_membership_type type;
	hr_policy policy;
	hr_options hopts;
	char *cluster;
	char *live_prefix;        /* "/ServiceDiscovery/<cluster>/" */
	char *ring_prefix;        /* "/DHT/<cluster>/AUTHORIZED/" */
	char *workers_file;
	int32_t rpc_port, data_port, web_port, http_port;
	double refresh_interval;
	etcd_client *etcd;
	void (*log)(int level, const char *msg);
	void (*on_change)(void *arg, uint64_t generation);
	void *on_change_arg;

	hr_holder *holder;        /* the ring; its workers' user = the list */
	pthread_mutex_t mu;       /* guards list, status, stop flag and cond */
	pthread_cond_t cond;
	dfs_worker_list *list;
	dfs_membership_status st;
	bool thread_running;
	atomic_bool stopping;
	pthread_t thread;
	double next_full;         /* monotonic time of the next periodic re-read */
	int64_t revision;         /* of the last successful etcd read */
};

static void default_log(int level, const char *msg)
{
	if (level <= LOG_WARNING)
		fprintf(stderr, "dorafs: %s%s\n", level <= LOG_ERR ? "error: " : "warning: ", msg);
}

static void logf_(dfs_membership *m, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(dfs_membership *m, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m->log(level, buf);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *dfs_membership_type_name(dfs_membership_type t)
{
	switch (t) {
	case DFS_MEMBERSHIP_ETCD: return "ETCD";
	case DFS_MEMBERSHIP_STATIC: return "STATIC";
	default: return "NONE";
	}
}

/* ---- lists -------------------------------------------------------------- */

static dfs_worker_list *list_new(size_t cap)
{
	dfs_worker_list *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (cap) {
		l->w = calloc(cap, sizeof(dfs_worker));
		if (!l->w) {
			free(l);
			return NULL;
		}
	}
	l->refs = 1;
	l->fetched = time(NULL);
	return l;
}

static void list_ref(dfs_worker_list *l)
{
	__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
}

void dfs_worker_list_unref(dfs_worker_list *l)
{
	if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(l->w);
		free(l);
	}
}

static void list_unref_void(void *p)
{
	dfs_worker_list_unref(p);
}

static bool worker_equal(const dfs_worker *a, const dfs_worker *b)
{
	return a->live == b->live && a->e.version == b->e.version && a->e.id_len == b->e.id_len &&
	       memcmp(a->e.id, b->e.id, a->e.id_len) == 0 && memcmp(&a->e.addr, &b->e.addr, sizeof(a->e.addr)) == 0 &&
	       strcmp(a->e.state, b->e.state) == 0 && a->e.generation == b->e.generation;
}

/* Same workers, same order, same addresses: nothing to publish. */
static bool list_equal(const dfs_worker_list *a, const dfs_worker_list *b)
{
	if (!a || !b || a->n != b->n || a->n_live != b->n_live)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!worker_equal(&a->w[i], &b->w[i]))
			return false;
	return true;
}

/*
 * Makes l the current list: a ring built from its live workers (each
 * holding a reference to l, so a reader's ring keeps its list alive) and the
 * snapshot.  Takes over the caller's reference.  Returns 1 if published, 0
 * if equal to the current list (l is released), -1 on failure.
 */
static int publish(dfs_membership *m, dfs_worker_list *l, char *err, size_t errlen)
{
	hr_worker *hw = NULL;
	hr_ring *ring;
	dfs_worker_list *old;
	hr_options o = m->hopts;
	uint64_t gen;
	bool same;

	/* Lists are immutable once published (readers hold them without a
	 * lock), so an equal list is dropped, not merged; the time of the
	 * read is in the status (last_ok). */
	pthread_mutex_lock(&m->mu);
	same = list_equal(m->list, l);
	pthread_mutex_unlock(&m->mu);
	if (same) {
		dfs_worker_list_unref(l);
		return 0;
	}
	if (l->n_live) {
		hw = calloc(l->n_live, sizeof(*hw));
		if (!hw) {
			snprintf(err, errlen, "out of memory");
			dfs_worker_list_unref(l);
			return -1;
		}
	}
	for (size_t i = 0; i < l->n_live; i++) {
		memcpy(hw[i].id, l->w[i].e.id, l->w[i].e.id_len);
		hw[i].id_len = l->w[i].e.id_len;
		hw[i].version = l->w[i].e.version;
		hw[i].user = l;
	}
	o.user_free = list_unref_void;
	/* Build-array index i == list index i, which select relies on. */
	ring = hr_ring_build(m->policy, hw, l->n_live, &o);
	if (!ring) {
		snprintf(err, errlen, "cannot build the worker ring: %s", strerror(errno));
		free(hw);
		dfs_worker_list_unref(l);
		return -1;
	}
	/* The ring now calls user_free once per entry: give it those refs. */
	for (size_t i = 0; i < l->n_live; i++)
		list_ref(l);
	free(hw);
	pthread_mutex_lock(&m->mu);
	hr_holder_swap(m->holder, ring);
	old = m->list;
	m->list = l;
	gen = ++m->st.generation;
	m->st.loaded = true;
	pthread_mutex_unlock(&m->mu);
	dfs_worker_list_unref(old);
	if (m->on_change)
		m->on_change(m->on_change_arg, gen);
	return 1;
}

/* Refresh outcome bookkeeping; logs only on changes of state. */
static void set_ok(dfs_membership *m)
{
	bool was_stale;

	pthread_mutex_lock(&m->mu);
	was_stale = m->st.stale;
	m->st.stale = false;
	m->st.error[0] = '\0';
	m->st.last_ok = time(NULL);
	pthread_mutex_unlock(&m->mu);
	if (was_stale)
		logf_(m, LOG_NOTICE, "worker membership: %s reachable again", m->st.source);
}

static void set_failed(dfs_membership *m, const char *why)
{
	bool was_stale, loaded;
	size_t n = 0;

	pthread_mutex_lock(&m->mu);
	was_stale = m->st.stale;
	loaded = m->st.loaded;
	if (m->list)
		n = m->list->n_live;
	m->st.stale = true;
	snprintf(m->st.error, sizeof(m->st.error), "%s", why);
	pthread_mutex_unlock(&m->mu);
	/* A caller without a list gets the error itself; the thread's later
	 * failures are logged once per outage. */
	if (!was_stale && (loaded || m->thread_running)) {
		if (loaded)
			logf_(m, LOG_WARNING, "worker membership: %s; keeping the last known %zu worker(s)", why, n);
		else
			logf_(m, LOG_WARNING, "worker membership: %s; no workers known yet", why);
	}
}

/* ---- reading ------------------------------------------------------------- */

/* Parses kvs into dfs_workers appended to l (live flag as given).  Bad
 * values are skipped, each logged once per (key, mod_revision). */
static void add_entries(dfs_membership *m, dfs_worker_list *l, const etcd_kv *kvs, size_t n, bool live)
{
	for (size_t i = 0; i < n; i++) {
		dfs_worker *w = &l->w[l->n];
		char why[256];

		memset(w, 0, sizeof(*w));
		if (dfs_worker_entity_parse(kvs[i].value, kvs[i].value_len, &w->e, why, sizeof(why)) < 0) {
			/* Logged when the entry is first seen (revision newer than the
			 * last read), not on every refresh. */
			if (kvs[i].mod_revision > m->revision)
				logf_(m, LOG_WARNING, "worker membership: skipping etcd entry '%.*s': %s",
				      (int)(kvs[i].key_len > 300 ? 300 : kvs[i].key_len), kvs[i].key, why);
			continue;
		}
		dfs_worker_entity_name(&w->e, w->name, sizeof(w->name));
		w->live = live;
		l->n++;
	}
}

static bool has_identity(const dfs_worker_list *l, size_t upto, const dfs_worker *w)
{
	for (size_t i = 0; i < upto; i++)
		if (l->w[i].e.version == w->e.version && l->w[i].e.id_len == w->e.id_len &&
		    memcmp(l->w[i].e.id, w->e.id, w->e.id_len) == 0)
			return true;
	return false;
}

static int read_etcd(dfs_membership *m, char *err, size_t errlen)
{
	etcd_kv *live = NULL, *reg = NULL;
	size_t nlive = 0, nreg = 0;
	int64_t rev = 0, rev2 = 0;
	dfs_worker_list *l = NULL;
	char e2[512];
	int rc = -1;

	if (etcd_range_prefix(m->etcd, m->live_prefix, strlen(m->live_prefix), &live, &nlive, &rev, err, errlen) < 0)
		goto out;
	/* Registered workers only add "lost" lines to the listing; failing to
	 * read them must not fail the refresh. */
	if (etcd_range_prefix(m->etcd, m->ring_prefix, strlen(m->ring_prefix), &reg, &nreg, &rev2, e2, sizeof(e2)) < 0) {
		reg = NULL;
		nreg = 0;
	}
	l = list_new(nlive + nreg);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	add_entries(m, l, live, nlive, true);
	l->n_live = l->n;
	{
		size_t before = l->n;

		add_entries(m, l, reg, nreg, false);
		/* Keep only registered workers that are not live. */
		size_t k = before;
		for (size_t i = before; i < l->n; i++)
			if (!has_identity(l, l->n_live, &l->w[i]))
				l->w[k++] = l->w[i];
		l->n = k;
	}
	l->revision = rev;
	m->revision = rev;
	pthread_mutex_lock(&m->mu);
	snprintf(m->st.source, sizeof(m->st.source), "etcd %s %s", etcd_client_current(m->etcd), m->live_prefix);
	pthread_mutex_unlock(&m->mu);
	rc = publish(m, l, err, errlen) < 0 ? -1 : 0;
	l = NULL;
out:
	dfs_worker_list_unref(l);
	etcd_kvs_free(live, nlive);
	etcd_kvs_free(reg, nreg);
	return rc;
}

static int read_static(dfs_membership *m, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *text = NULL, **hosts = NULL, why[512];
	size_t len = 0, n = 0;
	dfs_worker_list *l = NULL;
	long sz;
	int rc = -1;

	f = fopen(m->workers_file, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read workers file '%s': %s", m->workers_file, strerror(errno));
		goto out;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "cannot read workers file '%s': %s", m->workers_file, strerror(errno));
		goto out;
	}
	if (sz > (64 << 20)) {
		snprintf(err, errlen, "workers file '%s' is larger than 64 MiB", m->workers_file);
		goto out;
	}
	text = malloc((size_t)sz + 1);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	len = fread(text, 1, (size_t)sz, f);
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read workers file '%s': %s", m->workers_file, strerror(errno));
		goto out;
	}
	if (dfs_workers_file_parse(text, len, &hosts, &n, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "workers file '%s' %s", m->workers_file, why);
		goto out;
	}
	l = list_new(n);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dfs_worker *w = &l->w[l->n];

		if (dfs_worker_entity_static(hosts[i], m->rpc_port, m->data_port, m->web_port, m->http_port, &w->e) < 0)
			continue;   /* cannot happen: the parser bounds host names */
		dfs_worker_entity_name(&w->e, w->name, sizeof(w->name));
		w->live = true;   /* StaticMembershipManager: every worker is live */
		l->n++;
	}
	l->n_live = l->n;
	rc = publish(m, l, err, errlen) < 0 ? -1 : 0;
	l = NULL;
out:
	dfs_worker_list_unref(l);
	free(hosts);
	free(text);
	if (f)
		fclose(f);
	return rc;
}

/* One full read; updates the status either way. */
static int refresh(dfs_membership *m, char *err, size_t errlen)
{
	int rc;

	if (m->type == DFS_MEMBERSHIP_ETCD)
		rc = read_etcd(m, err, errlen);
	else if (m->type == DFS_MEMBERSHIP_STATIC)
		rc = read_static(m, err, errlen);
	else {
		dfs_worker_list *l = list_new(0);

		if (!l) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		rc = publish(m, l, err, errlen) < 0 ? -1 : 0;
	}
	if (rc == 0)
		set_ok(m);
	else
		set_failed(m, err);
	m->next_full = now_mono() + m->refresh_interval;
	return rc;
}

int dfs_membership_load(dfs_membership *m, char *err, size_t errlen)
{
	return refresh(m, err, errlen);
}

/* ---- the watch thread ----------------------------------------------------- */

static int on_events(void *arg, const etcd_event *ev, size_t n, int64_t revision)
{
	dfs_membership *m = arg;
	char err[512];

	(void)ev;
	(void)n;
	(void)revision;
	/* Re-read the whole set rather than patching it: events are rare
	 * (joins, leaves, lease expiries) and a full read is always exact. */
	if (refresh(m, err, sizeof(err)) < 0)
		return 1;   /* etcd trouble: leave the watch, retry from the top */
	return atomic_load(&m->stopping) ? 1 : 0;
}

static int watch_should_stop(void *arg)
{
	dfs_membership *m = arg;
	char err[512];

	if (atomic_load(&m->stopping))
		return 1;
	/* The periodic full read, also a liveness check of etcd (a watch on a
	 * dead connection can stay silent). */
	if (now_mono() >= m->next_full && refresh(m, err, sizeof(err)) < 0)
		return 1;
	return 0;
}

/* Sleeps up to secs, waking early on stop. */
static void nap(dfs_membership *m, double secs)
{
	struct timespec ts;

	dfs_deadline_in_ns(&ts, (int64_t)(secs * 1e9));
	pthread_mutex_lock(&m->mu);
	while (!atomic_load(&m->stopping)) {
		if (pthread_cond_timedwait(&m->cond, &m->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&m->mu);
}

static void *watch_thread(void *arg)
{
	dfs_membership *m = arg;
	char err[512];
	bool fresh = true;   /* the list was just read by start() */

	while (!atomic_load(&m->stopping)) {
		if (!fresh && refresh(m, err, sizeof(err)) < 0) {
			nap(m, RETRY_SECONDS);
			continue;
		}
		fresh = false;
		if (etcd_watch_prefix(m->etcd, m->live_prefix, strlen(m->live_prefix), m->revision + 1, on_events,
				      watch_should_stop, m, err, sizeof(err)) < 0 &&
		    !atomic_load(&m->stopping)) {
			/* The stream broke (etcd restarted, compaction, ...): the next
			 * round re-reads everything, so nothing is missed. */
			logf_(m, LOG_INFO, "worker membership: watch ended: %s", err);
			nap(m, RETRY_SECONDS / 2);
		}
	}
	return NULL;
}

int dfs_membership_start(dfs_membership *m, char *err, size_t errlen)
{
	bool loaded;

	pthread_mutex_lock(&m->mu);
	loaded = m->st.loaded;
	pthread_mutex_unlock(&m->mu);
	if (!loaded && refresh(m, err, errlen) < 0 && m->type != DFS_MEMBERSHIP_ETCD)
		return -1;
	if (m->type != DFS_MEMBERSHIP_ETCD || m->thread_running)
		return 0;
	atomic_store(&m->stopping, false);
	if (pthread_create(&m->thread, NULL, watch_thread, m) != 0) {
		snprintf(err, errlen, "cannot start the membership thread");
		return -1;
	}
	m->thread_running = true;
	pthread_mutex_lock(&m->mu);
	loaded = m->st.loaded;
	pthread_mutex_unlock(&m->mu);
	if (!loaded) {
		/* The thread keeps trying; the caller decides whether to wait. */
		return -1;
	}
	return 0;
}

void dfs_membership_stop(dfs_membership *m)
{
	if (!m || !m->thread_running)
		return;
	pthread_mutex_lock(&m->mu);
	atomic_store(&m->stopping, true);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	m->thread_running = false;
}

/* ---- creation ------------------------------------------------------------- */

static char *dupf(const char *fmt, const char *a)
{
	size_t n = strlen(fmt) + strlen(a) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, fmt, a);
	return s;
}

dfs_membership *dfs_membership_new(const dfs_config *cfg, char *err, size_t errlen)
{
	dfs_membership *m = calloc(1, sizeof(*m));
	bool mu_ok = false, cond_ok = false;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->log = default_log;
	m->refresh_interval = cfg->worker_refresh_interval > 0 ? cfg->worker_refresh_interval : 120;
	if (pthread_mutex_init(&m->mu, NULL) != 0)
		goto nomem;
	mu_ok = true;
	if (dfs_cond_init_monotonic(&m->cond) != 0)
		goto nomem;
	cond_ok = true;
	atomic_init(&m->stopping, false);

	if (!cfg->membership || !*cfg->membership || strcasecmp(cfg->membership, "NONE") == 0)
		m->type = DFS_MEMBERSHIP_NONE;
	else if (strcasecmp(cfg->membership, "ETCD") == 0)
		m->type = DFS_MEMBERSHIP_ETCD;
	else if (strcasecmp(cfg->membership, "STATIC") == 0)
		m->type = DFS_MEMBERSHIP_STATIC;
	else {
		snprintf(err, errlen, "membership '%s' is not supported by dorafs (use ETCD or STATIC)", cfg->membership);
		goto fail;
	}
	m->st.type = m->type;
	snprintf(m->st.source, sizeof(m->st.source), "none");
	if (hr_policy_from_string(cfg->worker_policy ? cfg->worker_policy : "CONSISTENT", &m->policy, err,
				  errlen) < 0)
		goto fail;
	m->st.policy = (int)m->policy;
	m->hopts.virtual_nodes = (int)cfg->hash_virtual_nodes;
	m->hopts.ketama_replicas = (int)cfg->ketama_replicas;
	m->hopts.probes = (int)cfg->multi_probe_probes;
	m->rpc_port = (int32_t)cfg->worker_rpc_port;
	m->data_port = (int32_t)cfg->worker_data_port;
	m->web_port = (int32_t)cfg->worker_web_port;
	m->http_port = (int32_t)cfg->worker_http_port;
	m->cluster = strdup(cfg->cluster_name && *cfg->cluster_name ? cfg->cluster_name : "DefaultAlluxioCluster");
	if (!m->cluster)
		goto nomem;
	/*
	 * Alluxio's Java client lists "/ServiceDiscovery/<cluster>" (no
	 * trailing '/'); alluxio-py adds one.  With the '/', cluster "a" does
	 * not also pick up cluster "ab"'s workers; every real key has it.
	 */
	m->live_prefix = dupf("/ServiceDiscovery/%s/", m->cluster);
	m->ring_prefix = dupf("/DHT/%s/AUTHORIZED/", m->cluster);
	if (!m->live_prefix || !m->ring_prefix)
		goto nomem;
	if (m->type == DFS_MEMBERSHIP_ETCD) {
		etcd_options eo = { .endpoints = cfg->etcd_endpoints, .username = cfg->etcd_username,
				    .password = cfg->etcd_password };

		m->etcd = etcd_client_new(&eo, err, errlen);
		if (!m->etcd)
			goto fail;
		snprintf(m->st.source, sizeof(m->st.source), "etcd %s %s", etcd_client_endpoint(m->etcd, 0),
			 m->live_prefix);
	} else if (m->type == DFS_MEMBERSHIP_STATIC) {
		if (!cfg->workers_file || !*cfg->workers_file) {
			snprintf(err, errlen, "STATIC membership needs workers_file "
				 "(alluxio.worker.static.membership.manager.config.file)");
			goto fail;
		}
		m->workers_file = strdup(cfg->workers_file);
		if (!m->workers_file)
			goto nomem;
		snprintf(m->st.source, sizeof(m->st.source), "file %s", m->workers_file);
	}
	m->holder = hr_holder_new();
	if (!m->holder)
		goto nomem;
	return m;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	if (m->etcd)
		etcd_client_free(m->etcd);
	free(m->cluster);
	free(m->live_prefix);
	free(m->ring_prefix);
	free(m->workers_file);
	if (cond_ok)
		pthread_cond_destroy(&m->cond);
	if (mu_ok)
		pthread_mutex_destroy(&m->mu);
	free(m);
	return NULL;
}

void dfs_membership_free(dfs_membership *m)
{
	if (!m)
		return;
	dfs_membership_stop(m);
	hr_holder_free(m->holder);
	dfs_worker_list_unref(m->list);
	if (m->etcd)
		etcd_client_free(m->etcd);
	free(m->cluster);
	free(m->live_prefix);
	free(m->ring_prefix);
	free(m->workers_file);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void dfs_membership_set_log(dfs_membership *m, void (*log)(int level, const char *msg))
{
	m->log = log ? log : default_log;
}

void dfs_membership_on_change(dfs_membership *m, void (*fn)(void *arg, uint64_t generation), void *arg)
{
	m->on_change = fn;
	m->on_change_arg = arg;
}

/* ---- readers -------------------------------------------------------------- */

dfs_worker_list *dfs_membership_snapshot(dfs_membership *m)
{
	dfs_worker_list *l;

	pthread_mutex_lock(&m->mu);
	l = m->list;
	if (l)
		list_ref(l);
	pthread_mutex_unlock(&m->mu);
	return l;
}

uint64_t dfs_membership_generation(dfs_membership *m)
{
	uint64_t g;

	pthread_mutex_lock(&m->mu);
	g = m->st.generation;
	pthread_mutex_unlock(&m->mu);
	return g;
}

void dfs_membership_status_get(dfs_membership *m, dfs_membership_status *st)
{
	pthread_mutex_lock(&m->mu);
	*st = m->st;
	pthread_mutex_unlock(&m->mu);
}

int dfs_membership_select(dfs_membership *m, const char *key, size_t n, dfs_worker *out)
{
	const hr_ring *r = hr_holder_acquire(m->holder);
	uint32_t idx[MAX_SELECT];
	int k;

	if (!r)
		return 0;
	if (n > MAX_SELECT)
		n = MAX_SELECT;
	k = hr_ring_select(r, key, strlen(key), n, idx);
	for (int i = 0; i < k; i++) {
		const dfs_worker_list *l = hr_ring_worker(r, idx[i])->user;

		out[i] = l->w[idx[i]];
	}
	hr_ring_release(r);
	return k < 0 ? 0 : k;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_object *worker_obj(const dfs_worker *w)
{
	json_object *o = json_object_new_object();
	char id[40];
	const dfs_worker_addr *a = &w->e.addr;
	struct field { const char *k; json_object *v; } f[16];
	size_t n = 0;

	if (!o)
		return NULL;
	dfs_worker_entity_id_string(&w->e, id, sizeof(id));
	f[n++] = (struct field){ "identity", json_object_new_string(id) };
	f[n++] = (struct field){ "identity_version", json_object_new_int(w->e.version) };
	f[n++] = (struct field){ "name", json_object_new_string(w->name) };
	f[n++] = (struct field){ "host", json_object_new_string(a->host) };
	f[n++] = (struct field){ "container_host", json_object_new_string(a->container_host) };
	f[n++] = (struct field){ "rpc_port", json_object_new_int(a->rpc_port) };
	f[n++] = (struct field){ "data_port", json_object_new_int(a->data_port) };
	f[n++] = (struct field){ "netty_data_port", json_object_new_int(a->netty_data_port) };
	f[n++] = (struct field){ "secure_rpc_port", json_object_new_int(a->secure_rpc_port) };
	f[n++] = (struct field){ "web_port", json_object_new_int(a->web_port) };
	f[n++] = (struct field){ "http_port", json_object_new_int(a->http_port) };
	f[n++] = (struct field){ "domain_socket", json_object_new_string(a->domain_socket) };
	f[n++] = (struct field){ "state", json_object_new_string(w->e.state) };
	f[n++] = (struct field){ "live", json_object_new_boolean(w->live) };
	for (size_t i = 0; i < n; i++) {
		if (!f[i].v || json_object_object_add(o, f[i].k, f[i].v) < 0) {
			for (size_t j = i; j < n; j++)
				json_object_put(f[j].v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

char *dfs_worker_json(const dfs_worker *w)
{
	json_object *o = worker_obj(w);
	char *s;

	if (!o)
		return NULL;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static int put(json_object *o, const char *k, json_object *v)
{
	if (!v)
		return -1;
	if (json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

char *dfs_membership_json(dfs_membership *m)
{
	dfs_membership_status st;
	dfs_worker_list *l = dfs_membership_snapshot(m);
	json_object *o = json_object_new_object(), *arr = NULL;
	char *s = NULL;
	size_t live = 0;

	dfs_membership_status_get(m, &st);
	if (!o)
		goto out;
	if (put(o, "membership", json_object_new_string(dfs_membership_type_name(st.type))) < 0 ||
	    put(o, "source", json_object_new_string(st.source)) < 0 ||
	    put(o, "cluster", json_object_new_string(m->cluster)) < 0 ||
	    put(o, "policy", json_object_new_string(hr_policy_name((hr_policy)st.policy))) < 0 ||
	    put(o, "status", json_object_new_string(!st.loaded ? "unavailable" : st.stale ? "stale" : "ok")) < 0 ||
	    (st.stale && put(o, "error", json_object_new_string(st.error)) < 0) ||
	    put(o, "last_update", json_object_new_int64((int64_t)st.last_ok)) < 0 ||
	    put(o, "generation", json_object_new_int64((int64_t)st.generation)) < 0 ||
	    put(o, "revision", json_object_new_int64(l ? l->revision : 0)) < 0)
		goto out;
	arr = json_object_new_array();
	if (!arr)
		goto out;
	for (size_t i = 0; l && i < l->n; i++) {
		json_object *w = worker_obj(&l->w[i]);

		if (!w || json_object_array_add(arr, w) < 0) {
			json_object_put(w);
			goto out;
		}
		live += l->w[i].live;
	}
	if (put(o, "live_workers", json_object_new_int64((int64_t)live)) < 0)
		goto out;
	if (put(o, "workers", arr) < 0) {
		arr = NULL;
		goto out;
	}
	arr = NULL;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(arr);
	json_object_put(o);
	dfs_worker_list_unref(l);
	return s;
}
