/*
 * libFuzzer harness: the LMTP parsers (lmtpd/lmtp.c).
 *
 * The input is what a client sends on the LMTP socket.  Each line (up to
 * LF, CR dropped, as lmtpd/session.c cuts them) goes through lmtp_verb
 * and the parser of its verb (LHLO, MAIL, RCPT, with the +detail split
 * and the XCAIRN-MAILBOX xtext), bounded by LMTP_RCPT_LINE_MAX as the
 * session bounds it.  The whole input also goes through the DATA decoder
 * in pieces and into outputs of 3..18 bytes (the sizes from the first
 * byte), checking the decoder's promises: it makes progress, stays inside
 * its output, and stops right after CRLF "." CRLF.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp.h"

static void
fuzz_lmtp_line(const char *line, size_t len)
{
	const char *args = NULL;
	size_t args_len = 0;
	char name[LMTP_DOMAIN_MAX + 1];
	char user[LMTP_PATH_MAX], detail[LMTP_PATH_MAX];
	struct lmtp_mail mail;
	struct lmtp_rcpt_args rcpt;

	switch (lmtp_verb(line, len, &args, &args_len)) {
	case LMTP_LHLO:
	case LMTP_HELO:
	case LMTP_EHLO:
		if (lmtp_parse_lhlo(args, args_len, name) == NULL &&
		    strlen(name) > LMTP_DOMAIN_MAX)
			abort();
		break;
	case LMTP_MAIL:
		(void)lmtp_parse_mail(args, args_len, &mail);
		break;
	case LMTP_RCPT:
		if (lmtp_parse_rcpt(args, args_len, &rcpt) == NULL) {
			if (strlen(rcpt.to.local) >= LMTP_PATH_MAX)
				abort();
			lmtp_split_detail(rcpt.to.local, "+-", user, detail);
			lmtp_split_detail(rcpt.to.local, "", user, detail);
		}
		break;
	default:
		break;
	}
	/* xtext of the whole line, as an XCAIRN-MAILBOX value would be */
	char mailbox[LMTP_MAILBOX_MAX + 1];
	if (lmtp_xtext_decode(line, len, mailbox, sizeof(mailbox)) &&
	    strlen(mailbox) >= sizeof(mailbox))
		abort();
}

static void
fuzz_lmtp_data(const char *in, size_t len, size_t piece, size_t outsize)
{
	struct lmtp_data d;
	char out[32];
	size_t off = 0;

	lmtp_data_init(&d);
	while (off < len && !lmtp_data_done(&d)) {
		size_t n = len - off < piece ? len - off : piece;
		size_t outlen = SIZE_MAX;
		size_t used = lmtp_data_decode(&d, in + off, n, out, outsize, &outlen);

		if (used > n || outlen > outsize)
			abort();
		if (used == 0 && outlen == 0 && !lmtp_data_done(&d))
			abort();      /* no progress */
		off += used;
	}
	/* The end is CRLF "." CRLF, the last five bytes read (or, at the
	 * very start, ".\r\n"). */
	if (lmtp_data_done(&d) && !(off >= 5 ? memcmp(in + off - 5, "\r\n.\r\n", 5) == 0
	    : off == 3 && memcmp(in, ".\r\n", 3) == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t start = 0;

	while (start < size) {
		const char *lf = memchr(in + start, '\n', size - start);
		size_t end = lf != NULL ? (size_t)(lf - in) : size;
		size_t len = end - start;

		if (len > 0 && in[start + len - 1] == '\r')
			len--;
		if (len + 2 <= LMTP_RCPT_LINE_MAX)
			fuzz_lmtp_line(in + start, len);
		start = end + 1;
	}
	if (size > 0) {
		size_t piece = (size_t)(data[0] >> 4) + 1;
		size_t outsize = (size_t)(data[0] & 15) + 3;
		fuzz_lmtp_data(in, size, piece, outsize);
	}
	return 0;
}
