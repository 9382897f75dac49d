/*
 * The MIME structure of a stored message and the IMAP views of it.
 *
 * mime_parse() reads a message once (RFC 5322 header syntax, RFC 2045-2049
 * MIME, RFC 2231 parameters) and returns a tree of parts that holds offsets
 * into the message and the parsed Content-* fields.  The other functions
 * turn a part into what IMAP sends: ENVELOPE, BODY and BODYSTRUCTURE
 * (RFC 9051 §7.5.2), the part for a section number (§6.4.5), header fields
 * (HEADER.FIELDS), decoded header text (RFC 2047) and decoded bodies
 * (BINARY, RFC 3516).
 *
 * The parser never fails on a malformed message: like every mature server it
 * keeps what it can make sense of.  Where the RFCs leave room, Dovecot's
 * answers are the reference.  Everything is bounded (the MIME_MAX_* limits
 * below), the whole parse is O(n) in the message size, nothing of the
 * message is copied except the short field values a part keeps, and no
 * function does I/O.
 *
 * Line ends may be CRLF or a bare LF.  Offsets count the bytes as stored;
 * the sizes IMAP reports (BODYSTRUCTURE octets, *_vsize) count a bare LF as
 * CRLF, as Dovecot does, because message lines end in CRLF (RFC 5322
 * §2.1): a store that keeps LF-only messages must serve them with CRLF for
 * the two to agree.
 *
 * Output goes to a struct buf; the output functions return -1 only when
 * the buffer's limit was reached (the buf's overflow flag is then set).
 */
#ifndef CAIRN_MIME_H
#define CAIRN_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Multipart and message/rfc822 levels the parser descends; deeper
 * containers are kept whole, as one application/octet-stream part. */
#define MIME_MAX_DEPTH 32
/* Parts in one message, the root included; later parts stay unparsed, in
 * the epilogue of their multipart. */
#define MIME_MAX_PARTS 5000
/* Parameters of one Content-Type or Content-Disposition field. */
#define MIME_MAX_PARAMS 64
/* Tags of one Content-Language field. */
#define MIME_MAX_LANGUAGES 32
/* Bytes kept of one field value, parameter value or ENVELOPE string. */
#define MIME_MAX_STRING 8192
/* Addresses (group markers included) in one ENVELOPE address list. */
#define MIME_MAX_ADDRESSES 1000
/* Longest boundary recognised (RFC 2046 §5.1.1 allows 70). */
#define MIME_MAX_BOUNDARY 256

/* A Content-Type or Content-Disposition parameter. */
struct mime_param {
	/* The attribute as given, without RFC 2231 "*" and section suffixes. */
	char *name;
	/* The value: RFC 2231 continuations joined, %XX undone and the charset
	 * converted to UTF-8 (invalid UTF-8 replaced by U+FFFD). */
	char *value;
	/* The value as BODYSTRUCTURE sends it: continuations joined, still in
	 * the RFC 2231 charset'language'%XX form when extended. */
	char *wire;
	/* RFC 2231 extended: BODYSTRUCTURE names it name + "*". */
	bool extended;
};

enum mime_kind {
	MIME_KIND_LEAF,       /* a body that is not parsed further */
	MIME_KIND_MULTIPART,  /* children: the body parts */
	MIME_KIND_MESSAGE,    /* message/rfc822 or message/global: one child,
	                       * the root of the encapsulated message */
};

struct mime_part {
	struct mime_part *parent;
	struct mime_part *children;   /* first child */
	struct mime_part *next;       /* next sibling */
	size_t nchildren;
	unsigned depth;               /* 0 for the root */
	enum mime_kind kind;
	/* A multipart or message part past the bounds, kept as a leaf and
	 * reported as application/octet-stream (as Dovecot does). */
	bool opaque;
	/* Content-Type absent or invalid: type and subtype are the default
	 * (text/plain, or message/rfc822 in a multipart/digest). */
	bool default_type;

	/* Offsets into the message.  The header runs from header_start to
	 * body_start and includes the blank line that ends it; the body runs
	 * from body_start to body_end.  The CRLF before a boundary belongs to
	 * the boundary (RFC 2046 §5.1.1), not to the part.  For FETCH:
	 * BODY[n.MIME] is the header of part n, BODY[n] its body; when part
	 * n is a message, BODY[n.HEADER] and BODY[n.TEXT] are the header and
	 * body of its child. */
	size_t header_start;
	size_t body_start;
	size_t body_end;
	/* Sizes in CRLF terms (a bare LF counts 2) and the number of lines of
	 * the body, as IMAP reports them (line ends in the body, as Dovecot
	 * counts them). */
	size_t header_vsize;
	size_t body_vsize;
	size_t body_lines;

	/* Content-Type, case as given (compare with strcasecmp). */
	char *type;
	char *subtype;
	struct mime_param *params;
	size_t nparams;

	/* Raw, unfolded values without the leading blank; NULL when absent.
	 * At the root of a message (or of an encapsulated one) that has
	 * neither MIME-Version nor Content-Type, these fields are ignored, as
	 * Dovecot does: such a message is not MIME (RFC 2045 §4). */
	char *id;                     /* Content-ID */
	char *description;            /* Content-Description (not decoded) */
	char *location;               /* Content-Location */
	char *md5;                    /* Content-MD5 */
	char *encoding;               /* Content-Transfer-Encoding token */

	char *disposition;            /* Content-Disposition type */
	struct mime_param *disp_params;
	size_t ndisp_params;

	char **languages;             /* Content-Language tags */
	size_t nlanguages;
};

/* Parses a message; never NULL (allocation failure is fatal).  The tree
 * holds offsets into data, which must stay the same for as long as the
 * tree is used with it. */
struct mime_part *mime_parse(const char *data, size_t len);
void mime_free(struct mime_part *root);

/* The decoded value of a parameter of the part's Content-Type (name
 * compared case-insensitively), NULL if absent. */
const char *mime_param(const struct mime_part *part, const char *name);
/* The charset of a text part: its charset parameter, else "us-ascii". */
const char *mime_charset(const struct mime_part *part);

/*
 * The part a section part-number ("1", "2.3.1") names, NULL if none
 * (RFC 9051 §6.4.5).  A message that is not multipart has one part, 1, its
 * body; the sub-parts of a message/rfc822 part are those of the message it
 * encapsulates.  An empty spec names the root.  Only digits and dots are
 * accepted: the caller strips HEADER, TEXT and MIME.
 */
const struct mime_part *mime_section(const struct mime_part *root,
    const char *spec, size_t len);

/*
 * The ENVELOPE of the header of part (the root, or the child of a
 * message/rfc822 part), RFC 9051 §7.5.2: strings as they are in the header
 * (encoded words are not decoded), address lists parsed per RFC 5322 with
 * the IMAP group markers, Sender and Reply-To defaulting to From.
 */
int mime_envelope(const char *data, size_t len, const struct mime_part *part,
    struct buf *out);

/*
 * The first address of an address-list field value (From, To, Cc; the
 * raw value, folding and all) as ENVELOPE would give it (RFC 9051
 * §7.5.2): addr-name (the phrase, unquoted, encoded words not decoded),
 * addr-mailbox and addr-host, each empty where ENVELOPE has NIL or a
 * MISSING_* default; for a group, its start marker (the group name as the
 * mailbox, no host).  SORT compares these (RFC 5256, RFC 5957).  The bufs
 * are reset first; 0 when there is an address, 1 when there is none.
 */
struct mime_address {
	struct buf name;
	struct buf mailbox;
	struct buf host;
};
#define MIME_ADDRESS_INIT { BUF_INIT, BUF_INIT, BUF_INIT }
int mime_address_first(const char *value, size_t len, struct mime_address *out);
void mime_address_free(struct mime_address *a);

/*
 * The next msg-id (RFC 5322 §3.6.4, with the CFWS and quoting of the
 * obsolete forms of §4.5.4) of a Message-ID, In-Reply-To or References
 * value at *p (up to end), in one normalised form so that two spellings
 * of one id compare equal (RFC 5256 §3, REFERENCES): the id-left without
 * quotes or CFWS, "@", the id-right, no angle brackets.  It is appended to
 * out (which should be empty: at most MIME_MAX_STRING bytes of it are
 * filled) and *p moves past it; false when no msg-id is left (text that is
 * none is skipped).  An id without "@" (<local>) is taken as it is.
 */
bool mime_msgid_next(const char **p, const char *end, struct buf *out);
/* The same, skipping a msg-id longer than max octets or holding a NUL
 * (nothing a store keeps as a key); out is reset first. */
bool mime_msgid_next_kept(const char **p, const char *end, struct buf *out,
    size_t max);

/* BODY (extended false) or BODYSTRUCTURE (true) of root, RFC 9051 §9. */
int mime_bodystructure(const char *data, size_t len,
    const struct mime_part *root, bool extended, struct buf *out);

#define MIME_BS_EXTENDED 0x01  /* BODYSTRUCTURE rather than BODY */
/* IMAP4rev2 form: message/global is reported like message/rfc822 (RFC 9051
 * media-message); without it, as a basic part (RFC 3501, and Dovecot 2.3),
 * which is what IMAP4rev1 clients parse.  RFC 9755 §6 notes the difference. */
#define MIME_BS_REV2 0x02
int mime_bodystructure_flags(const char *data, size_t len,
    const struct mime_part *root, unsigned flags, struct buf *out);

/*
 * The unfolded value of the first field called field (case-insensitive) in
 * the header of part, without the blanks after the colon, at most
 * MIME_MAX_STRING bytes of it: 0 found, 1 absent, -1 out is full.  The
 * first one is also what ENVELOPE uses when a field is repeated.
 */
int mime_header_raw(const char *data, size_t len, const struct mime_part *part,
    const char *field, struct buf *out);

/*
 * Where the value of the first field called field (case-insensitive) lies
 * in data, as stored: after the colon, folding kept, up to the end of its
 * last line.  Nothing is copied and there is no bound, so that a reader
 * that wants the end of a long value (the last msg-ids of References) can
 * have it; read it with a bounded reader such as mime_msgid_next.  0
 * found, 1 absent.
 */
int mime_header_span(const char *data, size_t len, const struct mime_part *part,
    const char *field, const char **value, size_t *vlen);

/*
 * BODY[HEADER.FIELDS (names)] (not false) or HEADER.FIELDS.NOT (not true)
 * of the header of part: the matching fields as stored, folding and line
 * ends kept (a field cut short gets a CRLF), then the blank line CRLF.
 * Lines without a field name match only HEADER.FIELDS.NOT.
 */
int mime_header_fields(const char *data, size_t len,
    const struct mime_part *part, const char *const *names, size_t n,
    bool not, struct buf *out);

/*
 * RFC 2047 decoding of a header value to UTF-8: B and Q encodings, white
 * space between adjacent encoded words dropped, invalid words kept as they
 * are, line ends unfolded.  Charsets: UTF-8 and US-ASCII as they are;
 * ISO-8859-1, Windows-1252 and ISO-8859-15 natively; others through
 * iconv(3) when it can open them, else the bytes are kept.  The output is
 * always valid UTF-8 (U+FFFD for what is not) without NUL.
 */
int mime_header_decode(const char *value, size_t len, struct buf *utf8);

/* Converts text in charset to UTF-8 the same way (SEARCH uses it). */
int mime_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct buf *out);

#define MIME_DECODE_UNKNOWN_CTE (-1)  /* answer NO [UNKNOWN-CTE] */
#define MIME_DECODE_FULL (-2)         /* out reached its limit */
/*
 * The body of part with its Content-Transfer-Encoding undone: base64
 * (lenient: white space and stray characters skipped), quoted-printable
 * (soft line breaks, hard line breaks as CRLF, invalid escapes kept),
 * 7bit, 8bit, binary and none as they are.  0, or MIME_DECODE_*.
 */
int mime_body_decode(const char *data, size_t len, const struct mime_part *part,
    struct buf *out);

/*
 * PREVIEW (RFC 8970): at most MIME_PREVIEW_CHARS characters of the first
 * text/plain part that is not an attachment (else of the first text/html
 * one, without its markup), decoded to UTF-8, every run of white space and
 * control characters one space, appended to out; nothing when the message
 * has no such part.  Only the first 64 KiB of the part are read.
 * (mime-preview.c)
 */
#define MIME_PREVIEW_CHARS 200
int mime_preview(const char *data, size_t len, const struct mime_part *root,
    struct buf *out);

/*
 * The text SEARCH reads (RFC 9051 §6.4.4), case-folded (mime-text.c): the
 * matcher and the full-text index both read it through these, so that
 * the index holds exactly what the matcher would find.  Output goes to
 * out up to its limit (-1 when it was reached: the text is cut short).
 */
/*
 * Case-fold UTF-8 for the substring matches: ASCII, Latin-1, Latin
 * Extended-A, Greek and Cyrillic capitals to small letters (a simple
 * mapping, not full Unicode folding), appended to out.  Bytes that are
 * not UTF-8 are copied.
 */
int mime_fold(const char *s, size_t len, struct buf *out);
/*
 * The fields of the header at h[0..len) (up to the blank line that ends
 * it, or len): fn(name, name_len, value, value_len, arg) for each, the
 * value from its first non-blank with its folding line ends; non-zero
 * from fn stops the walk and is returned.
 */
int mime_header_walk(const char *h, size_t len,
    int (*fn)(const char *, size_t, const char *, size_t, void *), void *arg);
/* The length of the message's header: up to and with the first empty
 * line, or the whole message when it has none. */
size_t mime_header_end(const char *data, size_t len);
/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlong
 * form, no surrogate, nothing past U+10FFFF), 0 if none; a NUL is none. */
size_t mime_utf8_seq(const unsigned char *s, size_t n);
/* TEXT's header part: "name: value\n" for every field of the message's
 * header, RFC 2047 decoded, folded. */
int mime_search_header(const char *data, size_t len, struct buf *out);
/* BODY's text: each text part below root (encapsulated messages entered,
 * their header fields too) decoded to UTF-8 and folded, each followed by
 * "\n"; parts of other types are not text. */
int mime_search_body(const char *data, size_t len, const struct mime_part *root,
    struct buf *out);

#endif
