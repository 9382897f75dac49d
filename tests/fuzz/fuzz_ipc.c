/*
 * libFuzzer harness: the IPC receive side (common/ipc.c, ipc_recv).
 *
 * Every message between Cairn's processes is one SOCK_SEQPACKET datagram
 * checked by ipc_recv() before its receiver looks at it.  The input is:
 *   byte 0: bits 0-1 the receiver, bits 2-3 the sender (master, imapd,
 *           authd, lmtpd), bit 4 attach a descriptor (/dev/null),
 *           bit 5 attach two;
 *   the rest: the datagram, header (type, len; host order) and payload.
 * It is sent on a socketpair made once and received with ipc_recv; an
 * accepted message must be one ipc.h describes (its size, its strings
 * terminated), and no descriptor may leak either way (checked by
 * counting what is open at the end of each run).
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

static int fuzz_sv[2] = { -1, -1 };
static int fuzz_null = -1;

static const enum ipc_role fuzz_roles[4] = {
	IPC_ROLE_MASTER, IPC_ROLE_IMAPD, IPC_ROLE_AUTHD, IPC_ROLE_LMTPD,
};

/* The lowest descriptor free now: a leak in a run moves it up. */
static int
fuzz_lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static void
fuzz_send(const uint8_t *data, size_t size, int nfds)
{
	int fds[2] = { fuzz_null, fuzz_null };
	union {
		struct cmsghdr hdr;
		unsigned char buf[CMSG_SPACE(sizeof(fds))];
	} cmsg;
	struct iovec iov = { (void *)data, size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&cmsg, 0, sizeof(cmsg));
	if (nfds > 0) {
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(fuzz_sv[0], &mh, MSG_NOSIGNAL) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg msg;
	const char *why = NULL;
	int before;

	if (fuzz_null < 0) {
		log_init("fuzz_ipc", LOG_TO_STDERR, LOG_LEVEL_ERROR);
		if ((fuzz_null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fuzz_sv) != 0)
			abort();
		/* room for the largest datagram the fuzzer may send */
		int sz = 256 * 1024;
		(void)setsockopt(fuzz_sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		(void)setsockopt(fuzz_sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (size < 1 || size > 2 * IPC_MAX_PAYLOAD)
		return 0;
	enum ipc_role self = fuzz_roles[data[0] & 3];
	enum ipc_role from = fuzz_roles[(data[0] >> 2) & 3];
	int nfds = (data[0] & 0x20) ? 2 : (data[0] & 0x10) ? 1 : 0;

	before = fuzz_lowest_free_fd();
	fuzz_send(data + 1, size - 1, nfds);
	memset(&msg, 0xa5, sizeof(msg));
	switch (ipc_recv(fuzz_sv[1], self, from, &msg, &why)) {
	case IPC_RECV_OK:
		if (msg.len > IPC_MAX_PAYLOAD || (msg.fd >= 0) != (nfds > 0))
			abort();
		(void)ipc_type_name(msg.type);
		if (msg.fd >= 0)
			close(msg.fd);
		break;
	case IPC_RECV_INVALID:
		if (why == NULL || msg.fd != -1)
			abort();
		break;
	case IPC_RECV_EOF:
		/* an empty datagram without descriptors reads as EOF */
		if (size - 1 != 0)
			abort();
		break;
	case IPC_RECV_AGAIN:
	case IPC_RECV_ERROR:
		abort();      /* a datagram was waiting */
	}
	if (fuzz_lowest_free_fd() != before)
		abort();      /* a descriptor leaked */
	return 0;
}
