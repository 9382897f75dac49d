#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "log.h"
#include "store.h"
#include "trace.h"

_Static_assert(TRACE_PREFIX_MAX <= STORE_DELIVER_PREFIX_MAX,
    "the trace lines must fit what the store keeps");
_Static_assert(LMTP_MAILBOX_MAX == STORE_MAILBOX_NAME_MAX,
    "XCAIRN-MAILBOX carries a store mailbox name");

static struct store *
deliver_open(const struct session_rcpt *r)
{
	struct store *st;
	char err[256];

	if (store_open(r->store_dirfd, &st, err, sizeof(err)) != STORE_OK) {
		log_warnx("%s: cannot open the mail store: %s", r->user, err);
		return NULL;
	}
	return st;
}

enum session_status
deliver_quota(void *arg, const struct session_rcpt *r, uint64_t octets)
{
	struct store *st = deliver_open(r);
	enum session_status status;

	(void)arg;
	if (st == NULL)
		return SESSION_TEMPFAIL;
	switch (store_quota_check(st, octets)) {
	case STORE_OK:
		status = SESSION_OK;
		break;
	case STORE_OVERQUOTA:
		status = SESSION_OVERQUOTA;
		break;
	default:
		log_warnx("%s: quota: %s", r->user, store_error(st));
		status = SESSION_TEMPFAIL;
		break;
	}
	store_close(st);
	return status;
}

/* The mailbox r's copy goes to, into name (STORE_MAILBOX_NAME_MAX + 1). */
static void
deliver_mailbox(struct store *st, const struct session_rcpt *r, char *name)
{
	struct store_mailbox mb;
	const char *want = NULL;
	bool subscribed_only = false;

	snprintf(name, STORE_MAILBOX_NAME_MAX + 1, "INBOX");
	if (r->args.has_mailbox) {
		want = r->args.mailbox;
	} else if (r->detail[0] != '\0') {
		/* a sender picks the detail: only a mailbox the user chose to
		 * see (subscribed) can be filled that way */
		want = r->detail;
		subscribed_only = true;
	}
	if (want == NULL || !store_mailbox_name_valid(want, NULL))
		return;
	if (store_mailbox_get(st, want, &mb) != STORE_OK || mb.noselect ||
	    (subscribed_only && !mb.subscribed))
		return;
	memcpy(name, mb.name, sizeof(mb.name));
}

enum session_status
deliver_message(void *arg, const struct session_rcpt *r,
    const struct session_delivery *d)
{
	char mailbox[STORE_MAILBOX_NAME_MAX + 1];
	struct store *st = deliver_open(r);
	enum session_status status;
	enum store_result res;
	uint32_t uidvalidity, uid;

	(void)arg;
	if (st == NULL)
		return SESSION_TEMPFAIL;
	deliver_mailbox(st, r, mailbox);
	res = store_deliver(st, d->spool_dirfd, d->spool_name, d->prefix,
	    d->prefix_len, mailbox, d->internaldate, d->tz_minutes, &uidvalidity,
	    &uid);
	if (res == STORE_NOT_FOUND && strcmp(mailbox, "INBOX") != 0) {
		/* deleted since we looked: INBOX, as if it never was */
		snprintf(mailbox, sizeof(mailbox), "INBOX");
		res = store_deliver(st, d->spool_dirfd, d->spool_name, d->prefix,
		    d->prefix_len, mailbox, d->internaldate, d->tz_minutes,
		    &uidvalidity, &uid);
	}
	switch (res) {
	case STORE_OK:
		log_info("delivered to %s, mailbox %s, uid %u (%llu octets)", r->user,
		    mailbox, uid, (unsigned long long)(d->size + d->prefix_len));
		status = SESSION_OK;
		break;
	case STORE_OVERQUOTA:
		log_info("not delivered to %s: %s", r->user, store_error(st));
		status = SESSION_OVERQUOTA;
		break;
	default:
		log_warnx("not delivered to %s: %s", r->user, store_error(st));
		status = SESSION_TEMPFAIL;
		break;
	}
	store_close(st);
	return status;
}
