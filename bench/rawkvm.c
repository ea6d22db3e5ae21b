/*
 * rawkvm: the least a monitor can do for one kind of exit, as the
 * baseline for bench/run.sh (docs/performance.md).
 *
 * One VM, one vCPU, no irqchip, no devices, 128 MiB of guest RAM (or -m
 * MiB) from an anonymous mapping.  The vCPU starts in 64-bit mode with
 * identity-mapped page tables for the low 4 GiB (2 MiB pages, the top GiB
 * uncached, as the test-guest kit maps it) and runs one of four loops,
 * byte for byte the loops of tests/guest/bench_exit.c (and, for mmio16,
 * of tests/guest/bench_blk.c, which reads a virtio register with it):
 *
 *	pio	1: out %al,(%dx); dec %rcx; jnz 1b	(ee 48 ff c9 75 fa)
 *	mmio	1: mov (%rsi),%eax; dec %rcx; jnz 1b	(8b 06 48 ff c9 75 f9)
 *	mmio16	1: movzwl (%rsi),%eax; dec %rcx; jnz 1b
 *						(0f b7 06 48 ff c9 75 f8)
 *	loop	1: dec %rcx; jnz 1b			(48 ff c9 75 fb)
 *
 * with %dx = 0x3ff, %rsi = 0xd0000000 (no memory slot: KVM_EXIT_MMIO),
 * each followed by "out %al,$0x80; hlt" (e6 80 f4): the port 0x80 write
 * ends the run (an in-kernel irqchip would keep HLT inside KVM).  Port
 * writes are answered with nothing, MMIO reads with all-ones, and the
 * clock runs from the first exit to the port 0x80 exit, so one-time costs
 * (the first KVM_RUN) are left out.  With -i the VM gets KVM's in-kernel
 * irqchip (khyve's and QEMU's VMs have one), to see what that costs per
 * exit; with -v it says "rawkvm: first KVM_RUN" on stderr just before the
 * first KVM_RUN (for the start-up benchmark).  It prints
 *
 *	RAW name=pio iters=N exits=E ns_per_iter=X.Y wall_ms=W
 *	    maxrss_kb=K rss_kb=R priv_kb=P
 *
 * maxrss_kb is the peak RSS (VmHWM: guest pages touched included; not
 * getrusage(), whose ru_maxrss also counts the process image before exec,
 * e.g. nice(1) with its locale), rss_kb the Rss of every mapping in
 * /proc/self/smaps except the guest RAM, and priv_kb their Private_Clean +
 * Private_Dirty, read at the end.
 *
 * The long-mode entry state follows Intel SDM vol. 3A §10.8.5 (what the
 * processor requires of CR0, CR4, EFER and CS.L) and the KVM API
 * (Documentation/virt/kvm/api.rst: KVM_SET_SREGS, KVM_EXIT_IO, KVM_EXIT_MMIO).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MiB		(1024ULL * 1024)
#define PML4_GPA	0x1000ULL
#define PDPT_GPA	0x2000ULL
#define PD_GPA		0x3000ULL	/* four PDs: 0x3000-0x6fff */
#define CODE_GPA	0x100000ULL	/* where the kit links guests */
#define SCRATCH_PORT	0x3ff
#define END_PORT	0x80		/* the write that ends a run */
#define MMIO_HOLE	0xd0000000ULL
#define TSS_GPA		0xfffbd000ULL	/* VMX without unrestricted guest */

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_PS		(1ULL << 7)

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

struct mode {
	const char *name;
	const uint8_t *code;
	size_t len;
	uint32_t exit_reason;		/* the exit each iteration makes, or 0 */
};

static const uint8_t code_pio[] = { 0xee, 0x48, 0xff, 0xc9, 0x75, 0xfa,
    0xe6, 0x80, 0xf4 };
static const uint8_t code_mmio[] = { 0x8b, 0x06, 0x48, 0xff, 0xc9, 0x75, 0xf9,
    0xe6, 0x80, 0xf4 };
static const uint8_t code_mmio16[] = { 0x0f, 0xb7, 0x06, 0x48, 0xff, 0xc9,
    0x75, 0xf8, 0xe6, 0x80, 0xf4 };
static const uint8_t code_loop[] = { 0x48, 0xff, 0xc9, 0x75, 0xfb,
    0xe6, 0x80, 0xf4 };

static const struct mode modes[] = {
	{ "pio", code_pio, sizeof(code_pio), KVM_EXIT_IO },
	{ "mmio", code_mmio, sizeof(code_mmio), KVM_EXIT_MMIO },
	{ "mmio16", code_mmio16, sizeof(code_mmio16), KVM_EXIT_MMIO },
	{ "loop", code_loop, sizeof(code_loop), 0 },
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	fprintf(stderr, "rawkvm: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	exit(2);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

/* Identity map 0-4 GiB with 2 MiB pages; 3-4 GiB uncached. */
static void
build_page_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	uint64_t i, flags = PTE_P | PTE_W | PTE_U;

	pml4[0] = PDPT_GPA | flags;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PD_GPA + i * 0x1000) | flags;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | flags | PTE_PS |
		    (i >= 3 * 512 ? PTE_PCD | PTE_PWT : 0);
}

static void
set_long_mode(int vcpufd)
{
	struct kvm_sregs sregs;
	struct kvm_segment seg;

	if (ioctl(vcpufd, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	memset(&seg, 0, sizeof(seg));
	seg.limit = 0xffffffff;
	seg.present = 1;
	seg.s = 1;
	seg.g = 1;
	seg.selector = 0x10;
	seg.type = 3;			/* data, read/write, accessed */
	seg.db = 1;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	seg.selector = 0x08;
	seg.type = 11;			/* code, execute/read, accessed */
	seg.db = 0;
	seg.l = 1;
	sregs.cs = seg;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpufd, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
}

/* Give the vCPU the host-supported CPUID (hardware KVM wants one). */
static void
set_cpuid(int kvmfd, int vcpufd)
{
	struct kvm_cpuid2 *c;
	size_t n;

	/* KVM_GET_SUPPORTED_CPUID fails with E2BIG until nent is enough. */
	for (n = 64; ; n *= 2) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (c == NULL)
			die("calloc");
		c->nent = (uint32_t)n;
		if (ioctl(kvmfd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		free(c);
		if (errno != E2BIG || n >= 4096)
			die("KVM_GET_SUPPORTED_CPUID");
	}
	if (ioctl(vcpufd, KVM_SET_CPUID2, c) < 0)
		die("KVM_SET_CPUID2");
	free(c);
}

/* The peak RSS of this process image (kB), or -1. */
static long
hwm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return (kb);
}

/*
 * Rss and Private_Clean + Private_Dirty (kB) of every mapping but the one
 * at guest, from /proc/self/smaps; -1 when it cannot be read.
 */
static void
rss_kb_except(const void *guest, long *rss, long *priv)
{
	char line[512];
	unsigned long lo, hi;
	long kb;
	int skip = 0;
	FILE *f;

	*rss = *priv = -1;
	f = fopen("/proc/self/smaps", "r");
	if (f == NULL)
		return;
	*rss = *priv = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)	/* a mapping */
			skip = lo == (unsigned long)guest;
		else if (skip)
			continue;
		else if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			*rss += kb;
		else if (sscanf(line, "Private_Clean: %ld kB", &kb) == 1 ||
		    sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			*priv += kb;
	}
	fclose(f);
}

static void
usage(void)
{
	fprintf(stderr, "usage: rawkvm [-iv] [-m MiB] pio|mmio|mmio16|loop ITERATIONS\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	const struct mode *md = NULL;
	struct kvm_userspace_memory_region region;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint64_t iters, exits = 0, memsize = 128 * MiB;
	long rss, priv, hwm;
	double t_start, t0 = 0, t1;
	int kvmfd, vmfd, vcpufd, opt, runsz, verbose = 0, irqchip = 0;
	uint8_t *mem;
	size_t i;

	while ((opt = getopt(argc, argv, "im:v")) != -1) {
		if (opt == 'i')
			irqchip = 1;
		else if (opt == 'm')
			memsize = strtoull(optarg, NULL, 0) * MiB;
		else if (opt == 'v')
			verbose = 1;
		else
			usage();
	}
	if (argc - optind != 2 || memsize < 8 * MiB)
		usage();
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[optind], modes[i].name) == 0)
			md = &modes[i];
	iters = strtoull(argv[optind + 1], NULL, 0);
	if (md == NULL || iters < 2)
		usage();

	t_start = now_ns();
	kvmfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvmfd < 0)
		die("/dev/kvm");
	vmfd = ioctl(kvmfd, KVM_CREATE_VM, 0);
	if (vmfd < 0)
		die("KVM_CREATE_VM");
	(void)ioctl(vmfd, KVM_SET_TSS_ADDR, (unsigned long)TSS_GPA);
	if (irqchip && ioctl(vmfd, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	mem = mmap(NULL, memsize, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memset(&region, 0, sizeof(region));
	region.guest_phys_addr = 0;
	region.memory_size = memsize;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	build_page_tables(mem);
	memcpy(mem + CODE_GPA, md->code, md->len);

	vcpufd = ioctl(vmfd, KVM_CREATE_VCPU, 0);
	if (vcpufd < 0)
		die("KVM_CREATE_VCPU");
	runsz = ioctl(kvmfd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (runsz <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)runsz, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vcpufd, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	set_cpuid(kvmfd, vcpufd);
	set_long_mode(vcpufd);
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 0x2;
	regs.rax = 0x5a;
	regs.rdx = SCRATCH_PORT;
	regs.rsi = MMIO_HOLE;
	regs.rcx = iters;
	if (ioctl(vcpufd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	/* For bench/runstat -e: the moment khyve's boot.timer also marks. */
	if (verbose)
		fprintf(stderr, "rawkvm: first KVM_RUN\n");
	/* The loop mode makes no exit before the end: time it from KVM_RUN. */
	if (md->exit_reason == 0)
		t0 = now_ns();
	for (;;) {
		if (ioctl(vcpufd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == END_PORT)
			break;
		if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		} else if (run->exit_reason != KVM_EXIT_IO) {
			errno = EPROTO;
			die("unexpected exit reason %u", run->exit_reason);
		}
		if (exits++ == 0)
			t0 = now_ns();
	}
	t1 = now_ns();
	if (md->exit_reason != 0 && exits != iters) {
		errno = EPROTO;
		die("%" PRIu64 " exits for %" PRIu64 " iterations", exits, iters);
	}
	hwm = hwm_kb();
	rss_kb_except(mem, &rss, &priv);
	/* From the first exit: iters - 1 round trips; from KVM_RUN: iters. */
	printf("RAW name=%s iters=%" PRIu64 " exits=%" PRIu64
	    " ns_per_iter=%.1f wall_ms=%.3f maxrss_kb=%ld rss_kb=%ld"
	    " priv_kb=%ld\n", md->name, iters, exits, (t1 - t0) /
	    (double)(md->exit_reason == 0 ? iters : iters - 1),
	    (t1 - t_start) / 1e6, hwm, rss, priv);
	return (0);
}
