"""Delivery on the store's side (store_deliver, schema step 7) seen
through the real cairnd: tests/deliver_helper does one store_deliver() as
cairn-lmtpd will (it opens the directories, then works as the store's
owner), from a spool directory beside the stores.  A session in IDLE
hears the delivery within a second; FETCH, SEARCH and RFC822.SIZE see the
recipient's lines in front of the spooled file; two users' stores hold
one inode; quota refuses and leaves nothing; cairnctl fsck finds nothing
wrong with shared files."""

import os
import pwd
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import BUILD, IS_ROOT, MAIL_USER, check_sanitizer_reports  # noqa: E402
from cairntest import cmd, expect, fetch_body, heard, login, ok  # noqa: E402
from cairntest import require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

HELPER = os.path.join(BUILD, "tests", "deliver_helper")
MSG = (b"From: Carol <carol@example.org>\r\n"
       b"To: alice@example.net\r\n"
       b"Subject: Two parts\r\n"
       b"Message-ID: <m1@example.org>\r\n"
       b"MIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"xx\"\r\n"
       b"\r\n"
       b"--xx\r\n"
       b"Content-Type: text/plain\r\n"
       b"\r\n"
       b"The quick brown fox jumps.\r\n"
       b"--xx\r\n"
       b"Content-Type: application/octet-stream\r\n"
       b"Content-Transfer-Encoding: base64\r\n"
       b"\r\n"
       b"AAECAw==\r\n"
       b"--xx--\r\n")


def prefix(rcpt):
    return ("Return-Path: <sender@example.com>\n"
            "Delivered-To: %s@example.net\n" % rcpt)


def make_spool(srv):
    """<dir>/spool beside data/mail, the mail user's, 0700, with MSG."""
    spool = os.path.join(srv.dir, "spool")
    os.mkdir(spool, 0o700)
    path = os.path.join(spool, "msg")
    with open(path, "wb") as f:
        f.write(MSG)
        f.flush()
        os.fsync(f.fileno())
    if IS_ROOT:
        pw = pwd.getpwnam(MAIL_USER)
        os.chown(spool, pw.pw_uid, pw.pw_gid)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return spool


def deliver(srv, spool, user, rcpt_prefix, mailbox="INBOX"):
    """(exit status, first line of output, stderr) of one delivery."""
    store = os.path.join(srv.dir, "data", "mail", user)
    p = subprocess.run([HELPER, store, spool, "msg", mailbox, rcpt_prefix],
                       capture_output=True, text=True, timeout=30)
    check_sanitizer_reports(p.stderr)
    return p.returncode, p.stdout.strip(), p.stderr


def start_idle(c):
    c.send("idle IDLE\r\n")
    expect(r"^\+ ", c.readline())


def end_idle(c):
    c.sock.settimeout(10)
    c.send("DONE\r\n")
    _, tagged = c.read_until_tagged("idle")
    assert tagged == "idle OK IDLE terminated", tagged


def test_delivered_over_imap():
    with server() as srv:
        srv.add_user("bob", "bob-pw")
        spool = make_spool(srv)
        a = login(srv)
        ok(a, "SELECT INBOX")
        login(srv, "bob", "bob-pw").close()   # bob's store exists now

        start_idle(a)
        since = time.monotonic()
        rc, out, err = deliver(srv, spool, "alice", prefix("alice"))
        assert rc == 0, (out, err)
        expect(r"^OK \d+ 1$", out)
        expect(r"delivered to INBOX, uid 1 \(linked", err)
        heard(a, r"^\* 1 EXISTS$", since)
        end_idle(a)

        want = prefix("alice").replace("\n", "\r\n").encode() + MSG
        assert fetch_body(a, 1) == want
        untagged = ok(a, "FETCH 1 (RFC822.SIZE BODYSTRUCTURE)")
        expect(r"RFC822\.SIZE %d " % len(want), untagged[0])
        expect(r'\("text" "plain" \("charset" "us-ascii"\) NIL NIL "7bit" 26 ',
               untagged[0])
        untagged = ok(a, "FETCH 1 BODY.PEEK[1]")
        expect(r"BODY\[1\] \{26\}$", untagged[0])
        assert untagged[1].startswith("The quick brown fox jumps."), untagged
        assert ok(a, "SEARCH HEADER Delivered-To alice@example") == ["* SEARCH 1"]
        assert ok(a, "SEARCH HEADER Delivered-To bob@example") == ["* SEARCH"]
        assert ok(a, "SEARCH BODY \"brown fox\"") == ["* SEARCH 1"]
        assert ok(a, "SEARCH TEXT sender@example.com") == ["* SEARCH 1"]
        assert ok(a, "SEARCH BODY sender@example.com") == ["* SEARCH"]
        # a COPY keeps the lines
        ok(a, "COPY 1 Archive")
        ok(a, "SELECT Archive")
        assert fetch_body(a, 1) == want

        rc, out, err = deliver(srv, spool, "bob", prefix("bob"))
        assert rc == 0, (out, err)
        st = os.stat(os.path.join(spool, "msg"))
        assert st.st_nlink == 3, st.st_nlink      # the spool, alice, bob
        b = login(srv, "bob", "bob-pw")
        ok(b, "SELECT INBOX")
        assert fetch_body(b, 1) == prefix("bob").replace("\n", "\r\n").encode() + MSG

        # alice expunges hers: bob's message and the spool's file stay
        ok(a, "SELECT INBOX")
        ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
        ok(a, "EXPUNGE")
        # Archive's copy shares the blob: still linked
        assert os.stat(os.path.join(spool, "msg")).st_nlink == 3
        ok(a, "SELECT Archive")
        ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
        ok(a, "EXPUNGE")
        assert os.stat(os.path.join(spool, "msg")).st_nlink == 2
        assert fetch_body(b, 1) == prefix("bob").replace("\n", "\r\n").encode() + MSG
        a.close()
        b.close()
        for user in ("alice", "bob"):
            p = srv.cairnctl("fsck", user)
            assert p.returncode == 0, (p.stdout, p.stderr)


def test_refused_leaves_nothing():
    with server() as srv:
        spool = make_spool(srv)
        login(srv).close()
        p = srv.cairnctl("quota", "set", "alice", "storage=0")
        assert p.returncode == 0, p.stderr
        rc, out, err = deliver(srv, spool, "alice", prefix("alice"))
        assert rc == 1 and out.startswith("NO OVERQUOTA"), (out, err)
        rc, out, err = deliver(srv, spool, "alice", prefix("alice"), "Nope")
        assert rc == 1 and out.startswith("NO NOT_FOUND"), (out, err)
        rc, out, err = deliver(srv, spool, "alice", "Not a header line\n")
        assert rc == 1 and out.startswith("NO INVALID"), (out, err)
        assert os.stat(os.path.join(spool, "msg")).st_nlink == 1
        store = os.path.join(srv.dir, "data", "mail", "alice")
        assert os.listdir(os.path.join(store, "tmp")) == []
        assert [d for d in os.listdir(os.path.join(store, "blobs"))
                if os.listdir(os.path.join(store, "blobs", d))] == []
        c = login(srv)
        untagged = ok(c, "STATUS INBOX (MESSAGES SIZE)")
        expect(r"\(MESSAGES 0 SIZE 0\)", untagged[0])
        c.close()


if __name__ == "__main__":
    require_accounts()
    if not os.path.exists(HELPER):
        print("%s is missing: make check builds it" % HELPER)
        sys.exit(99)
    run_tests([test_delivered_over_imap, test_refused_leaves_nothing])
