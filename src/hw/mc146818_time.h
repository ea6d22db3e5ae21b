/*
 * mc146818_time.h: the RTC's register layout and its time-byte formats,
 * shared by mc146818.c and mc146818_time.c (internal to the RTC).
 */
#ifndef MC146818_TIME_H
#define MC146818_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_SEC		0x00
#define RTC_SEC_ALARM	0x01
#define RTC_MIN		0x02
#define RTC_MIN_ALARM	0x03
#define RTC_HOUR	0x04
#define RTC_HOUR_ALARM	0x05
#define RTC_DOW		0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32		/* not in the chip: the PC's century byte */
#define RTC_NREGS	128

#define REG_B_DM	0x04		/* 1: binary, 0: BCD */
#define REG_B_24H	0x02		/* 1: 24-hour, 0: 12-hour */
#define ALARM_DONT_CARE	0xc0		/* 11xxxxxx matches every value */
#define HOUR_PM		0x80		/* 12-hour mode: PM flag in the hour */

/*
 * Write the calendar for secs (seconds since 1970 in the RTC's own time,
 * UTC-like) into the time bytes of regs, in the format regb selects.
 * Leaves them alone when secs has no calendar date.
 */
void	rtc_time_store(uint8_t *regs, uint8_t regb, int64_t secs);

/*
 * Read the time bytes back into *secs.  The day of the week is ignored;
 * false when a field is out of range or badly encoded.
 */
bool	rtc_time_load(const uint8_t *regs, uint8_t regb, int64_t *secs);

/*
 * Did any second in (from, to] match the alarm bytes of regs?  Bounded
 * work whatever the gap.
 */
bool	rtc_alarm_between(const uint8_t *regs, uint8_t regb, int64_t from,
	    int64_t to);

#endif /* MC146818_TIME_H */
