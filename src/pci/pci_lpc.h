/*
 * pci_lpc.h: the PCI-ISA (LPC) bridge and the legacy devices behind it.
 */
#ifndef PCI_LPC_H
#define PCI_LPC_H

#include <stdbool.h>

/* True once an lpc device was created (pci_init). */
bool	lpc_present(void);

#endif /* PCI_LPC_H */
