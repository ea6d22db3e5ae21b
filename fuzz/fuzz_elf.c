/*
 * fuzz_elf.c: the ELF kernel loader on arbitrary files.
 *
 * Each input is a candidate kernel image loaded into a 64 MiB fake guest.
 * Whatever the input, elf_load() must return 0, -EINVAL or -ENOEXEC
 * with a message, never touch memory outside the buffer or guest RAM
 * (ASan), and on success describe what it loaded consistently: every
 * byte between lo and hi is RAM above the boot area, and the PVH entry
 * lies inside the image.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "arch/x86/elf.h"
#include "arch/x86/layout.h"

#define RAM_SIZE	(64 * MiB)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_vm fv;
	static int ready;
	struct elf_info info;
	char err[256];
	int rc;

	if (!ready) {
		fake_vm_init(&fv, RAM_SIZE, 1);
		ready = 1;
	}
	memset(err, 0, sizeof(err));
	rc = elf_load(data, size, &fv.mem, &info, err, sizeof(err));
	if (rc != 0) {
		if ((rc != -EINVAL && rc != -ENOEXEC) || err[0] == '\0')
			abort();
		return (0);
	}
	if (elf_probe(data, size) != 1)
		abort();
	if (info.elfclass != 32 && info.elfclass != 64)
		abort();
	if (info.lo < LEGACY_HOLE_END || info.hi <= info.lo ||
	    info.hi > RAM_SIZE)
		abort();
	if (info.has_pvh &&
	    (info.pvh_entry < info.lo || info.pvh_entry >= info.hi))
		abort();
	return (0);
}
