/*
 * ns16550.h: a 16550A UART (bhyve's uart_emul.c; the NS16550A datasheet).
 *
 * The machine layer creates the UART, attaches a terminal backend
 * (backend/tty.h) and registers the 8 ports itself:
 *
 *	sc = uart_init(dc, 4, "com1");
 *	uart_set_backend(sc, "stdio");
 *	io_register(dc->dc_bus, IO_PIO, 0x3f8, 8, uart_io, sc, "com1");
 *
 * The interrupt output is driven with dev_irq_set() on the line given to
 * uart_init(), only when its level changes, and only while MCR.OUT2 is set
 * and loopback is off, as on a PC (see ns16550.c).
 */
#ifndef NS16550_H
#define NS16550_H

#include <stddef.h>
#include <stdint.h>
#include "devctx.h"
#include "iobus.h"

struct uart_softc;

/*
 * Create a UART in its reset state with no backend (output is discarded,
 * no input arrives).  irq is the line passed to dev_irq_set(); name is
 * used in diagnostics (copied).  Returns NULL when out of memory.
 */
struct uart_softc *uart_init(const struct devctx *dc, unsigned irq,
	    const char *name);

/*
 * The io_handler_t for the UART's 8 registers (off 0-7).  Accesses wider
 * than a byte use the low byte at off; reads return the register
 * zero-extended.  Runs on vCPU threads; never blocks on the backend.
 * Returns 0.
 */
int	uart_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
	    uint64_t *val);

/*
 * Open the backend named by spec (tty_open(): "stdio", a path,
 * "tcp=ip:port", "unix=path") and attach it.  A NULL spec leaves the UART
 * unconnected and returns 0.  Returns 0, -EBUSY if a backend is already
 * attached, or tty_open()'s -errno (already logged).
 */
int	uart_set_backend(struct uart_softc *sc, const char *spec)
	    __must_check;

/*
 * Offer bytes to the receiver as if they arrived on the serial line.
 * Returns how many were taken: at most the room left in the RX FIFO, and
 * none in loopback mode (the line is disconnected then).  The rest stays
 * with the caller; nothing is dropped.  For tests and fuzzing.
 */
size_t	uart_rx_inject(struct uart_softc *sc, const uint8_t *buf, size_t len);

/*
 * Close the backend and free the UART.  The caller unregisters the ports
 * first, and calls this when the event loop is not running (or from the
 * event-loop thread), so no backend callback is in flight.  NULL is a
 * no-op.
 */
void	uart_free(struct uart_softc *sc);

#endif /* NS16550_H */
