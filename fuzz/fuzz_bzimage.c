/*
 * fuzz_bzimage.c: bzImage parsing and the zero page on arbitrary input.
 *
 * When the input parses, the results must stay inside it, and the zero
 * page and initrd placement run with arguments taken from the image's
 * own fields, so their range checks see extreme values too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arch/x86/bzimage.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct e820_entry map[] = {
	{ 0, 0x9fc00, E820_RAM },
	{ 0x100000, 0x3ff00000, E820_RAM },
	{ 0x100000000ULL, 0x40000000, E820_RAM },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t zp[BOOT_PARAMS_SIZE];
	struct boot_params_args a;
	struct bzimage_info bi;
	char err[160];
	uint64_t gpa;
	int rc;

	err[0] = '\0';
	rc = bzimage_parse(data, size, &bi, err, sizeof(err));
	if (rc != 0) {
		if (err[0] == '\0')
			abort();
		return (0);
	}
	if (bi.bi_kernel < data || bi.bi_kernel_len > size ||
	    bi.bi_kernel > data + size - bi.bi_kernel_len ||
	    bi.bi_payload < bi.bi_kernel || bi.bi_payload_len >
	    bi.bi_kernel_len || bi.bi_payload > bi.bi_kernel +
	    bi.bi_kernel_len - bi.bi_payload_len || bi.bi_hdr_len > BZ_HDR_MAX)
		abort();

	memset(&a, 0, sizeof(a));
	a.cmdline_gpa = bi.bi_pref_address;
	a.cmdline_len = bi.bi_cmdline_size;
	a.initrd_size = bi.bi_init_size;
	a.rsdp_gpa = 0xf0000;
	a.e820 = map;
	a.e820_count = nitems(map);
	if (bzimage_initrd_addr(&bi, 1 * GiB, a.initrd_size,
	    bi.bi_pref_address, &gpa) == 0) {
		if (gpa + a.initrd_size > 1 * GiB || gpa % 4096 != 0)
			abort();
		a.initrd_gpa = gpa;
	} else {
		a.initrd_gpa = bi.bi_code32_start;
	}
	rc = bzimage_boot_params(zp, &bi, &a);
	if (rc == 0 && (zp[0x210] != 0xff || zp[0x1e8] != nitems(map)))
		abort();
	/* The same with a command line and an initrd in the top 4 GiB. */
	a.cmdline_gpa = UINT64_MAX - bi.bi_cmdline_size;
	a.initrd_gpa = UINT64_MAX - bi.bi_initrd_addr_max;
	(void)!bzimage_boot_params(zp, &bi, &a);
	return (0);
}
