/*
 * cairnctl config set's file editor: pure text in, text out, no I/O
 * (unit-tested in tests/check_config_edit.c).  The file keeps its
 * comments, order and every other line byte for byte; one setting
 * changes:
 *
 *   1. the last active "NAME = ..." (libconfuse: the last one wins),
 *      a list's continuation lines with it, a trailing comment kept;
 *   2. else the last commented sample "#NAME = ..." (conf/cairn.conf has
 *      one per option), uncommented in place;
 *   3. else "NAME = VALUE" appended at the end.
 */
#ifndef CAIRN_CTL_CONFIG_EDIT_H
#define CAIRN_CTL_CONFIG_EDIT_H

#include <stddef.h>

#include "buf.h"
#include "config.h"

enum config_edit_where {
	CONFIG_EDIT_REPLACED,
	CONFIG_EDIT_UNCOMMENTED,
	CONFIG_EDIT_APPENDED,
};

/*
 * The value as the file must say it: a string quoted (backslash and
 * double quote escaped), a list from "a,b" or given whole as {...}, a
 * number, size, duration or boolean as a bare word.  0 with out filled;
 * -1 with *why for a value no file line can hold (control characters,
 * an unbalanced list, a word with odd characters).
 */
int config_edit_format(enum config_kind kind, const char *value, struct buf *out,
    const char **why);

/*
 * text with NAME set to value (already formatted).  Returns a new
 * NUL-terminated buffer (free it); *where says how, *line the 1-based line
 * that now holds the setting.
 */
char *config_edit_set(const char *text, const char *name, const char *value,
    enum config_edit_where *where, unsigned *line);

#endif
