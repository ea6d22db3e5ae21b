/*
 * virtio.c: the kit's virtio PCI driver (virtio.h; virtio 1.2 §4.1 from
 * the driver's side, §2.7 split virtqueues, §3.1.1 initialisation).
 */
#include "kit.h"
#include "smp.h"
#include "virtio.h"

/* PCI configuration space (PCI Local Bus 3.0 §6.1, §6.7, §6.8.2). */
#define PCIR_COMMAND	0x04
#define PCIM_CMD_IO	0x0001
#define PCIM_CMD_MEM	0x0002
#define PCIM_CMD_BM	0x0004
#define PCIR_STATUS	0x06
#define PCIM_STS_CAP	0x0010
#define PCIR_HDRTYPE	0x0e
#define PCIR_BAR(i)	(0x10 + 4 * (i))
#define PCIR_SUBDEV	0x2e
#define PCIR_CAP_PTR	0x34
#define PCIY_VENDOR	0x09
#define PCIY_MSIX	0x11
#define MSIX_CTRL	2		/* enable bit 15, function mask 14 */
#define MSIX_TABLE	4		/* BIR bits 2:0, offset the rest */
#define MSIX_ENABLE	0x8000
#define MSIX_FMASK	0x4000
#define MSI_ADDR	0xfee00000u	/* SDM vol. 3A §10.11.1 */

/* cfg_type of the virtio capabilities (§4.1.4). */
#define VCAP_COMMON	1
#define VCAP_NOTIFY	2
#define VCAP_ISR	3
#define VCAP_DEVICE	4

/* struct virtio_pci_common_cfg (§4.1.4.3). */
#define CC_DFSELECT	0x00
#define CC_DF		0x04
#define CC_GFSELECT	0x08
#define CC_GF		0x0c
#define CC_MSIX		0x10
#define CC_NUMQ		0x12
#define CC_STATUS	0x14
#define CC_CFGGEN	0x15
#define CC_Q_SELECT	0x16
#define CC_Q_SIZE	0x18
#define CC_Q_MSIX	0x1a
#define CC_Q_ENABLE	0x1c
#define CC_Q_NOFF	0x1e
#define CC_Q_DESC	0x20
#define CC_Q_AVAIL	0x28
#define CC_Q_USED	0x30

/* The legacy registers in I/O BAR 0 (§4.1.4.8). */
#define VL_HOSTF	0x00
#define VL_GUESTF	0x04
#define VL_PFN		0x08
#define VL_QNUM		0x0c
#define VL_QSEL		0x0e
#define VL_QNOTIFY	0x10
#define VL_STATUS	0x12
#define VL_ISR		0x13
#define VL_Q_MSIX	0x16		/* with MSI-X enabled */
#define VL_CFG		0x14		/* device configuration, no MSI-X */
#define VL_CFG_MSIX	0x18		/* ... with MSI-X enabled */

#define USED_F_NO_NOTIFY 1		/* §2.7.10 */
#define RING_ALIGN	4096		/* the legacy layout, §2.7.2 */
#define POOL_BASE	0x1000000ULL	/* 16 MiB */
#define POOL_DEFAULT	(32ULL << 20)	/* without a memory map */
#define GIB4		(4ULL << 30)

volatile unsigned long virtio_intr_count[VIRTIO_INTR_MAX];

extern char _end[];			/* guest.ld: the end of the image */

/* ---- memory ---- */

static uint64_t pool_next, pool_end;

static void
pool_init(void)
{
	const struct hvm_start_info *si = guest_start_info();
	const struct hvm_memmap_entry *e;
	uint32_t i;

	pool_next = POOL_BASE;
	pool_end = POOL_BASE + POOL_DEFAULT;
	if ((uint64_t)(uintptr_t)_end > POOL_BASE) {
		printf("virtio: the image ends at %p, past the DMA pool\n",
		    (void *)_end);
		pool_end = pool_next;
		return;
	}
	/* No map, or one in page 0, which the kit leaves unmapped (QEMU
	 * puts it there): the default size. */
	if (si == NULL || si->version < 1 || si->memmap_paddr < 0x1000 ||
	    si->memmap_paddr >= GIB4 - 128 * sizeof(*e))
		return;
	e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < si->memmap_entries && i < 128; i++) {
		if (e[i].type == 1 && e[i].addr <= POOL_BASE &&
		    e[i].addr + e[i].size > POOL_BASE) {
			pool_end = e[i].addr + e[i].size;
			if (pool_end > GIB4)
				pool_end = GIB4;
			return;
		}
	}
}

void *
virtio_alloc(size_t size, size_t align)
{
	uint64_t a;

	if (pool_next == 0)
		pool_init();
	if (align == 0 || (align & (align - 1)) != 0)
		return (NULL);
	a = (pool_next + align - 1) & ~(uint64_t)(align - 1);
	if (a < pool_next || a > pool_end || pool_end - a < size)
		return (NULL);
	pool_next = a + size;
	memset((void *)(uintptr_t)a, 0, size);
	return ((void *)(uintptr_t)a);
}

/* ---- finding the function ---- */

int
virtio_find(unsigned type, unsigned index, struct virtio_dev *vd)
{
	unsigned slot, fn, nfn, n = 0;
	uint32_t id;
	uint16_t dev;

	for (slot = 0; slot < 32; slot++) {
		nfn = 1;
		for (fn = 0; fn < nfn; fn++) {
			id = pci_cfg_read32(0, slot, fn, 0);
			if ((id & 0xffff) == 0xffff)
				continue;
			if (fn == 0 && (pci_cfg_read8(0, slot, 0, PCIR_HDRTYPE) &
			    0x80))
				nfn = 8;
			dev = (uint16_t)(id >> 16);
			if ((id & 0xffff) != VIRTIO_VENDOR)
				continue;
			/* §4.1.2.1: modern IDs, or transitional + subsystem. */
			if (dev != 0x1040 + type && !(dev >= 0x1000 &&
			    dev <= 0x103f && pci_cfg_read16(0, slot, fn,
			    PCIR_SUBDEV) == type))
				continue;
			if (n++ != index)
				continue;
			memset(vd, 0, sizeof(*vd));
			vd->bus = 0;
			vd->slot = slot;
			vd->fn = fn;
			vd->device_id = dev;
			vd->type = (uint16_t)type;
			return (0);
		}
	}
	return (-1);
}

static uint32_t
cfg32(const struct virtio_dev *vd, unsigned off)
{
	return (pci_cfg_read32(vd->bus, vd->slot, vd->fn, off));
}

static uint8_t
cfg8(const struct virtio_dev *vd, unsigned off)
{
	return (pci_cfg_read8(vd->bus, vd->slot, vd->fn, off));
}

/* A BAR's address: I/O (*io set) or memory (64-bit ones whole). */
static uint64_t
bar_addr(const struct virtio_dev *vd, unsigned bar, int *io)
{
	uint32_t lo;
	uint64_t a;

	*io = 0;
	if (bar > 5)
		return (0);
	lo = cfg32(vd, PCIR_BAR(bar));
	if (lo & 1) {
		*io = 1;
		return (lo & ~3u);
	}
	a = lo & ~0xfu;
	if ((lo & 6) == 4 && bar < 5)
		a |= (uint64_t)cfg32(vd, PCIR_BAR(bar + 1)) << 32;
	return (a);
}

/* A modern structure: memory BAR, in the kit's 4 GiB map. */
static uint64_t
vcap_addr(const struct virtio_dev *vd, unsigned bar, uint32_t off,
    uint32_t len, const char *what)
{
	uint64_t base;
	int io;

	base = bar_addr(vd, bar, &io);
	if (io || base == 0 || base + off + len > GIB4) {
		printf("virtio %u:%u.%u: %s in BAR %u at 0x%llx+0x%x: not "
		    "usable (%s)\n", vd->bus, vd->slot, vd->fn, what, bar,
		    (unsigned long long)base, off, io ? "I/O BAR" :
		    base == 0 ? "unassigned" : "above 4 GiB");
		return (0);
	}
	return (base + off);
}

int
virtio_open(struct virtio_dev *vd, enum virtio_mode mode)
{
	unsigned cap, n, type, bar;
	uint32_t off, len, tbl;
	uint16_t cmd;
	uint64_t base;
	int io, modern, legacy;

	cmd = pci_cfg_read16(vd->bus, vd->slot, vd->fn, PCIR_COMMAND);
	pci_cfg_write16(vd->bus, vd->slot, vd->fn, PCIR_COMMAND,
	    cmd | PCIM_CMD_IO | PCIM_CMD_MEM | PCIM_CMD_BM);
	if (pci_cfg_read16(vd->bus, vd->slot, vd->fn, PCIR_STATUS) &
	    PCIM_STS_CAP)
		cap = cfg8(vd, PCIR_CAP_PTR) & ~3u;
	else
		cap = 0;
	/* At most 48 capabilities fit in 256 bytes: a bound on loops. */
	for (n = 0; cap >= 0x40 && n < 48; n++, cap = cfg8(vd, cap + 1) & ~3u) {
		if (cfg8(vd, cap) == PCIY_MSIX && vd->msix_cap == 0) {
			vd->msix_cap = cap;
			vd->msix_size = (pci_cfg_read16(vd->bus, vd->slot,
			    vd->fn, cap + MSIX_CTRL) & 0x7ff) + 1;
			tbl = cfg32(vd, cap + MSIX_TABLE);
			base = bar_addr(vd, tbl & 7, &io);
			if (!io && base != 0 && base < GIB4)
				vd->msix_table = base + (tbl & ~7u);
			continue;
		}
		if (cfg8(vd, cap) != PCIY_VENDOR)
			continue;
		type = cfg8(vd, cap + 3);
		bar = cfg8(vd, cap + 4);
		off = cfg32(vd, cap + 8);
		len = cfg32(vd, cap + 12);
		/* The first of each type is the one to use (§4.1.4). */
		switch (type) {
		case VCAP_COMMON:
			if (vd->common == 0)
				vd->common = vcap_addr(vd, bar, off, len,
				    "common cfg");
			break;
		case VCAP_NOTIFY:
			if (vd->notify == 0) {
				vd->notify = vcap_addr(vd, bar, off, len,
				    "notify");
				vd->notify_mult = cfg32(vd, cap + 16);
			}
			break;
		case VCAP_ISR:
			if (vd->isr == 0)
				vd->isr = vcap_addr(vd, bar, off, len, "ISR");
			break;
		case VCAP_DEVICE:
			if (vd->devcfg == 0) {
				vd->devcfg = vcap_addr(vd, bar, off, len,
				    "device cfg");
				vd->devcfg_len = len;
			}
			break;
		default:
			break;
		}
	}
	modern = vd->common != 0 && vd->notify != 0 && vd->isr != 0;
	base = bar_addr(vd, 0, &io);
	legacy = vd->device_id < 0x1040 && io && base != 0;
	if (mode == VIRTIO_AUTO)
		mode = modern ? VIRTIO_MODERN : VIRTIO_LEGACY;
	if ((mode == VIRTIO_MODERN && !modern) ||
	    (mode == VIRTIO_LEGACY && !legacy)) {
		printf("virtio %u:%u.%u: device %04x has no %s interface\n",
		    vd->bus, vd->slot, vd->fn, vd->device_id,
		    mode == VIRTIO_MODERN ? "modern" : "legacy");
		return (-1);
	}
	vd->legacy = mode == VIRTIO_LEGACY;
	vd->iobase = (uint16_t)base;
	return (0);
}

/* ---- registers ---- */

uint8_t
virtio_status(const struct virtio_dev *vd)
{
	if (vd->legacy)
		return (inb(vd->iobase + VL_STATUS));
	return (mmio_read8(vd->common + CC_STATUS));
}

void
virtio_set_status(const struct virtio_dev *vd, uint8_t status)
{
	if (vd->legacy)
		outb(vd->iobase + VL_STATUS, status);
	else
		mmio_write8(vd->common + CC_STATUS, status);
}

int
virtio_reset(const struct virtio_dev *vd)
{
	uint64_t khz = guest_tsc_khz(), t0 = rdtsc();

	virtio_set_status(vd, 0);
	/* §4.1.4.3.2: the reset is done when status reads 0 again. */
	while (virtio_status(vd) != 0) {
		if (khz != 0 && rdtsc() - t0 > khz * 1000)
			return (-1);
		cpu_relax();
	}
	return (0);
}

void
virtio_driver_ok(const struct virtio_dev *vd)
{
	virtio_set_status(vd, virtio_status(vd) | VIRTIO_S_DRIVER_OK);
}

uint8_t
virtio_isr(const struct virtio_dev *vd)
{
	if (vd->legacy)
		return (inb(vd->iobase + VL_ISR));
	return (mmio_read8(vd->isr));
}

uint16_t
virtio_num_queues(const struct virtio_dev *vd)
{
	return (vd->legacy ? 0 : mmio_read16(vd->common + CC_NUMQ));
}

static uint16_t
legacy_cfg(const struct virtio_dev *vd, unsigned off)
{
	return ((uint16_t)(vd->iobase + (vd->msix_on ? VL_CFG_MSIX : VL_CFG) +
	    off));
}

uint8_t
virtio_cfg_read8(const struct virtio_dev *vd, unsigned off)
{
	if (vd->legacy)
		return (inb(legacy_cfg(vd, off)));
	return (mmio_read8(vd->devcfg + off));
}

uint16_t
virtio_cfg_read16(const struct virtio_dev *vd, unsigned off)
{
	if (vd->legacy)
		return (inw(legacy_cfg(vd, off)));
	return (mmio_read16(vd->devcfg + off));
}

uint32_t
virtio_cfg_read32(const struct virtio_dev *vd, unsigned off)
{
	if (vd->legacy)
		return (inl(legacy_cfg(vd, off)));
	return (mmio_read32(vd->devcfg + off));
}

uint64_t
virtio_cfg_read64(const struct virtio_dev *vd, unsigned off)
{
	uint32_t lo, hi;
	uint8_t gen;
	int tries = 0;

	if (vd->legacy)
		return (inl(legacy_cfg(vd, off)) |
		    (uint64_t)inl(legacy_cfg(vd, off + 4)) << 32);
	do {
		gen = mmio_read8(vd->common + CC_CFGGEN);
		lo = mmio_read32(vd->devcfg + off);
		hi = mmio_read32(vd->devcfg + off + 4);
	} while (mmio_read8(vd->common + CC_CFGGEN) != gen && ++tries < 100);
	return (lo | (uint64_t)hi << 32);
}

/* ---- feature negotiation (§3.1.1) ---- */

int
virtio_negotiate(struct virtio_dev *vd, uint64_t want)
{
	uint8_t s;

	if (virtio_reset(vd) != 0) {
		printf("virtio %u:%u.%u: reset not done after 1 s\n", vd->bus,
		    vd->slot, vd->fn);
		return (-1);
	}
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE);
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	if (vd->legacy) {
		vd->offered = inl(vd->iobase + VL_HOSTF);
		vd->features = vd->offered & want & 0xffffffffULL;
		outl(vd->iobase + VL_GUESTF, (uint32_t)vd->features);
		return (0);
	}
	mmio_write32(vd->common + CC_DFSELECT, 0);
	vd->offered = mmio_read32(vd->common + CC_DF);
	mmio_write32(vd->common + CC_DFSELECT, 1);
	vd->offered |= (uint64_t)mmio_read32(vd->common + CC_DF) << 32;
	if ((vd->offered & VIRTIO_F_VERSION_1) == 0) {
		printf("virtio %u:%u.%u: modern interface without VERSION_1 "
		    "(features 0x%llx)\n", vd->bus, vd->slot, vd->fn,
		    (unsigned long long)vd->offered);
		virtio_set_status(vd, VIRTIO_S_FAILED);
		return (-1);
	}
	vd->features = vd->offered & (want | VIRTIO_F_VERSION_1);
	mmio_write32(vd->common + CC_GFSELECT, 0);
	mmio_write32(vd->common + CC_GF, (uint32_t)vd->features);
	mmio_write32(vd->common + CC_GFSELECT, 1);
	mmio_write32(vd->common + CC_GF, (uint32_t)(vd->features >> 32));
	virtio_set_status(vd, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
	    VIRTIO_S_FEATURES_OK);
	s = virtio_status(vd);
	if ((s & VIRTIO_S_FEATURES_OK) == 0) {
		printf("virtio %u:%u.%u: FEATURES_OK refused for 0x%llx "
		    "(status 0x%02x)\n", vd->bus, vd->slot, vd->fn,
		    (unsigned long long)vd->features, s);
		virtio_set_status(vd, VIRTIO_S_FAILED);
		return (-1);
	}
	return (0);
}

/* ---- queues ---- */

#define AVAIL_IDX	1		/* in uint16_t units */
#define AVAIL_RING	2
#define USED_IDX	2		/* in bytes */
#define USED_RING	4

int
virtq_setup(struct virtio_dev *vd, struct virtq *q, unsigned index,
    unsigned size)
{
	uint64_t ring, avail_end, used_len;
	unsigned max, i;
	uint8_t *mem;

	memset(q, 0, sizeof(*q));
	q->vd = vd;
	q->index = (uint16_t)index;
	q->msix_entry = VIRTIO_NO_VECTOR;
	if (vd->legacy) {
		outw(vd->iobase + VL_QSEL, (uint16_t)index);
		max = inw(vd->iobase + VL_QNUM);
		size = max;			/* legacy: the device's size */
	} else {
		mmio_write16(vd->common + CC_Q_SELECT, (uint16_t)index);
		max = mmio_read16(vd->common + CC_Q_SIZE);
		if (size == 0 || size > max)
			size = max;
	}
	if (max == 0 || size == 0 || (size & (size - 1)) != 0 ||
	    size > 32768) {
		printf("virtio %u:%u.%u: queue %u: size %u (maximum %u) not "
		    "usable\n", vd->bus, vd->slot, vd->fn, index, size, max);
		return (-1);
	}
	q->size = (uint16_t)size;
	/* §2.7.2's legacy layout: descriptors, available ring, used ring
	 * on the next 4 KiB boundary.  Valid for modern queues too. */
	avail_end = 16ULL * size + 6 + 2ULL * size;
	ring = (avail_end + RING_ALIGN - 1) & ~(uint64_t)(RING_ALIGN - 1);
	used_len = 6 + 8ULL * size;
	mem = virtio_alloc(ring + used_len, RING_ALIGN);
	q->ndesc = virtio_alloc(2ULL * size, 16);
	if (vd->features & VIRTIO_F_INDIRECT_DESC)
		q->indirect = virtio_alloc(16ULL * VIRTQ_INDIRECT_MAX * size,
		    16);
	if (mem == NULL || q->ndesc == NULL ||
	    ((vd->features & VIRTIO_F_INDIRECT_DESC) && q->indirect == NULL)) {
		printf("virtio: queue %u: out of DMA memory\n", index);
		return (-1);
	}
	q->desc = (struct virtq_desc *)mem;
	q->avail = (volatile uint16_t *)(mem + 16ULL * size);
	q->used = mem + ring;
	for (i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1 < size ? i + 1 : 0);
	q->free_head = 0;
	q->num_free = (uint16_t)size;

	if (vd->legacy) {
		/* The PFN enables the queue: features must be written. */
		outl(vd->iobase + VL_PFN, (uint32_t)((uintptr_t)mem >> 12));
		return (0);
	}
	mmio_write16(vd->common + CC_Q_SIZE, (uint16_t)size);
	mmio_write16(vd->common + CC_Q_MSIX, VIRTIO_NO_VECTOR);
	/* 64-bit fields as two dwords, low first (§4.1.3.1). */
	mmio_write32(vd->common + CC_Q_DESC, (uint32_t)(uintptr_t)q->desc);
	mmio_write32(vd->common + CC_Q_DESC + 4, 0);
	mmio_write32(vd->common + CC_Q_AVAIL, (uint32_t)(uintptr_t)q->avail);
	mmio_write32(vd->common + CC_Q_AVAIL + 4, 0);
	mmio_write32(vd->common + CC_Q_USED, (uint32_t)(uintptr_t)q->used);
	mmio_write32(vd->common + CC_Q_USED + 4, 0);
	q->notify_addr = vd->notify + (uint64_t)mmio_read16(vd->common +
	    CC_Q_NOFF) * vd->notify_mult;
	mmio_write16(vd->common + CC_Q_ENABLE, 1);
	if (mmio_read16(vd->common + CC_Q_ENABLE) != 1) {
		printf("virtio %u:%u.%u: queue %u not enabled\n", vd->bus,
		    vd->slot, vd->fn, index);
		return (-1);
	}
	return (0);
}

int
virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n,
    int indirect)
{
	struct virtq_desc *d, *tbl;
	uint16_t head = q->free_head, idx;
	unsigned i;

	if (n == 0)
		return (-1);
	if (indirect) {
		if (q->indirect == NULL || n > VIRTQ_INDIRECT_MAX ||
		    q->num_free < 1)
			return (-1);
		tbl = q->indirect + (uint64_t)head * VIRTQ_INDIRECT_MAX;
		for (i = 0; i < n; i++) {
			tbl[i].addr = (uint64_t)(uintptr_t)b[i].addr;
			tbl[i].len = b[i].len;
			tbl[i].flags = (uint16_t)((b[i].write ?
			    VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ?
			    VIRTQ_DESC_F_NEXT : 0));
			tbl[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
		}
		d = &q->desc[head];
		q->free_head = d->next;
		d->addr = (uint64_t)(uintptr_t)tbl;
		d->len = 16 * n;
		d->flags = VIRTQ_DESC_F_INDIRECT;
		q->num_free--;
		q->ndesc[head] = 1;
	} else {
		if (q->num_free < n)
			return (-1);
		/* The free list is linked by next: the chain follows it. */
		idx = head;
		for (i = 0; i < n; i++) {
			d = &q->desc[idx];
			d->addr = (uint64_t)(uintptr_t)b[i].addr;
			d->len = b[i].len;
			d->flags = (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE :
			    0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
			idx = d->next;
		}
		q->free_head = idx;
		q->num_free = (uint16_t)(q->num_free - n);
		q->ndesc[head] = (uint16_t)n;
	}
	q->avail[AVAIL_RING + (q->avail_idx & (q->size - 1))] = head;
	q->avail_idx++;
	return (head);
}

void
virtq_kick(struct virtq *q)
{
	const struct virtio_dev *vd = q->vd;

	/* §2.7.13.3.1: ring entries before idx (x86 keeps store order). */
	virtio_cb();
	q->avail[AVAIL_IDX] = q->avail_idx;
	/* §2.7.13.4: idx visible before the flags are read. */
	virtio_mb();
	if (*(volatile uint16_t *)q->used & USED_F_NO_NOTIFY) {
		q->kicks_skipped++;
		return;
	}
	q->kicks++;
	if (vd->legacy)
		outw(vd->iobase + VL_QNOTIFY, q->index);
	else
		mmio_write16(q->notify_addr, q->index);
}

int
virtq_get(struct virtq *q, uint32_t *len)
{
	volatile uint8_t *e;
	uint32_t id, l, n;
	uint16_t last;

	if (*(volatile uint16_t *)(q->used + USED_IDX) == q->last_used)
		return (-1);
	/* §2.7.13.5 (x86 keeps load order): elements after idx. */
	virtio_cb();
	e = q->used + USED_RING + 8 * (q->last_used & (q->size - 1));
	id = *(volatile uint32_t *)e;
	l = *(volatile uint32_t *)(e + 4);
	q->last_used++;
	if (id >= q->size || q->ndesc[id] == 0) {
		printf("virtio: queue %u: used element %u is no chain in "
		    "flight\n", q->index, id);
		return (-2);
	}
	/* The chain's descriptors go back at the head of the free list. */
	last = (uint16_t)id;
	for (n = 1; n < q->ndesc[id]; n++)
		last = q->desc[last].next;
	q->desc[last].next = q->free_head;
	q->free_head = (uint16_t)id;
	q->num_free = (uint16_t)(q->num_free + q->ndesc[id]);
	q->ndesc[id] = 0;
	if (len != NULL)
		*len = l;
	return ((int)id);
}

int
virtq_wait(struct virtq *q, uint32_t *len, enum virtq_how how,
    uint64_t timeout_ms)
{
	uint64_t khz = guest_tsc_khz(), t0 = rdtsc(), lim;
	unsigned e = q->msix_entry;
	unsigned long seen;
	int head;

	lim = khz != 0 ? timeout_ms * khz : timeout_ms * 1000000;
	if (e >= VIRTIO_INTR_MAX)
		how = VIRTQ_POLL;
	/* Let an interrupt already pending in (the handler's cost counts). */
	if (how != VIRTQ_POLL)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	for (;;) {
		seen = how != VIRTQ_POLL ? virtio_intr_count[e] : 0;
		if ((head = virtq_get(q, len)) != -1)
			return (head);
		if (rdtsc() - t0 > lim)
			return (-1);
		switch (how) {
		case VIRTQ_POLL:
			cpu_relax();
			break;
		case VIRTQ_INTR:
			/*
			 * An interrupt after the check ends the wait.  It is
			 * taken after the nop (sti's shadow, SDM vol. 2 STI);
			 * QEMU's TCG takes none after a pause there.
			 */
			while (virtio_intr_count[e] == seen &&
			    rdtsc() - t0 <= lim)
				__asm__ volatile("sti; nop; cli; pause" ::: "memory");
			break;
		case VIRTQ_HLT:
			/* sti's shadow: no interrupt slips in before hlt. */
			if (virtio_intr_count[e] == seen)
				__asm__ volatile("sti; hlt; cli" ::: "memory");
			break;
		}
	}
}

/* ---- MSI-X (PCI Local Bus 3.0 §6.8.2) ---- */

static int
virtio_trap(struct trap_frame *f)
{
	uint64_t e = f->vector - VIRTIO_INTR_VECTOR;

	if (f->vector < VIRTIO_INTR_VECTOR || e >= VIRTIO_INTR_MAX)
		return (0);
	virtio_intr_count[e]++;
	lapic_write(LAPIC_EOI, 0);
	return (1);
}

int
virtio_msix_vector(struct virtio_dev *vd, unsigned entry)
{
	uint64_t t = vd->msix_table + 16ULL * entry;
	uint16_t ctl;

	if (vd->msix_table == 0 || entry >= vd->msix_size ||
	    entry >= VIRTIO_INTR_MAX)
		return (-1);
	guest_set_trap_hook(virtio_trap);
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x100 | 0xff);
	mmio_write32(t + 0, MSI_ADDR | lapic_id() << 12);
	mmio_write32(t + 4, 0);
	mmio_write32(t + 8, VIRTIO_INTR_VECTOR + entry);	/* fixed, edge */
	mmio_write32(t + 12, 0);				/* unmasked */
	ctl = pci_cfg_read16(vd->bus, vd->slot, vd->fn, vd->msix_cap +
	    MSIX_CTRL);
	pci_cfg_write16(vd->bus, vd->slot, vd->fn, vd->msix_cap + MSIX_CTRL,
	    (uint16_t)((ctl | MSIX_ENABLE) & ~MSIX_FMASK));
	vd->msix_on = 1;
	return (0);
}

int
virtq_set_vector(struct virtq *q, unsigned entry)
{
	const struct virtio_dev *vd = q->vd;
	uint16_t got;

	if (!vd->msix_on)
		return (-1);
	if (vd->legacy) {
		outw(vd->iobase + VL_QSEL, q->index);
		outw(vd->iobase + VL_Q_MSIX, (uint16_t)entry);
		got = inw(vd->iobase + VL_Q_MSIX);
	} else {
		mmio_write16(vd->common + CC_Q_SELECT, q->index);
		mmio_write16(vd->common + CC_Q_MSIX, (uint16_t)entry);
		got = mmio_read16(vd->common + CC_Q_MSIX);
	}
	if (got != entry)
		return (-1);
	q->msix_entry = (uint16_t)entry;
	return (0);
}
