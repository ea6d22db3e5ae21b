/*
 * timer: interrupts reach a running vCPU.  The local APIC timer runs in
 * periodic mode; the guest counts its interrupts for a TSC-measured
 * interval while it spins (no HLT, so nothing but the interrupt itself
 * can make the monitor or KVM look at the vCPU), then again while it
 * halts between interrupts.  It also counts PIT interrupts (IRQ 0,
 * IOAPIC pin 2 per the MADT override) while halted, then TSC-deadline
 * interrupts, each re-armed 1 ms ahead by its handler, while halted:
 * arguments deadline_min=N and deadline_max=N bound that count (khyve's
 * x86.pvm_timer_min_us spaces them; the test sets it both ways).
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
#define VEC_DEADLINE	0x42
#define MSR_TSC_DEADLINE 0x6e0

static volatile uint64_t ticks, pit_ticks, deadline_ticks;
static uint64_t deadline_step;		/* TSC ticks in 1 ms */

static int
irq_hook(struct trap_frame *f)
{
	if (f->vector == VEC_TIMER)
		ticks++;
	else if (f->vector == VEC_PIT)
		pit_ticks++;
	else if (f->vector == VEC_DEADLINE) {
		deadline_ticks++;
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + deadline_step);
	} else
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
	uint64_t spin, halted, pit, dl;
	uint32_t eax, ebx, ecx, edx;

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

	/* TSC-deadline mode (SDM vol. 3A §11.5.4.1), if CPUID.01H:ECX[24]. */
	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
	    : "a"(1), "c"(0));
	if (ecx & (1u << 24)) {
		deadline_step = guest_tsc_khz();
		mmio_write32(LAPIC + LAPIC_LVT_TIMER, (2u << 17) | VEC_DEADLINE);
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + deadline_step);
		dl = count(&deadline_ticks, 500, 1);
		mmio_write32(LAPIC + LAPIC_LVT_TIMER, 1u << 16);
		wrmsr(MSR_TSC_DEADLINE, 0);
		printf("TSC deadline: %lu interrupts in 500 ms, re-armed 1 ms "
		    "ahead\n", dl);
		GCHECK(dl >= arg_get_u64("deadline_min", 10));
		GCHECK(dl <= arg_get_u64("deadline_max", 1000));
	} else
		printf("TSC deadline: not offered (CPUID.01H:ECX[24] clear)\n");

	GCHECK(spin >= 10);
	GCHECK(halted >= 10);
	GCHECK(pit >= 100);
	guest_exit(0);
}
