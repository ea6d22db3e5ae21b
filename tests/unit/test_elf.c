/*
 * test_elf.c: the ELF kernel loader, with images built here in memory.
 */
#include <elf.h>
#include <errno.h>
#include "arch/x86/elf.h"
#include "arch/x86/layout.h"
#include "fake.h"
#include "test.h"

#define RAM_SIZE	(16 * MiB)
#define IMG_SIZE	0x4000

static uint8_t img[IMG_SIZE];

struct seg {
	uint32_t	type;
	uint64_t	off, paddr, filesz, memsz, align;
};

/* Write an ELF header and program headers (at phoff 0x40) into img. */
static void
build(int class, uint16_t machine, uint64_t entry, const struct seg *s,
    int n)
{
	int i;

	memset(img, 0, sizeof(img));
	if (class == 64) {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;

		memset(&eh, 0, sizeof(eh));
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		eh.e_type = ET_EXEC;
		eh.e_machine = machine;
		eh.e_version = EV_CURRENT;
		eh.e_entry = entry;
		eh.e_phoff = 0x40;
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(ph);
		eh.e_phnum = (uint16_t)n;
		memcpy(img, &eh, sizeof(eh));
		for (i = 0; i < n; i++) {
			memset(&ph, 0, sizeof(ph));
			ph.p_type = s[i].type;
			ph.p_offset = s[i].off;
			ph.p_vaddr = s[i].paddr + 0xffffffff80000000ULL;
			ph.p_paddr = s[i].paddr;
			ph.p_filesz = s[i].filesz;
			ph.p_memsz = s[i].memsz;
			ph.p_align = s[i].align;
			memcpy(img + 0x40 + i * sizeof(ph), &ph, sizeof(ph));
		}
	} else {
		Elf32_Ehdr eh;
		Elf32_Phdr ph;

		memset(&eh, 0, sizeof(eh));
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		eh.e_type = ET_EXEC;
		eh.e_machine = machine;
		eh.e_version = EV_CURRENT;
		eh.e_entry = (uint32_t)entry;
		eh.e_phoff = 0x40;
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(ph);
		eh.e_phnum = (uint16_t)n;
		memcpy(img, &eh, sizeof(eh));
		for (i = 0; i < n; i++) {
			memset(&ph, 0, sizeof(ph));
			ph.p_type = s[i].type;
			ph.p_offset = (uint32_t)s[i].off;
			ph.p_vaddr = (uint32_t)s[i].paddr;
			ph.p_paddr = (uint32_t)s[i].paddr;
			ph.p_filesz = (uint32_t)s[i].filesz;
			ph.p_memsz = (uint32_t)s[i].memsz;
			ph.p_align = (uint32_t)s[i].align;
			memcpy(img + 0x40 + i * sizeof(ph), &ph, sizeof(ph));
		}
	}
}

/* Append a note at img[off]; returns its padded size. */
static size_t
put_note(size_t off, const char *name, uint32_t type, const void *desc,
    uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	uint32_t w[3] = { namesz, descsz, type };
	size_t p = off;

	memcpy(img + p, w, sizeof(w));
	p += sizeof(w);
	memcpy(img + p, name, namesz);
	p += (namesz + 3) & ~3u;
	memcpy(img + p, desc, descsz);
	p += (descsz + 3) & ~3u;
	return (p - off);
}

/*
 * The good images: text at file offset 0x1000 (loaded at 1 MiB, with
 * bss), data at 0x1100 (at 2 MiB), notes at 0x1200: a GNU build-id-like
 * note, then either the PVH entry note or a Xen note of another type.
 */
static size_t
good_image(int class, bool pvh)
{
	uint8_t gnu_desc[20];
	uint64_t e64 = 0x100010;
	uint32_t e32 = 0x100010, descsz, nl;
	int i;

	descsz = pvh && class == 64 ? 8 : 4;
	nl = (12 + 4 + sizeof(gnu_desc)) + (12 + 4 + descsz);
	struct seg s[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100, 0x2000, 0x1000 },
		{ PT_NOTE, 0x1200, 0, nl, nl, 4 },
		{ PT_LOAD, 0x1100, 0x200000, 0x80, 0x80, 0x1000 },
		{ PT_GNU_STACK, 0, 0, 0, 0, 16 },
	};
	build(class, class == 64 ? EM_X86_64 : EM_386, 0x100000, s, 4);
	for (i = 0; i < 0x100; i++)
		img[0x1000 + i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 0x80; i++)
		img[0x1100 + i] = (uint8_t)(0x55 ^ i);
	memset(gnu_desc, 0x11, sizeof(gnu_desc));
	nl = (uint32_t)put_note(0x1200, "GNU", 3, gnu_desc, sizeof(gnu_desc));
	if (!pvh)		/* XEN_ELFNOTE_ENTRY (1) is not the PVH entry */
		put_note(0x1200 + nl, "Xen", 1, &e32, 4);
	else if (class == 64)	/* Linux writes a 64-bit value (_ASM_PTR) */
		put_note(0x1200 + nl, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e64, 8);
	else
		put_note(0x1200 + nl, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e32, 4);
	return (0x1300);
}

static void
check_loaded(struct fake_vm *fv)
{
	int i, bad = 0;

	for (i = 0; i < 0x100; i++)
		bad += fv->ram[0x100000 + i] != (uint8_t)(0xa0 + i);
	CHECK_EQ(bad, 0);
	bad = 0;
	for (i = 0x100; i < 0x2000; i++)
		bad += fv->ram[0x100000 + i] != 0;
	CHECK_EQ(bad, 0);			/* bss zeroed */
	CHECK_EQ(fv->ram[0x100000 + 0x2000], 0xee);	/* and no further */
	for (i = 0; i < 0x80; i++)
		bad += fv->ram[0x200000 + i] != (uint8_t)(0x55 ^ i);
	CHECK_EQ(bad, 0);
	CHECK_EQ(fv->ram[0x200080], 0xee);
}

static void
load_good(int class)
{
	struct fake_vm fv;
	struct elf_info info;
	char err[160];
	size_t len;

	fake_vm_init(&fv, RAM_SIZE, 1);
	memset(fv.ram, 0xee, RAM_SIZE);
	len = good_image(class, true);
	CHECK_EQ(elf_probe(img, len), 1);
	CHECK_EQ(elf_load(img, len, &fv.mem, &info, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(info.elfclass, class);
	CHECK_EQ(info.entry, 0x100000);
	CHECK(info.has_pvh);
	CHECK_EQ(info.pvh_entry, 0x100010);
	CHECK_EQ(info.lo, 0x100000);
	CHECK_EQ(info.hi, 0x200080);
	check_loaded(&fv);
	fake_vm_fini(&fv);
}

TEST(elf64_loads_with_pvh_note)
{
	load_good(64);
}

TEST(elf32_loads_with_pvh_note)
{
	load_good(32);
}

TEST(no_pvh_note)
{
	struct fake_vm fv;
	struct elf_info info;
	struct seg s[] = {
		{ PT_LOAD, 0x1000, 0x100000, 0x100, 0x100, 0x1000 },
	};
	char err[160];
	size_t len;

	fake_vm_init(&fv, RAM_SIZE, 1);
	memset(fv.ram, 0xee, RAM_SIZE);
	len = good_image(64, false);
	CHECK_EQ(elf_load(img, len, &fv.mem, &info, err, sizeof(err)), 0);
	CHECK(!info.has_pvh);
	CHECK_EQ(info.pvh_entry, 0);
	check_loaded(&fv);

	/* No PT_NOTE at all. */
	build(64, EM_X86_64, 0x100000, s, 1);
	CHECK_EQ(elf_load(img, 0x1100, &fv.mem, &info, err, sizeof(err)), 0);
	CHECK(!info.has_pvh);
	CHECK_EQ(info.hi, 0x100100);
	fake_vm_fini(&fv);
}

TEST(probe)
{
	CHECK_EQ(elf_probe("\177ELF", 4), 1);
	CHECK_EQ(elf_probe("\177EL", 3), 0);
	CHECK_EQ(elf_probe("MZ\0\0", 4), 0);
	CHECK_EQ(elf_probe(NULL, 0), 0);
}

/* Load img[0..len) and expect failure with want and a message containing msg. */
static void
expect_fail(size_t len, int want, const char *msg, int line)
{
	struct fake_vm fv;
	struct elf_info info;
	char err[200];
	int rc, bad, i;

	fake_vm_init(&fv, RAM_SIZE, 1);
	memset(err, 0, sizeof(err));
	rc = elf_load(img, len, &fv.mem, &info, err, sizeof(err));
	if (rc != want || strstr(err, msg) == NULL) {
		printf("  line %d: rc %d (want %d), err \"%s\" (want \"%s\")\n",
		    line, rc, want, err, msg);
		test_failed++;
	}
	/* Validation comes first: nothing was written. */
	for (bad = 0, i = 0; i < (int)RAM_SIZE; i += 64)
		bad += fv.ram[i] != 0;
	CHECK_EQ(bad, 0);
	fake_vm_fini(&fv);
}
#define FAIL_WITH(len, want, msg) expect_fail(len, want, msg, __LINE__)

TEST(rejects_bad_headers)
{
	size_t len;

	len = good_image(64, true);
	FAIL_WITH(30, -EINVAL, "truncated ELF header");
	FAIL_WITH(10, -EINVAL, "truncated ELF header");
	FAIL_WITH(3, -ENOEXEC, "not an ELF file");
	FAIL_WITH(0, -ENOEXEC, "not an ELF file");

	img[1] = 'e';
	FAIL_WITH(len, -ENOEXEC, "not an ELF file");

	good_image(32, true);
	FAIL_WITH(40, -EINVAL, "truncated ELF header");

	good_image(64, true);
	img[EI_CLASS] = 3;
	FAIL_WITH(len, -EINVAL, "unknown ELF class 3");

	good_image(64, true);
	img[EI_DATA] = ELFDATA2MSB;
	FAIL_WITH(len, -EINVAL, "not a little-endian");

	good_image(64, true);
	img[18] = EM_AARCH64;		/* e_machine */
	FAIL_WITH(len, -EINVAL, "not an x86 ELF file (machine 183)");

	good_image(64, true);
	img[16] = ET_DYN;		/* e_type */
	FAIL_WITH(len, -EINVAL, "is not an executable");
}

TEST(rejects_bad_program_header_tables)
{
	Elf64_Ehdr eh;
	size_t len;

	len = good_image(64, true);
	memcpy(&eh, img, sizeof(eh));
	eh.e_phoff = 0x100000;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "beyond the end of the file");

	eh.e_phoff = len - 10;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "truncated program header table");

	eh.e_phoff = 0x40;
	eh.e_phnum = 0xffff;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "too many program headers (65535");
	eh.e_phnum = ELF_MAX_PHNUM + 1;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "too many program headers");
	/* 512 headers of 56 bytes run past this small file. */
	eh.e_phnum = ELF_MAX_PHNUM;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "truncated program header table");
	eh.e_phnum = 0;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "no program headers");

	eh.e_phnum = 4;
	eh.e_phentsize = 32;
	memcpy(img, &eh, sizeof(eh));
	FAIL_WITH(len, -EINVAL, "program header size 32 is too small");
}

TEST(rejects_bad_segments)
{
	struct seg s[2];

	memset(s, 0, sizeof(s));
	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x200, 0x100, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "segment 0: file size 0x200 exceeds memory size 0x100");

	/* Even a segment occupying no memory must be consistent. */
	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x10, 0, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "exceeds memory size");

	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x400, 0x400, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "segment 0: data at offset 0x1000 (size 0x400) is beyond the end of the file");

	s[0] = (struct seg){ PT_LOAD, UINT64_MAX - 4, 0x100000, 0x10, 0x10, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "beyond the end of the file");

	s[0] = (struct seg){ PT_LOAD, 0x1000, RAM_SIZE - 0x1000, 0x100, 0x2000, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "segment 0 at 0xfff000 (size 0x2000) is outside guest RAM");

	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x8000, 0x100, 0x100, 0 };
	build(64, EM_X86_64, 0x8000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "segment 0 at 0x8000 (size 0x100) overlaps the boot area");

	/* Ending inside the legacy hole is as bad as starting in it. */
	s[0] = (struct seg){ PT_LOAD, 0x1000, 0xff000, 0x100, 0x2000, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "overlaps the boot area");

	s[0] = (struct seg){ PT_LOAD, 0x1000, 0xfffffffffffff000ULL, 0x100, 0x2000, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "wraps around the address space");

	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x100, 0x2000, 0 };
	s[1] = (struct seg){ PT_LOAD, 0x1100, 0x101000, 0x100, 0x100, 0 };
	build(64, EM_X86_64, 0x100000, s, 2);
	FAIL_WITH(0x1300, -EINVAL, "segment 1 at 0x101000 (size 0x100) overlaps segment 0");

	/* Touching is fine; the overlap check is exact. */
	s[1].paddr = 0x102000;
	build(64, EM_X86_64, 0x100000, s, 2);
	{
		struct fake_vm fv;
		struct elf_info info;

		fake_vm_init(&fv, RAM_SIZE, 1);
		CHECK_EQ(elf_load(img, 0x1300, &fv.mem, &info, NULL, 0), 0);
		CHECK_EQ(info.hi, 0x102100);
		fake_vm_fini(&fv);
	}

	s[0] = (struct seg){ PT_NOTE, 0x1000, 0, 0, 0, 0 };
	build(64, EM_X86_64, 0x100000, s, 1);
	FAIL_WITH(0x1300, -EINVAL, "no loadable segments");
}

TEST(rejects_bad_notes)
{
	struct seg s[2];
	uint32_t w[3], e32 = 0x100010;
	uint64_t e64;

	memset(s, 0, sizeof(s));
	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x100, 0x100, 0 };
	s[1] = (struct seg){ PT_NOTE, 0x1200, 0, 0x20, 0x20, 4 };

	/* namesz near 2^32: padding must not wrap. */
	build(64, EM_X86_64, 0x100000, s, 2);
	w[0] = 0xffffffff; w[1] = 4; w[2] = 18;
	memcpy(img + 0x1200, w, sizeof(w));
	FAIL_WITH(0x1300, -EINVAL, "segment 1: note 0 (name size 0xffffffff");

	w[0] = 4; w[1] = 0xfffffffd; w[2] = 18;
	memcpy(img + 0x1200, w, sizeof(w));
	FAIL_WITH(0x1300, -EINVAL, "runs past the end of the segment");

	/* A note that fits the file but not its segment. */
	build(64, EM_X86_64, 0x100000, s, 2);
	put_note(0x1200, "Xen", XEN_ELFNOTE_PHYS32_ENTRY,
	    "0123456789abcdefghij", 20);
	FAIL_WITH(0x1300, -EINVAL, "runs past the end of the segment");

	build(64, EM_X86_64, 0x100000, s, 2);
	put_note(0x1200, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e32, 2);
	FAIL_WITH(0x1300, -EINVAL, "PVH entry note has a 2-byte value");

	e64 = 0x100000000ULL;
	build(64, EM_X86_64, 0x100000, s, 2);
	put_note(0x1200, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e64, 8);
	FAIL_WITH(0x1300, -EINVAL, "PVH entry 0x100000000 is above 4 GiB");

	e32 = 0x300000;
	build(64, EM_X86_64, 0x100000, s, 2);
	put_note(0x1200, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &e32, 4);
	FAIL_WITH(0x1300, -EINVAL, "PVH entry 0x300000 is not inside a loaded segment");

	s[1].filesz = 0x10000;
	build(64, EM_X86_64, 0x100000, s, 2);
	FAIL_WITH(0x1300, -EINVAL, "segment 1: notes at offset 0x1200");
}

TEST(notes_aligned_to_8)
{
	struct fake_vm fv;
	struct elf_info info;
	struct seg s[2];
	uint32_t gnu[3] = { 4, 16, 5 }, xen[3] = { 4, 8, 18 };
	uint64_t e64 = 0x100020;

	/*
	 * In an 8-aligned note segment the descriptor starts at
	 * roundup(12 + namesz, 8) = 16 and notes at multiples of 8:
	 * GNU note [0x00, 0x20), Xen note [0x20, 0x38).
	 */
	memset(s, 0, sizeof(s));
	s[0] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x100, 0x100, 0 };
	s[1] = (struct seg){ PT_NOTE, 0x1200, 0, 0x38, 0x38, 8 };
	build(64, EM_X86_64, 0x100000, s, 2);
	memcpy(img + 0x1200, gnu, sizeof(gnu));
	memcpy(img + 0x120c, "GNU", 4);
	memset(img + 0x1210, 0xcc, 16);
	memcpy(img + 0x1220, xen, sizeof(xen));
	memcpy(img + 0x122c, "Xen", 4);
	memcpy(img + 0x1230, &e64, 8);
	fake_vm_init(&fv, RAM_SIZE, 1);
	CHECK_EQ(elf_load(img, 0x1300, &fv.mem, &info, NULL, 0), 0);
	CHECK(info.has_pvh);
	CHECK_EQ(info.pvh_entry, 0x100020);
	fake_vm_fini(&fv);
}

TEST(error_buffer_is_bounded)
{
	struct fake_vm fv;
	struct elf_info info;
	char err[8];

	fake_vm_init(&fv, RAM_SIZE, 1);
	memset(err, 'x', sizeof(err));
	memcpy(img, "nope", 4);
	CHECK_EQ(elf_load(img, 64, &fv.mem, &info, err, 5), -ENOEXEC);
	CHECK_STR(err, "not ");
	CHECK_EQ(err[5], 'x');
	CHECK_EQ(elf_load(img, 64, &fv.mem, &info, NULL, 0), -ENOEXEC);
	fake_vm_fini(&fv);
}

TEST_MAIN()
