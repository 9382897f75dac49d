"""The limits of cairn.conf(5), each against the real cairnd with a small
configured value: rate-limit (delayed per connection, other sessions not
slowed, no busy loop), max-request-size (command line, a line of megabytes
without CRLF in bounded memory, synchronising and {n+} literals, APPEND
over it storing nothing, LITERAL+ over 4096, MULTIAPPEND's 1000 messages),
LMTP's recipients and connections, the three timeouts (BYE, the
process gone, the pool topped up), max-unauthenticated-per-address, the
children's resource limits (/proc/PID/limits) and the output bound (a
client that sends commands and never reads).  Each test fails without the
limit it is about.  The inventory of every limit and its test is in
doc/architecture.md, "Limits and where they are enforced"."""

import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (BUILD, Server, cmd, expect, login, ok, pid_alive,  # noqa: E402
                       require_accounts, run_tests, running_mail_server, wait_for)

MIB = 1024 * 1024


def sanitizer_build():
    """Is BUILD configured with --enable-sanitizers (autoconfig.h says)?"""
    with open(os.path.join(BUILD, "autoconfig.h")) as f:
        return re.search(r"(?m)^#define CAIRN_SANITIZERS 1", f.read()) is not None


def small_quarantine(srv):
    """ASan keeps freed memory in a quarantine (256 MB by default), which
    would count as growth in the memory tests: keep it small."""
    opts = srv.env.get("ASAN_OPTIONS", "")
    srv.env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "quarantine_size_mb=1"


def session_pid(srv, c):
    """The pid of the cairn-imapd serving client c, from the master's log
    line for its connection (found by the client's own port)."""
    port = c.sock.getsockname()[1]
    pattern = r"connection from 127\.0\.0\.1 port %d on the \S+ listener, pid (\d+)" % port
    m = wait_for(lambda: re.search(pattern, srv.log_text()),
                 what="the log line of port %d" % port)
    return int(m.group(1))


def status_kb(pid, field):
    """VmRSS, VmHWM ... of pid from /proc/PID/status, in kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (field, pid))


def cpu_seconds(pid):
    """User and system CPU time of pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def limits(pid):
    """{name: (soft, hard)} from /proc/PID/limits."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        next(f)
        for line in f:
            m = re.match(r"^(.*?)\s{2,}(\S+)\s+(\S+)", line)
            if m:
                out[m.group(1).strip()] = (m.group(2), m.group(3))
    return out


def gone_and_replaced(srv, pid, pool):
    """The session's process exits and the pool is back to pool idle ones."""
    wait_for(lambda: not pid_alive(pid), timeout=15, what="pid %d to exit" % pid)
    wait_for(lambda: len([p for p, _, _, _ in srv.imapd_children()]) >= pool,
             timeout=15, what="the pool to be topped up")


# ---- rate-limit -------------------------------------------------------------

def test_rate_limit_delays_the_connection_over_it():
    """rate-limit "4/4s": a burst of 4 commands, then one per second.  Ten
    pipelined NOOPs take at least 6 s, the process sleeps meanwhile (no
    busy loop), and neither another user nor another connection of the
    same user is slowed (the limit is per connection)."""
    with running_mail_server(**{"rate-limit": '"4/4s"'}) as srv:
        srv.add_user("bob", "bob-pw")
        a, a2, b = login(srv), login(srv), login(srv, "bob", "bob-pw")
        # the logins above were each connection's first command
        pid = session_pid(srv, a)
        cpu_before = cpu_seconds(pid)
        start = time.monotonic()
        a.send("".join("n%d NOOP\r\n" % i for i in range(10)))
        # 3 commands left of the burst, then 7 more at 1 s each
        a.read_until_tagged("n2")
        time.sleep(0.5)
        # meanwhile the others answer at once, before a is through
        for c in (b, a2):
            for _ in range(3):
                ok(c, "NOOP")
        others_done = time.monotonic() - start
        u, t = a.read_until_tagged("n9")
        took = time.monotonic() - start
        assert t == "n9 OK NOOP completed", t
        cpu = cpu_seconds(pid) - cpu_before
        print("  10 NOOPs over the limit: %.1f s, %.2f s of CPU; the other "
              "sessions' 6 commands done after %.1f s" % (took, cpu, others_done))
        assert took >= 5.5, took
        assert others_done < took, (others_done, took)
        assert cpu < 1.0, cpu
        expect(r"rate-limit \(4 commands per 4 s\) reached: commands are delayed",
               srv.log_text())
        for c in (a, a2, b):
            c.close()


# ---- max-request-size ---------------------------------------------------------

def test_command_line_over_max_request_size():
    """max-request-size = 1kb bounds a command line too (not only
    literals): an ID of 2000 bytes is BAD, the same command under 1 KiB
    runs, and the session goes on."""
    with Server(**{"max-request-size": "1kb"}) as srv:
        c = srv.connect()
        c.readline()
        short = " ".join('"f%02d" "%s"' % (i, "v" * 20) for i in range(10))
        assert c.command("i1", "ID (%s)" % short)[1].startswith("i1 OK")
        long = " ".join('"f%02d" "%s"' % (i, "v" * 60) for i in range(29))
        assert len(long) > 1024
        expect(r"^i2 BAD .*[Ll]ine too long", c.command("i2", "ID (%s)" % long)[1])
        assert c.command("i3", "NOOP")[1] == "i3 OK NOOP completed"
        c.close()


def test_endless_line_in_bounded_memory():
    """8 MB without CRLF: BAD once the line passes its bound, the rest read
    and dropped, the session's memory unchanged (VmHWM within 4 MiB of
    what it was), and the next command answered."""
    srv = Server()
    small_quarantine(srv)
    with srv:
        c = srv.connect(timeout=60)
        c.readline()
        assert c.command("n1", "NOOP")[1] == "n1 OK NOOP completed"
        pid = session_pid(srv, c)
        before = status_kb(pid, "VmHWM")
        c.send("t1 NOOP ")
        chunk = b"x" * MIB
        for _ in range(8):
            c.send(chunk)
        expect(r"^t1 BAD .*[Ll]ine too long", c.readline())
        # the server is still reading (and dropping) it, not holding it
        c.send(chunk)
        hwm = status_kb(pid, "VmHWM")
        print("  VmHWM of the session: %d kB before, %d kB after a 9 MB line"
              % (before, hwm))
        assert hwm - before < 4 * 1024, (before, hwm)
        c.send("\r\n")
        assert c.command("t2", "NOOP")[1] == "t2 OK NOOP completed"
        c.close()


def store_files(srv, sub):
    root = os.path.join(srv.dir, "data", "mail", "alice", sub)
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_literals_over_max_request_size():
    """max-request-size = 1kb: a synchronising literal over it is refused
    before any '+' (NO [TOOBIG] for APPEND, BAD otherwise) and the session
    goes on; an APPEND {n+} over it gets BAD and the connection is closed
    after the BYE; nothing is stored (STATUS, tmp/, blobs/).  Cairn
    announces LITERAL+, not LITERAL- (RFC 7888 §4, §5): with the default
    limit a {n+} over 4096 bytes is taken."""
    with running_mail_server(**{"max-request-size": "1kb"}) as srv:
        c = login(srv)
        c.send("s1 NOOP {2000}\r\n")
        expect(r"^s1 BAD", c.readline())
        c.send("s2 APPEND INBOX {2000}\r\n")
        expect(r"^s2 NO \[TOOBIG\]", c.readline())
        assert cmd(c, "NOOP")[1] == "OK NOOP completed"
        c.send("s3 APPEND INBOX {2000+}\r\n")
        c.send(b"x" * 2000 + b"\r\n")
        expect(r"^s3 BAD", c.readline())
        expect(r"^\* BYE", c.readline())
        assert c.closed()
        c = login(srv)
        u = ok(c, "STATUS INBOX (MESSAGES)")
        expect(r"MESSAGES 0\)", u[0])
        assert store_files(srv, "tmp") == [] and store_files(srv, "blobs") == []
        c.close()
    # LITERAL+, not LITERAL-: a {n+} over 4096 bytes under the limit is taken
    with running_mail_server() as srv:
        c = login(srv)
        body = b"Subject: big\r\n\r\n" + b"y" * 6000 + b"\r\n"
        c.send("p1 APPEND INBOX {%d+}\r\n" % len(body))
        c.send(body + b"\r\n")
        assert c.read_until_tagged("p1")[1].startswith("p1 OK [APPENDUID")
        c.close()


def test_multiappend_over_1000_messages():
    """One APPEND carries at most 1000 messages (cairn-imapd(8)): 1001 get
    BAD and none is stored."""
    with running_mail_server() as srv:
        c = login(srv)
        msg = b"Subject: m\r\n\r\nx\r\n"
        c.sock.settimeout(60)
        c.send(b"m1 APPEND INBOX" + b"".join(b" {%d+}\r\n" % len(msg) + msg
                                             for _ in range(1001)) + b"\r\n")
        expect(r"^m1 BAD", c.read_until_tagged("m1")[1])
        u = ok(c, "STATUS INBOX (MESSAGES)")
        expect(r"MESSAGES 0\)", u[0])
        assert store_files(srv, "tmp") == [] and store_files(srv, "blobs") == []
        c.close()


# ---- LMTP's fixed limits ----------------------------------------------------------

def lmtp_reply(c):
    lines = [c.readline()]
    while len(lines[-1]) > 3 and lines[-1][3] == "-":
        lines.append(c.readline())
    return lines[-1]


def test_lmtp_recipients_and_connections():
    """LMTP: at most 500 recipients per transaction (the 501st gets 452,
    RFC 5321 §4.5.3.1.10); at most 32 cairn-lmtpd and 64 waiting
    connections, the next one gets 421 4.3.2."""
    with running_mail_server() as srv:
        c = srv.lmtp()
        c.send("LHLO client.example\r\n")
        assert lmtp_reply(c).startswith("250 ")
        c.send("MAIL FROM:<a@example.org>\r\n")
        assert lmtp_reply(c).startswith("250 ")
        c.send("".join("RCPT TO:<alice>\r\n" for _ in range(501)))
        replies = [lmtp_reply(c) for _ in range(501)]
        assert all(r.startswith("250 ") for r in replies[:500]), replies[:3]
        expect(r"^452 4\.5\.3", replies[500])
        c.close()
        held = [srv.lmtp() for _ in range(32)]   # each greeted: served
        waiting = []
        for _ in range(64):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(srv.lmtp_socket)
            waiting.append(s)
        # the master accepts in order: the next one finds 96 counted
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(srv.lmtp_socket)
        assert s.recv(200).startswith(b"421 4.3.2 Too many connections"), "no 421"
        s.close()
        for x in held + waiting:
            x.close()


# ---- timeouts -------------------------------------------------------------------

def expect_autologout(c, least, most):
    start = time.monotonic()
    c.sock.settimeout(most + 10)
    expect(r"^\* BYE Autologout; idle for too long", c.readline())
    waited = time.monotonic() - start
    assert c.closed()
    assert least <= waited, waited


def test_timeout_unauthenticated_ends_the_process():
    with Server(**{"timeout-unauthenticated": "2s"}) as srv:
        c = srv.connect()
        c.readline()
        pid = session_pid(srv, c)
        expect_autologout(c, 1.5, 10)
        gone_and_replaced(srv, pid, 2)


def test_timeout_authenticated_ends_the_process():
    with running_mail_server(**{"timeout-authenticated": "2s"}) as srv:
        c = login(srv)
        pid = session_pid(srv, c)
        ok(c, "SELECT INBOX")
        expect_autologout(c, 1.5, 10)
        gone_and_replaced(srv, pid, 2)


def test_timeout_idle_ends_the_process():
    """timeout-idle 2s while timeout-authenticated is a minute: IDLE's own
    bound ends it."""
    with running_mail_server(**{"timeout-idle": "2s",
                                "timeout-authenticated": "1m"}) as srv:
        c = login(srv)
        pid = session_pid(srv, c)
        c.send("i1 IDLE\r\n")
        expect(r"^\+ ", c.readline())
        expect_autologout(c, 1.5, 20)
        gone_and_replaced(srv, pid, 2)


# ---- connections ------------------------------------------------------------------

def test_max_unauthenticated_per_address():
    """max-unauthenticated-per-address = 2: a third connection from
    127.0.0.1 that has not logged in gets a BYE and is logged; once one
    of the two logs in, there is room again."""
    with running_mail_server(**{"max-unauthenticated-per-address": 2,
                                "worker-pool-size": 4}) as srv:
        first, second = srv.connect_tls(), srv.connect_tls()
        for c in (first, second):
            expect(r"^\* OK", c.readline())
        third = srv.connect()
        expect(r"^\* BYE Too many connections from your address that have not "
               r"logged in", third.readline())
        assert third.closed()
        # the TLS port closes without a word (the master never speaks TLS)
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
        raw.settimeout(5)
        assert raw.recv(100) == b""
        raw.close()
        expect(r"max-unauthenticated-per-address \(2\) reached for 127\.0\.0\.1",
               srv.log_text())
        assert first.command("l1", "LOGIN alice alice-pw")[1].startswith("l1 OK")
        fourth = srv.connect()
        expect(r"^\* OK", fourth.readline())
        for c in (first, second, fourth):
            c.close()


def test_max_unauthenticated_per_address_zero_is_off():
    with Server(**{"max-unauthenticated-per-address": 0}) as srv:
        clients = [srv.connect() for _ in range(25)]
        for c in clients:
            expect(r"^\* OK", c.readline())
        for c in clients:
            c.close()


# ---- the children's resource limits ------------------------------------------------

def test_child_resource_limits():
    """/proc/PID/limits of cairn-imapd, cairn-authd and cairn-lmtpd: no core
    file, the open files each needs, and (not in sanitizer builds) a bound
    on their data, soft and hard alike."""
    with running_mail_server(**{"max-request-size": "10mb",
                                "lmtp-max-message-size": "20mb"}) as srv:
        hard_files = limits(srv.proc.pid)["Max open files"][1]
        imapd = srv.imapd_children()[0][0]
        lmtpd = srv.lmtpd_children()[0][0]
        want = {
            imapd: (1100, 512 * MIB + 2 * 10 * MIB),
            srv.authd_pid(): (100 + 4 * 2, 512 * MIB + 2 * 72 * MIB),
            lmtpd: (600, 512 * MIB + 2 * 20 * MIB),
        }
        for pid, (files, data) in want.items():
            lim = limits(pid)
            if hard_files != "unlimited":
                files = min(files, int(hard_files))
            assert lim["Max core file size"] == ("0", "0"), (pid, lim)
            assert lim["Max open files"] == (str(files), str(files)), (pid, lim)
            if sanitizer_build():
                print("  sanitizer build: RLIMIT_DATA is not set (ASan's shadow "
                      "memory counts against it)")
            else:
                assert lim["Max data size"] == (str(data), str(data)), (pid, lim)


# ---- the output bound ----------------------------------------------------------------

def test_client_that_never_reads():
    """A client pipelines 200 FETCHes of 2 MB each and never reads: the
    session's memory stays within 8 MiB of what it was (its output buffer
    is 64 KiB; the rest waits in the socket), and once no byte could be
    written for timeout-unauthenticated (3 s) the process ends instead of
    running the other commands."""
    srv = Server(**{"timeout-unauthenticated": "3s"})
    small_quarantine(srv)
    srv.start()
    try:
        srv.add_user("alice", "alice-pw")
        c = login(srv)
        body = b"Subject: big\r\n\r\n" + (b"z" * 78 + b"\r\n") * (200 * 1024 // 80)
        for i in range(10):
            c.send("a%d APPEND INBOX {%d+}\r\n" % (i, len(body)))
            c.send(body + b"\r\n")
            assert c.read_until_tagged("a%d" % i)[1].startswith("a%d OK" % i)
        ok(c, "SELECT INBOX")
        pid = session_pid(srv, c)
        before = status_kb(pid, "VmHWM")
        # a small receive buffer, so the server blocks early
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send("".join("f%d FETCH 1:* BODY.PEEK[]\r\n" % i for i in range(200)))
        wait_for(lambda: not pid_alive(pid), timeout=30,
                 what="the session to end when its writes time out")
        log = srv.log_text()
        expect(r"the client reads nothing: writing timed out, closing", log)
        c.close()
        print("  VmHWM before the FETCHes %d kB" % before)
    finally:
        srv.stop_and_check()


def test_output_memory_bounded_while_blocked():
    """The same client, looked at while it is blocked: VmHWM within 8 MiB."""
    srv = Server(**{"timeout-unauthenticated": "30s"})
    small_quarantine(srv)
    srv.start()
    try:
        srv.add_user("alice", "alice-pw")
        c = login(srv)
        body = b"Subject: big\r\n\r\n" + (b"z" * 78 + b"\r\n") * (200 * 1024 // 80)
        for i in range(10):
            c.send("a%d APPEND INBOX {%d+}\r\n" % (i, len(body)))
            c.send(body + b"\r\n")
            assert c.read_until_tagged("a%d" % i)[1].startswith("a%d OK" % i)
        ok(c, "SELECT INBOX")
        ok(c, "SEARCH ALL")
        pid = session_pid(srv, c)
        before = status_kb(pid, "VmHWM")
        c.send("".join("f%d FETCH 1:* BODY.PEEK[]\r\n" % i for i in range(200)))
        peak = before
        for _ in range(20):
            time.sleep(0.25)
            peak = max(peak, status_kb(pid, "VmHWM"))
        print("  VmHWM of the session: %d kB before, %d kB with 400 MB of "
              "answers unread" % (before, peak))
        assert peak - before < 8 * 1024, (before, peak)
        assert pid_alive(pid)
        c.close()
    finally:
        srv.stop_and_check()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_rate_limit_delays_the_connection_over_it,
        test_command_line_over_max_request_size,
        test_endless_line_in_bounded_memory,
        test_literals_over_max_request_size,
        test_multiappend_over_1000_messages,
        test_lmtp_recipients_and_connections,
        test_timeout_unauthenticated_ends_the_process,
        test_timeout_authenticated_ends_the_process,
        test_timeout_idle_ends_the_process,
        test_max_unauthenticated_per_address,
        test_max_unauthenticated_per_address_zero_is_off,
        test_child_resource_limits,
        test_client_that_never_reads,
        test_output_memory_bounded_while_blocked,
    ])
