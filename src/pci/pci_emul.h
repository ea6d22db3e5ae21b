/*
 * pci_emul.h: PCI device emulation framework (bhyve's pci_emul.h).
 *
 * Each emulation is a const struct pci_devemu placed in a linker set with
 * PCI_EMUL_SET(); pci_init() walks the config tree's pci.B.S.F nodes and
 * calls pe_init for each.  Configuration space is reached through
 * mechanism #1 (0xcf8/0xcfc) on bus 0.
 */
#ifndef PCI_EMUL_H
#define PCI_EMUL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "devctx.h"
#include "khyve.h"

#define PCI_MAXBUSES	256
#define PCI_MAXSLOTS	32
#define PCI_MAXFUNCS	8
#define PCI_REGMAX	255
#define PCI_BARMAX	5

struct pci_devinst;

struct pci_devemu {
	const char	*pe_emu;	/* name used with -s */
	const char	*pe_alias;	/* another accepted name, or NULL */
	/*
	 * Set up the device from its config node.  Returns 0 or -errno
	 * after printing a message naming the device and the problem.
	 */
	int	(*pe_init)(struct pci_devinst *pi, struct config_node *nvl);
	/*
	 * Turn the legacy "-s slot,emul,OPTS" string into keys below nvl.
	 * NULL means OPTS is a list of key=value pairs (the default).
	 * Returns 0 or -EINVAL after printing a message.
	 */
	int	(*pe_legacy_config)(struct config_node *nvl, const char *opts);
	/*
	 * Config-space hooks: return 0 when handled, non-zero to let the
	 * framework do the default (store to / load from pi_cfgspace).
	 */
	int	(*pe_cfgwrite)(struct pci_devinst *pi, int off, int bytes,
		    uint32_t val);
	int	(*pe_cfgread)(struct pci_devinst *pi, int off, int bytes,
		    uint32_t *val);
	/* BAR accesses (offset within the BAR). */
	void	(*pe_barwrite)(struct pci_devinst *pi, int baridx,
		    uint64_t off, int size, uint64_t val);
	uint64_t (*pe_barread)(struct pci_devinst *pi, int baridx,
		    uint64_t off, int size);
};
#define PCI_EMUL_SET(x)		DATA_SET(pci_devemu_set, x)
/* The set itself: walk it with SET_FOREACH(pdpp, pci_devemu_set). */
SET_DECLARE(pci_devemu_set, const struct pci_devemu);

enum pcibar_type {
	PCIBAR_NONE,
	PCIBAR_IO,
	PCIBAR_MEM32,
	PCIBAR_MEM64,
	PCIBAR_MEMHI64,		/* upper half of a 64-bit BAR */
};

struct pcibar {
	enum pcibar_type type;
	uint64_t	size;
	uint64_t	addr;
};

struct pci_devinst {
	const struct pci_devemu *pi_d;
	const struct devctx *pi_ctx;
	uint8_t		pi_bus, pi_slot, pi_func;
	char		pi_name[32];
	uint8_t		pi_lintr_pin;	/* INTx pin 1-4, 0 = none */
	unsigned	pi_lintr_gsi;
	pthread_mutex_t	pi_lock;	/* guards pi_cfgspace */
	void		*pi_arg;	/* device softc */
	struct pcibar	pi_bar[PCI_BARMAX + 1];
	uint8_t		pi_cfgspace[256];
};

/* Find an emulation by name (or alias); NULL if none. */
const struct pci_devemu *pci_emul_finddev(const char *name);
/* Print the emulation names, one per line (-s help). */
void	pci_print_supported_devices(void);

/*
 * Parse "-s [bus:]slot[:func],emul[,conf]" into pci.B.S.F.* keys.
 * Returns 0, or -EINVAL after printing one line naming the problem.
 */
int	pci_parse_slot(const char *opt) __must_check;

/*
 * Create every device named in the config tree and register the
 * configuration mechanism on the bus.  Returns 0 or -errno (message
 * already printed).
 */
int	pci_init(const struct devctx *dc) __must_check;

/*
 * Mechanism #1 handlers: the 4-byte address latch at 0xcf8 (only dword
 * accesses latch it; the machine routes the byte at 0xcf9 to the reset
 * control register) and the data window 0xcfc-0xcff.
 */
int	pci_cfgaddr_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);
int	pci_cfgdata_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);

/* Find the device at bus/slot/func, or NULL. */
struct pci_devinst *pci_find_dev(int bus, int slot, int func);

/* Config-space helpers for device models. */
void	pci_set_cfgdata8(struct pci_devinst *pi, int off, uint8_t val);
void	pci_set_cfgdata16(struct pci_devinst *pi, int off, uint16_t val);
void	pci_set_cfgdata32(struct pci_devinst *pi, int off, uint32_t val);
uint8_t	pci_get_cfgdata8(struct pci_devinst *pi, int off);
uint16_t pci_get_cfgdata16(struct pci_devinst *pi, int off);
uint32_t pci_get_cfgdata32(struct pci_devinst *pi, int off);

/*
 * Access configuration space of bus/slot/func as mechanism #1 would
 * (used by the 0xcfc handler and by tests).  Absent functions read
 * all-ones and ignore writes.
 */
uint32_t pci_cfg_read(int bus, int slot, int func, int off, int bytes);
void	pci_cfg_write(int bus, int slot, int func, int off, int bytes,
	    uint32_t val);

/* Standard config-space offsets and values used by the emulations. */
#define PCIR_VENDOR	0x00
#define PCIR_DEVICE	0x02
#define PCIR_COMMAND	0x04
#define PCIR_STATUS	0x06
#define PCIR_REVID	0x08
#define PCIR_PROGIF	0x09
#define PCIR_SUBCLASS	0x0a
#define PCIR_CLASS	0x0b
#define PCIR_HDRTYPE	0x0e
#define PCIR_BAR0	0x10
#define PCIR_SUBVEND_0	0x2c
#define PCIR_SUBDEV_0	0x2e
#define PCIR_CAP_PTR	0x34
#define PCIR_INTLINE	0x3c
#define PCIR_INTPIN	0x3d

#define PCIC_BRIDGE	0x06
#define PCIS_BRIDGE_HOST 0x00
#define PCIS_BRIDGE_ISA	0x01
#define PCIM_HDRTYPE_NORMAL 0x00
#define PCIM_MFDEV	0x80

#endif /* PCI_EMUL_H */
