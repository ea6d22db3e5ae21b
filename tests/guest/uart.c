/*
 * uart: the 16550 at COM1 (0x3F8).
 *
 * Reset state as the kit leaves it (it only writes THR and reads LSR):
 * IER 0, IIR "no interrupt, no FIFO", LSR THRE|TEMT without data.  Then
 * the scratch register, LCR and the divisor latch behind DLAB, and the
 * loopback mode: MCR outputs reflected in MSR, bytes coming back through
 * RBR with and without the FIFO, overrun, and the receive and THRE
 * interrupt identifications.  Loopback bytes spell "LEAK": the runner
 * fails the test if they reach the console.
 * Reference: NS16550D data sheet ("Register Description", table 2 and
 * 8.4-8.9; loopback in 8.6).
 */
#include "kit.h"

#define COM1		0x3f8
#define RBR		0	/* read, DLAB=0 */
#define THR		0	/* write, DLAB=0 */
#define DLL		0	/* DLAB=1 */
#define IER		1	/* DLAB=0 */
#define DLM		1	/* DLAB=1 */
#define IIR		2	/* read */
#define FCR		2	/* write */
#define LCR		3
#define MCR		4
#define LSR		5
#define MSR		6
#define SCR		7

#define IER_ERDA	0x01
#define IER_ETHRE	0x02
#define IIR_NOPEND	0x01
#define IIR_ID		0x0f
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_RXCLR	0x02
#define FCR_TXCLR	0x04
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

static uint8_t rd(unsigned r) { return (inb((uint16_t)(COM1 + r))); }
static void wr(unsigned r, uint8_t v) { outb((uint16_t)(COM1 + r), v); }

static void
drain(void)
{
	unsigned i;

	for (i = 0; i < 64 && (rd(LSR) & LSR_DR); i++)
		(void)rd(RBR);
}

static void
check_reset_state(void)
{
	uint8_t iir = rd(IIR), lsr = rd(LSR);

	printf("after reset: IER 0x%02x IIR 0x%02x LCR 0x%02x MCR 0x%02x "
	    "LSR 0x%02x MSR 0x%02x\n", rd(IER), iir, rd(LCR), rd(MCR), lsr,
	    rd(MSR));
	GCHECK_EQ(rd(IER), 0);
	GCHECK_EQ(iir, IIR_NOPEND);
	GCHECK_EQ(lsr, LSR_THRE | LSR_TEMT);
}

static void
check_registers(void)
{
	static const uint8_t pat[] = { 0x55, 0xaa, 0x00, 0xff, 0x5a };
	uint8_t lcr = rd(LCR), dll, dlm;
	unsigned i;

	for (i = 0; i < sizeof(pat); i++) {
		wr(SCR, pat[i]);
		GCHECK_EQ(rd(SCR), pat[i]);
	}
	wr(LCR, 0x1b);				/* 8 bits, 1 stop, even parity */
	GCHECK_EQ(rd(LCR), 0x1b);

	wr(LCR, LCR_DLAB | 0x03);
	dll = rd(DLL);
	dlm = rd(DLM);
	wr(DLL, 0x0c);				/* 9600 baud */
	wr(DLM, 0x01);
	GCHECK_EQ(rd(DLL), 0x0c);
	GCHECK_EQ(rd(DLM), 0x01);
	wr(DLL, dll);
	wr(DLM, dlm);
	wr(LCR, 0x03);
	GCHECK_EQ(rd(IER), 0);			/* DLM did not write IER */
	wr(LCR, lcr);
}

/* Send one byte in loopback and expect it back in RBR. */
static void
loop_byte(uint8_t c)
{
	wr(THR, (uint8_t)c);
	GCHECK(rd(LSR) & LSR_DR);
	GCHECK_EQ(rd(RBR), c);
	GCHECK((rd(LSR) & LSR_DR) == 0);
}

static void
check_loopback(void)
{
	static const char leak[] = "LEAK";
	uint8_t mcr = rd(MCR), lsr;
	unsigned i;

	wr(MCR, MCR_LOOP);
	GCHECK_EQ(rd(MCR) & 0x1f, MCR_LOOP);
	GCHECK_EQ(rd(MSR) & 0xf0, 0x00);
	/* DTR -> DSR, RTS -> CTS, OUT1 -> RI, OUT2 -> DCD. */
	wr(MCR, MCR_LOOP | MCR_DTR);
	GCHECK_EQ(rd(MSR) & 0xf0, 0x20);
	wr(MCR, MCR_LOOP | MCR_RTS);
	GCHECK_EQ(rd(MSR) & 0xf0, 0x10);
	wr(MCR, MCR_LOOP | MCR_OUT1);
	GCHECK_EQ(rd(MSR) & 0xf0, 0x40);
	wr(MCR, MCR_LOOP | MCR_OUT2);
	GCHECK_EQ(rd(MSR) & 0xf0, 0x80);
	wr(MCR, MCR_LOOP | 0x0f);
	GCHECK_EQ(rd(MSR) & 0xf0, 0xf0);
	drain();

	/* No FIFO: one byte at a time; a second unread byte overruns. */
	for (i = 0; leak[i] != '\0'; i++)
		loop_byte((uint8_t)leak[i]);
	wr(THR, 'L');
	wr(THR, 'K');
	lsr = rd(LSR);
	GCHECK(lsr & LSR_DR);
	GCHECK(lsr & LSR_OE);
	GCHECK((rd(LSR) & LSR_OE) == 0);	/* reading LSR clears OE */
	drain();

	/* Receive-data interrupt identification. */
	wr(IER, IER_ERDA);
	GCHECK_EQ(rd(IIR) & IIR_ID, IIR_NOPEND);
	wr(THR, 'E');
	GCHECK_EQ(rd(IIR) & IIR_ID, IIR_RDA);
	GCHECK_EQ(rd(RBR), 'E');
	GCHECK_EQ(rd(IIR) & IIR_ID, IIR_NOPEND);
	wr(IER, 0);

	/* THRE interrupt: pending once enabled, cleared by reading IIR. */
	wr(IER, IER_ETHRE);
	GCHECK_EQ(rd(IIR) & IIR_ID, IIR_THRE);
	GCHECK_EQ(rd(IIR) & IIR_ID, IIR_NOPEND);
	wr(IER, 0);

	/* FIFO: four bytes queue up and come back in order. */
	wr(FCR, FCR_ENABLE | FCR_RXCLR | FCR_TXCLR);
	GCHECK_EQ(rd(IIR) & IIR_FIFO, IIR_FIFO);
	for (i = 0; leak[i] != '\0'; i++)
		wr(THR, (uint8_t)leak[i]);
	for (i = 0; leak[i] != '\0'; i++) {
		GCHECK(rd(LSR) & LSR_DR);
		GCHECK_EQ(rd(RBR), (uint8_t)leak[i]);
	}
	GCHECK((rd(LSR) & (LSR_DR | LSR_OE)) == 0);
	wr(FCR, 0);
	GCHECK_EQ(rd(IIR), IIR_NOPEND);

	drain();
	wr(MCR, mcr);
}

int
guest_main(void)
{
	check_reset_state();
	check_registers();
	check_loopback();
	check_reset_state();
	printf("uart checks done\n");
	return (0);
}
