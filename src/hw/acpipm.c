/*
 * acpipm.c: ACPI fixed hardware (ACPI 6.5 section 4.8.3): the PM1a event
 * block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT), the PM
 * timer, and the reset control register at 0xCF9 (Intel PCH datasheets,
 * "Reset Control Register"; bhyve usr.sbin/bhyve/amd64/pm.c).
 *
 * Registers are byte lanes: an access of any size inside a block reads
 * or writes the bytes it covers, so ACPICA's word accesses and a byte
 * access to PM1_CNT's high byte both work.
 *
 * The SCI is a level: high while SCI_EN is set and a status bit is set
 * together with its enable (section 4.8.3.1).  TMR_STS is derived from
 * the clock whenever PM1_STS is read, and by a 100 ms event-loop tick
 * while TMR_EN is set, so an enabled timer overflow raises the SCI
 * without a guest access.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "arch/x86/layout.h"
#include "hw/acpipm.h"
#include "log.h"
#include "mevent.h"

/* PM1_STS and PM1_EN bits (section 4.8.3.1, Tables 4.16 and 4.17). */
#define PM1_TMR		0x0001		/* TMR_STS / TMR_EN */
#define PM1_BM_STS	0x0010
#define PM1_GBL		0x0020		/* GBL_STS / GBL_EN */
#define PM1_PWRBTN	0x0100		/* PWRBTN_STS / PWRBTN_EN */
#define PM1_SLPBTN	0x0200		/* SLPBTN_STS / SLPBTN_EN */
#define PM1_RTC		0x0400		/* RTC_STS / RTC_EN */
#define PM1_PCIEXP_WAKE	0x4000
#define PM1_WAK_STS	0x8000
#define PM1_STS_W1C	(PM1_TMR | PM1_BM_STS | PM1_GBL | PM1_PWRBTN |	\
			 PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE | PM1_WAK_STS)
#define PM1_EN_BITS	(PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)

/* PM1_CNT bits (section 4.8.3.2.1, Table 4.18). */
#define CNT_SCI_EN	0x0001
#define CNT_BM_RLD	0x0002
#define CNT_GBL_RLS	0x0004		/* write-only, no firmware to tell */
#define CNT_SLP_TYP	0x1c00
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_EN	0x2000		/* write-only */
#define CNT_STORED	(CNT_BM_RLD | CNT_SLP_TYP)

#define RST_CPU		0x04		/* 0xCF9 bit 2: reset now */

/* PM timer (section 4.8.3.3): 3.579545 MHz, 24 bits (TMR_VAL_EXT = 0). */
#define PMTMR_HZ	3579545ULL
#define PMTMR_MASK	0xffffffULL
#define PMTMR_MSB_SHIFT	23		/* TMR_STS: bit 23 changes */
#define TMR_POLL_MS	100

struct acpipm_softc {
	pthread_mutex_t	 lock;
	const struct devctx *dc;
	unsigned	 sci_irq;
	acpipm_clock_fn_t clock;	/* monotonic clock for the timer */
	uint16_t	 sts;		/* PM1_STS */
	uint16_t	 en;		/* PM1_EN */
	uint16_t	 cnt;		/* PM1_CNT, write-only bits excluded */
	uint8_t		 reset;		/* 0xCF9 as last written */
	uint64_t	 tmr_epoch;	/* timer ticks >> 23 at the last check */
	int		 sci_level;	/* level driven on the SCI line */
	struct mevent	*tmr_ev;	/* tick while TMR_EN is set */
	bool		 tmr_ev_on;
};

static struct timespec
acpipm_monotonic(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	return (ts);
}

static uint64_t
acpipm_ticks(const struct acpipm_softc *sc)
{
	struct timespec ts = sc->clock();

	if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 0;
	return ((uint64_t)ts.tv_sec * PMTMR_HZ +
	    (uint64_t)ts.tv_nsec * PMTMR_HZ / 1000000000ULL);
}

/* TMR_STS: set whenever the counter's top bit has changed since last time. */
static void
acpipm_tmr_check(struct acpipm_softc *sc)
{
	uint64_t epoch = acpipm_ticks(sc) >> PMTMR_MSB_SHIFT;

	if (epoch != sc->tmr_epoch) {
		sc->tmr_epoch = epoch;
		sc->sts |= PM1_TMR;
	}
}

static void
acpipm_sci_update(struct acpipm_softc *sc)
{
	int level;

	level = (sc->cnt & CNT_SCI_EN) != 0 &&
	    (sc->sts & sc->en & PM1_EN_BITS) != 0;
	if (level != sc->sci_level) {
		sc->sci_level = level;
		(void)dev_irq_set(sc->dc, sc->sci_irq, level);
	}
}

static void
acpipm_tmr_ev_update(struct acpipm_softc *sc)
{
	bool want = (sc->en & PM1_TMR) != 0;

	if (want == sc->tmr_ev_on)
		return;
	if (want ? mevent_enable(sc->tmr_ev) : mevent_disable(sc->tmr_ev)) {
		log_warnx_rl("acpipm: cannot %s the PM timer tick",
		    want ? "start" : "stop");
		return;
	}
	sc->tmr_ev_on = want;
}

static void
acpipm_tmr_cb(int fd, enum ev_type type, void *arg)
{
	struct acpipm_softc *sc = arg;

	pthread_mutex_lock(&sc->lock);
	acpipm_tmr_check(sc);
	acpipm_sci_update(sc);
	pthread_mutex_unlock(&sc->lock);
}

/* The byte lanes an access covers (the bus keeps off + size in range). */
static uint32_t
lane_mask(uint64_t off, unsigned size)
{
	uint64_t m = size >= 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;

	return ((uint32_t)(m << (off * 8)));
}

int
acpipm_evt_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct acpipm_softc *sc = arg;
	uint32_t mask, reg, v;

	if (off >= 4)
		return (0);
	mask = lane_mask(off, size);
	pthread_mutex_lock(&sc->lock);
	acpipm_tmr_check(sc);
	if (dir == IO_READ) {
		reg = sc->sts | (uint32_t)sc->en << 16;
		*val = (reg & mask) >> (off * 8);
	} else {
		v = (uint32_t)(*val << (off * 8)) & mask;
		/* Status bits are write-1-to-clear. */
		sc->sts &= (uint16_t)~(v & PM1_STS_W1C);
		/* Enable bits are stored for the lanes written. */
		sc->en = (uint16_t)((sc->en & ~(mask >> 16)) |
		    ((v >> 16) & PM1_EN_BITS));
		acpipm_tmr_ev_update(sc);
	}
	acpipm_sci_update(sc);
	pthread_mutex_unlock(&sc->lock);
	return (0);
}

int
acpipm_cnt_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct acpipm_softc *sc = arg;
	uint32_t mask, v;
	unsigned typ;
	bool poweroff = false;

	if (off >= 2)
		return (0);
	mask = lane_mask(off, size) & 0xffff;
	pthread_mutex_lock(&sc->lock);
	if (dir == IO_READ) {
		*val = (sc->cnt & mask) >> (off * 8);
	} else {
		v = ((uint32_t)(*val << (off * 8)) & mask) | (sc->cnt & ~mask);
		/* SCI_EN stays set: there is no SMI_CMD to leave ACPI mode
		 * (section 4.8.3.2.1; bhyve pm.c preserves it too). */
		sc->cnt = (uint16_t)(CNT_SCI_EN | (v & CNT_STORED));
		if (v & CNT_SLP_EN) {
			typ = (v & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT;
			if (typ == ACPI_S5_SLP_TYP)
				poweroff = true;
			else
				log_warnx_rl("acpipm: sleep type %u not "
				    "supported, ignored", typ);
		}
		acpipm_sci_update(sc);
	}
	pthread_mutex_unlock(&sc->lock);
	if (poweroff)
		dev_suspend(sc->dc, VM_SUSPEND_POWEROFF);
	return (0);
}

int
acpipm_timer_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct acpipm_softc *sc = arg;
	uint64_t t;

	if (dir == IO_WRITE || off >= 4)
		return (0);		/* read-only */
	t = acpipm_ticks(sc) & PMTMR_MASK;
	*val = (t & lane_mask(off, size)) >> (off * 8);
	return (0);
}

int
acpipm_reset_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct acpipm_softc *sc = arg;
	bool reset = false;

	if (off != 0)
		return (0);
	pthread_mutex_lock(&sc->lock);
	if (dir == IO_READ) {
		*val = sc->reset;
	} else {
		sc->reset = (uint8_t)*val;
		/* Hard (bit 1) and soft resets are the same here, as in
		 * bhyve; 0x06 and 0x0E both reset. */
		reset = (sc->reset & RST_CPU) != 0;
	}
	pthread_mutex_unlock(&sc->lock);
	if (reset)
		dev_suspend(sc->dc, VM_SUSPEND_RESET);
	return (0);
}

void
acpipm_power_button(struct acpipm_softc *sc)
{
	pthread_mutex_lock(&sc->lock);
	sc->sts |= PM1_PWRBTN;
	acpipm_sci_update(sc);
	pthread_mutex_unlock(&sc->lock);
}

void
acpipm_set_clock_fn(struct acpipm_softc *sc, acpipm_clock_fn_t fn)
{
	pthread_mutex_lock(&sc->lock);
	sc->clock = fn != NULL ? fn : acpipm_monotonic;
	sc->tmr_epoch = acpipm_ticks(sc) >> PMTMR_MSB_SHIFT;
	pthread_mutex_unlock(&sc->lock);
}

struct acpipm_softc *
acpipm_init(const struct devctx *dc, unsigned sci_irq)
{
	struct acpipm_softc *sc;
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
	sc->sci_irq = sci_irq;
	sc->clock = acpipm_monotonic;
	sc->cnt = CNT_SCI_EN;
	sc->tmr_epoch = acpipm_ticks(sc) >> PMTMR_MSB_SHIFT;
	sc->tmr_ev = mevent_add_disabled(TMR_POLL_MS, EVF_TIMER, acpipm_tmr_cb,
	    sc);
	if (sc->tmr_ev == NULL) {
		error = errno;
		pthread_mutex_destroy(&sc->lock);
		free(sc);
		errno = error;
		return (NULL);
	}
	return (sc);
}

void
acpipm_fini(struct acpipm_softc *sc)
{
	if (sc == NULL)
		return;
	(void)mevent_delete(sc->tmr_ev);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
