/*
 * virtio_legacy.c: the legacy (0.9.5) PCI interface in I/O BAR 0
 * (virtio 1.2 §4.1.4.8, "Legacy Interfaces: A Note on PCI Device Layout";
 * bhyve's virtio.c vi_pci_read/vi_pci_write): 32 bits of features, a
 * queue page frame number with the 4096-byte legacy ring layout
 * (§2.7.2's legacy alignment), a fixed queue size, status, ISR, the two
 * MSI-X vector registers while MSI-X is on, then the device
 * configuration.
 */
#include <string.h>
#include "virtio/virtio.h"
#include "virtio/virtio_impl.h"

#define VL_HOSTF	0x00	/* device features, 32 bits */
#define VL_GUESTF	0x04
#define VL_PFN		0x08	/* queue address >> 12 */
#define VL_QNUM		0x0c	/* queue size (read-only) */
#define VL_QSEL		0x0e
#define VL_QNOTIFY	0x10
#define VL_STATUS	0x12
#define VL_ISR		0x13
#define VL_CFG_MSIX	0x14	/* with MSI-X on */
#define VL_Q_MSIX	0x16
#define VL_CFG		0x14	/* device configuration, no MSI-X */
#define VL_CFG_WITH_MSIX 0x18
#define VL_ALIGN	4096
#define VL_PFN_SHIFT	12

uint64_t
virtio_legacy_bar_size(unsigned cfglen)
{
	uint64_t need = VL_CFG_WITH_MSIX + cfglen, size = 32;

	while (size < need)
		size <<= 1;
	return (size);
}

/* Where the device configuration starts now (MSI-X moves it). */
static uint64_t
cfg_base(struct virtio_softc *vs)
{
	return (vs->vs_use_msix && pci_msix_enabled(vs->vs_pi) ?
	    VL_CFG_WITH_MSIX : VL_CFG);
}

uint64_t
virtio_legacy_read(struct virtio_softc *vs, uint64_t off, unsigned size)
{
	const struct virtio_queue *q = vs->vs_qsel < vs->vs_nqueues ?
	    &vs->vs_queues[vs->vs_qsel] : NULL;
	uint64_t base = cfg_base(vs);

	if (off >= base)
		return (virtio_devcfg_read(vs, off - base, size));
	switch (off) {
	case VL_HOSTF:
		return (size == 4 ? (uint32_t)vs->vs_features : 0);
	case VL_GUESTF:
		return (size == 4 ? (uint32_t)vs->vs_negotiated : 0);
	case VL_PFN:
		return (size == 4 && q != NULL ? q->legacy_pfn : 0);
	case VL_QNUM:
		/* Legacy queues have the device's size (§4.1.4.8). */
		return (size == 2 && q != NULL ? vs->vs_qsize_max : 0);
	case VL_QSEL:
		return (size == 2 ? vs->vs_qsel : 0);
	case VL_STATUS:
		return (size == 1 ? vs->vs_status : 0);
	case VL_ISR:
		return (size == 1 ? virtio_read_isr(vs) : 0);
	case VL_CFG_MSIX:
		return (size == 2 ? vs->vs_msix_config : 0);
	case VL_Q_MSIX:
		return (size == 2 && q != NULL ? q->msix_vector :
		    VIRTIO_MSI_NO_VECTOR);
	default:
		return (0);
	}
}

void
virtio_legacy_write(struct virtio_softc *vs, uint64_t off, unsigned size,
    uint64_t val)
{
	struct virtio_queue *q = vs->vs_qsel < vs->vs_nqueues ?
	    &vs->vs_queues[vs->vs_qsel] : NULL;
	uint64_t base = cfg_base(vs), desc;

	if (off >= base) {
		virtio_devcfg_write(vs, off - base, size, val);
		return;
	}
	switch (off) {
	case VL_GUESTF:
		/* No FEATURES_OK in 0.9.5: what the driver writes counts. */
		if (size == 4 && !(vs->vs_status & VIRTIO_S_DRIVER_OK)) {
			vs->vs_negotiated = val & (uint32_t)vs->vs_features;
			if (vs->vs_ops->vd_features != NULL)
				vs->vs_ops->vd_features(vs->vs_dev,
				    vs->vs_negotiated);
		}
		break;
	case VL_PFN:
		if (size != 4 || q == NULL)
			break;
		if (val == 0) {
			virtio_queue_disable(vs, vs->vs_qsel);
			q->legacy_pfn = 0;
			break;
		}
		if (q->enabled)
			break;
		q->legacy_pfn = (uint32_t)val;
		desc = (uint64_t)(uint32_t)val << VL_PFN_SHIFT;
		q->size = vs->vs_qsize_max;
		q->desc = desc;
		q->avail = desc + 16ULL * q->size;
		q->used = roundup2(q->avail + 6 + 2ULL * q->size, VL_ALIGN);
		virtio_queue_enable(vs, vs->vs_qsel);
		break;
	case VL_QSEL:
		if (size == 2)
			vs->vs_qsel = (uint16_t)val;
		break;
	case VL_QNOTIFY:
		if (size == 2)
			virtio_kick(vs, (int)(uint16_t)val);
		break;
	case VL_STATUS:
		if (size == 1)
			virtio_set_status(vs, (uint8_t)val, false);
		break;
	case VL_CFG_MSIX:
		if (size == 2)
			vs->vs_msix_config = virtio_msix_vector(vs,
			    (uint16_t)val);
		break;
	case VL_Q_MSIX:
		if (size == 2 && q != NULL)
			q->msix_vector = virtio_msix_vector(vs, (uint16_t)val);
		break;
	default:
		break;
	}
}
