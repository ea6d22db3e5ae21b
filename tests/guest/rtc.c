/*
 * rtc: reads the MC146818 real-time clock through ports 0x70/0x71.
 *
 * Waits for UIP to clear and reads until two passes agree, decodes the
 * four REG_B formats (BCD or binary via DM, 12- or 24-hour) by flipping
 * those bits and reading again, and checks the date against "epoch=SECS"
 * (the runner passes the host's time; the VM keeps UTC), the century at
 * 0x32, and the NVRAM memory sizes at 0x34/0x35 and 0x5B-0x5D against
 * "memsize=" (bhyve amd64/rtc.c: 64 KiB units above 16 MiB, and above
 * 4 GiB).  References: MC146818A data sheet (registers A-D, UIP), IBM AT
 * CMOS map (0x32 century).
 */
#include "kit.h"

#define REG_SEC		0x00
#define REG_MIN		0x02
#define REG_HOUR	0x04
#define REG_DAY		0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_CENTURY	0x32
#define A_UIP		0x80
#define B_SET		0x80
#define B_DM		0x04		/* 1: binary, 0: BCD */
#define B_24H		0x02
#define HOUR_PM		0x80		/* 12-hour mode */
#define MAX_SKEW	300		/* seconds between host and guest */
#define LOWMEM_LIMIT	(3ULL << 30)	/* bhyve's lowmem_limit */

struct rtc_time {
	unsigned sec, min, hour, day, mon, year, century;
};

static uint8_t
cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return (inb(0x71));
}

static void
cmos_write(uint8_t reg, uint8_t val)
{
	outb(0x70, reg);
	outb(0x71, val);
}

static int
uip_wait(void)
{
	unsigned i;

	/* UIP is set at most 244 us before and 2 ms during an update. */
	for (i = 0; i < 200000; i++)
		if ((cmos_read(REG_A) & A_UIP) == 0)
			return (0);
	return (-1);
}

static void
read_raw(struct rtc_time *t)
{
	t->sec = cmos_read(REG_SEC);
	t->min = cmos_read(REG_MIN);
	t->hour = cmos_read(REG_HOUR);
	t->day = cmos_read(REG_DAY);
	t->mon = cmos_read(REG_MON);
	t->year = cmos_read(REG_YEAR);
	t->century = cmos_read(REG_CENTURY);
}

/* Two passes that agree, each after UIP is clear (no torn update). */
static int
read_stable(struct rtc_time *t)
{
	struct rtc_time u;
	int i;

	for (i = 0; i < 10; i++) {
		if (uip_wait() != 0)
			return (-1);
		read_raw(t);
		if (uip_wait() != 0)
			return (-1);
		read_raw(&u);
		if (memcmp(t, &u, sizeof(u)) == 0)
			return (0);
	}
	return (-1);
}

static int
bcd_ok(unsigned v)
{
	return ((v & 0xf) <= 9 && (v >> 4) <= 9);
}

static unsigned
from_bcd(unsigned v)
{
	return ((v >> 4) * 10 + (v & 0xf));
}

/* Decode in place; returns -1 on digits or ranges no clock would give. */
static int
decode(struct rtc_time *t, uint8_t regb)
{
	unsigned *f[] = { &t->sec, &t->min, &t->day, &t->mon, &t->year,
	    &t->century };
	unsigned i, pm = 0;

	if (!(regb & B_24H)) {
		pm = t->hour & HOUR_PM;
		t->hour &= ~HOUR_PM;
	}
	if (!(regb & B_DM)) {
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			if (!bcd_ok(*f[i]))
				return (-1);
			*f[i] = from_bcd(*f[i]);
		}
		if (!bcd_ok(t->hour))
			return (-1);
		t->hour = from_bcd(t->hour);
	}
	if (!(regb & B_24H)) {
		if (t->hour < 1 || t->hour > 12)
			return (-1);
		t->hour = t->hour % 12 + (pm ? 12 : 0);
	}
	if (t->sec > 59 || t->min > 59 || t->hour > 23 || t->day < 1 ||
	    t->day > 31 || t->mon < 1 || t->mon > 12 || t->year > 99)
		return (-1);
	return (0);
}

/* Seconds since 1970 for a UTC date (days-from-civil, proleptic Gregorian). */
static int64_t
to_epoch(const struct rtc_time *t)
{
	int64_t y = (int64_t)t->century * 100 + t->year, m = t->mon, d = t->day;
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return ((era * 146097 + doe - 719468) * 86400 + t->hour * 3600 +
	    t->min * 60 + t->sec);
}

/* Read and decode with REG_B = regb; the epoch seconds, or -1. */
static int64_t
read_as(uint8_t regb, struct rtc_time *t)
{
	cmos_write(REG_B, regb);
	GCHECK_EQ(cmos_read(REG_B), regb);
	if (read_stable(t) != 0) {
		printf("RTC: no stable read (UIP stuck?) with REG_B 0x%02x\n",
		    regb);
		GCHECK(0);
		return (-1);
	}
	printf("RTC: REG_B 0x%02x raw %02x %02x %02x %02x-%02x-%02x c %02x",
	    regb, t->hour, t->min, t->sec, t->year, t->mon, t->day,
	    t->century);
	if (decode(t, regb) != 0) {
		printf(": undecodable\n");
		GCHECK(0);
		return (-1);
	}
	printf(" = %02u%02u-%02u-%02u %02u:%02u:%02u\n", t->century, t->year,
	    t->mon, t->day, t->hour, t->min, t->sec);
	return (to_epoch(t));
}

static void
check_nvram(void)
{
	uint64_t mem = arg_get_u64("memsize", 0), low, high, lo64k, hi64k;

	lo64k = cmos_read(0x34) | (uint64_t)cmos_read(0x35) << 8;
	hi64k = cmos_read(0x5b) | (uint64_t)cmos_read(0x5c) << 8 |
	    (uint64_t)cmos_read(0x5d) << 16;
	printf("NVRAM: 0x34/0x35 = %lu, 0x5b-0x5d = %lu (64 KiB units); "
	    "memsize %lu MiB\n", lo64k, hi64k, mem >> 20);
	if (mem == 0)
		return;
	low = mem < LOWMEM_LIMIT ? mem : LOWMEM_LIMIT;
	high = mem - low;
	GCHECK_EQ(lo64k, low > (16ULL << 20) ? (low - (16ULL << 20)) >> 16 : 0);
	GCHECK_EQ(hi64k, high >> 16);
}

int
guest_main(void)
{
	uint8_t regb = cmos_read(REG_B), base = regb & ~(B_DM | B_24H | B_SET);
	int64_t host = (int64_t)arg_get_u64("epoch", 0), first, e, d;
	struct rtc_time t;
	unsigned mode;

	printf("RTC: REG_A 0x%02x REG_B 0x%02x REG_D 0x%02x\n",
	    cmos_read(REG_A), regb, cmos_read(0x0d));
	GCHECK((regb & B_SET) == 0);		/* the clock is running */
	GCHECK(cmos_read(0x0d) & 0x80);		/* VRT: valid RAM and time */

	first = read_as(regb, &t);
	GCHECK(first >= 0);
	GCHECK_EQ(t.century, 20);
	if (host != 0 && first >= 0) {
		d = first - host;
		printf("RTC: guest - host = %ld s\n", d);
		GCHECK(d >= -MAX_SKEW && d <= MAX_SKEW);
	}

	/* Every format must give the same time (a few seconds later). */
	for (mode = 0; mode < 4; mode++) {
		e = read_as((uint8_t)(base | (mode & 1 ? B_DM : 0) |
		    (mode & 2 ? B_24H : 0)), &t);
		GCHECK(e >= first && e - first <= 5);
	}
	cmos_write(REG_B, regb);
	GCHECK_EQ(cmos_read(REG_B), regb);

	check_nvram();
	return (0);
}
