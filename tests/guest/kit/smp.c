/*
 * smp.c: start application processors with INIT and STARTUP IPIs through
 * the xAPIC (Intel SDM vol. 3A §8.4.4.1 "Typical BSP Initialization
 * Sequence", §10.6.1 "Interrupt Command Register").  The trampoline itself
 * is in smp.S; see smp.h for the contract.
 */
#include "kit.h"
#include "smp.h"

#define PAGE_SIZE	4096ULL
#define READABLE_MIN	0x1000ULL	/* page 0 is left unmapped */
#define READABLE_MAX	(4ULL << 30)	/* the identity map's end */
#define LOW_LIMIT	0x100000ULL	/* STARTUP vectors reach below 1 MiB */
#define CONV_END	0x9f000ULL	/* without a memory map: below the EBDA */
#define MEMMAP_MAX	128		/* entries looked at */
#define MODULES_MAX	64

/* ICR low (SDM vol. 3A §10.6.1, figure 10-12). */
#define ICR_DM_INIT	0x00000500	/* delivery mode 101 */
#define ICR_DM_STARTUP	0x00000600	/* delivery mode 110 */
#define ICR_BUSY	0x00001000	/* delivery status: send pending */
#define ICR_ASSERT	0x00004000	/* level: assert */
#define SVR_ENABLE	0x00000100	/* APIC software enable */
#define SVR_VECTOR	0xff		/* spurious vector: never delivered */

#define INIT_DELAY_US	10000		/* §8.4.4.1: 10 ms after INIT */
#define SIPI_DELAY_US	200		/* §8.4.4.1: 200 us after STARTUP */
#define ICR_SPINS	100000

/* The parameter block; offsets must match smp.h / smp.S. */
struct kit_smp_params {
	uint16_t pad0[3];
	uint16_t gdt_limit;		/* +6: lgdt operand (limit, base) */
	uint64_t gdt_base;		/* +8 */
	uint16_t pad1[3];
	uint16_t idt_limit;		/* +22: lidt operand */
	uint64_t idt_base;		/* +24 */
	uint64_t cr3;			/* +32: the kit's PML4 */
	uint64_t stack;			/* +40: top of the AP's stack */
	uint64_t fn;			/* +48: smp_ap_fn_t */
	uint32_t cpu;			/* +56: logical CPU number */
	uint32_t ack;			/* +60: the AP has read the block */
} __attribute__((packed));

_Static_assert(sizeof(struct kit_smp_params) == KIT_SMP_P_SIZE,
    "parameter block size");
_Static_assert(__builtin_offsetof(struct kit_smp_params, gdt_limit) ==
    KIT_SMP_P_GDT, "GDTR offset");
_Static_assert(__builtin_offsetof(struct kit_smp_params, idt_limit) ==
    KIT_SMP_P_IDT, "IDTR offset");
_Static_assert(__builtin_offsetof(struct kit_smp_params, cr3) ==
    KIT_SMP_P_CR3, "CR3 offset");
_Static_assert(__builtin_offsetof(struct kit_smp_params, stack) ==
    KIT_SMP_P_STACK, "stack offset");
_Static_assert(__builtin_offsetof(struct kit_smp_params, fn) ==
    KIT_SMP_P_FN, "fn offset");
_Static_assert(__builtin_offsetof(struct kit_smp_params, cpu) ==
    KIT_SMP_P_CPU, "cpu offset");
_Static_assert(__builtin_offsetof(struct kit_smp_params, ack) ==
    KIT_SMP_P_ACK, "ack offset");

extern const char kit_smp_tramp[], kit_smp_tramp_end[];
extern char kit_smp_stacks[];

static uint64_t tramp_pa;		/* 0 until smp_init() succeeds */

/* Candidate pages, in order of preference (all below the EBDA). */
static const uint64_t tramp_pages[] = { 0x70000, 0x8000, 0x10000, 0x90000 };

static int
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return (alen != 0 && blen != 0 && a < b + blen && b < a + alen);
}

static int
readable(uint64_t pa, uint64_t len)
{
	return (pa >= READABLE_MIN && len <= READABLE_MAX &&
	    pa <= READABLE_MAX - len);
}

static int
in_ram(const struct hvm_start_info *si, uint64_t pa)
{
	const struct hvm_memmap_entry *e;
	uint32_t i, n;

	n = si->memmap_entries < MEMMAP_MAX ? si->memmap_entries : MEMMAP_MAX;
	/* No map, or one the kit cannot read (QEMU puts it in page 0). */
	if (si->version < 1 || !readable(si->memmap_paddr, n * sizeof(*e)))
		return (pa + PAGE_SIZE <= CONV_END);
	e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < n; i++)
		if (e[i].type == 1 && e[i].addr <= pa &&
		    pa + PAGE_SIZE <= e[i].addr + e[i].size)
			return (1);
	return (0);
}

static int
sdt_hit(const struct acpi_sdt *t, uint64_t pa)
{
	return (t != NULL && overlaps((uint64_t)(uintptr_t)t, t->length, pa,
	    PAGE_SIZE));
}

/* Nothing the monitor handed over may lie in the page. */
static int
page_free(const struct hvm_start_info *si, const struct acpi_info *a,
    uint64_t pa)
{
	const struct hvm_modlist_entry {
		uint64_t paddr, size, cmdline_paddr, reserved;
	} *m;
	uint32_t i, n;

	if (!in_ram(si, pa) ||
	    overlaps((uint64_t)(uintptr_t)si, sizeof(*si), pa, PAGE_SIZE) ||
	    overlaps(si->memmap_paddr, (uint64_t)si->memmap_entries *
	    sizeof(struct hvm_memmap_entry), pa, PAGE_SIZE) ||
	    overlaps(si->cmdline_paddr, 1024, pa, PAGE_SIZE) ||
	    overlaps(si->rsdp_paddr, 36, pa, PAGE_SIZE) ||
	    sdt_hit(a->rsdt, pa) || sdt_hit(a->xsdt, pa) ||
	    sdt_hit(a->fadt, pa) || sdt_hit(a->madt, pa) ||
	    sdt_hit(a->dsdt, pa))
		return (0);
	n = si->nr_modules < MODULES_MAX ? si->nr_modules : MODULES_MAX;
	if (n == 0)
		return (1);
	/* Modules we cannot locate might be anywhere. */
	if (!readable(si->modlist_paddr, n * sizeof(*m)) ||
	    overlaps(si->modlist_paddr, n * sizeof(*m), pa, PAGE_SIZE))
		return (0);
	m = (const void *)(uintptr_t)si->modlist_paddr;
	for (i = 0; i < n; i++)
		if (overlaps(m[i].paddr, m[i].size, pa, PAGE_SIZE) ||
		    overlaps(m[i].cmdline_paddr, 1024, pa, PAGE_SIZE))
			return (0);
	return (1);
}

uint64_t
smp_init(void)
{
	const struct hvm_start_info *si = guest_start_info();
	const struct acpi_info *a = acpi_get();
	size_t len = (size_t)(kit_smp_tramp_end - kit_smp_tramp);
	unsigned i;

	if (si == NULL || len > PAGE_SIZE)
		return (0);
	for (i = 0; i < sizeof(tramp_pages) / sizeof(tramp_pages[0]); i++) {
		if (!page_free(si, a, tramp_pages[i]))
			continue;
		tramp_pa = tramp_pages[i];
		memcpy((void *)(uintptr_t)tramp_pa, kit_smp_tramp, len);
		lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_ENABLE |
		    SVR_VECTOR);
		return (tramp_pa);
	}
	return (0);
}

void
smp_udelay(uint64_t us)
{
	uint64_t khz = guest_tsc_khz(), t0 = rdtsc();

	if (khz == 0)
		return;
	while (rdtsc() - t0 < us * khz / 1000)
		cpu_relax();
}

/* Send one IPI and wait until the APIC has taken it; 0 or -2. */
static int
send_ipi(unsigned apic_id, uint32_t icr_lo)
{
	unsigned i;

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);	/* the write sends it */
	for (i = 0; i < ICR_SPINS; i++)
		if ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) == 0)
			return (0);
	return (-2);
}

static int
wait_ack(volatile struct kit_smp_params *p, uint64_t us)
{
	uint64_t khz = guest_tsc_khz(), t0 = rdtsc();

	while (__atomic_load_n(&p->ack, __ATOMIC_ACQUIRE) == 0) {
		if (khz != 0 && rdtsc() - t0 >= us * khz / 1000)
			return (0);
		cpu_relax();
	}
	return (1);
}

int
smp_start_ap(unsigned apic_id, unsigned cpu, smp_ap_fn_t fn,
    unsigned timeout_ms)
{
	volatile struct kit_smp_params *p;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr, idtr;
	uint64_t cr3;
	uint32_t vector;
	int error, tries;

	if (tramp_pa == 0 || cpu == 0 || cpu >= KIT_SMP_MAX || apic_id > 0xff)
		return (-1);
	p = (volatile struct kit_smp_params *)(uintptr_t)(tramp_pa +
	    KIT_SMP_PARAMS_OFF);
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	p->gdt_limit = gdtr.limit;
	p->gdt_base = gdtr.base;
	p->idt_limit = idtr.limit;
	p->idt_base = idtr.base;
	p->cr3 = cr3;
	p->stack = (uint64_t)(uintptr_t)(kit_smp_stacks +
	    (uint64_t)cpu * KIT_SMP_STACK);
	p->fn = (uint64_t)(uintptr_t)fn;
	p->cpu = cpu;
	__atomic_store_n(&p->ack, 0, __ATOMIC_RELEASE);

	/* SDM vol. 3A §8.4.4.1: INIT, 10 ms, STARTUP, 200 us, STARTUP. */
	vector = (uint32_t)(tramp_pa >> 12);
	error = send_ipi(apic_id, ICR_DM_INIT | ICR_ASSERT);
	if (error != 0)
		return (error);
	smp_udelay(INIT_DELAY_US);
	for (tries = 0; tries < 2; tries++) {
		error = send_ipi(apic_id, ICR_DM_STARTUP | ICR_ASSERT | vector);
		if (error != 0)
			return (error);
		if (wait_ack(p, SIPI_DELAY_US))
			return (0);
	}
	return (wait_ack(p, (uint64_t)timeout_ms * 1000) ? 0 : -3);
}
