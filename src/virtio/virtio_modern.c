/*
 * virtio_modern.c: the virtio 1.x PCI interface (virtio 1.2 §4.1.4):
 * vendor capabilities naming the common configuration, notification,
 * ISR and device configuration structures in BAR 4, and the PCI
 * configuration access capability.  kvmtool's virtio/pci-modern.c has
 * the same shape; these are khyve's own registers.
 *
 * Registers are accessed at their natural width (64-bit ones also as two
 * dwords, §4.1.3.1); other accesses read 0 and are ignored, as are writes
 * to read-only fields and to a queue's fields once it is enabled
 * (§4.1.4.3.2: the driver must not).
 */
#include <errno.h>
#include <string.h>
#include "log.h"
#include "virtio/virtio.h"
#include "virtio/virtio_impl.h"

/* cfg_type (§4.1.4) */
#define VCAP_COMMON	1
#define VCAP_NOTIFY	2
#define VCAP_ISR	3
#define VCAP_DEVICE	4
#define VCAP_PCI	5
#define VCAP_LEN	16
#define VCAP_PCI_LEN	20

/* struct virtio_pci_common_cfg (§4.1.4.3) */
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
#define CC_Q_NDATA	0x38

static int
vcap_add(struct pci_devinst *pi, uint8_t type, uint32_t off, uint32_t len,
    const uint8_t *extra, int extralen)
{
	uint8_t cap[VCAP_PCI_LEN];

	memset(cap, 0, sizeof(cap));
	cap[0] = PCIY_VENDOR;
	cap[2] = (uint8_t)(VCAP_LEN + extralen);	/* cap_len */
	cap[3] = type;
	cap[4] = VIRTIO_MODERN_BAR;
	memcpy(cap + 8, &off, 4);
	memcpy(cap + 12, &len, 4);
	if (extralen > 0)
		memcpy(cap + VCAP_LEN, extra, (size_t)extralen);
	return (pci_emul_add_capability(pi, cap, VCAP_LEN + extralen));
}

int
virtio_modern_caps(struct virtio_softc *vs)
{
	struct pci_devinst *pi = vs->vs_pi;
	uint32_t mult = VMOD_NOTIFY_MULT;
	uint8_t zero[4] = { 0 };

	if (vcap_add(pi, VCAP_COMMON, VMOD_COMMON_OFF, VMOD_COMMON_LEN, NULL,
	    0) < 0 ||
	    vcap_add(pi, VCAP_NOTIFY, VMOD_NOTIFY_OFF, (uint32_t)vs->vs_nqueues *
	    VMOD_NOTIFY_MULT, (const uint8_t *)&mult, 4) < 0 ||
	    vcap_add(pi, VCAP_ISR, VMOD_ISR_OFF, 1, NULL, 0) < 0 ||
	    (vs->vs_cfglen > 0 && vcap_add(pi, VCAP_DEVICE, VMOD_DEVICE_OFF,
	    vs->vs_cfglen, NULL, 0) < 0) ||
	    vcap_add(pi, VCAP_PCI, 0, 0, zero, 4) < 0)
		return (-ENOSPC);
	return (0);
}

/* The common configuration image (what reads see). */
static void
common_image(struct virtio_softc *vs, uint8_t img[VMOD_COMMON_LEN])
{
	const struct virtio_queue *q = NULL;
	uint32_t df = 0;
	uint16_t v16;
	uint64_t v64;

	memset(img, 0, VMOD_COMMON_LEN);
	if (vs->vs_dfselect < 2)
		df = (uint32_t)(vs->vs_features >> (32 * vs->vs_dfselect));
	memcpy(img + CC_DFSELECT, &vs->vs_dfselect, 4);
	memcpy(img + CC_DF, &df, 4);
	memcpy(img + CC_GFSELECT, &vs->vs_gfselect, 4);
	df = vs->vs_gfselect < 2 ?
	    (uint32_t)(vs->vs_negotiated >> (32 * vs->vs_gfselect)) : 0;
	memcpy(img + CC_GF, &df, 4);
	memcpy(img + CC_MSIX, &vs->vs_msix_config, 2);
	v16 = (uint16_t)vs->vs_nqueues;
	memcpy(img + CC_NUMQ, &v16, 2);
	img[CC_STATUS] = vs->vs_status;
	img[CC_CFGGEN] = vs->vs_cfg_gen;
	memcpy(img + CC_Q_SELECT, &vs->vs_qsel, 2);
	if (vs->vs_qsel < vs->vs_nqueues)
		q = &vs->vs_queues[vs->vs_qsel];
	if (q == NULL)
		return;			/* queue_size 0: no such queue */
	memcpy(img + CC_Q_SIZE, &q->size, 2);
	memcpy(img + CC_Q_MSIX, &q->msix_vector, 2);
	v16 = q->enabled ? 1 : 0;
	memcpy(img + CC_Q_ENABLE, &v16, 2);
	v16 = vs->vs_qsel;
	memcpy(img + CC_Q_NOFF, &v16, 2);
	v64 = q->desc;
	memcpy(img + CC_Q_DESC, &v64, 8);
	v64 = q->avail;
	memcpy(img + CC_Q_AVAIL, &v64, 8);
	v64 = q->used;
	memcpy(img + CC_Q_USED, &v64, 8);
	memcpy(img + CC_Q_NDATA, &vs->vs_qsel, 2);
}

/* A 64-bit queue address, written whole or as dwords. */
static void
set_addr(uint64_t *a, uint64_t off, unsigned size, uint64_t val)
{
	if (size == 8)
		*a = val;
	else if (off % 8 == 0)
		*a = (*a & ~0xffffffffULL) | (uint32_t)val;
	else
		*a = (*a & 0xffffffffULL) | val << 32;
}

static void
common_write(struct virtio_softc *vs, uint64_t off, unsigned size,
    uint64_t val)
{
	struct virtio_queue *q = vs->vs_qsel < vs->vs_nqueues ?
	    &vs->vs_queues[vs->vs_qsel] : NULL;
	uint64_t mask;
	unsigned sh;

	switch (off) {
	case CC_DFSELECT:
		if (size == 4)
			vs->vs_dfselect = (uint32_t)val;
		return;
	case CC_GFSELECT:
		if (size == 4)
			vs->vs_gfselect = (uint32_t)val;
		return;
	case CC_GF:
		/* Features are fixed once accepted (§3.1.1 step 5). */
		if (size != 4 || vs->vs_gfselect >= 2 ||
		    (vs->vs_status & VIRTIO_S_FEATURES_OK))
			return;
		sh = 32 * vs->vs_gfselect;
		mask = 0xffffffffULL << sh;
		vs->vs_negotiated = (vs->vs_negotiated & ~mask) |
		    ((val << sh) & mask);
		return;
	case CC_MSIX:
		if (size == 2)
			vs->vs_msix_config = virtio_msix_vector(vs,
			    (uint16_t)val);
		return;
	case CC_STATUS:
		if (size == 1)
			virtio_set_status(vs, (uint8_t)val, true);
		return;
	case CC_Q_SELECT:
		if (size == 2)
			vs->vs_qsel = (uint16_t)val;
		return;
	default:
		break;
	}
	if (q == NULL)
		return;
	switch (off) {
	case CC_Q_MSIX:
		if (size == 2)
			q->msix_vector = virtio_msix_vector(vs, (uint16_t)val);
		return;
	case CC_Q_ENABLE:
		if (size == 2 && val == 1)
			virtio_queue_enable(vs, vs->vs_qsel);
		return;
	default:
		break;
	}
	if (q->enabled)
		return;
	if (off == CC_Q_SIZE && size == 2)
		q->size = (uint16_t)val;	/* checked when enabled */
	else if ((size == 8 && off % 8 == 0) || size == 4) {
		if (off >= CC_Q_DESC && off < CC_Q_DESC + 8)
			set_addr(&q->desc, off, size, val);
		else if (off >= CC_Q_AVAIL && off < CC_Q_AVAIL + 8)
			set_addr(&q->avail, off, size, val);
		else if (off >= CC_Q_USED && off < CC_Q_USED + 8)
			set_addr(&q->used, off, size, val);
	}
}

uint64_t
virtio_modern_read(struct virtio_softc *vs, uint64_t off, unsigned size)
{
	uint8_t img[VMOD_COMMON_LEN];
	uint64_t v = 0;

	if (off < VMOD_COMMON_LEN) {
		if (size > VMOD_COMMON_LEN - off)
			return (0);
		common_image(vs, img);
		memcpy(&v, img + off, size);
		return (v);
	}
	if (off == VMOD_ISR_OFF && size == 1)
		return (virtio_read_isr(vs));
	if (off >= VMOD_DEVICE_OFF && off < VMOD_DEVICE_OFF + 0x1000)
		return (virtio_devcfg_read(vs, off - VMOD_DEVICE_OFF, size));
	return (0);
}

void
virtio_modern_write(struct virtio_softc *vs, uint64_t off, unsigned size,
    uint64_t val)
{
	uint64_t q;

	if (off < VMOD_COMMON_LEN)
		common_write(vs, off, size, val);
	else if (off >= VMOD_DEVICE_OFF && off < VMOD_DEVICE_OFF + 0x1000)
		virtio_devcfg_write(vs, off - VMOD_DEVICE_OFF, size, val);
	else if (off >= VMOD_NOTIFY_OFF && off < VMOD_NOTIFY_OFF + 0x1000) {
		/* Without an ioeventfd the write comes here. */
		q = (off - VMOD_NOTIFY_OFF) / VMOD_NOTIFY_MULT;
		if (q < (uint64_t)vs->vs_nqueues)
			virtio_kick(vs, (int)q);
	}
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG (§4.1.4.9): the driver names a BAR, an offset
 * and a length (1, 2 or 4) in the capability, then reads or writes the
 * capability's data dword to access that BAR there.  Only BAR 4's
 * structures are reachable this way; anything else reads 0.
 */
static int
pcicap_off(struct pci_devinst *pi)
{
	int i;

	for (i = pi->pi_ncaps - 1; i >= 0; i--)
		if (pi->pi_cap[i].pc_id == PCIY_VENDOR &&
		    pi->pi_cfgspace[pi->pi_cap[i].pc_off + 3] == VCAP_PCI)
			return (pi->pi_cap[i].pc_off);
	return (-1);
}

static bool
pcicap_target(struct pci_devinst *pi, int cap, uint32_t *off, unsigned *len)
{
	*off = pci_get_cfgdata32(pi, cap + 8);
	*len = pci_get_cfgdata32(pi, cap + 12);
	return (pi->pi_cfgspace[cap + 4] == VIRTIO_MODERN_BAR &&
	    (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0 &&
	    *off < VMOD_BAR_SIZE);
}

int
virtio_modern_cfgread(struct pci_devinst *pi, int off, int bytes,
    uint32_t *val)
{
	struct virtio_softc *vs = pi->pi_arg;
	int cap = pcicap_off(pi);
	uint32_t boff;
	unsigned blen;

	if (cap < 0 || off < cap + VCAP_LEN || off >= cap + VCAP_PCI_LEN)
		return (1);
	*val = 0;
	if (bytes != 4 || !pcicap_target(pi, cap, &boff, &blen))
		return (0);
	pthread_mutex_lock(&vs->vs_mtx);
	*val = (uint32_t)virtio_modern_read(vs, boff, blen);
	pthread_mutex_unlock(&vs->vs_mtx);
	return (0);
}

int
virtio_modern_cfgwrite(struct pci_devinst *pi, int off, int bytes,
    uint32_t val)
{
	struct virtio_softc *vs = pi->pi_arg;
	int cap = pcicap_off(pi), i, r;
	uint32_t boff;
	unsigned blen;

	if (cap < 0 || off < cap || off >= cap + VCAP_PCI_LEN)
		return (1);
	if (off >= cap + VCAP_LEN) {
		if (bytes == 4 && pcicap_target(pi, cap, &boff, &blen)) {
			pthread_mutex_lock(&vs->vs_mtx);
			virtio_modern_write(vs, boff, blen, val);
			pthread_mutex_unlock(&vs->vs_mtx);
		}
		return (0);
	}
	/* bar (byte 4), offset and length (bytes 8-15) are writable. */
	for (i = 0; i < bytes; i++, val >>= 8) {
		r = off + i - cap;
		if (r == 4 || (r >= 8 && r < 16))
			pci_set_cfgdata8(pi, off + i, (uint8_t)val);
	}
	return (0);
}
