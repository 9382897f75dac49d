#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver.h"
#include "log.h"
#include "store.h"
#include "trace.h"

_Static_assert(TRACE_PREFIX_MAX <= STORE_DELIVER_PREFIX_MAX,
    "the trace lines must fit what the store keeps");
_Static_assert(LMTP_MAILBOX_MAX == STORE_MAILBOX_NAME_MAX,
    "XCAIRN-MAILBOX carries a store mailbox name");

void
deliver_store_init(struct deliver_store *ds)
{
	memset(ds, 0, sizeof(*ds));
	ds->dirfd = -1;
}

void
deliver_store_close(struct deliver_store *ds)
{
	store_close(ds->st);
	ds->st = NULL;
	if (ds->dirfd >= 0)
		close(ds->dirfd);
	ds->dirfd = -1;
}

/*
 * r's store: the one kept open if it is r's directory (the lookup sends a
 * new descriptor each time, so the directory is known by its inode), else
 * opened now on a copy of r's descriptor, which the session closes when
 * the transaction ends.
 */
static struct store *
deliver_open(struct deliver_store *ds, const struct session_rcpt *r)
{
	struct stat sb;
	char err[256];
	int fd;

	if (fstat(r->store_dirfd, &sb) != 0) {
		log_warn("%s: the mail store directory", r->user);
		return NULL;
	}
	if (ds->st != NULL && ds->dev == sb.st_dev && ds->ino == sb.st_ino)
		return ds->st;
	/* first: one store directory per process */
	deliver_store_close(ds);
	if ((fd = fcntl(r->store_dirfd, F_DUPFD_CLOEXEC, 0)) < 0) {
		log_warn("%s: the mail store directory", r->user);
		return NULL;
	}
	if (store_open(fd, &ds->st, err, sizeof(err)) != STORE_OK) {
		log_warnx("%s: cannot open the mail store: %s", r->user, err);
		close(fd);
		return NULL;
	}
	ds->dirfd = fd;
	ds->dev = sb.st_dev;
	ds->ino = sb.st_ino;
	ds->opens++;
	log_debug("opened the mail store of %s", r->user);
	return ds->st;
}

/* After a store error: the next recipient opens the store afresh, as a
 * new connection would, rather than keep what failed. */
static enum session_status
deliver_failed(struct deliver_store *ds)
{
	deliver_store_close(ds);
	return SESSION_TEMPFAIL;
}

enum session_status
deliver_quota(void *arg, const struct session_rcpt *r, uint64_t octets)
{
	struct deliver_store *ds = arg;
	struct store *st = deliver_open(ds, r);

	if (st == NULL)
		return SESSION_TEMPFAIL;
	switch (store_quota_check(st, octets)) {
	case STORE_OK:
		return SESSION_OK;
	case STORE_OVERQUOTA:
		return SESSION_OVERQUOTA;
	default:
		log_warnx("%s: quota: %s", r->user, store_error(st));
		return deliver_failed(ds);
	}
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
	struct deliver_store *ds = arg;
	struct store *st = deliver_open(ds, r);
	enum store_result res;
	uint32_t uidvalidity, uid;

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
		return SESSION_OK;
	case STORE_OVERQUOTA:
		log_info("not delivered to %s: %s", r->user, store_error(st));
		return SESSION_OVERQUOTA;
	default:
		log_warnx("not delivered to %s: %s", r->user, store_error(st));
		return deliver_failed(ds);
	}
}
