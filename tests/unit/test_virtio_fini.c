/*
 * test_virtio_fini.c: virtio devices torn down by pci_fini() (pe_fini,
 * virtio_pci_fini): 100 cycles of creating virtio-rnd and virtio-blk on
 * a fake machine, driving a request through each, leaving disk reads in
 * flight on every other cycle, stopping them first with pci_stop() (as
 * the machine does when the VM ends: pe_stop) on every fourth, and
 * destroying them.  Afterwards the
 * process has the file descriptors and threads it had before: the
 * worker threads were joined, the queue eventfds, epoll and stop fds,
 * the disk, its queues and the rnd timer closed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"
#include "test.h"
#include "vdriver.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk_req.h"

extern const struct pci_devemu pci_de_vrnd, pci_de_vblk;

#define DESC	0x10000ULL
#define AVAIL	0x18000ULL
#define USED	0x19000ULL
#define HDR	0x20000ULL
#define STS	0x21000ULL
#define BUF	0x40000ULL
#define RQSIZE	64
#define BQSIZE	256
#define DISK	(256 * 1024)
#define CYCLES	100

static struct fake_vm fv;
static char img[64];
static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

/* Entries of a /proc directory, without . and .. */
static int
count_dir(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	int n = 0;

	if (d == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - (strcmp(path, "/proc/self/fd") == 0));	/* d's own */
}

/*
 * Threads the kernel starts for io_uring (io-wq workers) go away on
 * their own shortly after the ring is closed: wait (up to 2 s) for the
 * count to come back to want.
 */
static int
threads_settle(int want)
{
	struct timespec ts = { 0, 1000000 };
	int i, n = count_dir("/proc/self/task"), low = n;

	/* want -1: the lowest count seen in 50 ms. */
	for (i = 0; i < (want < 0 ? 50 : 2000) && n != want; i++) {
		nanosleep(&ts, NULL);
		n = count_dir("/proc/self/task");
		low = n < low ? n : low;
	}
	return (want < 0 ? low : n);
}

static void
make_image(void)
{
	int fd;

	snprintf(img, sizeof(img), "/tmp/khyve-fini-XXXXXX");
	fd = mkstemp(img);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, DISK), 0);
	close(fd);
}

/* A read of sector at head (three descriptors), made available. */
static void
blk_read(struct vdrv *d, uint16_t idx, uint16_t head, uint64_t sector)
{
	uint64_t h = HDR + 16ULL * head;
	uint32_t type = VIRTIO_BLK_T_IN;

	memcpy(fv.ram + h, &type, 4);
	memset(fv.ram + h + 4, 0, 4);
	memcpy(fv.ram + h + 8, &sector, 8);
	vdrv_desc(d, DESC, head, h, 16, VIRTQ_DESC_F_NEXT, head + 1);
	vdrv_desc(d, DESC, head + 1, BUF + 512ULL * head, 512,
	    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, head + 2);
	vdrv_desc(d, DESC, head + 2, STS + head, 1, VIRTQ_DESC_F_WRITE, 0);
	vdrv_avail(d, AVAIL, BQSIZE, idx, head);
}

static void
cycle(int i)
{
	struct vdrv r, b;
	uint16_t k;

	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.5.0.device", "virtio-rnd"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.device", "virtio-blk"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.path", img), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.engine", i % 2 ? "thread" :
	    "io_uring"), 0);
	if (i % 3 == 2)
		CHECK_EQ(config_set(NULL, "virtio.transport", "modern"), 0);
	fake_vm_init(&fv, 2 * MiB, 2);
	CHECK_EQ(pci_init(&fv.dc, &win), 0);

	/* The rnd device: one buffer filled. */
	CHECK_EQ(vdrv_probe(&r, &fv, 5, false), 0);
	CHECK(vdrv_negotiate(&r, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	vdrv_queue(&r, 0, RQSIZE, DESC + 0x100000, AVAIL + 0x100000,
	    USED + 0x100000, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&r, 0x0f);
	vdrv_desc(&r, DESC + 0x100000, 0, BUF + 0x100000, 64,
	    VIRTQ_DESC_F_WRITE, 0);
	vdrv_avail(&r, AVAIL + 0x100000, RQSIZE, 0, 0);
	vdrv_notify(&r, 0);
	CHECK(vdrv_wait_used(&r, USED + 0x100000, 1, 5000));

	/* The disk: one read waited for, then (odd cycles) 40 left going. */
	CHECK_EQ(vdrv_probe(&b, &fv, 6, false), 0);
	CHECK(vdrv_negotiate(&b, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	vdrv_queue(&b, 0, BQSIZE, DESC, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&b, 0x0f);
	blk_read(&b, 0, 0, 1);
	vdrv_notify(&b, 0);
	CHECK(vdrv_wait_used(&b, USED, 1, 5000));
	CHECK_EQ(fv.ram[STS], VIRTIO_BLK_S_OK);
	if (i % 2) {
		for (k = 1; k <= 40; k++)
			blk_read(&b, k, (uint16_t)(3 * k), k);
		vdrv_notify(&b, 0);
	}

	if (i % 4 == 3) {
		pci_stop();
		pci_stop();		/* a stopped device stays stopped */
	}
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
}

TEST(create_destroy_cycles)
{
	int fds, thr, i, n;

	CHECK(pci_emul_finddev("virtio-rnd") == &pci_de_vrnd);
	CHECK(pci_emul_finddev("virtio-blk") == &pci_de_vblk);
	make_image();
	/* The baseline after one cycle: what a runtime starts once (a
	 * sanitizer's helper thread) is not a leak. */
	cycle(0);
	fds = count_dir("/proc/self/fd");
	thr = threads_settle(-1);
	CHECK(fds > 0 && thr > 0);
	for (i = 1; i <= CYCLES && test_failed == 0; i++) {
		cycle(i);
		n = count_dir("/proc/self/fd");
		if (n != fds) {
			printf("  cycle %d: %d fds, %d before\n", i, n, fds);
			test_failed++;
		}
		n = threads_settle(thr);
		if (n != thr) {
			printf("  cycle %d: %d threads, %d before\n", i, n, thr);
			test_failed++;
		}
	}
	unlink(img);
}

/* pe_fini on a device nobody drove, and on a queue-less transport. */
TEST(fini_untouched)
{
	int fds = count_dir("/proc/self/fd"), thr = count_dir("/proc/self/task");
	struct virtio_softc zero;

	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.5.0.device", "virtio-rnd"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.5.0.transport", "legacy"), 0);
	fake_vm_init(&fv, 1 * MiB, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), 0);
	/* Decoding BARs (ioeventfds registered), then straight to fini. */
	pci_cfg_write(0, 5, 0, PCIR_COMMAND, 2, PCIM_CMD_PORTEN |
	    PCIM_CMD_MEMEN);
	CHECK(fake_ioeventfd_count(&fv) > 0);
	pci_fini();
	CHECK_EQ(fake_ioeventfd_count(&fv), 0);
	fake_vm_fini(&fv);
	config_fini();
	CHECK_EQ(count_dir("/proc/self/fd"), fds);
	CHECK_EQ(threads_settle(thr), thr);
	/* A softc virtio_pci_init never saw. */
	memset(&zero, 0, sizeof(zero));
	virtio_pci_fini(&zero);
}

TEST_MAIN()
