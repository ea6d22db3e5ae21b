/*
 * pvm.h: support for hosts whose KVM is the nested, software-assisted
 * "PVM" (the kvm_pvm module).  There CPUID cannot be masked, some
 * instructions cannot be emulated in guest kernel mode, and a 64-bit
 * SYSCALL from an unmodified guest's user mode arrives at MSR_LSTAR still
 * in user mode.  None of this runs on hardware KVM.
 */
#ifndef PVM_H
#define PVM_H

#include <pthread.h>
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

/*
 * How often pvm_check_patch() puts the patch back over NOPs the guest
 * wrote at the same entry before it leaves the entry to the guest.  A
 * Linux boot rewrites it once or twice (alternatives patching).
 */
#define PVM_REPATCH_MAX		8

/* Per-VM state of the SYSCALL repair. */
struct pvm_state {
	pthread_mutex_t	ps_lock;	/* guards the members below it */
	uint64_t	ps_pf_gpa;	/* patched #PF entry, 0 = not armed
					   (atomic: read without the lock) */
	uint64_t	ps_entry;	/* its guest-virtual address (atomic) */
	uint8_t		ps_patch[4];	/* bytes written there */
	unsigned	ps_patch_len;	/* 0: found patched, never re-patched */
	unsigned	ps_rewrites;	/* re-patches since armed */
	uint64_t	ps_refused_gpa;	/* entry whose bytes were not known */
	uint64_t	ps_syscalls;	/* SYSCALLs repaired (atomic) */
	uint64_t	ps_forged;	/* user faults at LSTAR that no
					   SYSCALL left (atomic) */
	uint64_t	ps_faults;	/* other page faults through the hook */
};

#define PVM_STATE_INITIALIZER	{ .ps_lock = PTHREAD_MUTEX_INITIALIZER }

/*
 * Called at every guest write of MSR_LSTAR: find the guest's #PF entry
 * (IDT vector 14 of vcpu, through its page tables) and pvm_arm_at() it.
 * Returns what pvm_arm_at() returns, or -EFAULT when the IDT or the entry
 * cannot be read.
 */
int	pvm_arm(struct pvm_state *ps, struct vcpu *vcpu, struct gmem *mem)
	    __must_check;

/*
 * Arm the repair at the #PF entry found at guest-virtual entry, guest-
 * physical gpa: write out %al,$PVM_HOOK_PORT over its first bytes unless
 * they are that already.  An entry other than the armed one means a new
 * kernel (kexec): the old address is its memory now and is never touched
 * again.  Returns 0, -ENOEXEC when the bytes are not a form
 * pvm_patch_for() knows (one log line per entry), -EFAULT when the bytes
 * cannot be read or written or cross a page.
 */
int	pvm_arm_at(struct pvm_state *ps, struct gmem *mem, uint64_t entry,
	    uint64_t gpa) __must_check;

/*
 * Recognise the first bytes of a #PF entry and build the replacement:
 * returns its length (2-4) or 0 when the bytes are not recognised.
 */
unsigned pvm_patch_for(const uint8_t *orig, size_t n, uint8_t out[4]);

/*
 * True when a user-mode #PF at MSR_LSTAR is what a SYSCALL left on this
 * host, false for anything else (such as a jump to LSTAR from user mode
 * with RCX and R11 of the program's choice).  insn: the two bytes before
 * RCX as user mode can read them, or NULL when it cannot; r11: R11;
 * rflags: RFLAGS in the fault frame; sfmask: MSR_SFMASK.
 */
bool	pvm_syscall_left(const uint8_t *insn, uint64_t r11, uint64_t rflags,
	    uint64_t sfmask);

/*
 * The hook fired (OUT to PVM_HOOK_PORT, already completed so RIP is past
 * it): if the OUT is the armed entry's and the fault frame on the kernel
 * stack is what a SYSCALL from user mode left (pvm_syscall_left()),
 * re-enter the kernel as SYSCALL would have; otherwise let the guest's
 * handler take the fault as it is.  Returns 0 or -errno.
 */
int	pvm_hook(struct pvm_state *ps, struct vcpu *vcpu) __must_check;

/*
 * Halt tick: put the patch back if the guest wrote a NOP form of the same
 * length over it (alternatives patching), at most PVM_REPATCH_MAX times
 * per arming (then one log line); bytes of any other form are the
 * guest's and stay.
 */
void	pvm_check_patch(struct pvm_state *ps, struct gmem *mem);

#endif /* PVM_H */
