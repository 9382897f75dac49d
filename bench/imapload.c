/*
 * imapload: the IMAP load generator of Cairn's store benchmark
 * (bench/run-store.sh), the same workload against any IMAP server.
 *
 *   imapload WORKLOAD -p PORT [options]     run a workload, print one result
 *   imapload report TITLE A=F[,F..] B=F[,F..]   merge saved runs, ratio A/B
 *   imapload gen INDEX [SEED]               print one generated message
 *   imapload sizes COUNT [SEED]             statistics of COUNT messages
 *
 * Workloads (each client is one connection, in its own thread; every
 * client logs in and selects before a barrier, and only what follows the
 * barrier is timed, up to the moment the last client has its last answer):
 *
 *   append      -n messages in total, shared among -c clients, one APPEND
 *               (LITERAL+) at a time per client, each waiting for its OK
 *   populate    -n messages on one connection, pipelined (--window
 *               commands in flight); for filling a mailbox, not timed
 *               per command
 *   select      SELECT of -m, repeated; checks EXISTS
 *   fetch-flags FETCH 1:* (FLAGS UID); checks one FETCH per message
 *   fetch-body  FETCH n (BODY.PEEK[]) for random n; checks the size of every
 *               body against the generator (and with --verify, every byte)
 *   search      SEARCH with --search KEYS; checks that every answer of every
 *               client is the same (count and a hash of the numbers)
 *   store       STORE lo:hi +FLAGS (\Flagged), then -FLAGS, alternating; client
 *               i works on its own range of --range messages after
 *               --range-base; checks one FETCH per message of its range
 *   mem         -c connections LOGIN and SELECT -m and stay idle; the sum of
 *               Pss and Rss (/proc/PID/smaps_rollup) of --server-pid and all
 *               its descendants, before and after, divided by -c
 *   idle        -c connections of ONE user LOGIN, SELECT -m and start IDLE
 *               (RFC 2177: wait for "+"); memory as for mem; then one more
 *               connection of the same user APPENDs -n messages to -m, one
 *               at a time, and for each APPEND every idling session's time
 *               until it reads "* n EXISTS" is recorded, from just before
 *               the APPEND was sent and from its tagged OK; --pause ms
 *               between APPENDs; then DONE and LOGOUT.  One process polls
 *               all the sockets, so the clock is read once per poll round.
 *               --examine: EXAMINE instead of SELECT (also for mem), a
 *               read-only view, which claims no \Recent message
 *   sessions    issue 7: -c sessions at once (LOGIN, SELECT INBOX), at most
 *               --window being set up at a time, in one poll loop; accept
 *               latency (connect() to the greeting's first byte), time until
 *               all are up, memory of --server-pid's tree; then NOOP, LOGOUT
 *   mix         issue 7: -c clients (of --users users) for --duration s, a
 *               weighted mix of SELECT, EXAMINE, FETCH, SEARCH, STORE,
 *               APPEND, COPY, MOVE, EXPUNGE, NOOP, IDLE and reconnects;
 *               every appended message checked by SHA-256 at the end
 *               (see the "load" section below)
 *
 * Users: -u NAME, where "%d" (at most once) becomes the client's number
 * (1, 2, ...): "bench%d" gives every client its own user.  The same holds
 * for -m.  The password is taken from the environment, IMAPLOAD_PASSWORD.
 *
 * Messages come from a deterministic generator: message INDEX under SEED is
 * the same bytes on every run and for every server.  Sizes: 98 % from 2 KiB
 * to 20 KiB (text/plain), 2 % from 100 KiB to 1 MiB (multipart/mixed: a
 * text part and a base64 attachment).  Subjects contain "invoice" in 1 %
 * of the messages, bodies "xylophone" in 0.5 %, and 1 in 32 senders is
 * "Ophelia ...", so that header and body searches find a known few.
 * Every third message is appended with \Seen.
 *
 * Every tagged answer must be OK; anything else is counted as an error,
 * and any error makes the exit status 1.  --save FILE keeps the result and
 * every latency for `imapload report`.
 *
 * Plain C11, POSIX threads and OpenSSL (--tls: implicit TLS, no certificate
 * check; the benchmark itself runs over plain TCP).
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

/* ---- small helpers ------------------------------------------------------ */

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("imapload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		die("out of memory");
	return p;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growing byte buffer, always NUL-terminated. */
struct dbuf {
	char *p;
	size_t len, cap;
};

static void
db_reserve(struct dbuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void
db_add(struct dbuf *b, const void *d, size_t n)
{
	db_reserve(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
db_adds(struct dbuf *b, const char *s)
{
	db_add(b, s, strlen(s));
}

static void
db_addc(struct dbuf *b, char c)
{
	db_add(b, &c, 1);
}

static void
db_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	db_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
db_reset(struct dbuf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static void
db_free(struct dbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* "%d" in fmt (at most once, no other '%') becomes n. */
static void
expand_name(const char *fmt, int n, char *out, size_t len)
{
	const char *p = strchr(fmt, '%');

	if (p == NULL) {
		snprintf(out, len, "%s", fmt);
		return;
	}
	snprintf(out, len, "%.*s%d%s", (int)(p - fmt), fmt, n, p + 2);
}

static bool
name_fmt_ok(const char *fmt)
{
	const char *p = strchr(fmt, '%');

	if (p == NULL)
		return true;
	return p[1] == 'd' && strchr(p + 2, '%') == NULL;
}

/* ---- the message generator --------------------------------------------- */

static uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix64(r->s);
}

static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static const char *const first_names[32] = {
	"alice", "bruno", "chiara", "dmitri", "elena", "farid", "greta", "hiro",
	"ines", "jonas", "kasia", "liam", "mei", "nadia", "oscar", "ophelia",
	"pablo", "quentin", "rosa", "sven", "tomas", "ursula", "viktor", "wanda",
	"xavier", "yusuf", "zora", "amara", "bilal", "carmen", "dario", "esme",
};
static const char *const last_names[16] = {
	"quinn", "novak", "berger", "silva", "tanaka", "moreau", "kowalski", "rossi",
	"jensen", "okafor", "larsen", "dubois", "fischer", "haddad", "lindqvist",
	"moretti",
};
static const char *const domains[8] = {
	"example.org", "example.com", "mail.example.net", "lists.example.org",
	"corp.example", "uni.example.edu", "shop.example", "news.example",
};
/* None of these contains a marker word ("invoice", "xylophone", "ophelia"). */
static const char *const words[96] = {
	"the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "as",
	"was", "on", "be", "at", "by", "this", "had", "not", "are", "but", "or",
	"have", "an", "they", "which", "one", "you", "were", "all", "we", "when",
	"there", "can", "more", "if", "no", "out", "so", "said", "what", "up",
	"its", "about", "into", "than", "them", "only", "other", "new", "some",
	"could", "time", "these", "two", "may", "then", "do", "first", "any",
	"meeting", "project", "report", "budget", "schedule", "review", "update",
	"team", "please", "thanks", "attached", "question", "answer", "week",
	"month", "today", "tomorrow", "server", "network", "release", "version",
	"draft", "final", "customer", "order", "delivery", "payment", "account",
	"support", "ticket", "change", "request", "office", "travel", "agenda",
	"summary",
};
#define MARK_SUBJECT "invoice"
#define MARK_BODY "xylophone"
#define MARK_FROM "ophelia"

#define SMALL_MIN 2048
#define SMALL_MAX 20480
#define LARGE_MIN 102400
#define LARGE_MAX 1048576

struct plan {
	size_t size;
	bool large, seen, mark_subject, mark_body;
	unsigned first, last, domain;
	time_t date;
};

/* Everything about message INDEX that is cheap to know; r continues after. */
static void
gen_plan(uint64_t seed, uint64_t index, struct plan *p, struct rng *r)
{
	r->s = mix64(mix64(seed) ^ (index * 0xd1b54a32d192ed03ULL));
	p->large = rng_below(r, 1000) < 20;
	p->size = p->large ? LARGE_MIN + rng_below(r, LARGE_MAX - LARGE_MIN + 1)
	    : SMALL_MIN + rng_below(r, SMALL_MAX - SMALL_MIN + 1);
	p->seen = index % 3 == 0;
	p->mark_subject = rng_below(r, 100) == 0;
	p->mark_body = rng_below(r, 200) == 0;
	p->first = (unsigned)rng_below(r, 32);
	p->last = (unsigned)rng_below(r, 16);
	p->domain = (unsigned)rng_below(r, 8);
	/* from 2024-01-01 00:00:00 UTC on, about 5 minutes apart */
	p->date = (time_t)(1704067200 + (int64_t)index * 317 + (int64_t)rng_below(r, 300));
}

static size_t
gen_size(uint64_t seed, uint64_t index)
{
	struct plan p;
	struct rng r;

	gen_plan(seed, index, &p, &r);
	return p.size;
}

/* An RFC 5322 date, or (imap) an IMAP date-time: "dd-Mon-yyyy hh:mm:ss +0000". */
static void
gen_date(time_t t, bool imap, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (imap)
		strftime(out, len, "%d-%b-%Y %H:%M:%S +0000", &tm);
	else
		strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* The IMAP date-time of message INDEX for APPEND: "dd-Mon-yyyy hh:mm:ss +0000". */
static void
gen_internaldate(const struct plan *p, char *out, size_t len)
{
	gen_date(p->date, true, out, len);
}

/* Text lines of words, exactly n bytes (n >= 2), every line ending in CRLF. */
static void
gen_text(struct rng *r, size_t n, bool mark, struct dbuf *out)
{
	while (n > 0) {
		size_t line = n > 78 ? 78 : n;
		size_t content, pos = 0;

		if (n - line == 1)
			line--;           /* never leave one byte: a line needs two */
		content = line - 2;
		while (pos < content) {
			const char *w = mark ? MARK_BODY : words[rng_below(r, 96)];
			size_t wl = strlen(w);

			mark = false;
			if (pos + (pos > 0) + wl > content)
				break;
			if (pos > 0) {
				db_addc(out, ' ');
				pos++;
			}
			db_add(out, w, wl);
			pos += wl;
		}
		for (; pos < content; pos++)
			db_addc(out, '.');
		db_add(out, "\r\n", 2);
		n -= line;
	}
}

static void
gen_base64_line(struct rng *r, struct dbuf *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[57];
	char line[78];

	for (size_t i = 0; i < sizeof(raw); i += 3) {
		uint64_t v = rng_next(r);

		raw[i] = (unsigned char)v;
		raw[i + 1] = (unsigned char)(v >> 8);
		raw[i + 2] = (unsigned char)(v >> 16);
	}
	for (size_t i = 0, o = 0; i < sizeof(raw); i += 3, o += 4) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		line[o] = b64[v >> 18];
		line[o + 1] = b64[(v >> 12) & 63];
		line[o + 2] = b64[(v >> 6) & 63];
		line[o + 3] = b64[v & 63];
	}
	line[76] = '\r';
	line[77] = '\n';
	db_add(out, line, sizeof(line));
}

/*
 * Threaded headers (--threads): the headers SORT and THREAD read, made as
 * mail clients make them, the same for every server.  Each message is,
 * deterministically from SEED and its index, the start of a conversation
 * (40 %) or a reply to one of the 400 messages before it, at most
 * THREAD_MAX_DEPTH deep.  A reply has In-Reply-To and References (its
 * parent's References, or its In-Reply-To when it has none, then the
 * parent's Message-ID, the last THREAD_REFS ids kept); 8 % of replies have
 * In-Reply-To only, as some clients write.  A conversation's subject is
 * that of its first message; a reply prefixes it with "Re: " (70 %),
 * "RE: " (10 %), "Re: Re: " (5 %), "Fwd: " (7 %), "AW: " (3 %: not a reply
 * marker for RFC 5256) or nothing (5 %).  First messages on the list
 * domain carry a list tag ("[team] ..."), 1 in 40 have a subject in UTF-8
 * (an RFC 2047 encoded-word), and 3 % reply to a message that is not in
 * the mailbox (a msg-id shared by 50 consecutive messages).  The Date is
 * the sender's clock: 0 to 59 minutes before the arrival (the internal
 * date), in one of eight time zones; 1 message in 1000 has none.  1 in
 * 2000 has the Message-ID of the message before it (a copy delivered
 * twice).  None of this changes a message's size: the body fills the rest.
 */
static bool gen_threads;

/* Takes "--threads" out of argv (anywhere after argv[0]); the new argc. */
static int
take_threads(int argc, char **argv)
{
	int k = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0)
			gen_threads = true;
		else
			argv[k++] = argv[i];
	}
	return k;
}

#define THREAD_ROOT_PCT 40
#define THREAD_WINDOW 400
#define THREAD_MAX_DEPTH 40
#define THREAD_REFS 10
#define SALT_THREAD 0x7468726561640001ULL
#define SALT_SUBJECT 0x7375626a65637401ULL
#define SALT_MSGID 0x6d73676964000001ULL
#define SALT_DATE 0x6461746500000001ULL

static const char *const list_tags[3] = { "[team]", "[dev]", "[announce]" };
/* first words of the UTF-8 subjects, and their bytes */
static const char *const utf8_words[4] = {
	"R\xc3\xa9union", "\xc3\x9c" "bersicht", "Caf\xc3\xa9", "A\xc3\xa7\xc3\xa3o",
};
static const char *const zones[8] = {
	"+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900", "-0300",
};

struct tnode {
	bool root;               /* starts a conversation */
	bool external;           /* a root that replies to a message not here */
	bool irt_only;           /* a reply with In-Reply-To and no References */
	bool dup;                /* has the Message-ID of the message before */
	uint64_t parent;         /* a reply's parent */
	unsigned prefix;         /* 0..99: which "Re: " */
	unsigned depth;          /* 0 for a root */
};

static struct rng
aux_rng(uint64_t seed, uint64_t index, uint64_t salt)
{
	struct rng r = { mix64(mix64(seed ^ salt) ^ (index * 0xd1b54a32d192ed03ULL)) };

	return r;
}

/* Message INDEX's place in its conversation. */
static void
thread_node(uint64_t seed, uint64_t index, struct tnode *t)
{
	struct rng r = aux_rng(seed, index, SALT_THREAD);
	uint64_t window = index < THREAD_WINDOW ? index : THREAD_WINDOW;

	memset(t, 0, sizeof(*t));
	t->root = index == 0 || rng_below(&r, 100) < THREAD_ROOT_PCT;
	t->parent = window > 0 ? index - 1 - rng_below(&r, window) : 0;
	t->irt_only = rng_below(&r, 100) < 8;
	t->prefix = (unsigned)rng_below(&r, 100);
	t->external = rng_below(&r, 100) < 3;
	t->dup = index > 0 && rng_below(&r, 2000) == 0;
	if (!t->root) {
		struct tnode p;

		thread_node(seed, t->parent, &p);
		if (p.depth + 1 > THREAD_MAX_DEPTH)
			t->root = true;
		else
			t->depth = p.depth + 1;
	}
	if (!t->root)
		t->external = false;
}

/* The index of the message that starts INDEX's conversation. */
static uint64_t
thread_root(uint64_t seed, uint64_t index)
{
	struct tnode t;

	for (;;) {
		thread_node(seed, index, &t);
		if (t.root)
			return index;
		index = t.parent;
	}
}

/* A msg-id: a message's own (index >= 0) or one not in the mailbox (< 0). */
static void
gen_msgid(uint64_t seed, int64_t id, struct dbuf *out)
{
	struct plan p;
	struct rng r, h;
	struct tnode t;
	uint64_t index;

	if (id < 0) {
		db_printf(out, "<ext.%" PRId64 ".%08" PRIx64 "@elsewhere.example>", -id,
		    mix64(seed ^ (uint64_t)-id) & 0xffffffffULL);
		return;
	}
	index = (uint64_t)id;
	for (;;) {                /* a copy has the id of the message it copies */
		thread_node(seed, index, &t);
		if (!t.dup)
			break;
		index--;
	}
	gen_plan(seed, index, &p, &r);
	h = aux_rng(seed, index, SALT_MSGID);
	db_printf(out, "<%" PRIu64 ".%08" PRIx64 "@%s>", index, rng_next(&h) & 0xffffffffULL,
	    domains[p.domain]);
}

/*
 * The msg-ids of message INDEX's References field (n of them, oldest
 * first, at most THREAD_REFS); *irt is its In-Reply-To (INT64_MAX: none).
 * With *has_refs false the message has no References field (but may have
 * In-Reply-To).
 */
static void
thread_refs(uint64_t seed, uint64_t index, int64_t *ids, size_t *n, int64_t *irt,
    bool *has_refs)
{
	struct tnode t;

	thread_node(seed, index, &t);
	*n = 0;
	*irt = INT64_MAX;
	*has_refs = false;
	if (t.root) {
		if (t.external) {
			ids[(*n)++] = -(int64_t)(index / 50 + 1);
			*irt = ids[0];
			*has_refs = true;
		}
		return;
	}
	{
		int64_t pids[THREAD_REFS + 1], pirt;
		size_t pn;
		bool phas;

		thread_refs(seed, t.parent, pids, &pn, &pirt, &phas);
		if (!phas) {          /* RFC 5322 3.6.4: the parent's In-Reply-To */
			pn = 0;
			if (pirt != INT64_MAX)
				pids[pn++] = pirt;
		}
		pids[pn++] = (int64_t)t.parent;
		if (pn > THREAD_REFS) {
			memmove(pids, pids + (pn - THREAD_REFS), THREAD_REFS * sizeof(pids[0]));
			pn = THREAD_REFS;
		}
		memcpy(ids, pids, pn * sizeof(pids[0]));
		*n = pn;
	}
	*irt = (int64_t)t.parent;
	*has_refs = !t.irt_only;
}

/* The subject of the conversation message ROOT starts, without prefix. */
static void
thread_subject(uint64_t seed, uint64_t root, struct dbuf *out)
{
	struct plan p;
	struct rng r = aux_rng(seed, root, SALT_SUBJECT), pr;
	struct dbuf plain = { 0 };
	unsigned nwords, markpos;
	bool utf8;

	gen_plan(seed, root, &p, &pr);
	nwords = 3 + (unsigned)rng_below(&r, 6);
	markpos = p.mark_subject ? (unsigned)rng_below(&r, nwords) : nwords;
	utf8 = rng_below(&r, 40) == 0;
	if (strcmp(domains[p.domain], "lists.example.org") == 0) {
		db_adds(out, list_tags[rng_below(&r, 3)]);
		db_addc(out, ' ');
	}
	for (unsigned i = 0; i < nwords; i++) {
		const char *w = i == markpos ? MARK_SUBJECT : words[rng_below(&r, 96)];

		if (i > 0)
			db_addc(&plain, ' ');
		if (i == 0 && utf8)
			db_adds(&plain, utf8_words[rng_below(&r, 4)]);
		else {
			db_addc(&plain, i == 0 ? (char)toupper((unsigned char)w[0]) : w[0]);
			db_adds(&plain, w + 1);
		}
	}
	if (!utf8)
		db_add(out, plain.p, plain.len);
	else {                    /* RFC 2047 "Q" */
		db_adds(out, "=?UTF-8?Q?");
		for (size_t i = 0; i < plain.len; i++) {
			unsigned char c = (unsigned char)plain.p[i];

			if (c == ' ')
				db_addc(out, '_');
			else if (c >= 0x80 || c == '=' || c == '?' || c == '_')
				db_printf(out, "=%02X", c);
			else
				db_addc(out, (char)c);
		}
		db_adds(out, "?=");
	}
	db_free(&plain);
}

/* The header fields SORT and THREAD read, for message INDEX with plan p. */
static void
gen_thread_headers(uint64_t seed, uint64_t index, const struct plan *p, struct dbuf *out)
{
	static const char *const prefixes[] = { "Re: ", "RE: ", "Re: Re: ", "Fwd: ", "AW: ", "" };
	static const unsigned upto[] = { 70, 80, 85, 92, 95, 100 };
	struct rng r = aux_rng(seed, index, SALT_DATE);
	struct tnode t;
	int64_t ids[THREAD_REFS], irt;
	size_t n;
	bool has_refs;
	uint64_t back = rng_below(&r, 3600);
	unsigned zone = (unsigned)rng_below(&r, 8);

	thread_node(seed, index, &t);
	if (rng_below(&r, 1000) != 0) {
		const char *z = zones[zone];
		int off = (z[1] - '0') * 600 + (z[2] - '0') * 60 + (z[3] - '0') * 10 + (z[4] - '0');
		time_t local = p->date - (time_t)back + (time_t)(z[0] == '-' ? -off : off) * 60;
		struct tm tm;
		char date[64];

		gmtime_r(&local, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S", &tm);
		db_printf(out, "Date: %s %s\r\n", date, z);
	}
	db_printf(out, "From: %c%s %c%s <%s.%s@%s>\r\n",
	    toupper((unsigned char)first_names[p->first][0]), first_names[p->first] + 1,
	    toupper((unsigned char)last_names[p->last][0]), last_names[p->last] + 1,
	    first_names[p->first], last_names[p->last], domains[p->domain]);
	db_adds(out, "To: Bench User <bench@example.net>\r\n");
	db_adds(out, "Subject: ");
	if (!t.root) {
		size_t k = 0;

		while (t.prefix >= upto[k])
			k++;
		db_adds(out, prefixes[k]);
	}
	thread_subject(seed, thread_root(seed, index), out);
	db_adds(out, "\r\nMessage-ID: ");
	gen_msgid(seed, (int64_t)index, out);
	db_adds(out, "\r\n");
	thread_refs(seed, index, ids, &n, &irt, &has_refs);
	if (irt != INT64_MAX) {
		db_adds(out, "In-Reply-To: ");
		gen_msgid(seed, irt, out);
		db_adds(out, "\r\n");
	}
	if (has_refs && n > 0) {
		db_adds(out, "References:");
		for (size_t i = 0; i < n; i++) {
			db_adds(out, i == 0 ? " " : "\r\n ");
			gen_msgid(seed, ids[i], out);
		}
		db_adds(out, "\r\n");
	}
}

/* Message INDEX under SEED into out (reset first); exactly gen_size() bytes. */
static void
gen_message(uint64_t seed, uint64_t index, struct dbuf *out, struct plan *pp)
{
	struct plan p;
	struct rng r;
	char date[64];
	const char *first, *last, *domain;
	unsigned nwords, markpos;

	gen_plan(seed, index, &p, &r);
	if (pp != NULL)
		*pp = p;
	db_reset(out);
	first = first_names[p.first];
	last = last_names[p.last];
	domain = domains[p.domain];
	gen_date(p.date, false, date, sizeof(date));
	db_printf(out, "Return-Path: <%s.%s@%s>\r\n", first, last, domain);
	db_printf(out, "Received: from mail%u.%s (mail%u.%s [192.0.2.%u])\r\n"
	    "\tby mx.example.net (Postfix) with ESMTPS id %010" PRIX64 "\r\n"
	    "\tfor <bench@example.net>; %s\r\n",
	    p.domain + 1, domain, p.domain + 1, domain, p.domain + 10,
	    rng_next(&r) & 0xffffffffffULL, date);
	if (gen_threads)
		gen_thread_headers(seed, index, &p, out);
	else {
		db_printf(out, "Date: %s\r\n", date);
		db_printf(out, "From: %c%s %c%s <%s.%s@%s>\r\n", toupper((unsigned char)first[0]),
		    first + 1, toupper((unsigned char)last[0]), last + 1, first, last, domain);
		db_adds(out, "To: Bench User <bench@example.net>\r\n");
		db_adds(out, "Subject: ");
		nwords = 3 + (unsigned)rng_below(&r, 6);
		markpos = p.mark_subject ? (unsigned)rng_below(&r, nwords) : nwords;
		for (unsigned i = 0; i < nwords; i++) {
			const char *w = i == markpos ? MARK_SUBJECT : words[rng_below(&r, 96)];

			if (i > 0)
				db_addc(out, ' ');
			db_addc(out, i == 0 ? (char)toupper((unsigned char)w[0]) : w[0]);
			db_adds(out, w + 1);
		}
		db_adds(out, "\r\n");
		db_printf(out, "Message-ID: <%" PRIu64 ".%" PRIx64 "@%s>\r\n", index,
		    rng_next(&r) & 0xffffffffULL, domain);
	}
	db_adds(out, "MIME-Version: 1.0\r\n");
	if (!p.large) {
		db_adds(out, "Content-Type: text/plain; charset=us-ascii\r\n"
		    "Content-Transfer-Encoding: 7bit\r\n\r\n");
		if (out->len + 2 > p.size)
			die("generator: header of message %" PRIu64 " too long", index);
		gen_text(&r, p.size - out->len, p.mark_body, out);
	} else {
		struct dbuf part2 = { 0 }, end = { 0 };
		uint64_t boundary = rng_next(&r);
		size_t fixed, lines, text;

		db_printf(out, "Content-Type: multipart/mixed; boundary=\"=_b%016" PRIx64 "\"\r\n"
		    "\r\nThis is a multi-part message in MIME format.\r\n\r\n"
		    "--=_b%016" PRIx64 "\r\n"
		    "Content-Type: text/plain; charset=us-ascii\r\n"
		    "Content-Transfer-Encoding: 7bit\r\n\r\n", boundary, boundary);
		db_printf(&part2, "--=_b%016" PRIx64 "\r\n"
		    "Content-Type: application/octet-stream; name=\"data%" PRIu64 ".bin\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment; filename=\"data%" PRIu64 ".bin\"\r\n"
		    "\r\n", boundary, index, index);
		db_printf(&end, "--=_b%016" PRIx64 "--\r\n", boundary);
		fixed = out->len + part2.len + end.len;
		lines = (p.size - fixed - 2048) / 78;
		text = p.size - fixed - lines * 78;
		gen_text(&r, text, p.mark_body, out);
		db_add(out, part2.p, part2.len);
		for (size_t i = 0; i < lines; i++)
			gen_base64_line(&r, out);
		db_add(out, end.p, end.len);
		db_free(&part2);
		db_free(&end);
	}
	if (out->len != p.size)
		die("generator: message %" PRIu64 " is %zu bytes, not %zu", index, out->len,
		    p.size);
}

/* ---- connections ------------------------------------------------------- */

static SSL_CTX *tls_ctx;

struct conn {
	int fd;
	SSL *ssl;
	char *buf;
	size_t off, len, cap;
	unsigned tagn;
	char tag[24];
	uint64_t untagged;       /* untagged answers read by wait_tagged */
	uint64_t rbytes;         /* bytes read from the server */
	char err[512];
};

static void
conn_error(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static int
conn_open(struct conn *c, const char *host, int port, bool tls, int timeout)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char portstr[16];
	struct timeval tv = { .tv_sec = timeout };
	int one = 1, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		conn_error(c, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd < 0)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0) {
		conn_error(c, "connect to %s:%d: %s", host, port, strerror(errno));
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->cap = 256 * 1024;
	c->buf = xrealloc(NULL, c->cap);
	if (tls) {
		if ((c->ssl = SSL_new(tls_ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
		    SSL_connect(c->ssl) != 1) {
			conn_error(c, "TLS handshake with %s:%d failed", host, port);
			return -1;
		}
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->ssl = NULL;
	c->fd = -1;
	c->buf = NULL;
}

static int
conn_write(struct conn *c, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			int k = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (k <= 0) {
				conn_error(c, "TLS write failed");
				return -1;
			}
			w = k;
		} else {
			w = write(c->fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				conn_error(c, "write: %s", strerror(errno));
				return -1;
			}
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read more into the buffer; -1 on EOF, error or timeout. */
static int
conn_fill(struct conn *c)
{
	ssize_t r;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == c->cap) {
		c->cap *= 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	for (;;) {
		if (c->ssl != NULL) {
			int k = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len));
			r = k > 0 ? k : -1;
			if (k == 0 || SSL_get_error(c->ssl, k) == SSL_ERROR_ZERO_RETURN)
				r = 0;
		} else
			r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r < 0 && errno == EINTR && c->ssl == NULL)
			continue;
		break;
	}
	if (r == 0) {
		conn_error(c, "the server closed the connection");
		return -1;
	}
	if (r < 0) {
		conn_error(c, "read: %s", errno == EAGAIN ? "timed out" : strerror(errno));
		return -1;
	}
	c->len += (size_t)r;
	c->rbytes += (uint64_t)r;
	return 0;
}

/* Append one line, without its CRLF, to out. */
static int
conn_read_line(struct conn *c, struct dbuf *out)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->buf + c->off));

			db_add(out, c->buf + c->off, n);
			c->off += n + 1;
			if (out->len > 0 && out->p[out->len - 1] == '\r')
				out->p[--out->len] = '\0';
			return 0;
		}
		db_add(out, c->buf + c->off, c->len - c->off);
		c->off = c->len;
		if (conn_fill(c) != 0)
			return -1;
	}
}

/* Consume n bytes, appending them to keep unless it is NULL. */
static int
conn_read_bytes(struct conn *c, uint64_t n, struct dbuf *keep)
{
	while (n > 0) {
		size_t avail = c->len - c->off;

		if (avail == 0) {
			if (conn_fill(c) != 0)
				return -1;
			continue;
		}
		if (avail > n)
			avail = (size_t)n;
		if (keep != NULL)
			db_add(keep, c->buf + c->off, avail);
		c->off += avail;
		n -= avail;
	}
	return 0;
}

/* ---- responses ---------------------------------------------------------- */

/*
 * One server response: its text with every literal replaced by nothing
 * (the "{n}" stays), the number and total size of its literals, and their
 * bytes when asked for.
 */
struct resp {
	struct dbuf text;
	struct dbuf lit;
	uint64_t lit_bytes;
	unsigned nlit;
};

/* Does s[0..n) end in a literal announcement {N}, {N+} or ~{N}? */
static bool
literal_at_end(const char *s, size_t n, uint64_t *size)
{
	size_t i = n;
	uint64_t v = 0, mul = 1;

	if (i < 3 || s[i - 1] != '}')
		return false;
	i--;
	if (s[i - 1] == '+')
		i--;
	if (i == 0 || !isdigit((unsigned char)s[i - 1]))
		return false;
	while (i > 0 && isdigit((unsigned char)s[i - 1])) {
		v += (uint64_t)(s[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == 0 || s[i - 1] != '{')
		return false;
	*size = v;
	return true;
}

static int
read_resp(struct conn *c, struct resp *r, bool keep)
{
	db_reset(&r->text);
	db_reset(&r->lit);
	r->lit_bytes = 0;
	r->nlit = 0;
	for (;;) {
		size_t start = r->text.len;
		uint64_t n;

		if (conn_read_line(c, &r->text) != 0)
			return -1;
		if (!literal_at_end(r->text.p + start, r->text.len - start, &n))
			return 0;
		if (conn_read_bytes(c, n, keep ? &r->lit : NULL) != 0)
			return -1;
		r->lit_bytes += n;
		r->nlit++;
	}
}

static void
resp_free(struct resp *r)
{
	db_free(&r->text);
	db_free(&r->lit);
}

/* "* N WORD": true, with N in *n and WORD in *word (pointing into the text). */
static bool
untagged_number(const struct resp *r, uint32_t *n, const char **word)
{
	const char *p = r->text.p;
	char *end;

	if (p == NULL || p[0] != '*' || p[1] != ' ' || !isdigit((unsigned char)p[2]))
		return false;
	*n = (uint32_t)strtoul(p + 2, &end, 10);
	if (*end != ' ')
		return false;
	*word = end + 1;
	return true;
}

static bool
word_is(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(p, w, n) == 0 && (p[n] == '\0' || p[n] == ' ' || p[n] == '(');
}

static const char *
conn_next_tag(struct conn *c)
{
	snprintf(c->tag, sizeof(c->tag), "L%u", ++c->tagn);
	return c->tag;
}

static int
send_cmd(struct conn *c, const char *fmt, ...)
{
	struct dbuf b = { 0 };
	va_list ap;
	int n, rc;

	db_printf(&b, "%s ", conn_next_tag(c));
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	db_reserve(&b, (size_t)n + 2);
	va_start(ap, fmt);
	vsnprintf(b.p + b.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len += (size_t)n;
	db_add(&b, "\r\n", 2);
	rc = conn_write(c, b.p, b.len);
	db_free(&b);
	return rc;
}

typedef void (*untagged_fn)(const struct resp *r, void *arg);

enum { CMD_OK = 0, CMD_FAILED = 1, CMD_IO = -1 };

/*
 * Read until the tagged answer to c->tag.  CMD_OK; CMD_FAILED (NO, BAD,
 * with the line in c->err); CMD_IO (c->err says why).
 */
static int
wait_tagged(struct conn *c, struct resp *r, bool keep, untagged_fn fn, void *arg)
{
	size_t tl = strlen(c->tag);

	for (;;) {
		if (read_resp(c, r, keep) != 0)
			return CMD_IO;
		if (strncmp(r->text.p, c->tag, tl) == 0 && r->text.p[tl] == ' ') {
			if (strncmp(r->text.p + tl + 1, "OK", 2) == 0 &&
			    (r->text.p[tl + 3] == ' ' || r->text.p[tl + 3] == '\0'))
				return CMD_OK;
			conn_error(c, "%.400s", r->text.p);
			return CMD_FAILED;
		}
		if (r->text.p[0] == '+') {
			conn_error(c, "unexpected continuation request: %.300s", r->text.p);
			return CMD_IO;
		}
		if (strncmp(r->text.p, "* BYE", 5) == 0) {
			conn_error(c, "%.400s", r->text.p);
			return CMD_IO;
		}
		c->untagged++;
		if (fn != NULL)
			fn(r, arg);
	}
}

/* ---- the job and its clients ------------------------------------------- */

enum workload {
	W_APPEND, W_POPULATE, W_SELECT, W_FETCH_FLAGS, W_FETCH_BODY, W_SEARCH, W_STORE,
	W_MEM, W_IDLE, W_SORT, W_QPREP, W_QRESYNC, W_SESSIONS, W_MIX,
};
static const char *const workload_names[] = {
	"append", "populate", "select", "fetch-flags", "fetch-body", "search", "store",
	"mem", "idle", "sort", "qresync-prep", "qresync", "sessions", "mix",
};

struct job {
	enum workload w;
	const char *host;
	int port;
	bool tls;
	const char *user;
	const char *mailbox;
	const char *password;
	int clients;
	long count;
	uint64_t first;          /* first generator index (append, populate) */
	uint64_t seed;
	uint64_t gen_first;      /* generator index of message 1 (fetch-body) */
	const char *search;
	long range, range_base;
	long expect_exists;
	int window;
	bool verify, create;
	bool examine;            /* EXAMINE instead of SELECT: a read-only view */
	const char *save, *label;
	int server_pid;
	int settle;
	int timeout;
	int pause_ms;            /* idle: between two APPENDs */
	const char *command;     /* sort: the command (SORT, THREAD, ...) */
	const char *dump;        /* sort: file for the first answer */
	const char *state;       /* qresync-prep writes it, qresync reads it */
	long changes, expunges;  /* qresync-prep: messages flagged, expunged */
	bool known_uids;         /* qresync: send known-uids 1:UIDNEXT-1 */
	int users;               /* sessions, mix: client i is user i % users + 1 */
	const char *run;         /* mix: names this run's mailboxes and messages */
	int duration;            /* mix: seconds */
	long max_failures;       /* sessions: start no more after this many */
};

struct client {
	struct job *j;
	int idx;
	pthread_t thread;
	long nops;
	uint64_t first;          /* append: this client's first generator index */
	long done;
	double *lat;             /* microseconds, one per operation */
	uint64_t bytes, items;
	long errors;
	bool failed;
	char msg[600];
	uint32_t exists;
	bool have_result;
	uint64_t res_count, res_hash;
	double t_end;
	/* per-command scratch, filled by the untagged handlers */
	uint64_t count, hash, lit;
	uint32_t want_msn;
	struct dbuf body;        /* fetch-body --verify: the literal */
	long lo, hi;             /* store: this client's range */
	unsigned char *seen;     /* store: messages of the range answered */
	uint64_t distinct, dups; /* store: per command; dups over the run */
	uint64_t untagged;       /* untagged answers during the timed part */
	double t_start;
	bool bad_answer;
};

static pthread_barrier_t start_barrier;

static void
client_fail(struct client *cl, const char *fmt, ...)
{
	va_list ap;

	if (cl->msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(cl->msg, sizeof(cl->msg), fmt, ap);
		va_end(ap);
	}
	cl->errors++;
}

static void
on_exists(const struct resp *r, void *arg)
{
	struct client *cl = arg;
	const char *w;
	uint32_t n;

	if (untagged_number(r, &n, &w) && word_is(w, "EXISTS"))
		cl->exists = n;
}

/* Connect, greeting, LOGIN, and SELECT unless mailbox is NULL. */
static int
session_open(struct client *cl, struct conn *c, struct resp *r, const char *mailbox)
{
	struct job *j = cl->j;
	char user[256], mbox[256];

	if (conn_open(c, j->host, j->port, j->tls, j->timeout) != 0)
		return -1;
	if (read_resp(c, r, false) != 0)
		return -1;
	if (strncmp(r->text.p, "* OK", 4) != 0) {
		conn_error(c, "greeting: %.300s", r->text.p);
		return -1;
	}
	expand_name(j->user, cl->idx + 1, user, sizeof(user));
	if (send_cmd(c, "LOGIN \"%s\" \"%s\"", user, j->password) != 0 ||
	    wait_tagged(c, r, false, NULL, NULL) != CMD_OK) {
		char why[512];

		snprintf(why, sizeof(why), "LOGIN %.200s: %.300s", user, c->err);
		snprintf(c->err, sizeof(c->err), "%s", why);
		return -1;
	}
	if (mailbox == NULL)
		return 0;
	expand_name(mailbox, cl->idx + 1, mbox, sizeof(mbox));
	cl->exists = 0;
	if (send_cmd(c, "%s \"%s\"", j->examine ? "EXAMINE" : "SELECT", mbox) != 0 ||
	    wait_tagged(c, r, false, on_exists, cl) != CMD_OK) {
		char why[512];

		snprintf(why, sizeof(why), "%s %.200s: %.300s",
		    j->examine ? "EXAMINE" : "SELECT", mbox, c->err);
		snprintf(c->err, sizeof(c->err), "%s", why);
		return -1;
	}
	return 0;
}

static void
session_close(struct conn *c, struct resp *r)
{
	if (c->fd >= 0 && send_cmd(c, "LOGOUT") == 0)
		(void)wait_tagged(c, r, false, NULL, NULL);
	conn_close(c);
}

/* ---- the operations ----------------------------------------------------- */

static void
on_fetch_count(const struct resp *r, void *arg)
{
	struct client *cl = arg;
	const char *w;
	uint32_t n;

	if (untagged_number(r, &n, &w) && word_is(w, "FETCH"))
		cl->count++;
}

static void
on_fetch_body(const struct resp *r, void *arg)
{
	struct client *cl = arg;
	const char *w;
	uint32_t n;

	if (!untagged_number(r, &n, &w) || !word_is(w, "FETCH"))
		return;
	if (n != cl->want_msn || r->nlit != 1) {
		if (r->nlit > 0)
			cl->bad_answer = true;
		return;       /* a flag update of another message: allowed */
	}
	cl->count++;
	cl->lit = r->lit_bytes;
	if (cl->j->verify) {
		db_reset(&cl->body);
		db_add(&cl->body, r->lit.p != NULL ? r->lit.p : "", r->lit.len);
	}
}

static void
on_search(const struct resp *r, void *arg)
{
	struct client *cl = arg;
	const char *p = r->text.p;

	if (strncasecmp(p, "* SEARCH", 8) != 0 || (p[8] != '\0' && p[8] != ' '))
		return;
	p += 8;
	while (*p == ' ') {
		char *end;
		unsigned long n = strtoul(p + 1, &end, 10);

		if (end == p + 1)
			break;
		cl->count++;
		cl->hash += mix64(n);  /* order-independent */
		p = end;
	}
}

/*
 * The answer of SORT, THREAD (or SEARCH, ESEARCH) to the command in
 * cl->j->command: the numbers it holds (count), top-level threads (lit),
 * and a hash of its text in order (hash), so that two answers with the
 * same numbers in another order or another tree differ.
 */
static void
on_sort(const struct resp *r, void *arg)
{
	struct client *cl = arg;
	const char *p = r->text.p, *cmd = cl->j->command, *sp;
	size_t wl;
	int depth = 0;

	if (strncasecmp(cmd, "UID ", 4) == 0)
		cmd += 4;
	sp = strchr(cmd, ' ');
	wl = sp != NULL ? (size_t)(sp - cmd) : strlen(cmd);
	if (p[0] != '*' || p[1] != ' ' || strncasecmp(p + 2, cmd, wl) != 0 ||
	    (p[2 + wl] != ' ' && p[2 + wl] != '\0'))
		return;
	cl->have_result = true;   /* per command: an answer came */
	for (p += 2 + wl; *p != '\0'; p++) {
		cl->hash = (cl->hash ^ (unsigned char)*p) * 0x100000001b3ULL;
		if (*p == '(' && depth++ == 0)
			cl->lit++;
		else if (*p == ')')
			depth--;
		else if (isdigit((unsigned char)*p) && !isdigit((unsigned char)p[1]))
			cl->count++;
	}
	if (cl->j->dump != NULL) {
		db_reset(&cl->body);
		db_add(&cl->body, r->text.p, r->text.len);
	}
}

static void
on_store(const struct resp *r, void *arg)
{
	struct client *cl = arg;
	const char *w;
	uint32_t n;

	if (untagged_number(r, &n, &w) && word_is(w, "FETCH") && (long)n >= cl->lo &&
	    (long)n <= cl->hi) {
		/* another answer for the same message is allowed (RFC 9051
		 * §7: unsolicited FETCH at any time), but counted */
		if (cl->seen[n - cl->lo])
			cl->dups++;
		else {
			cl->seen[n - cl->lo] = 1;
			cl->distinct++;
		}
	}
}

/* One timed operation of a client; false ends the client (I/O failure). */
static bool
client_op(struct client *cl, struct conn *c, struct resp *r, long k, struct rng *rng,
    struct dbuf *scratch)
{
	struct job *j = cl->j;
	char mbox[256];
	int rc = CMD_OK;

	switch (j->w) {
	case W_APPEND: {
		struct plan p;
		char date[64];
		uint64_t index = cl->first + (uint64_t)k;

		expand_name(j->mailbox, cl->idx + 1, mbox, sizeof(mbox));
		gen_message(j->seed, index, scratch, &p);
		gen_internaldate(&p, date, sizeof(date));
		{
			struct dbuf cmd = { 0 };

			db_printf(&cmd, "%s APPEND \"%s\" (%s) \"%s\" {%zu+}\r\n",
			    conn_next_tag(c), mbox, p.seen ? "\\Seen" : "", date, p.size);
			db_add(&cmd, scratch->p, scratch->len);
			db_add(&cmd, "\r\n", 2);
			rc = conn_write(c, cmd.p, cmd.len) != 0 ? CMD_IO : CMD_OK;
			db_free(&cmd);
		}
		if (rc == CMD_OK)
			rc = wait_tagged(c, r, false, NULL, NULL);
		if (rc == CMD_OK) {
			cl->bytes += p.size;
			cl->items++;
		}
		break;
	}
	case W_SELECT:
		expand_name(j->mailbox, cl->idx + 1, mbox, sizeof(mbox));
		cl->exists = UINT32_MAX;
		if (send_cmd(c, "SELECT \"%s\"", mbox) != 0)
			return false;
		rc = wait_tagged(c, r, false, on_exists, cl);
		if (rc == CMD_OK && j->expect_exists >= 0 && cl->exists != j->expect_exists)
			client_fail(cl, "SELECT: %u EXISTS, expected %ld", cl->exists,
			    j->expect_exists);
		break;
	case W_FETCH_FLAGS:
		cl->count = 0;
		if (send_cmd(c, "FETCH 1:* (FLAGS UID)") != 0)
			return false;
		rc = wait_tagged(c, r, false, on_fetch_count, cl);
		if (rc == CMD_OK) {
			if (cl->count != cl->exists)
				client_fail(cl, "FETCH 1:* returned %" PRIu64 " messages, "
				    "the mailbox has %u", cl->count, cl->exists);
			cl->items += cl->count;
		}
		break;
	case W_FETCH_BODY: {
		uint64_t want;

		cl->want_msn = 1 + (uint32_t)rng_below(rng, cl->exists);
		cl->count = cl->lit = 0;
		cl->bad_answer = false;
		if (send_cmd(c, "FETCH %u (BODY.PEEK[])", cl->want_msn) != 0)
			return false;
		rc = wait_tagged(c, r, j->verify, on_fetch_body, cl);
		if (rc != CMD_OK)
			break;
		want = gen_size(j->seed, j->gen_first + cl->want_msn - 1);
		if (cl->count != 1 || cl->bad_answer || cl->lit != want)
			client_fail(cl, "FETCH %u (BODY.PEEK[]): %" PRIu64 " answers, %" PRIu64
			    " bytes; expected 1 answer of %" PRIu64 " bytes", cl->want_msn,
			    cl->count, cl->lit, want);
		else if (j->verify) {
			gen_message(j->seed, j->gen_first + cl->want_msn - 1, scratch, NULL);
			if (cl->body.len != scratch->len ||
			    memcmp(cl->body.p, scratch->p, scratch->len) != 0)
				client_fail(cl, "FETCH %u (BODY.PEEK[]): the body differs "
				    "from the message appended", cl->want_msn);
		}
		cl->bytes += cl->lit;
		break;
	}
	case W_SEARCH:
		cl->count = cl->hash = 0;
		if (send_cmd(c, "SEARCH %s", j->search) != 0)
			return false;
		rc = wait_tagged(c, r, false, on_search, cl);
		if (rc != CMD_OK)
			break;
		if (!cl->have_result) {
			cl->have_result = true;
			cl->res_count = cl->count;
			cl->res_hash = cl->hash;
		} else if (cl->res_count != cl->count || cl->res_hash != cl->hash)
			client_fail(cl, "SEARCH %s: %" PRIu64 " matches, earlier %" PRIu64,
			    j->search, cl->count, cl->res_count);
		cl->items += cl->count;
		break;
	case W_SORT: {
		bool had = cl->res_count != 0 || cl->res_hash != 0;
		uint64_t count0 = cl->res_count, hash0 = cl->res_hash;

		cl->count = cl->lit = 0;
		cl->hash = 0xcbf29ce484222325ULL;
		cl->have_result = false;
		if (send_cmd(c, "%s", j->command) != 0)
			return false;
		rc = wait_tagged(c, r, false, on_sort, cl);
		if (rc != CMD_OK)
			break;
		if (!cl->have_result) {
			client_fail(cl, "%s: no answer", j->command);
			break;
		}
		cl->hash ^= cl->lit * 0x9e3779b97f4a7c15ULL;
		if (had && (count0 != cl->count || hash0 != cl->hash))
			client_fail(cl, "%s: %" PRIu64 " numbers, earlier %" PRIu64 " (or in "
			    "another order)", j->command, cl->count, count0);
		cl->res_count = cl->count;
		cl->res_hash = cl->hash;
		cl->items += cl->count;
		if (j->dump != NULL && k == 0 && cl->idx == 0) {
			FILE *f = fopen(j->dump, "w");

			if (f == NULL || fwrite(cl->body.p, 1, cl->body.len, f) != cl->body.len ||
			    fputc('\n', f) == EOF || fclose(f) != 0)
				die("%s: %s", j->dump, strerror(errno));
		}
		if (k == 0 && cl->idx == 0)
			printf("%s: %s: %" PRIu64 " numbers, %" PRIu64 " top-level groups\n",
			    j->label, j->command, cl->count, cl->lit);
		break;
	}
	case W_STORE:
		cl->distinct = 0;
		memset(cl->seen, 0, (size_t)(cl->hi - cl->lo + 1));
		if (send_cmd(c, "STORE %ld:%ld %cFLAGS (\\Flagged)", cl->lo, cl->hi,
		    k % 2 == 0 ? '+' : '-') != 0)
			return false;
		rc = wait_tagged(c, r, false, on_store, cl);
		if (rc == CMD_OK) {
			if ((long)cl->distinct != cl->hi - cl->lo + 1)
				client_fail(cl, "STORE %ld:%ld: FETCH answers for %" PRIu64
				    " messages of the range, expected %ld", cl->lo, cl->hi,
				    cl->distinct, cl->hi - cl->lo + 1);
			cl->items += (uint64_t)(cl->hi - cl->lo + 1);
		}
		break;
	default:
		break;
	}
	if (rc == CMD_IO) {
		client_fail(cl, "%s", c->err);
		return false;
	}
	if (rc == CMD_FAILED)
		client_fail(cl, "%s", c->err);
	return true;
}

static void *
client_main(void *arg)
{
	struct client *cl = arg;
	struct job *j = cl->j;
	struct conn c = { .fd = -1 };
	struct resp r = { 0 };
	struct dbuf scratch = { 0 };
	struct rng rng = { mix64(j->seed ^ mix64(j->first + 1) ^ mix64((uint64_t)cl->idx + 7)) };
	const char *select = j->w == W_APPEND ? NULL : j->mailbox;

	if (session_open(cl, &c, &r, select) != 0) {
		client_fail(cl, "client %d: %s", cl->idx + 1, c.err);
		cl->failed = true;
	} else if (j->w == W_APPEND && j->create) {
		char mbox[256];

		expand_name(j->mailbox, cl->idx + 1, mbox, sizeof(mbox));
		/* NO when it exists already: fine */
		if (send_cmd(&c, "CREATE \"%s\"", mbox) != 0 ||
		    wait_tagged(&c, &r, false, NULL, NULL) == CMD_IO) {
			client_fail(cl, "client %d: CREATE: %s", cl->idx + 1, c.err);
			cl->failed = true;
		}
	}
	if (!cl->failed && (j->w == W_FETCH_BODY || j->w == W_FETCH_FLAGS) &&
	    j->expect_exists >= 0 && cl->exists != j->expect_exists) {
		client_fail(cl, "client %d: %u EXISTS, expected %ld", cl->idx + 1, cl->exists,
		    j->expect_exists);
		cl->failed = true;
	}
	if (!cl->failed && j->w == W_FETCH_BODY && cl->exists == 0) {
		client_fail(cl, "client %d: the mailbox is empty", cl->idx + 1);
		cl->failed = true;
	}
	if (!cl->failed && j->w == W_STORE) {
		cl->lo = j->range_base + (long)cl->idx * j->range + 1;
		cl->hi = cl->lo + j->range - 1;
		if (cl->hi > (long)cl->exists) {
			client_fail(cl, "client %d: range %ld:%ld beyond the %u messages",
			    cl->idx + 1, cl->lo, cl->hi, cl->exists);
			cl->failed = true;
		} else
			cl->seen = calloc((size_t)j->range, 1);
	}
	pthread_barrier_wait(&start_barrier);
	cl->t_start = now();
	c.untagged = 0;
	for (long k = 0; !cl->failed && k < cl->nops; k++) {
		double t = now();

		if (!client_op(cl, &c, &r, k, &rng, &scratch))
			cl->failed = true;
		cl->lat[cl->done++] = (now() - t) * 1e6;
	}
	cl->t_end = now();
	cl->untagged = c.untagged;
	if (!cl->failed)
		session_close(&c, &r);
	else
		conn_close(&c);
	resp_free(&r);
	db_free(&scratch);
	db_free(&cl->body);
	free(cl->seen);
	return NULL;
}

/* ---- results -------------------------------------------------------------- */

/*
 * The idle workload's series besides lat: every wake-up timed from the
 * APPEND's tagged OK (negative when the session heard before the
 * appender), the last wake-up of each APPEND timed from just before it
 * was sent, and each APPEND's own round trip.
 */
enum { SER_FROM_OK, SER_LAST, SER_APPEND, NSERIES };
static const char *const series_names[NSERIES] = {
	"from_ok_us", "last_us", "append_us",
};

struct result {
	char label[64];
	char workload[32];
	int clients;
	long ops;
	double elapsed;
	uint64_t bytes, items;
	long errors;
	char check[128];
	uint64_t untagged, dups;
	double *lat;
	size_t nlat;
	/* mem */
	long conns;
	double pss_before, pss_after, rss_before, rss_after;   /* kB */
	long procs_before, procs_after;
	/* idle: memory once more after the APPENDs, and series of times (us)
	 * besides lat (which holds each wake-up from just before the APPEND) */
	double pss_end, rss_end;
	double *ser[NSERIES];
	size_t nser[NSERIES];
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double
percentile(const double *v, size_t n, double q)
{
	size_t rank;

	if (n == 0)
		return NAN;
	rank = (size_t)ceil(q / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static double
mean(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return n ? s / (double)n : NAN;
}

/* " p50 A p99 B max C" in ms of sorted microseconds v[0..n) */
static void
print_pcts(const double *v, size_t n)
{
	if (n == 0) {
		printf(" (none)");
		return;
	}
	printf(" p50 %.2f p99 %.2f max %.2f", percentile(v, n, 50) / 1e3,
	    percentile(v, n, 99) / 1e3, v[n - 1] / 1e3);
}

static void
result_print_idle(const struct result *res)
{
	double n = res->conns > 0 ? (double)res->conns : 1;

	printf("%s: idle, %ld sessions of one user: Pss %.0f -> %.0f kB in IDLE -> %.0f "
	    "after the APPENDs, %.1f kB per session (%.1f after); Rss %.0f -> %.0f -> "
	    "%.0f kB, %.1f kB per session; processes %ld -> %ld\n", res->label, res->conns,
	    res->pss_before, res->pss_after, res->pss_end,
	    (res->pss_after - res->pss_before) / n, (res->pss_end - res->pss_before) / n,
	    res->rss_before, res->rss_after, res->rss_end,
	    (res->rss_after - res->rss_before) / n, res->procs_before, res->procs_after);
	printf("%s: %ld APPENDs, wake-ups in ms: from the APPEND sent", res->label, res->ops);
	print_pcts(res->lat, res->nlat);
	printf("; from its OK");
	print_pcts(res->ser[SER_FROM_OK], res->nser[SER_FROM_OK]);
	printf("; last of the %ld", res->conns);
	print_pcts(res->ser[SER_LAST], res->nser[SER_LAST]);
	printf("; APPEND itself");
	print_pcts(res->ser[SER_APPEND], res->nser[SER_APPEND]);
	printf("; errors %ld; untagged answers %" PRIu64 "\n", res->errors, res->untagged);
}

static void
result_print(const struct result *res)
{
	if (strcmp(res->workload, "qresync-prep") == 0)
		return;                 /* it printed what it did */
	if (strcmp(res->workload, "idle") == 0) {
		result_print_idle(res);
		return;
	}
	if (strcmp(res->workload, "mem") == 0) {
		printf("%s: mem, %ld connections: Pss %.0f -> %.0f kB, %.1f kB per "
		    "connection; Rss %.0f -> %.0f kB, %.1f kB per connection; "
		    "processes %ld -> %ld\n", res->label, res->conns, res->pss_before,
		    res->pss_after, (res->pss_after - res->pss_before) / (double)res->conns,
		    res->rss_before, res->rss_after,
		    (res->rss_after - res->rss_before) / (double)res->conns,
		    res->procs_before, res->procs_after);
		return;
	}
	printf("%s: %s, %d client%s: %ld ops in %.3f s = %.2f ops/s", res->label,
	    res->workload, res->clients, res->clients == 1 ? "" : "s", res->ops,
	    res->elapsed, res->elapsed > 0 ? (double)res->ops / res->elapsed : 0);
	if (res->items > 0)
		printf(", %.1f items/s", (double)res->items / res->elapsed);
	if (res->bytes > 0)
		printf(", %.2f MB/s", (double)res->bytes / 1e6 / res->elapsed);
	if (res->nlat > 0)
		printf("; latency ms mean %.3f p50 %.3f p95 %.3f p99 %.3f max %.3f",
		    mean(res->lat, res->nlat) / 1e3, percentile(res->lat, res->nlat, 50) / 1e3,
		    percentile(res->lat, res->nlat, 95) / 1e3,
		    percentile(res->lat, res->nlat, 99) / 1e3, res->lat[res->nlat - 1] / 1e3);
	printf("; errors %ld; untagged answers %" PRIu64, res->errors, res->untagged);
	if (res->dups > 0)
		printf(" (%" PRIu64 " repeated FETCH in own range)", res->dups);
	if (res->check[0] != '\0')
		printf("; result %s", res->check);
	printf("\n");
}

static void
result_save(const struct result *res, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "imapload-result 1\nlabel %s\nworkload %s\nclients %d\nops %ld\n"
	    "elapsed %.6f\nbytes %" PRIu64 "\nitems %" PRIu64 "\nerrors %ld\ncheck %s\n"
	    "untagged %" PRIu64 "\ndups %" PRIu64 "\n"
	    "conns %ld\npss_before %.0f\npss_after %.0f\nrss_before %.0f\n"
	    "rss_after %.0f\nprocs_before %ld\nprocs_after %ld\npss_end %.0f\n"
	    "rss_end %.0f\nlatencies_us %zu\n",
	    res->label, res->workload, res->clients, res->ops, res->elapsed, res->bytes,
	    res->items, res->errors, res->check[0] ? res->check : "-", res->untagged,
	    res->dups, res->conns,
	    res->pss_before, res->pss_after, res->rss_before, res->rss_after,
	    res->procs_before, res->procs_after, res->pss_end, res->rss_end, res->nlat);
	for (size_t i = 0; i < res->nlat; i++)
		fprintf(f, "%.1f\n", res->lat[i]);
	for (int k = 0; k < NSERIES; k++) {
		if (res->nser[k] == 0)
			continue;
		fprintf(f, "%s %zu\n", series_names[k], res->nser[k]);
		for (size_t i = 0; i < res->nser[k]; i++)
			fprintf(f, "%.1f\n", res->ser[k][i]);
	}
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* The want numbers, one a line, that follow a "NAME COUNT" line of a saved result. */
static size_t
load_values(FILE *f, const char *path, const char *val, double **out)
{
	size_t n = 0, want = strtoull(val, NULL, 10);
	char line[128];

	*out = xrealloc(NULL, want * sizeof(double));
	while (n < want && fgets(line, sizeof(line), f) != NULL)
		(*out)[n++] = atof(line);
	if (n != want)
		die("%s: %zu values, expected %zu", path, n, want);
	return n;
}

static void
result_load(struct result *res, const char *path)
{
	FILE *f = fopen(path, "r");
	char key[64], val[256], line[512];

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	memset(res, 0, sizeof(*res));
	if (fgets(line, sizeof(line), f) == NULL || strncmp(line, "imapload-result 1", 17) != 0)
		die("%s: not a saved imapload result", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		val[0] = '\0';
		if (sscanf(line, "%63s %255[^\n]", key, val) < 1)
			continue;
		if (strcmp(key, "label") == 0)
			snprintf(res->label, sizeof(res->label), "%s", val);
		else if (strcmp(key, "workload") == 0)
			snprintf(res->workload, sizeof(res->workload), "%s", val);
		else if (strcmp(key, "clients") == 0)
			res->clients = atoi(val);
		else if (strcmp(key, "ops") == 0)
			res->ops = atol(val);
		else if (strcmp(key, "elapsed") == 0)
			res->elapsed = atof(val);
		else if (strcmp(key, "bytes") == 0)
			res->bytes = strtoull(val, NULL, 10);
		else if (strcmp(key, "items") == 0)
			res->items = strtoull(val, NULL, 10);
		else if (strcmp(key, "errors") == 0)
			res->errors = atol(val);
		else if (strcmp(key, "check") == 0)
			snprintf(res->check, sizeof(res->check), "%s", strcmp(val, "-") ? val : "");
		else if (strcmp(key, "conns") == 0)
			res->conns = atol(val);
		else if (strcmp(key, "untagged") == 0)
			res->untagged = strtoull(val, NULL, 10);
		else if (strcmp(key, "dups") == 0)
			res->dups = strtoull(val, NULL, 10);
		else if (strcmp(key, "pss_before") == 0)
			res->pss_before = atof(val);
		else if (strcmp(key, "pss_after") == 0)
			res->pss_after = atof(val);
		else if (strcmp(key, "rss_before") == 0)
			res->rss_before = atof(val);
		else if (strcmp(key, "rss_after") == 0)
			res->rss_after = atof(val);
		else if (strcmp(key, "procs_before") == 0)
			res->procs_before = atol(val);
		else if (strcmp(key, "procs_after") == 0)
			res->procs_after = atol(val);
		else if (strcmp(key, "pss_end") == 0)
			res->pss_end = atof(val);
		else if (strcmp(key, "rss_end") == 0)
			res->rss_end = atof(val);
		else if (strcmp(key, "latencies_us") == 0 && res->lat == NULL)
			res->nlat = load_values(f, path, val, &res->lat);
		else
			for (int k = 0; k < NSERIES; k++)
				if (strcmp(key, series_names[k]) == 0 && res->ser[k] == NULL)
					res->nser[k] = load_values(f, path, val, &res->ser[k]);
	}
	fclose(f);
}

static void
result_free(struct result *res)
{
	free(res->lat);
	res->lat = NULL;
	for (int k = 0; k < NSERIES; k++) {
		free(res->ser[k]);
		res->ser[k] = NULL;
	}
}

/* ---- running a job ---------------------------------------------------------- */

static int
run_clients(struct job *j, struct result *res)
{
	struct client *cls = calloc((size_t)j->clients, sizeof(*cls));
	uint64_t next = j->first;
	double t0, t1 = 0;
	long per, extra;

	if (cls == NULL)
		die("out of memory");
	per = j->count / j->clients;
	extra = j->count % j->clients;
	if (pthread_barrier_init(&start_barrier, NULL, (unsigned)j->clients + 1) != 0)
		die("pthread_barrier_init failed");
	for (int i = 0; i < j->clients; i++) {
		struct client *cl = &cls[i];
		pthread_attr_t attr;

		cl->j = j;
		cl->idx = i;
		cl->nops = per + (i < extra);
		if (j->w == W_STORE && cl->nops % 2 != 0)
			cl->nops++;      /* +FLAGS and -FLAGS in pairs: the flags come back */
		cl->first = next;
		next += (uint64_t)cl->nops;
		cl->lat = xrealloc(NULL, (size_t)(cl->nops + 1) * sizeof(double));
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&cl->thread, &attr, client_main, cl) != 0)
			die("pthread_create failed");
		pthread_attr_destroy(&attr);
	}
	pthread_barrier_wait(&start_barrier);
	/* this thread may run late: the clients' own clocks say when they started */
	t0 = now();
	for (int i = 0; i < j->clients; i++) {
		pthread_join(cls[i].thread, NULL);
		if (cls[i].t_start < t0)
			t0 = cls[i].t_start;
	}
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "%s", workload_names[j->w]);
	res->clients = j->clients;
	for (int i = 0; i < j->clients; i++) {
		struct client *cl = &cls[i];

		if (cl->t_end > t1)
			t1 = cl->t_end;
		res->ops += cl->done;
		res->bytes += cl->bytes;
		res->items += cl->items;
		res->errors += cl->errors;
		res->untagged += cl->untagged;
		res->dups += cl->dups;
		if (cl->msg[0] != '\0')
			fprintf(stderr, "imapload: %s: client %d: %s\n", j->label, i + 1, cl->msg);
		res->lat = xrealloc(res->lat, (res->nlat + (size_t)cl->done) * sizeof(double));
		memcpy(res->lat + res->nlat, cl->lat, (size_t)cl->done * sizeof(double));
		res->nlat += (size_t)cl->done;
		if ((j->w == W_SEARCH || j->w == W_SORT) && cl->have_result) {
			char check[128];

			snprintf(check, sizeof(check), "%" PRIu64 ":%016" PRIx64, cl->res_count,
			    cl->res_hash);
			if (res->check[0] == '\0')
				snprintf(res->check, sizeof(res->check), "%s", check);
			else if (strcmp(res->check, check) != 0) {
				fprintf(stderr, "imapload: %s: client %d found %s, client 1 %s\n",
				    j->label, i + 1, check, res->check);
				res->errors++;
			}
		}
		free(cl->lat);
	}
	if (j->w == W_FETCH_FLAGS && cls[0].exists > 0)
		snprintf(res->check, sizeof(res->check), "%u", cls[0].exists);
	res->elapsed = t1 > t0 ? t1 - t0 : 0;
	qsort(res->lat, res->nlat, sizeof(double), cmp_double);
	pthread_barrier_destroy(&start_barrier);
	free(cls);
	return res->errors == 0 ? 0 : 1;
}

/* Pipelined APPEND of j->count messages on one connection. */
static int
run_populate(struct job *j, struct result *res)
{
	struct client cl = { .j = j, .idx = 0 };
	struct conn c = { .fd = -1 };
	struct resp r = { 0 };
	struct dbuf msg = { 0 }, cmd = { 0 };
	char mbox[256];
	long sent = 0, answered = 0;
	double t0;

	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "populate");
	res->clients = 1;
	if (session_open(&cl, &c, &r, NULL) != 0)
		die("%s: %s", j->label, c.err);
	expand_name(j->mailbox, 1, mbox, sizeof(mbox));
	if (j->create && (send_cmd(&c, "CREATE \"%s\"", mbox) != 0 ||
	    wait_tagged(&c, &r, false, NULL, NULL) == CMD_IO))
		die("%s: CREATE: %s", j->label, c.err);
	t0 = now();
	while (answered < j->count) {
		if (sent < j->count && sent - answered < j->window) {
			struct plan p;
			char date[64];

			gen_message(j->seed, j->first + (uint64_t)sent, &msg, &p);
			gen_internaldate(&p, date, sizeof(date));
			db_reset(&cmd);
			db_printf(&cmd, "%s APPEND \"%s\" (%s) \"%s\" {%zu+}\r\n",
			    conn_next_tag(&c), mbox, p.seen ? "\\Seen" : "", date, p.size);
			db_add(&cmd, msg.p, msg.len);
			db_add(&cmd, "\r\n", 2);
			if (conn_write(&c, cmd.p, cmd.len) != 0)
				die("%s: %s", j->label, c.err);
			res->bytes += p.size;
			sent++;
			continue;
		}
		if (read_resp(&c, &r, false) != 0)
			die("%s: after %ld messages: %s", j->label, answered, c.err);
		if (r.text.p[0] == '*') {
			if (strncmp(r.text.p, "* BYE", 5) == 0)
				die("%s: %s", j->label, r.text.p);
			continue;
		}
		if (r.text.p[0] == '+')
			die("%s: unexpected continuation request (no LITERAL+?): %s", j->label,
			    r.text.p);
		answered++;
		{
			const char *sp = strchr(r.text.p, ' ');

			if (sp == NULL || strncmp(sp + 1, "OK", 2) != 0) {
				if (res->errors++ < 5)
					fprintf(stderr, "imapload: %s: %s\n", j->label, r.text.p);
			}
		}
	}
	res->elapsed = now() - t0;
	res->ops = answered;
	res->items = (uint64_t)answered;
	session_close(&c, &r);
	resp_free(&r);
	db_free(&msg);
	db_free(&cmd);
	return res->errors == 0 ? 0 : 1;
}

/* ---- memory: Pss and Rss of a process tree ------------------------------------ */

struct memsum {
	double pss, rss;
	long procs;
	char names[512];
};

static void
mem_tree(int root, struct memsum *m)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int *pid = NULL, *ppid = NULL;
	char (*comm)[32] = NULL;
	size_t n = 0, cap = 0;
	bool *in;

	memset(m, 0, sizeof(*m));
	if (d == NULL)
		die("/proc: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[512], *rp;
		FILE *f;
		int p, pp;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) == NULL) {
			fclose(f);
			continue;
		}
		fclose(f);
		p = atoi(buf);
		rp = strrchr(buf, ')');
		if (rp == NULL || sscanf(rp + 2, "%*c %d", &pp) != 1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			pid = xrealloc(pid, cap * sizeof(*pid));
			ppid = xrealloc(ppid, cap * sizeof(*ppid));
			comm = xrealloc(comm, cap * sizeof(*comm));
		}
		pid[n] = p;
		ppid[n] = pp;
		{
			char *lp = strchr(buf, '(');
			size_t len = lp != NULL ? (size_t)(rp - lp - 1) : 0;

			if (len >= sizeof(comm[n]))
				len = sizeof(comm[n]) - 1;
			memcpy(comm[n], lp != NULL ? lp + 1 : "", len);
			comm[n][len] = '\0';
		}
		n++;
	}
	closedir(d);
	in = calloc(n + 1, sizeof(*in));
	if (in == NULL)
		die("out of memory");
	/* the descendants of root: repeat until nothing new is found */
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			if (in[i])
				continue;
			if (pid[i] == root)
				in[i] = grew = true;
			else
				for (size_t k = 0; k < n; k++)
					if (in[k] && pid[k] == ppid[i]) {
						in[i] = grew = true;
						break;
					}
		}
	}
	/* per-name counts, for the report */
	{
		char seen[64][32];
		long count[64];
		size_t ns = 0;

		for (size_t i = 0; i < n; i++) {
			char path[64], line[256];
			FILE *f;
			size_t s;

			if (!in[i])
				continue;
			snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid[i]);
			if ((f = fopen(path, "r")) == NULL)
				continue;     /* gone meanwhile */
			while (fgets(line, sizeof(line), f) != NULL) {
				double kb;

				if (sscanf(line, "Rss: %lf", &kb) == 1)
					m->rss += kb;
				else if (sscanf(line, "Pss: %lf", &kb) == 1)
					m->pss += kb;
			}
			fclose(f);
			m->procs++;
			for (s = 0; s < ns; s++)
				if (strcmp(seen[s], comm[i]) == 0)
					break;
			if (s == ns && ns < 64) {
				snprintf(seen[ns], sizeof(seen[ns]), "%s", comm[i]);
				count[ns++] = 0;
			}
			if (s < 64)
				count[s]++;
		}
		for (size_t s = 0; s < ns; s++) {
			size_t len = strlen(m->names);

			snprintf(m->names + len, sizeof(m->names) - len, "%s%s %ld",
			    s ? ", " : "", seen[s], count[s]);
		}
	}
	free(in);
	free(pid);
	free(ppid);
	free(comm);
}

static int
run_mem(struct job *j, struct result *res)
{
	struct conn *cs = calloc((size_t)j->clients, sizeof(*cs));
	struct resp r = { 0 };
	struct memsum before, after;
	long errors = 0;

	if (cs == NULL)
		die("out of memory");
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "mem");
	res->clients = res->conns = j->clients;
	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &before);
	if (before.procs == 0)
		die("no process %d", j->server_pid);
	for (int i = 0; i < j->clients; i++) {
		struct client cl = { .j = j, .idx = i };

		if (session_open(&cl, &cs[i], &r, j->mailbox) != 0)
			die("%s: connection %d: %s", j->label, i + 1, cs[i].err);
		if (j->expect_exists >= 0 && cl.exists != j->expect_exists)
			die("%s: connection %d: %u EXISTS, expected %ld", j->label, i + 1,
			    cl.exists, j->expect_exists);
	}
	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &after);
	/* still there and answering? */
	for (int i = 0; i < j->clients; i++) {
		if (send_cmd(&cs[i], "NOOP") != 0 ||
		    wait_tagged(&cs[i], &r, false, NULL, NULL) != CMD_OK) {
			if (errors++ < 5)
				fprintf(stderr, "imapload: %s: connection %d: %s\n", j->label,
				    i + 1, cs[i].err);
		}
	}
	for (int i = 0; i < j->clients; i++)
		session_close(&cs[i], &r);
	res->pss_before = before.pss;
	res->pss_after = after.pss;
	res->rss_before = before.rss;
	res->rss_after = after.rss;
	res->procs_before = before.procs;
	res->procs_after = after.procs;
	res->errors = errors;
	printf("%s: processes before: %s\n%s: processes after:  %s\n", j->label, before.names,
	    j->label, after.names);
	resp_free(&r);
	free(cs);
	return errors == 0 ? 0 : 1;
}

/* ---- idle: sessions in IDLE, woken by one APPEND ----------------------------- */

/*
 * IDLE on a selected session (RFC 2177 §3): the server answers "+" and
 * from then on sends changes as they happen.  Untagged answers before the
 * "+" may still move EXISTS.
 */
static int
idle_start(struct client *cl, struct conn *c, struct resp *r)
{
	size_t tl;

	if (send_cmd(c, "IDLE") != 0)
		return -1;
	tl = strlen(c->tag);
	for (;;) {
		if (read_resp(c, r, false) != 0)
			return -1;
		if (r->text.p[0] == '+')
			return 0;
		if ((strncmp(r->text.p, c->tag, tl) == 0 && r->text.p[tl] == ' ') ||
		    strncmp(r->text.p, "* BYE", 5) == 0) {
			conn_error(c, "IDLE: %.400s", r->text.p);
			return -1;
		}
		on_exists(r, cl);
	}
}

/* The idle workload's state: n idlers in cs[0..n), the appender at cs[n]. */
struct idle_run {
	struct job *j;
	int n;
	struct conn *cs;
	bool *dead;
	double *heard;           /* when idler i read the EXISTS; 0 until then */
	struct pollfd *pfd;
	int *owner;              /* pfd[k] belongs to cs[owner[k]] */
	struct resp r;
	uint32_t want;           /* the EXISTS every idler must read */
	int waiting;             /* live idlers that have not read it yet */
	double t_ok;             /* the APPEND's tagged OK; 0 until then */
	long errors;
	uint64_t untagged;
};

static void
idle_error(struct idle_run *ir, const char *fmt, ...)
{
	va_list ap;

	if (ir->errors++ >= 5)
		return;
	fprintf(stderr, "imapload: %s: ", ir->j->label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A session that failed: no more reads from it, and no more waiting for it. */
static void
idle_kill(struct idle_run *ir, int i, const char *why)
{
	idle_error(ir, "session %d: %s", i + 1, why);
	ir->dead[i] = true;
	if (ir->heard[i] == 0)
		ir->waiting--;
}

/* One whole response of cs[i], read at time t (the poll's return). */
static void
idle_answer(struct idle_run *ir, int i, double t)
{
	const char *text = ir->r.text.p, *w;
	struct conn *c = &ir->cs[i];
	size_t tl = strlen(c->tag);
	uint32_t n;

	if (i == ir->n) {
		/* the appender: only its tagged answer matters */
		if (strncmp(text, "* BYE", 5) == 0)
			die("%s: appender: %s", ir->j->label, text);
		if (strncmp(text, c->tag, tl) != 0 || text[tl] != ' ')
			return;
		ir->t_ok = t;
		if (strncmp(text + tl + 1, "OK", 2) != 0)
			idle_error(ir, "appender: %.300s", text);
		return;
	}
	ir->untagged++;
	if (strncmp(text, "* BYE", 5) == 0 ||
	    (strncmp(text, c->tag, tl) == 0 && text[tl] == ' ')) {
		idle_kill(ir, i, text);
		return;
	}
	/* RECENT, FETCH, "OK Still here": allowed, not waited for */
	if (!untagged_number(&ir->r, &n, &w) || !word_is(w, "EXISTS") || n < ir->want)
		return;
	if (n > ir->want) {
		char why[128];

		snprintf(why, sizeof(why), "%u EXISTS, expected %u: is something else "
		    "appending?", n, ir->want);
		idle_kill(ir, i, why);
	} else if (ir->heard[i] == 0) {
		ir->heard[i] = t;
		ir->waiting--;
	}
}

/* cs[i] is readable: read once, then every whole response it holds. */
static void
idle_read(struct idle_run *ir, int i, double t)
{
	struct conn *c = &ir->cs[i];

	if (conn_fill(c) != 0) {
		if (i == ir->n)
			die("%s: appender: %s", ir->j->label, c->err);
		idle_kill(ir, i, c->err);
		return;
	}
	/* OpenSSL may hold decrypted bytes that poll cannot see */
	while (c->ssl != NULL && SSL_pending(c->ssl) > 0 && conn_fill(c) == 0)
		;
	while (!ir->dead[i] && memchr(c->buf + c->off, '\n', c->len - c->off) != NULL) {
		/* a literal in an answer (none expected) is read blocking */
		if (read_resp(c, &ir->r, false) != 0) {
			if (i == ir->n)
				die("%s: appender: %s", ir->j->label, c->err);
			idle_kill(ir, i, c->err);
			return;
		}
		idle_answer(ir, i, t);
	}
}

/*
 * APPEND number k (generator index first + k) by the appender, and wait
 * until every live idler has read "* want EXISTS" and the appender its
 * OK, or --timeout seconds.
 */
static void
idle_round(struct idle_run *ir, long k, struct result *res)
{
	struct job *j = ir->j;
	struct conn *ap = &ir->cs[ir->n];
	struct dbuf msg = { 0 }, cmd = { 0 };
	struct plan p;
	char date[64], mbox[256];
	double t_send, last = 0;
	int missed = 0;

	ir->waiting = 0;
	ir->t_ok = 0;
	for (int i = 0; i < ir->n; i++) {
		ir->heard[i] = 0;
		ir->waiting += !ir->dead[i];
	}
	expand_name(j->mailbox, ir->n + 1, mbox, sizeof(mbox));
	gen_message(j->seed, j->first + (uint64_t)k, &msg, &p);
	gen_internaldate(&p, date, sizeof(date));
	db_printf(&cmd, "%s APPEND \"%s\" (%s) \"%s\" {%zu+}\r\n", conn_next_tag(ap), mbox,
	    p.seen ? "\\Seen" : "", date, p.size);
	db_add(&cmd, msg.p, msg.len);
	db_add(&cmd, "\r\n", 2);
	t_send = now();
	if (conn_write(ap, cmd.p, cmd.len) != 0)
		die("%s: appender: %s", j->label, ap->err);
	while (ir->waiting > 0 || ir->t_ok == 0) {
		double t, left = t_send + j->timeout - now();
		int nfd = 0, rc;

		if (left <= 0)
			break;
		for (int i = 0; i <= ir->n; i++) {
			if (i < ir->n ? ir->dead[i] : ir->t_ok != 0)
				continue;
			ir->pfd[nfd].fd = ir->cs[i].fd;
			ir->pfd[nfd].events = POLLIN;
			ir->pfd[nfd].revents = 0;
			ir->owner[nfd++] = i;
		}
		rc = poll(ir->pfd, (nfds_t)nfd, (int)ceil(left * 1e3));
		/* one clock reading for the round: every answer seen now was
		 * there when poll returned */
		t = now();
		if (rc < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int f = 0; rc > 0 && f < nfd; f++)
			if (ir->pfd[f].revents != 0)
				idle_read(ir, ir->owner[f], t);
	}
	if (ir->t_ok == 0)
		die("%s: APPEND %ld: no answer within %d s", j->label, k + 1, j->timeout);
	res->ser[SER_APPEND][res->nser[SER_APPEND]++] = (ir->t_ok - t_send) * 1e6;
	for (int i = 0; i < ir->n; i++) {
		if (ir->dead[i])
			continue;
		if (ir->heard[i] == 0) {
			missed++;
			continue;
		}
		if (ir->heard[i] > last)
			last = ir->heard[i];
		res->lat[res->nlat++] = (ir->heard[i] - t_send) * 1e6;
		res->ser[SER_FROM_OK][res->nser[SER_FROM_OK]++] = (ir->heard[i] - ir->t_ok) * 1e6;
	}
	if (missed > 0)
		idle_error(ir, "APPEND %ld: %d of %d sessions had no \"* %u EXISTS\" after %d s",
		    k + 1, missed, ir->n, ir->want, j->timeout);
	else if (last > 0)
		res->ser[SER_LAST][res->nser[SER_LAST]++] = (last - t_send) * 1e6;
	db_free(&msg);
	db_free(&cmd);
}

/* Room for n sockets: the soft descriptor limit up to the hard one. */
static void
idle_fd_limit(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 32) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n + 32)
			die("%d connections need %d descriptors; ulimit -n is %llu", n, n + 32,
			    (unsigned long long)rl.rlim_cur);
	}
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
run_idle(struct job *j, struct result *res)
{
	struct idle_run ir = { .j = j, .n = j->clients };
	struct client cl = { .j = j };
	struct memsum before, after, end;
	uint32_t base = 0;
	double t0;
	int n = j->clients;

	idle_fd_limit(n + 1);
	ir.cs = calloc((size_t)n + 1, sizeof(*ir.cs));
	/* [n], the appender's, is never set: idle_read looks at it */
	ir.dead = calloc((size_t)n + 1, sizeof(*ir.dead));
	ir.heard = calloc((size_t)n + 1, sizeof(*ir.heard));
	ir.pfd = calloc((size_t)n + 1, sizeof(*ir.pfd));
	ir.owner = calloc((size_t)n + 1, sizeof(*ir.owner));
	if (ir.cs == NULL || ir.dead == NULL || ir.heard == NULL || ir.pfd == NULL ||
	    ir.owner == NULL)
		die("out of memory");
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "idle");
	res->clients = n;
	res->conns = n;
	res->lat = xrealloc(NULL, (size_t)n * (size_t)j->count * sizeof(double));
	res->ser[SER_FROM_OK] = xrealloc(NULL, (size_t)n * (size_t)j->count * sizeof(double));
	res->ser[SER_LAST] = xrealloc(NULL, (size_t)j->count * sizeof(double));
	res->ser[SER_APPEND] = xrealloc(NULL, (size_t)j->count * sizeof(double));

	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &before);
	if (before.procs == 0)
		die("no process %d", j->server_pid);
	t0 = now();
	for (int i = 0; i < n; i++) {
		cl.idx = i;
		if (session_open(&cl, &ir.cs[i], &ir.r, j->mailbox) != 0 ||
		    idle_start(&cl, &ir.cs[i], &ir.r) != 0)
			die("%s: session %d of %d: %s", j->label, i + 1, n, ir.cs[i].err);
		if (i == 0)
			base = cl.exists;
		else if (cl.exists != base)
			die("%s: session %d: %u EXISTS, session 1 had %u: is something else "
			    "appending?", j->label, i + 1, cl.exists, base);
	}
	printf("%s: %d sessions in IDLE after %.1f s; the mailbox has %u messages\n", j->label,
	    n, now() - t0, base);
	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &after);
	cl.idx = n;
	if (session_open(&cl, &ir.cs[n], &ir.r, NULL) != 0)
		die("%s: the appender: %s", j->label, ir.cs[n].err);
	t0 = now();
	for (long k = 0; k < j->count; k++) {
		ir.want = base + (uint32_t)k + 1;
		idle_round(&ir, k, res);
		msleep(j->pause_ms);
	}
	res->elapsed = now() - t0;
	res->ops = j->count;
	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &end);
	/* DONE ends each IDLE with the tagged OK of its IDLE command */
	for (int i = 0; i < n; i++)
		if (!ir.dead[i] && conn_write(&ir.cs[i], "DONE\r\n", 6) != 0)
			idle_kill(&ir, i, ir.cs[i].err);
	for (int i = 0; i < n; i++) {
		if (!ir.dead[i] && wait_tagged(&ir.cs[i], &ir.r, false, NULL, NULL) != CMD_OK)
			idle_kill(&ir, i, ir.cs[i].err);
		if (ir.dead[i])
			conn_close(&ir.cs[i]);
		else
			session_close(&ir.cs[i], &ir.r);
	}
	session_close(&ir.cs[n], &ir.r);
	printf("%s: processes before: %s\n%s: processes in IDLE: %s\n", j->label, before.names,
	    j->label, after.names);
	res->pss_before = before.pss;
	res->pss_after = after.pss;
	res->pss_end = end.pss;
	res->rss_before = before.rss;
	res->rss_after = after.rss;
	res->rss_end = end.rss;
	res->procs_before = before.procs;
	res->procs_after = after.procs;
	res->errors = ir.errors;
	res->untagged = ir.untagged;
	qsort(res->lat, res->nlat, sizeof(double), cmp_double);
	for (int k = 0; k < NSERIES; k++)
		qsort(res->ser[k], res->nser[k], sizeof(double), cmp_double);
	resp_free(&ir.r);
	free(ir.cs);
	free(ir.dead);
	free(ir.heard);
	free(ir.pfd);
	free(ir.owner);
	return ir.errors == 0 ? 0 : 1;
}

/* ---- QRESYNC: a client's resynchronisation after other sessions' changes ---- */

/* A set of UIDs 1..max, as a bitmap. */
struct uidbits {
	uint32_t max;
	unsigned char *bit;
	uint64_t n;
};

static void
ub_init(struct uidbits *b, uint32_t max)
{
	b->max = max;
	b->n = 0;
	b->bit = calloc((size_t)max / 8 + 1, 1);
	if (b->bit == NULL)
		die("out of memory");
}

static bool
ub_has(const struct uidbits *b, uint32_t u)
{
	return u >= 1 && u <= b->max && (b->bit[u / 8] >> (u % 8) & 1);
}

/* Adds u; false when u is out of range or already there. */
static bool
ub_add(struct uidbits *b, uint32_t u)
{
	if (u < 1 || u > b->max || ub_has(b, u))
		return false;
	b->bit[u / 8] |= (unsigned char)(1u << (u % 8));
	b->n++;
	return true;
}

/* The set as an IMAP sequence set ("1:3,7"); "" when empty. */
static void
ub_format(const struct uidbits *b, struct dbuf *out)
{
	bool first = true;

	for (uint32_t u = 1; u <= b->max; u++) {
		uint32_t v = u;

		if (!ub_has(b, u))
			continue;
		while (v < b->max && ub_has(b, v + 1))
			v++;
		db_printf(out, v > u ? "%s%u:%u" : "%s%u", first ? "" : ",", u, v);
		first = false;
		u = v;
	}
}

/*
 * Adds the sequence set at *pp ("1:3,7,9:8"; no "*") to b; *pp ends after
 * it.  The number of UIDs already there or out of range, or -1 when the
 * text is not a sequence set.
 */
static long
ub_parse(struct uidbits *b, const char **pp)
{
	const char *p = *pp;
	long bad = 0;

	for (;;) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi;

		if (end == p || !isdigit((unsigned char)*p))
			return -1;
		hi = lo;
		p = end;
		if (*p == ':') {
			hi = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				return -1;
			p = end;
		}
		if (lo > hi) {
			unsigned long t = lo;

			lo = hi;
			hi = t;
		}
		for (unsigned long u = lo; u <= hi; u++)
			bad += !ub_add(b, (uint32_t)u);
		if (*p != ',')
			break;
		p++;
	}
	*pp = p;
	return bad;
}

/* The value of "[KEY n]" in an untagged OK, or false. */
static bool
resp_code_number(const char *text, const char *key, uint64_t *v)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "[%s ", key);
	if (strncmp(text, "* OK ", 5) != 0 || (p = strstr(text, pat)) == NULL)
		return false;
	*v = strtoull(p + strlen(pat), NULL, 10);
	return true;
}

/* What the client knew before the changes, and what changed. */
struct qstate {
	uint64_t uidvalidity, modseq, uidnext, exists;
	struct uidbits flagged, expunged;
};

struct qsel {
	uint64_t uidvalidity, modseq, uidnext, exists;
	bool have_modseq;
	uint32_t *uids;          /* UID SEARCH ALL */
	size_t nuids;
};

static void
on_qsel(const struct resp *r, void *arg)
{
	struct qsel *q = arg;
	const char *w, *p = r->text.p;
	uint32_t n;

	if (untagged_number(r, &n, &w) && word_is(w, "EXISTS"))
		q->exists = n;
	else if (resp_code_number(p, "UIDVALIDITY", &q->uidvalidity) ||
	    resp_code_number(p, "UIDNEXT", &q->uidnext))
		;
	else if (resp_code_number(p, "HIGHESTMODSEQ", &q->modseq))
		q->have_modseq = true;
	else if (strncasecmp(p, "* SEARCH", 8) == 0) {
		for (p += 8; *p == ' ';) {
			char *end;
			unsigned long u = strtoul(p + 1, &end, 10);

			if (end == p + 1)
				break;
			q->uids = xrealloc(q->uids, (q->nuids + 1) * sizeof(*q->uids));
			q->uids[q->nuids++] = (uint32_t)u;
			p = end;
		}
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One command that must succeed, timed; exits on failure. */
static double
must(struct conn *c, struct resp *r, untagged_fn fn, void *arg, const char *what,
    const char *fmt, ...)
{
	struct dbuf b = { 0 };
	va_list ap;
	double t0 = now();

	va_start(ap, fmt);
	{
		va_list aq;
		int n;

		va_copy(aq, ap);
		n = vsnprintf(NULL, 0, fmt, aq);
		va_end(aq);
		db_reserve(&b, (size_t)n);
		vsnprintf(b.p, (size_t)n + 1, fmt, ap);
		b.len = (size_t)n;
	}
	va_end(ap);
	if (send_cmd(c, "%s", b.p) != 0 || wait_tagged(c, r, false, fn, arg) != CMD_OK)
		die("%s: %s", what, c->err);
	db_free(&b);
	return (now() - t0) * 1e3;
}

/*
 * qresync-prep: what a client knows (SELECT (CONDSTORE): UIDVALIDITY,
 * HIGHESTMODSEQ, UIDNEXT), then as another client: \Flagged on
 * --changes UIDs and --expunges UIDs expunged (UID EXPUNGE), picked at
 * random (--seed) from UID SEARCH ALL, so two servers with the same UIDs
 * get the same changes.  Writes it all to --state.
 */
static int
run_qprep(struct job *j, struct result *res)
{
	struct client cl = { .j = j };
	struct conn c = { .fd = -1 };
	struct resp r = { 0 };
	struct qsel q = { 0 };
	struct uidbits fl, ex;
	struct dbuf fs = { 0 }, es = { 0 };
	struct rng rng = { mix64(j->seed ^ 0x71726573796e63ULL) };
	uint64_t h = 0xcbf29ce484222325ULL;
	double t_store, t_del, t_exp;
	size_t need = (size_t)(j->changes + j->expunges);
	FILE *f;

	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "qresync-prep");
	res->clients = 1;
	if (session_open(&cl, &c, &r, NULL) != 0)
		die("%s: %s", j->label, c.err);
	must(&c, &r, on_qsel, &q, j->label, "SELECT \"%s\" (CONDSTORE)", j->mailbox);
	if (!q.have_modseq || q.uidvalidity == 0 || q.uidnext == 0)
		die("%s: SELECT (CONDSTORE) gave no HIGHESTMODSEQ, UIDVALIDITY or UIDNEXT",
		    j->label);
	must(&c, &r, on_qsel, &q, j->label, "UID SEARCH ALL");
	if (q.nuids != q.exists || q.nuids < need)
		die("%s: UID SEARCH ALL found %zu of %" PRIu64 " messages; %zu needed", j->label,
		    q.nuids, q.exists, need);
	qsort(q.uids, q.nuids, sizeof(*q.uids), cmp_u32);
	for (size_t i = 0; i < q.nuids; i++)
		h = (h ^ q.uids[i]) * 0x100000001b3ULL;
	/* the first `need` of a partial Fisher-Yates shuffle */
	for (size_t i = 0; i < need; i++) {
		size_t k = i + (size_t)rng_below(&rng, q.nuids - i);
		uint32_t t = q.uids[i];

		q.uids[i] = q.uids[k];
		q.uids[k] = t;
	}
	ub_init(&fl, (uint32_t)q.uidnext);
	ub_init(&ex, (uint32_t)q.uidnext);
	for (size_t i = 0; i < need; i++)
		ub_add(i < (size_t)j->changes ? &fl : &ex, q.uids[i]);
	ub_format(&fl, &fs);
	ub_format(&ex, &es);
	t_store = must(&c, &r, NULL, NULL, j->label, "UID STORE %s +FLAGS.SILENT (\\Flagged)",
	    fs.p);
	t_del = must(&c, &r, NULL, NULL, j->label, "UID STORE %s +FLAGS.SILENT (\\Deleted)",
	    es.p);
	t_exp = must(&c, &r, NULL, NULL, j->label, "UID EXPUNGE %s", es.p);
	session_close(&c, &r);
	if ((f = fopen(j->state, "w")) == NULL)
		die("%s: %s", j->state, strerror(errno));
	fprintf(f, "uidvalidity %" PRIu64 "\nmodseq %" PRIu64 "\nuidnext %" PRIu64
	    "\nexists %" PRIu64 "\nuids %016" PRIx64 "\nflagged %s\nexpunged %s\n",
	    q.uidvalidity, q.modseq, q.uidnext, q.exists, h, fs.p, es.p);
	if (fclose(f) != 0)
		die("%s: %s", j->state, strerror(errno));
	printf("%s: known state UIDVALIDITY %" PRIu64 " HIGHESTMODSEQ %" PRIu64 " UIDNEXT %"
	    PRIu64 ", %" PRIu64 " messages (UIDs hash %016" PRIx64 "); then UID STORE +FLAGS "
	    "(\\Flagged) of %" PRIu64 " in %.1f ms, +FLAGS (\\Deleted) of %" PRIu64 " in %.1f ms, "
	    "UID EXPUNGE of them in %.1f ms\n", j->label, q.uidvalidity, q.modseq, q.uidnext,
	    q.exists, h, fl.n, t_store, ex.n, t_del, t_exp);
	res->ops = 1;
	free(q.uids);
	free(fl.bit);
	free(ex.bit);
	db_free(&fs);
	db_free(&es);
	resp_free(&r);
	return 0;
}

static void
qstate_load(const char *path, struct qstate *st)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	memset(st, 0, sizeof(*st));
	while ((n = getline(&line, &cap, f)) > 0) {
		char *v = strchr(line, ' ');
		const char *p;

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "uidvalidity") == 0)
			st->uidvalidity = strtoull(v, NULL, 10);
		else if (strcmp(line, "modseq") == 0)
			st->modseq = strtoull(v, NULL, 10);
		else if (strcmp(line, "uidnext") == 0) {
			st->uidnext = strtoull(v, NULL, 10);
			ub_init(&st->flagged, (uint32_t)st->uidnext);
			ub_init(&st->expunged, (uint32_t)st->uidnext);
		} else if (strcmp(line, "exists") == 0)
			st->exists = strtoull(v, NULL, 10);
		else if ((strcmp(line, "flagged") == 0 || strcmp(line, "expunged") == 0) &&
		    st->uidnext > 0) {
			p = v;
			if (*p != '\0' && ub_parse(line[0] == 'f' ? &st->flagged : &st->expunged,
			    &p) != 0)
				die("%s: a bad %s set", path, line);
		}
	}
	free(line);
	fclose(f);
	if (st->uidnext == 0 || st->uidvalidity == 0)
		die("%s: not a state written by qresync-prep", path);
}

/* What one resync answered. */
struct qans {
	const struct qstate *st;
	struct uidbits fetched, vanished;
	uint64_t fetches, bad_fetch, dup_fetch, no_flag, vanished_lines, bad_vanished;
	uint64_t exists, uidvalidity, modseq, fetch_bytes, vanished_bytes;
	bool have_exists;
};

static void
on_qresync(const struct resp *r, void *arg)
{
	struct qans *a = arg;
	const char *w, *p = r->text.p;
	uint32_t n;

	if (untagged_number(r, &n, &w) && word_is(w, "EXISTS")) {
		a->exists = n;
		a->have_exists = true;
	} else if (untagged_number(r, &n, &w) && word_is(w, "FETCH")) {
		const char *u = strstr(w, "UID ");
		uint32_t uid;

		a->fetches++;
		a->fetch_bytes += r->text.len + 2;
		if (u == NULL) {
			a->bad_fetch++;
			return;
		}
		uid = (uint32_t)strtoul(u + 4, NULL, 10);
		if (!ub_has(&a->st->flagged, uid))
			a->bad_fetch++;
		else if (!ub_add(&a->fetched, uid))
			a->dup_fetch++;
		if (strstr(w, "\\Flagged") == NULL)
			a->no_flag++;
	} else if (strncasecmp(p, "* VANISHED (EARLIER) ", 21) == 0) {
		a->vanished_lines++;
		a->vanished_bytes += r->text.len + 2;
		p += 21;
		if (ub_parse(&a->vanished, &p) != 0 || *p != '\0')
			a->bad_vanished++;
	} else if (strncasecmp(p, "* VANISHED", 10) == 0) {
		a->bad_vanished++;           /* without (EARLIER) in a SELECT */
	} else if (!resp_code_number(p, "UIDVALIDITY", &a->uidvalidity))
		(void)resp_code_number(p, "HIGHESTMODSEQ", &a->modseq);
}

/*
 * qresync: -n times a new connection LOGINs (not timed), then ENABLE
 * QRESYNC and SELECT (QRESYNC (uidvalidity modseq [1:UIDNEXT-1])) with
 * what --state says the client knew, timed until the SELECT's tagged OK.
 * Every answer must hold exactly one FETCH (with \Flagged) for each UID
 * flagged, none for another, a VANISHED (EARLIER) of exactly the UIDs
 * expunged, the EXISTS that is left and the same UIDVALIDITY.
 */
static int
run_qresync(struct job *j, struct result *res)
{
	struct qstate st;
	struct client cl = { .j = j };
	struct resp r = { 0 };
	struct dbuf known = { 0 };
	uint64_t want_exists;

	qstate_load(j->state, &st);
	want_exists = st.exists - st.expunged.n;
	if (j->known_uids)
		db_printf(&known, " 1:%" PRIu64, st.uidnext - 1);
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "qresync");
	res->clients = 1;
	res->lat = xrealloc(NULL, (size_t)j->count * sizeof(double));
	for (long k = 0; k < j->count; k++) {
		struct conn c = { .fd = -1 };
		struct qans a = { .st = &st };
		uint64_t b0;
		double t0, t;
		char why[300] = "";

		ub_init(&a.fetched, (uint32_t)st.uidnext);
		ub_init(&a.vanished, (uint32_t)st.uidnext);
		if (session_open(&cl, &c, &r, NULL) != 0)
			die("%s: %s", j->label, c.err);
		b0 = c.rbytes;
		t0 = now();
		if (send_cmd(&c, "ENABLE QRESYNC") != 0 ||
		    wait_tagged(&c, &r, false, NULL, NULL) != CMD_OK)
			die("%s: ENABLE QRESYNC: %s", j->label, c.err);
		if (send_cmd(&c, "SELECT \"%s\" (QRESYNC (%" PRIu64 " %" PRIu64 "%s))", j->mailbox,
		    st.uidvalidity, st.modseq, known.p != NULL ? known.p : "") != 0 ||
		    wait_tagged(&c, &r, false, on_qresync, &a) != CMD_OK)
			die("%s: SELECT (QRESYNC): %s", j->label, c.err);
		t = (now() - t0) * 1e6;
		res->lat[res->nlat++] = t;
		res->bytes += c.rbytes - b0;
		res->items += a.fetches;
		res->ops++;
		res->elapsed += t / 1e6;
		if (a.bad_fetch || a.dup_fetch || a.no_flag || a.fetched.n != st.flagged.n)
			snprintf(why, sizeof(why), "%" PRIu64 " FETCH answers for %" PRIu64 " of the "
			    "%" PRIu64 " flagged UIDs, %" PRIu64 " for other messages, %" PRIu64
			    " repeated, %" PRIu64 " without \\Flagged", a.fetches, a.fetched.n,
			    st.flagged.n, a.bad_fetch, a.dup_fetch, a.no_flag);
		else if (a.bad_vanished || a.vanished.n != st.expunged.n ||
		    memcmp(a.vanished.bit, st.expunged.bit, st.uidnext / 8 + 1) != 0)
			snprintf(why, sizeof(why), "VANISHED (EARLIER) named %" PRIu64 " UIDs in %"
			    PRIu64 " lines (%" PRIu64 " malformed); %" PRIu64 " were expunged%s",
			    a.vanished.n, a.vanished_lines, a.bad_vanished, st.expunged.n,
			    a.vanished.n == st.expunged.n ? ", not the same ones" : "");
		else if (!a.have_exists || a.exists != want_exists)
			snprintf(why, sizeof(why), "%" PRIu64 " EXISTS, expected %" PRIu64,
			    a.exists, want_exists);
		else if (a.uidvalidity != st.uidvalidity || a.modseq <= st.modseq)
			snprintf(why, sizeof(why), "UIDVALIDITY %" PRIu64 " (was %" PRIu64 "), "
			    "HIGHESTMODSEQ %" PRIu64 " (was %" PRIu64 ")", a.uidvalidity,
			    st.uidvalidity, a.modseq, st.modseq);
		if (why[0] != '\0') {
			if (res->errors++ < 5)
				fprintf(stderr, "imapload: %s: resync %ld: %s\n", j->label, k + 1, why);
		}
		if (k == 0) {
			printf("%s: resync: %.2f ms, %" PRIu64 " bytes: %" PRIu64 " FETCH (%" PRIu64
			    " bytes), VANISHED (EARLIER) of %" PRIu64 " UIDs in %" PRIu64 " lines (%"
			    PRIu64 " bytes), %" PRIu64 " EXISTS, HIGHESTMODSEQ %" PRIu64 " -> %" PRIu64
			    "\n", j->label, t / 1e3, c.rbytes - b0, a.fetches, a.fetch_bytes,
			    a.vanished.n, a.vanished_lines, a.vanished_bytes, a.exists, st.modseq,
			    a.modseq);
			snprintf(res->check, sizeof(res->check), "F%" PRIu64 ":V%" PRIu64 ":E%" PRIu64,
			    a.fetched.n, a.vanished.n, a.exists);
		}
		session_close(&c, &r);
		free(a.fetched.bit);
		free(a.vanished.bit);
	}
	qsort(res->lat, res->nlat, sizeof(double), cmp_double);
	free(st.flagged.bit);
	free(st.expunged.bit);
	db_free(&known);
	resp_free(&r);
	return res->errors == 0 ? 0 : 1;
}

/* ---- maildir: Dovecot's maildir written directly --------------------------------- */

/*
 * imapload maildir DIR COUNT [--first N] [--seed N] [--threads]: the
 * messages populate would APPEND, as the files Dovecot's maildir saves
 * for them (mail_save_crlf = no: LF line ends), in DIR/cur: named
 * "<internal date>.M<index>P<index/10^6>.cairnbench,S=<file size>,W=<size
 * with CRLF>:2,<S when \Seen>", modified at the internal date (maildir's
 * received date).  Dovecot sorts new files by the time in their names
 * before it gives them UIDs (maildir_filename_sort_cmp), so message INDEX
 * gets UID INDEX - first + 1 at the first SELECT, as in a fresh store
 * filled by populate.  Nothing is fsynced: run sync(1) after.
 */
static int
cmd_maildir(int argc, char **argv)
{
	struct dbuf msg = { 0 }, lf = { 0 };
	uint64_t first = 0, seed = 1, count, bytes = 0;
	const char *dir;
	char path[4096];
	int curfd;
	double t0 = now();

	argc = take_threads(argc, argv);
	if (argc < 3)
		die("usage: imapload maildir DIR COUNT [--first N] [--seed N] [--threads]");
	dir = argv[1];
	count = strtoull(argv[2], NULL, 10);
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--first") == 0)
			first = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else
			die("maildir: unknown option %s", argv[i]);
	}
	if ((argc - 3) % 2 != 0)
		die("maildir: an option without its value");
	for (const char *sub = ""; sub != NULL; sub = *sub == '\0' ? "cur" :
	    strcmp(sub, "cur") == 0 ? "new" : strcmp(sub, "new") == 0 ? "tmp" : NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			die("mkdir %s: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/cur", dir);
	if ((curfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("%s: %s", path, strerror(errno));
	for (uint64_t i = first; i < first + count; i++) {
		struct plan p;
		struct timespec ts[2];
		char name[256];
		int fd;

		gen_message(seed, i, &msg, &p);
		db_reset(&lf);
		for (size_t k = 0; k < msg.len; k++)
			if (!(msg.p[k] == '\r' && k + 1 < msg.len && msg.p[k + 1] == '\n'))
				db_addc(&lf, msg.p[k]);
		snprintf(name, sizeof(name), "%lld.M%06uP%u.cairnbench,S=%zu,W=%zu:2,%s",
		    (long long)p.date, (unsigned)(i % 1000000), (unsigned)(i / 1000000), lf.len,
		    p.size, p.seen ? "S" : "");
		fd = openat(curfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die("%s/%s: %s", path, name, strerror(errno));
		for (size_t off = 0; off < lf.len;) {
			ssize_t w = write(fd, lf.p + off, lf.len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				die("%s/%s: %s", path, name, strerror(errno));
			off += (size_t)w;
		}
		ts[0].tv_sec = ts[1].tv_sec = p.date;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (futimens(fd, ts) != 0 || close(fd) != 0)
			die("%s/%s: %s", path, name, strerror(errno));
		bytes += lf.len;
	}
	close(curfd);
	printf("maildir: %" PRIu64 " messages, %.1f MB in files (LF), in %.1f s\n", count,
	    (double)bytes / 1e6, now() - t0);
	db_free(&msg);
	db_free(&lf);
	return 0;
}

/* ---- report: merge the saved runs of two servers ------------------------------ */

struct merged {
	const char *name;
	char workload[32];
	long ops, errors, conns;
	uint64_t items, bytes, untagged, dups;
	double elapsed;
	double *lat;
	size_t nlat;
	double pss, rss;     /* per connection, averaged over the runs */
	double pss_end;      /* idle: per session after the APPENDs, likewise */
	double *ser[NSERIES];
	size_t nser[NSERIES];
	int runs;
	char check[128];
	bool check_differs;
	bool mem, idle;
};

static void
merge_spec(const char *spec, struct merged *m)
{
	char *copy = strdup(spec), *eq = strchr(copy, '='), *save = NULL, *f;

	if (copy == NULL || eq == NULL)
		die("report: expected NAME=FILE[,FILE...], not '%s'", spec);
	*eq = '\0';
	memset(m, 0, sizeof(*m));
	m->name = copy;
	for (f = strtok_r(eq + 1, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
		struct result res;

		result_load(&res, f);
		m->mem = strcmp(res.workload, "mem") == 0;
		m->idle = strcmp(res.workload, "idle") == 0;
		snprintf(m->workload, sizeof(m->workload), "%s", res.workload);
		m->ops += res.ops;
		m->errors += res.errors;
		m->items += res.items;
		m->bytes += res.bytes;
		m->untagged += res.untagged;
		m->dups += res.dups;
		m->elapsed += res.elapsed;
		m->lat = xrealloc(m->lat, (m->nlat + res.nlat) * sizeof(double));
		memcpy(m->lat + m->nlat, res.lat, res.nlat * sizeof(double));
		m->nlat += res.nlat;
		if ((m->mem || m->idle) && res.conns > 0) {
			m->conns = res.conns;
			m->pss += (res.pss_after - res.pss_before) / (double)res.conns;
			m->rss += (res.rss_after - res.rss_before) / (double)res.conns;
			m->pss_end += (res.pss_end - res.pss_before) / (double)res.conns;
		}
		for (int k = 0; k < NSERIES; k++) {
			m->ser[k] = xrealloc(m->ser[k], (m->nser[k] + res.nser[k]) * sizeof(double));
			if (res.nser[k] > 0)
				memcpy(m->ser[k] + m->nser[k], res.ser[k], res.nser[k] * sizeof(double));
			m->nser[k] += res.nser[k];
		}
		if (m->runs == 0)
			snprintf(m->check, sizeof(m->check), "%s", res.check);
		else if (strcmp(m->check, res.check) != 0)
			m->check_differs = true;
		m->runs++;
		result_free(&res);
	}
	if (m->runs == 0)
		die("report: no file for %s", m->name);
	if (m->mem || m->idle) {
		m->pss /= m->runs;
		m->rss /= m->runs;
		m->pss_end /= m->runs;
	}
	qsort(m->lat, m->nlat, sizeof(double), cmp_double);
	for (int k = 0; k < NSERIES; k++)
		qsort(m->ser[k], m->nser[k], sizeof(double), cmp_double);
}

static void
merged_free(struct merged *m)
{
	free((char *)m->name);
	free(m->lat);
	for (int k = 0; k < NSERIES; k++)
		free(m->ser[k]);
}

static double
ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

/* "  WHAT: A p50 .. p99 .. max .. | B ... | A/B p50 R p99 R" for sorted v (us) */
static void
report_lat(const char *what, const struct merged *a, const double *va, size_t na,
    const struct merged *b, const double *vb, size_t nb)
{
	printf("%-34s %s:", what, a->name);
	print_pcts(va, na);
	printf(" | %s:", b->name);
	print_pcts(vb, nb);
	/* times from the OK can be negative: no ratio of those */
	if (na > 0 && nb > 0 && va[0] > 0 && vb[0] > 0)
		printf(" | %s/%s p50 %.3f p99 %.3f", a->name, b->name,
		    ratio(percentile(va, na, 50), percentile(vb, nb, 50)),
		    ratio(percentile(va, na, 99), percentile(vb, nb, 99)));
	printf("\n");
}

static void
report_idle(const char *title, const struct merged *a, const struct merged *b)
{
	char what[64];

	printf("%-34s %s %7.0f kB Pss/session (Rss %6.0f; Pss %.0f after the APPENDs) | "
	    "%s %7.0f kB Pss/session (Rss %6.0f; Pss %.0f after) | Pss %s/%s %.2f\n", title,
	    a->name, a->pss, a->rss, a->pss_end, b->name, b->pss, b->rss, b->pss_end,
	    a->name, b->name, ratio(a->pss, b->pss));
	report_lat("  wake-up ms, from APPEND sent", a, a->lat, a->nlat, b, b->lat, b->nlat);
	report_lat("  wake-up ms, from APPEND's OK", a, a->ser[SER_FROM_OK],
	    a->nser[SER_FROM_OK], b, b->ser[SER_FROM_OK], b->nser[SER_FROM_OK]);
	snprintf(what, sizeof(what), "  last of %ld woken, ms", a->conns);
	report_lat(what, a, a->ser[SER_LAST], a->nser[SER_LAST], b, b->ser[SER_LAST],
	    b->nser[SER_LAST]);
	report_lat("  APPEND round trip, ms", a, a->ser[SER_APPEND], a->nser[SER_APPEND], b,
	    b->ser[SER_APPEND], b->nser[SER_APPEND]);
}

static int
report(int argc, char **argv)
{
	struct merged a, b;
	const char *title;
	int status = 0;

	if (argc != 4)
		die("usage: imapload report TITLE A=FILE[,FILE...] B=FILE[,FILE...]");
	title = argv[1];
	merge_spec(argv[2], &a);
	merge_spec(argv[3], &b);
	if (strcmp(a.workload, b.workload) != 0)
		die("report: %s and %s are different workloads", a.name, b.name);
	if (a.idle)
		report_idle(title, &a, &b);
	else if (a.mem) {
		printf("%-34s %s %7.0f kB Pss/conn (Rss %6.0f) | %s %7.0f kB Pss/conn (Rss %6.0f)"
		    " | Pss %s/%s %.2f\n", title, a.name, a.pss, a.rss, b.name, b.pss, b.rss,
		    a.name, b.name, ratio(a.pss, b.pss));
	} else {
		double ra = a.ops / a.elapsed, rb = b.ops / b.elapsed;
		double ma = percentile(a.lat, a.nlat, 50) / 1e3,
		    mb = percentile(b.lat, b.nlat, 50) / 1e3;

		printf("%-34s %s %9.2f/s p50 %8.2f ms p95 %8.2f | %s %9.2f/s p50 %8.2f ms p95 %8.2f"
		    " | %s/%s rate %.2f p50 %.2f\n", title, a.name, ra, ma,
		    percentile(a.lat, a.nlat, 95) / 1e3, b.name, rb, mb,
		    percentile(b.lat, b.nlat, 95) / 1e3, a.name, b.name, ratio(ra, rb),
		    ratio(ma, mb));
	}
	if (strcmp(a.workload, "qresync") == 0)
		printf("%-34s bytes per resync: %s %.0f, %s %.0f\n", "", a.name,
		    (double)a.bytes / (double)a.ops, b.name, (double)b.bytes / (double)b.ops);
	if (strcmp(a.workload, "store") == 0)
		printf("%-34s untagged answers per command: %s %.0f, %s %.0f; repeated FETCH "
		    "answers for the client's own STOREs: %s %" PRIu64 ", %s %" PRIu64 "\n", "",
		    a.name, (double)a.untagged / (double)a.ops, b.name,
		    (double)b.untagged / (double)b.ops, a.name, a.dups, b.name, b.dups);
	if (a.check[0] != '\0' || b.check[0] != '\0') {
		printf("%-34s check: %s %s, %s %s\n", "", a.name, a.check, b.name, b.check);
		if (strcmp(a.check, b.check) != 0 || a.check_differs || b.check_differs) {
			fprintf(stderr, "imapload: %s: the servers' results differ\n", title);
			status = 1;
		}
	}
	if (a.errors + b.errors > 0) {
		fprintf(stderr, "imapload: %s: errors: %s %ld, %s %ld\n", title, a.name,
		    a.errors, b.name, b.errors);
		status = 1;
	}
	merged_free(&a);
	merged_free(&b);
	return status;
}

/* ---- gen and sizes ----------------------------------------------------------- */

static int
cmd_gen(int argc, char **argv)
{
	struct dbuf b = { 0 };

	argc = take_threads(argc, argv);
	if (argc < 2)
		die("usage: imapload gen INDEX [SEED] [--threads]");
	gen_message(argc > 2 ? strtoull(argv[2], NULL, 10) : 1, strtoull(argv[1], NULL, 10),
	    &b, NULL);
	fwrite(b.p, 1, b.len, stdout);
	db_free(&b);
	return 0;
}

static int
cmd_sizes(int argc, char **argv)
{
	uint64_t n, seed, total = 0, large = 0, msub = 0, mbody = 0, mfrom = 0;
	size_t mn = SIZE_MAX, mx = 0;

	argc = take_threads(argc, argv);
	if (argc < 2)
		die("usage: imapload sizes COUNT [SEED] [--threads]");
	n = strtoull(argv[1], NULL, 10);
	seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	for (uint64_t i = 0; i < n; i++) {
		struct plan p;
		struct rng r;

		gen_plan(seed, i, &p, &r);
		total += p.size;
		large += p.large;
		if (gen_threads) {      /* a reply has the subject of its conversation */
			struct plan rp;
			struct rng rr;

			gen_plan(seed, thread_root(seed, i), &rp, &rr);
			msub += rp.mark_subject;
		} else
			msub += p.mark_subject;
		mbody += p.mark_body;
		mfrom += strcmp(first_names[p.first], MARK_FROM) == 0;
		if (p.size < mn)
			mn = p.size;
		if (p.size > mx)
			mx = p.size;
	}
	printf("%" PRIu64 " messages, %.1f MB, mean %.1f KiB, min %zu, max %zu bytes, "
	    "%" PRIu64 " of 100 KiB-1 MiB; subject \"%s\" %" PRIu64 ", body \"%s\" %" PRIu64
	    ", from \"%s\" %" PRIu64 "\n", n, (double)total / 1e6,
	    n ? (double)total / (double)n / 1024 : 0, n ? mn : 0, mx, large, MARK_SUBJECT,
	    msub, MARK_BODY, mbody, MARK_FROM, mfrom);
	if (gen_threads) {
		uint64_t roots = 0, ext = 0, irt = 0, dups = 0, deep = 0, maxd = 0;

		for (uint64_t i = 0; i < n; i++) {
			struct tnode t;

			thread_node(seed, i, &t);
			roots += t.root;
			ext += t.root && t.external;
			irt += !t.root && t.irt_only;
			dups += t.dup;
			deep += t.depth >= 10;
			if (t.depth > maxd)
				maxd = t.depth;
		}
		printf("threads: %" PRIu64 " conversations (%" PRIu64 " replying to a message "
		    "not here), %" PRIu64 " replies (%" PRIu64 " with In-Reply-To only), "
		    "%" PRIu64 " at depth 10 or more, deepest %" PRIu64 "; %" PRIu64
		    " repeated Message-IDs\n", roots, ext, n - roots, irt, deep, maxd, dups);
	}
	return 0;
}

/* ---- load (issue 7): the sessions ceiling and the mixed workload ----------- */

/*
 * sessions: -c N connections, at most --window of them being set up at once
 * (connect, greeting, LOGIN, SELECT INBOX), each a non-blocking socket in one
 * poll loop, so that N may be many thousands.  For each: the accept latency
 * (from just before connect() to the greeting's first byte, as poll sees it)
 * and the time until SELECT's OK.  Then, once all are up (or have failed),
 * the memory of the server's process tree, a NOOP on every session, LOGOUT.
 *
 * mix: -c clients, each a thread and one connection, for --duration
 * seconds, in a loop of a weighted random mix of commands (see mix_ops);
 * every message a client APPENDs is unique, its SHA-256 kept in the client's
 * ledger, and where the workload puts it (the user's shared mailbox, the
 * client's own folder by COPY or MOVE, or nowhere after EXPUNGE) is
 * followed by UID.  At the end every client checks every message of its
 * ledger over IMAP (BODY.PEEK[] and its checksum): none may be missing,
 * extra, or different.
 *
 * Users for both: -u with "%d" and --users U: client i is user (i % U) + 1.
 */

#define LOAD_MAX_ERRMSG 10

static int
load_user_no(const struct job *j, int idx)
{
	return j->users > 0 ? idx % j->users + 1 : idx + 1;
}

static void
sha256_sum(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		die("EVP_Digest failed");
}

/* The sorted microsecond values of one series, as "NAME COUNT" and one a line. */
static void
save_series(FILE *f, const char *name, double *v, size_t n)
{
	fprintf(f, "series %s %zu\n", name, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.1f\n", v[i]);
}

/* ---- sessions ---- */

enum { SS_CONNECT, SS_GREETING, SS_LOGIN, SS_SELECT, SS_READY, SS_FAILED };

struct sess {
	struct conn c;
	int state;
	double t0, t_greet, t_ready, deadline;
};

static void
sess_fail(struct sess *s, long *failed, const char *label, int i, const char *why)
{
	if (*failed < LOAD_MAX_ERRMSG)
		fprintf(stderr, "imapload: %s: session %d: %s\n", label, i + 1, why);
	(*failed)++;
	s->state = SS_FAILED;
	conn_close(&s->c);
}

static int
sess_start(struct sess *s, const struct job *j)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)j->port) };
	int one = 1;

	memset(&s->c, 0, sizeof(s->c));
	s->c.fd = -1;
	if (inet_pton(AF_INET, j->host, &sa.sin_addr) != 1) {
		conn_error(&s->c, "sessions: -H must be an IPv4 address");
		return -1;
	}
	s->t0 = now();
	s->deadline = s->t0 + j->timeout;
	s->c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->c.fd < 0) {
		conn_error(&s->c, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(s->c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->c.cap = 4096;
	s->c.buf = xrealloc(NULL, s->c.cap);
	if (connect(s->c.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		conn_error(&s->c, "connect: %s", strerror(errno));
		return -1;
	}
	s->state = SS_CONNECT;
	return 0;
}

/* The socket is connected: back to blocking reads and writes, with timeouts. */
static int
sess_connected(struct sess *s, const struct job *j)
{
	struct timeval tv = { .tv_sec = j->timeout };
	int err = 0, fl;
	socklen_t len = sizeof(err);

	if (getsockopt(s->c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		conn_error(&s->c, "connect: %s", strerror(err ? err : errno));
		return -1;
	}
	if ((fl = fcntl(s->c.fd, F_GETFL)) < 0 || fcntl(s->c.fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		conn_error(&s->c, "fcntl: %s", strerror(errno));
		return -1;
	}
	setsockopt(s->c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s->c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s->state = SS_GREETING;
	return 0;
}

/* One whole line of s, in its state; -1 when the session failed. */
static int
sess_line(struct sess *s, const struct job *j, int idx, struct resp *r)
{
	size_t tl = strlen(s->c.tag);
	char user[256];

	if (s->state == SS_GREETING) {
		if (strncmp(r->text.p, "* OK", 4) != 0) {
			conn_error(&s->c, "greeting: %.300s", r->text.p);
			return -1;
		}
		expand_name(j->user, load_user_no(j, idx), user, sizeof(user));
		if (send_cmd(&s->c, "LOGIN \"%s\" \"%s\"", user, j->password) != 0)
			return -1;
		s->state = SS_LOGIN;
		return 0;
	}
	if (r->text.p[0] == '*') {
		if (strncmp(r->text.p, "* BYE", 5) == 0) {
			conn_error(&s->c, "%.300s", r->text.p);
			return -1;
		}
		return 0;
	}
	if (strncmp(r->text.p, s->c.tag, tl) != 0 || r->text.p[tl] != ' ') {
		conn_error(&s->c, "unexpected answer: %.300s", r->text.p);
		return -1;
	}
	if (strncmp(r->text.p + tl + 1, "OK", 2) != 0) {
		conn_error(&s->c, "%s: %.300s", s->state == SS_LOGIN ? "LOGIN" : "SELECT",
		    r->text.p);
		return -1;
	}
	if (s->state == SS_LOGIN) {
		if (send_cmd(&s->c, "%s INBOX", j->examine ? "EXAMINE" : "SELECT") != 0)
			return -1;
		s->state = SS_SELECT;
		return 0;
	}
	s->t_ready = now();
	s->state = SS_READY;
	return 0;
}

static int
run_sessions(struct job *j, struct result *res)
{
	int n = j->clients, window = j->window, started = 0, busy = 0, first_busy = 0;
	struct sess *ss = calloc((size_t)n, sizeof(*ss));
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
	int *owner = calloc((size_t)n, sizeof(*owner));
	double *acc = xrealloc(NULL, (size_t)n * sizeof(double));
	double *ready = xrealloc(NULL, (size_t)n * sizeof(double));
	size_t nacc = 0, nready = 0;
	long failed = 0, noop_failed = 0;
	struct resp r = { 0 };
	struct memsum before, after;
	double t0, t_all = 0;
	FILE *f;

	if (ss == NULL || pfd == NULL || owner == NULL)
		die("out of memory");
	idle_fd_limit(n);
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "sessions");
	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &before);
	if (before.procs == 0)
		die("no process %d", j->server_pid);
	t0 = now();
	/* after --max-failures failures no new session is started */
	while ((started < n && failed < j->max_failures) || busy > 0) {
		int np = 0, rc;
		double t;

		while (started < n && busy < window && failed < j->max_failures) {
			struct sess *s = &ss[started];

			if (sess_start(s, j) != 0)
				sess_fail(s, &failed, j->label, started, s->c.err);
			else
				busy++;
			started++;
		}
		/* sessions get ready in about the order they started */
		while (first_busy < started && ss[first_busy].state >= SS_READY)
			first_busy++;
		for (int i = first_busy; i < started; i++) {
			if (ss[i].state >= SS_READY)
				continue;
			pfd[np].fd = ss[i].c.fd;
			pfd[np].events = ss[i].state == SS_CONNECT ? POLLOUT : POLLIN;
			owner[np++] = i;
		}
		if (np == 0)
			continue;
		rc = poll(pfd, (nfds_t)np, 100);
		if (rc < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		t = now();
		for (int k = 0; k < np; k++) {
			struct sess *s = &ss[owner[k]];
			int i = owner[k];

			if (pfd[k].revents == 0) {
				if (t > s->deadline) {
					sess_fail(s, &failed, j->label, i, "timed out");
					busy--;
				}
				continue;
			}
			if (s->state == SS_CONNECT) {
				if (sess_connected(s, j) != 0) {
					sess_fail(s, &failed, j->label, i, s->c.err);
					busy--;
				}
				continue;
			}
			if (s->state == SS_GREETING && s->t_greet == 0) {
				s->t_greet = t;
				acc[nacc++] = (t - s->t0) * 1e6;
			}
			if (conn_fill(&s->c) != 0) {
				sess_fail(s, &failed, j->label, i, s->c.err);
				busy--;
				continue;
			}
			while (s->state < SS_READY &&
			    memchr(s->c.buf + s->c.off, '\n', s->c.len - s->c.off) != NULL) {
				if (read_resp(&s->c, &r, false) != 0 ||
				    sess_line(s, j, i, &r) != 0) {
					sess_fail(s, &failed, j->label, i, s->c.err);
					break;
				}
			}
			if (s->state >= SS_READY) {
				busy--;
				if (s->state == SS_READY) {
					ready[nready++] = (s->t_ready - s->t0) * 1e6;
					t_all = s->t_ready;
				}
			}
		}
	}
	res->elapsed = t_all > t0 ? t_all - t0 : 0;
	printf("%s: %zu of %d sessions up after %.2f s, %ld failed\n", j->label, nready, n,
	    res->elapsed, failed);
	sleep((unsigned)j->settle);
	mem_tree(j->server_pid, &after);
	/* every session still answers? */
	for (int i = 0; i < started; i++)
		if (ss[i].state == SS_READY && send_cmd(&ss[i].c, "NOOP") != 0) {
			if (noop_failed++ < LOAD_MAX_ERRMSG)
				fprintf(stderr, "imapload: %s: session %d: NOOP: %s\n", j->label,
				    i + 1, ss[i].c.err);
			ss[i].state = SS_FAILED;
		}
	for (int i = 0; i < started; i++)
		if (ss[i].state == SS_READY &&
		    wait_tagged(&ss[i].c, &r, false, NULL, NULL) != CMD_OK) {
			if (noop_failed++ < LOAD_MAX_ERRMSG)
				fprintf(stderr, "imapload: %s: session %d: NOOP: %s\n", j->label,
				    i + 1, ss[i].c.err);
			ss[i].state = SS_FAILED;
		}
	for (int i = 0; i < started; i++)
		if (ss[i].state == SS_READY)
			(void)send_cmd(&ss[i].c, "LOGOUT");
	for (int i = 0; i < started; i++) {
		if (ss[i].state == SS_READY)
			(void)wait_tagged(&ss[i].c, &r, false, NULL, NULL);
		conn_close(&ss[i].c);
	}
	qsort(acc, nacc, sizeof(double), cmp_double);
	qsort(ready, nready, sizeof(double), cmp_double);
	res->clients = n;
	res->conns = (long)nready;
	res->ops = (long)nready;
	res->errors = failed + noop_failed;
	res->pss_before = before.pss;
	res->pss_after = after.pss;
	res->rss_before = before.rss;
	res->rss_after = after.rss;
	res->procs_before = before.procs;
	res->procs_after = after.procs;
	printf("%s: memory with %zu sessions: Pss %.0f -> %.0f kB (%.1f kB per session), "
	    "Rss %.0f -> %.0f kB, processes %ld -> %ld (%s)\n", j->label, nready, before.pss,
	    after.pss, nready ? (after.pss - before.pss) / (double)nready : 0, before.rss,
	    after.rss, before.procs, after.procs, after.names);
	printf("%s: accept latency (connect to greeting) ms:", j->label);
	print_pcts(acc, nacc);
	printf("; connect to SELECT's OK ms:");
	print_pcts(ready, nready);
	printf("; NOOP failures %ld\n", noop_failed);
	if (j->save != NULL) {
		if ((f = fopen(j->save, "w")) == NULL)
			die("%s: %s", j->save, strerror(errno));
		fprintf(f, "sessions %d\nup %zu\nfailed %ld\nnoop_failed %ld\nelapsed %.6f\n"
		    "pss_before %.0f\npss_after %.0f\nrss_before %.0f\nrss_after %.0f\n"
		    "procs_before %ld\nprocs_after %ld\n", n, nready, failed, noop_failed,
		    res->elapsed, before.pss, after.pss, before.rss, after.rss, before.procs,
		    after.procs);
		save_series(f, "accept", acc, nacc);
		save_series(f, "ready", ready, nready);
		if (fclose(f) != 0)
			die("%s: %s", j->save, strerror(errno));
	}
	resp_free(&r);
	free(ss);
	free(pfd);
	free(owner);
	free(acc);
	free(ready);
	return failed + noop_failed == 0 ? 0 : 1;
}

/* ---- mix ---- */

enum mix_op {
	OP_NOOP, OP_SELECT, OP_EXAMINE, OP_FETCH_FLAGS, OP_FETCH_HDR, OP_FETCH_BODY,
	OP_SEARCH, OP_STORE, OP_APPEND, OP_COPY, OP_MOVE, OP_EXPUNGE, OP_IDLE,
	OP_RECONNECT, NOPS
};
static const char *const mix_op_names[NOPS] = {
	"NOOP", "SELECT", "EXAMINE", "FETCH-FLAGS", "FETCH-HEADERS", "FETCH-BODY", "SEARCH",
	"STORE", "APPEND", "COPY", "MOVE", "EXPUNGE", "IDLE", "LOGOUT+LOGIN",
};
/* weights in percent: reads most, writes a third, a reconnect now and then;
 * IDLE is short and rare, or its wait would be most of every client's time */
static const int mix_weights[NOPS] = {
	11, 5, 3, 12, 12, 12, 8, 12, 10, 4, 4, 4, 2, 1,
};

struct ledger_msg {
	unsigned char sum[32];
	size_t size;
};

/* One of the client's own messages in the shared mailbox. */
struct own {
	uint32_t uid;
	uint32_t seq;            /* index in the ledger */
};

struct dseries {
	double *v;
	size_t n, cap;
};

static void
ds_add(struct dseries *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof(double));
	}
	s->v[s->n++] = x;
}

struct mixer {
	struct job *j;
	int idx;
	pthread_t thread;
	struct conn c;
	struct resp r;
	struct rng rng;
	char user[256], shared[128], folder[128];
	uint32_t exists;         /* of the selected mailbox, from EXISTS and EXPUNGE */
	bool in_shared;          /* the shared mailbox is selected read-write */
	/* the ledger: every message appended, by its number */
	struct ledger_msg *led;
	size_t nled, capled;
	struct own *own;         /* own messages in the shared mailbox */
	size_t nown, capown;
	uint32_t *folder_seqs;   /* ledger numbers expected in the folder */
	size_t nfold, capfold;
	long expunged;
	/* counters */
	struct dseries lat[NOPS];
	struct dseries accept;
	long errors, expected_no, malformed;
	bool failed;
	/* per-command scratch for the untagged handler */
	uint32_t want_uid;
	unsigned char got_sum[32];
	long got, got_bad;
	bool collect;            /* verify: keep every literal's sum */
	unsigned char (*sums)[32];
	uint32_t *sum_uids;
	size_t nsums, capsums;
	uint32_t *found;         /* SEARCH results */
	size_t nfound, capfound;
	/* the result of the check */
	long v_expected, v_found, v_missing, v_extra, v_corrupt;
};

static void
mix_error(struct mixer *m, const char *fmt, ...)
{
	va_list ap;

	if (m->errors++ < LOAD_MAX_ERRMSG) {
		fprintf(stderr, "imapload: %s: client %d: ", m->j->label, m->idx + 1);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* "UID n" in a FETCH response's text, 0 when absent */
static uint32_t
fetch_uid(const char *p)
{
	const char *u = strstr(p, "UID ");

	return u != NULL ? (uint32_t)strtoul(u + 4, NULL, 10) : 0;
}

/* Every untagged answer during the mixed workload: checked and followed. */
static void
on_mix(const struct resp *r, void *arg)
{
	struct mixer *m = arg;
	const char *w;
	uint32_t n;

	if (r->text.p[0] != '*' || r->text.p[1] != ' ') {
		m->malformed++;
		mix_error(m, "malformed answer: %.200s", r->text.p);
		return;
	}
	if (untagged_number(r, &n, &w)) {
		if (word_is(w, "EXISTS"))
			m->exists = n;
		else if (word_is(w, "EXPUNGE")) {
			if (n == 0 || n > m->exists) {
				m->malformed++;
				mix_error(m, "EXPUNGE %u with %u messages", n, m->exists);
			} else
				m->exists--;
		} else if (word_is(w, "FETCH")) {
			if (n == 0 || n > m->exists) {
				m->malformed++;
				mix_error(m, "FETCH of message %u with %u messages: %.200s", n,
				    m->exists, r->text.p);
			}
			if (r->nlit == 1 && (m->collect || m->want_uid != 0)) {
				unsigned char sum[32];

				sha256_sum(r->lit.p != NULL ? r->lit.p : "", r->lit.len, sum);
				if (m->collect) {
					if (m->nsums == m->capsums) {
						m->capsums = m->capsums ? m->capsums * 2 : 256;
						m->sums = xrealloc(m->sums, m->capsums * 32);
						m->sum_uids = xrealloc(m->sum_uids,
						    m->capsums * sizeof(uint32_t));
					}
					memcpy(m->sums[m->nsums], sum, 32);
					m->sum_uids[m->nsums++] = fetch_uid(r->text.p);
				} else if (fetch_uid(r->text.p) == m->want_uid) {
					memcpy(m->got_sum, sum, 32);
					m->got++;
				}
			}
		}
		return;
	}
	if (strncmp(r->text.p, "* SEARCH", 8) == 0) {
		const char *p = r->text.p + 8;

		m->nfound = 0;
		while (*p == ' ') {
			char *end;
			unsigned long v = strtoul(p + 1, &end, 10);

			if (end == p + 1)
				break;
			if (m->nfound == m->capfound) {
				m->capfound = m->capfound ? m->capfound * 2 : 256;
				m->found = xrealloc(m->found, m->capfound * sizeof(uint32_t));
			}
			m->found[m->nfound++] = (uint32_t)v;
			p = end;
		}
	}
}

/* Send the command, read up to its tagged answer; errors counted here. */
static int
mix_cmd(struct mixer *m, const char *fmt, ...)
{
	struct dbuf b = { 0 };
	va_list ap;
	int rc;
	size_t tl;

	db_printf(&b, "%s ", conn_next_tag(&m->c));
	va_start(ap, fmt);
	{
		int n = vsnprintf(NULL, 0, fmt, ap);

		va_end(ap);
		db_reserve(&b, (size_t)n + 2);
		va_start(ap, fmt);
		vsnprintf(b.p + b.len, (size_t)n + 1, fmt, ap);
		b.len += (size_t)n;
	}
	va_end(ap);
	db_add(&b, "\r\n", 2);
	rc = conn_write(&m->c, b.p, b.len) != 0 ? CMD_IO : CMD_OK;
	if (rc == CMD_OK)
		rc = wait_tagged(&m->c, &m->r, m->collect || m->want_uid != 0, on_mix, m);
	tl = strlen(m->c.tag);
	if (rc == CMD_FAILED && strncmp(m->c.err + tl, " NO [EXPUNGEISSUED]", 19) == 0) {
		/* RFC 5530: a message another session expunged; allowed */
		m->expected_no++;
		rc = CMD_OK;
	} else if (rc == CMD_FAILED)
		mix_error(m, "%.60s: %s", b.p + tl + 1, m->c.err);
	else if (rc == CMD_IO) {
		mix_error(m, "%.60s: %s", b.p + tl + 1, m->c.err);
		m->failed = true;
	}
	db_free(&b);
	return rc;
}

/* Connect, and the accept latency: connect() to the greeting's first byte. */
static int
mix_connect(struct mixer *m, bool timed)
{
	struct job *j = m->j;
	struct pollfd p;
	double t0 = now();

	if (conn_open(&m->c, j->host, j->port, j->tls, j->timeout) != 0)
		goto fail;
	p.fd = m->c.fd;
	p.events = POLLIN;
	if (m->c.ssl == NULL && poll(&p, 1, j->timeout * 1000) != 1) {
		conn_error(&m->c, "no greeting");
		goto fail;
	}
	if (timed)
		ds_add(&m->accept, (now() - t0) * 1e6);
	if (read_resp(&m->c, &m->r, false) != 0)
		goto fail;
	if (strncmp(m->r.text.p, "* OK", 4) != 0) {
		conn_error(&m->c, "greeting: %.300s", m->r.text.p);
		goto fail;
	}
	if (mix_cmd(m, "LOGIN \"%s\" \"%s\"", m->user, j->password) != CMD_OK)
		return -1;
	return 0;
fail:
	mix_error(m, "connect: %s", m->c.err);
	m->failed = true;
	return -1;
}

static int
mix_select_shared(struct mixer *m)
{
	m->exists = 0;
	m->in_shared = false;
	if (mix_cmd(m, "SELECT \"%s\"", m->shared) != CMD_OK)
		return -1;
	m->in_shared = true;
	return 0;
}

static void
mix_logout(struct mixer *m)
{
	if (send_cmd(&m->c, "LOGOUT") == 0)
		for (;;) {
			size_t tl = strlen(m->c.tag);

			if (read_resp(&m->c, &m->r, false) != 0)
				break;
			if (strncmp(m->r.text.p, m->c.tag, tl) == 0)
				break;
		}
	conn_close(&m->c);
}

/* A unique message: its X-Load-Id and Message-ID name the run, client and number. */
static void
mix_message(struct mixer *m, uint32_t seq, struct dbuf *out)
{
	struct rng r = { mix64(m->j->seed ^ mix64((uint64_t)m->idx << 32 | seq)) };
	char date[64];

	db_reset(out);
	gen_date(time(NULL), false, date, sizeof(date));
	db_printf(out, "From: Load Client %d <client%d@load.invalid>\r\n"
	    "To: %s <%s@load.invalid>\r\nSubject: load %s client %d message %u %s %s\r\n"
	    "Date: %s\r\nMessage-ID: <%s.%d.%u@load.invalid>\r\n"
	    "X-Load-Id: %s-c%d-m%u\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n", m->idx + 1, m->idx + 1,
	    m->user, m->user, m->j->run, m->idx + 1, seq, words[rng_below(&r, 96)],
	    words[rng_below(&r, 96)], date, m->j->run, m->idx + 1, seq, m->j->run,
	    m->idx + 1, seq);
	gen_text(&r, 512 + rng_below(&r, 7680), false, out);
}

static void
mix_append(struct mixer *m, struct dbuf *scratch)
{
	uint32_t seq = (uint32_t)m->nled;
	struct dbuf cmd = { 0 };
	const char *ok, *sp;
	size_t tl;
	int rc;

	mix_message(m, seq, scratch);
	if (m->nled == m->capled) {
		m->capled = m->capled ? m->capled * 2 : 256;
		m->led = xrealloc(m->led, m->capled * sizeof(*m->led));
	}
	sha256_sum(scratch->p, scratch->len, m->led[seq].sum);
	m->led[seq].size = scratch->len;
	m->nled++;
	db_printf(&cmd, "%s APPEND \"%s\" (%s) {%zu+}\r\n", conn_next_tag(&m->c), m->shared,
	    rng_below(&m->rng, 3) == 0 ? "\\Seen" : "", scratch->len);
	db_add(&cmd, scratch->p, scratch->len);
	db_add(&cmd, "\r\n", 2);
	rc = conn_write(&m->c, cmd.p, cmd.len) != 0 ? CMD_IO : CMD_OK;
	db_free(&cmd);
	if (rc == CMD_OK)
		rc = wait_tagged(&m->c, &m->r, false, on_mix, m);
	if (rc != CMD_OK) {
		mix_error(m, "APPEND: %s", m->c.err);
		m->failed = m->failed || rc == CMD_IO;
		return;
	}
	/* "TAG OK [APPENDUID validity uid]" (RFC 4315 §3) */
	tl = strlen(m->c.tag);
	ok = m->r.text.p + tl;
	if (strncmp(ok, " OK [APPENDUID ", 15) != 0 || (sp = strchr(ok + 15, ' ')) == NULL) {
		mix_error(m, "APPEND: no APPENDUID: %.200s", m->r.text.p);
		return;
	}
	if (m->nown == m->capown) {
		m->capown = m->capown ? m->capown * 2 : 256;
		m->own = xrealloc(m->own, m->capown * sizeof(*m->own));
	}
	m->own[m->nown].uid = (uint32_t)strtoul(sp + 1, NULL, 10);
	m->own[m->nown++].seq = seq;
}

static void
mix_folder_add(struct mixer *m, uint32_t seq)
{
	if (m->nfold == m->capfold) {
		m->capfold = m->capfold ? m->capfold * 2 : 256;
		m->folder_seqs = xrealloc(m->folder_seqs, m->capfold * sizeof(uint32_t));
	}
	m->folder_seqs[m->nfold++] = seq;
}

/* Take own message k out of the list (MOVE, EXPUNGE). */
static void
mix_own_drop(struct mixer *m, size_t k)
{
	m->own[k] = m->own[--m->nown];
}

static void
mix_idle(struct mixer *m)
{
	struct pollfd p = { .fd = m->c.fd, .events = POLLIN };
	size_t tl;
	double end;

	if (send_cmd(&m->c, "IDLE") != 0) {
		mix_error(m, "IDLE: %s", m->c.err);
		m->failed = true;
		return;
	}
	tl = strlen(m->c.tag);
	for (;;) {
		if (read_resp(&m->c, &m->r, false) != 0) {
			mix_error(m, "IDLE: %s", m->c.err);
			m->failed = true;
			return;
		}
		if (m->r.text.p[0] == '+')
			break;
		if (strncmp(m->r.text.p, m->c.tag, tl) == 0) {
			mix_error(m, "IDLE: %.200s", m->r.text.p);
			return;
		}
		on_mix(&m->r, m);
	}
	/* listen for up to 50 ms: other clients of the user append and expunge */
	end = now() + 0.05;
	for (double t = now(); t < end; t = now()) {
		if (m->c.off == m->c.len && poll(&p, 1, (int)((end - t) * 1000) + 1) != 1)
			break;
		if (read_resp(&m->c, &m->r, false) != 0) {
			mix_error(m, "IDLE: %s", m->c.err);
			m->failed = true;
			return;
		}
		on_mix(&m->r, m);
	}
	if (conn_write(&m->c, "DONE\r\n", 6) != 0 ||
	    wait_tagged(&m->c, &m->r, false, on_mix, m) != CMD_OK) {
		mix_error(m, "IDLE: DONE: %s", m->c.err);
		m->failed = true;
	}
}

static enum mix_op
mix_pick(struct mixer *m)
{
	int x = (int)rng_below(&m->rng, 100);

	for (int op = 0; op < NOPS; op++) {
		if (x < mix_weights[op])
			return (enum mix_op)op;
		x -= mix_weights[op];
	}
	return OP_NOOP;
}

/* One operation; its latency is recorded by the caller. */
static void
mix_one(struct mixer *m, enum mix_op op, struct dbuf *scratch)
{
	size_t k = m->nown > 0 ? (size_t)rng_below(&m->rng, m->nown) : 0;
	uint32_t lo;

	switch (op) {
	case OP_NOOP:
		mix_cmd(m, "NOOP");
		break;
	case OP_SELECT:
		mix_select_shared(m);
		break;
	case OP_EXAMINE:
		/* the own folder, read-only, and its flags; then back (see mix_run) */
		m->in_shared = false;
		m->exists = 0;
		if (mix_cmd(m, "EXAMINE \"%s\"", m->folder) == CMD_OK && m->exists > 0)
			mix_cmd(m, "FETCH 1:* (UID FLAGS)");
		break;
	case OP_FETCH_FLAGS:
		if (m->exists == 0) {
			mix_cmd(m, "NOOP");
			break;
		}
		/* what a client asks after a resync: the flags of the newest 100 */
		lo = m->exists > 100 ? m->exists - 99 : 1;
		mix_cmd(m, "FETCH %u:* (UID FLAGS)", lo);
		break;
	case OP_FETCH_HDR:
		if (m->exists == 0) {
			mix_cmd(m, "NOOP");
			break;
		}
		/* a message list: headers of 20 at a random place */
		lo = 1 + (uint32_t)rng_below(&m->rng, m->exists > 20 ? m->exists - 19 : 1);
		mix_cmd(m, "FETCH %u:%u (UID FLAGS RFC822.SIZE INTERNALDATE "
		    "BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)])", lo,
		    lo + 19 < m->exists ? lo + 19 : m->exists);
		break;
	case OP_FETCH_BODY:
		/* one of the client's own, checked against the ledger */
		m->want_uid = m->own[k].uid;
		m->got = 0;
		if (mix_cmd(m, "UID FETCH %u (UID BODY.PEEK[])", m->want_uid) == CMD_OK) {
			if (m->got != 1)
				mix_error(m, "UID FETCH %u: %ld bodies", m->want_uid, m->got);
			else if (memcmp(m->got_sum, m->led[m->own[k].seq].sum, 32) != 0)
				mix_error(m, "UID FETCH %u: the body differs from the one appended",
				    m->want_uid);
		}
		m->want_uid = 0;
		break;
	case OP_SEARCH:
		/* the client's own messages by a header of theirs: exactly those */
		m->nfound = 0;
		if (mix_cmd(m, "UID SEARCH HEADER X-Load-Id \"%s-c%d-\"", m->j->run,
		    m->idx + 1) == CMD_OK && m->nfound != m->nown)
			mix_error(m, "UID SEARCH HEADER X-Load-Id: %zu found, %zu expected",
			    m->nfound, m->nown);
		break;
	case OP_STORE:
		mix_cmd(m, "UID STORE %u %cFLAGS (%s)", m->own[k].uid,
		    rng_below(&m->rng, 2) ? '+' : '-',
		    rng_below(&m->rng, 2) ? "\\Flagged" : "\\Seen \\Answered");
		break;
	case OP_APPEND:
		mix_append(m, scratch);
		break;
	case OP_COPY:
		if (mix_cmd(m, "UID COPY %u \"%s\"", m->own[k].uid, m->folder) == CMD_OK)
			mix_folder_add(m, m->own[k].seq);
		break;
	case OP_MOVE:
		if (mix_cmd(m, "UID MOVE %u \"%s\"", m->own[k].uid, m->folder) == CMD_OK) {
			mix_folder_add(m, m->own[k].seq);
			mix_own_drop(m, k);
		}
		break;
	case OP_EXPUNGE:
		/* \Deleted is only ever set on a message about to go: another
		 * client's EXPUNGE may take it first, with the same outcome */
		if (mix_cmd(m, "UID STORE %u +FLAGS.SILENT (\\Deleted)", m->own[k].uid) == CMD_OK &&
		    mix_cmd(m, "EXPUNGE") == CMD_OK) {
			mix_own_drop(m, k);
			m->expunged++;
		}
		break;
	case OP_IDLE:
		mix_idle(m);
		break;
	case OP_RECONNECT:
		mix_logout(m);
		if (mix_connect(m, true) == 0)
			mix_select_shared(m);
		break;
	default:
		break;
	}
}

/* Sorts 32-byte sums. */
static int
cmp_sum(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/*
 * The check at the end: every message of the ledger where the workload
 * left it, with the checksum it was appended with.
 */
static void
mix_verify(struct mixer *m)
{
	unsigned char (*want)[32];
	size_t i, a, b;

	m->v_expected = (long)(m->nown + m->nfold);
	/* the shared mailbox: each own UID, once, with its sum */
	if (!m->in_shared && mix_select_shared(m) != 0)
		return;
	for (i = 0; i < m->nown; i++) {
		m->want_uid = m->own[i].uid;
		m->got = 0;
		if (mix_cmd(m, "UID FETCH %u (UID BODY.PEEK[])", m->want_uid) != CMD_OK)
			return;
		if (m->got == 0)
			m->v_missing++;
		else if (memcmp(m->got_sum, m->led[m->own[i].seq].sum, 32) != 0)
			m->v_corrupt++;
		else
			m->v_found++;
	}
	m->want_uid = 0;
	m->nfound = 0;
	if (mix_cmd(m, "UID SEARCH HEADER X-Load-Id \"%s-c%d-\"", m->j->run, m->idx + 1) !=
	    CMD_OK)
		return;
	if (m->nfound > m->nown)
		m->v_extra += (long)(m->nfound - m->nown);
	/* the folder: the multiset of sums must be the one expected */
	m->exists = 0;
	if (mix_cmd(m, "EXAMINE \"%s\"", m->folder) != CMD_OK)
		return;
	m->in_shared = false;
	m->collect = true;
	m->nsums = 0;
	if (m->exists > 0 && mix_cmd(m, "FETCH 1:* (UID BODY.PEEK[])") != CMD_OK) {
		m->collect = false;
		return;
	}
	m->collect = false;
	want = xrealloc(NULL, (m->nfold + 1) * 32);
	for (i = 0; i < m->nfold; i++)
		memcpy(want[i], m->led[m->folder_seqs[i]].sum, 32);
	qsort(want, m->nfold, 32, cmp_sum);
	qsort(m->sums, m->nsums, 32, cmp_sum);
	for (a = b = 0; a < m->nfold || b < m->nsums;) {
		int c = a == m->nfold ? 1 : b == m->nsums ? -1 : memcmp(want[a], m->sums[b], 32);

		if (c == 0) {
			m->v_found++;
			a++;
			b++;
		} else if (c < 0) {
			m->v_missing++;
			a++;
		} else {
			m->v_extra++;    /* or changed: a sum nothing was appended with */
			b++;
		}
	}
	free(want);
}

static pthread_barrier_t mix_barrier;

static void *
mix_main(void *arg)
{
	struct mixer *m = arg;
	struct job *j = m->j;
	struct dbuf scratch = { 0 };
	double end;

	m->rng.s = mix64(j->seed ^ mix64((uint64_t)m->idx + 1) ^ mix64(j->first + 99));
	expand_name(j->user, load_user_no(j, m->idx), m->user, sizeof(m->user));
	snprintf(m->shared, sizeof(m->shared), "load-%s", j->run);
	snprintf(m->folder, sizeof(m->folder), "load-%s-c%d", j->run, m->idx + 1);
	/* the first client of each user creates the shared mailbox; nothing
	 * else may get NO anywhere */
	if (mix_connect(m, false) == 0 && m->idx < j->users)
		mix_cmd(m, "CREATE \"%s\"", m->shared);
	pthread_barrier_wait(&mix_barrier);
	if (!m->failed && mix_cmd(m, "CREATE \"%s\"", m->folder) == CMD_OK)
		mix_select_shared(m);
	pthread_barrier_wait(&mix_barrier);
	end = now() + j->duration;
	while (!m->failed && now() < end) {
		enum mix_op op = mix_pick(m);
		double t;

		if (!m->in_shared) {
			/* back from EXAMINE or a failed SELECT: a SELECT as well */
			t = now();
			if (mix_select_shared(m) != 0)
				break;
			ds_add(&m->lat[OP_SELECT], (now() - t) * 1e6);
		}
		/* work on own messages needs one: append first */
		if (m->nown == 0 && (op == OP_FETCH_BODY || op == OP_STORE || op == OP_COPY ||
		    op == OP_MOVE || op == OP_EXPUNGE))
			op = OP_APPEND;
		t = now();
		mix_one(m, op, &scratch);
		ds_add(&m->lat[op], (now() - t) * 1e6);
	}
	pthread_barrier_wait(&mix_barrier);
	/* the check, on a connection of its own if the last one failed */
	if (m->failed) {
		conn_close(&m->c);
		m->failed = false;
		if (mix_connect(m, false) != 0)
			goto out;
		m->in_shared = false;
	}
	mix_verify(m);
	mix_logout(m);
out:
	db_free(&scratch);
	resp_free(&m->r);
	return NULL;
}

static int
run_mix(struct job *j, struct result *res)
{
	int n = j->clients;
	struct mixer *ms = calloc((size_t)n, sizeof(*ms));
	struct dseries all[NOPS] = { 0 }, acc = { 0 };
	long errors = 0, expected_no = 0, malformed = 0, ops = 0;
	long v_exp = 0, v_found = 0, v_miss = 0, v_extra = 0, v_corrupt = 0, appended = 0;
	long expunged = 0;
	double t0;
	FILE *f = NULL;

	if (ms == NULL)
		die("out of memory");
	if (j->users < 1 || j->users > n)
		die("mix: --users must be from 1 to -c");
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", j->label);
	snprintf(res->workload, sizeof(res->workload), "mix");
	if (pthread_barrier_init(&mix_barrier, NULL, (unsigned)n + 1) != 0)
		die("pthread_barrier_init failed");
	for (int i = 0; i < n; i++) {
		pthread_attr_t attr;

		ms[i].j = j;
		ms[i].idx = i;
		ms[i].c.fd = -1;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&ms[i].thread, &attr, mix_main, &ms[i]) != 0)
			die("pthread_create failed");
		pthread_attr_destroy(&attr);
	}
	pthread_barrier_wait(&mix_barrier);
	pthread_barrier_wait(&mix_barrier);
	t0 = now();
	pthread_barrier_wait(&mix_barrier);
	res->elapsed = now() - t0;
	for (int i = 0; i < n; i++)
		pthread_join(ms[i].thread, NULL);
	for (int i = 0; i < n; i++) {
		struct mixer *m = &ms[i];

		for (int op = 0; op < NOPS; op++) {
			for (size_t k = 0; k < m->lat[op].n; k++)
				ds_add(&all[op], m->lat[op].v[k]);
			ops += (long)m->lat[op].n;
			free(m->lat[op].v);
		}
		for (size_t k = 0; k < m->accept.n; k++)
			ds_add(&acc, m->accept.v[k]);
		errors += m->errors;
		expected_no += m->expected_no;
		malformed += m->malformed;
		v_exp += m->v_expected;
		v_found += m->v_found;
		v_miss += m->v_missing;
		v_extra += m->v_extra;
		v_corrupt += m->v_corrupt;
		appended += (long)m->nled;
		expunged += m->expunged;
		free(m->accept.v);
		free(m->led);
		free(m->own);
		free(m->folder_seqs);
		free(m->sums);
		free(m->sum_uids);
		free(m->found);
	}
	res->ops = ops;
	res->clients = n;
	res->errors = errors + v_miss + v_extra + v_corrupt;
	printf("%s: mix, %d clients of %d users, %.1f s: %ld commands, %.1f/s; protocol errors "
	    "%ld (malformed %ld), NO [EXPUNGEISSUED] %ld (allowed)\n", j->label, n, j->users,
	    res->elapsed, ops, (double)ops / res->elapsed, errors, malformed, expected_no);
	printf("%s: messages appended %ld, expunged %ld; checked at the end: %ld expected "
	    "where the workload left them, %ld found intact, %ld missing, %ld extra, %ld "
	    "changed\n", j->label, appended, expunged, v_exp, v_found, v_miss, v_extra,
	    v_corrupt);
	if (j->save != NULL && (f = fopen(j->save, "w")) == NULL)
		die("%s: %s", j->save, strerror(errno));
	if (f != NULL)
		fprintf(f, "elapsed %.6f\nclients %d\nusers %d\nops %ld\nerrors %ld\n"
		    "malformed %ld\nexpected_no %ld\nappended %ld\nexpunged %ld\n"
		    "v_expected %ld\nv_found %ld\nv_missing %ld\nv_extra %ld\nv_changed %ld\n",
		    res->elapsed, n, j->users, ops, errors, malformed, expected_no, appended,
		    expunged, v_exp, v_found, v_miss, v_extra, v_corrupt);
	for (int op = 0; op < NOPS; op++) {
		qsort(all[op].v, all[op].n, sizeof(double), cmp_double);
		printf("%s:   %-14s %7zu  %8.1f/s ", j->label, mix_op_names[op], all[op].n,
		    (double)all[op].n / res->elapsed);
		print_pcts(all[op].v, all[op].n);
		printf("\n");
		if (f != NULL)
			save_series(f, mix_op_names[op], all[op].v, all[op].n);
		free(all[op].v);
	}
	qsort(acc.v, acc.n, sizeof(double), cmp_double);
	printf("%s: accept latency (connect to greeting, %zu reconnects) ms:", j->label, acc.n);
	print_pcts(acc.v, acc.n);
	printf("\n");
	if (f != NULL) {
		save_series(f, "accept", acc.v, acc.n);
		if (fclose(f) != 0)
			die("%s: %s", j->save, strerror(errno));
	}
	free(acc.v);
	pthread_barrier_destroy(&mix_barrier);
	free(ms);
	return res->errors == 0 ? 0 : 1;
}

/* ---- main --------------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: imapload WORKLOAD -p PORT -u USER [options]\n"
	    "       imapload report TITLE A=FILE[,FILE...] B=FILE[,FILE...]\n"
	    "       imapload gen INDEX [SEED] | imapload sizes COUNT [SEED]\n"
	    "workloads: append populate select fetch-flags fetch-body search store mem idle\n"
	    "  sessions mix (and sort qresync-prep qresync)\n"
	    "options: -H HOST (127.0.0.1) -p PORT --tls -u USER (%%d: client number)\n"
	    "  -m MAILBOX (INBOX; %%d too) -c CLIENTS (1) -n COUNT (operations in all)\n"
	    "  --first N (generator index of the first message appended, 0)\n"
	    "  --seed N (1) --gen-first N (generator index of message 1, 0)\n"
	    "  --search KEYS --range N --range-base N --expect-exists N\n"
	    "  --window N (populate: commands in flight, 32) --verify --create\n"
	    "  --server-pid PID --settle SECONDS (mem, idle: 3) --timeout SECONDS (1800)\n"
	    "  --pause MS (idle: between APPENDs, 1000) --examine (EXAMINE, not SELECT)\n"
	    "  --label NAME --save FILE\n"
	    "  --users U (sessions, mix: client i is user i %% U + 1) --run NAME (mix)\n"
	    "  --duration SECONDS (mix: 60) --max-failures N (sessions: 20)\n"
	    "environment: IMAPLOAD_PASSWORD (the password of every user)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "tls", no_argument, NULL, 'T' },
		{ "user", required_argument, NULL, 'u' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "clients", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "first", required_argument, NULL, 1 },
		{ "seed", required_argument, NULL, 2 },
		{ "gen-first", required_argument, NULL, 3 },
		{ "search", required_argument, NULL, 4 },
		{ "range", required_argument, NULL, 5 },
		{ "range-base", required_argument, NULL, 6 },
		{ "expect-exists", required_argument, NULL, 7 },
		{ "window", required_argument, NULL, 8 },
		{ "verify", no_argument, NULL, 9 },
		{ "create", no_argument, NULL, 10 },
		{ "server-pid", required_argument, NULL, 11 },
		{ "settle", required_argument, NULL, 12 },
		{ "timeout", required_argument, NULL, 13 },
		{ "label", required_argument, NULL, 14 },
		{ "save", required_argument, NULL, 15 },
		{ "pause", required_argument, NULL, 16 },
		{ "examine", no_argument, NULL, 17 },
		{ "threads", no_argument, NULL, 18 },
		{ "command", required_argument, NULL, 19 },
		{ "dump", required_argument, NULL, 20 },
		{ "state", required_argument, NULL, 21 },
		{ "changes", required_argument, NULL, 22 },
		{ "expunges", required_argument, NULL, 23 },
		{ "known-uids", no_argument, NULL, 24 },
		{ "users", required_argument, NULL, 25 },
		{ "run", required_argument, NULL, 26 },
		{ "duration", required_argument, NULL, 27 },
		{ "max-failures", required_argument, NULL, 28 },
		{ NULL, 0, NULL, 0 },
	};
	struct job j = {
		.host = "127.0.0.1", .mailbox = "INBOX", .clients = 1, .count = -1,
		.seed = 1, .range = 0, .expect_exists = -1, .window = 32, .settle = 3,
		.timeout = 1800, .label = "run", .pause_ms = 1000, .changes = 1000,
		.expunges = 100, .duration = 60, .max_failures = 20, .run = "1",
	};
	struct result res;
	int opt, status;
	size_t w;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "report") == 0)
		return report(argc - 1, argv + 1);
	if (strcmp(argv[1], "gen") == 0)
		return cmd_gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "sizes") == 0)
		return cmd_sizes(argc - 1, argv + 1);
	if (strcmp(argv[1], "maildir") == 0)
		return cmd_maildir(argc - 1, argv + 1);
	for (w = 0; w < sizeof(workload_names) / sizeof(workload_names[0]); w++)
		if (strcmp(argv[1], workload_names[w]) == 0)
			break;
	if (w == sizeof(workload_names) / sizeof(workload_names[0]))
		usage();
	j.w = (enum workload)w;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "H:p:u:m:c:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'H': j.host = optarg; break;
		case 'p': j.port = atoi(optarg); break;
		case 'T': j.tls = true; break;
		case 'u': j.user = optarg; break;
		case 'm': j.mailbox = optarg; break;
		case 'c': j.clients = atoi(optarg); break;
		case 'n': j.count = atol(optarg); break;
		case 1: j.first = strtoull(optarg, NULL, 10); break;
		case 2: j.seed = strtoull(optarg, NULL, 10); break;
		case 3: j.gen_first = strtoull(optarg, NULL, 10); break;
		case 4: j.search = optarg; break;
		case 5: j.range = atol(optarg); break;
		case 6: j.range_base = atol(optarg); break;
		case 7: j.expect_exists = atol(optarg); break;
		case 8: j.window = atoi(optarg); break;
		case 9: j.verify = true; break;
		case 10: j.create = true; break;
		case 11: j.server_pid = atoi(optarg); break;
		case 12: j.settle = atoi(optarg); break;
		case 13: j.timeout = atoi(optarg); break;
		case 14: j.label = optarg; break;
		case 15: j.save = optarg; break;
		case 16: j.pause_ms = atoi(optarg); break;
		case 17: j.examine = true; break;
		case 18: gen_threads = true; break;
		case 19: j.command = optarg; break;
		case 20: j.dump = optarg; break;
		case 21: j.state = optarg; break;
		case 22: j.changes = atol(optarg); break;
		case 23: j.expunges = atol(optarg); break;
		case 24: j.known_uids = true; break;
		case 25: j.users = atoi(optarg); break;
		case 26: j.run = optarg; break;
		case 27: j.duration = atoi(optarg); break;
		case 28: j.max_failures = atol(optarg); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (j.port <= 0 || j.port > 65535)
		die("-p PORT is required");
	if (j.user == NULL || !name_fmt_ok(j.user) || !name_fmt_ok(j.mailbox))
		die("-u USER is required; in -u and -m, '%%' may only appear as one %%d");
	if (strpbrk(j.user, "\"\\") != NULL || strpbrk(j.mailbox, "\"\\") != NULL)
		die("no quotes or backslashes in -u and -m");
	if ((j.password = getenv("IMAPLOAD_PASSWORD")) == NULL)
		die("set IMAPLOAD_PASSWORD to the users' password");
	if (strpbrk(j.password, "\"\\\r\n") != NULL)
		die("IMAPLOAD_PASSWORD must not contain quotes, backslashes or line breaks");
	if (j.clients < 1 || j.clients > 10000)
		die("-c must be from 1 to 10000");
	if (j.w != W_MEM && j.w != W_QPREP && j.w != W_SESSIONS && j.w != W_MIX && j.count < 1)
		die("-n COUNT is required");
	if (j.w == W_SORT && (j.command == NULL || strpbrk(j.command, "\r\n") != NULL))
		die("sort needs --command COMMAND (one line)");
	if ((j.w == W_QPREP || j.w == W_QRESYNC) && j.state == NULL)
		die("%s needs --state FILE", workload_names[j.w]);
	if (j.w == W_QPREP && (j.changes < 0 || j.expunges < 1))
		die("qresync-prep: --changes must be at least 0, --expunges at least 1");
	if ((j.w == W_QPREP || j.w == W_QRESYNC) && j.clients != 1)
		die("%s uses one connection at a time", workload_names[j.w]);
	if (j.w == W_POPULATE && j.clients != 1)
		die("populate uses one connection");
	if (j.w == W_SEARCH && (j.search == NULL || strpbrk(j.search, "\r\n") != NULL))
		die("search needs --search KEYS (one line)");
	if (j.w == W_STORE && j.range < 1)
		die("store needs --range N");
	if ((j.w == W_MEM || j.w == W_IDLE) && j.server_pid <= 0)
		die("%s needs --server-pid PID", workload_names[j.w]);
	/* one APPEND must reach every session: one user, one mailbox */
	if (j.w == W_IDLE && (strchr(j.user, '%') != NULL || strchr(j.mailbox, '%') != NULL))
		die("idle: every session is the same user on the same mailbox: no %%d");
	if (j.w == W_IDLE && (j.pause_ms < 0 || j.timeout < 1))
		die("idle: --pause must be at least 0 and --timeout at least 1");
	if (j.window < 1)
		die("--window must be at least 1");
	if (j.w == W_SESSIONS && (j.server_pid <= 0 || j.tls || j.max_failures < 1))
		die("sessions needs --server-pid PID and --max-failures of at least 1, "
		    "and has no --tls");
	if (j.w == W_MIX && (j.duration < 1 || strlen(j.run) > 40 ||
	    strspn(j.run, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(j.run)))
		die("mix: --duration of at least 1 s, --run of at most 40 letters and digits");
	if (j.count >= 0 && j.count < j.clients && j.w != W_MEM && j.w != W_IDLE &&
	    j.w != W_QPREP)
		die("-n must be at least -c: every client works");
	if (j.tls) {
		SSL_library_init();
		if ((tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			die("SSL_CTX_new failed");
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (j.w == W_POPULATE)
		status = run_populate(&j, &res);
	else if (j.w == W_MEM)
		status = run_mem(&j, &res);
	else if (j.w == W_IDLE)
		status = run_idle(&j, &res);
	else if (j.w == W_QPREP)
		status = run_qprep(&j, &res);
	else if (j.w == W_QRESYNC)
		status = run_qresync(&j, &res);
	else if (j.w == W_SESSIONS)
		status = run_sessions(&j, &res);
	else if (j.w == W_MIX)
		status = run_mix(&j, &res);
	else
		status = run_clients(&j, &res);
	/* sessions and mix print and save their own results */
	if (j.w != W_SESSIONS && j.w != W_MIX) {
		result_print(&res);
		if (j.save != NULL)
			result_save(&res, j.save);
	}
	result_free(&res);
	return status;
}
