/*
 * pvm.c: what a monitor must do for Linux guests on a PVM host.
 *
 * 1. Kernel command-line switches that keep the kernel off instructions
 *    the host cannot emulate in guest kernel mode (CPUID, which would
 *    normally hide the features, is not honoured there).
 * 2. The SYSCALL repair: the host leaves a guest that executed SYSCALL in
 *    user mode at MSR_LSTAR, where it takes an instruction-fetch #PF on its
 *    own kernel text.  The monitor patches the first bytes of the guest's
 *    #PF entry (found through its IDT) with "out %al,$PVM_HOOK_PORT"; on
 *    that exit it reads the exception frame and, for a user-mode fault at
 *    LSTAR that a SYSCALL left (not one a user program forged by jumping
 *    there), re-enters the kernel as SYSCALL would have.  The replaced
 *    bytes are no-ops (a NOP or ENDBR64 without IBT), so other faults
 *    simply continue into the real handler.  Every LSTAR write looks at
 *    the IDT again, so a kernel started by kexec is armed in its turn.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "arch/x86/pvm.h"
#include "log.h"

/*
 * Switches for the Linux command line, each with its reason.  A switch
 * marked additive is one the kernel accumulates (every
 * initcall_blacklist= adds to one list, init/main.c), so it goes in beside
 * a user's own; for the others the user's value wins.
 */
static const struct pvm_quirk {
	const char	*arg;
	bool		additive;
	const char	*why;
} pvm_quirks[] = {
	{ "noxsave", false, "xsave/xrstor cannot be emulated (FPU init)" },
	{ "clearcpuid=137,141,151,308", false, "SSSE3, CX16, POPCNT and SMAP: "
	    "their instructions (BLAKE2s-SSSE3, cmpxchg16b in SLUB, popcnt, "
	    "clac/stac) cannot be emulated" },
	{ "cryptomgr.notests", false, "speed: ~27 s of crypto self-tests" },
	{ "nowatchdog", false, "speed, and a soft-lockup warning under slow "
	    "emulation" },
	{ "init_on_alloc=0", false, "speed: zeroing every allocation is "
	    "emulated instruction by instruction" },
	{ "initcall_blacklist=ftrace_check_for_weak_functions", true, "speed: "
	    "a kallsyms lookup for each of ~38,000 ftrace sites (5.19+), a "
	    "minute or more here, on one CPU without a scheduling point, which "
	    "stalls stop_machine() with -c 2" },
	{ "initcall_blacklist=trace_eval_init", true, "speed: rewriting the "
	    "print formats of every trace event with the values of the enums "
	    "they name, ~25 s here; formats keep the enum names" },
	{ "initcall_blacklist=blake2s_mod_init,crypto_kdf108_init", true,
	    "speed: self-tests that cryptomgr.notests does not cover, ~10 s "
	    "(the x86 blake2s_mod_init of the same name only turns on the "
	    "SSSE3/AVX-512 code, which cannot be emulated here)" },
};

bool
pvm_host_detected(void)
{
	return (access("/sys/module/kvm_pvm", F_OK) == 0);
}

/*
 * True when cmdline already has the switch: the same word, or (unless
 * whole) for a key=value switch the same key with any value: the user's
 * value wins.
 */
static bool
has_switch(const char *cmdline, const char *arg, bool whole)
{
	size_t klen = whole ? strlen(arg) : strcspn(arg, "="), wlen;
	const char *p = cmdline;

	while (*p != '\0') {
		p += strspn(p, " ");
		wlen = strcspn(p, " ");
		if (wlen == 0)
			break;
		if (arg[klen] == '=' ? (wlen > klen && strncmp(p, arg, klen + 1)
		    == 0) : (wlen == klen && strncmp(p, arg, klen) == 0))
			return (true);
		p += wlen;
	}
	return (false);
}

int
pvm_cmdline_quirks(char *cmdline, size_t len, const char **added)
{
	static char list[512];
	size_t i, n, used;
	int count = 0;

	list[0] = '\0';
	used = strlen(cmdline);
	for (i = 0; i < nitems(pvm_quirks); i++) {
		if (has_switch(cmdline, pvm_quirks[i].arg,
		    pvm_quirks[i].additive))
			continue;
		n = strlen(pvm_quirks[i].arg);
		if (used + (used > 0) + n + 1 > len)
			return (-E2BIG);
		if (used > 0)
			cmdline[used++] = ' ';
		memcpy(cmdline + used, pvm_quirks[i].arg, n + 1);
		used += n;
		if (strlen(list) + n + 2 < sizeof(list)) {
			if (list[0] != '\0')
				strcat(list, " ");
			strcat(list, pvm_quirks[i].arg);
		}
		count++;
	}
	if (added != NULL)
		*added = list;
	return (count);
}

unsigned
pvm_patch_for(const uint8_t *b, size_t n, uint8_t out[4])
{
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const uint8_t nop4[3] = { 0x0f, 0x1f, 0x40 };
	static const uint8_t nop3[3] = { 0x0f, 0x1f, 0x00 };

	out[0] = 0xe6;				/* out %al,$imm8 */
	out[1] = PVM_HOOK_PORT;
	if (n >= 2 && b[0] == 0xe6 && b[1] == PVM_HOOK_PORT)
		return (0);			/* already ours */
	if (n >= 4 && (memcmp(b, endbr64, 4) == 0 || memcmp(b, nop4, 3) == 0)) {
		out[2] = 0x66;			/* 2-byte nop */
		out[3] = 0x90;
		return (4);
	}
	if (n >= 3 && memcmp(b, nop3, 3) == 0) {
		out[2] = 0x90;
		return (3);
	}
	if (n >= 2 && b[0] == 0x66 && b[1] == 0x90)
		return (2);
	/* Single-byte NOPs: alternatives padding not yet optimised. */
	if (n >= 3 && b[0] == 0x90 && b[1] == 0x90 && b[2] == 0x90) {
		out[2] = 0x90;
		return (3);
	}
	if (n >= 2 && b[0] == 0x90 && b[1] == 0x90)
		return (2);
	return (0);
}

int
pvm_arm(struct pvm_state *ps, struct vcpu *vcpu, struct gmem *mem)
{
	uint8_t gate[16];
	uint64_t idt, entry, gpa;
	uint16_t limit;

	if (vm_get_idtr(vcpu, &idt, &limit) != 0 || limit < 15 * 16 - 1 ||
	    vm_copyin_gva(vcpu, idt + 14 * 16, gate, sizeof(gate)) != 0)
		return (-EFAULT);
	/* 64-bit interrupt gate (Intel SDM vol. 3A §6.14.1). */
	entry = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 |
	    (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
	    (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 |
	    (uint64_t)gate[10] << 48 | (uint64_t)gate[11] << 56;
	if ((gate[5] & 0x80) == 0 || vm_gla2gpa(vcpu, entry, &gpa) != 0)
		return (-EFAULT);
	return (pvm_arm_at(ps, mem, entry, gpa));
}

static int
arm_locked(struct pvm_state *ps, struct gmem *mem, uint64_t entry,
    uint64_t gpa)
{
	uint64_t armed = __atomic_load_n(&ps->ps_pf_gpa, __ATOMIC_RELAXED);
	uint8_t cur[4], patch[4];
	unsigned n;

	if ((gpa & 0xfff) > 0xffc || gmem_read(mem, gpa, cur, sizeof(cur)) != 0)
		return (-EFAULT);
	if (armed != 0 && armed != gpa) {
		/*
		 * A new kernel (kexec) with its #PF entry elsewhere: the old
		 * address is that kernel's memory now.  Leave it as it is.
		 */
		__atomic_store_n(&ps->ps_pf_gpa, 0, __ATOMIC_RELEASE);
		ps->ps_patch_len = 0;
		log_info("pvm: the page-fault entry moved from gpa 0x%llx to "
		    "0x%llx (a new kernel): re-arming there",
		    (unsigned long long)armed, (unsigned long long)gpa);
		armed = 0;
	}
	if (armed == gpa && (ps->ps_patch_len == 0 ||
	    memcmp(cur, ps->ps_patch, ps->ps_patch_len) == 0))
		return (0);			/* another CPU's LSTAR write */
	n = pvm_patch_for(cur, sizeof(cur), patch);
	if (n == 0 && !(cur[0] == 0xe6 && cur[1] == PVM_HOOK_PORT)) {
		if (gpa == ps->ps_refused_gpa)
			return (-ENOEXEC);
		ps->ps_refused_gpa = gpa;
		log_warnx("pvm: the guest's page-fault entry at 0x%llx starts "
		    "with %02x %02x %02x %02x, which khyve does not recognise: "
		    "system calls from its user mode will not work on this host",
		    (unsigned long long)entry, cur[0], cur[1], cur[2], cur[3]);
		return (-ENOEXEC);
	}
	/* Found already patched (n == 0): what it replaced is unknown. */
	if (n != 0 && gmem_write(mem, gpa, patch, n) != 0)
		return (-EFAULT);
	memcpy(ps->ps_patch, patch, n);
	ps->ps_patch_len = n;
	ps->ps_rewrites = 0;
	ps->ps_refused_gpa = 0;
	__atomic_store_n(&ps->ps_entry, entry, __ATOMIC_RELAXED);
	__atomic_store_n(&ps->ps_pf_gpa, gpa, __ATOMIC_RELEASE);
	log_info("pvm: system-call repair armed (page-fault entry 0x%llx)",
	    (unsigned long long)entry);
	return (0);
}

int
pvm_arm_at(struct pvm_state *ps, struct gmem *mem, uint64_t entry,
    uint64_t gpa)
{
	int error;

	pthread_mutex_lock(&ps->ps_lock);
	error = arm_locked(ps, mem, entry, gpa);
	pthread_mutex_unlock(&ps->ps_lock);
	return (error);
}

void
pvm_check_patch(struct pvm_state *ps, struct gmem *mem)
{
	uint8_t cur[4], patch[4];
	uint64_t gpa;

	pthread_mutex_lock(&ps->ps_lock);
	gpa = __atomic_load_n(&ps->ps_pf_gpa, __ATOMIC_RELAXED);
	if (gpa == 0 || ps->ps_patch_len == 0 ||
	    ps->ps_rewrites > PVM_REPATCH_MAX ||
	    gmem_read(mem, gpa, cur, sizeof(cur)) != 0 ||
	    memcmp(cur, ps->ps_patch, ps->ps_patch_len) == 0)
		goto out;
	/*
	 * Only a NOP form as long as the one replaced (alternatives
	 * rewriting the padding) is ours to replace again: other bytes are
	 * the guest's, perhaps a new kernel's before it sets LSTAR.
	 */
	if (pvm_patch_for(cur, sizeof(cur), patch) != ps->ps_patch_len)
		goto out;
	if (ps->ps_rewrites++ == PVM_REPATCH_MAX) {
		log_warnx("pvm: the guest rewrote its page-fault entry at gpa "
		    "0x%llx %u times: leaving it alone (system calls from its "
		    "user mode may stop working)", (unsigned long long)gpa,
		    PVM_REPATCH_MAX);
		goto out;
	}
	if (gmem_write(mem, gpa, ps->ps_patch, ps->ps_patch_len) == 0)
		log_debug("pvm: page-fault entry re-patched");
out:
	pthread_mutex_unlock(&ps->ps_lock);
}

#define RFLAGS_IF	(1ULL << 9)
#define RFLAGS_IOPL	(3ULL << 12)
#define RFLAGS_RF	(1ULL << 16)
#define RFLAGS_VM	(1ULL << 17)
#define RFLAGS_VIF	(1ULL << 19)
#define RFLAGS_VIP	(1ULL << 20)
/* What user mode cannot change itself (POPF at CPL3, IOPL 0: SDM vol. 2B). */
#define RFLAGS_PRIV	(RFLAGS_IF | RFLAGS_IOPL | RFLAGS_VM | RFLAGS_VIF | \
			    RFLAGS_VIP)

/*
 * SYSCALL (SDM vol. 2B) sets RCX to the next instruction, R11 to RFLAGS,
 * and the kernel's return (SYSRET, or IRET of a frame built from R11)
 * restores RFLAGS from R11, IOPL and IF included.  A user program that
 * jumps to LSTAR takes the same fault here but chooses RCX and R11: it
 * must not become a kernel entry that returns with IOPL 3 or IF 0.  So:
 *
 * - RCX - 2 holds 0f 05 (syscall) in memory user mode can read: what a
 *   SYSCALL left, or at worst a SYSCALL the program could have made there.
 * - R11 and the fault frame's RFLAGS agree the way a SYSCALL leaves
 *   them on a PVM host: measured there (tests/guest/syscall.c "measure",
 *   kvm_pvm on 6.18: R11 0x202, frame 0x10002, SFMASK 0x47700), the host
 *   applies MSR_SFMASK before the fault, so the frame shows R11 & ~SFMASK
 *   (and RF, set in every fault frame, SDM vol. 3A §18.3.1.1).  Since the
 *   frame no longer says what IF and IOPL the program had, R11 must claim
 *   the least privilege: IF 1, IOPL 0, no VM/VIF/VIP.  A forged R11 can
 *   thus neither raise IOPL nor clear IF on the way back.
 *
 * XXX: so a Linux process that raised its IOPL with iopl(2) gets its
 * system calls refused (a #PF at LSTAR, SIGSEGV) on a PVM host; ioperm(2)
 * is unaffected.  Hardware KVM never takes this path.
 */
bool
pvm_syscall_left(const uint8_t *insn, uint64_t r11, uint64_t rflags,
    uint64_t sfmask)
{
	if (insn == NULL || insn[0] != 0x0f || insn[1] != 0x05)
		return (false);
	return ((((r11 & ~sfmask) ^ rflags) & ~RFLAGS_RF) == 0 &&
	    (r11 & RFLAGS_PRIV) == RFLAGS_IF);
}

int
pvm_hook(struct pvm_state *ps, struct vcpu *vcpu)
{
	uint64_t frame[5], rip, rsp, lstar, star, sfmask, rcx, r11;
	uint8_t insn[2];
	bool readable;
	int error;

	/* Only the OUT at the armed entry, not one the guest has elsewhere. */
	error = vm_get_register(vcpu, VM_REG_GUEST_RIP, &rip);
	if (error != 0)
		return (error);
	if (rip != __atomic_load_n(&ps->ps_entry, __ATOMIC_RELAXED) + 2)
		return (0);
	/* RSP points at the error code; then RIP, CS, RFLAGS, RSP, SS. */
	error = vm_get_register(vcpu, VM_REG_GUEST_RSP, &rsp);
	if (error == 0)
		error = vm_copyin_gva(vcpu, rsp + 8, frame, sizeof(frame));
	if (error == 0)
		error = vm_get_msr(vcpu, MSR_LSTAR, &lstar);
	if (error != 0)
		return (error);
	if (frame[0] != lstar || (frame[1] & 3) != 3) {
		__atomic_add_fetch(&ps->ps_faults, 1, __ATOMIC_RELAXED);
		return (0);
	}
	error = vm_get_register(vcpu, VM_REG_GUEST_RCX, &rcx);
	if (error == 0)
		error = vm_get_register(vcpu, VM_REG_GUEST_R11, &r11);
	if (error == 0)
		error = vm_get_msr(vcpu, MSR_STAR, &star);
	if (error == 0)
		error = vm_get_msr(vcpu, MSR_SFMASK, &sfmask);
	if (error != 0)
		return (error);
	readable = rcx >= 2 && vm_copyin_gva_user(vcpu, rcx - 2, insn,
	    sizeof(insn)) == 0;
	if (!pvm_syscall_left(readable ? insn : NULL, r11, frame[2], sfmask)) {
		__atomic_add_fetch(&ps->ps_forged, 1, __ATOMIC_RELAXED);
		log_warnx_rl("pvm: a user-mode page fault at LSTAR that no "
		    "SYSCALL left (rcx 0x%llx, r11 0x%llx, rflags 0x%llx): "
		    "delivered to the guest", (unsigned long long)rcx,
		    (unsigned long long)r11, (unsigned long long)frame[2]);
		return (0);
	}
	error = vm_syscall_enter(vcpu, star, lstar, frame[3],
	    frame[2] & ~sfmask & ~RFLAGS_RF);
	if (error == 0)
		__atomic_add_fetch(&ps->ps_syscalls, 1, __ATOMIC_RELAXED);
	return (error);
}
