/*
 * Mailboxes as a whole: CREATE, DELETE, RENAME (RFC 9051 §6.3.4-6.3.6),
 * LIST, STATUS, and the subscription list.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "store-int.h"

/* Create the missing superiors of name (RFC 9051 §6.3.4: SHOULD). */
static enum store_result
create_parents(struct store *st, const char *name)
{
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	struct store_mailbox mb;
	enum store_result r;
	uint32_t uidvalidity;
	int64_t id;

	for (const char *p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		memcpy(parent, name, (size_t)(p - name));
		parent[p - name] = '\0';
		if ((r = index_mailbox_get(st->ix, parent, 0, &mb, NULL)) == STORE_OK)
			continue;
		if (r != STORE_NOT_FOUND ||
		    store_new_uidvalidity(st, &uidvalidity) != STORE_OK ||
		    index_mailbox_add(st->ix, parent, uidvalidity, 0, &id) != STORE_OK)
			return STORE_ERROR;
	}
	return STORE_OK;
}

/*
 * A \Noselect name (deleted while it had children) is taken back: the
 * client creates what it sees as a missing mailbox.  It gets a new
 * UIDVALIDITY like any mailbox deleted and created again; UIDNEXT goes on,
 * so its tombstones can never name a new message.
 */
enum store_result
mailbox_create_tree(struct store *st, const char *name, unsigned special_use,
    int64_t *id)
{
	struct store_mailbox mb;
	enum store_result r;
	uint32_t uidvalidity;

	if (create_parents(st, name) != STORE_OK)
		return STORE_ERROR;
	r = index_mailbox_get(st->ix, name, 0, &mb, NULL);
	if (r == STORE_OK && !mb.noselect)
		return store_fail(st, STORE_EXISTS, "mailbox exists");
	if (r != STORE_OK && r != STORE_NOT_FOUND)
		return r;
	if (store_new_uidvalidity(st, &uidvalidity) != STORE_OK)
		return STORE_ERROR;
	if (r == STORE_OK) {
		*id = mb.id;
		return index_mailbox_set_state(st->ix, mb.id, false, uidvalidity,
		    special_use);
	}
	return index_mailbox_add(st->ix, name, uidvalidity, special_use, id);
}

enum store_result
store_mailbox_get(struct store *st, const char *name, struct store_mailbox *out)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	enum store_result r;

	if ((r = store_name_canon(st, name, canon)) != STORE_OK)
		return r;
	return index_mailbox_get(st->ix, canon, 0, out, NULL);
}

enum store_result
store_mailbox_create(struct store *st, const char *name, unsigned special_use)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	enum store_result r;
	int64_t id;

	if ((special_use & ~STORE_USE_ALL) != 0)
		return store_fail(st, STORE_INVALID, "unknown special use");
	if ((r = store_name_canon(st, name, canon)) != STORE_OK)
		return r;
	if (store_name_is_inbox(canon))
		return store_fail(st, STORE_EXISTS, "INBOX always exists");
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	if ((r = mailbox_create_tree(st, canon, special_use, &id)) != STORE_OK) {
		index_rollback(st->ix);
		return r;
	}
	return index_commit(st->ix);
}

/* Every message of mb goes, with tombstones; the mailbox's modseq moves. */
static enum store_result
empty_mailbox(struct store *st, const struct store_mailbox *mb,
    struct idlist *freed)
{
	struct index_filter all = { 1, UINT32_MAX, 0, false };
	struct index_message *m;
	enum store_result r;
	size_t n;

	if (index_message_list(st->ix, mb->id, &all, &m, &n) != STORE_OK)
		return STORE_ERROR;
	r = store_remove_messages(st, mb->id, m, n, mb->highestmodseq + 1, freed);
	free(m);
	if (r == STORE_OK)
		r = index_mailbox_set_counters(st->ix, mb->id, mb->uidnext,
		    mb->highestmodseq + 1);
	return r;
}

/*
 * RFC 9051 §6.3.5: a mailbox with children loses its messages and becomes
 * \Noselect; a \Noselect one with children cannot be deleted; otherwise it
 * goes, and a later CREATE of the name gets a new UIDVALIDITY.
 */
static enum store_result
delete_locked(struct store *st, const char *name, struct idlist *freed)
{
	struct store_mailbox mb;
	enum store_result r;
	bool children;

	if ((r = index_mailbox_get(st->ix, name, 0, &mb, NULL)) != STORE_OK)
		return r == STORE_NOT_FOUND ?
		    store_fail(st, r, "no such mailbox") : r;
	if (index_mailbox_has_children(st->ix, name, &children) != STORE_OK)
		return STORE_ERROR;
	if (children && mb.noselect)
		return store_fail(st, STORE_HAS_CHILDREN, "the mailbox has "
		    "children and is already \\Noselect");
	if (empty_mailbox(st, &mb, freed) != STORE_OK)
		return STORE_ERROR;
	if (children)
		return index_mailbox_set_state(st->ix, mb.id, true, mb.uidvalidity, 0);
	return index_mailbox_remove(st->ix, mb.id);
}

enum store_result
store_mailbox_delete(struct store *st, const char *name)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	struct idlist freed = { NULL, 0, 0 };
	enum store_result r;

	if ((r = store_name_canon(st, name, canon)) != STORE_OK)
		return r;
	if (store_name_is_inbox(canon))
		return store_fail(st, STORE_INVALID, "INBOX cannot be deleted");
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	if ((r = delete_locked(st, canon, &freed)) != STORE_OK ||
	    (r = index_commit(st->ix)) != STORE_OK) {
		index_rollback(st->ix);
		free(freed.id);
		return r;
	}
	store_unlink_freed(st, &freed);
	return STORE_OK;
}

/*
 * RFC 9051 §6.3.6: renaming INBOX moves its messages to a new mailbox and
 * leaves INBOX empty; its children stay.  The new mailbox keeps the UIDs
 * under a new UIDVALIDITY; INBOX keeps its UIDNEXT, so no UID is reused,
 * and gets tombstones, so sessions that have it selected see expunges.
 */
static enum store_result
rename_inbox(struct store *st, const struct store_mailbox *inbox, const char *to)
{
	uint64_t modseq = inbox->highestmodseq + 1;
	uint32_t uidvalidity, recent_uid;
	struct store_mailbox mb;
	int64_t id;

	if (index_mailbox_get(st->ix, inbox->name, 0, &mb, &recent_uid) != STORE_OK ||
	    create_parents(st, to) != STORE_OK ||
	    store_new_uidvalidity(st, &uidvalidity) != STORE_OK ||
	    index_mailbox_add(st->ix, to, uidvalidity, 0, &id) != STORE_OK ||
	    index_keywords_copy(st->ix, inbox->id, id) != STORE_OK ||
	    index_message_rehome(st->ix, inbox->id, id, modseq) != STORE_OK ||
	    index_mailbox_set_counters(st->ix, id, inbox->uidnext, modseq) != STORE_OK ||
	    index_mailbox_set_recent(st->ix, id, recent_uid) != STORE_OK ||
	    index_mailbox_set_counters(st->ix, inbox->id, inbox->uidnext,
	    modseq) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

/* Children move with it ("a" -> "x" renames "a/b" to "x/b"); UIDVALIDITY
 * stays: the messages and their UIDs are the same. */
static enum store_result
rename_locked(struct store *st, const char *from, const char *to)
{
	struct store_mailbox mb, other;
	enum store_result r;
	bool clash;

	if ((r = index_mailbox_get(st->ix, from, 0, &mb, NULL)) != STORE_OK)
		return r == STORE_NOT_FOUND ?
		    store_fail(st, r, "no such mailbox") : r;
	if ((r = index_mailbox_get(st->ix, to, 0, &other, NULL)) != STORE_NOT_FOUND)
		return r == STORE_OK ?
		    store_fail(st, STORE_EXISTS, "the new name exists") : r;
	if (store_name_is_inbox(from))
		return rename_inbox(st, &mb, to);
	if (index_mailbox_rename_clash(st->ix, from, to, &clash) != STORE_OK)
		return STORE_ERROR;
	if (clash)
		return store_fail(st, STORE_EXISTS, "a child's new name exists");
	if (create_parents(st, to) != STORE_OK)
		return STORE_ERROR;
	return index_mailbox_rename(st->ix, from, to);
}

enum store_result
store_mailbox_rename(struct store *st, const char *from, const char *to)
{
	char cfrom[STORE_MAILBOX_NAME_MAX + 1], cto[STORE_MAILBOX_NAME_MAX + 1];
	size_t flen;
	enum store_result r;

	if ((r = store_name_canon(st, from, cfrom)) != STORE_OK ||
	    (r = store_name_canon(st, to, cto)) != STORE_OK)
		return r;
	if (strcmp(cfrom, cto) == 0 || store_name_is_inbox(cto))
		return store_fail(st, STORE_EXISTS, "the new name exists");
	flen = strlen(cfrom);
	if (strncmp(cto, cfrom, flen) == 0 && cto[flen] == '/')
		return store_fail(st, STORE_INVALID, "cannot rename a mailbox "
		    "into its own hierarchy");
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	if ((r = rename_locked(st, cfrom, cto)) != STORE_OK) {
		index_rollback(st->ix);
		return r;
	}
	return index_commit(st->ix);
}

enum store_result
store_mailbox_list(struct store *st,
    int (*fn)(const struct store_mailbox *mb, void *arg), void *arg)
{
	struct store_mailbox *all;
	size_t n;

	/* Read whole first: fn may call the store. */
	if (index_mailbox_all(st->ix, &all, &n) != STORE_OK)
		return STORE_ERROR;
	for (size_t i = 0; i < n; i++)
		if (fn(&all[i], arg) != 0)
			break;
	free(all);
	return STORE_OK;
}

/* In one read transaction, so that the counts and UIDNEXT agree. */
enum store_result
store_mailbox_status(struct store *st, const char *name, struct store_status *out)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	struct store_mailbox mb;
	enum store_result r;
	uint32_t recent_uid;

	memset(out, 0, sizeof(*out));
	if ((r = store_name_canon(st, name, canon)) != STORE_OK)
		return r;
	if (index_begin(st->ix, false) != STORE_OK)
		return STORE_ERROR;
	r = index_mailbox_get(st->ix, canon, 0, &mb, &recent_uid);
	if (r == STORE_OK && mb.noselect)
		r = store_fail(st, STORE_NOT_FOUND, "the mailbox is \\Noselect");
	else if (r == STORE_NOT_FOUND)
		store_fail(st, r, "no such mailbox");
	if (r == STORE_OK)
		r = index_mailbox_counts(st->ix, mb.id, recent_uid, out);
	if (r != STORE_OK) {
		index_rollback(st->ix);
		return r;
	}
	out->uidnext = mb.uidnext;
	out->uidvalidity = mb.uidvalidity;
	out->highestmodseq = mb.highestmodseq;
	return index_commit(st->ix);
}

enum store_result
store_subscribe(struct store *st, const char *name, bool on)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	enum store_result r;

	if ((r = store_name_canon(st, name, canon)) != STORE_OK)
		return r;
	if ((r = index_subscribe(st->ix, canon, on)) == STORE_NOT_FOUND)
		store_fail(st, r, "not subscribed");
	return r;
}

enum store_result
store_subscriptions(struct store *st, int (*fn)(const char *name, void *arg),
    void *arg)
{
	char **names;
	size_t n, i;

	if (index_subscriptions(st->ix, &names, &n) != STORE_OK)
		return STORE_ERROR;
	for (i = 0; i < n; i++)
		if (fn(names[i], arg) != 0)
			break;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return STORE_OK;
}
