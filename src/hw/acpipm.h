/*
 * acpipm.h: the ACPI fixed-hardware registers (PM1a event and control
 * blocks, PM timer) and the reset control register at 0xCF9.
 *
 * The platform is always in ACPI mode (SCI_EN reads 1 and cannot be
 * cleared: the FADT has no SMI_CMD).  Writing SLP_TYP = ACPI_S5_SLP_TYP
 * with SLP_EN powers the VM off; setting RST_CPU in 0xCF9 resets it.
 * The PM timer is 24 bits wide: the FADT's TMR_VAL_EXT flag must be 0.
 */
#ifndef ACPIPM_H
#define ACPIPM_H

#include <stdint.h>
#include <time.h>
#include "devctx.h"
#include "iobus.h"

struct acpipm_softc;

/* A monotonic clock: CLOCK_MONOTONIC by default; tests substitute one. */
typedef struct timespec (*acpipm_clock_fn_t)(void);

/*
 * Create the registers; the SCI goes to line sci_irq (level: high while
 * an enabled status bit is set).  Returns NULL with errno set on failure.
 */
struct acpipm_softc *acpipm_init(const struct devctx *dc, unsigned sci_irq);
/* Free them (tests and fuzzing). */
void	acpipm_fini(struct acpipm_softc *sc);

/*
 * io_handler_t for PM1a_EVT_BLK, 4 ports: PM1_STS at offset 0 (write 1
 * to clear), PM1_EN at offset 2.  Any access size within the block.
 */
int	acpipm_evt_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);
/* io_handler_t for PM1a_CNT_BLK, 2 ports. */
int	acpipm_cnt_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);
/* io_handler_t for PM_TMR_BLK, 4 ports, read-only: 3.579545 MHz, 24 bits. */
int	acpipm_timer_io(void *arg, enum io_dir dir, uint64_t off,
	    unsigned size, uint64_t *val);
/*
 * io_handler_t for the 1-byte reset control register (0xCF9): reads give
 * the last value written; a write with bit 2 (RST_CPU) set resets the VM.
 */
int	acpipm_reset_io(void *arg, enum io_dir dir, uint64_t off,
	    unsigned size, uint64_t *val);

/*
 * Press the power button: set PWRBTN_STS and raise the SCI if the guest
 * enabled PWRBTN_EN.  Callable from any thread (the event loop calls it
 * on SIGTERM).
 */
void	acpipm_power_button(struct acpipm_softc *sc);

/* Replace the timer's clock (tests). */
void	acpipm_set_clock_fn(struct acpipm_softc *sc, acpipm_clock_fn_t fn);

#endif /* ACPIPM_H */
