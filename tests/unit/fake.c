/*
 * fake.c: the fake machine behind fake.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "fake.h"

static int
fake_irq_set(void *opaque, unsigned gsi, int level)
{
	struct fake_vm *fv = opaque;

	if (gsi >= FAKE_NGSI)
		return (-22);
	if (level && !fv->irq_level[gsi])
		fv->irq_rises[gsi]++;
	fv->irq_level[gsi] = level ? 1 : 0;
	return (0);
}

static int
fake_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct fake_vm *fv = opaque;

	if (fv->nmsi < FAKE_NMSI) {
		fv->msi_addr[fv->nmsi] = addr;
		fv->msi_data[fv->nmsi] = data;
	}
	fv->nmsi++;
	return (0);
}

static int
fake_msi_irqfd(void *opaque, int *fdp)
{
	struct fake_vm *fv = opaque;
	struct fake_irqfd *q;
	int fd;

	if (fv->nirqfd >= FAKE_NIRQFD)
		return (-ENOSPC);
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return (-errno);
	q = &fv->irqfd[fv->nirqfd];
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	*fdp = fd;
	return ((int)fv->nirqfd++);
}

static int
fake_msi_irqfd_set(void *opaque, int handle, uint64_t addr, uint32_t data)
{
	struct fake_vm *fv = opaque;

	if (handle < 0 || (unsigned)handle >= fv->nirqfd)
		return (-EINVAL);
	fv->irqfd[handle].addr = addr;
	fv->irqfd[handle].data = data;
	fv->irqfd[handle].nset++;
	return (0);
}

static int
fake_ioeventfd(void *opaque, enum io_space space, uint64_t addr,
    unsigned len, int64_t datamatch, int fd, bool assign)
{
	struct fake_vm *fv = opaque;
	struct fake_ioeventfd *e;
	unsigned i;

	for (i = 0; i < FAKE_NIOEVENTFD; i++) {
		e = &fv->ioev[i];
		if (assign && e->space < 0) {
			e->space = (int)space;
			e->addr = addr;
			e->len = len;
			e->datamatch = datamatch;
			e->fd = fd;
			return (0);
		}
		if (!assign && e->space == (int)space && e->addr == addr &&
		    e->len == len && e->datamatch == datamatch && e->fd == fd) {
			e->space = -1;
			return (0);
		}
	}
	return (assign ? -ENOSPC : -ENOENT);
}

unsigned
fake_irqfd_poll(struct fake_vm *fv)
{
	uint64_t n;
	unsigned i, found = 0;

	for (i = 0; i < fv->nirqfd; i++) {
		if (read(fv->irqfd[i].fd, &n, sizeof(n)) != sizeof(n))
			continue;
		/* An eventfd counts; KVM coalesces too. */
		if (fv->nmsi < FAKE_NMSI) {
			fv->msi_addr[fv->nmsi] = fv->irqfd[i].addr;
			fv->msi_data[fv->nmsi] = fv->irqfd[i].data;
		}
		fv->nmsi++;
		found++;
	}
	return (found);
}

bool
fake_guest_write(struct fake_vm *fv, enum io_space space, uint64_t addr,
    unsigned size, uint64_t val)
{
	const struct fake_ioeventfd *e;
	uint64_t one = 1, mask;
	unsigned i;

	mask = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	for (i = 0; i < FAKE_NIOEVENTFD; i++) {
		e = &fv->ioev[i];
		if (e->space != (int)space || e->addr != addr ||
		    (e->len != 0 && e->len != size) ||
		    (e->datamatch >= 0 && (uint64_t)e->datamatch != (val & mask)))
			continue;
		if (write(e->fd, &one, sizeof(one)) != sizeof(one))
			return (false);
		return (true);
	}
	(void)io_dispatch(&fv->bus, space, IO_WRITE, addr, size, &val);
	return (false);
}

unsigned
fake_ioeventfd_count(const struct fake_vm *fv)
{
	unsigned i, n = 0;

	for (i = 0; i < FAKE_NIOEVENTFD; i++)
		n += fv->ioev[i].space >= 0;
	return (n);
}

static void
fake_suspend(void *opaque, enum vm_suspend_how how)
{
	struct fake_vm *fv = opaque;

	if (fv->suspended == VM_SUSPEND_NONE)
		fv->suspended = how;
	fv->nsuspend++;
}

void
fake_vm_init(struct fake_vm *fv, uint64_t ramsize, int ncpus)
{
	unsigned i;

	memset(fv, 0, sizeof(*fv));
	fv->ramsize = ramsize;
	gmem_init(&fv->mem);
	if (ramsize != 0) {
		fv->ram = calloc(1, ramsize);
		if (fv->ram == NULL || gmem_add(&fv->mem, 0, ramsize, fv->ram) != 0) {
			fprintf(stderr, "fake_vm_init: out of memory\n");
			exit(2);
		}
	}
	if (iobus_init(&fv->bus) != 0) {
		fprintf(stderr, "fake_vm_init: iobus_init failed\n");
		exit(2);
	}
	fv->dc.dc_mem = &fv->mem;
	fv->dc.dc_bus = &fv->bus;
	fv->dc.dc_ncpus = ncpus;
	fv->dc.dc_irq_set = fake_irq_set;
	fv->dc.dc_msi = fake_msi;
	fv->dc.dc_msi_irqfd = fake_msi_irqfd;
	fv->dc.dc_msi_irqfd_set = fake_msi_irqfd_set;
	fv->dc.dc_ioeventfd = fake_ioeventfd;
	for (i = 0; i < FAKE_NIOEVENTFD; i++)
		fv->ioev[i].space = -1;
	fv->dc.dc_suspend = fake_suspend;
	fv->dc.dc_opaque = fv;
}

void
fake_vm_fini(struct fake_vm *fv)
{
	unsigned i;

	for (i = 0; i < fv->nirqfd; i++)
		close(fv->irqfd[i].fd);
	fv->nirqfd = 0;
	iobus_fini(&fv->bus);
	free(fv->ram);
	fv->ram = NULL;
}

uint64_t
fake_in(struct fake_vm *fv, uint16_t port, unsigned size)
{
	uint64_t val = ~0ULL;

	(void)io_dispatch(&fv->bus, IO_PIO, IO_READ, port, size, &val);
	if (size < 8)
		val &= (1ULL << (size * 8)) - 1;
	return (val);
}

void
fake_out(struct fake_vm *fv, uint16_t port, unsigned size, uint64_t val)
{
	(void)io_dispatch(&fv->bus, IO_PIO, IO_WRITE, port, size, &val);
}

uint64_t
fake_mmio_read(struct fake_vm *fv, uint64_t gpa, unsigned size)
{
	uint64_t val = ~0ULL;

	(void)io_dispatch(&fv->bus, IO_MMIO, IO_READ, gpa, size, &val);
	if (size < 8)
		val &= (1ULL << (size * 8)) - 1;
	return (val);
}

void
fake_mmio_write(struct fake_vm *fv, uint64_t gpa, unsigned size, uint64_t val)
{
	(void)io_dispatch(&fv->bus, IO_MMIO, IO_WRITE, gpa, size, &val);
}
