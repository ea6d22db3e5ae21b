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
 *    LSTAR, re-enters the kernel as SYSCALL would have.  The replaced
 *    bytes are no-ops (a NOP or ENDBR64 without IBT), so other faults
 *    simply continue into the real handler.
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
	uint8_t gate[16], orig[4], patch[4];
	uint64_t idt, entry, gpa;
	uint16_t limit;
	unsigned n;

	if (__atomic_load_n(&ps->ps_pf_gpa, __ATOMIC_ACQUIRE) != 0 ||
	    ps->ps_refused)
		return (0);
	if (vm_get_idtr(vcpu, &idt, &limit) != 0 || limit < 15 * 16 - 1 ||
	    vm_copyin_gva(vcpu, idt + 14 * 16, gate, sizeof(gate)) != 0)
		return (-EFAULT);
	/* 64-bit interrupt gate (Intel SDM vol. 3A §6.14.1). */
	entry = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 |
	    (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
	    (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 |
	    (uint64_t)gate[10] << 48 | (uint64_t)gate[11] << 56;
	if ((gate[5] & 0x80) == 0 || vm_gla2gpa(vcpu, entry, &gpa) != 0 ||
	    (gpa & 0xfff) > 0xffc || gmem_read(mem, gpa, orig, 4) != 0)
		return (-EFAULT);
	n = pvm_patch_for(orig, sizeof(orig), patch);
	if (n == 0 && !(orig[0] == 0xe6 && orig[1] == PVM_HOOK_PORT)) {
		ps->ps_refused = true;
		log_warnx("pvm: the guest's page-fault entry at 0x%llx starts "
		    "with %02x %02x %02x %02x, which khyve does not recognise: "
		    "system calls from its user mode will not work on this host",
		    (unsigned long long)entry, orig[0], orig[1], orig[2], orig[3]);
		return (-ENOEXEC);
	}
	if (n != 0) {
		memcpy(ps->ps_patch, patch, n);
		ps->ps_patch_len = n;
		if (gmem_write(mem, gpa, patch, n) != 0)
			return (-EFAULT);
	}
	__atomic_store_n(&ps->ps_pf_gpa, gpa, __ATOMIC_RELEASE);
	log_info("pvm: system-call repair armed (page-fault entry 0x%llx)",
	    (unsigned long long)entry);
	return (0);
}

void
pvm_check_patch(struct pvm_state *ps, struct gmem *mem)
{
	uint64_t gpa = __atomic_load_n(&ps->ps_pf_gpa, __ATOMIC_ACQUIRE);
	uint8_t cur[4], patch[4];

	if (gpa == 0 || ps->ps_patch_len == 0 ||
	    gmem_read(mem, gpa, cur, 4) != 0 ||
	    memcmp(cur, ps->ps_patch, ps->ps_patch_len) == 0)
		return;
	/* Re-patch only over a form we recognise (the guest re-wrote NOPs). */
	if (pvm_patch_for(cur, sizeof(cur), patch) == ps->ps_patch_len &&
	    gmem_write(mem, gpa, ps->ps_patch, ps->ps_patch_len) == 0)
		log_debug("pvm: page-fault entry re-patched");
}

int
pvm_hook(struct pvm_state *ps, struct vcpu *vcpu)
{
	uint64_t frame[5], rsp, lstar, star, sfmask;
	int error;

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
	error = vm_get_msr(vcpu, MSR_STAR, &star);
	if (error == 0)
		error = vm_get_msr(vcpu, MSR_SFMASK, &sfmask);
	if (error == 0)
		error = vm_syscall_enter(vcpu, star, lstar, frame[3],
		    frame[2] & ~sfmask);
	if (error == 0)
		__atomic_add_fetch(&ps->ps_syscalls, 1, __ATOMIC_RELAXED);
	return (error);
}
