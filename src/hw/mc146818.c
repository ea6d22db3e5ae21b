/*
 * mc146818.c: the MC146818A real-time clock (Motorola, "MC146818A
 * Real-Time Clock Plus RAM" datasheet), as PC chipsets present it.
 *
 * The shape follows bhyve's sys/amd64/vmm/io/vrtc.c.  While the clock
 * counts, the guest time is the host clock plus an offset and the time
 * bytes are regenerated on every access, in the format register B asks
 * for.  While the guest holds the clock (REG_B.SET, the divider in reset,
 * or an invalid date it wrote) the time bytes are plain storage it owns;
 * when it lets go they are read back and the offset recomputed, keeping
 * the sub-second phase of the divider chain.
 *
 * Register C's flags are derived lazily from the clock, on every access
 * and on event-loop ticks: UF when a second boundary has passed, AF when
 * one of the seconds passed matched the alarm bytes, PF when a periodic
 * tap edge has passed.  As the datasheet says, the flags are set whatever
 * register B's enables are; only IRQF depends on them.
 *
 * Interrupt line: the chip's IRQ# output is a level held until register
 * C is read.  We drive the line high when IRQF becomes set and low when
 * it clears (register C read, or the enable bits turned off); an
 * edge-triggered IRQ 8 sees one edge per interrupt, and the guest must
 * read register C to get the next one, as on hardware (QEMU
 * hw/rtc/mc146818rtc.c behaves the same way).
 *
 * XXX: the daylight-saving bit (REG_B.DSE) and the square-wave output are
 * not emulated; periodic rates above 1 kHz deliver at most one interrupt
 * per millisecond, since the event loop's timers count in milliseconds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "hw/mc146818.h"
#include "hw/mc146818_time.h"
#include "log.h"
#include "mevent.h"

#define REG_A_UIP	0x80		/* update in progress (read-only) */
#define REG_A_DV	0x70		/* divider select */
#define REG_A_DV_32K	0x20		/* 32.768 kHz time base, counting */
#define REG_A_RS	0x0f		/* periodic rate select */
#define REG_A_INIT	0x26		/* 32.768 kHz, 1024 Hz: what a BIOS leaves */
#define REG_B_SET	0x80		/* guest holds the clock */
#define REG_B_PIE	0x40
#define REG_B_AIE	0x20
#define REG_B_UIE	0x10
#define REG_B_INIT	REG_B_24H
/* Datasheet "Register C": PF, AF, UF sit at the bit positions of the
 * matching enables PIE, AIE, UIE in register B. */
#define REG_C_IRQF	0x80
#define REG_C_FLAGS	0x70
#define REG_C_PF	0x40
#define REG_C_AF	0x20
#define REG_C_UF	0x10
#define REG_D_VRT	0x80		/* valid RAM and time: battery is good */

#define NS_PER_SEC	1000000000L
#define UIP_NS		244000L		/* tBUC: UIP rises 244 us before the update */

#define TICK_FAST_MS	1		/* periodic rates faster than the slow tick */
#define TICK_SLOW_MS	10		/* slower rates, update and alarm */

struct rtc_softc {
	pthread_mutex_t	 lock;
	const struct devctx *dc;
	unsigned	 irq;		/* interrupt line */
	bool		 localtime;	/* guest sees local time, not UTC */
	rtc_clock_fn_t	 clock;		/* host wall clock */
	uint8_t		 addr;		/* index register, bits 6:0 */
	uint8_t		 reg[RTC_NREGS]; /* time bytes current only when held */
	bool		 broken;	/* guest wrote an invalid date: held */
	int64_t		 off_sec;	/* guest time - host time: seconds */
	long		 off_nsec;	/* and nanoseconds, [0, 1e9) */
	int64_t		 last_sec;	/* guest second at the last flag update */
	int64_t		 last_tick;	/* periodic tap index at that update */
	int		 irq_level;	/* level driven on the line */
	struct mevent	*fast;		/* TICK_FAST_MS timer */
	struct mevent	*slow;		/* TICK_SLOW_MS timer */
	int		 armed;		/* timer running: 0 or its period */
};

static struct timespec
rtc_realtime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	return (ts);
}

/* The host time as the guest's RTC shows it: UTC or local wall time. */
static struct timespec
rtc_host_now(const struct rtc_softc *sc)
{
	struct timespec ts;
	struct tm tm;
	time_t t;

	ts = sc->clock();
	if (ts.tv_nsec < 0 || ts.tv_nsec >= NS_PER_SEC)
		ts.tv_nsec = 0;
	if (sc->localtime) {
		t = ts.tv_sec;
		if (localtime_r(&t, &tm) != NULL)
			ts.tv_sec += tm.tm_gmtoff;
	}
	return (ts);
}

static struct timespec
rtc_guest_time(const struct rtc_softc *sc, const struct timespec *host)
{
	struct timespec g;

	g.tv_sec = host->tv_sec + sc->off_sec;
	g.tv_nsec = host->tv_nsec + sc->off_nsec;
	if (g.tv_nsec >= NS_PER_SEC) {
		g.tv_nsec -= NS_PER_SEC;
		g.tv_sec++;
	}
	return (g);
}

/* Make the guest time secs + nsec at host time *host. */
static void
rtc_set_time(struct rtc_softc *sc, const struct timespec *host, int64_t secs,
    long nsec)
{
	sc->off_sec = secs - host->tv_sec;
	sc->off_nsec = nsec - host->tv_nsec;
	if (sc->off_nsec < 0) {
		sc->off_nsec += NS_PER_SEC;
		sc->off_sec--;
	}
	sc->last_sec = secs;
}

static bool
rtc_divider_running(const struct rtc_softc *sc)
{
	/* Only the 32.768 kHz setting counts on a PC (bhyve vrtc.c). */
	return ((sc->reg[RTC_REG_A] & REG_A_DV) == REG_A_DV_32K);
}

static bool
rtc_held(const struct rtc_softc *sc)
{
	return ((sc->reg[RTC_REG_B] & REG_B_SET) != 0 ||
	    !rtc_divider_running(sc));
}

static bool
rtc_counting(const struct rtc_softc *sc)
{
	return (!rtc_held(sc) && !sc->broken);
}

/*
 * The guest let go of the time bytes: count from what they say, with the
 * sub-second phase nsec.  An invalid date holds the clock until the guest
 * writes a valid one (bhyve stops the VM instead; hardware would count
 * from garbage).
 */
static void
rtc_resume(struct rtc_softc *sc, const struct timespec *host, long nsec)
{
	int64_t secs;

	if (!rtc_time_load(sc->reg, sc->reg[RTC_REG_B], &secs)) {
		if (!sc->broken)
			log_warnx_rl("rtc: guest wrote an invalid date; "
			    "the clock is held until it writes a valid one");
		sc->broken = true;
		return;
	}
	sc->broken = false;
	rtc_set_time(sc, host, secs, nsec);
}

/* Refresh the time bytes from the clock when it counts. */
static void
rtc_sync(struct rtc_softc *sc, const struct timespec *host)
{
	if (rtc_counting(sc))
		rtc_time_store(sc->reg, sc->reg[RTC_REG_B],
		    rtc_guest_time(sc, host).tv_sec);
}

/*
 * Periodic rate: log2 of the period in 32.768 kHz cycles, or 0 for none
 * (datasheet Table 5: rates 1 and 2 repeat 8 and 9).
 */
static unsigned
rtc_pf_shift(uint8_t rega)
{
	unsigned rs = rega & REG_A_RS;

	if (rs == 0)
		return (0);
	return (rs <= 2 ? rs + 6 : rs - 1);
}

/* Index of the periodic tap edge at or before *t. */
static int64_t
rtc_tick_index(const struct timespec *t, unsigned shift)
{
	int64_t cycles = ((int64_t)t->tv_nsec << 15) / NS_PER_SEC;

	return (t->tv_sec * (32768 >> shift) + (cycles >> shift));
}
/* IRQF = PF.PIE + AF.AIE + UF.UIE; the line follows it. */
static void
rtc_irq_update(struct rtc_softc *sc)
{
	int level;

	level = (sc->reg[RTC_REG_C] & sc->reg[RTC_REG_B] & REG_C_FLAGS) != 0;
	if (level)
		sc->reg[RTC_REG_C] |= REG_C_IRQF;
	else
		sc->reg[RTC_REG_C] &= ~REG_C_IRQF;
	if (level != sc->irq_level) {
		sc->irq_level = level;
		(void)dev_irq_set(sc->dc, sc->irq, level);
	}
}

/* Set register C's flags for what happened since the last call. */
static void
rtc_update(struct rtc_softc *sc, const struct timespec *host)
{
	struct timespec g;
	unsigned shift;
	int64_t tick;
	uint8_t flags = 0;

	shift = rtc_pf_shift(sc->reg[RTC_REG_A]);
	if (shift != 0 && rtc_divider_running(sc)) {
		tick = rtc_tick_index(host, shift);
		if (tick > sc->last_tick)
			flags |= REG_C_PF;
		sc->last_tick = tick;
	}
	if (rtc_counting(sc)) {
		g = rtc_guest_time(sc, host);
		if (g.tv_sec > sc->last_sec) {
			flags |= REG_C_UF;
			if (rtc_alarm_between(sc->reg, sc->reg[RTC_REG_B],
			    sc->last_sec, g.tv_sec))
				flags |= REG_C_AF;
		}
		sc->last_sec = g.tv_sec;
	}
	sc->reg[RTC_REG_C] |= flags;
	rtc_irq_update(sc);
}

/* Run a timer only while an interrupt that needs one is enabled. */
static void
rtc_timer_update(struct rtc_softc *sc)
{
	uint8_t b = sc->reg[RTC_REG_B];
	unsigned shift = rtc_pf_shift(sc->reg[RTC_REG_A]);
	int want = 0;

	if ((b & REG_B_PIE) && shift != 0 && rtc_divider_running(sc))
		want = ((1000 << shift) >> 15) < TICK_SLOW_MS ? TICK_FAST_MS :
		    TICK_SLOW_MS;
	else if ((b & (REG_B_AIE | REG_B_UIE)) && rtc_counting(sc))
		want = TICK_SLOW_MS;
	if (want == sc->armed)
		return;
	if (sc->armed != 0)
		(void)mevent_disable(sc->armed == TICK_FAST_MS ? sc->fast :
		    sc->slow);
	if (want != 0 && mevent_enable(want == TICK_FAST_MS ? sc->fast :
	    sc->slow) != 0) {
		log_warnx_rl("rtc: cannot start the interrupt timer");
		want = 0;
	}
	sc->armed = want;
}

static void
rtc_timer_cb(int fd, enum ev_type type, void *arg)
{
	rtc_poll(arg);
}

void
rtc_poll(struct rtc_softc *sc)
{
	struct timespec host;

	pthread_mutex_lock(&sc->lock);
	host = rtc_host_now(sc);
	rtc_update(sc, &host);
	pthread_mutex_unlock(&sc->lock);
}

static void
rtc_write_a(struct rtc_softc *sc, const struct timespec *host, uint8_t v)
{
	bool was_running = rtc_divider_running(sc);
	unsigned old_shift = rtc_pf_shift(sc->reg[RTC_REG_A]), shift;

	sc->reg[RTC_REG_A] = v & ~REG_A_UIP;
	/* Datasheet: the first update after the divider chain leaves reset
	 * comes 500 ms later. */
	if (!was_running && !rtc_held(sc))
		rtc_resume(sc, host, NS_PER_SEC / 2);
	shift = rtc_pf_shift(sc->reg[RTC_REG_A]);
	if (shift != 0 && (shift != old_shift || !was_running))
		sc->last_tick = rtc_tick_index(host, shift);
	rtc_timer_update(sc);
}

static void
rtc_write_b(struct rtc_softc *sc, const struct timespec *host, uint8_t v)
{
	uint8_t old = sc->reg[RTC_REG_B];

	/* Datasheet: setting SET clears UIE. */
	if (v & REG_B_SET)
		v &= ~REG_B_UIE;
	sc->reg[RTC_REG_B] = v;
	/* SET going to 0 lets the time bytes go, with the divider's phase. */
	if ((old & REG_B_SET) && !rtc_held(sc))
		rtc_resume(sc, host, rtc_guest_time(sc, host).tv_nsec);
	rtc_irq_update(sc);
	rtc_timer_update(sc);
}

static uint8_t
rtc_data_read(struct rtc_softc *sc, const struct timespec *host)
{
	uint8_t v;

	switch (sc->addr) {
	case RTC_REG_A:
		v = sc->reg[RTC_REG_A] & ~REG_A_UIP;
		if (rtc_counting(sc) &&
		    rtc_guest_time(sc, host).tv_nsec >= NS_PER_SEC - UIP_NS)
			v |= REG_A_UIP;
		return (v);
	case RTC_REG_C:
		/* Reading C clears every flag and IRQF. */
		v = sc->reg[RTC_REG_C];
		sc->reg[RTC_REG_C] = 0;
		rtc_irq_update(sc);
		return (v);
	case RTC_REG_D:
		return (REG_D_VRT);
	default:
		return (sc->reg[sc->addr]);
	}
}

static void
rtc_data_write(struct rtc_softc *sc, const struct timespec *host, uint8_t v)
{
	switch (sc->addr) {
	case RTC_REG_A:
		rtc_write_a(sc, host, v);
		break;
	case RTC_REG_B:
		rtc_write_b(sc, host, v);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;			/* read-only */
	case RTC_SEC:
	case RTC_MIN:
	case RTC_HOUR:
	case RTC_DOW:
	case RTC_DAY:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		/* Bit 7 of the seconds is read-only (bhyve vrtc.c). */
		sc->reg[sc->addr] = sc->addr == RTC_SEC ? v & 0x7f : v;
		/* A write while the clock counts sets it too (OpenBSD writes
		 * the century that way). */
		if (!rtc_held(sc))
			rtc_resume(sc, host, rtc_guest_time(sc, host).tv_nsec);
		break;
	default:
		sc->reg[sc->addr] = v;
		break;
	}
}

int
rtc_io(void *arg, enum io_dir dir, uint64_t off, unsigned size, uint64_t *val)
{
	struct rtc_softc *sc = arg;
	struct timespec host;
	uint64_t out = 0;
	unsigned i;
	uint8_t b;

	pthread_mutex_lock(&sc->lock);
	host = rtc_host_now(sc);
	rtc_update(sc, &host);
	rtc_sync(sc, &host);
	for (i = 0; i < size && off + i < 2; i++) {
		b = (uint8_t)(*val >> (8 * i));
		if (off + i == 0) {
			if (dir == IO_WRITE)
				sc->addr = b & 0x7f;
			else
				b = 0xff;
		} else if (dir == IO_WRITE) {
			rtc_data_write(sc, &host, b);
		} else {
			b = rtc_data_read(sc, &host);
		}
		out |= (uint64_t)b << (8 * i);
	}
	pthread_mutex_unlock(&sc->lock);
	if (dir == IO_READ)
		*val = out;
	return (0);
}

/* Start counting from the host clock with fresh flag trackers. */
static void
rtc_restart(struct rtc_softc *sc)
{
	struct timespec host;
	unsigned shift;

	host = rtc_host_now(sc);
	sc->broken = false;
	sc->off_sec = 0;
	sc->off_nsec = 0;
	sc->last_sec = host.tv_sec;
	shift = rtc_pf_shift(sc->reg[RTC_REG_A]);
	if (shift != 0)
		sc->last_tick = rtc_tick_index(&host, shift);
	rtc_time_store(sc->reg, sc->reg[RTC_REG_B], host.tv_sec);
}

struct rtc_softc *
rtc_init(const struct devctx *dc, unsigned irq, bool use_localtime)
{
	struct rtc_softc *sc;
	int error;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (NULL);
	error = pthread_mutex_init(&sc->lock, NULL);
	if (error != 0) {
		free(sc);
		errno = error;
		return (NULL);
	}
	sc->dc = dc;
	sc->irq = irq;
	sc->localtime = use_localtime;
	sc->clock = rtc_realtime;
	sc->addr = RTC_REG_D;		/* a harmless index, as bhyve */
	sc->reg[RTC_REG_A] = REG_A_INIT;
	sc->reg[RTC_REG_B] = REG_B_INIT;
	sc->reg[RTC_REG_D] = REG_D_VRT;
	sc->fast = mevent_add_disabled(TICK_FAST_MS, EVF_TIMER, rtc_timer_cb,
	    sc);
	if (sc->fast == NULL)
		goto fail_mutex;
	sc->slow = mevent_add_disabled(TICK_SLOW_MS, EVF_TIMER, rtc_timer_cb,
	    sc);
	if (sc->slow == NULL)
		goto fail_fast;
	rtc_restart(sc);
	return (sc);

fail_fast:
	error = errno;
	(void)mevent_delete(sc->fast);
	errno = error;
fail_mutex:
	error = errno;
	pthread_mutex_destroy(&sc->lock);
	free(sc);
	errno = error;
	return (NULL);
}

void
rtc_fini(struct rtc_softc *sc)
{
	if (sc == NULL)
		return;
	(void)mevent_delete(sc->fast);
	(void)mevent_delete(sc->slow);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

void
rtc_set_clock_fn(struct rtc_softc *sc, rtc_clock_fn_t fn)
{
	pthread_mutex_lock(&sc->lock);
	sc->clock = fn != NULL ? fn : rtc_realtime;
	rtc_restart(sc);
	pthread_mutex_unlock(&sc->lock);
}

void
rtc_set_memsize(struct rtc_softc *sc, uint64_t lowmem, uint64_t highmem)
{
	uint64_t base, ext, above16m, above4g;

	/* Base memory in KiB and extended memory from 1 MiB in KiB, clamped
	 * (QEMU hw/i386/pc.c pc_cmos_init; bhyve leaves these zero). */
	base = MIN(lowmem / KiB, 640);
	ext = lowmem > MiB ? MIN((lowmem - MiB) / KiB, 0xffff) : 0;
	/* RAM between 16 MiB and 4 GiB and above 4 GiB in 64 KiB units, as
	 * bhyve's amd64/rtc.c rtc_init() reports them for UEFI firmware.
	 * bhyve truncates; we clamp (identical below 1 TiB). */
	above16m = lowmem > 16 * MiB ?
	    MIN((lowmem - 16 * MiB) / (64 * KiB), 0xffff) : 0;
	above4g = MIN(highmem / (64 * KiB), 0xffffff);

	pthread_mutex_lock(&sc->lock);
	sc->reg[0x15] = (uint8_t)base;
	sc->reg[0x16] = (uint8_t)(base >> 8);
	sc->reg[0x17] = (uint8_t)ext;
	sc->reg[0x18] = (uint8_t)(ext >> 8);
	sc->reg[0x30] = (uint8_t)ext;
	sc->reg[0x31] = (uint8_t)(ext >> 8);
	sc->reg[0x34] = (uint8_t)above16m;
	sc->reg[0x35] = (uint8_t)(above16m >> 8);
	sc->reg[0x5b] = (uint8_t)above4g;
	sc->reg[0x5c] = (uint8_t)(above4g >> 8);
	sc->reg[0x5d] = (uint8_t)(above4g >> 16);
	pthread_mutex_unlock(&sc->lock);
}
