/*
 * machine_signals.c: what signals do to the VM (SIGNALS in
 * docs/khyve.8.md).
 *
 * SIGTERM presses the ACPI power button, as bhyve's does, and starts the
 * poweroff.grace timer: a guest that has not powered off when it fires
 * (one still booting, one with no ACPI daemon) is stopped, so that a VM
 * never outlives the supervisor that asked it to go (timeout(1),
 * systemd).  A second SIGTERM (a second or more after the first), or
 * SIGINT, stops it at once.  Stopping is
 * a power-off decided by the host: the vCPUs leave the guest, the disks
 * complete and sync what they hold (fate_cb in machine.c), one line says
 * why, the terminal is put back (tty_atexit) and khyve exits with status
 * 1, the status bhyve gives after `bhyvectl --force-poweroff`.  Every
 * other signal that ends a process still does, with the terminal put
 * back first.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "backend/tty.h"
#include "config.h"
#include "hw/acpipm.h"
#include "log.h"
#include "machine.h"
#include "mevent.h"

/*
 * Below systemd's DefaultTimeoutStopSec (90 s), so that khyve stops the
 * VM itself, disks synced, before systemd kills it; and a round figure
 * for `timeout -k` (timeout(1) sends SIGTERM first).
 */
#define POWEROFF_GRACE_DEFAULT	60
#define POWEROFF_GRACE_MAX	86400	/* one day; 0 means for ever */
/*
 * timeout(1) sends its SIGTERM twice, to the command and then to its
 * process group: a second one this soon after the first is that one.
 */
#define SIGTERM_SAME_MS		1000

static unsigned grace_s;		/* poweroff.grace */
static unsigned sigterms;		/* SIGTERMs taken by the event loop */
static uint64_t sigterm_ms;		/* when the first one was */
static struct mevent *grace_ev;		/* started by the first SIGTERM */
static char grace_why[80];
static int sigint_fd = -1;		/* eventfd: SIGINT, once running */
static int vm_running;			/* atomic: machine_signals_start ran */

void
machine_stop(const char *why)
{
	if (machine_suspend(VM_SUSPEND_POWEROFF))
		machine.m_stopwhy = why;	/* fate_cb runs on this thread */
}

static void
grace_cb(int fd, enum ev_type type, void *arg)
{
	(void)mevent_disable(grace_ev);
	machine_stop(grace_why);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * SIGTERM: press the power button, then wait poweroff.grace seconds for
 * the guest.  A SIGTERM during set-up waits in its signalfd and presses
 * the button once the event loop runs (two of them may arrive as one).
 */
static void
sigterm_cb(int sig, enum ev_type type, void *arg)
{
	struct machine *m = arg;

	if (sigterms > 0 && now_ms() - sigterm_ms < SIGTERM_SAME_MS) {
		log_info("SIGTERM again within %d ms: the same one",
		    SIGTERM_SAME_MS);
		return;
	}
	if (sigterms++ > 0) {
		machine_stop("second SIGTERM");
		return;
	}
	sigterm_ms = now_ms();
	log_info("SIGTERM: pressing the power button");
	if (m->m_pm != NULL)
		acpipm_power_button(m->m_pm);
	if (grace_ev != NULL && mevent_enable(grace_ev) != 0)
		log_warn("poweroff.grace: cannot start the timer: waiting for "
		    "the guest");
}

static void
sigint_cb(int fd, enum ev_type type, void *arg)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
	machine_stop("SIGINT");
}

/*
 * SIGINT, in whichever thread takes it.  Once the vCPUs run, the event
 * loop stops the VM (sigint_cb); before, nothing the guest did can be
 * lost, so khyve ends here, as it would have after the stop.  A signal
 * handler rather than a signalfd so that a long set-up (a large initrd)
 * does not delay it.  Async-signal-safe.
 */
static void
sigint_handler(int sig)
{
	static const char msg[] = "khyve: SIGINT: VM stopped\r\n";
	uint64_t one = 1;
	int save = errno;

	if (__atomic_load_n(&vm_running, __ATOMIC_SEQ_CST)) {
		(void)!write(sigint_fd, &one, sizeof(one));
		errno = save;
		return;
	}
	tty_signal_cleanup();
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(KHYVE_EXIT_POWEROFF);
}

/* SIGUSR2: print the vCPUs' registers (bhyvectl --get-all, roughly). */
static void
sigusr2_cb(int sig, enum ev_type type, void *arg)
{
	struct machine *m = arg;

	if (m->m_vcpus == NULL)
		return;
	machine_print_stats();
	vcpus_dump(m);
}

/*
 * Every other signal whose default action ends the process: put the
 * terminal back (and remove console sockets), then die of the signal as
 * before, so the parent sees the same status and a core is still dumped
 * for SIGQUIT, SIGSEGV and the like.  Runs in any thread (the faults
 * arrive on the thread that caused them; the others on the one thread
 * that does not block them), before or after set-up; async-signal-safe.
 */
static void
sig_die(int sig)
{
	tty_signal_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);		/* blocked while the handler runs... */
	/* ...so it is delivered on return, with the default action. */
}

static const int die_signals[] = {
	SIGHUP, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
	SIGUSR1, SIGSEGV, SIGALRM, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM,
	SIGPROF, SIGIO, SIGPWR, SIGSYS,
};

static void
grace_init(void)
{
	int64_t s;

	s = config_int64(NULL, "poweroff.grace", POWEROFF_GRACE_DEFAULT);
	if (s < 0 || s > POWEROFF_GRACE_MAX)
		fatalx(KHYVE_EXIT_USAGE, "poweroff.grace: %" PRId64 " seconds: "
		    "want 0 (wait for ever) to %d", s, POWEROFF_GRACE_MAX);
	grace_s = (unsigned)s;
	if (grace_s == 0)
		return;
	snprintf(grace_why, sizeof(grace_why), "the guest did not power off "
	    "within %u s of SIGTERM", grace_s);
	/* Made now: the sandbox allows no new timerfd once the guest runs. */
	grace_ev = mevent_add_disabled((int)(grace_s * 1000), EVF_TIMER,
	    grace_cb, &machine);
	if (grace_ev == NULL)
		fatal(KHYVE_EXIT_ERROR, "poweroff.grace: timer");
}

void
machine_signals_init(void)
{
	struct machine *m = &machine;
	struct sigaction sa;
	size_t i;
	int sig;

	grace_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_die;
	sigfillset(&sa.sa_mask);	/* one handler at a time */
	for (i = 0; i < nitems(die_signals); i++)
		if (sigaction(die_signals[i], &sa, NULL) < 0)
			fatal(KHYVE_EXIT_ERROR, "sigaction %d", die_signals[i]);
	/* Real-time signals end the process by default too (signal(7)). */
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigint_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sigint_fd < 0 ||
	    mevent_add(sigint_fd, EVF_READ, sigint_cb, m) == NULL)
		fatal(KHYVE_EXIT_ERROR, "event loop set-up");
	sa.sa_handler = sigint_handler;
	if (sigaction(SIGINT, &sa, NULL) < 0)
		fatal(KHYVE_EXIT_ERROR, "sigaction SIGINT");
	/*
	 * A reader going away (a console pipe, stderr) must not kill the VM:
	 * writes fail with EPIPE instead and the output is discarded.  A
	 * program khyve starts must put SIGPIPE back: exec keeps SIG_IGN.
	 */
	(void)signal(SIGPIPE, SIG_IGN);
	if (mevent_add(SIGTERM, EVF_SIGNAL, sigterm_cb, m) == NULL ||
	    mevent_add(SIGUSR2, EVF_SIGNAL, sigusr2_cb, m) == NULL)
		fatal(KHYVE_EXIT_ERROR, "event loop set-up");
}

void
machine_signals_start(void)
{
	__atomic_store_n(&vm_running, 1, __ATOMIC_SEQ_CST);
}
