/*
 * cairnctl: the administrator's command.
 *   status   is cairnd running (pid file in run-dir)?
 *   stop     SIGTERM: close every session and exit
 *   who, kick, reload, stats   the master's control socket (control.c)
 *   config   show or change settings in the file (config-cmd.c)
 *   user     manage <data-dir>/auth/users.db (user.c)
 *   fsck     check (and repair) one user's mail store (fsck.c)
 *   quota    one user's quota limits (quota.c)
 *   import   bring a Maildir++ tree or mbox in (import.c)
 *   export   write a user's mail as Maildir++ (export.c)
 *   backup   a consistent copy of a user's store, online (backup.c)
 *
 * This file reads the options and the configuration and dispatches.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "migrate.h"

#ifndef CAIRN_SYSCONFDIR
#define CAIRN_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG CAIRN_SYSCONFDIR "/cairn/cairn.conf"

static void
usage_text(FILE *out)
{
	fprintf(out,
	    "usage: cairnctl [-c FILE] status|stop\n");
	control_usage(out);
	config_cmd_usage(out);
	fprintf(out,
	    "       cairnctl [-c FILE] user COMMAND [ARGUMENTS]\n"
	    "       cairnctl [-c FILE] fsck USER [--repair]\n"
	    "       cairnctl [-c FILE] quota get|set USER [LIMITS]\n"
	    "       cairnctl [-c FILE] import USER PATH [--mailbox NAME] "
	    "[--dry-run]\n"
	    "       cairnctl [-c FILE] export USER DIR [--force]\n"
	    "       cairnctl [-c FILE] backup USER DEST\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  status   say whether cairnd runs (exit 0) or not (exit 3)\n"
	    "  stop     make cairnd close every session and exit (SIGTERM)\n"
	    "  who      list the IMAP sessions (--json: as JSON)\n"
	    "  kick     end USER's sessions with * BYE\n"
	    "  reload   make cairnd re-read its configuration; say if it took\n"
	    "  stats    counters since cairnd started (--prometheus: text format)\n"
	    "  config   print the effective settings, or set one in the file "
	    "and reload\n"
	    "  user     manage the users: add, passwd, del, list, show, "
	    "disable, enable\n"
	    "           (cairnctl user --help)\n"
	    "  fsck     check USER's mail store; --repair fixes what it finds\n"
	    "  quota    show or set USER's quota limits (cairnctl quota --help)\n"
	    "  import   import a Maildir++ tree or an mbox into USER's store\n"
	    "  export   write USER's mail into DIR as a Maildir++ tree\n"
	    "  backup   copy USER's store into DEST while it is in use\n",
	    DEFAULT_CONFIG);
}

static _Noreturn void
usage(void)
{
	usage_text(stdout);
	exit(CTL_EXIT_OK);
}

void
ctl_usage_error(const char *what, const char *arg, void (*print_usage)(FILE *out))
{
	char buf[4 * CTL_SHOWN_MAX + 4];

	fprintf(stderr, "cairnctl: %s%s%s%s\n", what, arg ? " '" : "",
	    arg ? ctl_escape(arg, CTL_SHOWN_MAX, buf, sizeof(buf)) : "",
	    arg ? "'" : "");
	print_usage(stderr);
	exit(CTL_EXIT_USAGE);
}

/* One line saying what is wrong, then the usage; exit 2. */
static _Noreturn void
usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, usage_text);
}

static void
print_error(void *arg, const char *message)
{
	(void)arg;
	fprintf(stderr, "cairnctl: %s\n", message);
}

/* The pid in run-dir/cairnd.pid if that process exists; else 0. */
static pid_t
read_pid(const struct cairn_config *cfg, char *path, size_t len)
{
	long pid = 0;
	FILE *f;

	snprintf(path, len, "%s/cairnd.pid", cfg->run_dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
		pid = 0;
	fclose(f);
	if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		pid = 0;
	return (pid_t)pid;
}

/* status, reload, stop: the signal to send (0 for status), or -1. */
static int
daemon_signal(const char *verb)
{
	if (strcmp(verb, "status") == 0)
		return 0;
	if (strcmp(verb, "stop") == 0)
		return SIGTERM;
	return -1;
}

static int
control_daemon(const struct cairn_config *cfg, int sig)
{
	char path[1100];
	pid_t pid;

	pid = read_pid(cfg, path, sizeof(path));
	if (pid == 0) {
		fprintf(stderr, "cairnctl: cairnd is not running (no live pid in %s)\n",
		    path);
		return CTL_EXIT_NOT_RUNNING;
	}
	if (sig == 0) {
		printf("cairnd is running, pid %ld\n", (long)pid);
		return CTL_EXIT_OK;
	}
	if (kill(pid, sig) != 0) {
		fprintf(stderr, "cairnctl: cannot signal pid %ld: %s\n", (long)pid,
		    strerror(errno));
		return CTL_EXIT_ERROR;
	}
	printf("cairnd pid %ld: stop sent\n", (long)pid);
	return CTL_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = DEFAULT_CONFIG;
	struct cairn_config *cfg;
	struct user_request req;
	struct fsck_request freq;
	struct quota_request qreq;
	struct import_request ireq;
	struct export_request ereq;
	struct backup_request breq;
	struct control_cmd creq;
	struct config_cmd cfreq;
	char opt[3] = "-?";
	int ch, sig = 0, status;
	bool user, fsck, quota, import, export, backup, control = false, config;

	log_init("cairnctl", LOG_TO_STDERR, LOG_LEVEL_WARN);
	opterr = 0;
	/* '+': stop at the command, whose own options user.c parses. */
	while ((ch = getopt_long(argc, argv, "+:c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'V': printf("cairnctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage();
		case ':': usage_error("option '-c' needs an argument", NULL);
		default:
			opt[1] = (char)optopt;
			usage_error("unknown option", optopt ? opt : argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("missing command", NULL);
	const char *verb = argv[optind];
	user = strcmp(verb, "user") == 0;
	fsck = strcmp(verb, "fsck") == 0;
	quota = strcmp(verb, "quota") == 0;
	import = strcmp(verb, "import") == 0;
	export = strcmp(verb, "export") == 0;
	backup = strcmp(verb, "backup") == 0;
	config = strcmp(verb, "config") == 0;
	if (config)
		config_cmd_parse(argc - optind, argv + optind, &cfreq);
	else if ((control = control_parse(argc - optind, argv + optind, &creq)))
		;
	else if (user)
		user_parse(argc - optind, argv + optind, &req);
	else if (fsck)
		fsck_parse(argc - optind, argv + optind, &freq);
	else if (quota)
		quota_parse(argc - optind, argv + optind, &qreq);
	else if (import)
		import_parse(argc - optind, argv + optind, &ireq);
	else if (export)
		export_parse(argc - optind, argv + optind, &ereq);
	else if (backup)
		backup_parse(argc - optind, argv + optind, &breq);
	else if ((sig = daemon_signal(verb)) < 0)
		usage_error("unknown command", verb);
	else if (optind + 1 != argc)
		usage_error("unexpected argument", argv[optind + 1]);

	if ((cfg = config_load(config_path, false, print_error, NULL)) == NULL) {
		/* run-dir (where the control socket is) is in the broken file */
		if (control && strcmp(creq.verb, "reload") == 0)
			fprintf(stderr, "cairnctl: cairnd was not asked to reload: it "
			    "keeps its running settings\n");
		return CTL_EXIT_ERROR;
	}
	status = config ? config_cmd_run(cfg, config_path, &cfreq) :
	    control ? control_run(cfg, &creq) :
	    user ? user_run(cfg, &req) :
	    fsck ? fsck_run(cfg, &freq) :
	    quota ? quota_run(cfg, &qreq) :
	    import ? import_run(cfg, &ireq) :
	    export ? export_run(cfg, &ereq) :
	    backup ? backup_run(cfg, &breq) : control_daemon(cfg, sig);
	config_free(cfg);
	return status;
}
