/*
 * gmem.c: bounds-checked guest memory access.
 *
 * Every range is checked as a whole with overflow-safe arithmetic
 * (bhyve SA-16:38 was an overflow in exactly this check).
 */
#include <errno.h>
#include <string.h>
#include "gmem.h"

void
gmem_init(struct gmem *gm)
{
	memset(gm, 0, sizeof(*gm));
}

/* [a, a+alen) and [b, b+blen) overlap; both non-empty and non-wrapping. */
static bool
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return (a < b + blen && b < a + alen);
}

int
gmem_add(struct gmem *gm, uint64_t gpa, uint64_t len, void *hva)
{
	unsigned i;

	if (len == 0 || hva == NULL || gpa + len < gpa)
		return (-EINVAL);
	for (i = 0; i < gm->gm_nregions; i++) {
		if (ranges_overlap(gpa, len, gm->gm_region[i].gr_gpa,
		    gm->gm_region[i].gr_len))
			return (-EINVAL);
	}
	if (gm->gm_nregions == GMEM_MAX_REGIONS)
		return (-ENOSPC);
	gm->gm_region[gm->gm_nregions].gr_gpa = gpa;
	gm->gm_region[gm->gm_nregions].gr_len = len;
	gm->gm_region[gm->gm_nregions].gr_hva = hva;
	gm->gm_nregions++;
	return (0);
}

/* The region holding gpa, or NULL. */
static const struct gmem_region *
gmem_find(const struct gmem *gm, uint64_t gpa)
{
	const struct gmem_region *r;
	unsigned i;

	for (i = 0; i < gm->gm_nregions; i++) {
		r = &gm->gm_region[i];
		if (gpa >= r->gr_gpa && gpa - r->gr_gpa < r->gr_len)
			return (r);
	}
	return (NULL);
}

void *
gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r;
	uint64_t off;

	if (len == 0)
		return (NULL);
	r = gmem_find(gm, gpa);
	if (r == NULL)
		return (NULL);
	off = gpa - r->gr_gpa;
	if (len > r->gr_len - off)
		return (NULL);
	return (r->gr_hva + off);
}

void *
gmem_ptr_prefix(const struct gmem *gm, uint64_t gpa, uint64_t len,
    uint64_t *n)
{
	const struct gmem_region *r;
	uint64_t off;

	*n = 0;
	if (len == 0)
		return (NULL);
	r = gmem_find(gm, gpa);
	if (r == NULL)
		return (NULL);
	off = gpa - r->gr_gpa;
	*n = MIN(len, r->gr_len - off);
	return (r->gr_hva + off);
}

/*
 * Walk [gpa, gpa+len) region by region.  With fn == NULL only checks.
 * Returns 0 or -EFAULT; the range is checked completely before fn runs.
 */
static int
gmem_walk(const struct gmem *gm, uint64_t gpa, size_t len,
    void (*fn)(uint8_t *hva, size_t done, size_t n, void *arg), void *arg)
{
	const struct gmem_region *r;
	uint64_t a, off, n;
	size_t left, done;
	int pass;

	if (len == 0)
		return (0);
	if (gpa + len < gpa)
		return (-EFAULT);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && fn == NULL)
			break;
		a = gpa;
		left = len;
		done = 0;
		while (left > 0) {
			r = gmem_find(gm, a);
			if (r == NULL)
				return (-EFAULT);
			off = a - r->gr_gpa;
			n = MIN((uint64_t)left, r->gr_len - off);
			if (pass == 1)
				fn(r->gr_hva + off, done, n, arg);
			a += n;
			left -= n;
			done += n;
		}
	}
	return (0);
}

bool
gmem_is_ram(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	if (len == 0 || len > SIZE_MAX)
		return (false);
	return (gmem_walk(gm, gpa, len, NULL, NULL) == 0);
}

static void
copy_out(uint8_t *hva, size_t done, size_t n, void *arg)
{
	memcpy((uint8_t *)arg + done, hva, n);
}

static void
copy_in(uint8_t *hva, size_t done, size_t n, void *arg)
{
	memcpy(hva, (const uint8_t *)arg + done, n);
}

static void
fill(uint8_t *hva, size_t done, size_t n, void *arg)
{
	memset(hva, *(int *)arg, n);
}

int
gmem_read(const struct gmem *gm, uint64_t gpa, void *buf, size_t len)
{
	return (gmem_walk(gm, gpa, len, copy_out, buf));
}

int
gmem_write(const struct gmem *gm, uint64_t gpa, const void *buf, size_t len)
{
	return (gmem_walk(gm, gpa, len, copy_in, (void *)(uintptr_t)buf));
}

int
gmem_fill(const struct gmem *gm, uint64_t gpa, int c, size_t len)
{
	return (gmem_walk(gm, gpa, len, fill, &c));
}

int
gmem_read32(const struct gmem *gm, uint64_t gpa, uint32_t *val)
{
	uint8_t b[4];
	int error;

	error = gmem_read(gm, gpa, b, sizeof(b));
	if (error == 0)
		*val = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return (error);
}

int
gmem_read64(const struct gmem *gm, uint64_t gpa, uint64_t *val)
{
	uint8_t b[8];
	uint64_t v;
	int error, i;

	error = gmem_read(gm, gpa, b, sizeof(b));
	if (error != 0)
		return (error);
	v = 0;
	for (i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	*val = v;
	return (0);
}

int
gmem_write32(const struct gmem *gm, uint64_t gpa, uint32_t val)
{
	uint8_t b[4] = { val, val >> 8, val >> 16, val >> 24 };

	return (gmem_write(gm, gpa, b, sizeof(b)));
}

int
gmem_write64(const struct gmem *gm, uint64_t gpa, uint64_t val)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = val >> (8 * i);
	return (gmem_write(gm, gpa, b, sizeof(b)));
}
