/*
 * fuzz_ns16550.c: the 16550A model driven by a byte program.
 *
 * Each step starts with an op byte; its low 2 bits pick the action:
 *	0  write: register op>>2 & 7 <- next byte
 *	1  read: register op>>2 & 7
 *	2  line input: the next (op>>2 & 31) bytes offered to the receiver
 *	3  wide access: size 2 or 4 (op bit 2), read or write (bit 3),
 *	   register op>>4 & 7 clipped to the 8-port window, value next byte
 * The UART writes to a /dev/null backend (output discarded as it is
 * accepted).  Checked: the interrupt line is only driven on a change and
 * only on the UART's own line; nothing crashes or hangs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fake.h"
#include "hw/ns16550.h"

#define BASE	0x3f8
#define IRQ	4

static int last_level;

static int
check_irq_set(void *opaque, unsigned gsi, int level)
{
	if (gsi != IRQ || (level != 0 && level != 1) || level == last_level) {
		fprintf(stderr, "irq %u driven to %d (was %d)\n", gsi, level,
		    last_level);
		abort();
	}
	last_level = level;
	return (0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_vm fv;
	static bool ready;
	struct uart_softc *sc;
	size_t i = 0, n;
	uint64_t v;
	unsigned off, width;
	uint8_t op;

	if (!ready) {
		fake_vm_init(&fv, 0, 1);
		fv.dc.dc_irq_set = check_irq_set;
		ready = true;
	}
	last_level = 0;
	sc = uart_init(&fv.dc, IRQ, "com1");
	if (sc == NULL)
		return (0);
	if (uart_set_backend(sc, "/dev/null") != 0)
		abort();
	if (io_register(&fv.bus, IO_PIO, BASE, 8, uart_io, sc, "com1") != 0)
		abort();
	while (i < size) {
		op = data[i++];
		switch (op & 3) {
		case 0:
			v = i < size ? data[i++] : 0;
			(void)io_dispatch(&fv.bus, IO_PIO, IO_WRITE,
			    BASE + ((op >> 2) & 7), 1, &v);
			break;
		case 1:
			(void)io_dispatch(&fv.bus, IO_PIO, IO_READ,
			    BASE + ((op >> 2) & 7), 1, &v);
			break;
		case 2:
			n = (op >> 2) & 31;
			if (n > size - i)
				n = size - i;
			(void)uart_rx_inject(sc, data + i, n);
			i += n;
			break;
		default:
			width = (op & 4) ? 4 : 2;
			off = (op >> 4) & 7;
			if (off > 8 - width)
				off = 8 - width;
			v = i < size ? data[i++] * 0x01010101ULL : 0;
			(void)io_dispatch(&fv.bus, IO_PIO,
			    (op & 8) ? IO_WRITE : IO_READ, BASE + off, width,
			    &v);
			if (!(op & 8) && (v >> 8) != 0)
				abort();	/* reads are zero-extended */
			break;
		}
	}
	(void)io_unregister(&fv.bus, IO_PIO, BASE);
	uart_free(sc);
	return (0);
}
