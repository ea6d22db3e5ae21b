/*
 * pwrbtn: the ACPI power button reaches the guest as an SCI interrupt.
 *
 * The guest routes the SCI (FADT SCI_INT, through the MADT interrupt
 * source override, which must say level-triggered and active-low, or
 * active-high with "sci_polarity=high": QEMU's MADT says so) to a vector
 * on the boot CPU through the I/O APIC, enables the local APIC and its
 * timer (a periodic wake-up that bounds the wait), sets PWRBTN_EN in
 * PM1_EN, prints "READY" and waits in "sti; hlt" for up to 60 s.  The
 * runner then presses the power button (khyve: SIGTERM; QEMU: the
 * monitor's system_powerdown).  The SCI handler reads PM1_STS, clears PWRBTN_STS (write 1 to clear) and
 * sends the EOI; the guest checks that one SCI came with PWRBTN_STS set
 * (a copy of it found already pending in the local APIC's IRR while it is
 * in service is counted apart: nested kvm_pvm hosts deliver a level
 * interrupt twice, under QEMU too), that the status is clear afterwards
 * and the I/O APIC's Remote IRR is clear again, prints "power button" and
 * powers off (S5).  With "early" on the command line a press that came
 * before the guest started (PWRBTN_STS already set) counts too.  With
 * "ignore" it leaves PWRBTN_EN clear, as a guest with no ACPI daemon (or
 * one still booting) does: a press raises no SCI and the guest waits the
 * whole 60 s, then prints "ignored the power button" and powers off (the
 * poweroff.grace tests, signals.py, stop it before that).  Sixteen
 * SCIs mask the pin, so a line stuck high ends
 * in FAIL instead of an interrupt storm.
 *
 * References: ACPI 6.4 §4.8.3.1 (PM1 event registers: PM1_STS at the
 * start of the PM1a_EVT block, PM1_EN at half its length; PWRBTN_STS and
 * PWRBTN_EN are bit 8), §5.2.9 (FADT SCI_INT, PM1a_EVT_BLK, PM1_EVT_LEN),
 * §5.2.12.5 (interrupt source override); Intel 82093AA I/O APIC data sheet
 * §3.2 (IOREGSEL, IOWIN, IOREDTBL); Intel SDM vol. 3A §10.5.4 (APIC
 * timer), §10.8.5 (EOI), §10.9 (SVR).
 */
#include "kit.h"
#include "smp.h"

#define IOAPIC_BASE	0xfec00000ULL
#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPIC_VER	0x01		/* bits 23:16: highest entry */
#define IOREDTBL(pin)	(0x10 + 2 * (pin))
#define RTE_ACTIVE_LOW	(1u << 13)
#define RTE_REMOTE_IRR	(1u << 14)
#define RTE_LEVEL	(1u << 15)
#define RTE_MASKED	(1u << 16)

#define LVT_MASKED	(1u << 16)
#define LVT_PERIODIC	(1u << 17)
#define DCR_DIV16	0x3
#define TIMER_COUNT	1000000		/* ~16 ms with a 1 GHz APIC clock */
#define SVR_ENABLE	0x100
#define SVR_VECTOR	0xff		/* spurious vector */

#define SCI_VECTOR	0x50
#define TIMER_VECTOR	0x51

#define LAPIC_IRR(v)	(0x200 + ((v) / 32) * 0x10)	/* SDM §10.8.4 */
#define SCI_STORM	16		/* SCIs before the pin is masked */

#define PM1_PWRBTN	0x0100		/* PWRBTN_STS / PWRBTN_EN */
#define PM1_CNT_SCI_EN	0x0001
#define WAIT_S		60		/* for the button */
#define SETTLE_MS	100		/* for a second SCI */

static uint16_t pm1_sts, pm1_en;	/* ports */
static unsigned sci_gsi_pin;		/* I/O APIC pin of the SCI */
static volatile unsigned sci_count, tick_count;
static volatile unsigned sci_repeats;	/* copies queued while in service */
static volatile uint16_t sci_sts[2];	/* PM1_STS at the first two SCIs */
static volatile uint16_t sts_after;	/* PM1_STS after the W1C write */

static uint32_t
ioapic_read(unsigned reg)
{
	mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
	return (mmio_read32(IOAPIC_BASE + IOWIN));
}

static void
ioapic_write(unsigned reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOREGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOWIN, v);
}

static int
sci_hook(struct trap_frame *f)
{
	uint16_t sts;

	if (f->vector == TIMER_VECTOR) {
		tick_count++;
		lapic_write(LAPIC_EOI, 0);
		return (1);
	}
	if (f->vector != SCI_VECTOR)
		return (0);
	/*
	 * The same vector already pending again while this one is in
	 * service: the I/O APIC cannot have sent it (Remote IRR is set until
	 * the EOI), so it is a repeat of this delivery.  Nested kvm_pvm hosts
	 * do this, under QEMU as well (docs/testing.md).
	 */
	if (lapic_read(LAPIC_IRR(SCI_VECTOR)) & (1u << (SCI_VECTOR % 32)))
		sci_repeats++;
	sts = inw(pm1_sts);
	if (sci_count < 2)
		sci_sts[sci_count] = sts;
	sci_count++;
	/* Clear before the EOI, or the level SCI is delivered again. */
	outw(pm1_sts, sts & PM1_PWRBTN);
	sts_after = inw(pm1_sts);
	if (sts_after & inw(pm1_en))
		outw(pm1_en, 0);	/* a stuck status: stop the storm */
	if (sci_count >= SCI_STORM)	/* a stuck line: the same */
		ioapic_write(IOREDTBL(sci_gsi_pin), RTE_MASKED);
	lapic_write(LAPIC_EOI, 0);
	return (1);
}

/* A FADT I/O port: the X_ GAS when it names system I/O, else legacy. */
static uint32_t
fadt_port(const uint8_t *f, uint32_t flen, unsigned legacy, unsigned xoff)
{
	struct acpi_gas g;
	uint32_t v = 0;

	if (flen >= xoff + sizeof(g)) {
		memcpy(&g, f + xoff, sizeof(g));
		if (g.space == 1 && g.address != 0 && g.address < 0x10000)
			return ((uint32_t)g.address);
	}
	if (flen >= legacy + 4)
		memcpy(&v, f + legacy, 4);
	return (v);
}

/* The SCI's GSI and MPS INTI flags from the MADT (default: identity,
 * level, active-low: ACPI 6.4 §5.2.9, SCI_INT). */
static unsigned
sci_gsi(unsigned sci, uint16_t *flags)
{
	const struct acpi_sdt *madt = acpi_get()->madt;
	const uint8_t *p = (const uint8_t *)madt, *e;
	unsigned off, gsi = sci;
	uint32_t g;

	*flags = 0;
	if (madt == NULL)
		return (gsi);
	for (off = 44; off + 2 <= madt->length; off += e[1]) {
		e = p + off;
		if (e[1] < 2 || off + e[1] > madt->length)
			break;
		if (e[0] != 2 || e[1] < 10 || e[2] != 0 || e[3] != sci)
			continue;
		memcpy(&g, e + 4, 4);
		memcpy(flags, e + 8, 2);
		gsi = g;
	}
	return (gsi);
}

int
guest_main(void)
{
	const struct acpi_info *a = acpi_get();
	const uint8_t *f = (const uint8_t *)a->fadt;
	uint32_t evt, flen, low, nrte;
	unsigned sci, gsi, level, low_active;
	uint64_t khz, t0, t1;
	uint16_t flags;
	const char *pol = arg_get("sci_polarity");
	unsigned want_low = pol == NULL || strcmp(pol, "high") != 0;
	int ignore = arg_get("ignore") != NULL;

	GCHECK(f != NULL);
	if (f == NULL)
		return (1);
	flen = a->fadt->length;
	evt = fadt_port(f, flen, 56, 148);		/* PM1a_EVT_BLK */
	sci = flen >= 48 ? (unsigned)(f[46] | f[47] << 8) : 0;
	printf("FADT: PM1a_EVT 0x%x len %u, PM1a_CNT 0x%x, SCI_INT %u\n",
	    evt, flen > 88 ? f[88] : 0, a->pm1a_cnt, sci);
	GCHECK(evt != 0 && flen > 88 && f[88] >= 4);
	if (evt == 0 || flen <= 88 || f[88] < 4)
		return (1);
	pm1_sts = (uint16_t)evt;
	pm1_en = (uint16_t)(evt + f[88] / 2);

	gsi = sci_gsi(sci, &flags);
	level = (flags >> 2 & 3) != 1;			/* 0 conforms: level */
	low_active = (flags & 3) != 1;			/* 0 conforms: low */
	nrte = (ioapic_read(IOAPIC_VER) >> 16 & 0xff) + 1;
	printf("SCI: IRQ %u -> GSI %u, flags 0x%x (%s, active %s), I/O APIC "
	    "pins %u, vector 0x%x\n", sci, gsi, flags, level ? "level" :
	    "edge", low_active ? "low" : "high", nrte, SCI_VECTOR);
	GCHECK(level);
	GCHECK_EQ(low_active, want_low);
	GCHECK(gsi < nrte);
	if (gsi >= nrte)
		return (1);

	sci_gsi_pin = gsi;
	guest_set_trap_hook(sci_hook);
	ioapic_write(IOREDTBL(gsi) + 1, lapic_id() << 24);
	ioapic_write(IOREDTBL(gsi), SCI_VECTOR | (level ? RTE_LEVEL : 0) |
	    (low_active ? RTE_ACTIVE_LOW : 0));
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_ENABLE |
	    SVR_VECTOR);
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV16);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LVT_PERIODIC);
	lapic_write(LAPIC_TIMER_ICR, TIMER_COUNT);

	GCHECK(inw((uint16_t)a->pm1a_cnt) & PM1_CNT_SCI_EN);
	/* Nothing stale, unless told that a press may come before READY
	 * ("early": the runner signals khyve while it is still setting up). */
	if (arg_get("early") == NULL)
		outw(pm1_sts, PM1_PWRBTN);
	if (!ignore)
		outw(pm1_en, inw(pm1_en) | PM1_PWRBTN);
	printf("PM1_STS 0x%04x PM1_EN 0x%04x PM1_CNT 0x%04x\n", inw(pm1_sts),
	    inw(pm1_en), inw((uint16_t)a->pm1a_cnt));
	GCHECK(((inw(pm1_en) & PM1_PWRBTN) != 0) == !ignore);

	khz = guest_tsc_khz();
	GCHECK(khz != 0);
	printf("READY\n");
	t0 = rdtsc();
	while (sci_count == 0 && (khz == 0 || rdtsc() - t0 < WAIT_S * khz *
	    1000))
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	/* A level SCI still asserted would come again after the EOI: give it
	 * a few timer ticks (only when the timer ticks, or hlt could last). */
	t1 = rdtsc();
	while (sci_count != 0 && tick_count != 0 && khz != 0 &&
	    rdtsc() - t1 < SETTLE_MS * khz)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_ICR, 0);
	if (ignore) {
		GCHECK_EQ(sci_count, 0);
		printf("ignored the power button\n");
		return (0);
	}

	low = ioapic_read(IOREDTBL(gsi));
	printf("SCI: %u interrupt(s) after %lu ms, PM1_STS 0x%04x at the "
	    "first, 0x%04x after clearing; %u timer ticks; RTE 0x%08x\n",
	    sci_count, khz != 0 ? (rdtsc() - t0) / khz : 0, sci_sts[0],
	    sts_after, tick_count, low);
	if (sci_count == 0)
		printf("no SCI; PM1_STS 0x%04x now\n", inw(pm1_sts));
	if (sci_repeats != 0)
		printf("SCI: %u repeated while in service (PM1_STS 0x%04x the "
		    "second time): a host delivery quirk\n", sci_repeats,
		    sci_sts[1]);
	/* One button press, one SCI (and its repeats, if any). */
	GCHECK_EQ(sci_count - sci_repeats, 1);
	GCHECK(sci_sts[0] & PM1_PWRBTN);
	if (sci_count >= 2)
		GCHECK_EQ(sci_sts[1] & PM1_PWRBTN, 0);
	GCHECK_EQ(sts_after & PM1_PWRBTN, 0);
	GCHECK_EQ(low & RTE_REMOTE_IRR, 0);
	ioapic_write(IOREDTBL(gsi), RTE_MASKED);
	if (sci_count != 0 && (sci_sts[0] & PM1_PWRBTN))
		printf("power button\n");
	return (0);
}
