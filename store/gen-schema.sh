#!/bin/sh
# Turn store/schema.sql into a C header on stdout: SCHEMA_VERSION and
# schema_steps[], where schema_steps[v] upgrades a store from version v to
# v + 1.  Plain POSIX sh and awk: the build must not need xxd.
#
#   sh store/gen-schema.sh store/schema.sql > store/schema-sql.h
set -e
if [ $# -ne 1 ]; then
	echo "usage: $0 schema.sql" >&2
	exit 2
fi
awk '
function fail(msg) {
	print FILENAME ":" NR ": " msg | "cat 1>&2"
	failed = 1
	exit 1
}
/^-- version [0-9]+[ \t]*$/ {
	if ($3 + 0 != n + 1)
		fail("version " $3 ", expected " (n + 1))
	if (n > 0)
		body = body ",\n"
	n++
	body = body "\t/* " (n - 1) " -> " n " */\n"
	next
}
/^[ \t]*--/ || /^[ \t]*$/ { next }
{
	if (n == 0)
		fail("SQL before the first \"-- version 1\" line")
	if (index($0, "\"") || index($0, "\\"))
		fail("double quote or backslash: not allowed in schema.sql")
	line = $0
	sub(/^[ \t]+/, " ", line)
	body = body "\t\"" line "\\n\"\n"
}
END {
	if (failed)
		exit 1
	if (n == 0) {
		print FILENAME ": no \"-- version 1\" line" | "cat 1>&2"
		exit 1
	}
	print "/* Generated from store/schema.sql by store/gen-schema.sh: do not edit. */"
	print "#define SCHEMA_VERSION " n
	print "static const char *const schema_steps[SCHEMA_VERSION] = {"
	printf "%s\n", body
	print "};"
}' "$1"
