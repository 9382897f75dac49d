"""QRESYNC (RFC 7162 3.2) and CONDSTORE advertised, against the real cairnd:
a client that went offline resynchronises with SELECT (QRESYNC ...) and is
told exactly what changed (VANISHED (EARLIER), FETCH, EXISTS,
HIGHESTMODSEQ), UID FETCH (CHANGEDSINCE n VANISHED), VANISHED in place of
EXPUNGE for the session's own expunges and another session's, CLOSED on
reselect, the BAD answers, and the answer to a modseq older than the
tombstones kept (purged after 60 days: aged here in index.db)."""

import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (SYSTEM_FLAGS, append, cmd, expect, highestmodseq,  # noqa: E402
                       login, ok, require_accounts, run_tests)
from cairntest import running_mail_server as server  # noqa: E402


def fill(c, n):
    """n messages into INBOX (UIDs 1..n of a fresh mailbox); uidvalidity."""
    uidvalidity = None
    for i in range(n):
        uidvalidity, uid = append(c, subject="message %d" % (i + 1))
        assert uid == i + 1, uid
    return uidvalidity


def status_modseq(c, mailbox="INBOX"):
    for line in ok(c, "STATUS %s (HIGHESTMODSEQ)" % mailbox):
        m = re.match(r"^\* STATUS \S+ \(HIGHESTMODSEQ (\d+)\)$", line)
        if m:
            return int(m.group(1))
    raise AssertionError("no STATUS HIGHESTMODSEQ")


def modseqs(c, uids):
    """{uid: modseq} from UID FETCH ... (MODSEQ)."""
    got = {}
    for line in ok(c, "UID FETCH %s (MODSEQ)" % uids):
        m = re.match(r"^\* \d+ FETCH \(UID (\d+) MODSEQ \((\d+)\)\)$", line)
        if m:
            got[int(m.group(1))] = int(m.group(2))
    return got


def expunge_uids(c, uids):
    """Expunge these UIDs (a UID set) from the mailbox c has selected."""
    ok(c, "UID STORE %s +FLAGS.SILENT (\\Deleted)" % uids)
    ok(c, "UID EXPUNGE %s" % uids)


def select_lines(exists, uidvalidity, uidnext, modseq, unseen=None,
                 readonly=False):
    """The usual untagged lines of SELECT / EXAMINE for IMAP4rev1, where
    no message is \\Recent in this session."""
    lines = ["* %d EXISTS" % exists, "* 0 RECENT", "* FLAGS (%s)" % SYSTEM_FLAGS]
    if readonly:
        lines.append("* OK [PERMANENTFLAGS ()] No permanent flags permitted")
    else:
        lines.append(r"* OK [PERMANENTFLAGS (%s \*)] Flags permitted" % SYSTEM_FLAGS)
    if unseen is not None:
        lines.append("* OK [UNSEEN %d] First unseen" % unseen)
    return lines + ["* OK [UIDVALIDITY %d] UIDs valid" % uidvalidity,
                    "* OK [UIDNEXT %d] Predicted next UID" % uidnext,
                    "* OK [MAILBOXID (M%08x)] Ok" % uidvalidity,
                    "* OK [HIGHESTMODSEQ %d] Highest" % modseq]


def index_db(srv, user="alice"):
    return os.path.join(srv.dir, "data", "mail", user, "index.db")


def age_tombstones(srv, days):
    """Make every tombstone `days` older, behind the server's back.  A
    session of the user stays open meanwhile, so the -wal and -shm files
    exist and stay the server's; their owner is put back all the same."""
    path = index_db(srv)
    owner = os.stat(path)
    db = sqlite3.connect(path, timeout=10)
    db.execute("UPDATE tombstones SET expunged = expunged - ?", (days * 86400,))
    db.commit()
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix) and os.geteuid() == 0:
            os.chown(path + suffix, owner.st_uid, owner.st_gid)


# ---- the capabilities --------------------------------------------------------------

def test_capabilities():
    with server() as srv:
        c = srv.connect_tls()
        greeting = c.readline()
        assert "CONDSTORE" not in greeting and "QRESYNC" not in greeting, greeting
        u, tagged = c.command("l", "LOGIN alice alice-pw")
        expect(r" CONDSTORE QRESYNC[ \]]", tagged)
        caps = ok(c, "CAPABILITY")[0].split()
        assert "CONDSTORE" in caps and "QRESYNC" in caps, caps
        # ENABLE QRESYNC names QRESYNC alone and turns CONDSTORE on with it
        assert ok(c, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        assert ok(c, "ENABLE CONDSTORE") == ["* ENABLED"]
        c.close()


# ---- SELECT (QRESYNC ...) after a time offline -------------------------------------

def test_resync_after_offline():
    with server() as srv:
        b = login(srv)
        uidvalidity = fill(b, 8)
        # a looks at INBOX and goes offline
        a = login(srv)
        untagged = ok(a, "SELECT INBOX")
        modseq = highestmodseq(untagged)
        assert "* OK [UIDVALIDITY %d] UIDs valid" % uidvalidity in untagged, untagged
        ok(a, "LOGOUT")
        a.close()
        # meanwhile b changes flags of 2, 5 and 7, expunges 3 and 6, and
        # two new messages come (9 and 10)
        ok(b, "SELECT INBOX")
        ok(b, "UID STORE 2 +FLAGS.SILENT (\\Flagged)")
        ok(b, "UID STORE 5 +FLAGS.SILENT (\\Seen)")
        expunge_uids(b, "3,6")
        ok(b, "UID STORE 7 +FLAGS.SILENT (\\Answered)")
        append(b, subject="new 1")
        append(b, subject="new 2")
        changed = modseqs(b, "2,5,7,9:10")
        highest = status_modseq(b)
        assert highest == max(changed.values()), (highest, changed)

        # a comes back: exactly what changed among the UIDs it knows
        a = login(srv)
        assert ok(a, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        untagged, tagged = cmd(a, "SELECT INBOX (QRESYNC (%d %d 1:8))" % (uidvalidity, modseq))
        assert tagged == "OK [READ-WRITE] SELECT completed", tagged
        want = select_lines(8, uidvalidity, 11, highest, unseen=1) + [
            "* VANISHED (EARLIER) 3,6",
            "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % changed[2],
            "* 4 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (%d))" % changed[5],
            "* 5 FETCH (UID 7 FLAGS (\\Answered) MODSEQ (%d))" % changed[7]]
        assert untagged == want, "\n".join(untagged)

        # without known UIDs, 1:UIDNEXT-1: the new ones too; CLOSED first
        untagged, tagged = cmd(a, "EXAMINE INBOX (QRESYNC (%d %d))" % (uidvalidity, modseq))
        assert tagged == "OK [READ-ONLY] EXAMINE completed", tagged
        want = (["* OK [CLOSED] Previous mailbox closed"] +
                select_lines(8, uidvalidity, 11, highest, unseen=1, readonly=True) + [
                "* VANISHED (EARLIER) 3,6",
                "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % changed[2],
                "* 4 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (%d))" % changed[5],
                "* 5 FETCH (UID 7 FLAGS (\\Answered) MODSEQ (%d))" % changed[7],
                "* 7 FETCH (UID 9 FLAGS () MODSEQ (%d))" % changed[9],
                "* 8 FETCH (UID 10 FLAGS () MODSEQ (%d))" % changed[10]])
        assert untagged == want, "\n".join(untagged)

        # known UIDs restrict both; from the present modseq: nothing
        untagged = ok(a, "EXAMINE INBOX (QRESYNC (%d %d 1:4))" % (uidvalidity, modseq))
        assert untagged[-3:] == ["* OK [HIGHESTMODSEQ %d] Highest" % highest,
                                 "* VANISHED (EARLIER) 3",
                                 "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))"
                                 % changed[2]], untagged
        untagged = ok(a, "EXAMINE INBOX (QRESYNC (%d %d))" % (uidvalidity, highest))
        assert untagged[-1] == "* OK [HIGHESTMODSEQ %d] Highest" % highest, untagged

        # another UIDVALIDITY: the rest of the parameter is ignored
        untagged = ok(a, "SELECT INBOX (QRESYNC (%d %d 1:8))" % (uidvalidity + 1, modseq))
        assert untagged == ["* OK [CLOSED] Previous mailbox closed"] + select_lines(
            8, uidvalidity, 11, highest, unseen=1), untagged
        # a mailbox that never had mail: nothing to say
        st = ok(a, "STATUS Junk (UIDVALIDITY)")
        junk = re.match(r"^\* STATUS \"?Junk\"? \(UIDVALIDITY (\d+)\)$", st[0])
        assert junk, st
        untagged = ok(a, "SELECT Junk (QRESYNC (%s 1))" % junk.group(1))
        assert untagged[-1].startswith("* OK [HIGHESTMODSEQ "), untagged
        assert not any("VANISHED" in u or "FETCH" in u for u in untagged), untagged
        a.close()
        b.close()


# ---- UID FETCH (CHANGEDSINCE n VANISHED) -------------------------------------------

def test_uid_fetch_vanished():
    with server() as srv:
        b = login(srv)
        fill(b, 10)
        ok(b, "SELECT INBOX")      # b claims them as \Recent, not a
        a = login(srv)
        assert ok(a, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        modseq = highestmodseq(ok(a, "SELECT INBOX"))
        expunge_uids(b, "3:4,10")
        ok(b, "UID STORE 6 +FLAGS.SILENT (\\Flagged)")
        flagged = modseqs(b, "6")[6]
        # a hears of the expunges first (VANISHED, no EARLIER)
        untagged = ok(a, "NOOP")
        assert untagged == ["* VANISHED 3:4,10",
                            "* 4 FETCH (UID 6 FLAGS (\\Flagged) MODSEQ (%d))" % flagged], untagged
        # VANISHED (EARLIER) before the FETCH responses (3.2.6)
        untagged = ok(a, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
        assert untagged == ["* VANISHED (EARLIER) 3:4,10",
                            "* 4 FETCH (UID 6 FLAGS (\\Flagged) MODSEQ (%d))" % flagged], untagged
        # only the UIDs of the set
        untagged = ok(a, "UID FETCH 1:3,5 (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
        assert untagged == ["* VANISHED (EARLIER) 3"], untagged
        # "*" is UIDNEXT - 1: 10 went although 9 is the highest left
        untagged = ok(a, "UID FETCH 7:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
        assert untagged == ["* VANISHED (EARLIER) 10"], untagged
        # nothing since the newest modseq
        now = status_modseq(a)
        assert ok(a, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % now) == []
        # BAD: not UID FETCH, no CHANGEDSINCE
        for bad, why in (("FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)", "UID FETCH only"),
                         ("UID FETCH 1 (FLAGS) (VANISHED)", "needs CHANGEDSINCE"),
                         ("UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED VANISHED)",
                          "given twice")):
            _, tagged = cmd(a, bad)
            assert tagged.startswith("BAD") and why in tagged, (bad, tagged)
        # without ENABLE QRESYNC
        _, tagged = cmd(b, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
        assert tagged == "BAD VANISHED needs ENABLE QRESYNC first", tagged
        # an implicit \Seen comes with UID and MODSEQ (3.2.4)
        untagged = ok(a, "FETCH 1 (BODY[]<0.4>)")
        assert untagged[0] == "* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[]<0> {4}", untagged
        expect(r"^From MODSEQ \(\d+\)\)$", untagged[1])
        a.close()
        b.close()


# ---- VANISHED in place of EXPUNGE ---------------------------------------------------

def test_vanished_instead_of_expunge():
    with server() as srv:
        a = login(srv)
        assert ok(a, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        fill(a, 12)
        ok(a, "SELECT INBOX")
        b = login(srv)
        ok(b, "SELECT INBOX")
        # its own EXPUNGE: one VANISHED with ranges, HIGHESTMODSEQ in the OK
        ok(a, "STORE 1:3,5 +FLAGS.SILENT (\\Deleted)")
        untagged, tagged = cmd(a, "EXPUNGE")
        assert untagged == ["* VANISHED 1:3,5"], untagged
        m = re.match(r"^OK \[HIGHESTMODSEQ (\d+)\] EXPUNGE completed$", tagged)
        assert m, tagged
        assert int(m.group(1)) == status_modseq(a)
        # nothing to expunge: no code
        assert cmd(a, "EXPUNGE") == ([], "OK EXPUNGE completed")
        # UID EXPUNGE
        ok(a, "UID STORE 7:8 +FLAGS.SILENT (\\Deleted)")
        untagged, tagged = cmd(a, "UID EXPUNGE 7")
        assert untagged == ["* VANISHED 7"], untagged
        expect(r"^OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed$", tagged)
        # MOVE
        untagged = ok(a, "UID MOVE 9:10 Trash")
        assert len(untagged) == 2 and untagged[1] == "* VANISHED 9:10", untagged
        expect(r"^\* OK \[COPYUID \d+ 9:10 1:2\] Moved$", untagged[0])
        # b, without QRESYNC, gets EXPUNGE (and the \Deleted of UID 8)
        b_untagged = ok(b, "NOOP")
        assert b_untagged == ["* 10 EXPUNGE", "* 9 EXPUNGE", "* 7 EXPUNGE",
                              "* 5 EXPUNGE", "* 3 EXPUNGE", "* 2 EXPUNGE",
                              "* 1 EXPUNGE", "* 3 FETCH (UID 8 FLAGS (\Deleted))"], \
            b_untagged
        # another session's expunge
        expunge_uids(b, "4,6,11")
        assert ok(a, "NOOP") == ["* VANISHED 4,6,11"]
        # CLOSE says nothing of what it expunges (3.2.8)
        ok(a, "STORE 1 +FLAGS.SILENT (\\Deleted)")
        assert cmd(a, "CLOSE") == ([], "OK CLOSE completed")
        assert ok(b, "NOOP") == ["* 1 EXPUNGE"]
        a.close()
        b.close()


# ---- the answers that are BAD -------------------------------------------------------

def test_bad_qresync_parameters():
    with server() as srv:
        a = login(srv)
        fill(a, 2)
        ok(a, "SELECT INBOX")
        # not enabled: BAD, and the selected mailbox stays selected
        _, tagged = cmd(a, "SELECT INBOX (QRESYNC (1 2))")
        assert tagged == "BAD QRESYNC needs ENABLE QRESYNC first", tagged
        assert ok(a, "FETCH 1 UID") == ["* 1 FETCH (UID 1)"]
        ok(a, "UNSELECT")
        assert ok(a, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        ok(a, "SELECT INBOX")
        for params, why in (("(QRESYNC)", "takes a mailbox name"),
                            ("(QRESYNC 1)", "QRESYNC takes"),
                            ("(QRESYNC (1))", "QRESYNC takes"),
                            ("(QRESYNC (0 1))", "invalid UIDVALIDITY"),
                            ("(QRESYNC (1 0))", "invalid mod-sequence"),
                            ("(QRESYNC (1 x))", "invalid mod-sequence"),
                            ("(QRESYNC (1 2 1:*))", "* is not allowed"),
                            ("(QRESYNC (1 2 1:2 (1:2 3)))", "differ in number"),
                            ("(QRESYNC (1 2) QRESYNC (1 2))", "takes a mailbox name"),
                            ("(QRESYNC (1 2) FOO)", "takes a mailbox name")):
            _, tagged = cmd(a, "SELECT INBOX " + params)
            assert tagged.startswith("BAD") and why in tagged, (params, tagged)
        assert ok(a, "FETCH 2 UID") == ["* 2 FETCH (UID 2)"]
        # CONDSTORE and QRESYNC together are fine
        untagged = ok(a, "EXAMINE INBOX (CONDSTORE QRESYNC (1 2))")
        assert untagged[0] == "* OK [CLOSED] Previous mailbox closed", untagged
        a.close()


# ---- a modseq older than the tombstones kept -------------------------------------------

def test_modseq_older_than_tombstones():
    with server() as srv:
        b = login(srv)
        assert ok(b, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        uidvalidity = fill(b, 10)
        ok(b, "SELECT INBOX")
        expunge_uids(b, "1")
        # a: UIDs 2..10, at message numbers 1..9
        a = login(srv)
        m0 = highestmodseq(ok(a, "SELECT INBOX"))
        ok(a, "LOGOUT")
        a.close()
        expunge_uids(b, "5,8")
        m1 = status_modseq(b)
        # 61 days pass for those tombstones (1, 5 and 8)
        age_tombstones(srv, 61)
        ok(b, "UID STORE 7 +FLAGS.SILENT (\\Flagged)")
        flagged = modseqs(b, "7")[7]
        # the next expunge purges them; 9's tombstone is new
        expunge_uids(b, "9")
        assert "purged 3 tombstones" in srv.log_text()
        highest = status_modseq(b)

        a = login(srv)
        assert ok(a, "ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
        fetch7 = "* 5 FETCH (UID 7 FLAGS (\\Flagged) MODSEQ (%d))" % flagged
        base = select_lines(6, uidvalidity, 11, highest, unseen=1)
        # from before the purge: every UID it may know that is gone (1 went
        # before m0, but the server cannot tell any more)
        untagged = ok(a, "SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, m0))
        assert untagged == base + ["* VANISHED (EARLIER) 1,5,8:9", fetch7], untagged
        # within its known UIDs
        untagged = ok(a, "SELECT INBOX (QRESYNC (%d %d 2:10))" % (uidvalidity, m0))
        assert untagged[1:] == base + ["* VANISHED (EARLIER) 5,8:9", fetch7], untagged
        # seq-match-data: message 1 is still UID 2, 3 still UID 4, so it
        # knows every expunge up to 4; 6 -> 7 no longer holds
        untagged = ok(a, "SELECT INBOX (QRESYNC (%d %d 1:10 (1,3,6 2,4,7)))"
                      % (uidvalidity, m0))
        assert untagged[1:] == base + ["* VANISHED (EARLIER) 5,8:9", fetch7], untagged
        # from the purge on it is exact again
        untagged = ok(a, "SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, m1))
        assert untagged[1:] == base + ["* VANISHED (EARLIER) 9", fetch7], untagged
        # UID FETCH VANISHED too
        assert ok(a, "UID FETCH 1:4 (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0) == \
            ["* VANISHED (EARLIER) 1"]
        assert ok(a, "UID FETCH 1:4 (FLAGS) (CHANGEDSINCE %d VANISHED)" % m1) == []
        a.close()
        b.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_capabilities,
        test_resync_after_offline,
        test_uid_fetch_vanished,
        test_vanished_instead_of_expunge,
        test_bad_qresync_parameters,
        test_modseq_older_than_tombstones,
    ])
