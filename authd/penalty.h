/*
 * Failure penalties: a failed login is answered after about 2 s, more after
 * repeated failures from the same address or for the same user.  The table
 * is bounded; the oldest entry makes way, and entries fade after a while.
 */
#ifndef CAIRN_AUTHD_PENALTY_H
#define CAIRN_AUTHD_PENALTY_H

#include <stdint.h>

#define PENALTY_BASE_MS 2000
#define PENALTY_STEP_MS 1000
#define PENALTY_MAX_MS 15000
#define PENALTY_FORGET_MS (15 * 60 * 1000)
#define PENALTY_SLOTS 4096

/* Record one failure now; returns how long to hold the reply (ms). */
unsigned penalty_fail(const char *addr, const char *user, int64_t now_ms);
/* Forget the user's failures (after a success); the address's stay. */
void penalty_forget_user(const char *user);

#endif
