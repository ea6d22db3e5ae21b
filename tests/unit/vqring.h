/*
 * vqring.h: guest RAM and a driver's side of a split ring, for the
 * virtqueue tests.
 *
 * Guest-physical layout (a hole wherever nothing is listed):
 *	A	[0x0, 0x10000)		64 KiB
 *	B	[0x10000, 0x14000)	16 KiB, adjacent to A
 *	C	[0x100000, 0x101000)	4 KiB, holes on both sides
 *	BIG	[4 GiB, 8 GiB)		reserved, never touched: for byte
 *					totals near 2^32 (optional)
 * The standard ring sits in A: descriptors at VQT_DESC, available ring
 * at VQT_AVAIL, used ring at VQT_USED (room for 256 entries each);
 * buffers from VQT_BUF, indirect tables at VQT_IND.
 */
#ifndef VQRING_H
#define VQRING_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "gmem.h"
#include "test.h"
#include "virtio/virtqueue.h"

#define VQT_A		0x0ULL
#define VQT_A_LEN	0x10000ULL
#define VQT_B		0x10000ULL
#define VQT_B_LEN	0x4000ULL
#define VQT_C		0x100000ULL
#define VQT_C_LEN	0x1000ULL
#define VQT_BIG		0x100000000ULL
#define VQT_BIG_LEN	0x100000000ULL
#define VQT_HOLE	0x20000ULL	/* not RAM */

#define VQT_DESC	0x1000ULL
#define VQT_AVAIL	0x3000ULL
#define VQT_USED	0x4000ULL
#define VQT_BUF		0x8000ULL
#define VQT_IND		0xc000ULL	/* room for 1024 entries */

#define N_	VIRTQ_DESC_F_NEXT
#define W_	VIRTQ_DESC_F_WRITE
#define I_	VIRTQ_DESC_F_INDIRECT

struct vqt {
	struct gmem	gm;
	uint8_t		*big;		/* NULL when not mapped */
};

static uint8_t vqt_ram_a[VQT_A_LEN] __attribute__((aligned(4096)));
static uint8_t vqt_ram_b[VQT_B_LEN] __attribute__((aligned(4096)));
static uint8_t vqt_ram_c[VQT_C_LEN] __attribute__((aligned(4096)));

/* Fresh zeroed RAM; with big, also try to reserve BIG. */
static inline void
vqt_setup(struct vqt *t, bool big)
{
	memset(t, 0, sizeof(*t));
	memset(vqt_ram_a, 0, sizeof(vqt_ram_a));
	memset(vqt_ram_b, 0, sizeof(vqt_ram_b));
	memset(vqt_ram_c, 0, sizeof(vqt_ram_c));
	gmem_init(&t->gm);
	CHECK_EQ(gmem_add(&t->gm, VQT_A, VQT_A_LEN, vqt_ram_a), 0);
	CHECK_EQ(gmem_add(&t->gm, VQT_B, VQT_B_LEN, vqt_ram_b), 0);
	CHECK_EQ(gmem_add(&t->gm, VQT_C, VQT_C_LEN, vqt_ram_c), 0);
	if (big) {
		void *p = mmap(NULL, VQT_BIG_LEN, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			t->big = p;
			CHECK_EQ(gmem_add(&t->gm, VQT_BIG, VQT_BIG_LEN, p), 0);
		}
	}
}

static inline void
vqt_fini(struct vqt *t)
{
	if (t->big != NULL)
		munmap(t->big, VQT_BIG_LEN);
	t->big = NULL;
}

static inline void
vqt_put16(struct vqt *t, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	CHECK_EQ(gmem_write(&t->gm, gpa, &v, 2), 0);
}

static inline void
vqt_put32(struct vqt *t, uint64_t gpa, uint32_t v)
{
	v = htole32(v);
	CHECK_EQ(gmem_write(&t->gm, gpa, &v, 4), 0);
}

static inline uint16_t
vqt_get16(struct vqt *t, uint64_t gpa)
{
	uint16_t v = 0;

	CHECK_EQ(gmem_read(&t->gm, gpa, &v, 2), 0);
	return (le16toh(v));
}

static inline uint32_t
vqt_get32(struct vqt *t, uint64_t gpa)
{
	uint32_t v = 0;

	CHECK_EQ(gmem_read(&t->gm, gpa, &v, 4), 0);
	return (le32toh(v));
}

/* Descriptor i of the table at tbl. */
static inline void
vqt_desc(struct vqt *t, uint64_t tbl, unsigned i, uint64_t addr,
    uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t d[16];
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &f, 2);
	memcpy(d + 14, &n, 2);
	CHECK_EQ(gmem_write(&t->gm, tbl + 16ULL * i, d, 16), 0);
}

/* The driver makes head available in slot idx and publishes idx + 1. */
static inline void
vqt_post(struct vqt *t, uint64_t avail, uint16_t size, uint16_t idx,
    uint16_t head)
{
	vqt_put16(t, avail + 4 + 2ULL * (idx & (size - 1)), head);
	vqt_put16(t, avail + 2, (uint16_t)(idx + 1));
}

/* Guest-physical address of host pointer p, or UINT64_MAX. */
static inline uint64_t
vqt_gpa(const struct vqt *t, const void *p)
{
	const struct gmem_region *r;
	unsigned i;

	if (p == NULL)
		return (UINT64_MAX);
	for (i = 0; i < t->gm.gm_nregions; i++) {
		r = &t->gm.gm_region[i];
		if ((const uint8_t *)p >= r->gr_hva &&
		    (uint64_t)((const uint8_t *)p - r->gr_hva) < r->gr_len)
			return (r->gr_gpa + (uint64_t)((const uint8_t *)p -
			    r->gr_hva));
	}
	return (UINT64_MAX);
}

/* A standard queue of size entries in A. */
static inline void
vqt_queue(struct vqt *t, struct vqueue *vq, uint16_t size, uint64_t feat)
{
	vq_create(vq, "test", 0);
	CHECK_EQ(vq_init(vq, &t->gm, size, VQT_DESC, VQT_AVAIL, VQT_USED,
	    feat), 0);
}

#endif /* VQRING_H */
