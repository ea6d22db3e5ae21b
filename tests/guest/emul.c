/*
 * emul: the instructions a host's KVM may fail to emulate at CPL0, as the
 * guest sees them.
 *
 * On hardware KVM these run natively.  On a nested, software-assisted
 * KVM (kvm_pvm) guest kernel code is emulated, and KVM's emulator cannot
 * run int3 or fwait there; khyve then emulates them itself (docs/boot.md
 * "PVM hosts").  Either way the guest must see what the CPU would do:
 *
 *   int3     #BP, a trap: the saved RIP points after the 1-byte
 *            instruction, no error code (Intel SDM vol. 3A §6.15,
 *            "Interrupt 3—Breakpoint Exception (#BP)"), and returning
 *            from the handler resumes right after the int3
 *   fwait    with no unmasked x87 exception pending (FSW.ES clear), a
 *            no-op (SDM vol. 2B "WAIT/FWAIT"; vol. 1 §8.6)
 *
 * With the argument "popcnt" the guest instead runs one instruction that
 * KVM's emulator cannot run and khyve does not emulate: on hardware KVM
 * it just runs, on a PVM host khyve stops the VM (exit 4) naming its
 * bytes.  The runner decides which to expect (tests/guest/run.sh).
 */
#include "kit.h"

#define N_INT3		5
#define N_FWAIT		3
#define FSW_ES		0x0080		/* x87 status word: error summary */
#define POPCNT_IN	((uint64_t)0xf0f0f0f0f0f0f0f0ULL)

static volatile unsigned bp_count;
static volatile uint64_t bp_rip;	/* frame RIP of the last #BP */
static volatile uint64_t bp_error;	/* its error code slot */
static volatile uint64_t bp_cs;

static int
bp_hook(struct trap_frame *f)
{
	if (f->vector != 3)
		return (0);
	/* A RIP left on the int3 would trap again forever: stop it here. */
	if (++bp_count > N_INT3)
		return (0);
	bp_rip = f->rip;
	bp_error = f->error;
	bp_cs = f->cs;
	return (1);			/* iretq to f->rip */
}

/* Run int3 once; returns the address of the instruction after it. */
static uint64_t
do_int3(uint64_t *kept)
{
	uint64_t after, v = 0x1234abcd5678ef00ULL;

	__asm__ volatile("int3\n"
	    "1:\tleaq 1b(%%rip), %0"
	    : "=r"(after), "+b"(v) : : "memory");
	*kept = v;
	return (after);
}

/*
 * The x87 status word by fnstsw to memory (dd /7), which KVM's emulator
 * runs; it has neither fwait nor fnstsw %ax (df e0).
 */
static uint16_t
read_fsw(void)
{
	uint16_t fsw;

	__asm__ volatile("fnstsw %0" : "=m"(fsw));
	return (fsw);
}

static void
check_int3(void)
{
	uint64_t after, kept;
	unsigned i;

	bp_count = 0;
	guest_set_trap_hook(bp_hook);
	for (i = 0; i < N_INT3; i++) {
		bp_rip = 0;
		after = do_int3(&kept);
		GCHECK_EQ(bp_count, i + 1);
		GCHECK_EQ(bp_rip, after);
		GCHECK_EQ(*(const uint8_t *)(uintptr_t)(after - 1), 0xcc);
		GCHECK_EQ(bp_error, 0);
		GCHECK_EQ(bp_cs, SEL_KCODE);
		GCHECK_EQ(kept, 0x1234abcd5678ef00ULL);
	}
	guest_set_trap_hook(NULL);
	printf("int3: %u #BP, last at rip 0x%lx (after the int3 at 0x%lx)\n",
	    bp_count, bp_rip, bp_rip - 1);
}

static void
check_fwait(void)
{
	uint64_t v = 0x0123456789abcdefULL;
	uint16_t before, after;
	unsigned i, done = 0;

	before = read_fsw();
	GCHECK_EQ(before & FSW_ES, 0);
	for (i = 0; i < N_FWAIT; i++) {
		__asm__ volatile("fwait" : "+b"(v) : : "memory");
		done++;
	}
	after = read_fsw();
	printf("fwait: %u done, FSW 0x%x before, 0x%x after\n", done, before,
	    after);
	GCHECK_EQ(done, N_FWAIT);
	GCHECK_EQ(after, before);
	GCHECK_EQ(v, 0x0123456789abcdefULL);
}

/*
 * popcnt %rax, %rax: f3 48 0f b8 c0 (SDM vol. 2B "POPCNT"), at a global
 * label so that its address can be printed before it runs.  Called once:
 * the label must not be duplicated.
 */
extern const char emul_popcnt[];

static void __attribute__((noinline))
check_popcnt(void)
{
	uint64_t v = POPCNT_IN;
	uint32_t eax, ebx, ecx, edx;

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
	    : "a"(1), "c"(0));
	printf("popcnt: CPUID.1:ECX.POPCNT %u; running f3 48 0f b8 c0 at "
	    "rip 0x%lx\n", (ecx >> 23) & 1, (uint64_t)(uintptr_t)emul_popcnt);
	__asm__ volatile(".globl emul_popcnt\n"
	    "emul_popcnt:\t.byte 0xf3, 0x48, 0x0f, 0xb8, 0xc0" : "+a"(v));
	printf("popcnt: 0x%lx has %lu bits set\n", POPCNT_IN, v);
	GCHECK_EQ(v, 32);
}

int
guest_main(void)
{
	if (arg_get("popcnt") != NULL) {
		check_popcnt();
		return (0);
	}
	check_int3();
	check_fwait();
	return (0);
}
