/*
 * virtio.h: a small virtio PCI driver for the test guests (virtio 1.2
 * §4.1 PCI transport, §2.7 split virtqueues; the legacy 0.9.5 registers
 * of §4.1.4.8 as well).  CPL0 only: it uses port I/O for the PCI
 * configuration space and the legacy registers, and the local APIC.
 *
 * The shape is the spec's driver initialisation (§3.1.1):
 *
 *	struct virtio_dev vd;
 *	struct virtq q;
 *
 *	virtio_find(VIRTIO_ID_BLOCK, 0, &vd);		bus 0, by ID
 *	virtio_open(&vd, VIRTIO_AUTO);			decode, registers
 *	virtio_negotiate(&vd, wanted_features);		reset .. FEATURES_OK
 *	virtq_setup(&vd, &q, 0, 0);			rings in guest RAM
 *	virtio_driver_ok(&vd);
 *	head = virtq_add(&q, bufs, n, indirect);	a chain
 *	virtq_kick(&q);					publish and notify
 *	head = virtq_wait(&q, &len, VIRTQ_POLL, 1000);	used ring
 *
 * Memory: rings, indirect tables and the buffers a test asks for come from
 * one bump allocator (virtio_alloc) in guest RAM from 16 MiB up, inside the
 * kit's identity map, so a pointer is also the physical address a
 * descriptor holds.  Nothing is ever freed: a guest sets up once.
 *
 * Transports: "modern" finds the common, notify, ISR and device
 * configuration structures through the vendor capabilities (§4.1.4) in
 * whichever BARs they name; "legacy" uses I/O BAR 0 with the 4096-byte
 * aligned ring layout (§2.7.2, legacy interfaces).  A transitional device
 * offers both; VIRTIO_AUTO takes modern when the capabilities are there.
 *
 * Interrupts: virtio_msix_vector() points an MSI-X table entry at this
 * CPU's local APIC (fixed delivery, edge, a vector of
 * VIRTIO_INTR_VECTOR + entry) and enables MSI-X; virtq_set_vector() binds
 * a queue to an entry; virtq_wait(..., VIRTQ_INTR) then sleeps with
 * interrupts enabled until the entry's vector arrives.  The interrupt
 * handler is the kit's trap hook (it replaces any hook the test set).
 * Without MSI-X a queue is polled; INTx is never unmasked.
 *
 * Notifications are always sent unless the device set
 * VIRTQ_USED_F_NO_NOTIFY; EVENT_IDX is not negotiated.
 */
#ifndef KIT_VIRTIO_H
#define KIT_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_ID_NET		1	/* §5 device types */
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_ENTROPY	4

/* Transport feature bits (§6). */
#define VIRTIO_F_INDIRECT_DESC	(1ULL << 28)
#define VIRTIO_F_EVENT_IDX	(1ULL << 29)
#define VIRTIO_F_VERSION_1	(1ULL << 32)

/* Device status (§2.1). */
#define VIRTIO_S_ACKNOWLEDGE	0x01
#define VIRTIO_S_DRIVER		0x02
#define VIRTIO_S_DRIVER_OK	0x04
#define VIRTIO_S_FEATURES_OK	0x08
#define VIRTIO_S_NEEDS_RESET	0x40
#define VIRTIO_S_FAILED		0x80

#define VIRTIO_NO_VECTOR	0xffff
#define VIRTIO_INTR_VECTOR	0x60	/* CPU vector of MSI-X entry 0 */
#define VIRTIO_INTR_MAX		16	/* entries the kit can take */

#define VIRTQ_INDIRECT_MAX	32	/* entries per indirect table */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4

enum virtio_mode {
	VIRTIO_AUTO,		/* modern if the capabilities exist */
	VIRTIO_MODERN,		/* virtio 1.x capabilities */
	VIRTIO_LEGACY,		/* 0.9.5 registers in I/O BAR 0 */
};

struct virtio_dev {
	unsigned	bus, slot, fn;	/* where virtio_find() found it */
	uint16_t	device_id;	/* PCI device ID */
	uint16_t	type;		/* virtio device type */
	int		legacy;		/* virtio_open() chose legacy */
	uint16_t	iobase;		/* legacy: BAR 0 */
	uint64_t	common;		/* modern: common configuration */
	uint64_t	notify;		/* modern: notification base */
	uint32_t	notify_mult;	/* notify_off_multiplier */
	uint64_t	isr;		/* modern: ISR status byte */
	uint64_t	devcfg;		/* modern: device configuration */
	uint32_t	devcfg_len;	/* its length (capability) */
	unsigned	msix_cap;	/* MSI-X capability offset, or 0 */
	unsigned	msix_size;	/* table entries */
	uint64_t	msix_table;	/* table address, 0 if none */
	int		msix_on;	/* MSI-X enabled (legacy cfg moves) */
	uint64_t	offered;	/* device features */
	uint64_t	features;	/* negotiated */
};

/* struct virtq_desc (§2.7.5). */
struct virtq_desc {
	uint64_t	addr;
	uint32_t	len;
	uint16_t	flags;
	uint16_t	next;
};

/* One buffer of a chain. */
struct virtq_buf {
	const void	*addr;		/* guest RAM (identity-mapped) */
	uint32_t	len;
	int		write;		/* device-writable */
};

struct virtq {
	struct virtio_dev *vd;
	uint16_t	index;		/* queue number */
	uint16_t	size;		/* entries (a power of two) */
	struct virtq_desc *desc;	/* descriptor table */
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint8_t *used;		/* flags, idx, ring[size], avail_event */
	uint16_t	free_head;	/* free descriptors: a list via next */
	uint16_t	num_free;
	uint16_t	avail_idx;	/* next avail->idx to publish */
	uint16_t	last_used;	/* next used element to read */
	uint16_t	*ndesc;		/* per head: descriptors it holds */
	struct virtq_desc *indirect;	/* per head: one indirect table */
	uint64_t	notify_addr;	/* modern: this queue's notify register */
	uint16_t	msix_entry;	/* VIRTIO_NO_VECTOR: polled */
	uint64_t	kicks;		/* notifications sent */
	uint64_t	kicks_skipped;	/* ... and left out (NO_NOTIFY) */
};

enum virtq_how {
	VIRTQ_POLL,		/* spin on the used ring */
	VIRTQ_INTR,		/* spin with interrupts on until the MSI-X */
	VIRTQ_HLT,		/* sti; hlt until the MSI-X */
};

/*
 * Find the index-th (0: first) function on bus 0 with vendor 0x1af4 and
 * virtio device type type: modern ID 0x1040 + type, or transitional
 * 0x1000-0x103f with that subsystem ID (§4.1.2.1).  Fills vd's location
 * and IDs.  Returns 0, or -1 when there is none.
 */
int	virtio_find(unsigned type, unsigned index, struct virtio_dev *vd);

/*
 * Enable I/O, memory and bus-master decode, locate the registers for
 * mode (see above; a modern structure must lie below 4 GiB, in the kit's
 * map) and the MSI-X table.  Returns 0, or -1 after a message.
 */
int	virtio_open(struct virtio_dev *vd, enum virtio_mode mode);

/*
 * §3.1.1 steps 1-6: reset (and wait for status 0), ACKNOWLEDGE, DRIVER,
 * read the device features, accept want & offered (modern: plus
 * VERSION_1, which must be offered), FEATURES_OK and read it back
 * (legacy has no FEATURES_OK).  Sets vd->offered and vd->features.
 * Returns 0; -1 when the device lacks VERSION_1 or refuses FEATURES_OK
 * (the status is then FAILED).
 */
int	virtio_negotiate(struct virtio_dev *vd, uint64_t want);

/* Status register; writing 0 resets (the caller waits, see above). */
uint8_t	virtio_status(const struct virtio_dev *vd);
void	virtio_set_status(const struct virtio_dev *vd, uint8_t status);
/* Reset and wait (up to 1 s) until the status reads 0; 0 or -1. */
int	virtio_reset(const struct virtio_dev *vd);
void	virtio_driver_ok(const struct virtio_dev *vd);
/* Read (and so acknowledge) the ISR status. */
uint8_t	virtio_isr(const struct virtio_dev *vd);
/* num_queues of the common configuration (modern); 0 for legacy. */
uint16_t virtio_num_queues(const struct virtio_dev *vd);

/*
 * Device configuration space at off, at the access width (§4.1.3.1).
 * The 64-bit read is two dword reads retried until config_generation
 * (modern) is the same before and after (§4.1.4.3.1).
 */
uint8_t	virtio_cfg_read8(const struct virtio_dev *vd, unsigned off);
uint16_t virtio_cfg_read16(const struct virtio_dev *vd, unsigned off);
uint32_t virtio_cfg_read32(const struct virtio_dev *vd, unsigned off);
uint64_t virtio_cfg_read64(const struct virtio_dev *vd, unsigned off);

/*
 * Set up queue index with size entries (0: the device's maximum; modern
 * may ask for less, legacy takes the device's size): rings (legacy
 * layout, 4096-aligned, used for both), the free list, indirect tables
 * when INDIRECT_DESC was negotiated; enable it (modern: queue_enable;
 * legacy: the PFN).  After virtio_negotiate(), before
 * virtio_driver_ok().  Returns 0, or -1 after a message (no such queue,
 * out of memory).
 */
int	virtq_setup(struct virtio_dev *vd, struct virtq *q, unsigned index,
	    unsigned size);

/*
 * Put a chain of n buffers (device-readable ones first, §2.7.4.2) on the
 * available ring, not yet published: direct descriptors, or with
 * indirect (INDIRECT_DESC negotiated, n <= VIRTQ_INDIRECT_MAX) one
 * descriptor pointing at this head's table.  Returns the head, or -1
 * when there are not enough free descriptors (or the request is not
 * possible).
 */
int	virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n,
	    int indirect);
/* Publish what virtq_add() put on the ring (avail->idx after a barrier)
 * and notify the device unless it said it does not need it. */
void	virtq_kick(struct virtq *q);
/*
 * Take one used element if there is one: returns its head (its
 * descriptors go back on the free list) and *len the bytes the device
 * says it wrote; -1 when the ring has nothing new; -2 when the device
 * returned an element that is no chain in flight (after a message).
 */
int	virtq_get(struct virtq *q, uint32_t *len);
/*
 * virtq_get() until it returns a head (or -2), waiting as how says, at
 * most timeout_ms by the TSC; -1 on timeout.  VIRTQ_HLT cannot time out
 * while halted: it relies on the queue's interrupt.  Without an MSI-X
 * entry for the queue every mode polls.
 */
int	virtq_wait(struct virtq *q, uint32_t *len, enum virtq_how how,
	    uint64_t timeout_ms);

/*
 * MSI-X table entry entry (< VIRTIO_INTR_MAX and < the table size) to
 * vector VIRTIO_INTR_VECTOR + entry on this CPU, unmasked; MSI-X on
 * (function mask clear); the local APIC software-enabled; the kit's trap
 * hook counts the interrupts (virtio_intr_count) and sends the EOI.
 * Returns 0, or -1 without an MSI-X table.
 */
int	virtio_msix_vector(struct virtio_dev *vd, unsigned entry);
/* Route queue q's used-buffer interrupts to MSI-X entry entry (after
 * virtio_msix_vector); 0, or -1 when the device refuses it. */
int	virtq_set_vector(struct virtq *q, unsigned entry);
/* Interrupts seen per MSI-X entry. */
extern volatile unsigned long virtio_intr_count[VIRTIO_INTR_MAX];

/*
 * size bytes, aligned to align (a power of two), zeroed, from the kit's
 * DMA pool (RAM from 16 MiB to the end of that RAM range in the memory
 * map, below 4 GiB); NULL when it is used up.
 */
void	*virtio_alloc(size_t size, size_t align);

/*
 * A full barrier (a locked add: KVM's instruction emulator, which runs
 * guest kernel code on nested software-assisted KVM, has no mfence) and
 * a compiler-only one (x86 orders everything else, SDM vol. 3A §8.2.2).
 */
static inline void
virtio_mb(void)
{
	__asm__ volatile("lock addl $0, (%%rsp)" ::: "memory", "cc");
}
static inline void virtio_cb(void) { __asm__ volatile("" ::: "memory"); }

#endif /* KIT_VIRTIO_H */
