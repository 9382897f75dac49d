/*
 * Dropping root, in one audited place.
 *
 * privdrop() runs the fixed sequence (look up the accounts, tzset, check the
 * chroot directory, chroot, chdir, setgroups, setresgid, setresuid, verify
 * setuid(0) fails, non-dumpable, no-new-privs); every step is fatal on
 * failure.  Not running as root, it changes no identity (development and
 * tests) and only applies the last two steps.
 */
#ifndef CAIRN_PRIVDROP_H
#define CAIRN_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

/* chroot_dir NULL: no chroot (cairn-authd keeps its data directory). */
void privdrop(const char *user, const char *group, const char *chroot_dir);
/* True when this process runs as root (and so must drop). */
bool privdrop_needed(void);
/* Look up an account; -1 when it does not exist. */
int privdrop_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid);
/* Is dir a directory owned by root and not writable by group or others? */
int privdrop_check_chroot(const char *dir, const char **why);

#endif
