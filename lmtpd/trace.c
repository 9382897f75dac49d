#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

struct out {
	char *s;
	size_t size, len;
	size_t line;             /* octets on the current line */
	bool overflow;
};

static void
put(struct out *o, const char *text)
{
	size_t n = strlen(text);

	if (o->overflow || o->len + n >= o->size) {
		o->overflow = true;
		return;
	}
	memcpy(o->s + o->len, text, n + 1);
	o->len += n;
	const char *nl = strrchr(text, '\n');
	o->line = nl != NULL ? strlen(nl + 1) : o->line + n;
}

/* A word after a space, or on a folded line when it would pass 78 octets. */
static void
word(struct out *o, const char *text)
{
	if (o->line + 1 + strlen(text) > 78)
		put(o, "\r\n\t");
	else
		put(o, " ");
	put(o, text);
}

void
trace_date(time_t when, int tz_minutes, char *out, size_t outsize)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	    "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = when + (time_t)tz_minutes * 60;
	int off = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	struct tm tm;

	/* English names whatever the locale: the RFC's, not strftime's %a. */
	if (gmtime_r(&local, &tm) == NULL) {
		snprintf(out, outsize, "Thu, 1 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(out, outsize, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, tz_minutes < 0 ? '-' : '+',
	    off / 60, off % 60);
}

int
trace_tz_minutes(time_t when)
{
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

size_t
trace_prefix(const struct trace_info *t, char *buf, size_t size)
{
	struct out o = { buf, size, 0, 0, false };
	char tmp[320], date[64];

	put(&o, "Return-Path: <");
	put(&o, t->sender);
	put(&o, ">\r\nDelivered-To: ");
	put(&o, t->recipient);
	put(&o, "\r\nReceived: from");
	word(&o, t->lhlo);
	snprintf(tmp, sizeof(tmp), "(%s)", t->peer);
	word(&o, tmp);
	put(&o, "\r\n\tby");
	word(&o, t->hostname);
	word(&o, "(Cairn)");
	word(&o, "with");
	word(&o, "LMTP");
	word(&o, "id");
	snprintf(tmp, sizeof(tmp), "%016llx;", (unsigned long long)t->session_id);
	word(&o, tmp);
	trace_date(t->when, t->tz_minutes, date, sizeof(date));
	put(&o, "\r\n\t");
	put(&o, date);
	put(&o, "\r\n");
	return o.overflow ? 0 : o.len;
}
