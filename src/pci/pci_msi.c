/*
 * pci_msi.c: the capability list, MSI and MSI-X (PCI Local Bus
 * Specification 3.0, §6.7 capabilities list, §6.8.1 MSI, §6.8.2 MSI-X;
 * bhyve's pci_emul.c pci_emul_add_msicap(), msixcap_cfgwrite(),
 * pci_emul_msix_twrite()).
 *
 * Capability bytes are read-only to the guest except the fields the spec
 * makes writable: MSI's enable, multiple-message enable, address and data;
 * MSI-X's enable and function mask.  A capability the framework does not
 * own (a virtio vendor capability) is the device's: its pe_cfgwrite sees
 * the write, or it is dropped.  The MSI-X table and PBA live in a BAR of
 * their own; accesses there never reach the device.  Only aligned dword
 * and qword accesses are defined (§6.8.2.9); others read all-ones and are
 * dropped, whatever the offset.
 *
 * MSI-X vectors are delivered through irqfds where the machine gives
 * them: masking, the function mask and pending bits stay here, and an
 * entry's route is written to KVM when the entry is unmasked (drivers
 * program masked entries, then unmask: one KVM_SET_GSI_ROUTING per
 * vector, from the vCPU that unmasked it), so the device threads that
 * fire vectors need nothing but write(2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "pci/pci_emul.h"
#include "pci/pci_impl.h"

#define MSI_CAPLEN		14	/* 64-bit address, no masking */
#define MSI_CTRL		2
#define MSI_ADDR_LO		4
#define MSI_ADDR_HI		8
#define MSI_DATA		12
#define MSICTRL_ENABLE		0x0001
#define MSICTRL_MMC_SHIFT	1	/* multiple message capable */
#define MSICTRL_MME_SHIFT	4	/* multiple message enable */
#define MSICTRL_MME_MASK	0x0070
#define MSICTRL_64BIT		0x0080

#define MSIX_CAPLEN		12
#define MSIX_CTRL		2
#define MSIX_TABLE		4	/* offset | BIR */
#define MSIX_PBA		8
#define MSIXCTRL_FMASK		0x4000
#define MSIXCTRL_ENABLE		0x8000
#define MSIX_ENTRY_SIZE		16
#define MSIX_VC_MASKED		0x1
#define MSIX_MAX		2048

#define PCI_CAP_START		0x40

int
pci_emul_add_capability(struct pci_devinst *pi, const uint8_t *capdata,
    int caplen)
{
	int off, i;

	if (caplen < 2 || pi->pi_ncaps >= PCI_MAXCAPS)
		return (-ENOSPC);
	off = pi->pi_capend != 0 ? pi->pi_capend : PCI_CAP_START;
	off = roundup2(off, 4);
	if (off + caplen > PCI_REGMAX + 1)
		return (-ENOSPC);
	pthread_mutex_lock(&pi->pi_lock);
	for (i = 0; i < caplen; i++)
		pci_set_cfgdata8(pi, off + i, capdata[i]);
	pci_set_cfgdata8(pi, off + 1, 0);		/* the end of the list */
	if (pi->pi_ncaps == 0) {
		pci_set_cfgdata8(pi, PCIR_CAP_PTR, (uint8_t)off);
		pci_set_cfgdata16(pi, PCIR_STATUS,
		    pci_get_cfgdata16(pi, PCIR_STATUS) | PCIM_STATUS_CAPPRESENT);
	} else {
		pci_set_cfgdata8(pi, pi->pi_cap[pi->pi_ncaps - 1].pc_off + 1,
		    (uint8_t)off);
	}
	pi->pi_cap[pi->pi_ncaps].pc_off = (uint8_t)off;
	pi->pi_cap[pi->pi_ncaps].pc_len = (uint8_t)caplen;
	pi->pi_cap[pi->pi_ncaps].pc_id = capdata[0];
	pi->pi_ncaps++;
	pi->pi_capend = off + caplen;
	pthread_mutex_unlock(&pi->pi_lock);
	return (off);
}

int
pci_emul_find_capability(struct pci_devinst *pi, uint8_t id)
{
	int i;

	for (i = 0; i < pi->pi_ncaps; i++)
		if (pi->pi_cap[i].pc_id == id)
			return (pi->pi_cap[i].pc_off);
	return (0);
}

const struct pci_cap *
pci_cap_at(const struct pci_devinst *pi, int off)
{
	int i;

	for (i = 0; i < pi->pi_ncaps; i++)
		if (off >= pi->pi_cap[i].pc_off &&
		    off < pi->pi_cap[i].pc_off + pi->pi_cap[i].pc_len)
			return (&pi->pi_cap[i]);
	return (NULL);
}

int
pci_emul_add_msicap(struct pci_devinst *pi, int msgnum)
{
	uint8_t cap[MSI_CAPLEN];
	int mmc, off;

	if (msgnum < 1 || msgnum > 32 || (msgnum & (msgnum - 1)) != 0 ||
	    pi->pi_msi.capoff != 0)
		return (-EINVAL);
	mmc = __builtin_ctz((unsigned)msgnum);
	memset(cap, 0, sizeof(cap));
	cap[0] = PCIY_MSI;
	cap[MSI_CTRL] = (uint8_t)(mmc << MSICTRL_MMC_SHIFT | MSICTRL_64BIT);
	off = pci_emul_add_capability(pi, cap, sizeof(cap));
	if (off < 0)
		return (off);
	pthread_mutex_lock(&pi->pi_intr_lock);
	pi->pi_msi.capoff = off;
	pi->pi_msi.maxmsgnum = msgnum;
	pthread_mutex_unlock(&pi->pi_intr_lock);
	return (0);
}

int
pci_emul_add_msixcap(struct pci_devinst *pi, int msgnum, int barnum)
{
	struct pci_msix *mx = &pi->pi_msix;
	uint32_t tab_size, pba_size, pba_off;
	uint8_t cap[MSIX_CAPLEN];
	uint64_t bar_size;
	int off, error;

	if (msgnum < 1 || msgnum > MSIX_MAX || barnum < 0 ||
	    barnum > PCI_BARMAX || mx->capoff != 0)
		return (-EINVAL);
	tab_size = (uint32_t)msgnum * MSIX_ENTRY_SIZE;
	pba_size = (uint32_t)roundup2((msgnum + 63) / 64 * 8, 8);
	/* Table at 0, PBA on the next page: each can be mapped apart. */
	pba_off = roundup2(tab_size, 4096);
	bar_size = roundup2(pba_off + pba_size, 4096);
	error = pci_emul_alloc_bar(pi, barnum, PCIBAR_MEM32, bar_size, false);
	if (error != 0)
		return (error);
	mx->table = calloc((size_t)msgnum, sizeof(*mx->table));
	mx->pba = calloc(pba_size / 8, sizeof(*mx->pba));
	mx->irqfd = calloc((size_t)msgnum, sizeof(*mx->irqfd));
	mx->irqfd_handle = calloc((size_t)msgnum, sizeof(*mx->irqfd_handle));
	mx->irqfd_routed = calloc((size_t)msgnum, sizeof(*mx->irqfd_routed));
	if (mx->table == NULL || mx->pba == NULL || mx->irqfd == NULL ||
	    mx->irqfd_handle == NULL || mx->irqfd_routed == NULL) {
		pci_msi_release(pi);
		return (-ENOMEM);
	}
	for (off = 0; off < msgnum; off++) {
		mx->irqfd[off] = -1;
		if (off < PCI_MSIX_IRQFDS && pi->pi_ctx->dc_msi_irqfd != NULL)
			mx->irqfd_handle[off] = pi->pi_ctx->dc_msi_irqfd(
			    pi->pi_ctx->dc_opaque, &mx->irqfd[off]);
		if (mx->irqfd_handle[off] < 0)
			mx->irqfd[off] = -1;
	}
	/* Reset state: every vector masked (§6.8.2.9). */
	for (off = 0; off < msgnum; off++)
		mx->table[off].vector_control = MSIX_VC_MASKED;
	memset(cap, 0, sizeof(cap));
	cap[0] = PCIY_MSIX;
	cap[MSIX_CTRL] = (uint8_t)((msgnum - 1) & 0xff);
	cap[MSIX_CTRL + 1] = (uint8_t)((msgnum - 1) >> 8);
	cap[MSIX_TABLE] = (uint8_t)barnum;
	cap[MSIX_PBA] = (uint8_t)(barnum | (pba_off & 0xf8));
	cap[MSIX_PBA + 1] = (uint8_t)(pba_off >> 8);
	cap[MSIX_PBA + 2] = (uint8_t)(pba_off >> 16);
	cap[MSIX_PBA + 3] = (uint8_t)(pba_off >> 24);
	off = pci_emul_add_capability(pi, cap, sizeof(cap));
	if (off < 0)
		return (off);
	pthread_mutex_lock(&pi->pi_intr_lock);
	mx->bar = barnum;
	mx->table_offset = 0;
	mx->table_count = msgnum;
	mx->pba_offset = pba_off;
	mx->pba_size = pba_size;
	mx->capoff = off;
	pthread_mutex_unlock(&pi->pi_intr_lock);
	return (0);
}

/* The irqfds belong to the machine, which closes them at exit. */
void
pci_msi_release(struct pci_devinst *pi)
{
	struct pci_msix *mx = &pi->pi_msix;

	free(mx->table);
	free(mx->pba);
	free(mx->irqfd);
	free(mx->irqfd_handle);
	free(mx->irqfd_routed);
	mx->table = NULL;
	mx->pba = NULL;
	mx->irqfd = NULL;
	mx->irqfd_handle = NULL;
	mx->irqfd_routed = NULL;
}

bool
pci_msi_enabled(struct pci_devinst *pi)
{
	bool on;

	pthread_mutex_lock(&pi->pi_intr_lock);
	on = pi->pi_msi.enabled;
	pthread_mutex_unlock(&pi->pi_intr_lock);
	return (on);
}

int
pci_msi_maxmsgnum(struct pci_devinst *pi)
{
	return (pi->pi_msi.maxmsgnum);
}

bool
pci_msix_enabled(struct pci_devinst *pi)
{
	bool on;

	pthread_mutex_lock(&pi->pi_intr_lock);
	on = pi->pi_msix.enabled;
	pthread_mutex_unlock(&pi->pi_intr_lock);
	return (on);
}

void
pci_generate_msi(struct pci_devinst *pi, int index)
{
	struct pci_msi *m = &pi->pi_msi;
	uint64_t addr = 0;
	uint32_t data = 0;
	bool send;

	pthread_mutex_lock(&pi->pi_intr_lock);
	/* Multiple messages differ in the low bits of data (§6.8.1.6). */
	send = m->enabled && index >= 0 && index < m->msgnum;
	if (send) {
		addr = m->addr;
		data = (m->data & ~(uint32_t)(m->msgnum - 1)) | (uint32_t)index;
	}
	pthread_mutex_unlock(&pi->pi_intr_lock);
	if (send)
		(void)dev_msi(pi->pi_ctx, addr, data);
}

/* Point vector i's irqfd at its entry's message; intr lock held. */
static void
msix_route(struct pci_devinst *pi, int i)
{
	struct pci_msix *mx = &pi->pi_msix;
	const struct devctx *dc = pi->pi_ctx;

	if (mx->irqfd[i] < 0)
		return;
	mx->irqfd_routed[i] = dc->dc_msi_irqfd_set(dc->dc_opaque,
	    mx->irqfd_handle[i], mx->table[i].addr, mx->table[i].msg_data) == 0;
}

/* Deliver vector i if nothing masks it, else mark it pending; intr lock. */
static void
msix_fire(struct pci_devinst *pi, int i)
{
	struct pci_msix *mx = &pi->pi_msix;
	uint64_t one = 1;
	int error;

	if (mx->function_mask ||
	    (mx->table[i].vector_control & MSIX_VC_MASKED)) {
		mx->pba[i / 64] |= 1ULL << (i % 64);
		return;
	}
	mx->pba[i / 64] &= ~(1ULL << (i % 64));
	if (mx->irqfd[i] >= 0 && mx->irqfd_routed[i] &&
	    write(mx->irqfd[i], &one, sizeof(one)) == sizeof(one))
		return;
	error = dev_msi(pi->pi_ctx, mx->table[i].addr, mx->table[i].msg_data);
	if (error != 0)
		log_warnx_rl("%s: MSI-X vector %d: %s", pi->pi_name, i,
		    strerror(-error));
}

/* Deliver every pending vector nothing masks any more; intr lock held. */
static void
msix_deliver_pending(struct pci_devinst *pi)
{
	struct pci_msix *mx = &pi->pi_msix;
	int i;

	if (!mx->enabled || mx->function_mask)
		return;
	for (i = 0; i < mx->table_count; i++)
		if ((mx->pba[i / 64] & (1ULL << (i % 64))) &&
		    !(mx->table[i].vector_control & MSIX_VC_MASKED))
			msix_fire(pi, i);
}

void
pci_generate_msix(struct pci_devinst *pi, int index)
{
	struct pci_msix *mx = &pi->pi_msix;

	pthread_mutex_lock(&pi->pi_intr_lock);
	if (mx->enabled && index >= 0 && index < mx->table_count)
		msix_fire(pi, index);
	pthread_mutex_unlock(&pi->pi_intr_lock);
}

/* MSI capability write: only the writable fields (pi_lock held). */
static void
msi_cfgwrite(struct pci_devinst *pi, int capoff, int off, int bytes,
    uint32_t val)
{
	struct pci_msi *m = &pi->pi_msi;
	static const uint8_t wmask[MSI_CAPLEN] = {
		[MSI_CTRL] = MSICTRL_ENABLE | MSICTRL_MME_MASK,
		[MSI_ADDR_LO] = 0xfc, 0xff, 0xff, 0xff,
		[MSI_ADDR_HI] = 0xff, 0xff, 0xff, 0xff,
		[MSI_DATA] = 0xff, 0xff,
	};
	uint16_t ctrl;
	int i, r, mme, mmc;

	for (i = 0; i < bytes; i++, val >>= 8) {
		r = off + i - capoff;
		if (r < 0 || r >= MSI_CAPLEN)
			continue;
		pci_set_cfgdata8(pi, off + i,
		    (pci_get_cfgdata8(pi, off + i) & ~wmask[r]) |
		    ((uint8_t)val & wmask[r]));
	}
	ctrl = pci_get_cfgdata16(pi, capoff + MSI_CTRL);
	/* More messages than offered are clamped (§6.8.1.3). */
	mmc = (ctrl >> MSICTRL_MMC_SHIFT) & 7;
	mme = (ctrl & MSICTRL_MME_MASK) >> MSICTRL_MME_SHIFT;
	if (mme > mmc) {
		mme = mmc;
		ctrl = (uint16_t)((ctrl & ~MSICTRL_MME_MASK) |
		    mme << MSICTRL_MME_SHIFT);
		pci_set_cfgdata16(pi, capoff + MSI_CTRL, ctrl);
	}
	pthread_mutex_lock(&pi->pi_intr_lock);
	m->enabled = (ctrl & MSICTRL_ENABLE) != 0;
	m->msgnum = 1 << mme;
	m->addr = pci_get_cfgdata32(pi, capoff + MSI_ADDR_LO) |
	    (uint64_t)pci_get_cfgdata32(pi, capoff + MSI_ADDR_HI) << 32;
	m->data = pci_get_cfgdata16(pi, capoff + MSI_DATA);
	pthread_mutex_unlock(&pi->pi_intr_lock);
}

/* MSI-X capability write: enable and function mask only. */
static void
msix_cfgwrite(struct pci_devinst *pi, int capoff, int off, int bytes,
    uint32_t val)
{
	struct pci_msix *mx = &pi->pi_msix;
	uint16_t ctrl;
	int i, r;

	for (i = 0; i < bytes; i++, val >>= 8) {
		r = off + i - capoff;
		if (r == MSIX_CTRL + 1)
			pci_set_cfgdata8(pi, off + i,
			    (pci_get_cfgdata8(pi, off + i) & 0x3f) |
			    ((uint8_t)val & 0xc0));
	}
	ctrl = pci_get_cfgdata16(pi, capoff + MSIX_CTRL);
	pthread_mutex_lock(&pi->pi_intr_lock);
	mx->enabled = (ctrl & MSIXCTRL_ENABLE) != 0;
	mx->function_mask = (ctrl & MSIXCTRL_FMASK) != 0;
	msix_deliver_pending(pi);
	pthread_mutex_unlock(&pi->pi_intr_lock);
}

bool
pci_cap_cfgwrite(struct pci_devinst *pi, int off, int bytes, uint32_t val)
{
	const struct pci_cap *c = pci_cap_at(pi, off);

	if (c == NULL)
		return (false);
	if (c->pc_off == pi->pi_msi.capoff) {
		msi_cfgwrite(pi, c->pc_off, off, bytes, val);
		return (true);
	}
	if (c->pc_off == pi->pi_msix.capoff) {
		msix_cfgwrite(pi, c->pc_off, off, bytes, val);
		return (true);
	}
	return (false);
}

/* A table entry's dword at field (0, 4, 8, 12). */
static uint32_t
msix_entry_read(const struct msix_table_entry *e, unsigned field)
{
	switch (field) {
	case 0:
		return ((uint32_t)e->addr);
	case 4:
		return ((uint32_t)(e->addr >> 32));
	case 8:
		return (e->msg_data);
	default:
		return (e->vector_control);
	}
}

static void
msix_entry_write(struct msix_table_entry *e, unsigned field, uint32_t v)
{
	switch (field) {
	case 0:
		e->addr = (e->addr & ~0xffffffffULL) | (v & ~3u);
		break;
	case 4:
		e->addr = (e->addr & 0xffffffffULL) | (uint64_t)v << 32;
		break;
	case 8:
		e->msg_data = v;
		break;
	default:
		e->vector_control = v & MSIX_VC_MASKED;
		break;
	}
}

/* One aligned dword of the table or PBA; intr lock held. */
static void
msix_dword(struct pci_devinst *pi, enum io_dir dir, uint64_t off,
    uint32_t *v)
{
	struct pci_msix *mx = &pi->pi_msix;
	uint64_t toff, poff;
	unsigned i;

	if (off >= mx->table_offset &&
	    off - mx->table_offset < (uint64_t)mx->table_count *
	    MSIX_ENTRY_SIZE) {
		toff = off - mx->table_offset;
		i = (unsigned)(toff / MSIX_ENTRY_SIZE);
		if (dir == IO_READ) {
			*v = msix_entry_read(&mx->table[i],
			    (unsigned)(toff % MSIX_ENTRY_SIZE));
			return;
		}
		msix_entry_write(&mx->table[i],
		    (unsigned)(toff % MSIX_ENTRY_SIZE), *v);
		/* A masked entry's route waits for the unmask. */
		if (mx->table[i].vector_control & MSIX_VC_MASKED)
			mx->irqfd_routed[i] = false;
		else
			msix_route(pi, (int)i);
		/* Unmasking a pending vector delivers it (§6.8.2.9). */
		msix_deliver_pending(pi);
		return;
	}
	if (off >= mx->pba_offset && off - mx->pba_offset < mx->pba_size) {
		poff = off - mx->pba_offset;
		/* The PBA is read-only; writes are ignored. */
		if (dir == IO_READ)
			*v = (uint32_t)(mx->pba[poff / 8] >> (poff % 8 * 8));
		return;
	}
	if (dir == IO_READ)
		*v = 0;
}

bool
pci_msix_bar_io(struct pci_devinst *pi, int idx, enum io_dir dir,
    uint64_t off, unsigned size, uint64_t *val)
{
	struct pci_msix *mx = &pi->pi_msix;
	uint32_t lo, hi;

	/* The capability and its BAR are fixed once pe_init has run. */
	if (mx->capoff == 0 || idx != mx->bar)
		return (false);
	if ((size != 4 && size != 8) || (off & (size - 1)) != 0) {
		if (dir == IO_READ)
			*val = ~0ULL;
		return (true);
	}
	pthread_mutex_lock(&pi->pi_intr_lock);
	lo = (uint32_t)*val;
	hi = (uint32_t)(*val >> 32);
	msix_dword(pi, dir, off, &lo);
	if (size == 8)
		msix_dword(pi, dir, off + 4, &hi);
	pthread_mutex_unlock(&pi->pi_intr_lock);
	if (dir == IO_READ)
		*val = size == 8 ? (uint64_t)hi << 32 | lo : lo;
	return (true);
}
