/*
 * i8042.c: the 8042 keyboard controller with a minimal PS/2 keyboard and
 * mouse.
 *
 * The command set and replies follow QEMU hw/input/pckbd.c and
 * hw/input/ps2.c and bhyve usr.sbin/bhyve/amd64/atkbdc.c; what must work
 * is what Linux drivers/input/serio/i8042.c probes: the self-test (0xAA
 * -> 0x55), the CTR read back after a write, the AUX loopback (0xD3) with
 * the AUX bit set in the status and IRQ 12 raised, the AUXDIS bit
 * following 0xA7/0xA8, then libps2 commands to the devices, each answered
 * with an ACK (0xFA) and its reply bytes through IRQ 1 or 12.
 *
 * One FIFO of bytes, each tagged keyboard or aux, stands for the
 * controller's output buffer and the devices' queues: its head is the
 * output buffer.  The devices only ever answer commands, so there is no
 * spontaneous input that the interface-disable bits would have to hold
 * back.
 *
 * The mouse is a standard PS/2 mouse (ID 0) that answers its command set
 * and never moves, so the AUX port probes cleanly whether or not the
 * DSDT declares it (Linux skips the port when PNP0F13 is absent).
 * Neither device ever sends key or motion data.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "hw/i8042.h"
#include "log.h"

/* Status register (port 0x64, read). */
#define STS_OBF		0x01		/* output buffer full */
#define STS_IBF		0x02		/* never set: writes complete at once */
#define STS_SYS		0x04		/* system flag */
#define STS_CMD		0x08		/* last write went to port 0x64 */
#define STS_UNLOCKED	0x10		/* keyboard not inhibited */
#define STS_AUXOBF	0x20		/* the byte waiting is from the aux port */

/* Controller configuration byte (CTR, controller RAM byte 0). */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40
/* What a PC BIOS leaves: translation on, both interrupts enabled. */
#define CTR_INIT	(CTR_XLATE | CTR_SYS | CTR_AUXINT | CTR_KBDINT)

/* Output port (0xD0/0xD1). */
#define OUT_RESET	0x01		/* 0 holds the CPU in reset */
#define OUT_A20		0x02
#define OUT_KBDOBF	0x10
#define OUT_AUXOBF	0x20
#define OUT_INIT	0xcf		/* QEMU: RESET | A20 | 0xcc */
#define INPORT_VALUE	0x80		/* keyboard not inhibited (QEMU) */

/* Controller commands that take a data byte at port 0x60. */
#define CMD_WRITE_RAM	0x60		/* 0x60-0x7f */
#define CMD_WRITE_OUT	0xd1
#define CMD_WRITE_KBDOB	0xd2
#define CMD_WRITE_AUXOB	0xd3
#define CMD_WRITE_AUX	0xd4

/* Device replies. */
#define PS2_ACK		0xfa
#define PS2_RESEND	0xfe
#define PS2_BAT_OK	0xaa
#define PS2_ECHO	0xee

#define OBQ_LEN		32		/* FIFO entries (power of two) */

struct ps2_kbd {
	uint8_t		k_cmd;		/* command waiting for its argument */
	uint8_t		k_set;		/* scancode set 1-3 */
	uint8_t		k_leds;
	bool		k_scan;		/* scanning enabled (no effect) */
	uint8_t		k_last;		/* last byte sent, for 0xFE resend */
};

struct ps2_aux {
	uint8_t		m_cmd;		/* command waiting for its argument */
	uint8_t		m_status;	/* status byte of the 0xE9 reply */
	uint8_t		m_res;		/* resolution */
	uint8_t		m_rate;		/* sample rate */
	bool		m_wrap;		/* echo mode */
	uint8_t		m_last;		/* last byte sent, for 0xFE resend */
};
#define AUX_STS_REMOTE	0x40
#define AUX_STS_ENABLED	0x20
#define AUX_STS_SCALE21	0x10

struct i8042_softc {
	pthread_mutex_t	 lock;
	const struct devctx *dc;
	unsigned	 kbd_irq;
	unsigned	 aux_irq;
	uint8_t		 status;	/* STS_SYS | STS_CMD | STS_UNLOCKED */
	uint8_t		 ram[32];	/* controller RAM; ram[0] is the CTR */
	uint8_t		 outport;	/* output port, OBF bits excluded */
	uint8_t		 pending;	/* command awaiting a data byte, or 0 */
	uint8_t		 last_read;	/* what 0x60 gives with nothing queued */
	uint8_t		 q_data[OBQ_LEN];
	bool		 q_aux[OBQ_LEN]; /* byte is from the aux port */
	unsigned	 q_head;
	unsigned	 q_count;
	int		 kbd_level;	/* levels driven on the lines */
	int		 aux_level;
	struct ps2_kbd	 kbd;
	struct ps2_aux	 aux;
};

static void
ob_push(struct i8042_softc *sc, uint8_t b, bool aux)
{
	unsigned i;

	if (sc->q_count == OBQ_LEN) {
		log_warnx_rl("i8042: output queue full, byte 0x%02x dropped", b);
		return;
	}
	i = (sc->q_head + sc->q_count) % OBQ_LEN;
	sc->q_data[i] = b;
	sc->q_aux[i] = aux;
	sc->q_count++;
}

static void
i8042_line(struct i8042_softc *sc, unsigned irq, int *cur, int level)
{
	if (*cur == level)
		return;
	*cur = level;
	(void)dev_irq_set(sc->dc, irq, level);
}

/* A line is high while a byte from its port waits and its INT bit is set. */
static void
i8042_irq_update(struct i8042_softc *sc)
{
	int kbd = 0, aux = 0;

	if (sc->q_count > 0) {
		if (sc->q_aux[sc->q_head])
			aux = (sc->ram[0] & CTR_AUXINT) != 0;
		else
			kbd = (sc->ram[0] & CTR_KBDINT) != 0;
	}
	i8042_line(sc, sc->kbd_irq, &sc->kbd_level, kbd);
	i8042_line(sc, sc->aux_irq, &sc->aux_level, aux);
}

static void
kbd_send(struct i8042_softc *sc, uint8_t b)
{
	sc->kbd.k_last = b;
	ob_push(sc, b, false);
}

static void
aux_send(struct i8042_softc *sc, uint8_t b)
{
	sc->aux.m_last = b;
	ob_push(sc, b, true);
}

static void
kbd_defaults(struct ps2_kbd *k)
{
	k->k_set = 2;
	k->k_leds = 0;
	k->k_scan = true;
}

/*
 * A byte for the keyboard.  With translation on, the controller turns the
 * set-2 codes it forwards into set 1, which changes the ID's second byte
 * and the scancode-set replies (QEMU ps2.c).
 */
static void
kbd_write(struct i8042_softc *sc, uint8_t v)
{
	static const uint8_t xlated_set[4] = { 0, 0x43, 0x41, 0x3f };
	struct ps2_kbd *k = &sc->kbd;
	bool xlate = (sc->ram[0] & CTR_XLATE) != 0;
	uint8_t cmd = k->k_cmd;

	k->k_cmd = 0;
	/* A command byte where an argument was due starts a new command. */
	if (cmd != 0 && v < 0xed) {
		if (cmd == 0xed) {
			k->k_leds = v & 0x07;
		} else if (cmd == 0xf0 && v == 0) {
			kbd_send(sc, PS2_ACK);
			kbd_send(sc, xlate ? xlated_set[k->k_set] : k->k_set);
			return;
		} else if (cmd == 0xf0) {
			if (v > 3) {
				kbd_send(sc, PS2_RESEND);
				return;
			}
			k->k_set = v;
		}
		/* 0xF3 typematic rate, 0xFB-0xFD per-key modes: accepted. */
		kbd_send(sc, PS2_ACK);
		return;
	}
	switch (v) {
	case 0xed:			/* set LEDs */
	case 0xf0:			/* get/set scancode set */
	case 0xf3:			/* set typematic rate */
	case 0xfb:			/* set-3 key modes */
	case 0xfc:
	case 0xfd:
		k->k_cmd = v;
		kbd_send(sc, PS2_ACK);
		break;
	case 0xee:
		kbd_send(sc, PS2_ECHO);
		break;
	case 0xf2:			/* identify: MF2 keyboard */
		kbd_send(sc, PS2_ACK);
		kbd_send(sc, 0xab);
		kbd_send(sc, xlate ? 0x41 : 0x83);
		break;
	case 0xf4:
		k->k_scan = true;
		kbd_send(sc, PS2_ACK);
		break;
	case 0xf5:			/* defaults, scanning off */
		kbd_defaults(k);
		k->k_scan = false;
		kbd_send(sc, PS2_ACK);
		break;
	case 0xf6:
		kbd_defaults(k);
		kbd_send(sc, PS2_ACK);
		break;
	case 0xf7:			/* set-3 all-keys modes */
	case 0xf8:
	case 0xf9:
	case 0xfa:
		kbd_send(sc, PS2_ACK);
		break;
	case 0xfe:
		kbd_send(sc, k->k_last);
		break;
	case 0xff:			/* reset: ACK, then self-test passed */
		kbd_defaults(k);
		kbd_send(sc, PS2_ACK);
		kbd_send(sc, PS2_BAT_OK);
		break;
	default:
		kbd_send(sc, PS2_RESEND);
		break;
	}
}

static void
aux_defaults(struct ps2_aux *m)
{
	m->m_status = 0;
	m->m_res = 2;
	m->m_rate = 100;
}

/* A byte for the mouse (command set as QEMU ps2.c ps2_write_mouse). */
static void
aux_write(struct i8042_softc *sc, uint8_t v)
{
	struct ps2_aux *m = &sc->aux;
	uint8_t cmd = m->m_cmd;

	m->m_cmd = 0;
	if (cmd != 0 && v < 0xe6) {
		if (cmd == 0xe8)
			m->m_res = v;
		else
			m->m_rate = v;
		aux_send(sc, PS2_ACK);
		return;
	}
	/* Wrap mode echoes everything but its exit and reset. */
	if (m->m_wrap && v != 0xec && v != 0xff) {
		aux_send(sc, v);
		return;
	}
	switch (v) {
	case 0xe6:
		m->m_status &= ~AUX_STS_SCALE21;
		aux_send(sc, PS2_ACK);
		break;
	case 0xe7:
		m->m_status |= AUX_STS_SCALE21;
		aux_send(sc, PS2_ACK);
		break;
	case 0xe8:			/* set resolution */
	case 0xf3:			/* set sample rate */
		m->m_cmd = v;
		aux_send(sc, PS2_ACK);
		break;
	case 0xe9:			/* status request */
		aux_send(sc, PS2_ACK);
		aux_send(sc, m->m_status);
		aux_send(sc, m->m_res);
		aux_send(sc, m->m_rate);
		break;
	case 0xea:
		m->m_status &= ~AUX_STS_REMOTE;
		aux_send(sc, PS2_ACK);
		break;
	case 0xeb:			/* read data: no motion, no buttons */
		aux_send(sc, PS2_ACK);
		aux_send(sc, 0x08);
		aux_send(sc, 0x00);
		aux_send(sc, 0x00);
		break;
	case 0xec:
		m->m_wrap = false;
		aux_send(sc, PS2_ACK);
		break;
	case 0xee:
		m->m_wrap = true;
		aux_send(sc, PS2_ACK);
		break;
	case 0xf0:
		m->m_status |= AUX_STS_REMOTE;
		aux_send(sc, PS2_ACK);
		break;
	case 0xf2:			/* identify: standard mouse */
		aux_send(sc, PS2_ACK);
		aux_send(sc, 0x00);
		break;
	case 0xf4:
		m->m_status |= AUX_STS_ENABLED;
		aux_send(sc, PS2_ACK);
		break;
	case 0xf5:
		m->m_status &= ~AUX_STS_ENABLED;
		aux_send(sc, PS2_ACK);
		break;
	case 0xf6:
		aux_defaults(m);
		aux_send(sc, PS2_ACK);
		break;
	case 0xfe:
		aux_send(sc, m->m_last);
		break;
	case 0xff:			/* reset: ACK, self-test passed, ID */
		aux_defaults(m);
		m->m_wrap = false;
		aux_send(sc, PS2_ACK);
		aux_send(sc, PS2_BAT_OK);
		aux_send(sc, 0x00);
		break;
	default:
		aux_send(sc, PS2_RESEND);
		break;
	}
}

static uint8_t
i8042_outport(const struct i8042_softc *sc)
{
	uint8_t v = sc->outport & ~(OUT_KBDOBF | OUT_AUXOBF);

	if (sc->q_count > 0)
		v |= sc->q_aux[sc->q_head] ? OUT_AUXOBF : OUT_KBDOBF;
	return (v);
}

/* A controller command (port 0x64).  Returns true to reset the machine. */
static bool
i8042_command(struct i8042_softc *sc, uint8_t cmd)
{
	sc->status |= STS_CMD;
	sc->pending = 0;
	if (cmd >= 0x20 && cmd <= 0x3f) {	/* read controller RAM */
		ob_push(sc, sc->ram[cmd & 0x1f], false);
		return (false);
	}
	if (cmd >= 0x60 && cmd <= 0x7f) {	/* write controller RAM */
		sc->pending = cmd;
		return (false);
	}
	/*
	 * 0xF0-0xFF pulse output-port bits 3:0 where the command's bit is 0;
	 * bit 0 is the CPU reset line, so every even value resets (0xFE is
	 * the one everybody uses).
	 */
	if (cmd >= 0xf0)
		return ((cmd & 1) == 0);
	switch (cmd) {
	case 0xa7:
		sc->ram[0] |= CTR_AUXDIS;
		break;
	case 0xa8:
		sc->ram[0] &= ~CTR_AUXDIS;
		break;
	case 0xa9:			/* aux interface test: no error */
	case 0xab:			/* keyboard interface test */
		ob_push(sc, 0x00, false);
		break;
	case 0xaa:			/* self-test: passed */
		sc->status |= STS_SYS;
		ob_push(sc, 0x55, false);
		break;
	case 0xad:
		sc->ram[0] |= CTR_KBDDIS;
		break;
	case 0xae:
		sc->ram[0] &= ~CTR_KBDDIS;
		break;
	case 0xc0:
		ob_push(sc, INPORT_VALUE, false);
		break;
	case 0xd0:
		ob_push(sc, i8042_outport(sc), false);
		break;
	case CMD_WRITE_OUT:
	case CMD_WRITE_KBDOB:
	case CMD_WRITE_AUXOB:
	case CMD_WRITE_AUX:
		sc->pending = cmd;
		break;
	case 0xdd:			/* A20 off: XXX not emulated */
		sc->outport &= ~OUT_A20;
		break;
	case 0xdf:
		sc->outport |= OUT_A20;
		break;
	case 0xe0:			/* read test inputs */
		ob_push(sc, 0x00, false);
		break;
	default:
		log_warnx_rl("i8042: unsupported command 0x%02x", cmd);
		break;
	}
	return (false);
}

/* A data byte (port 0x60).  Returns true to reset the machine. */
static bool
i8042_data(struct i8042_softc *sc, uint8_t v)
{
	uint8_t cmd = sc->pending;

	sc->status &= ~STS_CMD;
	sc->pending = 0;
	if (cmd >= CMD_WRITE_RAM && cmd <= 0x7f) {
		sc->ram[cmd & 0x1f] = v;
		if (cmd == CMD_WRITE_RAM)
			sc->status = (uint8_t)((sc->status & ~STS_SYS) |
			    (v & CTR_SYS));
		return (false);
	}
	switch (cmd) {
	case CMD_WRITE_OUT:
		sc->outport = v;
		return ((v & OUT_RESET) == 0);
	case CMD_WRITE_KBDOB:
		ob_push(sc, v, false);
		break;
	case CMD_WRITE_AUXOB:
		ob_push(sc, v, true);
		break;
	case CMD_WRITE_AUX:
		aux_write(sc, v);
		break;
	default:
		/* Sending to the keyboard re-enables its interface (QEMU). */
		sc->ram[0] &= ~CTR_KBDDIS;
		kbd_write(sc, v);
		break;
	}
	return (false);
}

int
i8042_data_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct i8042_softc *sc = arg;
	bool reset = false;

	pthread_mutex_lock(&sc->lock);
	if (dir == IO_READ) {
		if (sc->q_count > 0) {
			sc->last_read = sc->q_data[sc->q_head];
			sc->q_head = (sc->q_head + 1) % OBQ_LEN;
			sc->q_count--;
			/* Drop the lines so the next byte is a fresh edge. */
			i8042_line(sc, sc->kbd_irq, &sc->kbd_level, 0);
			i8042_line(sc, sc->aux_irq, &sc->aux_level, 0);
		}
		*val = sc->last_read;
	} else {
		reset = i8042_data(sc, (uint8_t)*val);
	}
	i8042_irq_update(sc);
	pthread_mutex_unlock(&sc->lock);
	if (reset)
		dev_suspend(sc->dc, VM_SUSPEND_RESET);
	return (0);
}

int
i8042_cmd_io(void *arg, enum io_dir dir, uint64_t off, unsigned size,
    uint64_t *val)
{
	struct i8042_softc *sc = arg;
	bool reset = false;
	uint8_t st;

	pthread_mutex_lock(&sc->lock);
	if (dir == IO_READ) {
		st = sc->status & (STS_SYS | STS_CMD | STS_UNLOCKED);
		if (sc->q_count > 0)
			st |= sc->q_aux[sc->q_head] ? STS_OBF | STS_AUXOBF :
			    STS_OBF;
		*val = st;
	} else {
		reset = i8042_command(sc, (uint8_t)*val);
		i8042_irq_update(sc);
	}
	pthread_mutex_unlock(&sc->lock);
	if (reset)
		dev_suspend(sc->dc, VM_SUSPEND_RESET);
	return (0);
}

struct i8042_softc *
i8042_init(const struct devctx *dc, unsigned kbd_irq, unsigned aux_irq)
{
	struct i8042_softc *sc;
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
	sc->kbd_irq = kbd_irq;
	sc->aux_irq = aux_irq;
	sc->status = STS_SYS | STS_UNLOCKED;
	sc->ram[0] = CTR_INIT;
	sc->outport = OUT_INIT;
	kbd_defaults(&sc->kbd);
	aux_defaults(&sc->aux);
	return (sc);
}

void
i8042_fini(struct i8042_softc *sc)
{
	if (sc == NULL)
		return;
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}
