/*
 * smp.h: starting application processors from a test guest.
 *
 * The kit's boot path brings up the bootstrap processor only.  smp.c and
 * smp.S add what an operating system does next (Intel SDM vol. 3A §8.4.4
 * "MP Initialization Example"): copy a real-mode trampoline into a free
 * RAM page below 1 MiB, then send each AP an INIT IPI and a STARTUP IPI
 * (a second one if it does not answer) through the local APIC.  The AP runs the trampoline from
 * vector * 0x1000, switches to protected mode, then to long mode with the
 * kit's page tables, GDT and IDT (passed in a parameter block next to the
 * trampoline), and calls a C function on its own stack.
 *
 * Usable at CPL0 only (the local APIC and the trampoline page are
 * written directly).  SDM section numbers here and in smp.c, smp.S and the
 * tests that use them follow the 2016-2022 editions (chapter 8 MP
 * management, chapter 10 APIC); later editions number one chapter up.
 * Shared by C (smp.c, tests) and assembly (smp.S).
 */
#ifndef KIT_SMP_H
#define KIT_SMP_H

#define KIT_SMP_MAX		16	/* CPUs, the BSP included */
#define KIT_SMP_STACK		16384	/* bytes of stack per AP */
#define KIT_SMP_PARAMS_OFF	0x80	/* parameter block in the page */

/* Parameter block offsets (struct kit_smp_params in smp.c). */
#define KIT_SMP_P_GDT		6	/* GDTR: limit at 6, base at 8 */
#define KIT_SMP_P_IDT		22	/* IDTR: limit at 22, base at 24 */
#define KIT_SMP_P_CR3		32
#define KIT_SMP_P_STACK		40	/* top of the AP's stack */
#define KIT_SMP_P_FN		48	/* void fn(unsigned cpu) */
#define KIT_SMP_P_CPU		56	/* logical CPU number given to fn */
#define KIT_SMP_P_ACK		60	/* set by the AP once it is done here */
#define KIT_SMP_P_SIZE		64

#define LAPIC_BASE		0xfee00000ULL	/* xAPIC MMIO (SDM §10.4.1) */
#define LAPIC_ID		0x020	/* bits 31:24: the APIC ID */
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0	/* spurious vector, bit 8 enable */
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310	/* bits 31:24: destination */
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_ICR		0x380	/* initial count */
#define LAPIC_TIMER_DCR		0x3e0	/* divide configuration */

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef void (*smp_ap_fn_t)(unsigned cpu);

static inline uint32_t
lapic_read(unsigned reg)
{
	return (*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg));
}

static inline void
lapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg) = v;
}

/* This CPU's APIC ID from its local APIC ID register (xAPIC: 8 bits). */
static inline unsigned
lapic_id(void)
{
	return (lapic_read(LAPIC_ID) >> 24);
}

/*
 * Pick the first free RAM page from a fixed list below 1 MiB (RAM in the
 * start_info memory map, clear of start_info, its memory map, module list,
 * command line and RSDP), copy the trampoline there and software-enable
 * this CPU's local APIC.  Reads the ACPI tables first (acpi_get()), since
 * the page may lie where the monitor put boot data the kit has no more
 * use for.  Returns the page's address, or 0 when none is usable.
 */
uint64_t smp_init(void);

/*
 * Start the AP with APIC ID apic_id as logical CPU cpu (1 to
 * KIT_SMP_MAX - 1; each number owns one stack) running fn(cpu) with
 * interrupts off; fn must not return (if it does, the AP halts).
 * INIT, 10 ms, STARTUP, and a second STARTUP only when the AP has not
 * answered within 200 us.  Waits until the AP has left the parameter
 * block (at most timeout_ms), so APs are started one at a time.
 * Returns 0, -1 when smp_init() has not succeeded or an argument is out of
 * range, -2 when the ICR stays busy, -3 when the AP does not answer.
 */
int smp_start_ap(unsigned apic_id, unsigned cpu, smp_ap_fn_t fn,
    unsigned timeout_ms);

/* Busy-wait about us microseconds by the TSC (guest_tsc_khz()); returns
 * at once when the TSC could not be calibrated. */
void smp_udelay(uint64_t us);
#endif /* __ASSEMBLER__ */

#endif /* KIT_SMP_H */
