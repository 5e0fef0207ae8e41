/* log.c: the logging hook and the clock. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "lc_internal.h"

void lc_logf(const lc_cache *c, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c && c->log) {
		c->log(level, msg);
		return;
	}
	/* Debug chatter stays out of stderr unless a hook asks for it. */
	if (level < LOG_DEBUG)
		fprintf(stderr, "localcache: %s\n", msg);
}

int64_t lc_now_ns(void)
{
	struct timespec ts;

	/* Monotonic: retry and sampling intervals must not jump with the wall clock. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

uint32_t lc_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}
