/*
 * cairnctl quota get USER
 * cairnctl quota set USER [storage=KIB|none] [messages=N|none]
 * cairnctl quota set USER none
 *
 * The limits of RFC 9208's one quota root per user, kept in the user's
 * store (index.db) and read by every session at each APPEND and COPY, so a
 * change applies at once, to sessions already open too.  set changes the
 * limits it names and keeps the other; "none" removes both.  The store is
 * opened as storedir.c does (as the mail user).
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* Digits of the largest limit, INT64_MAX. */
#define LIMIT_DIGITS 19

void
quota_usage_lines(FILE *out)
{
	fprintf(out,
	    "usage: cairnctl [-c FILE] quota get USER\n"
	    "       cairnctl [-c FILE] quota set USER [storage=KIB|none] "
	    "[messages=N|none]\n"
	    "       cairnctl [-c FILE] quota set USER none\n");
}

static void
quota_usage(FILE *out)
{
	quota_usage_lines(out);
	fprintf(out,
	    "  the quota of USER's mail store: every mailbox together\n"
	    "  get       show the usage and the limits\n"
	    "  set       change the limits named (the other stays); none: no limit\n"
	    "  storage   in KiB (units of 1024 octets of message size)\n"
	    "  messages  a number of messages\n"
	    "  exit 0: done; 1: an error; 2: usage\n");
}

static _Noreturn void
quota_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, quota_usage);
}

/* "none", or a number 0..STORE_QUOTA_LIMIT_MAX in decimal. */
static bool
parse_limit(const char *s, uint64_t *out)
{
	size_t n = strlen(s);
	uint64_t v = 0;

	if (strcmp(s, "none") == 0) {
		*out = STORE_QUOTA_NONE;
		return true;
	}
	if (n == 0 || n > LIMIT_DIGITS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > STORE_QUOTA_LIMIT_MAX)
		return false;
	*out = v;
	return true;
}

/* One "storage=..." or "messages=..." of set. */
static void
parse_assignment(const char *a, struct quota_request *req)
{
	const char *eq = strchr(a, '=');
	bool *seen;
	uint64_t *value;

	if (eq == NULL)
		quota_usage_error("expected storage=KIB or messages=N, not", a);
	if ((size_t)(eq - a) == 7 && strncmp(a, "storage", 7) == 0) {
		seen = &req->set_storage;
		value = &req->storage;
	} else if ((size_t)(eq - a) == 8 && strncmp(a, "messages", 8) == 0) {
		seen = &req->set_messages;
		value = &req->messages;
	} else {
		quota_usage_error("unknown limit", a);
	}
	if (*seen)
		quota_usage_error("limit given twice", a);
	if (!parse_limit(eq + 1, value))
		quota_usage_error("a limit is a number up to 9223372036854775807 "
		    "or none, not", eq + 1);
	*seen = true;
}

/* argv = {"quota", "get"|"set", USER, ...}. */
void
quota_parse(int argc, char *argv[], struct quota_request *req)
{
	int i;

	memset(req, 0, sizeof(*req));
	req->storage = req->messages = STORE_QUOTA_NONE;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			quota_usage(stdout);
			exit(CTL_EXIT_OK);
		}
	if (argc < 2)
		quota_usage_error("missing quota command (get or set)", NULL);
	if (strcmp(argv[1], "set") == 0)
		req->set = true;
	else if (strcmp(argv[1], "get") != 0)
		quota_usage_error("unknown quota command", argv[1]);
	if (argc < 3)
		quota_usage_error("missing user name", NULL);
	req->name = argv[2];
	if (!req->set && argc > 3)
		quota_usage_error("unexpected argument", argv[3]);
	if (req->set && argc == 3)
		quota_usage_error("set needs storage=KIB, messages=N or none", NULL);
	if (req->set && argc == 4 && strcmp(argv[3], "none") == 0) {
		req->set_storage = req->set_messages = true;
	} else {
		for (i = 3; i < argc; i++)
			parse_assignment(argv[i], req);
	}
	ctl_check_user_name(req->name);
}

static void
print_limit(uint64_t limit, const char *unit)
{
	if (limit == STORE_QUOTA_NONE)
		printf("no limit\n");
	else
		printf("limit %" PRIu64 "%s\n", limit, unit);
}

static int
show(struct store *st, const char *name)
{
	struct store_quota q;

	if (store_quota_get(st, &q) != STORE_OK)
		return ctl_fail("cannot read the quota of %s: %s", name,
		    store_error(st));
	printf("%s: storage %" PRIu64 " KiB used, ", name,
	    store_quota_kib(q.storage));
	print_limit(q.storage_limit, " KiB");
	printf("%s: messages %" PRIu64 " stored, ", name, q.messages);
	print_limit(q.message_limit, "");
	return CTL_EXIT_OK;
}

static int
quota_store(struct store *st, const char *name, void *arg)
{
	const struct quota_request *req = arg;
	struct store_quota q;

	if (!req->set)
		return show(st, name);
	if (store_quota_get(st, &q) != STORE_OK)
		return ctl_fail("cannot read the quota of %s: %s", name,
		    store_error(st));
	if (req->set_storage)
		q.storage_limit = req->storage;
	if (req->set_messages)
		q.message_limit = req->messages;
	if (store_quota_set(st, q.storage_limit, q.message_limit) != STORE_OK)
		return ctl_fail("cannot set the quota of %s: %s", name,
		    store_error(st));
	return show(st, name);
}

int
quota_run(const struct cairn_config *cfg, const struct quota_request *req)
{
	struct quota_request r = *req;

	return ctl_store_run(cfg, req->name, quota_store, &r);
}
