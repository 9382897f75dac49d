/*
 * QUOTA (RFC 9208): one quota root per store, covering every mailbox;
 * two resources, STORAGE (RFC822.SIZE summed, in units of 1024 octets)
 * and MESSAGE.  The limits are a row of index.db (schema step 4) that
 * cairnctl sets; the usage is the sum of the per-mailbox counters that
 * schema.sql's triggers keep, so neither costs a scan of the messages.
 *
 * What the limits refuse is refused inside the write transaction that
 * would add the rows (quota_check_locked): the usage read there is the
 * one the commit would change, so two sessions cannot both pass under a
 * limit.
 */
#include "autoconfig.h"

#include <inttypes.h>

#include "store-int.h"

uint64_t
store_quota_kib(uint64_t octets)
{
	return octets / 1024 + (octets % 1024 != 0);
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * The usage is over a limit when it needs more units than the limit has:
 * STORAGE counts a unit of 1024 octets once any of it is used, so a 1 KiB
 * limit holds 1024 octets and not one more.
 */
bool
store_quota_over(const struct store_quota *q, uint64_t octets, uint64_t messages)
{
	if (q->storage_limit != STORE_QUOTA_NONE &&
	    store_quota_kib(add_sat(q->storage, octets)) > q->storage_limit)
		return true;
	return q->message_limit != STORE_QUOTA_NONE &&
	    add_sat(q->messages, messages) > q->message_limit;
}

uint64_t
store_quota_room(const struct store_quota *q)
{
	uint64_t limit;

	if (q->message_limit != STORE_QUOTA_NONE && q->messages >= q->message_limit)
		return 0;
	if (q->storage_limit == STORE_QUOTA_NONE)
		return UINT64_MAX;
	limit = q->storage_limit > UINT64_MAX / 1024 ? UINT64_MAX :
	    q->storage_limit * 1024;
	return q->storage >= limit ? 0 : limit - q->storage;
}

/* One read transaction: the counters of every mailbox as of one moment. */
enum store_result
store_quota_get(struct store *st, struct store_quota *out)
{
	enum store_result r;

	if (index_begin(st->ix, false) != STORE_OK)
		return STORE_ERROR;
	if ((r = index_quota_get(st->ix, out)) != STORE_OK) {
		index_rollback(st->ix);
		return r;
	}
	return index_commit(st->ix);
}

enum store_result
store_quota_set(struct store *st, uint64_t storage_limit, uint64_t message_limit)
{
	if ((storage_limit != STORE_QUOTA_NONE &&
	    storage_limit > STORE_QUOTA_LIMIT_MAX) ||
	    (message_limit != STORE_QUOTA_NONE &&
	    message_limit > STORE_QUOTA_LIMIT_MAX))
		return store_fail(st, STORE_INVALID, "a quota limit is at most %"
		    PRId64, (int64_t)STORE_QUOTA_LIMIT_MAX);
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	if (index_quota_set(st->ix, storage_limit, message_limit) != STORE_OK) {
		index_rollback(st->ix);
		return STORE_ERROR;
	}
	return index_commit(st->ix);
}

/* Over: STORE_OVERQUOTA with the limit that would be passed. */
static enum store_result
quota_verdict(struct store *st, const struct store_quota *q, uint64_t octets,
    uint64_t messages)
{
	if (!store_quota_over(q, octets, messages))
		return STORE_OK;
	/* the usage may include the rows being added (COPY): say the limit */
	if (q->message_limit != STORE_QUOTA_NONE &&
	    add_sat(q->messages, messages) > q->message_limit)
		return store_fail(st, STORE_OVERQUOTA, "The message quota (%" PRIu64
		    " messages) would be exceeded", q->message_limit);
	return store_fail(st, STORE_OVERQUOTA, "The storage quota (%" PRIu64
	    " KiB) would be exceeded", q->storage_limit);
}

enum store_result
quota_check_locked(struct store *st, uint64_t octets, uint64_t messages)
{
	struct store_quota q;

	if (index_quota_get(st->ix, &q) != STORE_OK)
		return STORE_ERROR;
	return quota_verdict(st, &q, octets, messages);
}

/* Without the write lock: the usage may change before the message comes,
 * and store_deliver checks again under the lock. */
enum store_result
store_quota_check(struct store *st, uint64_t octets)
{
	struct store_quota q;

	if (store_quota_get(st, &q) != STORE_OK)
		return STORE_ERROR;
	return quota_verdict(st, &q, octets, 1);
}
