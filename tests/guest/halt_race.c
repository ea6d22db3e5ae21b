/*
 * halt_race: khyve must not declare the VM halted while a vCPU still
 * runs guest code (run with -c 2).
 *
 * The BSP spins spin_ms= (default 700) without exits, so that several of
 * khyve's 200 ms halt ticks look at the AP while it waits for its STARTUP
 * IPI (which counts as halted).  Then it starts the AP (INIT-SIPI-SIPI,
 * kit/smp.h) and halts with interrupts off.  The AP computes for work_ms=
 * (default 1500) without a single exit -- the in-kernel local APIC and
 * TSC need none -- and only then reports and powers off: khyve must exit
 * with status 1 (poweroff), not 2 (halt).  A monitor that trusts what it
 * saw of the AP before the SIPI woke it inside KVM declares the VM halted
 * while the AP computes.
 *
 * Both phases are timed by the TSC: guest kernel code runs about 300
 * times slower on a software-assisted host, so loop counts mean nothing.
 */
#include "kit.h"
#include "smp.h"

#define AP_WAIT_MS	2000		/* for the AP to leave the trampoline */

static uint64_t khz;			/* TSC kHz, measured by the BSP */
static uint64_t work_ms;

/* An exit-free computation: an LCG folded into an FNV-1a hash. */
static void
ap_main(unsigned cpu)
{
	uint64_t t0 = rdtsc(), end = work_ms * khz, rounds = 0;
	uint32_t h = 2166136261u, x = 12345;
	unsigned i;

	while (rdtsc() - t0 < end) {
		for (i = 0; i < 64; i++) {
			x = x * 1103515245u + 12345u;
			h = (h ^ (x >> 16)) * 16777619u;
		}
		rounds++;
	}
	printf("AP %u: computed %lu rounds (hash 0x%08x) in %lu ms, then "
	    "powering off\n", cpu, rounds, h, (rdtsc() - t0) / khz);
	GCHECK(rounds > 0);
	guest_exit(0);
}

int
guest_main(void)
{
	uint64_t spin_ms = arg_get_u64("spin_ms", 700), t0, page;
	unsigned ap = (unsigned)arg_get_u64("ap", 1);
	int error;

	work_ms = arg_get_u64("work_ms", 1500);
	khz = guest_tsc_khz();
	page = smp_init();
	printf("halt_race: TSC %lu kHz, trampoline 0x%lx; spinning %lu ms "
	    "while the AP waits for SIPI\n", khz, page, spin_ms);
	GCHECK(khz != 0);
	GCHECK(page != 0);
	if (khz == 0 || page == 0)
		return (1);
	/*
	 * From here to the HLT the BSP makes no exit either (the local APIC
	 * is in KVM): the first halt tick that sees it halted also sees the
	 * AP, just woken by its SIPI, for the first time since.
	 */
	printf("BSP: then starting the AP for %lu ms of work and halting with "
	    "interrupts off\n", work_ms);
	t0 = rdtsc();
	while (rdtsc() - t0 < spin_ms * khz)
		cpu_relax();
	error = smp_start_ap(ap, 1, ap_main, AP_WAIT_MS);
	if (error != 0) {
		printf("halt_race: apic id %u did not start (%d)\n", ap, error);
		return (1);
	}
	guest_halt();
}
