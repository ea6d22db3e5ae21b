/*
 * khyve.h: definitions shared by every part of the monitor.
 */
#ifndef KHYVE_H
#define KHYVE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Process exit status, as bhyve(8) documents it.  EX_USAGE (64, from
 * <sysexits.h>) is used for bad flags and configuration.
 */
enum khyve_exit {
	KHYVE_EXIT_RESET = 0,		/* guest reset */
	KHYVE_EXIT_POWEROFF = 1,	/* guest powered off */
	KHYVE_EXIT_HALT = 2,		/* every vCPU halted, interrupts off */
	KHYVE_EXIT_TRIPLEFAULT = 3,	/* triple fault (KVM_EXIT_SHUTDOWN) */
	KHYVE_EXIT_ERROR = 4,		/* monitor error */
	KHYVE_EXIT_USAGE = 64,		/* EX_USAGE: bad flag or config */
};

/* How the guest asked the VM to stop (bhyve's enum vm_suspend_how). */
enum vm_suspend_how {
	VM_SUSPEND_NONE = 0,
	VM_SUSPEND_RESET,
	VM_SUSPEND_POWEROFF,
	VM_SUSPEND_HALT,
	VM_SUSPEND_TRIPLEFAULT,
	VM_SUSPEND_ERROR,
};

#define KiB		(1024ULL)
#define MiB		(1024ULL * KiB)
#define GiB		(1024ULL * MiB)

#define nitems(x)	(sizeof(x) / sizeof((x)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define roundup2(x, y)	(((x) + ((y) - 1)) & ~((__typeof__(x))(y) - 1))
#define rounddown2(x, y) ((x) & ~((__typeof__(x))(y) - 1))

#define __unused	__attribute__((unused))
#define __must_check	__attribute__((warn_unused_result))
#define __printflike(f, a) __attribute__((format(printf, f, a)))

/*
 * Linker sets (bhyve's SET_DECLARE/DATA_SET): a device file places a
 * pointer to its const ops table in a named section; the table is walked
 * between the __start_ and __stop_ symbols GNU ld provides.
 */
#define DATA_SET(set, sym)						\
	static const void *const __set_##set##_##sym			\
	    __attribute__((section("set_" #set), used, aligned(sizeof(void *)))) = &(sym)
#define SET_DECLARE(set, type)						\
	extern type *const __start_set_##set[] __attribute__((weak));	\
	extern type *const __stop_set_##set[] __attribute__((weak))
#define SET_BEGIN(set)	(__start_set_##set)
#define SET_LIMIT(set)	(__stop_set_##set)
#define SET_FOREACH(pvar, set)						\
	for (pvar = SET_BEGIN(set); pvar < SET_LIMIT(set); pvar++)

#endif /* KHYVE_H */
