/*
 * bzimage.h: the Linux/x86 boot protocol, for booting a bzImage through
 * its 64-bit entry.
 *
 * khyve does not run the image's own decompressor: it takes the
 * compressed payload (decompress.h), loads the vmlinux ELF inside it
 * (elf.h) and enters startup_64 with a boot_params "zero page" built by
 * bzimage_boot_params().  The header fields and rules are those of
 * Linux Documentation/arch/x86/boot.rst ("THE REAL-MODE KERNEL HEADER",
 * "64-bit BOOT PROTOCOL"); the zero page layout is struct boot_params in
 * arch/x86/include/uapi/asm/bootparam.h.  Protocol 2.12 (Linux 3.8) is
 * the oldest accepted: it is the first with xloadflags, and every field
 * used here exists from there on.
 */
#ifndef BZIMAGE_H
#define BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arch/x86/e820.h"
#include "khyve.h"

#define BOOT_PARAMS_SIZE	4096	/* sizeof(struct boot_params) */
#define BOOT_PARAMS_E820_MAX	128	/* E820_MAX_ENTRIES_ZEROPAGE */

#define BZ_HDR_OFF		0x1f1	/* struct setup_header in both */
#define BZ_HDR_LIMIT		0x290	/* edd_mbr_sig_buffer: hdr + pad end */
#define BZ_HDR_MAX		(BZ_HDR_LIMIT - BZ_HDR_OFF)
#define BZ_MIN_VERSION		0x020c	/* 2.12 */

/* loadflags (bootparam.h). */
#define BZ_LOADED_HIGH		0x01
#define BZ_KASLR_FLAG		0x02
#define BZ_QUIET_FLAG		0x20
#define BZ_KEEP_SEGMENTS	0x40
#define BZ_CAN_USE_HEAP		0x80

/* xloadflags (bootparam.h). */
#define BZ_XLF_KERNEL_64	0x0001	/* 64-bit entry at +0x200 */
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002 /* kernel, boot_params,
					   cmdline, ramdisk may be high */

/* What bzimage_parse() found.  Pointers point into the caller's buffer. */
struct bzimage_info {
	uint16_t	bi_version;	/* protocol, e.g. 0x020f for 2.15 */
	size_t		bi_setup_size;	/* real-mode part, boot sector
					   included: (setup_sects + 1) * 512 */
	const uint8_t	*bi_kernel;	/* protected-mode kernel */
	size_t		bi_kernel_len;	/* its length: syssize * 16 */
	const uint8_t	*bi_payload;	/* compressed vmlinux (+ size
					   trailer) inside bi_kernel */
	size_t		bi_payload_len;	/* payload_length */
	uint64_t	bi_pref_address; /* preferred load address */
	uint32_t	bi_init_size;	/* linear memory the kernel needs
					   from its load address to boot */
	uint32_t	bi_kernel_alignment; /* physical alignment required
					   (a power of two) */
	bool		bi_relocatable;	/* relocatable_kernel */
	uint32_t	bi_initrd_addr_max; /* highest byte an initrd may
					   occupy */
	uint32_t	bi_cmdline_size; /* command line bytes, NUL excluded */
	uint32_t	bi_code32_start; /* 32-bit entry (unused by khyve) */
	uint16_t	bi_xloadflags;	/* BZ_XLF_* */
	uint8_t		bi_loadflags;	/* BZ_LOADED_HIGH ... */
	size_t		bi_hdr_len;	/* bytes of bi_hdr in use */
	uint8_t		bi_hdr[BZ_HDR_MAX]; /* setup header from 0x1f1 up to
					   0x202 + the byte at 0x201 */
};

/*
 * Validate buf[0..len) as a bzImage a 64-bit loader can use and fill
 * *out.  Returns 0; -ENOEXEC when it is not a bzImage at all (no boot
 * sector signature or no "HdrS"); -EINVAL for every other problem (too
 * old a protocol, no 64-bit entry, not loaded high, truncated file,
 * payload outside the protected-mode kernel, inconsistent header).  A
 * one-line message goes to err.  Reads only inside buf; never allocates.
 */
int	bzimage_parse(const void *buf, size_t len, struct bzimage_info *out,
	    char *err, size_t errlen) __must_check;

/* What the zero page must point at, all guest-physical. */
struct boot_params_args {
	uint64_t	cmdline_gpa;	/* NUL-terminated command line; 0
					   with cmdline_len 0: none */
	size_t		cmdline_len;	/* its length without the NUL */
	uint64_t	initrd_gpa;	/* initrd start */
	uint64_t	initrd_size;	/* bytes; 0: no initrd */
	uint64_t	rsdp_gpa;	/* ACPI RSDP; 0: the guest scans */
	const struct e820_entry *e820;	/* memory map */
	size_t		e820_count;	/* entries, <= BOOT_PARAMS_E820_MAX */
};

/*
 * Build the zero page in zp (host memory, all 4096 bytes written): the
 * image's setup header, type_of_loader 0xff, loadflags with
 * CAN_USE_HEAP (and no QUIET or KASLR flags), the command line and
 * initrd pointers split into their low and ext_ high halves, the e820
 * table and acpi_rsdp_addr.  Returns 0, or -EINVAL when the command line
 * is longer than cmdline_size, the initrd ends above initrd_addr_max
 * (or anything lies above 4 GiB, unless the kernel sets
 * XLF_CAN_BE_LOADED_ABOVE_4G), or a range wraps; -E2BIG when the map
 * has more than 128 entries.  The caller copies zp into guest memory
 * and passes its address in %rsi.
 */
int	bzimage_boot_params(uint8_t zp[BOOT_PARAMS_SIZE],
	    const struct bzimage_info *bi, const struct boot_params_args *a)
	    __must_check;

/*
 * Choose where an initrd of `size` bytes goes: as high as possible
 * below both lowmem (the end of RAM below 4 GiB) and initrd_addr_max,
 * page-aligned, at or above kernel_end (the end of the loaded kernel
 * and anything else below it the caller must keep).  Stores the address
 * in *gpa and returns 0; -ENOSPC if it does not fit; -EINVAL for size 0.
 */
int	bzimage_initrd_addr(const struct bzimage_info *bi, uint64_t lowmem,
	    uint64_t size, uint64_t kernel_end, uint64_t *gpa) __must_check;

#endif /* BZIMAGE_H */
