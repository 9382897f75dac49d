/* cairnctl config set's editor (config-edit.h). */
#include "autoconfig.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config-edit.h"
#include "xmalloc.h"

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void
append_quoted(struct buf *out, const char *s, size_t len)
{
	buf_append_char(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, s[i]);
	}
	buf_append_char(out, '"');
}

/* {...} given whole: braces outside quotes balance to one pair, at the ends. */
static bool
list_literal_ok(const char *v)
{
	size_t n = strlen(v);
	bool quoted = false;
	int depth = 0;

	if (n < 2 || v[n - 1] != '}')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (quoted) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			else if (v[i] == '"')
				quoted = false;
			continue;
		}
		if (v[i] == '"')
			quoted = true;
		else if (v[i] == '{' && ++depth > 1)
			return false;
		else if (v[i] == '}' && (--depth < 0 || i + 1 != n))
			return false;
		else if (v[i] == '#')
			return false;
	}
	return !quoted && depth == 0;
}

int
config_edit_format(enum config_kind kind, const char *value, struct buf *out,
    const char **why)
{
	if (has_control(value)) {
		*why = "the value contains control characters";
		return -1;
	}
	switch (kind) {
	case CONFIG_KIND_UNKNOWN:
		*why = "no such option";
		return -1;
	case CONFIG_KIND_STRING:
		append_quoted(out, value, strlen(value));
		return 0;
	case CONFIG_KIND_LIST:
		if (value[0] == '{') {
			if (!list_literal_ok(value)) {
				*why = "a list is {\"a\", \"b\"} on one line, or a,b";
				return -1;
			}
			buf_append_str(out, value);
			return 0;
		}
		buf_append_char(out, '{');
		for (const char *p = value; *p != '\0';) {
			const char *comma = strchr(p, ','), *end;
			if (comma == NULL)
				comma = p + strlen(p);
			while (p < comma && isspace((unsigned char)*p))
				p++;
			end = comma;
			while (end > p && isspace((unsigned char)end[-1]))
				end--;
			if (end == p) {
				*why = "an empty item in the list";
				return -1;
			}
			if (out->len > 1)
				buf_append_str(out, ", ");
			append_quoted(out, p, (size_t)(end - p));
			p = *comma == ',' ? comma + 1 : comma;
			if (*comma == ',' && *p == '\0') {
				*why = "an empty item in the list";
				return -1;
			}
		}
		buf_append_char(out, '}');
		return 0;
	case CONFIG_KIND_WORD:
		if (value[0] == '\0') {
			*why = "the value is empty";
			return -1;
		}
		for (const char *p = value; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
			    *p != '+' && *p != '_') {
				*why = "the value is not a number, size, duration or "
				    "boolean";
				return -1;
			}
		buf_append_str(out, value);
		return 0;
	}
	*why = "no such option";
	return -1;
}

/* One line of the file: [start, end) without its newline. */
struct line {
	const char *start, *end;
};

/*
 * Does the line set name: blanks, name, blanks, '='?  commented: after
 * a '#' and blanks.  *value: the first byte after '='.
 */
static bool
line_sets(const struct line *l, const char *name, bool commented,
    const char **value)
{
	const char *p = l->start;
	size_t n = strlen(name);

	while (p < l->end && (*p == ' ' || *p == '\t'))
		p++;
	if (commented) {
		if (p == l->end || *p != '#')
			return false;
		p++;
		while (p < l->end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if ((size_t)(l->end - p) < n || memcmp(p, name, n) != 0)
		return false;
	p += n;
	while (p < l->end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == l->end || *p != '=')
		return false;
	*value = p + 1;
	return true;
}

/*
 * Scan a value from p: where it ends on this line (before blanks and a
 * comment), and whether a '{' is left open (the list goes on below).
 */
static const char *
value_end(const char *p, const char *end, bool *open_list)
{
	bool quoted = false;
	const char *last = p;
	int depth = 0;

	for (; p < end; p++) {
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = false;
			last = p + 1;
			continue;
		}
		if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/'))
			break;
		if (*p == '"')
			quoted = true;
		else if (*p == '{')
			depth++;
		else if (*p == '}')
			depth--;
		if (*p != ' ' && *p != '\t')
			last = p + 1;
	}
	*open_list = depth > 0;
	return last;
}

/* Does this line close an open list (a '}' outside quotes)? */
static bool
line_closes_list(const struct line *l)
{
	bool quoted = false;

	for (const char *p = l->start; p < l->end; p++) {
		if (quoted) {
			if (*p == '\\' && p + 1 < l->end)
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"')
			quoted = true;
		else if (*p == '#')
			return false;
		else if (*p == '}')
			return true;
	}
	return false;
}

static size_t
split_lines(const char *text, struct line **out)
{
	size_t n = 0, cap = 64;
	struct line *lines = xreallocarray(NULL, cap, sizeof(*lines));
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		const char *end = nl != NULL ? nl : p + strlen(p);
		if (n == cap) {
			cap *= 2;
			lines = xreallocarray(lines, cap, sizeof(*lines));
		}
		lines[n++] = (struct line){ p, end };
		p = nl != NULL ? nl + 1 : end;
	}
	*out = lines;
	return n;
}

char *
config_edit_set(const char *text, const char *name, const char *value,
    enum config_edit_where *where, unsigned *line)
{
	struct buf out = BUF_INIT;
	struct line *lines;
	size_t n = split_lines(text, &lines), first = n, last = n;
	const char *v, *vend = NULL;
	bool open_list = false;

	/* 1. the last active setting, and the lines its list goes on over */
	for (size_t i = 0; i < n; i++) {
		if (!line_sets(&lines[i], name, false, &v))
			continue;
		first = last = i;
		vend = value_end(v, lines[i].end, &open_list);
		if (open_list) {
			while (last + 1 < n && !line_closes_list(&lines[last]))
				last++;
			vend = NULL;
		}
		*where = CONFIG_EDIT_REPLACED;
	}
	/* 2. else the last commented sample */
	if (first == n) {
		for (size_t i = 0; i < n; i++)
			if (line_sets(&lines[i], name, true, &v)) {
				first = last = i;
				vend = NULL;
			}
		*where = CONFIG_EDIT_UNCOMMENTED;
	}
	if (first == n) {
		/* 3. appended */
		buf_append_str(&out, text);
		if (out.len > 0 && out.data[out.len - 1] != '\n')
			buf_append_char(&out, '\n');
		buf_printf(&out, "%s = %s\n", name, value);
		*where = CONFIG_EDIT_APPENDED;
		*line = (unsigned)n + 1;
		free(lines);
		return buf_steal(&out, NULL);
	}
	buf_append(&out, text, (size_t)(lines[first].start - text));
	buf_printf(&out, "%s = %s", name, value);
	/* a trailing comment on a one-line setting stays */
	if (vend != NULL && vend < lines[first].end)
		buf_append(&out, vend, (size_t)(lines[first].end - vend));
	const char *rest = lines[last].end;
	buf_append_str(&out, rest);
	*line = (unsigned)first + 1;
	free(lines);
	return buf_steal(&out, NULL);
}
