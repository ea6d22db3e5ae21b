/*
 * log.c: diagnostics on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"

static const char *log_prog = "khyve";
static int log_level;

void
log_init(const char *progname)
{
	if (progname != NULL)
		log_prog = progname;
}

void
log_setverbose(int level)
{
	log_level = level;
}

int
log_verbose(void)
{
	return (log_level);
}

/*
 * One fprintf per message, so lines from different threads do not mix.
 * The terminal may be in raw mode (no ONLCR): end lines with \r\n then.
 */
static void __attribute__((format(printf, 1, 0)))
log_vmsg(const char *fmt, va_list ap, int errnum)
{
	char buf[1024];
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0)
		fprintf(stderr, "%s: %s: %s\r\n", log_prog, buf, strerror(errnum));
	else
		fprintf(stderr, "%s: %s\r\n", log_prog, buf);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vmsg(fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	log_vmsg(fmt, ap, 0);
	va_end(ap);
}

void
fatal(int status, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(fmt, ap, saved);
	va_end(ap);
	exit(status);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

bool
log_ratelimit(struct log_rl *rl)
{
	struct timespec ts;
	unsigned dropped;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec != __atomic_load_n(&rl->rl_sec, __ATOMIC_RELAXED)) {
		__atomic_store_n(&rl->rl_sec, ts.tv_sec, __ATOMIC_RELAXED);
		__atomic_store_n(&rl->rl_count, 0, __ATOMIC_RELAXED);
	}
	if (__atomic_add_fetch(&rl->rl_count, 1, __ATOMIC_RELAXED) > 10) {
		__atomic_add_fetch(&rl->rl_dropped, 1, __ATOMIC_RELAXED);
		return (false);
	}
	dropped = __atomic_exchange_n(&rl->rl_dropped, 0, __ATOMIC_RELAXED);
	if (dropped != 0)
		log_warnx("(%u similar messages suppressed)", dropped);
	return (true);
}
