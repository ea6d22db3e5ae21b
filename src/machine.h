/*
 * machine.h: the platform layer.  It builds the VM from the config tree
 * (memory, vCPUs, chips, PCI, guest tables, boot image), owns the wiring
 * of ports, addresses and interrupt lines, and decides the VM's fate.
 */
#ifndef MACHINE_H
#define MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "arch/x86/pvm.h"
#include "devctx.h"
#include "iobus.h"
#include "khyve.h"
#include "vmm.h"

/*
 * Counters shown with -o stats=true at exit and on SIGUSR2: one set per
 * vCPU, written by its thread alone (relaxed loads and stores, no locked
 * instructions), summed when printed.
 */
struct machine_stats {
	uint64_t	pio;		/* port exits */
	uint64_t	mmio;		/* MMIO exits */
	uint64_t	msr;		/* MSR exits */
	uint64_t	intr;		/* exits for signals / kicks */
	uint64_t	unclaimed;	/* accesses no device claimed */
	uint64_t	emul_int3;	/* int3 KVM could not emulate */
	uint64_t	emul_fwait;	/* fwait KVM could not emulate */
};

struct vcpu_info {
	struct machine	*vi_m;
	struct vcpu	*vi_vcpu;
	int		vi_id;
	pthread_t	vi_thread;
	bool		vi_started;
	uint64_t	vi_nexits;	/* exits seen (atomic) */
	uint64_t	vi_seen;	/* vi_nexits at the last halt tick */
	int		vi_in_exit;	/* in an exit handler (atomic) */
	unsigned	vi_req;		/* VCPU_REQ_* for the thread (atomic) */
	uint64_t	vi_timer_min;	/* m_timer_min_us in guest TSC ticks */
	uint64_t	vi_deadline;	/* last TSC deadline given to KVM */
	uint64_t	vi_fired;	/* last of those seen expired */
	struct machine_stats vi_stats;
} __attribute__((aligned(64)));	/* no cache line shared between vCPUs */

/*
 * A halt round (vcpu.c): every vCPU thread out of KVM_RUN at once, each
 * probing itself, the last one deciding.  hr_lock guards the members.
 */
struct halt_round {
	pthread_mutex_t	hr_lock;
	pthread_cond_t	hr_cv;		/* a count reached, round over, fate */
	bool		hr_active;	/* a round is gathering or probing */
	uint64_t	hr_gen;		/* rounds started so far */
	struct timespec	hr_deadline;	/* CLOCK_MONOTONIC: give up then */
	int		hr_want;	/* vCPU threads taking part */
	int		hr_parked;	/* of those, out of KVM_RUN */
	int		hr_probed;	/* of those, done probing */
	int		hr_halted;	/* of those, unable to run */
};

struct machine {
	const char	*m_name;
	struct vmctx	*m_ctx;
	struct iobus	m_bus;
	struct devctx	m_dc;
	int		m_ncpus;
	struct vcpu_info *m_vcpus;
	bool		m_strictio;	/* x86.strictio */
	bool		m_strictmsr;	/* x86.strictmsr */
	bool		m_verbosemsr;	/* x86.verbosemsr */
	int		m_fate;		/* enum vm_suspend_how (atomic) */
	int		m_fatefd;	/* eventfd: fate decided */
	struct acpipm_softc *m_pm;	/* for the power button */
	const char	*m_stopwhy;	/* machine_stop()'s reason, or NULL */
	bool		m_pvm_quirks;	/* x86.pvm_quirks */
	uint64_t	m_timer_min_us;	/* x86.pvm_timer_min_us (0: off) */
	struct pvm_state m_pvm;		/* SYSCALL repair (PVM hosts) */
	struct halt_round m_round;	/* the halt decision */
	pthread_barrier_t m_gate;	/* vCPU threads wait for the sandbox */
	bool		m_sandbox;	/* the sandbox key: filters installed */
};

/* The machine (one per process). */
extern struct machine machine;

/*
 * Build everything from the config tree.  Exits with EX_USAGE for bad
 * configuration and 4 for set-up failures, after one message.
 */
void	machine_build(void);
/*
 * Install the signal handlers (signals(7) in docs/khyve.8.md): before
 * anything changes the terminal.  Needs mevent_init().
 */
void	machine_signals_init(void);
/* Start the vCPU threads and the event-loop handlers. */
void	machine_start(void);
/*
 * Decide the VM's fate (first caller wins), kick every vCPU out of the
 * guest and wake the event loop, which joins them, stops the devices
 * (pci_stop: disks synced) and exits.  True for the call that decided.
 */
bool	machine_suspend(enum vm_suspend_how how);
/*
 * Stop the VM from outside (SIGINT, a second SIGTERM, poweroff.grace
 * running out) as a guest power-off would (exit status 1), and have the
 * event loop print "khyve: WHY: VM stopped" once the vCPUs are joined and
 * the disks synced.  Nothing happens once the fate is decided.  On the
 * event-loop thread only; why must stay valid.
 */
void	machine_stop(const char *why);
/*
 * The vCPUs are about to start: from now on SIGINT stops the VM through
 * the event loop (before, it ends khyve at once: nothing has run).
 */
void	machine_signals_start(void);
/* Print the statistics when the stats key is true. */
void	machine_report(void);
/* Print the statistics (also on SIGUSR2). */
void	machine_print_stats(void);
/* Exit status for a fate. */
int	machine_exit_status(enum vm_suspend_how how);

/* vcpu.c */
/*
 * Create the vCPU threads; each waits for vcpus_go(), then installs its
 * own sandbox filter when m_sandbox is set, then runs its vCPU.
 */
int	vcpus_start(struct machine *m) __must_check;
void	vcpus_go(struct machine *m);
void	vcpus_kick_all(struct machine *m);
void	vcpus_join(struct machine *m);
/* Print every vCPU's registers (SIGUSR2), from the vCPU threads. */
void	vcpus_dump(struct machine *m);
/*
 * Event-loop tick: when no vCPU had an exit since the last tick, start a
 * halt round, which ends the VM with VM_SUSPEND_HALT if every vCPU is
 * halted with interrupts off (nothing pending) or waiting for INIT/SIPI.
 */
void	vcpus_halt_tick(struct machine *m);

#endif /* MACHINE_H */
