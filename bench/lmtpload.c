/*
 * lmtpload: the LMTP load generator of bench/run-lmtp.sh, the same
 * deliveries against any LMTP server (RFC 2033), over a Unix socket or
 * TCP.
 *
 *   lmtpload -s SOCKET | -p PORT [-H HOST] -c CONNS -n MESSAGES -z BYTES
 *            -u USER [--first K] [--label NAME]
 *
 * CONNS connections (one thread each) connect and send LHLO before a
 * barrier; then they deliver MESSAGES messages in total, shared among
 * them, each connection in one session: MAIL FROM, RCPT TO, DATA, the
 * message, the final dot, and its reply, again and again, then QUIT.
 * MAIL, RCPT and DATA go in one write when the server offers PIPELINING
 * (as Postfix's LMTP client sends them); SIZE= goes with MAIL when it
 * offers SIZE (Dovecot 2.3's LMTP does not, and refuses the parameter).  Only what follows the barrier is
 * timed, up to the last connection's last reply.
 *
 * USER names the recipient; "%d" (at most once) becomes the connection's
 * number (1, 2, ...), so "bench%d" gives each connection its own user.
 *
 * Each message is BYTES bytes exactly (CRLF line ends; no line starts
 * with "."): a header with a Message-ID made of --first + the message's
 * number, so that runs that share a store never repeat one, and text
 * lines.  Every reply must be the expected one; anything else counts as
 * an error, and any error makes the exit status 1.
 *
 * It prints one line for people and one for scripts:
 *
 *   RESULT LABEL DELIVERIES SECONDS P50_MS P95_MS P99_MS ERRORS
 *
 * Plain C11 and POSIX threads.
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT 300          /* seconds, for every read and write */
#define LINE_MAX_LEN 4096

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("lmtpload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct options {
	const char *socket_path;
	const char *host;
	int port;
	int conns;
	long messages;
	size_t size;
	const char *user;
	long first;
	const char *label;
};

static struct options opt = { .host = "127.0.0.1", .conns = 1, .label = "run" };

/* ---- the connection ------------------------------------------------------ */

struct conn {
	int fd;
	char in[LINE_MAX_LEN * 4];
	size_t off, len;
	bool pipelining;
	bool size;                   /* the server takes SIZE= (RFC 1870) */
	char err[512];
};

static void
conn_error(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static int
conn_open(struct conn *c)
{
	struct timeval tv = { .tv_sec = TIMEOUT };

	memset(c, 0, sizeof(*c));
	if (opt.socket_path != NULL) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(opt.socket_path) >= sizeof(sun.sun_path))
			die("%s: path too long", opt.socket_path);
		memcpy(sun.sun_path, opt.socket_path, strlen(opt.socket_path) + 1);
		if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
		    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			conn_error(c, "connect to %s: %s", opt.socket_path, strerror(errno));
			return -1;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		char port[16];
		int one = 1, rc;

		snprintf(port, sizeof(port), "%d", opt.port);
		if ((rc = getaddrinfo(opt.host, port, &hints, &res)) != 0)
			die("%s: %s", opt.host, gai_strerror(rc));
		c->fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, res->ai_addr, res->ai_addrlen) != 0) {
			conn_error(c, "connect to %s:%d: %s", opt.host, opt.port,
			    strerror(errno));
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

static int
conn_write(struct conn *c, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			conn_error(c, "write: %s", errno == EAGAIN ? "timed out" :
			    strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line without CRLF into line (LINE_MAX_LEN bytes). */
static int
conn_line(struct conn *c, char *line)
{
	for (;;) {
		char *nl = memchr(c->in + c->off, '\n', c->len - c->off);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->in + c->off));

			if (n > 0 && nl[-1] == '\r')
				n--;
			if (n >= LINE_MAX_LEN) {
				conn_error(c, "a reply line of %zu bytes", n);
				return -1;
			}
			memcpy(line, c->in + c->off, n);
			line[n] = '\0';
			c->off = (size_t)(nl - c->in) + 1;
			return 0;
		}
		if (c->off > 0) {
			memmove(c->in, c->in + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == sizeof(c->in)) {
			conn_error(c, "a reply line too long");
			return -1;
		}
		ssize_t r = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			conn_error(c, "read: %s", r == 0 ? "the server closed the connection" :
			    errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
		c->len += (size_t)r;
	}
}

/* Is this LHLO reply line the keyword kw? */
static bool
keyword(const char *line, size_t len, const char *kw)
{
	size_t n = strlen(kw);

	return len >= 4 + n && strncasecmp(line + 4, kw, n) == 0 &&
	    (line[4 + n] == '\0' || line[4 + n] == ' ');
}

/*
 * One whole reply, which must have the code want (0: any 2xx); with
 * caps, the LHLO keywords are looked at.  0, or -1 after conn_error.
 */
static int
conn_reply(struct conn *c, int want, const char *after, bool caps)
{
	char line[LINE_MAX_LEN];
	int code = 0;

	for (;;) {
		if (conn_line(c, line) != 0)
			return -1;
		size_t len = strlen(line);

		if (len < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]) ||
		    (len > 3 && line[3] != '-' && line[3] != ' ')) {
			conn_error(c, "not a reply after %s: %s", after, line);
			return -1;
		}
		code = atoi(line);
		if (caps && keyword(line, len, "PIPELINING"))
			c->pipelining = true;
		if (caps && keyword(line, len, "SIZE"))
			c->size = true;
		if (len == 3 || line[3] != '-')
			break;
	}
	if (want == 0 ? code / 100 != 2 : code != want) {
		conn_error(c, "after %s: %s", after, line);
		return -1;
	}
	return 0;
}

/* ---- the messages -------------------------------------------------------- */

static const char *const words[] = {
	"delivery", "mailbox", "message", "server", "queue", "transfer", "local",
	"protocol", "recipient", "sender", "envelope", "header", "body", "store",
	"index", "commit", "journal", "segment", "latency", "throughput",
};

/* The body: text lines of at most 76 bytes, CRLF, to exactly n bytes. */
static char *
make_body(size_t n)
{
	char *b = malloc(n + 1);
	size_t len = 0, col = 0, w = 0;

	if (b == NULL)
		die("out of memory");
	while (len + 2 < n) {
		const char *word = words[w % (sizeof(words) / sizeof(words[0]))];
		size_t wl = strlen(word);

		if (col > 0 && col + 1 + wl > 76) {
			if (len + 4 > n)
				break;          /* no room for this line end and the last */
			memcpy(b + len, "\r\n", 2);
			len += 2;
			col = 0;
			continue;
		}
		w++;
		if (col > 0) {
			b[len++] = ' ';
			col++;
		}
		if (wl > n - 2 - len)
			wl = n - 2 - len;
		memcpy(b + len, word, wl);
		len += wl;
		col += wl;
	}
	/* pad to the size: letters, never a leading dot */
	while (len + 2 < n)
		b[len++] = 'x';
	if (n >= 2) {
		memcpy(b + len, "\r\n", 2);
		len += 2;
	}
	b[len] = '\0';
	if (len != n)
		die("make_body: %zu bytes, not %zu", len, n);
	return b;
}

static const char header_fmt[] =
    "From: Load <load@bench.example>\r\n"
    "To: <%s>\r\n"
    "Subject: LMTP benchmark message %ld\r\n"
    "Message-ID: <lmtpload.%ld.%d@bench.example>\r\n"
    "Date: Mon, 23 Nov 2026 12:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n";

/* ---- clients ------------------------------------------------------------- */

struct client {
	int number;
	long count;                  /* messages it delivers */
	long first;                  /* the number of its first one */
	char user[256];
	double *lat;                 /* ms per delivery */
	long done;
	long errors;
	pthread_t thread;
	char err[512];
};

static pthread_barrier_t barrier;

static void
expand_user(const char *fmt, int n, char *out, size_t len)
{
	const char *p = strstr(fmt, "%d");

	if (p == NULL)
		snprintf(out, len, "%s", fmt);
	else
		snprintf(out, len, "%.*s%d%s", (int)(p - fmt), fmt, n, p + 2);
}

/* One delivery; 0, or -1 when the session is lost. */
static int
deliver(struct client *cl, struct conn *c, long k)
{
	char head[1024], cmd[600], size[32] = "";
	size_t hl, body_len;
	static __thread char *body;
	static __thread size_t body_for;
	double t0;
	int n;

	n = snprintf(head, sizeof(head), header_fmt, cl->user, k, k, cl->number);
	if (n < 0 || (size_t)n >= sizeof(head))
		die("header too long");
	hl = (size_t)n;
	body_len = opt.size > hl + 2 ? opt.size - hl : 2;
	if (body == NULL || body_for != body_len) {
		free(body);
		body = make_body(body_len);
		body_for = body_len;
	}
	if (c->size)
		snprintf(size, sizeof(size), " SIZE=%zu", hl + body_len);
	n = snprintf(cmd, sizeof(cmd), "MAIL FROM:<load@bench.example>%s\r\n"
	    "RCPT TO:<%s>\r\nDATA\r\n", size, cl->user);
	t0 = now();
	if (c->pipelining) {
		if (conn_write(c, cmd, (size_t)n) != 0 ||
		    conn_reply(c, 250, "MAIL FROM", false) != 0 ||
		    conn_reply(c, 0, "RCPT TO", false) != 0 ||
		    conn_reply(c, 354, "DATA", false) != 0)
			return -1;
	} else {
		char *rcpt = strstr(cmd, "RCPT"), *data = strstr(cmd, "DATA");

		if (conn_write(c, cmd, (size_t)(rcpt - cmd)) != 0 ||
		    conn_reply(c, 250, "MAIL FROM", false) != 0 ||
		    conn_write(c, rcpt, (size_t)(data - rcpt)) != 0 ||
		    conn_reply(c, 0, "RCPT TO", false) != 0 ||
		    conn_write(c, data, 6) != 0 ||
		    conn_reply(c, 354, "DATA", false) != 0)
			return -1;
	}
	if (conn_write(c, head, hl) != 0 || conn_write(c, body, body_len) != 0 ||
	    conn_write(c, ".\r\n", 3) != 0 ||
	    conn_reply(c, 250, "the end of the message", false) != 0)
		return -1;
	cl->lat[cl->done++] = (now() - t0) * 1000.0;
	return 0;
}

static void *
client_main(void *arg)
{
	struct client *cl = arg;
	struct conn c;
	char lhlo[128];
	bool ok;

	ok = conn_open(&c) == 0;
	if (ok && conn_reply(&c, 220, "connecting", false) != 0)
		ok = false;
	snprintf(lhlo, sizeof(lhlo), "LHLO lmtpload.bench.example\r\n");
	if (ok && (conn_write(&c, lhlo, strlen(lhlo)) != 0 ||
	    conn_reply(&c, 250, "LHLO", true) != 0))
		ok = false;
	pthread_barrier_wait(&barrier);
	for (long i = 0; ok && i < cl->count; i++) {
		if (deliver(cl, &c, cl->first + i) != 0)
			ok = false;
	}
	if (ok) {
		(void)conn_write(&c, "QUIT\r\n", 6);
		(void)conn_reply(&c, 221, "QUIT", false);
	}
	if (!ok) {
		cl->errors = cl->count - cl->done;
		snprintf(cl->err, sizeof(cl->err), "%s", c.err);
	}
	if (c.fd > 0)
		close(c.fd);
	return NULL;
}

/* ---- results ------------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double
percentile(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n + 0.999999);
	return v[i == 0 ? 0 : i > n ? n - 1 : i - 1];
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: lmtpload -s SOCKET | -p PORT [-H HOST] -c CONNS -n MESSAGES\n"
	    "                -z BYTES -u USER [--first K] [--label NAME]\n");
	exit(2);
}

static long
number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max)
		die("%s: '%s' is not a number from %ld to %ld", what, s, min, max);
	return v;
}

static void
parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "first", required_argument, NULL, 'F' },
		{ "label", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "s:p:H:c:n:z:u:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': opt.socket_path = optarg; break;
		case 'p': opt.port = (int)number(optarg, 1, 65535, "-p"); break;
		case 'H': opt.host = optarg; break;
		case 'c': opt.conns = (int)number(optarg, 1, 1000, "-c"); break;
		case 'n': opt.messages = number(optarg, 1, 100000000, "-n"); break;
		case 'z': opt.size = (size_t)number(optarg, 300, 1L << 30, "-z"); break;
		case 'u': opt.user = optarg; break;
		case 'F': opt.first = number(optarg, 0, 1L << 40, "--first"); break;
		case 'L': opt.label = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || (opt.socket_path == NULL) == (opt.port == 0) ||
	    opt.messages == 0 || opt.size == 0 || opt.user == NULL)
		usage();
	if (opt.messages < opt.conns)
		die("-n must be at least -c");
	const char *p = strstr(opt.user, "%");
	if (p != NULL && (p[1] != 'd' || strchr(p + 2, '%') != NULL))
		die("-u: only one %%d");
}

int
main(int argc, char **argv)
{
	struct client *cls;
	double t0, t1, *all;
	long done = 0, errors = 0;
	size_t n = 0;

	parse(argc, argv);
	if ((cls = calloc((size_t)opt.conns, sizeof(*cls))) == NULL)
		die("out of memory");
	pthread_barrier_init(&barrier, NULL, (unsigned)opt.conns + 1);
	for (int i = 0; i < opt.conns; i++) {
		struct client *cl = &cls[i];

		cl->number = i + 1;
		cl->count = opt.messages / opt.conns + (i < opt.messages % opt.conns);
		cl->first = opt.first + (i == 0 ? 0 : cls[i - 1].first - opt.first +
		    cls[i - 1].count);
		expand_user(opt.user, cl->number, cl->user, sizeof(cl->user));
		if ((cl->lat = calloc((size_t)cl->count, sizeof(double))) == NULL)
			die("out of memory");
		if (pthread_create(&cl->thread, NULL, client_main, cl) != 0)
			die("pthread_create failed");
	}
	pthread_barrier_wait(&barrier);
	t0 = now();
	for (int i = 0; i < opt.conns; i++)
		pthread_join(cls[i].thread, NULL);
	t1 = now();

	if ((all = calloc((size_t)opt.messages, sizeof(double))) == NULL)
		die("out of memory");
	for (int i = 0; i < opt.conns; i++) {
		memcpy(all + n, cls[i].lat, (size_t)cls[i].done * sizeof(double));
		n += (size_t)cls[i].done;
		done += cls[i].done;
		errors += cls[i].errors;
		if (cls[i].err[0] != '\0')
			fprintf(stderr, "lmtpload: %s: connection %d: %s\n", opt.label,
			    cls[i].number, cls[i].err);
	}
	qsort(all, n, sizeof(double), cmp_double);
	printf("%s: %ld deliveries of %zu bytes over %d connection%s in %.3f s: "
	    "%.1f/s; ms per delivery p50 %.2f p95 %.2f p99 %.2f; errors %ld\n",
	    opt.label, done, opt.size, opt.conns, opt.conns == 1 ? "" : "s", t1 - t0,
	    (double)done / (t1 - t0), percentile(all, n, 0.5), percentile(all, n, 0.95),
	    percentile(all, n, 0.99), errors);
	printf("RESULT %s %ld %.6f %.3f %.3f %.3f %ld\n", opt.label, done, t1 - t0,
	    percentile(all, n, 0.5), percentile(all, n, 0.95), percentile(all, n, 0.99),
	    errors);
	return errors == 0 ? 0 : 1;
}
