/*
 * timer: interrupts reach a running vCPU.  The local APIC timer runs in
 * periodic mode; the guest counts its interrupts for a TSC-measured
 * interval while it spins (no HLT, so nothing but the interrupt itself
 * can make the monitor or KVM look at the vCPU), then again while it
 * halts between interrupts.  It also counts PIT interrupts (IRQ 0,
 * IOAPIC pin 2 per the MADT override) while halted.
 */
#include "kit.h"

#define LAPIC		0xfee00000ull
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_ICR	0x380
#define LAPIC_TIMER_DCR	0x3e0
#define IOAPIC		0xfec00000ull
#define VEC_TIMER	0x40
#define VEC_PIT		0x41

static volatile uint64_t ticks, pit_ticks;

static int
irq_hook(struct trap_frame *f)
{
	if (f->vector == VEC_TIMER)
		ticks++;
	else if (f->vector == VEC_PIT)
		pit_ticks++;
	else
		return (0);
	mmio_write32(LAPIC + LAPIC_EOI, 0);
	return (1);
}

static void
ioapic_write(unsigned reg, uint32_t val)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOAPIC + 0x10, val);
}

/* Count ticks over ms milliseconds of TSC time, spinning or halting. */
static uint64_t
count(volatile uint64_t *ctr, uint64_t ms, int halt)
{
	uint64_t start = *ctr, end = rdtsc() + guest_tsc_khz() * ms;

	__asm__ volatile("sti" ::: "memory");
	while (rdtsc() < end) {
		if (halt)
			__asm__ volatile("hlt" ::: "memory");
		else
			__asm__ volatile("pause" ::: "memory");
	}
	__asm__ volatile("cli" ::: "memory");
	return (*ctr - start);
}

int
guest_main(void)
{
	uint64_t spin, halted, pit;

	guest_set_trap_hook(irq_hook);
	mmio_write32(LAPIC + LAPIC_SVR, 0x1ff);		/* enable, spurious 0xff */
	mmio_write32(LAPIC + LAPIC_TIMER_DCR, 0xb);	/* divide by 1 */
	mmio_write32(LAPIC + LAPIC_LVT_TIMER, (1u << 17) | VEC_TIMER);
	/* 1 ms at a 1 GHz bus would be 1e6; any rate > 20 Hz will do. */
	mmio_write32(LAPIC + LAPIC_TIMER_ICR, 1000000);

	spin = count(&ticks, 500, 0);
	halted = count(&ticks, 500, 1);
	mmio_write32(LAPIC + LAPIC_LVT_TIMER, 1u << 16);	/* masked */
	printf("LAPIC timer: %lu interrupts spinning, %lu halted (500 ms each)\n",
	    spin, halted);

	/* PIT channel 0, mode 2, ~1 kHz; IRQ 0 arrives at IOAPIC pin 2. */
	ioapic_write(0x10 + 2 * 2 + 1, 0);			/* dest APIC 0 */
	ioapic_write(0x10 + 2 * 2, VEC_PIT);			/* edge, high */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	pit = count(&pit_ticks, 500, 1);
	ioapic_write(0x10 + 2 * 2, 1u << 16);			/* masked */
	printf("PIT: %lu interrupts in 500 ms on IOAPIC pin 2\n", pit);

	GCHECK(spin >= 10);
	GCHECK(halted >= 10);
	GCHECK(pit >= 100);
	guest_exit(0);
}
