/* Unit tests for common/config.c: every option, units, bad values, lines. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char errors[4096];
static unsigned n_errors;

static void
collect(void *arg, const char *message)
{
	(void)arg;
	n_errors++;
	strncat(errors, message, sizeof(errors) - strlen(errors) - 2);
	strcat(errors, "\n");
}

static struct cairn_config *
parse(const char *text)
{
	errors[0] = '\0';
	n_errors = 0;
	return config_parse(text, "test.conf", false, collect, NULL);
}

START_TEST(test_defaults)
{
	struct cairn_config *c = parse("");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_bind_addrs, 2);
	ck_assert_str_eq(c->bind_addrs[0], "0.0.0.0");
	ck_assert_str_eq(c->bind_addrs[1], "::");
	ck_assert_uint_eq(c->bind_port, 143);
	ck_assert_uint_eq(c->bind_port_tls, 993);
	ck_assert_ptr_null(c->cert_path);
	ck_assert_ptr_null(c->key_path);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(c->max_request_size, 50ULL * 1024 * 1024);
	ck_assert_uint_eq(c->worker_pool_size, 0);
	ck_assert(config_worker_pool(c) >= 1);
	ck_assert(!c->allow_plain_text_auth);
	ck_assert_uint_eq(c->auth_max_failures, 3);
	ck_assert_uint_eq(c->max_concurrent, 16);
	ck_assert_uint_eq(c->rate_limit_count, 2000);
	ck_assert_uint_eq(c->rate_limit_period, 60);
	ck_assert_uint_eq(c->timeout_unauthenticated, 60);
	ck_assert_uint_eq(c->timeout_authenticated, 1800);
	ck_assert_uint_eq(c->timeout_idle, 1800);
	ck_assert_uint_eq(c->idle_keepalive, 120);
	ck_assert_str_eq(c->user, "cairn");
	ck_assert_str_eq(c->group, "cairn");
	ck_assert_str_eq(c->auth_user, "cairn-auth");
	ck_assert_str_eq(c->data_dir, CAIRN_DATA_DIR);
	ck_assert_str_eq(c->run_dir, CAIRN_RUN_DIR);
	ck_assert_uint_eq(c->max_connections, 1000);
	ck_assert_uint_eq(c->max_unauth_per_address, 20);
	ck_assert(!config_tls_enabled(c));
	ck_assert_str_eq(c->lmtp_socket, CAIRN_RUN_DIR "/lmtp");
	ck_assert_uint_eq(c->n_lmtp_bind_addrs, 0);
	ck_assert_uint_eq(c->lmtp_port, 24);
	ck_assert_str_eq(c->lmtp_group, c->group);
	ck_assert_uint_eq(c->lmtp_max_message_size, c->max_request_size);
	ck_assert(c->lmtp_detail_mailbox);
	ck_assert_str_eq(c->lmtp_recipient_delimiter, "+");
	config_free(c);
}
END_TEST

START_TEST(test_every_option_set)
{
	struct cairn_config *c = parse(
	    "# a comment\n"
	    "bind-addr = {\"127.0.0.1\", \"::1\"}\n"
	    "bind-port = 1143\n"
	    "bind-port-tls = 1993\n"
	    "cert-path = \"/etc/ssl/c.pem\"\n"
	    "key-path = \"/etc/ssl/k.pem\"\n"
	    "log-level = debug\n"
	    "max-request-size = 10mb\n"
	    "worker-pool-size = 4\n"
	    "allow-plain-text-auth = true\n"
	    "auth-max-failures = 5\n"
	    "max-concurrent = 2\n"
	    "rate-limit = \"100/10s\"\n"
	    "timeout-unauthenticated = 30s\n"
	    "timeout-authenticated = 2h\n"
	    "timeout-idle = 1d\n"
	    "idle-keepalive = 29m\n"
	    "user = \"mail\"\n"
	    "group = \"mail\"\n"
	    "auth-user = \"authy\"\n"
	    "data-dir = \"/srv/cairn\"\n"
	    "run-dir = \"/tmp/cairn-run\"\n"
	    "max-connections = 7\n"
	    "max-unauthenticated-per-address = 3\n"
	    "lmtp-socket = \"/var/spool/postfix/private/cairn\"\n"
	    "lmtp-bind = {\"127.0.0.1\", \"::1\"}\n"
	    "lmtp-port = 2424\n"
	    "lmtp-group = \"postfix\"\n"
	    "lmtp-max-message-size = 20mb\n"
	    "lmtp-detail-mailbox = false\n"
	    "lmtp-recipient-delimiter = \"+-\"\n");
	ck_assert_msg(c != NULL, "errors: %s", errors);
	ck_assert_str_eq(c->lmtp_socket, "/var/spool/postfix/private/cairn");
	ck_assert_uint_eq(c->n_lmtp_bind_addrs, 2);
	ck_assert_str_eq(c->lmtp_bind_addrs[1], "::1");
	ck_assert_uint_eq(c->lmtp_port, 2424);
	ck_assert_str_eq(c->lmtp_group, "postfix");
	ck_assert_uint_eq(c->lmtp_max_message_size, 20ULL * 1024 * 1024);
	ck_assert(!c->lmtp_detail_mailbox);
	ck_assert_str_eq(c->lmtp_recipient_delimiter, "+-");
	ck_assert_str_eq(c->bind_addrs[1], "::1");
	ck_assert_uint_eq(c->bind_port, 1143);
	ck_assert_uint_eq(c->bind_port_tls, 1993);
	ck_assert_str_eq(c->cert_path, "/etc/ssl/c.pem");
	ck_assert_str_eq(c->key_path, "/etc/ssl/k.pem");
	ck_assert(config_tls_enabled(c));
	ck_assert_int_eq(c->log_level, LOG_LEVEL_DEBUG);
	ck_assert_uint_eq(c->max_request_size, 10ULL * 1024 * 1024);
	ck_assert_uint_eq(config_worker_pool(c), 4);
	ck_assert(c->allow_plain_text_auth);
	ck_assert_uint_eq(c->auth_max_failures, 5);
	ck_assert_uint_eq(c->max_concurrent, 2);
	ck_assert_uint_eq(c->rate_limit_count, 100);
	ck_assert_uint_eq(c->rate_limit_period, 10);
	ck_assert_uint_eq(c->timeout_unauthenticated, 30);
	ck_assert_uint_eq(c->timeout_authenticated, 7200);
	ck_assert_uint_eq(c->timeout_idle, 86400);
	ck_assert_uint_eq(c->idle_keepalive, 29 * 60);
	ck_assert_str_eq(c->user, "mail");
	ck_assert_str_eq(c->auth_user, "authy");
	ck_assert_str_eq(c->data_dir, "/srv/cairn");
	ck_assert_uint_eq(c->max_connections, 7);
	ck_assert_uint_eq(c->max_unauth_per_address, 3);
	config_free(c);
}
END_TEST

static const struct {
	const char *s;
	int ok;
	unsigned long long v;
} size_cases[] = {
	{ "1024", 1, 1024 }, { "1kb", 1, 1024 }, { "1KB", 1, 1024 }, { "2k", 1, 2048 },
	{ "50mb", 1, 52428800ULL }, { "1gb", 1, 1073741824ULL }, { "7b", 1, 7 },
	{ "", 0, 0 }, { "mb", 0, 0 }, { "-1", 0, 0 }, { "1tb", 0, 0 }, { "1 mb", 0, 0 },
	{ "99999999999999999999", 0, 0 }, { "1.5mb", 0, 0 },
};

START_TEST(test_size_units)
{
	uint64_t v = 0;
	int rc = config_parse_size(size_cases[_i].s, &v);
	ck_assert_msg((rc == 0) == size_cases[_i].ok, "'%s'", size_cases[_i].s);
	if (size_cases[_i].ok)
		ck_assert_uint_eq(v, size_cases[_i].v);
}
END_TEST

static const struct {
	const char *s;
	int ok;
	unsigned v;
} duration_cases[] = {
	{ "10", 1, 10 }, { "10s", 1, 10 }, { "1m", 1, 60 }, { "2h", 1, 7200 },
	{ "1d", 1, 86400 }, { "m", 0, 0 }, { "1w", 0, 0 }, { "-5s", 0, 0 },
	{ "1M", 0, 0 }, { "", 0, 0 }, { "99999999999d", 0, 0 },
};

START_TEST(test_duration_units)
{
	unsigned v = 0;
	int rc = config_parse_duration(duration_cases[_i].s, &v);
	ck_assert_msg((rc == 0) == duration_cases[_i].ok, "'%s'", duration_cases[_i].s);
	if (duration_cases[_i].ok)
		ck_assert_uint_eq(v, duration_cases[_i].v);
}
END_TEST

START_TEST(test_rate)
{
	unsigned c, p;
	ck_assert_int_eq(config_parse_rate("2000/1m", &c, &p), 0);
	ck_assert_uint_eq(c, 2000);
	ck_assert_uint_eq(p, 60);
	ck_assert_int_eq(config_parse_rate("5/30", &c, &p), 0);
	ck_assert_uint_eq(p, 30);
	ck_assert_int_ne(config_parse_rate("2000", &c, &p), 0);
	ck_assert_int_ne(config_parse_rate("/1m", &c, &p), 0);
	ck_assert_int_ne(config_parse_rate("0/1m", &c, &p), 0);
	ck_assert_int_ne(config_parse_rate("10/0", &c, &p), 0);
	ck_assert_int_ne(config_parse_rate("a/1m", &c, &p), 0);
	ck_assert_int_ne(config_parse_rate("10/1x", &c, &p), 0);
}
END_TEST

/* Each bad file: the error names the file, the line, and the option. */
static const struct {
	const char *text;
	const char *expect;   /* substring of the message */
} bad_cases[] = {
	{ "bind-port = 70000\n", "test.conf:1: option 'bind-port'" },
	{ "\n\nbind-port-tls = -1\n", "test.conf:3: option 'bind-port-tls'" },
	{ "log-level = loud\n", "test.conf:1: option 'log-level'" },
	{ "\nmax-request-size = 12parsecs\n", "test.conf:2: option 'max-request-size'" },
	{ "max-request-size = 100\n", "test.conf:1: option 'max-request-size'" },
	{ "max-request-size = 5gb\n", "test.conf:1: option 'max-request-size'" },
	{ "worker-pool-size = 5000\n", "test.conf:1: option 'worker-pool-size'" },
	{ "auth-max-failures = 0\n", "test.conf:1: option 'auth-max-failures'" },
	{ "max-concurrent = 0\n", "test.conf:1: option 'max-concurrent'" },
	{ "rate-limit = \"lots\"\n", "test.conf:1: option 'rate-limit'" },
	{ "timeout-idle = 0s\n", "test.conf:1: option 'timeout-idle'" },
	{ "idle-keepalive = 2x\n", "test.conf:1: option 'idle-keepalive'" },
	{ "timeout-authenticated = 8d\n", "test.conf:1: option 'timeout-authenticated'" },
	{ "timeout-unauthenticated = soon\n", "test.conf:1: option 'timeout-unauthenticated'" },
	{ "bind-addr = {\"example.com\"}\n", "test.conf:1: option 'bind-addr'" },
	{ "bind-addr = {}\n", "option 'bind-addr'" },
	{ "user = \"\"\n", "test.conf:1: option 'user'" },
	{ "group = \"a/b\"\n", "test.conf:1: option 'group'" },
	{ "data-dir = \"relative\"\n", "test.conf:1: option 'data-dir'" },
	{ "run-dir = \"\"\n", "test.conf:1: option 'run-dir'" },
	{ "max-connections = 0\n", "test.conf:1: option 'max-connections'" },
	{ "max-unauthenticated-per-address = -1\n",
	    "test.conf:1: option 'max-unauthenticated-per-address'" },
	{ "max-unauthenticated-per-address = 100001\n",
	    "test.conf:1: option 'max-unauthenticated-per-address'" },
	{ "lmtp-socket = \"lmtp\"\n", "test.conf:1: option 'lmtp-socket'" },
	{ "lmtp-bind = {\"localhost\"}\n", "test.conf:1: option 'lmtp-bind'" },
	{ "lmtp-port = 0\n", "test.conf:1: option 'lmtp-port'" },
	{ "lmtp-group = \"a:b\"\n", "test.conf:1: option 'lmtp-group'" },
	{ "lmtp-max-message-size = 1\n", "test.conf:1: option 'lmtp-max-message-size'" },
	{ "lmtp-recipient-delimiter = \"@\"\n", "test.conf:1: option 'lmtp-recipient-delimiter'" },
	{ "allow-plain-text-auth = perhaps\n", "test.conf:1:" },
	{ "\n\n\nno-such-option = 1\n", "test.conf:4:" },
	{ "bind-port = \"abc\"\n", "test.conf:1:" },
	{ "cert-path = \"/x\"\n", "'cert-path' and 'key-path'" },
	{ "bind-port = 0\nbind-port-tls = 0\n", "no listener" },
	{ "bind-port = 1000\nbind-port-tls = 1000\n", "same port" },
	{ "bind-port = 1000\n= 5\n", "test.conf:2:" },
};

START_TEST(test_bad_values)
{
	struct cairn_config *c = parse(bad_cases[_i].text);
	ck_assert_msg(c == NULL, "accepted: %s", bad_cases[_i].text);
	ck_assert_uint_ge(n_errors, 1);
	ck_assert_msg(strstr(errors, bad_cases[_i].expect) != NULL,
	    "for %s expected '%s' in: %s", bad_cases[_i].text, bad_cases[_i].expect,
	    errors);
}
END_TEST

START_TEST(test_files_checked)
{
	char dir[] = "/tmp/check_config.XXXXXX", cert[256], text[1024];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	ck_assert_ptr_nonnull(f = fopen(cert, "w"));
	fputs("x", f);
	fclose(f);
	snprintf(text, sizeof(text), "cert-path = \"%s\"\nkey-path = \"%s/missing.pem\"\n",
	    cert, dir);
	errors[0] = '\0';
	n_errors = 0;
	ck_assert_ptr_null(config_parse(text, "test.conf", true, collect, NULL));
	ck_assert_msg(strstr(errors, "option 'key-path'") != NULL, "%s", errors);
	ck_assert_msg(strstr(errors, "missing.pem") != NULL, "%s", errors);
	/* Without the file check (children), the same text is fine. */
	struct cairn_config *c = parse(text);
	ck_assert_ptr_nonnull(c);
	config_free(c);
	unlink(cert);
	rmdir(dir);
}
END_TEST

START_TEST(test_print_round_trip)
{
	struct cairn_config *c = parse("bind-addr = {\"127.0.0.1\"}\n"
	    "max-request-size = 3kb\ntimeout-idle = 90s\nrate-limit = \"7/2h\"\n"
	    "max-unauthenticated-per-address = 0\n"
	    "cert-path = \"/a\"\nkey-path = \"/b\"\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(c);
	config_print(c, out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "max-request-size = 3kb\n"));
	ck_assert_ptr_nonnull(strstr(buf, "timeout-idle = 90s\n"));
	ck_assert_ptr_nonnull(strstr(buf, "rate-limit = \"7/2h\"\n"));
	ck_assert_ptr_nonnull(strstr(buf, "max-unauthenticated-per-address = 0\n"));
	/* What -n prints parses back to the same settings. */
	struct cairn_config *again = parse(buf);
	ck_assert_msg(again != NULL, "%s", errors);
	ck_assert_uint_eq(again->max_request_size, c->max_request_size);
	ck_assert_uint_eq(again->timeout_idle, c->timeout_idle);
	ck_assert_uint_eq(again->rate_limit_period, 7200);
	ck_assert_uint_eq(again->max_unauth_per_address, 0);
	ck_assert_str_eq(again->bind_addrs[0], "127.0.0.1");
	config_free(again);
	config_free(c);
	free(buf);
}
END_TEST

START_TEST(test_read_text_rejects_nul)
{
	char path[] = "/tmp/check_config_nul.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "a\0b", 3), 3);
	close(fd);
	ck_assert_ptr_null(config_read_text(path, NULL));
	errors[0] = '\0';
	ck_assert_ptr_null(config_load(path, false, collect, NULL));
	ck_assert_ptr_nonnull(strstr(errors, "NUL"));
	unlink(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_option_set);
	tcase_add_loop_test(tc, test_size_units, 0,
	    sizeof(size_cases) / sizeof(size_cases[0]));
	tcase_add_loop_test(tc, test_duration_units, 0,
	    sizeof(duration_cases) / sizeof(duration_cases[0]));
	tcase_add_test(tc, test_rate);
	tcase_add_loop_test(tc, test_bad_values, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_files_checked);
	tcase_add_test(tc, test_print_round_trip);
	tcase_add_test(tc, test_read_text_rejects_nul);
	suite_add_tcase(s, tc);
	return check_run(s);
}
