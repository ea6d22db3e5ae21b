/*
 * exit.c: the ways a test guest ends the VM.  Each one that can fail
 * (a monitor that ignores the write) says so on the console and halts, so
 * the runner sees a wrong exit status instead of a hang.
 *
 * Port I/O works at CPL3 because user bodies run with IOPL=3; hlt and lidt
 * do not, so those go through guest_kcall().
 */
#include "kit.h"

#define SLP_TYP_SHIFT	10		/* ACPI 6.4 §4.8.3.2.1 PM1_CNT */
#define SLP_TYP_MASK	(7u << SLP_TYP_SHIFT)
#define SLP_EN		(1u << 13)
#define SCI_EN		(1u << 0)
#define SETTLE_READS	5000		/* port reads to let the monitor act */

/*
 * After a write that should stop the VM, give an asynchronous monitor
 * (QEMU handles shutdown requests in its main loop) time to act.  Each
 * read is a VM exit, so this is bounded in exits, not in instructions.
 */
static void
settle(uint16_t port)
{
	unsigned i;

	for (i = 0; i < SETTLE_READS; i++)
		(void)inb(port);
}

static long
halt_k(long unused)
{
	(void)unused;
	for (;;)
		__asm__ volatile("cli; hlt");
	return (0);
}

void
guest_halt(void)
{
	guest_kcall(halt_k, 0);
	for (;;)
		;
}

static long
triple_k(long unused)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	(void)unused;
	/*
	 * With no IDT, the #GP from a non-canonical load cannot be delivered,
	 * nor can the #DF that follows: shutdown (SDM vol. 3A §6.15, #DF).
	 */
	__asm__ volatile("cli; lidt %0" : : "m"(empty));
	(void)*(volatile uint64_t *)0x8000000000000000ULL;
	return (0);
}

void
guest_triple_fault(void)
{
	guest_kcall(triple_k, 0);
	printf("kit: still running after a triple fault\n");
	halt_k(0);
	for (;;)
		;
}

static void
sleep_write(const struct acpi_info *a)
{
	uint16_t v;

	/* Write SLP_TYP, then SLP_TYP | SLP_EN, keeping the other bits. */
	v = inw((uint16_t)a->pm1a_cnt);
	v = (uint16_t)((v & ~(SLP_TYP_MASK | SLP_EN)) |
	    (a->s5_typ_a << SLP_TYP_SHIFT & SLP_TYP_MASK));
	outw((uint16_t)a->pm1a_cnt, v);
	if (a->pm1b_cnt != 0)
		outw((uint16_t)a->pm1b_cnt, (uint16_t)((a->s5_typ_b <<
		    SLP_TYP_SHIFT & SLP_TYP_MASK) | SLP_EN));
	outw((uint16_t)a->pm1a_cnt, (uint16_t)(v | SLP_EN));
	settle((uint16_t)a->pm1a_cnt);
}

void
guest_poweroff(void)
{
	const struct acpi_info *a = acpi_get();
	const uint8_t *f;
	unsigned i;

	if (a->pm1a_cnt == 0 || !a->s5_found) {
		printf("kit: poweroff: no ACPI S5 (PM1a_CNT 0x%x, _S5_ %s)\n",
		    a->pm1a_cnt, a->s5_found ? "found" : "missing");
		guest_halt();
	}
	sleep_write(a);

	/* Still here: switch to ACPI mode through SMI_CMD and retry. */
	f = (const uint8_t *)a->fadt;
	if (f[52] != 0 && (inw((uint16_t)a->pm1a_cnt) & SCI_EN) == 0) {
		uint32_t smi_cmd;

		memcpy(&smi_cmd, f + 48, 4);
		outb((uint16_t)smi_cmd, f[52]);		/* ACPI_ENABLE */
		for (i = 0; i < SETTLE_READS; i++)
			if (inw((uint16_t)a->pm1a_cnt) & SCI_EN)
				break;
		sleep_write(a);
	}
	printf("kit: poweroff: still running after S5 (SLP_TYP %u to 0x%x)\n",
	    a->s5_typ_a, a->pm1a_cnt);
	guest_halt();
}

static long
reset_pci(long unused)
{
	const struct acpi_gas *g = &acpi_get()->reset_reg;

	(void)unused;
	/* GAS PCI config address: device << 32 | function << 16 | offset. */
	pci_cfg_write8(0, (unsigned)(g->address >> 32) & 0x1f,
	    (unsigned)(g->address >> 16) & 7, (unsigned)g->address & 0xff,
	    acpi_get()->reset_value);
	return (0);
}

void
guest_reset_cf9(void)
{
	const struct acpi_info *a = acpi_get();
	const struct acpi_gas *g = &a->reset_reg;

	if (a->reset_reg_ok && g->space == 1 && g->address < 0x10000) {
		printf("kit: reset: FADT RESET_REG port 0x%lx value 0x%x\n",
		    g->address, a->reset_value);
		outb((uint16_t)g->address, a->reset_value);
	} else if (a->reset_reg_ok && g->space == 0 &&
	    g->address < (4ULL << 30)) {
		printf("kit: reset: FADT RESET_REG memory 0x%lx value 0x%x\n",
		    g->address, a->reset_value);
		mmio_write8(g->address, a->reset_value);
	} else if (a->reset_reg_ok && g->space == 2) {
		printf("kit: reset: FADT RESET_REG PCI 0x%lx value 0x%x\n",
		    g->address, a->reset_value);
		reset_pci(0);
	} else {
		printf("kit: reset: port 0xcf9 value 0x06\n");
		outb(0xcf9, 0x06);	/* RST_CPU | SYS_RST (PIIX4 RCR) */
	}
	settle(0xcf9);
	printf("kit: reset: still running\n");
	guest_halt();
}

void
guest_reset_kbd(void)
{
	unsigned i;

	/* i8042: wait for an empty input buffer, then pulse reset (0xFE). */
	for (i = 0; i < 10000 && (inb(0x64) & 0x02) != 0; i++)
		;
	outb(0x64, 0xfe);
	settle(0x64);
	printf("kit: reset: still running after 0xfe to port 0x64\n");
	guest_halt();
}

void
guest_exit(int status)
{
	if (status == 0 && kit_failures != 0)
		status = 1;
	if (kit_failures != 0)
		printf("%u check(s) failed\n", kit_failures);
	if (status == 0)
		printf("PASS\n");
	else
		printf("FAIL %d\n", status);
	guest_poweroff();
}
