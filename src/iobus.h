/*
 * iobus.h: the one I/O bus for port I/O and MMIO.
 *
 * A device registers a range with a handler; the vCPU loop dispatches
 * every port and MMIO exit here.  Offsets passed to handlers are relative
 * to the range base.  Unclaimed reads return all-ones and unclaimed
 * writes are dropped (the caller decides whether that is fatal:
 * x86.strictio).
 */
#ifndef IOBUS_H
#define IOBUS_H

#include <pthread.h>
#include <stdint.h>
#include "khyve.h"

enum io_space {
	IO_PIO = 0,		/* x86 port space, 0..0xffff */
	IO_MMIO = 1,		/* guest-physical addresses */
	IO_NSPACES
};

enum io_dir {
	IO_READ = 0,
	IO_WRITE = 1,
};

/*
 * Handler contract: size is 1, 2, 4 or 8 (MMIO) and off + size <= the
 * registered length (the bus guarantees it; accesses that straddle the end
 * of a range are not dispatched).  For IO_READ the handler stores the
 * value in *val (the bus pre-fills all-ones); for IO_WRITE it reads *val
 * (only the low size bytes are meaningful).  Returns 0; a negative errno
 * is logged (rate-limited) and the access treated as done.  Handlers run
 * on vCPU threads, concurrently with each other and with the event loop:
 * a device protects its own state.  A handler may register and unregister
 * ranges (a BAR move); the bus never holds its lock while calling one.
 */
typedef int (*io_handler_t)(void *arg, enum io_dir dir, uint64_t off,
    unsigned size, uint64_t *val);

struct io_range {
	uint64_t	ir_base;
	uint64_t	ir_len;
	io_handler_t	ir_handler;
	void		*ir_arg;
	const char	*ir_name;	/* for diagnostics */
};

struct iobus {
	pthread_rwlock_t ib_lock;
	struct io_range	*ib_ranges[IO_NSPACES];	/* sorted by ir_base */
	unsigned	ib_count[IO_NSPACES];
	unsigned	ib_cap[IO_NSPACES];
};

int	iobus_init(struct iobus *bus) __must_check;
void	iobus_fini(struct iobus *bus);

/*
 * Register [base, base+len) in space.  Returns 0, -EINVAL for a zero
 * length, a range that overflows (or exceeds 0x10000 in IO_PIO) or a NULL
 * handler, -EEXIST when it overlaps a registered range, -ENOMEM.
 */
int	io_register(struct iobus *bus, enum io_space space, uint64_t base,
	    uint64_t len, io_handler_t handler, void *arg, const char *name)
	    __must_check;

/* Remove the range starting exactly at base.  Returns 0 or -ENOENT. */
int	io_unregister(struct iobus *bus, enum io_space space, uint64_t base);

/*
 * Dispatch one access.  Returns 0 when a range claimed it, -ENOENT when
 * none did (a read then yields all-ones in *val), -EINVAL for a bad size.
 */
int	io_dispatch(struct iobus *bus, enum io_space space, enum io_dir dir,
	    uint64_t addr, unsigned size, uint64_t *val);

/* Name of the range holding addr, or NULL (diagnostics). */
const char *io_lookup_name(struct iobus *bus, enum io_space space,
	    uint64_t addr);

#endif /* IOBUS_H */
