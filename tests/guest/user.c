/*
 * user: the body runs at CPL3 with IOPL=3.  It prints from user mode
 * (port I/O allowed by IOPL), checks its privilege level and IOPL, does
 * some computation at native speed, calls into CPL0 through the kit's
 * call gate and comes back, then powers off from user mode.
 */
#include "kit.h"

static long
cpl_in_kernel(long x)
{
	/* Runs at CPL0 through guest_kcall(): report CPL, mix in x. */
	return ((long)cpu_cpl() * 1000 + x);
}

/* A small data-heavy loop: FNV-1a over a pseudo-random buffer. */
static uint32_t
fnv_work(void)
{
	static uint8_t buf[16384];
	uint32_t h = 2166136261u, x = 12345;
	unsigned i, round;

	for (round = 0; round < 64; round++) {
		for (i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
		}
		for (i = 0; i < sizeof(buf); i++)
			h = (h ^ buf[i]) * 16777619u;
	}
	return (h);
}

int
guest_main_user(void)
{
	uint64_t fl = read_rflags(), t0, t1;
	uint32_t h;

	printf("hello from user mode: cs 0x%x rflags 0x%lx\n", read_cs(), fl);
	GCHECK_EQ(cpu_cpl(), 3);
	/*
	 * Nested software-assisted KVM shows CS 0x33 and IOPL 0 here, and
	 * the kit does CPL3 port I/O in its #GP handler (docs/testing.md);
	 * hardware KVM shows SEL_UCODE and IOPL 3.
	 */
	GCHECK(read_cs() == SEL_UCODE || read_cs() == 0x33);
	if (read_cs() == SEL_UCODE)
		GCHECK_EQ(RFLAGS_IOPL(fl), 3);

	/* Into CPL0 and back, twice (the gate must be reusable). */
	GCHECK_EQ(guest_kcall(cpl_in_kernel, 7), 7);
	GCHECK_EQ(guest_kcall(cpl_in_kernel, 42), 42);
	GCHECK_EQ(cpu_cpl(), 3);

	t0 = rdtsc();
	h = fnv_work();
	t1 = rdtsc();
	printf("user-mode work: hash 0x%08x in %lu TSC ticks\n", h, t1 - t0);
	GCHECK(h != 0);
	printf("port accesses done by the #GP handler: %lu\n",
	    kit_io_emulated);
	return (0);
}
