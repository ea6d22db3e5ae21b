/*
 * pci_lpc.c: the LPC bridge (bhyve's amd64/pci_lpc.c): a PCI-ISA bridge
 * function with Intel's IDs that hosts the COM ports configured with -l.
 * Only one may exist, on bus 0.
 */
#include <errno.h>
#include <stdio.h>
#include "arch/x86/layout.h"
#include "hw/ns16550.h"
#include "log.h"
#include "pci/pci_emul.h"
#include "pci/pci_lpc.h"

static const struct lpc_uart {
	const char	*name;
	uint16_t	port;
	unsigned	irq;
} lpc_uarts[] = {
	{ "com1", IO_COM1, IRQ_COM1_3 },
	{ "com2", IO_COM2, IRQ_COM2_4 },
	{ "com3", IO_COM3, IRQ_COM1_3 },
	{ "com4", IO_COM4, IRQ_COM2_4 },
};

static struct pci_devinst *lpc_bridge;
static unsigned lpc_coms;		/* COM ports created, bit n = COM(n+1) */

unsigned
lpc_com_mask(void)
{
	return (lpc_coms);
}

static int
lpc_init_uarts(const struct devctx *dc)
{
	struct uart_softc *sc;
	const char *path;
	char key[32];
	size_t i;
	int error;

	for (i = 0; i < nitems(lpc_uarts); i++) {
		snprintf(key, sizeof(key), "lpc.%s.path", lpc_uarts[i].name);
		path = config_get(NULL, key);
		if (path == NULL)
			continue;
		sc = uart_init(dc, lpc_uarts[i].irq, lpc_uarts[i].name);
		if (sc == NULL) {
			log_warnx("-l %s: cannot create the UART",
			    lpc_uarts[i].name);
			return (-ENOMEM);
		}
		error = uart_set_backend(sc, path);
		if (error != 0)
			return (error);
		error = io_register(dc->dc_bus, IO_PIO, lpc_uarts[i].port, 8,
		    uart_io, sc, lpc_uarts[i].name);
		if (error != 0) {
			log_warnx("-l %s: port 0x%x is taken", lpc_uarts[i].name,
			    lpc_uarts[i].port);
			return (error);
		}
		lpc_coms |= 1u << i;
	}
	return (0);
}

static int
lpc_reg(struct pci_devinst *pi, const char *key, int64_t def, int off,
    int bytes)
{
	char path[48];
	int64_t v;

	snprintf(path, sizeof(path), "lpc.pcireg.%s", key);
	if (config_get_int64(NULL, path, def, &v) != 0 || v < 0 ||
	    v >= (1LL << (bytes * 8))) {
		log_warnx("config: %s: bad value", path);
		return (-EINVAL);
	}
	if (bytes == 1)
		pci_set_cfgdata8(pi, off, (uint8_t)v);
	else
		pci_set_cfgdata16(pi, off, (uint16_t)v);
	return (0);
}

static int
pci_lpc_init(struct pci_devinst *pi, struct config_node *nvl)
{
	if (lpc_bridge != NULL) {
		log_warnx("-s %d:%d,lpc: only one LPC bridge is allowed",
		    pi->pi_slot, pi->pi_func);
		return (-EINVAL);
	}
	if (pi->pi_bus != 0) {
		log_warnx("-s %d:%d:%d,lpc: the LPC bridge must be on bus 0",
		    pi->pi_bus, pi->pi_slot, pi->pi_func);
		return (-EINVAL);
	}
	if (lpc_reg(pi, "vendor", 0x8086, PCIR_VENDOR, 2) != 0 ||
	    lpc_reg(pi, "device", 0x7000, PCIR_DEVICE, 2) != 0 ||
	    lpc_reg(pi, "revid", 0, PCIR_REVID, 1) != 0 ||
	    lpc_reg(pi, "subvendor", 0, PCIR_SUBVEND_0, 2) != 0 ||
	    lpc_reg(pi, "subdevice", 0, PCIR_SUBDEV_0, 2) != 0)
		return (-EINVAL);
	pci_set_cfgdata8(pi, PCIR_CLASS, PCIC_BRIDGE);
	pci_set_cfgdata8(pi, PCIR_SUBCLASS, PCIS_BRIDGE_ISA);
	pci_set_cfgdata8(pi, PCIR_HDRTYPE, PCIM_HDRTYPE_NORMAL);
	lpc_bridge = pi;
	return (lpc_init_uarts(pi->pi_ctx));
}

/*
 * The PIRQ routing registers (PIIX3 PIRQRC[A:D] at 0x60-0x63; bhyve adds
 * E-H at 0x68-0x6b) belong to pci_irq.c: the guest re-routes INTx links
 * to ISA IRQs through them.
 */
static int
lpc_pirq_index(int off)
{
	if (off >= 0x60 && off <= 0x63)
		return (off - 0x60);
	if (off >= 0x68 && off <= 0x6b)
		return (off - 0x68 + 4);
	return (-1);
}

static int
pci_lpc_cfgwrite(struct pci_devinst *pi, int off, int bytes, uint32_t val)
{
	int i;

	if (lpc_pirq_index(off) < 0)
		return (1);
	for (i = 0; i < bytes; i++, val >>= 8)
		if (lpc_pirq_index(off + i) >= 0)
			pci_pirq_write(lpc_pirq_index(off + i), (uint8_t)val);
	return (0);
}

static int
pci_lpc_cfgread(struct pci_devinst *pi, int off, int bytes, uint32_t *val)
{
	int i;

	if (lpc_pirq_index(off) < 0)
		return (1);
	*val = 0;
	for (i = bytes - 1; i >= 0; i--)
		*val = *val << 8 | (lpc_pirq_index(off + i) >= 0 ?
		    pci_pirq_read(lpc_pirq_index(off + i)) : 0);
	return (0);
}

const struct pci_devemu pci_de_lpc = {
	.pe_emu = "lpc",
	.pe_init = pci_lpc_init,
	.pe_cfgwrite = pci_lpc_cfgwrite,
	.pe_cfgread = pci_lpc_cfgread,
};
PCI_EMUL_SET(pci_de_lpc);
