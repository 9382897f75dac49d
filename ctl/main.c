/*
 * cairnctl: the administrator's command.
 *   status   is cairnd running (pid file in run-dir)?
 *   reload   SIGHUP: re-read the configuration
 *   stop     SIGTERM: close every session and exit
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifndef CAIRN_SYSCONFDIR
#define CAIRN_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG CAIRN_SYSCONFDIR "/cairn/cairn.conf"

static _Noreturn void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: cairnctl [-c FILE] status|reload|stop\n"
	    "  status   say whether cairnd runs (exit 0) or not (exit 3)\n"
	    "  reload   make cairnd re-read its configuration (SIGHUP)\n"
	    "  stop     make cairnd close every session and exit (SIGTERM)\n");
	exit(status);
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

int
main(int argc, char *argv[])
{
	const char *config_path = DEFAULT_CONFIG;
	struct cairn_config *cfg;
	char path[1100];
	pid_t pid;
	int ch, sig;

	while ((ch = getopt(argc, argv, "c:hV")) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'V': printf("cairnctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(0);
		default: usage(1);
		}
	}
	if (optind + 1 != argc)
		usage(1);
	const char *verb = argv[optind];
	if (strcmp(verb, "status") == 0)
		sig = 0;
	else if (strcmp(verb, "reload") == 0)
		sig = SIGHUP;
	else if (strcmp(verb, "stop") == 0)
		sig = SIGTERM;
	else {
		fprintf(stderr, "cairnctl: unknown command '%s'\n", verb);
		usage(1);
	}
	if ((cfg = config_load(config_path, false, print_error, NULL)) == NULL)
		return 1;
	pid = read_pid(cfg, path, sizeof(path));
	config_free(cfg);
	if (pid == 0) {
		fprintf(stderr, "cairnctl: cairnd is not running (no live pid in %s)\n", path);
		return 3;
	}
	if (sig == 0) {
		printf("cairnd is running, pid %ld\n", (long)pid);
		return 0;
	}
	if (kill(pid, sig) != 0) {
		fprintf(stderr, "cairnctl: cannot signal pid %ld: %s\n", (long)pid,
		    strerror(errno));
		return 1;
	}
	printf("cairnd pid %ld: %s sent\n", (long)pid, sig == SIGHUP ? "reload" : "stop");
	return 0;
}
