/*
 * vmm.h: the KVM layer, shaped like FreeBSD's libvmmapi.
 *
 * This file and vcpu.c are the only places that speak KVM ioctls.  A VM
 * gets guest RAM from one memfd (lowmem below 3 GiB, the rest at 4 GiB,
 * bhyve's layout), the in-kernel irqchip (LAPIC, IOAPIC, PIC) and PIT,
 * CPUID from KVM_GET_SUPPORTED_CPUID with the topology of -c, and exits
 * for MSRs KVM does not know (KVM_CAP_X86_USER_SPACE_MSR).
 */
#ifndef VMM_H
#define VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "gmem.h"
#include "khyve.h"

struct vmctx;
struct vcpu;
struct kvm_run;
struct boot_cpu_state;

enum vm_reg_name {
	VM_REG_GUEST_RAX, VM_REG_GUEST_RBX, VM_REG_GUEST_RCX,
	VM_REG_GUEST_RDX, VM_REG_GUEST_RSI, VM_REG_GUEST_RDI,
	VM_REG_GUEST_RBP, VM_REG_GUEST_RSP, VM_REG_GUEST_R8,
	VM_REG_GUEST_R9, VM_REG_GUEST_R10, VM_REG_GUEST_R11,
	VM_REG_GUEST_R12, VM_REG_GUEST_R13, VM_REG_GUEST_R14,
	VM_REG_GUEST_R15, VM_REG_GUEST_RIP, VM_REG_GUEST_RFLAGS,
	VM_REG_GUEST_CR0, VM_REG_GUEST_CR2, VM_REG_GUEST_CR3,
	VM_REG_GUEST_CR4, VM_REG_GUEST_EFER, VM_REG_GUEST_CS,
	VM_REG_GUEST_SS, VM_REG_GUEST_DS, VM_REG_GUEST_ES,
	VM_REG_GUEST_FS, VM_REG_GUEST_GS, VM_REG_GUEST_FS_BASE,
	VM_REG_GUEST_GS_BASE, VM_REG_GUEST_CPL,
	VM_REG_LAST
};

/* The VM's topology (bhyve's vm_set_topology). */
struct vm_topology {
	uint16_t	sockets, cores, threads;
	uint16_t	ncpus;			/* sockets * cores * threads */
};

/*
 * Open /dev/kvm and create a VM, without devices yet.  Returns NULL with
 * errno set (ENOENT/EACCES: no usable /dev/kvm).
 */
struct vmctx *vm_create(const char *name);

/*
 * Create the in-kernel irqchip (PIC, IOAPIC, LAPICs), its GSI routes and
 * the PIT.  Call it after vm_setup_memory(): a memory slot added once the
 * irqchip exists costs an SRCU grace period (milliseconds), one added
 * before costs microseconds.  Returns 0 or -errno.
 */
int	vm_create_irqchip(struct vmctx *ctx) __attribute__((warn_unused_result));
void	vm_destroy(struct vmctx *ctx);
const char *vm_get_name(const struct vmctx *ctx);

/* Largest vCPU count KVM accepts. */
int	vm_max_vcpus(struct vmctx *ctx);

/*
 * Allocate memsize bytes of guest RAM from a memfd and map it at guest
 * physical 0 (up to LOWMEM_LIMIT) and 4 GiB (the rest).  In the host each
 * of the two parts starts on a 2 MiB boundary with at least 2 MiB of
 * PROT_NONE guard on either side, so running off a part faults.  in_core
 * false keeps guest RAM out of core dumps (MADV_DONTDUMP); wired locks it.
 * Returns 0 or -errno.
 */
int	vm_setup_memory(struct vmctx *ctx, uint64_t memsize, bool wired,
	    bool in_core) __must_check;
struct gmem *vm_gmem(struct vmctx *ctx);
uint64_t vm_get_lowmem_size(const struct vmctx *ctx);
uint64_t vm_get_highmem_size(const struct vmctx *ctx);
/* Host mapping of guest RAM below 4 GiB (for diagnostics and tests). */
void	*vm_guest_base(const struct vmctx *ctx, uint64_t *len);

int	vm_set_topology(struct vmctx *ctx, const struct vm_topology *topo)
	    __must_check;
/*
 * Exit to userspace on unknown MSRs (default: #GP inside KVM) and on
 * accesses denied by vm_filter_msr_write().
 */
int	vm_enable_msr_exits(struct vmctx *ctx) __must_check;
/*
 * Make guest writes to the n MSRs in msrs exit to userspace
 * (KVM_X86_SET_MSR_FILTER; at most VM_MSR_FILTER_MAX).
 */
#define VM_MSR_FILTER_MAX	4
int	vm_filter_msr_write(struct vmctx *ctx, const uint32_t *msrs, int n)
	    __must_check;

/* Create vCPU id (0-based, APIC ID = id) with CPUID set. */
struct vcpu *vm_vcpu_open(struct vmctx *ctx, int id);
int	vcpu_id(const struct vcpu *vcpu);
struct vmctx *vcpu_ctx(const struct vcpu *vcpu);
/* The shared kvm_run area of the vCPU. */
struct kvm_run *vcpu_run_area(const struct vcpu *vcpu);

/*
 * Enter the guest until the next exit.  Returns 0 (exit in the run
 * area) or -errno (EINTR/EAGAIN: interrupted, retry).
 */
int	vm_run(struct vcpu *vcpu);
/* Make the next (or current) vm_run() return -EINTR promptly. */
void	vcpu_set_immediate_exit(struct vcpu *vcpu, bool on);

int	vm_get_register(struct vcpu *vcpu, enum vm_reg_name reg,
	    uint64_t *val) __must_check;
int	vm_set_register(struct vcpu *vcpu, enum vm_reg_name reg, uint64_t val)
	    __must_check;
/* Put the vCPU in the state described by a boot loader. */
int	vm_set_boot_state(struct vcpu *vcpu, const struct boot_cpu_state *bs)
	    __must_check;
/* Enable x2APIC mode in the vCPU's APIC base MSR. */
int	vm_set_x2apic(struct vcpu *vcpu) __must_check;

/*
 * Inject exception vector into the vCPU before it next runs, with an
 * error code if errcode_valid.  Returns 0 or -errno.
 */
int	vm_inject_exception(struct vcpu *vcpu, int vector, bool errcode_valid,
	    uint32_t errcode) __must_check;
/* Interrupt descriptor table register. */
int	vm_get_idtr(struct vcpu *vcpu, uint64_t *base, uint16_t *limit)
	    __must_check;
/*
 * Enter 64-bit kernel code as the SYSCALL instruction does (Intel SDM
 * vol. 2B, SYSCALL): CS = STAR[47:32] and SS = CS + 8 as flat ring-0
 * segments, RIP = rip, RSP = rsp, RFLAGS = rflags; other registers are
 * left as they are.
 */
int	vm_syscall_enter(struct vcpu *vcpu, uint64_t star, uint64_t rip,
	    uint64_t rsp, uint64_t rflags) __must_check;
/* x87 FPU status word (FSW) of the vCPU. */
int	vm_get_fpu_status(struct vcpu *vcpu, uint16_t *fsw) __must_check;
/* Read / write one MSR of the vCPU through KVM. */
int	vm_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *val)
	    __must_check;
/* The guest's TSC frequency in kHz (KVM_GET_TSC_KHZ), or -errno. */
int	vm_get_tsc_khz(struct vcpu *vcpu);
int	vm_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t val)
	    __must_check;
/*
 * KVM_MP_STATE_* of the vCPU.  KVM accepts a pending INIT or SIPI first,
 * so a vCPU just sent its SIPI reads RUNNABLE.
 */
int	vm_get_mp_state(struct vcpu *vcpu, uint32_t *state) __must_check;
/*
 * *pending = true when the vCPU has an event that ends a HLT even with
 * interrupts disabled, or one KVM is about to deliver: an NMI or SMI
 * pending or being injected, an exception or interrupt being injected.
 * Returns 0 or -errno.
 */
int	vm_wake_pending(struct vcpu *vcpu, bool *pending) __must_check;

/* Interrupt lines: ISA IRQs 0-15 reach both PIC and IOAPIC. */
int	vm_irq_line(struct vmctx *ctx, unsigned gsi, int level);
int	vm_ioapic_assert_irq(struct vmctx *ctx, unsigned irq);
int	vm_ioapic_deassert_irq(struct vmctx *ctx, unsigned irq);
int	vm_ioapic_pulse_irq(struct vmctx *ctx, unsigned irq);
int	vm_lapic_msi(struct vmctx *ctx, uint64_t addr, uint64_t msg);

/*
 * An MSI route for an irqfd: a GSI (from 24) whose message vm_msi_route_set
 * gives.  Returns 0 and *gsi, -ENOSPC or -ENOMEM.
 */
int	vm_msi_route_alloc(struct vmctx *ctx, unsigned *gsi) __must_check;
/* Point the route at (addr, data).  Returns 0 or -errno.  Thread-safe. */
int	vm_msi_route_set(struct vmctx *ctx, unsigned gsi, uint64_t addr,
	    uint32_t data) __must_check;
/* Attach (assign) or detach eventfd fd to gsi (KVM_IRQFD). */
int	vm_irqfd(struct vmctx *ctx, int fd, unsigned gsi, bool assign)
	    __must_check;
/*
 * Make a guest write of len bytes (0: any) at port or address addr signal
 * eventfd fd instead of exiting (KVM_IOEVENTFD); datamatch >= 0 only for
 * writes of that value.  assign false removes it.  Returns 0 or -errno.
 */
int	vm_ioeventfd(struct vmctx *ctx, bool pio, uint64_t addr, unsigned len,
	    int64_t datamatch, int fd, bool assign) __must_check;

/*
 * Translate guest-virtual gva with the vCPU's current paging mode (none,
 * or 4/5-level long mode) to a guest-physical address.  Returns 0,
 * -EFAULT when not mapped or the tables lie outside RAM, -ENOTSUP for
 * 32-bit paging modes.
 */
int	vm_gla2gpa(struct vcpu *vcpu, uint64_t gva, uint64_t *gpa) __must_check;
/* Copy len bytes at guest-virtual gva, page by page.  Returns 0 or -errno. */
int	vm_copyin_gva(struct vcpu *vcpu, uint64_t gva, void *buf, size_t len)
	    __must_check;
int	vm_copyout_gva(struct vcpu *vcpu, uint64_t gva, const void *buf,
	    size_t len) __must_check;
/*
 * As vm_copyin_gva(), but only what the guest's user mode (CPL3) could
 * read: a lower-half address on pages user-accessible at every level of
 * the tables.  -EFAULT otherwise, or with paging off.
 */
int	vm_copyin_gva_user(struct vcpu *vcpu, uint64_t gva, void *buf,
	    size_t len) __must_check;

/* Print the vCPU's registers (exit diagnostics). */
void	vm_dump_vcpu(struct vcpu *vcpu, FILE *fp);
/* Print KVM's non-zero cumulative counters for the vCPU (one line). */
void	vm_print_kvm_stats(struct vcpu *vcpu, FILE *fp, const char *prefix);

#endif /* VMM_H */
