/* The command table: which command runs in which state, and its handler. */
#ifndef CAIRN_CMD_H
#define CAIRN_CMD_H

#include "parser.h"
#include "session.h"

struct cmd {
	const char *name;
	unsigned states;             /* mask of enum session_state */
	void (*run)(struct session *s, const struct imap_command *c);
	bool uid_ok;                 /* may come as UID <name>: s->uid_command */
};

const struct cmd *cmd_lookup(const char *name);
/* Run one parsed command, or answer BAD when it is unknown or out of state. */
void cmd_dispatch(struct session *s, const struct imap_command *c);

/* cmd-any.c: valid in every state (RFC 9051 §6.1) */
void cmd_capability(struct session *s, const struct imap_command *c);
void cmd_noop(struct session *s, const struct imap_command *c);
void cmd_logout(struct session *s, const struct imap_command *c);
void cmd_id(struct session *s, const struct imap_command *c);
/* cmd.c: UID FETCH|STORE|COPY|MOVE|SEARCH|EXPUNGE (RFC 9051 §6.4.9) */
void cmd_uid(struct session *s, const struct imap_command *c);
/* cmd-nonauth.c: not authenticated state (RFC 9051 §6.2) */
void cmd_starttls(struct session *s, const struct imap_command *c);
/* cmd-auth.c: logging in (RFC 9051 §6.2.2, §6.2.3) */
void cmd_login(struct session *s, const struct imap_command *c);
void cmd_authenticate(struct session *s, const struct imap_command *c);
/* cmd-append.c: APPEND, MULTIAPPEND (RFC 9051 §6.3.12, RFC 3502) */
void cmd_append(struct session *s, const struct imap_command *c);
/*
 * Make s->parser stream APPEND's message literals into the store's tmp/
 * (once logged in), instead of holding them in memory.  The parser must
 * then be freed before the store is closed.
 */
void cmd_append_attach(struct session *s);
/* "<tag> NO [code] ..." for an APPEND its sink refused at a literal's '}'
 * (IMAP_ERR_REFUSED, or at the end of the command). */
void cmd_append_refused(struct session *s, const char *tag);
/* Messages in one MULTIAPPEND; also the tmp/ files open at once. */
#define CMD_APPEND_MAX_MESSAGES 1000
/* The message literals of one APPEND together: the parser's max_streamed. */
#define CMD_APPEND_TOTAL_FACTOR 10
#define CMD_APPEND_MAX_TOTAL(max_request_size) \
	((max_request_size) > SIZE_MAX / CMD_APPEND_TOTAL_FACTOR ? SIZE_MAX : \
	(size_t)(max_request_size) * CMD_APPEND_TOTAL_FACTOR)
/* cmd-idle.c: IDLE (RFC 2177, RFC 9051 §6.3.13) */
void cmd_idle(struct session *s, const struct imap_command *c);
/* cmd-notify.c: NOTIFY (RFC 5465) */
void cmd_notify(struct session *s, const struct imap_command *c);
/*
 * For session_fill between commands: NOTIFY's waiter (the change signal,
 * and the inactivity timeout) while NOTIFY SET is in force and no byte of
 * a command has come; else NULL.
 */
struct session_waiter *cmd_notify_waiter(struct session *s);
/* Is NOTIFY SET in force (IDLE then reports as NOTIFY says, §4)? */
bool cmd_notify_active(const struct session *s);
/* Tell the client what NOTIFY asks about; in_idle: IDLE, where expunges
 * may always be sent.  false when the session ended (BYE sent). */
bool cmd_notify_look(struct session *s, bool in_idle);
/* NOTIFY NONE, and at the end of the session: its watch ends. */
void cmd_notify_free(struct session *s);
/*
 * A command of this session changed the mailbox name (created, deleted,
 * renamed, subscribed to it, or stored messages in it): NOTIFY leaves
 * that out (RFC 5465 §5).  Nothing without NOTIFY SET.
 */
void cmd_notify_own(struct session *s, const char *name);
/* The same for messages stored by APPEND, COPY or MOVE into mailbox (its
 * UIDVALIDITY, and their UIDs, 0 for none): when it is the selected one,
 * MessageNew's FETCH leaves them out (§5.2). */
void cmd_notify_own_new(struct session *s, const char *mailbox,
    uint32_t uidvalidity, const uint32_t *uids, size_t n);
/*
 * After a sync of the selected mailbox (session_sync_flags): a FETCH of
 * MessageNew's attributes for each message above UID last (§5.2), but
 * those this session stored itself.  false when the session ended.
 */
bool cmd_notify_new_messages(struct session *s, uint32_t last);
/* After each command (cmd_dispatch): takes its own changes in without
 * telling them, and tells what other sessions changed meanwhile. */
void cmd_notify_after(struct session *s);
/* cmd-compress.c: COMPRESS (RFC 4978) */
void cmd_compress(struct session *s, const struct imap_command *c);
/* cmd-search.c: SEARCH, UID SEARCH, ESEARCH (RFC 9051 §6.4.4, RFC 4731) */
void cmd_search(struct session *s, const struct imap_command *c);
/* cmd-search.c, shared with SORT and THREAD (cmd-sort.c): the RETURN
 * options (RFC 4731, RFC 5267, RFC 5182 SAVE) ... */
#define CMD_RETURN_MIN   (1u << 0)
#define CMD_RETURN_MAX   (1u << 1)
#define CMD_RETURN_ALL   (1u << 2)
#define CMD_RETURN_COUNT (1u << 3)
#define CMD_RETURN_SAVE  (1u << 4)
/* RETURN's list: 0, or -1 with *why for a BAD.  An empty list means ALL. */
int cmd_search_return(const struct imap_arg *list, unsigned *ret, const char **why);
/* ... the charsets search strings may come in (UTF-8, US-ASCII) ... */
bool cmd_search_charset_ok(const char *name);
/*
 * ... the matching: every message of the selected mailbox that p
 * (search_parse()) matches, in MSN order, under one read snapshot, with
 * fn(arg, msn, message, fields), which may read the message through
 * s->view; fields: its cached header fields when the match read them
 * (store_message_header_fields), else NULL.  false when the store failed
 * (store_error()) or fn returned non-zero.
 */
struct search_program;
bool cmd_search_each(struct session *s, struct search_program *p,
    int (*fn)(void *arg, uint32_t msn, const struct store_message *m,
    const struct buf *fields), void *arg);
/* ... the answers: "ESEARCH (TAG "t")" and " UID" for a UID command ... */
void cmd_esearch_start(const struct session *s, const char *tag, struct buf *line);
/* ... RETURN (SAVE): "$" becomes uids (taken over), or with MIN and/or
 * MAX but neither ALL nor COUNT the UIDs of their messages (RFC 5182
 * §2.4; 0: none) ... */
void cmd_search_save(struct session *s, unsigned ret, struct seqset *uids,
    uint32_t min_uid, uint32_t max_uid);
/* ... and a NO, which with SAVE empties "$" (RFC 5182 §2.1); a BAD
 * leaves it, so BADs go straight to session_tagged(). */
void cmd_search_no(struct session *s, const char *tag, unsigned ret, const char *text);
/* cmd-sort.c: SORT, UID SORT (RFC 5256, RFC 5957, ESORT RFC 5267), THREAD,
 * UID THREAD (RFC 5256) */
void cmd_sort(struct session *s, const struct imap_command *c);
void cmd_thread(struct session *s, const struct imap_command *c);
/* cmd-fetch.c: FETCH, UID FETCH (RFC 9051 §6.4.5, RFC 3516, RFC 7162) */
void cmd_fetch(struct session *s, const struct imap_command *c);
/*
 * NOTIFY's MessageNew (RFC 5465 §5.2): "* n FETCH (...)" of the messages
 * uids (ascending) of the selected mailbox as req asks, never setting
 * \Seen; those gone meanwhile are left out.  false when the connection
 * failed (the session is over) or the store did (logged).
 */
struct fetch_request;
bool cmd_fetch_send(struct session *s, const struct fetch_request *req,
    const uint32_t *uids, size_t n);

/* cmd-select.c: SELECT, EXAMINE, CLOSE, UNSELECT, CHECK, EXPUNGE (RFC 9051
 * §6.3.2, §6.3.3, §6.4.1, §6.4.3, RFC 3691, RFC 4315) */
void cmd_select(struct session *s, const struct imap_command *c);
void cmd_examine(struct session *s, const struct imap_command *c);
void cmd_close(struct session *s, const struct imap_command *c);
void cmd_unselect(struct session *s, const struct imap_command *c);
void cmd_check(struct session *s, const struct imap_command *c);
void cmd_expunge(struct session *s, const struct imap_command *c);
/* cmd-store.c: STORE, COPY, MOVE (RFC 9051 §6.4.6, §6.4.7, RFC 6851) */
void cmd_store(struct session *s, const struct imap_command *c);
void cmd_copy(struct session *s, const struct imap_command *c);
void cmd_move(struct session *s, const struct imap_command *c);

/* cmd-mailbox.c: ENABLE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * NAMESPACE, STATUS (RFC 9051 §6.3, RFC 5161, RFC 2342, RFC 6154) */
void cmd_enable(struct session *s, const struct imap_command *c);
void cmd_create(struct session *s, const struct imap_command *c);
void cmd_delete(struct session *s, const struct imap_command *c);
void cmd_rename(struct session *s, const struct imap_command *c);
void cmd_subscribe(struct session *s, const struct imap_command *c);
void cmd_unsubscribe(struct session *s, const struct imap_command *c);
void cmd_namespace(struct session *s, const struct imap_command *c);
void cmd_status(struct session *s, const struct imap_command *c);
/* cmd-quota.c: GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208) */
void cmd_getquota(struct session *s, const struct imap_command *c);
void cmd_getquotaroot(struct session *s, const struct imap_command *c);
void cmd_setquota(struct session *s, const struct imap_command *c);
/* cmd-list.c: LIST (RFC 9051 §6.3.9, RFC 5258, RFC 6154, RFC 5819), LSUB
 * (RFC 3501 §6.3.9) */
void cmd_list(struct session *s, const struct imap_command *c);
void cmd_lsub(struct session *s, const struct imap_command *c);
/*
 * One "* LIST" (or "* LSUB") response (RFC 9051 §7.3.1), also NOTIFY's
 * (RFC 5465 §5.4, §5.5): its attributes, the special uses (RFC 6154),
 * the name, and the CHILDINFO (RFC 5258 §3.5) or OLDNAME extended item.
 */
#define CMD_LIST_NONEXISTENT   (1u << 0)
#define CMD_LIST_NOSELECT      (1u << 1)
#define CMD_LIST_HASCHILDREN   (1u << 2)
#define CMD_LIST_HASNOCHILDREN (1u << 3)
#define CMD_LIST_SUBSCRIBED    (1u << 4)
struct cmd_list_line {
	const char *name;            /* UTF-8, as the store has it */
	bool lsub;
	unsigned attrs;              /* CMD_LIST_* */
	unsigned special_use;        /* STORE_USE_* */
	bool childinfo;              /* ("CHILDINFO" ("SUBSCRIBED")) */
	const char *oldname;         /* ("OLDNAME" (name)) after a RENAME, or NULL */
};
void cmd_list_send(struct session *s, const struct cmd_list_line *l);

/* cmd-mailbox.c, for cmd-list.c: mailbox names on the wire. */
enum { CMD_NAME_BAD = -1, CMD_NAME_OK = 0, CMD_NAME_INVALID = 1 };
/* Names in UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled), else modified UTF-7? */
bool cmd_utf8_names(const struct session *s);
/*
 * A mailbox name (astring) or, with pattern, a LIST pattern (list-mailbox)
 * argument, appended to out as UTF-8.  CMD_NAME_BAD: malformed (answer
 * BAD *why); CMD_NAME_INVALID: well-formed but no name we can hold (NO
 * [CANNOT] *why; a LIST pattern matches nothing).
 */
int cmd_mailbox_decode(const struct session *s, const struct imap_arg *a,
    bool pattern, struct buf *out, const char **why);
/* The UTF-8 name as the session shows it (modified UTF-7 or UTF-8), quoted. */
int cmd_mailbox_format(const struct session *s, const char *name, struct buf *out);
/* session_sync() in the selected state, then "<tag> OK <what> completed". */
void cmd_mailbox_done(struct session *s, const char *tag, const char *what);
/* STATUS items (RFC 9051 §6.3.11, RFC 8438, RFC 7162, RFC 7889, RFC 8474,
 * RFC 9208), also for LIST-STATUS. */
#define CMD_STATUS_MESSAGES      (1u << 0)
#define CMD_STATUS_UIDNEXT       (1u << 1)
#define CMD_STATUS_UIDVALIDITY   (1u << 2)
#define CMD_STATUS_UNSEEN        (1u << 3)
#define CMD_STATUS_DELETED       (1u << 4)
#define CMD_STATUS_SIZE          (1u << 5)
#define CMD_STATUS_RECENT        (1u << 6)
#define CMD_STATUS_HIGHESTMODSEQ (1u << 7)
#define CMD_STATUS_APPENDLIMIT   (1u << 8)   /* RFC 7889 */
#define CMD_STATUS_MAILBOXID     (1u << 9)   /* RFC 8474 */
#define CMD_STATUS_DELETED_STORAGE (1u << 10) /* RFC 9208 */
/* A parenthesized status item list; 0, or -1 with *why for BAD. */
int cmd_status_items(const struct imap_arg *list, unsigned *items, const char **why);
/* "* STATUS <name> (<items>)"; appendlimit: the value of APPENDLIMIT, if
 * asked (cmd_status_appendlimit, the same for every mailbox). */
void cmd_status_send(struct session *s, const char *name, unsigned items,
    const struct store_status *st, uint64_t appendlimit);
/* RFC 7889 STATUS APPENDLIMIT: what an APPEND can store now, in any
 * mailbox (one quota root): read once per command. */
uint64_t cmd_status_appendlimit(struct session *s);

#endif
