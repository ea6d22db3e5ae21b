/*
 * elf.c: the ELF kernel loader.
 *
 * The image is untrusted input: a user may point khyve at any file.
 * Headers are copied out of the buffer into local structures before they
 * are looked at, every offset and size is checked with arithmetic that
 * cannot wrap, and the whole image is validated before the first byte is
 * written to guest RAM.
 *
 * Formats: System V ABI, "ELF Header", "Program Header" and "Note
 * Section" (gABI 4.1, chapters 4-5).  Segments are loaded at p_paddr, the
 * physical address, which is what QEMU's load_elf() and Firecracker's
 * linux-loader use for a PVH kernel; the PVH entry is found by walking
 * the PT_NOTE segments as both of those do.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "arch/x86/elf.h"
#include "arch/x86/layout.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
    "headers are read with the host's byte order");
_Static_assert(sizeof(size_t) >= sizeof(uint64_t),
    "segment sizes are 64-bit");

/* The lowest address a segment may occupy: below is the boot area. */
#define ELF_LOAD_MIN	LEGACY_HOLE_END

/* The class-independent view of the headers used below. */
struct elf_hdr {
	int		eh_class;	/* 32 or 64 */
	uint16_t	eh_type;	/* e_type */
	uint16_t	eh_machine;	/* e_machine */
	uint64_t	eh_entry;	/* e_entry */
	uint64_t	eh_phoff;	/* e_phoff */
	uint16_t	eh_phentsize;	/* e_phentsize */
	uint16_t	eh_phnum;	/* e_phnum */
};

struct elf_phdr {
	uint32_t	ph_type;	/* p_type */
	uint64_t	ph_offset;	/* p_offset */
	uint64_t	ph_paddr;	/* p_paddr */
	uint64_t	ph_filesz;	/* p_filesz */
	uint64_t	ph_memsz;	/* p_memsz */
	uint64_t	ph_align;	/* p_align */
};

static void __printflike(3, 4)
elf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* True when [off, off+size) lies inside a file of len bytes. */
static bool
elf_in_file(uint64_t off, uint64_t size, size_t len)
{
	return (off <= len && size <= len - off);
}

int
elf_probe(const void *buf, size_t len)
{
	return (buf != NULL && len >= SELFMAG &&
	    memcmp(buf, ELFMAG, SELFMAG) == 0);
}

static int
elf_read_hdr(const uint8_t *buf, size_t len, struct elf_hdr *h, char *err,
    size_t errlen)
{
	Elf32_Ehdr e32;
	Elf64_Ehdr e64;

	if (!elf_probe(buf, len)) {
		elf_err(err, errlen, "not an ELF file (bad magic)");
		return (-ENOEXEC);
	}
	if (len < EI_NIDENT) {
		elf_err(err, errlen, "truncated ELF header (%zu bytes)", len);
		return (-EINVAL);
	}
	if (buf[EI_DATA] != ELFDATA2LSB) {
		elf_err(err, errlen, "not a little-endian ELF file");
		return (-EINVAL);
	}
	if (buf[EI_VERSION] != EV_CURRENT) {
		elf_err(err, errlen, "unknown ELF version %u", buf[EI_VERSION]);
		return (-EINVAL);
	}
	switch (buf[EI_CLASS]) {
	case ELFCLASS32:
		if (len < sizeof(e32))
			goto truncated;
		memcpy(&e32, buf, sizeof(e32));
		h->eh_class = 32;
		h->eh_type = e32.e_type;
		h->eh_machine = e32.e_machine;
		h->eh_entry = e32.e_entry;
		h->eh_phoff = e32.e_phoff;
		h->eh_phentsize = e32.e_phentsize;
		h->eh_phnum = e32.e_phnum;
		break;
	case ELFCLASS64:
		if (len < sizeof(e64))
			goto truncated;
		memcpy(&e64, buf, sizeof(e64));
		h->eh_class = 64;
		h->eh_type = e64.e_type;
		h->eh_machine = e64.e_machine;
		h->eh_entry = e64.e_entry;
		h->eh_phoff = e64.e_phoff;
		h->eh_phentsize = e64.e_phentsize;
		h->eh_phnum = e64.e_phnum;
		break;
	default:
		elf_err(err, errlen, "unknown ELF class %u", buf[EI_CLASS]);
		return (-EINVAL);
	}

	if (h->eh_machine != EM_386 && h->eh_machine != EM_X86_64) {
		elf_err(err, errlen, "not an x86 ELF file (machine %u)",
		    h->eh_machine);
		return (-EINVAL);
	}
	/*
	 * ET_DYN is refused: a position-independent image carries no load
	 * address of its own, and khyve does not relocate.
	 */
	if (h->eh_type != ET_EXEC) {
		elf_err(err, errlen, "ELF type %u is not an executable (ET_EXEC)",
		    h->eh_type);
		return (-EINVAL);
	}
	return (0);

truncated:
	elf_err(err, errlen, "truncated ELF header (%zu bytes)", len);
	return (-EINVAL);
}

/* Check the program header table's placement in the file. */
static int
elf_check_phdrs(const struct elf_hdr *h, size_t len, char *err, size_t errlen)
{
	size_t need;

	need = h->eh_class == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (h->eh_phnum == 0) {
		elf_err(err, errlen, "no program headers");
		return (-EINVAL);
	}
	/* PN_XNUM (0xffff) would move the count to section 0: refused too. */
	if (h->eh_phnum > ELF_MAX_PHNUM) {
		elf_err(err, errlen, "too many program headers (%u, limit %d)",
		    h->eh_phnum, ELF_MAX_PHNUM);
		return (-EINVAL);
	}
	if (h->eh_phentsize < need) {
		elf_err(err, errlen, "program header size %u is too small "
		    "(need %zu)", h->eh_phentsize, need);
		return (-EINVAL);
	}
	if (h->eh_phoff >= len) {
		elf_err(err, errlen, "program header table at offset 0x%llx is "
		    "beyond the end of the file (%zu bytes)",
		    (unsigned long long)h->eh_phoff, len);
		return (-EINVAL);
	}
	/* phnum <= 512 and phentsize < 64 KiB: the product cannot wrap. */
	if (!elf_in_file(h->eh_phoff,
	    (uint64_t)h->eh_phnum * h->eh_phentsize, len)) {
		elf_err(err, errlen, "truncated program header table");
		return (-EINVAL);
	}
	return (0);
}

/* Copy program header i out of the (already bounds-checked) table. */
static void
elf_get_phdr(const uint8_t *buf, const struct elf_hdr *h, unsigned i,
    struct elf_phdr *ph)
{
	const uint8_t *p = buf + h->eh_phoff + (size_t)i * h->eh_phentsize;
	Elf32_Phdr p32;
	Elf64_Phdr p64;

	if (h->eh_class == 64) {
		memcpy(&p64, p, sizeof(p64));
		ph->ph_type = p64.p_type;
		ph->ph_offset = p64.p_offset;
		ph->ph_paddr = p64.p_paddr;
		ph->ph_filesz = p64.p_filesz;
		ph->ph_memsz = p64.p_memsz;
		ph->ph_align = p64.p_align;
	} else {
		memcpy(&p32, p, sizeof(p32));
		ph->ph_type = p32.p_type;
		ph->ph_offset = p32.p_offset;
		ph->ph_paddr = p32.p_paddr;
		ph->ph_filesz = p32.p_filesz;
		ph->ph_memsz = p32.p_memsz;
		ph->ph_align = p32.p_align;
	}
}

/* Validate one PT_LOAD segment against the file and guest RAM. */
static int
elf_check_load(const struct elf_phdr *ph, unsigned i, size_t len,
    const struct gmem *mem, char *err, size_t errlen)
{
	unsigned long long addr = ph->ph_paddr, size = ph->ph_memsz;

	if (ph->ph_filesz > ph->ph_memsz) {
		elf_err(err, errlen, "segment %u: file size 0x%llx exceeds "
		    "memory size 0x%llx", i,
		    (unsigned long long)ph->ph_filesz, size);
		return (-EINVAL);
	}
	if (!elf_in_file(ph->ph_offset, ph->ph_filesz, len)) {
		elf_err(err, errlen, "segment %u: data at offset 0x%llx "
		    "(size 0x%llx) is beyond the end of the file (%zu bytes)",
		    i, (unsigned long long)ph->ph_offset,
		    (unsigned long long)ph->ph_filesz, len);
		return (-EINVAL);
	}
	if (size == 0)
		return (0);	/* occupies nothing; skipped */
	if (addr > UINT64_MAX - size) {
		elf_err(err, errlen, "segment %u at 0x%llx (size 0x%llx) wraps "
		    "around the address space", i, addr, size);
		return (-EINVAL);
	}
	if (addr < ELF_LOAD_MIN) {
		elf_err(err, errlen, "segment %u at 0x%llx (size 0x%llx) "
		    "overlaps the boot area or legacy hole below 0x%llx", i,
		    addr, size, (unsigned long long)ELF_LOAD_MIN);
		return (-EINVAL);
	}
	if (!gmem_is_ram(mem, addr, size)) {
		elf_err(err, errlen, "segment %u at 0x%llx (size 0x%llx) is "
		    "outside guest RAM", i, addr, size);
		return (-EINVAL);
	}
	return (0);
}

/*
 * Walk the notes of one PT_NOTE segment (gABI "Note Section"): each is
 * namesz, descsz, type (4 bytes each), the name, the descriptor.  The
 * descriptor and the next note start at the segment's alignment: 4, or
 * 8 for a segment aligned to 8 (ELF64 GNU property notes), which is the
 * rule of binutils' ELF_NOTE_DESC_OFFSET/ELF_NOTE_NEXT_OFFSET
 * (include/elf/external.h).
 */
static int
elf_scan_notes(const uint8_t *buf, const struct elf_phdr *ph, unsigned seg,
    struct elf_info *out, char *err, size_t errlen)
{
	const uint8_t *p = buf + ph->ph_offset;
	uint64_t left = ph->ph_filesz, align, desc_off, next;
	uint32_t word[3], e32;
	uint64_t e64;
	unsigned n;

	align = ph->ph_align == 8 ? 8 : 4;
	/* Each note takes at least 12 bytes, so the loop is bounded. */
	for (n = 0; left >= sizeof(word); n++) {
		memcpy(word, p, sizeof(word));
		/* Sizes are 32-bit: these sums stay far below 2^64. */
		desc_off = roundup2(sizeof(word) + (uint64_t)word[0], align);
		next = roundup2(desc_off + word[1], align);
		if (desc_off + word[1] > left) {
			elf_err(err, errlen, "segment %u: note %u (name size "
			    "0x%x, descriptor size 0x%x) runs past the end of "
			    "the segment", seg, n, word[0], word[1]);
			return (-EINVAL);
		}
		if (word[2] == XEN_ELFNOTE_PHYS32_ENTRY && word[0] == 4 &&
		    memcmp(p + sizeof(word), "Xen", 4) == 0 && !out->has_pvh) {
			if (word[1] == 4) {
				memcpy(&e32, p + desc_off, sizeof(e32));
				e64 = e32;
			} else if (word[1] == 8) {
				memcpy(&e64, p + desc_off, sizeof(e64));
			} else {
				elf_err(err, errlen, "segment %u: PVH entry note "
				    "has a %u-byte value (want 4 or 8)", seg,
				    word[1]);
				return (-EINVAL);
			}
			if (e64 > UINT32_MAX) {
				elf_err(err, errlen, "PVH entry 0x%llx is above "
				    "4 GiB", (unsigned long long)e64);
				return (-EINVAL);
			}
			out->has_pvh = true;
			out->pvh_entry = e64;
		}
		/* The last note's padding may be cut off by the segment. */
		if (next >= left)
			break;
		p += next;
		left -= next;
	}
	return (0);
}

/* Segment i (ph, validated) must not overlap an earlier PT_LOAD. */
static int
elf_check_overlap(const uint8_t *buf, const struct elf_hdr *h, unsigned i,
    const struct elf_phdr *ph, char *err, size_t errlen)
{
	struct elf_phdr other;
	unsigned j;

	/* At most 512 * 511 / 2 comparisons over a whole image. */
	for (j = 0; j < i; j++) {
		elf_get_phdr(buf, h, j, &other);
		if (other.ph_type != PT_LOAD || other.ph_memsz == 0)
			continue;
		/* Both ranges were checked not to wrap. */
		if (ph->ph_paddr < other.ph_paddr + other.ph_memsz &&
		    other.ph_paddr < ph->ph_paddr + ph->ph_memsz) {
			elf_err(err, errlen, "segment %u at 0x%llx (size 0x%llx) "
			    "overlaps segment %u", i,
			    (unsigned long long)ph->ph_paddr,
			    (unsigned long long)ph->ph_memsz, j);
			return (-EINVAL);
		}
	}
	return (0);
}

/* True when gpa is in the file-backed part of a (validated) PT_LOAD. */
static bool
elf_entry_loaded(const uint8_t *buf, const struct elf_hdr *h, uint64_t gpa)
{
	struct elf_phdr ph;
	unsigned i;

	for (i = 0; i < h->eh_phnum; i++) {
		elf_get_phdr(buf, h, i, &ph);
		if (ph.ph_type == PT_LOAD && ph.ph_memsz != 0 &&
		    gpa >= ph.ph_paddr && gpa - ph.ph_paddr < ph.ph_filesz)
			return (true);
	}
	return (false);
}

int
elf_load(const void *image, size_t len, struct gmem *mem,
    struct elf_info *out, char *err, size_t errlen)
{
	const uint8_t *buf = image;
	struct elf_hdr h;
	struct elf_phdr ph;
	uint64_t lo, hi;
	unsigned i, nload;
	int error;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (buf == NULL)
		len = 0;
	if ((error = elf_read_hdr(buf, len, &h, err, errlen)) != 0 ||
	    (error = elf_check_phdrs(&h, len, err, errlen)) != 0)
		return (error);

	/* Pass 1: validate every segment and note; write nothing. */
	lo = UINT64_MAX;
	hi = 0;
	nload = 0;
	for (i = 0; i < h.eh_phnum; i++) {
		elf_get_phdr(buf, &h, i, &ph);
		if (ph.ph_type == PT_NOTE) {
			if (!elf_in_file(ph.ph_offset, ph.ph_filesz, len)) {
				elf_err(err, errlen, "segment %u: notes at "
				    "offset 0x%llx (size 0x%llx) are beyond the "
				    "end of the file", i,
				    (unsigned long long)ph.ph_offset,
				    (unsigned long long)ph.ph_filesz);
				return (-EINVAL);
			}
			if ((error = elf_scan_notes(buf, &ph, i, out, err,
			    errlen)) != 0)
				return (error);
			continue;
		}
		if (ph.ph_type != PT_LOAD)
			continue;
		if ((error = elf_check_load(&ph, i, len, mem, err,
		    errlen)) != 0)
			return (error);
		if (ph.ph_memsz == 0)
			continue;
		if ((error = elf_check_overlap(buf, &h, i, &ph, err,
		    errlen)) != 0)
			return (error);
		lo = MIN(lo, ph.ph_paddr);
		hi = MAX(hi, ph.ph_paddr + ph.ph_memsz);
		nload++;
	}
	if (nload == 0) {
		elf_err(err, errlen, "no loadable segments");
		return (-EINVAL);
	}
	if (out->has_pvh && !elf_entry_loaded(buf, &h, out->pvh_entry)) {
		elf_err(err, errlen, "PVH entry 0x%llx is not inside a loaded "
		    "segment", (unsigned long long)out->pvh_entry);
		return (-EINVAL);
	}

	/* Pass 2: copy.  Pass 1 proved every range is RAM. */
	for (i = 0; i < h.eh_phnum; i++) {
		elf_get_phdr(buf, &h, i, &ph);
		if (ph.ph_type != PT_LOAD || ph.ph_memsz == 0)
			continue;
		if ((error = gmem_write(mem, ph.ph_paddr, buf + ph.ph_offset,
		    ph.ph_filesz)) != 0 ||
		    (error = gmem_fill(mem, ph.ph_paddr + ph.ph_filesz, 0,
		    ph.ph_memsz - ph.ph_filesz)) != 0) {
			elf_err(err, errlen, "segment %u: copy failed", i);
			return (error);
		}
	}

	out->entry = h.eh_entry;
	out->lo = lo;
	out->hi = hi;
	out->elfclass = h.eh_class;
	return (0);
}
