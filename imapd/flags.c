#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "flags.h"

static const struct {
	const char *name;
	unsigned bit;
} system_flags[] = {
	{ "\\Seen", STORE_FLAG_SEEN },
	{ "\\Answered", STORE_FLAG_ANSWERED },
	{ "\\Flagged", STORE_FLAG_FLAGGED },
	{ "\\Deleted", STORE_FLAG_DELETED },
	{ "\\Draft", STORE_FLAG_DRAFT },
};

#define N_SYSTEM_FLAGS (sizeof(system_flags) / sizeof(system_flags[0]))

static int
flag_add(const struct imap_arg *a, struct flag_list *out, const char **why)
{
	if (a->type != IMAP_ARG_ATOM) {
		*why = "Flags must be atoms";
		return -1;
	}
	if (a->str[0] == '\\') {
		for (size_t i = 0; i < N_SYSTEM_FLAGS; i++) {
			if (strcasecmp(a->str, system_flags[i].name) == 0) {
				out->flags |= system_flags[i].bit;
				return 0;
			}
		}
		*why = strcasecmp(a->str, "\\Recent") == 0
		    ? "\\Recent cannot be set" : "Unknown system flag";
		return -1;
	}
	/* flag-keyword = atom; the parser already refused atom-specials
	 * except ']', which a keyword may not contain either. */
	if (a->len == 0 || a->len > STORE_KEYWORD_MAX || strchr(a->str, ']') != NULL ||
	    strchr(a->str, '[') != NULL) {
		*why = "Invalid keyword";
		return -1;
	}
	for (size_t i = 0; i < out->n_keywords; i++)
		if (strcasecmp(out->keywords[i], a->str) == 0)
			return 0;
	if (out->n_keywords >= STORE_KEYWORDS_MAX) {
		*why = "Too many keywords";
		return -1;
	}
	out->keywords[out->n_keywords++] = a->str;
	return 0;
}

int
flags_parse(const struct imap_arg *arg, bool allow_single, struct flag_list *out,
    const char **why)
{
	memset(out, 0, sizeof(*out));
	if (arg->type == IMAP_ARG_ATOM && allow_single)
		return flag_add(arg, out, why);
	if (arg->type != IMAP_ARG_LIST) {
		*why = "Expected a parenthesised flag list";
		return -1;
	}
	for (size_t i = 0; i < arg->list_count; i++)
		if (flag_add(&arg->list[i], out, why) != 0)
			return -1;
	return 0;
}

/* name after a space unless it is the first; once per FETCH FLAGS item,
 * so plain appends rather than printf. */
static void
append_flag(struct buf *out, bool *first, const char *name)
{
	if (!*first)
		buf_append_char(out, ' ');
	buf_append_str(out, name);
	*first = false;
}

int
flags_format(const struct store_message *m, bool with_recent, struct buf *out)
{
	bool first = true;

	buf_append_char(out, '(');
	for (size_t i = 0; i < N_SYSTEM_FLAGS; i++)
		if (m->flags & system_flags[i].bit)
			append_flag(out, &first, system_flags[i].name);
	if (with_recent && m->recent)
		append_flag(out, &first, "\\Recent");
	for (size_t i = 0; i < m->n_keywords; i++)
		append_flag(out, &first, m->keywords[i]);
	return buf_append_char(out, ')');
}

static int
append_keyword(const char *kw, void *arg)
{
	struct buf *out = arg;

	buf_printf(out, " %s", kw);
	return 0;
}

int
flags_format_mailbox(struct store_view *v, bool permanent, struct buf *out)
{
	buf_append_str(out, "(\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	if (store_view_keywords(v, append_keyword, out) != STORE_OK)
		return -1;
	/* RFC 9051 §7.1: \* says new keywords may be created. */
	if (permanent)
		buf_append_str(out, " \\*");
	return buf_append_char(out, ')');
}
