/*
 * pci_emul.c: PCI devices on bus 0..255 and configuration mechanism #1
 * (PCI Local Bus Specification 3.0, §3.2.2.3.2; bhyve's pci_emul.c).
 *
 * Devices are created from the config tree's pci.B.S.F nodes by the
 * emulation named in their "device" key.  Config space is 256 bytes per
 * function; the framework keeps the standard header read-only except the
 * registers software may write, and passes the rest to the emulation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/layout.h"
#include "log.h"
#include "pci/pci_emul.h"
#include "pci/pci_impl.h"

/* One array of 32 x 8 device pointers per bus that has devices. */
static struct pci_devinst **pci_buses[PCI_MAXBUSES];
static uint32_t pci_cfgaddr;		/* the 0xcf8 latch */
static pthread_mutex_t pci_cfgaddr_lock = PTHREAD_MUTEX_INITIALIZER;

const struct pci_devemu *
pci_emul_finddev(const char *name)
{
	const struct pci_devemu *const *pdpp;

	if (name == NULL)
		return (NULL);
	SET_FOREACH(pdpp, pci_devemu_set) {
		if (strcmp((*pdpp)->pe_emu, name) == 0 ||
		    ((*pdpp)->pe_alias != NULL &&
		    strcmp((*pdpp)->pe_alias, name) == 0))
			return (*pdpp);
	}
	return (NULL);
}

struct pci_devinst *
pci_find_dev(int bus, int slot, int func)
{
	if (bus < 0 || bus >= PCI_MAXBUSES || slot < 0 ||
	    slot >= PCI_MAXSLOTS || func < 0 || func >= PCI_MAXFUNCS ||
	    pci_buses[bus] == NULL)
		return (NULL);
	return (pci_buses[bus][slot * PCI_MAXFUNCS + func]);
}

void
pci_set_cfgdata8(struct pci_devinst *pi, int off, uint8_t val)
{
	if (off >= 0 && off <= PCI_REGMAX)
		pi->pi_cfgspace[off] = val;
}

void
pci_set_cfgdata16(struct pci_devinst *pi, int off, uint16_t val)
{
	pci_set_cfgdata8(pi, off, val);
	pci_set_cfgdata8(pi, off + 1, val >> 8);
}

void
pci_set_cfgdata32(struct pci_devinst *pi, int off, uint32_t val)
{
	pci_set_cfgdata16(pi, off, val);
	pci_set_cfgdata16(pi, off + 2, val >> 16);
}

uint8_t
pci_get_cfgdata8(struct pci_devinst *pi, int off)
{
	return (off >= 0 && off <= PCI_REGMAX ? pi->pi_cfgspace[off] : 0xff);
}

uint16_t
pci_get_cfgdata16(struct pci_devinst *pi, int off)
{
	return (pci_get_cfgdata8(pi, off) |
	    (uint16_t)pci_get_cfgdata8(pi, off + 1) << 8);
}

uint32_t
pci_get_cfgdata32(struct pci_devinst *pi, int off)
{
	return (pci_get_cfgdata16(pi, off) |
	    (uint32_t)pci_get_cfgdata16(pi, off + 2) << 16);
}

/* Function 0 of a slot with other functions reports a multi-function device. */
static bool
pci_slot_is_mf(int bus, int slot)
{
	int f;

	for (f = 1; f < PCI_MAXFUNCS; f++)
		if (pci_find_dev(bus, slot, f) != NULL)
			return (true);
	return (false);
}

/*
 * Bytes of the standard header software may write (cache line size,
 * latency timer, interrupt line), and device-specific space outside the
 * capabilities.  The command register, the BARs and the framework's
 * capabilities have handlers of their own.
 */
static bool
pci_hdr_writable(const struct pci_devinst *pi, int off)
{
	switch (off) {
	case 0x0c:
	case 0x0d:
	case PCIR_INTLINE:
		return (true);
	default:
		return (off >= 0x40 && pci_cap_at(pi, off) == NULL);
	}
}

/* The writable command bits (PCI 3.0 §6.2.2) of a function without VGA. */
#define PCIM_CMD_WRITABLE	(PCIM_CMD_PORTEN | PCIM_CMD_MEMEN | \
	PCIM_CMD_BUSMASTEREN | 0x0040 /* parity */ | 0x0100 /* SERR */ | \
	PCIM_CMD_INTxDIS)

/* Byte-wise write of the command register; pi_lock held. */
static void
pci_cmd_write(struct pci_devinst *pi, int off, int bytes, uint32_t val)
{
	uint16_t old, new;
	int i;

	old = pci_get_cfgdata16(pi, PCIR_COMMAND);
	new = old;
	for (i = 0; i < bytes; i++, val >>= 8) {
		if (off + i == PCIR_COMMAND)
			new = (uint16_t)((new & 0xff00) | (val & 0xff));
		else if (off + i == PCIR_COMMAND + 1)
			new = (uint16_t)((new & 0x00ff) | (val & 0xff) << 8);
	}
	new = (uint16_t)((new & PCIM_CMD_WRITABLE) |
	    (old & ~PCIM_CMD_WRITABLE));
	pci_set_cfgdata16(pi, PCIR_COMMAND, new);
	pci_bar_command(pi, old, new);
	if ((old ^ new) & PCIM_CMD_INTxDIS)
		pci_lintr_command(pi, (new & PCIM_CMD_INTxDIS) != 0);
}

uint32_t
pci_cfg_read(int bus, int slot, int func, int off, int bytes)
{
	struct pci_devinst *pi;
	uint32_t val = 0;
	int i;

	pi = pci_find_dev(bus, slot, func);
	if (pi == NULL || off < 0 || off + bytes > PCI_REGMAX + 1 ||
	    (bytes != 1 && bytes != 2 && bytes != 4) || (off & (bytes - 1)))
		return (bytes == 4 ? 0xffffffffu : (1u << (bytes * 8)) - 1);
	pthread_mutex_lock(&pi->pi_lock);
	if (pi->pi_d->pe_cfgread == NULL ||
	    pi->pi_d->pe_cfgread(pi, off, bytes, &val) != 0) {
		val = 0;
		for (i = bytes - 1; i >= 0; i--)
			val = val << 8 | pi->pi_cfgspace[off + i];
		if (func == 0 && off <= PCIR_HDRTYPE &&
		    off + bytes > PCIR_HDRTYPE && pci_slot_is_mf(bus, slot))
			val |= (uint32_t)PCIM_MFDEV << ((PCIR_HDRTYPE - off) * 8);
	}
	pthread_mutex_unlock(&pi->pi_lock);
	return (val);
}

void
pci_cfg_write(int bus, int slot, int func, int off, int bytes, uint32_t val)
{
	struct pci_devinst *pi;
	int i;

	pi = pci_find_dev(bus, slot, func);
	if (pi == NULL || off < 0 || off + bytes > PCI_REGMAX + 1 ||
	    (bytes != 1 && bytes != 2 && bytes != 4) || (off & (bytes - 1)))
		return;
	pthread_mutex_lock(&pi->pi_lock);
	/* What the framework owns first; naturally aligned, so no access
	 * spans two of these registers. */
	if (off >= PCIR_COMMAND && off < PCIR_COMMAND + 2)
		pci_cmd_write(pi, off, bytes, val);
	else if (off >= PCIR_BAR0 && off < PCIR_BAR(PCI_BARMAX + 1))
		pci_bar_cfgwrite(pi, off, bytes, val);
	else if (pci_cap_cfgwrite(pi, off, bytes, val))
		;
	else if (pi->pi_d->pe_cfgwrite == NULL ||
	    pi->pi_d->pe_cfgwrite(pi, off, bytes, val) != 0) {
		for (i = 0; i < bytes; i++, val >>= 8)
			if (pci_hdr_writable(pi, off + i))
				pi->pi_cfgspace[off + i] = val & 0xff;
	}
	pthread_mutex_unlock(&pi->pi_lock);
}

int
pci_cfgaddr_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	/* Only a dword access at 0xcf8 reaches the latch (PCI 3.0 §3.2.2.3.2). */
	if (off != 0 || size != 4) {
		if (dir == IO_READ)
			*val = ~0ULL;
		return (0);
	}
	pthread_mutex_lock(&pci_cfgaddr_lock);
	if (dir == IO_READ)
		*val = pci_cfgaddr;
	else
		pci_cfgaddr = (uint32_t)*val & 0x80fffffcu;
	pthread_mutex_unlock(&pci_cfgaddr_lock);
	return (0);
}

int
pci_cfgdata_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	uint32_t addr;
	int bus, slot, func, reg;

	pthread_mutex_lock(&pci_cfgaddr_lock);
	addr = pci_cfgaddr;
	pthread_mutex_unlock(&pci_cfgaddr_lock);
	if ((addr & 0x80000000u) == 0 || size > 4) {
		if (dir == IO_READ)
			*val = ~0ULL;
		return (0);
	}
	bus = (addr >> 16) & 0xff;
	slot = (addr >> 11) & 0x1f;
	func = (addr >> 8) & 0x7;
	reg = (addr & 0xfc) + (int)off;
	if (dir == IO_READ)
		*val = pci_cfg_read(bus, slot, func, reg, (int)size);
	else
		pci_cfg_write(bus, slot, func, reg, (int)size, (uint32_t)*val);
	return (0);
}

/* Parse a decimal node name in [0, max). */
static int
pci_node_num(const char *name, int max)
{
	char *end;
	long v;

	v = strtol(name, &end, 10);
	if (*name == '\0' || *end != '\0' || v < 0 || v >= max)
		return (-1);
	return ((int)v);
}

static int
pci_add_dev(const struct devctx *dc, int bus, int slot, int func,
    struct config_node *fnode)
{
	const struct pci_devemu *pe;
	struct pci_devinst *pi;
	const char *emul;
	int error;

	emul = config_get(fnode, "device");
	if (emul == NULL) {
		log_warnx("pci %d:%d:%d: no device emulation configured", bus,
		    slot, func);
		return (-EINVAL);
	}
	pe = pci_emul_finddev(emul);
	if (pe == NULL) {
		log_warnx("pci %d:%d:%d: unknown device \"%s\"", bus, slot, func,
		    emul);
		return (-EINVAL);
	}
	if (pci_buses[bus] == NULL) {
		pci_buses[bus] = calloc(PCI_MAXSLOTS * PCI_MAXFUNCS,
		    sizeof(*pci_buses[bus]));
		if (pci_buses[bus] == NULL)
			return (-ENOMEM);
	}
	pi = calloc(1, sizeof(*pi));
	if (pi == NULL)
		return (-ENOMEM);
	pi->pi_d = pe;
	pi->pi_ctx = dc;
	pi->pi_bus = bus;
	pi->pi_slot = slot;
	pi->pi_func = func;
	pthread_mutex_init(&pi->pi_lock, NULL);
	pthread_mutex_init(&pi->pi_intr_lock, NULL);
	snprintf(pi->pi_name, sizeof(pi->pi_name), "%s %d:%d:%d", pe->pe_emu,
	    pi->pi_bus, pi->pi_slot, pi->pi_func);
	error = pe->pe_init(pi, fnode);
	if (error != 0) {
		pci_msi_release(pi);
		free(pi);
		return (error);
	}
	pci_buses[bus][slot * PCI_MAXFUNCS + func] = pi;
	return (0);
}

int
pci_init(const struct devctx *dc, const struct pci_windows *win)
{
	struct config_node *pci, *bnode, *snode, *fnode;
	int bus, slot, func, error;

	pci_bar_windows(win);
	pci_irq_reset();
	pci = config_find_node(NULL, "pci");
	if (pci == NULL)
		return (0);
	for (bnode = config_node_first(pci); bnode != NULL;
	    bnode = config_node_next(bnode)) {
		bus = pci_node_num(config_node_name(bnode), PCI_MAXBUSES);
		if (bus < 0 || config_node_is_leaf(bnode)) {
			log_warnx("config: pci.%s: not a PCI bus number",
			    config_node_name(bnode));
			return (-EINVAL);
		}
		for (snode = config_node_first(bnode); snode != NULL;
		    snode = config_node_next(snode)) {
			slot = pci_node_num(config_node_name(snode), PCI_MAXSLOTS);
			if (slot < 0 || config_node_is_leaf(snode)) {
				log_warnx("config: pci.%d.%s: not a PCI slot "
				    "number", bus, config_node_name(snode));
				return (-EINVAL);
			}
			for (fnode = config_node_first(snode); fnode != NULL;
			    fnode = config_node_next(fnode)) {
				func = pci_node_num(config_node_name(fnode),
				    PCI_MAXFUNCS);
				if (func < 0 || config_node_is_leaf(fnode)) {
					log_warnx("config: pci.%d.%d.%s: not a "
					    "PCI function number", bus, slot,
					    config_node_name(fnode));
					return (-EINVAL);
				}
				error = pci_add_dev(dc, bus, slot, func, fnode);
				if (error != 0)
					return (error);
			}
		}
	}
	return (0);
}

void
pci_stop(void)
{
	struct pci_devinst *pi;
	int b, i;

	for (b = 0; b < PCI_MAXBUSES; b++)
		for (i = 0; pci_buses[b] != NULL &&
		    i < PCI_MAXSLOTS * PCI_MAXFUNCS; i++) {
			pi = pci_buses[b][i];
			if (pi != NULL && pi->pi_d->pe_stop != NULL)
				pi->pi_d->pe_stop(pi);
		}
}

void
pci_fini(void)
{
	struct pci_devinst *pi;
	int b, i;

	for (b = 0; b < PCI_MAXBUSES; b++) {
		if (pci_buses[b] == NULL)
			continue;
		for (i = 0; i < PCI_MAXSLOTS * PCI_MAXFUNCS; i++) {
			pi = pci_buses[b][i];
			if (pi == NULL)
				continue;
			pthread_mutex_lock(&pi->pi_lock);
			pci_bar_release(pi);
			pthread_mutex_unlock(&pi->pi_lock);
			if (pi->pi_d->pe_fini != NULL)
				pi->pi_d->pe_fini(pi);
			pci_msi_release(pi);
			pthread_mutex_destroy(&pi->pi_lock);
			pthread_mutex_destroy(&pi->pi_intr_lock);
			free(pi);
		}
		free(pci_buses[b]);
		pci_buses[b] = NULL;
	}
	pci_irq_reset();
}
