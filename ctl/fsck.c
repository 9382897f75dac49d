/*
 * cairnctl fsck USER [--repair]: store_fsck() on <data-dir>/mail/USER,
 * opened as storedir.c does for every command on a user's store.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "store.h"


void
fsck_usage_lines(FILE *out)
{
	fprintf(out, "usage: cairnctl [-c FILE] fsck USER [--repair]\n");
}

static void
fsck_usage(FILE *out)
{
	fsck_usage_lines(out);
	fprintf(out,
	    "  check USER's mail store (<data-dir>/mail/USER): orphan or missing\n"
	    "  message files, stale temporary files, reference counts, index.db\n"
	    "  --repair  fix what is found\n"
	    "  exit 0: clean; 1: problems found (or an error); 2: usage\n");
}

static _Noreturn void
fsck_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, fsck_usage);
}

/* argv = {"fsck", ...}: options and the one name in any order. */
void
fsck_parse(int argc, char *argv[], struct fsck_request *req)
{
	bool options = true;

	req->name = NULL;
	req->repair = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && strcmp(a, "--repair") == 0) {
			req->repair = true;
		} else if (options && (strcmp(a, "--help") == 0 ||
		    strcmp(a, "-h") == 0)) {
			fsck_usage(stdout);
			exit(CTL_EXIT_OK);
		} else if (options && a[0] == '-' && a[1] != '\0') {
			fsck_usage_error("unknown option", a);
		} else if (req->name != NULL) {
			fsck_usage_error("unexpected argument", a);
		} else {
			req->name = a;
		}
	}
	if (req->name == NULL)
		fsck_usage_error("missing user name", NULL);
	ctl_check_user_name(req->name);
}

static void
print_finding(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

static int
check_and_run(struct store *st, const char *name, void *arg)
{
	const struct fsck_request *req = arg;
	enum store_result r;
	unsigned problems = 0;

	r = store_fsck(st, req->repair, print_finding, NULL, &problems);
	fflush(stdout);
	if (r != STORE_OK)
		return ctl_fail("fsck of %s failed: %s", name, store_error(st));
	if (problems == 0) {
		printf("%s: no problems found\n", name);
		return CTL_EXIT_OK;
	}
	if (req->repair)
		printf("%s: %u problem%s found, repaired\n", name, problems,
		    problems == 1 ? "" : "s");
	else
		printf("%s: %u problem%s found, not repaired (cairnctl fsck %s "
		    "--repair fixes them)\n", name, problems,
		    problems == 1 ? "" : "s", name);
	return CTL_EXIT_ERROR;
}

int
fsck_run(const struct cairn_config *cfg, const struct fsck_request *req)
{
	struct fsck_request r = *req;

	return ctl_store_run(cfg, req->name, check_and_run, &r);
}
