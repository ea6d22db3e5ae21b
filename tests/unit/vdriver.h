/*
 * vdriver.h: a virtio PCI driver for unit tests, talking to a device on
 * a fake machine (fake.h) the way a guest driver would: configuration
 * space, BAR registers (modern capabilities or the legacy I/O BAR), split
 * rings in fake guest RAM, notifications through the ioeventfds the
 * device registered, interrupts through the irqfds.
 */
#ifndef VDRIVER_H
#define VDRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include "fake.h"

struct vdrv {
	struct fake_vm	*fv;
	int		slot;
	bool		legacy;		/* the 0.9.5 registers in BAR 0 */
	uint64_t	common, notify, isr, device;	/* modern: addresses */
	uint32_t	notify_mult;
	int		pcicap;		/* VIRTIO_PCI_CAP_PCI_CFG offset */
	uint16_t	iobase;		/* legacy */
	uint64_t	msix_table;	/* BAR 1, 0 without MSI-X */
};

/*
 * Enable decode and find the registers of the device at 0:slot.0:
 * modern (the vendor capabilities) or legacy (BAR 0).  Returns 0, or -1
 * when what the test asked for is not there.
 */
int	vdrv_probe(struct vdrv *d, struct fake_vm *fv, int slot, bool legacy);

/* Device and driver registers. */
uint64_t vdrv_device_features(struct vdrv *d);
/* Reset, ACKNOWLEDGE|DRIVER, write features, FEATURES_OK (modern);
 * returns the status read back. */
uint8_t	vdrv_negotiate(struct vdrv *d, uint64_t features);
uint8_t	vdrv_status(struct vdrv *d);
void	vdrv_set_status(struct vdrv *d, uint8_t status);
uint16_t vdrv_num_queues(struct vdrv *d);
/* Queue q at the addresses (legacy: desc is the page-aligned base). */
void	vdrv_queue(struct vdrv *d, int q, uint16_t size, uint64_t desc,
	    uint64_t avail, uint64_t used, uint16_t vector);
uint16_t vdrv_queue_max(struct vdrv *d, int q);
void	vdrv_notify(struct vdrv *d, int q);
uint8_t	vdrv_isr(struct vdrv *d);
uint64_t vdrv_config(struct vdrv *d, unsigned off, unsigned size);
void	vdrv_config_write(struct vdrv *d, unsigned off, unsigned size,
	    uint64_t val);
/* Program and unmask MSI-X vector v, and enable MSI-X. */
void	vdrv_msix(struct vdrv *d, int v, uint64_t addr, uint32_t data);
/* Through the PCI configuration access capability: BAR 4 at off. */
uint32_t vdrv_pcicap_read(struct vdrv *d, uint32_t off, unsigned len);

/* Ring helpers on fake guest RAM. */
void	vdrv_desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr,
	    uint32_t len, uint16_t flags, uint16_t next);
void	vdrv_avail(struct vdrv *d, uint64_t avail, uint16_t size,
	    uint16_t idx, uint16_t head);
/* Wait (up to ms) until used->idx reaches idx; returns true if it did. */
bool	vdrv_wait_used(struct vdrv *d, uint64_t used, uint16_t idx, int ms);
/* Used element slot: id and len. */
void	vdrv_used_elem(struct vdrv *d, uint64_t used, uint16_t size,
	    uint16_t slot, uint32_t *id, uint32_t *len);

#endif /* VDRIVER_H */
