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
 * Bounds: at most sq_max pages (write_behind bytes of page buffers, a
 * buffer being page_size whatever the page's length) are claimed, queued or
 * being written. A page that does not fit is written by its own thread, as
 * without write-behind, which is also the back-pressure: a writer that falls
 * behind never costs more than write_behind of memory. The releasing thread
 * reserves the page's room on disk (evicting if need be) before queueing, so
 * a writer takes a shard lock only to publish. Threads start on the first
 * page (lc_open may run before the daemon forks). At lc_close the writers
 * stop after their current page and the closing thread, at its own
 * priority, writes what is left.
 *
 * A queued page's entry stays in flight (LC_FETCHING) with e->queued
 * pointing at its job; readers of it share the job's buffer (a reference
 * each) instead of waiting for the write (page_cache.c, wait_inflight).
 *
 * Locks: sq_mu guards the job queue, sq_claimed, sq_running, sq_started,
 * sq_start_failed and sq_stop. It is a leaf: nothing else is taken while
 * it is held.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lc_internal.h"

static void lower_priority(void)
{
	struct sched_param sp = { 0 };

	/* Linux applies both to the calling thread only. An unprivileged
	 * thread may always lower its own priority (and never raise it back,
	 * which is why these threads are the writers' own). */
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
}

/* Pages claimed, queued or being written; under sq_mu. */
static uint64_t pending(const lc_cache *c)
{
	return (uint64_t)c->sq_jobs.length + c->sq_claimed + c->sq_running;
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
		if (c->sq_stop)
			break; /* sq_stop writes the rest at its own priority */
		j = g_queue_pop_head(&c->sq_jobs);
		c->sq_running++;
		pthread_mutex_unlock(&c->sq_mu);

		pc_store_queued(j);

		pthread_mutex_lock(&c->sq_mu);
		c->sq_running--;
		if (pending(c) == 0)
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
	c->sq_max = limit / c->page_size; /* less than a page: off */
	return 0;

fail_cv:
	pthread_cond_destroy(&c->sq_cv);
fail_mu:
	pthread_mutex_destroy(&c->sq_mu);
	return -rc;
}

/* Under sq_mu. Starts the writers not running yet, trying once only; false
 * if none runs (then nothing may be queued: nobody would write it). */
static bool start_writers(lc_cache *c)
{
	while (!c->sq_start_failed && c->sq_started < LC_SQ_THREADS) {
		if (pthread_create(&c->sq_threads[c->sq_started], NULL, writer_main, c) != 0) {
			c->sq_start_failed = true;
			break;
		}
		c->sq_started++;
	}
	return c->sq_started > 0;
}

bool sq_claim(lc_cache *c)
{
	bool ok;

	pthread_mutex_lock(&c->sq_mu);
	ok = !c->sq_stop && pending(c) < c->sq_max && start_writers(c);
	if (ok)
		c->sq_claimed++;
	pthread_mutex_unlock(&c->sq_mu);
	return ok;
}

/* Under sq_mu: a claim ends (pushed or given up). */
static void end_claim(lc_cache *c)
{
	c->sq_claimed--;
	if (pending(c) == 0)
		pthread_cond_broadcast(&c->sq_idle_cv);
}

void sq_unclaim(lc_cache *c)
{
	pthread_mutex_lock(&c->sq_mu);
	end_claim(c);
	pthread_mutex_unlock(&c->sq_mu);
}

void sq_push(lc_cache *c, sq_job *j)
{
	pthread_mutex_lock(&c->sq_mu);
	g_queue_push_tail(&c->sq_jobs, j);
	c->sq_claimed--; /* the job counts in the queue now */
	atomic_fetch_add(&c->deferred_stores, 1);
	pthread_cond_signal(&c->sq_cv);
	pthread_mutex_unlock(&c->sq_mu);
}

void sq_job_unref(sq_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	lc_buf_free(j->c, j->buf);
	free(j);
}

void sq_flush(lc_cache *c)
{
	pthread_mutex_lock(&c->sq_mu);
	while (pending(c))
		pthread_cond_wait(&c->sq_idle_cv, &c->sq_mu);
	pthread_mutex_unlock(&c->sq_mu);
}

uint64_t sq_queued(lc_cache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->sq_mu);
	n = pending(c);
	pthread_mutex_unlock(&c->sq_mu);
	return n;
}

void sq_stop(lc_cache *c)
{
	sq_job *j;
	unsigned n;

	pthread_mutex_lock(&c->sq_mu);
	c->sq_stop = true;
	n = c->sq_started;
	pthread_cond_broadcast(&c->sq_cv);
	pthread_mutex_unlock(&c->sq_mu);
	for (unsigned i = 0; i < n; i++)
		pthread_join(c->sq_threads[i], NULL);
	/* Pages fetched before the unmount are kept: written here, at the
	 * closing thread's priority, not the idle writers'. No page is out
	 * (lc_close's contract), so nothing is claimed any more. */
	while ((j = g_queue_pop_head(&c->sq_jobs)))
		pc_store_queued(j);
	pthread_cond_destroy(&c->sq_idle_cv);
	pthread_cond_destroy(&c->sq_cv);
	pthread_mutex_destroy(&c->sq_mu);
}
