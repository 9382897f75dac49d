/*
 * cairn-imapd: one IMAP session per process.
 *
 * Under the master (-M):  config from fd 4 -> log -> TLS context -> drop
 * privileges into the empty chroot -> HELLO -> wait for a client socket ->
 * serve it -> exit.
 * Standalone (-S USER -d DIR): one pre-authenticated session on stdin/stdout,
 * for tests and fuzzing; never as root, never under the master.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "privdrop.h"
#include "rlimits.h"
#include "cmd.h"
#include "report.h"
#include "session.h"
#include "tls.h"

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: cairn-imapd -M [-F] [-c NAME]   (started by cairnd only)\n"
	    "       cairn-imapd -S USER -d DIR [-c FILE]\n");
	exit(1);
}

/* The normal end of a pool child. */
static int
imapd_exit(bool chrooted)
{
#ifdef CAIRN_SANITIZERS
	/* LeakSanitizer's exit-time scan needs /proc, which the chroot hides,
	 * and fails the exit; leaks in this code are caught in -S mode. */
	if (chrooted)
		_exit(0);
#endif
	(void)chrooted;
	return 0;
}

static int
run_under_master(const char *name, bool foreground)
{
	struct cairn_config *cfg = config_load_child(IPC_FD_CONFIG, name);
	struct ipc_hello hello = { IPC_VERSION, IPC_ROLE_IMAPD };
	struct ipc_session_start start;
	struct session s;
	SSL_CTX *tls = NULL;
	char empty[1100];
	int fd;

	log_init("cairn-imapd", foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG,
	    cfg->log_level);
	if (config_tls_enabled(cfg) &&
	    (tls = tls_context_new(cfg->cert_path, cfg->key_path)) == NULL)
		fatalx("cannot load the TLS certificate");
	snprintf(empty, sizeof(empty), "%s/empty", cfg->run_dir);
	bool chrooted = privdrop_needed();
	privdrop(cfg->user, cfg->group, empty);
	/* files: a MULTIAPPEND's tmp/ files, with room for the socket, the
	 * store's databases, a FETCH's blob and the log; memory: the
	 * parser holds at most a line and max-request-size of literals */
	const struct rlimits lim = { CMD_APPEND_MAX_MESSAGES + 100,
	    RLIMITS_DATA_BASE + 2 * cfg->max_request_size };
	rlimits_apply("cairn-imapd", &lim);
	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_IMAPD, IPC_ROLE_MASTER, IPC_HELLO,
	    &hello, sizeof(hello), -1) != 0)
		fatal("cannot reach the master");

	if ((fd = ipc_wait_session(IPC_ROLE_IMAPD, &start)) < 0) {
		SSL_CTX_free(tls);
		config_free(cfg);
		return imapd_exit(chrooted);
	}
	log_set_session(start.session_id);
	memset(&s, 0, sizeof(s));
	conn_init(&s.conn, fd, fd);
	s.cfg = cfg;
	s.tls_ctx = tls;
	s.listener = (enum ipc_listener)start.listener;
	s.state = SESSION_NOT_AUTHENTICATED;
	s.id = start.session_id;
	s.control_fd = IPC_FD_CONTROL;
	s.store_dirfd = -1;
	snprintf(s.peer, sizeof(s.peer), "%s", start.peer_addr);
	log_debug("serving %s port %u", start.peer_addr, start.peer_port);
	session_run(&s);
	report_end(&s);
	conn_close(&s.conn);
	if (s.store_dirfd >= 0)
		close(s.store_dirfd);
	SSL_CTX_free(tls);
	config_free(cfg);
	return imapd_exit(chrooted);
}

/* -S: refuse root, refuse to be mistaken for a pool child. */
static int
run_standalone(const char *user, const char *dir, const char *config_path)
{
	struct cairn_config *cfg;
	struct session s;
	struct stat st;
	int dirfd;

	if (getuid() == 0 || geteuid() == 0) {
		fprintf(stderr, "cairn-imapd: -S refuses to run as root\n");
		return 1;
	}
	if (fstat(IPC_FD_CONTROL, &st) == 0 && S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "cairn-imapd: -S refuses to run under the master\n");
		return 1;
	}
	if (strlen(user) == 0 || strlen(user) >= SESSION_USER_MAX) {
		fprintf(stderr, "cairn-imapd: bad user name\n");
		return 1;
	}
	cfg = config_path != NULL ? config_load(config_path, false, NULL, NULL)
	    : config_parse("", "(defaults)", false, NULL, NULL);
	if (cfg == NULL)
		return 1;
	log_init("cairn-imapd", LOG_TO_STDERR, cfg->log_level);
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "cairn-imapd: %s: %s\n", dir, strerror(errno));
		config_free(cfg);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	conn_init(&s.conn, STDIN_FILENO, STDOUT_FILENO);
	s.cfg = cfg;
	s.listener = IPC_LISTENER_PLAIN;
	s.state = SESSION_AUTHENTICATED;
	s.control_fd = -1;
	s.store_dirfd = dirfd;
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.peer, sizeof(s.peer), "stdin");
	if (!session_open_store(&s)) {
		fprintf(stderr, "cairn-imapd: cannot open the store in %s\n", dir);
		close(dirfd);
		config_free(cfg);
		return 1;
	}
	session_run(&s);
	conn_close(&s.conn);
	close(dirfd);
	config_free(cfg);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *user = NULL, *dir = NULL, *config = NULL;
	bool master = false, foreground = false;
	int ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "MFc:S:d:")) != -1) {
		switch (ch) {
		case 'M': master = true; break;
		case 'F': foreground = true; break;
		case 'c': config = optarg; break;
		case 'S': user = optarg; break;
		case 'd': dir = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (master && user == NULL)
		return run_under_master(config != NULL ? config : "cairn.conf", foreground);
	if (!master && user != NULL && dir != NULL)
		return run_standalone(user, dir, config);
	usage();
}
