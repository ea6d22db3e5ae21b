/*
 * iobus.c: one registry for port I/O and MMIO ranges (kvmtool's
 * register_iotrap, Firecracker's Bus).
 *
 * Each space is a sorted array searched by binary search.  Lookups take
 * the read lock only long enough to copy the range out, so a handler may
 * itself register or unregister ranges (a guest moving a BAR).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "iobus.h"
#include "log.h"

int
iobus_init(struct iobus *bus)
{
	memset(bus, 0, sizeof(*bus));
	return (-pthread_rwlock_init(&bus->ib_lock, NULL));
}

void
iobus_fini(struct iobus *bus)
{
	int i;

	for (i = 0; i < IO_NSPACES; i++)
		free(bus->ib_ranges[i]);
	pthread_rwlock_destroy(&bus->ib_lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose base is > addr. */
static unsigned
io_upper(const struct io_range *r, unsigned n, uint64_t addr)
{
	unsigned lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r[mid].ir_base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* The range containing addr, or NULL.  Caller holds the lock. */
static const struct io_range *
io_find(const struct iobus *bus, enum io_space space, uint64_t addr)
{
	const struct io_range *r = bus->ib_ranges[space];
	unsigned i;

	i = io_upper(r, bus->ib_count[space], addr);
	if (i == 0)
		return (NULL);
	r = &r[i - 1];
	if (addr - r->ir_base < r->ir_len)
		return (r);
	return (NULL);
}

int
io_register(struct iobus *bus, enum io_space space, uint64_t base,
    uint64_t len, io_handler_t handler, void *arg, const char *name)
{
	struct io_range *r, *nr;
	unsigned i, n;
	int error = 0;

	if ((unsigned)space >= IO_NSPACES || len == 0 || handler == NULL ||
	    base + len - 1 < base)
		return (-EINVAL);
	if (space == IO_PIO && (base > 0xffff || len > 0x10000 - base))
		return (-EINVAL);

	pthread_rwlock_wrlock(&bus->ib_lock);
	r = bus->ib_ranges[space];
	n = bus->ib_count[space];
	i = io_upper(r, n, base);
	/* Overlap with the range below (which starts <= base) or above. */
	if ((i > 0 && base - r[i - 1].ir_base < r[i - 1].ir_len) ||
	    (i < n && r[i].ir_base - base < len)) {
		error = -EEXIST;
		goto out;
	}
	if (n == bus->ib_cap[space]) {
		nr = realloc(r, (n + 16) * sizeof(*r));
		if (nr == NULL) {
			error = -ENOMEM;
			goto out;
		}
		bus->ib_ranges[space] = r = nr;
		bus->ib_cap[space] = n + 16;
	}
	memmove(&r[i + 1], &r[i], (n - i) * sizeof(*r));
	r[i].ir_base = base;
	r[i].ir_len = len;
	r[i].ir_handler = handler;
	r[i].ir_arg = arg;
	r[i].ir_name = name != NULL ? name : "?";
	bus->ib_count[space] = n + 1;
out:
	pthread_rwlock_unlock(&bus->ib_lock);
	return (error);
}

int
io_unregister(struct iobus *bus, enum io_space space, uint64_t base)
{
	struct io_range *r;
	unsigned i, n;
	int error = -ENOENT;

	if ((unsigned)space >= IO_NSPACES)
		return (-EINVAL);
	pthread_rwlock_wrlock(&bus->ib_lock);
	r = bus->ib_ranges[space];
	n = bus->ib_count[space];
	i = io_upper(r, n, base);
	if (i > 0 && r[i - 1].ir_base == base) {
		memmove(&r[i - 1], &r[i], (n - i) * sizeof(*r));
		bus->ib_count[space] = n - 1;
		error = 0;
	}
	pthread_rwlock_unlock(&bus->ib_lock);
	return (error);
}

int
io_dispatch(struct iobus *bus, enum io_space space, enum io_dir dir,
    uint64_t addr, unsigned size, uint64_t *val)
{
	const struct io_range *found;
	struct io_range r;
	int error;

	if (dir == IO_READ)
		*val = ~0ULL;
	if ((unsigned)space >= IO_NSPACES ||
	    (size != 1 && size != 2 && size != 4 && size != 8) ||
	    addr + size - 1 < addr)
		return (-EINVAL);

	pthread_rwlock_rdlock(&bus->ib_lock);
	found = io_find(bus, space, addr);
	if (found != NULL)
		r = *found;
	pthread_rwlock_unlock(&bus->ib_lock);
	/* An access straddling the end of its range is not dispatched. */
	if (found == NULL || addr - r.ir_base > r.ir_len - size ||
	    size > r.ir_len)
		return (-ENOENT);

	error = r.ir_handler(r.ir_arg, dir, addr - r.ir_base, size, val);
	if (error != 0)
		log_warnx_rl("%s: %s at %s 0x%llx size %u failed: %s",
		    r.ir_name, dir == IO_READ ? "read" : "write",
		    space == IO_PIO ? "port" : "address",
		    (unsigned long long)addr, size, strerror(-error));
	if (dir == IO_READ && size < 8)
		*val &= (1ULL << (size * 8)) - 1;
	return (0);
}

const char *
io_lookup_name(struct iobus *bus, enum io_space space, uint64_t addr)
{
	const struct io_range *r;
	const char *name = NULL;

	if ((unsigned)space >= IO_NSPACES)
		return (NULL);
	pthread_rwlock_rdlock(&bus->ib_lock);
	r = io_find(bus, space, addr);
	if (r != NULL)
		name = r->ir_name;
	pthread_rwlock_unlock(&bus->ib_lock);
	return (name);
}
