/*
 * syscall: SYSCALL from CPL3, and what khyve's PVM repair of it must and
 * must not do (docs/boot.md "PVM hosts"; run with -o x86.pvm_quirks=true
 * so that the repair is armed on any host).
 *
 * The guest has a kernel side of its own: an IDT #PF entry that starts
 * with a 3-byte NOP (0f 1f 00, a form pvm_patch_for() knows) and goes on
 * to the kit's handler, a SYSCALL entry (LSTAR) alone on a supervisor-only
 * page, STAR, SFMASK (TF DF IF IOPL NT AC, as Linux) and EFER.SCE.  Its
 * writing LSTAR is what arms the repair.  Then, from CPL3:
 *
 * (a) a real syscall must reach the entry at CPL0 (CS = STAR[47:32], IF
 *     and IOPL masked) with RCX = the next instruction and R11 = the
 *     flags before it, and sysretq must come back.  Natively where SYSCALL
 *     works, through the repair on a PVM host, which leaves the guest at
 *     LSTAR in user mode.  If it comes as a #PF at LSTAR instead, the guest
 *     prints what the host left (RCX, R11, the frame's RFLAGS) and fails;
 *     with "measure" (for -o x86.pvm_quirks=false on a PVM host) it only
 *     prints that, then completes the call itself.
 * (b) a jump to LSTAR with rcx=0xdeadbeef r11=0x3002 (IOPL 3, IF 0 for
 *     the kernel's return) must be the instruction-fetch #PF it is, seen
 *     by the guest's handler with those registers, never a kernel entry;
 * (c) so must a jump with RCX just past a real syscall instruction and
 *     R11 = the program's flags with IF and IOPL flipped (IOPL 3, IF 0
 *     where user mode runs with IOPL 0, IF 1, as on a PVM host).
 * The entry reports FAIL and powers off if it is ever reached other than
 * by (a).
 *
 * Then a kexec, simulated: a new IDT whose #PF entry is a second stub, a
 * new LSTAR write, and 90 90 90 (a NOP form again) over the old entry.
 * After 600 ms (three of khyve's 200 ms ticks) the old entry must still
 * hold those bytes, the new one must be patched (with "hook": out %al,
 * $0xef; without: untouched), and (a) and (b) must hold again.  The
 * scribbling comes after the LSTAR write so that no tick can fall between
 * them.
 */
#include "kit.h"

#define MSR_EFER	0xc0000080
#define EFER_SCE	(1ULL << 0)
#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_SFMASK	0xc0000084
#define SFMASK		0x47700ULL	/* TF DF IF IOPL NT AC */
#define RFLAGS_RF	(1ULL << 16)
#define FORGED_RCX	0xdeadbeefULL
#define FORGED_R11	0x3002ULL	/* IOPL 3, IF 0 */
#define WAIT_MS		600

/* Written at CPL0 by sys_entry. */
struct entry_seen {
	uint64_t n, rcx, r11, rflags, rsp;
	uint16_t cs, ss;
};
/* Written by the #PF hook: a fault at LSTAR from CPL3. */
struct fault_seen {
	uint64_t n, rcx, r11, rflags, error, cr2, cs;
};

struct entry_seen ent;
static struct fault_seen forged, unrepaired;
enum { PH_NONE, PH_SYSCALL, PH_FORGE };
int phase;				/* read by sys_entry */
static uint8_t idt2[256 * 16] __attribute__((aligned(16)));

extern char sys_entry[], sys_ret[], forged_back[], pf_entry1[], pf_entry2[];
extern const char kit_trap_stubs[];
uint64_t user_syscall(void);
void user_forge(const void *target);
void user_forge_flags(const void *target, const void *rcx);
void sys_forged_entered(void) __noreturn;

__asm__(
	/* The SYSCALL entry, alone on its page (made supervisor-only). */
	"	.section .text.sysentry, \"ax\"\n"
	"	.balign 4096\n"
	"	.globl sys_entry\n"
	"sys_entry:\n"
	"	movq %rcx, ent+8(%rip)\n"
	"	movq %r11, ent+16(%rip)\n"
	"	movq %rsp, ent+32(%rip)\n"
	"	movw %cs, ent+40(%rip)\n"
	"	movw %ss, ent+42(%rip)\n"
	"	pushfq\n"
	"	popq ent+24(%rip)\n"
	"	incq ent(%rip)\n"
	"	cmpl $1, phase(%rip)\n"		/* PH_SYSCALL */
	"	jne 1f\n"
	"	leaq sys_ret(%rip), %rax\n"
	"	cmpq %rax, %rcx\n"
	"	jne 1f\n"
	"	sysretq\n"
	"1:	andq $-16, %rsp\n"
	"	call sys_forged_entered\n"
	"	.balign 4096\n"
	"	.text\n"
	/* #PF entries: a NOP the repair knows, then the kit's stub. */
	"	.balign 16\n"
	"	.globl pf_entry1, pf_entry2\n"
	"pf_entry1:\n"
	"	.byte 0x0f, 0x1f, 0x00\n"
	"	jmp kit_trap_stubs + 16 * 14\n"
	"	.balign 16\n"
	"pf_entry2:\n"
	"	.byte 0x0f, 0x1f, 0x00\n"
	"	jmp kit_trap_stubs + 16 * 14\n"
	/* uint64_t user_syscall(void): RFLAGS just before the syscall. */
	"	.globl user_syscall, sys_ret\n"
	"user_syscall:\n"
	"	pushfq\n"
	"	popq %rdx\n"
	"	syscall\n"
	"sys_ret:\n"
	"	movq %rdx, %rax\n"
	"	ret\n"
	/* void user_forge(target): jmp *target with made-up RCX and R11. */
	"	.globl user_forge, forged_back\n"
	"user_forge:\n"
	"	movl $0xdeadbeef, %ecx\n"
	"	movl $0x3002, %r11d\n"
	"	jmp *%rdi\n"
	"forged_back:\n"
	"	ret\n"
	/*
	 * void user_forge_flags(target, rcx): R11 = RFLAGS ^ (IF | IOPL),
	 * RFLAGS as they were (POPF restores the arithmetic flags).
	 */
	"	.globl user_forge_flags\n"
	"user_forge_flags:\n"
	"	pushfq\n"
	"	popq %r11\n"
	"	pushq %r11\n"
	"	xorq $0x3200, %r11\n"
	"	popfq\n"
	"	movq %rsi, %rcx\n"
	"	jmp *%rdi\n");

/* The old kernel's entry was run at CPL0 by a jump from CPL3. */
void
sys_forged_entered(void)
{
	printf("FAIL: a jump to LSTAR from CPL3 entered the kernel at CPL0 "
	    "with rcx 0x%lx r11 0x%lx\n", ent.rcx, ent.r11);
	guest_exit(1);
}

static int
pf_hook(struct trap_frame *f)
{
	struct fault_seen *s;

	if (f->vector != 14 || (f->cs & 3) != 3 ||
	    f->rip != (uint64_t)(uintptr_t)sys_entry)
		return (0);
	if (phase == PH_FORGE)
		s = &forged;
	else if (phase == PH_SYSCALL)
		s = &unrepaired;
	else
		return (0);
	s->n++;
	s->rcx = f->rcx;
	s->r11 = f->r11;
	s->rflags = f->rflags;
	s->error = f->error;
	s->cr2 = read_cr2();
	s->cs = f->cs;
	/* Back to user mode: after the syscall, or past the jump. */
	f->rip = phase == PH_FORGE ? (uint64_t)(uintptr_t)forged_back : f->rcx;
	return (1);
}

/* The 4 KiB page-table entry of va (the kit's tables map it 1:1). */
static uint64_t *
pte_of(uint64_t va)
{
	uint64_t cr3, *t, e;
	int level;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	t = (uint64_t *)(uintptr_t)(cr3 & 0x000ffffffffff000ULL);
	for (level = 4; level > 1; level--) {
		e = t[(va >> (12 + 9 * (level - 1))) & 0x1ff];
		if ((e & 1) == 0 || (e & 0x80) != 0)
			return (NULL);
		t = (uint64_t *)(uintptr_t)(e & 0x000ffffffffff000ULL);
	}
	return (&t[(va >> 12) & 0x1ff]);
}

/* IDT gate 14 of the IDT at base: its handler becomes fn. */
static void
set_pf_gate(uint8_t *base, const void *fn)
{
	uint64_t off = (uint64_t)(uintptr_t)fn;
	uint8_t *g = base + 14 * 16;

	g[0] = (uint8_t)off;
	g[1] = (uint8_t)(off >> 8);
	g[6] = (uint8_t)(off >> 16);
	g[7] = (uint8_t)(off >> 24);
	g[8] = (uint8_t)(off >> 32);
	g[9] = (uint8_t)(off >> 40);
	g[10] = (uint8_t)(off >> 48);
	g[11] = (uint8_t)(off >> 56);
}

static uint8_t *
idt_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	return ((uint8_t *)(uintptr_t)idtr.base);
}

static long
setup_k(long unused)
{
	uint64_t *pte = pte_of((uint64_t)(uintptr_t)sys_entry);

	(void)unused;
	(void)guest_tsc_khz();			/* measured once, here */
	if (pte == NULL) {
		printf("syscall: no 4 KiB page under sys_entry %p\n",
		    (void *)sys_entry);
		return (-1);
	}
	*pte &= ~4ULL;				/* U/S = 0: supervisor only */
	__asm__ volatile("invlpg (%0)" : : "r"(sys_entry) : "memory");
	set_pf_gate(idt_base(), pf_entry1);
	guest_set_trap_hook(pf_hook);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* SYSRET: CS 0x18 + 16 = 0x2b, SS 0x23; SYSCALL: CS 0x08, SS 0x10. */
	wrmsr(MSR_STAR, (uint64_t)0x18 << 48 | (uint64_t)SEL_KCODE << 32);
	wrmsr(MSR_SFMASK, SFMASK);
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)sys_entry);
	return (0);
}

static long
kexec_k(long unused)
{
	static const uint8_t pad3[3] = { 0x90, 0x90, 0x90 };
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt2) - 1,
	    (uint64_t)(uintptr_t)idt2 };

	(void)unused;
	memcpy(idt2, idt_base(), sizeof(idt2));
	set_pf_gate(idt2, pf_entry2);
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)sys_entry);
	memcpy(pf_entry1, pad3, sizeof(pad3));
	return (0);
}

static void
check_syscall(const char *when, int measure)
{
	uint64_t n = ent.n, fl;

	phase = PH_SYSCALL;
	fl = user_syscall();
	phase = PH_NONE;
	if (unrepaired.n != 0) {
		printf("%s: SYSCALL from CPL3 left the guest at LSTAR in user "
		    "mode (#PF error 0x%lx cs 0x%lx): rcx 0x%lx (next insn "
		    "%p), r11 0x%lx, frame rflags 0x%lx, rflags before 0x%lx, "
		    "sfmask 0x%llx\n", when, unrepaired.error, unrepaired.cs,
		    unrepaired.rcx, (void *)sys_ret, unrepaired.r11,
		    unrepaired.rflags, fl, SFMASK);
		if (!measure)
			GCHECK_EQ(unrepaired.n, 0);
		unrepaired.n = 0;
		return;
	}
	printf("%s: syscall entered at cs 0x%x ss 0x%x rflags 0x%lx with rcx "
	    "0x%lx (next insn %p), r11 0x%lx (rflags before 0x%lx)\n", when,
	    ent.cs, ent.ss, ent.rflags, ent.rcx, (void *)sys_ret, ent.r11, fl);
	GCHECK_EQ(ent.n, n + 1);
	GCHECK_EQ(ent.cs, SEL_KCODE);
	GCHECK_EQ(ent.ss, SEL_KDATA);
	GCHECK_EQ(ent.rflags & SFMASK, 0);
	GCHECK_EQ(ent.rcx, (uint64_t)(uintptr_t)sys_ret);
	GCHECK_EQ(ent.r11 & ~RFLAGS_RF, fl & ~RFLAGS_RF);
	GCHECK_EQ(cpu_cpl(), 3);
}

static void
check_forged(const char *when, int flags)
{
	uint64_t n = ent.n;

	phase = PH_FORGE;
	if (flags)
		user_forge_flags(sys_entry, sys_ret);
	else
		user_forge(sys_entry);
	phase = PH_NONE;
	printf("%s: jump to LSTAR: #PF %lu, error 0x%lx at 0x%lx, rcx 0x%lx "
	    "r11 0x%lx, user rflags 0x%lx\n", when, forged.n, forged.error,
	    forged.cr2, forged.rcx, forged.r11, forged.rflags);
	GCHECK_EQ(forged.n, 1);
	GCHECK_EQ(forged.cr2, (uint64_t)(uintptr_t)sys_entry);
	GCHECK_EQ(forged.error & 5, 5);		/* protection, user mode */
	if (flags) {
		GCHECK_EQ(forged.rcx, (uint64_t)(uintptr_t)sys_ret);
		GCHECK_EQ((forged.r11 ^ forged.rflags) & ~RFLAGS_RF, 0x3200);
	} else {
		GCHECK_EQ(forged.rcx, FORGED_RCX);
		GCHECK_EQ(forged.r11, FORGED_R11);
	}
	GCHECK_EQ(ent.n, n);
	GCHECK_EQ(cpu_cpl(), 3);
	forged.n = 0;
}

int
guest_main_user(void)
{
	static const uint8_t pad3[3] = { 0x90, 0x90, 0x90 };
	static const uint8_t nop3[3] = { 0x0f, 0x1f, 0x00 };
	static const uint8_t hook3[2] = { 0xe6, 0xef };
	int hook = arg_get("hook") != NULL, measure = arg_get("measure") != NULL;
	uint64_t khz, t0;

	if (guest_kcall(setup_k, 0) != 0)
		return (1);
	printf("syscall: entry %p, #PF entry %p starts %02x %02x %02x\n",
	    (void *)sys_entry, (void *)pf_entry1, (uint8_t)pf_entry1[0],
	    (uint8_t)pf_entry1[1], (uint8_t)pf_entry1[2]);
	check_syscall("first kernel", measure);
	check_forged("first kernel", 0);
	check_forged("first kernel", 1);

	GCHECK_EQ(guest_kcall(kexec_k, 0), 0);
	khz = guest_tsc_khz();
	t0 = rdtsc();
	while (khz != 0 && rdtsc() - t0 < WAIT_MS * khz)
		cpu_relax();
	printf("kexec: after %u ms, old #PF entry %02x %02x %02x, new one "
	    "%p %02x %02x %02x\n", WAIT_MS, (uint8_t)pf_entry1[0],
	    (uint8_t)pf_entry1[1], (uint8_t)pf_entry1[2], (void *)pf_entry2,
	    (uint8_t)pf_entry2[0], (uint8_t)pf_entry2[1],
	    (uint8_t)pf_entry2[2]);
	GCHECK(khz != 0);
	GCHECK(memcmp(pf_entry1, pad3, 3) == 0);
	if (hook)
		GCHECK(memcmp(pf_entry2, hook3, 2) == 0);
	else
		GCHECK(memcmp(pf_entry2, nop3, 3) == 0);
	check_syscall("after kexec", measure);
	check_forged("after kexec", 0);
	check_forged("after kexec", 1);
	return (0);
}
