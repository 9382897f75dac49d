#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "penalty.h"
#include "userdb.h"
#include "worker.h"
#include "auth.h"
#include "xmalloc.h"

static const char *db_path;
static struct userdb *db;
static struct auth_job *delayed;   /* failures waiting for their time */

static const char *const mech_names[] = {
	[IPC_MECH_LOGIN] = "LOGIN command",
	[IPC_MECH_PLAIN] = "PLAIN",
	[IPC_MECH_SASL_LOGIN] = "SASL LOGIN",
};

int64_t
auth_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
auth_init(const char *users_db)
{
	db_path = users_db;
}

void
auth_shutdown(void)
{
	while (delayed != NULL) {
		struct auth_job *j = delayed;
		delayed = j->next;
		free(j);
	}
	userdb_close(db);
	db = NULL;
}

/* The database may not exist until the first `cairnctl user add`. */
static struct userdb *
auth_db(void)
{
	char err[256];

	if (db == NULL && access(db_path, F_OK) == 0) {
		db = userdb_open(db_path, false, true, err, sizeof(err));
		if (db == NULL)
			log_warnx("cannot open %s: %s", db_path, err);
	}
	return db;
}

struct userdb *
auth_userdb(bool *unavailable)
{
	struct userdb *d = auth_db();

	*unavailable = d == NULL && access(db_path, F_OK) == 0;
	return d;
}

static void
auth_reply(const struct auth_job *job)
{
	struct ipc_authd_result r;

	memset(&r, 0, sizeof(r));
	r.session_id = job->session_id;
	r.result = job->result;
	if (job->result == IPC_AUTH_RESULT_OK) {
		r.quota = job->quota;
		memcpy(r.user, job->user, sizeof(job->user));
		memcpy(r.store_dir, job->user, sizeof(job->user));
	}
	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_AUTHD, IPC_ROLE_MASTER, IPC_AUTHD_RESULT,
	    &r, sizeof(r), -1) != 0)
		fatal("cannot answer the master");
}

static void
auth_fail_now(struct ipc_authd_request *req, uint32_t result, const char *why)
{
	struct auth_job job;

	memset(&job, 0, sizeof(job));
	job.session_id = req->session_id;
	job.result = result;
	log_info("session=%016llx: login refused for '%s' from %s: %s",
	    (unsigned long long)req->session_id, req->user, req->peer_addr, why);
	auth_reply(&job);
}

void
auth_request(struct ipc_authd_request *req)
{
	struct auth_job *job;
	struct userdb_user u;
	struct userdb *d;
	bool unavailable;

	if ((d = auth_userdb(&unavailable)) == NULL && unavailable) {
		explicit_bzero(req->password, sizeof(req->password));
		auth_fail_now(req, IPC_AUTH_RESULT_UNAVAILABLE, "user database unavailable");
		return;
	}
	job = xcalloc(1, sizeof(*job));
	job->session_id = req->session_id;
	job->mechanism = req->mechanism;
	memcpy(job->login, req->user, sizeof(job->login));
	memcpy(job->peer_addr, req->peer_addr, sizeof(job->peer_addr));
	memcpy(job->password, req->password, sizeof(job->password));
	explicit_bzero(req->password, sizeof(req->password));
	snprintf(job->hash, sizeof(job->hash), "%s", password_dummy_hash());

	if (username_canonical(req->user, strlen(req->user), job->user, sizeof(job->user))) {
		enum userdb_result r = d != NULL ? userdb_get(d, job->user, &u) : USERDB_NOT_FOUND;
		if (r == USERDB_OK) {
			job->known = true;
			job->disabled = u.disabled;
			job->quota = u.quota;
			memcpy(job->hash, u.hash, sizeof(job->hash));
			explicit_bzero(u.hash, sizeof(u.hash));
		} else if (r == USERDB_ERROR) {
			log_warnx("users.db: %s", userdb_error(d));
			explicit_bzero(job, sizeof(*job));
			free(job);
			auth_fail_now(req, IPC_AUTH_RESULT_UNAVAILABLE, "user database error");
			return;
		}
	} else {
		job->user[0] = '\0';
	}
	worker_submit(job);
}

static const char *
auth_mech_name(uint32_t m)
{
	return m < sizeof(mech_names) / sizeof(mech_names[0]) && mech_names[m] != NULL
	    ? mech_names[m] : "?";
}

void
auth_job_done(struct auth_job *job, int64_t now_ms)
{
	const char *why = NULL;

	explicit_bzero(job->hash, sizeof(job->hash));
	if (!job->password_ok) {
		job->result = IPC_AUTH_RESULT_BAD_CREDENTIALS;
		why = job->known ? "wrong password" : "unknown user";
	} else if (job->disabled) {
		job->result = IPC_AUTH_RESULT_DISABLED;
		why = "account disabled";
	} else {
		job->result = IPC_AUTH_RESULT_OK;
	}
	if (why == NULL) {
		log_info("session=%016llx: login ok: user %s from %s (%s)",
		    (unsigned long long)job->session_id, job->user, job->peer_addr,
		    auth_mech_name(job->mechanism));
		penalty_forget_user(job->user);
		auth_reply(job);
		free(job);
		return;
	}
	unsigned delay = penalty_fail(job->peer_addr, job->user, now_ms);
	log_info("session=%016llx: login failed: user '%s' from %s (%s): %s; "
	    "answering in %u ms", (unsigned long long)job->session_id, job->login,
	    job->peer_addr, auth_mech_name(job->mechanism), why, delay);
	/* Held without blocking anything: auth_send_due() answers later. */
	job->due_ms = now_ms + delay;
	job->next = delayed;
	delayed = job;
}

int
auth_send_due(int64_t now_ms)
{
	int64_t next = -1;

	for (struct auth_job **pp = &delayed; *pp != NULL;) {
		struct auth_job *j = *pp;
		if (j->due_ms <= now_ms) {
			*pp = j->next;
			auth_reply(j);
			free(j);
			continue;
		}
		if (next < 0 || j->due_ms < next)
			next = j->due_ms;
		pp = &j->next;
	}
	return next < 0 ? -1 : (int)(next - now_ms);
}
