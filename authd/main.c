/*
 * cairn-authd: the only process that reads password hashes.
 *
 * config from fd 4 -> log -> drop to auth-user (no chroot: it keeps
 * <data-dir>/auth, which only auth-user may enter) -> hashing workers ->
 * HELLO -> answer the master's login requests and recipient lookups until
 * SHUTDOWN or EOF.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "lookup.h"
#include "privdrop.h"
#include "rlimits.h"
#include "userdb.h"
#include "worker.h"

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: cairn-authd -M [-F] [-c NAME]   (started by cairnd only)\n");
	exit(1);
}

/* One message from the master; false when it is time to stop. */
static bool
authd_handle_master(void)
{
	struct ipc_msg msg;
	const char *why = NULL;

	switch (ipc_recv(IPC_FD_CONTROL, IPC_ROLE_AUTHD, IPC_ROLE_MASTER, &msg, &why)) {
	case IPC_RECV_OK:
		break;
	case IPC_RECV_AGAIN:
		return true;
	case IPC_RECV_INVALID:
		fatalx("bad message from the master: %s", why);
	case IPC_RECV_EOF:
		return false;
	case IPC_RECV_ERROR:
		fatal("reading from the master");
	}
	if (msg.type == IPC_SHUTDOWN)
		return false;
	if (msg.type == IPC_AUTHD_REQUEST) {
		auth_request(&msg.p.authd_request);
		explicit_bzero(&msg, sizeof(msg));
		return true;
	}
	if (msg.type == IPC_AUTHD_LOOKUP) {
		bool unavailable;
		struct userdb *db = auth_userdb(&unavailable);
		lookup_request(&msg.p.authd_lookup, db, unavailable);
		return true;
	}
	fatalx("unexpected %s from the master", ipc_type_name(msg.type));
}

static void
authd_serve(int wake_fd)
{
	for (;;) {
		int timeout = auth_send_due(auth_now_ms());
		struct pollfd p[2] = {
			{ .fd = IPC_FD_CONTROL, .events = POLLIN },
			{ .fd = wake_fd, .events = POLLIN },
		};
		if (poll(p, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (p[1].revents & POLLIN) {
			struct auth_job *job;
			while ((job = worker_take_done()) != NULL)
				auth_job_done(job, auth_now_ms());
		}
		if (p[0].revents != 0 && !authd_handle_master())
			return;
	}
}

int
main(int argc, char *argv[])
{
	struct ipc_hello hello = { IPC_VERSION, IPC_ROLE_AUTHD };
	const char *name = "cairn.conf";
	bool master = false, foreground = false;
	struct cairn_config *cfg;
	char db_path[1100];
	int ch, wake_fd;

	while ((ch = getopt(argc, argv, "MFc:")) != -1) {
		switch (ch) {
		case 'M': master = true; break;
		case 'F': foreground = true; break;
		case 'c': name = optarg; break;
		default: usage();
		}
	}
	if (!master || optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	cfg = config_load_child(IPC_FD_CONFIG, name);
	log_init("cairn-authd", foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG,
	    cfg->log_level);
	snprintf(db_path, sizeof(db_path), "%s/auth/%s", cfg->data_dir, USERDB_FILE);
	privdrop(cfg->auth_user, NULL, NULL);
	/* per hashing thread: its stack (8 MiB) and a password hash's work
	 * memory (yescrypt's default cost takes 16 MiB; room for more), and
	 * a few files (users.db, its WAL and shm) */
	unsigned threads = config_worker_pool(cfg);
	const struct rlimits lim = { 100 + 4ULL * threads,
	    RLIMITS_DATA_BASE + (uint64_t)threads * (72ULL << 20) };
	rlimits_apply("cairn-authd", &lim);
	auth_init(db_path);
	wake_fd = worker_start(config_worker_pool(cfg));
	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_AUTHD, IPC_ROLE_MASTER, IPC_HELLO,
	    &hello, sizeof(hello), -1) != 0)
		fatal("cannot reach the master");
	authd_serve(wake_fd);
	log_debug("exiting");
	worker_stop();
	auth_shutdown();
	config_free(cfg);
	return 0;
}
