/*
 * vdriver.c: the test driver of vdriver.h (virtio 1.2 §4.1 from the
 * driver's side).
 */
#include <string.h>
#include <time.h>
#include "pci/pci_emul.h"
#include "vdriver.h"

#define VENDOR_CAP	0x09

static uint64_t
mrd(struct vdrv *d, uint64_t a, unsigned size)
{
	return (fake_mmio_read(d->fv, a, size));
}

static void
mwr(struct vdrv *d, uint64_t a, unsigned size, uint64_t v)
{
	fake_mmio_write(d->fv, a, size, v);
}

static uint64_t
bar_addr(int slot, int idx)
{
	uint32_t lo = pci_cfg_read(0, slot, 0, PCIR_BAR(idx), 4);
	uint64_t a;

	if (lo & 1)
		return (lo & ~3u);
	a = lo & ~0xfu;
	if ((lo & 6) == 4)
		a |= (uint64_t)pci_cfg_read(0, slot, 0, PCIR_BAR(idx + 1), 4)
		    << 32;
	return (a);
}

int
vdrv_probe(struct vdrv *d, struct fake_vm *fv, int slot, bool legacy)
{
	int cap, type, bar;
	uint32_t off;

	memset(d, 0, sizeof(*d));
	d->fv = fv;
	d->slot = slot;
	d->legacy = legacy;
	d->pcicap = -1;
	pci_cfg_write(0, slot, 0, PCIR_COMMAND, 2, PCIM_CMD_PORTEN |
	    PCIM_CMD_MEMEN | PCIM_CMD_BUSMASTEREN);
	if (pci_cfg_read(0, slot, 0, PCIR_BAR(1), 4) != 0)
		d->msix_table = bar_addr(slot, 1);
	if (legacy) {
		if ((pci_cfg_read(0, slot, 0, PCIR_BAR(0), 4) & 1) == 0)
			return (-1);
		d->iobase = (uint16_t)bar_addr(slot, 0);
		return (0);
	}
	for (cap = pci_cfg_read(0, slot, 0, PCIR_CAP_PTR, 1); cap != 0;
	    cap = pci_cfg_read(0, slot, 0, cap + 1, 1)) {
		if (pci_cfg_read(0, slot, 0, cap, 1) != VENDOR_CAP)
			continue;
		type = pci_cfg_read(0, slot, 0, cap + 3, 1);
		bar = pci_cfg_read(0, slot, 0, cap + 4, 1);
		off = pci_cfg_read(0, slot, 0, cap + 8, 4);
		switch (type) {
		case 1:
			d->common = bar_addr(slot, bar) + off;
			break;
		case 2:
			d->notify = bar_addr(slot, bar) + off;
			d->notify_mult = pci_cfg_read(0, slot, 0, cap + 16, 4);
			break;
		case 3:
			d->isr = bar_addr(slot, bar) + off;
			break;
		case 4:
			d->device = bar_addr(slot, bar) + off;
			break;
		case 5:
			d->pcicap = cap;
			break;
		}
	}
	return (d->common != 0 && d->notify != 0 && d->isr != 0 ? 0 : -1);
}

uint64_t
vdrv_device_features(struct vdrv *d)
{
	uint64_t f;

	if (d->legacy)
		return (fake_in(d->fv, d->iobase, 4));
	mwr(d, d->common + 0x00, 4, 0);
	f = mrd(d, d->common + 0x04, 4);
	mwr(d, d->common + 0x00, 4, 1);
	return (f | mrd(d, d->common + 0x04, 4) << 32);
}

uint8_t
vdrv_status(struct vdrv *d)
{
	if (d->legacy)
		return ((uint8_t)fake_in(d->fv, d->iobase + 0x12, 1));
	return ((uint8_t)mrd(d, d->common + 0x14, 1));
}

void
vdrv_set_status(struct vdrv *d, uint8_t status)
{
	if (d->legacy)
		fake_out(d->fv, d->iobase + 0x12, 1, status);
	else
		mwr(d, d->common + 0x14, 1, status);
}

uint8_t
vdrv_negotiate(struct vdrv *d, uint64_t features)
{
	vdrv_set_status(d, 0);
	vdrv_set_status(d, 0x01);
	vdrv_set_status(d, 0x03);
	if (d->legacy) {
		fake_out(d->fv, d->iobase + 0x04, 4, (uint32_t)features);
		return (vdrv_status(d));
	}
	mwr(d, d->common + 0x08, 4, 0);
	mwr(d, d->common + 0x0c, 4, (uint32_t)features);
	mwr(d, d->common + 0x08, 4, 1);
	mwr(d, d->common + 0x0c, 4, features >> 32);
	vdrv_set_status(d, 0x0b);
	return (vdrv_status(d));
}

uint16_t
vdrv_num_queues(struct vdrv *d)
{
	return ((uint16_t)mrd(d, d->common + 0x12, 2));
}

uint16_t
vdrv_queue_max(struct vdrv *d, int q)
{
	if (d->legacy) {
		fake_out(d->fv, d->iobase + 0x0e, 2, (uint64_t)q);
		return ((uint16_t)fake_in(d->fv, d->iobase + 0x0c, 2));
	}
	mwr(d, d->common + 0x16, 2, (uint64_t)q);
	return ((uint16_t)mrd(d, d->common + 0x18, 2));
}

void
vdrv_queue(struct vdrv *d, int q, uint16_t size, uint64_t desc,
    uint64_t avail, uint64_t used, uint16_t vector)
{
	if (d->legacy) {
		fake_out(d->fv, d->iobase + 0x0e, 2, (uint64_t)q);
		if (d->msix_table != 0)
			fake_out(d->fv, d->iobase + 0x16, 2, vector);
		fake_out(d->fv, d->iobase + 0x08, 4, desc >> 12);
		return;
	}
	mwr(d, d->common + 0x16, 2, (uint64_t)q);
	mwr(d, d->common + 0x18, 2, size);
	mwr(d, d->common + 0x1a, 2, vector);
	mwr(d, d->common + 0x20, 8, desc);
	mwr(d, d->common + 0x28, 4, (uint32_t)avail);	/* as two dwords */
	mwr(d, d->common + 0x2c, 4, avail >> 32);
	mwr(d, d->common + 0x30, 8, used);
	mwr(d, d->common + 0x1c, 2, 1);
}

void
vdrv_notify(struct vdrv *d, int q)
{
	if (d->legacy)
		(void)fake_guest_write(d->fv, IO_PIO, d->iobase + 0x10, 2,
		    (uint64_t)q);
	else
		(void)fake_guest_write(d->fv, IO_MMIO, d->notify +
		    (uint64_t)q * d->notify_mult, 2, (uint64_t)q);
}

uint8_t
vdrv_isr(struct vdrv *d)
{
	if (d->legacy)
		return ((uint8_t)fake_in(d->fv, d->iobase + 0x13, 1));
	return ((uint8_t)mrd(d, d->isr, 1));
}

uint64_t
vdrv_config(struct vdrv *d, unsigned off, unsigned size)
{
	if (d->legacy)
		return (fake_in(d->fv, (uint16_t)(d->iobase +
		    (d->msix_table != 0 ? 0x18 : 0x14) + off), size));
	return (mrd(d, d->device + off, size));
}

void
vdrv_config_write(struct vdrv *d, unsigned off, unsigned size, uint64_t val)
{
	if (d->legacy)
		fake_out(d->fv, (uint16_t)(d->iobase +
		    (d->msix_table != 0 ? 0x18 : 0x14) + off), size, val);
	else
		mwr(d, d->device + off, size, val);
}

void
vdrv_msix(struct vdrv *d, int v, uint64_t addr, uint32_t data)
{
	struct pci_devinst *pi = pci_find_dev(0, d->slot, 0);
	int cap = pci_emul_find_capability(pi, PCIY_MSIX);

	mwr(d, d->msix_table + (uint64_t)v * 16, 8, addr);
	mwr(d, d->msix_table + (uint64_t)v * 16 + 8, 4, data);
	mwr(d, d->msix_table + (uint64_t)v * 16 + 12, 4, 0);
	pci_cfg_write(0, d->slot, 0, cap + 2, 2, 0x8000);
}

uint32_t
vdrv_pcicap_read(struct vdrv *d, uint32_t off, unsigned len)
{
	pci_cfg_write(0, d->slot, 0, d->pcicap + 4, 1, 4);
	pci_cfg_write(0, d->slot, 0, d->pcicap + 8, 4, off);
	pci_cfg_write(0, d->slot, 0, d->pcicap + 12, 4, len);
	return (pci_cfg_read(0, d->slot, 0, d->pcicap + 16, 4));
}

void
vdrv_desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr,
    uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = d->fv->ram + table + 16ULL * i;

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

void
vdrv_avail(struct vdrv *d, uint64_t avail, uint16_t size, uint16_t idx,
    uint16_t head)
{
	uint8_t *p = d->fv->ram + avail;
	uint16_t next = (uint16_t)(idx + 1);

	memcpy(p + 4 + 2 * (idx % size), &head, 2);
	__atomic_store_n((uint16_t *)(void *)(p + 2), next, __ATOMIC_RELEASE);
}

bool
vdrv_wait_used(struct vdrv *d, uint64_t used, uint16_t idx, int ms)
{
	const uint16_t *p = (const uint16_t *)(void *)(d->fv->ram + used + 2);
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < ms; i++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) == idx)
			return (true);
		nanosleep(&ts, NULL);
	}
	return (__atomic_load_n(p, __ATOMIC_ACQUIRE) == idx);
}

void
vdrv_used_elem(struct vdrv *d, uint64_t used, uint16_t size, uint16_t slot,
    uint32_t *id, uint32_t *len)
{
	const uint8_t *p = d->fv->ram + used + 4 + 8ULL * (slot % size);

	memcpy(id, p, 4);
	memcpy(len, p + 4, 4);
}
