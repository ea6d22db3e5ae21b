/*
 * log.h: diagnostics.  Every message goes to stderr prefixed with the
 * program name; messages a guest can trigger must go through
 * log_ratelimited() so a hostile guest cannot flood the host.
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include "khyve.h"

/* Set the prefix printed before every message (normally "khyve"). */
void	log_init(const char *progname);
/* 0: warnings only; 1: info; 2: debug. */
void	log_setverbose(int level);
int	log_verbose(void);

/* Warning with ": strerror(errno)" appended. */
void	log_warn(const char *fmt, ...) __printflike(1, 2);
/* Warning without errno. */
void	log_warnx(const char *fmt, ...) __printflike(1, 2);
void	log_info(const char *fmt, ...) __printflike(1, 2);
void	log_debug(const char *fmt, ...) __printflike(1, 2);

/*
 * Print and exit(status).  fatal() appends strerror(errno).  exit() runs
 * the atexit handlers, so the terminal is restored on this path too.
 */
_Noreturn void fatal(int status, const char *fmt, ...) __printflike(2, 3);
_Noreturn void fatalx(int status, const char *fmt, ...) __printflike(2, 3);

/*
 * Rate limiting for guest-triggerable messages: returns true when the
 * caller may log now.  *state is a per-call-site counter (static
 * storage); at most 10 messages per second per site pass, and the number
 * suppressed is reported with the next message that passes.
 */
struct log_rl {
	long	rl_sec;		/* second of the current window */
	unsigned rl_count;	/* messages in the window */
	unsigned rl_dropped;	/* suppressed since the last one shown */
};
bool	log_ratelimit(struct log_rl *state);

#define log_warnx_rl(...) do {						\
	static struct log_rl __rl;					\
	if (log_ratelimit(&__rl))					\
		log_warnx(__VA_ARGS__);					\
} while (0)

#endif /* LOG_H */
