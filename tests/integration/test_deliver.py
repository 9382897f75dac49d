"""cairn-deliver(8), the local delivery agent, run as an MTA runs it.

Against the real cairnd (cairn-deliver as the mail user "cairn", a member
of lmtp-group): a message read back over IMAP byte for byte as sent after
LF -> CRLF, with the mbox From line gone and its sender in Return-Path;
-m into a mailbox (also a non-ASCII one), -m into a missing one lands in
INBOX; and the exit status of each failure: unknown user 67, over quota
73, too big 65 (refused while reading, and by the server), cairnd stopped
75, socket not writable 77, run as root 77, bad arguments 64, unreadable
or invalid configuration 78; installed set-group-ID lmtp-group, any user
may deliver.

Against a scripted LMTP server on a Unix socket: what goes on the wire
(LHLO, MAIL FROM with SIZE= and BODY=8BITMIME, RCPT TO with
XCAIRN-MAILBOX in xtext, the DATA bytes dot-stuffed), and the status for
replies a well-behaved cairn-lmtpd seldom gives: 4xx, a reply that is not
one, silence (-t), a connection dropped in DATA, a SIZE too small, no
XCAIRN-MAILBOX.

Needs root, to run cairn-deliver as other users (setpriv)."""

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import BUILD, IS_ROOT, MAIL_USER, check_sanitizer_reports  # noqa: E402
from cairntest import fetch_body, login, ok, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server, wait_for  # noqa: E402

DELIVER = os.path.join(BUILD, "deliver", "cairn-deliver")
EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER = 0, 64, 65, 67
EX_UNAVAILABLE, EX_CANTCREAT, EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = 69, 73, 75, 77, 78

AS_MAIL_USER = ["setpriv", "--reuid=" + MAIL_USER, "--regid=" + MAIL_USER, "--init-groups"]
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

# What an MTA pipes in: a From line, LF line ends, a line that starts
# with a dot, 8-bit text, no line end at the very end.
MBOX_MESSAGE = (b"From carol@example.net Mon Nov 23 12:00:00 2026\n"
                b"From: Carol <carol@example.net>\n"
                b"To: alice@example.org\n"
                b"Subject: through cairn-deliver\n"
                b"\n"
                b"first line\n"
                b".a line with a leading dot\n"
                b"..two dots\n"
                b"caf\xc3\xa9 cr\xc3\xa8me\r\n"
                b"last line without its end")
# ... and what the mailbox must hold after the fields cairn-lmtpd adds
STORED = (b"From: Carol <carol@example.net>\r\n"
          b"To: alice@example.org\r\n"
          b"Subject: through cairn-deliver\r\n"
          b"\r\n"
          b"first line\r\n"
          b".a line with a leading dot\r\n"
          b"..two dots\r\n"
          b"caf\xc3\xa9 cr\xc3\xa8me\r\n"
          b"last line without its end\r\n")


def deliver(args, data=b"Subject: x\n\nbody\n", user=AS_MAIL_USER, conf=None,
            program=DELIVER, timeout=60):
    """cairn-deliver [-c conf] args, as user, data on standard input."""
    cmd = list(user) + [program] + (["-c", conf] if conf else []) + list(args)
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    check_sanitizer_reports(err)
    return p.returncode, err


def expect_status(got, want, what):
    status, err = got
    assert status == want, "%s: exit %d, not %d; stderr: %r" % (what, status, want, err)
    if want != EX_OK:
        # one line, naming the program, for the MTA's log and bounce
        assert err.startswith("cairn-deliver: ") and err.count("\n") == 1, repr(err)
    return err


def added_fields(raw, stored):
    """The header fields cairn-lmtpd put in front of the message."""
    assert raw.endswith(stored), (raw[:400], stored[:100])
    added = raw[:-len(stored)].decode("utf-8", "replace")
    names = re.findall(r"^([A-Za-z-]+):", added, re.M)
    assert set(names) == {"Return-Path", "Delivered-To", "Received"}, added
    return added


def status_count(c, mailbox):
    untagged = ok(c, 'STATUS "%s" (MESSAGES)' % mailbox)
    m = re.search(r"\(MESSAGES (\d+)\)", " ".join(untagged))
    assert m, untagged
    return int(m.group(1))


def lmtp_socket(srv):
    path = os.path.join(srv.dir, "run", "lmtp")
    wait_for(lambda: os.path.exists(path), what="cairnd's LMTP socket")
    return path


# ---- against cairnd --------------------------------------------------------

def test_delivered_byte_for_byte():
    with running_mail_server() as srv:
        lmtp_socket(srv)
        expect_status(deliver(["-d", "alice"], MBOX_MESSAGE, conf=srv.conf), EX_OK,
                      "delivery")
        c = login(srv)
        ok(c, "SELECT INBOX")
        added = added_fields(fetch_body(c, 1), STORED)
        # the sender from the From line; the recipient as given
        assert re.search(r"^Return-Path: <carol@example\.net>\r$", added, re.M), added
        assert re.search(r"^Delivered-To: <?alice>?\r$", added, re.M), added
        # -f wins over the From line; "<>" is the null sender
        expect_status(deliver(["-d", "alice", "-f", "dave@example.com"], MBOX_MESSAGE,
                              conf=srv.conf), EX_OK, "with -f")
        expect_status(deliver(["-d", "alice", "-f", "<>"], b"Subject: y\n\nz\n",
                              conf=srv.conf), EX_OK, "null sender")
        ok(c, "NOOP")
        assert re.search(r"^Return-Path: <dave@example\.com>\r$",
                         added_fields(fetch_body(c, 2), STORED), re.M)
        assert re.search(r"^Return-Path: <>\r$",
                         added_fields(fetch_body(c, 3), b"Subject: y\r\n\r\nz\r\n"), re.M)
        c.close()


def test_mailbox_option():
    with running_mail_server() as srv:
        lmtp_socket(srv)
        c = login(srv)
        ok(c, "CREATE Projects")
        ok(c, "CREATE Entw&APw-rfe")          # "Entwürfe" in modified UTF-7
        expect_status(deliver(["-d", "alice", "-m", "Projects"], conf=srv.conf), EX_OK,
                      "-m Projects")
        expect_status(deliver(["-d", "alice", "-m", "Entw\u00fcrfe"], conf=srv.conf),
                      EX_OK, "-m Entwürfe")
        # a mailbox that does not exist means INBOX, and is not created
        expect_status(deliver(["-d", "alice", "-m", "Nowhere"], conf=srv.conf), EX_OK,
                      "-m Nowhere")
        assert status_count(c, "Projects") == 1
        assert status_count(c, "Entw&APw-rfe") == 1
        assert status_count(c, "INBOX") == 1
        untagged, tagged = c.command("t1", 'STATUS Nowhere (MESSAGES)')
        assert tagged.startswith("t1 NO"), tagged
        c.close()


def test_refusals():
    with running_mail_server(**{"lmtp-max-message-size": "20k"}) as srv:
        sock = lmtp_socket(srv)
        # unknown user: 550 5.1.1
        err = expect_status(deliver(["-d", "nosuch"], conf=srv.conf), EX_NOUSER,
                            "unknown user")
        assert "5.1.1" in err, err
        # over quota: 552 5.2.2 (the store exists after the first delivery)
        expect_status(deliver(["-d", "alice"], conf=srv.conf), EX_OK, "the first")
        p = srv.cairnctl("quota", "set", "alice", "messages=1")
        assert p.returncode == 0, p.stderr
        err = expect_status(deliver(["-d", "alice"], conf=srv.conf), EX_CANTCREAT,
                            "over quota")
        assert "5.2.2" in err, err
        p = srv.cairnctl("quota", "set", "alice", "none")
        assert p.returncode == 0, p.stderr
        # too big: refused while reading, by lmtp-max-message-size ...
        big = b"Subject: big\n\n" + (b"x" * 76 + b"\n") * 400     # 31 KB
        err = expect_status(deliver(["-d", "alice"], big, conf=srv.conf), EX_DATAERR,
                            "too big for cairn-deliver")
        assert "lmtp-max-message-size" in err, err
        # ... and by the SIZE the server offers, when cairn-deliver's own file
        # allows more
        conf = os.path.join(srv.dir, "deliver-big.conf")
        with open(conf, "w") as f:
            f.write('run-dir = "%s/run"\ndata-dir = "%s/data"\nlmtp-socket = "%s"\n'
                    'lmtp-max-message-size = 1m\n' % (srv.dir, srv.dir, sock))
        os.chmod(conf, 0o644)
        err = expect_status(deliver(["-d", "alice"], big, conf=conf), EX_DATAERR,
                            "too big for the server")
        assert "(SIZE 20480)" in err, err
        # nothing of it all reached the mailbox
        c = login(srv)
        assert status_count(c, "INBOX") == 1
        c.close()


def test_permissions_and_setup():
    with running_mail_server() as srv:
        sock = lmtp_socket(srv)
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660, oct(os.stat(sock).st_mode)
        # root: refused before anything else, with the documented line
        err = expect_status(deliver(["-d", "alice"], user=[], conf=srv.conf), EX_NOPERM,
                                    "as root")
        assert err == ("cairn-deliver: refusing to run as root; run it as the mail "
                       "user or a member of lmtp-group\n"), err
        # a user outside lmtp-group may not write the socket
        err = expect_status(deliver(["-d", "alice"], user=AS_NOBODY, conf=srv.conf),
                            EX_NOPERM, "as nobody")
        assert "Permission denied" in err and "lmtp-group" in err, err
        # installed set-group-ID lmtp-group, nobody may deliver
        bin_dir = tempfile.mkdtemp(prefix="cairn-deliver-bin-")
        try:
            os.chmod(bin_dir, 0o755)
            copy = os.path.join(bin_dir, "cairn-deliver")
            shutil.copy(DELIVER, copy)
            shutil.chown(copy, "root", MAIL_USER)     # lmtp-group: group's default
            os.chmod(copy, 0o2755)
            if os.statvfs(copy).f_flag & os.ST_NOSUID:
                print("skipped the set-group-ID part: the file system ignores it")
            else:
                expect_status(deliver(["-d", "alice"], user=AS_NOBODY, conf=srv.conf,
                                      program=copy), EX_OK, "set-group-ID, as nobody")
                c = login(srv)
                assert status_count(c, "INBOX") == 1
                c.close()
        finally:
            shutil.rmtree(bin_dir, ignore_errors=True)
        # configuration: unreadable, and invalid
        bad = os.path.join(srv.dir, "unreadable.conf")
        shutil.copy(srv.conf, bad)
        os.chmod(bad, 0o600)                          # root's alone
        err = expect_status(deliver(["-d", "alice"], conf=bad), EX_CONFIG, "unreadable")
        assert "Permission denied" in err, err
        with open(bad, "w") as f:
            f.write("lmtp-socket = relative/path\n")
        os.chmod(bad, 0o644)
        expect_status(deliver(["-d", "alice"], conf=bad), EX_CONFIG, "invalid")
        # bad arguments
        for args in ([], ["-d"], ["-d", "alice", "extra"], ["-x", "-d", "alice"],
                     ["-d", "a b"], ["-d", "alice", "-m", ""], ["-d", "alice", "-t", "0"],
                     ["-d", "alice", "-f", "not an address"],
                     ["-d", "alice", "-m", "bad\x01name"]):
            expect_status(deliver(args, conf=srv.conf), EX_USAGE, "arguments %r" % args)
        p = subprocess.run(AS_MAIL_USER + [DELIVER, "--help"], capture_output=True,
                           text=True)
        assert p.returncode == 0 and "-d USER" in p.stdout, p
        # no configuration file at all
        expect_status(deliver(["-d", "alice"], conf=srv.conf + ".missing"), EX_CONFIG,
                      "no configuration file")
    with running_mail_server() as srv:
        lmtp_socket(srv)
        srv.signal(15)
        srv.proc.wait(10)
        err = expect_status(deliver(["-d", "alice"], conf=srv.conf), EX_TEMPFAIL,
                            "cairnd stopped")
        assert "is cairnd running?" in err, err


# ---- against a scripted server -----------------------------------------------

class FakeLMTP:
    """A Unix-socket LMTP server that answers from a script: replies[verb]
    is the reply to that command (a list: one per call), "greeting" the
    first words (None: say nothing), "data" the reply after the final
    dot ("close": drop the connection in DATA)."""

    def __init__(self, **replies):
        self.dir = tempfile.mkdtemp(prefix="cairn-fake-lmtp-")
        os.chmod(self.dir, 0o755)
        self.path = os.path.join(self.dir, "lmtp")
        self.conf = os.path.join(self.dir, "cairn.conf")
        with open(self.conf, "w") as f:
            f.write('run-dir = "%s"\ndata-dir = "%s"\nlmtp-socket = "%s"\n' % (
                self.dir, self.dir, self.path))
        os.chmod(self.conf, 0o644)
        self.replies = {"greeting": "220 fake LMTP",
                        "LHLO": "250-fake\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
                                "250-8BITMIME\r\n250-SIZE 1000000\r\n250 XCAIRN-MAILBOX",
                        "MAIL": "250 2.1.0 ok", "RCPT": "250 2.1.5 ok",
                        "DATA": "354 go ahead", "data": "250 2.0.0 stored",
                        "QUIT": "221 2.0.0 bye", "RSET": "250 ok"}
        self.replies.update(replies)
        self.commands = []
        self.data = b""
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        try:
            with conn:
                self.converse(conn)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the client left after a refusal, without QUIT's reply

    def converse(self, conn):
        f = conn.makefile("rb")
        if self.replies["greeting"] is None:
            f.read()       # until the client gives up
            return
        conn.sendall(self.replies["greeting"].encode() + b"\r\n")
        for line in f:
            self.commands.append(line.decode("utf-8", "replace").rstrip("\r\n"))
            verb = line[:4].decode("ascii", "replace").upper()
            reply = self.replies.get(verb, "500 5.5.1 what")
            if reply is None:
                f.read()
                return
            conn.sendall(reply.encode() + b"\r\n")
            if verb == "DATA" and reply.startswith("354"):
                while True:
                    chunk = f.readline()
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    self.data += chunk
                    if self.replies["data"] == "close":
                        return
                conn.sendall(self.replies["data"].encode() + b"\r\n")
            if verb == "QUIT":
                return

    def close(self):
        self.sock.close()
        self.thread.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_wire():
    """What cairn-deliver sends, byte for byte."""
    with FakeLMTP() as fake:
        expect_status(deliver(["-d", "alice+x@example.org", "-m", "Entw\u00fcrfe/a+b=c d"],
                              MBOX_MESSAGE, conf=fake.conf), EX_OK, "delivery")
        cmds = fake.commands
        assert re.match(r"^LHLO [A-Za-z0-9.-]+$", cmds[0]), cmds
        # SIZE counts CRLF line ends and not the stuffed dots (RFC 1870)
        assert cmds[1] == "MAIL FROM:<carol@example.net> SIZE=%d BODY=8BITMIME" % \
            len(STORED), cmds
        assert cmds[2] == ("RCPT TO:<alice+x@example.org> "
                           "XCAIRN-MAILBOX=Entw+C3+BCrfe/a+2Bb+3Dc+20d"), cmds
        assert cmds[3:] == ["DATA", "QUIT"], cmds
        stuffed = STORED.replace(b"\r\n.", b"\r\n..")
        assert fake.data == stuffed, fake.data
    # 7-bit, no -m: no BODY=, no XCAIRN-MAILBOX; a server without SIZE: no SIZE=
    with FakeLMTP(LHLO="250-fake\r\n250 PIPELINING") as fake:
        expect_status(deliver(["-d", "alice"], b"Subject: x\n\nbody\n", conf=fake.conf),
                      EX_OK, "plain")
        assert fake.commands[1] == "MAIL FROM:<>", fake.commands
        assert fake.commands[2] == "RCPT TO:<alice>", fake.commands


def test_scripted_failures():
    cases = [
        ({"RCPT": "451 4.3.0 try later"}, [], EX_TEMPFAIL, "451 4.3.0 try later"),
        ({"MAIL": "421 4.3.2 shutting down"}, [], EX_TEMPFAIL, "421"),
        ({"data": "452 4.2.2 full for now"}, [], EX_TEMPFAIL, "452"),
        ({"RCPT": "550 5.1.1 <alice>: no such user"}, [], EX_NOUSER, "5.1.1"),
        ({"data": "552 5.2.2 over quota"}, [], EX_CANTCREAT, "5.2.2"),
        ({"data": "552 5.3.4 too big"}, [], EX_DATAERR, "5.3.4"),
        ({"data": "554 5.6.0 malformed"}, [], EX_DATAERR, "5.6.0"),
        ({"RCPT": "550 5.7.1 not you"}, [], EX_NOPERM, "5.7.1"),
        ({"RCPT": "557 odd"}, [], EX_UNAVAILABLE, "557"),
        ({"RCPT": "hello there"}, [], EX_TEMPFAIL, 'not an LMTP reply after '
         'RCPT TO:<alice>: "hello there"'),
        ({"MAIL": "250-ok\r\n251 odd"}, [], EX_TEMPFAIL, 'not an LMTP reply'),
        ({"greeting": "554 5.3.2 no service"}, [], EX_TEMPFAIL, "554"),
        ({"data": "close"}, [], EX_TEMPFAIL, "lost the connection"),
        ({"LHLO": "250-fake\r\n250 SIZE 10"}, [], EX_DATAERR, "SIZE 10"),
        ({"LHLO": "250 fake"}, ["-m", "Archive"], EX_TEMPFAIL, "XCAIRN-MAILBOX"),
    ]
    for replies, args, want, said in cases:
        with FakeLMTP(**replies) as fake:
            err = expect_status(deliver(["-d", "alice"] + args, conf=fake.conf), want,
                                repr(replies))
            assert said in err, (replies, err)
            # refused before DATA: no message went
            if want != EX_OK and "data" not in replies:
                assert fake.data == b"", fake.data


def test_timeout():
    """A server that says nothing: given up after -t seconds, EX_TEMPFAIL."""
    for replies in ({"greeting": None}, {"RCPT": None}):
        with FakeLMTP(**replies) as fake:
            started = time.monotonic()
            err = expect_status(deliver(["-d", "alice", "-t", "1"], conf=fake.conf),
                                EX_TEMPFAIL, "silent server %r" % replies)
            took = time.monotonic() - started
            assert "no reply within 1 s" in err, err
            assert 0.9 < took < 10, took


if __name__ == "__main__":
    if not IS_ROOT:
        print("SKIP: needs root, to run cairn-deliver as other users")
        print("0 passed, 0 failed")
        sys.exit(0)
    require_accounts()
    run_tests([test_wire, test_scripted_failures, test_timeout,
               test_delivered_byte_for_byte, test_mailbox_option, test_refusals,
               test_permissions_and_setup])
