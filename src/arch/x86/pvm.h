/*
 * pvm.h: support for hosts whose KVM is the nested, software-assisted
 * "PVM" (the kvm_pvm module).  There CPUID cannot be masked, some
 * instructions cannot be emulated in guest kernel mode, and a 64-bit
 * SYSCALL from an unmodified guest's user mode arrives at MSR_LSTAR still
 * in user mode.  None of this runs on hardware KVM.
 */
#ifndef PVM_H
#define PVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "khyve.h"
#include "vmm.h"

#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_SFMASK		0xc0000084
#define MSR_IA32_TSC		0x010
#define MSR_IA32_TSC_DEADLINE	0x6e0

/*
 * Default x86.pvm_timer_min_us: the shortest interval between two
 * TSC-deadline timer interrupts of a vCPU.  A 250 Hz Linux tick costs
 * several ms of emulated kernel code each time on a PVM host, more than
 * half of a busy vCPU; spaced to 16 ms it costs a quarter of that.
 */
#define PVM_TIMER_MIN_US	16000

/* The port the patched #PF entry writes to (out %al,$PVM_HOOK_PORT). */
#define PVM_HOOK_PORT		0xef

/* True when /sys/module/kvm_pvm exists. */
bool	pvm_host_detected(void);

/*
 * Append to cmdline (in place, buffer of size len) every switch of the
 * quirk table not already present.  Returns the number of switches added,
 * or -E2BIG when they do not fit.  *added (if not NULL) gets a static
 * string listing them, for the log line.
 */
int	pvm_cmdline_quirks(char *cmdline, size_t len, const char **added);

/* Per-VM state of the SYSCALL repair. */
struct pvm_state {
	uint64_t	ps_pf_gpa;	/* patched #PF entry, 0 = not armed */
	uint8_t		ps_patch[4];	/* bytes written there */
	unsigned	ps_patch_len;
	bool		ps_refused;	/* entry bytes not recognised */
	uint64_t	ps_syscalls;	/* SYSCALLs repaired (atomic) */
	uint64_t	ps_faults;	/* other page faults through the hook */
};

/*
 * Patch the guest's #PF entry (IDT vector 14 of vcpu) so that it starts
 * with out %al,$PVM_HOOK_PORT.  Idempotent.  Returns 0, or -ENOEXEC
 * (after one log line) when the entry's first bytes are not a form it
 * recognises, -EFAULT when the IDT or the entry cannot be read.
 */
int	pvm_arm(struct pvm_state *ps, struct vcpu *vcpu, struct gmem *mem)
	    __must_check;

/*
 * Recognise the first bytes of a #PF entry and build the replacement:
 * returns its length (2-4) or 0 when the bytes are not recognised.
 */
unsigned pvm_patch_for(const uint8_t *orig, size_t n, uint8_t out[4]);

/*
 * The hook fired (OUT to PVM_HOOK_PORT, already completed so RIP is past
 * it): if the fault frame on the kernel stack is a user-mode fault at
 * MSR_LSTAR, re-enter the kernel as SYSCALL would have; otherwise let the
 * real handler continue.  Returns 0 or -errno.
 */
int	pvm_hook(struct pvm_state *ps, struct vcpu *vcpu) __must_check;

/* Re-write the patch if the guest overwrote it (alternatives patching). */
void	pvm_check_patch(struct pvm_state *ps, struct gmem *mem);

#endif /* PVM_H */
