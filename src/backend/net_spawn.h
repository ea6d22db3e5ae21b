/*
 * net_spawn.h: starting the helper program of a network backend
 * (khyve-slirp for slirp, passt for passt) as a child that holds only
 * what it is given: a few descriptors at 3, 4, ..., standard error, an
 * empty environment, default signal handling, nothing else of khyve's.
 */
#ifndef NET_SPAWN_H
#define NET_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "khyve.h"

/* The first descriptor number the child's descriptors get. */
#define NET_SPAWN_FD0		3
/* The most descriptors one child gets. */
#define NET_SPAWN_FDS_MAX	4

struct net_spawn {
	const char	*ns_path;	/* the program */
	char *const	*ns_argv;	/* its arguments, NULL-terminated */
	const int	*ns_fds;	/* become NET_SPAWN_FD0, + 1, ... */
	int		ns_nfds;	/* 0..NET_SPAWN_FDS_MAX */
	bool		ns_pdeathsig;	/* SIGKILL to it when khyve dies */
	bool		ns_devnull;	/* /dev/null as its stdin and stdout */
};

/*
 * Start sp's program.  Returns 0 and its pid at *pidp once it has
 * exec'd, or -errno: set-up or fork failed, or exec failed (its errno;
 * the child is reaped).  Logs nothing: the caller names the program.
 * Safe with other threads running (the child only makes
 * async-signal-safe calls).  The caller's descriptors are untouched.
 */
int	net_spawn(const struct net_spawn *sp, pid_t *pidp) __must_check;

/*
 * The program name stands for: name itself when it holds a '/', else the
 * first executable name in a directory of $PATH (/usr/bin:/bin when
 * empty), as execvp() looks; khyve's child gets no $PATH.  Returns 0, or
 * -errno (-ENOENT: none, or an empty name); buf holds what to name in a
 * message either way.
 */
int	net_spawn_which(const char *name, char *buf, size_t len) __must_check;

/* Kill *pidp for good (SIGKILL), collect it, set *pidp to -1. */
void	net_spawn_reap(pid_t *pidp);

#endif /* NET_SPAWN_H */
