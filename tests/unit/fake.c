/*
 * fake.c: the fake machine behind fake.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	fv->dc.dc_suspend = fake_suspend;
	fv->dc.dc_opaque = fv;
}

void
fake_vm_fini(struct fake_vm *fv)
{
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
