/*
 * test_acpi.c: the ACPI tables in guest RAM, read back the way a guest
 * would: RSDP -> XSDT/RSDT -> FADT/MADT -> FACS/DSDT.  The DSDT's contents
 * are checked in test_dsdt.c.
 */
#include <errno.h>
#include "test.h"
#include "fake.h"
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"

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

static uint64_t
rd64(const uint8_t *p)
{
	return ((uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32);
}

static unsigned
sum8(const uint8_t *p, size_t len)
{
	unsigned s = 0;

	while (len-- > 0)
		s += *p++;
	return (s & 0xff);
}

/* A table at gpa inside the ACPI window, with its checksum verified. */
static const uint8_t *
table_at(struct fake_vm *fv, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	if (gpa < ACPI_BASE || gpa + 36 > ACPI_BASE + ACPI_MAX_LENGTH)
		return (NULL);
	t = fv->ram + gpa;
	len = rd32(t + 4);
	if (memcmp(t, sig, 4) != 0 || len < 36 ||
	    gpa + len > ACPI_BASE + ACPI_MAX_LENGTH)
		return (NULL);
	if (sum8(t, len) != 0) {
		printf("  %s: bad checksum\n", sig);
		return (NULL);
	}
	if (memcmp(t + 10, "KHYVE ", 6) != 0 ||
	    memcmp(t + 16, "KHYVEVM ", 8) != 0 ||
	    memcmp(t + 28, "KHYV", 4) != 0)
		return (NULL);
	return (t);
}

struct tables {
	const uint8_t	*rsdp, *xsdt, *rsdt, *fadt, *madt, *facs, *dsdt;
	uint64_t	facs_gpa;
};

/* Build with cfg into a fresh 2 MiB fake VM and find every table. */
static int
build(struct fake_vm *fv, const struct acpi_config *cfg, struct tables *t)
{
	uint64_t rsdp, gpa;
	const uint8_t *tb;
	unsigned i, n;
	int error;

	fake_vm_init(fv, RAMSIZE, cfg->ncpus);
	memset(fv->ram, 0xa5, RAMSIZE);
	memset(t, 0, sizeof(*t));
	error = acpi_build(&fv->mem, cfg, &rsdp);
	if (error != 0)
		return (error);
	CHECK_EQ(rsdp, ACPI_BASE);
	t->rsdp = fv->ram + rsdp;
	t->xsdt = table_at(fv, rd64(t->rsdp + 24), "XSDT");
	t->rsdt = table_at(fv, rd32(t->rsdp + 16), "RSDT");
	if (t->xsdt == NULL || t->rsdt == NULL)
		return (-EIO);
	n = (rd32(t->xsdt + 4) - 36) / 8;
	CHECK_EQ(n, 2);
	CHECK_EQ((rd32(t->rsdt + 4) - 36) / 4, n);
	for (i = 0; i < n; i++) {
		gpa = rd64(t->xsdt + 36 + 8 * i);
		CHECK_EQ(rd32(t->rsdt + 36 + 4 * i), gpa);
		if ((tb = table_at(fv, gpa, "FACP")) != NULL)
			t->fadt = tb;
		else if ((tb = table_at(fv, gpa, "APIC")) != NULL)
			t->madt = tb;
	}
	if (t->fadt == NULL || t->madt == NULL)
		return (-EIO);
	t->dsdt = table_at(fv, rd64(t->fadt + 140), "DSDT");
	t->facs_gpa = rd64(t->fadt + 132);
	if (t->dsdt == NULL || t->facs_gpa < ACPI_BASE ||
	    t->facs_gpa + 64 > ACPI_BASE + ACPI_MAX_LENGTH)
		return (-EIO);
	t->facs = fv->ram + t->facs_gpa;
	return (0);
}

/* Build or end the test: nothing below can run without the tables. */
#define BUILD_OR_RETURN(fv, c, t) do {					\
	int __e = build((fv), (c), (t));				\
	CHECK_EQ(__e, 0);						\
	if (__e != 0) {							\
		fake_vm_fini(fv);					\
		return;							\
	}								\
} while (0)

static struct acpi_config
default_config(int ncpus)
{
	struct acpi_config c;

	memset(&c, 0, sizeof(c));
	c.ncpus = ncpus;
	c.lowmem = 1 * GiB;
	c.highmem = 3 * GiB;
	c.pci = true;
	c.com_mask = 0x1;
	return (c);
}

TEST(rsdp_and_roots)
{
	struct acpi_config c = default_config(2);
	struct fake_vm fv;
	struct tables t;
	uint64_t i;

	BUILD_OR_RETURN(&fv, &c, &t);
	CHECK(memcmp(t.rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(sum8(t.rsdp, 20), 0);
	CHECK_EQ(sum8(t.rsdp, 36), 0);
	CHECK(memcmp(t.rsdp + 9, "KHYVE ", 6) == 0);
	CHECK_EQ(t.rsdp[15], 2);
	CHECK_EQ(rd32(t.rsdp + 20), 36);
	CHECK_EQ(ACPI_BASE % 16, 0);
	CHECK_EQ(rd32(t.xsdt + 4), 36 + 16);
	/* Nothing outside the window was touched. */
	for (i = 0; i < ACPI_BASE; i++)
		if (fv.ram[i] != 0xa5)
			break;
	CHECK_EQ(i, ACPI_BASE);
	for (i = ACPI_BASE + ACPI_MAX_LENGTH; i < RAMSIZE; i++)
		if (fv.ram[i] != 0xa5)
			break;
	CHECK_EQ(i, RAMSIZE);
	fake_vm_fini(&fv);
}

TEST(fadt_fields)
{
	struct acpi_config c = default_config(1);
	const uint8_t *f;
	struct fake_vm fv;
	struct tables t;
	uint32_t flags;
	uint8_t *dsdt;
	size_t dsdt_len;

	BUILD_OR_RETURN(&fv, &c, &t);
	f = t.fadt;
	CHECK_EQ(rd32(f + 4), 276);
	CHECK_EQ(f[8], 6);
	CHECK_EQ(rd32(f + 36), t.facs_gpa);		/* FIRMWARE_CTRL */
	CHECK_EQ(rd32(f + 40), t.dsdt - fv.ram);	/* DSDT */
	CHECK_EQ(rd16(f + 46), 9);			/* SCI_INT */
	CHECK_EQ(rd32(f + 48), 0);			/* SMI_CMD */
	CHECK_EQ(rd32(f + 56), 0x400);			/* PM1a_EVT_BLK */
	CHECK_EQ(rd32(f + 64), 0x404);			/* PM1a_CNT_BLK */
	CHECK_EQ(rd32(f + 76), 0x408);			/* PM_TMR_BLK */
	CHECK_EQ(f[88], 4);
	CHECK_EQ(f[89], 2);
	CHECK_EQ(f[91], 4);
	CHECK_EQ(rd16(f + 109), 0x16);	/* 8042, no VGA, no ASPM */
	flags = rd32(f + 112);
	CHECK((flags & (1U << 0)) != 0);		/* WBINVD */
	CHECK((flags & (1U << 2)) != 0);		/* PROC_C1 */
	CHECK((flags & (1U << 4)) == 0);		/* fixed power button */
	CHECK((flags & (1U << 5)) != 0);		/* no sleep button */
	CHECK((flags & (1U << 8)) == 0);		/* 24-bit timer */
	CHECK((flags & (1U << 10)) != 0);		/* RESET_REG_SUP */
	CHECK((flags & (1U << 20)) == 0);		/* not HW-reduced */
	/* RESET_REG: system I/O, 8 bits, byte access, 0xcf9, value 6. */
	CHECK_EQ(f[116], 1);
	CHECK_EQ(f[117], 8);
	CHECK_EQ(f[119], 1);
	CHECK_EQ(rd64(f + 120), 0xcf9);
	CHECK_EQ(f[128], 6);
	CHECK_EQ(rd64(f + 132), t.facs_gpa);		/* X_FIRMWARE_CTRL */
	CHECK_EQ(rd64(f + 140), rd32(f + 40));		/* X_DSDT */
	CHECK_EQ(f[148], 1);				/* X_PM1a_EVT_BLK */
	CHECK_EQ(f[149], 32);
	CHECK_EQ(rd64(f + 152), 0x400);
	CHECK_EQ(f[173], 16);				/* X_PM1a_CNT_BLK */
	CHECK_EQ(rd64(f + 176), 0x404);
	CHECK_EQ(f[209], 32);				/* X_PM_TMR_BLK */
	CHECK_EQ(rd64(f + 212), 0x408);
	/* The DSDT in RAM is the one acpi_build_dsdt() generates. */
	CHECK_EQ(acpi_build_dsdt(&c, &dsdt, &dsdt_len), 0);
	CHECK_EQ(rd32(t.dsdt + 4), dsdt_len);
	CHECK(memcmp(t.dsdt, dsdt, dsdt_len) == 0);
	free(dsdt);
	/* FACS: 64-byte aligned, 64 bytes. */
	CHECK_EQ(t.facs_gpa % 64, 0);
	CHECK(memcmp(t.facs, "FACS", 4) == 0);
	CHECK_EQ(rd32(t.facs + 4), 64);
	fake_vm_fini(&fv);

	c.pm_tmr_32bit = true;
	BUILD_OR_RETURN(&fv, &c, &t);
	CHECK((rd32(t.fadt + 112) & (1U << 8)) != 0);
	fake_vm_fini(&fv);
}

/* Walk the MADT and check it describes exactly ncpus processors. */
static void
check_madt(int ncpus)
{
	struct acpi_config c = default_config(ncpus);
	unsigned nlapic, nx2apic, nioapic, niso, nnmi, id;
	const uint8_t *m, *e, *end;
	struct fake_vm fv;
	struct tables t;
	uint8_t seen[ACPI_MAX_CPUS];

	memset(seen, 0, sizeof(seen));
	nlapic = nx2apic = nioapic = niso = nnmi = 0;
	BUILD_OR_RETURN(&fv, &c, &t);
	m = t.madt;
	CHECK_EQ(rd32(m + 36), 0xfee00000);
	CHECK_EQ(rd32(m + 40) & 1, 1);			/* PCAT_COMPAT */
	end = m + rd32(m + 4);
	for (e = m + 44; e + 2 <= end && e[1] >= 2; e += e[1]) {
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], 8);
			id = e[3];
			CHECK_EQ(e[2], id);
			CHECK_EQ(rd32(e + 4), 1);
			if (id < (unsigned)ncpus && !seen[id]++)
				nlapic++;
			break;
		case 9:
			CHECK_EQ(e[1], 16);
			id = rd32(e + 4);
			CHECK(id >= 255);
			CHECK_EQ(rd32(e + 8), 1);
			if (id < (unsigned)ncpus && !seen[id]++)
				nx2apic++;
			break;
		case 1:
			CHECK_EQ(e[1], 12);
			CHECK_EQ(e[2], 0);
			CHECK_EQ(rd32(e + 4), 0xfec00000);
			CHECK_EQ(rd32(e + 8), 0);
			nioapic++;
			break;
		case 2:
			CHECK_EQ(e[1], 10);
			CHECK_EQ(e[2], 0);
			if (e[3] == 0) {
				CHECK_EQ(rd32(e + 4), 2);
				CHECK_EQ(rd16(e + 8), 0x5);
			} else {
				CHECK_EQ(e[3], 9);
				CHECK_EQ(rd32(e + 4), 9);
				CHECK_EQ(rd16(e + 8), 0xf);
			}
			niso++;
			break;
		case 4:
			CHECK_EQ(e[2], 0xff);
			CHECK_EQ(e[5], 1);			/* LINT1 */
			nnmi++;
			break;
		case 10:
			CHECK_EQ(rd32(e + 4), 0xffffffff);
			CHECK_EQ(e[8], 1);
			break;
		default:
			CHECK(0);
		}
	}
	CHECK(e == end);
	CHECK_EQ(nlapic + nx2apic, ncpus);
	CHECK_EQ(nlapic, MIN(ncpus, 255));
	CHECK_EQ(nioapic, 1);
	CHECK_EQ(niso, 2);
	CHECK_EQ(nnmi, 1);
	fake_vm_fini(&fv);
}

TEST(madt_1_2_4_16_64)
{
	check_madt(1);
	check_madt(2);
	check_madt(4);
	check_madt(16);
	check_madt(64);
}

TEST(madt_x2apic_beyond_254)
{
	check_madt(255);
	check_madt(300);
	check_madt(ACPI_MAX_CPUS);
}

TEST(bad_configs)
{
	static const struct acpi_intx badix[] = { { 32, 1, 16 } };
	static const struct acpi_intx badpin[] = { { 3, 5, 16 } };
	static const struct acpi_intx badgsi[] = { { 3, 1, 24 } };
	struct acpi_config c;
	struct fake_vm fv;
	uint64_t rsdp;

	fake_vm_init(&fv, RAMSIZE, 1);
	c = default_config(0);
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(ACPI_MAX_CPUS + 1);
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(1);
	c.intx = badix;
	c.nintx = 1;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.intx = badpin;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.intx = badgsi;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.intx = NULL;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(1);
	c.mmio64_base = 4 * GiB;			/* overlaps highmem */
	c.mmio64_size = 1 * GiB;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c.mmio64_base = UINT64_MAX - 10;		/* wraps */
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	c = default_config(1);
	c.lowmem = 4 * GiB;
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EINVAL);
	fake_vm_fini(&fv);

	/* The window must be RAM. */
	fake_vm_init(&fv, 512 * KiB, 1);
	c = default_config(1);
	CHECK_EQ(acpi_build(&fv.mem, &c, &rsdp), -EFAULT);
	fake_vm_fini(&fv);
}

TEST_MAIN()
