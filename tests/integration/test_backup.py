#!/usr/bin/env python3
"""cairnctl backup: a consistent copy taken while a session keeps
appending and expunging; the copy passes cairnctl fsck and, put in place
as another user's store, serves the same messages byte for byte."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from cairntest import (IS_ROOT, MAIL_USER, append, login, ok,  # noqa: E402
                       require_accounts, run_tests, running_mail_server)
from migrate_util import messages  # noqa: E402


class Churn(threading.Thread):
    """APPEND, then EXPUNGE of the one before, until stopped."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.c = login(srv)
        ok(self.c, "SELECT INBOX")
        self.stop = threading.Event()
        self.rounds = 0
        self.error = None

    def run(self):
        try:
            last = None
            while not self.stop.is_set():
                _, uid = append(self.c, subject="churn %d" % self.rounds)
                if last is not None:
                    ok(self.c, r"UID STORE %d +FLAGS.SILENT (\Deleted)" % last)
                    ok(self.c, "UID EXPUNGE %d" % last)
                last = uid
                self.rounds += 1
        except Exception as e:  # reported by the test
            self.error = e


def restore_as(srv, dest, user):
    """dest put in place as user's store, owned as cairnd wants it."""
    target = os.path.join(srv.dir, "data", "mail", user)
    shutil.copytree(dest, target, symlinks=True)
    if IS_ROOT:
        subprocess.run(["chown", "-R", "%s:%s" % (MAIL_USER, MAIL_USER), target], check=True)
    srv.add_user(user, user + "-pw")


def check_backup(srv, dest, user, before):
    restore_as(srv, dest, user)
    p = srv.cairnctl("fsck", user)
    assert p.returncode == 0, (p.stdout, p.stderr)
    m = srv.imap(user, user + "-pw")
    got = {uid: body for (uid, body, _, _) in messages(m, "INBOX")}
    m.logout()
    # the messages nobody touched are all there, the same
    for uid, body in before.items():
        assert got.get(uid) == body, (uid, got.get(uid))
    # and every churn message the snapshot had is whole
    for uid, body in got.items():
        if uid not in before:
            assert b"Subject: churn " in body and body.endswith(b"\r\n"), body


def backup_under(base):
    with running_mail_server() as srv:
        c = login(srv)
        for i in range(20):
            append(c, flags=r"(\Seen)" if i % 2 else "", subject="steady %d" % i)
        c.close()
        m = srv.imap("alice", "alice-pw")
        before = {uid: body for (uid, body, _, _) in messages(m, "INBOX")}
        m.logout()
        churn = Churn(srv)
        churn.start()
        try:
            dests = []
            for i in range(3):
                dest = os.path.join(base, "backup%d" % i)
                p = srv.cairnctl("backup", "alice", dest)
                assert p.returncode == 0, (p.stdout, p.stderr)
                assert "backup of alice" in p.stdout, p.stdout
                dests.append(dest)
        finally:
            churn.stop.set()
            churn.join(30)
        assert churn.error is None, churn.error
        assert churn.rounds > 0
        # DEST must be new or empty
        p = srv.cairnctl("backup", "alice", dests[0])
        assert p.returncode == 1 and "not empty" in p.stderr, p.stderr
        for i, dest in enumerate(dests):
            check_backup(srv, dest, "copy%d" % i, before)
        return p


def test_backup_same_filesystem():
    base = tempfile.mkdtemp(prefix="cairn-backup-")
    try:
        backup_under(base)
    finally:
        shutil.rmtree(base)


def test_backup_other_filesystem():
    """/dev/shm is a tmpfs: the blobs are copied, not linked."""
    if not os.path.isdir("/dev/shm"):
        raise AssertionError("no /dev/shm to back up to another file system")
    base = tempfile.mkdtemp(prefix="cairn-backup-", dir="/dev/shm")
    try:
        backup_under(base)
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    require_accounts()
    run_tests([test_backup_same_filesystem, test_backup_other_filesystem])
