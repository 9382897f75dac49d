/*
 * Landlock: a process restricts itself, for good, to a few directories.
 *
 * cairn-imapd calls it after login with its user's store directory, so
 * that a compromised session cannot open another user's mail through
 * ".." from that descriptor even though every store belongs to the same
 * mail user; cairn-lmtpd, which delivers to many users, with
 * <data-dir>/mail and its spool.  Besides the files beneath those
 * directories, the process loses TCP bind/connect (Landlock ABI 4),
 * abstract Unix sockets and signals to processes outside its domain
 * (ABI 6), where the kernel has them.
 */
#ifndef CAIRN_LANDLOCK_H
#define CAIRN_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* The kernel's Landlock ABI version; 0 when it has none (or it is off). */
int landlock_abi(void);

/*
 * Allow reading, writing, creating, removing and linking files beneath
 * each of dirfds[] (directories, O_PATH is enough; read_only: reading
 * files and listing directories only) and no other file.
 * 1: restricted; 0: the kernel cannot (no Landlock, or ABI 1, which
 * forbids every link between directories); -1: an error, logged.  The
 * process must have PR_SET_NO_NEW_PRIVS (privdrop()).
 */
int landlock_confine(const int *dirfds, size_t n, bool read_only);

#endif
