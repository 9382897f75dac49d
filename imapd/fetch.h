/*
 * FETCH (RFC 9051 §6.4.5, RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162
 * MODSEQ, CHANGEDSINCE and VANISHED, RFC 8474 ids, RFC 8514 SAVEDATE,
 * RFC 8970 PREVIEW): the request as parsed from the command's
 * arguments (fetch-parse.c, no I/O, no mailbox), the bytes a body section
 * names in one message (fetch-body.c), and the command that puts them
 * together (cmd-fetch.c).
 */
#ifndef CAIRN_IMAPD_FETCH_H
#define CAIRN_IMAPD_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mime.h"
#include "parser.h"

enum fetch_kind {
	FETCH_UID,
	FETCH_FLAGS,
	FETCH_INTERNALDATE,
	FETCH_RFC822_SIZE,
	FETCH_ENVELOPE,
	FETCH_BODY,              /* the non-extended structure */
	FETCH_BODYSTRUCTURE,
	FETCH_MODSEQ,
	FETCH_EMAILID,           /* RFC 8474 */
	FETCH_THREADID,
	FETCH_SAVEDATE,          /* RFC 8514 */
	FETCH_PREVIEW,           /* RFC 8970; lazy: PREVIEW (LAZY) */
	FETCH_SECTION,           /* BODY[..], BODY.PEEK[..], RFC822, RFC822.HEADER,
	                          * RFC822.TEXT */
	FETCH_BINARY,            /* BINARY[..], BINARY.PEEK[..] */
	FETCH_BINARY_SIZE,
};

/* What of the message or part a section names (section-text). */
enum fetch_text {
	FETCH_TEXT_ALL,          /* BODY[] or BODY[1.2]: all of it */
	FETCH_TEXT_HEADER,
	FETCH_TEXT_FIELDS,       /* HEADER.FIELDS (list) */
	FETCH_TEXT_FIELDS_NOT,   /* HEADER.FIELDS.NOT (list) */
	FETCH_TEXT_TEXT,
	FETCH_TEXT_MIME,         /* only after a part number */
};

struct fetch_att {
	enum fetch_kind kind;
	/* The name the response gives it: "BODY[1.HEADER.FIELDS (FROM)]",
	 * "RFC822.TEXT", "BINARY.SIZE[2]"; without the partial's "<origin>". */
	char *label;
	bool peek;               /* leaves \Seen alone */
	bool lazy;               /* PREVIEW (LAZY): NIL rather than work */
	char *part;              /* part number "1.2"; "" for the message */
	enum fetch_text text;
	char **fields;           /* HEADER.FIELDS[.NOT]: the names, as given */
	size_t nfields;
	bool partial;            /* <origin.octets> */
	uint64_t origin, octets;
};

struct fetch_request {
	struct fetch_att *atts;  /* in the order of the response */
	size_t n, cap;
	bool set_seen;           /* a section without PEEK: implicit \Seen */
	bool modseq;             /* MODSEQ is among the atts */
	bool changedsince_set;   /* the CHANGEDSINCE modifier (RFC 7162 §3.1.4.1) */
	uint64_t changedsince;
	bool vanished;           /* the VANISHED modifier (§3.2.6): UID FETCH,
	                          * with CHANGEDSINCE */
};

#define FETCH_WHY_MAX 160
/* Field names in one HEADER.FIELDS[.NOT] list. */
#define FETCH_MAX_FIELDS 1000

/*
 * Parse what follows FETCH's sequence set, args[0..n): the fetch
 * attributes (a macro, one fetch-att or a list of them) and the optional
 * modifier list.  uid: the UID form, which answers UID for every message,
 * first unless the client placed it.  CHANGEDSINCE adds MODSEQ (RFC 7162
 * §3.1.4.1); VANISHED is refused without it or outside the UID form
 * (§3.2.6), but whether QRESYNC is enabled is the caller's to check.  0,
 * or -1 with why (NUL-terminated, for "<tag> BAD <why>");
 * req is freed by fetch_request_free either way.
 */
int fetch_parse(const struct imap_arg *args, size_t n, bool uid,
    struct fetch_request *req, char *why, size_t whylen);
void fetch_request_free(struct fetch_request *req);

/*
 * One message as fetch-body.c reads it: its mapped bytes and, parsed the
 * first time an attribute needs it, its structure.  Only the header end is
 * found for HEADER, TEXT and HEADER.FIELDS of the message itself.
 */
struct fetch_msg {
	const char *data;
	size_t len;
	struct mime_part *root;  /* mime_parse(), NULL until a part number needs it */
	size_t header_end;       /* SIZE_MAX until found */
};

void fetch_msg_init(struct fetch_msg *m, const char *data, size_t len);
void fetch_msg_done(struct fetch_msg *m);

enum fetch_body_result {
	FETCH_BODY_OK = 0,
	FETCH_BODY_UNKNOWN_CTE,  /* BINARY: NO [UNKNOWN-CTE] (RFC 3516 §4.3) */
	FETCH_BODY_TOO_BIG,      /* decoding passed scratch's limit */
};

/*
 * The bytes a section (FETCH_SECTION), BINARY or BINARY.SIZE attribute
 * names, before any partial: *data points into the message or into scratch
 * (reset first), valid until the next call.  A part that does not exist,
 * or HEADER / TEXT of a part that is not a message, is empty (as Dovecot).
 */
enum fetch_body_result fetch_body(struct fetch_msg *m, const struct fetch_att *a,
    struct buf *scratch, const char **data, size_t *len);
/* Would fetch_body() answer FETCH_BODY_UNKNOWN_CTE?  Decodes nothing. */
bool fetch_body_cte_known(struct fetch_msg *m, const struct fetch_att *a);

#endif
