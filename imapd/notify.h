/*
 * NOTIFY (RFC 5465), the parts that do no I/O: the command's arguments
 * (§3.1, §6, §8) and what changed between two looks at the user's
 * mailboxes (§5), as a list of the STATUS and LIST responses to send.
 * cmd-notify.c takes the looks, sends the responses and waits for the
 * change signal.
 */
#ifndef CAIRN_IMAPD_NOTIFY_H
#define CAIRN_IMAPD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "fetch.h"
#include "parser.h"
#include "store.h"

/* Events (§5); AnnotationChange and the METADATA ones are not offered. */
#define NOTIFY_MESSAGE_NEW         (1u << 0)
#define NOTIFY_MESSAGE_EXPUNGE     (1u << 1)
#define NOTIFY_FLAG_CHANGE         (1u << 2)
#define NOTIFY_MAILBOX_NAME        (1u << 3)
#define NOTIFY_SUBSCRIPTION_CHANGE (1u << 4)
#define NOTIFY_MESSAGE_EVENTS \
	(NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE | NOTIFY_FLAG_CHANGE)
/* The BADEVENT response code lists them all (§3.1). */
#define NOTIFY_SUPPORTED_EVENTS "MessageNew MessageExpunge FlagChange " \
	"MailboxName SubscriptionChange"

/*
 * A session watches at most this many mailboxes and subscriptions in all
 * (its snapshot of them): NOTIFY SET over it is refused with
 * NO [NOTIFICATIONOVERFLOW], and growing past it later ends the
 * notifications with "* OK [NOTIFICATIONOVERFLOW]" (§5.8).
 */
#define NOTIFY_MAX_MAILBOXES 5000
/* SUBTREE and MAILBOXES names in one NOTIFY command. */
#define NOTIFY_MAX_NAMES 100

/* The filters other than SELECTED / SELECTED-DELAYED (§6.2-§6.6). */
enum notify_filter {
	NOTIFY_PERSONAL,
	NOTIFY_INBOXES,           /* taken as PERSONAL, as §6.3 says to */
	NOTIFY_SUBSCRIBED,
	NOTIFY_SUBTREE,
	NOTIFY_MAILBOXES,
};

struct notify_group {
	enum notify_filter filter;
	char **names;             /* SUBTREE, MAILBOXES: UTF-8, INBOX in
	                           * capitals as the store has it */
	size_t n_names;
	unsigned events;          /* NOTIFY_* */
};

struct notify_spec {
	bool none;                /* NOTIFY NONE */
	bool status;              /* NOTIFY SET STATUS */
	bool selected;            /* a SELECTED or SELECTED-DELAYED group */
	bool delayed;             /* ... SELECTED-DELAYED (§6.1.2) */
	unsigned selected_events; /* NOTIFY_MESSAGE_EVENTS only */
	bool fetch_set;           /* MessageNew (fetch-att ...) of SELECTED */
	struct fetch_request fetch;
	struct notify_group *groups;
	size_t n_groups;
};

enum notify_parse_result {
	NOTIFY_PARSE_OK,
	NOTIFY_PARSE_BAD,         /* "<tag> BAD <why>" */
	NOTIFY_PARSE_BADEVENT,    /* "<tag> NO [BADEVENT (...)] <why>" */
};

/*
 * A mailbox name argument as UTF-8, appended to out: 0; -1 with *why when
 * it is malformed (BAD); 1 when it is no name a mailbox can have (it is
 * then ignored, as §3.1 says of names that name no mailbox).
 */
typedef int notify_name_fn(void *arg, const struct imap_arg *a, struct buf *out,
    const char **why);

#define NOTIFY_WHY_MAX 200

/*
 * The arguments of NOTIFY, args[0..n): NONE, or SET [STATUS] and event
 * groups.  Syntax first (BAD), then the rules of §5 and §6.1 on which
 * events go together (BAD), then events this server does not offer
 * (BADEVENT).  sp is freed by notify_spec_free either way.
 */
enum notify_parse_result notify_parse(const struct imap_arg *args, size_t n,
    notify_name_fn *name, void *arg, struct notify_spec *sp, char *why,
    size_t whylen);
void notify_spec_free(struct notify_spec *sp);

/* The events the groups other than SELECTED ask for on a mailbox name. */
unsigned notify_events(const struct notify_spec *sp, const char *name,
    bool subscribed);
/* Does any group other than SELECTED ask for an event? */
bool notify_watches_others(const struct notify_spec *sp);

/* ---- looks at the mailboxes ------------------------------------------------ */

struct notify_mbox {
	int64_t id;               /* stays across RENAME */
	char *name;
	unsigned special_use;
	bool noselect;
	bool subscribed;
	bool counted;             /* st has its counts (message events watch it) */
	struct store_status st;   /* uidvalidity, uidnext, highestmodseq always */
};

/* One look: the mailboxes and the subscriptions, each sorted by name. */
struct notify_snap {
	struct notify_mbox *mb;
	size_t n, cap;
	char **subs;
	size_t n_subs, cap_subs;
};

/* Add a mailbox (not counted) or a subscription; then sort. */
struct notify_mbox *notify_snap_add(struct notify_snap *sn,
    const struct store_mailbox *mb);
void notify_snap_add_sub(struct notify_snap *sn, const char *name);
/* Sorts, and marks the subscribed mailboxes. */
void notify_snap_finish(struct notify_snap *sn);
void notify_snap_free(struct notify_snap *sn);
/* Entries in all, for NOTIFY_MAX_MAILBOXES. */
size_t notify_snap_size(const struct notify_snap *sn);
const struct notify_mbox *notify_snap_get(const struct notify_snap *sn,
    const char *name);
/* Does a message event watch it (then it is to be counted)? */
bool notify_wants_counts(const struct notify_spec *sp, const struct notify_mbox *m);
/* Can the counts of old stand for m (nothing moved: same UIDVALIDITY,
 * UIDNEXT and HIGHESTMODSEQ)? */
bool notify_same_counts(const struct notify_mbox *old, const struct notify_mbox *m);

/* ---- what changed ------------------------------------------------------------ */

/* LIST attributes: the values of cmd.h's CMD_LIST_* (cmd-notify.c checks) */
#define NOTIFY_ATTR_NONEXISTENT   (1u << 0)
#define NOTIFY_ATTR_NOSELECT      (1u << 1)
#define NOTIFY_ATTR_HASCHILDREN   (1u << 2)
#define NOTIFY_ATTR_HASNOCHILDREN (1u << 3)
#define NOTIFY_ATTR_SUBSCRIBED    (1u << 4)

/* STATUS items */
#define NOTIFY_ITEM_MESSAGES      (1u << 0)
#define NOTIFY_ITEM_UIDNEXT       (1u << 1)
#define NOTIFY_ITEM_UIDVALIDITY   (1u << 2)
#define NOTIFY_ITEM_UNSEEN        (1u << 3)
#define NOTIFY_ITEM_HIGHESTMODSEQ (1u << 4)

struct notify_note {
	bool list;                /* a LIST response, else a STATUS */
	const char *name;         /* into the snapshots: valid while they are */
	const char *oldname;      /* LIST after a RENAME (OLDNAME, §5.4) */
	unsigned attrs;           /* LIST: NOTIFY_ATTR_* */
	unsigned special_use;     /* LIST: STORE_USE_* */
	unsigned items;           /* STATUS: NOTIFY_ITEM_* */
	const struct store_status *st;
};

struct notify_notes {
	struct notify_note *v;
	size_t n, cap;
};

/*
 * The mailboxes this session's own commands changed since the last look
 * (created, deleted, renamed, subscribed to, given messages by APPEND,
 * COPY or MOVE): §5 says the server should not tell a client of its own
 * changes.  At most NOTIFY_OWN_MAX names (a command changes one or two);
 * a name past that is told as another session's change would be.
 */
#define NOTIFY_OWN_MAX 8
struct notify_own {
	char *names[NOTIFY_OWN_MAX];   /* UTF-8, INBOX in capitals */
	size_t n;
};
void notify_own_add(struct notify_own *own, const char *name);
void notify_own_clear(struct notify_own *own);

/*
 * What the client asked to hear of between two looks: LIST responses
 * (MailboxName §5.4, SubscriptionChange §5.5), in name order, then one
 * STATUS per mailbox whose messages changed (§5.1-§5.3), in name order.
 * The selected mailbox (selected_id, 0: none) gets no STATUS: SELECTED
 * decides what the client hears of its messages (§3.1).  condstore: the
 * client enabled CONDSTORE or QRESYNC.  own (may be NULL): nothing is
 * told of those names, nor of a mailbox above one (whose children they
 * are), which only this session's commands changed as far as one can
 * tell (a change another session made to the same names meanwhile is
 * not told either: the store does not say who changed what).
 */
void notify_diff(const struct notify_snap *old, const struct notify_snap *cur,
    const struct notify_spec *sp, int64_t selected_id, bool condstore,
    const struct notify_own *own, struct notify_notes *out);
/* NOTIFY SET STATUS (§3.1): the items due for one mailbox, 0 for none. */
unsigned notify_initial_items(const struct notify_spec *sp,
    const struct notify_mbox *m);
void notify_notes_free(struct notify_notes *out);

#endif
