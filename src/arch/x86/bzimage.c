/*
 * bzimage.c: parsing a bzImage's setup header and building the zero
 * page for the 64-bit boot protocol.
 *
 * Offsets are from Linux Documentation/arch/x86/boot.rst ("THE REAL-MODE
 * KERNEL HEADER") and arch/x86/include/uapi/asm/bootparam.h (struct
 * boot_params).  The setup header sits at 0x1f1 both in the image and
 * in boot_params, so one offset names a field in either.  Every value is
 * read with explicit little-endian loads from a buffer whose length has
 * been checked first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "arch/x86/bzimage.h"

/* Setup header fields (boot.rst, offsets from the image start). */
#define H_SETUP_SECTS		0x1f1	/* u8, 0 means 4 */
#define H_SYSSIZE		0x1f4	/* u32, 16-byte paragraphs */
#define H_BOOT_FLAG		0x1fe	/* u16, 0xaa55 */
#define H_JUMP			0x200	/* eb xx: xx = header length - 2 */
#define H_HEADER		0x202	/* "HdrS" */
#define H_VERSION		0x206	/* u16 */
#define H_TYPE_OF_LOADER	0x210	/* u8 */
#define H_LOADFLAGS		0x211	/* u8 */
#define H_CODE32_START		0x214	/* u32 */
#define H_RAMDISK_IMAGE		0x218	/* u32 */
#define H_RAMDISK_SIZE		0x21c	/* u32 */
#define H_HEAP_END_PTR		0x224	/* u16 */
#define H_CMD_LINE_PTR		0x228	/* u32 */
#define H_INITRD_ADDR_MAX	0x22c	/* u32 */
#define H_KERNEL_ALIGNMENT	0x230	/* u32 */
#define H_RELOCATABLE		0x234	/* u8 */
#define H_XLOADFLAGS		0x236	/* u16 */
#define H_CMDLINE_SIZE		0x238	/* u32 */
#define H_HARDWARE_SUBARCH	0x23c	/* u32 */
#define H_SUBARCH_DATA		0x240	/* u64 */
#define H_PAYLOAD_OFFSET	0x248	/* u32, from the protected-mode start */
#define H_PAYLOAD_LENGTH	0x24c	/* u32 */
#define H_SETUP_DATA		0x250	/* u64 */
#define H_PREF_ADDRESS		0x258	/* u64 */
#define H_INIT_SIZE		0x260	/* u32 */
#define H_END_MIN		0x264	/* 2.12 headers end past init_size */

/* Zero page fields outside the setup header (bootparam.h). */
#define ZP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define ZP_EXT_RAMDISK_IMAGE	0x0c0	/* u32, bits 63:32 */
#define ZP_EXT_RAMDISK_SIZE	0x0c4	/* u32, bits 63:32 */
#define ZP_EXT_CMD_LINE_PTR	0x0c8	/* u32, bits 63:32 */
#define ZP_E820_ENTRIES		0x1e8	/* u8 */
#define ZP_E820_TABLE		0x2d0	/* struct boot_e820_entry[128] */
#define ZP_E820_ENTRY_SIZE	20	/* packed: u64 addr, size; u32 type */

#define LOADER_UNDEFINED	0xff	/* type_of_loader: no assigned id */
/*
 * boot.rst "SAMPLE BOOT CONFIGURATION": heap_end = 0xe000 for a kernel
 * loaded high, heap_end_ptr = heap_end - 0x200.  Only the real-mode
 * setup code uses the heap, which the 64-bit entry skips.
 */
#define HEAP_END_PTR		0xde00
#define SECTOR			512
#define FOUR_GB			(4 * GiB)
#define PAGE			4096

static int bzerr(char *err, size_t errlen, int rc, const char *fmt, ...)
    __printflike(4, 5);

static int
bzerr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return (rc);
}

static uint16_t
ld16(const uint8_t *p, size_t off)
{
	return ((uint16_t)(p[off] | p[off + 1] << 8));
}

static uint32_t
ld32(const uint8_t *p, size_t off)
{
	return ((uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
	    (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24);
}

static uint64_t
ld64(const uint8_t *p, size_t off)
{
	return ((uint64_t)ld32(p, off) | (uint64_t)ld32(p, off + 4) << 32);
}

static void
st16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void
st32(uint8_t *p, size_t off, uint32_t v)
{
	st16(p, off, (uint16_t)v);
	st16(p, off + 2, (uint16_t)(v >> 16));
}

static void
st64(uint8_t *p, size_t off, uint64_t v)
{
	st32(p, off, (uint32_t)v);
	st32(p, off + 4, (uint32_t)(v >> 32));
}

static bool
is_pow2(uint32_t v)
{
	return (v != 0 && (v & (v - 1)) == 0);
}

int
bzimage_parse(const void *buf, size_t len, struct bzimage_info *out,
    char *err, size_t errlen)
{
	const uint8_t *p = buf;
	uint64_t pmlen, poff, plen;
	size_t hdr_end, setup;
	unsigned sects;

	memset(out, 0, sizeof(*out));
	if (len < H_VERSION + 2)
		return (bzerr(err, errlen, -ENOEXEC, "not a bzImage: the file "
		    "is only %zu bytes", len));
	if (ld16(p, H_BOOT_FLAG) != 0xaa55)
		return (bzerr(err, errlen, -ENOEXEC, "not a bzImage: no boot "
		    "sector signature 0xaa55 at 0x1fe"));
	if (memcmp(p + H_HEADER, "HdrS", 4) != 0)
		return (bzerr(err, errlen, -ENOEXEC,
		    "not a bzImage: no \"HdrS\" signature at 0x202"));
	out->bi_version = ld16(p, H_VERSION);
	if (out->bi_version < BZ_MIN_VERSION)
		return (bzerr(err, errlen, -EINVAL,
		    "boot protocol %u.%u is too old (need 2.12)",
		    out->bi_version >> 8, out->bi_version & 0xff));

	/* The jump at 0x200 skips the header, so it gives its length. */
	hdr_end = H_HEADER + (size_t)p[H_JUMP + 1];
	if (hdr_end < H_END_MIN || hdr_end > BZ_HDR_LIMIT)
		return (bzerr(err, errlen, -EINVAL,
		    "setup header ends at 0x%zx, outside 0x%x..0x%x", hdr_end,
		    H_END_MIN, BZ_HDR_LIMIT));
	sects = p[H_SETUP_SECTS] != 0 ? p[H_SETUP_SECTS] : 4;
	setup = ((size_t)sects + 1) * SECTOR;
	if (setup > len || hdr_end > len)
		return (bzerr(err, errlen, -EINVAL, "truncated: the setup code "
		    "needs %zu bytes, the file has %zu", MAX(setup, hdr_end),
		    len));
	if (hdr_end > setup)
		return (bzerr(err, errlen, -EINVAL,
		    "setup header (to 0x%zx) is longer than the setup code "
		    "(0x%zx)", hdr_end, setup));
	pmlen = (uint64_t)ld32(p, H_SYSSIZE) * 16;
	if (pmlen == 0 || pmlen > len - setup)
		return (bzerr(err, errlen, -EINVAL, "truncated: the kernel "
		    "needs %" PRIu64 " bytes after the setup code, the file "
		    "has %zu", pmlen, len - setup));

	out->bi_loadflags = p[H_LOADFLAGS];
	out->bi_xloadflags = ld16(p, H_XLOADFLAGS);
	if (!(out->bi_loadflags & BZ_LOADED_HIGH))
		return (bzerr(err, errlen, -EINVAL, "kernel is not loaded high "
		    "(a zImage)"));
	if (!(out->bi_xloadflags & BZ_XLF_KERNEL_64))
		return (bzerr(err, errlen, -EINVAL,
		    "kernel has no 64-bit entry point"));

	poff = ld32(p, H_PAYLOAD_OFFSET);
	plen = ld32(p, H_PAYLOAD_LENGTH);
	/* Both are 32-bit, so the sum cannot wrap in 64 bits. */
	if (plen == 0 || poff + plen > pmlen)
		return (bzerr(err, errlen, -EINVAL, "payload (offset 0x%" PRIx64
		    ", length 0x%" PRIx64 ") is not inside the protected-mode "
		    "kernel (0x%" PRIx64 " bytes)", poff, plen, pmlen));

	out->bi_relocatable = p[H_RELOCATABLE] != 0;
	out->bi_kernel_alignment = ld32(p, H_KERNEL_ALIGNMENT);
	if (out->bi_relocatable && !is_pow2(out->bi_kernel_alignment))
		return (bzerr(err, errlen, -EINVAL, "kernel_alignment 0x%"
		    PRIx32 " is not a power of two",
		    out->bi_kernel_alignment));
	out->bi_init_size = ld32(p, H_INIT_SIZE);
	if (out->bi_init_size == 0)
		return (bzerr(err, errlen, -EINVAL, "init_size is 0"));

	out->bi_setup_size = setup;
	out->bi_kernel = p + setup;
	out->bi_kernel_len = (size_t)pmlen;
	out->bi_payload = p + setup + poff;
	out->bi_payload_len = (size_t)plen;
	out->bi_pref_address = ld64(p, H_PREF_ADDRESS);
	out->bi_initrd_addr_max = ld32(p, H_INITRD_ADDR_MAX);
	out->bi_cmdline_size = ld32(p, H_CMDLINE_SIZE);
	out->bi_code32_start = ld32(p, H_CODE32_START);
	out->bi_hdr_len = hdr_end - BZ_HDR_OFF;
	memcpy(out->bi_hdr, p + BZ_HDR_OFF, out->bi_hdr_len);
	return (0);
}

/* [gpa, gpa + len) does not wrap and, unless high is allowed, ends <= 4 GiB. */
static bool
range_ok(uint64_t gpa, uint64_t len, bool high)
{
	if (gpa > UINT64_MAX - len)
		return (false);
	return (high || gpa + len <= FOUR_GB);
}

int
bzimage_boot_params(uint8_t zp[BOOT_PARAMS_SIZE],
    const struct bzimage_info *bi, const struct boot_params_args *a)
{
	bool high = (bi->bi_xloadflags & BZ_XLF_CAN_BE_LOADED_ABOVE_4G) != 0;
	uint8_t *e;
	uint8_t lf;
	size_t i;

	if (bi->bi_hdr_len == 0 || bi->bi_hdr_len > BZ_HDR_MAX)
		return (-EINVAL);
	if (a->e820_count > BOOT_PARAMS_E820_MAX)
		return (-E2BIG);
	if (a->e820_count > 0 && a->e820 == NULL)
		return (-EINVAL);
	/* boot.rst: cmdline_size excludes the terminating zero. */
	if (a->cmdline_len > bi->bi_cmdline_size)
		return (-EINVAL);
	if (a->cmdline_len > 0 && a->cmdline_gpa == 0)
		return (-EINVAL);
	if (a->cmdline_gpa != 0 &&
	    !range_ok(a->cmdline_gpa, (uint64_t)a->cmdline_len + 1, high))
		return (-EINVAL);
	if (a->initrd_size > 0) {
		/* The kernel ignores an initrd at address 0 (setup.c). */
		if (a->initrd_gpa == 0 ||
		    !range_ok(a->initrd_gpa, a->initrd_size, high))
			return (-EINVAL);
		if (!high && a->initrd_gpa + a->initrd_size - 1 >
		    bi->bi_initrd_addr_max)
			return (-EINVAL);
	}

	/* Start from zeros: sentinel (0x1ef) 0 says the loader did so. */
	memset(zp, 0, BOOT_PARAMS_SIZE);
	memcpy(zp + BZ_HDR_OFF, bi->bi_hdr, bi->bi_hdr_len);

	zp[H_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	/*
	 * Keep LOADED_HIGH; the heap is usable; no QUIET_FLAG, so early
	 * messages show; KASLR_FLAG is the decompressor's report of having
	 * randomised, and it did not run.
	 */
	lf = zp[H_LOADFLAGS];
	lf |= BZ_CAN_USE_HEAP;
	lf &= (uint8_t)~(BZ_QUIET_FLAG | BZ_KASLR_FLAG);
	zp[H_LOADFLAGS] = lf;
	st16(zp, H_HEAP_END_PTR, HEAP_END_PTR);
	st32(zp, H_HARDWARE_SUBARCH, 0);	/* X86_SUBARCH_PC */
	st64(zp, H_SUBARCH_DATA, 0);
	st64(zp, H_SETUP_DATA, 0);		/* no setup_data list */

	/* 64-bit addresses are split: low half in the header, high in ext_. */
	st32(zp, H_CMD_LINE_PTR, (uint32_t)a->cmdline_gpa);
	st32(zp, ZP_EXT_CMD_LINE_PTR, (uint32_t)(a->cmdline_gpa >> 32));
	st32(zp, H_RAMDISK_IMAGE, 0);
	st32(zp, H_RAMDISK_SIZE, 0);
	if (a->initrd_size > 0) {
		st32(zp, H_RAMDISK_IMAGE, (uint32_t)a->initrd_gpa);
		st32(zp, ZP_EXT_RAMDISK_IMAGE, (uint32_t)(a->initrd_gpa >> 32));
		st32(zp, H_RAMDISK_SIZE, (uint32_t)a->initrd_size);
		st32(zp, ZP_EXT_RAMDISK_SIZE, (uint32_t)(a->initrd_size >> 32));
	}
	st64(zp, ZP_ACPI_RSDP_ADDR, a->rsdp_gpa);

	zp[ZP_E820_ENTRIES] = (uint8_t)a->e820_count;
	for (i = 0; i < a->e820_count; i++) {
		e = zp + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;
		st64(e, 0, a->e820[i].addr);
		st64(e, 8, a->e820[i].size);
		st32(e, 16, a->e820[i].type);
	}
	return (0);
}

int
bzimage_initrd_addr(const struct bzimage_info *bi, uint64_t lowmem,
    uint64_t size, uint64_t kernel_end, uint64_t *gpa)
{
	uint64_t top, addr, floor;

	if (size == 0)
		return (-EINVAL);
	/* initrd_addr_max is the last byte allowed, so its +1 is the top. */
	top = MIN(lowmem, (uint64_t)bi->bi_initrd_addr_max + 1);
	if (size > top)
		return (-ENOSPC);
	addr = rounddown2(top - size, (uint64_t)PAGE);
	if (kernel_end > UINT64_MAX - (PAGE - 1))
		return (-ENOSPC);
	floor = roundup2(kernel_end, (uint64_t)PAGE);
	if (addr < floor)
		return (-ENOSPC);
	*gpa = addr;
	return (0);
}
