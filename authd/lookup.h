/*
 * Recipient lookups for delivery: which user, if any, an address names.
 * No password travels, so there is nothing to guess at and no failure
 * penalty: the answer goes back at once, from the main thread (one or
 * two indexed SELECTs).  The master asks only on behalf of cairn-lmtpd
 * and never takes the answer for a login.
 */
#ifndef CAIRN_AUTHD_LOOKUP_H
#define CAIRN_AUTHD_LOOKUP_H

#include <stdbool.h>

#include "ipc.h"
#include "userdb.h"

/*
 * The user address names: the whole address lower-cased as user names are
 * (username_canonical), and when no user has that name and it has an '@',
 * the part before the last '@' ("Alice@example.org" is "alice@example.org",
 * else "alice").  db NULL (no users.db yet): USERDB_NOT_FOUND.
 */
enum userdb_result lookup_resolve(struct userdb *db, const char *address,
    struct userdb_user *out);
/*
 * An IPC_AUTHD_LOOKUP from the master, answered before this returns; db
 * and unavailable as auth_userdb() gives them.
 */
void lookup_request(const struct ipc_authd_lookup *req, struct userdb *db,
    bool unavailable);

#endif
