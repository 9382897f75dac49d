/* Session reports to the master (report.h). */
#include "autoconfig.h"

#include <string.h>

#include "ipc.h"
#include "log.h"
#include "report.h"
#include "store.h"

/* One session per process: the counts since the last report, and what
 * the master was last told (it starts at "not authenticated"). */
static struct ipc_session_stats pending;
static bool counted;
static uint64_t sent_in, sent_out;
static struct ipc_session_state told = { IPC_STATE_NOT_AUTHENTICATED, "" };

void
report_command(const char *name)
{
	unsigned i = ipc_command_index(name);

	if (pending.commands[i] < UINT32_MAX)
		pending.commands[i]++;
	counted = true;
}

/* Copy a UTF-8 name into the field, cut at a character boundary. */
static void
copy_mailbox(char *dst, size_t size, const char *name)
{
	size_t n = strlen(name);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, name, n);
	dst[n] = '\0';
}

static void
report_stats(struct session *s)
{
	pending.bytes_in = s->conn.bytes_in - sent_in;
	pending.bytes_out = s->conn.bytes_out - sent_out;
	if (!counted && pending.bytes_in == 0 && pending.bytes_out == 0)
		return;
	if (ipc_send(s->control_fd, IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    IPC_SESSION_STATS, &pending, sizeof(pending), -1) != 0) {
		log_warn("cannot report the session's counts to the master");
		return;
	}
	sent_in = s->conn.bytes_in;
	sent_out = s->conn.bytes_out;
	memset(&pending, 0, sizeof(pending));
	counted = false;
}

static uint32_t
state_of(const struct session *s, bool idle)
{
	if (s->state == SESSION_LOGOUT)
		return IPC_STATE_LOGOUT;
	if (idle)
		return IPC_STATE_IDLE;
	if (s->state == SESSION_SELECTED)
		return IPC_STATE_SELECTED;
	if (s->state == SESSION_AUTHENTICATED)
		return IPC_STATE_AUTHENTICATED;
	return IPC_STATE_NOT_AUTHENTICATED;
}

void
report_state(struct session *s, bool idle)
{
	struct ipc_session_state now;

	if (s->control_fd < 0)
		return;
	memset(&now, 0, sizeof(now));
	now.state = state_of(s, idle);
	if (s->view != NULL)
		copy_mailbox(now.mailbox, sizeof(now.mailbox),
		    store_view_mailbox(s->view)->name);
	if (now.state == told.state && strcmp(now.mailbox, told.mailbox) == 0)
		return;
	if (ipc_send(s->control_fd, IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    IPC_SESSION_STATE, &now, sizeof(now), -1) != 0) {
		log_warn("cannot report the session's state to the master");
		return;
	}
	told = now;
	report_stats(s);
}

void
report_end(struct session *s)
{
	if (s->control_fd < 0)
		return;
	report_stats(s);
}
