/*
 * test_i8042.c: the keyboard controller through ports 0x60/0x64: the
 * sequence Linux's i8042 driver probes with, the CTR, the PS/2 keyboard
 * and mouse replies, IRQ 1/12 and the two ways to reset the machine.
 */
#include "arch/x86/layout.h"
#include "fake.h"
#include "hw/i8042.h"
#include "test.h"

#define STS_OBF		0x01
#define STS_SYS		0x04
#define STS_CMD		0x08
#define STS_AUXOBF	0x20

static struct i8042_softc *
setup(struct fake_vm *fv)
{
	struct i8042_softc *sc;

	fake_vm_init(fv, 0, 1);
	sc = i8042_init(&fv->dc, IRQ_KBD, IRQ_AUX);
	if (sc == NULL ||
	    io_register(&fv->bus, IO_PIO, IO_KBD_DATA, 1, i8042_data_io, sc,
	    "i8042 data") != 0 ||
	    io_register(&fv->bus, IO_PIO, IO_KBD_STATUS, 1, i8042_cmd_io, sc,
	    "i8042 command") != 0)
		exit(2);
	return (sc);
}

static void
teardown(struct fake_vm *fv, struct i8042_softc *sc)
{
	i8042_fini(sc);
	fake_vm_fini(fv);
}

static uint8_t
status(struct fake_vm *fv)
{
	return ((uint8_t)fake_in(fv, IO_KBD_STATUS, 1));
}

static void
cmd(struct fake_vm *fv, uint8_t c)
{
	fake_out(fv, IO_KBD_STATUS, 1, c);
}

static void
data(struct fake_vm *fv, uint8_t d)
{
	fake_out(fv, IO_KBD_DATA, 1, d);
}

/* Read a byte the way Linux's i8042_wait_read does: OBF first; 0x100 if none. */
static int
get(struct fake_vm *fv)
{
	if ((status(fv) & STS_OBF) == 0)
		return (0x100);
	return ((int)fake_in(fv, IO_KBD_DATA, 1));
}

/* A controller command with a one-byte reply. */
static int
cmd_reply(struct fake_vm *fv, uint8_t c)
{
	cmd(fv, c);
	return (get(fv));
}

TEST(initial_status_and_selftest)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);

	CHECK_EQ(status(&fv), 0x14);		/* SYS | UNLOCKED, empty */
	CHECK_EQ(get(&fv), 0x100);
	cmd(&fv, 0xaa);
	CHECK_EQ(status(&fv) & (STS_OBF | STS_CMD), STS_OBF | STS_CMD);
	CHECK_EQ(get(&fv), 0x55);
	CHECK_EQ(status(&fv) & STS_OBF, 0);
	CHECK_EQ(cmd_reply(&fv, 0xab), 0x00);	/* keyboard interface test */
	CHECK_EQ(cmd_reply(&fv, 0xa9), 0x00);	/* aux interface test */
	CHECK_EQ(cmd_reply(&fv, 0xc0), 0x80);	/* input port */
	CHECK_EQ(cmd_reply(&fv, 0xd0), 0xcf);	/* output port */
	/* An empty buffer reads back the last byte. */
	CHECK_EQ(fake_in(&fv, IO_KBD_DATA, 1), 0xcf);
	teardown(&fv, sc);
}

TEST(ctr_read_write)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);

	CHECK_EQ(cmd_reply(&fv, 0x20), 0x47);
	cmd(&fv, 0x60);
	data(&fv, 0x61);
	CHECK_EQ(status(&fv) & (STS_CMD | STS_SYS), 0);	/* SYS follows CTR */
	CHECK_EQ(cmd_reply(&fv, 0x20), 0x61);
	cmd(&fv, 0x60);
	data(&fv, 0x65);
	CHECK_EQ(status(&fv) & STS_SYS, STS_SYS);
	/* 0xAD/0xAE and 0xA7/0xA8 toggle the disable bits. */
	cmd(&fv, 0x60);
	data(&fv, 0x45);
	cmd(&fv, 0xad);
	cmd(&fv, 0xa7);
	CHECK_EQ(cmd_reply(&fv, 0x20), 0x75);
	cmd(&fv, 0xae);
	cmd(&fv, 0xa8);
	CHECK_EQ(cmd_reply(&fv, 0x20), 0x45);
	/* Other controller RAM bytes. */
	cmd(&fv, 0x7f);
	data(&fv, 0x3c);
	CHECK_EQ(cmd_reply(&fv, 0x3f), 0x3c);
	teardown(&fv, sc);
}

TEST(linux_probe_sequence)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);
	unsigned rises;
	int ctr;

	/* i8042_flush, self-test, read CTR twice. */
	CHECK_EQ(get(&fv), 0x100);
	CHECK_EQ(cmd_reply(&fv, 0xaa), 0x55);
	ctr = cmd_reply(&fv, 0x20);
	CHECK_EQ(cmd_reply(&fv, 0x20), ctr);
	/* Both ports disabled, interrupts off, translation kept. */
	ctr = (ctr | 0x30) & ~0x03;
	cmd(&fv, 0x60);
	data(&fv, (uint8_t)ctr);
	CHECK_EQ(cmd_reply(&fv, 0x20), ctr);

	/* i8042_check_aux: loopback, then the AUXDIS bit test. */
	cmd(&fv, 0xd3);
	data(&fv, 0x5a);
	CHECK_EQ(status(&fv) & (STS_OBF | STS_AUXOBF), STS_OBF | STS_AUXOBF);
	CHECK_EQ(fv.irq_level[IRQ_AUX], 0);	/* AUXINT is off */
	CHECK_EQ(get(&fv), 0x5a);
	cmd(&fv, 0xa8);
	CHECK_EQ(cmd_reply(&fv, 0x20) & 0x20, 0);
	cmd(&fv, 0xa7);
	CHECK_EQ(cmd_reply(&fv, 0x20) & 0x20, 0x20);
	cmd(&fv, 0xa8);
	CHECK_EQ(cmd_reply(&fv, 0x20) & 0x20, 0);
	/* The AUX IRQ test: AUXINT on, loopback, IRQ 12 fires. */
	cmd(&fv, 0x60);
	data(&fv, (uint8_t)((ctr & ~0x20) | 0x02));
	cmd(&fv, 0xd3);
	data(&fv, 0xa5);
	CHECK_EQ(fv.irq_level[IRQ_AUX], 1);
	CHECK_EQ(fv.irq_level[IRQ_KBD], 0);
	CHECK_EQ(get(&fv), 0xa5);
	CHECK_EQ(fv.irq_level[IRQ_AUX], 0);

	/* Keyboard port on with its interrupt; atkbd asks for the ID. */
	cmd(&fv, 0x60);
	data(&fv, 0x47);
	rises = fv.irq_rises[IRQ_KBD];
	data(&fv, 0xf2);
	CHECK_EQ(fv.irq_level[IRQ_KBD], 1);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xab);
	CHECK_EQ(get(&fv), 0x41);		/* translated 0x83 */
	CHECK_EQ(fv.irq_rises[IRQ_KBD] - rises, 3);	/* an edge per byte */
	CHECK_EQ(fv.irq_level[IRQ_KBD], 0);
	/* LEDs, typematic rate, enable: each acknowledged. */
	data(&fv, 0xed);
	CHECK_EQ(get(&fv), 0xfa);
	data(&fv, 0x00);
	CHECK_EQ(get(&fv), 0xfa);
	data(&fv, 0xf3);
	CHECK_EQ(get(&fv), 0xfa);
	data(&fv, 0x20);
	CHECK_EQ(get(&fv), 0xfa);
	data(&fv, 0xf4);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0x100);
	CHECK_EQ(fv.nsuspend, 0);
	teardown(&fv, sc);
}

TEST(keyboard_commands)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);

	data(&fv, 0xff);			/* reset */
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xaa);
	data(&fv, 0xee);			/* echo */
	CHECK_EQ(get(&fv), 0xee);
	data(&fv, 0xf0);			/* current scancode set */
	data(&fv, 0x00);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0x41);		/* set 2, translated */
	data(&fv, 0x01);			/* not a command */
	CHECK_EQ(get(&fv), 0xfe);
	data(&fv, 0xfe);			/* resend */
	CHECK_EQ(get(&fv), 0xfe);
	/* Without translation the ID and set are raw. */
	cmd(&fv, 0x60);
	data(&fv, 0x07);
	data(&fv, 0xf2);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xab);
	CHECK_EQ(get(&fv), 0x83);
	data(&fv, 0xf0);
	data(&fv, 0x03);
	data(&fv, 0xf0);
	data(&fv, 0x00);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0x03);
	/* A command where an argument was due is a new command. */
	data(&fv, 0xed);
	data(&fv, 0xee);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xee);
	/* Sending to the keyboard re-enables its interface. */
	cmd(&fv, 0xad);
	data(&fv, 0xf4);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(cmd_reply(&fv, 0x20) & 0x10, 0);
	teardown(&fv, sc);
}

TEST(mouse_commands)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);

	cmd(&fv, 0xd4);
	data(&fv, 0xff);
	CHECK_EQ(fv.irq_level[IRQ_AUX], 1);
	CHECK_EQ(status(&fv) & STS_AUXOBF, STS_AUXOBF);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xaa);
	CHECK_EQ(get(&fv), 0x00);
	CHECK_EQ(fv.irq_rises[IRQ_AUX], 3);
	CHECK_EQ(fv.irq_rises[IRQ_KBD], 0);
	cmd(&fv, 0xd4);
	data(&fv, 0xf2);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0x00);		/* standard mouse */
	cmd(&fv, 0xd4);
	data(&fv, 0xf3);			/* sample rate 40 */
	cmd(&fv, 0xd4);
	data(&fv, 40);
	cmd(&fv, 0xd4);
	data(&fv, 0xf4);
	cmd(&fv, 0xd4);
	data(&fv, 0xe9);			/* status request */
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0x20);		/* enabled, stream, 1:1 */
	CHECK_EQ(get(&fv), 0x02);
	CHECK_EQ(get(&fv), 40);
	/* Wrap mode echoes. */
	cmd(&fv, 0xd4);
	data(&fv, 0xee);
	cmd(&fv, 0xd4);
	data(&fv, 0x42);
	cmd(&fv, 0xd4);
	data(&fv, 0xec);
	CHECK_EQ(get(&fv), 0xfa);
	CHECK_EQ(get(&fv), 0x42);
	CHECK_EQ(get(&fv), 0xfa);
	teardown(&fv, sc);
}

TEST(output_buffer_bounded)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);
	int i, n;

	for (i = 0; i < 100; i++)
		data(&fv, 0xee);
	for (n = 0; get(&fv) == 0xee && n < 1000; n++)
		;
	CHECK(n > 0 && n <= 32);
	CHECK_EQ(status(&fv) & STS_OBF, 0);
	/* 0xD2 puts a byte in the buffer as the keyboard. */
	cmd(&fv, 0xd2);
	data(&fv, 0x99);
	CHECK_EQ(status(&fv) & (STS_OBF | STS_AUXOBF), STS_OBF);
	CHECK_EQ(get(&fv), 0x99);
	teardown(&fv, sc);
}

TEST(reset)
{
	struct fake_vm fv;
	struct i8042_softc *sc = setup(&fv);

	cmd(&fv, 0xff);				/* pulse nothing */
	cmd(&fv, 0xd1);				/* output port, reset high */
	data(&fv, 0xdf);
	CHECK_EQ(fv.nsuspend, 0);
	cmd(&fv, 0xfe);
	CHECK_EQ(fv.suspended, VM_SUSPEND_RESET);
	CHECK_EQ(fv.nsuspend, 1);
	cmd(&fv, 0xf0);				/* pulses bit 0 too */
	CHECK_EQ(fv.nsuspend, 2);
	cmd(&fv, 0xd1);				/* bit 0 low: reset */
	data(&fv, 0xde);
	CHECK_EQ(fv.nsuspend, 3);
	teardown(&fv, sc);
}

TEST_MAIN()
