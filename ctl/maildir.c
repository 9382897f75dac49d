/*
 * Maildir++ names and files (maildir.h).
 *
 * A message file is <base>[:2,<info>] in cur/ or new/ (new/ ones have no
 * info and have not been seen by a client: no \Seen).  Dovecot's base is
 * "<secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>".  Its dovecot-uidlist
 * ("3 V<uidvalidity> N<uidnext> G<guid>" then "<uid> [fields] :<base>")
 * gives the UIDs, hence the order; dovecot-keywords ("<i> <name>") names
 * the keyword letters a..z.  Folders are the root's subdirectories
 * ".<level>.<level>", each level in modified UTF-7 (Dovecot's default;
 * with the UTF-8 option they are UTF-8, which decodes the same when
 * ASCII).
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "mutf7.h"
#include "store.h"
#include "xmalloc.h"

#define KEYWORDS_FILE "dovecot-keywords"
#define UIDLIST_FILE "dovecot-uidlist"

bool
maildir_keyword_valid(const char *kw)
{
	size_t len = strlen(kw);

	if (len == 0 || len > STORE_KEYWORD_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)kw[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

bool
maildir_keywords_line(struct maildir_keywords *k, const char *line)
{
	char *end;
	long i;

	if (line[0] < '0' || line[0] > '9')
		return false;
	i = strtol(line, &end, 10);
	if (*end != ' ' || i < 0 || i >= MAILDIR_KEYWORDS ||
	    !maildir_keyword_valid(end + 1))
		return false;
	free(k->name[i]);
	k->name[i] = xstrdup(end + 1);
	return true;
}

int
maildir_each_line(int dirfd, const char *name, void (*fn)(void *arg, const char *line),
    void *arg)
{
	char line[MAILDIR_LINE_MAX + 2];
	bool skipping = false;
	FILE *f;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		bool whole = len > 0 && line[len - 1] == '\n';

		if (whole)
			line[--len] = '\0';
		if (!skipping && (whole || feof(f)))
			fn(arg, line);
		skipping = !whole;
	}
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void
keyword_line(void *arg, const char *line)
{
	(void)maildir_keywords_line(arg, line);
}

int
maildir_keywords_load(int dirfd, struct maildir_keywords *k)
{
	memset(k, 0, sizeof(*k));
	return maildir_each_line(dirfd, KEYWORDS_FILE, keyword_line, k);
}

void
maildir_keywords_free(struct maildir_keywords *k)
{
	for (size_t i = 0; i < MAILDIR_KEYWORDS; i++) {
		free(k->name[i]);
		k->name[i] = NULL;
	}
}

size_t
maildir_base_len(const char *filename)
{
	const char *colon = strrchr(filename, ':');

	return colon != NULL ? (size_t)(colon - filename) : strlen(filename);
}

bool
maildir_info_flags(const char *filename, unsigned *flags, uint32_t *kwmask)
{
	const char *colon = strrchr(filename, ':');

	*flags = 0;
	*kwmask = 0;
	if (colon == NULL)
		return true;
	if (strncmp(colon + 1, "2,", 2) != 0)
		return false;
	for (const char *p = colon + 3; *p != '\0'; p++) {
		switch (*p) {
		case 'D': *flags |= STORE_FLAG_DRAFT; break;
		case 'F': *flags |= STORE_FLAG_FLAGGED; break;
		case 'R': *flags |= STORE_FLAG_ANSWERED; break;
		case 'S': *flags |= STORE_FLAG_SEEN; break;
		case 'T': *flags |= STORE_FLAG_DELETED; break;
		default:
			if (*p >= 'a' && *p <= 'z')
				*kwmask |= 1u << (*p - 'a');
			/* P (passed) and others: nothing IMAP shows */
		}
	}
	return true;
}

bool
maildir_name_time(const char *filename, int64_t *secs, long *usecs)
{
	const char *p = filename;
	int64_t s = 0;
	long u = 0;
	size_t digits = 0;

	*secs = 0;
	*usecs = 0;
	while (*p >= '0' && *p <= '9' && digits < 18) {
		s = s * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || *p != '.')
		return false;
	p++;
	/* "M<usecs>" somewhere in the second field (Dovecot: M<usecs>P<pid>) */
	for (; *p != '\0' && *p != '.' && *p != ':' && *p != ','; p++) {
		if (*p != 'M')
			continue;
		digits = 0;
		u = 0;
		for (p++; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
			u = u * 10 + (*p - '0');
		p--;
	}
	*secs = s;
	*usecs = u;
	return true;
}

void
maildir_info_string(unsigned flags, uint32_t kwmask, char *out, size_t len)
{
	size_t n = 0;

	/* "2," then the letters in ASCII order: capitals, then keywords */
	if (len < 3 + 5 + MAILDIR_KEYWORDS) {
		if (len > 0)
			out[0] = '\0';
		return;
	}
	out[n++] = '2';
	out[n++] = ',';
	if (flags & STORE_FLAG_DRAFT)
		out[n++] = 'D';
	if (flags & STORE_FLAG_FLAGGED)
		out[n++] = 'F';
	if (flags & STORE_FLAG_ANSWERED)
		out[n++] = 'R';
	if (flags & STORE_FLAG_SEEN)
		out[n++] = 'S';
	if (flags & STORE_FLAG_DELETED)
		out[n++] = 'T';
	for (unsigned i = 0; i < MAILDIR_KEYWORDS; i++)
		if (kwmask & (1u << i))
			out[n++] = (char)('a' + i);
	out[n] = '\0';
}

/* levels of s separated by sep, each decoded from modified UTF-7, joined
 * by '/' into out */
static bool
decode_levels(const char *s, char sep, struct buf *out)
{
	size_t start = out->len;
	const char *p = s;

	if (*s == '\0')
		return false;
	for (;;) {
		const char *end = strchr(p, sep);
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == 0 || memchr(p, '/', len) != NULL ||
		    (out->len > start && buf_append_char(out, '/') != 0) ||
		    mutf7_decode(p, len, out) != 0)
			goto fail;
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (out->len - start > STORE_MAILBOX_NAME_MAX)
		goto fail;
	return true;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return false;
}

bool
maildir_folder_name(const char *dirname, struct buf *out)
{
	if (dirname[0] != '.' || strcmp(dirname, ".") == 0 ||
	    strcmp(dirname, "..") == 0)
		return false;
	return decode_levels(dirname + 1, '.', out);
}

bool
maildir_folder_dir(const char *name, struct buf *out)
{
	size_t start = out->len;
	const char *p = name;

	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == 0 || memchr(p, '.', len) != NULL ||
		    buf_append_char(out, '.') != 0 || mutf7_encode(p, len, out) != 0) {
			out->len = start;
			if (out->data != NULL)
				out->data[start] = '\0';
			return false;
		}
		if (end == NULL)
			return true;
		p = end + 1;
	}
}

bool
maildir_subscription_line(const char *line, bool v2, struct buf *out)
{
	if (line[0] == '\0' || (v2 && strcmp(line, "V\t2") == 0))
		return false;
	return decode_levels(line, v2 ? '\t' : '.', out);
}

bool
maildir_uidlist_line(const char *line, uint32_t *uid, const char **base)
{
	const char *p = line, *colon;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && v <= UINT32_MAX)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (v == 0 || v > UINT32_MAX || *p != ' ')
		return false;
	/* the fields end at the first " :" (fields hold no ':') */
	if ((colon = strstr(p, " :")) == NULL || colon[2] == '\0')
		return false;
	*uid = (uint32_t)v;
	*base = colon + 2;
	return true;
}

/* ---- listing a folder ---- */

struct uid_entry {
	char *base;
	uint32_t uid;
};

struct uidlist {
	struct uid_entry *e;
	size_t n, cap;
	bool header_seen;
};

static void
uidlist_line(void *arg, const char *line)
{
	struct uidlist *l = arg;
	const char *base;
	uint32_t uid;

	if (!l->header_seen) {
		l->header_seen = true;     /* "3 V... N... G..." */
		return;
	}
	if (!maildir_uidlist_line(line, &uid, &base))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->e = xreallocarray(l->e, l->cap, sizeof(*l->e));
	}
	l->e[l->n].base = xstrdup(base);
	l->e[l->n].uid = uid;
	l->n++;
}

static int
cmp_base(const void *a, const void *b)
{
	return strcmp(((const struct uid_entry *)a)->base,
	    ((const struct uid_entry *)b)->base);
}

static uint32_t
uid_of(const struct uidlist *l, const char *filename)
{
	size_t len = maildir_base_len(filename);
	char base[MAILDIR_LINE_MAX];
	struct uid_entry key, *hit;

	if (l->n == 0 || len >= sizeof(base))
		return 0;
	memcpy(base, filename, len);
	base[len] = '\0';
	key.base = base;
	hit = bsearch(&key, l->e, l->n, sizeof(*l->e), cmp_base);
	return hit != NULL ? hit->uid : 0;
}

static int
cmp_msg(const void *a, const void *b)
{
	const struct maildir_msg *x = a, *y = b;

	if ((x->uid != 0) != (y->uid != 0))
		return x->uid != 0 ? -1 : 1;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->secs != y->secs)
		return x->secs < y->secs ? -1 : 1;
	if (x->usecs != y->usecs)
		return x->usecs < y->usecs ? -1 : 1;
	/* the same file in new/ and cur/ at once is one message: cur/ last */
	return strcmp(strchr(x->path, '/') + 1, strchr(y->path, '/') + 1);
}

static int
list_sub(int dirfd, const char *sub, const struct uidlist *ul,
    struct maildir_msg **out, size_t *n, size_t *cap)
{
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int fd, err;

	if ((fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		struct maildir_msg *m;
		size_t plen;

		if (e->d_name[0] == '.')
			continue;
		if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*out = xreallocarray(*out, *cap, sizeof(**out));
		}
		m = &(*out)[(*n)++];
		plen = strlen(sub) + 1 + strlen(e->d_name) + 1;
		m->path = xmalloc(plen);
		snprintf(m->path, plen, "%s/%s", sub, e->d_name);
		m->uid = uid_of(ul, e->d_name);
		(void)maildir_name_time(e->d_name, &m->secs, &m->usecs);
		m->size = (uint64_t)sb.st_size;
	}
	err = errno;
	closedir(d);
	errno = err;
	return err != 0 ? -1 : 0;
}

int
maildir_list(int dirfd, struct maildir_msg **out, size_t *n)
{
	struct uidlist ul = { NULL, 0, 0, false };
	size_t cap = 0;
	int r;

	*out = NULL;
	*n = 0;
	r = maildir_each_line(dirfd, UIDLIST_FILE, uidlist_line, &ul);
	if (r == 0) {
		if (ul.n > 0)
			qsort(ul.e, ul.n, sizeof(*ul.e), cmp_base);
		r = list_sub(dirfd, "cur", &ul, out, n, &cap);
	}
	if (r == 0)
		r = list_sub(dirfd, "new", &ul, out, n, &cap);
	for (size_t i = 0; i < ul.n; i++)
		free(ul.e[i].base);
	free(ul.e);
	if (r != 0) {
		int err = errno;

		maildir_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		errno = err;
		return -1;
	}
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), cmp_msg);
	return 0;
}

void
maildir_list_free(struct maildir_msg *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}
