/*
 * virtio_impl.h: what the virtio PCI transport's files share; not for
 * devices.
 */
#ifndef VIRTIO_IMPL_H
#define VIRTIO_IMPL_H

#include "virtio/virtio.h"

/* BAR 4 (modern): one 4 KiB page per structure (virtio 1.2 §4.1.4). */
#define VIRTIO_MODERN_BAR	4
#define VIRTIO_MSIX_BAR		1
#define VIRTIO_LEGACY_BAR	0
#define VMOD_COMMON_OFF		0x0000
#define VMOD_COMMON_LEN		0x003c
#define VMOD_ISR_OFF		0x1000
#define VMOD_DEVICE_OFF		0x2000
#define VMOD_NOTIFY_OFF		0x3000
#define VMOD_NOTIFY_MULT	4	/* notify_off_multiplier */
#define VMOD_BAR_SIZE		0x4000

/* virtio_pci.c */
/* A status write (0 resets); vs_mtx held. */
void	virtio_set_status(struct virtio_softc *vs, uint8_t val, bool modern);
/* Read (and clear) the ISR; vs_mtx held. */
uint8_t	virtio_read_isr(struct virtio_softc *vs);
/* Configure and enable queue q with its addresses; vs_mtx held. */
void	virtio_queue_enable(struct virtio_softc *vs, int q);
/* Drop queue q's configuration (legacy PFN 0, reset); vs_mtx held. */
void	virtio_queue_disable(struct virtio_softc *vs, int q);
/* The driver notified queue q through a register (no ioeventfd). */
void	virtio_kick(struct virtio_softc *vs, int q);
/* A device configuration access at off; vs_mtx held. */
uint64_t virtio_devcfg_read(struct virtio_softc *vs, uint64_t off,
	    unsigned size);
void	virtio_devcfg_write(struct virtio_softc *vs, uint64_t off,
	    unsigned size, uint64_t val);
/* An MSI-X vector number as the driver set it: NO_VECTOR if out of range. */
uint16_t virtio_msix_vector(struct virtio_softc *vs, uint16_t v);

/* virtio_modern.c */
/* The capabilities in config space (set-up). */
int	virtio_modern_caps(struct virtio_softc *vs) __must_check;
/* An access to BAR 4 at off; vs_mtx held. */
uint64_t virtio_modern_read(struct virtio_softc *vs, uint64_t off,
	    unsigned size);
void	virtio_modern_write(struct virtio_softc *vs, uint64_t off,
	    unsigned size, uint64_t val);
/* The VIRTIO_PCI_CAP_PCI_CFG window (pe_cfgread/pe_cfgwrite). */
int	virtio_modern_cfgread(struct pci_devinst *pi, int off, int bytes,
	    uint32_t *val);
int	virtio_modern_cfgwrite(struct pci_devinst *pi, int off, int bytes,
	    uint32_t val);

/* virtio_legacy.c */
/* Size of the legacy I/O BAR for a device configuration of cfglen. */
uint64_t virtio_legacy_bar_size(unsigned cfglen);
uint64_t virtio_legacy_read(struct virtio_softc *vs, uint64_t off,
	    unsigned size);
void	virtio_legacy_write(struct virtio_softc *vs, uint64_t off,
	    unsigned size, uint64_t val);

#endif /* VIRTIO_IMPL_H */
