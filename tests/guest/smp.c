/*
 * smp: "-c N" gives N working vCPUs.
 *
 * The BSP lists the enabled local APICs in the MADT (ACPI 6.4 §5.2.12.2,
 * §5.2.12.12), starts every other one with INIT-SIPI-SIPI (kit/smp.c),
 * and waits (10 s by the TSC) until each AP has printed "AP n: apic id X",
 * recorded what it sees and bumped a shared counter.  Each AP reads its
 * APIC ID from its local APIC and must be the CPU the BSP addressed.
 *
 * Command line: ncpus=N (required), and cores=C threads=T (default 1) and
 * sockets=S (default N / (C * T)) to check the CPUID topology on every
 * CPU: leaf 1 EBX[23:16] (logical processors per package), leaf 0BH level
 * 0 and 1 EBX (logical processors at the SMT and core levels) and EDX
 * (the x2APIC ID), leaf 1 EBX[31:24] (the initial APIC ID) against the
 * local APIC ID, and the number of packages and cores the APIC IDs decode
 * to with the leaf 0BH shift widths (SDM vol. 3A §8.9 "Programming
 * Considerations for Hardware Multi-Threading").
 */
#include "kit.h"
#include "smp.h"

#define AP_WAIT_MS	2000		/* per AP, to leave the trampoline */
#define ALL_WAIT_MS	10000		/* for every AP to check in */

struct cpu_seen {			/* what one CPU found, by cpu number */
	uint32_t apic_id;		/* the BSP addressed this APIC ID */
	uint32_t lapic;			/* its local APIC ID register */
	uint32_t leaf1_ebx;		/* CPUID 1 EBX */
	uint32_t leafb_ebx[2];		/* CPUID 0BH levels 0 and 1, EBX */
	uint32_t leafb_shift[2];	/* and EAX[4:0]: ID bits below */
	uint32_t leafb_edx;		/* CPUID 0BH EDX: x2APIC ID */
	int has_leafb;			/* max basic leaf >= 0BH */
	int done;			/* filled in */
};

static struct cpu_seen seen[KIT_SMP_MAX];
static unsigned ap_count;		/* APs that have checked in */
static int con_lock;

static void
lock(void)
{
	while (__atomic_exchange_n(&con_lock, 1, __ATOMIC_ACQUIRE) != 0)
		cpu_relax();
}

static void
unlock(void)
{
	__atomic_store_n(&con_lock, 0, __ATOMIC_RELEASE);
}

static void
cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]),
	    "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void
look(struct cpu_seen *s)
{
	uint32_t r[4];

	s->lapic = lapic_id();
	cpuid(0, 0, r);
	s->has_leafb = r[0] >= 0xb;
	cpuid(1, 0, r);
	s->leaf1_ebx = r[1];
	if (s->has_leafb) {
		cpuid(0xb, 0, r);
		s->leafb_shift[0] = r[0] & 0x1f;
		s->leafb_ebx[0] = r[1] & 0xffff;
		s->leafb_edx = r[3];
		cpuid(0xb, 1, r);
		s->leafb_shift[1] = r[0] & 0x1f;
		s->leafb_ebx[1] = r[1] & 0xffff;
	}
}

static void
ap_main(unsigned cpu)
{
	struct cpu_seen *s = &seen[cpu];

	look(s);
	lock();
	printf("AP %u: apic id %u\n", cpu, s->lapic);
	unlock();
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ap_count, 1, __ATOMIC_SEQ_CST);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Enabled local APIC IDs from the MADT; returns how many (<= max). */
static unsigned
madt_apic_ids(uint32_t *ids, unsigned max)
{
	const struct acpi_sdt *madt = acpi_get()->madt;
	const uint8_t *p = (const uint8_t *)madt, *e;
	unsigned off, n = 0;
	uint32_t flags, id;

	if (madt == NULL)
		return (0);
	for (off = 44; off + 2 <= madt->length; off += e[1]) {
		e = p + off;
		if (e[1] < 2 || off + e[1] > madt->length)
			break;
		if (e[0] == 0 && e[1] >= 8) {		/* Local APIC */
			memcpy(&flags, e + 4, 4);
			id = e[3];
		} else if (e[0] == 9 && e[1] >= 16) {	/* Local x2APIC */
			memcpy(&flags, e + 8, 4);
			memcpy(&id, e + 4, 4);
		} else {
			continue;
		}
		if ((flags & 1) == 0)
			continue;
		if (n < max)
			ids[n] = id;
		n++;
	}
	return (n);
}

struct topo {				/* expected, from the command line */
	unsigned sockets, cores, threads;
};

static void
check_cpu(unsigned cpu, const struct cpu_seen *s, const struct topo *t)
{
	printf("cpu %u: lapic %u, cpuid 1: apic id %u, %u per package; "
	    "0bh: %u/%u, shifts %u/%u, x2apic id %u\n", cpu, s->lapic,
	    s->leaf1_ebx >> 24, (s->leaf1_ebx >> 16) & 0xff, s->leafb_ebx[0],
	    s->leafb_ebx[1], s->leafb_shift[0], s->leafb_shift[1],
	    s->leafb_edx);
	GCHECK_EQ(s->leaf1_ebx >> 24, s->lapic);
	GCHECK_EQ((s->leaf1_ebx >> 16) & 0xff, t->cores * t->threads);
	GCHECK(s->has_leafb);
	if (!s->has_leafb)
		return;
	GCHECK_EQ(s->leafb_ebx[0], t->threads);
	GCHECK_EQ(s->leafb_ebx[1], t->cores * t->threads);
	GCHECK_EQ(s->leafb_edx, s->lapic);
}

/* Count the distinct packages and cores the CPUs' x2APIC IDs decode to
 * with their own leaf 0BH shifts (SDM vol. 3A §8.9.1). */
static void
check_counts(unsigned ncpus, const struct topo *t)
{
	uint8_t pkg[256] = { 0 }, core[256] = { 0 };
	unsigned i, npkg = 0, ncore = 0, p, c;

	for (i = 0; i < ncpus; i++) {
		if (!seen[i].done || !seen[i].has_leafb)
			return;
		p = (seen[i].leafb_edx >> seen[i].leafb_shift[1]) & 0xff;
		c = (seen[i].leafb_edx >> seen[i].leafb_shift[0]) & 0xff;
		npkg += pkg[p] == 0;
		ncore += core[c] == 0;
		pkg[p] = core[c] = 1;
	}
	printf("topology: %u packages, %u cores, %u logical CPUs (want sockets=%u "
	    "cores=%u threads=%u)\n", npkg, ncore, ncpus, t->sockets,
	    t->cores, t->threads);
	GCHECK_EQ(npkg, t->sockets);
	GCHECK_EQ(ncore, t->sockets * t->cores);
}

int
guest_main(void)
{
	unsigned ncpus = (unsigned)arg_get_u64("ncpus", 0), n, i, cpu, got;
	int error;
	uint32_t ids[KIT_SMP_MAX];
	uint64_t khz, t0, page;
	struct topo t;

	n = madt_apic_ids(ids, KIT_SMP_MAX);
	printf("MADT: %u enabled local APICs (ncpus=%u)\n", n, ncpus);
	GCHECK(ncpus >= 1);
	GCHECK_EQ(n, ncpus);
	t.threads = (unsigned)arg_get_u64("threads", 1);
	t.cores = (unsigned)arg_get_u64("cores", 1);
	t.sockets = (unsigned)arg_get_u64("sockets", ncpus /
	    (t.cores * t.threads != 0 ? t.cores * t.threads : 1));
	GCHECK_EQ(t.sockets * t.cores * t.threads, ncpus);
	if (n == 0 || n > KIT_SMP_MAX || ncpus == 0) {
		printf("smp: need 1 to %u CPUs\n", KIT_SMP_MAX);
		return (1);
	}
	look(&seen[0]);
	seen[0].apic_id = seen[0].lapic;
	seen[0].done = 1;
	printf("BSP: apic id %u\n", seen[0].lapic);

	khz = guest_tsc_khz();
	GCHECK(khz != 0);
	page = smp_init();
	printf("smp: trampoline at 0x%lx, TSC %lu kHz\n", page, khz);
	GCHECK(page != 0);
	if (page == 0 || khz == 0)
		return (1);

	cpu = 0;
	for (i = 0; i < n; i++) {
		if (ids[i] == seen[0].lapic)
			continue;
		if (++cpu >= KIT_SMP_MAX)
			break;
		seen[cpu].apic_id = ids[i];
		error = smp_start_ap(ids[i], cpu, ap_main, AP_WAIT_MS);
		if (error != 0) {
			lock();
			printf("smp: apic id %u did not start (%d)\n", ids[i],
			    error);
			unlock();
		}
		GCHECK_EQ(error, 0);
	}
	GCHECK_EQ(cpu, n - 1);

	t0 = rdtsc();
	while ((got = __atomic_load_n(&ap_count, __ATOMIC_SEQ_CST)) < cpu &&
	    rdtsc() - t0 < ALL_WAIT_MS * khz)
		cpu_relax();
	lock();
	printf("smp: %u of %u APs checked in after %lu ms\n", got, cpu,
	    (rdtsc() - t0) / khz);
	GCHECK_EQ(got, cpu);
	for (i = 0; i <= cpu; i++) {
		if (!__atomic_load_n(&seen[i].done, __ATOMIC_ACQUIRE)) {
			printf("cpu %u (apic id %u): never ran\n", i,
			    seen[i].apic_id);
			GCHECK(0);
			continue;
		}
		GCHECK_EQ(seen[i].lapic, seen[i].apic_id);
		check_cpu(i, &seen[i], &t);
	}
	if (cpu + 1 == ncpus)
		check_counts(ncpus, &t);
	unlock();
	return (0);
}
