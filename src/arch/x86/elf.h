/*
 * elf.h: loading an x86 ELF kernel image into guest RAM.
 *
 * The caller reads the whole file into memory; elf_load() validates the
 * image completely before it writes anything, then copies each PT_LOAD
 * segment to its physical address (p_paddr, as QEMU and Firecracker do
 * for PVH) and zero-fills the rest of its memory size.  It also looks for
 * the Xen PVH entry note.  docs/boot.md lists what is accepted.
 */
#ifndef ELF_H
#define ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gmem.h"
#include "khyve.h"

#define ELF_MAX_PHNUM		512	/* program headers accepted at most */

/* Xen public/elfnote.h: the 32-bit physical PVH entry point. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_info {
	uint64_t	entry;		/* e_entry */
	bool		has_pvh;	/* XEN_ELFNOTE_PHYS32_ENTRY found */
	uint64_t	pvh_entry;	/* its value (32-bit physical address) */
	uint64_t	lo, hi;		/* lowest / highest guest-physical byte
					   loaded (hi exclusive) */
	int		elfclass;	/* 32 or 64 */
};

/* 1 if buf starts with the ELF magic, else 0.  Reads at most 4 bytes. */
int	elf_probe(const void *buf, size_t len);

/*
 * Load the ELF32 or ELF64 little-endian x86 executable (ET_EXEC) in
 * buf[0..len) into mem and describe it in *out.  Every header, segment
 * and note is checked against the file and against guest RAM first; a
 * segment must lie in RAM at or above 1 MiB (below is the boot area and
 * the legacy hole, layout.h) and must not overlap another.  Returns 0;
 * -ENOEXEC when buf is not ELF at all; -EINVAL for anything else wrong,
 * with a one-line reason in err (errlen bytes, may be 0).  Nothing is
 * written to guest RAM unless the whole image is valid.
 */
int	elf_load(const void *buf, size_t len, struct gmem *mem,
	    struct elf_info *out, char *err, size_t errlen) __must_check;

#endif /* ELF_H */
