/*
 * cairnd: the root master.  It binds the listeners, keeps the pools of
 * cairn-imapd and cairn-lmtpd children, supervises cairn-authd, accepts
 * connections and hands each one, as a descriptor, to an idle child of
 * its kind.  It never reads a byte a client sends.
 */
#ifndef CAIRN_MASTER_H
#define CAIRN_MASTER_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#include "config.h"
#include "ipc.h"

/* IMAP clear text and TLS per bind-addr, LMTP per lmtp-bind, the socket */
#define MASTER_MAX_LISTENERS (CONFIG_MAX_BIND_ADDRS * 3 + 1)
#define LISTENER_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/*
 * cairn-lmtpd children: LMTPD_IDLE kept ready, at most LMTPD_MAX in all
 * (an MTA opens a few connections, Postfix 20 per destination at most);
 * beyond that connections wait, up to LMTP_QUEUE_MAX, then get a 421.
 */
#define LMTPD_IDLE 2
#define LMTPD_MAX 32
#define LMTP_QUEUE_MAX 64

struct listener {
	int fd;
	enum ipc_listener kind;
	char addr[IPC_ADDR_LEN];      /* "local" for the Unix socket */
	unsigned port;
	char path[LISTENER_PATH_MAX]; /* IPC_LISTENER_LMTP: lmtp-socket */
	ino_t ino;                    /* ... the file bind() made */
};

enum child_kind { CHILD_IMAPD, CHILD_AUTHD, CHILD_LMTPD, CHILD_KINDS };

/* The kinds of connection: which children serve them, and queue for them. */
enum service { SERVICE_IMAP, SERVICE_LMTP, SERVICES };
enum child_state {
	CHILD_STARTING,   /* exec'd, has not said HELLO yet */
	CHILD_IDLE,       /* ready for a connection */
	CHILD_BUSY,       /* serving a session */
	CHILD_STOPPING,   /* told to shut down */
};

struct child {
	pid_t pid;
	int fd;                   /* control socket; -1 once closed */
	enum child_kind kind;
	enum child_state state;
	unsigned generation;      /* config generation it was started with */
	uint64_t session_id;
	char peer_addr[IPC_ADDR_LEN];
	bool auth_pending;        /* its login is with cairn-authd ... */
	bool lookup_pending;      /* (lmtpd) its recipient lookup is ... */
	pid_t auth_authd;         /* ... with this one */
	char user[IPC_USER_LEN];  /* logged-in user; "" before login */
	/* for cairnctl who (imapd): set at hand-over, then as reported */
	unsigned peer_port;
	time_t since;             /* when the connection was handed over */
	uint32_t session_state;   /* enum ipc_state */
	char mailbox[IPC_MAILBOX_LEN];
	bool reaped;              /* waitpid() has it: its pid may be reused */
	struct child *next;
};

/* A connection accepted while no child was idle. */
struct pending_conn {
	int fd;
	enum ipc_listener kind;
	char addr[IPC_ADDR_LEN];
	unsigned port;
	struct pending_conn *next;
};

struct master {
	const char *config_path;
	struct cairn_config *cfg;
	int config_memfd;
	unsigned generation;
	bool foreground;
	bool privsep;             /* running as root: children drop privileges */

	struct listener listeners[MASTER_MAX_LISTENERS];
	size_t n_listeners;

	struct child *children;
	unsigned n_busy;          /* imapd children serving a session */
	unsigned n_lmtp_busy;     /* lmtpd children serving a connection */
	struct pending_queue {
		struct pending_conn *head, *tail;
		unsigned n;
	} pending[SERVICES];

	/* spawn back-off after children die before saying HELLO */
	struct backoff {
		unsigned failures;
		time_t next_spawn;
	} backoff[CHILD_KINDS];

	uint64_t next_session_id;
	bool stopping;
	bool ready_told;          /* systemd has had READY=1 (authd answered) */
};

/*
 * SIGHUP and cairnctl reload: re-read the configuration file.  A broken
 * file changes nothing.  -1 with why (one or more lines) when it did not
 * take; errlen may be 0 (SIGHUP: the log says it all).
 */
int master_reload(struct master *m, char *err, size_t errlen);

/* listen.c */
/*
 * Open, keep or close listeners so *cur matches cfg; on error *cur is
 * unchanged.  privsep: the LMTP socket's owner is root, its group
 * lmtp-group (which must exist).
 */
int listeners_open(const struct cairn_config *cfg, bool privsep,
    struct listener *cur, size_t *n_cur, char *err, size_t errlen);
/* Close them all (the LMTP socket's file is removed). */
void listeners_close(struct listener *l, size_t n);
void listener_accept(struct master *m, const struct listener *l);
enum service listener_service(enum ipc_listener kind);

/* auth.c: logins relayed between imapd children and cairn-authd */
void auth_relay_request(struct master *m, struct child *c, struct ipc_msg *msg);
void auth_handle_result(struct master *m, struct ipc_msg *msg);
void auth_fail_pending(struct master *m, pid_t authd_pid);
void auth_reply_failed(struct child *c, enum ipc_auth_result result);
/*
 * <data-dir>/mail/<store_dir>, opened as root, created on first use for
 * the mail user; -1 (logged) when it cannot be, or is not the mail user's.
 */
int auth_open_store(const struct master *m, const char *store_dir);

/* lookup.c: recipient lookups relayed between lmtpd children and authd */
void lookup_relay_request(struct master *m, struct child *c, struct ipc_msg *msg);
void lookup_handle_result(struct master *m, struct ipc_msg *msg);
void lookup_fail_pending(struct master *m, pid_t authd_pid);

/* spool.c: <data-dir>/spool, where cairn-lmtpd writes DATA */
/* Create it for the mail user (0700) and empty it; before any child. */
void spool_prepare(const struct master *m);
/* Remove what the lmtpd pid left there (it is gone). */
void spool_clean_pid(const struct master *m, pid_t pid);

/* stats.c: the counters of cairnctl stats, since the master started */
void stats_init(void);
void stats_connection(enum service sv);
void stats_login(enum ipc_auth_result result);
void stats_session(const struct ipc_session_stats *s);
void stats_delivery(const struct ipc_delivery_report *r);
struct buf;
/* "NAME LABEL VALUE" lines (LABEL "-" when none): control.c's answer. */
void stats_format(const struct master *m, struct buf *out);

/* control.c: <run-dir>/control, cairnctl's socket (root only) */
/* Bind it (a stale socket is replaced); fatal when it cannot be. */
void control_open(const struct master *m);
/* Close it and every client, remove the file. */
void control_close(void);
/* poll() entries: the socket and its clients; at most control_max_fds(). */
size_t control_max_fds(void);
size_t control_pollfds(struct pollfd *pfd);
/* After poll(): pfd and n as control_pollfds() filled them. */
void control_handle(struct master *m, const struct pollfd *pfd, size_t n);
/* How long poll may sleep before a client's deadline (-1: none). */
int control_timeout_ms(void);

/* pool.c */
struct child *pool_authd(struct master *m);  /* the ready cairn-authd, or NULL */
struct child *pool_find_session(struct master *m, enum child_kind kind,
    uint64_t session_id);
void pool_kill_child(struct child *c, const char *why);
void pool_fill(struct master *m);
void pool_start_authd(struct master *m);
void pool_handle_message(struct master *m, struct child *c);
void pool_reap(struct master *m);
void pool_dispatch(struct master *m, int fd, enum ipc_listener kind,
    const char *addr, unsigned port);
void pool_retire_generation(struct master *m, unsigned generation);
void pool_shutdown_all(struct master *m);
void pool_kill_all(struct master *m);
unsigned pool_count(const struct master *m);
int pool_next_timeout_ms(const struct master *m);

/* notify.c: "READY=1" etc. to systemd when $NOTIFY_SOCKET is set */
void notify_systemd(const char *state);

#endif
