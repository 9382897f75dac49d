/* Shared between the store/mime*.c files; not part of the API. */
#ifndef CAIRN_MIME_INT_H
#define CAIRN_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mime.h"

/* --- mime-field.c: header fields, the lexer, small helpers ------------- */

/* One field of a header, located in the message. */
struct mime_field {
	size_t start;      /* its first byte */
	size_t name_end;   /* end of the name, blanks before the colon excluded */
	size_t value;      /* after the colon (== end when there is no name) */
	size_t end;        /* end of its last line, the line end excluded */
	size_t next;       /* start of the line after it */
	bool named;        /* a valid name and a colon: a field, not a stray line */
};

/* Walks the fields of a part's header, up to the blank line. */
struct mime_field_iter {
	const char *d;
	size_t pos;
	size_t end;
};

void mime_field_iter_init(struct mime_field_iter *it, const char *d,
    size_t dlen, const struct mime_part *part);
bool mime_field_next(struct mime_field_iter *it, struct mime_field *f);
bool mime_field_is(const char *d, const struct mime_field *f, const char *name);

/* Reads a raw field value; folding (CR, LF) counts as white space. */
struct mime_lex {
	const char *p;
	const char *end;
};

bool mime_is_space(char c);
/* Skips blanks and comments; the text of the last comment goes to comment
 * (nested parentheses kept, quoted pairs undone) when not NULL. */
void mime_lex_cfws(struct mime_lex *lx, struct buf *comment);
/* At a '"': the content of the quoted string, unescaped and unfolded;
 * out may be NULL to skip it. */
void mime_lex_quoted(struct mime_lex *lx, struct buf *out);
/* An RFC 2045 §5.1 token (at most MIME_MAX_STRING bytes of it). */
bool mime_lex_token(struct mime_lex *lx, const char **s, size_t *n);
/* Appends what fits below limit (an out->len); the rest is dropped, which
 * keeps values bounded. */
int mime_append_capped(struct buf *out, const char *s, size_t n, size_t limit);

/* The value without leading blanks and line ends, at most MIME_MAX_STRING
 * bytes of it. */
int mime_unfold(const char *p, const char *end, struct buf *out);
char *mime_unfold_dup(const char *p, const char *end);

/* --- mime-content.c: the Content-* values ----------------------------- */

/* Field values into the part.  Content-Type: false if it is invalid. */
bool mime_parse_content_type(struct mime_part *part, const char *p,
    const char *end);
void mime_parse_disposition(struct mime_part *part, const char *p,
    const char *end);
void mime_parse_language(struct mime_part *part, const char *p,
    const char *end);
char *mime_parse_token_value(const char *p, const char *end);
void mime_params_free(struct mime_param *params, size_t n);

/* --- mime-decode.c ---------------------------------------------------- */

/* Appends s as UTF-8: invalid sequences and NUL become U+FFFD. */
void mime_utf8_append(struct buf *out, const char *s, size_t n);
/* Undoes %XX (RFC 2231 §4), stray '%' kept. */
void mime_percent_decode(const char *s, size_t n, struct buf *out);

/* Small helpers (mime-field.c); comparisons are ASCII case-insensitive,
 * whatever the locale. */
char *mime_strndup(const char *s, size_t n);
bool mime_eq(const char *a, const char *b);
bool mime_eqn(const char *a, size_t n, const char *b);   /* a is n bytes */

#endif
