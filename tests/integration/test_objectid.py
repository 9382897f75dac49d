"""OBJECTID (RFC 8474): MAILBOXID from CREATE, SELECT and STATUS, kept by
RENAME and new for a mailbox made again; EMAILID and THREADID from FETCH,
EMAILID kept by COPY and MOVE, and the EMAILID and THREADID search keys --
against the real cairnd, with a second client (python3's imaplib) reading
the same ids."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import cmd, expect, login, ok, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

MSG = b"Subject: object ids\r\nFrom: a@example.org\r\n\r\nbody\r\n"
ID = r"[A-Za-z0-9_-]{1,255}"


def append(c, mailbox, data=MSG):
    c.send("ap APPEND %s {%d+}\r\n" % (mailbox, len(data)))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged("ap")[1]
    assert tagged.startswith("ap OK"), tagged


def mailboxid_created(c, name):
    _, tagged = cmd(c, "CREATE %s" % name)
    m = re.match(r"^OK \[MAILBOXID \((%s)\)\] " % ID, tagged)
    assert m, tagged
    return m.group(1)


def mailboxid_status(c, name):
    untagged = ok(c, "STATUS %s (MAILBOXID MESSAGES)" % name)
    m = re.search(r"MAILBOXID \((%s)\)" % ID, untagged[0])
    assert m, untagged
    return m.group(1)


def emailids(c):
    out = []
    for line in ok(c, "FETCH 1:* (EMAILID THREADID)"):
        m = re.match(r"^\* \d+ FETCH \(EMAILID \((%s)\) THREADID NIL\)$" % ID, line)
        assert m, line
        out.append(m.group(1))
    return out


def test_mailboxid():
    with server() as srv:
        c = login(srv)
        caps = ok(c, "CAPABILITY")[0]
        assert " OBJECTID" in caps, caps
        a = mailboxid_created(c, "Projects")
        b = mailboxid_created(c, "Other")
        assert a != b
        assert mailboxid_status(c, "Projects") == a
        untagged = ok(c, "SELECT Projects")
        assert "* OK [MAILBOXID (%s)] Ok" % a in untagged, untagged
        # RENAME keeps it; the INBOX a RENAME leaves behind is a new one
        ok(c, "UNSELECT")
        ok(c, "RENAME Projects Work")
        assert mailboxid_status(c, "Work") == a
        inbox = mailboxid_status(c, "INBOX")
        append(c, "INBOX")
        ok(c, "RENAME INBOX Moved")
        assert mailboxid_status(c, "INBOX") == inbox
        moved = mailboxid_status(c, "Moved")
        assert moved not in (inbox, a, b)
        # deleted and created again: a new mailbox, a new id
        ok(c, "DELETE Other")
        assert mailboxid_created(c, "Other") != b
        c.close()


def test_emailid():
    with server() as srv:
        c = login(srv)
        append(c, "INBOX")
        append(c, "INBOX", MSG.replace(b"body", b"other body"))
        ok(c, "SELECT INBOX")
        first, second = emailids(c)
        assert first != second
        # COPY and MOVE keep the EMAILID
        ok(c, "COPY 1 Archive")
        ok(c, "MOVE 2 Trash")
        ok(c, "SELECT Archive")
        assert emailids(c) == [first]
        untagged = ok(c, "SEARCH EMAILID %s" % first)
        assert untagged == ["* SEARCH 1"], untagged
        assert ok(c, "SEARCH EMAILID %s" % second) == ["* SEARCH"]
        assert ok(c, "SEARCH THREADID T1") == ["* SEARCH"]
        assert ok(c, "UID FETCH 1 (UID EMAILID)")[0].endswith(
            "EMAILID (%s))" % first)
        ok(c, "SELECT Trash")
        assert emailids(c) == [second]
        for bad in ["SEARCH EMAILID", "SEARCH EMAILID a.b", "SEARCH THREADID ()",
                    "FETCH 1 EMAILID[]"]:
            expect(r"^BAD ", cmd(c, bad)[1])
        # imaplib sees the same ids
        m = srv.imap("alice", "alice-pw")
        m.select("Trash")
        typ, data = m.fetch("1", "(EMAILID)")
        assert typ == "OK" and ("EMAILID (%s)" % second).encode() in data[0], data
        m.logout()
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([test_mailboxid, test_emailid])
