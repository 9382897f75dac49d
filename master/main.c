/*
 * cairnd: the master process, from start to stop.
 *
 *   options -> config -> (-t / -n) -> accounts and directories -> the spool
 *   -> listeners -> daemon -> cairn-authd, the imapd and lmtpd pools ->
 *   "ready" to systemd -> event loop -> drain -> exit
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "privdrop.h"
#include "spawn.h"
#include "xmalloc.h"

#ifndef CAIRN_SYSCONFDIR
#define CAIRN_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG CAIRN_SYSCONFDIR "/cairn/cairn.conf"
#define SHUTDOWN_GRACE_SECONDS 5

static volatile sig_atomic_t got_hup, got_term, got_chld;
static int signal_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
	(void)write(signal_pipe[1], &c, 1);
	errno = saved;
}

static _Noreturn void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: cairnd [-c FILE] [-F] [-t] [-n] [-V]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -F       stay in the foreground and log to stderr\n"
	    "  -t       check the configuration and exit\n"
	    "  -n       print every effective setting and exit\n"
	    "  -V       print the version and exit\n", DEFAULT_CONFIG);
	exit(status);
}

static void
print_config_error(void *arg, const char *message)
{
	(void)arg;
	fprintf(stderr, "%s\n", message);
}

/* Root must have the accounts the children become. */
static void
check_accounts(const struct cairn_config *cfg)
{
	uid_t uid;
	gid_t gid;

	if (privdrop_lookup(cfg->user, cfg->group, &uid, &gid) != 0)
		fatalx("user '%s' or group '%s' does not exist; create them with: "
		    "useradd --system --user-group --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s", cfg->user, cfg->group, cfg->user);
	if (uid == 0 || gid == 0)
		fatalx("user/group '%s:%s' is root: choose an unprivileged account",
		    cfg->user, cfg->group);
	if (privdrop_lookup(cfg->auth_user, NULL, &uid, &gid) != 0)
		fatalx("auth-user '%s' does not exist; create it with: "
		    "useradd --system --user-group --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s", cfg->auth_user, cfg->auth_user);
	if (uid == 0)
		fatalx("auth-user '%s' is root: choose an unprivileged account",
		    cfg->auth_user);
}

/*
 * Every session process runs as the one mail user, and a session in IDLE
 * holds one inotify instance (store/watch.c); past Linux's per-user limit
 * IDLE still works but looks every 500 ms.  Say so at start, once, rather
 * than let it surprise anyone under load.
 */
static void
check_inotify_limit(const struct cairn_config *cfg)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_user_instances", "r");
	unsigned long limit;

	if (f == NULL)
		return;
	if (fscanf(f, "%lu", &limit) == 1 && limit < cfg->max_connections)
		log_info("fs.inotify.max_user_instances is %lu, below max-connections "
		    "(%u): sessions in IDLE beyond that many look for changes every "
		    "500 ms instead of being woken (see cairn-imapd(8), IDLE)",
		    limit, cfg->max_connections);
	fclose(f);
}

static void
make_dir(const char *path, mode_t mode, bool privsep)
{
	struct stat st;

	if (mkdir(path, mode) == 0) {
		if (privsep && chown(path, 0, 0) != 0)
			fatal("chown %s", path);
		if (chmod(path, mode) != 0)
			fatal("chmod %s", path);
		log_info("created %s", path);
		return;
	}
	if (errno != EEXIST)
		fatal("cannot create %s", path);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		fatalx("%s exists and is not a directory", path);
}

/*
 * run-dir/empty: the imapd chroot.  data-dir/mail: the spool, root's alone
 * (children get a descriptor, never a path).  data-dir/auth: auth-user's.
 */
static void
make_directories(const struct master *m)
{
	char path[1100];
	const char *why;
	uid_t uid;
	gid_t gid;

	make_dir(m->cfg->run_dir, 0755, m->privsep);
	make_dir(m->cfg->data_dir, 0755, m->privsep);
	snprintf(path, sizeof(path), "%s/empty", m->cfg->run_dir);
	make_dir(path, 0755, m->privsep);
	if (m->privsep && privdrop_check_chroot(path, &why) != 0)
		fatalx("%s cannot be the imapd chroot: %s", path, why);
	snprintf(path, sizeof(path), "%s/mail", m->cfg->data_dir);
	make_dir(path, 0700, m->privsep);
	if (m->privsep && (chown(path, 0, 0) != 0 || chmod(path, 0700) != 0))
		fatal("cannot make %s root's alone", path);
	snprintf(path, sizeof(path), "%s/auth", m->cfg->data_dir);
	make_dir(path, 0700, m->privsep);
	if (m->privsep) {
		if (privdrop_lookup(m->cfg->auth_user, NULL, &uid, &gid) != 0)
			fatalx("auth-user '%s' does not exist", m->cfg->auth_user);
		if (chown(path, uid, gid) != 0 || chmod(path, 0700) != 0)
			fatal("cannot give %s to %s", path, m->cfg->auth_user);
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void
write_pid_file(const struct master *m)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cairnd.pid", m->cfg->run_dir);
	if ((f = fopen(path, "w")) == NULL)
		fatal("cannot write %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		fatal("cannot write %s", path);
}

static void
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		fatal("/dev/null");
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* Install new config text as the one children get. */
static int
master_set_config(struct master *m, struct cairn_config *cfg, const char *text)
{
	int fd = spawn_config_memfd(text, strlen(text));

	if (fd < 0) {
		log_warn("memfd for the configuration");
		return -1;
	}
	if (m->config_memfd >= 0)
		close(m->config_memfd);
	config_free(m->cfg);
	m->config_memfd = fd;
	m->cfg = cfg;
	m->generation++;
	log_set_level(cfg->log_level);
	return 0;
}

static void
log_listeners(const struct master *m, enum log_level level)
{
	static const char *const kinds[] = {
		[IPC_LISTENER_PLAIN] = "clear text", [IPC_LISTENER_TLS] = "TLS",
		[IPC_LISTENER_LMTP] = "LMTP", [IPC_LISTENER_LMTP_TCP] = "LMTP",
	};

	for (size_t i = 0; i < m->n_listeners; i++) {
		const struct listener *l = &m->listeners[i];
		void (*say)(const char *, ...) = level == LOG_LEVEL_DEBUG ? log_debug
		    : log_info;
		if (l->kind == IPC_LISTENER_LMTP)
			say("listening on %s (LMTP)", l->path);
		else
			say("listening on %s port %u (%s)", l->addr, l->port,
			    kinds[l->kind]);
	}
}

/* Collects config_parse's messages for cairnctl reload. */
struct reload_errors {
	char *buf;
	size_t len, used;
};

static void
collect_config_error(void *arg, const char *message)
{
	struct reload_errors *e = arg;
	int n;

	log_errorx("reload: %s", message);
	if (e->len == 0 || e->used + 1 >= e->len)
		return;
	n = snprintf(e->buf + e->used, e->len - e->used, "%s%s",
	    e->used > 0 ? "\n" : "", message);
	if (n > 0)
		e->used += (size_t)n < e->len - e->used ? (size_t)n
		    : e->len - e->used - 1;
}

/* SIGHUP and cairnctl reload: a broken file changes nothing. */
static int
master_reload_config(struct master *m, char *err, size_t errlen)
{
	struct reload_errors errs = { err, errlen, 0 };
	struct cairn_config *cfg;
	char lerr[512];
	char *text;

	if (errlen > 0)
		err[0] = '\0';
	log_info("reloading %s", m->config_path);
	if ((text = config_read_text(m->config_path, NULL)) == NULL) {
		log_warn("reload: cannot read %s; keeping the running settings",
		    m->config_path);
		if (errlen > 0)
			snprintf(err, errlen, "cannot read %s: %s; keeping the "
			    "running settings", m->config_path, strerror(errno));
		return -1;
	}
	if ((cfg = config_parse(text, m->config_path, true, collect_config_error,
	    &errs)) == NULL) {
		log_errorx("reload: %s has errors; keeping the running settings",
		    m->config_path);
		if (errlen > 0 && errs.used + 1 < errlen)
			snprintf(err + errs.used, errlen - errs.used, "%skeeping the "
			    "running settings", errs.used > 0 ? "\n" : "");
		free(text);
		return -1;
	}
	if (listeners_open(cfg, m->privsep, m->listeners, &m->n_listeners, lerr,
	    sizeof(lerr)) != 0) {
		log_errorx("reload: %s; keeping the running settings", lerr);
		if (errlen > 0)
			snprintf(err, errlen, "%s; keeping the running settings", lerr);
		config_free(cfg);
		free(text);
		return -1;
	}
	unsigned old_generation = m->generation;
	if (master_set_config(m, cfg, text) != 0) {
		if (errlen > 0)
			snprintf(err, errlen, "cannot install the new settings (see the "
			    "log); keeping the running settings");
		config_free(cfg);
		free(text);
		return -1;
	}
	free(text);
	pool_retire_generation(m, old_generation);
	log_listeners(m, LOG_LEVEL_DEBUG);
	log_info("reloaded %s (generation %u)", m->config_path, m->generation);
	return 0;
}

/* The reload, with systemd told around it (sd_notify(3): RELOADING=1, then
 * READY=1 whether or not the new settings took). */
int
master_reload(struct master *m, char *err, size_t errlen)
{
	int rc;

	notify_systemd("RELOADING=1");
	rc = master_reload_config(m, err, errlen);
	notify_systemd("READY=1");
	return rc;
}

/* One round of the event loop: poll everything, act on what is ready. */
static void
master_poll_once(struct master *m)
{
	size_t nchildren = pool_count(m), n = 0;
	struct pollfd *pfd = xcalloc(1 + m->n_listeners + nchildren +
	    control_max_fds(), sizeof(*pfd));
	struct child **owners = xcalloc(nchildren + 1, sizeof(*owners));
	int timeout = pool_next_timeout_ms(m), ctimeout = control_timeout_ms();

	pfd[n++] = (struct pollfd){ .fd = signal_pipe[0], .events = POLLIN };
	for (size_t i = 0; i < m->n_listeners && !m->stopping; i++)
		pfd[n++] = (struct pollfd){ .fd = m->listeners[i].fd, .events = POLLIN };
	size_t first_child = n;
	for (struct child *c = m->children; c != NULL; c = c->next) {
		if (c->fd < 0)
			continue;
		owners[n - first_child] = c;
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	}
	size_t first_control = n;
	n += control_pollfds(pfd + n);
	if (ctimeout >= 0 && (timeout < 0 || ctimeout < timeout))
		timeout = ctimeout;
	if (m->stopping)
		timeout = 200;
	if (poll(pfd, n, timeout) < 0 && errno != EINTR)
		fatal("poll");

	if (pfd[0].revents & POLLIN) {
		char drain[64];
		while (read(signal_pipe[0], drain, sizeof(drain)) > 0)
			;
	}
	/* children first: a session's report is in before cairnctl who */
	for (size_t i = first_child; i < first_control; i++) {
		struct child *c = owners[i - first_child];
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			pool_handle_message(m, c);
	}
	control_handle(m, pfd + first_control, n - first_control);
	for (size_t i = 1; i < first_child; i++)
		if (pfd[i].revents & POLLIN)
			listener_accept(m, &m->listeners[i - 1]);
	free(pfd);
	free(owners);
}

static void
master_run(struct master *m)
{
	time_t deadline = 0;

	for (;;) {
		if (got_chld) {
			got_chld = 0;
			pool_reap(m);
		}
		if (got_hup && !m->stopping) {
			got_hup = 0;
			log_info("SIGHUP");
			(void)master_reload(m, NULL, 0);
		}
		if (got_term && !m->stopping) {
			log_info("shutting down: %u session(s) and %u LMTP "
			    "connection(s) to close", m->n_busy, m->n_lmtp_busy);
			m->stopping = true;
			notify_systemd("STOPPING=1");
			listeners_close(m->listeners, m->n_listeners);
			pool_shutdown_all(m);
			deadline = time(NULL) + SHUTDOWN_GRACE_SECONDS;
		}
		if (m->stopping && pool_count(m) == 0)
			return;
		if (m->stopping && time(NULL) >= deadline) {
			pool_kill_all(m);
			deadline = time(NULL) + 2;
		}
		pool_fill(m);
		pool_start_authd(m);
		master_poll_once(m);
	}
}

int
main(int argc, char *argv[])
{
	struct master m = { .config_path = DEFAULT_CONFIG, .config_memfd = -1 };
	bool check_only = false, print_only = false;
	char err[512];
	char *text;
	int ch;

	while ((ch = getopt(argc, argv, "c:FtnVh")) != -1) {
		switch (ch) {
		case 'c': m.config_path = optarg; break;
		case 'F': m.foreground = true; break;
		case 't': check_only = true; break;
		case 'n': print_only = true; break;
		case 'V': printf("cairnd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(0);
		default: usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	log_init("cairnd", LOG_TO_STDERR, LOG_LEVEL_INFO);

	/* 1. configuration */
	if ((text = config_read_text(m.config_path, NULL)) == NULL) {
		fprintf(stderr, "%s: cannot read: %s\n", m.config_path,
		    errno == EINVAL ? "contains a NUL byte" : strerror(errno));
		return 1;
	}
	struct cairn_config *cfg = config_parse(text, m.config_path, true,
	    print_config_error, NULL);
	if (cfg == NULL) {
		free(text);
		return 1;
	}
	if (check_only || print_only) {
		if (check_only)
			printf("%s: configuration OK\n", m.config_path);
		else
			config_print(cfg, stdout);
		config_free(cfg);
		free(text);
		return 0;
	}
	if (master_set_config(&m, cfg, text) != 0)
		return 1;
	free(text);
	log_set_level(cfg->log_level);

	/* 2. accounts and directories */
	m.privsep = privdrop_needed();
	if (m.privsep)
		check_accounts(m.cfg);
	else
		log_warnx("not started as root: privilege separation is off, every "
		    "process runs as the invoking user");
	if (!config_tls_enabled(m.cfg))
		log_warnx("cert-path/key-path not set: the TLS listener and STARTTLS "
		    "are off");
	check_inotify_limit(m.cfg);
	make_directories(&m);
	spool_prepare(&m);

	/* 3. listeners, before anything is dropped or forked */
	if (listeners_open(m.cfg, m.privsep, m.listeners, &m.n_listeners, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
	control_open(&m);
	stats_init();

	/* 4. into the background */
	if (!m.foreground) {
		daemonize();
		log_init("cairnd", LOG_TO_SYSLOG, m.cfg->log_level);
	}
	write_pid_file(&m);
	install_signals();
	if (getrandom(&m.next_session_id, sizeof(m.next_session_id), 0) !=
	    sizeof(m.next_session_id))
		m.next_session_id = ((uint64_t)time(NULL) << 32) ^ (uint64_t)getpid();
	m.next_session_id |= 1;  /* never 0, which means "no session" */

	/* 5. children */
	log_listeners(&m, LOG_LEVEL_INFO);
	pool_start_authd(&m);
	pool_fill(&m);
	log_info("cairnd %s started, pool of %u", PACKAGE_VERSION,
	    config_worker_pool(m.cfg));
	/* READY=1 goes to systemd when cairn-authd first says hello (pool.c):
	 * a login before that would get NO [UNAVAILABLE]. */

	/* 6. serve until told to stop */
	master_run(&m);

	char pid_path[1100];
	snprintf(pid_path, sizeof(pid_path), "%s/cairnd.pid", m.cfg->run_dir);
	(void)unlink(pid_path);
	control_close();
	log_info("stopped");
	close(m.config_memfd);
	config_free(m.cfg);
	return 0;
}
