/*
 * pci_lpc.h: the PCI-ISA (LPC) bridge and the legacy devices behind it.
 */
#ifndef PCI_LPC_H
#define PCI_LPC_H


/* Bit n set when COM(n+1) exists (for the ACPI tables). */
unsigned lpc_com_mask(void);

#endif /* PCI_LPC_H */
