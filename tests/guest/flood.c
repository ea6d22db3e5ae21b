/*
 * flood: print bytes=N (default 100000) bytes of a checkable pattern on
 * COM1 as fast as the UART takes them, then the line "flood: N bytes
 * done" (after a newline of its own when the pattern does not end in
 * one), then end the VM as end= says: poweroff (the default: "PASS",
 * then ACPI S5), reset, halt, triple (a triple fault) or unclaimed (a
 * write to port 0x1234, which stops khyve with status 4 under -e).
 *
 * idle=S first prints "flood: idle S s" and sleeps S seconds in "sti;
 * hlt", woken every 50 ms by the local APIC timer (so the vCPU costs the
 * host next to nothing: the runner measures khyve's own CPU time then).
 * It reads nothing from COM1.  The sleep is marked on the POST port: 0x1d
 * when it starts, 0x1e when it ends (khyve logs both with -o
 * boot.timer=true).
 *
 * The pattern is made of 64-byte lines, sent as raw bytes (no "\r"):
 * byte i belongs to line L = i / 64 at column C = i % 64; columns 0-6
 * hold L in decimal, zero-padded (mod 10^7), column 7 a space, column 63
 * a newline, the others ALPHABET[(L + C) % 62].  The last line is cut
 * short when N is not a multiple of 64.  tests/console/run.sh makes the
 * same bytes and compares.
 *
 * The body runs at CPL3, where building the pattern runs at native speed
 * on nested software KVM; each 4 KiB chunk is sent at CPL0 through
 * guest_kcall(), where port I/O exits cheaply: FIFOs on, then for every
 * 16 bytes one LSR read (THRE: the TX FIFO is empty) and one rep outsb.
 * References: PC16550D data sheet (FCR, LSR); Intel SDM vol. 3A §10.5.4
 * (APIC timer).
 */
#include "kit.h"
#include "smp.h"

#define COM1		0x3f8
#define COM_FCR		2
#define COM_LSR		5
#define LSR_THRE	0x20
#define POST		0x80
#define POST_IDLE	0x1d	/* the sleep starts */
#define POST_AWAKE	0x1e	/* and ends */

#define TIMER_VECTOR	0x51
#define LVT_MASKED	(1u << 16)
#define LVT_PERIODIC	(1u << 17)
#define DCR_DIV16	0x3
#define TIMER_COUNT	3125000		/* 50 ms with KVM's 1 GHz APIC clock */
#define SVR_ENABLE	0x100
#define SVR_VECTOR	0xff
#define FIFO_BYTES	16
#define CHUNK		4096

static const char alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static uint8_t chunk[CHUNK];
static size_t chunk_len;

static uint8_t
pattern(uint64_t i)
{
	uint64_t line = i / 64, col = i % 64, v;
	unsigned k;

	if (col == 63)
		return ('\n');
	if (col == 7)
		return (' ');
	if (col < 7) {
		v = line % 10000000;
		for (k = 6; k > col; k--)
			v /= 10;
		return ((uint8_t)('0' + v % 10));
	}
	return ((uint8_t)alphabet[(line + col) % 62]);
}

/* CPL0: send chunk[0, chunk_len) through COM1's 16-byte TX FIFO. */
static long
send_chunk(long unused)
{
	const uint8_t *p = chunk;
	size_t left = chunk_len, n;

	(void)unused;
	while (left > 0) {
		while ((inb(COM1 + COM_LSR) & LSR_THRE) == 0)
			cpu_relax();
		n = left < FIFO_BYTES ? left : FIFO_BYTES;
		left -= n;
		__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(COM1)
		    : "memory");
	}
	return (0);
}

static long
fifo_on(long unused)
{
	(void)unused;
	outb(COM1 + COM_FCR, 0x07);	/* enable, clear both FIFOs */
	return (0);
}

static int
tick_hook(struct trap_frame *f)
{
	if (f->vector != TIMER_VECTOR)
		return (0);
	lapic_write(LAPIC_EOI, 0);
	return (1);
}

static uint64_t idle_ticks;		/* TSC ticks to sleep */

/* CPL0: sleep idle_ticks in hlt, woken by the APIC timer. */
static long
idle_k(long unused)
{
	uint64_t t0 = rdtsc();

	(void)unused;
	guest_set_trap_hook(tick_hook);
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | SVR_ENABLE |
	    SVR_VECTOR);
	lapic_write(LAPIC_TIMER_DCR, DCR_DIV16);
	lapic_write(LAPIC_LVT_TIMER, TIMER_VECTOR | LVT_PERIODIC);
	lapic_write(LAPIC_TIMER_ICR, TIMER_COUNT);
	outb(POST, POST_IDLE);
	while (rdtsc() - t0 < idle_ticks)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_ICR, 0);
	guest_set_trap_hook(NULL);
	outb(POST, POST_AWAKE);
	return (0);
}

int
guest_main_user(void)
{
	uint64_t n = arg_get_u64("bytes", 100000), i, s;
	const char *end = arg_get("end");
	size_t k;

	if (arg_get("idle") != NULL) {
		s = arg_get_u64("idle", 4);
		printf("flood: idle %lu s\n", s);
		idle_ticks = s * 1000 * guest_tsc_khz();
		guest_kcall(idle_k, 0);
	}
	guest_kcall(fifo_on, 0);
	for (i = 0; i < n; i += chunk_len) {
		chunk_len = n - i < CHUNK ? (size_t)(n - i) : CHUNK;
		for (k = 0; k < chunk_len; k++)
			chunk[k] = pattern(i + k);
		guest_kcall(send_chunk, 0);
	}
	/* The final line on a line of its own, whatever n is. */
	printf("%sflood: %lu bytes done\n", n % 64 != 0 ? "\n" : "", n);
	if (end == NULL || strcmp(end, "poweroff") == 0)
		return (0);
	if (strcmp(end, "reset") == 0)
		guest_reset_cf9();
	if (strcmp(end, "halt") == 0)
		guest_halt();
	if (strcmp(end, "triple") == 0)
		guest_triple_fault();
	if (strcmp(end, "unclaimed") == 0) {
		outb(0x1234, 0);
		printf("still running after port 0x1234\n");
		return (1);
	}
	printf("flood: unknown end=%s\n", end);
	return (1);
}
