/* Unit tests for common/ipc.c: framing, descriptors, and every rejection. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

static int sv[2];

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void
teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

/* Write a raw datagram, bypassing ipc_send's own checks. */
static void
send_raw(uint32_t type, uint32_t len_field, const void *payload, size_t len, int fd)
{
	unsigned char buf[IPC_MAX_PAYLOAD + 64];
	struct ipc_header h = { type, len_field };
	struct iovec iov = { buf, sizeof(h) + len };
	union {
		struct cmsghdr hdr;
		unsigned char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(sv[0], &mh, 0), (ssize_t)(sizeof(h) + len));
}

START_TEST(test_hello_round_trip)
{
	struct ipc_hello h = { IPC_VERSION, IPC_ROLE_IMAPD };
	struct ipc_msg m;
	const char *why = NULL;

	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, IPC_HELLO,
	    &h, sizeof(h), -1), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_OK);
	ck_assert_uint_eq(m.type, IPC_HELLO);
	ck_assert_uint_eq(m.p.hello.role, IPC_ROLE_IMAPD);
	ck_assert_int_eq(m.fd, -1);
}
END_TEST

START_TEST(test_session_start_passes_fd)
{
	struct ipc_session_start s;
	struct ipc_msg m;
	const char *why = NULL;
	int p[2];
	char c = 0;

	ck_assert_int_eq(pipe(p), 0);
	memset(&s, 0, sizeof(s));
	s.session_id = 42;
	s.listener = IPC_LISTENER_TLS;
	s.peer_port = 4321;
	ck_assert_int_eq(ipc_strlcpy(s.peer_addr, "::1", sizeof(s.peer_addr)), 0);
	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_MASTER, IPC_ROLE_IMAPD,
	    IPC_SESSION_START, &s, sizeof(s), p[1]), 0);
	close(p[1]);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, &m, &why),
	    IPC_RECV_OK);
	ck_assert_uint_eq(m.p.session_start.session_id, 42);
	ck_assert_str_eq(m.p.session_start.peer_addr, "::1");
	ck_assert_int_ge(m.fd, 0);
	/* The descriptor really is the pipe's write end. */
	ck_assert_int_eq(write(m.fd, "x", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	close(m.fd);
	close(p[0]);
}
END_TEST

START_TEST(test_send_refuses_bad_messages)
{
	struct ipc_hello h = { IPC_VERSION, IPC_ROLE_IMAPD };
	/* wrong direction, wrong size, unknown type, fd where none allowed */
	ck_assert_int_ne(ipc_send(sv[0], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, IPC_HELLO,
	    &h, sizeof(h), -1), 0);
	ck_assert_int_ne(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, IPC_HELLO,
	    &h, sizeof(h) - 1, -1), 0);
	ck_assert_int_ne(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, 999,
	    &h, sizeof(h), -1), 0);
	ck_assert_int_ne(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, IPC_HELLO,
	    &h, sizeof(h), 0), 0);
	ck_assert_int_ne(ipc_send(sv[0], IPC_ROLE_MASTER, IPC_ROLE_IMAPD,
	    IPC_SESSION_START, &h, sizeof(struct ipc_session_start), -1), 0);
}
END_TEST

/* Each malformed datagram, as a child might send it, is refused. */
enum { BAD_UNKNOWN, BAD_SIZE, BAD_LENFIELD, BAD_SHORT, BAD_DIRECTION, BAD_VERSION,
	BAD_ROLE, BAD_FD, BAD_NO_FD, BAD_UNTERMINATED, BAD_LISTENER, BAD_TOO_BIG,
	BAD_COUNT };

START_TEST(test_recv_rejects)
{
	struct ipc_hello h = { IPC_VERSION, IPC_ROLE_IMAPD };
	struct ipc_session_start s;
	static unsigned char big[IPC_MAX_PAYLOAD + 16];
	enum ipc_role self = IPC_ROLE_MASTER, from = IPC_ROLE_IMAPD;
	struct ipc_msg m;
	const char *why = NULL;
	int p[2] = { -1, -1 };

	memset(&s, 0, sizeof(s));
	strcpy(s.peer_addr, "127.0.0.1");
	switch (_i) {
	case BAD_UNKNOWN: send_raw(12345, sizeof(h), &h, sizeof(h), -1); break;
	case BAD_SIZE: send_raw(IPC_HELLO, 4, &h, 4, -1); break;
	case BAD_LENFIELD: send_raw(IPC_HELLO, 100, &h, sizeof(h), -1); break;
	case BAD_SHORT: ck_assert_int_eq(send(sv[0], "abc", 3, 0), 3); break;
	case BAD_DIRECTION: send_raw(IPC_SHUTDOWN, 0, NULL, 0, -1); break;
	case BAD_VERSION: h.version = IPC_VERSION + 1;
		send_raw(IPC_HELLO, sizeof(h), &h, sizeof(h), -1); break;
	case BAD_ROLE: h.role = IPC_ROLE_MASTER;
		send_raw(IPC_HELLO, sizeof(h), &h, sizeof(h), -1); break;
	case BAD_FD: ck_assert_int_eq(pipe(p), 0);
		send_raw(IPC_HELLO, sizeof(h), &h, sizeof(h), p[0]); break;
	case BAD_NO_FD: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		send_raw(IPC_SESSION_START, sizeof(s), &s, sizeof(s), -1); break;
	case BAD_UNTERMINATED: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		memset(s.peer_addr, 'A', sizeof(s.peer_addr));
		ck_assert_int_eq(pipe(p), 0);
		send_raw(IPC_SESSION_START, sizeof(s), &s, sizeof(s), p[0]); break;
	case BAD_LISTENER: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		s.listener = 7;
		ck_assert_int_eq(pipe(p), 0);
		send_raw(IPC_SESSION_START, sizeof(s), &s, sizeof(s), p[0]); break;
	case BAD_TOO_BIG: send_raw(IPC_HELLO, sizeof(big), big, sizeof(big), -1); break;
	}
	ck_assert_int_eq(ipc_recv(sv[1], self, from, &m, &why), IPC_RECV_INVALID);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(m.fd, -1);  /* any descriptor that came was closed */
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
}
END_TEST

/* The login messages: field by field, as a receiver must check them. */
START_TEST(test_auth_request_round_trip)
{
	struct ipc_auth_request r;
	struct ipc_msg m;
	const char *why = NULL;

	memset(&r, 0, sizeof(r));
	r.mechanism = IPC_MECH_PLAIN;
	strcpy(r.user, "alice");
	strcpy(r.password, "secret");
	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    IPC_AUTH_REQUEST, &r, sizeof(r), -1), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_OK);
	ck_assert_str_eq(m.p.auth_request.user, "alice");
	ck_assert_str_eq(m.p.auth_request.password, "secret");
	/* a child cannot send what only the master may (a stamped request) */
	struct ipc_authd_request forged;
	memset(&forged, 0, sizeof(forged));
	forged.mechanism = IPC_MECH_PLAIN;
	send_raw(IPC_AUTHD_REQUEST, sizeof(forged), &forged, sizeof(forged), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_INVALID);
}
END_TEST

enum { ABAD_MECH, ABAD_USER_UNTERMINATED, ABAD_PASSWORD_UNTERMINATED,
	ABAD_RESULT_CODE, ABAD_STORE_ESCAPES, ABAD_STORE_SLASH, ABAD_OK_NO_FD,
	ABAD_FAILED_OK, ABAD_FAILED_CODE, ABAD_COUNT };

START_TEST(test_auth_rejects)
{
	struct ipc_auth_request req;
	struct ipc_authd_result res;
	struct ipc_auth_ok ok;
	struct ipc_auth_failed failed;
	enum ipc_role self = IPC_ROLE_MASTER, from = IPC_ROLE_IMAPD;
	struct ipc_msg m;
	const char *why = NULL;

	memset(&req, 0, sizeof(req));
	req.mechanism = IPC_MECH_LOGIN;
	strcpy(req.user, "alice");
	memset(&res, 0, sizeof(res));
	res.result = IPC_AUTH_RESULT_OK;
	strcpy(res.user, "alice");
	strcpy(res.store_dir, "alice");
	memset(&ok, 0, sizeof(ok));
	strcpy(ok.user, "alice");
	switch (_i) {
	case ABAD_MECH: req.mechanism = 9;
		send_raw(IPC_AUTH_REQUEST, sizeof(req), &req, sizeof(req), -1); break;
	case ABAD_USER_UNTERMINATED: memset(req.user, 'a', sizeof(req.user));
		send_raw(IPC_AUTH_REQUEST, sizeof(req), &req, sizeof(req), -1); break;
	case ABAD_PASSWORD_UNTERMINATED: memset(req.password, 'p', sizeof(req.password));
		send_raw(IPC_AUTH_REQUEST, sizeof(req), &req, sizeof(req), -1); break;
	case ABAD_RESULT_CODE: from = IPC_ROLE_AUTHD; res.result = IPC_AUTH_RESULT_LIMIT;
		send_raw(IPC_AUTHD_RESULT, sizeof(res), &res, sizeof(res), -1); break;
	case ABAD_STORE_ESCAPES: from = IPC_ROLE_AUTHD; strcpy(res.store_dir, "..");
		send_raw(IPC_AUTHD_RESULT, sizeof(res), &res, sizeof(res), -1); break;
	case ABAD_STORE_SLASH: from = IPC_ROLE_AUTHD; strcpy(res.store_dir, "a/../../etc");
		send_raw(IPC_AUTHD_RESULT, sizeof(res), &res, sizeof(res), -1); break;
	case ABAD_OK_NO_FD: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		send_raw(IPC_AUTH_OK, sizeof(ok), &ok, sizeof(ok), -1); break;
	case ABAD_FAILED_OK: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		failed.result = IPC_AUTH_RESULT_OK;
		send_raw(IPC_AUTH_FAILED, sizeof(failed), &failed, sizeof(failed), -1); break;
	case ABAD_FAILED_CODE: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		failed.result = 77;
		send_raw(IPC_AUTH_FAILED, sizeof(failed), &failed, sizeof(failed), -1); break;
	}
	ck_assert_int_eq(ipc_recv(sv[1], self, from, &m, &why), IPC_RECV_INVALID);
	ck_assert_ptr_nonnull(why);
}
END_TEST

/* Recipient lookups: lmtpd asks, never imapd; the answer carries the store. */
START_TEST(test_lookup_round_trip)
{
	struct ipc_hello h = { IPC_VERSION, IPC_ROLE_LMTPD };
	struct ipc_lookup_request r;
	struct ipc_lookup_ok ok;
	struct ipc_msg m;
	const char *why = NULL;
	int p[2];

	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_LMTPD, IPC_ROLE_MASTER, IPC_HELLO,
	    &h, sizeof(h), -1), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_LMTPD, &m, &why),
	    IPC_RECV_OK);
	ck_assert_uint_eq(m.p.hello.role, IPC_ROLE_LMTPD);

	memset(&r, 0, sizeof(r));
	strcpy(r.address, "Alice@example.org");
	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_LMTPD, IPC_ROLE_MASTER,
	    IPC_LOOKUP_REQUEST, &r, sizeof(r), -1), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_LMTPD, &m, &why),
	    IPC_RECV_OK);
	ck_assert_uint_eq(m.type, IPC_LOOKUP_REQUEST);
	ck_assert_str_eq(m.p.lookup_request.address, "Alice@example.org");
	/* an imapd may not ask: a lookup is no login, and not its business */
	ck_assert_int_ne(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    IPC_LOOKUP_REQUEST, &r, sizeof(r), -1), 0);
	send_raw(IPC_LOOKUP_REQUEST, sizeof(r), &r, sizeof(r), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_INVALID);
	/* nor may an lmtpd send a login */
	struct ipc_auth_request login;
	memset(&login, 0, sizeof(login));
	login.mechanism = IPC_MECH_LOGIN;
	send_raw(IPC_AUTH_REQUEST, sizeof(login), &login, sizeof(login), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_LMTPD, &m, &why),
	    IPC_RECV_INVALID);

	memset(&ok, 0, sizeof(ok));
	strcpy(ok.user, "alice");
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_MASTER, IPC_ROLE_LMTPD,
	    IPC_LOOKUP_OK, &ok, sizeof(ok), p[0]), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_LMTPD, IPC_ROLE_MASTER, &m, &why),
	    IPC_RECV_OK);
	ck_assert_str_eq(m.p.lookup_ok.user, "alice");
	ck_assert_int_ge(m.fd, 0);
	close(m.fd);
	close(p[0]);
	close(p[1]);
}
END_TEST

enum { LBAD_UNTERMINATED, LBAD_STAMPED_UNTERMINATED, LBAD_RESULT_CODE,
	LBAD_STORE_ESCAPES, LBAD_OK_NO_FD, LBAD_OK_BAD_USER, LBAD_FAILED_OK,
	LBAD_FAILED_CODE, LBAD_TO_IMAPD, LBAD_COUNT };

START_TEST(test_lookup_rejects)
{
	struct ipc_lookup_request req;
	struct ipc_authd_lookup stamped;
	struct ipc_authd_lookup_result res;
	struct ipc_lookup_ok ok;
	struct ipc_lookup_failed failed;
	enum ipc_role self = IPC_ROLE_MASTER, from = IPC_ROLE_LMTPD;
	struct ipc_msg m;
	const char *why = NULL;
	int p[2] = { -1, -1 };

	memset(&req, 0, sizeof(req));
	memset(&stamped, 0, sizeof(stamped));
	memset(&res, 0, sizeof(res));
	res.result = IPC_LOOKUP_RESULT_OK;
	strcpy(res.user, "alice");
	strcpy(res.store_dir, "alice");
	memset(&ok, 0, sizeof(ok));
	strcpy(ok.user, "alice");
	switch (_i) {
	case LBAD_UNTERMINATED: memset(req.address, 'a', sizeof(req.address));
		send_raw(IPC_LOOKUP_REQUEST, sizeof(req), &req, sizeof(req), -1); break;
	case LBAD_STAMPED_UNTERMINATED: self = IPC_ROLE_AUTHD; from = IPC_ROLE_MASTER;
		memset(stamped.address, 'a', sizeof(stamped.address));
		send_raw(IPC_AUTHD_LOOKUP, sizeof(stamped), &stamped, sizeof(stamped), -1);
		break;
	case LBAD_RESULT_CODE: from = IPC_ROLE_AUTHD; res.result = 4;
		send_raw(IPC_AUTHD_LOOKUP_RESULT, sizeof(res), &res, sizeof(res), -1); break;
	case LBAD_STORE_ESCAPES: from = IPC_ROLE_AUTHD; strcpy(res.store_dir, "../x");
		send_raw(IPC_AUTHD_LOOKUP_RESULT, sizeof(res), &res, sizeof(res), -1); break;
	case LBAD_OK_NO_FD: self = IPC_ROLE_LMTPD; from = IPC_ROLE_MASTER;
		send_raw(IPC_LOOKUP_OK, sizeof(ok), &ok, sizeof(ok), -1); break;
	case LBAD_OK_BAD_USER: self = IPC_ROLE_LMTPD; from = IPC_ROLE_MASTER;
		strcpy(ok.user, "Alice/..");
		ck_assert_int_eq(pipe(p), 0);
		send_raw(IPC_LOOKUP_OK, sizeof(ok), &ok, sizeof(ok), p[0]); break;
	case LBAD_FAILED_OK: self = IPC_ROLE_LMTPD; from = IPC_ROLE_MASTER;
		failed.result = IPC_LOOKUP_RESULT_OK;
		send_raw(IPC_LOOKUP_FAILED, sizeof(failed), &failed, sizeof(failed), -1); break;
	case LBAD_FAILED_CODE: self = IPC_ROLE_LMTPD; from = IPC_ROLE_MASTER;
		failed.result = 99;
		send_raw(IPC_LOOKUP_FAILED, sizeof(failed), &failed, sizeof(failed), -1); break;
	case LBAD_TO_IMAPD: self = IPC_ROLE_IMAPD; from = IPC_ROLE_MASTER;
		ck_assert_int_eq(pipe(p), 0);
		send_raw(IPC_LOOKUP_OK, sizeof(ok), &ok, sizeof(ok), p[0]); break;
	}
	ck_assert_int_eq(ipc_recv(sv[1], self, from, &m, &why), IPC_RECV_INVALID);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(m.fd, -1);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
}
END_TEST

START_TEST(test_eof)
{
	struct ipc_msg m;
	close(sv[0]);
	sv[0] = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, NULL),
	    IPC_RECV_EOF);
}
END_TEST

START_TEST(test_strlcpy_bounds)
{
	char buf[4];
	ck_assert_int_eq(ipc_strlcpy(buf, "abc", sizeof(buf)), 0);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(ipc_strlcpy(buf, "abcd", sizeof(buf)), -1);
	ck_assert_str_eq(buf, "abc");
}
END_TEST

/* The reports and IPC_KICK (cairnctl who, stats, kick). */
START_TEST(test_reports_and_kick)
{
	struct ipc_session_state st;
	struct ipc_session_stats stats;
	struct ipc_delivery_report dr;
	struct ipc_kick k;
	struct ipc_msg m;
	const char *why = NULL;

	memset(&st, 0, sizeof(st));
	st.state = IPC_STATE_SELECTED;
	strcpy(st.mailbox, "INBOX");
	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    IPC_SESSION_STATE, &st, sizeof(st), -1), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_OK);
	ck_assert_str_eq(m.p.session_state.mailbox, "INBOX");
	/* a state out of range, an unterminated name, from lmtpd: refused */
	st.state = IPC_STATE_LOGOUT + 1;
	send_raw(IPC_SESSION_STATE, sizeof(st), &st, sizeof(st), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_INVALID);
	st.state = IPC_STATE_IDLE;
	memset(st.mailbox, 'x', sizeof(st.mailbox));
	send_raw(IPC_SESSION_STATE, sizeof(st), &st, sizeof(st), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_INVALID);
	memset(&stats, 0, sizeof(stats));
	stats.commands[IPC_CMD_OTHER] = 1;
	send_raw(IPC_SESSION_STATS, sizeof(stats), &stats, sizeof(stats), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_LMTPD, &m, &why),
	    IPC_RECV_INVALID);
	send_raw(IPC_SESSION_STATS, sizeof(stats), &stats, sizeof(stats), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, &m, &why),
	    IPC_RECV_OK);
	ck_assert_uint_eq(m.p.session_stats.commands[IPC_CMD_OTHER], 1);

	memset(&dr, 0, sizeof(dr));
	dr.result = IPC_DELIVERY_FAILED + 1;
	send_raw(IPC_DELIVERY_REPORT, sizeof(dr), &dr, sizeof(dr), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_MASTER, IPC_ROLE_LMTPD, &m, &why),
	    IPC_RECV_INVALID);

	memset(&k, 0, sizeof(k));
	strcpy(k.reason, "Bye now");
	ck_assert_int_eq(ipc_send(sv[0], IPC_ROLE_MASTER, IPC_ROLE_IMAPD, IPC_KICK,
	    &k, sizeof(k), -1), 0);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, &m, &why),
	    IPC_RECV_OK);
	ck_assert_str_eq(m.p.kick.reason, "Bye now");
	/* the reason goes to the client verbatim: no CR LF smuggled in */
	strcpy(k.reason, "x\r\n* OK");
	send_raw(IPC_KICK, sizeof(k), &k, sizeof(k), -1);
	ck_assert_int_eq(ipc_recv(sv[1], IPC_ROLE_IMAPD, IPC_ROLE_MASTER, &m, &why),
	    IPC_RECV_INVALID);
	ck_assert_uint_eq(ipc_command_index("IDLE"), 16);
	ck_assert_str_eq(ipc_command_names[ipc_command_index("UNSUBSCRIBE")],
	    "UNSUBSCRIBE");
	ck_assert_uint_eq(ipc_command_index("XYZZY"), IPC_CMD_OTHER);
	for (unsigned i = 0; i < IPC_CMD_COUNT; i++)
		ck_assert_ptr_nonnull(ipc_command_names[i]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("ipc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hello_round_trip);
	tcase_add_test(tc, test_session_start_passes_fd);
	tcase_add_test(tc, test_send_refuses_bad_messages);
	tcase_add_loop_test(tc, test_recv_rejects, 0, BAD_COUNT);
	tcase_add_test(tc, test_auth_request_round_trip);
	tcase_add_loop_test(tc, test_auth_rejects, 0, ABAD_COUNT);
	tcase_add_test(tc, test_lookup_round_trip);
	tcase_add_loop_test(tc, test_lookup_rejects, 0, LBAD_COUNT);
	tcase_add_test(tc, test_reports_and_kick);
	tcase_add_test(tc, test_eof);
	tcase_add_test(tc, test_strlcpy_bounds);
	suite_add_tcase(s, tc);
	return check_run(s);
}
