/*
 * pci_impl.h: what the PCI framework's files share; not for devices.
 */
#ifndef PCI_IMPL_H
#define PCI_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include "pci/pci_emul.h"

/* pci_bar.c */
/* Start allocating BARs afresh in win. */
void	pci_bar_windows(const struct pci_windows *win);
/* A guest write to a BAR register (off in 0x10-0x27); pi_lock held. */
void	pci_bar_cfgwrite(struct pci_devinst *pi, int off, int bytes,
	    uint32_t val);
/* The command register changed: decode enables; pi_lock held. */
void	pci_bar_command(struct pci_devinst *pi, uint16_t old, uint16_t new);
/* Stop every BAR decoding; pi_lock held. */
void	pci_bar_release(struct pci_devinst *pi);

/* pci_msi.c */
/*
 * An access to BAR idx at off: true when it hit the MSI-X table or PBA
 * (and was handled), false when it is the device's.
 */
bool	pci_msix_bar_io(struct pci_devinst *pi, int idx, enum io_dir dir,
	    uint64_t off, unsigned size, uint64_t *val);
/*
 * A guest write to config space at off within a capability (pi_lock
 * held): true when the framework owns that capability (MSI, MSI-X) and
 * handled it.
 */
bool	pci_cap_cfgwrite(struct pci_devinst *pi, int off, int bytes,
	    uint32_t val);
/* The capability holding byte off, or NULL. */
const struct pci_cap *pci_cap_at(const struct pci_devinst *pi, int off);
/* Free MSI-X tables. */
void	pci_msi_release(struct pci_devinst *pi);

/* pci_irq.c */
/* Forget every INTx route and PIRQ setting (pci_init, pci_fini). */
void	pci_irq_reset(void);
/* Command register INTx disable changed; pi_lock held. */
void	pci_lintr_command(struct pci_devinst *pi, bool disabled);

#endif /* PCI_IMPL_H */
