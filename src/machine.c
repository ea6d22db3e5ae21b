/*
 * machine.c: build the VM from the config tree and wire the platform
 * (bhyve's bhyverun.c main() body and its *_init calls).
 *
 * This is the one place that knows which chip sits at which port and
 * which interrupt line: device models only see their devctx.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "backend/tty.h"
#include "boot.h"
#include "config.h"
#include "hw/acpipm.h"
#include "hw/i8042.h"
#include "hw/mc146818.h"
#include "hw/post.h"
#include "log.h"
#include "machine.h"
#include "mevent.h"
#include "pci/pci_emul.h"
#include "pci/pci_lpc.h"
#include "sandbox.h"

#define HALT_TICK_MS	200
#define CONSOLE_TIMEOUT_MAX 3600	/* console.*_timeout, seconds */

struct machine machine = {
	.m_fatefd = -1,
	.m_pvm = PVM_STATE_INITIALIZER,
	.m_round = {
		.hr_lock = PTHREAD_MUTEX_INITIALIZER,
		.hr_cv = PTHREAD_COND_INITIALIZER,
	},
};

static struct rtc_softc *rtc;
static struct post_softc *post;
static struct i8042_softc *i8042;

int
machine_exit_status(enum vm_suspend_how how)
{
	switch (how) {
	case VM_SUSPEND_RESET:
		return (KHYVE_EXIT_RESET);
	case VM_SUSPEND_POWEROFF:
		return (KHYVE_EXIT_POWEROFF);
	case VM_SUSPEND_HALT:
		return (KHYVE_EXIT_HALT);
	case VM_SUSPEND_TRIPLEFAULT:
		return (KHYVE_EXIT_TRIPLEFAULT);
	default:
		return (KHYVE_EXIT_ERROR);
	}
}

bool
machine_suspend(enum vm_suspend_how how)
{
	struct machine *m = &machine;
	int expected = VM_SUSPEND_NONE;
	uint64_t one = 1;

	if (how == VM_SUSPEND_NONE)
		return (false);
	if (!__atomic_compare_exchange_n(&m->m_fate, &expected, (int)how, false,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return (false);
	vcpus_kick_all(m);
	if (m->m_fatefd >= 0)
		(void)!write(m->m_fatefd, &one, sizeof(one));
	return (true);
}

/* devctx callbacks: the KVM side of interrupt lines, MSI and suspend. */
static int
mach_irq_set(void *opaque, unsigned gsi, int level)
{
	return (vm_irq_line(machine.m_ctx, gsi, level));
}

static int
mach_msi(void *opaque, uint64_t addr, uint32_t data)
{
	return (vm_lapic_msi(machine.m_ctx, addr, data));
}

static int
mach_msi_irqfd(void *opaque, int *fdp)
{
	unsigned gsi;
	int fd, error;

	error = vm_msi_route_alloc(machine.m_ctx, &gsi);
	if (error != 0)
		return (error);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return (-errno);
	error = vm_irqfd(machine.m_ctx, fd, gsi, true);
	if (error != 0) {
		close(fd);
		return (error);
	}
	*fdp = fd;
	return ((int)gsi);
}

static int
mach_msi_irqfd_set(void *opaque, int handle, uint64_t addr, uint32_t data)
{
	return (vm_msi_route_set(machine.m_ctx, (unsigned)handle, addr, data));
}

static int
mach_ioeventfd(void *opaque, enum io_space space, uint64_t addr,
    unsigned len, int64_t datamatch, int fd, bool assign)
{
	return (vm_ioeventfd(machine.m_ctx, space == IO_PIO, addr, len,
	    datamatch, fd, assign));
}

static void
mach_suspend(void *opaque, enum vm_suspend_how how)
{
	machine_suspend(how);
}

/*
 * 0xcf8-0xcfb: a dword at 0xcf8 is the PCI address latch; the byte at
 * 0xcf9 is the reset control register (two devices share the range on a
 * real PIIX too).
 */
static int
port_cf8_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	if (off == 0 && size == 4)
		return (pci_cfgaddr_io(NULL, dir, 0, 4, val));
	if (off == 1 && size == 1)
		return (acpipm_reset_io(arg, dir, 0, 1, val));
	if (dir == IO_READ)
		*val = ~0ULL;
	return (0);
}

static void
reg_port(uint16_t port, unsigned len, io_handler_t fn, void *arg,
    const char *name)
{
	int error;

	error = io_register(&machine.m_bus, IO_PIO, port, len, fn, arg, name);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "%s: cannot register port 0x%x", name,
		    port);
	}
}

static void
build_topology(struct vm_topology *t)
{
	uint64_t cpus, sockets, cores, threads;

	cpus = config_uint64(NULL, "cpus", 1);
	sockets = config_uint64(NULL, "sockets", cpus);
	cores = config_uint64(NULL, "cores", 1);
	threads = config_uint64(NULL, "threads", 1);
	if (cpus == 0 || cpus > UINT16_MAX)
		fatalx(KHYVE_EXIT_USAGE, "-c: invalid vCPU count %" PRIu64, cpus);
	if (sockets == 0 || cores == 0 || threads == 0 ||
	    sockets > UINT16_MAX || cores > UINT16_MAX || threads > UINT16_MAX ||
	    sockets * cores * threads != cpus)
		fatalx(KHYVE_EXIT_USAGE, "-c: %" PRIu64 " vCPUs do not match "
		    "sockets=%" PRIu64 " x cores=%" PRIu64 " x threads=%" PRIu64,
		    cpus, sockets, cores, threads);
	t->ncpus = (uint16_t)cpus;
	t->sockets = (uint16_t)sockets;
	t->cores = (uint16_t)cores;
	t->threads = (uint16_t)threads;
}

static void
build_platform(struct machine *m)
{
	struct devctx *dc = &m->m_dc;
	struct acpipm_softc *pm;

	rtc = rtc_init(dc, IRQ_RTC, config_bool(NULL, "rtc.use_localtime",
	    true));
	i8042 = i8042_init(dc, IRQ_KBD, IRQ_AUX);
	pm = acpipm_init(dc, IRQ_SCI);
	post = post_init(dc);
	if (rtc == NULL || i8042 == NULL || pm == NULL || post == NULL)
		fatal(KHYVE_EXIT_ERROR, "cannot create the platform devices");
	m->m_pm = pm;
	rtc_set_memsize(rtc, vm_get_lowmem_size(m->m_ctx),
	    vm_get_highmem_size(m->m_ctx));

	reg_port(IO_RTC, 2, rtc_io, rtc, "rtc");
	reg_port(IO_KBD_DATA, 1, i8042_data_io, i8042, "i8042 data");
	reg_port(IO_KBD_STATUS, 1, i8042_cmd_io, i8042, "i8042 command");
	reg_port(IO_POST, 1, post_io, post, "post");
	reg_port(IO_PM1A_EVT, 4, acpipm_evt_io, pm, "pm1a_evt");
	reg_port(IO_PM1A_CNT, 2, acpipm_cnt_io, pm, "pm1a_cnt");
	reg_port(IO_PM_TIMER, 4, acpipm_timer_io, pm, "pm_timer");
	reg_port(IO_PCI_CFGADDR, 4, port_cf8_io, pm, "pci cfgaddr/reset");
	reg_port(IO_PCI_CFGDATA, 4, pci_cfgdata_io, NULL, "pci cfgdata");
}

static void
build_tables(struct machine *m)
{
	struct acpi_intx intx[PCI_MAXSLOTS * 4];
	struct acpi_config ac;
	uint64_t rsdp;
	unsigned nintx;
	int error;

	/* The PCI INTx lines, for the MP table and the DSDT's _PRT. */
	nintx = pci_lintr_routes(intx, nitems(intx));
	/* MP tables carry 8-bit APIC IDs: none for larger VMs. */
	if (config_bool(NULL, "x86.mptable", true) && m->m_ncpus > 254)
		log_warnx("-c %d: no MP table above 254 vCPUs (as with -Y)",
		    m->m_ncpus);
	else if (config_bool(NULL, "x86.mptable", true)) {
		error = mptable_build_intx(vm_gmem(m->m_ctx), m->m_ncpus,
		    intx, nintx);
		if (error != 0) {
			errno = -error;
			fatal(KHYVE_EXIT_ERROR, "cannot build the MP table");
		}
	}
	memset(&ac, 0, sizeof(ac));
	ac.ncpus = m->m_ncpus;
	ac.lowmem = vm_get_lowmem_size(m->m_ctx);
	ac.highmem = vm_get_highmem_size(m->m_ctx);
	ac.pci = true;
	ac.com_mask = lpc_com_mask();
	ac.intx = intx;
	ac.nintx = nintx;
	ac.ecam_base = PCI_ECAM_BASE;
	ac.ecam_buses = PCI_ECAM_SIZE >> 20;
	error = acpi_build(vm_gmem(m->m_ctx), &ac, &rsdp);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot build the ACPI tables");
	}
	boot_set_rsdp(rsdp);
}

static void
build_vcpus(struct machine *m)
{
	bool x2apic;
	int i;

	x2apic = config_bool(NULL, "x86.x2apic", false);
	m->m_vcpus = aligned_alloc(_Alignof(struct vcpu_info),
	    m->m_ncpus * sizeof(*m->m_vcpus));
	if (m->m_vcpus == NULL)
		fatal(KHYVE_EXIT_ERROR, "vcpus");
	memset(m->m_vcpus, 0, m->m_ncpus * sizeof(*m->m_vcpus));
	for (i = 0; i < m->m_ncpus; i++) {
		m->m_vcpus[i].vi_m = m;
		m->m_vcpus[i].vi_id = i;
		m->m_vcpus[i].vi_vcpu = vm_vcpu_open(m->m_ctx, i);
		if (m->m_vcpus[i].vi_vcpu == NULL)
			fatal(KHYVE_EXIT_ERROR, "cannot create vCPU %d", i);
		if (x2apic && vm_set_x2apic(m->m_vcpus[i].vi_vcpu) != 0)
			fatalx(KHYVE_EXIT_ERROR, "vCPU %d: cannot enable x2APIC",
			    i);
	}
}

/*
 * The exit status for a device that failed to set up (it has said why):
 * a bad option or value is EX_USAGE; anything the host refused (a file
 * that cannot be opened, a port in use, no memory) is an error.
 */
static int
setup_exit_status(int error)
{
	switch (error) {
	case -EINVAL:		/* malformed or unknown option value */
	case -EBUSY:		/* two devices want one thing (stdio) */
	case -ENAMETOOLONG:	/* a path longer than a socket takes */
		return (KHYVE_EXIT_USAGE);
	default:
		return (KHYVE_EXIT_ERROR);
	}
}

/*
 * The PCI devices, with BARs in bhyve's windows: I/O above the legacy
 * ports, 32-bit memory between lowmem and the ECAM window, 64-bit memory
 * above RAM (what the DSDT's PCI0 _CRS describes), and the ECAM window.
 */
static void
build_pci(struct machine *m)
{
	struct pci_windows win;
	uint64_t base64, size64;
	int error;

	acpi_mmio64_default(vm_get_highmem_size(m->m_ctx), &base64, &size64);
	win.io_base = IO_PCI_IOBASE;
	win.io_limit = IO_PCI_IOLIMIT;
	win.mem32_base = PCI_MMIO32_BASE;
	win.mem32_limit = PCI_MMIO32_LIMIT;
	win.mem64_base = base64;
	win.mem64_limit = base64 + size64;
	error = io_register(&m->m_bus, IO_MMIO, PCI_ECAM_BASE, PCI_ECAM_SIZE,
	    pci_ecam_io, NULL, "pci ecam");
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot register the ECAM window");
	}
	error = pci_init(&m->m_dc, &win);
	if (error != 0)
		exit(setup_exit_status(error));
}

/* A console.* timeout in whole seconds, as milliseconds for tty.h. */
static unsigned
console_timeout(const char *key, unsigned def_ms)
{
	int64_t s = config_int64(NULL, key, def_ms / 1000);

	if (s < 0 || s > CONSOLE_TIMEOUT_MAX)
		fatalx(KHYVE_EXIT_USAGE, "%s: %" PRId64 " seconds: want 0 to "
		    "%d", key, s, CONSOLE_TIMEOUT_MAX);
	return ((unsigned)s * 1000);
}

/* True when some pci.B.S.F.device is "lpc" (checked before the VM exists). */
static bool
config_has_lpc(void)
{
	struct config_node *pci, *b, *sl, *f;
	const char *dev;

	pci = config_find_node(NULL, "pci");
	if (pci == NULL)
		return (false);
	for (b = config_node_first(pci); b != NULL; b = config_node_next(b))
		for (sl = config_node_first(b); sl != NULL;
		    sl = config_node_next(sl))
			for (f = config_node_first(sl); f != NULL;
			    f = config_node_next(f)) {
				dev = config_node_is_leaf(f) ? NULL :
				    config_get(f, "device");
				if (dev != NULL && strcmp(dev, "lpc") == 0)
					return (true);
			}
	return (false);
}

void
machine_build(void)
{
	struct machine *m = &machine;
	struct vm_topology topo;
	uint64_t memsize;
	int error;

	m->m_name = config_get(NULL, "name");
	build_topology(&topo);
	if (config_get_size(NULL, "memory.size", 256 * MiB, MiB, &memsize) != 0)
		fatalx(KHYVE_EXIT_USAGE, "-m: invalid memory size '%s'",
		    config_get(NULL, "memory.size"));
	if (memsize < MiB || (memsize & 0xfff) != 0)
		fatalx(KHYVE_EXIT_USAGE, "-m: memory size must be a multiple of "
		    "4 KiB and at least 1 MiB");
	m->m_strictio = config_bool(NULL, "x86.strictio", false);
	m->m_strictmsr = config_bool(NULL, "x86.strictmsr", true);
	m->m_verbosemsr = config_bool(NULL, "x86.verbosemsr", false);
	m->m_pvm_quirks = config_bool(NULL, "x86.pvm_quirks",
	    pvm_host_detected());
	if (m->m_pvm_quirks)
		m->m_timer_min_us = config_uint64(NULL, "x86.pvm_timer_min_us",
		    PVM_TIMER_MIN_US);
	if (m->m_timer_min_us > 1000000)
		fatalx(KHYVE_EXIT_USAGE, "x86.pvm_timer_min_us: at most 1000000 "
		    "(one second)");
	tty_set_timeouts(console_timeout("console.stall_timeout", TTY_STALL_MS),
	    console_timeout("console.drain_timeout", TTY_DRAIN_MS));

	if (config_find_node(NULL, "lpc") != NULL && !config_has_lpc())
		fatalx(KHYVE_EXIT_USAGE, "-l: LPC devices need an LPC bridge "
		    "(add -s 31,lpc)");
	/* Check the boot image before creating anything. */
	boot_check();

	m->m_ctx = vm_create(m->m_name);
	if (m->m_ctx == NULL)
		fatal(KHYVE_EXIT_ERROR, "cannot create the VM (/dev/kvm)");
	if (topo.ncpus > vm_max_vcpus(m->m_ctx))
		fatalx(KHYVE_EXIT_USAGE, "-c: %u vCPUs requested but KVM allows "
		    "at most %d", topo.ncpus, vm_max_vcpus(m->m_ctx));
	m->m_ncpus = topo.ncpus;
	if (vm_set_topology(m->m_ctx, &topo) != 0)
		fatalx(KHYVE_EXIT_USAGE, "-c: bad topology");
	error = vm_enable_msr_exits(m->m_ctx);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "KVM_CAP_X86_USER_SPACE_MSR");
	}
	/*
	 * PVM hosts: see the guest set LSTAR to arm the SYSCALL repair, and
	 * its TSC deadlines to space its timer interrupts.
	 */
	if (m->m_pvm_quirks) {
		uint32_t msrs[] = { MSR_LSTAR, MSR_IA32_TSC_DEADLINE };

		error = vm_filter_msr_write(m->m_ctx, msrs,
		    m->m_timer_min_us > 0 ? 2 : 1);
		if (error != 0) {
			errno = -error;
			fatal(KHYVE_EXIT_ERROR, "KVM_X86_SET_MSR_FILTER");
		}
	}
	error = vm_setup_memory(m->m_ctx, memsize,
	    config_bool(NULL, "memory.wired", false),
	    config_bool(NULL, "memory.guest_in_core", false));
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot set up %" PRIu64 " MiB of guest "
		    "memory", (uint64_t)(memsize / MiB));
	}
	/* After the memory: see vm_create_irqchip(). */
	error = vm_create_irqchip(m->m_ctx);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot create the in-kernel irqchip "
		    "and PIT");
	}

	if (iobus_init(&m->m_bus) != 0)
		fatalx(KHYVE_EXIT_ERROR, "iobus");
	m->m_dc.dc_mem = vm_gmem(m->m_ctx);
	m->m_dc.dc_bus = &m->m_bus;
	m->m_dc.dc_ncpus = m->m_ncpus;
	m->m_dc.dc_irq_set = mach_irq_set;
	m->m_dc.dc_msi = mach_msi;
	m->m_dc.dc_msi_irqfd = mach_msi_irqfd;
	m->m_dc.dc_msi_irqfd_set = mach_msi_irqfd_set;
	m->m_dc.dc_ioeventfd = mach_ioeventfd;
	m->m_dc.dc_suspend = mach_suspend;
	m->m_dc.dc_opaque = m;

	build_platform(m);
	build_pci(m);
	build_tables(m);
	build_vcpus(m);
	boot_load(m, post);
}

static void
fate_cb(int fd, enum ev_type type, void *arg)
{
	struct machine *m = arg;
	uint64_t v;
	int how;

	(void)!read(fd, &v, sizeof(v));
	vcpus_join(m);
	/* Whatever the fate: what the guest wrote reaches the disks. */
	pci_stop();
	how = __atomic_load_n(&m->m_fate, __ATOMIC_SEQ_CST);
	if (m->m_stopwhy != NULL)
		log_warnx("%s: VM stopped", m->m_stopwhy);
	boot_timer_mark("exit");
	mevent_stop(machine_exit_status(how));
}

static void
halt_tick_cb(int fd, enum ev_type type, void *arg)
{
	vcpus_halt_tick(arg);
}

/*
 * Acquire, then lock down: every fd and thread exists now and no vCPU has
 * run.  Become the user of the user key, then the process filter; each
 * vCPU thread adds its own when vcpus_go() lets it run.
 */
static void
machine_lockdown(struct machine *m)
{
	const char *user = config_get(NULL, "user");
	const char *why;
	int error;

	m->m_sandbox = config_bool(NULL, "sandbox", true);
	if (user != NULL && (error = sandbox_become(user, &why)) != 0) {
		errno = -error;
		fatal(error == -ENOENT ? KHYVE_EXIT_USAGE : KHYVE_EXIT_ERROR,
		    "user=%s: %s", user, why);
	}
	if (!m->m_sandbox) {
		log_info("sandbox=false: running without a system call filter");
		return;
	}
	sandbox_init("khyve", tty_signal_cleanup,
	    config_bool(NULL, "sandbox_debug", false));
	sandbox_need(tty_sandbox_needs());
	/* Every thread; then the event loop narrows its own. */
	if ((error = sandbox_install(SANDBOX_MONITOR | SANDBOX_VCPU, true, NULL,
	    &why)) != 0 || (error = sandbox_install(SANDBOX_MONITOR, false,
	    "event loop", &why)) != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "sandbox: %s (-o sandbox=false runs "
		    "without it)", why);
	}
}

void
machine_start(void)
{
	struct machine *m = &machine;
	int error;

	m->m_fatefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->m_fatefd < 0 ||
	    mevent_add(m->m_fatefd, EVF_READ, fate_cb, m) == NULL ||
	    mevent_add(HALT_TICK_MS, EVF_TIMER, halt_tick_cb, m) == NULL)
		fatal(KHYVE_EXIT_ERROR, "event loop set-up");
	boot_timer_mark("first KVM_RUN");
	machine_signals_start();
	error = vcpus_start(m);
	if (error != 0) {
		errno = -error;
		fatal(KHYVE_EXIT_ERROR, "cannot start the vCPU threads");
	}
	machine_lockdown(m);
	vcpus_go(m);
}

void
machine_report(void)
{
	char prefix[64];
	int i;

	if (!config_bool(NULL, "stats", false))
		return;
	machine_print_stats();
	for (i = 0; i < machine.m_ncpus; i++) {
		snprintf(prefix, sizeof(prefix), "khyve: vcpu %d KVM counters:",
		    i);
		vm_print_kvm_stats(machine.m_vcpus[i].vi_vcpu, stderr, prefix);
	}
}

void
machine_print_stats(void)
{
	struct machine_stats s;
	struct pvm_state *ps = &machine.m_pvm;
	int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < machine.m_ncpus; i++) {
		struct machine_stats *v = &machine.m_vcpus[i].vi_stats;

#define SUM(f)	s.f += __atomic_load_n(&v->f, __ATOMIC_RELAXED)
		SUM(pio); SUM(mmio); SUM(msr); SUM(intr); SUM(unclaimed);
		SUM(emul_int3); SUM(emul_fwait);
#undef SUM
	}

	if (machine.m_pvm_quirks)
		fprintf(stderr, "khyve: pvm: system calls repaired %" PRIu64
		    ", user faults at LSTAR delivered %" PRIu64 ", other page "
		    "faults through the hook %" PRIu64 "\r\n",
		    __atomic_load_n(&ps->ps_syscalls, __ATOMIC_RELAXED),
		    __atomic_load_n(&ps->ps_forged, __ATOMIC_RELAXED),
		    __atomic_load_n(&ps->ps_faults, __ATOMIC_RELAXED));
	fprintf(stderr, "khyve: exits: port %" PRIu64 ", mmio %" PRIu64
	    ", msr %" PRIu64 ", interrupted %" PRIu64 "; unclaimed accesses %"
	    PRIu64 "; emulated for KVM: int3 %" PRIu64 ", fwait %" PRIu64 "\r\n",
	    s.pio, s.mmio, s.msr, s.intr, s.unclaimed, s.emul_int3,
	    s.emul_fwait);
}
