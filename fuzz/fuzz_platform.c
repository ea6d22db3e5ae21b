/*
 * fuzz_platform.c: random port I/O across the platform chips (MC146818
 * RTC, i8042, ACPI PM registers and 0xCF9, POST port) on a fake VM, with
 * fake clocks the input moves.  Nothing may crash, hang or overrun; the
 * interrupt lines must only ever be driven to 0 or 1.
 *
 * The input is a list of 5-byte records: an op byte and a little-endian
 * 32-bit value.  Op bit 7 clear: a port access, bits 3:0 select the port
 * from ports[], bits 5:4 the size (1, 2, 4, 1), bit 6 the direction.
 * Op bit 7 set: bits 2:0 pick an action (advance a clock, poll the RTC,
 * press the power button, set the NVRAM memory size).
 *
 * Every chip is created and destroyed per input.  Deleted event-loop
 * timers are only freed by the dispatching thread, so each input ends
 * with one pass of the event loop that frees them and closes their fds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "arch/x86/layout.h"
#include "fake.h"
#include "hw/acpipm.h"
#include "hw/i8042.h"
#include "hw/mc146818.h"
#include "hw/post.h"
#include "mevent.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t ports[16] = {
	IO_RTC, IO_RTC + 1, IO_KBD_DATA, IO_KBD_STATUS,
	IO_POST, IO_PM1A_EVT, IO_PM1A_EVT + 1, IO_PM1A_EVT + 2,
	IO_PM1A_EVT + 3, IO_PM1A_CNT, IO_PM1A_CNT + 1, IO_PM_TIMER,
	IO_PM_TIMER + 1, IO_PM_TIMER + 3, IO_RESET_CONTROL, IO_RTC + 1,
};
static const unsigned sizes[4] = { 1, 2, 4, 1 };

static struct timespec wall, mono;
static struct mevent *reaper;

static struct timespec
wall_clock(void)
{
	return (wall);
}

static struct timespec
mono_clock(void)
{
	return (mono);
}

static void
advance(struct timespec *ts, uint64_t ns)
{
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

static void
reap_cb(int fd, enum ev_type type, void *arg)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	(void)mevent_delete(reaper);
	mevent_stop(0);
}

/*
 * Let the event loop free what the chips' fini functions deleted: one
 * pass of mevent_dispatch() over an eventfd that is already readable.
 * Done after every input, so each input frees all it allocated.
 */
static void
reap(void)
{
	static int efd = -1;
	uint64_t one = 1;

	if (efd < 0)
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || write(efd, &one, sizeof(one)) != sizeof(one))
		abort();
	reaper = mevent_add(efd, EVF_READ, reap_cb, NULL);
	if (reaper == NULL)
		abort();
	(void)mevent_dispatch();
}

static void
check_lines(const struct fake_vm *fv)
{
	unsigned i;

	for (i = 0; i < FAKE_NGSI; i++)
		if (fv->irq_level[i] != 0 && fv->irq_level[i] != 1)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_vm fv;
	struct rtc_softc *rtc;
	struct i8042_softc *kbc;
	struct acpipm_softc *pm;
	struct post_softc *post;
	uint32_t v;
	uint16_t port;
	uint8_t op;
	size_t i;
	int err = 0;

	wall.tv_sec = 1700000000;
	wall.tv_nsec = 0;
	mono.tv_sec = 1000;
	mono.tv_nsec = 0;

	fake_vm_init(&fv, 0, 1);
	rtc = rtc_init(&fv.dc, IRQ_RTC, false);
	kbc = i8042_init(&fv.dc, IRQ_KBD, IRQ_AUX);
	pm = acpipm_init(&fv.dc, IRQ_SCI);
	post = post_init(&fv.dc);
	if (rtc == NULL || kbc == NULL || pm == NULL || post == NULL)
		abort();
	rtc_set_clock_fn(rtc, wall_clock);
	acpipm_set_clock_fn(pm, mono_clock);
	err |= io_register(&fv.bus, IO_PIO, IO_RTC, 2, rtc_io, rtc, "rtc");
	err |= io_register(&fv.bus, IO_PIO, IO_KBD_DATA, 1, i8042_data_io, kbc,
	    "kbd data");
	err |= io_register(&fv.bus, IO_PIO, IO_KBD_STATUS, 1, i8042_cmd_io,
	    kbc, "kbd cmd");
	err |= io_register(&fv.bus, IO_PIO, IO_POST, 1, post_io, post, "post");
	err |= io_register(&fv.bus, IO_PIO, IO_PM1A_EVT, 4, acpipm_evt_io, pm,
	    "pm1a_evt");
	err |= io_register(&fv.bus, IO_PIO, IO_PM1A_CNT, 2, acpipm_cnt_io, pm,
	    "pm1a_cnt");
	err |= io_register(&fv.bus, IO_PIO, IO_PM_TIMER, 4, acpipm_timer_io,
	    pm, "pm_timer");
	err |= io_register(&fv.bus, IO_PIO, IO_RESET_CONTROL, 1,
	    acpipm_reset_io, pm, "reset");
	if (err != 0)
		abort();

	for (i = 0; i + 5 <= size; i += 5) {
		op = data[i];
		v = (uint32_t)data[i + 1] | (uint32_t)data[i + 2] << 8 |
		    (uint32_t)data[i + 3] << 16 | (uint32_t)data[i + 4] << 24;
		if ((op & 0x80) == 0) {
			port = ports[op & 0x0f];
			if (op & 0x40)
				fake_out(&fv, port, sizes[(op >> 4) & 3], v);
			else
				(void)fake_in(&fv, port, sizes[(op >> 4) & 3]);
			check_lines(&fv);
			continue;
		}
		switch (op & 0x07) {
		case 0:				/* wall clock: up to ~73 min */
			advance(&wall, (uint64_t)v << 10);
			break;
		case 1:				/* wall clock: up to ~194 days */
			advance(&wall, (uint64_t)(v & 0xffffff) * 1000000000ULL);
			break;
		case 2:				/* monotonic clock */
			advance(&mono, (uint64_t)v << 8);
			break;
		case 3:
			rtc_poll(rtc);
			break;
		case 4:
			acpipm_power_button(pm);
			break;
		case 5:
			rtc_set_memsize(rtc, (uint64_t)v << 16,
			    (uint64_t)(op & 0x78) << 34);
			break;
		default:
			break;
		}
		check_lines(&fv);
	}

	post_fini(post);
	acpipm_fini(pm);
	i8042_fini(kbc);
	rtc_fini(rtc);
	fake_vm_fini(&fv);
	reap();
	return (0);
}
