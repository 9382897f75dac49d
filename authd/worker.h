/*
 * Hashing workers: crypt(3) with yescrypt is slow on purpose, so it runs on
 * worker-pool-size threads and one slow hash never stalls other logins.
 * The main thread submits jobs and is woken through a pipe when one is done.
 */
#ifndef CAIRN_AUTHD_WORKER_H
#define CAIRN_AUTHD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"
#include "password.h"
#include "username.h"

struct auth_job {
	/* in */
	uint64_t session_id;
	uint32_t mechanism;
	char login[IPC_LOGIN_LEN];     /* as the client typed it, for the log */
	char user[USERNAME_MAX + 1];   /* canonical; "" when the name is invalid */
	char peer_addr[IPC_ADDR_LEN];
	char password[IPC_PASSWORD_LEN];
	char hash[PASSWORD_HASH_MAX];  /* the user's, or the dummy */
	bool known;                    /* the user exists */
	bool disabled;
	uint64_t quota;
	/* out */
	bool password_ok;
	/* the reply, when it is due (failures wait) */
	int64_t due_ms;
	uint32_t result;
	struct auth_job *next;
};

/* Start n threads; returns the descriptor that becomes readable when done. */
int worker_start(unsigned n);
/* Hand a job over (the workers own it until worker_take_done returns it). */
void worker_submit(struct auth_job *job);
/* Finished jobs, in any order; NULL when none.  Drains the wake-up pipe. */
struct auth_job *worker_take_done(void);
void worker_stop(void);

#endif
