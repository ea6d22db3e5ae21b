/*
 * mc146818_time.c: the RTC's time bytes: BCD or binary, 12- or 24-hour
 * (register B's DM and 24/12 bits, MC146818A datasheet Tables 3 and 4),
 * calendar conversions and the alarm comparison.  Pure functions of the
 * register file; mc146818.c holds the clock and the locking.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "hw/mc146818_time.h"
#include "khyve.h"

#define SEC_PER_DAY	86400

/* v in [0, 99] in the data mode of register B. */
static uint8_t
rtc_enc(uint8_t regb, int v)
{
	if (regb & REG_B_DM)
		return ((uint8_t)v);
	return ((uint8_t)(((v / 10) << 4) | (v % 10)));
}

static bool
rtc_dec(uint8_t regb, uint8_t b, int *v)
{
	if (regb & REG_B_DM) {
		*v = b;
		return (true);
	}
	if ((b & 0x0f) > 9 || (b >> 4) > 9)
		return (false);
	*v = (b >> 4) * 10 + (b & 0x0f);
	return (true);
}

/* Hour 0-23 as stored: 12-hour mode is 1-12 plus HOUR_PM (Table 3). */
static uint8_t
rtc_enc_hour(uint8_t regb, int h)
{
	if (regb & REG_B_24H)
		return (rtc_enc(regb, h));
	return ((uint8_t)(rtc_enc(regb, h % 12 == 0 ? 12 : h % 12) |
	    (h >= 12 ? HOUR_PM : 0)));
}

static bool
rtc_dec_hour(uint8_t regb, uint8_t b, int *h)
{
	bool pm;

	if (regb & REG_B_24H)
		return (rtc_dec(regb, b, h) && *h <= 23);
	pm = (b & HOUR_PM) != 0;
	if (!rtc_dec(regb, b & ~HOUR_PM, h) || *h < 1 || *h > 12)
		return (false);
	*h = *h % 12 + (pm ? 12 : 0);
	return (true);
}

void
rtc_time_store(uint8_t *regs, uint8_t regb, int64_t secs)
{
	struct tm tm;
	time_t t = (time_t)secs;
	int year;

	if (gmtime_r(&t, &tm) == NULL)
		return;
	year = tm.tm_year + 1900;
	if (year < 0)
		return;
	regs[RTC_SEC] = rtc_enc(regb, tm.tm_sec % 60);
	regs[RTC_MIN] = rtc_enc(regb, tm.tm_min);
	regs[RTC_HOUR] = rtc_enc_hour(regb, tm.tm_hour);
	regs[RTC_DOW] = rtc_enc(regb, tm.tm_wday + 1);	/* 1 = Sunday */
	regs[RTC_DAY] = rtc_enc(regb, tm.tm_mday);
	regs[RTC_MONTH] = rtc_enc(regb, tm.tm_mon + 1);
	regs[RTC_YEAR] = rtc_enc(regb, year % 100);
	regs[RTC_CENTURY] = rtc_enc(regb, (year / 100) % 100);
}

/* The day of the week is ignored, as bhyve's vrtc.c does (Linux never
 * sets it). */
bool
rtc_time_load(const uint8_t *regs, uint8_t regb, int64_t *secs)
{
	static const int mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	int sec, min, hour, day, mon, year, cent, dim;

	if (!rtc_dec(regb, regs[RTC_SEC], &sec) || sec > 59 ||
	    !rtc_dec(regb, regs[RTC_MIN], &min) || min > 59 ||
	    !rtc_dec_hour(regb, regs[RTC_HOUR], &hour) ||
	    !rtc_dec(regb, regs[RTC_DAY], &day) || day < 1 ||
	    !rtc_dec(regb, regs[RTC_MONTH], &mon) || mon < 1 || mon > 12 ||
	    !rtc_dec(regb, regs[RTC_YEAR], &year) || year > 99 ||
	    !rtc_dec(regb, regs[RTC_CENTURY], &cent) || cent > 99)
		return (false);
	year += cent * 100;
	dim = mdays[mon - 1];
	if (mon == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		dim = 29;
	if (day > dim)
		return (false);
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = sec;
	tm.tm_min = min;
	tm.tm_hour = hour;
	tm.tm_mday = day;
	tm.tm_mon = mon - 1;
	tm.tm_year = year - 1900;
	*secs = (int64_t)timegm(&tm);
	return (true);
}

/* An alarm byte as the value it matches: -1 for any, -2 for none. */
static int
rtc_alarm_value(uint8_t regb, uint8_t b, bool hour)
{
	int v;

	if ((b & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return (-1);
	if (hour)
		return (rtc_dec_hour(regb, b, &v) ? v : -2);
	return (rtc_dec(regb, b, &v) && v <= 59 ? v : -2);
}

/*
 * Did any second in (from, to] match the alarm bytes?  The chip compares
 * once a second; this walks the candidate hours and minutes in time
 * order instead, a few thousand steps at most whatever the gap.
 */
bool
rtc_alarm_between(const uint8_t *regs, uint8_t regb, int64_t from,
    int64_t to)
{
	int ah, am, as, h, m;
	int64_t day, base, t;

	ah = rtc_alarm_value(regb, regs[RTC_HOUR_ALARM], true);
	am = rtc_alarm_value(regb, regs[RTC_MIN_ALARM], false);
	as = rtc_alarm_value(regb, regs[RTC_SEC_ALARM], false);
	if (ah == -2 || am == -2 || as == -2 || to <= from)
		return (false);
	/* Every time of day comes round within a day. */
	to = MIN(to, from + SEC_PER_DAY);
	t = from % SEC_PER_DAY;
	day = from - (t < 0 ? t + SEC_PER_DAY : t);
	for (; day <= to; day += SEC_PER_DAY) {
		for (h = 0; h < 24; h++) {
			if ((ah >= 0 && h != ah) || day + h * 3600 + 3599 <= from)
				continue;
			if (day + h * 3600 > to)
				return (false);
			for (m = 0; m < 60; m++) {
				base = day + h * 3600 + m * 60;
				if ((am >= 0 && m != am) || base + 59 <= from)
					continue;
				if (base > to)
					return (false);
				t = as >= 0 ? base + as : MAX(base, from + 1);
				if (t > to)
					return (false);
				if (t > from)
					return (true);
			}
		}
	}
	return (false);
}
