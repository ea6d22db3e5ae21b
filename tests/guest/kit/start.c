/*
 * start.c: from long mode to the test body: TSS and IDT, the PVH
 * start_info and command line, CPL3 entry and the CPL3 -> CPL0 call gate.
 */
#include "kit.h"

extern uint64_t kit_gdt[];
extern const char kit_trap_stubs[];
extern char trap_stack_top[], ist_stack_top[], user_stack_top[];

/* The test defines one of these; the other stays a null weak reference. */
extern int guest_main(void) __attribute__((weak));
extern int guest_main_user(void) __attribute__((weak));

struct tss64 {				/* SDM vol. 3A §8.7, figure 8-11 */
	uint32_t reserved0;
	uint64_t rsp[3];		/* stack for a switch to CPL 0-2 */
	uint64_t reserved1;
	uint64_t ist[7];		/* IST1..IST7 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;		/* past the limit: no I/O bitmap */
} __attribute__((packed));

struct idt_gate {			/* SDM vol. 3A §6.14.1, figure 6-8 */
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;			/* bits 0-2: IST index */
	uint8_t type;			/* P, DPL, 0, gate type */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static const struct hvm_start_info *start_info;
static char cmdline[1024];		/* copy; words split by arg_get */

static void
set_gate(unsigned vec, unsigned ist)
{
	uint64_t off = (uint64_t)(uintptr_t)&kit_trap_stubs[16 * vec];

	idt[vec].off_lo = (uint16_t)off;
	idt[vec].sel = SEL_KCODE;
	idt[vec].ist = (uint8_t)ist;
	idt[vec].type = 0x8e;		/* present, DPL0, interrupt gate */
	idt[vec].off_mid = (uint16_t)(off >> 16);
	idt[vec].off_hi = (uint32_t)(off >> 32);
	idt[vec].reserved = 0;
}

void
kit_idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
	unsigned v;

	/* 64-bit TSS descriptor, type 9 (available), present (§8.2.3). */
	tss.rsp[0] = (uint64_t)(uintptr_t)trap_stack_top;
	tss.ist[0] = (uint64_t)(uintptr_t)ist_stack_top;
	tss.iomap_base = sizeof(tss);
	kit_gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	    (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
	    (((base >> 24) & 0xff) << 56);
	kit_gdt[SEL_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));

	/* IF stays 0; a stray interrupt is reported like an exception. */
	for (v = 0; v < 256; v++)
		set_gate(v, (v == 2 || v == 8 || v == 18) ? 1 : 0);
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (uint64_t)(uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

const struct hvm_start_info *
guest_start_info(void)
{
	return (start_info);
}

const char *
guest_cmdline(void)
{
	return (cmdline);
}

void
kit_args_init(uint64_t cmdline_pa)
{
	const char *s;
	size_t i;

	cmdline[0] = '\0';
	if (cmdline_pa == 0 || cmdline_pa >= (4ULL << 30) - sizeof(cmdline))
		return;
	s = (const char *)(uintptr_t)cmdline_pa;
	for (i = 0; i < sizeof(cmdline) - 1 && s[i] != '\0'; i++)
		cmdline[i] = s[i];
	cmdline[i] = '\0';
}

const char *
arg_get(const char *name)
{
	static char val[256];
	size_t nlen = strlen(name), i;
	const char *p = cmdline;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, name, nlen) == 0 &&
		    (p[nlen] == '=' || p[nlen] == ' ' || p[nlen] == '\0')) {
			p += nlen;
			if (*p == '=')
				p++;
			for (i = 0; i < sizeof(val) - 1 && p[i] != ' ' &&
			    p[i] != '\0'; i++)
				val[i] = p[i];
			val[i] = '\0';
			return (val);
		}
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return (NULL);
}

uint64_t
arg_get_u64(const char *name, uint64_t def)
{
	const char *v = arg_get(name), *end;
	uint64_t n;

	if (v == NULL || *v == '\0')
		return (def);
	n = strtou64(v, &end, 0);
	if (end == v)
		return (def);
	switch (*end) {
	case 'K': case 'k':
		n <<= 10;
		end++;
		break;
	case 'M': case 'm':
		n <<= 20;
		end++;
		break;
	case 'G': case 'g':
		n <<= 30;
		end++;
		break;
	default:
		break;
	}
	return (*end == '\0' ? n : def);
}

long
guest_kcall(long (*fn)(long), long arg)
{
	if (cpu_cpl() == 0)
		return (fn(arg));
	return (kit_kcall_trap(fn, arg));
}

void
kit_main(uint32_t start_info_pa)
{
	const struct hvm_start_info *si;

	si = (const struct hvm_start_info *)(uintptr_t)start_info_pa;
	if (si == NULL || si->magic != HVM_START_MAGIC) {
		printf("kit: no PVH start_info at 0x%x\n", start_info_pa);
		si = NULL;
	}
	kit_start(si);
}

void
kit_start(const struct hvm_start_info *si)
{
	kit_idt_init();
	/*
	 * Mask both 8259s: firmware (SeaBIOS before QEMU's PVH ROM) may have
	 * left IRQ0 unmasked at vector 8, and CPL3 may run with IF=1 on
	 * nested KVM.
	 */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	start_info = si;
	kit_args_init(si != NULL ? si->cmdline_paddr : 0);

	if (guest_main_user != NULL)
		kit_enter_user(guest_main_user,
		    (uint64_t)(uintptr_t)user_stack_top);
	if (guest_main != NULL)
		guest_exit(guest_main());
	printf("kit: the test defines neither guest_main nor "
	    "guest_main_user\n");
	guest_exit(99);
}
