#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "lookup.h"
#include "username.h"

static enum userdb_result
lookup_name(struct userdb *db, const char *name, size_t len,
    struct userdb_user *out)
{
	char canonical[USERNAME_MAX + 1];

	/* An invalid name names nobody: it is no error. */
	if (!username_canonical(name, len, canonical, sizeof(canonical)))
		return USERDB_NOT_FOUND;
	return userdb_get(db, canonical, out);
}

enum userdb_result
lookup_resolve(struct userdb *db, const char *address, struct userdb_user *out)
{
	enum userdb_result r;
	const char *at;

	if (db == NULL)
		return USERDB_NOT_FOUND;
	r = lookup_name(db, address, strlen(address), out);
	if (r != USERDB_NOT_FOUND)
		return r;
	if ((at = strrchr(address, '@')) == NULL || at == address)
		return USERDB_NOT_FOUND;
	return lookup_name(db, address, (size_t)(at - address), out);
}

static void
lookup_reply(const struct ipc_authd_lookup_result *r)
{
	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_AUTHD, IPC_ROLE_MASTER,
	    IPC_AUTHD_LOOKUP_RESULT, r, sizeof(*r), -1) != 0)
		fatal("cannot answer the master");
}

void
lookup_request(const struct ipc_authd_lookup *req, struct userdb *db,
    bool unavailable)
{
	struct ipc_authd_lookup_result res;
	struct userdb_user u;
	const char *what;

	memset(&res, 0, sizeof(res));
	res.session_id = req->session_id;
	switch (unavailable ? USERDB_ERROR : lookup_resolve(db, req->address, &u)) {
	case USERDB_OK:
		if (u.disabled) {
			res.result = IPC_LOOKUP_RESULT_DISABLED;
			what = "account disabled";
			break;
		}
		res.result = IPC_LOOKUP_RESULT_OK;
		res.quota = u.quota;
		/* u.name came from users.db: ipc_send's peer checks it again */
		memcpy(res.user, u.name, sizeof(res.user));
		memcpy(res.store_dir, u.name, sizeof(res.store_dir));
		what = u.name;
		break;
	case USERDB_NOT_FOUND:
	case USERDB_EXISTS:
		res.result = IPC_LOOKUP_RESULT_NO_SUCH_USER;
		what = "no such user";
		break;
	default:
		if (db != NULL)
			log_warnx("users.db: %s", userdb_error(db));
		res.result = IPC_LOOKUP_RESULT_UNAVAILABLE;
		what = "user database unavailable";
		break;
	}
	log_info("session=%016llx: recipient lookup of '%s': %s",
	    (unsigned long long)req->session_id, req->address, what);
	explicit_bzero(&u, sizeof(u));  /* it held the password hash */
	lookup_reply(&res);
}
