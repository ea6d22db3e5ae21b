/*
 * test_virtio.c: the virtio PCI transport with the smallest device,
 * virtio-rnd, driven by a test driver (vdriver.h) on a fake machine:
 * identity, capabilities, feature negotiation, queue set-up through the
 * modern and the legacy registers, notifications through ioeventfds
 * served by the device's worker thread, interrupts by MSI-X irqfds and
 * by ISR + INTx, a broken ring setting DEVICE_NEEDS_RESET, reset, the
 * request bound and the rate limit of virtio-rnd.
 */
#include <errno.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"
#include "test.h"
#include "vdriver.h"
#include "virtio/virtio.h"

extern const struct pci_devemu pci_de_vrnd;	/* links virtio_rnd.o */

#define DESC	0x10000ULL
#define AVAIL	0x11000ULL
#define USED	0x12000ULL
#define BUF	0x20000ULL
#define QSIZE	64

static struct fake_vm fv;
static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

/* virtio-rnd at 0:5.0 with extra "key=value" settings. */
static void
setup(const char *k1, const char *v1, const char *global, const char *gv)
{
	CHECK(pci_emul_finddev("virtio-rnd") == &pci_de_vrnd);
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.5.0.device", "virtio-rnd"), 0);
	if (k1 != NULL)
		CHECK_EQ(config_set(NULL, k1, v1), 0);
	if (global != NULL)
		CHECK_EQ(config_set(NULL, global, gv), 0);
	fake_vm_init(&fv, 2 * MiB, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), 0);
}

static void
teardown(void)
{
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
}

static bool
nonzero(uint64_t gpa, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (fv.ram[gpa + i] != 0)
			return (true);
	return (false);
}

TEST(modern_identity_and_features)
{
	struct vdrv d;
	uint64_t f;

	setup(NULL, NULL, NULL, NULL);
	/* Transitional: 0x1005, subsystem 4 (entropy), revision 0. */
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_VENDOR, 2), 0x1af4);
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_DEVICE, 2), 0x1005);
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_SUBDEV_0, 2), VIRTIO_ID_ENTROPY);
	CHECK_EQ(vdrv_probe(&d, &fv, 5, false), 0);
	CHECK(d.pcicap > 0);
	CHECK_EQ(d.notify_mult, 4);
	CHECK_EQ(vdrv_num_queues(&d), 1);
	CHECK_EQ(vdrv_queue_max(&d, 0), QSIZE);
	CHECK_EQ(vdrv_queue_max(&d, 1), 0);		/* no such queue */
	f = vdrv_device_features(&d);
	CHECK(f & VIRTIO_F_VERSION_1);
	CHECK(f & VIRTIO_F_INDIRECT_DESC);
	CHECK(f & VIRTIO_F_EVENT_IDX);
	/* FEATURES_OK needs VERSION_1 and nothing not offered. */
	CHECK_EQ(vdrv_negotiate(&d, 0) & VIRTIO_S_FEATURES_OK, 0);
	CHECK_EQ(vdrv_negotiate(&d, VIRTIO_F_VERSION_1 | (1ULL << 50)) &
	    VIRTIO_S_FEATURES_OK, 0);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	/* The PCI configuration access capability reaches the same registers. */
	CHECK_EQ(vdrv_pcicap_read(&d, 0x12, 2), 1);
	teardown();
}

/* Three write-only buffers; the third larger than the request bound. */
static void
post_three(struct vdrv *d)
{
	vdrv_desc(d, DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	vdrv_desc(d, DESC, 1, BUF + 0x1000, 4096, VIRTQ_DESC_F_WRITE, 0);
	vdrv_desc(d, DESC, 2, BUF + 0x10000, 100000, VIRTQ_DESC_F_WRITE, 0);
	vdrv_avail(d, AVAIL, QSIZE, 0, 0);
	vdrv_avail(d, AVAIL, QSIZE, 1, 1);
	vdrv_avail(d, AVAIL, QSIZE, 2, 2);
}

TEST(modern_queue_msix_ioeventfd)
{
	struct vdrv d;
	uint32_t id, len;

	setup(NULL, NULL, NULL, NULL);
	CHECK_EQ(vdrv_probe(&d, &fv, 5, false), 0);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	vdrv_msix(&d, 1, 0xfee00000, 0x41);
	vdrv_queue(&d, 0, QSIZE, DESC, AVAIL, USED, 1);
	vdrv_set_status(&d, 0x0f);
	/* One ioeventfd per queue and transport (modern and legacy). */
	CHECK_EQ(fake_ioeventfd_count(&fv), 2);
	post_three(&d);
	vdrv_notify(&d, 0);
	CHECK(vdrv_wait_used(&d, USED, 3, 2000));
	vdrv_used_elem(&d, USED, QSIZE, 0, &id, &len);
	CHECK_EQ(id, 0);
	CHECK_EQ(len, 16);
	vdrv_used_elem(&d, USED, QSIZE, 1, &id, &len);
	CHECK_EQ(len, 4096);
	vdrv_used_elem(&d, USED, QSIZE, 2, &id, &len);
	CHECK_EQ(id, 2);
	CHECK_EQ(len, 65536);				/* bounded per request */
	CHECK(nonzero(BUF, 16) && nonzero(BUF + 0x10000, 65536));
	CHECK(!nonzero(BUF + 0x10000 + 65536, 100000 - 65536));
	/* The interrupt went out through vector 1's irqfd. */
	CHECK(fake_irqfd_poll(&fv) >= 1);
	CHECK_EQ(fv.msi_data[fv.nmsi - 1], 0x41);
	/* The notify came by ioeventfd, not by a register exit. */
	CHECK_EQ(((struct virtio_softc *)pci_find_dev(0, 5, 0)->pi_arg)
	    ->vs_kicks_by_exit, 0);
	teardown();
}

TEST(broken_ring_needs_reset)
{
	struct vdrv d;

	setup(NULL, NULL, NULL, NULL);
	CHECK_EQ(vdrv_probe(&d, &fv, 5, false), 0);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	vdrv_queue(&d, 0, QSIZE, DESC, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&d, 0x0f);
	/* A head beyond the queue: the device stops and asks for a reset,
	 * with a configuration interrupt (ISR bit 1, INTx: no MSI-X). */
	vdrv_avail(&d, AVAIL, QSIZE, 0, 200);
	vdrv_notify(&d, 0);
	for (int i = 0; i < 2000 && !(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET);
	    i++)
		usleep(1000);
	CHECK(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET);
	CHECK_EQ(vdrv_isr(&d) & 2, 2);
	CHECK_EQ(vdrv_isr(&d), 0);			/* read clears */
	/* Reset: status reads 0, the queue can be set up again. */
	vdrv_set_status(&d, 0);
	CHECK_EQ(vdrv_status(&d), 0);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	memset(fv.ram + AVAIL, 0, 0x3000);
	vdrv_queue(&d, 0, QSIZE, DESC, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&d, 0x0f);
	vdrv_desc(&d, DESC, 0, BUF, 32, VIRTQ_DESC_F_WRITE, 0);
	vdrv_avail(&d, AVAIL, QSIZE, 0, 0);
	vdrv_notify(&d, 0);
	CHECK(vdrv_wait_used(&d, USED, 1, 2000));
	CHECK_EQ(vdrv_isr(&d) & 1, 1);
	CHECK_EQ(fv.irq_level[pci_find_dev(0, 5, 0)->pi_lintr_gsi], 0);
	/* A readable buffer is a driver error: completed, nothing written. */
	vdrv_desc(&d, DESC, 1, BUF + 0x100, 32, 0, 0);
	vdrv_avail(&d, AVAIL, QSIZE, 1, 1);
	vdrv_notify(&d, 0);
	CHECK(vdrv_wait_used(&d, USED, 2, 2000));
	CHECK(!nonzero(BUF + 0x100, 32));
	/* Bad ring addresses at enable: needs reset, nothing touched. */
	vdrv_set_status(&d, 0);
	(void)vdrv_negotiate(&d, VIRTIO_F_VERSION_1);
	vdrv_queue(&d, 0, QSIZE, 64 * GiB, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	CHECK(vdrv_status(&d) & VIRTIO_S_NEEDS_RESET);
	teardown();
}

TEST(legacy_transport)
{
	struct vdrv d;
	uint32_t id, len;

	setup("pci.0.5.0.transport", "legacy", "virtio_msix", "false");
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_DEVICE, 2), 0x1005);
	CHECK_EQ(vdrv_probe(&d, &fv, 5, true), 0);
	CHECK_EQ(d.msix_table, 0);			/* -W: MSI, no MSI-X */
	CHECK(pci_emul_find_capability(pci_find_dev(0, 5, 0), PCIY_MSI) != 0);
	/* No VERSION_1 on a legacy-only device. */
	CHECK_EQ(vdrv_device_features(&d) & 0xffffffff & (1u << 28), 1u << 28);
	(void)vdrv_negotiate(&d, VIRTIO_F_INDIRECT_DESC);
	CHECK_EQ(vdrv_queue_max(&d, 0), QSIZE);
	/* The legacy layout: used ring on the page after avail. */
	vdrv_queue(&d, 0, QSIZE, DESC, DESC + 16 * QSIZE, DESC + 0x1000, 0);
	vdrv_set_status(&d, 0x07);
	vdrv_desc(&d, DESC, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	vdrv_avail(&d, DESC + 16 * QSIZE, QSIZE, 0, 0);
	vdrv_notify(&d, 0);
	CHECK(vdrv_wait_used(&d, DESC + 0x1000, 1, 2000));
	vdrv_used_elem(&d, DESC + 0x1000, QSIZE, 0, &id, &len);
	CHECK_EQ(len, 64);
	CHECK(nonzero(BUF, 64));
	/* ISR + INTx (MSI not enabled by the driver). */
	CHECK_EQ(fv.irq_level[pci_find_dev(0, 5, 0)->pi_lintr_gsi], 1);
	CHECK_EQ(vdrv_isr(&d), 1);
	CHECK_EQ(fv.irq_level[pci_find_dev(0, 5, 0)->pi_lintr_gsi], 0);
	teardown();
}

TEST(modern_only)
{
	struct vdrv d;

	setup(NULL, NULL, "virtio.transport", "modern");
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_DEVICE, 2), 0x1044);
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_REVID, 1), 1);
	CHECK_EQ(pci_cfg_read(0, 5, 0, PCIR_BAR(0), 4), 0);	/* no I/O BAR */
	CHECK_EQ(vdrv_probe(&d, &fv, 5, false), 0);
	teardown();
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.5.0.device", "virtio-rnd"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.5.0.transport", "sideways"), 0);
	fake_vm_init(&fv, 2 * MiB, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), -EINVAL);
	teardown();
}

TEST(rate_limit)
{
	struct vdrv d;
	uint32_t id, len;

	setup("pci.0.5.0.rate", "1000", NULL, NULL);
	CHECK_EQ(vdrv_probe(&d, &fv, 5, false), 0);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	vdrv_queue(&d, 0, QSIZE, DESC, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&d, 0x0f);
	post_three(&d);
	vdrv_notify(&d, 0);
	/* A bucket of one second's worth: 16 bytes, then 984 of 4096; the
	 * third waits for tokens and gets what a timer tick brings. */
	CHECK(vdrv_wait_used(&d, USED, 2, 2000));
	vdrv_used_elem(&d, USED, QSIZE, 0, &id, &len);
	CHECK_EQ(len, 16);
	vdrv_used_elem(&d, USED, QSIZE, 1, &id, &len);
	CHECK_EQ(len, 984);
	CHECK(vdrv_wait_used(&d, USED, 3, 3000));
	vdrv_used_elem(&d, USED, QSIZE, 2, &id, &len);
	CHECK(len > 0 && len <= 1000);
	teardown();
}

TEST_MAIN()
