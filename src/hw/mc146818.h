/*
 * mc146818.h: the MC146818A real-time clock and its CMOS RAM (ports
 * 0x70-0x71, ISA IRQ 8).
 *
 * 128 bytes: the time and alarm registers 0-9, control registers A-D,
 * the century byte at 0x32 (the FADT's CENTURY field) and NVRAM.  Only
 * the first bank is emulated: like bhyve's vrtc and QEMU's ISA RTC there
 * is no upper bank at 0x72/0x73.
 */
#ifndef MC146818_H
#define MC146818_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "devctx.h"
#include "iobus.h"

struct rtc_softc;

/* A wall clock: CLOCK_REALTIME by default; tests substitute their own. */
typedef struct timespec (*rtc_clock_fn_t)(void);

/*
 * Create the RTC.  The guest sees the host's time, as UTC or (when
 * use_localtime, bhyve's default and its -u flag's opposite) as local
 * time.  Interrupts go to line irq through dc; update, alarm and periodic
 * interrupts are driven by event-loop timers armed only while one is
 * enabled.  Returns NULL with errno set on failure.
 */
struct rtc_softc *rtc_init(const struct devctx *dc, unsigned irq,
	    bool use_localtime);
/* Free the RTC (tests and fuzzing); unregisters nothing from the bus. */
void	rtc_fini(struct rtc_softc *sc);

/*
 * io_handler_t for the 2-port range at 0x70: offset 0 is the index
 * (bit 7, the NMI mask, is ignored; reads give 0xff), offset 1 the data.
 * A word access is split into its two byte cycles.  Never fails.
 */
int	rtc_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);

/*
 * Record the guest's memory size in the NVRAM bytes firmware reads
 * (bhyve amd64/rtc.c, QEMU pc_cmos_init): 0x15-0x18, 0x30-0x31,
 * 0x34-0x35 and 0x5b-0x5d.  lowmem is RAM below 4 GiB, highmem above.
 */
void	rtc_set_memsize(struct rtc_softc *sc, uint64_t lowmem,
	    uint64_t highmem);

/*
 * Replace the host clock (tests).  The guest time restarts from the new
 * clock's reading, as if just powered on.
 */
void	rtc_set_clock_fn(struct rtc_softc *sc, rtc_clock_fn_t fn);

/*
 * Bring the update, alarm and periodic flags (register C) and the
 * interrupt line up to date with the clock.  The event-loop timers call
 * this; tests call it after moving their clock.
 */
void	rtc_poll(struct rtc_softc *sc);

#endif /* MC146818_H */
