/*
 * Unit tests for lmtpd/session.c: the reply rules of LMTP, over a socket
 * pair, with a fake backend (who is who, the quota, the store) and the
 * real spool in a temporary directory.  The session runs in a child
 * process; the fake delivery writes what it was given to a file the test
 * reads back.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "session.h"

static char dir[64], spool[96], results[96];
static int spool_fd = -1, client = -1;
static pid_t child = -1;
static char inbuf[65536];
static size_t inlen;

/* ---- the fake backend ---------------------------------------------------- */

static bool
named(const char *address, const char *who)
{
	size_t n = strlen(who);
	return strncmp(address, who, n) == 0 && (address[n] == '\0' || address[n] == '@');
}

static enum session_status
fake_lookup(void *arg, const char *address, struct session_rcpt *r)
{
	(void)arg;
	if (named(address, "nobody"))
		return SESSION_NO_SUCH_USER;
	if (named(address, "disabled"))
		return SESSION_DISABLED;
	if (named(address, "down"))
		return SESSION_UNAVAILABLE;
	snprintf(r->user, sizeof(r->user), "%s", address);
	r->store_dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return r->store_dirfd >= 0 ? SESSION_OK : SESSION_TEMPFAIL;
}

static enum session_status
fake_quota(void *arg, const struct session_rcpt *r, uint64_t octets)
{
	(void)arg;
	ck_assert_int_ge(r->store_dirfd, 0);
	/* "full" has room for nothing, "small" for 1000 octets */
	if (named(r->user, "full") || (named(r->user, "small") && octets > 1000))
		return SESSION_OVERQUOTA;
	return SESSION_OK;
}

static enum session_status
fake_deliver(void *arg, const struct session_rcpt *r, const struct session_delivery *d)
{
	FILE *f = fopen(results, "a");
	char buf[4096];
	size_t n;
	int fd;

	(void)arg;
	ck_assert_ptr_nonnull(f);
	fprintf(f, "user=%s detail=%s mailbox=%s size=%llu\n", r->user, r->detail,
	    r->args.has_mailbox ? r->args.mailbox : "-", (unsigned long long)d->size);
	fwrite(d->prefix, 1, d->prefix_len, f);
	fd = openat(d->spool_dirfd, d->spool_name, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	while ((n = (size_t)read(fd, buf, sizeof(buf))) > 0 && n != (size_t)-1)
		fwrite(buf, 1, n, f);
	close(fd);
	fputs("<END>\n", f);
	fclose(f);
	if (named(r->user, "full"))
		return SESSION_OVERQUOTA;
	if (named(r->user, "broken"))
		return SESSION_TEMPFAIL;
	return SESSION_OK;
}

/* ---- the fixture ---------------------------------------------------------- */

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_lmtp_session.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(results, sizeof(results), "%s/results", dir);
	ck_assert_int_eq(mkdir(spool, 0700), 0);
	spool_fd = open(spool, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(spool_fd, 0);
	inlen = 0;
	child = -1;
	client = -1;
}

static unsigned
spool_files(void)
{
	DIR *d = opendir(spool);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
teardown(void)
{
	if (client >= 0)
		close(client);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	DIR *d = opendir(spool);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			(void)unlinkat(spool_fd, e->d_name, 0);
	if (d != NULL)
		closedir(d);
	close(spool_fd);
	rmdir(spool);
	unlink(results);
	ck_assert_int_eq(rmdir(dir), 0);
}

static void
start_with(uint64_t max_size, int timeout_ms, bool detail_mailbox)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		const struct session_backend be = {
			fake_lookup, fake_quota, fake_deliver, NULL, NULL,
		};
		const struct session_settings set = {
			.hostname = "lmtp.test", .peer = "local",
			.session_id = 0xfeedULL, .max_size = max_size,
			.delimiters = "+", .detail_mailbox = detail_mailbox,
			.spool_dirfd = spool_fd, .control_fd = -1,
			.timeout_ms = timeout_ms,
		};
		close(sv[0]);
		log_init("check_lmtp_session", LOG_TO_STDERR, LOG_LEVEL_ERROR);
		session_run(sv[1], &set, &be);
		close(sv[1]);
		exit(0);  /* not _exit: LeakSanitizer looks at exit */
	}
	close(sv[1]);
	client = sv[0];
}

static void
start(void)
{
	start_with(10000, 5000, true);
}

static void
say(const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = write(client, text + off, len - off);
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
}

/* One line from the server, without CRLF; "" at EOF. */
static const char *
line(void)
{
	static char out[1024];

	for (;;) {
		char *crlf = memmem(inbuf, inlen, "\r\n", 2);
		if (crlf != NULL) {
			size_t n = (size_t)(crlf - inbuf);
			ck_assert_uint_lt(n, sizeof(out));
			memcpy(out, inbuf, n);
			out[n] = '\0';
			memmove(inbuf, crlf + 2, inlen - n - 2);
			inlen -= n + 2;
			return out;
		}
		struct pollfd p = { .fd = client, .events = POLLIN };
		ck_assert_msg(poll(&p, 1, 5000) == 1, "no reply within 5 s");
		ssize_t n = read(client, inbuf + inlen, sizeof(inbuf) - inlen);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			return "";
		inlen += (size_t)n;
	}
}

/* The next reply must start with prefix (its last line, for a multi-line one). */
static void
expect(const char *prefix)
{
	const char *l;

	while ((l = line())[0] != '\0' && strlen(l) > 3 && l[3] == '-')
		;
	ck_assert_msg(strncmp(l, prefix, strlen(prefix)) == 0,
	    "got [%s], want [%s...]", l, prefix);
}

/* The server closed, and its process ended well (a sanitizer's report,
 * a leak at exit included, would make it fail). */
static void
expect_closed(void)
{
	int status;

	ck_assert_str_eq(line(), "");
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the session process ended with status %#x", status);
	child = -1;
}

static char *
read_results(void)
{
	static char buf[200000];
	FILE *f = fopen(results, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void
quit(void)
{
	say("QUIT\r\n");
	expect("221 2.0.0 lmtp.test");
	expect_closed();
}

/* ---- the tests ------------------------------------------------------------ */

START_TEST(test_greeting_and_lhlo)
{
	start();
	ck_assert_str_eq(line(), "220 lmtp.test Cairn LMTP ready");
	say("LHLO client.test\r\n");
	ck_assert_str_eq(line(), "250-lmtp.test");
	ck_assert_str_eq(line(), "250-PIPELINING");
	ck_assert_str_eq(line(), "250-ENHANCEDSTATUSCODES");
	ck_assert_str_eq(line(), "250-8BITMIME");
	ck_assert_str_eq(line(), "250-SIZE 10000");
	ck_assert_str_eq(line(), "250 XCAIRN-MAILBOX");
	say("NOOP\r\nHELP\r\nVRFY alice\r\nEXPN list\r\nRSET\r\nBDAT 10 LAST\r\n");
	expect("250 2.0.0");
	expect("214 2.0.0");
	expect("502 5.5.1");
	expect("502 5.5.1");
	expect("250 2.0.0");
	expect("502 5.5.1");
	quit();
}
END_TEST

/* RFC 2033 §4.1: HELO and EHLO are not LMTP's; order is checked. */
START_TEST(test_sequence)
{
	start();
	expect("220 ");
	say("EHLO client.test\r\nHELO client.test\r\nMAIL FROM:<a@b>\r\n"
	    "RCPT TO:<alice>\r\nDATA\r\nLHLO bad(name)\r\nLHLO client.test\r\n");
	expect("500 5.5.1");
	expect("500 5.5.1");
	expect("503 5.5.1");       /* MAIL before LHLO */
	expect("503 5.5.1");       /* RCPT before MAIL */
	expect("503 5.5.1");       /* DATA before MAIL */
	expect("501 5.5.4");       /* LHLO with a name unfit for a header */
	expect("250 XCAIRN-MAILBOX");
	say("RCPT TO:<alice>\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\n"
	    "RCPT TO:<nobody@example.org>\r\nDATA\r\nDATA x\r\nFOO\r\n");
	expect("503 5.5.1");       /* RCPT before MAIL */
	expect("250 2.1.0");
	expect("503 5.5.1");       /* a second MAIL */
	expect("503 5.5.1 No valid recipients");  /* RFC 2033 §4.2 */
	expect("550 5.1.1 <nobody@example.org>");
	expect("503 5.5.1 No valid recipients");
	expect("501 5.5.4");
	expect("500 5.5.1");
	/* RSET forgets the sender */
	say("RSET\r\nRCPT TO:<alice>\r\n");
	expect("250 2.0.0");
	expect("503 5.5.1");
	quit();
	ck_assert_str_eq(read_results(), "");
}
END_TEST

/*
 * PIPELINING (RFC 2920): everything in one write, the message too; one
 * reply per command, then one per accepted recipient in RCPT order.
 */
START_TEST(test_pipelined_delivery)
{
	start();
	say("LHLO client.test\r\n"
	    "MAIL FROM:<bob@example.org> BODY=8BITMIME\r\n"
	    "RCPT TO:<alice+lists@example.org>\r\n"
	    "RCPT TO:<nobody@example.org>\r\n"
	    "RCPT TO:<disabled@example.org>\r\n"
	    "RCPT TO:<down@example.org>\r\n"
	    "RCPT TO:<carol> XCAIRN-MAILBOX=Work+2FCairn\r\n"
	    "RCPT TO:<full@example.org>\r\n"
	    "RCPT TO:<broken@example.org>\r\n"
	    "DATA\r\n"
	    "Subject: hi\r\n\r\n..stuffed\r\n8bit \xc3\xa9\r\n.\r\n"
	    "QUIT\r\n");
	expect("220 ");
	expect("250 XCAIRN-MAILBOX");
	expect("250 2.1.0");
	expect("250 2.1.5 <alice+lists@example.org>");
	expect("550 5.1.1 <nobody@example.org>");
	expect("550 5.2.1 <disabled@example.org>");
	expect("451 4.4.3 <down@example.org>");
	expect("250 2.1.5 <carol>");
	expect("250 2.1.5 <full@example.org>");   /* no SIZE: known after DATA */
	expect("250 2.1.5 <broken@example.org>");
	expect("354 ");
	expect("250 2.0.0 <alice+lists@example.org>");
	expect("250 2.0.0 <carol>");
	expect("552 5.2.2 <full@example.org>");
	expect("451 4.3.0 <broken@example.org>");
	expect("221 2.0.0");
	expect_closed();

	const char *r = read_results();
	ck_assert_ptr_nonnull(strstr(r, "user=alice@example.org detail=lists mailbox=- "
	    "size=34\nReturn-Path: <bob@example.org>\r\n"
	    "Delivered-To: alice+lists@example.org\r\n"
	    "Received: from client.test (local)\r\n"
	    "\tby lmtp.test (Cairn) with LMTP id 000000000000feed;\r\n\t"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nSubject: hi\r\n\r\n.stuffed\r\n8bit \xc3\xa9\r\n<END>\n"
	    "user=carol detail= mailbox=Work/Cairn size=34\n"));
	ck_assert_uint_eq(spool_files(), 0);
}
END_TEST

/* RFC 1870: SIZE over the limit at MAIL; over a user's quota at RCPT. */
START_TEST(test_size_and_quota)
{
	start();
	expect("220 ");
	say("LHLO c\r\nMAIL FROM:<> SIZE=10001\r\nMAIL FROM:<> SIZE=900\r\n"
	    "RCPT TO:<full>\r\nRCPT TO:<small>\r\nRSET\r\nMAIL FROM:<> SIZE=10\r\n"
	    "RCPT TO:<small>\r\nRCPT TO:<alice>\r\n");
	expect("250 XCAIRN-MAILBOX");
	expect("552 5.3.4");
	expect("250 2.1.0");
	expect("552 5.2.2 <full>");
	/* 900 octets and the trace lines do not fit in 1000 */
	expect("552 5.2.2 <small>");
	expect("250 2.0.0");
	expect("250 2.1.0");
	expect("250 2.1.5 <small>");   /* 10 octets and the trace lines do */
	expect("250 2.1.5 <alice>");
	quit();
}
END_TEST

/* Over lmtp-max-message-size without SIZE: read to the end, refused for each. */
START_TEST(test_too_big)
{
	char *big = malloc(30000);

	ck_assert_ptr_nonnull(big);
	start();
	expect("220 ");
	say("LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\nRCPT TO:<bob>\r\nDATA\r\n");
	expect("250 XCAIRN-MAILBOX");
	expect("250 2.1.0");
	expect("250 2.1.5");
	expect("250 2.1.5");
	expect("354 ");
	for (int i = 0; i < 3; i++) {
		memset(big, 'x', 29998);
		memcpy(big + 29998, "\r\n", 2);
		ck_assert_int_eq(write(client, big, 30000), 30000);
	}
	say(".\r\nNOOP\r\n");
	expect("552 5.3.4 <alice>");
	expect("552 5.3.4 <bob>");
	expect("250 2.0.0");       /* still in step */
	ck_assert_uint_eq(spool_files(), 0);
	quit();
	ck_assert_str_eq(read_results(), "");
	free(big);
}
END_TEST

/* A client that leaves in the middle of DATA: nothing delivered, no file. */
START_TEST(test_disconnect_mid_data)
{
	start();
	expect("220 ");
	say("LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\nDATA\r\n");
	expect("250 XCAIRN-MAILBOX");
	expect("250 2.1.0");
	expect("250 2.1.5");
	expect("354 ");
	say("Subject: cut\r\n\r\nhalf a message\r\n");
	usleep(100000);
	ck_assert_uint_eq(spool_files(), 1);  /* being written */
	shutdown(client, SHUT_WR);
	expect_closed();
	ck_assert_uint_eq(spool_files(), 0);
	ck_assert_str_eq(read_results(), "");
}
END_TEST

/* RFC 5321 §4.5.3.1.4: 512 octets; longer lines are refused, in step. */
START_TEST(test_line_limits)
{
	char buf[8000];

	start();
	expect("220 ");
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "NOOP ", 5);
	memcpy(buf + 510, "\r\n", 3);  /* 510 + CRLF: the most */
	say(buf);
	expect("250 2.0.0");
	memcpy(buf + 510, "a\r\n", 4);  /* 511 + CRLF */
	say(buf);
	expect("500 5.5.2 Line too long");
	/* a line of 7000 octets, read in parts and thrown away */
	memset(buf, 'a', 7000);
	memcpy(buf + 7000, "\r\nNOOP\r\n", 9);
	say(buf);
	expect("500 5.5.2 Line too long");
	expect("250 2.0.0");
	/* RCPT may be longer: XCAIRN-MAILBOX's xtext */
	say("LHLO c\r\nMAIL FROM:<>\r\n");
	expect("250 XCAIRN-MAILBOX");
	expect("250 2.1.0");
	char *p = buf + snprintf(buf, sizeof(buf), "RCPT TO:<alice> XCAIRN-MAILBOX=");
	for (int i = 0; i < 1000; i++, p += 3)
		memcpy(p, "+41", 3);
	memcpy(p, "\r\n", 3);
	say(buf);
	expect("250 2.1.5 <alice>");
	/* control characters: a bare LF or NUL inside a command */
	say("NOOP a\nb\r\n");
	ck_assert_int_eq(write(client, "NO\0OP\r\n", 7), 7);
	expect("500 5.5.2");
	expect("500 5.5.2");
	quit();
}
END_TEST

START_TEST(test_too_many_errors)
{
	start();
	expect("220 ");
	for (int i = 0; i < SESSION_MAX_ERRORS - 1; i++)
		say("BOGUS\r\n");
	for (int i = 0; i < SESSION_MAX_ERRORS - 1; i++)
		expect("500 5.5.1");
	say("NOOP\r\n");  /* a good one clears the count */
	expect("250 ");
	for (int i = 0; i < SESSION_MAX_ERRORS; i++)
		say("GET / HTTP/1.0\r\n");
	for (int i = 0; i < SESSION_MAX_ERRORS; i++)
		expect("500 5.5.1");
	expect("421 4.7.0");
	expect_closed();
}
END_TEST

START_TEST(test_timeout)
{
	start_with(10000, 300, true);
	expect("220 ");
	say("LHLO c\r\n");
	expect("250 XCAIRN-MAILBOX");
	expect("421 4.4.2 lmtp.test Timeout");
	expect_closed();
}
END_TEST

START_TEST(test_detail_off)
{
	start_with(10000, 5000, false);
	expect("220 ");
	say("LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice+lists>\r\nDATA\r\n.\r\n");
	expect("250 XCAIRN-MAILBOX");
	expect("250 2.1.0");
	expect("250 2.1.5");
	expect("354 ");
	expect("250 2.0.0");
	quit();
	/* the detail is still cut off for the lookup, but not used */
	ck_assert_ptr_nonnull(strstr(read_results(), "user=alice detail= mailbox=- size=0\n"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lmtp_session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_greeting_and_lhlo);
	tcase_add_test(tc, test_sequence);
	tcase_add_test(tc, test_pipelined_delivery);
	tcase_add_test(tc, test_size_and_quota);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_disconnect_mid_data);
	tcase_add_test(tc, test_line_limits);
	tcase_add_test(tc, test_too_many_errors);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_detail_off);
	suite_add_tcase(s, tc);
	return check_run(s);
}
