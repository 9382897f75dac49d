"""OBJECTID (RFC 8474): MAILBOXID from CREATE, SELECT and STATUS, kept by
RENAME and new for a mailbox made again; EMAILID and THREADID from FETCH,
both kept by COPY and MOVE; THREADID shared by a conversation across
mailboxes (a reply filed in Sent, a parent that arrives after its reply),
and the EMAILID and THREADID search keys -- against the real cairnd, with
a second client (python3's imaplib) reading the same ids."""

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


def object_ids(c):
    """[(EMAILID, THREADID)] of the selected mailbox, by MSN."""
    out = []
    for line in ok(c, "FETCH 1:* (EMAILID THREADID)"):
        m = re.match(r"^\* \d+ FETCH \(EMAILID \((%s)\) THREADID \((%s)\)\)$"
                     % (ID, ID), line)
        assert m, line
        out.append((m.group(1), m.group(2)))
    return out


def emailids(c):
    return [e for e, _ in object_ids(c)]


def threadids(c):
    return [t for _, t in object_ids(c)]


def message(msgid, subject, references=None, in_reply_to=None):
    head = "From: a@example.org\r\nSubject: %s\r\nMessage-ID: %s\r\n" % (
        subject, msgid)
    if references:
        head += "References: %s\r\n" % references
    if in_reply_to:
        head += "In-Reply-To: %s\r\n" % in_reply_to
    return (head + "\r\n" + subject + "\r\n").encode()


def search(c, keys):
    untagged = ok(c, "SEARCH " + keys)
    assert len(untagged) == 1 and untagged[0].startswith("* SEARCH"), untagged
    return [int(n) for n in untagged[0].split()[2:]]


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


def test_threadid():
    with server() as srv:
        c = login(srv)
        # INBOX: a question, an unrelated message, a reply that names the
        # question in In-Reply-To only; Sent: our answer (References)
        append(c, "INBOX", message("<q@example.org>", "question"))
        append(c, "INBOX", message("<other@example.org>", "unrelated"))
        append(c, "INBOX", message("<r2@example.org>", "Re: question",
                                   in_reply_to="<q@example.org>"))
        append(c, "Sent", message("<r1@example.net>", "Re: question",
                                  references="<q@example.org>",
                                  in_reply_to="<q@example.org>"))
        # a reply whose parent (<p@example.org>) comes later
        append(c, "INBOX", message("<late-child@example.org>", "Re: late",
                                   references="<p@example.org>"))
        append(c, "INBOX", message("<p@example.org>", "late"))
        ok(c, "SELECT INBOX")
        inbox = object_ids(c)
        q, other, r2, child, parent = [t for _, t in inbox]
        assert q == r2, inbox
        assert other != q and child != q and child != other, inbox
        assert parent == child, inbox
        for e, t in inbox:
            assert re.match(r"^T[0-9a-f]{16}$", t), t
            assert e != t
        # the same thread in another mailbox
        ok(c, "EXAMINE Sent")
        assert threadids(c) == [q]
        # SEARCH THREADID: the thread's messages in the selected mailbox
        ok(c, "SELECT INBOX")
        assert search(c, "THREADID %s" % q) == [1, 3]
        assert search(c, "THREADID %s" % child) == [4, 5]
        assert search(c, "NOT THREADID %s" % q) == [2, 4, 5]
        # ids are case-sensitive, and the kinds do not mix
        upper = "T" + q[1:].upper()
        assert search(c, "THREADID %s" % upper) == ([1, 3] if upper == q else [])
        assert search(c, "THREADID %s" % q.replace("T", "E", 1)) == []
        assert search(c, "EMAILID %s" % q) == []
        untagged = ok(c, "UID SEARCH RETURN (ALL) THREADID %s" % q)
        assert untagged[0].endswith(" UID ALL 1,3"), untagged
        # COPY and MOVE keep it, and a later reply in another mailbox joins
        ok(c, "COPY 3 Archive")
        ok(c, "MOVE 1 Trash")
        append(c, "Archive", message("<r3@example.org>", "Re: question",
                                     references="<q@example.org> <r1@example.net>"))
        ok(c, "SELECT Archive")
        assert threadids(c) == [q, q]
        ok(c, "SELECT Trash")
        assert threadids(c) == [q]
        assert search(c, "THREADID %s" % q) == [1]
        # another session sees the same ids, and they never change
        m = srv.imap("alice", "alice-pw")
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(THREADID)")
        assert typ == "OK", data
        got = [re.search(rb"THREADID \((T[0-9a-f]{16})\)", d).group(1).decode()
               for d in data]
        assert got == [other, r2, child, parent], (got, inbox)
        m.logout()
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([test_mailboxid, test_emailid, test_threadid])
