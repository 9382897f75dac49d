/* One login from request to reply: look the user up, hash, judge, delay. */
#ifndef CAIRN_AUTHD_AUTH_H
#define CAIRN_AUTHD_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"
#include "userdb.h"
#include "worker.h"

/* path of users.db; opened (read-only) on first need, re-tried if missing. */
void auth_init(const char *users_db);
void auth_shutdown(void);
/*
 * users.db, opened on first need; NULL while it does not exist (every
 * user is unknown) and, with *unavailable set, when it exists but cannot
 * be opened.
 */
struct userdb *auth_userdb(bool *unavailable);
/* A request from the master: looked up here, hashed on a worker. */
void auth_request(struct ipc_authd_request *req);
/* A worker is done with a job: reply now (success) or later (failure). */
void auth_job_done(struct auth_job *job, int64_t now_ms);
/* Send every reply that is due; returns ms until the next one, or -1. */
int auth_send_due(int64_t now_ms);
int64_t auth_now_ms(void);

#endif
