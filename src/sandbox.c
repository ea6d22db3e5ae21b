/*
 * sandbox.c: the seccomp allowlist (libseccomp) and the drop to a user.
 *
 * Firecracker runs each thread under its own filter; bhyve limits every
 * descriptor's rights and enters Capsicum.  khyve does the Linux form:
 * everything is opened first, then one filter for the process
 * (SANDBOX_MONITOR: the event loop and the device workers) is installed
 * on every thread at once with SECCOMP_FILTER_FLAG_TSYNC, and each vCPU
 * thread stacks a narrower one (SANDBOX_VCPU) before its first KVM_RUN.
 * The khyve-slirp helper has a filter of its own (SANDBOX_SLIRP).
 *
 * Absent from every filter: open/openat (but for the one FIFO case
 * below), socket (but in the slirp helper), execve, clone/fork (no thread
 * or process is made after set-up), ptrace, mount, bpf, io_uring_setup and
 * io_uring_register (the rings are set up and restricted already:
 * blockif_uring.c), memfd, kexec, keyctl, and mmap/mprotect with
 * PROT_EXEC.  ioctl is allowed only for the request numbers of
 * sb_ioctls[].  A forbidden call raises SIGSYS (SECCOMP_RET_TRAP): the
 * handler prints the call's name, puts the terminal back and ends the
 * process with status 4; with debug on it fails the call with ENOSYS and
 * lets it go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include "khyve.h"
#include "sandbox.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1	/* si_code of a seccomp SIGSYS (siginfo.h) */
#endif

#define M	SANDBOX_MONITOR
#define V	SANDBOX_VCPU
#define S	SANDBOX_SLIRP

/* How a rule's arguments are limited. */
enum sb_arg {
	SB_ANY,			/* any arguments */
	SB_IOCTL,		/* request (arg 1) in sb_ioctls[] for the role */
	SB_NOEXEC,		/* prot (arg 2) without PROT_EXEC */
	SB_FCNTL,		/* cmd (arg 1): F_GETFD/F_SETFD/F_GETFL/F_SETFL,
				   F_DUPFD_CLOEXEC */
	SB_INET,		/* domain (arg 0): AF_INET or AF_INET6 */
	SB_RDONLY,		/* openat flags (arg 2): O_RDONLY, no O_CREAT */
	SB_FIFO,		/* openat flags: exactly those of tty_fifo_open() */
	SB_FILTER,		/* seccomp op (arg 0): SECCOMP_SET_MODE_FILTER */
	SB_CHILD,		/* pid (arg 0): a child of sandbox_allow_child() */
	SB_NODELAY,		/* level, name (args 1, 2): IPPROTO_TCP, TCP_NODELAY */
};

struct sb_call {
	int		sc_nr;		/* system call number */
	unsigned char	sc_roles;	/* SANDBOX_* bits */
	unsigned char	sc_arg;		/* enum sb_arg */
	unsigned char	sc_need;	/* SANDBOX_NEED_* (0: always) */
};

/*
 * The allowlist.  One row per system call: the threads that make it and
 * why.  "Workers" are the virtio device threads and the disk engine's
 * threads, which share the event loop's filter.
 */
static const struct sb_call sb_calls[] = {
	/* Consoles, eventfds, timerfds, the signalfd, tap frames. */
	{ SYS_read,		M | V | S, SB_ANY, 0 },
	/* Console output, eventfd kicks and notifies, log lines on stderr. */
	{ SYS_write,		M | V | S, SB_ANY, 0 },
	/* Frames to and from the tap (the vnet header then the frame). */
	{ SYS_readv,		M | S, SB_ANY, 0 },
	{ SYS_writev,		M | S, SB_ANY, 0 },
	/* The KVM statistics fds (stats=true, SIGUSR2). */
	{ SYS_pread64,		M | V, SB_ANY, 0 },
	/* Disk images (the threads engine). */
	{ SYS_preadv,		M, SB_ANY, 0 },
	{ SYS_pwritev,		M, SB_ANY, 0 },
	/*
	 * A guest's flush (threads engine; io_uring has its own FSYNC);
	 * each disk synced when the VM ends (pe_stop).
	 */
	{ SYS_fdatasync,	M, SB_ANY, 0 },
	/* Discard and write-zeroes on image files (threads engine). */
	{ SYS_fallocate,	M, SB_ANY, 0 },
	/* The disk rings: opcodes and files already restricted. */
	{ SYS_io_uring_enter,	M, SB_ANY, 0 },
	/* The event loop and each worker wait in epoll. */
	{ SYS_epoll_wait,	M, SB_ANY, 0 },
	/*
	 * Handlers enabled and disabled as buffers fill and drain; on a
	 * vCPU thread, a device the guest starts adds its backend's fd to
	 * its worker (virtio-net at DRIVER_OK).
	 */
	{ SYS_epoll_ctl,	M | V, SB_ANY, 0 },
	/*
	 * The helper's loop; the console drain at exit, which runs on a
	 * vCPU thread too when an error there ends khyve.
	 */
	{ SYS_poll,		M | V | S, SB_ANY, 0 },
	{ SYS_ppoll,		S, SB_ANY, 0 },
	/*
	 * Timers switched on and off: the halt tick, console stalls, the
	 * poweroff grace; on a vCPU thread, by guest writes (RTC and ACPI
	 * PM timer interrupts, virtio-rnd's rate limit reset with the
	 * device).
	 */
	{ SYS_timerfd_settime,	M | V, SB_ANY, 0 },
	/* Console sockets (unix=, tcp=) take a new client. */
	{ SYS_accept4,		M | S, SB_ANY, 0 },
	{ SYS_accept,		S, SB_ANY, 0 },
	/*
	 * passt and slirp framing, console sockets (a vCPU's UART write
	 * sends to a socket console's client), libslirp's sockets.
	 */
	{ SYS_recvfrom,		M | S, SB_ANY, 0 },
	{ SYS_recvmsg,		M | S, SB_ANY, 0 },
	{ SYS_sendto,		M | V | S, SB_ANY, 0 },
	{ SYS_sendmsg,		M | S, SB_ANY, 0 },
	{ SYS_shutdown,		M | S, SB_ANY, 0 },
	{ SYS_getsockopt,	M | S, SB_ANY, 0 },
	/* libslirp: the guest's connections out (open=true) and forwards. */
	{ SYS_socket,		S, SB_INET, 0 },
	{ SYS_connect,		S, SB_ANY, 0 },
	{ SYS_bind,		S, SB_ANY, 0 },
	{ SYS_listen,		S, SB_ANY, 0 },
	{ SYS_setsockopt,	S, SB_ANY, 0 },
	{ SYS_getsockname,	S, SB_ANY, 0 },
	{ SYS_getpeername,	S, SB_ANY, 0 },
	/* libslirp reads /etc/resolv.conf when the guest asks for DNS. */
	{ SYS_openat,		S, SB_RDONLY, 0 },
	{ SYS_newfstatat,	S, SB_ANY, 0 },
	{ SYS_fstat,		S, SB_ANY, 0 },
	{ SYS_lseek,		S, SB_ANY, 0 },
	/*
	 * A FIFO console waits for a new reader by reopening it, from the
	 * thread that writes to it (a vCPU's UART write too).
	 */
	{ SYS_openat,		M | V, SB_FIFO, SANDBOX_NEED_FIFO },
	/* TCP_NODELAY on a tcp= console's new client. */
	{ SYS_setsockopt,	M, SB_NODELAY, 0 },
	/* Console socket files removed at exit (from any thread). */
	{ SYS_unlink,		M | V, SB_ANY, SANDBOX_NEED_UNLINK },
	/* Closing a console client, a finished helper's socket. */
	{ SYS_close,		M | V | S, SB_ANY, 0 },
	/*
	 * O_NONBLOCK on and off (consoles; the terminal at exit); a console
	 * socket's new client as its input and its output descriptor.
	 */
	{ SYS_fcntl,		M | V | S, SB_FCNTL, 0 },
	/* KVM, tap, block, terminal and socket requests (sb_ioctls[]). */
	{ SYS_ioctl,		M | V | S, SB_IOCTL, 0 },
	/* Locks and condition variables (pthreads). */
	{ SYS_futex,		M | V | S, SB_ANY, 0 },
	/* malloc: arenas and large blocks; never executable memory. */
	{ SYS_mmap,		M | V | S, SB_NOEXEC, 0 },
	{ SYS_mprotect,		M | V | S, SB_NOEXEC, 0 },
	{ SYS_munmap,		M | V | S, SB_ANY, 0 },
	{ SYS_mremap,		M | V | S, SB_ANY, 0 },
	{ SYS_madvise,		M | V | S, SB_ANY, 0 },
	{ SYS_brk,		M | V | S, SB_ANY, 0 },
	/* Signals: the kick of a vCPU (pthread_kill), handlers' returns. */
	{ SYS_rt_sigprocmask,	M | V | S, SB_ANY, 0 },
	{ SYS_rt_sigreturn,	M | V | S, SB_ANY, 0 },
	{ SYS_rt_sigaction,	M | V, SB_ANY, 0 },
	{ SYS_tgkill,		M | V, SB_ANY, 0 },
	{ SYS_getpid,		M | V | S, SB_ANY, 0 },
	{ SYS_gettid,		M | V | S, SB_ANY, 0 },
	{ SYS_getppid,		S, SB_ANY, 0 },
	/*
	 * The network helpers (slirp, passt) stopped and reaped at exit:
	 * only the processes khyve started (sandbox_allow_child()).
	 */
	{ SYS_kill,		M, SB_CHILD, 0 },
	{ SYS_wait4,		M, SB_CHILD, 0 },
	/* The clock, where the vDSO falls back to the kernel. */
	{ SYS_clock_gettime,	M | V | S, SB_ANY, 0 },
	/* virtio-rnd's worker fills the guest's buffers; glib seeds its hashes. */
	{ SYS_getrandom,	M | S, SB_ANY, 0 },
	/* A system call interrupted by a signal, restarted. */
	{ SYS_restart_syscall,	M | V | S, SB_ANY, 0 },
	/*
	 * glibc's thread start-up: a thread made during set-up may first
	 * run after the filter is in.
	 */
	{ SYS_rseq,		M | V, SB_ANY, 0 },
	{ SYS_set_robust_list,	M | V, SB_ANY, 0 },
	/* A vCPU thread stacks its own filter (which only narrows). */
	{ SYS_seccomp,		M, SB_FILTER, 0 },
	/* The end: a thread's own (vCPUs joined at exit), the process's. */
	{ SYS_exit,		M | V, SB_ANY, 0 },
	{ SYS_exit_group,	M | V | S, SB_ANY, 0 },
#ifdef KHYVE_SANITIZE
	/* The sanitizer runtime's reports (/proc/self/maps, symbolizer). */
	{ SYS_openat,		M | V | S, SB_ANY, 0 },
	{ SYS_readlink,		M | V | S, SB_ANY, 0 },
	{ SYS_newfstatat,	M | V, SB_ANY, 0 },
	{ SYS_sigaltstack,	M | V | S, SB_ANY, 0 },
	{ SYS_prctl,		M | V | S, SB_ANY, 0 },
	{ SYS_getrlimit,	M | V | S, SB_ANY, 0 },
	{ SYS_prlimit64,	M | V | S, SB_ANY, 0 },
	/* It asks for the CPUs it may run on (seen at or near exit). */
	{ SYS_sched_getaffinity, M | V | S, SB_ANY, 0 },
#endif
};

struct sb_ioctl {
	unsigned long	si_req;		/* request number */
	unsigned char	si_roles;	/* SANDBOX_* bits */
};

/* The ioctl requests khyve makes after set-up, by file. */
static const struct sb_ioctl sb_ioctls[] = {
	/* vCPU fd: run, exits that read or write state, the halt probe. */
	{ KVM_RUN,			V },
	{ KVM_GET_REGS,			V },
	{ KVM_SET_REGS,			V },
	{ KVM_GET_SREGS,		V },
	{ KVM_SET_SREGS,		V },
	{ KVM_GET_MSRS,			V },
	{ KVM_SET_MSRS,			V },
	{ KVM_GET_FPU,			V },
	{ KVM_GET_MP_STATE,		V },
	{ KVM_GET_VCPU_EVENTS,		V },
	{ KVM_SET_VCPU_EVENTS,		V },
	{ KVM_GET_TSC_KHZ,		V },
	/* Statistics (stats=true, SIGUSR2): an fd per vCPU. */
	{ KVM_GET_STATS_FD,		M | V },
	/* VM fd: interrupts, and the notifies and irqfds a guest sets up. */
	{ KVM_IRQ_LINE,			M | V },
	{ KVM_SIGNAL_MSI,		M | V },
	{ KVM_SET_GSI_ROUTING,		M | V },
	{ KVM_IRQFD,			M | V },
	{ KVM_IOEVENTFD,		M | V },
	/* tap: the offloads and header size the guest's features choose. */
	{ TUNSETOFFLOAD,		M | V },
	{ TUNSETVNETHDRSZ,		M | V },
	/* Block devices: discard and write zeroes (threads engine). */
	{ BLKDISCARD,			M },
	{ BLKZEROOUT,			M },
	/* The terminal put back at exit, from whichever thread exits. */
	{ TCGETS,			M | V },
	{ TCSETS,			M | V },
	{ TCSETSW,			M | V },
	{ TCSETSF,			M | V },
	/* libslirp: the size of a UDP datagram waiting on a socket. */
	{ FIONREAD,			S },
};

static const char *sb_prog = "khyve";
static void (*sb_cleanup)(void);
static bool sb_debug;
static unsigned sb_needs;
static pid_t *sb_children;
static unsigned sb_nchildren;
static struct sigaction sb_oldsys;
/* The name of a thread that installed its own filter (no prctl later). */
static __thread char sb_thread[17];

/* Syscall names for the SIGSYS handler, resolved before the filter. */
#define SB_MAXNR	512
static char sb_names[SB_MAXNR][24];

static void
sb_puts(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Async-signal-safe decimal. */
static void
sb_putu(unsigned long v)
{
	char buf[24];
	int i = sizeof(buf) - 1;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	sb_puts(&buf[i]);
}

static void
sb_putx(uint32_t v)
{
	char buf[11];
	int i;

	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < 8; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
	buf[10] = '\0';
	sb_puts(buf);
}

static void
sb_sigsys(int sig, siginfo_t *si, void *uc)
{
	int nr = si->si_syscall;

	if (si->si_code != SYS_SECCOMP) {
		/* Someone's kill -SYS: what was there before. */
		if (sb_oldsys.sa_flags & SA_SIGINFO)
			sb_oldsys.sa_sigaction(sig, si, uc);
		else if (sb_oldsys.sa_handler != SIG_IGN &&
		    sb_oldsys.sa_handler != SIG_DFL)
			sb_oldsys.sa_handler(sig);
		else {
			(void)sigaction(SIGSYS, &sb_oldsys, NULL);
			(void)raise(SIGSYS);
		}
		return;
	}
	if (sb_cleanup != NULL && !sb_debug)
		sb_cleanup();
	sb_puts(sb_prog);
	sb_puts(": sandbox: system call ");
	if (nr >= 0 && nr < SB_MAXNR && sb_names[nr][0] != '\0')
		sb_puts(sb_names[nr]);
	else
		sb_puts("?");
	sb_puts(" (");
	sb_putu((unsigned long)nr);
	sb_puts(")");
	if (nr == SYS_ioctl) {
		sb_puts(" request ");
		sb_putx((uint32_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSI]);
	}
	sb_puts(" is not allowed");
	sb_puts(" in thread ");
	sb_putu((unsigned long)syscall(SYS_gettid));
	if (sb_thread[0] != '\0') {
		sb_puts(" (");
		sb_puts(sb_thread);
		sb_puts(")");
	}
	if (sb_debug) {
		/* sandbox_debug: the call fails and the thread goes on. */
		((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
		sb_puts("; failed with ENOSYS (sandbox_debug)\r\n");
		return;
	}
	sb_puts("; stopping (-o sandbox_debug=true to go on)\r\n");
	_exit(KHYVE_EXIT_ERROR);
}

void
sandbox_init(const char *prog, void (*cleanup)(void), bool debug)
{
	struct sigaction sa;
	char *name;
	int nr;

	sb_prog = prog;
	sb_cleanup = cleanup;
	sb_debug = debug;
	for (nr = 0; nr < SB_MAXNR; nr++) {
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name != NULL)
			snprintf(sb_names[nr], sizeof(sb_names[nr]), "%s", name);
		free(name);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sb_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	(void)sigaction(SIGSYS, &sa, &sb_oldsys);
}

void
sandbox_thread_sigset(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGSYS);
}

int
sandbox_allow_child(pid_t pid)
{
	pid_t *p;

	p = realloc(sb_children, (sb_nchildren + 1) * sizeof(*p));
	if (p == NULL)
		return (-ENOMEM);
	sb_children = p;
	sb_children[sb_nchildren++] = pid;
	return (0);
}

void
sandbox_need(unsigned needs)
{
	sb_needs |= needs;
}

/* The rule for one row; returns libseccomp's result (0 or -errno). */
static int
sb_add(scmp_filter_ctx ctx, const struct sb_call *c, unsigned role)
{
	size_t i;
	int err;

	switch (c->sc_arg) {
	case SB_IOCTL:
		for (i = 0; i < nitems(sb_ioctls); i++) {
			if (!(sb_ioctls[i].si_roles & role))
				continue;
			/*
			 * The kernel takes the request as an unsigned int.
			 * KVM_RUN's masked comparison (the same test) comes
			 * first in libseccomp's tree, ahead of the plain ones:
			 * 31 filter instructions per exit instead of 129
			 * (both filters of a vCPU thread).
			 */
			err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
			    sb_ioctls[i].si_req == KVM_RUN ?
			    SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, KVM_RUN) :
			    SCMP_A1_32(SCMP_CMP_EQ,
			    (uint32_t)sb_ioctls[i].si_req));
			if (err != 0)
				return (err);
		}
		return (0);
	case SB_NOEXEC:
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
		    SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)));
	case SB_FCNTL: {
		static const int cmds[] = { F_GETFD, F_SETFD, F_GETFL, F_SETFL,
		    F_DUPFD_CLOEXEC };

		for (i = 0; i < nitems(cmds); i++)
			if ((err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    c->sc_nr, 1, SCMP_A1_32(SCMP_CMP_EQ,
			    (uint32_t)cmds[i]))) != 0)
				return (err);
		return (0);
	}
	case SB_INET:
		if ((err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
		    SCMP_A0_32(SCMP_CMP_EQ, AF_INET))) != 0)
			return (err);
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
		    SCMP_A0_32(SCMP_CMP_EQ, AF_INET6)));
	case SB_RDONLY:
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
		    SCMP_A2_32(SCMP_CMP_MASKED_EQ,
		    O_ACCMODE | O_CREAT | O_TRUNC | O_PATH, O_RDONLY)));
	case SB_FIFO:
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
		    SCMP_A2_32(SCMP_CMP_EQ,
		    O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)));
	case SB_CHILD:
		for (i = 0; i < sb_nchildren; i++)
			if ((err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    c->sc_nr, 1, SCMP_A0_32(SCMP_CMP_EQ,
			    (uint32_t)sb_children[i]))) != 0)
				return (err);
		return (0);
	case SB_NODELAY:
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 2,
		    SCMP_A1_32(SCMP_CMP_EQ, IPPROTO_TCP),
		    SCMP_A2_32(SCMP_CMP_EQ, TCP_NODELAY)));
	case SB_FILTER:
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 1,
		    SCMP_A0_32(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER)));
	default:
		return (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, c->sc_nr, 0));
	}
}

static bool
sb_wanted(const struct sb_call *c, unsigned role)
{
	return ((c->sc_roles & role) != 0 &&
	    (c->sc_need == 0 || (c->sc_need & sb_needs) != 0));
}

int
sandbox_rule(unsigned i, unsigned *roles)
{
	if (i >= nitems(sb_calls))
		return (-1);
	*roles = sb_calls[i].sc_roles;
	return (sb_calls[i].sc_nr);
}

unsigned
sandbox_count(unsigned role)
{
	unsigned n = 0;
	size_t i, j;

	/* A call listed twice (two argument rules) counts once. */
	for (i = 0; i < nitems(sb_calls); i++) {
		if (!sb_wanted(&sb_calls[i], role))
			continue;
		for (j = 0; j < i; j++)
			if (sb_calls[j].sc_nr == sb_calls[i].sc_nr &&
			    sb_wanted(&sb_calls[j], role))
				break;
		n += j == i;
	}
	return (n);
}

int
sandbox_install(unsigned role, bool all_threads, const char *label,
    const char **why)
{
	scmp_filter_ctx ctx;
	size_t i;
	int err;

	if (label != NULL)
		snprintf(sb_thread, sizeof(sb_thread), "%s", label);
	/*
	 * no_new_privs first; a thread under the process filter has it
	 * already (TSYNC sets it) and may not call prctl().
	 */
	*why = "PR_SET_NO_NEW_PRIVS";
	if (all_threads && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return (-errno);
	*why = "seccomp_init";
	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL)
		return (-ENOMEM);
	*why = "seccomp_attr_set";
	if ((err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) != 0)
		goto out;
	/*
	 * The hot call first: a vCPU's KVM_RUN, once per exit, runs every
	 * filter it has (the others are cached by the kernel as always
	 * allowed when no argument is checked); then a binary tree.
	 */
	*why = "seccomp_syscall_priority";
	if ((err = seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255)) != 0 ||
	    (err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) != 0)
		goto out;
	*why = "seccomp_rule_add";
	for (i = 0; i < nitems(sb_calls); i++)
		if (sb_wanted(&sb_calls[i], role) &&
		    (err = sb_add(ctx, &sb_calls[i], role)) != 0)
			goto out;
	*why = "SECCOMP_FILTER_FLAG_TSYNC";
	if (all_threads &&
	    (err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0)
		goto out;
	*why = "seccomp_load";
	err = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return (err);
}

/*
 * The passwd entry of a name or a number, from /etc/passwd (a static
 * khyve cannot load NSS modules).  A number with no entry is its own
 * group.  Returns 0 or -errno.
 */
static int
sb_lookup(const char *name, uid_t *uidp, gid_t *gidp)
{
	struct passwd pw, *p;
	unsigned long n;
	char buf[1024], *end;
	bool num;
	FILE *fp;
	int err = -ENOENT;

	n = strtoul(name, &end, 10);
	num = name[0] >= '0' && name[0] <= '9' && *end == '\0' && n < UINT32_MAX;
	if ((fp = fopen("/etc/passwd", "re")) != NULL) {
		while (fgetpwent_r(fp, &pw, buf, sizeof(buf), &p) == 0)
			if (num ? p->pw_uid == (uid_t)n :
			    strcmp(p->pw_name, name) == 0) {
				*uidp = p->pw_uid;
				*gidp = p->pw_gid;
				err = 0;
				break;
			}
		fclose(fp);
	}
	if (err != 0 && num) {
		*uidp = (uid_t)n;
		*gidp = (gid_t)n;
		err = 0;
	}
	return (err);
}

int
sandbox_become(const char *name, const char **why)
{
	uid_t uid;
	gid_t gid;
	int err;

	*why = "no such user in /etc/passwd";
	if ((err = sb_lookup(name, &uid, &gid)) != 0)
		return (err);
	/* Already that user, and not root: nothing to give up. */
	if (uid != 0 && getuid() == uid && geteuid() == uid)
		return (0);
	*why = "cannot become that user (it takes root)";
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return (-errno);
	*why = "still privileged after the change";
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || (uid != 0 && setuid(0) == 0) ||
	    (uid != 0 && getgroups(0, NULL) != 0))
		return (-EPERM);
	return (0);
}
