/*
 * mbox (mboxrd and mboxo) for cairnctl import: a file of messages, each
 * after a "From <sender> <date>" line, read as a stream in bounded pieces
 * so that a file of any size (and a line of any length) needs
 * MBOX_PIECE_MAX bytes of memory.
 *
 * A separator is a line starting "From " whose date parses
 * (mbox_from_time): a "From " line in a body that a broken writer left
 * unescaped, with no date after it, stays part of the message.  The empty
 * line before a separator (and at the end of the file) belongs to the
 * format, not to the message, and is dropped.  Lines ">From ", ">>From "
 * ... lose one '>' (mboxrd).  mboxo escaped only "From " and left
 * ">From " alone, so there such an original line loses its '>' too: the
 * formats cannot be told apart from the file, and mboxrd is the one
 * that round-trips.
 *
 * The header fields mbox writers keep their state in are taken out of the
 * message, as Dovecot hides them: Status (R: \Seen; O: old, not
 * \Recent), X-Status (A \Answered, F \Flagged, T \Draft, D \Deleted),
 * X-Keywords (keywords), and X-UID, X-IMAP, X-IMAPbase, Content-Length.
 */
#ifndef CAIRN_CTL_MBOX_H
#define CAIRN_CTL_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MBOX_PIECE_MAX 65536
#define MBOX_KEYWORDS_MAX 64
#define MBOX_KEYWORD_BYTES 4096     /* of X-Keywords kept per message */

struct mbox_reader {
	FILE *f;
	char buf[MBOX_PIECE_MAX];
	size_t start, end;          /* unread bytes of buf */
	bool eof, error;
	/* the current piece: a line, or part of a longer one */
	char piece[MBOX_PIECE_MAX];
	size_t piece_len;
	bool piece_line_start, piece_line_end;
	bool have_peek;             /* piece read ahead, not yet handed out */
	bool line_start;            /* the next byte starts a line */
	char blank[2];              /* a held empty line: "\n" or "\r\n" */
	size_t blank_len;           /* 0: none held */
	bool in_header, dropping;   /* dropping: a hidden field's lines */
	bool in_message;
	uint64_t offset;            /* bytes of the file consumed */
	/* of the current message */
	int64_t from_time;
	int from_tz;
	unsigned flags;             /* STORE_FLAG_* from Status, X-Status */
	char kwbuf[MBOX_KEYWORD_BYTES];
	size_t kwbuf_len;
	const char *keywords[MBOX_KEYWORDS_MAX];
	size_t n_keywords;
};

/* Read f (not closed here).  Is the first line a separator?  false: not
 * an mbox (or an empty file, or a read error: r->error). */
bool mbox_open(struct mbox_reader *r, FILE *f);
/* To the next message: true and its From line's time (unix, zone in
 * minutes: 0 when the line has none), or false at the end (or r->error). */
bool mbox_next(struct mbox_reader *r, int64_t *internaldate, int *tz);
/* The next bytes of the current message, unescaped, with the hidden
 * fields left out; 0 at its end.  *data is valid until the next call. */
size_t mbox_read(struct mbox_reader *r, const char **data);
/* After mbox_read returned 0: the message's flags and keywords (valid
 * until mbox_next). */
void mbox_state(struct mbox_reader *r, unsigned *flags,
    const char *const **keywords, size_t *n_keywords);

/* "From sender Www Mmm dd hh:mm[:ss] yyyy [+hhmm]" (len bytes, may end in
 * a newline): its time as UTC (or the zone given). */
bool mbox_from_time(const char *line, size_t len, int64_t *t, int *tz);
/* Is line (len bytes, at a line start) ">From ", ">>From "...? The number
 * of '>' to drop (1) or 0. */
size_t mbox_unescape(const char *line, size_t len);

#endif
