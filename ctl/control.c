/*
 * cairnctl who, kick, reload and stats: requests to the master's control
 * socket, <run-dir>/control (master/control-proto.h has the protocol),
 * and their answers made readable, or Prometheus text (stats
 * --prometheus).
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "xmalloc.h"

#define CONTROL_ANSWER_MAX (64 * 1024 * 1024)
#define CONTROL_WAIT_MS 30000

static void
control_usage_lines(FILE *out)
{
	fprintf(out,
	    "usage: cairnctl [-c FILE] who [--json]\n"
	    "       cairnctl [-c FILE] kick USER\n"
	    "       cairnctl [-c FILE] reload\n"
	    "       cairnctl [-c FILE] stats [--prometheus]\n");
}

void
control_usage(FILE *out)
{
	control_usage_lines(out);
}

static _Noreturn void
control_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, control_usage_lines);
}

bool
control_parse(int argc, char *argv[], struct control_cmd *req)
{
	const char *verb = argv[0];

	memset(req, 0, sizeof(*req));
	if (strcmp(verb, "who") == 0) {
		req->verb = "who";
		if (argc == 2 && strcmp(argv[1], "--json") == 0)
			req->json = true;
		else if (argc != 1)
			control_usage_error("unexpected argument", argv[1]);
		return true;
	}
	if (strcmp(verb, "stats") == 0) {
		req->verb = "stats";
		if (argc == 2 && strcmp(argv[1], "--prometheus") == 0)
			req->prometheus = true;
		else if (argc != 1)
			control_usage_error("unexpected argument", argv[1]);
		return true;
	}
	if (strcmp(verb, "reload") == 0) {
		req->verb = "reload";
		if (argc != 1)
			control_usage_error("unexpected argument", argv[1]);
		return true;
	}
	if (strcmp(verb, "kick") == 0) {
		req->verb = "kick";
		if (argc != 2)
			control_usage_error(argc < 2 ? "kick needs a user name"
			    : "unexpected argument", argc < 2 ? NULL : argv[2]);
		ctl_check_user_name(argv[1]);
		req->user = argv[1];
		return true;
	}
	return false;
}

/*
 * Send request (a line without its LF), read the whole answer.  0 with
 * *ok (the status line) and *body (the rest, NUL-terminated; free it);
 * CTL_EXIT_NOT_RUNNING when nothing listens; CTL_EXIT_ERROR (said).
 */
int
control_request(const struct cairn_config *cfg, const char *request, bool *ok,
    char **body)
{
	struct sockaddr_un sun;
	struct buf in = BUF_INIT;
	char path[sizeof(sun.sun_path)], chunk[65536];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/control", cfg->run_dir) >=
	    sizeof(path))
		return ctl_fail("%s/control: path too long", cfg->run_dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return ctl_fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED) {
			fprintf(stderr, "cairnctl: cairnd is not running (nothing "
			    "listens on %s)\n", path);
			return CTL_EXIT_NOT_RUNNING;
		}
		return ctl_fail("cannot connect to %s: %s%s", path, strerror(e),
		    e == EACCES ? " (the control socket is root's)" : "");
	}
	buf_printf(&in, "%s\n", request);
	if (send(fd, in.data, in.len, MSG_NOSIGNAL) != (ssize_t)in.len) {
		int e = errno;
		buf_free(&in);
		close(fd);
		return ctl_fail("cannot send to %s: %s", path, strerror(e));
	}
	buf_reset(&in);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, CONTROL_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf_free(&in);
			close(fd);
			return ctl_fail("no answer from cairnd on %s", path);
		}
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			buf_free(&in);
			close(fd);
			return ctl_fail("reading from %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		if (in.len + (size_t)n > CONTROL_ANSWER_MAX) {
			buf_free(&in);
			close(fd);
			return ctl_fail("the answer from cairnd is too long");
		}
		buf_append(&in, chunk, (size_t)n);
	}
	close(fd);
	buf_append_char(&in, '\0');
	char *text = buf_steal(&in, NULL);
	char *nl = strchr(text, '\n');
	if (nl == NULL || (strncmp(text, "OK\n", 3) != 0 &&
	    strncmp(text, "ERR\n", 4) != 0)) {
		free(text);
		return ctl_fail("cairnd's answer makes no sense");
	}
	*ok = text[0] == 'O';
	*body = xstrdup(nl + 1);
	free(text);
	return CTL_EXIT_OK;
}

/* The body of an ERR: each line "cairnctl: LINE" on stderr. */
static int
print_error_body(char *body)
{
	for (char *line = strtok(body, "\n"); line != NULL; line = strtok(NULL, "\n"))
		fprintf(stderr, "cairnctl: %s\n", line);
	return CTL_EXIT_ERROR;
}

static void
iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* SESSION USER ADDR PORT SINCE STATE MAILBOX, tab-separated (control.c) */
static int
show_who(char *body, bool json)
{
	unsigned n = 0;

	if (json)
		printf("[");
	else
		printf("%-16s %-26s %-20s %-17s %s\n", "USER", "ADDRESS", "SINCE",
		    "STATE", "MAILBOX");
	for (char *line = strtok(body, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char *f[7], *p = line;
		size_t k;
		for (k = 0; k < 7; k++) {
			f[k] = p;
			char *tab = strchr(p, '\t');
			if (tab == NULL) {
				k++;
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		if (k != 7)
			continue;
		char since[32], addr[96];
		iso_time((time_t)strtoll(f[4], NULL, 10), since, sizeof(since));
		snprintf(addr, sizeof(addr), strchr(f[2], ':') ? "[%s]:%s" : "%s:%s",
		    f[2], f[3]);
		if (json) {
			printf("%s\n  {\"session\": ", n ? "," : "");
			json_string(f[0]);
			printf(", \"user\": ");
			if (strcmp(f[1], "-") == 0)
				printf("null");
			else
				json_string(f[1]);
			printf(", \"address\": ");
			json_string(f[2]);
			printf(", \"port\": %s, \"since\": ", f[3]);
			json_string(since);
			printf(", \"state\": ");
			json_string(f[5]);
			printf(", \"mailbox\": ");
			if (f[6][0] == '\0')
				printf("null");
			else
				json_string(f[6]);
			printf("}");
		} else {
			printf("%-16s %-26s %-20s %-17s %s\n", f[1], addr, since, f[5],
			    f[6]);
		}
		n++;
	}
	if (json)
		printf("%s]\n", n ? "\n" : "");
	return CTL_EXIT_OK;
}

/* stats lines: "NAME LABEL VALUE" (master/stats.c), LABEL "-" for none. */
static const struct metric {
	const char *name;
	const char *prom;          /* Prometheus name */
	const char *type;
	const char *label;         /* its label's name, NULL for none */
	const char *help;
} metrics[] = {
	{ "started", "cairn_start_time_seconds", "gauge", NULL,
	    "Unix time the cairnd master started." },
	{ "sessions", "cairn_sessions", "gauge", "protocol",
	    "Sessions open now, by protocol." },
	{ "connections", "cairn_connections_total", "counter", "protocol",
	    "Connections handed to a session process, by protocol." },
	{ "logins", "cairn_logins_total", "counter", "result",
	    "IMAP login verdicts: ok, failed (wrong password or unknown user), "
	    "disabled, unavailable, limit (max-concurrent)." },
	{ "commands", "cairn_commands_total", "counter", "command",
	    "IMAP commands received, by name (OTHER: unknown names)." },
	{ "bytes", "cairn_imap_bytes_total", "counter", "direction",
	    "IMAP bytes read (in) and written (out), before TLS and COMPRESS." },
	{ "deliveries", "cairn_deliveries_total", "counter", "result",
	    "LMTP deliveries, one per recipient, by result." },
	{ "delivered_bytes", "cairn_delivered_bytes_total", "counter", NULL,
	    "Bytes of the messages delivered, once per recipient." },
};

struct stat_line {
	char name[32], label[32];
	unsigned long long value;
};

static size_t
parse_stats(char *body, struct stat_line **out)
{
	size_t n = 0, cap = 64;
	struct stat_line *l = xreallocarray(NULL, cap, sizeof(*l));

	for (char *line = strtok(body, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (n == cap) {
			cap *= 2;
			l = xreallocarray(l, cap, sizeof(*l));
		}
		if (sscanf(line, "%31s %31s %llu", l[n].name, l[n].label,
		    &l[n].value) == 3)
			n++;
	}
	*out = l;
	return n;
}

static int
show_stats(char *body, bool prometheus)
{
	struct stat_line *l;
	size_t n = parse_stats(body, &l);

	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		const struct metric *mt = &metrics[m];
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(l[i].name, mt->name) != 0)
				continue;
			if (prometheus) {
				if (!any)
					printf("# HELP %s %s\n# TYPE %s %s\n", mt->prom,
					    mt->help, mt->prom, mt->type);
				if (mt->label != NULL)
					printf("%s{%s=\"%s\"} %llu\n", mt->prom, mt->label,
					    l[i].label, l[i].value);
				else
					printf("%s %llu\n", mt->prom, l[i].value);
			} else if (strcmp(mt->name, "started") == 0) {
				char t[32];
				iso_time((time_t)l[i].value, t, sizeof(t));
				printf("%-16s %s", "started", t);
			} else if (mt->label == NULL) {
				printf("%-16s %llu", mt->name, l[i].value);
			} else if (any) {
				printf(", %s %llu", l[i].label, l[i].value);
			} else {
				printf("%-16s %s %llu", mt->name, l[i].label, l[i].value);
			}
			any = true;
		}
		if (!prometheus && any)
			printf("\n");
	}
	free(l);
	return CTL_EXIT_OK;
}

int
control_run(const struct cairn_config *cfg, const struct control_cmd *req)
{
	char request[256];
	char *body;
	bool ok;
	int status;

	snprintf(request, sizeof(request), "%s%s%s", req->verb,
	    req->user != NULL ? " " : "", req->user != NULL ? req->user : "");
	if ((status = control_request(cfg, request, &ok, &body)) != CTL_EXIT_OK)
		return status;
	if (!ok)
		status = print_error_body(body);
	else if (strcmp(req->verb, "who") == 0)
		status = show_who(body, req->json);
	else if (strcmp(req->verb, "stats") == 0)
		status = show_stats(body, req->prometheus);
	else if (strcmp(req->verb, "kick") == 0)
		printf("%s: %lu session(s) ended\n", req->user, strtoul(body, NULL, 10));
	else
		fputs(body, stdout);
	free(body);
	return status;
}
