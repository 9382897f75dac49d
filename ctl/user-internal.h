/*
 * cairnctl user ...: what user.c (subcommands, parsing, dispatch) shares
 * with secret.c (what the administrator types), userdir.c (<data-dir>/auth,
 * the effective ids, users.db) and purge.c (removing a user's mail).
 */
#ifndef CAIRN_CTL_USER_INTERNAL_H
#define CAIRN_CTL_USER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "ctl.h"

#define MAIL_DIR "mail"

struct userdb;

/* How a subcommand opens users.db. */
enum db_mode {
	DB_READ,                  /* read-only; a missing database is empty */
	DB_WRITE,                 /* read-write; a missing database is empty */
	DB_CREATE,                /* read-write; made if missing */
};

struct user_ctx {
	const struct cairn_config *cfg;
	const struct user_request *req;
	struct userdb *db;        /* NULL: there is no database (yet) */
	bool as_root;             /* effective ids are auth-user's, saved uid 0 */
	uid_t owner_uid;          /* who must own <data-dir>/auth */
	gid_t owner_gid;
	char auth_dir[PATH_MAX];
	char db_path[PATH_MAX];
};

/* ---- secret.c ------------------------------------------------------------ */

/*
 * Ask for a new password and hash it (yescrypt) into hash: typed twice on
 * a terminal, or one line of standard input when that is not a terminal.
 * 0, or CTL_EXIT_ERROR after a message.
 */
int secret_new_hash(const char *name, char *hash, size_t hashlen);

/*
 * One line of standard input as the answer to a question already asked on
 * stderr: true for "y" or "yes", in any case.  When the input ends at
 * once, a newline ends the question's line.
 */
bool secret_read_yes(void);

/* ---- userdir.c ----------------------------------------------------------- */

/*
 * Fill ctx (paths, identities), check <data-dir> and <data-dir>/auth
 * (made first when mode is DB_CREATE), take auth-user's effective ids when
 * root, and open users.db into ctx->db: left NULL when there is none and
 * mode is not DB_CREATE.  0, or CTL_EXIT_ERROR after a message.
 */
int userdir_open_db(struct user_ctx *ctx, enum db_mode mode);

/* Effective ids back to root (the saved uid); 0 or CTL_EXIT_ERROR. */
int userdir_become_root(void);

/* ---- purge.c ------------------------------------------------------------- */

/* rm -r <data-dir>/mail/NAME after NAME left users.db; 0 or CTL_EXIT_ERROR. */
int purge_mail(const struct user_ctx *ctx);

#endif
