/*
 * The Date: header field's date-time (RFC 5322 §3.3, and the obsolete
 * forms of §4.3 real mail carries), for SEARCH's SENT* keys (the date as
 * written) and the sent date of SORT and THREAD (RFC 5256 §2.2: the moment
 * in UTC).  No I/O.
 */
#ifndef CAIRN_STORE_SENTDATE_H
#define CAIRN_STORE_SENTDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sentdate {
	int64_t day;        /* days since 1970-01-01 of the date as written */
	int secs;           /* time of day in seconds; 0 when time_ok is false */
	int zone_minutes;   /* east of UTC; 0 when zone_ok is false */
	bool time_ok;       /* hh:mm[:ss] was there and valid */
	bool zone_ok;       /* a numeric or named zone was there */
};

/*
 * "[Sun,] 5 Jan 2024 10:00:00 +0100", with comments, two- and three-digit
 * years, zone names (UT, GMT, EST...; military letters are taken as UTC,
 * RFC 5322 §4.3) and anything before the day taken as the weekday.  0, or
 * -1 when the value holds no valid date.
 */
int sentdate_parse(const char *s, size_t len, struct sentdate *out);

/*
 * RFC 5256 §2.2: the date and time normalised to UTC, as unix time; a
 * time that is invalid or missing is 00:00:00, a zone that is invalid or
 * missing is UTC.
 */
int64_t sentdate_utc(const struct sentdate *d);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t sentdate_days_from_civil(int64_t year, unsigned month, unsigned day);
/* The days of a month (1..12) of a year. */
unsigned sentdate_month_days(int64_t year, unsigned month);
/* The English month name abbreviated at s (3 bytes, any case): 1..12, or 0. */
unsigned sentdate_parse_month(const char *s);

#endif
