/*
 * For tests/integration/test_deliver_store.py: one store_deliver() into a
 * store directory, as cairn-lmtpd will make it, so that the store's side
 * of delivery can be seen through the real cairnd before an LMTP service
 * exists to drive it.  Not installed.
 *
 *   deliver_helper STORE-DIR SPOOL-DIR NAME MAILBOX [PREFIX]
 *
 * PREFIX is the lines in front of the message with "\n" for each CRLF.
 * Prints "OK uidvalidity uid" or "NO <result> <error>"; exit 0 or 1.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

static const char *const results[] = {
	"OK", "NOT_FOUND", "EXISTS", "INVALID", "HAS_CHILDREN", "READONLY",
	"CONFLICT", "OVERQUOTA", "ERROR",
};

/* "\n" becomes CRLF: a shell argument cannot hold a CR easily. */
static size_t
crlf(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in != '\0' && n + 2 < cap; in++) {
		if (*in == '\n')
			out[n++] = '\r';
		out[n++] = *in;
	}
	return n;
}

int
main(int argc, char **argv)
{
	char err[512], prefix[2 * STORE_DELIVER_PREFIX_MAX];
	struct store *st;
	enum store_result r;
	uint32_t uidvalidity, uid;
	struct stat sb;
	size_t plen = 0;
	int dfd, sfd;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: deliver_helper STORE-DIR SPOOL-DIR NAME "
		    "MAILBOX [PREFIX]\n");
		return 2;
	}
	log_init("deliver_helper", LOG_TO_STDERR, LOG_LEVEL_DEBUG);
	if (argc == 6)
		plen = crlf(argv[5], prefix, sizeof(prefix));
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (sfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror("open");
		return 2;
	}
	/* As cairn-lmtpd: the directories as descriptors (<data-dir>/mail
	 * is root's), the work as the user who owns the store. */
	if (fstat(dfd, &sb) != 0 || (getuid() == 0 && (setgroups(0, NULL) != 0 ||
	    setgid(sb.st_gid) != 0 || setuid(sb.st_uid) != 0))) {
		perror("drop privileges");
		return 2;
	}
	if (store_open(dfd, &st, err, sizeof(err)) != STORE_OK) {
		printf("NO ERROR %s\n", err);
		return 1;
	}
	r = store_deliver(st, sfd, argv[3], prefix, plen, argv[4], time(NULL), 0,
	    &uidvalidity, &uid);
	if (r == STORE_OK)
		printf("OK %u %u\n", uidvalidity, uid);
	else
		printf("NO %s %s\n", results[r], store_error(st));
	store_close(st);
	return r == STORE_OK ? 0 : 1;
}
