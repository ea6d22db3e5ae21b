/*
 * pci_hostbridge.c: the host bridge (bhyve's pci_hostbridge.c): a class
 * 06/00 function with NetApp's IDs, or AMD's vendor ID for
 * amd_hostbridge; pcireg.vendor / pcireg.device override them.
 */
#include <errno.h>
#include "log.h"
#include "pci/pci_emul.h"

static int
pci_hostbridge_ids(struct pci_devinst *pi, struct config_node *nvl,
    uint16_t vendor, uint16_t device)
{
	int64_t v, d;

	if (config_get_int64(nvl, "pcireg.vendor", vendor, &v) != 0 ||
	    v < 0 || v > 0xffff) {
		log_warnx("%s: pcireg.vendor: bad value", pi->pi_name);
		return (-EINVAL);
	}
	if (config_get_int64(nvl, "pcireg.device", device, &d) != 0 ||
	    d < 0 || d > 0xffff) {
		log_warnx("%s: pcireg.device: bad value", pi->pi_name);
		return (-EINVAL);
	}
	pci_set_cfgdata16(pi, PCIR_VENDOR, (uint16_t)v);
	pci_set_cfgdata16(pi, PCIR_DEVICE, (uint16_t)d);
	pci_set_cfgdata8(pi, PCIR_HDRTYPE, PCIM_HDRTYPE_NORMAL);
	pci_set_cfgdata8(pi, PCIR_CLASS, PCIC_BRIDGE);
	pci_set_cfgdata8(pi, PCIR_SUBCLASS, PCIS_BRIDGE_HOST);
	return (0);
}

static int
pci_hostbridge_init(struct pci_devinst *pi, struct config_node *nvl)
{
	return (pci_hostbridge_ids(pi, nvl, 0x1275, 0x1275));
}

static int
pci_amd_hostbridge_init(struct pci_devinst *pi, struct config_node *nvl)
{
	return (pci_hostbridge_ids(pi, nvl, 0x1022, 0x7432));
}

const struct pci_devemu pci_de_hostbridge = {
	.pe_emu = "hostbridge",
	.pe_init = pci_hostbridge_init,
};
PCI_EMUL_SET(pci_de_hostbridge);

const struct pci_devemu pci_de_amd_hostbridge = {
	.pe_emu = "amd_hostbridge",
	.pe_init = pci_amd_hostbridge_init,
};
PCI_EMUL_SET(pci_de_amd_hostbridge);
