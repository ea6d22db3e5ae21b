/*
 * ns16550.c: a 16550A UART (bhyve's uart_emul.c; National Semiconductor
 * PC16550D datasheet, "Universal Asynchronous Receiver/Transmitter with
 * FIFOs", June 1995; QEMU's hw/char/serial.c for behaviour).
 *
 * The transmitter is infinitely fast: a byte written to THR moves at once
 * from the TX FIFO to the backend, which writes it or buffers it
 * (backend/tty.h).  When the backend's buffer is full the byte stays in
 * the TX FIFO, LSR.THRE/TEMT read 0 and the guest waits as for a slow
 * line; when room comes back (TTY_EV_OUTPUT) the FIFO drains and THRE and
 * its interrupt return.  So output is never lost to a slow peer that
 * reads.  A peer that reads nothing for the stall timeout is declared
 * stalled by the backend, which then takes and discards what we offer
 * and says so with TTY_EV_OUTPUT: the guest waits a bounded time, never
 * for as long as a peer likes.  At exit the backend's drain asks us for
 * what the TX FIFO still holds the same way.  With no backend, or nobody
 * connected, bytes are discarded at once.
 *
 * The receiver takes backend input only while the RX FIFO has room; the
 * backend stops reading its fd otherwise, so input waits there and no
 * overrun ever happens from the line.  There is no baud-rate timing: a
 * FIFO holding fewer bytes than the trigger level reports a character
 * timeout (IIR 0x0c) at once instead of after four character times.
 *
 * The interrupt pin reaches the PIC only while MCR.OUT2 is set, as on
 * PC/AT serial ports, where OUT2 enables the IRQ line's driver; in
 * loopback mode the modem-control outputs are forced inactive (datasheet
 * 8.6, MCR bit 4), so the pin is gated off too.  bhyve and QEMU raise the
 * line regardless of OUT2; Linux and FreeBSD set OUT2 before they expect
 * interrupts, so following the hardware costs them nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend/tty.h"
#include "hw/ns16550.h"
#include "log.h"

/* Register offsets (datasheet table II). */
#define REG_DATA	0	/* RBR (read), THR (write); DLL if DLAB */
#define REG_IER		1	/* DLM if DLAB */
#define REG_IIR		2	/* IIR (read), FCR (write) */
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f

#define IIR_NOPEND	0x01
#define IIR_MLSC	0x00	/* modem status */
#define IIR_TXRDY	0x02	/* THR empty */
#define IIR_RXRDY	0x04	/* received data at the trigger level */
#define IIR_RLS		0x06	/* receiver line status */
#define IIR_RXTOUT	0x0c	/* character timeout */
#define IIR_FIFO	0xc0	/* FIFOs enabled */

#define FCR_ENABLE	0x01
#define FCR_RCV_RST	0x02
#define FCR_XMT_RST	0x04
#define FCR_DMA		0x08
#define FCR_TRIGGER	0xc0

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOPBACK	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01	/* data ready */
#define LSR_OE		0x02	/* overrun */
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_INTR	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTA	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

#define UART_FIFOSZ	16
#define UART_DIVISOR	12	/* 9600 baud from 1.8432 MHz (bhyve) */

struct uart_fifo {
	uint8_t		f_buf[UART_FIFOSZ];
	unsigned	f_head;		/* index of the oldest byte */
	unsigned	f_count;	/* bytes held */
};

struct uart_softc {
	pthread_mutex_t	sc_mtx;		/* protects everything below */
	const struct devctx *sc_dc;
	unsigned	sc_irq;		/* line passed to dev_irq_set */
	char		sc_name[16];	/* "com1", for messages */
	struct tty_backend *sc_be;	/* NULL: output discarded, no input */

	uint8_t		sc_ier;
	uint8_t		sc_fcr;		/* FCR_ENABLE | FCR_DMA | FCR_TRIGGER */
	uint8_t		sc_lcr;
	uint8_t		sc_mcr;
	uint8_t		sc_lsr;		/* only the sticky error bits (LSR_INTR) */
	uint8_t		sc_msr;
	uint8_t		sc_scr;
	uint8_t		sc_dll;		/* divisor latch, low */
	uint8_t		sc_dlm;		/* divisor latch, high */
	bool		sc_thre_pending; /* THRE interrupt not acknowledged */
	int		sc_irq_level;	/* level last driven on sc_irq */
	struct uart_fifo sc_rx;
	struct uart_fifo sc_tx;
};

static unsigned
uart_fifo_size(const struct uart_softc *sc)
{
	/* Without FIFOs, RBR and THR are one-byte FIFOs (16450 mode). */
	return ((sc->sc_fcr & FCR_ENABLE) ? UART_FIFOSZ : 1);
}

static bool
fifo_put(struct uart_fifo *f, unsigned size, uint8_t b)
{
	if (f->f_count >= size)
		return (false);
	f->f_buf[(f->f_head + f->f_count) % UART_FIFOSZ] = b;
	f->f_count++;
	return (true);
}

static uint8_t
fifo_get(struct uart_fifo *f)
{
	uint8_t b;

	if (f->f_count == 0)
		return (0);
	b = f->f_buf[f->f_head];
	f->f_head = (f->f_head + 1) % UART_FIFOSZ;
	f->f_count--;
	return (b);
}

static void
fifo_reset(struct uart_fifo *f)
{
	f->f_head = f->f_count = 0;
}

/* MSR status bits: in loopback MCR drives them (datasheet 8.6). */
static uint8_t
uart_modem_status(uint8_t mcr)
{
	uint8_t msr = 0;

	if ((mcr & MCR_LOOPBACK) == 0)
		/* A null modem that is always ready, so a guest's open()
		 * never waits for carrier and RTS/CTS flow never stalls. */
		return (MSR_DCD | MSR_DSR | MSR_CTS);
	if (mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return (msr);
}

/* The pending interrupt of highest priority (datasheet table IV). */
static uint8_t
uart_intr_id(const struct uart_softc *sc)
{
	static const unsigned trigger[4] = { 1, 4, 8, 14 };	/* FCR7:6 */

	if ((sc->sc_ier & IER_ELSI) && (sc->sc_lsr & LSR_INTR))
		return (IIR_RLS);
	if ((sc->sc_ier & IER_ERBFI) && sc->sc_rx.f_count > 0) {
		if ((sc->sc_fcr & FCR_ENABLE) == 0)
			return (IIR_RXRDY);
		return (sc->sc_rx.f_count >= trigger[sc->sc_fcr >> 6] ?
		    IIR_RXRDY : IIR_RXTOUT);
	}
	if ((sc->sc_ier & IER_ETBEI) && sc->sc_thre_pending)
		return (IIR_TXRDY);
	if ((sc->sc_ier & IER_EDSSI) && (sc->sc_msr & MSR_DELTA))
		return (IIR_MLSC);
	return (IIR_NOPEND);
}

/* Drive the pin to match the state, only on a change. */
static void
uart_update_irq(struct uart_softc *sc)
{
	int level, error;

	level = uart_intr_id(sc) != IIR_NOPEND &&
	    (sc->sc_mcr & (MCR_OUT2 | MCR_LOOPBACK)) == MCR_OUT2;
	if (level == sc->sc_irq_level)
		return;
	sc->sc_irq_level = level;
	error = dev_irq_set(sc->sc_dc, sc->sc_irq, level);
	if (error != 0)
		log_warnx_rl("%s: irq %u: %s", sc->sc_name, sc->sc_irq,
		    strerror(-error));
}

/* Let the backend feed us only while the RX FIFO has room. */
static void
uart_rx_flow(struct uart_softc *sc)
{
	if (sc->sc_be != NULL)
		tty_set_input(sc->sc_be, (sc->sc_mcr & MCR_LOOPBACK) == 0 &&
		    sc->sc_rx.f_count < uart_fifo_size(sc));
}

/* Move bytes from the TX FIFO to the line (or, in loopback, the RX FIFO). */
static void
uart_tx_drain(struct uart_softc *sc)
{
	uint8_t tmp[UART_FIFOSZ];
	unsigned i, n;
	size_t done;

	if (sc->sc_tx.f_count == 0)
		return;
	if (sc->sc_mcr & MCR_LOOPBACK) {
		while (sc->sc_tx.f_count > 0)
			if (!fifo_put(&sc->sc_rx, uart_fifo_size(sc),
			    fifo_get(&sc->sc_tx)))
				sc->sc_lsr |= LSR_OE;	/* datasheet: lost */
	} else {
		n = sc->sc_tx.f_count;
		for (i = 0; i < n; i++)
			tmp[i] = sc->sc_tx.f_buf[(sc->sc_tx.f_head + i) %
			    UART_FIFOSZ];
		done = sc->sc_be != NULL ? tty_write(sc->sc_be, tmp, n) : n;
		for (i = 0; i < done && i < n; i++)
			(void)fifo_get(&sc->sc_tx);
	}
	if (sc->sc_tx.f_count == 0)
		sc->sc_thre_pending = true;
}

/* Take what the backend has, up to the room in the RX FIFO. */
static void
uart_rx_fill(struct uart_softc *sc)
{
	uint8_t tmp[UART_FIFOSZ];
	size_t room, n, i;

	while (sc->sc_be != NULL && (sc->sc_mcr & MCR_LOOPBACK) == 0) {
		room = uart_fifo_size(sc) - sc->sc_rx.f_count;
		if (room == 0)
			break;
		n = tty_read(sc->sc_be, tmp, room);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			(void)fifo_put(&sc->sc_rx, uart_fifo_size(sc), tmp[i]);
	}
	uart_rx_flow(sc);
}

static void
uart_tty_notify(void *arg, unsigned events)
{
	struct uart_softc *sc = arg;

	pthread_mutex_lock(&sc->sc_mtx);
	if (events & TTY_EV_OUTPUT)
		uart_tx_drain(sc);
	if (events & TTY_EV_INPUT)
		uart_rx_fill(sc);
	uart_update_irq(sc);
	pthread_mutex_unlock(&sc->sc_mtx);
}

static void
uart_write_fcr(struct uart_softc *sc, uint8_t v)
{
	bool txbusy = sc->sc_tx.f_count > 0;

	/* Toggling the enable bit clears both FIFOs (datasheet 8.5). */
	if ((v ^ sc->sc_fcr) & FCR_ENABLE) {
		fifo_reset(&sc->sc_rx);
		fifo_reset(&sc->sc_tx);
	}
	/* The other bits are written only with FCR0 set. */
	if ((v & FCR_ENABLE) == 0) {
		sc->sc_fcr = 0;
	} else {
		if (v & FCR_RCV_RST)
			fifo_reset(&sc->sc_rx);
		if (v & FCR_XMT_RST)
			fifo_reset(&sc->sc_tx);
		sc->sc_fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
	}
	if (txbusy && sc->sc_tx.f_count == 0)
		sc->sc_thre_pending = true;	/* THR just became empty */
	uart_rx_flow(sc);
}

static void
uart_write_mcr(struct uart_softc *sc, uint8_t v)
{
	uint8_t old, msr;

	sc->sc_mcr = v & MCR_MASK;
	old = sc->sc_msr;
	msr = uart_modem_status(sc->sc_mcr);
	if ((old ^ msr) & MSR_CTS)
		sc->sc_msr |= MSR_DCTS;
	if ((old ^ msr) & MSR_DSR)
		sc->sc_msr |= MSR_DDSR;
	if ((old ^ msr) & MSR_DCD)
		sc->sc_msr |= MSR_DDCD;
	if ((old & MSR_RI) && !(msr & MSR_RI))
		sc->sc_msr |= MSR_TERI;		/* trailing edge only */
	sc->sc_msr = (sc->sc_msr & MSR_DELTA) | msr;
	/* Leaving loopback: bytes stuck for a full backend may go now. */
	uart_tx_drain(sc);
	uart_rx_flow(sc);
}

static void
uart_write(struct uart_softc *sc, unsigned off, uint8_t v)
{
	if ((sc->sc_lcr & LCR_DLAB) && off <= REG_IER) {
		if (off == REG_DATA)
			sc->sc_dll = v;
		else
			sc->sc_dlm = v;
		return;
	}
	switch (off) {
	case REG_DATA:
		/* A full FIFO (the guest ignored THRE) loses the byte. */
		(void)fifo_put(&sc->sc_tx, uart_fifo_size(sc), v);
		sc->sc_thre_pending = false;
		uart_tx_drain(sc);
		break;
	case REG_IER:
		sc->sc_ier = v & IER_MASK;
		/* Enabling ETBEI with THR empty interrupts at once (QEMU). */
		if ((sc->sc_ier & IER_ETBEI) && sc->sc_tx.f_count == 0)
			sc->sc_thre_pending = true;
		break;
	case REG_IIR:
		uart_write_fcr(sc, v);
		break;
	case REG_LCR:
		sc->sc_lcr = v;
		break;
	case REG_MCR:
		uart_write_mcr(sc, v);
		break;
	case REG_SCR:
		sc->sc_scr = v;
		break;
	default:
		/* LSR and MSR are read-only; writes are ignored. */
		break;
	}
}

static uint8_t
uart_read(struct uart_softc *sc, unsigned off)
{
	uint8_t v, id;

	if ((sc->sc_lcr & LCR_DLAB) && off <= REG_IER)
		return (off == REG_DATA ? sc->sc_dll : sc->sc_dlm);
	switch (off) {
	case REG_DATA:
		v = fifo_get(&sc->sc_rx);
		uart_rx_flow(sc);
		return (v);
	case REG_IER:
		return (sc->sc_ier);
	case REG_IIR:
		id = uart_intr_id(sc);
		/* Reading IIR acknowledges a THRE interrupt (table IV). */
		if (id == IIR_TXRDY)
			sc->sc_thre_pending = false;
		return (id | ((sc->sc_fcr & FCR_ENABLE) ? IIR_FIFO : 0));
	case REG_LCR:
		return (sc->sc_lcr);
	case REG_MCR:
		return (sc->sc_mcr);
	case REG_LSR:
		v = sc->sc_lsr;
		if (sc->sc_rx.f_count > 0)
			v |= LSR_DR;
		if (sc->sc_tx.f_count == 0)
			v |= LSR_THRE | LSR_TEMT;
		sc->sc_lsr &= ~LSR_INTR;	/* cleared by reading */
		return (v);
	case REG_MSR:
		v = sc->sc_msr;
		sc->sc_msr &= ~MSR_DELTA;
		return (v);
	default:
		return (sc->sc_scr);
	}
}

int
uart_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct uart_softc *sc = arg;

	if (off > REG_SCR) {
		if (dir == IO_READ)
			*val = ~0ULL;
		return (0);
	}
	pthread_mutex_lock(&sc->sc_mtx);
	if (dir == IO_READ)
		*val = uart_read(sc, (unsigned)off);
	else
		uart_write(sc, (unsigned)off, (uint8_t)*val);
	uart_update_irq(sc);
	pthread_mutex_unlock(&sc->sc_mtx);
	return (0);
}

size_t
uart_rx_inject(struct uart_softc *sc, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&sc->sc_mtx);
	if ((sc->sc_mcr & MCR_LOOPBACK) == 0)
		while (n < len &&
		    fifo_put(&sc->sc_rx, uart_fifo_size(sc), buf[n]))
			n++;
	uart_rx_flow(sc);
	uart_update_irq(sc);
	pthread_mutex_unlock(&sc->sc_mtx);
	return (n);
}

struct uart_softc *
uart_init(const struct devctx *dc, unsigned irq, const char *name)
{
	struct uart_softc *sc;

	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return (NULL);
	pthread_mutex_init(&sc->sc_mtx, NULL);
	sc->sc_dc = dc;
	sc->sc_irq = irq;
	snprintf(sc->sc_name, sizeof(sc->sc_name), "%s",
	    name != NULL ? name : "uart");
	/* Reset state (datasheet table III): LSR THRE/TEMT, IIR 0x01. */
	sc->sc_dll = UART_DIVISOR & 0xff;
	sc->sc_dlm = UART_DIVISOR >> 8;
	sc->sc_msr = uart_modem_status(0);
	return (sc);
}

int
uart_set_backend(struct uart_softc *sc, const char *spec)
{
	struct tty_backend *be;
	int error;

	if (spec == NULL)
		return (0);
	pthread_mutex_lock(&sc->sc_mtx);
	error = sc->sc_be != NULL ? -EBUSY : 0;
	pthread_mutex_unlock(&sc->sc_mtx);
	if (error != 0) {
		log_warnx("%s: a console backend is already attached",
		    sc->sc_name);
		return (error);
	}
	error = tty_open(spec, sc->sc_name, uart_tty_notify, sc, &be);
	if (error != 0)
		return (error);
	pthread_mutex_lock(&sc->sc_mtx);
	sc->sc_be = be;
	uart_rx_flow(sc);
	pthread_mutex_unlock(&sc->sc_mtx);
	return (0);
}

void
uart_free(struct uart_softc *sc)
{
	if (sc == NULL)
		return;
	tty_close(sc->sc_be);
	pthread_mutex_destroy(&sc->sc_mtx);
	free(sc);
}
