/*
 * test_bzimage.c: bzImage header parsing and the zero page, with images
 * built here in memory; the zero page is checked both at raw offsets
 * and through the kernel's own struct boot_params (<asm/bootparam.h>).
 * With KHYVE_TEST_KERNEL naming a real bzImage, its payload is also
 * decompressed into an ELF vmlinux.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include "arch/x86/bzimage.h"
#include "decompress.h"
#include "test.h"

#define SETUP_SECTS	4
#define SETUP_SIZE	((SETUP_SECTS + 1) * 512)
#define PM_SIZE		0x800		/* protected-mode part */
#define PAYLOAD_OFF	0x100
#define PAYLOAD_LEN	0x300
#define IMG_SIZE	(SETUP_SIZE + PM_SIZE)

static uint8_t img[IMG_SIZE + 64];
static char err[160];

static void
w16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void
w32(uint8_t *p, size_t off, uint32_t v)
{
	w16(p, off, (uint16_t)v);
	w16(p, off + 2, (uint16_t)(v >> 16));
}

static uint32_t
r32(const uint8_t *p, size_t off)
{
	return ((uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
	    (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24);
}

static uint64_t
r64(const uint8_t *p, size_t off)
{
	return ((uint64_t)r32(p, off) | (uint64_t)r32(p, off + 4) << 32);
}

/* A minimal protocol 2.15 bzImage, as a Linux 6.x build lays it out. */
static void
mkimg(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = SETUP_SECTS;
	w32(img, 0x1f4, PM_SIZE / 16);		/* syssize */
	w16(img, 0x1fa, 0xffff);		/* vid_mode */
	w16(img, 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	w16(img, 0x206, 0x020f);
	img[0x211] = BZ_LOADED_HIGH | BZ_QUIET_FLAG;
	w32(img, 0x214, 0x100000);		/* code32_start */
	w32(img, 0x22c, 0x7fffffff);		/* initrd_addr_max */
	w32(img, 0x230, 0x200000);		/* kernel_alignment */
	img[0x234] = 1;				/* relocatable */
	img[0x235] = 21;			/* min_alignment */
	w16(img, 0x236, BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
	w32(img, 0x238, 2047);			/* cmdline_size */
	w32(img, 0x248, PAYLOAD_OFF);
	w32(img, 0x24c, PAYLOAD_LEN);
	w32(img, 0x258, 0x1000000);		/* pref_address */
	w32(img, 0x260, 0x3378000);		/* init_size */
	w32(img, 0x268, 0x12345);		/* kernel_info_offset */
	img[0x26c] = 0xcc;			/* first byte past the header */
	memcpy(img + SETUP_SIZE + PAYLOAD_OFF, "\x02\x21\x4c\x18", 4);
}

static int
parse(size_t len, struct bzimage_info *bi)
{
	err[0] = '\0';
	return (bzimage_parse(img, len, bi, err, sizeof(err)));
}

static void
expect_reject(size_t len, int want, const char *msg)
{
	struct bzimage_info bi;

	CHECK_EQ(parse(len, &bi), want);
	CHECK(strstr(err, msg) != NULL);
	if (strstr(err, msg) == NULL)
		printf("  message \"%s\" lacks \"%s\"\n", err, msg);
}

TEST(parse_good)
{
	struct bzimage_info bi;

	mkimg();
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	CHECK_EQ(bi.bi_version, 0x020f);
	CHECK_EQ(bi.bi_setup_size, SETUP_SIZE);
	CHECK(bi.bi_kernel == img + SETUP_SIZE);
	CHECK_EQ(bi.bi_kernel_len, PM_SIZE);
	CHECK(bi.bi_payload == img + SETUP_SIZE + PAYLOAD_OFF);
	CHECK_EQ(bi.bi_payload_len, PAYLOAD_LEN);
	CHECK_EQ(decompress_detect(bi.bi_payload, bi.bi_payload_len),
	    DECOMP_LZ4);
	CHECK_EQ(bi.bi_pref_address, 0x1000000);
	CHECK_EQ(bi.bi_init_size, 0x3378000);
	CHECK_EQ(bi.bi_kernel_alignment, 0x200000);
	CHECK(bi.bi_relocatable);
	CHECK_EQ(bi.bi_initrd_addr_max, 0x7fffffff);
	CHECK_EQ(bi.bi_cmdline_size, 2047);
	CHECK_EQ(bi.bi_code32_start, 0x100000);
	CHECK_EQ(bi.bi_xloadflags, 3);
	CHECK_EQ(bi.bi_loadflags, BZ_LOADED_HIGH | BZ_QUIET_FLAG);
	CHECK_EQ(bi.bi_hdr_len, 0x26c - 0x1f1);
	CHECK(memcmp(bi.bi_hdr, img + 0x1f1, bi.bi_hdr_len) == 0);
	/* A file with bytes after syssize (a signature) is fine. */
	CHECK_EQ(parse(IMG_SIZE + 64, &bi), 0);
}

TEST(setup_sects_zero_means_four)
{
	struct bzimage_info bi;

	mkimg();
	img[0x1f1] = 0;
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	CHECK_EQ(bi.bi_setup_size, 5 * 512);
	img[0x1f1] = 2;		/* now the payload moves 2 sectors down */
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	CHECK_EQ(bi.bi_setup_size, 3 * 512);
	CHECK(bi.bi_payload == img + 3 * 512 + PAYLOAD_OFF);
}

TEST(not_a_bzimage)
{
	mkimg();
	expect_reject(0x100, -ENOEXEC, "not a bzImage");
	w16(img, 0x1fe, 0x55aa);
	expect_reject(IMG_SIZE, -ENOEXEC, "boot sector signature");
	mkimg();
	img[0x205] = 'X';
	expect_reject(IMG_SIZE, -ENOEXEC, "HdrS");
}

TEST(too_old_protocol)
{
	mkimg();
	w16(img, 0x206, 0x020b);
	expect_reject(IMG_SIZE, -EINVAL, "boot protocol 2.11 is too old "
	    "(need 2.12)");
	w16(img, 0x206, 0x020c);
	expect_reject(IMG_SIZE, 0, "");
}

TEST(no_64bit_entry)
{
	mkimg();
	w16(img, 0x236, BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
	expect_reject(IMG_SIZE, -EINVAL, "kernel has no 64-bit entry point");
	mkimg();
	img[0x211] = 0;
	expect_reject(IMG_SIZE, -EINVAL, "not loaded high");
}

TEST(truncated)
{
	mkimg();
	/* Inside the protected-mode part, then inside the setup code. */
	expect_reject(IMG_SIZE - 1, -EINVAL, "truncated: the kernel");
	expect_reject(SETUP_SIZE - 1, -EINVAL, "truncated: the setup code");
	expect_reject(0x240, -EINVAL, "truncated: the setup code");
	w32(img, 0x1f4, 0);
	expect_reject(IMG_SIZE, -EINVAL, "truncated: the kernel");
	w32(img, 0x1f4, 0xffffffff);	/* syssize * 16 > 2^32 */
	expect_reject(IMG_SIZE, -EINVAL, "truncated: the kernel");
	mkimg();
	img[0x1f1] = 0xff;		/* 128 KiB of setup code */
	expect_reject(IMG_SIZE, -EINVAL, "truncated: the setup code");
}

TEST(payload_bounds)
{
	mkimg();
	w32(img, 0x24c, PM_SIZE - PAYLOAD_OFF);		/* ends at the end */
	expect_reject(IMG_SIZE, 0, "");
	w32(img, 0x24c, PM_SIZE - PAYLOAD_OFF + 1);
	expect_reject(IMG_SIZE, -EINVAL,
	    "payload (offset 0x100, length 0x701)");
	w32(img, 0x248, 0xffffffff);
	w32(img, 0x24c, 0xffffffff);
	expect_reject(IMG_SIZE, -EINVAL, "is not inside the protected-mode");
	w32(img, 0x248, PM_SIZE);
	w32(img, 0x24c, 1);
	expect_reject(IMG_SIZE, -EINVAL, "is not inside the protected-mode");
	w32(img, 0x248, 0);
	w32(img, 0x24c, 0);
	expect_reject(IMG_SIZE, -EINVAL, "length 0x0");
}

TEST(header_consistency)
{
	mkimg();
	img[0x201] = 0x50;		/* header ends before init_size */
	expect_reject(IMG_SIZE, -EINVAL, "setup header ends at 0x252");
	img[0x201] = 0xa0;		/* would run into the e820 area */
	expect_reject(IMG_SIZE, -EINVAL, "setup header ends at 0x2a2");
	mkimg();
	w32(img, 0x230, 0x300000);
	expect_reject(IMG_SIZE, -EINVAL, "kernel_alignment 0x300000");
	img[0x234] = 0;			/* not relocatable: not used */
	expect_reject(IMG_SIZE, 0, "");
	mkimg();
	w32(img, 0x260, 0);
	expect_reject(IMG_SIZE, -EINVAL, "init_size is 0");
}

static const struct e820_entry map[] = {
	{ 0, 0x9fc00, E820_RAM },
	{ 0x9fc00, 0x60400, E820_RESERVED },
	{ 0x100000, 0x7ff00000 - 0x100000, E820_RAM },
	{ 0x100000000ULL, 0x40000000, E820_RAM },
};

TEST(zero_page_offsets)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	struct boot_params_args a = {
		.cmdline_gpa = 0x20000, .cmdline_len = 40,
		.initrd_gpa = 0x7000000, .initrd_size = 0x123456,
		.rsdp_gpa = 0xf0000, .e820 = map, .e820_count = nitems(map),
	};
	struct bzimage_info bi;
	size_t i;

	mkimg();
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	memset(zp, 0xee, sizeof(zp));
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), 0);
	CHECK(memcmp(zp + 0x1f1, img + 0x1f1, 0x210 - 0x1f1) == 0);
	CHECK(memcmp(zp + 0x202, "HdrS", 4) == 0);
	CHECK_EQ(r32(zp, 0x268), 0x12345);	/* copied to the end */
	CHECK_EQ(zp[0x26c], 0);			/* and no further */
	CHECK_EQ(zp[0x1ef], 0);			/* sentinel */
	CHECK_EQ(zp[0x210], 0xff);		/* type_of_loader */
	CHECK_EQ(zp[0x211], BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
	CHECK_EQ(zp[0x224] | zp[0x225] << 8, 0xde00);	/* heap_end_ptr */
	CHECK_EQ(r32(zp, 0x228), 0x20000);	/* cmd_line_ptr */
	CHECK_EQ(r32(zp, 0x0c8), 0);		/* ext_cmd_line_ptr */
	CHECK_EQ(r32(zp, 0x218), 0x7000000);	/* ramdisk_image */
	CHECK_EQ(r32(zp, 0x21c), 0x123456);	/* ramdisk_size */
	CHECK_EQ(r64(zp, 0x070), 0xf0000);	/* acpi_rsdp_addr */
	CHECK_EQ(zp[0x1e8], nitems(map));	/* e820_entries */
	for (i = 0; i < nitems(map); i++) {
		CHECK_EQ(r64(zp, 0x2d0 + 20 * i), map[i].addr);
		CHECK_EQ(r64(zp, 0x2d0 + 20 * i + 8), map[i].size);
		CHECK_EQ(r32(zp, 0x2d0 + 20 * i + 16), map[i].type);
	}
	CHECK_EQ(zp[0x2d0 + 20 * nitems(map)], 0);
	CHECK_EQ(zp[BOOT_PARAMS_SIZE - 1], 0);
}

/* The same page read through the kernel's struct boot_params. */
TEST(zero_page_struct)
{
	static struct boot_params bp;
	struct boot_params_args a = {
		.cmdline_gpa = 0x123456789000ULL, .cmdline_len = 2047,
		.initrd_gpa = 0x200000000ULL, .initrd_size = 0x100000001ULL,
		.rsdp_gpa = 0xe0000, .e820 = map, .e820_count = nitems(map),
	};
	struct bzimage_info bi;

	_Static_assert(sizeof(bp) == BOOT_PARAMS_SIZE, "boot_params size");
	mkimg();
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	CHECK_EQ(bzimage_boot_params((uint8_t *)&bp, &bi, &a), 0);
	CHECK_EQ(bp.hdr.version, 0x020f);
	CHECK_EQ(bp.hdr.boot_flag, 0xaa55);
	CHECK_EQ(bp.hdr.type_of_loader, 0xff);
	CHECK_EQ(bp.hdr.cmd_line_ptr, 0x56789000);
	CHECK_EQ(bp.ext_cmd_line_ptr, 0x1234);
	CHECK_EQ(bp.hdr.ramdisk_image, 0);
	CHECK_EQ(bp.ext_ramdisk_image, 2);
	CHECK_EQ(bp.hdr.ramdisk_size, 1);
	CHECK_EQ(bp.ext_ramdisk_size, 1);
	CHECK_EQ(bp.acpi_rsdp_addr, 0xe0000);
	CHECK_EQ(bp.hdr.init_size, 0x3378000);
	CHECK_EQ(bp.hdr.xloadflags, 3);
	CHECK_EQ(bp.hdr.hardware_subarch, 0);
	CHECK_EQ(bp.e820_entries, nitems(map));
	CHECK_EQ(bp.e820_table[3].addr, 0x100000000ULL);
	CHECK_EQ(bp.e820_table[2].size, 0x7ff00000 - 0x100000);
	CHECK_EQ(bp.e820_table[1].type, E820_RESERVED);
	CHECK_EQ(bp.sentinel, 0);
}

TEST(zero_page_limits)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	static struct e820_entry big[BOOT_PARAMS_E820_MAX + 1];
	struct boot_params_args a = { .cmdline_gpa = 0x20000 };
	struct bzimage_info bi;

	mkimg();
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	/* cmdline_size counts characters, NUL excluded (boot.rst). */
	a.cmdline_len = 2047;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), 0);
	a.cmdline_len = 2048;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.cmdline_len = 10;
	a.cmdline_gpa = 0;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.cmdline_gpa = UINT64_MAX - 5;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.cmdline_gpa = 0x20000;

	/* 128 map entries fit, 129 do not. */
	a.e820 = big;
	a.e820_count = BOOT_PARAMS_E820_MAX;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), 0);
	CHECK_EQ(zp[0x1e8], 128);
	a.e820_count = BOOT_PARAMS_E820_MAX + 1;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -E2BIG);
	a.e820_count = 0;

	/* Without XLF_CAN_BE_LOADED_ABOVE_4G: initrd_addr_max and 4 GiB. */
	a.initrd_gpa = 0x7ff00000;
	a.initrd_size = 0x100000;		/* last byte 0x7fffffff */
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), 0);
	a.initrd_gpa = 0x200000000ULL;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), 0);
	bi.bi_xloadflags &= (uint16_t)~BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.initrd_gpa = 0x7ff00001;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.initrd_gpa = 0x7ff00000;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), 0);
	a.cmdline_gpa = 0x100000000ULL;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.cmdline_gpa = 0x20000;
	a.initrd_gpa = 0;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
	a.initrd_gpa = UINT64_MAX - 0x1000;
	bi.bi_xloadflags |= BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	CHECK_EQ(bzimage_boot_params(zp, &bi, &a), -EINVAL);
}

TEST(initrd_placement)
{
	struct bzimage_info bi;
	uint64_t gpa = 0;

	mkimg();
	CHECK_EQ(parse(IMG_SIZE, &bi), 0);
	/* Top of 256 MiB of low RAM, page-aligned down. */
	CHECK_EQ(bzimage_initrd_addr(&bi, 256 * MiB, 10 * MiB + 1,
	    64 * MiB, &gpa), 0);
	CHECK_EQ(gpa, 246 * MiB - 4096);
	/* initrd_addr_max below lowmem wins. */
	bi.bi_initrd_addr_max = 0x37ffffff;
	CHECK_EQ(bzimage_initrd_addr(&bi, 3 * GiB, 16 * MiB, 64 * MiB, &gpa),
	    0);
	CHECK_EQ(gpa, 0x38000000 - 16 * MiB);
	/* Exactly down to the (rounded-up) kernel end, then one page less. */
	CHECK_EQ(bzimage_initrd_addr(&bi, 128 * MiB, 64 * MiB,
	    64 * MiB - 100, &gpa), 0);
	CHECK_EQ(gpa, 64 * MiB);
	CHECK_EQ(bzimage_initrd_addr(&bi, 128 * MiB, 64 * MiB, 64 * MiB + 1,
	    &gpa), -ENOSPC);
	CHECK_EQ(bzimage_initrd_addr(&bi, 128 * MiB, 129 * MiB, 0, &gpa),
	    -ENOSPC);
	CHECK_EQ(bzimage_initrd_addr(&bi, 128 * MiB, 1, UINT64_MAX, &gpa),
	    -ENOSPC);
	CHECK_EQ(bzimage_initrd_addr(&bi, 128 * MiB, 0, 0, &gpa), -EINVAL);
}

/* The real thing: $KHYVE_TEST_KERNEL names a bzImage. */
TEST(real_kernel)
{
	const char *path = getenv("KHYVE_TEST_KERNEL");
	struct bzimage_info bi;
	uint8_t *buf, *elf;
	size_t len, elflen;
	void *out;
	FILE *f;
	long n;
	int rc;

	if (path == NULL || *path == '\0')
		TEST_SKIP("KHYVE_TEST_KERNEL is not set (a bzImage path)");
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	CHECK(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	len = (size_t)n;
	rc = bzimage_parse(buf, len, &bi, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc != 0) {
		printf("  %s: %s\n", path, err);
		free(buf);
		return;
	}
	printf("  %s: protocol %u.%u, payload %s, %zu bytes\n", path,
	    bi.bi_version >> 8, bi.bi_version & 0xff,
	    decompress_fmt_name(decompress_detect(bi.bi_payload,
	    bi.bi_payload_len)), bi.bi_payload_len);
	rc = decompress(bi.bi_payload, bi.bi_payload_len, 512 * MiB, &out,
	    &elflen, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc != 0) {
		printf("  decompress: %s\n", err);
		free(buf);
		return;
	}
	elf = out;
	CHECK(elflen > 64 && memcmp(elf, "\x7f" "ELF\x02\x01", 6) == 0);
	/* The build's size trailer: the last 4 payload bytes (mkpiggy.c). */
	CHECK_EQ(r32(bi.bi_payload, bi.bi_payload_len - 4), elflen);
	printf("  vmlinux: %zu bytes\n", elflen);
	free(out);
	free(buf);
}

TEST_MAIN()
