/*
 * vmm.c: libvmmapi on KVM (Documentation/virt/kvm/api.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/pvh.h"
#include "log.h"
#include "vmm.h"
#include "vmm_impl.h"

#define KVM_TSS_ADDR		0xfffbd000ULL	/* 3 pages below the top */
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define DUMP_STACK_WORDS	32	/* guest stack words in a register dump */

int
kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? -errno : r);
}

struct vmctx *
vm_create(const char *name)
{
	struct vmctx *ctx;
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int r, saved;

	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return (NULL);
	ctx->name = name;
	pthread_mutex_init(&ctx->irq_lock, NULL);
	ctx->vmfd = ctx->memfd = -1;
	ctx->kvmfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (ctx->kvmfd < 0)
		goto fail;
	r = ioctl(ctx->kvmfd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		errno = ENOTSUP;
		goto fail;
	}
	ctx->run_size = ioctl(ctx->kvmfd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ctx->run_size < (int)sizeof(struct kvm_run))
		goto fail;
	do {
		ctx->vmfd = ioctl(ctx->kvmfd, KVM_CREATE_VM, 0);
	} while (ctx->vmfd < 0 && errno == EINTR);
	if (ctx->vmfd < 0)
		goto fail;
	if (ioctl(ctx->vmfd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 ||
	    ioctl(ctx->vmfd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		goto fail;
	/* Report the instruction bytes when KVM cannot emulate one. */
	if (ioctl(ctx->vmfd, KVM_CHECK_EXTENSION,
	    KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
			.args = { 1 },
		};

		(void)ioctl(ctx->vmfd, KVM_ENABLE_CAP, &cap);
	}

	/* Supported CPUID, grown until KVM stops saying E2BIG. */
	for (r = 128; ; r *= 2) {
		free(ctx->cpuid);
		ctx->cpuid = calloc(1, sizeof(*ctx->cpuid) +
		    r * sizeof(struct kvm_cpuid_entry2));
		if (ctx->cpuid == NULL)
			goto fail;
		ctx->cpuid->nent = r;
		if (ioctl(ctx->kvmfd, KVM_GET_SUPPORTED_CPUID, ctx->cpuid) == 0)
			break;
		if (errno != E2BIG || r >= 4096)
			goto fail;
	}
	ctx->topo = (struct vm_topology){ 1, 1, 1, 1 };
	return (ctx);
fail:
	saved = errno;
	vm_destroy(ctx);
	errno = saved;
	return (NULL);
}

int
vm_create_irqchip(struct vmctx *ctx)
{
	struct kvm_pit_config pit;
	int error;

	if (kvm_ioctl(ctx->vmfd, KVM_CREATE_IRQCHIP, 0) < 0)
		return (-errno);
	error = vm_setup_irq_routing(ctx);
	if (error != 0)
		return (error);
	memset(&pit, 0, sizeof(pit));
	pit.flags = KVM_PIT_SPEAKER_DUMMY;
	if (kvm_ioctl(ctx->vmfd, KVM_CREATE_PIT2, &pit) < 0)
		return (-errno);
	return (0);
}

void
vm_destroy(struct vmctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->res != NULL)
		(void)munmap(ctx->res, ctx->reslen);
	if (ctx->memfd >= 0)
		close(ctx->memfd);
	if (ctx->vmfd >= 0)
		close(ctx->vmfd);
	if (ctx->kvmfd >= 0)
		close(ctx->kvmfd);
	free(ctx->cpuid);
	free(ctx);
}

const char *
vm_get_name(const struct vmctx *ctx)
{
	return (ctx->name);
}

int
vm_max_vcpus(struct vmctx *ctx)
{
	int n;

	n = ioctl(ctx->vmfd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(ctx->vmfd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return (n > 0 ? n : 1);
}

static int
vm_map_slot(struct vmctx *ctx, int slot, uint64_t gpa, uint64_t len,
    uint8_t *hva)
{
	struct kvm_userspace_memory_region r;

	memset(&r, 0, sizeof(r));
	r.slot = slot;
	r.guest_phys_addr = gpa;
	r.memory_size = len;
	r.userspace_addr = (uintptr_t)hva;
	if (kvm_ioctl(ctx->vmfd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return (-errno);
	return (gmem_add(&ctx->gmem, gpa, len, hva));
}

/*
 * Guest RAM lies in an address-space reservation of its own,
 *
 *	guard | RAM below 4 GiB | guard | RAM above 4 GiB | guard
 *
 * each guard at least VM_RAM_GUARD bytes of PROT_NONE: a host access that
 * runs off either end of a RAM region (a length check gone wrong in a
 * device model) faults instead of reaching the monitor's own memory or
 * the other region.  The guards are huge-page sized and each region
 * starts on a huge-page boundary, so transparent huge pages can back it.
 */
#define VM_RAM_GUARD	(2ULL << 20)

/* Map [off, off+len) of the memfd at the reserved address at. */
static int
vm_map_ram(struct vmctx *ctx, uint8_t *at, uint64_t off, uint64_t len,
    bool wired, bool in_core)
{
	void *p;

	p = mmap(at, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_NORESERVE | MAP_FIXED, ctx->memfd, (off_t)off);
	if (p == MAP_FAILED)
		return (-errno);
	if (!in_core)
		(void)madvise(p, len, MADV_DONTDUMP);
	(void)madvise(p, len, MADV_HUGEPAGE);
	if (wired && mlock(p, len) < 0)
		return (-errno);
	return (0);
}

int
vm_setup_memory(struct vmctx *ctx, uint64_t memsize, bool wired, bool in_core)
{
	uint64_t lowspan, highspan, len;
	uint8_t *p, *base;
	int error;

	if (memsize == 0 || (memsize & 0xfff) != 0 || ctx->res != NULL)
		return (-EINVAL);
	/* Far beyond any host's RAM; keeps the sums below from overflowing. */
	if (memsize > (1ULL << 52))
		return (-ENOMEM);
	ctx->lowmem = MIN(memsize, LOWMEM_LIMIT);
	ctx->highmem = memsize - ctx->lowmem;
	lowspan = roundup2(ctx->lowmem, VM_RAM_GUARD);
	highspan = roundup2(ctx->highmem, VM_RAM_GUARD);
	len = VM_RAM_GUARD + lowspan + VM_RAM_GUARD +
	    (highspan > 0 ? highspan + VM_RAM_GUARD : 0);

	ctx->memfd = memfd_create("khyve-guest-ram", MFD_CLOEXEC);
	if (ctx->memfd < 0)
		return (-errno);
	if (ftruncate(ctx->memfd, (off_t)memsize) < 0)
		return (-errno);
	/* One guard more than needed, to start on a huge-page boundary. */
	p = mmap(NULL, len + VM_RAM_GUARD, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return (-errno);
	base = (uint8_t *)roundup2((uintptr_t)p, VM_RAM_GUARD);
	if (base > p)
		(void)munmap(p, (size_t)(base - p));
	(void)munmap(base + len, (size_t)(p + VM_RAM_GUARD - base));
	ctx->res = base;
	ctx->reslen = len;
	ctx->memsize = memsize;

	ctx->mem = base + VM_RAM_GUARD;
	error = vm_map_ram(ctx, ctx->mem, 0, ctx->lowmem, wired, in_core);
	if (error == 0 && ctx->highmem > 0) {
		ctx->highmem_hva = ctx->mem + lowspan + VM_RAM_GUARD;
		error = vm_map_ram(ctx, ctx->highmem_hva, ctx->lowmem,
		    ctx->highmem, wired, in_core);
	}
	if (error != 0)
		return (error);

	gmem_init(&ctx->gmem);
	error = vm_map_slot(ctx, 0, 0, ctx->lowmem, ctx->mem);
	if (error == 0 && ctx->highmem > 0)
		error = vm_map_slot(ctx, 1, HIGHMEM_BASE, ctx->highmem,
		    ctx->highmem_hva);
	return (error);
}

struct gmem *
vm_gmem(struct vmctx *ctx)
{
	return (&ctx->gmem);
}

uint64_t
vm_get_lowmem_size(const struct vmctx *ctx)
{
	return (ctx->lowmem);
}

uint64_t
vm_get_highmem_size(const struct vmctx *ctx)
{
	return (ctx->highmem);
}

void *
vm_guest_base(const struct vmctx *ctx, uint64_t *len)
{
	if (len != NULL)
		*len = ctx->lowmem;
	return (ctx->mem);
}

int
vm_set_topology(struct vmctx *ctx, const struct vm_topology *topo)
{
	if (topo->sockets == 0 || topo->cores == 0 || topo->threads == 0 ||
	    (unsigned)topo->sockets * topo->cores * topo->threads != topo->ncpus)
		return (-EINVAL);
	ctx->topo = *topo;
	return (0);
}

int
vm_enable_msr_exits(struct vmctx *ctx)
{
	struct kvm_enable_cap cap;

	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
	cap.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER;
	return (kvm_ioctl(ctx->vmfd, KVM_ENABLE_CAP, &cap));
}

int
vm_filter_msr_write(struct vmctx *ctx, const uint32_t *msrs, int n)
{
	static uint8_t deny;		/* one MSR per range, bit clear: denied */
	struct kvm_msr_filter f;
	int i;

	if (n < 1 || n > VM_MSR_FILTER_MAX)
		return (-EINVAL);
	memset(&f, 0, sizeof(f));
	f.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	for (i = 0; i < n; i++) {
		f.ranges[i].flags = KVM_MSR_FILTER_WRITE;
		f.ranges[i].nmsrs = 1;
		f.ranges[i].base = msrs[i];
		f.ranges[i].bitmap = &deny;
	}
	return (kvm_ioctl(ctx->vmfd, KVM_X86_SET_MSR_FILTER, &f));
}

struct vcpu *
vm_vcpu_open(struct vmctx *ctx, int id)
{
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;
	size_t sz;
	int saved;

	vcpu = calloc(1, sizeof(*vcpu));
	if (vcpu == NULL)
		return (NULL);
	vcpu->ctx = ctx;
	vcpu->id = id;
	vcpu->fd = ioctl(ctx->vmfd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		goto fail;
	vcpu->run = mmap(NULL, ctx->run_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		goto fail;
	}

	/* Room for the topology subleaves a host may leave out. */
	sz = sizeof(*cpuid) + (ctx->cpuid->nent + 4) * sizeof(cpuid->entries[0]);
	cpuid = malloc(sz);
	if (cpuid == NULL)
		goto fail;
	memcpy(cpuid, ctx->cpuid, sizeof(*cpuid) +
	    ctx->cpuid->nent * sizeof(cpuid->entries[0]));
	if (cpuid_add_topology_subleaves(cpuid->entries, &cpuid->nent,
	    ctx->cpuid->nent + 4) != 0) {
		free(cpuid);
		errno = ENOSPC;
		goto fail;
	}
	cpuid_apply_topology(cpuid->entries, cpuid->nent, id, &ctx->topo);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		free(cpuid);
		goto fail;
	}
	free(cpuid);
	return (vcpu);
fail:
	saved = errno;
	if (vcpu->run != NULL)
		munmap(vcpu->run, ctx->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
	errno = saved;
	return (NULL);
}

int
vcpu_id(const struct vcpu *vcpu)
{
	return (vcpu->id);
}

struct vmctx *
vcpu_ctx(const struct vcpu *vcpu)
{
	return (vcpu->ctx);
}

struct kvm_run *
vcpu_run_area(const struct vcpu *vcpu)
{
	return (vcpu->run);
}

int
vm_run(struct vcpu *vcpu)
{
	return (ioctl(vcpu->fd, KVM_RUN, 0) < 0 ? -errno : 0);
}

void
vcpu_set_immediate_exit(struct vcpu *vcpu, bool on)
{
	__atomic_store_n(&vcpu->run->immediate_exit, on ? 1 : 0,
	    __ATOMIC_SEQ_CST);
}

static __u64 *
gpr_slot(struct kvm_regs *r, enum vm_reg_name reg)
{
	switch (reg) {
	case VM_REG_GUEST_RAX: return (&r->rax);
	case VM_REG_GUEST_RBX: return (&r->rbx);
	case VM_REG_GUEST_RCX: return (&r->rcx);
	case VM_REG_GUEST_RDX: return (&r->rdx);
	case VM_REG_GUEST_RSI: return (&r->rsi);
	case VM_REG_GUEST_RDI: return (&r->rdi);
	case VM_REG_GUEST_RBP: return (&r->rbp);
	case VM_REG_GUEST_RSP: return (&r->rsp);
	case VM_REG_GUEST_R8: return (&r->r8);
	case VM_REG_GUEST_R9: return (&r->r9);
	case VM_REG_GUEST_R10: return (&r->r10);
	case VM_REG_GUEST_R11: return (&r->r11);
	case VM_REG_GUEST_R12: return (&r->r12);
	case VM_REG_GUEST_R13: return (&r->r13);
	case VM_REG_GUEST_R14: return (&r->r14);
	case VM_REG_GUEST_R15: return (&r->r15);
	case VM_REG_GUEST_RIP: return (&r->rip);
	case VM_REG_GUEST_RFLAGS: return (&r->rflags);
	default: return (NULL);
	}
}

static struct kvm_segment *
seg_slot(struct kvm_sregs *s, enum vm_reg_name reg)
{
	switch (reg) {
	case VM_REG_GUEST_CS: return (&s->cs);
	case VM_REG_GUEST_SS: return (&s->ss);
	case VM_REG_GUEST_DS: return (&s->ds);
	case VM_REG_GUEST_ES: return (&s->es);
	case VM_REG_GUEST_FS: return (&s->fs);
	case VM_REG_GUEST_GS: return (&s->gs);
	default: return (NULL);
	}
}

static __u64 *
sreg_slot(struct kvm_sregs *s, enum vm_reg_name reg)
{
	switch (reg) {
	case VM_REG_GUEST_CR0: return (&s->cr0);
	case VM_REG_GUEST_CR2: return (&s->cr2);
	case VM_REG_GUEST_CR3: return (&s->cr3);
	case VM_REG_GUEST_CR4: return (&s->cr4);
	case VM_REG_GUEST_EFER: return (&s->efer);
	case VM_REG_GUEST_FS_BASE: return (&s->fs.base);
	case VM_REG_GUEST_GS_BASE: return (&s->gs.base);
	default: return (NULL);
	}
}

int
vm_get_register(struct vcpu *vcpu, enum vm_reg_name reg, uint64_t *val)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_segment *seg;
	__u64 *p;
	int error;

	if (gpr_slot(&regs, reg) != NULL) {
		error = kvm_ioctl(vcpu->fd, KVM_GET_REGS, &regs);
		if (error < 0)
			return (error);
		*val = *gpr_slot(&regs, reg);
		return (0);
	}
	error = kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs);
	if (error < 0)
		return (error);
	if ((p = sreg_slot(&sregs, reg)) != NULL)
		*val = *p;
	else if ((seg = seg_slot(&sregs, reg)) != NULL)
		*val = seg->selector;
	else if (reg == VM_REG_GUEST_CPL)
		*val = sregs.ss.dpl;
	else
		return (-EINVAL);
	return (0);
}

int
vm_set_register(struct vcpu *vcpu, enum vm_reg_name reg, uint64_t val)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	__u64 *p;
	int error;

	if (gpr_slot(&regs, reg) != NULL) {
		error = kvm_ioctl(vcpu->fd, KVM_GET_REGS, &regs);
		if (error < 0)
			return (error);
		*gpr_slot(&regs, reg) = val;
		return (kvm_ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0);
	}
	error = kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs);
	if (error < 0)
		return (error);
	p = sreg_slot(&sregs, reg);
	if (p == NULL)
		return (-EINVAL);
	*p = val;
	return (kvm_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 ? -errno : 0);
}

int
vm_set_x2apic(struct vcpu *vcpu)
{
	uint64_t base;
	int error;

	error = vm_get_msr(vcpu, 0x1b, &base);		/* IA32_APIC_BASE */
	if (error == 0)
		error = vm_set_msr(vcpu, 0x1b, base | (1ULL << 11) | (1ULL << 10));
	return (error);
}

int
vm_inject_exception(struct vcpu *vcpu, int vector, bool errcode_valid,
    uint32_t errcode)
{
	struct kvm_vcpu_events ev;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev);
	if (error < 0)
		return (error);
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = errcode_valid;
	ev.exception.error_code = errcode;
	ev.flags = 0;
	return (kvm_ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0);
}

int
vm_get_idtr(struct vcpu *vcpu, uint64_t *base, uint16_t *limit)
{
	struct kvm_sregs s;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &s);
	if (error < 0)
		return (error);
	*base = s.idt.base;
	*limit = s.idt.limit;
	return (0);
}

int
vm_syscall_enter(struct vcpu *vcpu, uint64_t star, uint64_t rip, uint64_t rsp,
    uint64_t rflags)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint16_t sel = (star >> 32) & 0xfffc;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_REGS, &r);
	if (error == 0)
		error = kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &s);
	if (error < 0)
		return (error);
	s.cs = (struct kvm_segment){ .base = 0, .limit = 0xffffffff,
	    .selector = sel, .type = 0xb, .present = 1, .dpl = 0, .db = 0,
	    .s = 1, .l = 1, .g = 1 };
	s.ss = (struct kvm_segment){ .base = 0, .limit = 0xffffffff,
	    .selector = sel + 8, .type = 0x3, .present = 1, .dpl = 0, .db = 1,
	    .s = 1, .l = 0, .g = 1 };
	r.rip = rip;
	r.rsp = rsp;
	r.rflags = rflags | 0x2;
	error = kvm_ioctl(vcpu->fd, KVM_SET_SREGS, &s);
	if (error == 0)
		error = kvm_ioctl(vcpu->fd, KVM_SET_REGS, &r);
	return (error);
}

int
vm_get_fpu_status(struct vcpu *vcpu, uint16_t *fsw)
{
	struct kvm_fpu fpu;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_FPU, &fpu);
	if (error == 0)
		*fsw = fpu.fsw;
	return (error < 0 ? error : 0);
}

/* One MSR through KVM_GET_MSRS / KVM_SET_MSRS (req). */
static int
vcpu_msr_io(struct vcpu *vcpu, unsigned long req, uint32_t index,
    uint64_t *val)
{
	/* The header and its one entry (C11 allows no struct around it). */
	union {
		struct kvm_msrs hdr;
		uint8_t	raw[sizeof(struct kvm_msrs) +
		    sizeof(struct kvm_msr_entry)];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.hdr.entries[0].index = index;
	m.hdr.entries[0].data = *val;
	r = kvm_ioctl(vcpu->fd, req, &m);
	if (r != 1)
		return (r < 0 ? r : -EINVAL);
	*val = m.hdr.entries[0].data;
	return (0);
}

int
vm_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *val)
{
	*val = 0;
	return (vcpu_msr_io(vcpu, KVM_GET_MSRS, index, val));
}

int
vm_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t val)
{
	return (vcpu_msr_io(vcpu, KVM_SET_MSRS, index, &val));
}

int
vm_get_tsc_khz(struct vcpu *vcpu)
{
	int r = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	return (r < 0 ? -errno : r);
}

int
vm_get_mp_state(struct vcpu *vcpu, uint32_t *state)
{
	struct kvm_mp_state mp;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp);
	if (error == 0)
		*state = mp.mp_state;
	return (error < 0 ? error : 0);
}

int
vm_wake_pending(struct vcpu *vcpu, bool *pending)
{
	struct kvm_vcpu_events ev;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev);
	if (error < 0)
		return (error);
	/*
	 * NMI and SMI end a HLT whatever RFLAGS.IF says (Intel SDM vol. 3A
	 * §6.7, §34.2); an event being injected is delivered at the next
	 * entry.  A masked NMI counts too: rather not decide than be wrong.
	 */
	*pending = ev.nmi.pending || ev.nmi.injected ||
	    ev.exception.injected || ev.exception.pending ||
	    ev.interrupt.injected ||
	    ((ev.flags & KVM_VCPUEVENT_VALID_SMM) && ev.smi.pending);
	return (0);
}

static void
dump_seg(FILE *fp, const char *name, const struct kvm_segment *s)
{
	fprintf(fp, "  %-4s sel=%04x base=%016llx limit=%08x type=%x dpl=%u "
	    "p=%u db=%u l=%u g=%u\r\n", name, s->selector,
	    (unsigned long long)s->base, s->limit, s->type, s->dpl, s->present,
	    s->db, s->l, s->g);
}

/*
 * KVM's own per-vCPU counters (exits, injected interrupts, emulated
 * instructions, ...) from its binary statistics file
 * (Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD): every cumulative
 * counter that is not zero, on one line after prefix.
 */
void
vm_print_kvm_stats(struct vcpu *vcpu, FILE *fp, const char *prefix)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	char *descs = NULL;
	size_t dsize, i;
	uint64_t val;
	int fd, n = 0;

	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return;			/* Linux < 5.14: nothing to print */
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.num_desc == 0 || h.num_desc > 4096 || h.name_size > 4096)
		goto out;
	dsize = sizeof(*d) + h.name_size;
	descs = malloc(dsize * h.num_desc);
	if (descs == NULL || pread(fd, descs, dsize * h.num_desc,
	    h.desc_offset) != (ssize_t)(dsize * h.num_desc))
		goto out;
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsize);
		d->name[h.name_size - 1] = '\0';
		if ((d->flags & KVM_STATS_TYPE_MASK) !=
		    KVM_STATS_TYPE_CUMULATIVE || d->size != 1 ||
		    (d->flags & KVM_STATS_UNIT_MASK) != KVM_STATS_UNIT_NONE)
			continue;
		if (pread(fd, &val, sizeof(val), h.data_offset + d->offset) !=
		    (ssize_t)sizeof(val) || val == 0)
			continue;
		fprintf(fp, "%s %s=%" PRIu64, n++ == 0 ? prefix : "",
		    d->name, val);
	}
	if (n > 0)
		fprintf(fp, "\r\n");
out:
	free(descs);
	close(fd);
}

/*
 * The words at the top of the guest stack, for a post-mortem backtrace (a
 * symbol map of the guest turns the return addresses among them into one).
 */
static void
dump_stack(struct vcpu *vcpu, uint64_t rsp, FILE *fp)
{
	uint64_t w[DUMP_STACK_WORDS];
	size_t i;

	if (vm_copyin_gva(vcpu, rsp, w, sizeof(w)) != 0) {
		fprintf(fp, "  stack: not mapped at rsp\r\n");
		return;
	}
	for (i = 0; i < DUMP_STACK_WORDS; i++)
		fprintf(fp, "%s%016llx%s", i % 4 == 0 ? "  stack: " : " ",
		    (unsigned long long)w[i], i % 4 == 3 ? "\r\n" : "");
}

static void
dump_vcpu(struct vcpu *vcpu, FILE *fp)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (kvm_ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(fp, "vcpu %d: cannot read registers\r\n", vcpu->id);
		return;
	}
	fprintf(fp, "vcpu %d registers:\r\n", vcpu->id);
	fprintf(fp, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\r\n",
	    r.rax, r.rbx, r.rcx, r.rdx);
	fprintf(fp, "  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\r\n",
	    r.rsi, r.rdi, r.rbp, r.rsp);
	fprintf(fp, "  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\r\n",
	    r.r8, r.r9, r.r10, r.r11);
	fprintf(fp, "  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\r\n",
	    r.r12, r.r13, r.r14, r.r15);
	fprintf(fp, "  rip=%016llx rflags=%016llx\r\n", r.rip, r.rflags);
	fprintf(fp, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx "
	    "efer=%llx\r\n", s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	dump_seg(fp, "cs", &s.cs);
	dump_seg(fp, "ss", &s.ss);
	dump_seg(fp, "ds", &s.ds);
	dump_seg(fp, "tr", &s.tr);
	fprintf(fp, "  gdt base=%016llx limit=%04x idt base=%016llx "
	    "limit=%04x\r\n", s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	dump_stack(vcpu, r.rsp, fp);
	vm_print_kvm_stats(vcpu, fp, "  kvm:");
}

/* One write, so that the dumps of several vCPUs do not interleave. */
void
vm_dump_vcpu(struct vcpu *vcpu, FILE *fp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	mem = open_memstream(&buf, &len);
	if (mem == NULL) {
		dump_vcpu(vcpu, fp);
		return;
	}
	dump_vcpu(vcpu, mem);
	if (fclose(mem) == 0)
		fwrite(buf, 1, len, fp);
	free(buf);
}

/*
 * Long-mode page walk (Intel SDM vol. 3A §4.5): PML5 (with CR4.LA57),
 * PML4, PDPT (1 GiB pages), PD (2 MiB pages), PT.  With user, every level
 * must allow user-mode access (U/S = 1, §4.6.1), as for an access made at
 * CPL3.
 */
static int
gla2gpa_walk(struct vmctx *ctx, uint64_t cr3, bool la57, uint64_t gva,
    bool user, uint64_t *gpa)
{
	const uint64_t addr_mask = 0x000ffffffffff000ULL;
	uint64_t table = cr3 & addr_mask, pte;
	int level, shift;

	for (level = la57 ? 5 : 4; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		if (gmem_read64(&ctx->gmem, table + ((gva >> shift) & 0x1ff) * 8,
		    &pte) != 0)
			return (-EFAULT);
		if ((pte & 1) == 0 || (user && (pte & 4) == 0))
			return (-EFAULT);
		if ((level == 3 || level == 2) && (pte & (1u << 7))) {
			*gpa = (pte & addr_mask & ~((1ULL << shift) - 1)) |
			    (gva & ((1ULL << shift) - 1));
			return (0);
		}
		table = pte & addr_mask;
	}
	*gpa = table | (gva & 0xfff);
	return (0);
}

static int
gla2gpa(struct vcpu *vcpu, uint64_t gva, bool user, uint64_t *gpa)
{
	struct kvm_sregs s;
	bool la57;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &s);
	if (error < 0)
		return (error);
	if ((s.cr0 & (1u << 31)) == 0) {		/* paging off */
		*gpa = gva;
		return (user ? -EFAULT : 0);
	}
	if ((s.efer & (1u << 10)) == 0)			/* not LMA */
		return (-ENOTSUP);
	la57 = (s.cr4 & (1u << 12)) != 0;
	/* User space is the lower canonical half (§3.3.7.1). */
	if (user && (gva >> (la57 ? 56 : 47)) != 0)
		return (-EFAULT);
	return (gla2gpa_walk(vcpu->ctx, s.cr3, la57, gva, user, gpa));
}

int
vm_gla2gpa(struct vcpu *vcpu, uint64_t gva, uint64_t *gpa)
{
	return (gla2gpa(vcpu, gva, false, gpa));
}

static int
vm_copy_gva(struct vcpu *vcpu, uint64_t gva, void *buf, size_t len,
    bool out, bool user)
{
	uint64_t gpa;
	size_t n;
	int error;

	while (len > 0) {
		error = gla2gpa(vcpu, gva, user, &gpa);
		if (error != 0)
			return (error);
		n = MIN(len, 4096 - (gva & 0xfff));
		error = out ? gmem_write(&vcpu->ctx->gmem, gpa, buf, n) :
		    gmem_read(&vcpu->ctx->gmem, gpa, buf, n);
		if (error != 0)
			return (error);
		gva += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return (0);
}

int
vm_copyin_gva(struct vcpu *vcpu, uint64_t gva, void *buf, size_t len)
{
	return (vm_copy_gva(vcpu, gva, buf, len, false, false));
}

int
vm_copyin_gva_user(struct vcpu *vcpu, uint64_t gva, void *buf, size_t len)
{
	return (vm_copy_gva(vcpu, gva, buf, len, false, true));
}

int
vm_copyout_gva(struct vcpu *vcpu, uint64_t gva, const void *buf, size_t len)
{
	return (vm_copy_gva(vcpu, gva, (void *)(uintptr_t)buf, len, true,
	    false));
}

static void
boot_seg_to_kvm(const struct boot_seg *b, struct kvm_segment *k)
{
	memset(k, 0, sizeof(*k));
	k->base = b->base;
	k->limit = b->limit;
	k->selector = b->selector;
	k->type = b->type;
	k->s = b->s;
	k->dpl = b->dpl;
	k->present = b->present;
	k->db = b->db;
	k->l = b->l;
	k->g = b->g;
	k->unusable = b->unusable;
}

int
vm_set_boot_state(struct vcpu *vcpu, const struct boot_cpu_state *bs)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	int error;

	error = kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &s);
	if (error < 0)
		return (error);
	boot_seg_to_kvm(&bs->cs, &s.cs);
	boot_seg_to_kvm(&bs->ds, &s.ds);
	boot_seg_to_kvm(&bs->es, &s.es);
	boot_seg_to_kvm(&bs->fs, &s.fs);
	boot_seg_to_kvm(&bs->gs, &s.gs);
	boot_seg_to_kvm(&bs->ss, &s.ss);
	boot_seg_to_kvm(&bs->tr, &s.tr);
	boot_seg_to_kvm(&bs->ldt, &s.ldt);
	s.gdt.base = bs->gdt_base;
	s.gdt.limit = bs->gdt_limit;
	s.idt.base = bs->idt_base;
	s.idt.limit = bs->idt_limit;
	s.cr0 = bs->cr0;
	s.cr3 = bs->cr3;
	s.cr4 = bs->cr4;
	s.efer = bs->efer;
	error = kvm_ioctl(vcpu->fd, KVM_SET_SREGS, &s);
	if (error < 0)
		return (error);
	memset(&r, 0, sizeof(r));
	r.rip = bs->rip;
	r.rsp = bs->rsp;
	r.rbx = bs->rbx;
	r.rsi = bs->rsi;
	r.rflags = bs->rflags | BOOT_RFLAGS_FIXED;
	return (kvm_ioctl(vcpu->fd, KVM_SET_REGS, &r));
}
