/*
 * Unit tests for imapd/fetch-parse.c (FETCH attributes, sections,
 * partials, modifiers) and imapd/fetch-body.c (which bytes a section
 * names).  Arguments come from the real command parser, as in imapd.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "parser.h"

/* "a FETCH 1 <args>": the parsed command; the parser keeps it alive. */
static const struct imap_command *
parse_line(struct imap_parser **pp, const char *args)
{
	static char line[65536];
	size_t used = 0;
	int n = snprintf(line, sizeof(line), "a FETCH 1 %s\r\n", args);

	ck_assert(n > 0 && (size_t)n < sizeof(line));
	*pp = imap_parser_new(NULL);
	ck_assert_ptr_nonnull(*pp);
	ck_assert_int_eq(imap_parser_feed(*pp, line, (size_t)n, &used),
	    IMAP_PARSE_COMMAND);
	return imap_parser_command(*pp);
}

static int
parse(const char *args, bool uid, struct fetch_request *req, char *why)
{
	struct imap_parser *p;
	const struct imap_command *c = parse_line(&p, args);
	int rc;

	ck_assert(c->nargs >= 2);
	rc = fetch_parse(&c->args[1], c->nargs - 1, uid, req, why, FETCH_WHY_MAX);
	imap_parser_free(p);
	return rc;
}

static const char *const kind_names[] = {
	"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY",
	"BODYSTRUCTURE", "MODSEQ", "EMAILID", "THREADID", "SAVEDATE", "PREVIEW",
};
static const char *const text_names[] = {
	"all", "header", "fields", "fieldsnot", "text", "mime",
};

/* "FLAGS;BODY[1.MIME]/peek<0.10> p=1 t=mime" and " seen", " cs=N". */
static char *
describe(const struct fetch_request *req)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < req->n; i++) {
		const struct fetch_att *a = &req->atts[i];

		if (i > 0)
			buf_append_char(&b, ';');
		if (a->kind < FETCH_SECTION) {
			buf_append_str(&b, kind_names[a->kind]);
			if (a->lazy)
				buf_append_str(&b, "/lazy");
			continue;
		}
		buf_append_str(&b, a->label);
		if (a->peek)
			buf_append_str(&b, "/peek");
		if (a->partial)
			buf_printf(&b, "<%llu.%llu>", (unsigned long long)a->origin,
			    (unsigned long long)a->octets);
		if (a->part[0] != '\0')
			buf_printf(&b, " p=%s", a->part);
		if (a->text != FETCH_TEXT_ALL)
			buf_printf(&b, " t=%s", text_names[a->text]);
		for (size_t j = 0; j < a->nfields; j++)
			buf_printf(&b, "%s%s", j ? "," : " f=", a->fields[j]);
	}
	if (req->set_seen)
		buf_append_str(&b, " seen");
	if (req->changedsince_set)
		buf_printf(&b, " cs=%llu", (unsigned long long)req->changedsince);
	if (req->vanished)
		buf_append_str(&b, " vanished");
	return buf_steal(&b, NULL);
}

static const struct {
	const char *args;
	bool uid;
	const char *want;
} valid_cases[] = {
	{ "FLAGS", false, "FLAGS" },
	{ "flags", true, "UID;FLAGS" },
	{ "(FLAGS UID)", true, "FLAGS;UID" },
	{ "(UID FLAGS UID flags)", false, "UID;FLAGS" },
	{ "FAST", false, "FLAGS;INTERNALDATE;RFC822.SIZE" },
	{ "all", false, "FLAGS;INTERNALDATE;RFC822.SIZE;ENVELOPE" },
	{ "FULL", true, "UID;FLAGS;INTERNALDATE;RFC822.SIZE;ENVELOPE;BODY" },
	{ "(BODY BODYSTRUCTURE ENVELOPE INTERNALDATE RFC822.SIZE MODSEQ)", false,
	  "BODY;BODYSTRUCTURE;ENVELOPE;INTERNALDATE;RFC822.SIZE;MODSEQ" },
	{ "(emailid THREADID)", false, "EMAILID;THREADID" },
	{ "SAVEDATE", true, "UID;SAVEDATE" },
	{ "(savedate FLAGS SAVEDATE)", false, "SAVEDATE;FLAGS" },
	{ "BODY[]", false, "BODY[] seen" },
	{ "body.peek[]", false, "BODY[]/peek" },
	{ "BODY[]<0.100>", false, "BODY[]<0.100> seen" },
	{ "BODY.PEEK[]<9223372036854775807.1>", false,
	  "BODY[]/peek<9223372036854775807.1>" },
	{ "BODY.PEEK[header]", false, "BODY[HEADER]/peek t=header" },
	{ "BODY.PEEK[TEXT]", false, "BODY[TEXT]/peek t=text" },
	{ "BODY.PEEK[1]", false, "BODY[1]/peek p=1" },
	{ "BODY.PEEK[1.2.10]", false, "BODY[1.2.10]/peek p=1.2.10" },
	{ "BODY.PEEK[1.2.mime]<5.6>", false, "BODY[1.2.MIME]/peek<5.6> p=1.2 t=mime" },
	{ "BODY.PEEK[3.HEADER]", false, "BODY[3.HEADER]/peek p=3 t=header" },
	{ "BODY.PEEK[3.TEXT]", false, "BODY[3.TEXT]/peek p=3 t=text" },
	{ "BODY.PEEK[HEADER.FIELDS (From to)]", false,
	  "BODY[HEADER.FIELDS (FROM TO)]/peek t=fields f=FROM,TO" },
	{ "BODY.PEEK[HEADER.FIELDS (\"x-a\" \"q\\\"x\")]", false,
	  "BODY[HEADER.FIELDS (\"X-A\" \"Q\\\"X\")]/peek t=fields f=X-A,Q\"X" },
	{ "BODY[2.HEADER.FIELDS.NOT (Subject)]<0.1>", false,
	  "BODY[2.HEADER.FIELDS.NOT (SUBJECT)]<0.1> p=2 t=fieldsnot f=SUBJECT seen" },
	{ "RFC822", false, "RFC822 seen" },
	{ "RFC822.HEADER", false, "RFC822.HEADER/peek t=header" },
	{ "(RFC822.SIZE RFC822.TEXT)", false, "RFC822.SIZE;RFC822.TEXT t=text seen" },
	{ "BINARY[1]", false, "BINARY[1] p=1 seen" },
	{ "BINARY.PEEK[]<1.2>", false, "BINARY[]/peek<1.2>" },
	{ "BINARY.SIZE[2.1]", false, "BINARY.SIZE[2.1]/peek p=2.1" },
	{ "FLAGS (CHANGEDSINCE 5)", false, "FLAGS;MODSEQ cs=5" },
	{ "(MODSEQ FLAGS) (changedsince 0)", true, "UID;MODSEQ;FLAGS cs=0" },
	{ "FLAGS (vanished CHANGEDSINCE 7)", true, "UID;FLAGS;MODSEQ cs=7 vanished" },
	/* RFC 8970: PREVIEW's own modifier list, in a list or alone */
	{ "PREVIEW", false, "PREVIEW" },
	{ "preview (lazy)", true, "UID;PREVIEW/lazy" },
	{ "(FLAGS PREVIEW (LAZY) UID)", false, "FLAGS;PREVIEW/lazy;UID" },
	{ "(PREVIEW (LAZY) PREVIEW)", false, "PREVIEW" },
	{ "(PREVIEW (LAZY) PREVIEW (LAZY LAZY))", false, "PREVIEW/lazy" },
	{ "PREVIEW (LAZY) (CHANGEDSINCE 5)", false, "PREVIEW/lazy;MODSEQ cs=5" },
	{ "PREVIEW (CHANGEDSINCE 5)", false, "PREVIEW;MODSEQ cs=5" },
	{ "(PREVIEW) (CHANGEDSINCE 5)", false, "PREVIEW;MODSEQ cs=5" },
};

START_TEST(test_valid)
{
	struct fetch_request req;
	char why[FETCH_WHY_MAX] = "";
	char *got;

	ck_assert_msg(parse(valid_cases[_i].args, valid_cases[_i].uid, &req, why) == 0,
	    "%s: %s", valid_cases[_i].args, why);
	got = describe(&req);
	ck_assert_msg(strcmp(got, valid_cases[_i].want) == 0, "%s: got '%s' want '%s'",
	    valid_cases[_i].args, got, valid_cases[_i].want);
	free(got);
	fetch_request_free(&req);
}
END_TEST

static const struct {
	const char *args;
	const char *why;
} invalid_cases[] = {
	{ "FOO", "Unknown FETCH attribute FOO" },
	{ "()", "Empty FETCH attribute list" },
	{ "(FLAGS ALL)", "ALL is a macro" },
	{ "(FLAGS (UID))", "FETCH attributes are atoms" },
	{ "\"FLAGS\"", "FETCH attributes are atoms" },
	{ "BODYSTRUCTURE[]", "BODYSTRUCTURE takes no section" },
	{ "BODY.PEEK", "BODY.PEEK needs a section" },
	{ "BINARY", "BINARY needs a section" },
	{ "BODY[0]", "start at 1" },
	{ "BODY[1.0]", "start at 1" },
	{ "BODY[01]", "start at 1" },
	{ "BODY[1234567890]", "too large" },
	{ "BODY[1.]", "Missing section text" },
	{ "BODY[1.FOO]", "Unknown section" },
	{ "BODY[MIME]", "MIME needs a part number" },
	{ "BODY[TEXT.MIME]", "expected ']'" },
	{ "BODY[HEADERX]", "expected ']'" },
	{ "BODY[HEADER.FIELDS]", "needs a parenthesised list" },
	{ "BODY[HEADER.FIELDS ()]", "at least one field name" },
	{ "BODY[HEADER.FIELDS (A  B)]", "Invalid header field name" },
	{ "BODY[HEADER.FIELDS (A B]", "Invalid header field list" },
	{ "BODY[HEADER]x", "Unexpected text after the section" },
	{ "BODY[]<0.0>", "must not be 0" },
	{ "BODY[]<1>", "expected <origin.octets>" },
	{ "BODY[]<1.2>x", "expected <origin.octets>" },
	{ "BODY[]<9223372036854775808.1>", "expected <origin.octets>" },
	{ "BINARY[1.MIME]", "BINARY takes only a part number" },
	{ "BINARY[HEADER]", "BINARY takes only a part number" },
	{ "BINARY.SIZE[1]<0.1>", "BINARY.SIZE takes no partial" },
	{ "FLAGS ()", "modifiers are a parenthesised list" },
	{ "FLAGS FLAGS", "modifiers are a parenthesised list" },
	{ "FLAGS (CHANGEDSINCE)", "needs a mod-sequence value" },
	{ "FLAGS (CHANGEDSINCE -1)", "needs a mod-sequence value" },
	{ "FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", "given twice" },
	{ "FLAGS (VANISHED)", "VANISHED is for UID FETCH only" },
	{ "FLAGS (CHANGEDSINCE 1 VANISHED)", "VANISHED is for UID FETCH only" },
	{ "FLAGS (FOO 1)", "Unknown FETCH modifier" },
	{ "(PREVIEW ())", "PREVIEW modifiers are a non-empty list" },
	{ "(PREVIEW (FUZZY))", "Unknown PREVIEW modifier" },
	{ "(PREVIEW (LAZY x))", "Unknown PREVIEW modifier" },
	{ "(PREVIEW (\"LAZY\"))", "Unknown PREVIEW modifier" },
	{ "PREVIEW ()", "modifiers are a parenthesised list" },
	{ "PREVIEW (LAZY) (CHANGEDSINCE 5) (X)", "optional modifiers" },
	{ "FLAGS (CHANGEDSINCE 5) (X)", "optional modifiers" },
	{ "PREVIEW[]", "Unknown FETCH attribute PREVIEW" },
};

START_TEST(test_invalid)
{
	struct fetch_request req;
	char why[FETCH_WHY_MAX] = "";

	ck_assert_msg(parse(invalid_cases[_i].args, false, &req, why) == -1, "%s",
	    invalid_cases[_i].args);
	ck_assert_msg(strstr(why, invalid_cases[_i].why) != NULL,
	    "%s: why '%s' lacks '%s'", invalid_cases[_i].args, why,
	    invalid_cases[_i].why);
	fetch_request_free(&req);
}
END_TEST

/* The same in the UID form (RFC 7162 §3.2.6). */
static const struct {
	const char *args;
	const char *why;
} invalid_uid_cases[] = {
	{ "FLAGS (VANISHED)", "VANISHED needs CHANGEDSINCE" },
	{ "FLAGS (VANISHED CHANGEDSINCE 1 VANISHED)", "VANISHED given twice" },
	{ "FLAGS (VANISHED 1)", "Unknown FETCH modifier" },
};

START_TEST(test_invalid_uid)
{
	struct fetch_request req;
	char why[FETCH_WHY_MAX] = "";

	ck_assert_msg(parse(invalid_uid_cases[_i].args, true, &req, why) == -1,
	    "%s", invalid_uid_cases[_i].args);
	ck_assert_msg(strstr(why, invalid_uid_cases[_i].why) != NULL,
	    "%s: why '%s' lacks '%s'", invalid_uid_cases[_i].args, why,
	    invalid_uid_cases[_i].why);
	fetch_request_free(&req);
}
END_TEST

START_TEST(test_many)
{
	struct fetch_request req;
	struct buf args = BUF_INIT;
	char why[FETCH_WHY_MAX] = "";

	/* 1000 attributes, FETCH_MAX_FIELDS field names: fine */
	buf_append_char(&args, '(');
	for (int i = 0; i < 1000; i++)
		buf_printf(&args, "%sBODY.PEEK[%d]", i ? " " : "", i + 1);
	buf_append_char(&args, ')');
	ck_assert_int_eq(parse(args.data, true, &req, why), 0);
	ck_assert_uint_eq(req.n, 1001);
	ck_assert_int_eq(req.atts[0].kind, FETCH_UID);
	ck_assert_str_eq(req.atts[1000].label, "BODY[1000]");
	fetch_request_free(&req);
	buf_reset(&args);
	buf_append_str(&args, "BODY.PEEK[HEADER.FIELDS (");
	for (int i = 0; i < FETCH_MAX_FIELDS; i++)
		buf_printf(&args, "%sX%d", i ? " " : "", i);
	buf_append_str(&args, ")]");
	ck_assert_int_eq(parse(args.data, false, &req, why), 0);
	ck_assert_uint_eq(req.atts[0].nfields, FETCH_MAX_FIELDS);
	fetch_request_free(&req);
	/* one more is too many */
	args.len -= 2;
	buf_append_str(&args, " ONEMORE)]");
	ck_assert_int_eq(parse(args.data, false, &req, why), -1);
	ck_assert_msg(strstr(why, "Too many header field names") != NULL, "%s", why);
	fetch_request_free(&req);
	buf_free(&args);
}
END_TEST

/* ---- fetch-body.c ------------------------------------------------------ */

#define CRLF "\r\n"
static const char mixed[] =
    "From: a@example.com" CRLF
    "Subject: mixed" CRLF
    "MIME-Version: 1.0" CRLF
    "Content-Type: multipart/mixed; boundary=\"b\"" CRLF
    CRLF
    "--b" CRLF
    "Content-Type: text/plain" CRLF
    CRLF
    "hello" CRLF
    "--b" CRLF
    "Content-Type: message/rfc822" CRLF
    CRLF
    "Subject: inner" CRLF
    "To: x@example.com" CRLF
    CRLF
    "inner body" CRLF
    "--b" CRLF
    "Content-Type: application/octet-stream" CRLF
    "Content-Transfer-Encoding: base64" CRLF
    CRLF
    "AGFi" CRLF
    "--b" CRLF
    "Content-Type: text/plain" CRLF
    "Content-Transfer-Encoding: x-uuencode" CRLF
    CRLF
    "begin" CRLF
    "--b--" CRLF;

static const struct {
	const char *att;
	const char *want;           /* NULL: the whole message */
	size_t want_len;            /* 0: strlen(want) */
} body_cases[] = {
	{ "BODY[]", NULL, 0 },
	{ "BODY[HEADER]", "From: a@example.com" CRLF "Subject: mixed" CRLF
	  "MIME-Version: 1.0" CRLF "Content-Type: multipart/mixed; boundary=\"b\""
	  CRLF CRLF, 0 },
	{ "BODY[HEADER.FIELDS (subject FROM)]", "From: a@example.com" CRLF
	  "Subject: mixed" CRLF CRLF, 0 },
	{ "BODY[HEADER.FIELDS.NOT (subject FROM mime-version content-type)]", CRLF, 0 },
	{ "BODY[1]", "hello", 0 },
	{ "BODY[1.MIME]", "Content-Type: text/plain" CRLF CRLF, 0 },
	{ "BODY[1.HEADER]", "", 0 },
	{ "BODY[1.TEXT]", "", 0 },
	{ "BODY[2]", "Subject: inner" CRLF "To: x@example.com" CRLF CRLF "inner body", 0 },
	{ "BODY[2.HEADER]", "Subject: inner" CRLF "To: x@example.com" CRLF CRLF, 0 },
	{ "BODY[2.TEXT]", "inner body", 0 },
	{ "BODY[2.HEADER.FIELDS (TO)]", "To: x@example.com" CRLF CRLF, 0 },
	{ "BODY[2.1]", "inner body", 0 },
	{ "BODY[9]", "", 0 },
	{ "BODY[2.7.1]", "", 0 },
	{ "BINARY[3]", "\0ab", 3 },
	{ "BINARY.SIZE[3]", "\0ab", 3 },
	{ "BINARY[1]", "hello", 0 },
	{ "BINARY[9]", "", 0 },
};

START_TEST(test_body)
{
	struct fetch_request req;
	struct fetch_msg m;
	struct buf scratch = BUF_INIT;
	char why[FETCH_WHY_MAX] = "";
	const char *data, *want = body_cases[_i].want;
	size_t len, want_len = body_cases[_i].want_len;

	if (want == NULL) {
		want = mixed;
		want_len = sizeof(mixed) - 1;
	} else if (want_len == 0) {
		want_len = strlen(want);
	}
	ck_assert_int_eq(parse(body_cases[_i].att, false, &req, why), 0);
	fetch_msg_init(&m, mixed, sizeof(mixed) - 1);
	ck_assert(fetch_body_cte_known(&m, &req.atts[0]));
	ck_assert_int_eq(fetch_body(&m, &req.atts[0], &scratch, &data, &len),
	    FETCH_BODY_OK);
	ck_assert_msg(len == want_len && memcmp(data, want, len) == 0,
	    "%s: got %zu '%.*s'", body_cases[_i].att, len, (int)len, data);
	fetch_msg_done(&m);
	buf_free(&scratch);
	fetch_request_free(&req);
}
END_TEST

START_TEST(test_unknown_cte)
{
	struct fetch_request req;
	struct fetch_msg m;
	struct buf scratch = BUF_INIT;
	char why[FETCH_WHY_MAX] = "";
	const char *data;
	size_t len;

	ck_assert_int_eq(parse("(BINARY[4] BINARY.SIZE[4] BODY[4] BINARY[])", false,
	    &req, why), 0);
	fetch_msg_init(&m, mixed, sizeof(mixed) - 1);
	ck_assert(!fetch_body_cte_known(&m, &req.atts[0]));
	ck_assert(!fetch_body_cte_known(&m, &req.atts[1]));
	ck_assert(fetch_body_cte_known(&m, &req.atts[2]));
	ck_assert(fetch_body_cte_known(&m, &req.atts[3]));
	ck_assert_int_eq(fetch_body(&m, &req.atts[0], &scratch, &data, &len),
	    FETCH_BODY_UNKNOWN_CTE);
	ck_assert_int_eq(fetch_body(&m, &req.atts[2], &scratch, &data, &len),
	    FETCH_BODY_OK);
	ck_assert_int_eq(len, 5);
	fetch_msg_done(&m);
	buf_free(&scratch);
	fetch_request_free(&req);
}
END_TEST

/*
 * HEADER and TEXT of the message itself are found without mime_parse():
 * the split must be where mime_parse() puts it, whatever the message.
 */
static const char *const odd_messages[] = {
	"",
	"\r\n",
	"\n",
	"\r\nbody",
	"Subject: x",
	"Subject: x\r\n",
	"Subject: x\r\n\r\n",
	"Subject: x\n\nbody\n",
	"Subject: x\r\n \r\nstill header\r\n\r\nbody",
	"Subject: x\r\n\t\r\n\r\nbody",
	"Subject: x\r\r\n\r\nbody",
	"Subject: x\r\n\r\r\nbody\r\n",
	"no colon line\r\nSubject: x\r\n\r\nbody",
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
	"Content-Type: multipart/mixed; boundary=b\r\n--b\r\n\r\nx\r\n",
	"A: 1\r\nB: 2\n\r\nbody\r\n\r\nmore",
};

START_TEST(test_header_split)
{
	const char *msg = odd_messages[_i];
	size_t n = strlen(msg);
	struct fetch_request req;
	struct fetch_msg m;
	struct buf scratch = BUF_INIT;
	struct mime_part *root = mime_parse(msg, n);
	char why[FETCH_WHY_MAX] = "";
	const char *data;
	size_t len;

	ck_assert_int_eq(parse("(BODY[HEADER] BODY[TEXT])", false, &req, why), 0);
	fetch_msg_init(&m, msg, n);
	ck_assert_int_eq(fetch_body(&m, &req.atts[0], &scratch, &data, &len),
	    FETCH_BODY_OK);
	ck_assert_msg(data == msg && len == root->body_start,
	    "message %d: header %zu, mime_parse %zu", _i, len, root->body_start);
	ck_assert_int_eq(fetch_body(&m, &req.atts[1], &scratch, &data, &len),
	    FETCH_BODY_OK);
	ck_assert(data == msg + root->body_start && len == n - root->body_start);
	ck_assert_ptr_null(m.root);   /* no parse was needed */
	fetch_msg_done(&m);
	mime_free(root);
	buf_free(&scratch);
	fetch_request_free(&req);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("fetch");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_valid, 0, sizeof(valid_cases) / sizeof(valid_cases[0]));
	tcase_add_loop_test(tc, test_invalid, 0,
	    sizeof(invalid_cases) / sizeof(invalid_cases[0]));
	tcase_add_loop_test(tc, test_invalid_uid, 0,
	    sizeof(invalid_uid_cases) / sizeof(invalid_uid_cases[0]));
	tcase_add_test(tc, test_many);
	tcase_add_loop_test(tc, test_body, 0, sizeof(body_cases) / sizeof(body_cases[0]));
	tcase_add_test(tc, test_unknown_cte);
	tcase_add_loop_test(tc, test_header_split, 0,
	    sizeof(odd_messages) / sizeof(odd_messages[0]));
	suite_add_tcase(s, tc);
	return check_run(s);
}
