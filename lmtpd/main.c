/*
 * cairn-lmtpd: one LMTP connection per process, delivering into the
 * users' stores.
 *
 * config from fd 4 -> log -> host name -> open <data-dir>/spool -> drop
 * privileges into the empty chroot -> HELLO -> wait for a client socket
 * -> serve it (recipients looked up through the master, each store
 * reached through the descriptor it sends, the last one kept open until
 * the end: deliver.h) -> exit.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "ipc.h"
#include "lmtp.h"
#include "log.h"
#include "lookup.h"
#include "privdrop.h"
#include "rlimits.h"
#include "session.h"

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: cairn-lmtpd -M [-F] [-c NAME]   (started by cairnd only)\n");
	exit(1);
}

/* The normal end; see imapd/main.c: LeakSanitizer cannot run in the chroot. */
static int
lmtpd_exit(bool chrooted)
{
#ifdef CAIRN_SANITIZERS
	if (chrooted)
		_exit(0);
#endif
	(void)chrooted;
	return 0;
}

/* Ours for the greeting and Received:, if it is a name fit for a header. */
static void
host_name(char *out, size_t size)
{
	char name[LMTP_DOMAIN_MAX + 1];

	if (gethostname(name, sizeof(name)) != 0 ||
	    memchr(name, '\0', sizeof(name)) == NULL ||
	    lmtp_parse_lhlo(name, strlen(name), out) != NULL)
		snprintf(out, size, "localhost");
}

/*
 * <data-dir>/spool, opened before the chroot hides it: cairnd made it the
 * mail user's, 0700, beside <data-dir>/mail so that the store can link a
 * spooled file into every recipient's store.
 */
static int
open_spool(const struct cairn_config *cfg)
{
	char path[1100];
	int fd;

	snprintf(path, sizeof(path), "%s/spool", cfg->data_dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fatal("cannot open the spool %s", path);
	return fd;
}

/*
 * deliver_message, then tell the master the outcome for cairnctl stats
 * (deliveries come only from here; the master never sees the data).
 */
static enum session_status
deliver_and_report(void *arg, const struct session_rcpt *r,
    const struct session_delivery *d)
{
	enum session_status st = deliver_message(arg, r, d);
	struct ipc_delivery_report rep = {
		.result = st == SESSION_OK ? IPC_DELIVERY_OK : IPC_DELIVERY_FAILED,
		.size = st == SESSION_OK ? d->size + d->prefix_len : 0,
	};

	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_LMTPD, IPC_ROLE_MASTER,
	    IPC_DELIVERY_REPORT, &rep, sizeof(rep), -1) != 0)
		log_warn("cannot report a delivery to the master");
	return st;
}

static void
serve(const struct cairn_config *cfg, const char *hostname, int spool_fd, int fd,
    const struct ipc_session_start *start)
{
	int control_fd = IPC_FD_CONTROL;
	struct deliver_store ds;
	const struct session_backend be = {
		.lookup = lookup_recipient,
		.quota = deliver_quota,
		.deliver = deliver_and_report,
		.lookup_arg = &control_fd,
		.store_arg = &ds,
	};
	struct session_settings set = {
		.hostname = hostname,
		.session_id = start->session_id,
		.max_size = cfg->lmtp_max_message_size,
		.delimiters = cfg->lmtp_recipient_delimiter,
		.detail_mailbox = cfg->lmtp_detail_mailbox,
		.spool_dirfd = spool_fd,
		.control_fd = IPC_FD_CONTROL,
		.timeout_ms = SESSION_TIMEOUT_SECONDS * 1000,
	};
	char peer[IPC_ADDR_LEN + 8];

	/* RFC 5321 §4.1.3 address literals, for Received: */
	if (start->listener == IPC_LISTENER_LMTP)
		snprintf(peer, sizeof(peer), "local");
	else
		snprintf(peer, sizeof(peer), "[%s%s]",
		    strchr(start->peer_addr, ':') != NULL ? "IPv6:" : "",
		    start->peer_addr);
	set.peer = peer;
	log_debug("serving %s port %u", start->peer_addr, start->peer_port);
	deliver_store_init(&ds);
	session_run(fd, &set, &be);
	deliver_store_close(&ds);
}

static int
run_under_master(const char *name, bool foreground)
{
	struct cairn_config *cfg = config_load_child(IPC_FD_CONFIG, name);
	struct ipc_hello hello = { IPC_VERSION, IPC_ROLE_LMTPD };
	struct ipc_session_start start;
	char empty[1100], hostname[LMTP_DOMAIN_MAX + 1];
	int spool_fd, fd;

	log_init("cairn-lmtpd", foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG,
	    cfg->log_level);
	host_name(hostname, sizeof(hostname));
	spool_fd = open_spool(cfg);
	snprintf(empty, sizeof(empty), "%s/empty", cfg->run_dir);
	bool chrooted = privdrop_needed();
	privdrop(cfg->user, cfg->group, empty);
	/* files: each accepted recipient's store directory until DATA ends,
	 * and room for the socket, a store's databases, the spool and the
	 * log; memory: a message is written to the spool, not held */
	const struct rlimits lim = { SESSION_MAX_RCPTS + 100,
	    RLIMITS_DATA_BASE + 2 * cfg->lmtp_max_message_size };
	rlimits_apply("cairn-lmtpd", &lim);
	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_LMTPD, IPC_ROLE_MASTER, IPC_HELLO,
	    &hello, sizeof(hello), -1) != 0)
		fatal("cannot reach the master");

	if ((fd = ipc_wait_session(IPC_ROLE_LMTPD, &start)) >= 0) {
		log_set_session(start.session_id);
		serve(cfg, hostname, spool_fd, fd, &start);
		close(fd);
	}
	close(spool_fd);
	config_free(cfg);
	return lmtpd_exit(chrooted);
}

int
main(int argc, char *argv[])
{
	const char *name = "cairn.conf";
	bool master = false, foreground = false;
	int ch;

	signal(SIGPIPE, SIG_IGN);
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
	return run_under_master(name, foreground);
}
