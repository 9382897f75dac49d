/*
 * Landlock through its three system calls (no library).  The constants are
 * the kernel's UAPI (include/uapi/linux/landlock.h), written here because
 * the distribution's headers lag the kernel: Debian 12's know ABI 2.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"

#define LL_CREATE_RULESET_VERSION  (1U << 0)
#define LL_RULE_PATH_BENEATH       1

/* handled_access_fs: ABI 1 has bits 0-12, 2 adds REFER, 3 TRUNCATE,
 * 5 IOCTL_DEV. */
#define LL_FS_EXECUTE      (1ULL << 0)
#define LL_FS_WRITE_FILE   (1ULL << 1)
#define LL_FS_READ_FILE    (1ULL << 2)
#define LL_FS_READ_DIR     (1ULL << 3)
#define LL_FS_REMOVE_DIR   (1ULL << 4)
#define LL_FS_REMOVE_FILE  (1ULL << 5)
#define LL_FS_MAKE_DIR     (1ULL << 7)
#define LL_FS_MAKE_REG     (1ULL << 8)
#define LL_FS_ABI1         ((1ULL << 13) - 1)
#define LL_FS_REFER        (1ULL << 13)
#define LL_FS_TRUNCATE     (1ULL << 14)
#define LL_FS_IOCTL_DEV    (1ULL << 15)
/* handled_access_net (ABI 4) */
#define LL_NET_BIND_TCP    (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
/* scoped (ABI 6) */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL               (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

int
landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	return v > 0 ? (int)v : 0;
#else
	return 0;
#endif
}

int
landlock_confine(const int *dirfds, size_t n, bool read_only)
{
#ifdef SYS_landlock_create_ruleset
	struct ll_ruleset_attr attr;
	struct ll_path_beneath_attr rule;
	size_t attr_size = sizeof(attr.handled_access_fs);
	int abi = landlock_abi(), ruleset;

	if (abi < 2) {
		log_debug("Landlock %s: not used", abi == 0 ? "not available"
		    : "ABI 1 forbids links between directories");
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_ABI1 | LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		/* handled with no rule: no TCP bind or connect at all */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0U);
	if (ruleset < 0) {
		log_error("Landlock: cannot create a ruleset (ABI %d)", abi);
		return -1;
	}
	/* What the store does: read and write files, make and remove
	 * directories and files, link between them (tmp/ to blobs/,
	 * spool/ to a store), truncate the WAL.  Never execute, never a
	 * device, socket, FIFO or symbolic link. */
	memset(&rule, 0, sizeof(rule));
	rule.allowed_access = (LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR |
	    LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR | LL_FS_MAKE_REG |
	    LL_FS_REFER | LL_FS_TRUNCATE) & attr.handled_access_fs;
	if (read_only)
		rule.allowed_access = LL_FS_READ_FILE | LL_FS_READ_DIR;
	for (size_t i = 0; i < n; i++) {
		rule.parent_fd = dirfds[i];
		if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
		    &rule, 0U) != 0) {
			log_error("Landlock: cannot add a rule");
			close(ruleset);
			return -1;
		}
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0U) != 0) {
		log_error("Landlock: cannot restrict the process");
		close(ruleset);
		return -1;
	}
	close(ruleset);
	log_debug("Landlock ABI %d: restricted to %zu director%s", abi, n,
	    n == 1 ? "y" : "ies");
	return 1;
#else
	(void)dirfds;
	(void)n;
	(void)read_only;
	return 0;
#endif
}
