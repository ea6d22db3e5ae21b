/*
 * vcpu.c: one thread per vCPU and the exit loop (bhyve's vm_loop and
 * vmexit_handlers[]).
 *
 * Each exit is dispatched through a table indexed by KVM's exit reason;
 * a handler returns VM_SUSPEND_NONE to continue or the VM's fate.  A vCPU
 * is kicked out of KVM_RUN with immediate_exit plus a signal, because the
 * fate was decided, for a register dump, or for a halt round (the
 * in-kernel irqchip keeps HLT inside KVM).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "arch/x86/insn.h"
#include "config.h"
#include "log.h"
#include "machine.h"
#include "sandbox.h"

#define SIG_VCPU_KICK	SIGUSR1

/* vi_req: work a vCPU thread does between two KVM_RUNs. */
#define VCPU_REQ_DUMP	0x1		/* print the registers (SIGUSR2) */
#define VCPU_REQ_ROUND	0x2		/* take part in a halt round */

typedef enum vm_suspend_how (*vmexit_handler_t)(struct vcpu_info *,
    struct kvm_run *);

/* Only the vCPU's own thread writes its counters. */
#define COUNT(p)	__atomic_store_n((p), __atomic_load_n((p), \
			    __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED)
#define STAT_INC(vi, field)	COUNT(&(vi)->vi_stats.field)

static void
le_store(uint8_t *p, uint64_t v, unsigned size)
{
	unsigned i;

	for (i = 0; i < size; i++)
		p[i] = v >> (8 * i);
}

static uint64_t
le_load(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = size; i > 0; i--)
		v = v << 8 | p[i - 1];
	return (v);
}

/*
 * An access no device claimed: all-ones / dropped, or fatal with -e
 * (bhyve's strictio).
 */
static enum vm_suspend_how
unclaimed(struct vcpu_info *vi, enum io_space space, enum io_dir dir,
    uint64_t addr, unsigned size)
{
	struct machine *m = vi->vi_m;

	STAT_INC(vi, unclaimed);
	if (m->m_strictio) {
		log_warnx("vcpu %d: unhandled %s %s 0x%llx (size %u)",
		    vi->vi_id, dir == IO_READ ? "read from" : "write to",
		    space == IO_PIO ? "port" : "address",
		    (unsigned long long)addr, size);
		return (VM_SUSPEND_ERROR);
	}
	if (log_verbose() >= 2)
		log_warnx_rl("vcpu %d: unclaimed %s %s 0x%llx", vi->vi_id,
		    dir == IO_READ ? "read" : "write",
		    space == IO_PIO ? "port" : "address",
		    (unsigned long long)addr);
	return (VM_SUSPEND_NONE);
}

/*
 * The patched #PF entry of a guest on a PVM host wrote to the hook port.
 * Complete the OUT first (KVM finishes pending I/O before it honours
 * immediate_exit), then look at the fault.
 */
static enum vm_suspend_how
vmexit_pvm_hook(struct vcpu_info *vi, struct kvm_run *run)
{
	struct machine *m = vi->vi_m;
	int error;

	if (run->io.direction != KVM_EXIT_IO_OUT ||
	    __atomic_load_n(&m->m_pvm.ps_pf_gpa, __ATOMIC_ACQUIRE) == 0)
		return (VM_SUSPEND_NONE);
	vcpu_set_immediate_exit(vi->vi_vcpu, true);
	error = vm_run(vi->vi_vcpu);
	vcpu_set_immediate_exit(vi->vi_vcpu, false);
	if (error != -EINTR && error != 0) {
		errno = -error;
		log_warn("vcpu %d: completing the hook port write", vi->vi_id);
		return (VM_SUSPEND_ERROR);
	}
	error = pvm_hook(&m->m_pvm, vi->vi_vcpu);
	if (error != 0) {
		log_warnx("vcpu %d: system-call repair failed: %s", vi->vi_id,
		    strerror(-error));
		return (VM_SUSPEND_ERROR);
	}
	return (VM_SUSPEND_NONE);
}

/*
 * KVM_EXIT_IO: count items of size bytes, packed at data_offset (string
 * and REP I/O are already split by KVM).
 */
static enum vm_suspend_how
vmexit_inout(struct vcpu_info *vi, struct kvm_run *run)
{
	struct machine *m = vi->vi_m;
	unsigned size = run->io.size, i;
	enum io_dir dir;
	uint8_t *data;
	uint64_t val;
	int error;

	STAT_INC(vi, pio);
	dir = run->io.direction == KVM_EXIT_IO_OUT ? IO_WRITE : IO_READ;
	if (run->io.port == PVM_HOOK_PORT && m->m_pvm_quirks)
		return (vmexit_pvm_hook(vi, run));
	if (size != 1 && size != 2 && size != 4)
		return (unclaimed(vi, IO_PIO, dir, run->io.port, size));
	data = (uint8_t *)run + run->io.data_offset;
	for (i = 0; i < run->io.count; i++, data += size) {
		val = dir == IO_WRITE ? le_load(data, size) : 0;
		error = io_dispatch(&m->m_bus, IO_PIO, dir, run->io.port, size,
		    &val);
		if (dir == IO_READ)
			le_store(data, val, size);
		if (error != 0 && unclaimed(vi, IO_PIO, dir, run->io.port,
		    size) != VM_SUSPEND_NONE)
			return (VM_SUSPEND_ERROR);
	}
	return (VM_SUSPEND_NONE);
}

/* KVM_EXIT_MMIO: 1-8 bytes; odd sizes are split into bytes. */
static enum vm_suspend_how
vmexit_mmio(struct vcpu_info *vi, struct kvm_run *run)
{
	struct machine *m = vi->vi_m;
	uint64_t gpa = run->mmio.phys_addr, val;
	unsigned len = run->mmio.len, i, step;
	enum io_dir dir;
	int error;

	STAT_INC(vi, mmio);
	dir = run->mmio.is_write ? IO_WRITE : IO_READ;
	if (len == 0 || len > 8)
		return (unclaimed(vi, IO_MMIO, dir, gpa, len));
	step = (len == 1 || len == 2 || len == 4 || len == 8) ? len : 1;
	for (i = 0; i < len; i += step) {
		val = dir == IO_WRITE ? le_load(run->mmio.data + i, step) : 0;
		error = io_dispatch(&m->m_bus, IO_MMIO, dir, gpa + i, step,
		    &val);
		if (dir == IO_READ)
			le_store(run->mmio.data + i, val, step);
		if (error != 0 && unclaimed(vi, IO_MMIO, dir, gpa + i,
		    step) != VM_SUSPEND_NONE)
			return (VM_SUSPEND_ERROR);
	}
	return (VM_SUSPEND_NONE);
}

/*
 * MSRs KVM does not handle (KVM_MSR_EXIT_REASON_UNKNOWN).  The few that
 * bhyve's xmsr.c answers on every host are answered here; anything else
 * raises #GP (x86.strictmsr, the default) or reads 0 / is ignored.
 */
static bool
msr_emulate(uint32_t msr, bool write, uint64_t *val)
{
	switch (msr) {
	case 0x79:		/* IA32_BIOS_UPDT_TRIG */
		return (write);
	case 0x8b:		/* IA32_BIOS_SIGN_ID */
		if (!write)
			*val = 0;
		return (true);
	default:
		return (false);
	}
}

/*
 * The guest set its SYSCALL entry point (filtered on PVM hosts only): do
 * the write, then arm the SYSCALL repair now that LSTAR and the IDT are
 * set.  Every write looks at the IDT again: a kernel started by kexec
 * sets LSTAR with its own #PF entry.
 */
static enum vm_suspend_how
vmexit_lstar(struct vcpu_info *vi, struct kvm_run *run)
{
	struct machine *m = vi->vi_m;

	if (vm_set_msr(vi->vi_vcpu, MSR_LSTAR, run->msr.data) != 0) {
		run->msr.error = 1;
		return (VM_SUSPEND_NONE);
	}
	if (pvm_arm(&m->m_pvm, vi->vi_vcpu, vm_gmem(m->m_ctx)) == -EFAULT)
		log_debug("vcpu %d: LSTAR set before a usable IDT", vi->vi_id);
	return (VM_SUSPEND_NONE);
}

/*
 * The guest armed its local APIC's TSC-deadline timer (filtered on PVM
 * hosts with x86.pvm_timer_min_us > 0): hand KVM the deadline, moved to at
 * least x86.pvm_timer_min_us after the last one that expired.  Linux's
 * tick handler forwards over missed periods, so fewer, later ticks only
 * coarsen its timers, and each costs milliseconds of emulated kernel code
 * there.  A deadline of 0 (disarm) and deadlines far enough from the last
 * interrupt pass unchanged, so an idle guest's timers are not delayed.
 */
static enum vm_suspend_how
vmexit_tsc_deadline(struct vcpu_info *vi, struct kvm_run *run)
{
	struct machine *m = vi->vi_m;
	uint64_t dl = run->msr.data, now;
	int khz;

	if (vi->vi_timer_min == 0) {
		khz = vm_get_tsc_khz(vi->vi_vcpu);
		vi->vi_timer_min = khz > 0 ?
		    (uint64_t)khz * m->m_timer_min_us / 1000 : 1;
	}
	if (dl != 0 && vm_get_msr(vi->vi_vcpu, MSR_IA32_TSC, &now) == 0) {
		/* The deadline given last has expired: it was an interrupt. */
		if (vi->vi_deadline != 0 && vi->vi_deadline <= now)
			vi->vi_fired = vi->vi_deadline;
		if (vi->vi_fired != 0 && dl < vi->vi_fired + vi->vi_timer_min)
			dl = vi->vi_fired + vi->vi_timer_min;
		vi->vi_deadline = dl;
	}
	if (vm_set_msr(vi->vi_vcpu, MSR_IA32_TSC_DEADLINE, dl) != 0)
		run->msr.error = 1;
	return (VM_SUSPEND_NONE);
}

static enum vm_suspend_how
vmexit_msr(struct vcpu_info *vi, struct kvm_run *run)
{
	struct machine *m = vi->vi_m;
	bool write = run->exit_reason == KVM_EXIT_X86_WRMSR;
	uint64_t val = run->msr.data;

	STAT_INC(vi, msr);
	run->msr.error = 0;
	if (run->msr.reason == KVM_MSR_EXIT_REASON_FILTER &&
	    run->msr.index == MSR_LSTAR && write)
		return (vmexit_lstar(vi, run));
	if (run->msr.reason == KVM_MSR_EXIT_REASON_FILTER &&
	    run->msr.index == MSR_IA32_TSC_DEADLINE && write)
		return (vmexit_tsc_deadline(vi, run));
	if (msr_emulate(run->msr.index, write, &val)) {
		if (!write)
			run->msr.data = val;
		return (VM_SUSPEND_NONE);
	}
	if (m->m_strictmsr || m->m_verbosemsr)
		log_warnx_rl("vcpu %d: %s of unknown MSR 0x%x%s", vi->vi_id,
		    write ? "wrmsr" : "rdmsr", run->msr.index,
		    m->m_strictmsr ? ": #GP" : "");
	if (m->m_strictmsr)
		run->msr.error = 1;
	else if (!write)
		run->msr.data = 0;
	return (VM_SUSPEND_NONE);
}

static enum vm_suspend_how
vmexit_shutdown(struct vcpu_info *vi, struct kvm_run *run)
{
	log_info("vcpu %d: triple fault", vi->vi_id);
	return (VM_SUSPEND_TRIPLEFAULT);
}

static enum vm_suspend_how
vmexit_system_event(struct vcpu_info *vi, struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return (VM_SUSPEND_POWEROFF);
	case KVM_SYSTEM_EVENT_RESET:
		return (VM_SUSPEND_RESET);
	default:
		log_warnx("vcpu %d: system event %u", vi->vi_id,
		    run->system_event.type);
		return (VM_SUSPEND_ERROR);
	}
}

static enum vm_suspend_how
vmexit_continue(struct vcpu_info *vi, struct kvm_run *run)
{
	return (VM_SUSPEND_NONE);
}

/*
 * An instruction the host's KVM could not emulate
 * (KVM_CAP_EXIT_ON_EMULATION_FAILURE).  Two occur in every Linux boot on
 * hosts whose KVM emulates guest kernel code: int3 (the int3 self-test and
 * text_poke_bp) and fwait (every task exit).  int3 becomes a #BP injected
 * after the instruction, as the CPU would deliver it; fwait is a no-op
 * unless an unmasked x87 exception is pending (FSW.ES), then #MF.
 *
 * XXX: the #BP goes in as an injected hardware-style exception with RIP
 * already past the int3, which is what the PVM host delivers correctly
 * (tests/guest/emul.c).  Hardware KVM runs int3 itself and never gets
 * here; if it did, VMX and SVM inject vector 3 as a software exception
 * and would add an instruction length of their own.
 */
static enum vm_suspend_how
emulation_fallback(struct vcpu_info *vi, const struct insn *in)
{
	struct vcpu *vcpu = vi->vi_vcpu;
	uint64_t rip;
	uint16_t fsw;

	if (vm_get_register(vcpu, VM_REG_GUEST_RIP, &rip) != 0)
		return (VM_SUSPEND_ERROR);
	switch (in->kind) {
	case INSN_INT3:
		STAT_INC(vi, emul_int3);
		if (vm_set_register(vcpu, VM_REG_GUEST_RIP, rip + in->len) != 0 ||
		    vm_inject_exception(vcpu, 3, false, 0) != 0)
			return (VM_SUSPEND_ERROR);
		return (VM_SUSPEND_NONE);
	case INSN_FWAIT:
		STAT_INC(vi, emul_fwait);
		if (vm_get_fpu_status(vcpu, &fsw) != 0)
			return (VM_SUSPEND_ERROR);
		if (fsw & 0x80) {			/* ES: #MF, RIP unchanged */
			if (vm_inject_exception(vcpu, 16, false, 0) != 0)
				return (VM_SUSPEND_ERROR);
		} else if (vm_set_register(vcpu, VM_REG_GUEST_RIP,
		    rip + in->len) != 0)
			return (VM_SUSPEND_ERROR);
		return (VM_SUSPEND_NONE);
	default:
		return (VM_SUSPEND_ERROR);
	}
}

static enum vm_suspend_how
vmexit_internal_error(struct vcpu_info *vi, struct kvm_run *run)
{
	struct insn in;
	char hex[3 * 15 + 1];
	unsigned i, n;
	uint64_t rip = 0;

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags &
	    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		n = MIN(run->emulation_failure.insn_size, 15u);
		insn_decode(run->emulation_failure.insn_bytes, n, &in);
		if (in.kind == INSN_INT3 || in.kind == INSN_FWAIT)
			return (emulation_fallback(vi, &in));
		hex[0] = '\0';
		for (i = 0; i < n; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ",
			    run->emulation_failure.insn_bytes[i]);
		if (vm_get_register(vi->vi_vcpu, VM_REG_GUEST_RIP, &rip) != 0)
			rip = ~0ULL;
		log_warnx("vcpu %d: KVM cannot emulate the instruction at rip "
		    "0x%llx: %s(%s)", vi->vi_id, (unsigned long long)rip, hex,
		    in.name);
	} else {
		log_warnx("vcpu %d: KVM internal error, suberror %u", vi->vi_id,
		    run->internal.suberror);
		for (i = 0; i < run->internal.ndata && i < 16; i++)
			log_warnx("  data[%u] = 0x%llx", i,
			    (unsigned long long)run->internal.data[i]);
	}
	vm_dump_vcpu(vi->vi_vcpu, stderr);
	return (VM_SUSPEND_ERROR);
}

static enum vm_suspend_how
vmexit_fail_entry(struct vcpu_info *vi, struct kvm_run *run)
{
	log_warnx("vcpu %d: VM entry failed, reason 0x%llx", vi->vi_id,
	    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	vm_dump_vcpu(vi->vi_vcpu, stderr);
	return (VM_SUSPEND_ERROR);
}

static const vmexit_handler_t vmexit_handlers[] = {
	[KVM_EXIT_IO] = vmexit_inout,
	[KVM_EXIT_MMIO] = vmexit_mmio,
	[KVM_EXIT_X86_RDMSR] = vmexit_msr,
	[KVM_EXIT_X86_WRMSR] = vmexit_msr,
	[KVM_EXIT_SHUTDOWN] = vmexit_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = vmexit_system_event,
	[KVM_EXIT_INTR] = vmexit_continue,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = vmexit_continue,
	[KVM_EXIT_INTERNAL_ERROR] = vmexit_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = vmexit_fail_entry,
};

/*
 * The halt decision (bhyve's VM_SUSPEND_HALT).  With the in-kernel irqchip
 * HLT never leaves KVM, and a vCPU can be woken inside KVM -- by an
 * INIT/SIPI, an interrupt or an NMI from another vCPU -- without an exit,
 * so what one probe saw of a vCPU is stale as soon as another vCPU runs.
 * The VM is declared halted only from one consistent observation: a halt
 * round.  The tick starts one when no vCPU had an exit for a whole tick
 * (nothing to pay while the guest is busy); every vCPU thread is kicked
 * out of KVM_RUN and parks.  Once all are parked no guest code runs and no
 * IPI can be sent; each then probes itself, and none resumes before all
 * have, so no probe can be overtaken by guest code.  The last one decides:
 * HALT when every vCPU is halted with RFLAGS.IF = 0 and nothing pending
 * that ends a HLT, or is waiting for INIT/SIPI.  No round starts while a
 * vCPU thread is in an exit handler (it may be blocked there, and the
 * others would wait for it); one that cannot gather everyone in
 * HALT_ROUND_MS anyway (a thread starved by the host) is abandoned: not
 * halted, try at the next tick.
 * Parked threads leave as soon as the fate is decided (vcpus_kick_all()).
 *
 * XXX: a device may still raise an NMI (an MSI the guest programmed so)
 * between two probes; the round then decides as if it came just after.
 */
#define HALT_ROUND_MS	100

static bool
fate_decided(struct machine *m)
{
	return (__atomic_load_n(&m->m_fate, __ATOMIC_SEQ_CST) != VM_SUSPEND_NONE);
}

/*
 * With hr_lock held: wait until *count reaches hr_want in round gen.
 * False when the round was abandoned or the fate decided meanwhile; the
 * first waiter to time out abandons it for everyone.
 */
static bool
round_wait(struct machine *m, uint64_t gen, const int *count)
{
	struct halt_round *hr = &m->m_round;

	while (hr->hr_active && hr->hr_gen == gen && *count < hr->hr_want &&
	    !fate_decided(m)) {
		if (pthread_cond_clockwait(&hr->hr_cv, &hr->hr_lock,
		    CLOCK_MONOTONIC, &hr->hr_deadline) == ETIMEDOUT &&
		    *count < hr->hr_want) {
			hr->hr_active = false;
			pthread_cond_broadcast(&hr->hr_cv);
		}
	}
	return (hr->hr_active && hr->hr_gen == gen && !fate_decided(m));
}

/*
 * This vCPU cannot run again by itself: halted with interrupts disabled
 * and no NMI, SMI or injection pending, or waiting for INIT/SIPI (only
 * another vCPU can start it).  Called with every vCPU out of KVM_RUN.
 */
static bool
vcpu_cannot_run(struct vcpu_info *vi)
{
	uint64_t rflags;
	uint32_t mp;
	bool pending;

	if (vm_get_mp_state(vi->vi_vcpu, &mp) != 0)
		return (false);
	switch (mp) {
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
		return (true);
	case KVM_MP_STATE_HALTED:
		return (vm_get_register(vi->vi_vcpu, VM_REG_GUEST_RFLAGS,
		    &rflags) == 0 && (rflags & (1u << 9)) == 0 &&
		    vm_wake_pending(vi->vi_vcpu, &pending) == 0 && !pending);
	default:
		return (false);
	}
}

/* A halt round, on a vCPU thread kicked out of KVM_RUN for it. */
static void
vcpu_halt_round(struct vcpu_info *vi)
{
	struct machine *m = vi->vi_m;
	struct halt_round *hr = &m->m_round;
	bool halted, verdict = false;
	uint64_t gen;

	pthread_mutex_lock(&hr->hr_lock);
	if (!hr->hr_active) {
		pthread_mutex_unlock(&hr->hr_lock);
		return;			/* abandoned before this vCPU came */
	}
	gen = hr->hr_gen;
	if (++hr->hr_parked == hr->hr_want)
		pthread_cond_broadcast(&hr->hr_cv);
	if (!round_wait(m, gen, &hr->hr_parked)) {
		pthread_mutex_unlock(&hr->hr_lock);
		return;
	}
	pthread_mutex_unlock(&hr->hr_lock);

	halted = vcpu_cannot_run(vi);

	pthread_mutex_lock(&hr->hr_lock);
	if (hr->hr_active && hr->hr_gen == gen) {
		hr->hr_halted += halted;
		if (++hr->hr_probed == hr->hr_want) {
			verdict = hr->hr_halted == hr->hr_want;
			hr->hr_active = false;
			pthread_cond_broadcast(&hr->hr_cv);
		} else
			(void)round_wait(m, gen, &hr->hr_probed);
	}
	pthread_mutex_unlock(&hr->hr_lock);
	if (verdict)
		machine_suspend(VM_SUSPEND_HALT);
}

/* Work asked of this thread between two KVM_RUNs (vcpus_dump, the tick). */
static void
vcpu_requests(struct vcpu_info *vi)
{
	unsigned req = __atomic_exchange_n(&vi->vi_req, 0, __ATOMIC_SEQ_CST);

	if (req & VCPU_REQ_DUMP)
		vm_dump_vcpu(vi->vi_vcpu, stderr);
	if (req & VCPU_REQ_ROUND)
		vcpu_halt_round(vi);
}

/*
 * A requester sets vi_req, then kicks (immediate_exit, then the signal);
 * the loop clears immediate_exit (a sequentially consistent store), then
 * reads vi_req: a request is seen now or makes the next KVM_RUN return at
 * once, even when an exit handler cleared immediate_exit itself.
 */
static void
vm_loop(struct vcpu_info *vi)
{
	struct machine *m = vi->vi_m;
	struct kvm_run *run = vcpu_run_area(vi->vi_vcpu);
	enum vm_suspend_how how;
	uint32_t reason;
	int error;

	while (!fate_decided(m)) {
		if (__atomic_load_n(&vi->vi_req, __ATOMIC_SEQ_CST) != 0) {
			vcpu_requests(vi);
			continue;
		}
		error = vm_run(vi->vi_vcpu);
		if (error == -EINTR || error == -EAGAIN) {
			vcpu_set_immediate_exit(vi->vi_vcpu, false);
			STAT_INC(vi, intr);
			continue;
		}
		if (error != 0) {
			errno = -error;
			log_warn("vcpu %d: KVM_RUN", vi->vi_id);
			machine_suspend(VM_SUSPEND_ERROR);
			break;
		}
		COUNT(&vi->vi_nexits);
		reason = run->exit_reason;
		if (reason >= nitems(vmexit_handlers) ||
		    vmexit_handlers[reason] == NULL) {
			log_warnx("vcpu %d: unexpected exit reason %u", vi->vi_id,
			    reason);
			vm_dump_vcpu(vi->vi_vcpu, stderr);
			machine_suspend(VM_SUSPEND_ERROR);
			break;
		}
		__atomic_store_n(&vi->vi_in_exit, 1, __ATOMIC_RELAXED);
		how = vmexit_handlers[reason](vi, run);
		__atomic_store_n(&vi->vi_in_exit, 0, __ATOMIC_RELAXED);
		if (how != VM_SUSPEND_NONE) {
			machine_suspend(how);
			break;
		}
	}
}

/* Parse a vcpu.N.cpuset list ("0-3,5") into set.  Returns 0 or -EINVAL. */
static int
parse_cpuset(const char *s, cpu_set_t *set)
{
	unsigned long a, b;
	char *end;

	CPU_ZERO(set);
	while (*s != '\0') {
		a = strtoul(s, &end, 10);
		if (end == s)
			return (-EINVAL);
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a)
				return (-EINVAL);
		}
		if (b >= CPU_SETSIZE)
			return (-EINVAL);
		for (; a <= b; a++)
			CPU_SET(a, set);
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return (-EINVAL);
		s = end;
	}
	return (0);
}

static void *
vcpu_thread(void *arg)
{
	struct vcpu_info *vi = arg;
	const char *why;
	char name[16];
	int error;

	/* Named by vcpus_start(): prctl() is not allowed here. */
	snprintf(name, sizeof(name), "vcpu %d", vi->vi_id);
	/* Wait for the process sandbox (machine_start), then add our own. */
	(void)pthread_barrier_wait(&vi->vi_m->m_gate);
	if (vi->vi_m->m_sandbox &&
	    (error = sandbox_install(SANDBOX_VCPU, false, name, &why)) != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "vcpu %d: sandbox: %s", vi->vi_id, why);
	}
	vm_loop(vi);
	return (NULL);
}

static void
kick_handler(int sig)
{
	(void)sig;
}

int
vcpus_start(struct machine *m)
{
	struct sigaction sa;
	pthread_attr_t attr;
	sigset_t set, old;
	cpu_set_t cpus;
	char key[32];
	const char *val;
	int i, error;

	error = pthread_barrier_init(&m->m_gate, NULL, (unsigned)m->m_ncpus + 1);
	if (error != 0)
		return (-error);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_VCPU_KICK, &sa, NULL) < 0)
		return (-errno);
	/* vCPU threads take the kick signal and nothing else. */
	sandbox_thread_sigset(&set);
	sigdelset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_SETMASK, &set, &old);

	for (i = 0; i < m->m_ncpus; i++) {
		struct vcpu_info *vi = &m->m_vcpus[i];

		pthread_attr_init(&attr);
		snprintf(key, sizeof(key), "vcpu.%d.cpuset", i);
		val = config_get(NULL, key);
		if (val != NULL) {
			if (parse_cpuset(val, &cpus) != 0) {
				log_warnx("config: %s: bad CPU list '%s'", key, val);
				pthread_sigmask(SIG_SETMASK, &old, NULL);
				return (-EINVAL);
			}
			pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
		}
		error = pthread_create(&vi->vi_thread, &attr, vcpu_thread, vi);
		pthread_attr_destroy(&attr);
		if (error != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return (-error);
		}
		snprintf(key, sizeof(key), "vcpu %d", i);
		(void)pthread_setname_np(vi->vi_thread, key);
		vi->vi_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return (0);
}

void
vcpus_go(struct machine *m)
{
	(void)pthread_barrier_wait(&m->m_gate);
}

static void
vcpu_kick(struct vcpu_info *vi)
{
	vcpu_set_immediate_exit(vi->vi_vcpu, true);
	if (vi->vi_started)
		pthread_kill(vi->vi_thread, SIG_VCPU_KICK);
}

/* The fate is decided: out of KVM_RUN, and out of any halt round. */
void
vcpus_kick_all(struct machine *m)
{
	int i;

	for (i = 0; i < m->m_ncpus; i++)
		vcpu_kick(&m->m_vcpus[i]);
	pthread_mutex_lock(&m->m_round.hr_lock);
	pthread_cond_broadcast(&m->m_round.hr_cv);
	pthread_mutex_unlock(&m->m_round.hr_lock);
}

void
vcpus_join(struct machine *m)
{
	int i;

	for (i = 0; i < m->m_ncpus; i++) {
		if (m->m_vcpus[i].vi_started) {
			pthread_join(m->m_vcpus[i].vi_thread, NULL);
			m->m_vcpus[i].vi_started = false;
		}
	}
}

static void
vcpu_request(struct vcpu_info *vi, unsigned req)
{
	__atomic_or_fetch(&vi->vi_req, req, __ATOMIC_SEQ_CST);
	vcpu_kick(vi);
}

void
vcpus_dump(struct machine *m)
{
	int i;

	for (i = 0; i < m->m_ncpus; i++)
		vcpu_request(&m->m_vcpus[i], VCPU_REQ_DUMP);
}

void
vcpus_halt_tick(struct machine *m)
{
	struct halt_round *hr = &m->m_round;
	struct vcpu_info *vi;
	bool busy = false;
	uint64_t n;
	int i, want = 0;

	if (m->m_pvm_quirks)
		pvm_check_patch(&m->m_pvm, vm_gmem(m->m_ctx));
	for (i = 0; i < m->m_ncpus; i++) {
		vi = &m->m_vcpus[i];
		n = __atomic_load_n(&vi->vi_nexits, __ATOMIC_RELAXED);
		/* An exit this tick, or one still being handled (blocked). */
		if (n != vi->vi_seen ||
		    __atomic_load_n(&vi->vi_in_exit, __ATOMIC_RELAXED))
			busy = true;
		vi->vi_seen = n;
		want += vi->vi_started;
	}
	if (busy || want == 0 || fate_decided(m))
		return;
	/* vCPUs never started cannot run: they count as halted. */
	pthread_mutex_lock(&hr->hr_lock);
	if (hr->hr_active) {
		pthread_mutex_unlock(&hr->hr_lock);
		return;
	}
	hr->hr_active = true;
	hr->hr_gen++;
	hr->hr_want = want;
	hr->hr_parked = hr->hr_probed = hr->hr_halted = 0;
	clock_gettime(CLOCK_MONOTONIC, &hr->hr_deadline);
	hr->hr_deadline.tv_nsec += HALT_ROUND_MS * 1000000L;
	if (hr->hr_deadline.tv_nsec >= 1000000000L) {
		hr->hr_deadline.tv_sec++;
		hr->hr_deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_unlock(&hr->hr_lock);
	for (i = 0; i < m->m_ncpus; i++)
		if (m->m_vcpus[i].vi_started)
			vcpu_request(&m->m_vcpus[i], VCPU_REQ_ROUND);
}
