/*
 * devctx.h: everything a device model may use of the machine.
 *
 * Device models never include <linux/kvm.h> or call ioctl(): they see
 * guest memory through gmem, the I/O bus, interrupt lines and MSI, a way
 * to end the VM (reset, poweroff) and the event loop (mevent.h, a global
 * API as in bhyve).  The machine layer fills this in with KVM-backed
 * callbacks; unit tests fill it with fakes (tests/unit/fake.c).
 */
#ifndef DEVCTX_H
#define DEVCTX_H

#include <stdbool.h>
#include <stdint.h>
#include "gmem.h"
#include "iobus.h"
#include "khyve.h"

struct devctx {
	struct gmem	*dc_mem;	/* guest RAM */
	struct iobus	*dc_bus;	/* port and MMIO registry */
	int		dc_ncpus;	/* vCPUs in the VM */

	/*
	 * Drive interrupt line gsi (ISA IRQ 0-15 or IOAPIC pin) to level
	 * (0 or 1).  An edge-triggered device drives its output like a chip
	 * pin: high while it wants service, low when not; only changes
	 * matter.  Returns 0 or -errno.
	 */
	int	(*dc_irq_set)(void *opaque, unsigned gsi, int level);
	/* Send an MSI.  Returns 0 or -errno. */
	int	(*dc_msi)(void *opaque, uint64_t addr, uint32_t data);
	/*
	 * An irqfd: an eventfd each write to which sends the MSI last given
	 * to dc_msi_irqfd_set (none until then).  A device thread can then
	 * interrupt the guest with write(2) alone.  Returns a handle >= 0
	 * and *fd (owned by the machine), or -errno.  From set-up only.
	 */
	int	(*dc_msi_irqfd)(void *opaque, int *fd);
	int	(*dc_msi_irqfd_set)(void *opaque, int handle, uint64_t addr,
		    uint32_t data);
	/*
	 * Let a guest write of len bytes (0: any length) at addr in space
	 * signal eventfd fd instead of reaching the bus (an ioeventfd: the
	 * vCPU does not wait for the device); datamatch >= 0 only for writes
	 * of that value.  assign false removes it.  Returns 0 or -errno.
	 */
	int	(*dc_ioeventfd)(void *opaque, enum io_space space, uint64_t addr,
		    unsigned len, int64_t datamatch, int fd, bool assign);
	/*
	 * Ask the VM to stop for the given reason.  Returns at once; the vCPU
	 * threads are stopped asynchronously and the process exits with the
	 * matching status.  The first request wins.
	 */
	void	(*dc_suspend)(void *opaque, enum vm_suspend_how how);
	void	*dc_opaque;		/* first argument of the callbacks */
};

static inline int
dev_irq_set(const struct devctx *dc, unsigned gsi, int level)
{
	return (dc->dc_irq_set(dc->dc_opaque, gsi, level));
}

static inline int
dev_msi(const struct devctx *dc, uint64_t addr, uint32_t data)
{
	return (dc->dc_msi(dc->dc_opaque, addr, data));
}

static inline int
dev_ioeventfd(const struct devctx *dc, enum io_space space, uint64_t addr,
    unsigned len, int64_t datamatch, int fd, bool assign)
{
	return (dc->dc_ioeventfd(dc->dc_opaque, space, addr, len, datamatch,
	    fd, assign));
}

static inline void
dev_suspend(const struct devctx *dc, enum vm_suspend_how how)
{
	dc->dc_suspend(dc->dc_opaque, how);
}

#endif /* DEVCTX_H */
