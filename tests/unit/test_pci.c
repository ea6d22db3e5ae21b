/*
 * test_pci.c: the PCI framework against a fake machine: BAR allocation,
 * sizing, relocation and decode enables (BARs moved onto each other,
 * across 4 GiB, past 2^64), the command register, the capability list,
 * MSI, MSI-X (masking, pending bits, bad accesses), INTx routing with the
 * PIRQ links, and the ECAM window.
 */
#include <errno.h>
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"
#include "test.h"

#define BAR_TAG(idx, off)	(0xb0000000u | (uint32_t)(idx) << 16 | (uint32_t)(off))

static struct {
	int		writes;
	int		last_idx;
	uint64_t	last_off, last_val;
	int		baraddr_calls;
	bool		baraddr_on;
	uint64_t	baraddr_addr;
} dev;

/* testdev: BAR0 I/O 32, BAR1 mem32 4K, BAR2 mem64 8K, BAR4 mem64 512M. */
static int
testdev_init(struct pci_devinst *pi, struct config_node *nvl)
{
	int error;

	pci_set_cfgdata16(pi, PCIR_VENDOR, 0x1af4);
	pci_set_cfgdata16(pi, PCIR_DEVICE, 0x1234);
	if ((error = pci_emul_alloc_bar(pi, 0, PCIBAR_IO, 32, false)) != 0 ||
	    (error = pci_emul_alloc_bar(pi, 1, PCIBAR_MEM32, 4096, false)) != 0 ||
	    (error = pci_emul_alloc_bar(pi, 2, PCIBAR_MEM64, 8192, true)) != 0 ||
	    (error = pci_emul_alloc_bar(pi, 4, PCIBAR_MEM64, 512 * MiB,
	    true)) != 0)
		return (error);
	pci_lintr_request(pi);
	return (0);
}

/* intrdev: MSI with 4 vectors, MSI-X with 8 vectors in BAR 2. */
static int
intrdev_init(struct pci_devinst *pi, struct config_node *nvl)
{
	int error;

	if ((error = pci_emul_add_msicap(pi, 4)) != 0 ||
	    (error = pci_emul_add_msixcap(pi, 8, 2)) != 0)
		return (error);
	pci_lintr_request(pi);
	return (0);
}

static uint64_t
testdev_barread(struct pci_devinst *pi, int idx, uint64_t off, int size)
{
	return (BAR_TAG(idx, off));
}

static void
testdev_barwrite(struct pci_devinst *pi, int idx, uint64_t off, int size,
    uint64_t val)
{
	dev.writes++;
	dev.last_idx = idx;
	dev.last_off = off;
	dev.last_val = val;
}

static void
testdev_baraddr(struct pci_devinst *pi, int idx, bool on, uint64_t addr)
{
	dev.baraddr_calls++;
	dev.baraddr_on = on;
	dev.baraddr_addr = addr;
}

static const struct pci_devemu pci_de_testdev = {
	.pe_emu = "testdev",
	.pe_init = testdev_init,
	.pe_barread = testdev_barread,
	.pe_barwrite = testdev_barwrite,
	.pe_baraddr = testdev_baraddr,
};
PCI_EMUL_SET(pci_de_testdev);

static const struct pci_devemu pci_de_intrdev = {
	.pe_emu = "intrdev",
	.pe_init = intrdev_init,
	.pe_barread = testdev_barread,
	.pe_barwrite = testdev_barwrite,
};
PCI_EMUL_SET(pci_de_intrdev);

static struct fake_vm fv;
static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

/* Devices: testdev at 0:3.0 and 0:3.1, intrdev at 0:4.0. */
static void
setup(void)
{
	memset(&dev, 0, sizeof(dev));
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.3.0.device", "testdev"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.3.1.device", "testdev"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.4.0.device", "intrdev"), 0);
	fake_vm_init(&fv, 1 * MiB, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), 0);
}

static void
teardown(void)
{
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
}

static uint32_t
cfg32(int slot, int func, int off)
{
	return (pci_cfg_read(0, slot, func, off, 4));
}

static void
wcfg32(int slot, int func, int off, uint32_t v)
{
	pci_cfg_write(0, slot, func, off, 4, v);
}

static int
noop_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	return (0);
}

/* MSIs sent, through KVM_SIGNAL_MSI or the irqfds. */
static unsigned
msis(void)
{
	(void)fake_irqfd_poll(&fv);
	return (fv.nmsi);
}

/* A bus access: claimed (0) or not (-ENOENT). */
static int
mmio(uint64_t gpa, enum io_dir dir, unsigned size, uint64_t *val)
{
	return (io_dispatch(&fv.bus, IO_MMIO, dir, gpa, size, val));
}

TEST(bar_allocation_and_sizing)
{
	uint32_t b0, b1, b2, b3, b4, b5;

	setup();
	b0 = cfg32(3, 0, PCIR_BAR(0));
	b1 = cfg32(3, 0, PCIR_BAR(1));
	b2 = cfg32(3, 0, PCIR_BAR(2));
	b3 = cfg32(3, 0, PCIR_BAR(3));
	b4 = cfg32(3, 0, PCIR_BAR(4));
	b5 = cfg32(3, 0, PCIR_BAR(5));
	/* I/O in the I/O window, aligned; memory BARs naturally aligned. */
	CHECK_EQ(b0 & 1, 1);
	CHECK((b0 & ~3u) >= IO_PCI_IOBASE && (b0 & ~3u) < IO_PCI_IOLIMIT);
	CHECK_EQ(b0 & 31 & ~3u, 0);
	CHECK_EQ(b1 & 0xf, 0);
	CHECK((b1 & ~0xfu) >= PCI_MMIO32_BASE && (b1 & ~0xfu) < PCI_MMIO32_LIMIT);
	CHECK_EQ(b1 & 0xfff, 0);
	/* A small 64-bit BAR goes below 4 GiB (prefetchable, 64-bit type). */
	CHECK_EQ(b2 & 0xf, PCIM_BAR_MEM_64 | PCIM_BAR_MEM_PREFETCH);
	CHECK_EQ(b3, 0);
	CHECK((b2 & ~0xfu) >= PCI_MMIO32_BASE);
	/* 512 MiB: the 64-bit window above RAM. */
	CHECK_EQ(((uint64_t)b5 << 32 | (b4 & ~0xfu)), 32 * GiB);
	/* The second function got its own, different addresses. */
	CHECK(cfg32(3, 1, PCIR_BAR(1)) != b1);

	/* Sizing: all-ones reads back the size mask with the type bits. */
	wcfg32(3, 0, PCIR_BAR(0), 0xffffffff);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(0)), 0xffffffe1);
	wcfg32(3, 0, PCIR_BAR(1), 0xffffffff);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(1)), 0xfffff000);
	wcfg32(3, 0, PCIR_BAR(4), 0xffffffff);
	wcfg32(3, 0, PCIR_BAR(5), 0xffffffff);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(4)), 0xe000000c);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(5)), 0xffffffff);
	/* Unimplemented BARs read 0 and ignore writes. */
	wcfg32(4, 0, PCIR_BAR(5), 0xffffffff);
	CHECK_EQ(cfg32(4, 0, PCIR_BAR(5)), 0);
	/* Byte writes merge into the register. */
	wcfg32(3, 0, PCIR_BAR(1), 0xc8000000);
	pci_cfg_write(0, 3, 0, PCIR_BAR(1) + 3, 1, 0xc9);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(1)), 0xc9000000);
	teardown();
}

TEST(bar_decode_and_relocation)
{
	uint64_t v, a1;
	uint16_t iob;

	setup();
	a1 = cfg32(3, 0, PCIR_BAR(1)) & ~0xfu;
	iob = (uint16_t)(cfg32(3, 0, PCIR_BAR(0)) & ~3u);
	/* Decode off: nothing at the BAR. */
	CHECK_EQ(mmio(a1, IO_READ, 4, &v), -ENOENT);
	pci_cfg_write(0, 3, 0, PCIR_COMMAND, 2, PCIM_CMD_MEMEN | PCIM_CMD_PORTEN);
	CHECK_EQ(mmio(a1 + 8, IO_READ, 4, &v), 0);
	CHECK_EQ(v, BAR_TAG(1, 8));
	CHECK_EQ(dev.baraddr_on, true);
	v = 0x55;
	CHECK_EQ(io_dispatch(&fv.bus, IO_PIO, IO_WRITE, iob + 4, 1, &v), 0);
	CHECK_EQ(dev.last_idx, 0);
	CHECK_EQ(dev.last_off, 4);
	/* An access straddling the BAR's end is not the device's. */
	CHECK(mmio(a1 + 4094, IO_READ, 4, &v) != 0);

	/* Move it: the old address is free, the new one decodes. */
	wcfg32(3, 0, PCIR_BAR(1), 0xd0000000);
	CHECK_EQ(mmio(a1, IO_READ, 4, &v), -ENOENT);
	CHECK_EQ(mmio(0xd0000010, IO_READ, 4, &v), 0);
	CHECK_EQ(v, BAR_TAG(1, 0x10));
	CHECK_EQ(dev.baraddr_addr, 0xd0000000);

	/* Onto the other function's BAR: it does not decode, the other
	 * still does; moved away again, it decodes. */
	wcfg32(3, 1, PCIR_BAR(1), 0xd1000000);
	pci_cfg_write(0, 3, 1, PCIR_COMMAND, 2, PCIM_CMD_MEMEN);
	wcfg32(3, 0, PCIR_BAR(1), 0xd1000000);
	CHECK_EQ(mmio(0xd1000000, IO_READ, 4, &v), 0);	/* 3.1's */
	CHECK_EQ(mmio(0xd0000000, IO_READ, 4, &v), -ENOENT);
	wcfg32(3, 0, PCIR_BAR(1), 0xd2000000);
	CHECK_EQ(mmio(0xd2000000, IO_READ, 4, &v), 0);

	/* Onto RAM: registered (KVM would serve RAM itself); harmless. */
	wcfg32(3, 0, PCIR_BAR(1), 0x1000);
	CHECK_EQ(mmio(0x1000, IO_READ, 4, &v), 0);

	/* A 64-bit BAR half-way across 4 GiB, then at the very top of the
	 * address space (natural alignment means it can end at 2^64 but
	 * never wrap): the bus serves it without overflowing. */
	wcfg32(3, 0, PCIR_BAR(3), 0);
	wcfg32(3, 0, PCIR_BAR(2), 0xffffe000);
	CHECK_EQ(mmio(0xffffe000, IO_READ, 4, &v), 0);
	CHECK_EQ(mmio(0x100000000ULL - 4, IO_READ, 4, &v), 0);
	wcfg32(3, 0, PCIR_BAR(3), 0xffffffff);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(3)), 0xffffffff);
	CHECK_EQ(mmio(0xffffe000, IO_READ, 4, &v), -ENOENT);
	CHECK_EQ(mmio(0xfffffffffffffff8ULL, IO_READ, 8, &v), 0);
	CHECK_EQ(v, ((uint64_t)BAR_TAG(2, 0x1ff8)));
	CHECK(mmio(0xfffffffffffffffcULL, IO_READ, 8, &v) != 0);
	wcfg32(3, 0, PCIR_BAR(3), 1);
	CHECK_EQ(mmio(0x1ffffe000ULL, IO_READ, 4, &v), 0);

	/* An I/O BAR moved past 64 KiB or onto the config ports. */
	wcfg32(3, 0, PCIR_BAR(0), 0x20000);
	CHECK_EQ(io_dispatch(&fv.bus, IO_PIO, IO_READ, iob, 1, &v), -ENOENT);
	CHECK_EQ(io_register(&fv.bus, IO_PIO, 0xcf8, 8, noop_io, NULL,
	    "cf8"), 0);
	wcfg32(3, 0, PCIR_BAR(0), 0xc00);
	CHECK_EQ(io_dispatch(&fv.bus, IO_PIO, IO_READ, 0xc00, 4, &v), 0);
	CHECK_EQ(v, BAR_TAG(0, 0));
	wcfg32(3, 0, PCIR_BAR(0), 0xce0);		/* overlaps 0xcf8 */
	CHECK_EQ(io_dispatch(&fv.bus, IO_PIO, IO_READ, 0xce0, 1, &v), -ENOENT);

	/* Memory decode off: every memory BAR stops. */
	pci_cfg_write(0, 3, 0, PCIR_COMMAND, 2, PCIM_CMD_PORTEN);
	CHECK_EQ(mmio(0x1000, IO_READ, 4, &v), -ENOENT);
	CHECK_EQ(dev.baraddr_on, false);
	teardown();
}

TEST(command_and_header_are_guarded)
{
	setup();
	/* Only the defined command bits stick; IDs and status are read-only. */
	pci_cfg_write(0, 3, 0, PCIR_COMMAND, 2, 0xffff);
	CHECK_EQ(pci_cfg_read(0, 3, 0, PCIR_COMMAND, 2), 0x0547);
	pci_cfg_write(0, 3, 0, PCIR_VENDOR, 4, 0);
	CHECK_EQ(pci_cfg_read(0, 3, 0, PCIR_VENDOR, 2), 0x1af4);
	pci_cfg_write(0, 3, 0, PCIR_STATUS, 2, 0xffff);
	CHECK_EQ(pci_cfg_read(0, 3, 0, PCIR_STATUS, 2), 0);
	/* Misaligned and out-of-range accesses read all-ones. */
	CHECK_EQ(pci_cfg_read(0, 3, 0, 0x01, 2), 0xffff);
	CHECK_EQ(pci_cfg_read(0, 3, 0, 0xfe, 4), 0xffffffff);
	CHECK_EQ(pci_cfg_read(0, 9, 0, 0, 4), 0xffffffff);
	teardown();
}

TEST(capability_list)
{
	int msi, msix;

	setup();
	CHECK(pci_cfg_read(0, 4, 0, PCIR_STATUS, 2) & PCIM_STATUS_CAPPRESENT);
	msi = pci_cfg_read(0, 4, 0, PCIR_CAP_PTR, 1);
	CHECK_EQ(msi, 0x40);
	CHECK_EQ(pci_cfg_read(0, 4, 0, msi, 1), PCIY_MSI);
	msix = pci_cfg_read(0, 4, 0, msi + 1, 1);
	CHECK(msix > msi && (msix & 3) == 0);
	CHECK_EQ(pci_cfg_read(0, 4, 0, msix, 1), PCIY_MSIX);
	CHECK_EQ(pci_cfg_read(0, 4, 0, msix + 1, 1), 0);
	/* The guest cannot rewrite the chain or the table location. */
	pci_cfg_write(0, 4, 0, msi, 2, 0x4141);
	CHECK_EQ(pci_cfg_read(0, 4, 0, msi, 2), PCIY_MSI | msix << 8);
	pci_cfg_write(0, 4, 0, msix + 4, 4, 0x1000);
	CHECK_EQ(pci_cfg_read(0, 4, 0, msix + 4, 4), 2);
	/* Table size field: 8 vectors. */
	CHECK_EQ(pci_cfg_read(0, 4, 0, msix + 2, 2) & 0x7ff, 7);
	teardown();
}

TEST(msi)
{
	struct pci_devinst *pi;
	int cap;

	setup();
	pi = pci_find_dev(0, 4, 0);
	cap = pci_emul_find_capability(pi, PCIY_MSI);
	CHECK_EQ(cap, 0x40);
	/* Offers 4 (MMC 2); disabled: nothing is sent. */
	CHECK_EQ((pci_cfg_read(0, 4, 0, cap + 2, 2) >> 1) & 7, 2);
	pci_generate_msi(pi, 0);
	CHECK_EQ(fv.nmsi, 0);
	pci_cfg_write(0, 4, 0, cap + 4, 4, 0xfee00003);	/* low bits: 0 */
	pci_cfg_write(0, 4, 0, cap + 8, 4, 0);
	pci_cfg_write(0, 4, 0, cap + 12, 2, 0x4040);
	/* Asking for 32 vectors gets the 4 offered (MME clamped). */
	pci_cfg_write(0, 4, 0, cap + 2, 2, 0x0051);
	CHECK_EQ((pci_cfg_read(0, 4, 0, cap + 2, 2) >> 4) & 7, 2);
	CHECK(pci_msi_enabled(pi));
	pci_generate_msi(pi, 3);
	pci_generate_msi(pi, 4);			/* out of range */
	CHECK_EQ(fv.nmsi, 1);
	CHECK_EQ(fv.msi_addr[0], 0xfee00000);
	CHECK_EQ(fv.msi_data[0], 0x4043);
	teardown();
}

TEST(msix_masking_and_pending)
{
	struct pci_devinst *pi;
	uint64_t tab, v;
	int cap;

	setup();
	pi = pci_find_dev(0, 4, 0);
	cap = pci_emul_find_capability(pi, PCIY_MSIX);
	tab = cfg32(4, 0, PCIR_BAR(2)) & ~0xfu;
	pci_cfg_write(0, 4, 0, PCIR_COMMAND, 2, PCIM_CMD_MEMEN);
	/* Every vector starts masked. */
	CHECK_EQ(mmio(tab + 12, IO_READ, 4, &v), 0);
	CHECK_EQ(v, 1);
	/* Program vector 2; the device never sees table accesses. */
	v = 0xfee01000;
	CHECK_EQ(mmio(tab + 2 * 16, IO_WRITE, 4, &v), 0);
	v = 0x77;
	CHECK_EQ(mmio(tab + 2 * 16 + 8, IO_WRITE, 4, &v), 0);
	CHECK_EQ(dev.writes, 0);
	/* Disabled: nothing; enabled but masked: pending only. */
	pci_generate_msix(pi, 2);
	CHECK_EQ(msis(), 0);
	pci_cfg_write(0, 4, 0, cap + 2, 2, 0x8000);
	CHECK(pci_msix_enabled(pi));
	pci_generate_msix(pi, 2);
	CHECK_EQ(msis(), 0);
	CHECK_EQ(mmio(tab + 4096, IO_READ, 8, &v), 0);	/* the PBA */
	CHECK_EQ(v, 1u << 2);
	/* Masked entries were written: no route yet.  Unmasking routes
	 * the vector's irqfd, delivers the pending one through it and
	 * clears the bit. */
	CHECK_EQ(fv.irqfd[2].nset, 0);
	v = 0;
	CHECK_EQ(mmio(tab + 2 * 16 + 12, IO_WRITE, 4, &v), 0);
	CHECK_EQ(fv.irqfd[2].nset, 1);
	CHECK_EQ(msis(), 1);
	CHECK_EQ(fv.msi_addr[0], 0xfee01000);
	CHECK_EQ(fv.msi_data[0], 0x77);
	CHECK_EQ(mmio(tab + 4096, IO_READ, 4, &v), 0);
	CHECK_EQ(v, 0);
	/* The function mask holds every vector; clearing it delivers. */
	pci_cfg_write(0, 4, 0, cap + 2, 2, 0xc000);
	pci_generate_msix(pi, 2);
	CHECK_EQ(msis(), 1);
	pci_cfg_write(0, 4, 0, cap + 2, 2, 0x8000);
	CHECK_EQ(msis(), 2);
	/* Bad accesses: unaligned, byte-sized, PBA writes, vector 8. */
	CHECK_EQ(mmio(tab + 2, IO_READ, 4, &v), 0);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(mmio(tab + 8, IO_READ, 1, &v), 0);
	CHECK_EQ(v, 0xff);
	v = 0xff;
	CHECK_EQ(mmio(tab + 4096, IO_WRITE, 4, &v), 0);
	CHECK_EQ(mmio(tab + 4096, IO_READ, 4, &v), 0);
	CHECK_EQ(v, 0);
	pci_generate_msix(pi, 8);
	pci_generate_msix(pi, -1);
	CHECK_EQ(msis(), 2);
	/* A qword write of address. */
	v = 0x00000001fee02000ULL;
	CHECK_EQ(mmio(tab + 16, IO_WRITE, 8, &v), 0);
	CHECK_EQ(mmio(tab + 16, IO_READ, 8, &v), 0);
	CHECK_EQ(v, 0x00000001fee02000ULL);
	/* Rewriting an unmasked entry re-routes it at once. */
	v = 0x99;
	CHECK_EQ(mmio(tab + 2 * 16 + 8, IO_WRITE, 4, &v), 0);
	CHECK_EQ(fv.irqfd[2].nset, 2);
	pci_generate_msix(pi, 2);
	CHECK_EQ(msis(), 3);
	CHECK_EQ(fv.msi_data[2], 0x99);
	teardown();
}

TEST(intx_routing)
{
	struct pci_devinst *a, *b, *c;
	struct acpi_intx ix[8];
	unsigned n, gsi_a, gsi_c;
	int irq;

	setup();
	a = pci_find_dev(0, 3, 0);
	b = pci_find_dev(0, 3, 1);
	c = pci_find_dev(0, 4, 0);
	/* Two functions of slot 3 get INTA and INTB; slot 4 INTA. */
	CHECK_EQ(pci_cfg_read(0, 3, 0, PCIR_INTPIN, 1), 1);
	CHECK_EQ(pci_cfg_read(0, 3, 1, PCIR_INTPIN, 1), 2);
	CHECK_EQ(pci_cfg_read(0, 4, 0, PCIR_INTPIN, 1), 1);
	n = pci_lintr_routes(ix, nitems(ix));
	CHECK_EQ(n, 3);
	gsi_a = a->pi_lintr_gsi;
	gsi_c = c->pi_lintr_gsi;
	CHECK(gsi_a >= 16 && gsi_a < 24 && gsi_c >= 16 && gsi_c < 24);
	CHECK(gsi_a != b->pi_lintr_gsi && gsi_a != gsi_c);
	/* The link got an ISA IRQ, which INTLINE reports. */
	irq = pci_pirq_irq(a->pi_lintr_pirq);
	CHECK_EQ(pci_cfg_read(0, 3, 0, PCIR_INTLINE, 1), irq);
	CHECK(irq != 0 && irq != 4 && irq != 9);

	pci_lintr_assert(a);
	CHECK_EQ(fv.irq_level[gsi_a], 1);
	CHECK_EQ(fv.irq_level[irq], 1);
	pci_lintr_assert(a);			/* idempotent */
	pci_lintr_deassert(a);
	CHECK_EQ(fv.irq_level[gsi_a], 0);
	CHECK_EQ(fv.irq_level[irq], 0);

	/* Interrupt Disable in the command register holds the line low. */
	pci_lintr_assert(a);
	pci_cfg_write(0, 3, 0, PCIR_COMMAND, 2, PCIM_CMD_INTxDIS);
	CHECK_EQ(fv.irq_level[gsi_a], 0);
	pci_cfg_write(0, 3, 0, PCIR_COMMAND, 2, 0);
	CHECK_EQ(fv.irq_level[gsi_a], 1);

	/* Re-routing the link moves the ISA level; disabling drops it; a
	 * reserved IRQ disables the link. */
	pci_pirq_write(a->pi_lintr_pirq, 11);
	if (irq != 11)
		CHECK_EQ(fv.irq_level[irq], 0);
	CHECK_EQ(fv.irq_level[11], 1);
	pci_pirq_write(a->pi_lintr_pirq, 0x80);
	CHECK_EQ(fv.irq_level[11], 0);
	CHECK_EQ(fv.irq_level[gsi_a], 1);	/* the I/O APIC pin stays */
	pci_pirq_write(a->pi_lintr_pirq, 8);
	CHECK_EQ(pci_pirq_read(a->pi_lintr_pirq) & 0x80, 0x80);
	CHECK_EQ(fv.irq_level[8], 0);
	pci_lintr_deassert(a);
	CHECK_EQ(fv.irq_level[gsi_a], 0);
	teardown();
}

TEST(ecam)
{
	uint64_t v, base = (uint64_t)3 << 15;	/* 0:3.0 */

	setup();
	CHECK_EQ(pci_ecam_io(NULL, IO_READ, base, 4, &v), 0);
	CHECK_EQ(v, 0x12341af4);
	CHECK_EQ(pci_ecam_io(NULL, IO_READ, base + 2, 2, &v), 0);
	CHECK_EQ(v, 0x1234);
	CHECK_EQ(pci_ecam_io(NULL, IO_READ, base, 8, &v), 0);
	CHECK_EQ(v & 0xffffffff, 0x12341af4);
	/* Extended space of a present function reads 0; absent: all-ones. */
	CHECK_EQ(pci_ecam_io(NULL, IO_READ, base + 0x100, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(pci_ecam_io(NULL, IO_READ, (uint64_t)9 << 15, 4, &v), 0);
	CHECK_EQ(v & 0xffffffff, 0xffffffff);
	CHECK_EQ(pci_ecam_io(NULL, IO_READ, (uint64_t)255 << 20 | 0xffc, 4,
	    &v), 0);
	CHECK_EQ(v & 0xffffffff, 0xffffffff);
	/* Writes go through the same guarded path. */
	v = 0xffffffff;
	CHECK_EQ(pci_ecam_io(NULL, IO_WRITE, base + PCIR_BAR(1), 4, &v), 0);
	CHECK_EQ(cfg32(3, 0, PCIR_BAR(1)), 0xfffff000);
	teardown();
}

TEST_MAIN()
