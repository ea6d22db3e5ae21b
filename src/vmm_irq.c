/*
 * vmm_irq.c: interrupt plumbing on KVM (Documentation/virt/kvm/api.rst:
 * KVM_SET_GSI_ROUTING, KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_IRQFD,
 * KVM_IOEVENTFD).
 *
 * The routing table holds the PC platform's irqchip routes (GSIs 0-23)
 * and one MSI route per irqfd a device asked for (GSIs from 24).  KVM
 * replaces the whole table on every KVM_SET_GSI_ROUTING, so a change to
 * one MSI route writes them all; guests change MSI-X entries rarely
 * (driver set-up, CPU affinity changes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "arch/x86/layout.h"
#include "log.h"
#include "vmm.h"
#include "vmm_impl.h"

#define MSI_GSI_BASE	IOAPIC_NPINS
#define MSI_ROUTES_MAX	1024

/*
 * GSI routing for the PC platform: ISA IRQs 0-15 reach the 8259s (IRQ 2
 * is the cascade) and the IOAPIC pins of the same number, except that
 * IRQ 0 (the PIT) is wired to IOAPIC pin 2 as the MADT's interrupt
 * source override says (bhyve's vatpit does the same; QEMU sets up its
 * KVM routing this way).  KVM's default routing would send the PIT to
 * pin 0, where a guest that trusts the MADT never looks.
 */
int
vm_setup_irq_routing(struct vmctx *ctx)
{
	struct kvm_irq_routing *rt;
	struct kvm_irq_routing_entry *e;
	unsigned gsi, n = 0, i;
	int error;

	rt = calloc(1, sizeof(*rt) + (48 + ctx->nmsi) * sizeof(*e));
	if (rt == NULL)
		return (-ENOMEM);
	for (gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		e = &rt->entries[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
		    KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = gsi % 8;
	}
	for (gsi = 0; gsi < IOAPIC_NPINS; gsi++) {
		if (gsi == 2)
			continue;
		e = &rt->entries[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	for (i = 0; i < ctx->nmsi; i++) {
		if (!ctx->msi[i].in_use)
			continue;
		e = &rt->entries[n++];
		e->gsi = MSI_GSI_BASE + i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)ctx->msi[i].addr;
		e->u.msi.address_hi = (uint32_t)(ctx->msi[i].addr >> 32);
		e->u.msi.data = ctx->msi[i].data;
	}
	rt->nr = n;
	error = kvm_ioctl(ctx->vmfd, KVM_SET_GSI_ROUTING, rt);
	error = error < 0 ? error : 0;
	free(rt);
	return (error);
}

int
vm_irq_line(struct vmctx *ctx, unsigned gsi, int level)
{
	struct kvm_irq_level irq;

	irq.irq = gsi;
	irq.level = level ? 1 : 0;
	return (kvm_ioctl(ctx->vmfd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0);
}

int
vm_ioapic_assert_irq(struct vmctx *ctx, unsigned irq)
{
	return (vm_irq_line(ctx, irq, 1));
}

int
vm_ioapic_deassert_irq(struct vmctx *ctx, unsigned irq)
{
	return (vm_irq_line(ctx, irq, 0));
}

int
vm_ioapic_pulse_irq(struct vmctx *ctx, unsigned irq)
{
	int error;

	error = vm_irq_line(ctx, irq, 1);
	if (error == 0)
		error = vm_irq_line(ctx, irq, 0);
	return (error);
}

int
vm_lapic_msi(struct vmctx *ctx, uint64_t addr, uint64_t msg)
{
	struct kvm_msi msi;
	int r;

	memset(&msi, 0, sizeof(msi));
	msi.address_lo = (uint32_t)addr;
	msi.address_hi = (uint32_t)(addr >> 32);
	msi.data = (uint32_t)msg;
	r = kvm_ioctl(ctx->vmfd, KVM_SIGNAL_MSI, &msi);
	return (r < 0 ? r : 0);
}

int
vm_msi_route_alloc(struct vmctx *ctx, unsigned *gsi)
{
	struct vm_msi_route *n;
	unsigned i;

	pthread_mutex_lock(&ctx->irq_lock);
	for (i = 0; i < ctx->nmsi && ctx->msi[i].in_use; i++)
		;
	if (i == ctx->nmsi) {
		if (ctx->nmsi >= MSI_ROUTES_MAX) {
			pthread_mutex_unlock(&ctx->irq_lock);
			return (-ENOSPC);
		}
		n = realloc(ctx->msi, (ctx->nmsi + 1) * sizeof(*n));
		if (n == NULL) {
			pthread_mutex_unlock(&ctx->irq_lock);
			return (-ENOMEM);
		}
		ctx->msi = n;
		ctx->nmsi++;
	}
	/* Unprogrammed: address 0 is no APIC; KVM drops such a message. */
	memset(&ctx->msi[i], 0, sizeof(ctx->msi[i]));
	ctx->msi[i].in_use = true;
	*gsi = MSI_GSI_BASE + i;
	pthread_mutex_unlock(&ctx->irq_lock);
	return (0);
}

int
vm_msi_route_set(struct vmctx *ctx, unsigned gsi, uint64_t addr,
    uint32_t data)
{
	unsigned i = gsi - MSI_GSI_BASE;
	int error;

	pthread_mutex_lock(&ctx->irq_lock);
	if (gsi < MSI_GSI_BASE || i >= ctx->nmsi || !ctx->msi[i].in_use) {
		pthread_mutex_unlock(&ctx->irq_lock);
		return (-EINVAL);
	}
	ctx->msi[i].addr = addr;
	ctx->msi[i].data = data;
	error = vm_setup_irq_routing(ctx);
	pthread_mutex_unlock(&ctx->irq_lock);
	return (error);
}

int
vm_irqfd(struct vmctx *ctx, int fd, unsigned gsi, bool assign)
{
	struct kvm_irqfd irqfd;
	int r;

	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = (uint32_t)fd;
	irqfd.gsi = gsi;
	irqfd.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN;
	r = kvm_ioctl(ctx->vmfd, KVM_IRQFD, &irqfd);
	return (r < 0 ? r : 0);
}

int
vm_ioeventfd(struct vmctx *ctx, bool pio, uint64_t addr, unsigned len,
    int64_t datamatch, int fd, bool assign)
{
	struct kvm_ioeventfd io;
	int r;

	if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8)
		return (-EINVAL);
	memset(&io, 0, sizeof(io));
	io.addr = addr;
	io.len = len;
	io.fd = fd;
	if (pio)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (datamatch >= 0) {
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		io.datamatch = (uint64_t)datamatch;
	}
	if (!assign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	r = kvm_ioctl(ctx->vmfd, KVM_IOEVENTFD, &io);
	return (r < 0 ? r : 0);
}
