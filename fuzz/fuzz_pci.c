/*
 * fuzz_pci.c: a guest's view of PCI, driven at random: configuration
 * space through mechanism #1 and ECAM (BAR sizing and moves onto RAM,
 * onto each other and across 4 GiB, command decode enables, capability
 * bytes, MSI and MSI-X control, LPC PIRQ registers), accesses anywhere in
 * the BAR windows (MSI-X tables and PBAs scribbled), and the devices
 * raising MSI, MSI-X and INTx.  Nothing may crash or leak, and each
 * INTx line ends as the OR of the functions that drive it.
 *
 * The input is a list of 8-byte records: op, then a 7-byte argument
 * (little-endian).  op % 8: 0 cfg write, 1 cfg read, 2 MMIO write,
 * 3 MMIO read, 4 port write, 5 port read, 6 ECAM access, 7 interrupt.
 * The devices are created and destroyed per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t barmem[PCI_BARMAX + 1][64];	/* the device's registers */

static int
fz_init(struct pci_devinst *pi, struct config_node *nvl)
{
	int error;

	if ((error = pci_emul_alloc_bar(pi, 0, PCIBAR_IO, 64, false)) != 0 ||
	    (error = pci_emul_alloc_bar(pi, 1, PCIBAR_MEM32, 4096, false)) != 0 ||
	    (error = pci_emul_add_msicap(pi, 8)) != 0 ||
	    (error = pci_emul_add_msixcap(pi, 33, 2)) != 0 ||
	    (error = pci_emul_alloc_bar(pi, 4, PCIBAR_MEM64, 1ULL << 30,
	    true)) != 0)
		return (error);
	pci_lintr_request(pi);
	return (0);
}

static uint64_t
fz_barread(struct pci_devinst *pi, int idx, uint64_t off, int size)
{
	uint64_t v = 0;

	if (off + (uint64_t)size <= sizeof(barmem[idx]))
		memcpy(&v, (uint8_t *)barmem[idx] + off, (size_t)size);
	return (v);
}

static void
fz_barwrite(struct pci_devinst *pi, int idx, uint64_t off, int size,
    uint64_t val)
{
	if (off + (uint64_t)size <= sizeof(barmem[idx]))
		memcpy((uint8_t *)barmem[idx] + off, &val, (size_t)size);
}

static const struct pci_devemu pci_de_fuzz = {
	.pe_emu = "fuzzdev",
	.pe_init = fz_init,
	.pe_barread = fz_barread,
	.pe_barwrite = fz_barwrite,
};
PCI_EMUL_SET(pci_de_fuzz);

static const unsigned sizes[4] = { 1, 2, 4, 8 };

/* Addresses a guest would aim at: the windows, RAM, the top of memory. */
static uint64_t
fz_addr(uint64_t a)
{
	switch ((a >> 52) & 3) {
	case 0:
		return (PCI_MMIO32_BASE + (a & 0x1fffffff));
	case 1:
		return (32 * GiB + (a & 0x7fffffff));
	case 2:
		return (a & 0xfffff);			/* RAM */
	default:
		return (~0ULL - (a & 0xffff));		/* the top */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pci_windows win = {
		.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
		.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
		.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
	};
	struct pci_devinst *pi[3];
	struct fake_vm fv;
	uint64_t arg, v;
	unsigned sz, i;
	int slot, func, off, g;
	uint8_t op;

	config_init();
	if (config_set(NULL, "pci.0.3.0.device", "fuzzdev") != 0 ||
	    config_set(NULL, "pci.0.3.1.device", "fuzzdev") != 0 ||
	    config_set(NULL, "pci.0.5.0.device", "fuzzdev") != 0)
		abort();
	fake_vm_init(&fv, 64 * 1024, 1);
	if (io_register(&fv.bus, IO_MMIO, PCI_ECAM_BASE, PCI_ECAM_SIZE,
	    pci_ecam_io, NULL, "ecam") != 0 || pci_init(&fv.dc, &win) != 0)
		abort();
	pi[0] = pci_find_dev(0, 3, 0);
	pi[1] = pci_find_dev(0, 3, 1);
	pi[2] = pci_find_dev(0, 5, 0);

	for (; size >= 8; data += 8, size -= 8) {
		op = data[0];
		arg = 0;
		memcpy(&arg, data + 1, 7);
		sz = sizes[(op >> 3) & 3];
		/* Slots 3, 5 and an empty one; functions 0, 1 and 7. */
		slot = ((op >> 5) & 3) == 0 ? 3 : ((op >> 5) & 3) == 1 ? 5 :
		    ((op >> 5) & 3) == 2 ? 3 : 9;
		func = (op & 0x80) ? 1 : 0;
		off = (int)(arg & 0xff);
		v = arg >> 8;
		switch (op % 8) {
		case 0:
			pci_cfg_write(0, slot, func, off & ~(int)(sz > 4 ? 3 :
			    sz - 1), sz > 4 ? 4 : (int)sz, (uint32_t)v);
			break;
		case 1:
			v = pci_cfg_read(0, slot, func, off, sz > 4 ? 4 :
			    (int)sz);
			break;
		case 2:
			(void)io_dispatch(&fv.bus, IO_MMIO, IO_WRITE,
			    fz_addr(arg) & ~(uint64_t)(sz - 1), sz, &v);
			break;
		case 3:
			(void)io_dispatch(&fv.bus, IO_MMIO, IO_READ,
			    fz_addr(arg), sz, &v);
			break;
		case 4:
			(void)io_dispatch(&fv.bus, IO_PIO, IO_WRITE,
			    IO_PCI_IOBASE + (arg & 0x3fff), sz > 4 ? 4 : sz,
			    &v);
			break;
		case 5:
			(void)io_dispatch(&fv.bus, IO_PIO, IO_READ,
			    IO_PCI_IOBASE + (arg & 0x3fff), sz > 4 ? 4 : sz,
			    &v);
			break;
		case 6:
			(void)io_dispatch(&fv.bus, IO_MMIO, (op & 0x80) ?
			    IO_WRITE : IO_READ, PCI_ECAM_BASE + (arg &
			    (PCI_ECAM_SIZE - 1) & ~(uint64_t)(sz - 1)), sz, &v);
			break;
		default:
			g = (int)(arg & 0xff) - 2;	/* -2 .. 253 */
			i = (unsigned)(arg >> 8) % 3;
			switch ((arg >> 16) & 3) {
			case 0:
				pci_generate_msi(pi[i], g);
				break;
			case 1:
				pci_generate_msix(pi[i], g);
				break;
			case 2:
				pci_lintr_assert(pi[i]);
				break;
			default:
				pci_lintr_deassert(pi[i]);
				break;
			}
			break;
		}
	}
	/* Each I/O APIC pin is the OR of the functions driving it. */
	for (g = 16; g < 24; g++) {
		int want = 0;

		for (i = 0; i < 3; i++)
			if (pi[i]->pi_lintr_driving &&
			    (int)pi[i]->pi_lintr_gsi == g)
				want = 1;
		if (fv.irq_level[g] != want)
			abort();
	}
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
	return (0);
}
