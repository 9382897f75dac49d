/* A child's resource limits: see rlimits.h. */
#include "autoconfig.h"

#include <sys/resource.h>

#include "log.h"
#include "rlimits.h"

/* Set soft and hard to want, or to the hard limit if that is lower
 * (only root may raise a hard limit). */
static void
rlimits_set(const char *who, int resource, const char *name, rlim_t want)
{
	struct rlimit cur, rl;

	if (getrlimit(resource, &cur) != 0)
		fatal("%s: getrlimit(%s)", who, name);
	if (cur.rlim_max != RLIM_INFINITY && cur.rlim_max < want)
		want = cur.rlim_max;
	rl.rlim_cur = rl.rlim_max = want;
	if (setrlimit(resource, &rl) != 0)
		fatal("%s: setrlimit(%s, %llu)", who, name, (unsigned long long)want);
}

void
rlimits_apply(const char *who, const struct rlimits *l)
{
	rlimits_set(who, RLIMIT_CORE, "RLIMIT_CORE", 0);
	rlimits_set(who, RLIMIT_NOFILE, "RLIMIT_NOFILE", (rlim_t)l->files);
#ifndef CAIRN_SANITIZERS
	rlimits_set(who, RLIMIT_DATA, "RLIMIT_DATA", (rlim_t)l->data);
#endif
	log_debug("limits: no core file, %llu open files, %llu MB of data%s",
	    (unsigned long long)l->files, (unsigned long long)(l->data >> 20),
#ifdef CAIRN_SANITIZERS
	    " (not applied: sanitizer build)"
#else
	    ""
#endif
	    );
}
