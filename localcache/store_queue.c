/*
 * store_queue.c: write-behind. A miss's page, once its reader has the
 * bytes, is queued here and written by one of LC_SQ_THREADS writer threads
 * instead of by the thread that fetched it.
 *
 * Why: writing a page (create, copy, rename) is a quarter of the daemon's
 * CPU on a cold read of many small files, and on a busy machine that CPU is
 * taken from whatever feeds the reader (the S3 server, the network). The
 * writers run at SCHED_IDLE (nice 19 where refused), so pages are written
 * with the CPU nobody else wants; a reader never waits for them.
 *
 * Bounds: the queue holds at most sq_limit bytes of page buffers (a buffer
 * is page_size whatever the page's length). A page that does not fit is
 * written by its own thread, as without write-behind, which is also the
 * back-pressure: a writer that falls behind never costs more than sq_limit
 * of memory. Threads start on the first page (lc_open may run before the
 * daemon forks). lc_close writes what is queued before it returns.
 *
 * A queued page's entry stays in flight (LC_FETCHING) with e->queued
 * pointing at the bytes; readers of it copy those instead of waiting for
 * the write (page_cache.c, wait_inflight).
 *
 * Locks: sq_mu guards the job queue, sq_bytes, sq_running, sq_started and
 * sq_stop. It is a leaf: nothing else is taken while it is held.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lc_internal.h"

typedef struct sq_job {
	lc_entry *e; /* in flight; the job holds a reference */
	void *buf;   /* page buffer (lc_buf_alloc) */
	uint32_t len;
} sq_job;

static void lower_priority(void)
{
	struct sched_param sp = { 0 };

	/* Linux applies both to the calling thread only. An unprivileged
	 * thread may always lower its own priority (and never raise it back,
	 * which is why these threads are the writers' own). */
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
}

static void *writer_main(void *arg)
{
	lc_cache *c = arg;

	lower_priority();
	pthread_mutex_lock(&c->sq_mu);
	for (;;) {
		sq_job *j;

		while (!c->sq_stop && g_queue_is_empty(&c->sq_jobs))
			pthread_cond_wait(&c->sq_cv, &c->sq_mu);
		j = g_queue_pop_head(&c->sq_jobs);
		if (!j)
			break; /* stopping, and nothing left to write */
		c->sq_running++;
		pthread_mutex_unlock(&c->sq_mu);

		pc_store_fetched(c, j->e, j->buf, j->len);
		lc_buf_free(c, j->buf);
		free(j);

		pthread_mutex_lock(&c->sq_mu);
		c->sq_running--;
		c->sq_bytes -= c->page_size;
		if (c->sq_running == 0 && g_queue_is_empty(&c->sq_jobs))
			pthread_cond_broadcast(&c->sq_idle_cv);
	}
	pthread_mutex_unlock(&c->sq_mu);
	return NULL;
}

int sq_init(lc_cache *c, uint64_t limit)
{
	int rc = pthread_mutex_init(&c->sq_mu, NULL);

	if (rc)
		return -rc;
	rc = pthread_cond_init(&c->sq_cv, NULL);
	if (rc)
		goto fail_mu;
	rc = pthread_cond_init(&c->sq_idle_cv, NULL);
	if (rc)
		goto fail_cv;
	g_queue_init(&c->sq_jobs);
	c->sq_limit = limit;
	return 0;

fail_cv:
	pthread_cond_destroy(&c->sq_cv);
fail_mu:
	pthread_mutex_destroy(&c->sq_mu);
	return -rc;
}

/* Under sq_mu. Starts the writers that are not running yet; false if none
 * runs (then nothing may be queued: nobody would write it). */
static bool start_writers(lc_cache *c)
{
	while (c->sq_started < LC_SQ_THREADS) {
		if (pthread_create(&c->sq_threads[c->sq_started], NULL, writer_main, c) != 0)
			break;
		c->sq_started++;
	}
	return c->sq_started > 0;
}

bool sq_submit(lc_cache *c, lc_entry *e, void *buf, uint32_t len)
{
	sq_job *j;
	bool ok = false;

	if (c->sq_limit == 0)
		return false;
	j = malloc(sizeof(*j));
	if (!j)
		return false;
	*j = (sq_job){ e, buf, len };
	pthread_mutex_lock(&c->sq_mu);
	if (!c->sq_stop && c->sq_bytes + c->page_size <= c->sq_limit && start_writers(c)) {
		g_queue_push_tail(&c->sq_jobs, j);
		c->sq_bytes += c->page_size;
		atomic_fetch_add(&c->deferred_stores, 1);
		pthread_cond_signal(&c->sq_cv);
		ok = true;
	}
	pthread_mutex_unlock(&c->sq_mu);
	if (!ok)
		free(j);
	return ok;
}

void sq_flush(lc_cache *c)
{
	pthread_mutex_lock(&c->sq_mu);
	while (c->sq_running || !g_queue_is_empty(&c->sq_jobs))
		pthread_cond_wait(&c->sq_idle_cv, &c->sq_mu);
	pthread_mutex_unlock(&c->sq_mu);
}

uint64_t sq_queued(lc_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->sq_mu);
	n = g_queue_get_length(&c->sq_jobs) + c->sq_running;
	pthread_mutex_unlock(&c->sq_mu);
	return n;
}

void sq_stop(lc_cache *c)
{
	unsigned n;

	/* The writers empty the queue before they leave: pages fetched before
	 * the unmount are kept. */
	pthread_mutex_lock(&c->sq_mu);
	c->sq_stop = true;
	n = c->sq_started;
	pthread_cond_broadcast(&c->sq_cv);
	pthread_mutex_unlock(&c->sq_mu);
	for (unsigned i = 0; i < n; i++)
		pthread_join(c->sq_threads[i], NULL);
	pthread_cond_destroy(&c->sq_idle_cv);
	pthread_cond_destroy(&c->sq_cv);
	pthread_mutex_destroy(&c->sq_mu);
}
