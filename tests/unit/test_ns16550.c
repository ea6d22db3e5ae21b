/*
 * test_ns16550.c: the 16550A model through the I/O bus of a fake VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "backend/tty.h"
#include "fake.h"
#include "hw/ns16550.h"
#include "mevent.h"
#include "test.h"

#define BASE	0x3f8
#define IRQ	4

enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };

struct rig {
	struct fake_vm		fv;
	struct uart_softc	*sc;
};

static void
rig_init(struct rig *r)
{
	fake_vm_init(&r->fv, 0, 1);
	r->sc = uart_init(&r->fv.dc, IRQ, "com1");
	if (r->sc == NULL ||
	    io_register(&r->fv.bus, IO_PIO, BASE, 8, uart_io, r->sc,
	    "com1") != 0) {
		fprintf(stderr, "rig_init failed\n");
		exit(2);
	}
}

static void
rig_fini(struct rig *r)
{
	(void)io_unregister(&r->fv.bus, IO_PIO, BASE);
	uart_free(r->sc);
	fake_vm_fini(&r->fv);
}

static uint8_t
rd(struct rig *r, unsigned reg)
{
	return ((uint8_t)fake_in(&r->fv, BASE + reg, 1));
}

static void
wr(struct rig *r, unsigned reg, uint8_t v)
{
	fake_out(&r->fv, BASE + reg, 1, v);
}

static size_t
inject_str(struct rig *r, const char *s, size_t n)
{
	return (uart_rx_inject(r->sc, (const uint8_t *)s, n));
}

TEST(reset_values)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(rd(&r, IER), 0);
	CHECK_EQ(rd(&r, IIR), 0x01);
	CHECK_EQ(rd(&r, LCR), 0);
	CHECK_EQ(rd(&r, MCR), 0);
	CHECK_EQ(rd(&r, LSR), 0x60);
	CHECK_EQ(rd(&r, MSR), 0xb0);		/* DCD, DSR, CTS */
	CHECK_EQ(rd(&r, SCR), 0);
	CHECK_EQ(r.fv.irq_rises[IRQ], 0);
	rig_fini(&r);
}

TEST(dlab_and_scratch)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IER, 0x05);
	wr(&r, LCR, 0x83);
	CHECK_EQ(rd(&r, DATA), 12);		/* default divisor, 9600 */
	CHECK_EQ(rd(&r, IER), 0);
	wr(&r, DATA, 0x01);
	wr(&r, IER, 0x02);
	CHECK_EQ(rd(&r, DATA), 0x01);
	CHECK_EQ(rd(&r, IER), 0x02);
	CHECK_EQ(rd(&r, LCR), 0x83);
	wr(&r, LCR, 0x03);
	CHECK_EQ(rd(&r, IER), 0x05);		/* IER untouched by DLM writes */
	CHECK_EQ(rd(&r, LCR), 0x03);
	wr(&r, LCR, 0x80);
	CHECK_EQ(rd(&r, DATA), 0x01);
	CHECK_EQ(rd(&r, IER), 0x02);
	wr(&r, LCR, 0);
	wr(&r, IER, 0xff);
	CHECK_EQ(rd(&r, IER), 0x0f);		/* bits 7:4 read 0 */
	wr(&r, SCR, 0x5a);
	CHECK_EQ(rd(&r, SCR), 0x5a);
	wr(&r, LSR, 0x00);			/* read-only */
	wr(&r, MSR, 0x00);
	CHECK_EQ(rd(&r, LSR) & 0x60, 0x60);
	CHECK_EQ(rd(&r, MSR), 0xb0);
	rig_fini(&r);
}

TEST(wide_access_uses_low_byte)
{
	struct rig r;

	rig_init(&r);
	fake_out(&r.fv, BASE + SCR - 1, 2, 0x1234);	/* MSR: ignored */
	fake_out(&r.fv, BASE + SCR - 3, 4, 0xaabbcc42);	/* MCR <- 0x42 */
	CHECK_EQ(rd(&r, MCR), 0x02);			/* masked to 0x1f */
	fake_out(&r.fv, BASE + LCR, 2, 0xff03);
	CHECK_EQ(fake_in(&r.fv, BASE + LCR, 2), 0x03);
	CHECK_EQ(fake_in(&r.fv, BASE + LCR, 4), 0x03);
	rig_fini(&r);
}

TEST(fifo_fill_and_drain_order)
{
	struct rig r;
	const char *msg = "0123456789abcdefXYZ";
	int i;

	rig_init(&r);
	/* 16450 mode: one byte at a time; the rest stays with the sender. */
	CHECK_EQ(inject_str(&r, msg, 3), 1);
	CHECK_EQ(rd(&r, IIR) & 0xc0, 0);
	CHECK_EQ(rd(&r, LSR) & 0x01, 1);
	CHECK_EQ(rd(&r, DATA), '0');
	CHECK_EQ(rd(&r, LSR) & 0x01, 0);

	wr(&r, IIR, 0x07);			/* enable + reset both */
	CHECK_EQ(rd(&r, IIR) & 0xc0, 0xc0);
	CHECK_EQ(inject_str(&r, msg, 19), 16);
	CHECK_EQ(inject_str(&r, "Z", 1), 0);
	CHECK_EQ(rd(&r, LSR) & 0x03, 0x01);	/* DR, never OE */
	for (i = 0; i < 16; i++)
		CHECK_EQ(rd(&r, DATA), msg[i]);
	CHECK_EQ(rd(&r, LSR) & 0x01, 0);
	CHECK_EQ(rd(&r, DATA), 0);		/* empty reads 0 */

	/* RX reset clears the FIFO; disabling FIFOs clears it too. */
	CHECK_EQ(inject_str(&r, msg, 5), 5);
	wr(&r, IIR, 0x03);
	CHECK_EQ(rd(&r, LSR) & 0x01, 0);
	CHECK_EQ(inject_str(&r, msg, 5), 5);
	wr(&r, IIR, 0x00);
	CHECK_EQ(rd(&r, LSR) & 0x01, 0);
	CHECK_EQ(rd(&r, IIR) & 0xc0, 0);
	rig_fini(&r);
}

TEST(iir_priorities_via_loopback)
{
	struct rig r;
	int i;

	rig_init(&r);
	wr(&r, IIR, 0x01);			/* FIFOs, trigger 1 */
	wr(&r, MCR, 0x1b);			/* loop, OUT2, RTS, DTR */
	/* Loopback maps RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	CHECK_EQ(rd(&r, MSR) & 0xf0, 0xb0);
	wr(&r, MCR, 0x14);			/* loop, OUT1 only */
	CHECK_EQ(rd(&r, MSR), 0x40 | 0x0b);	/* RI; DCTS, DDSR, DDCD */
	wr(&r, MCR, 0x10);
	CHECK_EQ(rd(&r, MSR), 0x04);		/* TERI on RI falling */
	CHECK_EQ(rd(&r, MSR), 0x00);		/* deltas clear on read */
	wr(&r, MCR, 0x13);			/* CTS, DSR rise again */

	for (i = 0; i < 17; i++)		/* the 17th overruns */
		wr(&r, DATA, (uint8_t)('a' + i));
	wr(&r, IER, 0x0f);
	CHECK_EQ(rd(&r, IIR), 0xc6);		/* line status first */
	CHECK_EQ(rd(&r, LSR) & 0x63, 0x63);	/* DR, OE, THRE, TEMT */
	CHECK_EQ(rd(&r, LSR) & 0x02, 0);	/* OE clears on read */
	CHECK_EQ(rd(&r, IIR), 0xc4);		/* then RX data */
	for (i = 0; i < 16; i++)
		CHECK_EQ(rd(&r, DATA), 'a' + i);
	CHECK_EQ(rd(&r, IIR), 0xc2);		/* then THRE ... */
	CHECK_EQ(rd(&r, IIR), 0xc0);		/* acked by IIR read; MSR */
	CHECK_EQ(rd(&r, MSR) & 0x03, 0x03);
	CHECK_EQ(rd(&r, IIR), 0xc1);		/* nothing */
	rig_fini(&r);
}

TEST(rx_timeout_below_trigger)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IIR, 0x41);			/* trigger level 4 */
	wr(&r, IER, 0x01);
	CHECK_EQ(inject_str(&r, "ab", 2), 2);
	CHECK_EQ(rd(&r, IIR), 0xcc);		/* character timeout */
	CHECK_EQ(inject_str(&r, "cd", 2), 2);
	CHECK_EQ(rd(&r, IIR), 0xc4);		/* trigger level reached */
	wr(&r, IER, 0x00);
	CHECK_EQ(rd(&r, IIR), 0xc1);
	rig_fini(&r);
}

TEST(thre_interrupt_semantics)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(rd(&r, IIR), 0x01);
	wr(&r, IER, 0x02);			/* THR empty: interrupt now */
	CHECK_EQ(rd(&r, IIR), 0x02);
	CHECK_EQ(rd(&r, IIR), 0x01);		/* acknowledged by the read */
	wr(&r, DATA, 'x');			/* sent at once: empty again */
	CHECK_EQ(rd(&r, LSR) & 0x60, 0x60);
	CHECK_EQ(rd(&r, IIR), 0x02);
	CHECK_EQ(rd(&r, IIR), 0x01);
	wr(&r, IER, 0x02);			/* re-enabling re-raises */
	CHECK_EQ(rd(&r, IIR), 0x02);
	wr(&r, IER, 0x00);
	CHECK_EQ(rd(&r, IIR), 0x01);
	rig_fini(&r);
}

TEST(irq_line_follows_out2)
{
	struct rig r;

	rig_init(&r);
	wr(&r, IER, 0x02);			/* THRE pending, OUT2 off */
	CHECK_EQ(r.fv.irq_level[IRQ], 0);
	CHECK_EQ(r.fv.irq_rises[IRQ], 0);
	wr(&r, MCR, 0x08);			/* OUT2 opens the gate */
	CHECK_EQ(r.fv.irq_level[IRQ], 1);
	CHECK_EQ(r.fv.irq_rises[IRQ], 1);
	wr(&r, SCR, 1);				/* no change: no new edge */
	CHECK_EQ(r.fv.irq_rises[IRQ], 1);
	CHECK_EQ(rd(&r, IIR), 0x02);		/* ack drops the line */
	CHECK_EQ(r.fv.irq_level[IRQ], 0);
	CHECK_EQ(inject_str(&r, "k", 1), 1);
	CHECK_EQ(r.fv.irq_level[IRQ], 0);	/* RX interrupt not enabled */
	wr(&r, IER, 0x01);
	CHECK_EQ(r.fv.irq_level[IRQ], 1);
	CHECK_EQ(r.fv.irq_rises[IRQ], 2);
	wr(&r, MCR, 0x18);			/* loopback forces OUT2 off */
	CHECK_EQ(r.fv.irq_level[IRQ], 0);
	wr(&r, MCR, 0x08);
	CHECK_EQ(r.fv.irq_level[IRQ], 1);
	CHECK_EQ(rd(&r, DATA), 'k');
	CHECK_EQ(r.fv.irq_level[IRQ], 0);
	CHECK_EQ(r.fv.irq_rises[IRQ], 3);
	rig_fini(&r);
}

TEST(loopback_ignores_line_input)
{
	struct rig r;

	rig_init(&r);
	wr(&r, MCR, 0x10);
	CHECK_EQ(inject_str(&r, "q", 1), 0);	/* line disconnected */
	wr(&r, DATA, 'L');
	CHECK_EQ(rd(&r, LSR) & 0x01, 1);
	CHECK_EQ(rd(&r, DATA), 'L');
	wr(&r, MCR, 0x00);
	CHECK_EQ(inject_str(&r, "q", 1), 1);
	rig_fini(&r);
}

/* ---- with a real backend and the event loop ---- */

static pthread_t loop_thread;

static void *
loop_main(void *arg)
{
	(void)mevent_dispatch();
	return (NULL);
}

static void
loop_start(void)
{
	if (mevent_init() != 0 ||
	    pthread_create(&loop_thread, NULL, loop_main, NULL) != 0) {
		fprintf(stderr, "cannot start the event loop\n");
		exit(2);
	}
}

static void
loop_stop(void)
{
	mevent_stop(0);
	pthread_join(loop_thread, NULL);
}

static uint8_t
pattern(size_t i)
{
	return ((uint8_t)(i * 7 + i / 251));
}

struct reader {
	int		fd;
	uint8_t		*buf;
	size_t		want, got;
};

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct pollfd pfd = { .fd = rd->fd, .events = POLLIN };
	ssize_t n;

	while (rd->got < rd->want && poll(&pfd, 1, 10000) > 0) {
		n = read(rd->fd, rd->buf + rd->got, rd->want - rd->got);
		if (n <= 0)
			break;
		rd->got += (size_t)n;
	}
	return (NULL);
}

TEST(slow_backend_loses_nothing)
{
	struct rig r;
	struct reader rdr;
	pthread_t th;
	char spec[64];
	int p[2], spins;
	size_t sent = 0, total, i, bad = 0;

	if (pipe2(p, O_CLOEXEC) != 0)
		TEST_SKIP("pipe2: %s", strerror(errno));
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	rig_init(&r);
	snprintf(spec, sizeof(spec), "/proc/self/fd/%d", p[1]);
	CHECK_EQ(uart_set_backend(r.sc, spec), 0);
	CHECK_EQ(uart_set_backend(r.sc, spec), -EBUSY);
	wr(&r, IIR, 0x07);
	wr(&r, MCR, 0x08);

	/* Nobody reads the pipe: fill it, the 64 KiB buffer, the FIFO. */
	while (sent < 4 * TTY_OUTBUF_SIZE && (rd(&r, LSR) & 0x20)) {
		for (i = 0; i < 16; i++)
			wr(&r, DATA, pattern(sent++));
	}
	CHECK(sent > TTY_OUTBUF_SIZE);
	CHECK(sent < 4 * TTY_OUTBUF_SIZE);
	CHECK_EQ(rd(&r, LSR) & 0x60, 0);	/* busy transmitter */
	wr(&r, IER, 0x02);
	CHECK_EQ(rd(&r, IIR), 0xc1);		/* no THRE while busy */
	CHECK_EQ(r.fv.irq_level[IRQ], 0);

	/* Start draining: THRE and its interrupt come back. */
	total = sent + 3 * TTY_OUTBUF_SIZE;
	rdr = (struct reader){ .fd = p[0], .want = total };
	rdr.buf = malloc(total);
	CHECK(rdr.buf != NULL);
	loop_start();
	CHECK_EQ(pthread_create(&th, NULL, reader_main, &rdr), 0);
	for (spins = 0; spins < 5000 && !(rd(&r, LSR) & 0x20); spins++)
		usleep(1000);
	CHECK_EQ(rd(&r, LSR) & 0x20, 0x20);
	CHECK_EQ(r.fv.irq_level[IRQ], 1);
	CHECK_EQ(rd(&r, IIR), 0xc2);

	/* A guest that polls THRE: every byte arrives, in order. */
	for (spins = 0; sent < total && spins < 100000; spins++) {
		if (!(rd(&r, LSR) & 0x20)) {
			usleep(100);
			continue;
		}
		for (i = 0; i < 16 && sent < total; i++)
			wr(&r, DATA, pattern(sent++));
	}
	pthread_join(th, NULL);
	loop_stop();
	CHECK_EQ(sent, total);
	CHECK_EQ(rdr.got, total);
	for (i = 0; i < rdr.got; i++)
		if (rdr.buf[i] != pattern(i))
			bad++;
	CHECK_EQ(bad, 0);
	free(rdr.buf);
	rig_fini(&r);
	close(p[0]);
	close(p[1]);
}

TEST(input_waits_while_fifo_full)
{
	struct rig r;
	char spec[64];
	char msg[40];
	int m, spins;
	size_t got = 0, i;
	uint8_t lsr;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
	    ptsname_r(m, spec, sizeof(spec)) != 0)
		TEST_SKIP("no pty: %s", strerror(errno));
	rig_init(&r);
	CHECK_EQ(uart_set_backend(r.sc, spec), 0);	/* raw mode */
	wr(&r, IIR, 0x01);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('A' + i);
	CHECK_EQ(write(m, msg, sizeof(msg)), (ssize_t)sizeof(msg));
	loop_start();
	for (spins = 0; spins < 5000 && !(rd(&r, LSR) & 0x01); spins++)
		usleep(1000);
	usleep(50000);				/* let it try to overfill */
	lsr = rd(&r, LSR);
	CHECK_EQ(lsr & 0x03, 0x01);		/* data, no overrun */
	for (spins = 0; got < sizeof(msg) && spins < 5000; spins++) {
		lsr = rd(&r, LSR);
		CHECK_EQ(lsr & 0x02, 0);
		if (!(lsr & 0x01)) {
			usleep(1000);
			continue;
		}
		CHECK_EQ(rd(&r, DATA), msg[got]);
		got++;
	}
	CHECK_EQ(got, sizeof(msg));
	loop_stop();
	rig_fini(&r);
	close(m);
}

/* Fill the pipe, the backend's buffer and the TX FIFO; returns the count. */
static size_t
fill_until_busy(struct rig *r)
{
	size_t sent = 0, i;

	while (sent < 4 * TTY_OUTBUF_SIZE && (rd(r, LSR) & 0x20)) {
		for (i = 0; i < 16; i++)
			wr(r, DATA, pattern(sent++));
	}
	return (sent);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/*
 * A peer that never reads: the guest sees a busy transmitter for the
 * stall timeout only; then THRE and its interrupt come back and output
 * is dropped.  What the backend had buffered still arrives, in order, and
 * once the peer has read it output flows again.
 */
TEST(stalled_peer_frees_transmitter)
{
	struct rig r;
	struct reader rdr;
	char spec[64];
	uint8_t b;
	double t0, waited;
	size_t sent, i, bad = 0, want = 4096 + TTY_OUTBUF_SIZE;
	int p[2], spins;

	if (pipe2(p, O_CLOEXEC) != 0)
		TEST_SKIP("pipe2: %s", strerror(errno));
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	tty_set_timeouts(100, 0);
	rig_init(&r);
	snprintf(spec, sizeof(spec), "/proc/self/fd/%d", p[1]);
	CHECK_EQ(uart_set_backend(r.sc, spec), 0);
	wr(&r, IIR, 0x07);
	wr(&r, MCR, 0x08);
	sent = fill_until_busy(&r);
	CHECK(sent > want && sent <= want + 16);
	wr(&r, IER, 0x02);
	CHECK_EQ(rd(&r, IIR), 0xc1);		/* busy: no THRE */

	t0 = now_s();
	loop_start();
	for (spins = 0; spins < 2000 && !(rd(&r, LSR) & 0x20); spins++)
		usleep(1000);
	waited = now_s() - t0;
	CHECK_EQ(rd(&r, LSR) & 0x60, 0x60);	/* free again */
	CHECK(waited >= 0.05 && waited < 5);
	CHECK_EQ(r.fv.irq_level[IRQ], 1);
	CHECK_EQ(rd(&r, IIR), 0xc2);
	for (i = 0; i < 1000; i++)		/* dropped, never busy */
		wr(&r, DATA, 'd');
	CHECK_EQ(rd(&r, LSR) & 0x60, 0x60);

	rdr = (struct reader){ .fd = p[0], .want = want };
	rdr.buf = malloc(want);
	CHECK(rdr.buf != NULL);
	reader_main(&rdr);
	CHECK_EQ(rdr.got, want);
	for (i = 0; i < rdr.got; i++)
		if (rdr.buf[i] != pattern(i))
			bad++;
	CHECK_EQ(bad, 0);
	free(rdr.buf);
	/* The last of those bytes left the buffer: the peer caught up. */
	wr(&r, DATA, 'Z');
	rdr = (struct reader){ .fd = p[0], .want = 1, .buf = &b };
	reader_main(&rdr);
	CHECK_EQ(rdr.got, 1);
	CHECK_EQ(b, 'Z');
	loop_stop();
	rig_fini(&r);
	close(p[0]);
	close(p[1]);
	tty_set_timeouts(TTY_STALL_MS, TTY_DRAIN_MS);
}

static void *
late_reader_main(void *arg)
{
	usleep(100000);
	return (reader_main(arg));
}

/*
 * The VM's end: vCPUs stopped, the event loop returned.  tty_drain()
 * with owners has the UART push even what its TX FIFO still holds, so a
 * peer that reads late gets every byte the guest wrote.
 */
TEST(drain_pushes_tx_fifo)
{
	struct rig r;
	struct reader rdr;
	pthread_t th;
	char spec[64];
	size_t sent, i, bad = 0;
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		TEST_SKIP("pipe2: %s", strerror(errno));
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
	rig_init(&r);
	snprintf(spec, sizeof(spec), "/proc/self/fd/%d", p[1]);
	CHECK_EQ(uart_set_backend(r.sc, spec), 0);
	wr(&r, IIR, 0x07);
	sent = fill_until_busy(&r);
	CHECK(sent > 4096 + TTY_OUTBUF_SIZE);	/* some wait in the TX FIFO */
	CHECK_EQ(rd(&r, LSR) & 0x20, 0);

	rdr = (struct reader){ .fd = p[0], .want = sent };
	rdr.buf = malloc(sent);
	CHECK(rdr.buf != NULL);
	CHECK_EQ(pthread_create(&th, NULL, late_reader_main, &rdr), 0);
	CHECK_EQ(tty_drain(5000, true), 0);
	pthread_join(th, NULL);
	CHECK_EQ(rdr.got, sent);
	for (i = 0; i < rdr.got; i++)
		if (rdr.buf[i] != pattern(i))
			bad++;
	CHECK_EQ(bad, 0);
	CHECK_EQ(rd(&r, LSR) & 0x60, 0x60);	/* the FIFO went out */
	free(rdr.buf);
	rig_fini(&r);
	close(p[0]);
	close(p[1]);
}

TEST(bad_backend_spec)
{
	struct rig r;

	rig_init(&r);
	CHECK_EQ(uart_set_backend(r.sc, NULL), 0);
	CHECK_EQ(uart_set_backend(r.sc, "serial=9600"), -EINVAL);
	CHECK_EQ(uart_set_backend(r.sc, "/nonexistent-dir/x/y"), -ENOENT);
	wr(&r, DATA, 'x');			/* still works, discarding */
	CHECK_EQ(rd(&r, LSR) & 0x60, 0x60);
	rig_fini(&r);
}

TEST_MAIN()
