/*
 * cairnd: the root master.  It binds the listeners, keeps the pool of
 * cairn-imapd children, supervises cairn-authd, accepts connections and
 * hands each one, as a descriptor, to an idle child.  It never reads a
 * byte a client sends.
 */
#ifndef CAIRN_MASTER_H
#define CAIRN_MASTER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "ipc.h"

#define MASTER_MAX_LISTENERS (CONFIG_MAX_BIND_ADDRS * 2)

struct listener {
	int fd;
	enum ipc_listener kind;
	char addr[IPC_ADDR_LEN];
	unsigned port;
};

enum child_kind { CHILD_IMAPD, CHILD_AUTHD };
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
	pid_t auth_authd;         /* ... this one */
	char user[IPC_USER_LEN];  /* logged-in user; "" before login */
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
	struct pending_conn *pending_head, *pending_tail;
	unsigned n_pending;

	/* spawn back-off after children die before saying HELLO */
	unsigned imapd_failures;
	time_t imapd_next_spawn;
	unsigned authd_failures;
	time_t authd_next_spawn;

	uint64_t next_session_id;
	bool stopping;
};

/* listen.c */
/* Open, keep or close listeners so *cur matches cfg; on error *cur is unchanged. */
int listeners_open(const struct cairn_config *cfg, struct listener *cur,
    size_t *n_cur, char *err, size_t errlen);
void listeners_close(struct listener *l, size_t n);
void listener_accept(struct master *m, const struct listener *l);

/* auth.c: logins relayed between imapd children and cairn-authd */
void auth_relay_request(struct master *m, struct child *c, struct ipc_msg *msg);
void auth_handle_result(struct master *m, struct ipc_msg *msg);
void auth_fail_pending(struct master *m, pid_t authd_pid);
void auth_reply_failed(struct child *c, enum ipc_auth_result result);

/* pool.c */
struct child *pool_authd(struct master *m);  /* the ready cairn-authd, or NULL */
struct child *pool_find_session(struct master *m, uint64_t session_id);
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

#endif
