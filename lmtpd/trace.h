/*
 * The header lines cairn-lmtpd puts in front of each recipient's copy of
 * a message (RFC 5321 §4.4, trace information): in this order,
 *
 *   Return-Path: <sender>                      (MAIL FROM; <> when null)
 *   Delivered-To: recipient                    (RCPT TO, as given)
 *   Received: from LHLO-NAME (PEER)
 *   	by HOSTNAME (Cairn) with LMTP id SESSION;
 *   	DATE                                     (RFC 5322 §3.3)
 *
 * folded so that no line passes 78 octets unless one word does.  Every
 * piece comes from a parser that lets only printable ASCII without CR or
 * LF through (lmtp.c), so nothing here can end a header early.
 */
#ifndef CAIRN_TRACE_H
#define CAIRN_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for the longest: two paths of 256 octets, a domain of 255, ... */
#define TRACE_PREFIX_MAX 2048

struct trace_info {
	const char *sender;      /* "" for the null reverse-path */
	const char *recipient;
	const char *lhlo;        /* the name LHLO gave */
	const char *peer;        /* "local", or an IP address */
	const char *hostname;
	uint64_t session_id;
	time_t when;
	int tz_minutes;          /* the zone offset to show the date in */
};

/* The lines, CRLF-ended, into out (size TRACE_PREFIX_MAX); its length,
 * or 0 if it would not fit (it always does for what lmtp.c accepts). */
size_t trace_prefix(const struct trace_info *t, char *out, size_t outsize);
/* The date of RFC 5322 §3.3 ("Mon, 23 Nov 2026 20:39:46 +0100"). */
void trace_date(time_t when, int tz_minutes, char *out, size_t outsize);
/* The local zone offset at when, in minutes east of UTC. */
int trace_tz_minutes(time_t when);

#endif
