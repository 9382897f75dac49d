/*
 * The control socket's protocol (<run-dir>/control, cairnctl): one request
 * per connection, a line of printable ASCII words separated by single
 * spaces, ended by LF, at most CONTROL_REQUEST_MAX bytes with the LF:
 *
 *   who | kick USER | reload | stats
 *
 * The answer is "OK" or "ERR", LF, then the body (lines), then the master
 * closes the connection.  This file is the pure parser (unit-tested);
 * control.c does the I/O.
 */
#ifndef CAIRN_MASTER_CONTROL_PROTO_H
#define CAIRN_MASTER_CONTROL_PROTO_H

#include <stddef.h>

#include "ipc.h"

#define CONTROL_REQUEST_MAX 256

enum control_verb { CONTROL_WHO, CONTROL_KICK, CONTROL_RELOAD, CONTROL_STATS };

struct control_request {
	enum control_verb verb;
	char user[IPC_USER_LEN];     /* kick: a valid, canonical user name */
};

/*
 * Parse one request line, without its LF (len bytes, not NUL-terminated).
 * 0, or -1 with *why (static text) for anything malformed.
 */
int control_parse_request(const char *line, size_t len,
    struct control_request *req, const char **why);

#endif
