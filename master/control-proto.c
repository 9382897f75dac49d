/* The control socket's request parser (control-proto.h). */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>

#include "control-proto.h"
#include "username.h"

static const struct {
	const char *name;
	enum control_verb verb;
	bool takes_user;
} verbs[] = {
	{ "who", CONTROL_WHO, false },
	{ "kick", CONTROL_KICK, true },
	{ "reload", CONTROL_RELOAD, false },
	{ "stats", CONTROL_STATS, false },
};

int
control_parse_request(const char *line, size_t len, struct control_request *req,
    const char **why)
{
	const char *sp;
	size_t vlen;

	memset(req, 0, sizeof(*req));
	if (len == 0 || len >= CONTROL_REQUEST_MAX) {
		*why = len == 0 ? "empty request" : "request too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c > 0x7e || (c < 0x20)) {
			*why = "request is not printable ASCII";
			return -1;
		}
		if (c == ' ' && (i == 0 || i + 1 == len || line[i - 1] == ' ')) {
			*why = "request is not words separated by single spaces";
			return -1;
		}
	}
	sp = memchr(line, ' ', len);
	vlen = sp != NULL ? (size_t)(sp - line) : len;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strlen(verbs[i].name) != vlen || memcmp(verbs[i].name, line, vlen))
			continue;
		req->verb = verbs[i].verb;
		if (!verbs[i].takes_user) {
			if (sp != NULL) {
				*why = "this request takes no argument";
				return -1;
			}
			return 0;
		}
		if (sp == NULL) {
			*why = "this request needs a user name";
			return -1;
		}
		const char *arg = sp + 1;
		size_t alen = len - vlen - 1;
		if (memchr(arg, ' ', alen) != NULL) {
			*why = "this request takes one user name";
			return -1;
		}
		if (alen >= sizeof(req->user) || !username_valid(arg, alen, NULL)) {
			*why = "not a valid user name";
			return -1;
		}
		memcpy(req->user, arg, alen);
		req->user[alen] = '\0';
		return 0;
	}
	*why = "unknown request";
	return -1;
}
