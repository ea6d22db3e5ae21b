/*
 * test_mc146818.c: the RTC through ports 0x70/0x71 with a fake clock:
 * BCD, binary and 12-hour formats, the update-in-progress window, the
 * SET bit and guest-written time, the century, register C and IRQ 8,
 * and the NVRAM memory-size bytes.
 */
#include <stdbool.h>
#include <time.h>
#include "arch/x86/layout.h"
#include "fake.h"
#include "hw/mc146818.h"
#include "test.h"

static struct timespec now;

static struct timespec
fake_clock(void)
{
	return (now);
}

/* Set the fake clock to a UTC date and time plus nsec. */
static void
set_now(int year, int mon, int day, int h, int m, int s, long nsec)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	now.tv_sec = timegm(&tm);
	now.tv_nsec = nsec;
}

static void
advance_ns(long long ns)
{
	ns += now.tv_nsec;
	now.tv_sec += ns / 1000000000LL;
	now.tv_nsec = ns % 1000000000LL;
}

static struct rtc_softc *
setup(struct fake_vm *fv, bool localtime)
{
	struct rtc_softc *sc;

	fake_vm_init(fv, 0, 1);
	sc = rtc_init(&fv->dc, IRQ_RTC, localtime);
	if (sc == NULL) {
		perror("rtc_init");
		exit(2);
	}
	if (io_register(&fv->bus, IO_PIO, IO_RTC, 2, rtc_io, sc, "rtc") != 0)
		exit(2);
	rtc_set_clock_fn(sc, fake_clock);
	return (sc);
}

static void
teardown(struct fake_vm *fv, struct rtc_softc *sc)
{
	rtc_fini(sc);
	fake_vm_fini(fv);
}

static uint8_t
rd(struct fake_vm *fv, uint8_t idx)
{
	fake_out(fv, IO_RTC, 1, idx);
	return ((uint8_t)fake_in(fv, IO_RTC + 1, 1));
}

static void
wr(struct fake_vm *fv, uint8_t idx, uint8_t v)
{
	fake_out(fv, IO_RTC, 1, idx);
	fake_out(fv, IO_RTC + 1, 1, v);
}

TEST(bcd_24h_default)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 500000000);
	sc = setup(&fv, false);
	CHECK_EQ(rd(&fv, 0x00), 0x30);
	CHECK_EQ(rd(&fv, 0x02), 0x45);
	CHECK_EQ(rd(&fv, 0x04), 0x13);
	CHECK_EQ(rd(&fv, 0x06), 5);		/* Thursday; 1 = Sunday */
	CHECK_EQ(rd(&fv, 0x07), 0x29);
	CHECK_EQ(rd(&fv, 0x08), 0x02);
	CHECK_EQ(rd(&fv, 0x09), 0x24);
	CHECK_EQ(rd(&fv, 0x32), 0x20);
	CHECK_EQ(rd(&fv, 0x0b), 0x02);		/* 24-hour, BCD */
	CHECK_EQ(rd(&fv, 0x0d), 0x80);		/* VRT */
	CHECK_EQ(fake_in(&fv, IO_RTC, 1), 0xff);
	/* The clock follows the host: 61 s later. */
	advance_ns(61000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x31);
	CHECK_EQ(rd(&fv, 0x02), 0x46);
	teardown(&fv, sc);
}

TEST(binary_and_12_hour)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 0);
	sc = setup(&fv, false);
	wr(&fv, 0x0b, 0x06);			/* binary, 24-hour */
	CHECK_EQ(rd(&fv, 0x04), 13);
	CHECK_EQ(rd(&fv, 0x02), 45);
	CHECK_EQ(rd(&fv, 0x09), 24);
	CHECK_EQ(rd(&fv, 0x32), 20);
	wr(&fv, 0x0b, 0x00);			/* BCD, 12-hour: 1 PM */
	CHECK_EQ(rd(&fv, 0x04), 0x81);
	wr(&fv, 0x0b, 0x04);			/* binary, 12-hour */
	CHECK_EQ(rd(&fv, 0x04), 0x81);
	set_now(2024, 2, 29, 0, 5, 0, 0);	/* 12:05 AM */
	rtc_set_clock_fn(sc, fake_clock);
	wr(&fv, 0x0b, 0x00);
	CHECK_EQ(rd(&fv, 0x04), 0x12);
	set_now(2024, 2, 29, 12, 5, 0, 0);	/* 12:05 PM */
	rtc_set_clock_fn(sc, fake_clock);
	CHECK_EQ(rd(&fv, 0x04), 0x92);
	teardown(&fv, sc);
}

TEST(uip_window)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 999700000);	/* 300 us before */
	sc = setup(&fv, false);
	CHECK_EQ(rd(&fv, 0x0a), 0x26);
	now.tv_nsec = 999800000;			/* 200 us before */
	CHECK_EQ(rd(&fv, 0x0a), 0xa6);
	now.tv_nsec = 999999999;
	CHECK_EQ(rd(&fv, 0x0a) & 0x80, 0x80);
	advance_ns(1);					/* the boundary */
	CHECK_EQ(rd(&fv, 0x0a), 0x26);
	CHECK_EQ(rd(&fv, 0x00), 0x31);
	/* No updates, so no UIP, while SET holds the clock. */
	now.tv_nsec = 999900000;
	wr(&fv, 0x0b, 0x82);
	CHECK_EQ(rd(&fv, 0x0a), 0x26);
	teardown(&fv, sc);
}

TEST(set_bit_and_guest_time)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 250000000);
	sc = setup(&fv, false);
	/* Linux's mc146818_set_time: SET, write the fields, clear SET. */
	wr(&fv, 0x0b, 0x82);
	wr(&fv, 0x00, 0x58);
	wr(&fv, 0x02, 0x59);
	wr(&fv, 0x04, 0x23);
	wr(&fv, 0x07, 0x31);
	wr(&fv, 0x08, 0x12);
	wr(&fv, 0x09, 0x30);
	wr(&fv, 0x32, 0x20);
	/* Held: time passing changes nothing. */
	advance_ns(5000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x58);
	CHECK_EQ(rd(&fv, 0x04), 0x23);
	wr(&fv, 0x0b, 0x02);
	CHECK_EQ(rd(&fv, 0x00), 0x58);
	CHECK_EQ(rd(&fv, 0x09), 0x30);
	/* Two seconds later: 2031-01-01 00:00:00. */
	advance_ns(2000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x00);
	CHECK_EQ(rd(&fv, 0x02), 0x00);
	CHECK_EQ(rd(&fv, 0x04), 0x00);
	CHECK_EQ(rd(&fv, 0x07), 0x01);
	CHECK_EQ(rd(&fv, 0x08), 0x01);
	CHECK_EQ(rd(&fv, 0x09), 0x31);
	CHECK_EQ(rd(&fv, 0x32), 0x20);
	CHECK_EQ(rd(&fv, 0x06), 4);		/* a Wednesday */
	/* A write with SET clear is applied too, and the clock goes on. */
	wr(&fv, 0x02, 0x10);
	CHECK_EQ(rd(&fv, 0x02), 0x10);
	advance_ns(1000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x01);
	CHECK_EQ(rd(&fv, 0x02), 0x10);
	teardown(&fv, sc);
}

TEST(century_rollover_and_write)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(1999, 12, 31, 23, 59, 59, 0);
	sc = setup(&fv, false);
	CHECK_EQ(rd(&fv, 0x32), 0x19);
	CHECK_EQ(rd(&fv, 0x09), 0x99);
	advance_ns(1000000000LL);
	CHECK_EQ(rd(&fv, 0x32), 0x20);
	CHECK_EQ(rd(&fv, 0x09), 0x00);
	/* OpenBSD writes the century without SET. */
	wr(&fv, 0x32, 0x21);
	CHECK_EQ(rd(&fv, 0x32), 0x21);
	CHECK_EQ(rd(&fv, 0x09), 0x00);
	CHECK_EQ(rd(&fv, 0x08), 0x01);
	teardown(&fv, sc);
}

TEST(invalid_date_holds_clock)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 0);
	sc = setup(&fv, false);
	wr(&fv, 0x0b, 0x82);
	wr(&fv, 0x08, 0x13);			/* month 13 */
	wr(&fv, 0x0b, 0x02);
	advance_ns(3000000000LL);
	CHECK_EQ(rd(&fv, 0x08), 0x13);
	CHECK_EQ(rd(&fv, 0x00), 0x30);		/* not counting */
	wr(&fv, 0x08, 0x03);			/* fixed: counts again */
	advance_ns(1000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x31);
	CHECK_EQ(rd(&fv, 0x08), 0x03);
	/* February 30th is invalid too. */
	wr(&fv, 0x0b, 0x82);
	wr(&fv, 0x08, 0x02);
	wr(&fv, 0x07, 0x30);
	wr(&fv, 0x0b, 0x02);
	advance_ns(1000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x31);
	teardown(&fv, sc);
}

TEST(divider_reset_first_update_after_500ms)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 100000000);
	sc = setup(&fv, false);
	wr(&fv, 0x0a, 0x76);			/* divider in reset */
	advance_ns(2000000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x30);
	wr(&fv, 0x0a, 0x26);
	advance_ns(400000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x30);
	advance_ns(200000000LL);
	CHECK_EQ(rd(&fv, 0x00), 0x31);
	teardown(&fv, sc);
}

TEST(reg_c_flags_and_irq)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 500000000);
	sc = setup(&fv, false);
	/* No periodic rate, so PF stays clear until the end. */
	wr(&fv, 0x0a, 0x20);
	CHECK_EQ(rd(&fv, 0x0c), 0);
	/* Flags are set with interrupts disabled, but no IRQF or IRQ. */
	advance_ns(1000000000LL);
	CHECK_EQ(rd(&fv, 0x0c), 0x10);
	CHECK_EQ(fv.irq_rises[IRQ_RTC], 0);

	/* Update-ended interrupt. */
	wr(&fv, 0x0b, 0x12);
	advance_ns(1000000000LL);
	rtc_poll(sc);
	CHECK_EQ(fv.irq_level[IRQ_RTC], 1);
	CHECK_EQ(fv.irq_rises[IRQ_RTC], 1);
	CHECK_EQ(rd(&fv, 0x0c), 0x90);		/* IRQF | UF */
	CHECK_EQ(fv.irq_level[IRQ_RTC], 0);	/* read-to-clear */
	CHECK_EQ(rd(&fv, 0x0c), 0);
	/* Setting SET clears UIE (datasheet, register B). */
	wr(&fv, 0x0b, 0x92);
	CHECK_EQ(rd(&fv, 0x0b), 0x82);
	wr(&fv, 0x0b, 0x12);
	/* Turning the enable off drops a pending interrupt. */
	advance_ns(1000000000LL);
	rtc_poll(sc);
	CHECK_EQ(fv.irq_level[IRQ_RTC], 1);
	wr(&fv, 0x0b, 0x02);
	CHECK_EQ(fv.irq_level[IRQ_RTC], 0);
	CHECK_EQ(rd(&fv, 0x0c), 0x10);

	/* Alarm at 13:45:40 (now 13:45:33.5). */
	wr(&fv, 0x01, 0x40);
	wr(&fv, 0x03, 0x45);
	wr(&fv, 0x05, 0x13);
	wr(&fv, 0x0b, 0x22);
	advance_ns(5000000000LL);
	rtc_poll(sc);
	CHECK_EQ(fv.irq_level[IRQ_RTC], 0);
	CHECK_EQ(rd(&fv, 0x0c), 0x10);
	advance_ns(2000000000LL);		/* passes :40 */
	rtc_poll(sc);
	CHECK_EQ(fv.irq_level[IRQ_RTC], 1);
	CHECK_EQ(rd(&fv, 0x0c), 0xb0);		/* IRQF | AF | UF */
	/* Don't-care hours and minutes: every minute at :40. */
	wr(&fv, 0x03, 0xc0);
	wr(&fv, 0x05, 0xff);
	advance_ns(59000000000LL);
	CHECK_EQ(rd(&fv, 0x0c) & 0x20, 0);
	advance_ns(1000000000LL);
	CHECK_EQ(rd(&fv, 0x0c) & 0xa0, 0xa0);

	/* Periodic at 2 Hz. */
	wr(&fv, 0x0b, 0x02);
	(void)rd(&fv, 0x0c);
	wr(&fv, 0x0a, 0x2f);
	wr(&fv, 0x0b, 0x42);
	CHECK_EQ(rd(&fv, 0x0c), 0);
	advance_ns(500000000LL);
	rtc_poll(sc);
	CHECK_EQ(fv.irq_level[IRQ_RTC], 1);
	CHECK_EQ(rd(&fv, 0x0c) & 0xc0, 0xc0);
	/* 8 Hz (rate 13): an edge every 125 ms, none in between. */
	wr(&fv, 0x0a, 0x2d);
	advance_ns(100000000LL);		/* x.100 */
	CHECK_EQ(rd(&fv, 0x0c) & 0x40, 0);
	advance_ns(50000000LL);			/* x.150, past x.125 */
	CHECK_EQ(rd(&fv, 0x0c) & 0x40, 0x40);
	advance_ns(50000000LL);			/* x.200 */
	CHECK_EQ(rd(&fv, 0x0c) & 0x40, 0);
	/* Rate 1 repeats rate 8: 256 Hz, 3.90625 ms. */
	wr(&fv, 0x0a, 0x21);
	advance_ns(3000000LL);			/* x.203 */
	CHECK_EQ(rd(&fv, 0x0c) & 0x40, 0);
	advance_ns(1000000LL);			/* x.204, past x.203125 */
	CHECK_EQ(rd(&fv, 0x0c) & 0x40, 0x40);
	teardown(&fv, sc);
}

TEST(localtime)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	setenv("TZ", "EST5", 1);
	tzset();
	set_now(2024, 2, 29, 13, 45, 30, 0);
	sc = setup(&fv, true);
	CHECK_EQ(rd(&fv, 0x04), 0x08);
	CHECK_EQ(rd(&fv, 0x02), 0x45);
	teardown(&fv, sc);
	unsetenv("TZ");
	tzset();
}

TEST(nvram_and_index)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 0);
	sc = setup(&fv, false);
	wr(&fv, 0x40, 0x5a);
	CHECK_EQ(rd(&fv, 0x40), 0x5a);
	/* Bit 7 of the index is the NMI mask, not part of the address. */
	CHECK_EQ(rd(&fv, 0xc0), 0x5a);
	wr(&fv, 0xff, 0x77);
	CHECK_EQ(rd(&fv, 0x7f), 0x77);
	/* A word write is the index then the data byte. */
	fake_out(&fv, IO_RTC, 2, 0xa541);
	CHECK_EQ(rd(&fv, 0x41), 0xa5);
	/* Registers C and D are read-only; the seconds' bit 7 too. */
	wr(&fv, 0x0d, 0x00);
	CHECK_EQ(rd(&fv, 0x0d), 0x80);
	wr(&fv, 0x0c, 0xff);
	CHECK_EQ(rd(&fv, 0x0c), 0x00);
	teardown(&fv, sc);
}

TEST(memsize_bytes)
{
	struct fake_vm fv;
	struct rtc_softc *sc;

	set_now(2024, 2, 29, 13, 45, 30, 0);
	sc = setup(&fv, false);

	/* 256 MiB guest. */
	rtc_set_memsize(sc, 256 * MiB, 0);
	CHECK_EQ(rd(&fv, 0x15) | rd(&fv, 0x16) << 8, 640);
	CHECK_EQ(rd(&fv, 0x17) | rd(&fv, 0x18) << 8, 0xffff);
	CHECK_EQ(rd(&fv, 0x30) | rd(&fv, 0x31) << 8, 0xffff);
	CHECK_EQ(rd(&fv, 0x34) | rd(&fv, 0x35) << 8, 0x0f00);
	CHECK_EQ(rd(&fv, 0x5b) | rd(&fv, 0x5c) << 8 | rd(&fv, 0x5d) << 16, 0);

	/* 4 GiB: 3 GiB low, 1 GiB high. */
	rtc_set_memsize(sc, 3 * GiB, 1 * GiB);
	CHECK_EQ(rd(&fv, 0x34) | rd(&fv, 0x35) << 8, 0xbf00);
	CHECK_EQ(rd(&fv, 0x5b) | rd(&fv, 0x5c) << 8 | rd(&fv, 0x5d) << 16,
	    0x4000);

	/* 6 GiB: 3 GiB low, 3 GiB high. */
	rtc_set_memsize(sc, 3 * GiB, 3 * GiB);
	CHECK_EQ(rd(&fv, 0x34) | rd(&fv, 0x35) << 8, 0xbf00);
	CHECK_EQ(rd(&fv, 0x5b) | rd(&fv, 0x5c) << 8 | rd(&fv, 0x5d) << 16,
	    0xc000);

	/* A 12 MiB guest: extended memory in KiB, nothing above 16 MiB. */
	rtc_set_memsize(sc, 12 * MiB, 0);
	CHECK_EQ(rd(&fv, 0x17) | rd(&fv, 0x18) << 8, 11 * 1024);
	CHECK_EQ(rd(&fv, 0x34) | rd(&fv, 0x35) << 8, 0);
	teardown(&fv, sc);
}

TEST_MAIN()
