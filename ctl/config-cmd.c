/*
 * cairnctl config get [NAME] and config set NAME=VALUE.
 *
 * get prints the effective settings as the file says them now, parsed
 * and printed exactly as cairnd -n does (a running cairnd has them
 * unless the file changed since its last reload).
 *
 * set formats the value (config-edit.c), edits the file text in memory,
 * validates the whole new text with the server's own parser and
 * validators, and only then replaces the file: a temporary file beside
 * it with the same mode and owner, written, fsynced and renamed over it,
 * and the directory fsynced.  An unknown name or a bad value changes
 * nothing.  Then the running cairnd reloads (control socket) and says
 * whether it took the file.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config-edit.h"
#include "ctl.h"
#include "xmalloc.h"

static void
config_usage_lines(FILE *out)
{
	fprintf(out,
	    "usage: cairnctl [-c FILE] config get [NAME]\n"
	    "       cairnctl [-c FILE] config set NAME=VALUE\n");
}

void
config_cmd_usage(FILE *out)
{
	config_usage_lines(out);
}

static _Noreturn void
config_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, config_usage_lines);
}

void
config_cmd_parse(int argc, char *argv[], struct config_cmd *req)
{
	memset(req, 0, sizeof(*req));
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		config_usage_lines(stdout);
		exit(CTL_EXIT_OK);
	}
	if (argc < 2)
		config_usage_error("config needs get or set", NULL);
	if (strcmp(argv[1], "get") == 0) {
		if (argc > 3)
			config_usage_error("unexpected argument", argv[3]);
		req->name = argc == 3 ? argv[2] : NULL;
	} else if (strcmp(argv[1], "set") == 0) {
		if (argc != 3)
			config_usage_error(argc < 3 ? "set needs NAME=VALUE"
			    : "unexpected argument", argc < 3 ? NULL : argv[3]);
		const char *eq = strchr(argv[2], '=');
		if (eq == NULL || eq == argv[2])
			config_usage_error("not NAME=VALUE", argv[2]);
		req->set = true;
		*strchr(argv[2], '=') = '\0';   /* argv is ours to write */
		req->name = argv[2];
		req->value = eq + 1;
	} else {
		config_usage_error("unknown config command", argv[1]);
	}
	if (req->name != NULL && config_option_kind(req->name) == CONFIG_KIND_UNKNOWN) {
		char buf[4 * CTL_SHOWN_MAX + 4];
		fprintf(stderr, "cairnctl: no such option '%s' (see cairn.conf(5))\n",
		    ctl_escape(req->name, CTL_SHOWN_MAX, buf, sizeof(buf)));
		exit(CTL_EXIT_ERROR);
	}
}

/* config_print's lines for name: "NAME = ..." or "# NAME is not set". */
static bool
is_line_of(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(line, "# ", 2) == 0)
		line += 2;
	return strncmp(line, name, n) == 0 && line[n] == ' ';
}

static int
config_get(const struct cairn_config *cfg, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	bool found = false;

	if (mem == NULL)
		return ctl_fail("open_memstream: %s", strerror(errno));
	config_print(cfg, mem);
	if (fclose(mem) != 0) {
		free(text);
		return ctl_fail("printing the settings: %s", strerror(errno));
	}
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
		if (name == NULL || is_line_of(line, name)) {
			puts(line);
			found = true;
		}
	free(text);
	return found ? CTL_EXIT_OK : ctl_fail("no setting '%s'", name);
}

static void
print_error(void *arg, const char *message)
{
	(void)arg;
	fprintf(stderr, "cairnctl: %s\n", message);
}

/* Write text over path: temporary file, same mode and owner, fsync, rename. */
static int
replace_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 16], dir[PATH_MAX];
	struct stat st;
	size_t len = strlen(text), off = 0;
	int fd, dfd;

	if (stat(path, &st) != 0)
		return ctl_fail("%s: %s", path, strerror(errno));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return ctl_fail("%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return ctl_fail("cannot create a file beside %s: %s", path,
		    strerror(errno));
	if (fchown(fd, st.st_uid, st.st_gid) != 0 && geteuid() == 0)
		goto fail;
	if (fchmod(fd, st.st_mode & 07777) != 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return CTL_EXIT_OK;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return ctl_fail("cannot rewrite %s: %s", path, strerror(e));
}

static int
config_set(const char *config_path, const struct config_cmd *req)
{
	static const char *const how[] = {
		[CONFIG_EDIT_REPLACED] = "changed",
		[CONFIG_EDIT_UNCOMMENTED] = "uncommented and changed",
		[CONFIG_EDIT_APPENDED] = "added",
	};
	struct buf value = BUF_INIT;
	struct cairn_config *cfg;
	enum config_edit_where where;
	char real[PATH_MAX], *text, *edited;
	const char *why;
	unsigned line;
	int status;

	/* the file itself, not a symlink to it, is replaced */
	if (realpath(config_path, real) == NULL)
		return ctl_fail("%s: %s", config_path, strerror(errno));
	if (config_edit_format(config_option_kind(req->name), req->value, &value,
	    &why) != 0) {
		buf_free(&value);
		return ctl_fail("option '%s': %s; nothing changed", req->name, why);
	}
	if ((text = config_read_text(real, NULL)) == NULL)
		return ctl_fail("cannot read %s: %s", real, strerror(errno));
	edited = config_edit_set(text, req->name, value.data, &where, &line);
	/* the server's own validation of the whole new file, in memory */
	if ((cfg = config_parse(edited, real, true, print_error, NULL)) == NULL) {
		fprintf(stderr, "cairnctl: %s is unchanged\n", real);
		status = CTL_EXIT_ERROR;
		goto out;
	}
	config_free(cfg);
	if (strcmp(text, edited) == 0) {
		printf("%s:%u: %s = %s already\n", real, line, req->name, value.data);
	} else {
		if ((status = replace_file(real, edited)) != CTL_EXIT_OK)
			goto out;
		printf("%s:%u: %s %s = %s\n", real, line, how[where], req->name,
		    value.data);
	}
	/* the running cairnd, if any, takes the file now */
	if ((cfg = config_parse(edited, real, false, print_error, NULL)) == NULL) {
		status = CTL_EXIT_ERROR;
		goto out;
	}
	bool ok;
	char *body;
	status = control_request(cfg, "reload", &ok, &body);
	config_free(cfg);
	if (status == CTL_EXIT_NOT_RUNNING) {
		printf("cairnd is not running: the setting applies when it starts\n");
		status = CTL_EXIT_OK;
	} else if (status == CTL_EXIT_OK) {
		if (ok)
			fputs(body, stdout);
		else {
			for (char *l = strtok(body, "\n"); l != NULL; l = strtok(NULL, "\n"))
				fprintf(stderr, "cairnctl: %s\n", l);
			status = CTL_EXIT_ERROR;
		}
		free(body);
	}
out:
	buf_free(&value);
	free(text);
	free(edited);
	return status;
}

int
config_cmd_run(const struct cairn_config *cfg, const char *config_path,
    const struct config_cmd *req)
{
	if (req->set)
		return config_set(config_path, req);
	return config_get(cfg, req->name);
}
