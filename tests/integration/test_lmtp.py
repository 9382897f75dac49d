"""Delivery over LMTP (RFC 2033) against the real cairnd: one message to
several recipients over the Unix socket, with the per-recipient answers
(unknown, over quota at RCPT with SIZE and after DATA without it,
disabled), read back over IMAP byte for byte with the lines cairn-lmtpd
adds; one file shared by the recipients' stores; +detail and
XCAIRN-MAILBOX; PIPELINING; a client that leaves in the middle of DATA
or is killed there; a message over lmtp-max-message-size; message after
message over one connection, each user's store opened once; an IDLEing
client told within a second; the TCP listener; the socket's mode and
group, its stale and foreign files, a reload that moves it; and who the
processes run as."""

import grp
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (CAIRND, IS_ROOT, MAIL_USER, Client, Server, expect,  # noqa: E402
                       fetch_body, free_port, heard, login, ok, require_accounts,
                       run_tests, wait_for)
from cairntest import running_mail_server as server  # noqa: E402

SENDER = "sender@example.org"

# CRLF lines, one starting with a dot, one of 1500 octets, 8-bit octets
MESSAGE = (b"From: Sender <sender@example.org>\r\n"
           b"To: alice@example.org, bob@example.org\r\n"
           b"Subject: delivered over LMTP\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n"
           b"\r\n"
           b".a line that starts with a dot\r\n"
           b"..and one with two\r\n"
           b".\r\n" +
           b"x" * 1500 + b"\r\n"
           b"8-bit: caf\xc3\xa9 \xff\xfe\r\n"
           b"the end\r\n")


def stuffed(message):
    """The message as DATA sends it (RFC 5321 4.5.2), with the final dot."""
    lines = message.split(b"\r\n")
    assert lines[-1] == b""
    out = [b"." + l if l.startswith(b".") else l for l in lines[:-1]]
    return b"\r\n".join(out) + b"\r\n.\r\n"


def reply(c):
    """One reply, all its lines."""
    lines = [c.readline()]
    while len(lines[-1]) > 3 and lines[-1][3] == "-":
        lines.append(c.readline())
    return lines


def last(c):
    return reply(c)[-1]


def lhlo(c, name="client.example"):
    c.send("LHLO %s\r\n" % name)
    lines = reply(c)
    assert lines[-1].startswith("250 "), lines
    return lines


def trace_re(rcpt, sender=SENDER, lhlo_name="client.example", peer="local"):
    """The lines cairn-lmtpd puts in front of rcpt's copy."""
    pattern = (r"Return-Path: <%s>\r\nDelivered-To: %s\r\n"
               r"Received: from %s \(%s\)\r\n"
               r"\tby \S+ \(Cairn\) with LMTP id [0-9a-f]{16};\r\n"
               r"\t(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} "
               r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
               r"\d\d:\d\d:\d\d [+-]\d{4}\r\n") % (
                   re.escape(sender), re.escape(rcpt), re.escape(lhlo_name),
                   re.escape(peer))
    return re.compile(pattern.encode())


def check_copy(body, rcpt, message=MESSAGE, **kw):
    m = trace_re(rcpt, **kw).match(body)
    assert m, body[:400]
    assert body[m.end():] == message, body[m.end():m.end() + 200]


def read_message(srv, user, mailbox="INBOX", uid=1):
    c = login(srv, user, user + "-pw")
    ok(c, 'SELECT "%s"' % mailbox)
    body = fetch_body(c, uid)
    c.close()
    return body


def count(srv, user, mailbox="INBOX"):
    c = login(srv, user, user + "-pw")
    line = ok(c, 'STATUS "%s" (MESSAGES)' % mailbox)[0]
    c.close()
    return int(re.search(r"MESSAGES (\d+)", line).group(1))


def add_users(srv, *names):
    for name in names:
        srv.add_user(name, name + "-pw")


def make_store(srv, user):
    """The first login creates the user's store (cairnctl quota needs it)."""
    login(srv, user, user + "-pw").close()


def spool_files(srv):
    return os.listdir(os.path.join(srv.dir, "data", "spool"))


def blob_files(srv, user):
    root = os.path.join(srv.dir, "data", "mail", user, "blobs")
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files]
    return out


def run_cairnd(srv):
    """cairnd -F on srv's configuration, when it is expected to stop at once."""
    return subprocess.run([CAIRND, "-F", "-c", srv.conf], capture_output=True,
                          text=True, timeout=20, env=srv.env)


def test_one_message_to_several_recipients():
    with server() as srv:
        add_users(srv, "bob", "carol", "dave")
        make_store(srv, "carol")
        p = srv.cairnctl("quota", "set", "carol", "storage=1")  # 1 KiB
        assert p.returncode == 0, p.stderr
        srv.cairnctl("user", "disable", "dave")
        c = srv.lmtp()
        lhlo(c)
        c.send("MAIL FROM:<%s>\r\n" % SENDER)
        expect(r"^250 2\.1\.0 ", last(c))
        for rcpt, want in (("alice@example.org", r"^250 2\.1\.5 "),
                           ("nobody@example.org", r"^550 5\.1\.1 <nobody@example\.org>"),
                           ("Bob@Example.org", r"^250 2\.1\.5 "),
                           ("dave@example.org", r"^550 5\.2\.1 "),
                           ("carol@example.org", r"^250 2\.1\.5 ")):
            c.send("RCPT TO:<%s>\r\n" % rcpt)
            expect(want, last(c))
        c.send("DATA\r\n")
        expect(r"^354 ", last(c))
        c.send(stuffed(MESSAGE))
        # one answer per accepted RCPT, in order; carol's quota is known now
        expect(r"^250 2\.0\.0 <alice@example\.org>", last(c))
        expect(r"^250 2\.0\.0 <Bob@Example\.org>", last(c))
        expect(r"^552 5\.2\.2 <carol@example\.org>", last(c))

        # with SIZE, carol is refused at RCPT already (RFC 1870)
        c.send("MAIL FROM:<> SIZE=%d\r\n" % len(MESSAGE))
        expect(r"^250 2\.1\.0 ", last(c))
        c.send("RCPT TO:<carol@example.org>\r\n")
        expect(r"^552 5\.2\.2 <carol@example\.org>", last(c))
        c.send("RCPT TO:<alice@example.org>\r\n")
        expect(r"^250 2\.1\.5 ", last(c))
        c.send("DATA\r\n")
        expect(r"^354 ", last(c))
        c.send(stuffed(MESSAGE))
        expect(r"^250 2\.0\.0 <alice@example\.org>", last(c))
        c.send("QUIT\r\n")
        expect(r"^221 2\.0\.0 ", last(c))
        assert c.closed()

        # read back byte for byte, each with its own lines in front
        check_copy(read_message(srv, "alice"), "alice@example.org")
        check_copy(read_message(srv, "bob"), "Bob@Example.org")
        check_copy(read_message(srv, "alice", uid=2), "alice@example.org", sender="")
        assert count(srv, "carol") == 0
        # one file for both stores: the spool's inode, linked twice
        a, b = blob_files(srv, "alice"), blob_files(srv, "bob")
        assert len(a) == 2 and len(b) == 1, (a, b)
        ino_b = os.stat(b[0]).st_ino
        assert ino_b in [os.stat(f).st_ino for f in a], (a, b)
        assert os.stat(b[0]).st_nlink == 2
        assert spool_files(srv) == []
        log = srv.log_text()
        assert "recipient lookup of 'nobody@example.org': no such user" in log
        assert "delivered to bob, mailbox INBOX, uid 1" in log


def test_detail_and_xcairn_mailbox():
    with server() as srv:
        c = login(srv)
        for name in ("Lists", "Unsubscribed", "Caf&AOk-"):
            ok(c, "CREATE %s" % name)
        ok(c, "SUBSCRIBE Lists")
        l = srv.lmtp()
        lhlo(l)
        l.send("MAIL FROM:<%s>\r\n" % SENDER)
        expect(r"^250 ", last(l))
        rcpts = [
            "RCPT TO:<alice+Lists@example.org>",         # subscribed: Lists
            "RCPT TO:<alice+Unsubscribed@example.org>",  # not subscribed: INBOX
            "RCPT TO:<alice+lists@example.org>",         # the case counts: INBOX
            "RCPT TO:<alice+Nowhere@example.org>",       # no such mailbox: INBOX
            "RCPT TO:<alice> XCAIRN-MAILBOX=Unsubscribed",  # asked for: there
            "RCPT TO:<alice> XCAIRN-MAILBOX=Caf+C3+A9",     # UTF-8, as xtext
            "RCPT TO:<alice> XCAIRN-MAILBOX=Missing",       # none: INBOX
        ]
        for r in rcpts:
            l.send(r + "\r\n")
            expect(r"^250 2\.1\.5 ", last(l))
        l.send("DATA\r\n")
        expect(r"^354 ", last(l))
        l.send(stuffed(MESSAGE))
        for _ in rcpts:
            expect(r"^250 2\.0\.0 ", last(l))
        l.close()
        counts = {}
        for mailbox in ("INBOX", "Lists", "Unsubscribed", "Caf&AOk-"):
            line = ok(c, "STATUS %s (MESSAGES)" % mailbox)[0]
            counts[mailbox] = int(re.search(r"MESSAGES (\d+)", line).group(1))
        assert counts == {"INBOX": 4, "Lists": 1, "Unsubscribed": 1, "Caf&AOk-": 1}, counts
        ok(c, "SELECT Lists")
        check_copy(fetch_body(c, 1), "alice+Lists@example.org")
        c.close()


def test_pipelining_everything_in_one_send():
    with server() as srv:
        srv.add_user("bob", "bob-pw")
        c = srv.lmtp()
        c.send(("LHLO client.example\r\n"
                "MAIL FROM:<%s> BODY=8BITMIME\r\n"
                "RCPT TO:<alice@example.org>\r\n"
                "RCPT TO:<nobody@example.org>\r\n"
                "RCPT TO:<bob@example.org>\r\n"
                "DATA\r\n" % SENDER).encode() + stuffed(MESSAGE) +
               b"MAIL FROM:<>\r\nRCPT TO:<bob>\r\nDATA\r\n" + stuffed(MESSAGE) +
               b"QUIT\r\n")
        lines = reply(c)
        assert lines[1:] == ["250-PIPELINING", "250-ENHANCEDSTATUSCODES",
                             "250-8BITMIME", "250-SIZE 52428800",
                             "250 XCAIRN-MAILBOX"], lines
        for want in (r"^250 2\.1\.0", r"^250 2\.1\.5 <alice", r"^550 5\.1\.1 <nobody",
                     r"^250 2\.1\.5 <bob", r"^354 ", r"^250 2\.0\.0 <alice@",
                     r"^250 2\.0\.0 <bob@", r"^250 2\.1\.0", r"^250 2\.1\.5 <bob>",
                     r"^354 ", r"^250 2\.0\.0 <bob>", r"^221 "):
            expect(want, last(c))
        assert c.closed()
        check_copy(read_message(srv, "bob", uid=2), "bob", sender="")
        check_copy(read_message(srv, "alice"), "alice@example.org")


def test_interrupted_data_delivers_nothing():
    with server() as srv:
        # the client leaves in the middle of DATA
        c = srv.lmtp()
        lhlo(c)
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        c.send(b"Subject: cut short\r\n\r\n" + b"y" * 100000)
        wait_for(lambda: len(spool_files(srv)) == 1, what="the spool file")
        c.close()
        wait_for(lambda: spool_files(srv) == [], what="the spool file to go")
        # an lmtpd killed in the middle: the master removes its file
        c = srv.lmtp()
        lhlo(c)
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        c.send(b"Subject: killed\r\n\r\n" + b"z" * 100000)
        files = wait_for(lambda: spool_files(srv), what="the spool file")
        pid = int(files[0].split(".")[0])
        assert pid in [r[0] for r in srv.lmtpd_children()], (pid, srv.lmtpd_children())
        os.kill(pid, signal.SIGKILL)
        assert c.closed()
        wait_for(lambda: spool_files(srv) == [], what="the master to remove it")
        assert "left by an interrupted delivery" in srv.log_text()
        # a message that ends with "\n.\n" (bare LFs) has not ended
        c = srv.lmtp()
        lhlo(c)
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        c.send(b"Subject: smuggled\r\n\r\nhi\n.\nMAIL FROM:<x>\r\n")
        c.sock.settimeout(1)
        try:
            data = c.sock.recv(100)
        except socket.timeout:
            data = b""
        assert data == b"", data
        c.close()
        wait_for(lambda: spool_files(srv) == [], what="the spool file to go")
        assert count(srv, "alice") == 0


def test_message_over_the_limit():
    with server(**{"lmtp-max-message-size": "10kb"}) as srv:
        c = srv.lmtp()
        lines = lhlo(c)
        assert "250-SIZE 10240" in lines, lines
        c.send("MAIL FROM:<%s> SIZE=10241\r\n" % SENDER)
        expect(r"^552 5\.3\.4 ", last(c))
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice>\r\nRCPT TO:<alice@example.org>\r\n"
               "DATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        c.send(stuffed(b"Subject: big\r\n\r\n" + (b"w" * 998 + b"\r\n") * 11))
        expect(r"^552 5\.3\.4 <alice>", last(c))
        expect(r"^552 5\.3\.4 <alice@example.org>", last(c))
        # still in step; exactly the limit is fine
        exact = b"Subject: ok\r\n\r\n"
        exact += b"v" * (10240 - len(exact) - 2) + b"\r\n"
        assert len(exact) == 10240
        c.send("MAIL FROM:<%s> SIZE=10240\r\nRCPT TO:<alice>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        c.send(stuffed(exact))
        expect(r"^250 2\.0\.0 <alice>", last(c))
        c.close()
        assert count(srv, "alice") == 1
        check_copy(read_message(srv, "alice"), "alice", message=exact)
        assert spool_files(srv) == []

        # A client that ignores SIZE and streams on is read only so far
        # (the limit again, at least 16 MB): then its 552 and the end.
        c = srv.lmtp()
        lhlo(c)
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        chunk = (b"x" * 998 + b"\r\n") * 1024
        sent = 0
        try:
            while sent < 64 * 1024 * 1024:
                c.sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 64 * 1024 * 1024, "the server read 64 MB of an over-limit message"
        expect(r"^552 5\.3\.4 <alice>", last(c))
        expect(r"^421 4\.3\.4 ", last(c))
        c.close()
        assert count(srv, "alice") == 1
        assert spool_files(srv) == []


def test_store_kept_open():
    """Message after message over one connection, as Postfix sends them: a
    user's store is opened once while that user's recipients follow each
    other, sees what other processes changed meanwhile (the quota, a new
    mailbox), and holds no read transaction between commands (a TRUNCATE
    checkpoint from outside completes at once)."""
    with server() as srv:
        add_users(srv, "bob")
        make_store(srv, "bob")
        l = srv.lmtp()
        lhlo(l)

        def transaction(rcpts, answers):
            l.send("MAIL FROM:<%s> SIZE=%d\r\n" % (SENDER, len(MESSAGE)))
            expect(r"^250 2\.1\.0 ", last(l))
            for rcpt, want in rcpts:
                l.send("RCPT TO:%s\r\n" % rcpt)
                expect(want, last(l))
            l.send("DATA\r\n")
            expect(r"^354 ", last(l))
            l.send(stuffed(MESSAGE))
            for want in answers:
                expect(want, last(l))

        transaction([("<alice@example.org>", r"^250 2\.1\.5 ")],
                    [r"^250 2\.0\.0 <alice@"])
        db = os.path.join(srv.dir, "data", "mail", "alice", "index.db")
        con = sqlite3.connect(db, timeout=1)
        row = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        con.close()
        assert row == (0, 0, 0), row  # not busy: no reader holds the WAL

        p = srv.cairnctl("quota", "set", "alice", "messages=1")
        assert p.returncode == 0, p.stderr
        transaction([("<alice@example.org>", r"^552 5\.2\.2 <alice@"),
                     ("<bob@example.org>", r"^250 2\.1\.5 ")],
                    [r"^250 2\.0\.0 <bob@"])
        p = srv.cairnctl("quota", "set", "alice", "none")
        assert p.returncode == 0, p.stderr
        c = login(srv)
        ok(c, "CREATE Later")
        transaction([("<alice@example.org> XCAIRN-MAILBOX=Later",
                      r"^250 2\.1\.5 ")],
                    [r"^250 2\.0\.0 <alice@"])
        l.send("QUIT\r\n")
        expect(r"^221 ", last(l))
        assert l.closed()
        counts = [int(re.search(r"MESSAGES (\d+)", ok(c, "STATUS %s (MESSAGES)" % m)[0])
                      .group(1)) for m in ("INBOX", "Later")]
        assert counts == [1, 1], counts
        c.close()
        assert count(srv, "bob") == 1
        # alice's store: once, and again after bob's; never per command
        log = srv.log_text()
        assert log.count("opened the mail store of alice") == 2, log
        assert log.count("opened the mail store of bob") == 1, log


def test_idle_client_hears_the_delivery():
    with server() as srv:
        c = login(srv)
        ok(c, "SELECT INBOX")
        c.send("i IDLE\r\n")
        expect(r"^\+ ", c.readline())
        l = srv.lmtp()
        lhlo(l)
        l.send("MAIL FROM:<%s>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(l))
        l.send(stuffed(MESSAGE))
        expect(r"^250 2\.0\.0 ", last(l))
        since = time.monotonic()
        heard(c, r"^\* 1 EXISTS$", since)
        c.send("DONE\r\n")
        c.read_until_tagged("i")
        check_copy(fetch_body(c, 1), "alice@example.org")
        l.close()
        c.close()


def test_tcp_listener():
    port = free_port()
    with server(**{"lmtp-bind": '{"127.0.0.1"}', "lmtp-port": port}) as srv:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        c = Client(s)
        expect(r"^220 ", c.readline())
        lhlo(c, "[127.0.0.1]")
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice>\r\nDATA\r\n" % SENDER)
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(c))
        c.send(stuffed(MESSAGE) + b"QUIT\r\n")
        expect(r"^250 2\.0\.0 ", last(c))
        expect(r"^221 ", last(c))
        check_copy(read_message(srv, "alice"), "alice", lhlo_name="[127.0.0.1]",
                   peer="[127.0.0.1]")
        expect(r"listening on 127\.0\.0\.1 port %d \(LMTP\)" % port, srv.log_text())


def test_socket_and_processes():
    group = "mail" if IS_ROOT else None
    opts = {"lmtp-group": '"%s"' % group} if group else {}
    with server(**opts) as srv:
        st = os.lstat(srv.lmtp_socket)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
        if IS_ROOT:
            assert st.st_uid == 0
            assert st.st_gid == grp.getgrnam(group).gr_gid, st.st_gid
        # two ready, as the mail user, in the empty chroot, never root
        wait_for(lambda: len(srv.lmtpd_children()) == 2 and all(
            r[1] == (MAIL_USER if IS_ROOT else r[1]) for r in srv.lmtpd_children()),
            what="two idle cairn-lmtpd")
        c = srv.lmtp()
        lhlo(c)
        wait_for(lambda: len(srv.lmtpd_children()) == 3, what="the pool topped up")
        for pid, user, _, _ in srv.lmtpd_children():
            if IS_ROOT:
                assert user == MAIL_USER, (pid, user)
                assert os.readlink("/proc/%d/root" % pid) == \
                    os.path.join(srv.dir, "run", "empty")
                with open("/proc/%d/status" % pid) as f:
                    expect(r"NoNewPrivs:\s+1", f.read())
            assert user != "root" or not IS_ROOT
        c.send("QUIT\r\n")
        expect(r"^221 ", last(c))
        # a reload that moves the socket: the new one is there, the old gone
        moved = os.path.join(srv.dir, "run", "lmtp2")
        srv.write_config(**{"lmtp-socket": '"%s"' % moved})
        srv.signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(moved) and not os.path.exists(srv.lmtp_socket),
                 what="the socket to move")
        srv.lmtp_socket = moved
        # a reload replaces cairn-authd: lookups meanwhile get 451 4.4.3
        wait_for(lambda: len(re.findall(r"cairn-authd pid \d+ ready", srv.log_text())) == 2,
                 what="the new cairn-authd")
        c = srv.lmtp()
        lhlo(c)
        # stop: a connection is told, in the middle of DATA too; nothing stays
        d = srv.lmtp()
        lhlo(d)
        d.send("MAIL FROM:<>\r\nRCPT TO:<alice>\r\nDATA\r\n")
        for want in (r"^250 ", r"^250 ", r"^354 "):
            expect(want, last(d))
        d.send(b"Subject: never\r\n\r\nhalf")
        wait_for(lambda: spool_files(srv), what="the spool file")
        srv.signal(signal.SIGTERM)
        expect(r"^421 4\.3\.2 \S+ Server shutting down", last(c))
        expect(r"^421 4\.3\.2 \S+ Server shutting down", last(d))
        srv.proc.wait(10)
        assert not os.path.exists(moved), "the socket stays after stop"
        assert spool_files(srv) == []


def test_socket_path_checks():
    srv = Server()
    try:
        os.makedirs(os.path.join(srv.dir, "run"))
        # a stale socket (no one accepts on it) is replaced, as is a stale
        # spool file (left by a crash)
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(srv.lmtp_socket)
        stale.close()
        os.makedirs(os.path.join(srv.dir, "data", "spool"))
        with open(os.path.join(srv.dir, "data", "spool", "123.abc"), "w") as f:
            f.write("half a message")
        srv.start()
        srv.add_user("alice", "alice-pw")
        c = srv.lmtp()
        c.send("QUIT\r\n")
        expect(r"^221 ", last(c))
        assert spool_files(srv) == []
        # a second cairnd on the same socket: it is in use
        other = Server(**{"lmtp-socket": '"%s"' % srv.lmtp_socket})
        p = run_cairnd(other)
        other.stop()
        assert p.returncode == 1, p
        expect(r"lmtp-socket .* is in use by another process", p.stderr)
    finally:
        srv.stop()
    # anything else at the path is left alone, and cairnd does not start
    srv = Server()
    try:
        os.makedirs(os.path.join(srv.dir, "run"))
        with open(srv.lmtp_socket, "w") as f:
            f.write("not a socket\n")
        p = run_cairnd(srv)
        assert p.returncode == 1, p
        expect(r"exists and is not a socket: not removing it", p.stderr)
        assert open(srv.lmtp_socket).read() == "not a socket\n"
    finally:
        srv.stop()
    if IS_ROOT:
        srv = Server(**{"lmtp-group": '"no-such-group-cairn"'})
        try:
            p = run_cairnd(srv)
            assert p.returncode == 1, p
            expect(r"lmtp-group 'no-such-group-cairn' does not exist", p.stderr)
        finally:
            srv.stop()


def test_protocol_errors():
    with server() as srv:
        c = srv.lmtp()
        c.send("EHLO client.example\r\n")
        expect(r"^500 5\.5\.1 ", last(c))
        c.send("MAIL FROM:<%s>\r\n" % SENDER)
        expect(r"^503 5\.5\.1 ", last(c))
        lhlo(c)
        c.send("MAIL FROM:<%s>\r\nDATA\r\nRCPT TO:<bad address>\r\n"
               "RCPT TO:<alice> NOTIFY=NEVER\r\nVRFY alice\r\n" % SENDER)
        for want in (r"^250 ", r"^503 5\.5\.1 ", r"^501 5\.1\.3 ", r"^555 5\.5\.4 ",
                     r"^502 5\.5\.1 "):
            expect(want, last(c))
        c.send("NOOP " + "n" * 600 + "\r\nNOOP\r\n")
        expect(r"^500 5\.5\.2 Line too long", last(c))
        expect(r"^250 ", last(c))
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_one_message_to_several_recipients,
        test_detail_and_xcairn_mailbox,
        test_pipelining_everything_in_one_send,
        test_interrupted_data_delivers_nothing,
        test_message_over_the_limit,
        test_store_kept_open,
        test_idle_client_hears_the_delivery,
        test_tcp_listener,
        test_socket_and_processes,
        test_socket_path_checks,
        test_protocol_errors,
    ])
