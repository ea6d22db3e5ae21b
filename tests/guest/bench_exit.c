/*
 * bench_exit: exit round-trip benchmarks for bench/run.sh (docs/performance.md).
 *
 * Runs at CPL0 (exit-heavy work, docs/testing.md).  Command line:
 *
 *	loop=N		N iterations of the bare loop (dec; jnz): what the
 *			loop itself costs without an exit
 *	pio=N		N byte writes to port 0x3ff, the COM1 scratch register
 *			(16550A SCR: every monitor emulates it in user space)
 *	pio_port=P	write to port P instead (the tests flood the POST
 *			port 0x80 with it)
 *	mmio=N		N dword reads of mmio_addr (default 0xd0000000, a hole
 *			no device claims: the monitor answers from user space)
 *	reps=K		run the three benchmarks K times, in turn (default 1)
 *	idle=MS		then spin MS milliseconds without exits (the runner
 *			samples the monitor's memory meanwhile)
 *	pm1a_cnt=P s5=T	power off by writing SLP_TYP=T|SLP_EN to port P
 *			directly instead of walking the ACPI tables
 *
 * It first writes "BENCH up" straight to the COM1 THR (the runner times
 * exec -> that line), and with none of loop/pio/mmio/idle it then powers
 * off at once: the start-up benchmark times exec -> exit with it.
 *
 * Each benchmark prints one line on COM1:
 *
 *	BENCH name=pio iters=N ns_per_iter=X.Y pm_ns_per_iter=X.Y
 *	    tsc_khz=K value=0xV
 *
 * ns_per_iter comes from rdtsc around the loop, with the TSC calibrated
 * against the ACPI PM timer (kit: guest_tsc_khz()); pm_ns_per_iter times
 * the same loop with the PM timer itself (3.579545 MHz, ACPI 6.4 §4.8.3.3),
 * as a cross-check, when the loop took less than one 24-bit wrap (4.6 s).
 * The loop bodies are exactly the instructions bench/rawkvm.c runs, so
 * the three monitors are timed on the same guest code.
 */
#include "kit.h"

#define SCRATCH_PORT	0x3ff		/* COM1 SCR (16550A data sheet) */
#define COM1_THR	0x3f8
#define MMIO_HOLE	0xd0000000ULL	/* below the IOAPIC, above 128 MiB */
#define PMTMR_HZ	3579545ULL	/* ACPI 6.4 §4.8.3.3 */
#define PMTMR_WRAP	(1ULL << 24)
#define SLP_EN		(1u << 13)	/* ACPI 6.4 §4.8.3.2.1 PM1_CNT */

enum kind { K_LOOP, K_PIO, K_MMIO };

struct result {
	uint64_t tsc;			/* TSC ticks over the loop */
	uint32_t pm;			/* PM timer ticks over the loop */
	uint32_t value;			/* last value read (mmio) */
};

/*
 * addr is the port for K_PIO, the address for K_MMIO.
 * The loops are written in assembly so the bytes are known:
 * out %al,(%dx) = ee; mov (%rsi),%eax = 8b 06; dec %rcx = 48 ff c9;
 * jnz = 75 rel8.  bench/rawkvm.c runs the same bytes.
 */
static void
run_loop(enum kind k, uint64_t n, uint64_t addr, struct result *r)
{
	uint32_t pm0, pm1, v = 0;
	uint64_t t0, t1;

	pm0 = acpi_pm_timer();
	t0 = rdtsc();
	switch (k) {
	case K_LOOP:
		__asm__ volatile("1: dec %%rcx; jnz 1b"
		    : "+c"(n) : : "cc", "memory");
		break;
	case K_PIO:
		__asm__ volatile("1: outb %%al, %%dx; dec %%rcx; jnz 1b"
		    : "+c"(n) : "a"(0x5a), "d"((uint16_t)addr) : "cc", "memory");
		break;
	case K_MMIO:
		__asm__ volatile("1: movl (%%rsi), %%eax; dec %%rcx; jnz 1b"
		    : "+c"(n), "=&a"(v) : "S"(addr) : "cc", "memory");
		break;
	}
	t1 = rdtsc();
	pm1 = acpi_pm_timer();
	r->tsc = t1 - t0;
	r->pm = (pm1 - pm0) & (PMTMR_WRAP - 1);
	r->value = v;
}

/* Picoseconds per iteration from ticks at hz_k kHz (no 128-bit math). */
static uint64_t
ps_per_iter(uint64_t ticks, uint64_t khz, uint64_t n)
{
	uint64_t ns;

	if (khz == 0 || n == 0)
		return (0);
	ns = ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
	return (ns * 1000 / n);
}

static void
report(const char *name, uint64_t n, uint64_t khz, const struct result *r)
{
	uint64_t ps = ps_per_iter(r->tsc, khz, n), pm_ps, tsc_ms;

	tsc_ms = khz != 0 ? r->tsc / khz : 0;
	printf("BENCH name=%s iters=%llu ns_per_iter=%llu.%llu", name,
	    (unsigned long long)n, (unsigned long long)(ps / 1000),
	    (unsigned long long)(ps % 1000 / 100));
	if (khz != 0 && tsc_ms < PMTMR_WRAP * 1000 / PMTMR_HZ) {
		pm_ps = ps_per_iter(r->pm, PMTMR_HZ / 1000, n);
		printf(" pm_ns_per_iter=%llu.%llu",
		    (unsigned long long)(pm_ps / 1000),
		    (unsigned long long)(pm_ps % 1000 / 100));
	}
	printf(" tsc_khz=%llu value=0x%x\n", (unsigned long long)khz,
	    r->value);
}

static void
bench(const char *name, enum kind k, uint64_t n, uint64_t addr,
    uint64_t khz)
{
	struct result r;

	if (n == 0)
		return;
	run_loop(k, n, addr, &r);
	report(name, n, khz, &r);
}

/* Spin ms milliseconds on the TSC, without exits. */
static void
idle(uint64_t ms, uint64_t khz)
{
	uint64_t t0 = rdtsc();

	printf("BENCH idle ms=%llu\n", (unsigned long long)ms);
	if (khz == 0)
		return;
	while (rdtsc() - t0 < ms * khz)
		cpu_relax();
}

/* Power off without walking the ACPI tables when told where PM1a_CNT is. */
static void
fast_poweroff(void)
{
	const char *p = arg_get("pm1a_cnt");
	uint64_t port, typ;

	if (p != NULL && arg_get("s5") != NULL) {
		port = arg_get_u64("pm1a_cnt", 0);
		typ = arg_get_u64("s5", 0);
		if (port != 0 && port <= 0xffff && typ <= 7)
			outw((uint16_t)port, (uint16_t)(typ << 10 | SLP_EN));
	}
	guest_poweroff();
}

int
guest_main(void)
{
	static const char up[] = "BENCH up\r\n";
	uint64_t nloop = arg_get_u64("loop", 0), npio = arg_get_u64("pio", 0);
	uint64_t nmmio = arg_get_u64("mmio", 0), ms = arg_get_u64("idle", 0);
	uint64_t addr = arg_get_u64("mmio_addr", MMIO_HOLE), khz;
	uint64_t reps = arg_get_u64("reps", 1), r;
	uint64_t port = arg_get_u64("pio_port", SCRATCH_PORT) & 0xffff;
	size_t i;

	/* THR writes without polling LSR: both monitors drain at once. */
	for (i = 0; up[i] != '\0'; i++)
		outb(COM1_THR, (uint8_t)up[i]);
	if (nloop == 0 && npio == 0 && nmmio == 0 && ms == 0)
		fast_poweroff();
	if (addr >= (4ULL << 30) - 4)
		addr = MMIO_HOLE;		/* the kit maps 0-4 GiB only */
	khz = guest_tsc_khz();
	GCHECK(khz != 0);
	for (r = 0; r < reps && r < 1000; r++) {
		bench("loop", K_LOOP, nloop, addr, khz);
		bench("pio", K_PIO, npio, port, khz);
		bench("mmio", K_MMIO, nmmio, addr, khz);
	}
	if (ms != 0)
		idle(ms, khz);
	printf("BENCH done\n");
	if (kit_failures == 0)
		fast_poweroff();
	return (0);
}
