/*
 * libFuzzer harness: a whole IMAP session fed from a buffer (imapd/).
 *
 * The input is what a client sends on the connection.  It is put in a
 * memfd and read by the real session loop (session_run, as cairn-imapd -S
 * does on stdin); the replies go to /dev/null.  The session ends at the
 * input's end (EOF) or at LOGOUT.  The first byte picks the state the
 * session starts in (and is not sent):
 *   even: authenticated, with a fresh, empty store in a temporary
 *         directory (every command after login: CREATE, APPEND, SELECT,
 *         FETCH, SEARCH, STORE, COPY, MOVE, EXPUNGE, IDLE, NOTIFY,
 *         COMPRESS, ...), made anew for each input so runs do not depend
 *         on each other;
 *   odd:  not authenticated, plain text, no master (control_fd -1): the
 *         commands before login; LOGIN and AUTHENTICATE answer NO as in
 *         -S mode, and STARTTLS has no TLS context.
 * What is not covered: TLS, and a login through the master (the master
 * and cairn-authd are separate processes).
 *
 * Everything the harness makes is under one directory made with mkdtemp
 * in $TMPDIR (or /tmp) and removed at exit.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "session.h"

static struct cairn_config *fuzz_cfg;
static char fuzz_dir[256];     /* the temporary directory */
static int fuzz_dirfd = -1;

/* Remove what is in the directory dirfd, recursively; leaves it. */
static void
fuzz_empty_dir(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *e;

	if (fd < 0 || (d = fdopendir(fd)) == NULL)
		abort();
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR)
			abort();
		int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			abort();
		fuzz_empty_dir(sub);
		close(sub);
		if (unlinkat(dirfd, e->d_name, AT_REMOVEDIR) != 0)
			abort();
	}
	closedir(d);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_dirfd >= 0) {
		fuzz_empty_dir(fuzz_dirfd);
		close(fuzz_dirfd);
		fuzz_dirfd = -1;
		(void)rmdir(fuzz_dir);
	}
}

static void
fuzz_init(void)
{
	const char *tmp = getenv("TMPDIR");

	log_init("fuzz_session", LOG_TO_STDERR,
	    getenv("FUZZ_SESSION_LOG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	/* The defaults, but no rate limit: a long input would sleep. */
	if ((fuzz_cfg = config_parse("rate-limit = \"1000000/1s\"\n", "(fuzz)",
	    false, NULL, NULL)) == NULL)
		abort();
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/cairn-fuzz-session.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL ||
	    (fuzz_dirfd = open(fuzz_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	atexit(fuzz_cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session s;
	int in, out, storefd = -1;

	if (fuzz_cfg == NULL)
		fuzz_init();
	if (size < 1)
		return 0;
	bool preauth = data[0] & 1;
	data++;
	size--;

	if ((in = memfd_create("fuzz-input", MFD_CLOEXEC)) < 0 ||
	    (size > 0 && write(in, data, size) != (ssize_t)size) ||
	    lseek(in, 0, SEEK_SET) != 0 ||
	    (out = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	memset(&s, 0, sizeof(s));
	conn_init(&s.conn, in, out);
	s.cfg = fuzz_cfg;
	s.listener = IPC_LISTENER_PLAIN;
	s.control_fd = -1;
	s.store_dirfd = -1;
	s.id = 1;
	snprintf(s.peer, sizeof(s.peer), "fuzz");
	if (preauth) {
		s.state = SESSION_NOT_AUTHENTICATED;
	} else {
		if (mkdirat(fuzz_dirfd, "store", 0700) != 0 ||
		    (storefd = openat(fuzz_dirfd, "store", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			abort();
		s.state = SESSION_AUTHENTICATED;
		s.store_dirfd = storefd;
		snprintf(s.user, sizeof(s.user), "fuzz");
		if (!session_open_store(&s))
			abort();
	}
	session_run(&s);
	conn_close(&s.conn);
	if (storefd >= 0) {
		fuzz_empty_dir(storefd);
		close(storefd);
		if (unlinkat(fuzz_dirfd, "store", AT_REMOVEDIR) != 0)
			abort();
	}
	return 0;
}
