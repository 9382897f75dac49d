#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "penalty.h"

struct penalty {
	char key[IPC_LOGIN_LEN + 4];  /* "a:<address>" or "u:<user>" */
	unsigned failures;
	int64_t last_ms;
};

static struct penalty slots[PENALTY_SLOTS];

/* The slot for key, or the free/oldest one made over to it. */
static struct penalty *
penalty_slot(const char *key, int64_t now_ms)
{
	struct penalty *oldest = &slots[0];

	for (size_t i = 0; i < PENALTY_SLOTS; i++) {
		struct penalty *p = &slots[i];
		if (p->key[0] != '\0' && now_ms - p->last_ms > PENALTY_FORGET_MS)
			p->key[0] = '\0';
		if (p->key[0] != '\0' && strcmp(p->key, key) == 0)
			return p;
		if (p->key[0] == '\0' || p->last_ms < oldest->last_ms)
			oldest = p;
	}
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	oldest->failures = 0;
	oldest->last_ms = now_ms;
	return oldest;
}

static unsigned
penalty_bump(const char *prefix, const char *name, int64_t now_ms)
{
	char key[IPC_LOGIN_LEN + 4];
	struct penalty *p;

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	p = penalty_slot(key, now_ms);
	p->failures++;
	p->last_ms = now_ms;
	return p->failures;
}

unsigned
penalty_fail(const char *addr, const char *user, int64_t now_ms)
{
	unsigned by_addr = penalty_bump("a:", addr, now_ms);
	unsigned by_user = user[0] != '\0' ? penalty_bump("u:", user, now_ms) : 0;
	unsigned worst = by_addr > by_user ? by_addr : by_user;
	unsigned ms = PENALTY_BASE_MS + PENALTY_STEP_MS * (worst - 1);

	return ms > PENALTY_MAX_MS ? PENALTY_MAX_MS : ms;
}

void
penalty_forget_user(const char *user)
{
	char key[IPC_LOGIN_LEN + 4];

	snprintf(key, sizeof(key), "u:%s", user);
	for (size_t i = 0; i < PENALTY_SLOTS; i++)
		if (strcmp(slots[i].key, key) == 0)
			slots[i].key[0] = '\0';
}
