/*
 * Resource limits of a child, set once after privdrop() and before it
 * touches a client's bytes: soft and hard together, so a compromised
 * child cannot raise them again.
 *
 * - RLIMIT_CORE 0: no core file, which could hold a password, a TLS key
 *   or someone's mail (sanitizer builds stay dumpable; this still holds).
 * - RLIMIT_NOFILE: what the process can need, from its own bounds.
 * - RLIMIT_DATA: a bound on its heap, stacks and other private writable
 *   memory; not in sanitizer builds, whose shadow memory is terabytes of
 *   such mappings.  Read-only file mappings (a FETCH of a big message)
 *   are not counted.
 */
#ifndef CAIRN_RLIMITS_H
#define CAIRN_RLIMITS_H

#include <stdint.h>

/*
 * Every child's memory bound starts at this, for the libraries, SQLite's
 * caches and the work of a SEARCH or SORT over a big mailbox; each adds
 * what its own bounds allow it to hold (rlimits.c, the callers).
 */
#define RLIMITS_DATA_BASE (512ULL * 1024 * 1024)

struct rlimits {
	uint64_t files;    /* RLIMIT_NOFILE */
	uint64_t data;     /* RLIMIT_DATA, bytes */
};

/* Apply them; any failure is fatal (the process must not run unbounded). */
void rlimits_apply(const char *who, const struct rlimits *l);

#endif
