/*
 * fake.h: a fake machine for device unit tests and fuzz targets.
 *
 * fake_vm_init() gives a devctx backed by in-memory guest RAM (malloc'd,
 * at guest-physical 0), a real iobus, and callbacks that record interrupt
 * levels, MSIs and suspend requests instead of touching KVM.
 */
#ifndef FAKE_H
#define FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include "devctx.h"

#define FAKE_NGSI	64
#define FAKE_NMSI	64
#define FAKE_NIRQFD	32
#define FAKE_NIOEVENTFD	64

struct fake_irqfd {
	int		fd;
	uint64_t	addr;		/* the route dc_msi_irqfd_set gave */
	uint32_t	data;
	unsigned	nset;		/* route updates */
};

struct fake_ioeventfd {
	int		space;		/* enum io_space; -1: free slot */
	uint64_t	addr;
	unsigned	len;
	int64_t		datamatch;
	int		fd;
};

struct fake_vm {
	struct devctx	dc;
	struct gmem	mem;
	struct iobus	bus;
	uint8_t		*ram;
	uint64_t	ramsize;
	int		irq_level[FAKE_NGSI];	/* current level per GSI */
	unsigned	irq_rises[FAKE_NGSI];	/* 0 -> 1 transitions */
	uint64_t	msi_addr[FAKE_NMSI];
	uint32_t	msi_data[FAKE_NMSI];
	unsigned	nmsi;
	enum vm_suspend_how suspended;		/* first request, or NONE */
	unsigned	nsuspend;		/* requests seen */
	struct fake_irqfd irqfd[FAKE_NIRQFD];
	unsigned	nirqfd;
	struct fake_ioeventfd ioev[FAKE_NIOEVENTFD];
};

/* Set up fv with ramsize bytes of zeroed RAM at gpa 0.  Exits on ENOMEM. */
void	fake_vm_init(struct fake_vm *fv, uint64_t ramsize, int ncpus);
void	fake_vm_fini(struct fake_vm *fv);

/* Shorthands for a port/MMIO access through the bus. */
uint64_t fake_in(struct fake_vm *fv, uint16_t port, unsigned size);
void	fake_out(struct fake_vm *fv, uint16_t port, unsigned size, uint64_t val);
uint64_t fake_mmio_read(struct fake_vm *fv, uint64_t gpa, unsigned size);
void	fake_mmio_write(struct fake_vm *fv, uint64_t gpa, unsigned size,
	    uint64_t val);

/*
 * Collect what was written to the irqfds as MSIs (appended to msi_addr /
 * msi_data with the route each had), as KVM would deliver them.  Returns
 * how many were found.
 */
unsigned fake_irqfd_poll(struct fake_vm *fv);
/*
 * A guest write as KVM handles it: signal a matching ioeventfd (returns
 * true) or dispatch to the bus (returns false).
 */
bool	fake_guest_write(struct fake_vm *fv, enum io_space space, uint64_t addr,
	    unsigned size, uint64_t val);
/* Registered ioeventfds. */
unsigned fake_ioeventfd_count(const struct fake_vm *fv);

#endif /* FAKE_H */
