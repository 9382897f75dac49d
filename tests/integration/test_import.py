#!/usr/bin/env python3
"""cairnctl import: a Maildir made by a real Dovecot (dovecot-lda delivers,
IMAP on that Dovecot sets flags and keywords, makes folders and
subscriptions), compared over IMAP with what that Dovecot serves (order,
bytes, flags, keywords, INTERNALDATE); an mbox with mboxrd escapes and
Status flags; reruns and a partial run add nothing twice; an IDLE session
sees imported mail arrive."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from cairntest import (CAIRNCTL, IS_ROOT, login, mail_server,  # noqa: E402
                       require_accounts, run_tests, running_mail_server)
import dovecot  # noqa: E402
from migrate_util import account, assert_same, subscribed  # noqa: E402


def mail(n, extra=""):
    return ("From: Bob <bob@example.org>\nTo: alice@example.org\n"
            "Subject: message %d\nDate: Mon, 2 Nov 2026 10:%02d:00 +0000\n"
            "Message-ID: <m%d@example.org>\n%s\nbody %d\nFrom the start, a line.\n"
            % (n, n, n, extra, n)).encode()


def dovecot_maildir(d):
    """Mail in alice's Dovecot Maildir the way a Dovecot user has it."""
    for n in range(1, 6):
        d.deliver("alice", mail(n))
    m = d.imap("alice")
    try:
        for name in ("Folder", "Folder/Sub", "Caf&AOk-"):
            typ, data = m.create('"%s"' % name)
            assert typ == "OK", data
        m.subscribe('"Folder/Sub"')
        m.subscribe('"Caf&AOk-"')
        m.select("INBOX")
        m.store("1", "+FLAGS", r"(\Seen \Flagged $Forwarded)")
        m.store("2", "+FLAGS", r"(\Answered \Seen custom1)")
        m.store("3", "+FLAGS", r"(\Deleted $Label1 custom1)")
        m.store("4", "+FLAGS", r"(\Draft)")
        m.append('"Folder/Sub"', r"(\Seen)", None, mail(10).replace(b"\n", b"\r\n"))
        m.append('"Caf&AOk-"', r"(\Flagged keyw)", None, mail(11).replace(b"\n", b"\r\n"))
        m.logout()
    finally:
        pass
    # after the IMAP session: stays in new/, no \Seen
    d.deliver("alice", mail(6))
    md = d.maildirs["alice"]
    assert os.listdir(os.path.join(md, "new")), "expected a message in new/"
    assert os.path.exists(os.path.join(md, "dovecot-keywords"))
    assert any(":2," in f for f in os.listdir(os.path.join(md, "cur")))
    return md


def imported(out):
    m = re.search(r"(\d+) imported, (\d+) skipped \(already there\), (\d+) failed", out)
    assert m, out
    return tuple(int(x) for x in m.groups())


def test_dovecot_maildir():
    why = dovecot.available()
    if why:
        raise AssertionError("cannot run Dovecot: " + why)
    with dovecot.Dovecot() as d, running_mail_server() as srv:
        md = dovecot_maildir(d)
        # a folder that is a link elsewhere (the Maildir may be its user's
        # to shape): not followed, as the import reads with root's rights
        elsewhere = os.path.join(d.dir, "elsewhere")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(elsewhere, sub))
        with open(os.path.join(elsewhere, "cur", "1.M1P1.x:2,S"), "wb") as f:
            f.write(mail(99))
        os.symlink(elsewhere, os.path.join(md, ".Evil"))
        p = srv.cairnctl("import", "alice", md)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert imported(p.stdout) == (8, 0, 0), p.stdout
        # stderr is not a terminal: plain progress lines, and the summary
        assert "import: " in p.stderr and "ETA" in p.stderr, p.stderr
        src = d.imap("alice")
        want, want_subs = account(src), subscribed(src)
        src.logout()
        dst = srv.imap("alice", "alice-pw")
        got = account(dst)
        assert "Evil" not in got, sorted(got)
        want.pop("Evil", None)
        assert_same(want, got, "import")
        for name in ("Folder/Sub", "Caf&AOk-"):
            assert name in subscribed(dst), (name, subscribed(dst), want_subs)
        # the message of new/ has no \Seen, the flagged one its keyword
        assert all("\\Seen" not in f for (_, f, _) in got["INBOX"][-1:])
        assert "$Forwarded" in got["INBOX"][0][1]
        dst.logout()
        # a rerun adds nothing
        p = srv.cairnctl("import", "alice", md)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert imported(p.stdout) == (0, 8, 0), p.stdout
        dst = srv.imap("alice", "alice-pw")
        assert_same(want, account(dst), "rerun")
        dst.logout()
        p = srv.cairnctl("fsck", "alice")
        assert p.returncode == 0, (p.stdout, p.stderr)


MBOX = (b"From alice@example.org Tue Nov 24 10:00:00 2026\n"
        b"From: a@example.org\nSubject: one\nStatus: RO\nX-Status: AF\n"
        b"X-Keywords: $Label1 work\nContent-Length: 99\n\n"
        b"first\n>From the escaped line\n>>From twice escaped\nFrom no date here\n\n"
        b"From bob@example.org Wed Nov 25 11:30:15 2026 +0100\n"
        b"From: b@example.org\nSubject: two\nStatus: O\n\n"
        b"second\n\n\n"
        b"From carol@example.org Thu Nov 26 12:00:00 2026\n"
        b"From: c@example.org\nSubject: three\nX-Status: T\n\nthird, no newline at the end")

MBOX_WANT = [
    (b"From: a@example.org\r\nSubject: one\r\n\r\nfirst\r\nFrom the escaped line\r\n"
     b">From twice escaped\r\nFrom no date here\r\n",
     {"\\Seen", "\\Answered", "\\Flagged", "$Label1", "work"}, 1795514400),
    (b"From: b@example.org\r\nSubject: two\r\n\r\nsecond\r\n\r\n", set(), 1795602615),
    (b"From: c@example.org\r\nSubject: three\r\n\r\nthird, no newline at the end",
     {"\\Draft"}, 1795694400),
]


def check_mbox_messages(srv, mailbox, want):
    c = srv.imap("alice", "alice-pw")
    got = account(c).get(mailbox)
    c.logout()
    assert got is not None, mailbox
    assert [g[0] for g in got] == [w[0] for w in want], got
    assert [set(g[1]) for g in got] == [w[1] for w in want], got
    assert [g[2] for g in got] == [w[2] for w in want], got


def test_mbox():
    tmp = tempfile.mkdtemp(prefix="cairn-mbox-")
    try:
        path = os.path.join(tmp, "old.mbox")
        with running_mail_server() as srv:
            # a partial run first: the first two messages
            with open(path, "wb") as f:
                f.write(MBOX[:MBOX.index(b"From carol")])
            p = srv.cairnctl("import", "alice", path, "--mailbox", "Old/Mail")
            assert p.returncode == 0, (p.stdout, p.stderr)
            assert imported(p.stdout) == (2, 0, 0), p.stdout
            with open(path, "wb") as f:
                f.write(MBOX)
            p = srv.cairnctl("import", "alice", path, "--mailbox", "Old/Mail")
            assert p.returncode == 0, (p.stdout, p.stderr)
            assert imported(p.stdout) == (1, 2, 0), p.stdout
            check_mbox_messages(srv, "Old/Mail", MBOX_WANT)
            p = srv.cairnctl("import", "alice", path, "--mailbox", "Old/Mail",
                             "--dry-run")
            assert p.returncode == 0 and "nothing was written" in p.stdout, p.stdout
            # not an mbox
            bad = os.path.join(tmp, "notmbox")
            with open(bad, "wb") as f:
                f.write(b"Subject: hi\n\nno From line\n")
            p = srv.cairnctl("import", "alice", bad)
            assert p.returncode == 1 and "not an mbox" in p.stderr, p.stderr
    finally:
        shutil.rmtree(tmp)


def test_idle_sees_import():
    tmp = tempfile.mkdtemp(prefix="cairn-mbox-")
    try:
        path = os.path.join(tmp, "inbox.mbox")
        with open(path, "wb") as f:
            f.write(MBOX)
        if IS_ROOT:
            os.chmod(tmp, 0o700)  # root's: cairnctl reads it as the mail user
        with running_mail_server() as srv:
            c = login(srv)
            c.command("s", "SELECT INBOX")
            c.send(b"i IDLE\r\n")
            assert c.readline().startswith("+"), "no IDLE continuation"
            p = srv.cairnctl("import", "alice", path)
            assert p.returncode == 0, (p.stdout, p.stderr)
            deadline = time.time() + 30
            seen = None
            while time.time() < deadline:
                line = c.readline()
                if re.match(r"\* 3 EXISTS", line):
                    seen = line
                    break
            assert seen, "IDLE never said 3 EXISTS"
            c.send(b"DONE\r\n")
            c.read_until_tagged("i")
            c.close()
    finally:
        shutil.rmtree(tmp)


def test_usage():
    p = subprocess.run([CAIRNCTL, "import", "alice"], capture_output=True, text=True)
    assert p.returncode == 2 and "missing the path" in p.stderr, p.stderr
    p = subprocess.run([CAIRNCTL, "import", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--dry-run" in p.stdout, p.stdout


if __name__ == "__main__":
    require_accounts()
    run_tests([test_usage, test_mbox, test_idle_sees_import, test_dovecot_maildir])
