/* Unit tests for master/control-proto.c: the control socket's requests. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <string.h>

#include "control-proto.h"

static int
parse(const char *line, struct control_request *req)
{
	const char *why = NULL;
	int rc = control_parse_request(line, strlen(line), req, &why);

	if (rc != 0)
		ck_assert_ptr_nonnull(why);
	return rc;
}

START_TEST(test_valid_requests)
{
	struct control_request r;

	ck_assert_int_eq(parse("who", &r), 0);
	ck_assert_int_eq(r.verb, CONTROL_WHO);
	ck_assert_int_eq(parse("reload", &r), 0);
	ck_assert_int_eq(r.verb, CONTROL_RELOAD);
	ck_assert_int_eq(parse("stats", &r), 0);
	ck_assert_int_eq(r.verb, CONTROL_STATS);
	ck_assert_int_eq(parse("kick alice", &r), 0);
	ck_assert_int_eq(r.verb, CONTROL_KICK);
	ck_assert_str_eq(r.user, "alice");
	ck_assert_int_eq(parse("kick bob@example.org", &r), 0);
	ck_assert_str_eq(r.user, "bob@example.org");
}
END_TEST

START_TEST(test_malformed_requests)
{
	static const char *const bad[] = {
		"", "WHO", "who ", " who", "who  x", "who x", "reload now",
		"kick", "kick ", "kick  alice", "kick alice bob", "kick ../etc",
		"kick Alice", "kick a/b", "kick alice\r", "who\t", "stat", "statsx",
		"kick \xc3\xa9", "shutdown",
	};
	struct control_request r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &r) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_bounds)
{
	char line[CONTROL_REQUEST_MAX + 8];
	struct control_request r;
	const char *why;

	/* an embedded NUL is not a request */
	ck_assert_int_eq(control_parse_request("who\0x", 5, &r, &why), -1);
	memset(line, 'a', sizeof(line));
	memcpy(line, "kick ", 5);
	ck_assert_int_eq(control_parse_request(line, CONTROL_REQUEST_MAX, &r, &why),
	    -1);
	/* a user name longer than any canonical one */
	ck_assert_int_eq(control_parse_request(line, 5 + IPC_USER_LEN, &r, &why), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("control-proto");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_valid_requests);
	tcase_add_test(tc, test_malformed_requests);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
