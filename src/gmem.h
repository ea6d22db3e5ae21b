/*
 * gmem.h: the one module through which the monitor touches guest memory.
 *
 * Guest RAM is a list of regions (guest-physical base, length, host
 * address).  Every accessor takes (gpa, len) and checks the whole range,
 * overflow included; there is no one-argument gpa-to-host translation.
 * Device models get a struct gmem through their context and use only
 * these calls, so unit tests can back it with an ordinary buffer.
 */
#ifndef GMEM_H
#define GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "khyve.h"

#define GMEM_MAX_REGIONS	8

struct gmem_region {
	uint64_t	gr_gpa;		/* guest-physical base */
	uint64_t	gr_len;		/* bytes */
	uint8_t		*gr_hva;	/* host mapping of gr_gpa */
};

struct gmem {
	struct gmem_region gm_region[GMEM_MAX_REGIONS];
	unsigned	gm_nregions;
};

/* Empty the region list. */
void	gmem_init(struct gmem *gm);

/*
 * Add RAM [gpa, gpa+len) backed by hva.  Returns 0, -EINVAL for a zero
 * length, an overflowing range or one overlapping an existing region, or
 * -ENOSPC when the table is full.
 */
int	gmem_add(struct gmem *gm, uint64_t gpa, uint64_t len, void *hva)
	    __must_check;

/*
 * Host pointer to [gpa, gpa+len) when the whole range (len >= 1) lies in
 * one RAM region, else NULL.  Never returns a pointer for a range that
 * wraps, crosses a hole or spans two regions.
 */
void	*gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len);

/*
 * Host pointer to gpa and, in *n, how many bytes of [gpa, gpa+len) from
 * there on (1..len) lie in gpa's RAM region; NULL (and *n = 0) when len
 * is 0 or gpa is not RAM.  For splitting a range that may span adjacent
 * regions into host pieces (virtio buffers).
 */
void	*gmem_ptr_prefix(const struct gmem *gm, uint64_t gpa, uint64_t len,
	    uint64_t *n);

/* True when [gpa, gpa+len) is RAM (possibly spanning adjacent regions). */
bool	gmem_is_ram(const struct gmem *gm, uint64_t gpa, uint64_t len);

/*
 * Copy between guest RAM and a host buffer.  The range may span regions
 * that are contiguous in guest-physical space.  Returns 0 or -EFAULT if
 * any byte is outside RAM (nothing is copied then).  len 0 succeeds.
 */
int	gmem_read(const struct gmem *gm, uint64_t gpa, void *buf, size_t len)
	    __must_check;
int	gmem_write(const struct gmem *gm, uint64_t gpa, const void *buf,
	    size_t len) __must_check;
/* Fill [gpa, gpa+len) with byte c; same rules as gmem_write(). */
int	gmem_fill(const struct gmem *gm, uint64_t gpa, int c, size_t len)
	    __must_check;

/* Little-endian scalar helpers built on gmem_read/gmem_write. */
int	gmem_read32(const struct gmem *gm, uint64_t gpa, uint32_t *val)
	    __must_check;
int	gmem_read64(const struct gmem *gm, uint64_t gpa, uint64_t *val)
	    __must_check;
int	gmem_write32(const struct gmem *gm, uint64_t gpa, uint32_t val)
	    __must_check;
int	gmem_write64(const struct gmem *gm, uint64_t gpa, uint64_t val)
	    __must_check;

#endif /* GMEM_H */
