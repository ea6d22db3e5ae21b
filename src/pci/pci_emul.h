/*
 * pci_emul.h: PCI device emulation framework (bhyve's pci_emul.h).
 *
 * Each emulation is a const struct pci_devemu placed in a linker set with
 * PCI_EMUL_SET(); pci_init() walks the config tree's pci.B.S.F nodes and
 * calls pe_init for each.  Configuration space is reached through
 * mechanism #1 (0xcf8/0xcfc) and the PCIe ECAM window (pci_ecam.c).
 *
 * The framework owns what every function shares: BARs (pci_bar.c:
 * allocation in the platform's windows, sizing, relocation and decode
 * enables, each decoding BAR a range on the I/O bus), the capability
 * list, MSI and MSI-X (pci_msi.c: the MSI-X table and PBA live in a BAR
 * the device never sees accesses to), and INTx (pci_irq.c: PIRQ links in
 * the LPC bridge, IOAPIC pins 16-23, the _PRT the DSDT describes).
 *
 * Locks: pi_lock guards config space and BAR state; pi_intr_lock guards
 * MSI/MSI-X/INTx state and is a leaf (nothing else is taken under it).
 * A device may call pci_generate_msi/msix and pci_lintr_assert/deassert
 * from any thread with its own locks held.
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
	/*
	 * BAR accesses: off + size lies within the BAR, size is 1, 2, 4 or
	 * 8.  NULL pe_barread reads all-ones; NULL pe_barwrite drops writes.
	 * Accesses to an MSI-X table or PBA never reach the device.
	 */
	void	(*pe_barwrite)(struct pci_devinst *pi, int baridx,
		    uint64_t off, int size, uint64_t val);
	uint64_t (*pe_barread)(struct pci_devinst *pi, int baridx,
		    uint64_t off, int size);
	/*
	 * The BAR started (enabled) or stopped decoding at addr: the guest
	 * moved it or switched its decode enable.  For a device that
	 * attached something of its own to the address (an ioeventfd).
	 * Called with pi_lock held; may be NULL.
	 */
	void	(*pe_baraddr)(struct pci_devinst *pi, int baridx, bool enabled,
		    uint64_t addr);
	/*
	 * Free what pe_init set up (threads, fds, memory) for pci_fini():
	 * called after the BARs stopped decoding (pe_baraddr saw them go)
	 * and before the MSI and MSI-X state is freed, so a device thread
	 * may still raise an interrupt while it winds down.  No vCPU runs
	 * meanwhile.  Not called for a device whose pe_init failed.  May
	 * be NULL (nothing to free).
	 */
	void	(*pe_fini)(struct pci_devinst *pi);
	/*
	 * The VM has stopped for good (khyve is about to exit, whatever
	 * the guest's fate): finish what the device still has in flight
	 * and put what the guest wrote on stable storage (a disk completes
	 * its requests and syncs its image).  No vCPU runs; the VM and
	 * guest RAM are still there.  Nothing need be freed.  May be NULL.
	 */
	void	(*pe_stop)(struct pci_devinst *pi);
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
	uint64_t	size;		/* a power of two */
	uint64_t	addr;		/* as the guest programmed it */
	bool		prefetch;	/* memory BARs: prefetchable */
	bool		decoding;	/* registered on the bus at addr */
};

/* What a BAR's bus handler gets as its argument. */
struct pci_barref {
	struct pci_devinst *br_pi;
	int		br_idx;
};

struct msix_table_entry {
	uint64_t	addr;
	uint32_t	msg_data;
	uint32_t	vector_control;	/* bit 0: masked */
};

/* MSI (PCI 3.0 §6.8.1): 64-bit address, no per-vector masking. */
struct pci_msi {
	int		capoff;		/* 0: no MSI capability */
	int		maxmsgnum;	/* vectors offered (1-32, power of 2) */
	bool		enabled;
	int		msgnum;		/* vectors enabled by the driver */
	uint64_t	addr;
	uint16_t	data;
};

/* MSI-X (PCI 3.0 §6.8.2): table and PBA in one BAR. */
struct pci_msix {
	int		capoff;		/* 0: no MSI-X capability */
	bool		enabled;
	bool		function_mask;
	int		bar;		/* BAR holding table and PBA */
	uint32_t	table_offset;
	int		table_count;	/* vectors, 1-2048 */
	uint32_t	pba_offset;
	uint32_t	pba_size;	/* bytes, a multiple of 8 */
	struct msix_table_entry *table;
	uint64_t	*pba;		/* pending bits */
	/*
	 * Per vector (the first PCI_MSIX_IRQFDS): an irqfd routed to the
	 * entry's message while it is unmasked, so a device thread delivers
	 * with write(2); -1 without one (KVM_SIGNAL_MSI then).
	 */
	int		*irqfd;
	int		*irqfd_handle;
	bool		*irqfd_routed;	/* the route matches the entry */
};
#define PCI_MSIX_IRQFDS	64

/* A capability in config space (the framework decides what is writable). */
struct pci_cap {
	uint8_t		pc_off;
	uint8_t		pc_len;
	uint8_t		pc_id;
};
#define PCI_MAXCAPS	16

struct pci_devinst {
	const struct pci_devemu *pi_d;
	const struct devctx *pi_ctx;
	uint8_t		pi_bus, pi_slot, pi_func;
	char		pi_name[32];
	uint8_t		pi_lintr_pin;	/* INTx pin 1-4, 0 = none */
	unsigned	pi_lintr_gsi;	/* its IOAPIC pin (16-23) */
	int		pi_lintr_pirq;	/* its PIRQ link, 0-7 */
	bool		pi_lintr_want;	/* the device asserts INTx */
	bool		pi_lintr_driving; /* ...and the line sees it */
	bool		pi_lintr_disabled; /* command register INTx disable */
	pthread_mutex_t	pi_lock;	/* guards config space and BARs */
	pthread_mutex_t	pi_intr_lock;	/* guards MSI, MSI-X, INTx (leaf) */
	void		*pi_arg;	/* device softc */
	struct pcibar	pi_bar[PCI_BARMAX + 1];
	struct pci_barref pi_barref[PCI_BARMAX + 1];
	struct pci_msi	pi_msi;
	struct pci_msix	pi_msix;
	struct pci_cap	pi_cap[PCI_MAXCAPS];
	int		pi_ncaps;
	int		pi_capend;	/* first free byte after the last cap */
	uint8_t		pi_cfgspace[256];
};

/* The address windows BARs are allocated in (layout.h, machine.c). */
struct pci_windows {
	uint64_t	io_base, io_limit;	/* I/O BARs */
	uint64_t	mem32_base, mem32_limit; /* below the IOAPIC/LAPIC */
	uint64_t	mem64_base, mem64_limit; /* above RAM */
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
 * The default option syntax, for pe_legacy_config hooks that take a
 * leading word of their own: "key=value" pairs separated by commas, a bare
 * "key" meaning key=true, set below nvl.  where names the device in
 * messages.  Returns 0 or -EINVAL after one message.
 */
int	pci_parse_kv(struct config_node *nvl, const char *where,
	    const char *conf) __must_check;

/*
 * Create every device named in the config tree, allocating BARs in the
 * windows win, then route INTx.  Returns 0 or -errno (message already
 * printed): -EINVAL for bad configuration, -ENOSPC when the BARs do not
 * fit, or what a device's init returned.
 */
int	pci_init(const struct devctx *dc, const struct pci_windows *win)
	    __must_check;

/*
 * Free every device (tests, fuzz targets): stop its BARs decoding, then
 * its pe_fini.  The next pci_init starts afresh.
 */
void	pci_fini(void);

/* Call every device's pe_stop (the machine, once the vCPUs are joined). */
void	pci_stop(void);

/* ---- BARs (pci_bar.c) ---- */

/*
 * Give BAR idx of pi size bytes (rounded up to a power of two, at least 16
 * for memory and 4 for I/O) of the given type, at an address allocated in
 * the windows: I/O BARs in the I/O window, 32-bit BARs in the 32-bit
 * window, 64-bit BARs in the 64-bit window when larger than 256 MiB and
 * in the 32-bit window otherwise (bhyve: some drivers mishandle small
 * 64-bit BARs above 4 GiB).  A 64-bit BAR also takes idx + 1.  The BAR
 * decodes once the guest enables its space in the command register.
 * Call from pe_init.  Returns 0, -EINVAL (bad index, type or size) or
 * -ENOSPC (the window is full).
 */
int	pci_emul_alloc_bar(struct pci_devinst *pi, int idx,
	    enum pcibar_type type, uint64_t size, bool prefetch) __must_check;

/* The BAR's current address (what the guest programmed). */
uint64_t pci_bar_addr(struct pci_devinst *pi, int idx);

/* ---- capabilities, MSI, MSI-X (pci_msi.c) ---- */

/*
 * Append a capability (capdata[0] is its ID; its next pointer is filled
 * in) at the next dword-aligned offset from 0x40.  Returns the offset, or
 * -ENOSPC when config space or the capability table is full.
 */
int	pci_emul_add_capability(struct pci_devinst *pi, const uint8_t *capdata,
	    int caplen);
/* Offset of the first capability with this ID, or 0. */
int	pci_emul_find_capability(struct pci_devinst *pi, uint8_t id);

/* An MSI capability offering msgnum vectors (1-32, a power of two). */
int	pci_emul_add_msicap(struct pci_devinst *pi, int msgnum) __must_check;
/*
 * An MSI-X capability with msgnum vectors (1-2048); the table and the PBA
 * get their own 32-bit memory BAR barnum.  Returns 0 or -errno.
 */
int	pci_emul_add_msixcap(struct pci_devinst *pi, int msgnum, int barnum)
	    __must_check;

bool	pci_msi_enabled(struct pci_devinst *pi);
int	pci_msi_maxmsgnum(struct pci_devinst *pi);
bool	pci_msix_enabled(struct pci_devinst *pi);
/*
 * Send vector index: MSI (index < the vectors the driver enabled) or
 * MSI-X (a masked vector, or all of them under the function mask, sets
 * its pending bit instead; unmasking delivers it).  Out-of-range indexes
 * and disabled capabilities are ignored.
 */
void	pci_generate_msi(struct pci_devinst *pi, int index);
void	pci_generate_msix(struct pci_devinst *pi, int index);

/* ---- INTx (pci_irq.c) ---- */

/* Give pi an INTx pin (INTA#-INTD#, balanced per slot).  From pe_init. */
void	pci_lintr_request(struct pci_devinst *pi);
/* Drive pi's INTx line (shared lines are or-ed).  Any thread. */
void	pci_lintr_assert(struct pci_devinst *pi);
void	pci_lintr_deassert(struct pci_devinst *pi);
/*
 * The INTx routes of every device with a pin, for the DSDT's _PRT: at most
 * max entries of (slot, pin, IOAPIC pin).  Returns the number filled.
 */
struct acpi_intx;
unsigned pci_lintr_routes(struct acpi_intx *out, unsigned max);
/*
 * The LPC bridge's PIRQ routing registers (0x60-0x63 PIRQA-D, 0x68-0x6b
 * PIRQE-H): bit 7 set disables the link, bits 3:0 name its ISA IRQ.
 */
uint8_t	pci_pirq_read(int pirq);
void	pci_pirq_write(int pirq, uint8_t val);
/* ISA IRQ the BIOS-style allocation gave the link (PCIR_INTLINE). */
int	pci_pirq_irq(int pirq);

/* ---- PCIe ECAM (pci_ecam.c) ---- */

/*
 * The MMIO handler of the ECAM window (PCI Express Base 4.0 §7.2.2): the
 * offset is bus << 20 | device << 15 | function << 12 | register.  Bytes
 * 256-4095 of every function read 0 (no extended capabilities).
 */
int	pci_ecam_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);

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
#define PCIR_BAR(x)	(PCIR_BAR0 + (x) * 4)
#define PCIR_SUBVEND_0	0x2c
#define PCIR_SUBDEV_0	0x2e
#define PCIR_CAP_PTR	0x34
#define PCIR_INTLINE	0x3c
#define PCIR_INTPIN	0x3d

#define PCIM_CMD_PORTEN	0x0001
#define PCIM_CMD_MEMEN	0x0002
#define PCIM_CMD_BUSMASTEREN 0x0004
#define PCIM_CMD_INTxDIS 0x0400
#define PCIM_STATUS_INTxSTATE 0x0008
#define PCIM_STATUS_CAPPRESENT 0x0010

#define PCIM_BAR_IO_SPACE	0x01
#define PCIM_BAR_MEM_64		0x04
#define PCIM_BAR_MEM_PREFETCH	0x08

#define PCIY_MSI	0x05
#define PCIY_VENDOR	0x09
#define PCIY_EXPRESS	0x10
#define PCIY_MSIX	0x11

#define PCIC_BRIDGE	0x06
#define PCIS_BRIDGE_HOST 0x00
#define PCIS_BRIDGE_ISA	0x01
#define PCIM_HDRTYPE_NORMAL 0x00
#define PCIM_MFDEV	0x80

#endif /* PCI_EMUL_H */
