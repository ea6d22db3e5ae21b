/*
 * test_virtio_blk.c: virtio-blk on a temporary image through the test
 * driver (vdriver.h): the configuration space, read, write, flush,
 * GET_ID, discard and write-zeroes against the file's bytes, requests
 * past the end (and at the end of an image that is not a whole number
 * of sectors), unaligned and malformed requests, a read-only disk, a
 * header split across descriptors, indirect chains, a reset with
 * requests in flight and multiple queues; for both disk engines.
 * The request parser alone: every row of a table of hostile headers.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "config.h"
#include "fake.h"
#include "pci/pci_emul.h"
#include "test.h"
#include "vdriver.h"
#include "virtio/virtio.h"
#include "virtio/virtio_blk_req.h"

extern const struct pci_devemu pci_de_vblk;

#define DESC	0x10000ULL
#define AVAIL	0x18000ULL
#define USED	0x19000ULL
#define IND	0x1c000ULL
#define HDR	0x20000ULL	/* headers, 16 bytes apart */
#define STS	0x21000ULL	/* status bytes */
#define BUF	0x40000ULL
#define QSIZE	256
#define DISK	(1 << 20)	/* 1 MiB image */

static struct fake_vm fv;
static struct vdrv d;
static char img[64];
static int img_size = DISK;		/* make_image()'s */
static uint16_t avail_idx, used_seen;
static const struct pci_windows win = {
	.io_base = IO_PCI_IOBASE, .io_limit = IO_PCI_IOLIMIT,
	.mem32_base = PCI_MMIO32_BASE, .mem32_limit = PCI_MMIO32_LIMIT,
	.mem64_base = 32 * GiB, .mem64_limit = 64 * GiB,
};

/* An image of img_size bytes, byte i = i * 7 mod 251. */
static void
make_image(void)
{
	uint8_t *b = malloc(DISK);
	int fd, i;

	snprintf(img, sizeof(img), "/tmp/khyve-vblk-XXXXXX");
	fd = mkstemp(img);
	CHECK(fd >= 0 && b != NULL);
	for (i = 0; i < DISK; i++)
		b[i] = (uint8_t)(i * 7 % 251);
	CHECK_EQ(write(fd, b, img_size), img_size);
	close(fd);
	free(b);
}

static void
setup(const char *engine, const char *extra, const char *val)
{
	CHECK(pci_emul_finddev("virtio-blk") == &pci_de_vblk);
	make_image();
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.6.0.device", "virtio-blk"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.path", img), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.engine", engine), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.num_queues", "1"), 0);
	if (extra != NULL)
		CHECK_EQ(config_set(NULL, extra, val), 0);
	fake_vm_init(&fv, 4 * MiB, 2);
	CHECK_EQ(pci_init(&fv.dc, &win), 0);
	CHECK_EQ(vdrv_probe(&d, &fv, 6, false), 0);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC |
	    (vdrv_device_features(&d) & 0xffffffffULL)) & VIRTIO_S_FEATURES_OK);
	vdrv_queue(&d, 0, QSIZE, DESC, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&d, 0x0f);
	avail_idx = used_seen = 0;
}

static void
teardown(void)
{
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
	unlink(img);
}

/* Post head, notify, wait for its completion; returns used.len. */
static uint32_t
run(uint16_t head)
{
	uint32_t id = ~0u, len = ~0u;

	vdrv_avail(&d, AVAIL, QSIZE, avail_idx++, head);
	vdrv_notify(&d, 0);
	CHECK(vdrv_wait_used(&d, USED, avail_idx, 5000));
	vdrv_used_elem(&d, USED, QSIZE, used_seen++, &id, &len);
	CHECK_EQ(id, head);
	return (len);
}

/* A three-descriptor request at head: header, data, status. */
static uint32_t
req(uint16_t head, uint32_t type, uint64_t sector, uint64_t buf,
    uint32_t len, bool data_write)
{
	uint64_t h = HDR + 16ULL * head;

	memcpy(fv.ram + h, &type, 4);
	memset(fv.ram + h + 4, 0, 4);
	memcpy(fv.ram + h + 8, &sector, 8);
	fv.ram[STS + head] = 0xee;
	vdrv_desc(&d, DESC, head, h, 16, VIRTQ_DESC_F_NEXT, head + 1);
	if (len != 0) {
		vdrv_desc(&d, DESC, head + 1, buf, len, VIRTQ_DESC_F_NEXT |
		    (data_write ? VIRTQ_DESC_F_WRITE : 0), head + 2);
		vdrv_desc(&d, DESC, head + 2, STS + head, 1,
		    VIRTQ_DESC_F_WRITE, 0);
	} else
		vdrv_desc(&d, DESC, head + 1, STS + head, 1,
		    VIRTQ_DESC_F_WRITE, 0);
	return (run(head));
}

static uint8_t
status(uint16_t head)
{
	return (fv.ram[STS + head]);
}

static void
file_read(off_t off, void *buf, size_t len)
{
	int fd = open(img, O_RDONLY);

	CHECK_EQ(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void
blk_io(const char *engine)
{
	uint8_t buf[8192];
	struct stat st0, st1;
	uint64_t cap;
	int i;

	setup(engine, NULL, NULL);
	cap = vdrv_config(&d, 0, 8);
	CHECK_EQ(cap, DISK / 512);
	CHECK_EQ(vdrv_config(&d, 12, 4), 126);		/* seg_max */
	CHECK_EQ(vdrv_config(&d, 20, 4), 512);		/* blk_size */

	/* Read sectors 3-4: the image's bytes, len = data + status. */
	CHECK_EQ(req(0, VIRTIO_BLK_T_IN, 3, BUF, 1024, true), 1025);
	CHECK_EQ(status(0), VIRTIO_BLK_S_OK);
	for (i = 0; i < 1024; i++)
		if (fv.ram[BUF + i] != (uint8_t)((3 * 512 + i) * 7 % 251))
			break;
	CHECK_EQ(i, 1024);
	/* Write 4 KiB at sector 8, flush, and the file has it. */
	memset(fv.ram + BUF, 0x5a, 4096);
	CHECK_EQ(req(3, VIRTIO_BLK_T_OUT, 8, BUF, 4096, false), 1);
	CHECK_EQ(status(3), VIRTIO_BLK_S_OK);
	CHECK_EQ(req(6, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 1);
	CHECK_EQ(status(6), VIRTIO_BLK_S_OK);
	file_read(8 * 512, buf, 4096);
	CHECK(buf[0] == 0x5a && buf[4095] == 0x5a);
	/* GET_ID: the default serial. */
	CHECK_EQ(req(9, VIRTIO_BLK_T_GET_ID, 0, BUF, 20, true), 21);
	CHECK(memcmp(fv.ram + BUF, "KHYVE-", 6) == 0);
	/* Past the end: IOERR and nothing touched; the last sector is fine. */
	memset(fv.ram + BUF, 0x11, 1024);
	CHECK_EQ(req(12, VIRTIO_BLK_T_IN, cap - 1, BUF, 1024, true), 1);
	CHECK_EQ(status(12), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(fv.ram[BUF], 0x11);
	CHECK_EQ(req(15, VIRTIO_BLK_T_OUT, ~0ULL / 256, BUF, 512, false), 1);
	CHECK_EQ(status(15), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(req(18, VIRTIO_BLK_T_IN, cap - 1, BUF, 512, true), 513);
	CHECK_EQ(status(18), VIRTIO_BLK_S_OK);
	/* Not a multiple of the sector; an unknown type. */
	CHECK_EQ(req(21, VIRTIO_BLK_T_IN, 0, BUF, 100, true), 1);
	CHECK_EQ(status(21), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(req(24, 99, 0, 0, 0, false), 1);
	CHECK_EQ(status(24), VIRTIO_BLK_S_UNSUPP);

	/* Write-zeroes then discard punch the file (it was fully written). */
	CHECK_EQ(stat(img, &st0), 0);
	{
		uint64_t seg[2] = { 64, 256 };	/* sector 64, 256 sectors */

		memcpy(fv.ram + BUF, seg, 16);
		CHECK_EQ(req(27, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF, 16,
		    false), 1);
		CHECK_EQ(status(27), VIRTIO_BLK_S_OK);
		file_read(64 * 512, buf, 8192);
		for (i = 0; i < 8192 && buf[i] == 0; i++)
			;
		CHECK_EQ(i, 8192);
		seg[0] = 1024;
		memcpy(fv.ram + BUF, seg, 16);
		CHECK_EQ(req(30, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false), 1);
		CHECK_EQ(status(30), VIRTIO_BLK_S_OK);
		CHECK_EQ(stat(img, &st1), 0);
		CHECK(st1.st_blocks < st0.st_blocks);
		/* Discard with the unmap flag is not allowed (§5.2.6.2). */
		seg[1] = 8 | (1ULL << 32);
		memcpy(fv.ram + BUF, seg, 16);
		CHECK_EQ(req(33, VIRTIO_BLK_T_DISCARD, 0, BUF, 16, false), 1);
		CHECK_EQ(status(33), VIRTIO_BLK_S_UNSUPP);
	}

	/* The header split over two descriptors, data in an indirect table. */
	{
		uint64_t sector = 3;
		uint32_t type = VIRTIO_BLK_T_IN;

		memcpy(fv.ram + HDR + 0x800, &type, 4);
		memset(fv.ram + HDR + 0x804, 0, 4);
		memcpy(fv.ram + HDR + 0x808, &sector, 8);
		vdrv_desc(&d, IND, 0, HDR + 0x800, 5, VIRTQ_DESC_F_NEXT, 1);
		vdrv_desc(&d, IND, 1, HDR + 0x805, 11, VIRTQ_DESC_F_NEXT, 2);
		vdrv_desc(&d, IND, 2, BUF + 0x2000, 300, VIRTQ_DESC_F_NEXT |
		    VIRTQ_DESC_F_WRITE, 3);
		vdrv_desc(&d, IND, 3, BUF + 0x3000, 212, VIRTQ_DESC_F_NEXT |
		    VIRTQ_DESC_F_WRITE, 4);
		vdrv_desc(&d, IND, 4, STS + 40, 1, VIRTQ_DESC_F_WRITE, 0);
		vdrv_desc(&d, DESC, 40, IND, 5 * 16, VIRTQ_DESC_F_INDIRECT, 0);
		CHECK_EQ(run(40), 513);
		CHECK_EQ(status(40), VIRTIO_BLK_S_OK);
		CHECK_EQ(fv.ram[BUF + 0x2000], (uint8_t)(3 * 512 * 7 % 251));
		CHECK_EQ(fv.ram[BUF + 0x3000], (uint8_t)((3 * 512 + 300) * 7 %
		    251));
	}
	/* No status byte at all: completed with used.len 0. */
	vdrv_desc(&d, DESC, 50, HDR, 16, 0, 0);
	CHECK_EQ(run(50), 0);

	/* Reset with many reads in flight: all complete first. */
	for (i = 0; i < 60; i++) {
		uint64_t h = HDR + 16ULL * (60 + i), sector = (uint64_t)i * 8;
		uint32_t type = VIRTIO_BLK_T_IN;

		memcpy(fv.ram + h, &type, 4);
		memcpy(fv.ram + h + 8, &sector, 8);
		vdrv_desc(&d, DESC, 60 + 3 * i, h, 16, VIRTQ_DESC_F_NEXT,
		    61 + 3 * i);
		vdrv_desc(&d, DESC, 61 + 3 * i, BUF + 4096ULL * i, 4096,
		    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 62 + 3 * i);
		vdrv_desc(&d, DESC, 62 + 3 * i, STS + 100 + i, 1,
		    VIRTQ_DESC_F_WRITE, 0);
		vdrv_avail(&d, AVAIL, QSIZE, avail_idx++, 60 + 3 * i);
	}
	vdrv_notify(&d, 0);
	vdrv_set_status(&d, 0);
	CHECK_EQ(vdrv_status(&d), 0);
	/* After reset the device is usable again from a clean state. */
	memset(fv.ram + AVAIL, 0, 0x4000);
	CHECK(vdrv_negotiate(&d, VIRTIO_F_VERSION_1) & VIRTIO_S_FEATURES_OK);
	vdrv_queue(&d, 0, QSIZE, DESC, AVAIL, USED, VIRTIO_MSI_NO_VECTOR);
	vdrv_set_status(&d, 0x0f);
	avail_idx = used_seen = 0;
	CHECK_EQ(req(0, VIRTIO_BLK_T_IN, 0, BUF, 512, true), 513);
	CHECK_EQ(status(0), VIRTIO_BLK_S_OK);
	teardown();
}

/*
 * The end of the disk, on an image of DISK - 100 bytes (not a whole
 * sector): a disk of DISK / 512 sectors whose last one reads as zeroes
 * past the file's end (docs/config.md, "Block devices").  A write at the
 * sector after the last, or one across the end, fails with IOERR and
 * leaves the file as it was; a write of the last sector extends the file
 * to the end of the disk and no further.
 */
static void
end_of_disk(const char *engine)
{
	uint8_t *last;
	struct stat st;
	uint64_t cap;
	int i;

	img_size = DISK - 100;
	setup(engine, NULL, NULL);
	img_size = DISK;
	last = fv.ram + BUF + 4096;
	cap = vdrv_config(&d, 0, 8);
	CHECK_EQ(cap, DISK / 512);
	memset(fv.ram + BUF, 0x33, 1024);
	CHECK_EQ(req(0, VIRTIO_BLK_T_OUT, cap, BUF, 512, false), 1);
	CHECK_EQ(status(0), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(req(3, VIRTIO_BLK_T_OUT, cap - 1, BUF, 1024, false), 1);
	CHECK_EQ(status(3), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(req(6, VIRTIO_BLK_T_OUT, ~0ULL / 512, BUF, 512, false), 1);
	CHECK_EQ(status(6), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(stat(img, &st), 0);
	CHECK_EQ(st.st_size, DISK - 100);
	memset(last, 0xee, 512);
	CHECK_EQ(req(9, VIRTIO_BLK_T_IN, cap - 1, BUF + 4096, 512, true), 513);
	CHECK_EQ(status(9), VIRTIO_BLK_S_OK);
	for (i = 0; i < 512; i++)
		if (last[i] != (i < 412 ? (uint8_t)((DISK - 512 + i) * 7 % 251) :
		    0))
			break;
	CHECK_EQ(i, 512);
	CHECK_EQ(req(12, VIRTIO_BLK_T_OUT, cap - 1, BUF, 512, false), 1);
	CHECK_EQ(status(12), VIRTIO_BLK_S_OK);
	CHECK_EQ(stat(img, &st), 0);
	CHECK_EQ(st.st_size, DISK);
	teardown();
}

TEST(end_of_disk_io_uring)
{
	end_of_disk("io_uring");
}

TEST(end_of_disk_thread)
{
	end_of_disk("thread");
}

TEST(io_uring_engine)
{
	blk_io("io_uring");
}

TEST(thread_engine)
{
	blk_io("thread");
}

TEST(read_only)
{
	setup("auto", "pci.0.6.0.ro", "true");
	CHECK(vdrv_device_features(&d) & (1ULL << 5));	/* VIRTIO_BLK_F_RO */
	CHECK_EQ(vdrv_device_features(&d) & (1ULL << 13), 0); /* no DISCARD */
	CHECK_EQ(req(0, VIRTIO_BLK_T_OUT, 0, BUF, 512, false), 1);
	CHECK_EQ(status(0), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(req(3, VIRTIO_BLK_T_IN, 0, BUF, 512, true), 513);
	CHECK_EQ(status(3), VIRTIO_BLK_S_OK);
	teardown();
}

TEST(legacy_options_and_errors)
{
	struct config_node *n;

	config_init();
	CHECK_EQ(pci_parse_slot("3,virtio-blk,/x.img,ro,sectorsize=4096/8192,"
	    "ser=ABC"), 0);
	n = config_find_node(NULL, "pci.0.3.0");
	CHECK_STR(config_get(n, "path"), "/x.img");
	CHECK_STR(config_get(n, "ro"), "true");
	CHECK_STR(config_get(n, "sectorsize"), "4096/8192");
	CHECK_STR(config_get(n, "ser"), "ABC");
	CHECK_EQ(pci_parse_slot("4,virtio-blk,path=/y.img,nocache"), 0);
	CHECK_STR(config_get(NULL, "pci.0.4.0.path"), "/y.img");
	config_fini();
	/* A missing image: -ENOENT (exit 4); no path: -EINVAL (exit 64). */
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.6.0.device", "virtio-blk"), 0);
	CHECK_EQ(config_set(NULL, "pci.0.6.0.path", "/nonexistent/disk.img"), 0);
	fake_vm_init(&fv, 1 * MiB, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), -ENOENT);
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
	config_init();
	CHECK_EQ(config_set(NULL, "pci.0.6.0.device", "virtio-blk"), 0);
	fake_vm_init(&fv, 1 * MiB, 1);
	CHECK_EQ(pci_init(&fv.dc, &win), -EINVAL);
	pci_fini();
	fake_vm_fini(&fv);
	config_fini();
}

/* The parser alone, one row per hostile header. */
TEST(parser_rows)
{
	static const struct {
		const char *name;
		uint32_t type;
		uint64_t sector;
		uint32_t rlen, wlen;	/* readable, writable bytes */
		enum vblk_op op;
		uint8_t status;
	} rows[] = {
		{ "read ok", 0, 0, 16, 513, VBLK_READ, 0 },
		{ "read no status", 0, 0, 16, 0, VBLK_DONE, 1 },
		{ "short header", 0, 0, 15, 513, VBLK_DONE, 1 },
		{ "read with extra readable", 0, 0, 32, 513, VBLK_DONE, 1 },
		{ "read odd length", 0, 0, 16, 512, VBLK_DONE, 1 },
		{ "read last sector", 0, 2047, 16, 513, VBLK_READ, 0 },
		{ "read past end", 0, 2048, 16, 513, VBLK_DONE, 1 },
		{ "read straddles end", 0, 2047, 16, 1025, VBLK_DONE, 1 },
		{ "read sector overflow", 0, ~0ULL, 16, 513, VBLK_DONE, 1 },
		{ "read sector*512 wraps", 0, 1ULL << 55, 16, 513, VBLK_DONE, 1 },
		{ "write ok", 1, 4, 16 + 1024, 1, VBLK_WRITE, 0 },
		{ "write with data in writable", 1, 4, 16, 513, VBLK_DONE, 1 },
		{ "write past end", 1, 2047, 16 + 1024, 1, VBLK_DONE, 1 },
		{ "flush", 4, 0, 16, 1, VBLK_FLUSH, 0 },
		{ "get id", 8, 0, 16, 21, VBLK_GET_ID, 0 },
		{ "get id short", 8, 0, 16, 5, VBLK_GET_ID, 0 },
		{ "unknown type", 77, 0, 16, 1, VBLK_DONE, 2 },
		{ "discard no segment", 11, 0, 16, 1, VBLK_DONE, 2 },
	};
	struct vblk_limits lim = {
		.capacity = 2048, .blk_size = 512, .flush = true,
		.discard = true, .write_zeroes = true, .max_dwz_sectors = 1024,
	};
	static uint8_t rbuf[4096], wbuf[4096];
	struct iovec iov[2];
	struct vblk_parsed p;
	size_t i;

	for (i = 0; i < nitems(rows); i++) {
		memset(rbuf, 0, sizeof(rbuf));
		memcpy(rbuf, &rows[i].type, 4);
		memcpy(rbuf + 8, &rows[i].sector, 8);
		iov[0].iov_base = rbuf;
		iov[0].iov_len = rows[i].rlen;
		iov[1].iov_base = wbuf;
		iov[1].iov_len = rows[i].wlen;
		vblk_parse(iov, 1, rows[i].wlen ? 1 : 0, rows[i].rlen,
		    rows[i].wlen, &lim, &p);
		if (p.op != rows[i].op || (p.op == VBLK_DONE &&
		    p.status != rows[i].status)) {
			printf("  row \"%s\": op %d status %d\n", rows[i].name,
			    p.op, p.status);
			test_failed++;
		}
	}
	/* A read-only disk refuses writes and write-zeroes. */
	lim.ro = true;
	memset(rbuf, 0, 16);
	rbuf[0] = 1;
	iov[0].iov_len = 16 + 512;
	iov[1].iov_len = 1;
	vblk_parse(iov, 1, 1, 16 + 512, 1, &lim, &p);
	CHECK_EQ(p.op, VBLK_DONE);
	CHECK_EQ(p.status, VIRTIO_BLK_S_IOERR);
}

TEST_MAIN()
