/*
 * The whole wire contract between Cairn's processes.
 *
 * Every message is one SOCK_SEQPACKET datagram: a struct ipc_header, then
 * exactly the payload its type declares, and at most one descriptor
 * (SCM_RIGHTS) where the type allows one.  ipc_recv() checks every message
 * against ipc_types[] before the caller sees it: known type, allowed
 * direction, exact size, descriptor present exactly when required, and the
 * per-type check (NUL-terminated strings, enum ranges).  Bump IPC_VERSION on
 * any change to this file.
 */
#ifndef CAIRN_IPC_H
#define CAIRN_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_VERSION 4

/* Fixed descriptors in every child (set up by spawn.c before exec). */
#define IPC_FD_CONTROL 3   /* SOCK_SEQPACKET socketpair to the master */
#define IPC_FD_CONFIG  4   /* read-only memfd: the validated config text */

#define IPC_MAX_PAYLOAD 4096
#define IPC_ADDR_LEN 64    /* textual IPv4/IPv6 address, NUL-terminated */
#define IPC_LOGIN_LEN 256  /* a login name as the client typed it, NUL-terminated */
#define IPC_PASSWORD_LEN 512  /* PASSWORD_MAX (511, libxcrypt's limit) + NUL */
#define IPC_USER_LEN 129   /* a canonical user name: USERNAME_MAX + NUL */
#define IPC_MAILBOX_LEN 256  /* a mailbox name for cairnctl who, UTF-8, cut
                              * at a character boundary; NUL-terminated */
#define IPC_REASON_LEN 128   /* a BYE text: printable ASCII, NUL-terminated */

/* Who is at either end of a channel. */
enum ipc_role {
	IPC_ROLE_MASTER = 1 << 0,
	IPC_ROLE_IMAPD  = 1 << 1,
	IPC_ROLE_AUTHD  = 1 << 2,
	IPC_ROLE_LMTPD  = 1 << 3,
};

enum ipc_type {
	/* lifecycle: 100-199 */
	IPC_HELLO = 100,         /* child -> master: privileges dropped, ready */
	IPC_SHUTDOWN = 101,      /* master -> child: say BYE if serving, exit */

	/* session: 200-299 */
	IPC_SESSION_START = 200, /* master -> imapd, lmtpd: a client socket (fd) */

	/* auth: 300-399 */
	IPC_AUTH_REQUEST = 300,  /* imapd -> master: credentials to check */
	IPC_AUTHD_REQUEST = 301, /* master -> authd: the same, stamped by the master */
	IPC_AUTHD_RESULT = 302,  /* authd -> master: the verdict */
	IPC_AUTH_OK = 303,       /* master -> imapd: logged in (fd: store directory) */
	IPC_AUTH_FAILED = 304,   /* master -> imapd: refused, and why */
	/* recipient lookups for delivery: never a login, no password */
	IPC_LOOKUP_REQUEST = 305,      /* lmtpd -> master: who is this recipient? */
	IPC_AUTHD_LOOKUP = 306,        /* master -> authd: the same, stamped */
	IPC_AUTHD_LOOKUP_RESULT = 307, /* authd -> master: the answer */
	IPC_LOOKUP_OK = 308,     /* master -> lmtpd: a user (fd: store directory) */
	IPC_LOOKUP_FAILED = 309, /* master -> lmtpd: no such user, or why not */
	/* reports for cairnctl who and stats: 400-499 */
	IPC_SESSION_STATE = 400, /* imapd -> master: state, selected mailbox */
	IPC_SESSION_STATS = 401, /* imapd -> master: commands, bytes since last */
	IPC_DELIVERY_REPORT = 402, /* lmtpd -> master: one recipient's outcome */
	IPC_KICK = 403,          /* master -> imapd: say BYE with this reason, exit */
};

struct ipc_header {
	uint32_t type;
	uint32_t len;            /* payload bytes after the header */
};

/* IPC_HELLO */
struct ipc_hello {
	uint32_t version;        /* IPC_VERSION of the sender */
	uint32_t role;           /* enum ipc_role of the sender */
};

enum ipc_listener {
	IPC_LISTENER_PLAIN = 0,  /* bind-port: clear text, STARTTLS */
	IPC_LISTENER_TLS = 1,    /* bind-port-tls: implicit TLS */
	IPC_LISTENER_LMTP = 2,   /* lmtp-socket: LMTP over the Unix socket */
	IPC_LISTENER_LMTP_TCP = 3, /* lmtp-bind: LMTP over TCP */
};

/* IPC_SESSION_START, with the client socket (peer_addr "local" on a Unix socket) */
struct ipc_session_start {
	uint64_t session_id;
	uint32_t listener;       /* enum ipc_listener */
	uint32_t peer_port;
	char peer_addr[IPC_ADDR_LEN];
};

enum ipc_auth_mech {
	IPC_MECH_LOGIN = 1,      /* the IMAP LOGIN command */
	IPC_MECH_PLAIN = 2,      /* AUTHENTICATE PLAIN (RFC 4616) */
	IPC_MECH_SASL_LOGIN = 3, /* AUTHENTICATE LOGIN */
};

enum ipc_auth_result {
	IPC_AUTH_RESULT_OK = 0,
	IPC_AUTH_RESULT_BAD_CREDENTIALS = 1,
	IPC_AUTH_RESULT_DISABLED = 2,     /* right password, disabled account */
	IPC_AUTH_RESULT_UNAVAILABLE = 3,  /* authd down, database unreadable */
	IPC_AUTH_RESULT_LIMIT = 4,        /* max-concurrent sessions reached */
};

/* IPC_AUTH_REQUEST: one in flight per session */
struct ipc_auth_request {
	uint32_t mechanism;      /* enum ipc_auth_mech */
	char user[IPC_LOGIN_LEN];
	char password[IPC_PASSWORD_LEN];
};

/* IPC_AUTHD_REQUEST: the master adds who is asking; a child cannot forge it */
struct ipc_authd_request {
	uint64_t session_id;
	uint32_t mechanism;
	char user[IPC_LOGIN_LEN];
	char password[IPC_PASSWORD_LEN];
	char peer_addr[IPC_ADDR_LEN];
};

/* IPC_AUTHD_RESULT */
struct ipc_authd_result {
	uint64_t session_id;
	uint32_t result;         /* enum ipc_auth_result, never LIMIT */
	uint64_t quota;          /* bytes, 0 = none */
	char user[IPC_USER_LEN];      /* canonical name (OK only) */
	char store_dir[IPC_USER_LEN]; /* under <data-dir>/mail/ (OK only) */
};

/* IPC_AUTH_OK, with the store directory descriptor */
struct ipc_auth_ok {
	uint64_t quota;
	char user[IPC_USER_LEN];
};

/* IPC_AUTH_FAILED */
struct ipc_auth_failed {
	uint32_t result;         /* enum ipc_auth_result, not OK */
};

enum ipc_lookup_result {
	IPC_LOOKUP_RESULT_OK = 0,
	IPC_LOOKUP_RESULT_NO_SUCH_USER = 1,
	IPC_LOOKUP_RESULT_DISABLED = 2,
	IPC_LOOKUP_RESULT_UNAVAILABLE = 3,  /* authd down, database unreadable,
	                                     * store directory not openable */
};

/*
 * IPC_LOOKUP_REQUEST: one in flight per lmtpd.  The address is the
 * recipient without its +detail; authd maps it to a user (authd/lookup.c).
 */
struct ipc_lookup_request {
	char address[IPC_LOGIN_LEN];
};

/* IPC_AUTHD_LOOKUP: the master adds which session asks */
struct ipc_authd_lookup {
	uint64_t session_id;
	char address[IPC_LOGIN_LEN];
};

/* IPC_AUTHD_LOOKUP_RESULT */
struct ipc_authd_lookup_result {
	uint64_t session_id;
	uint32_t result;         /* enum ipc_lookup_result */
	uint64_t quota;          /* bytes, 0 = none (OK only) */
	char user[IPC_USER_LEN];      /* canonical name (OK only) */
	char store_dir[IPC_USER_LEN]; /* under <data-dir>/mail/ (OK only) */
};

/* IPC_LOOKUP_OK, with the store directory descriptor */
struct ipc_lookup_ok {
	uint64_t quota;
	char user[IPC_USER_LEN];
};

/* IPC_LOOKUP_FAILED */
struct ipc_lookup_failed {
	uint32_t result;         /* enum ipc_lookup_result, not OK */
};

/* IPC_SESSION_STATE: sent when the state or the mailbox changes */
enum ipc_state {
	IPC_STATE_NOT_AUTHENTICATED = 0,
	IPC_STATE_AUTHENTICATED = 1,
	IPC_STATE_SELECTED = 2,
	IPC_STATE_IDLE = 3,      /* in IDLE: authenticated or selected */
	IPC_STATE_LOGOUT = 4,
};

struct ipc_session_state {
	uint32_t state;          /* enum ipc_state */
	char mailbox[IPC_MAILBOX_LEN];  /* "" when none is selected */
};

/*
 * IPC_SESSION_STATS: what a session did since its last report (sent with
 * each state report and at its end), so the master only adds.  Commands
 * are counted by their index in ipc_command_names[]; the last one,
 * IPC_CMD_OTHER, counts unknown names.
 */
#define IPC_CMD_COUNT 39
#define IPC_CMD_OTHER (IPC_CMD_COUNT - 1)
struct ipc_session_stats {
	uint64_t bytes_in;       /* IMAP bytes read, before TLS and COMPRESS */
	uint64_t bytes_out;      /* IMAP bytes written */
	uint32_t commands[IPC_CMD_COUNT];
};

/* IPC_DELIVERY_REPORT: after each recipient's answer following DATA */
enum ipc_delivery_result {
	IPC_DELIVERY_OK = 0,
	IPC_DELIVERY_FAILED = 1, /* refused (quota, size) or a temporary error */
};
struct ipc_delivery_report {
	uint32_t result;         /* enum ipc_delivery_result */
	uint32_t pad;
	uint64_t size;           /* the message's bytes (OK only) */
};

/* IPC_KICK: the session says "* BYE <reason>" and ends */
struct ipc_kick {
	char reason[IPC_REASON_LEN];
};

struct ipc_msg {
	uint32_t type;
	uint32_t len;
	int fd;                  /* -1 when none came */
	union {
		unsigned char raw[IPC_MAX_PAYLOAD];
		struct ipc_hello hello;
		struct ipc_session_start session_start;
		struct ipc_auth_request auth_request;
		struct ipc_authd_request authd_request;
		struct ipc_authd_result authd_result;
		struct ipc_auth_ok auth_ok;
		struct ipc_auth_failed auth_failed;
		struct ipc_lookup_request lookup_request;
		struct ipc_authd_lookup authd_lookup;
		struct ipc_authd_lookup_result authd_lookup_result;
		struct ipc_lookup_ok lookup_ok;
		struct ipc_lookup_failed lookup_failed;
		struct ipc_session_state session_state;
		struct ipc_session_stats session_stats;
		struct ipc_delivery_report delivery_report;
		struct ipc_kick kick;
	} p;
};

enum ipc_recv_result {
	IPC_RECV_OK,
	IPC_RECV_EOF,            /* peer closed */
	IPC_RECV_AGAIN,          /* non-blocking socket, nothing there */
	IPC_RECV_ERROR,          /* I/O error: errno */
	IPC_RECV_INVALID,        /* protocol violation: ipc_recv's *why says what */
};

/*
 * Send one message; fd < 0 sends none.  Returns 0, or -1 with errno
 * (EINVAL for a message ipc_types[] does not allow from sender to receiver).
 */
int ipc_send(int sock, enum ipc_role from, enum ipc_role to, uint32_t type,
    const void *payload, size_t len, int fd);
/*
 * Receive and check one message sent by `from` to `self`.  On IPC_RECV_OK
 * the caller owns msg->fd.  On IPC_RECV_INVALID any descriptor is closed.
 */
enum ipc_recv_result ipc_recv(int sock, enum ipc_role self, enum ipc_role from,
    struct ipc_msg *msg, const char **why);
const char *ipc_type_name(uint32_t type);
/*
 * A pool child (imapd, lmtpd) waits on IPC_FD_CONTROL for its connection:
 * the client socket, start filled in; -1 when told to shut down or the
 * master is gone.  Anything else from the master is fatal.
 */
int ipc_wait_session(enum ipc_role self, struct ipc_session_start *start);

/*
 * IMAP command names as counted in struct ipc_session_stats (index ->
 * name; IPC_CMD_OTHER is "OTHER"), and a name's index (IPC_CMD_OTHER when
 * it is not in the table).
 */
extern const char *const ipc_command_names[IPC_CMD_COUNT];
unsigned ipc_command_index(const char *name);

/* Copy a string into a fixed field; -1 (field untouched) if it does not fit. */
int ipc_strlcpy(char *dst, const char *src, size_t size);

#endif
