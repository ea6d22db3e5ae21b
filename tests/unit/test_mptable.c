/*
 * test_mptable.c: the MP 1.4 floating pointer and configuration table,
 * read back from guest RAM as a guest's MP table parser would.
 */
#include <errno.h>
#include "test.h"
#include "fake.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"

#define RAMSIZE		(2 * MiB)

static uint32_t
rd16(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (rd16(p) | rd16(p + 2) << 16);
}

static unsigned
sum8(const uint8_t *p, size_t len)
{
	unsigned s = 0;

	while (len-- > 0)
		s += *p++;
	return (s & 0xff);
}

struct mp_counts {
	unsigned	ent[5];		/* entries per type */
	unsigned	bsp;		/* processors flagged BP */
	int		pin_irq[24];	/* ISA IRQ on each IOAPIC pin, -1 */
	int		pin_type[24];	/* interrupt type on each pin */
	unsigned	pin_flags[24];
	unsigned	npci;		/* I/O interrupts from the PCI bus */
	int		lint[2];	/* local interrupt type on LINT0/1 */
};

/*
 * Find the floating pointer, check both checksums and walk the entries,
 * checking the fields that must always hold.  Returns the entry count.
 */
static unsigned
walk(struct fake_vm *fv, struct mp_counts *mc)
{
	const uint8_t *fp, *ch, *e, *end;
	unsigned n, i, last;

	memset(mc, 0, sizeof(*mc));
	for (i = 0; i < 24; i++)
		mc->pin_irq[i] = mc->pin_type[i] = -1;
	mc->lint[0] = mc->lint[1] = -1;
	fp = fv->ram + MPTABLE_BASE;
	CHECK(memcmp(fp, "_MP_", 4) == 0);
	CHECK_EQ(sum8(fp, 16), 0);
	CHECK_EQ(fp[8], 1);
	CHECK_EQ(fp[9], 4);
	CHECK_EQ(fp[11], 0);			/* config table present */
	if (rd32(fp + 4) < MPTABLE_BASE + 16 ||
	    rd32(fp + 4) + 44 > MPTABLE_BASE + MPTABLE_MAX_LENGTH) {
		CHECK(0);
		return (0);
	}
	ch = fv->ram + rd32(fp + 4);
	CHECK(memcmp(ch, "PCMP", 4) == 0);
	CHECK_EQ(ch[6], 4);
	CHECK(rd16(ch + 4) >= 44);
	CHECK(rd32(fp + 4) + rd16(ch + 4) <= MPTABLE_BASE + MPTABLE_MAX_LENGTH);
	CHECK_EQ(sum8(ch, rd16(ch + 4)), 0);
	CHECK_EQ(rd32(ch + 36), 0xfee00000);
	CHECK_EQ(rd16(ch + 40), 0);		/* no extended table */
	CHECK_EQ(ch[42], 0);			/* ... so checksum 0 */
	end = ch + rd16(ch + 4);
	last = 0;
	for (n = 0, e = ch + 44; e < end; n++) {
		CHECK(e[0] <= 4 && e[0] >= last);	/* sorted by type */
		if (e[0] > 4)
			break;
		last = e[0];
		mc->ent[e[0]]++;
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], mc->ent[0] - 1);	/* APIC ID = index */
			CHECK((e[3] & 1) != 0);
			if (e[3] & 2)
				mc->bsp++;
			e += 20;
			continue;
		case 1:
			CHECK(memcmp(e + 2, e[1] == 0 ? "PCI   " : "ISA   ",
			    6) == 0);
			break;
		case 2:
			CHECK_EQ(e[1], 0);
			CHECK_EQ(e[3] & 1, 1);
			CHECK_EQ(rd32(e + 4), 0xfec00000);
			break;
		case 3:
			CHECK_EQ(e[6], 0);			/* IOAPIC ID */
			if (e[4] == 0) {
				mc->npci++;
				break;
			}
			CHECK_EQ(e[4], 1);			/* ISA */
			if (e[7] < 24) {
				mc->pin_irq[e[7]] = e[5];
				mc->pin_type[e[7]] = e[1];
				mc->pin_flags[e[7]] = rd16(e + 2);
			}
			break;
		case 4:
			CHECK_EQ(e[6], 0xff);
			if (e[7] < 2)
				mc->lint[e[7]] = e[1];
			break;
		}
		e += 8;
	}
	CHECK(e == end);
	CHECK_EQ(n, rd16(ch + 34));
	return (n);
}

static void
check_ncpus(int ncpus)
{
	struct fake_vm fv;
	struct mp_counts mc;
	unsigned i;

	fake_vm_init(&fv, RAMSIZE, ncpus);
	CHECK_EQ(mptable_build(&fv.mem, ncpus), 0);
	CHECK_EQ(walk(&fv, &mc), ncpus + 2 + 1 + 16 + 2);
	CHECK_EQ(mc.ent[0], ncpus);
	CHECK_EQ(mc.bsp, 1);
	CHECK_EQ(mc.ent[1], 2);
	CHECK_EQ(mc.ent[2], 1);
	CHECK_EQ(mc.ent[3], 16);
	CHECK_EQ(mc.ent[4], 2);
	/* Pin 0: the 8259 (ExtINT); pin 2: ISA IRQ0; others identity. */
	CHECK_EQ(mc.pin_type[0], 3);
	CHECK_EQ(mc.pin_type[2], 0);
	CHECK_EQ(mc.pin_irq[2], 0);
	for (i = 1; i < 16; i++) {
		if (i == 2)
			continue;
		CHECK_EQ(mc.pin_type[i], 0);
		CHECK_EQ(mc.pin_irq[i], i);
	}
	CHECK_EQ(mc.pin_flags[9], 0xf);		/* SCI: level, active-low */
	CHECK_EQ(mc.pin_flags[4], 0);		/* COM1: conforms (edge) */
	CHECK_EQ(mc.lint[0], 3);		/* ExtINT on LINT0 */
	CHECK_EQ(mc.lint[1], 1);		/* NMI on LINT1 */
	fake_vm_fini(&fv);
}

TEST(ncpus_1_2_4_16_64_254)
{
	check_ncpus(1);
	check_ncpus(2);
	check_ncpus(4);
	check_ncpus(16);
	check_ncpus(64);
	check_ncpus(MPTABLE_MAX_CPUS);
}

TEST(stays_in_window)
{
	struct fake_vm fv;
	uint64_t i;

	fake_vm_init(&fv, RAMSIZE, 64);
	memset(fv.ram, 0x5a, RAMSIZE);
	CHECK_EQ(mptable_build(&fv.mem, MPTABLE_MAX_CPUS), 0);
	for (i = 0; i < MPTABLE_BASE; i++)
		if (fv.ram[i] != 0x5a)
			break;
	CHECK_EQ(i, MPTABLE_BASE);
	for (i = MPTABLE_BASE + MPTABLE_MAX_LENGTH; i < RAMSIZE; i++)
		if (fv.ram[i] != 0x5a)
			break;
	CHECK_EQ(i, RAMSIZE);
	fake_vm_fini(&fv);
}

TEST(pci_intx_entries)
{
	static const struct acpi_intx ix[] = { { 3, 1, 16 }, { 31, 4, 23 } };
	struct fake_vm fv;
	struct mp_counts mc;
	const uint8_t *e;
	unsigned i, found;

	fake_vm_init(&fv, RAMSIZE, 2);
	CHECK_EQ(mptable_build_intx(&fv.mem, 2, ix, 2), 0);
	CHECK_EQ(walk(&fv, &mc), 2 + 2 + 1 + 16 + 2 + 2);
	CHECK_EQ(mc.npci, 2);
	/* Look for {INT, bus 0, IRQ 31 << 2 | 3, pin 23}. */
	found = 0;
	for (i = 0; i < MPTABLE_MAX_LENGTH - 8; i++) {
		e = fv.ram + MPTABLE_BASE + i;
		if (e[0] == 3 && e[1] == 0 && e[4] == 0 &&
		    e[5] == (31 << 2 | 3) && e[7] == 23)
			found++;
	}
	CHECK_EQ(found, 1);
	fake_vm_fini(&fv);
}

TEST(bad_arguments)
{
	static const struct acpi_intx badslot[] = { { 32, 1, 16 } };
	static const struct acpi_intx badgsi[] = { { 3, 1, 24 } };
	struct fake_vm fv;

	fake_vm_init(&fv, RAMSIZE, 1);
	CHECK_EQ(mptable_build(&fv.mem, 0), -EINVAL);
	CHECK_EQ(mptable_build(&fv.mem, -1), -EINVAL);
	CHECK_EQ(mptable_build(&fv.mem, MPTABLE_MAX_CPUS + 1), -EINVAL);
	CHECK_EQ(mptable_build_intx(&fv.mem, 1, badslot, 1), -EINVAL);
	CHECK_EQ(mptable_build_intx(&fv.mem, 1, badgsi, 1), -EINVAL);
	CHECK_EQ(mptable_build_intx(&fv.mem, 1, NULL, 1), -EINVAL);
	fake_vm_fini(&fv);

	/* No RAM at MPTABLE_BASE. */
	fake_vm_init(&fv, 512 * KiB, 1);
	CHECK_EQ(mptable_build(&fv.mem, 1), -EFAULT);
	fake_vm_fini(&fv);
}

TEST_MAIN()
