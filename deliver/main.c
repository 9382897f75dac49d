/*
 * cairn-deliver: the local delivery agent for an MTA's mailbox_command or
 * pipe transport.  It reads one message on standard input and hands it
 * to cairn-lmtpd over lmtp-socket, as an LMTP client: it never opens a
 * store, so whoever runs it, the writing is done by the chrooted,
 * unprivileged cairn-lmtpd.  Its exit status follows sysexits.h, so the
 * MTA retries (EX_TEMPFAIL) or bounces; cairn-deliver(8).
 *
 * This file reads the options, the configuration and the message, and
 * connects; client.c holds the conversation.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include "client.h"
#include "config.h"
#include "log.h"
#include "message.h"
#include "proto.h"
#include "spool.h"

#ifndef CAIRN_SYSCONFDIR
#define CAIRN_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG CAIRN_SYSCONFDIR "/cairn/cairn.conf"
#define DEFAULT_TIMEOUT 300
#define MAX_TIMEOUT 3600
#define HOST_MAX 253

struct options {
	const char *config;
	const char *user;
	const char *mailbox;
	const char *sender;          /* NULL: from the From line, or <> */
	unsigned timeout;
};

static void
usage_text(FILE *out)
{
	fprintf(out,
	    "usage: cairn-deliver [-c FILE] -d USER [-m MAILBOX] [-f SENDER] "
	    "[-t SECONDS]\n"
	    "  -c FILE     configuration file (default %s)\n"
	    "  -d USER     the recipient: a user, user+detail or user@domain\n"
	    "  -m MAILBOX  deliver into MAILBOX (INBOX when it does not exist)\n"
	    "  -f SENDER   the envelope sender (default: from the message's\n"
	    "              \"From \" line, else <>)\n"
	    "  -t SECONDS  how long to wait for the server each time "
	    "(default %d)\n"
	    "Reads one message on standard input.\n",
	    DEFAULT_CONFIG, DEFAULT_TIMEOUT);
}

/* One line, as every failure: the MTA puts it in its log and bounce. */
static _Noreturn void
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "cairn-deliver: %s%s%s (cairn-deliver --help: usage)\n",
	    what, arg ? ": " : "", arg ? arg : "");
	exit(EX_USAGE);
}

static void
print_error(void *arg, const char *message)
{
	(void)arg;
	fprintf(stderr, "cairn-deliver: %s\n", message);
}

/*
 * "", "<>" and "<a@b>" as well as a@b, and MAILER-DAEMON (Postfix's pipe
 * writes it for the null sender); NULL when it is not an address.
 */
static const char *
sender_arg(const char *s, char *out, size_t size)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len >= size)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	if (strcasecmp(out, "MAILER-DAEMON") == 0)
		out[0] = '\0';
	return out[0] == '\0' || lda_addr_valid(out) ? out : NULL;
}

static void
parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static char sender[LDA_ADDR_MAX + 1];
	char opt_name[3] = "-?", *end;
	long v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->config = DEFAULT_CONFIG;
	o->timeout = DEFAULT_TIMEOUT;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:d:f:m:t:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'd': o->user = optarg; break;
		case 'm': o->mailbox = optarg; break;
		case 'f':
			if ((o->sender = sender_arg(optarg, sender, sizeof(sender))) == NULL)
				usage_error("-f: not an address (printable ASCII, no "
				    "spaces, at most 254 bytes)", NULL);
			break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 1 ||
			    v > MAX_TIMEOUT)
				usage_error("-t: seconds from 1 to 3600", NULL);
			o->timeout = (unsigned)v;
			break;
		case 'h':
			usage_text(stdout);
			exit(EX_OK);
		case 'V':
			printf("cairn-deliver %s\n", PACKAGE_VERSION);
			exit(EX_OK);
		case ':':
			opt_name[1] = (char)optopt;
			usage_error("an option needs an argument", opt_name);
		default:
			opt_name[1] = (char)optopt;
			usage_error("unknown option", optopt ? opt_name : argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
	if (o->user == NULL)
		usage_error("-d USER is required", NULL);
	if (!lda_addr_valid(o->user))
		usage_error("-d: not a user (printable ASCII, no spaces, at most "
		    "254 bytes)", NULL);
	if (o->mailbox != NULL && !lda_mailbox_valid(o->mailbox))
		usage_error("-m: not a mailbox name (UTF-8 without control "
		    "characters, at most 1000 bytes)", NULL);
}

/*
 * Installed set-group-ID lmtp-group, cairn-deliver needs the group for
 * one connect() and nothing else: it reads the configuration (which -c
 * lets the invoker choose) and the message as the invoker, and gives the
 * group up for good once connected.
 */
static gid_t group_gid;
static bool group_held;

static _Noreturn void
group_fatal(const char *what)
{
	fprintf(stderr, "cairn-deliver: %s: %s\n", what, strerror(errno));
	exit(EX_TEMPFAIL);
}

static void
group_drop(void)
{
	if (getegid() == getgid())
		return;
	group_gid = getegid();
	group_held = true;
	if (setegid(getgid()) != 0)
		group_fatal("setegid");
}

static int
connect_as_group(const char *path)
{
	gid_t gid = getgid();
	int fd, saved;

	if (group_held && setegid(group_gid) != 0)
		group_fatal("setegid");
	fd = lda_connect(path);
	saved = errno;
	if (group_held) {
		if (setresgid(gid, gid, gid) != 0)
			group_fatal("setresgid");
#if defined(CAIRN_SANITIZERS) && defined(HAVE_SYS_PRCTL_H)
		/* LeakSanitizer needs to ptrace its own process at exit, which
		 * the kernel forbids after a set-group-ID exec: sanitizer
		 * builds (tests only) make themselves dumpable again, as
		 * privdrop() leaves them. */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
			group_fatal("prctl");
#endif
	}
	errno = saved;
	return fd;
}

/* Standard input through the transformation into the spool. */
static int
read_message(struct lda_msg *m, struct lda_spool *spool, uint64_t max)
{
	static char buf[65536];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "cairn-deliver: cannot read the message: %s\n",
			    strerror(errno));
			return EX_TEMPFAIL;
		}
		if ((n == 0 ? lda_msg_finish(m, lda_spool_write, spool) :
		    lda_msg_feed(m, buf, (size_t)n, lda_spool_write, spool)) != 0) {
			fprintf(stderr, "cairn-deliver: cannot keep the message: %s\n",
			    strerror(errno));
			return EX_TEMPFAIL;
		}
		/* refused while reading: a huge message never fills the disk */
		if (max > 0 && m->size > max) {
			fprintf(stderr, "cairn-deliver: the message is larger than "
			    "lmtp-max-message-size (%" PRIu64 " bytes)\n", max);
			return EX_DATAERR;
		}
		if (n == 0)
			return EX_OK;
	}
}

/* This host's name for LHLO, when it is one; else "localhost". */
static void
host_name(char *out, size_t size)
{
	size_t len;

	if (gethostname(out, size) != 0 || (len = strnlen(out, size)) == size ||
	    len == 0 || len > HOST_MAX || strspn(out, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != len)
		snprintf(out, size, "localhost");
}

static int
deliver(const struct options *o, const struct cairn_config *cfg,
    struct lda_spool *spool, const struct lda_msg *m)
{
	struct lda_delivery d;
	char helo[HOST_MAX + 2], why[2048];
	int fd, status;

	memset(&d, 0, sizeof(d));
	host_name(helo, sizeof(helo));
	d.socket_path = cfg->lmtp_socket;
	d.helo = helo;
	d.sender = o->sender;
	if (d.sender == NULL && (d.sender = lda_msg_sender(m)) == NULL)
		d.sender = "";
	d.rcpt = o->user;
	d.mailbox = o->mailbox;
	d.spool = spool;
	d.size = m->size;
	d.eightbit = m->eightbit;
	d.timeout = o->timeout;

	if ((fd = connect_as_group(cfg->lmtp_socket)) < 0) {
		int e = errno;

		fprintf(stderr, "cairn-deliver: cannot connect to %s: %s%s\n",
		    cfg->lmtp_socket, strerror(e),
		    e == EACCES || e == EPERM ? " (the invoking user must be able "
		    "to write it: a member of lmtp-group, or cairn-deliver "
		    "installed set-group-ID lmtp-group)" :
		    e == ENOENT || e == ECONNREFUSED ? " (is cairnd running?)" : "");
		if (e == EACCES || e == EPERM)
			return EX_NOPERM;
		/* a path that can never work is the configuration's fault */
		return e == ENAMETOOLONG ? EX_CONFIG : EX_TEMPFAIL;
	}
	if ((status = lda_deliver(fd, &d, why, sizeof(why))) != EX_OK)
		fprintf(stderr, "cairn-deliver: %s\n", why);
	return status;
}

int
main(int argc, char *argv[])
{
	struct cairn_config *cfg;
	struct options o;
	struct lda_spool spool;
	struct lda_msg m;
	int status;

	/* before anything else: root must not get near a store, even by
	 * proxy, and a bad argument as root is still root */
	if (geteuid() == 0) {
		fprintf(stderr, "cairn-deliver: refusing to run as root; run it as "
		    "the mail user or a member of lmtp-group\n");
		return EX_NOPERM;
	}
	group_drop();
	log_init("cairn-deliver", LOG_TO_STDERR, LOG_LEVEL_WARN);
	/* the socket's end going away is an error reported by send() */
	signal(SIGPIPE, SIG_IGN);
	parse_options(argc, argv, &o);

	if ((cfg = config_load(o.config, false, print_error, NULL)) == NULL)
		return EX_CONFIG;
	lda_msg_init(&m);
	lda_spool_init(&spool);
	status = read_message(&m, &spool, cfg->lmtp_max_message_size);
	if (status == EX_OK)
		status = deliver(&o, cfg, &spool, &m);
	lda_spool_free(&spool);
	config_free(cfg);
	return status;
}
