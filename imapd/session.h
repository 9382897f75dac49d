/*
 * One IMAP session: its state (RFC 9051 §3), its connection and the loop
 * that reads commands, hands them to the command table and writes replies.
 */
#ifndef CAIRN_SESSION_H
#define CAIRN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "config.h"
#include "conn.h"
#include "ipc.h"
#include "parser.h"
#include "ratelimit.h"
#include "seqset.h"
#include "store.h"

#define SESSION_MAX_LINE (64 * 1024)
#define SESSION_MAX_ARGS 4096
#define SESSION_MAX_DEPTH 16
#define SESSION_USER_MAX 256
/* The CAPABILITY list: about 400 bytes after login, with room to grow. */
#define SESSION_CAPS_MAX 1024

/* RFC 5161 ENABLE: extensions the client turned on. */
#define SESSION_ENABLED_IMAP4REV2 (1u << 0)
#define SESSION_ENABLED_CONDSTORE (1u << 1)
#define SESSION_ENABLED_QRESYNC   (1u << 2)
#define SESSION_ENABLED_UTF8      (1u << 3)

enum session_state {
	SESSION_NOT_AUTHENTICATED = 1 << 0,
	SESSION_AUTHENTICATED     = 1 << 1,
	SESSION_SELECTED          = 1 << 2,
	SESSION_LOGOUT            = 1 << 3,
};

struct session;
struct notify;

/*
 * APPEND's message literals of the command being read (cmd-append.c).
 * At each one's '}' the command is checked as far as it can be before the
 * data comes (the mailbox, the quota, the size), so that a message it
 * would refuse is refused before the client uploads it.  One command's:
 * cleared when the parser releases that command's last literal.
 */
struct session_append {
	unsigned files;              /* literals the parser streams now */
	bool looked;                 /* the mailbox and the quota were read */
	bool quota_known;            /* quota holds them (a store error: no) */
	struct store_quota quota;
	uint64_t octets, messages;   /* the command's messages so far */
	char refusal[160];           /* the NO's text, "" while none */
};

/*
 * A command that waits on more than the client (IDLE) installs one in
 * s->waiter: session_fill then also polls fd (-1: none) and calls wake
 * when it is readable (fd_ready) or when timeout_ms() milliseconds pass,
 * in place of the inactivity timeout; wake may write replies (they are
 * flushed) or end the session with session_bye.  Between commands, once
 * NOTIFY SET is in force, session_fill installs NOTIFY's own
 * (cmd_notify_waiter).
 */
struct session_waiter {
	int fd;
	int (*timeout_ms)(struct session *s, void *arg);
	void (*wake)(struct session *s, bool fd_ready, void *arg);
	void *arg;
	/* true: the waiter keeps a timeout of its own in place of the
	 * inactivity timeout (IDLE's timeout-idle); false: that still ends
	 * a silent client (NOTIFY between commands). */
	bool own_timeout;
};

struct session {
	struct conn conn;
	const struct cairn_config *cfg;
	SSL_CTX *tls_ctx;            /* NULL: no TLS configured */
	enum ipc_listener listener;
	enum session_state state;
	uint64_t id;
	char peer[IPC_ADDR_LEN];
	int control_fd;              /* master's channel; -1 in -S mode */
	struct imap_parser *parser;
	bool discard_input;          /* set by STARTTLS: drop what was pipelined */
	unsigned auth_failures;
	char user[SESSION_USER_MAX];
	int store_dirfd;             /* the user's store directory; -1 before login */
	struct store *store;         /* opened on it at login */
	struct store_view *view;     /* the selected mailbox (SELECTED state) */
	bool view_readonly;          /* EXAMINE, not SELECT */
	/*
	 * The search result variable of RFC 5182 ("$"): UIDs of the selected
	 * mailbox, so expunges need no bookkeeping (an expunged UID is no
	 * longer in the view, so "$" no longer names it).  Empty when nothing
	 * was saved; emptied when the mailbox is closed (select_close()).
	 */
	struct seqset searchres;
	unsigned enabled;            /* SESSION_ENABLED_*: what ENABLE turned on */
	bool uid_command;            /* the running command came as UID <cmd> */
	struct session_append append;    /* APPEND's literals (cmd-append.c) */
	struct session_waiter *waiter;   /* NULL but in IDLE or under NOTIFY */
	struct notify *notify;       /* NOTIFY SET's state (cmd-notify.c), or NULL */
	struct ratelimit rate;       /* rate-limit: this connection's commands */
	uint64_t rate_delayed;       /* waits for rate-limit, for the log */
	size_t in_off, in_len;       /* unparsed bytes: inbuf[in_off..in_len) */
	unsigned char inbuf[16384];
};

/* The caller fills conn, cfg, tls_ctx, listener, state, id, peer, control_fd. */
int session_run(struct session *s);

/* CLOCK_MONOTONIC in milliseconds, for the waiters' deadlines. */
int64_t session_now_ms(void);
/* Replies.  text is server-made; never client bytes unchecked. */
void session_untagged(struct session *s, const char *fmt, ...) CAIRN_PRINTF(2, 3);
void session_tagged(struct session *s, const char *tag, const char *status,
    const char *fmt, ...) CAIRN_PRINTF(4, 5);
/* "IMAP4rev2 IMAP4rev1 ..." for the session's current state. */
void session_capabilities(const struct session *s, char *buf, size_t len);
/* May credentials cross this connection (TLS, or allow-plain-text-auth)? */
bool session_plaintext_ok(const struct session *s);
/* Send * BYE, flush, and end the session. */
void session_bye(struct session *s, const char *why);
/*
 * Read one raw client line (AUTHENTICATE responses), CRLF stripped; the
 * parser is reset first, so the command that asked must be copied out.  0
 * with *line valid until the next parser use; -1 the line was too long;
 * -2 the session is over.
 */
int session_read_line(struct session *s, const char **line, size_t *len);
/*
 * Tell the client what other sessions changed in the selected mailbox
 * (EXPUNGE, EXISTS, RECENT, FETCH FLAGS) before a tagged reply.
 * allow_expunge false during FETCH, STORE and SEARCH (RFC 9051 §7.5.1).
 * false when the session cannot go on (the mailbox vanished: BYE sent).
 */
bool session_sync(struct session *s, bool allow_expunge);
/* The same; flags false leaves other sessions' flag changes unsaid
 * (NOTIFY without FlagChange, RFC 5465 §5.1). */
bool session_sync_flags(struct session *s, bool allow_expunge, bool flags);
/* "* n FETCH (UID u FLAGS (...))", with MODSEQ once CONDSTORE is on
 * (RFC 7162 §3.1): another session's flag change, or QRESYNC's resync. */
void session_send_flags(struct session *s, uint32_t msn,
    const struct store_message *m);
/* Write an already formatted untagged line ("* " + text + CRLF). */
void session_untagged_buf(struct session *s, const struct buf *text);
/*
 * Open the user's store on dirfd (the master's grant, kept open by the
 * session) after login or in -S mode; false (logged) when it cannot be.
 */
bool session_open_store(struct session *s);
/* Close the view and the store at the end of the session. */
void session_close_store(struct session *s);
/* Wait for the master's answer to a login; false when the session ends. */
bool session_wait_master(struct session *s, struct ipc_msg *msg);

#endif
