/*
 * i8042.h: the PS/2 keyboard controller (ports 0x60 and 0x64) with a
 * keyboard and a mouse that answer commands but never send input.
 *
 * The controller is what operating systems probe at boot and what they
 * use to reset the machine (command 0xFE, or an output-port write that
 * clears bit 0): both end the VM with VM_SUSPEND_RESET.
 */
#ifndef I8042_H
#define I8042_H

#include <stdint.h>
#include "devctx.h"
#include "iobus.h"

struct i8042_softc;

/*
 * Create the controller.  Keyboard bytes interrupt on kbd_irq and mouse
 * bytes on aux_irq (edge lines: high while such a byte waits in the
 * output buffer and the controller's interrupt enable is set).  Returns
 * NULL with errno set on failure.
 */
struct i8042_softc *i8042_init(const struct devctx *dc, unsigned kbd_irq,
	    unsigned aux_irq);
/* Free the controller (tests and fuzzing). */
void	i8042_fini(struct i8042_softc *sc);

/* io_handler_t for the 1-port range at 0x60: the data port. */
int	i8042_data_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);
/* io_handler_t for the 1-port range at 0x64: status (read), command
 * (write). */
int	i8042_cmd_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);

#endif /* I8042_H */
