/*
 * The counters of cairnctl stats.  The master counts what it sees itself
 * (connections handed over, login verdicts); sessions report their
 * commands and bytes (IPC_SESSION_STATS, as deltas) and cairn-lmtpd each
 * recipient's delivery (IPC_DELIVERY_REPORT).  They start at zero with
 * the master and only grow: Prometheus counters.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <time.h>

#include "buf.h"
#include "master.h"

static struct {
	time_t started;
	uint64_t connections[SERVICES];
	uint64_t logins[IPC_AUTH_RESULT_LIMIT + 1];   /* by enum ipc_auth_result */
	uint64_t commands[IPC_CMD_COUNT];
	uint64_t bytes_in, bytes_out;
	uint64_t deliveries[IPC_DELIVERY_FAILED + 1]; /* by enum ipc_delivery_result */
	uint64_t delivered_bytes;
} stats;

void
stats_init(void)
{
	stats.started = time(NULL);
}

void
stats_connection(enum service sv)
{
	stats.connections[sv]++;
}

void
stats_login(enum ipc_auth_result result)
{
	if ((unsigned)result <= IPC_AUTH_RESULT_LIMIT)
		stats.logins[result]++;
}

void
stats_session(const struct ipc_session_stats *s)
{
	for (unsigned i = 0; i < IPC_CMD_COUNT; i++)
		stats.commands[i] += s->commands[i];
	stats.bytes_in += s->bytes_in;
	stats.bytes_out += s->bytes_out;
}

void
stats_delivery(const struct ipc_delivery_report *r)
{
	stats.deliveries[r->result]++;
	if (r->result == IPC_DELIVERY_OK)
		stats.delivered_bytes += r->size;
}

void
stats_format(const struct master *m, struct buf *out)
{
	static const char *const login_results[] = {
		[IPC_AUTH_RESULT_OK] = "ok",
		[IPC_AUTH_RESULT_BAD_CREDENTIALS] = "failed",
		[IPC_AUTH_RESULT_DISABLED] = "disabled",
		[IPC_AUTH_RESULT_UNAVAILABLE] = "unavailable",
		[IPC_AUTH_RESULT_LIMIT] = "limit",
	};

	buf_printf(out, "started - %lld\n", (long long)stats.started);
	buf_printf(out, "sessions imap %u\n", m->n_busy);
	buf_printf(out, "sessions lmtp %u\n", m->n_lmtp_busy);
	buf_printf(out, "connections imap %" PRIu64 "\n",
	    stats.connections[SERVICE_IMAP]);
	buf_printf(out, "connections lmtp %" PRIu64 "\n",
	    stats.connections[SERVICE_LMTP]);
	for (unsigned i = 0; i <= IPC_AUTH_RESULT_LIMIT; i++)
		buf_printf(out, "logins %s %" PRIu64 "\n", login_results[i],
		    stats.logins[i]);
	for (unsigned i = 0; i < IPC_CMD_COUNT; i++)
		if (stats.commands[i] != 0)
			buf_printf(out, "commands %s %" PRIu64 "\n",
			    ipc_command_names[i], stats.commands[i]);
	buf_printf(out, "bytes in %" PRIu64 "\n", stats.bytes_in);
	buf_printf(out, "bytes out %" PRIu64 "\n", stats.bytes_out);
	buf_printf(out, "deliveries ok %" PRIu64 "\n",
	    stats.deliveries[IPC_DELIVERY_OK]);
	buf_printf(out, "deliveries failed %" PRIu64 "\n",
	    stats.deliveries[IPC_DELIVERY_FAILED]);
	buf_printf(out, "delivered_bytes - %" PRIu64 "\n", stats.delivered_bytes);
}
