"""Crash safety of the store and `cairnctl fsck USER [--repair]`, against
the real cairnd: the cairn-imapd child serving alice is killed with
SIGKILL in the middle of a large APPEND and of a MOVE / COPY / EXPUNGE of
200 messages; afterwards every message is whole and in exactly one place
and fsck is clean.  Data survives a restart of cairnd on the same
data-dir; fsck finds (and --repair removes) an orphan blob file, and as
root every file it creates belongs to the mail user.

What a SIGKILL mid-APPEND leaves: the literal streams into
<store>/tmp/<random> (flock()ed while written), so the kill leaves that
file behind.  fsck leaves a tmp/ file alone while it is younger than a
minute (it cannot tell a dead APPEND from a live one by the lock alone at
that instant), so fsck right after the crash is clean (exit 0) and the
file stays; once it is older (simulated here with utime) fsck reports one
"stale temporary file" (exit 1), --repair removes it and the next fsck
is clean."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (IS_ROOT, MAIL_USER, expect, login, mail_server,  # noqa: E402
                       pid_alive, require_accounts, rss_kb, run_tests, serving_child,
                       wait_for)


def store_dir(srv, user="alice"):
    return os.path.join(srv.dir, "data", "mail", user)


def tmp_files(srv):
    return sorted(os.listdir(os.path.join(store_dir(srv), "tmp")))


def tmp_sizes(srv):
    """Sizes of the files in tmp/ (one that goes meanwhile is left out)."""
    out = []
    for f in tmp_files(srv):
        try:
            out.append(os.path.getsize(os.path.join(store_dir(srv), "tmp", f)))
        except OSError:
            pass
    return out


def blob_files(srv):
    out = []
    for d, _, files in os.walk(os.path.join(store_dir(srv), "blobs")):
        out.extend(os.path.join(d, f) for f in files)
    return sorted(out)


def dead(pid):
    """Gone, or a zombie."""
    return not pid_alive(pid)


def kill_child(pid):
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: dead(pid), what="pid %d to die" % pid)


def fsck(srv, *args, user="alice"):
    return srv.cairnctl("fsck", user, *args)


def append(c, tag, mailbox, data):
    if isinstance(data, str):
        data = data.encode()
    c.send("%s APPEND %s {%d+}\r\n" % (tag, mailbox, len(data)))
    c.send(data + b"\r\n")
    u, t = c.read_until_tagged(tag)
    assert t.startswith(tag + " OK"), t
    return t


def count(c, mailbox):
    u, t = c.command("st", "STATUS %s (MESSAGES)" % mailbox)
    assert t.startswith("st OK"), (u, t)
    for line in u:
        if line.startswith("* STATUS"):
            return int(line.rsplit("MESSAGES ", 1)[1].rstrip(")"))
    raise AssertionError(u)


def subjects(c, mailbox):
    """The Subject of every message in mailbox (EXAMINE, FETCH)."""
    u, t = c.command("ex", "EXAMINE %s" % mailbox)
    assert t.startswith("ex OK"), t
    c.send("fe FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
    out = []
    while True:
        line = c.readline()
        if line.startswith("fe "):
            assert line.startswith("fe OK") or "No matching" in line or \
                line.startswith("fe BAD"), line
            break
        if line.endswith("}") and "FETCH" in line:
            n = int(line.rsplit("{", 1)[1][:-1])
            while len(c.buf) < n:
                c.buf += c.sock.recv(65536)
            lit, c.buf = c.buf[:n], c.buf[n:]
            out.append(lit.decode().split(":", 1)[1].strip())
    return out


def message(i):
    return ("From: a@example.org\r\nSubject: m%d\r\n\r\nbody %d\r\n" % (i, i)).encode()


def expect_fsck_clean(srv):
    p = fsck(srv)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == "alice: no problems found\n", p.stdout
    assert p.stderr == "", p.stderr


def age_tmp_files(srv, seconds=120):
    t = time.time() - seconds
    for f in tmp_files(srv):
        os.utime(os.path.join(store_dir(srv), "tmp", f), (t, t))


def repair_stale_tmp(srv, n):
    """n stale tmp/ files: fsck reports them, --repair removes them."""
    age_tmp_files(srv)
    p = fsck(srv)
    assert p.returncode == 1, (p.stdout, p.stderr)
    lines = p.stdout.splitlines()
    assert len(lines) == n + 1, lines
    for line in lines[:-1]:
        expect(r"^tmp/\S+: stale temporary file$", line)
    assert lines[-1] == ("alice: %d problem%s found, not repaired (cairnctl "
                         "fsck alice --repair fixes them)" % (n, "" if n == 1 else "s")), lines
    assert len(tmp_files(srv)) == n
    p = fsck(srv, "--repair")
    assert p.returncode == 1, (p.stdout, p.stderr)
    lines = p.stdout.splitlines()
    for line in lines[:-1]:
        expect(r"^tmp/\S+: stale temporary file \(removed\)$", line)
    assert lines[-1] == "alice: %d problem%s found, repaired" % (n, "" if n == 1 else "s")
    assert tmp_files(srv) == []
    expect_fsck_clean(srv)


BIG_LINE = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"


def test_kill_during_large_append():
    srv = mail_server(**{"max-request-size": "30mb"})
    try:
        c = login(srv)
        for i in range(3):
            append(c, "p%d" % i, "INBOX", message(i))
        c.close()
        before = blob_files(srv)
        assert len(before) == 3

        # 1. killed half way through the literal: the literal streams into
        # tmp/<random> as it arrives (imapd/cmd-append.c), never into the
        # child's memory, so the kill leaves that one file, partly written:
        # no blob, no message; fsck leaves it alone while it is fresh and
        # removes it once it is old
        c = login(srv)
        child = serving_child(srv)
        rss = rss_kb(child)
        c.sock.settimeout(60)
        c.send("a APPEND INBOX {20000000}\r\n")
        expect(r"^\+ ", c.readline())
        body = b"Subject: big\r\n\r\n" + BIG_LINE * (10 * 1024 * 1024 // len(BIG_LINE))
        c.send(body)
        wait_for(lambda: sum(tmp_sizes(srv)) >= 8 * 1024 * 1024,
                 what="the child to stream the data into tmp/")
        grown = rss_kb(child) - rss
        assert grown < 4 * 1024, "the literal is in memory: RSS +%d kB" % grown
        kill_child(child)
        assert c.closed(10)
        c.close()
        c = login(srv)
        assert count(c, "INBOX") == 3
        assert subjects(c, "INBOX") == ["m0", "m1", "m2"]
        c.close()
        assert blob_files(srv) == before, "no partial message was linked"
        left = tmp_files(srv)
        assert len(left) == 1, left
        with open(os.path.join(store_dir(srv), "tmp", left[0]), "rb") as f:
            part = f.read()
        assert len(part) >= 8 * 1024 * 1024 and body.startswith(part), len(part)
        expect_fsck_clean(srv)
        assert tmp_files(srv) == left, "fsck left the fresh file alone"
        repair_stale_tmp(srv, 1)

        # 2. killed once the whole literal is in tmp/<random>, while the
        # store commits it (or just after): either the message is there
        # whole, or it is not and its tmp/ file is left for fsck
        full = b"Subject: big\r\n\r\n" + BIG_LINE * (20 * 1000 * 1000 // len(BIG_LINE))
        caught = None
        for attempt in range(5):
            c = login(srv)
            child = serving_child(srv)
            c.sock.settimeout(60)
            c.send("b APPEND INBOX {%d}\r\n" % len(full))
            expect(r"^\+ ", c.readline())
            c.send(full + b"\r\n")
            # the file exists from the literal's announcement on; the
            # literal is in when it is whole (or already committed and gone)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                sizes = tmp_sizes(srv)
                if not sizes or max(sizes) >= len(full):
                    break
            kill_child(child)
            c.close()
            c = login(srv)
            n = count(c, "INBOX")
            c.close()
            n_tmp = len(tmp_files(srv))
            assert len(blob_files(srv)) == n, "one blob per message"
            if n_tmp:
                caught = (attempt, n, n_tmp)
                break
        print("  killed with the literal in: %s" % (
            "APPEND committed every time" if caught is None else
            "tmp/ file left on attempt %d, %d messages" % caught[:2]))
        c = login(srv)
        n = count(c, "INBOX")
        got = fetch_all(c, "INBOX")
        c.close()
        assert len(got) == n
        # no partial message: each is one of the known ones, byte for byte
        for uid, (flags, data) in got.items():
            assert data in (message(0), message(1), message(2), full), (uid, len(data))
        # a fresh tmp/ file is left alone (exit 0); old, it is reported
        # and --repair removes it
        expect_fsck_clean(srv)
        if caught is not None:
            assert len(tmp_files(srv)) == 1, tmp_files(srv)
            repair_stale_tmp(srv, 1)
        assert tmp_files(srv) == []
        # the store still works
        c = login(srv)
        append(c, "q", "INBOX", message(3))
        assert count(c, "INBOX") == n + 1
        c.close()
        expect_fsck_clean(srv)
    finally:
        srv.stop_and_check()


def fill(c, n):
    """Append n small messages to INBOX, pipelined (LITERAL+)."""
    data = b""
    for i in range(n):
        m = message(i)
        data += b"f%d APPEND INBOX {%d+}\r\n" % (i, len(m)) + m + b"\r\n"
    c.send(data)
    for i in range(n):
        u, t = c.read_until_tagged("f%d" % i)
        assert t.startswith("f%d OK" % i), t


def check_exactly_once(srv, n, boxes):
    c = login(srv)
    seen = {}
    for box in boxes:
        seen[box] = subjects(c, box)
        assert count(c, box) == len(seen[box])
    c.close()
    allsubj = [s for box in boxes for s in seen[box]]
    assert sorted(allsubj) == sorted("m%d" % i for i in range(n)), \
        {b: len(s) for b, s in seen.items()}
    return {b: len(s) for b, s in seen.items()}


def test_kill_during_move_copy_expunge():
    n = 200
    srv = mail_server()
    outcomes = []
    try:
        c = login(srv)
        fill(c, n)
        c.close()
        # MOVE of all, the child killed at once, then a little later
        for rnd, delay in enumerate((0, 0.002, 0.01)):
            c = login(srv)
            child = serving_child(srv)
            src, dst = ("INBOX", "Archive") if rnd % 2 == 0 else ("Archive", "INBOX")
            u, t = c.command("s", "SELECT %s" % src)
            assert t.startswith("s OK"), t
            c.send("m UID MOVE 1:* %s\r\n" % dst)
            time.sleep(delay)
            kill_child(child)
            c.close()
            got = check_exactly_once(srv, n, ["INBOX", "Archive"])
            outcomes.append(("MOVE", delay, got))
        # get everything back to INBOX
        c = login(srv)
        c.command("s", "SELECT Archive")
        u, t = c.command("m", "UID MOVE 1:* INBOX")
        assert t.startswith("m OK") or "No matching" in t or t.startswith("m BAD"), t
        c.close()
        assert check_exactly_once(srv, n, ["INBOX", "Archive"]) == {"INBOX": n, "Archive": 0}

        # COPY: all or nothing of a copy
        c = login(srv)
        child = serving_child(srv)
        c.command("s", "SELECT INBOX")
        c.send("c COPY 1:* Trash\r\n")
        kill_child(child)
        c.close()
        c = login(srv)
        inbox, trash = count(c, "INBOX"), count(c, "Trash")
        c.close()
        assert inbox == n and trash in (0, n), (inbox, trash)
        outcomes.append(("COPY", 0, {"INBOX": inbox, "Trash": trash}))

        # EXPUNGE of everything \Deleted: all or nothing
        c = login(srv)
        c.command("s", "SELECT INBOX")
        u, t = c.command("d", "STORE 1:* +FLAGS.SILENT (\\Deleted)")
        assert t.startswith("d OK"), t
        c.close()
        c = login(srv)
        child = serving_child(srv)
        c.command("s", "SELECT INBOX")
        c.send("e EXPUNGE\r\n")
        kill_child(child)
        c.close()
        c = login(srv)
        inbox = count(c, "INBOX")
        c.close()
        assert inbox in (0, n), inbox
        outcomes.append(("EXPUNGE", 0, {"INBOX": inbox}))

        # no tmp/ file (nothing was appended when killed); blobs: refcounts
        # and files agree, so fsck is clean without repair
        assert tmp_files(srv) == []
        expect_fsck_clean(srv)
        print("  outcomes: %s" % outcomes)
    finally:
        srv.stop_and_check()


def restart(srv):
    """SIGTERM cairnd and start a new one on the same config and data-dir."""
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(10)
    assert srv.proc.returncode == 0, srv.proc.returncode
    srv.log.close()
    srv.start()


def fetch_all(c, mailbox):
    """{uid: (flags, bytes)} via UID FETCH (FLAGS BODY.PEEK[])."""
    u, t = c.command("ex", "EXAMINE %s" % mailbox)
    assert t.startswith("ex OK"), t
    c.send("fa UID FETCH 1:* (FLAGS BODY.PEEK[])\r\n")
    out = {}
    while True:
        line = c.readline()
        if line.startswith("fa "):
            assert line.startswith("fa OK"), line
            return out
        if "FETCH" in line and line.endswith("}"):
            n = int(line.rsplit("{", 1)[1][:-1])
            while len(c.buf) < n:
                c.buf += c.sock.recv(65536)
            body, c.buf = c.buf[:n], c.buf[n:]
            rest = c.readline()
            whole = line + rest
            uid = int(whole.split("UID ", 1)[1].split()[0].rstrip(")"))
            flags = whole.split("FLAGS (", 1)[1].split(")", 1)[0]
            out[uid] = (sorted(flags.split()), body)


def test_data_survives_restart():
    srv = mail_server()
    try:
        c = login(srv)
        # 8-bit, bare LF, long lines (no NUL: IMAP sends none in a literal)
        big = (b"Subject: big\r\n\r\n" + bytes(range(1, 256)) * 4000 +
               b"\nbare LF\n" + BIG_LINE * 1000)
        append(c, "a1", "INBOX", message(1))
        append(c, "a2", "INBOX", big)
        u, t = c.command("c1", "CREATE Projects/2026")
        assert t.startswith("c1 OK"), t
        append(c, "a3", "Projects/2026", message(3))
        c.command("s", "SELECT INBOX")
        u, t = c.command("f", "STORE 1 +FLAGS (\\Flagged $Important)")
        assert t.startswith("f OK"), t
        u, t = c.command("f2", "STORE 2 +FLAGS (\\Seen)")
        assert t.startswith("f2 OK"), t
        before = {box: fetch_all(c, box) for box in ("INBOX", "Projects/2026")}
        u, t = c.command("li", 'LIST "" "*"')
        assert t.startswith("li OK"), t
        list_before = sorted(u)
        c.close()
        assert before["INBOX"][1] == (["$Important", "\\Flagged"], message(1))
        assert before["INBOX"][2] == (["\\Seen"], big)

        restart(srv)

        c = login(srv)
        after = {box: fetch_all(c, box) for box in ("INBOX", "Projects/2026")}
        assert after == before
        u, t = c.command("li", 'LIST "" "*"')
        assert sorted(u) == list_before, (u, list_before)
        expect(r'Projects/2026', "\n".join(u))
        c.close()
        expect_fsck_clean(srv)
    finally:
        srv.stop_and_check()


def owners(directory):
    """{path: uid} of directory and everything in it."""
    out = {directory: os.lstat(directory).st_uid}
    for d, dirs, files in os.walk(directory):
        for f in dirs + files:
            out[os.path.join(d, f)] = os.lstat(os.path.join(d, f)).st_uid
    return out


def test_fsck_orphan_blob_and_ownership():
    srv = mail_server()
    try:
        c = login(srv)
        append(c, "a", "INBOX", message(1))
        c.close()
        expect_fsck_clean(srv)
        # an orphan: a file in blobs/xx/ no row names (a crash between the
        # link and the commit leaves one)
        real = blob_files(srv)
        assert len(real) == 1
        orphan_dir = os.path.join(store_dir(srv), "blobs", "ab")
        os.makedirs(orphan_dir, exist_ok=True)
        orphan = os.path.join(orphan_dir, "ab0123456789cdef")
        with open(orphan, "wb") as f:
            f.write(b"Subject: orphan\r\n\r\nx\r\n")
        if IS_ROOT:
            import pwd
            mail = pwd.getpwnam(MAIL_USER)
            os.chown(orphan_dir, mail.pw_uid, mail.pw_gid)
            os.chown(orphan, mail.pw_uid, mail.pw_gid)
        p = fsck(srv)
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert p.stdout == ("blobs/ab/ab0123456789cdef: orphan blob file\n"
                            "alice: 1 problem found, not repaired (cairnctl fsck "
                            "alice --repair fixes them)\n"), p.stdout
        assert os.path.exists(orphan)
        p = fsck(srv, "--repair")
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert p.stdout == ("blobs/ab/ab0123456789cdef: orphan blob file (removed)\n"
                            "alice: 1 problem found, repaired\n"), p.stdout
        assert not os.path.exists(orphan)
        assert blob_files(srv) == real
        expect_fsck_clean(srv)
        c = login(srv)
        assert count(c, "INBOX") == 1
        c.close()

        # a user without a store directory: one line, exit 1
        p = srv.cairnctl("fsck", "nobody-here")
        assert p.returncode == 1 and p.stdout == "", (p.stdout, p.stderr)
        assert len(p.stderr.splitlines()) == 1, p.stderr
        expect(r"^cairnctl: no mail store for user nobody-here: .*/data/mail/nobody-here "
               r"does not exist$", p.stderr)
        # usage and names
        for args, rc in ((["fsck"], 2), (["fsck", "alice", "bob"], 2),
                         (["fsck", "--force", "alice"], 2), (["fsck", "Alice"], 1),
                         (["fsck", "../alice"], 1)):
            p = srv.cairnctl(*args)
            assert p.returncode == rc, (args, p.returncode, p.stderr)
        p = srv.cairnctl("fsck", "--help")
        assert p.returncode == 0 and "--repair" in p.stdout

        if IS_ROOT:
            import pwd
            mail = pwd.getpwnam(MAIL_USER)
            # with cairnd stopped, SQLite's -wal/-shm stay (no store close
            # checkpoints: store/index.c); an SQLite that is not Cairn's
            # takes the WAL into index.db and removes both at its close,
            # and tmp/ is removed: fsck (as root) makes them again, as the
            # mail user
            srv.proc.send_signal(signal.SIGTERM)
            srv.proc.wait(10)
            db = os.path.join(store_dir(srv), "index.db")
            assert os.path.exists(db + "-wal") and os.path.exists(db + "-shm")
            con = sqlite3.connect(db)
            assert con.execute("SELECT count(*) FROM messages").fetchone()[0] >= 1
            con.close()
            assert not os.path.exists(db + "-wal") and not os.path.exists(db + "-shm")
            os.rmdir(os.path.join(store_dir(srv), "tmp"))
            expect_fsck_clean(srv)
            assert os.path.isdir(os.path.join(store_dir(srv), "tmp"))
            bad = {p: u for p, u in owners(store_dir(srv)).items() if u != mail.pw_uid}
            assert bad == {}, bad
            # a store directory made by hand, empty: fsck creates the store
            bob = store_dir(srv, "bob")
            os.mkdir(bob, 0o700)
            os.chown(bob, mail.pw_uid, mail.pw_gid)
            p = srv.cairnctl("fsck", "bob")
            assert p.returncode == 0 and p.stdout == "bob: no problems found\n", \
                (p.stdout, p.stderr)
            made = owners(bob)
            assert os.path.join(bob, "index.db") in made, made
            bad = {p: u for p, u in made.items() if u != mail.pw_uid}
            assert bad == {}, bad
            # a store directory the mail user does not own is refused
            os.chown(bob, 0, 0)
            p = srv.cairnctl("fsck", "bob")
            assert p.returncode == 1, (p.stdout, p.stderr)
            expect(r"not by the mail user cairn: refusing it", p.stderr)
            # a symbolic link is not followed
            os.symlink(bob, store_dir(srv, "carol"))
            p = srv.cairnctl("fsck", "carol")
            assert p.returncode == 1, (p.stdout, p.stderr)
            expect(r"symbolic link is not followed", p.stderr)
    finally:
        srv.stop_and_check()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_kill_during_large_append,
        test_kill_during_move_copy_expunge,
        test_data_survives_restart,
        test_fsck_orphan_blob_and_ownership,
    ])
