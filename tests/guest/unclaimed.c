/*
 * unclaimed: what the guest sees for a port, an MMIO address and an MSR
 * that nothing emulates.
 *
 *   msr=gp     rdmsr/wrmsr of an unknown MSR raise #GP (khyve's default,
 *              x86.strictmsr=true)
 *   msr=zero   the read returns 0 and the write is ignored (-w)
 *
 * An unclaimed port reads all-ones and an unclaimed MMIO address reads
 * all-ones (khyve without -e).  With -e the first unclaimed access stops
 * the VM (exit 4), so the guest prints a line before it and "still
 * running" after it.
 *
 *   hole_byte=B  what each byte of the unclaimed MMIO address reads
 *                instead (default 0xff; QEMU's unassigned memory reads 0)
 */
#include "kit.h"

#define UNKNOWN_MSR	0x00001234u
#define HOLE_GPA	0xd0000000ull	/* inside the 32-bit PCI window */

static volatile int gp_count;

static int
gp_hook(struct trap_frame *f)
{
	if (f->vector != 13)
		return (0);
	gp_count++;
	f->rip += 2;			/* rdmsr / wrmsr are 0f 32 / 0f 30 */
	return (1);
}

int
guest_main(void)
{
	/* Before arg_get("msr"): its value lives until the next arg_get(). */
	uint8_t hole = (uint8_t)arg_get_u64("hole_byte", 0xff);
	const char *want = arg_get("msr");
	uint32_t lo, hi, v;

	printf("touching unclaimed port 0x1234\n");
	GCHECK_EQ(inb(0x1234), 0xff);
	GCHECK_EQ(inl(0x1234), 0xffffffffu);
	outb(0x1234, 0x5a);
	printf("still running after port I/O\n");
	v = mmio_read32(HOLE_GPA);
	printf("MMIO 0x%llx reads 0x%08x (each byte 0x%02x expected)\n",
	    HOLE_GPA, v, hole);
	GCHECK_EQ(v, hole * 0x01010101u);
	mmio_write32(HOLE_GPA, 0);
	GCHECK_EQ(mmio_read8(HOLE_GPA + 3), hole);

	guest_set_trap_hook(gp_hook);
	lo = hi = 0xdeadbeef;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(UNKNOWN_MSR));
	__asm__ volatile("wrmsr" : : "c"(UNKNOWN_MSR), "a"(1), "d"(0));
	guest_set_trap_hook(NULL);
	printf("rdmsr 0x%x: %s, value 0x%x%08x\n", UNKNOWN_MSR,
	    gp_count ? "#GP" : "no fault", hi, lo);
	if (want != NULL && strcmp(want, "gp") == 0) {
		GCHECK_EQ(gp_count, 2);
	} else {
		GCHECK_EQ(gp_count, 0);
		GCHECK_EQ(lo, 0);
		GCHECK_EQ(hi, 0);
	}
	guest_exit(0);
}
