/*
 * cairn-authd: the only process that will read password hashes.
 *
 * config from fd 4 -> log -> drop to auth-user -> HELLO -> serve the
 * master's requests until SHUTDOWN or the master goes away.  The login
 * protocol itself (users.db, crypt(3), the request/reply messages) is the
 * next piece of work; today it answers the lifecycle messages only.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "privdrop.h"

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: cairn-authd -M [-F] [-c NAME]   (started by cairnd only)\n");
	exit(1);
}

static struct cairn_config *
load_master_config(const char *name)
{
	struct cairn_config *cfg;
	char *text = config_read_fd(IPC_FD_CONFIG, NULL);

	if (text == NULL)
		fatal("cannot read the configuration from the master");
	close(IPC_FD_CONFIG);
	cfg = config_parse(text, name, false, NULL, NULL);
	free(text);
	if (cfg == NULL)
		fatalx("the configuration from the master does not parse");
	return cfg;
}

/* Until the master says stop (or dies). */
static void
authd_serve(void)
{
	struct ipc_msg msg;
	const char *why = NULL;

	for (;;) {
		switch (ipc_recv(IPC_FD_CONTROL, IPC_ROLE_AUTHD, IPC_ROLE_MASTER, &msg, &why)) {
		case IPC_RECV_OK:
			if (msg.type == IPC_SHUTDOWN)
				return;
			if (msg.fd >= 0)
				close(msg.fd);
			log_warnx("unexpected %s from the master", ipc_type_name(msg.type));
			break;
		case IPC_RECV_AGAIN:
			break;
		case IPC_RECV_INVALID:
			fatalx("bad message from the master: %s", why);
		case IPC_RECV_EOF:
			return;
		case IPC_RECV_ERROR:
			fatal("reading from the master");
		}
	}
}

int
main(int argc, char *argv[])
{
	struct ipc_hello hello = { IPC_VERSION, IPC_ROLE_AUTHD };
	const char *name = "cairn.conf";
	bool master = false, foreground = false;
	struct cairn_config *cfg;
	int ch;

	while ((ch = getopt(argc, argv, "MFc:")) != -1) {
		switch (ch) {
		case 'M': master = true; break;
		case 'F': foreground = true; break;
		case 'c': name = optarg; break;
		default: usage();
		}
	}
	if (!master || optind != argc)
		usage();
	cfg = load_master_config(name);
	log_init("cairn-authd", foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG,
	    cfg->log_level);
	privdrop(cfg->auth_user, NULL, NULL);
	if (ipc_send(IPC_FD_CONTROL, IPC_ROLE_AUTHD, IPC_ROLE_MASTER, IPC_HELLO,
	    &hello, sizeof(hello), -1) != 0)
		fatal("cannot reach the master");
	authd_serve();
	log_debug("exiting");
	config_free(cfg);
	return 0;
}
