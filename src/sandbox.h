/*
 * sandbox.h: acquire, then lock down (bhyve's caph_enter(), vmd's
 * pledge()).  Once every file, device, socket, eventfd, io_uring and
 * thread exists, khyve drops to the user of the `user` key, sets
 * PR_SET_NO_NEW_PRIVS and installs a seccomp-bpf allowlist built from one
 * table of system calls (sandbox.c), each marked with the threads that
 * need it and why, and one table of ioctl requests.  A call outside the
 * list stops the process with a line naming it.  SECURITY.md says what is
 * allowed and why; docs/config.md has the keys.
 *
 * This file knows neither the config tree nor the machine: the machine
 * (machine.c) and the khyve-slirp helper both call it.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* Which threads a rule serves (a bit each). */
enum sandbox_role {
	SANDBOX_MONITOR = 1,	/* the event loop and the device workers */
	SANDBOX_VCPU = 2,	/* a vCPU thread (stacked on SANDBOX_MONITOR) */
	SANDBOX_SLIRP = 4,	/* the khyve-slirp helper process */
};

/* What the machine has that widens the allowlist (sandbox_need()). */
enum sandbox_need {
	SANDBOX_NEED_FIFO = 1,	/* a FIFO console, reopened for a new reader */
	SANDBOX_NEED_UNLINK = 2, /* console socket files, removed at exit */
};

/*
 * Before sandbox_install(): the program name for the SIGSYS message, a
 * function that puts the terminal back before the process stops (or
 * NULL; it must be async-signal-safe), and debug: report a forbidden call
 * and fail it with ENOSYS instead of stopping.  Installs the SIGSYS
 * handler (a SIGSYS not from seccomp goes to the handler it replaces).
 */
void	sandbox_init(const char *prog, void (*cleanup)(void), bool debug);
/* Ask for the rules a need adds; before sandbox_install(). */
void	sandbox_need(unsigned needs);
/*
 * A child process khyve may signal and reap after set-up (kill and wait4
 * take no other pid).  Returns 0 or -ENOMEM.
 */
int	sandbox_allow_child(pid_t pid);

/*
 * Load a filter allowing the rows of any role in roles (SANDBOX_* bits):
 * on every thread of the process when all_threads (PR_SET_NO_NEW_PRIVS
 * first, then SECCOMP_FILTER_FLAG_TSYNC; no thread may have a filter of
 * its own yet), else on the calling thread alone, stacked on the process
 * filter (filters stack: a call must pass both), with label naming the
 * thread in the SIGSYS message.  khyve's process filter is MONITOR|VCPU;
 * the event loop then stacks MONITOR and each vCPU thread VCPU.  Returns
 * 0 or -errno, and *why names the step that failed.
 */
int	sandbox_install(unsigned roles, bool all_threads,
	    const char *label, const char **why)
	    __attribute__((warn_unused_result));

/*
 * Become user name (a name or a number) for good: supplementary groups
 * cleared, real, effective and saved IDs set, and checked that root
 * cannot be regained.  Returns 0 or -errno with *why set.  Needs root
 * (CAP_SETUID and CAP_SETGID).
 */
int	sandbox_become(const char *name, const char **why)
	    __attribute__((warn_unused_result));

/*
 * The signals a thread other than the event loop's blocks: all but the
 * synchronous ones it must take itself (faults, and SIGSYS from the
 * filter: blocked, the kernel would kill the process without a word).
 */
void	sandbox_thread_sigset(sigset_t *set);

/*
 * Row i of the allowlist: its system call number, and in *roles the
 * threads it serves; -1 past the last row (for the tests and docs).
 */
int	sandbox_rule(unsigned i, unsigned *roles);

/* The number of system calls role may make (for the tests and docs). */
unsigned sandbox_count(unsigned roles);

#endif /* SANDBOX_H */
