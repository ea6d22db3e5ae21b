/*
 * kit.h: the freestanding runtime for khyve's test guests.
 *
 * A test guest is one ELF file linked at 1 MiB that boots through the PVH
 * boot ABI (Xen's arch-x86/hvm/start_info.h, "x86/HVM direct boot ABI"):
 * the kit's 32-bit entry (entry.S) builds identity-mapped page tables for
 * the first 4 GiB, enters long mode, loads its GDT, TSS and IDT, and calls
 * the test body.  (boot64.c alone brings its own 64-bit entry for the
 * Linux boot protocol and joins the kit at kit_start().)  A test defines
 * exactly one of
 *
 *	int guest_main(void);		runs at CPL0
 *	int guest_main_user(void);	runs at CPL3 with IOPL=3
 *
 * and its return value goes to guest_exit(): 0 prints "PASS", anything
 * else (or any failed GCHECK) prints "FAIL <status>"; then the VM powers
 * off through ACPI S5.  Any CPU exception prints the vector, error code
 * and RIP, then "FAIL exception", and ends the VM with a triple fault.
 *
 * Kernel-mode code is emulated instruction by instruction on nested,
 * software-assisted KVM (docs/testing.md): keep CPL0 bodies for exit-heavy
 * work and put computation in CPL3 bodies.  There CPL3 also runs with
 * IOPL=0 whatever the kit asks, so the kit's #GP handler performs CPL3
 * port I/O (slowly), and software interrupts raise #UD, so guest_kcall()
 * enters CPL0 through a ud2.
 */
#ifndef KIT_H
#define KIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define __noreturn	__attribute__((noreturn))
#define __printf(f, a)	__attribute__((format(printf, f, a)))

/* Segment selectors of the kit's GDT (entry.S). */
#define SEL_KCODE	0x08	/* 64-bit code, DPL0 */
#define SEL_KDATA	0x10	/* data, DPL0 */
#define SEL_KCODE32	0x18	/* 32-bit code, DPL0 (boot only) */
#define SEL_UDATA	0x23	/* data, DPL3 */
#define SEL_UCODE	0x2b	/* 64-bit code, DPL3 */
#define SEL_TSS		0x30	/* 64-bit TSS (16-byte descriptor) */

/* ---- test entry points (define one) ---- */
int guest_main(void);
int guest_main_user(void);

/* ---- port I/O, MMIO, CPU ---- */
static inline void outb(uint16_t port, uint8_t v)
{ __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v)
{ __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v)
{ __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{ uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port)
{ uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port)
{ uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint8_t mmio_read8(uint64_t pa)
{ return *(volatile uint8_t *)(uintptr_t)pa; }
static inline uint16_t mmio_read16(uint64_t pa)
{ return *(volatile uint16_t *)(uintptr_t)pa; }
static inline uint32_t mmio_read32(uint64_t pa)
{ return *(volatile uint32_t *)(uintptr_t)pa; }
static inline uint64_t mmio_read64(uint64_t pa)
{ return *(volatile uint64_t *)(uintptr_t)pa; }
static inline void mmio_write8(uint64_t pa, uint8_t v)
{ *(volatile uint8_t *)(uintptr_t)pa = v; }
static inline void mmio_write16(uint64_t pa, uint16_t v)
{ *(volatile uint16_t *)(uintptr_t)pa = v; }
static inline void mmio_write32(uint64_t pa, uint32_t v)
{ *(volatile uint32_t *)(uintptr_t)pa = v; }
static inline void mmio_write64(uint64_t pa, uint64_t v)
{ *(volatile uint64_t *)(uintptr_t)pa = v; }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint16_t read_cs(void)
{ uint16_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
/* The current privilege level: CS.RPL (Intel SDM vol. 3A §5.5). */
static inline unsigned cpu_cpl(void) { return read_cs() & 3; }
static inline uint64_t read_rflags(void)
{ uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void)
{ uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
/* rdmsr / wrmsr: CPL0 only. */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
	    "d"((uint32_t)(v >> 32)) : "memory");
}
#define RFLAGS_IF	(1UL << 9)
#define RFLAGS_IOPL(f)	(((f) >> 12) & 3)

/* ---- console (COM1, polled) ---- */
void con_putc(char c);
void con_write(const char *s, size_t len);
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap) __printf(1, 0);
/* Formats like printf: %d %i %u %x %X %p %s %c %%, flags '-' '0', width,
 * precision for %s, length modifiers hh h l ll z.  Always NUL-terminates
 * when len > 0; returns the length the full output would have had. */
int snprintf(char *buf, size_t len, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
    __printf(3, 0);

/* ---- checks ---- */
extern unsigned kit_failures;		/* failed GCHECKs so far */
void kit_check_failed(const char *file, int line, const char *expr);
void kit_check_eq_failed(const char *file, int line, const char *a,
    const char *b, uint64_t va, uint64_t vb);
/* GCHECK records a failure and goes on; guest_exit() then reports FAIL. */
#define GCHECK(c) do {							\
	if (!(c))							\
		kit_check_failed(__FILE__, __LINE__, #c);		\
} while (0)
#define GCHECK_EQ(a, b) do {						\
	uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);		\
	if (va_ != vb_)							\
		kit_check_eq_failed(__FILE__, __LINE__, #a, #b, va_, vb_); \
} while (0)

/* ---- PVH start_info (Xen public/arch-x86/hvm/start_info.h) ---- */
#define HVM_START_MAGIC	0x336ec578
struct hvm_start_info {
	uint32_t magic;			/* HVM_START_MAGIC */
	uint32_t version;		/* 0, or 1 with the memory map */
	uint32_t flags;			/* SIF_xxx */
	uint32_t nr_modules;		/* entries at modlist_paddr */
	uint64_t modlist_paddr;		/* struct hvm_modlist_entry[] */
	uint64_t cmdline_paddr;		/* NUL-terminated command line */
	uint64_t rsdp_paddr;		/* ACPI RSDP, or 0 */
	uint64_t memmap_paddr;		/* version >= 1: memory map */
	uint32_t memmap_entries;	/* version >= 1: its entries */
	uint32_t reserved;
};
struct hvm_memmap_entry {
	uint64_t addr;			/* start */
	uint64_t size;			/* bytes */
	uint32_t type;			/* E820 type: 1 RAM, 2 reserved, ... */
	uint32_t reserved;
};

/* The start_info the loader gave in EBX (checked magic), or NULL. */
const struct hvm_start_info *guest_start_info(void);
/* The command line ("" when none). */
const char *guest_cmdline(void);
/* Value of the first "name=value" word on the command line; "" for a bare
 * "name"; NULL when absent.  Values end at the next space and live in one
 * static buffer, valid until the next call. */
const char *arg_get(const char *name);
/* arg_get() parsed as a number (0x.. hex or decimal, optional K/M/G);
 * def when absent or malformed. */
uint64_t arg_get_u64(const char *name, uint64_t def);

/* ---- PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2) ---- */
uint32_t pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint16_t pci_cfg_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint8_t pci_cfg_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_cfg_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off,
    uint32_t v);
void pci_cfg_write16(unsigned bus, unsigned dev, unsigned fn, unsigned off,
    uint16_t v);
void pci_cfg_write8(unsigned bus, unsigned dev, unsigned fn, unsigned off,
    uint8_t v);

/* ---- ACPI (ACPI 6.4 §5.2) ---- */
struct acpi_sdt {			/* §5.2.6 system description header */
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_gas {			/* §5.2.3.2 generic address structure */
	uint8_t space;			/* 0 memory, 1 I/O, 2 PCI config */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_info {
	uint64_t rsdp_pa;		/* where the RSDP was found */
	int rsdp_from_start_info;	/* 1: start_info.rsdp_paddr */
	const uint8_t *rsdp;		/* RSDP (20 or 36 bytes) */
	const struct acpi_sdt *rsdt;	/* or NULL */
	const struct acpi_sdt *xsdt;	/* or NULL */
	const struct acpi_sdt *fadt;	/* "FACP", or NULL */
	const struct acpi_sdt *madt;	/* "APIC", or NULL */
	const struct acpi_sdt *dsdt;	/* or NULL */
	uint32_t pm1a_cnt;		/* PM1a_CNT_BLK port, or 0 */
	uint32_t pm1b_cnt;		/* PM1b_CNT_BLK port, or 0 */
	uint32_t pm_tmr;		/* PM_TMR_BLK port, or 0 */
	int s5_found;			/* \_S5_ parsed from the DSDT */
	uint8_t s5_typ_a, s5_typ_b;	/* its SLP_TYPa/SLP_TYPb */
	int reset_reg_ok;		/* FADT RESET_REG_SUP with a register */
	struct acpi_gas reset_reg;	/* FADT RESET_REG */
	uint8_t reset_value;		/* FADT RESET_VALUE */
};

/* Find and validate the tables once (bad checksums are reported on the
 * console and the table is left NULL); never NULL itself. */
const struct acpi_info *acpi_get(void);
/* 1 when the bytes of [p, p+len) add up to 0 mod 256. */
int acpi_checksum_ok(const void *p, size_t len);
/* The index-th table with signature sig listed by the XSDT (else RSDT),
 * with a valid checksum; NULL when none. */
const struct acpi_sdt *acpi_find_table(const char *sig, int index);
/* Scan 0xE0000-0xFFFFF for a valid "RSD PTR " (ACPI 6.4 §5.2.5.1); 0 if
 * none. */
uint64_t acpi_scan_rsdp(void);
/* Find "Name(_S5_, Package(){a, b, ...})" in AML bytes; 0 on success. */
int acpi_parse_s5(const uint8_t *aml, size_t len, uint8_t *typ_a,
    uint8_t *typ_b);
/* Read the ACPI PM timer (24 or 32 bits at 3.579545 MHz); 0 if none. */
uint32_t acpi_pm_timer(void);

/* ---- timing ---- */
/* TSC frequency in kHz measured against the ACPI PM timer (once, ~20 ms);
 * 0 when there is no PM timer. */
uint64_t guest_tsc_khz(void);

/* ---- leaving the VM (all callable from CPL0 or CPL3) ---- */
void guest_exit(int status) __noreturn;		/* PASS/FAIL, poweroff */
void guest_poweroff(void) __noreturn;		/* ACPI S5 */
void guest_reset_cf9(void) __noreturn;		/* FADT reset reg / 0xCF9 */
void guest_reset_kbd(void) __noreturn;		/* 0xFE to port 0x64 */
void guest_triple_fault(void) __noreturn;	/* empty IDT + exception */
void guest_halt(void) __noreturn;		/* cli; hlt forever */

/* ---- privilege ---- */
/* Run fn(arg) at CPL0 and return its result; from CPL3 this goes through
 * a ud2 the #UD handler recognises, at CPL0 it is a plain call. */
long guest_kcall(long (*fn)(long), long arg);

/* ---- traps ---- */
struct trap_frame {			/* pushed by entry.S trap_common */
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;		/* IDT vector */
	uint64_t error;			/* error code, 0 if none */
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
/* A hook sees every exception first; returning nonzero resumes the guest
 * at frame->rip (which the hook may move past the faulting instruction).
 * NULL removes it. */
typedef int (*trap_hook_t)(struct trap_frame *f);
void guest_set_trap_hook(trap_hook_t hook);

/* ---- small libc ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Parse an unsigned number (base 0: 0x.. hex, else decimal). */
uint64_t strtou64(const char *s, const char **end, int base);

/* ---- kit internals shared between its files ---- */
void kit_main(uint32_t start_info_pa) __noreturn;
/* The rest of an entry, once in long mode on the kit's GDT, page tables
 * and boot stack: TSS, IDT, both 8259s masked, start_info si (NULL for an
 * entry without one), then the test body.  Never returns. */
void kit_start(const struct hvm_start_info *si) __noreturn;
void kit_trap(struct trap_frame *f);
void kit_idt_init(void);
void kit_enter_user(int (*fn)(void), uint64_t stack_top) __noreturn;
long kit_kcall_trap(long (*fn)(long), long arg);
extern const char kit_kcall_ud2[];
int kit_emulate_io(struct trap_frame *f);
extern unsigned long kit_io_emulated;	/* CPL3 I/O done by the #GP handler */
/* Copy the command line at cmdline_pa (0: none) for guest_cmdline() and
 * arg_get(); an entry without start_info calls it from its body. */
void kit_args_init(uint64_t cmdline_pa);

#endif /* KIT_H */
