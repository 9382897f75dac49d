/*
 * Maildir++ as Dovecot and Courier lay it out, for cairnctl import and
 * export: file names with their ":2,<flags>" info, dovecot-keywords,
 * dovecot-uidlist, ".Folder.Sub" folder directories (modified UTF-7
 * levels), the subscriptions file.  The parsers are pure (tests/
 * check_migrate.c); maildir_list reads one folder.
 */
#ifndef CAIRN_CTL_MAILDIR_H
#define CAIRN_CTL_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Keywords are the letters a..z of the info: 26 at most per folder. */
#define MAILDIR_KEYWORDS 26
#define MAILDIR_LINE_MAX 4096

struct maildir_keywords {
	char *name[MAILDIR_KEYWORDS];      /* NULL: letter unused */
};

/* One line of dovecot-keywords, "<index> <name>" (no newline): recorded
 * when index is 0..25 and name a valid IMAP keyword; false otherwise. */
bool maildir_keywords_line(struct maildir_keywords *k, const char *line);
/* dovecot-keywords in dirfd, if any (missing: none; 0).  -1 on a read error. */
int maildir_keywords_load(int dirfd, struct maildir_keywords *k);
void maildir_keywords_free(struct maildir_keywords *k);
/* An IMAP flag-keyword (RFC 9051 atom without '\\'), at most 100 bytes. */
bool maildir_keyword_valid(const char *kw);

/*
 * The flags of a file name's info (":2,<letters>", the last ':' of the
 * name): D Draft, F Flagged, R Answered, S Seen, T Deleted (as
 * STORE_FLAG_*), a..z keyword letters (bit i: letter 'a' + i); other
 * letters are ignored.  No info (a file in new/): none, true; an info
 * that is not ":2," (":1," experimental): false.
 */
bool maildir_info_flags(const char *filename, unsigned *flags, uint32_t *kwmask);
/* The name without its info: its length. */
size_t maildir_base_len(const char *filename);
/* "<secs>.<...>" with an optional "M<usecs>" part in the second field:
 * the delivery time Maildir names start with.  false: not such a name. */
bool maildir_name_time(const char *filename, int64_t *secs, long *usecs);
/* "2,<letters>" for flags and keyword letters (sorted, as Maildir wants). */
void maildir_info_string(unsigned flags, uint32_t kwmask, char *out, size_t len);

/*
 * A folder directory's name (".Folder.Sub") as a Cairn mailbox name
 * ("Folder/Sub", UTF-8): each level decoded from modified UTF-7 (RFC 3501
 * 5.1.3; Dovecot's default), appended to out.  false (out as it was) for
 * a name that is not a folder (".", "..", no leading dot, an empty level)
 * or does not decode.
 */
bool maildir_folder_name(const char *dirname, struct buf *out);
/* The reverse for export: "A/B" -> ".A.B", levels in modified UTF-7.
 * false when a level holds '.' (Maildir++ cannot name it) or the name
 * does not encode.  INBOX is the root, not a folder: the caller's case. */
bool maildir_folder_dir(const char *name, struct buf *out);
/* One line of a subscriptions file (version 2: levels separated by a
 * tab; version 1: by '.'; levels in modified UTF-7) as a Cairn name into
 * out; false for the header lines ("V\t2", empty) and what does not
 * decode. */
bool maildir_subscription_line(const char *line, bool v2, struct buf *out);

/* Each line of the file name in dirfd, without its newline, to fn; a line
 * longer than MAILDIR_LINE_MAX is skipped.  0 (also when the file is
 * missing), -1 with errno. */
int maildir_each_line(int dirfd, const char *name,
    void (*fn)(void *arg, const char *line), void *arg);

/* One line of dovecot-uidlist after the header: "<uid> [fields] :<base>". */
bool maildir_uidlist_line(const char *line, uint32_t *uid, const char **base);

/* One message file of a folder. */
struct maildir_msg {
	char *path;             /* "cur/<name>" or "new/<name>" */
	uint32_t uid;           /* from dovecot-uidlist; 0: not listed */
	int64_t secs;           /* from the name; 0 when not such a name */
	long usecs;
	uint64_t size;          /* of the file (LF line ends: grows by CRs) */
};

/*
 * The messages of the folder open as dirfd (cur/ and new/), in the order
 * to import them: by the UID dovecot-uidlist gives, then those it does
 * not list by the time in their names, then by name.  Hidden files are
 * skipped.  Caller frees with maildir_list_free.  -1 with errno.
 */
int maildir_list(int dirfd, struct maildir_msg **out, size_t *n);
void maildir_list_free(struct maildir_msg *m, size_t n);

#endif
