/*
 * trap.c: exceptions, the CPL3 -> CPL0 call gate, and port I/O on behalf
 * of CPL3 when the CPU refuses it.
 *
 * A test that faults must never hang the VM: every unexpected exception
 * prints what happened and ends with a triple fault, which the monitor
 * reports with its own exit status (3 for khyve and bhyve).
 */
#include "kit.h"

static trap_hook_t trap_hook;
static int in_trap;			/* nesting: a fault while reporting */
unsigned long kit_io_emulated;

/* Mnemonics from the SDM vol. 3A §6.15, table 6-1. */
static const char *const vec_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

void
guest_set_trap_hook(trap_hook_t hook)
{
	trap_hook = hook;
}

/*
 * A #GP from CPL3 on IN/OUT: the body asked for IOPL=3, which hardware
 * KVM honours, but nested software-assisted KVM runs CPL3 with IOPL=0.
 * Do the access here, as Xen does for PV guests' virtual IOPL.  Only the
 * one-operand forms (SDM vol. 2: E4-E7 imm8, EC-EF DX; 66 = 16-bit);
 * string I/O is not emulated.  Returns 1 when the instruction was done.
 */
int
kit_emulate_io(struct trap_frame *f)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)f->rip;
	unsigned len = 0, size = 4, port;
	uint32_t v;
	uint8_t op;

	if ((f->cs & 3) != 3 || f->rip < 0x1000 || f->rip >= (4ULL << 30) - 16)
		return (0);
	while (len < 4 && (p[len] == 0x66 || (p[len] & 0xf0) == 0x40)) {
		if (p[len] == 0x66)
			size = 2;
		len++;
	}
	op = p[len++];
	if (op == 0xfa || op == 0xfb) {		/* cli, sti: IF stays 0 */
		f->rip += len;
		return (1);
	}
	if (op < 0xe4 || (op > 0xe7 && op < 0xec) || op > 0xef)
		return (0);
	if ((op & 1) == 0)
		size = 1;
	port = (op & 0x08) ? (uint16_t)f->rdx : p[len++];
	if (op & 0x02) {			/* OUT */
		if (size == 1)
			outb((uint16_t)port, (uint8_t)f->rax);
		else if (size == 2)
			outw((uint16_t)port, (uint16_t)f->rax);
		else
			outl((uint16_t)port, (uint32_t)f->rax);
	} else {				/* IN */
		if (size == 1) {
			v = inb((uint16_t)port);
			f->rax = (f->rax & ~0xffULL) | v;
		} else if (size == 2) {
			v = inw((uint16_t)port);
			f->rax = (f->rax & ~0xffffULL) | v;
		} else {
			f->rax = inl((uint16_t)port);	/* zero-extends */
		}
	}
	f->rip += len;
	kit_io_emulated++;
	return (1);
}

void
kit_trap(struct trap_frame *f)
{
	if (f->vector == 6 && (f->cs & 3) == 3 &&
	    f->rip == (uint64_t)(uintptr_t)kit_kcall_ud2) {
		f->rax = (uint64_t)((long (*)(long))f->rdi)((long)f->rsi);
		f->rip += 2;
		return;
	}
	if (f->vector == 13 && f->error == 0 && kit_emulate_io(f))
		return;
	if (in_trap) {
		/* The report itself faulted: nothing left to trust. */
		guest_triple_fault();
	}
	if (trap_hook != NULL && trap_hook(f))
		return;
	in_trap = 1;
	printf("\nkit: exception %lu (%s) error 0x%lx at rip 0x%lx "
	    "cs 0x%lx (CPL%lu)\n", f->vector,
	    f->vector < 32 ? vec_names[f->vector] : "interrupt", f->error,
	    f->rip, f->cs, f->cs & 3);
	if (f->vector == 14)
		printf("kit: #PF address 0x%lx (%s, %s, %s)\n", read_cr2(),
		    (f->error & 1) ? "protection" : "not present",
		    (f->error & 2) ? "write" : "read",
		    (f->error & 4) ? "user" : "supervisor");
	printf("kit: rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx\n",
	    f->rax, f->rbx, f->rcx, f->rdx);
	printf("kit: rsi 0x%lx rdi 0x%lx rbp 0x%lx rsp 0x%lx rflags 0x%lx\n",
	    f->rsi, f->rdi, f->rbp, f->rsp, f->rflags);
	printf("FAIL exception\n");
	guest_triple_fault();
}
