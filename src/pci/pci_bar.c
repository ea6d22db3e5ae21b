/*
 * pci_bar.c: base address registers (PCI Local Bus Specification 3.0,
 * §6.2.5; bhyve's pci_emul.c pci_emul_alloc_bar(), update_bar_address(),
 * register_bar()).
 *
 * A BAR is allocated at set-up in one of the platform's windows and then
 * belongs to the guest: it sizes it (writes all-ones and reads back the
 * mask), moves it anywhere, and switches decoding on and off with the
 * command register.  While its space is enabled a BAR is one range on the
 * I/O bus.  Where the guest puts it is not checked against RAM: KVM
 * serves RAM itself, so a BAR moved onto RAM is simply never reached.  A
 * BAR that would overlap another range (another BAR, a platform device,
 * the ECAM window), wrap past 2^64, or leave the 64 KiB port space does
 * not decode until it is moved somewhere free, which is what a guest
 * gets for programming conflicting addresses on real hardware too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "pci/pci_emul.h"
#include "pci/pci_impl.h"

#define MEM64_IN_32BIT_MAX	(256 * MiB)	/* bhyve's threshold */

static struct pci_windows pci_win;
static uint64_t pci_io_next, pci_mem32_next, pci_mem64_next;

void
pci_bar_windows(const struct pci_windows *win)
{
	pci_win = *win;
	pci_io_next = win->io_base;
	pci_mem32_next = win->mem32_base;
	pci_mem64_next = win->mem64_base;
}

/* Allocate size (a power of two) at its natural alignment below limit. */
static int
pci_window_alloc(uint64_t *next, uint64_t limit, uint64_t size,
    uint64_t *addr)
{
	uint64_t a;

	a = roundup2(*next, size);
	if (a < *next || a > limit || limit - a < size)
		return (-ENOSPC);
	*addr = a;
	*next = a + size;
	return (0);
}

/* The BAR register value for the current address and type. */
static uint32_t
pci_bar_encode(const struct pcibar *b, const struct pcibar *lo)
{
	switch (b->type) {
	case PCIBAR_IO:
		return ((uint32_t)b->addr | PCIM_BAR_IO_SPACE);
	case PCIBAR_MEM32:
		return ((uint32_t)b->addr |
		    (b->prefetch ? PCIM_BAR_MEM_PREFETCH : 0));
	case PCIBAR_MEM64:
		return ((uint32_t)b->addr | PCIM_BAR_MEM_64 |
		    (b->prefetch ? PCIM_BAR_MEM_PREFETCH : 0));
	case PCIBAR_MEMHI64:
		return ((uint32_t)(lo->addr >> 32));
	default:
		return (0);
	}
}

static void
pci_bar_store(struct pci_devinst *pi, int idx)
{
	const struct pcibar *lo = idx > 0 ? &pi->pi_bar[idx - 1] : NULL;

	pci_set_cfgdata32(pi, PCIR_BAR(idx), pci_bar_encode(&pi->pi_bar[idx],
	    lo));
}

static int
pci_bar_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct pci_barref *br = arg;
	struct pci_devinst *pi = br->br_pi;

	if (pci_msix_bar_io(pi, br->br_idx, dir, off, size, val))
		return (0);
	if (dir == IO_READ)
		*val = pi->pi_d->pe_barread != NULL ?
		    pi->pi_d->pe_barread(pi, br->br_idx, off, (int)size) :
		    ~0ULL;
	else if (pi->pi_d->pe_barwrite != NULL)
		pi->pi_d->pe_barwrite(pi, br->br_idx, off, (int)size, *val);
	return (0);
}

static bool
pci_bar_space_enabled(struct pci_devinst *pi, const struct pcibar *b)
{
	uint16_t cmd = pci_get_cfgdata16(pi, PCIR_COMMAND);

	return (b->type == PCIBAR_IO ? (cmd & PCIM_CMD_PORTEN) != 0 :
	    (cmd & PCIM_CMD_MEMEN) != 0);
}

/* Start or stop BAR idx (not an upper half) decoding; pi_lock held. */
static void
pci_bar_decode(struct pci_devinst *pi, int idx, bool on)
{
	struct pcibar *b = &pi->pi_bar[idx];
	enum io_space sp = b->type == PCIBAR_IO ? IO_PIO : IO_MMIO;
	int error;

	if (b->decoding == on)
		return;
	if (!on) {
		(void)io_unregister(pi->pi_ctx->dc_bus, sp, b->addr);
		b->decoding = false;
		if (pi->pi_d->pe_baraddr != NULL)
			pi->pi_d->pe_baraddr(pi, idx, false, b->addr);
		return;
	}
	pi->pi_barref[idx].br_pi = pi;
	pi->pi_barref[idx].br_idx = idx;
	error = io_register(pi->pi_ctx->dc_bus, sp, b->addr, b->size,
	    pci_bar_io, &pi->pi_barref[idx], pi->pi_name);
	if (error != 0) {
		if (log_verbose() >= 2)
			log_warnx_rl("%s: BAR %d at 0x%llx (%llu bytes) does "
			    "not decode: %s", pi->pi_name, idx,
			    (unsigned long long)b->addr,
			    (unsigned long long)b->size, error == -EEXIST ?
			    "overlaps another range" : "outside the space");
		return;
	}
	b->decoding = true;
	if (pi->pi_d->pe_baraddr != NULL)
		pi->pi_d->pe_baraddr(pi, idx, true, b->addr);
}

int
pci_emul_alloc_bar(struct pci_devinst *pi, int idx, enum pcibar_type type,
    uint64_t size, bool prefetch)
{
	struct pcibar *b;
	uint64_t addr;
	int error;

	if (idx < 0 || idx > PCI_BARMAX ||
	    (type == PCIBAR_MEM64 && idx == PCI_BARMAX) ||
	    pi->pi_bar[idx].type != PCIBAR_NONE ||
	    (type == PCIBAR_MEM64 && pi->pi_bar[idx + 1].type != PCIBAR_NONE) ||
	    size == 0 || size > (1ULL << 62) ||
	    (type == PCIBAR_IO && size > 256) ||
	    (type == PCIBAR_MEM32 && size > 1 * GiB))
		return (-EINVAL);
	if (type == PCIBAR_IO && prefetch)
		return (-EINVAL);
	/* Powers of two, at least the spec's minimum (§6.2.5.1). */
	size = size < (type == PCIBAR_IO ? 4 : 16) ?
	    (type == PCIBAR_IO ? 4 : 16) : size;
	if ((size & (size - 1)) != 0)
		size = 1ULL << (64 - __builtin_clzll(size));
	switch (type) {
	case PCIBAR_IO:
		error = pci_window_alloc(&pci_io_next, pci_win.io_limit, size,
		    &addr);
		break;
	case PCIBAR_MEM32:
		error = pci_window_alloc(&pci_mem32_next, pci_win.mem32_limit,
		    size, &addr);
		break;
	case PCIBAR_MEM64:
		if (size > MEM64_IN_32BIT_MAX)
			error = pci_window_alloc(&pci_mem64_next,
			    pci_win.mem64_limit, size, &addr);
		else
			error = pci_window_alloc(&pci_mem32_next,
			    pci_win.mem32_limit, size, &addr);
		break;
	default:
		return (-EINVAL);
	}
	if (error != 0) {
		log_warnx("%s: no room for BAR %d (%llu bytes) in the %s window",
		    pi->pi_name, idx, (unsigned long long)size,
		    type == PCIBAR_IO ? "I/O" : "memory");
		return (error);
	}
	pthread_mutex_lock(&pi->pi_lock);
	b = &pi->pi_bar[idx];
	b->type = type;
	b->size = size;
	b->addr = addr;
	b->prefetch = prefetch;
	b->decoding = false;
	pci_bar_store(pi, idx);
	if (type == PCIBAR_MEM64) {
		pi->pi_bar[idx + 1].type = PCIBAR_MEMHI64;
		pi->pi_bar[idx + 1].size = size;
		pci_bar_store(pi, idx + 1);
	}
	pthread_mutex_unlock(&pi->pi_lock);
	return (0);
}

uint64_t
pci_bar_addr(struct pci_devinst *pi, int idx)
{
	uint64_t a;

	if (idx < 0 || idx > PCI_BARMAX)
		return (0);
	pthread_mutex_lock(&pi->pi_lock);
	a = pi->pi_bar[idx].addr;
	pthread_mutex_unlock(&pi->pi_lock);
	return (a);
}

/*
 * A guest write of bytes at off (within 0x10-0x27) of a BAR register, with
 * pi_lock held.  Partial writes merge into the register; the result is
 * masked by the BAR's size (sizing reads back ~(size - 1)) and moves the
 * BAR, which re-registers it if its space is enabled.
 */
void
pci_bar_cfgwrite(struct pci_devinst *pi, int off, int bytes, uint32_t val)
{
	int idx = (off - PCIR_BAR0) / 4, base, shift;
	struct pcibar *b = &pi->pi_bar[idx], *lo;
	uint32_t reg, mask;
	uint64_t addr;

	if (b->type == PCIBAR_NONE)
		return;			/* unimplemented BARs read 0 */
	shift = (off & 3) * 8;
	mask = bytes == 4 ? ~0u : ((1u << (bytes * 8)) - 1) << shift;
	reg = pci_get_cfgdata32(pi, PCIR_BAR(idx));
	reg = (reg & ~mask) | ((val << shift) & mask);

	base = b->type == PCIBAR_MEMHI64 ? idx - 1 : idx;
	lo = &pi->pi_bar[base];
	switch (b->type) {
	case PCIBAR_IO:
		addr = reg & ~(uint32_t)(b->size - 1) & ~3u;
		break;
	case PCIBAR_MEM32:
		addr = reg & ~(uint32_t)(b->size - 1) & ~0xfu;
		break;
	case PCIBAR_MEM64:
		addr = (lo->addr & ~0xffffffffULL) |
		    (reg & (uint32_t)~(b->size - 1) & ~0xfu);
		break;
	case PCIBAR_MEMHI64:
		addr = ((uint64_t)reg << 32 & ~(lo->size - 1)) |
		    (lo->addr & 0xffffffffULL);
		break;
	default:
		return;
	}
	pci_bar_decode(pi, base, false);
	lo->addr = addr;
	pci_bar_store(pi, base);
	if (lo->type == PCIBAR_MEM64)
		pci_bar_store(pi, base + 1);
	if (pci_bar_space_enabled(pi, lo))
		pci_bar_decode(pi, base, true);
}

/*
 * The command register changed from old to new (pi_lock held): start or
 * stop every BAR of the spaces whose enable bit changed.
 */
void
pci_bar_command(struct pci_devinst *pi, uint16_t old, uint16_t new)
{
	struct pcibar *b;
	int i;

	if (((old ^ new) & (PCIM_CMD_PORTEN | PCIM_CMD_MEMEN)) == 0)
		return;
	for (i = 0; i <= PCI_BARMAX; i++) {
		b = &pi->pi_bar[i];
		if (b->type == PCIBAR_NONE || b->type == PCIBAR_MEMHI64)
			continue;
		pci_bar_decode(pi, i, pci_bar_space_enabled(pi, b));
	}
}

/* Stop every BAR decoding (pci_fini); pi_lock held. */
void
pci_bar_release(struct pci_devinst *pi)
{
	int i;

	for (i = 0; i <= PCI_BARMAX; i++)
		if (pi->pi_bar[i].type != PCIBAR_NONE &&
		    pi->pi_bar[i].type != PCIBAR_MEMHI64)
			pci_bar_decode(pi, i, false);
}
