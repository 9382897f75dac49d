"""The selected state: SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3) line by
line, a failed SELECT, STORE in all its forms (6.4.6) with keywords and
CONDSTORE's UNCHANGEDSINCE (RFC 7162 3.1.3), COPY with COPYUID (RFC 4315),
MOVE (RFC 6851), EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT (RFC 3691), CHECK,
read-only refusals, TRYCREATE, sequence-set errors, and two sessions of
one user seeing each other's changes -- against the real cairnd, with raw
lines and with python's imaplib.  Messages come in by APPEND."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (SYSTEM_FLAGS, append, cmd, expect, highestmodseq,  # noqa: E402
                       login, message, ok, require_accounts, run_tests)
from cairntest import running_mail_server as server  # noqa: E402


def select_lines(exists, recent, uidvalidity, uidnext, modseq, unseen=None,
                 keywords="", readonly=False):
    """The untagged lines of SELECT / EXAMINE for an IMAP4rev1 client."""
    kw = " " + keywords if keywords else ""
    lines = ["* %d EXISTS" % exists, "* %d RECENT" % recent,
             "* FLAGS (%s%s)" % (SYSTEM_FLAGS, kw)]
    if readonly:
        lines.append("* OK [PERMANENTFLAGS ()] No permanent flags permitted")
    else:
        lines.append(r"* OK [PERMANENTFLAGS (%s%s \*)] Flags permitted" % (SYSTEM_FLAGS, kw))
    if unseen is not None:
        lines.append("* OK [UNSEEN %d] First unseen" % unseen)
    lines += ["* OK [UIDVALIDITY %d] UIDs valid" % uidvalidity,
              "* OK [UIDNEXT %d] Predicted next UID" % uidnext,
              # RFC 8474: Cairn's MAILBOXID is M and the UIDVALIDITY in hex
              "* OK [MAILBOXID (M%08x)] Ok" % uidvalidity,
              "* OK [HIGHESTMODSEQ %d] Highest" % modseq]
    return lines


def mailbox_with(c, n, mailbox="INBOX", seen_first=False):
    """APPEND n messages to mailbox; returns its uidvalidity."""
    uidvalidity = None
    for i in range(n):
        uidvalidity, _ = append(c, mailbox, r"(\Seen)" if seen_first and i == 0 else "",
                                "message %d" % (i + 1))
    return uidvalidity


# ---- SELECT, EXAMINE ----------------------------------------------------------

def test_select_and_examine_responses():
    with server() as srv:
        c = login(srv)
        uidvalidity = mailbox_with(c, 3, seen_first=True)
        untagged, tagged = cmd(c, "SELECT INBOX")
        modseq = highestmodseq(untagged)
        assert untagged == select_lines(3, 3, uidvalidity, 4, modseq, unseen=2), untagged
        assert tagged == "OK [READ-WRITE] SELECT completed", tagged
        # EXAMINE closes the SELECTed mailbox first (CLOSED, RFC 9051 7.1);
        # the messages are claimed as \Recent by the SELECT already
        untagged, tagged = cmd(c, "EXAMINE inbox")
        assert untagged == ["* OK [CLOSED] Previous mailbox closed"] + select_lines(
            3, 0, uidvalidity, 4, modseq, unseen=2, readonly=True), untagged
        assert tagged == "OK [READ-ONLY] EXAMINE completed", tagged
        # an empty mailbox: no UNSEEN; the CONDSTORE parameter is accepted
        untagged, tagged = cmd(c, "SELECT Junk (CONDSTORE)")
        assert untagged[0] == "* OK [CLOSED] Previous mailbox closed", untagged
        assert untagged[1:4] == ["* 0 EXISTS", "* 0 RECENT",
                                 "* FLAGS (%s)" % SYSTEM_FLAGS], untagged
        assert not any("UNSEEN" in line for line in untagged), untagged
        expect(r"^\* OK \[UIDNEXT 1\] ", untagged[-3])
        assert tagged == "OK [READ-WRITE] SELECT completed", tagged
        # the same, as a literal and as a quoted string
        c.send('s1 SELECT {5+}\r\nINBOX\r\n')
        expect(r"^s1 OK \[READ-WRITE\]", c.read_until_tagged("s1")[1])
        expect(r"^OK \[READ-ONLY\]", cmd(c, 'EXAMINE "INBOX"')[1])
        c.close()


def test_select_arguments():
    with server() as srv:
        c = login(srv)
        expect(r"^BAD ", cmd(c, "SELECT")[1])
        expect(r"^BAD ", cmd(c, "SELECT INBOX (QRESYNC (1 2))")[1])
        expect(r"^BAD ", cmd(c, "SELECT INBOX ()")[1])
        expect(r"^BAD ", cmd(c, "SELECT INBOX CONDSTORE")[1])
        expect(r"^BAD ", cmd(c, "EXAMINE (INBOX)")[1])
        # modified UTF-7 (RFC 3501 5.1.3) is checked strictly: no mailbox
        # has a name that is not; 8-bit needs UTF8=ACCEPT or IMAP4rev2
        assert cmd(c, "SELECT &Jjo")[1] == "NO [NONEXISTENT] No such mailbox"
        assert cmd(c, "SELECT &AGE-")[1] == "NO [NONEXISTENT] No such mailbox"
        assert cmd(c, "SELECT &AOQ-")[1] == "NO [NONEXISTENT] No such mailbox"
        assert cmd(c, "SELECT a//b")[1] == "NO [NONEXISTENT] No such mailbox"
        assert cmd(c, 'SELECT "Entw\u00fcrfe"')[1] == (
            "BAD 8-bit mailbox name: use modified UTF-7, or ENABLE UTF8=ACCEPT")
        c.send(b"n1 SELECT {3+}\r\na\x00b\r\n")
        assert c.read_until_tagged("n1")[1] == "n1 BAD NUL in a mailbox name"
        # a name in modified UTF-7 is the same mailbox as in UTF-8
        ok(c, "CREATE Entw&APw-rfe")
        append(c, "Entw&APw-rfe")
        assert ok(c, "SELECT Entw&APw-rfe")[0] == "* 1 EXISTS"
        c.close()
        c = login(srv)
        assert ok(c, "ENABLE IMAP4rev2") == ["* ENABLED IMAP4rev2"]
        assert ok(c, 'EXAMINE "Entw\u00fcrfe"')[0] == "* 1 EXISTS"
        assert cmd(c, "SELECT Entw&APw-rfe")[1] == "NO [NONEXISTENT] No such mailbox"
        c.close()


def test_select_imap4rev2():
    with server() as srv:
        c = login(srv)
        uidvalidity = mailbox_with(c, 2)
        assert ok(c, "ENABLE IMAP4rev2") == ["* ENABLED IMAP4rev2"]
        # no RECENT, no UNSEEN (RFC 9051 Appendix E), no \Recent
        untagged, tagged = cmd(c, "SELECT INBOX")
        modseq = highestmodseq(untagged)
        want = select_lines(2, 0, uidvalidity, 3, modseq)
        assert untagged == [want[0]] + want[2:], untagged
        assert tagged == "OK [READ-WRITE] SELECT completed", tagged
        assert ok(c, r"STORE 1 +FLAGS (\Seen)") == [r"* 1 FETCH (FLAGS (\Seen))"]
        # CHECK is gone from IMAP4rev2
        expect(r"^BAD ", cmd(c, "CHECK")[1])
        c.close()


def test_failed_select_leaves_authenticated_state():
    with server() as srv:
        c = login(srv)
        append(c)
        ok(c, "SELECT INBOX")
        untagged, tagged = cmd(c, "SELECT nosuchbox")
        assert untagged == ["* OK [CLOSED] Previous mailbox closed"], untagged
        assert tagged == "NO [NONEXISTENT] No such mailbox", tagged
        # RFC 9051 6.3.2: the old mailbox is closed, nothing is selected
        for command in ("STORE 1 +FLAGS (\\Seen)", "EXPUNGE", "CLOSE", "UNSELECT",
                        "COPY 1 Trash", "UID EXPUNGE 1"):
            expect(r"^BAD .*not valid in this state", cmd(c, command)[1])
        untagged, tagged = cmd(c, "EXAMINE nosuchbox")
        assert untagged == [] and tagged == "NO [NONEXISTENT] No such mailbox", tagged
        assert cmd(c, "NOOP") == ([], "OK NOOP completed")
        ok(c, "SELECT INBOX")
        c.close()


# ---- STORE --------------------------------------------------------------------

def test_store_variants():
    with server() as srv:
        c = login(srv)
        uidvalidity = mailbox_with(c, 3)
        ok(c, "SELECT INBOX")
        untagged = ok(c, r"STORE 1 FLAGS (\Seen \Flagged)")
        assert untagged == [r"* 1 FETCH (FLAGS (\Seen \Flagged \Recent))"], untagged
        untagged = ok(c, r"STORE 1:2 +FLAGS (\Answered)")
        assert untagged == [r"* 1 FETCH (FLAGS (\Seen \Answered \Flagged \Recent))",
                            r"* 2 FETCH (FLAGS (\Answered \Recent))"], untagged
        untagged = ok(c, r"STORE 1 -FLAGS \Seen")
        assert untagged == [r"* 1 FETCH (FLAGS (\Answered \Flagged \Recent))"], untagged
        # several flags without parentheses (RFC 9051 9 store-att-flags)
        untagged = ok(c, r"STORE 3 +FLAGS \Draft \Deleted")
        assert untagged == [r"* 3 FETCH (FLAGS (\Deleted \Draft \Recent))"], untagged
        # .SILENT: nothing back
        assert ok(c, r"STORE 1:* FLAGS.SILENT (\Seen)") == []
        assert ok(c, r"store 2 -flags.silent (\Seen)") == []
        # a message the STORE leaves as it was is reported all the same
        untagged = ok(c, r"STORE 1:3 +FLAGS (\Seen)")
        assert sorted(untagged) == [r"* 1 FETCH (FLAGS (\Seen \Recent))",
                                    r"* 2 FETCH (FLAGS (\Seen \Recent))",
                                    r"* 3 FETCH (FLAGS (\Seen \Recent))"], untagged
        # UID STORE: UIDs, with UID in every FETCH; unknown UIDs are ignored
        untagged = ok(c, r"UID STORE 2:3,7,100:200 -FLAGS (\Seen)")
        assert untagged == [r"* 2 FETCH (UID 2 FLAGS (\Recent))",
                            r"* 3 FETCH (UID 3 FLAGS (\Recent))"], untagged
        assert ok(c, r"UID STORE 50:60 +FLAGS (\Seen)") == []
        # "*" with UIDs: the last message, whatever the range says
        untagged = ok(c, r"UID STORE 40:* +FLAGS (\Flagged)")
        assert untagged == [r"* 3 FETCH (UID 3 FLAGS (\Flagged \Recent))"], untagged
        # the messages keep their flags across sessions
        c.close()
        c = login(srv)
        untagged, tagged = cmd(c, "EXAMINE INBOX")
        expect(r"(?m)^\* OK \[UIDVALIDITY %d\] UIDs valid$" % uidvalidity,
               "\n".join(untagged))
        untagged = ok(c, "CLOSE")
        ok(c, "SELECT INBOX")
        untagged = ok(c, r"STORE 1:3 +FLAGS ()")
        assert untagged == [r"* 1 FETCH (FLAGS (\Seen))", r"* 2 FETCH (FLAGS ())",
                            r"* 3 FETCH (FLAGS (\Flagged))"], untagged
        c.close()


def test_store_errors():
    with server() as srv:
        c = login(srv)
        mailbox_with(c, 2)
        ok(c, "SELECT INBOX")
        assert cmd(c, r"STORE 3 +FLAGS (\Seen)")[1] == "BAD Invalid message sequence number"
        assert cmd(c, r"STORE 1:5 +FLAGS (\Seen)")[1] == "BAD Invalid message sequence number"
        assert cmd(c, r"STORE 0 +FLAGS (\Seen)")[1] == "BAD Invalid sequence number 0"
        expect(r"^BAD ", cmd(c, r"STORE 1:x +FLAGS (\Seen)")[1])
        assert cmd(c, r"STORE 1,$ +FLAGS (\Seen)")[1] == "BAD $ must be the whole sequence set"
        assert cmd(c, r"STORE 1 +FLAGS (\Recent)")[1] == r"BAD \Recent cannot be set"
        assert cmd(c, r"STORE 1 +FLAGS (\Bogus)")[1] == "BAD Unknown system flag"
        expect(r"^BAD ", cmd(c, r"STORE 1 +FLAGS")[1])
        expect(r"^BAD ", cmd(c, r"STORE 1 FLAGZ (\Seen)")[1])
        expect(r"^BAD ", cmd(c, r"STORE 1 +FLAGS.LOUD (\Seen)")[1])
        expect(r"^BAD ", cmd(c, r"STORE 1 +FLAGS (\Seen) \Flagged")[1])
        expect(r"^BAD ", cmd(c, r'STORE 1 +FLAGS "\Seen"')[1])
        assert cmd(c, r"STORE 1 (FOO 1) FLAGS ()")[1] == "BAD Unknown STORE modifier"
        expect(r"^BAD ", cmd(c, r"STORE 1 (UNCHANGEDSINCE) FLAGS ()")[1])
        expect(r"^BAD ", cmd(c, r"STORE 1 (UNCHANGEDSINCE -1) FLAGS ()")[1])
        expect(r"^BAD ", cmd(c, r"STORE 1 (UNCHANGEDSINCE 9223372036854775808) FLAGS ()")[1])
        expect(r"^BAD ", cmd(c, r"STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()")[1])
        expect(r"^BAD ", cmd(c, r"UID STORE")[1])
        expect(r"^BAD UID FROB is not a command", cmd(c, r"UID FROB 1")[1])
        # an empty mailbox: "*" is no message number, and no UID either
        ok(c, "SELECT Junk")
        assert cmd(c, r"STORE * +FLAGS (\Seen)")[1] == "BAD Invalid message sequence number"
        assert cmd(c, r"STORE 1:* +FLAGS (\Seen)")[1] == "BAD Invalid message sequence number"
        assert cmd(c, r"UID STORE * +FLAGS (\Seen)") == ([], "OK STORE completed")
        assert cmd(c, r"UID STORE 1:* +FLAGS (\Seen)") == ([], "OK STORE completed")
        c.close()


def test_keywords_grow_permanentflags():
    with server() as srv:
        c = login(srv)
        uidvalidity = mailbox_with(c, 2)
        ok(c, "SELECT INBOX")
        # a new keyword: FLAGS and PERMANENTFLAGS come before the FETCH
        untagged = ok(c, "STORE 1 +FLAGS ($Label1 Work)")
        assert untagged == [
            "* FLAGS (%s $Label1 Work)" % SYSTEM_FLAGS,
            r"* OK [PERMANENTFLAGS (%s $Label1 Work \*)] Flags permitted" % SYSTEM_FLAGS,
            r"* 1 FETCH (FLAGS (\Recent $Label1 Work))"], untagged
        # keywords are case-insensitive: no new one here
        untagged = ok(c, "STORE 2 +FLAGS ($label1)")
        assert len(untagged) == 1, untagged
        expect(r"^\* 2 FETCH \(FLAGS \(\\Recent \$[Ll]abel1\)\)$", untagged[0])
        # removing never announces
        untagged = ok(c, "STORE 2 -FLAGS (Other)")
        assert untagged == [r"* 2 FETCH (FLAGS (\Recent $Label1))"], untagged
        untagged, tagged = cmd(c, "SELECT INBOX")
        modseq = highestmodseq(untagged)
        assert untagged == ["* OK [CLOSED] Previous mailbox closed"] + select_lines(
            2, 0, uidvalidity, 3, modseq, unseen=1, keywords="$Label1 Work"), untagged
        untagged = cmd(c, "EXAMINE INBOX")[0]
        assert "* FLAGS (%s $Label1 Work)" % SYSTEM_FLAGS in untagged, untagged
        assert "* OK [PERMANENTFLAGS ()] No permanent flags permitted" in untagged
        # a mailbox holds at most 64 distinct keywords (store.h)
        ok(c, "SELECT INBOX")
        more = " ".join("k%d" % i for i in range(62))
        untagged = ok(c, "STORE 2 +FLAGS.SILENT (%s)" % more)
        assert len(untagged) == 2 and untagged[0].endswith(" k61)"), untagged
        assert cmd(c, "STORE 2 +FLAGS (straw)") == (
            [], "NO [LIMIT] Too many keywords in this mailbox")
        assert ok(c, "STORE 1 +FLAGS (k0 $label1)") == [
            r"* 1 FETCH (FLAGS ($Label1 Work k0))"]
        c.close()


def test_condstore_unchangedsince():
    with server() as srv:
        a = login(srv)
        mailbox_with(a, 2)
        untagged = ok(a, "SELECT INBOX (CONDSTORE)")
        h = highestmodseq(untagged)
        # RFC 7162 3.1.3: a conditional STORE reports MODSEQ even when .SILENT
        untagged = ok(a, r"STORE 1 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\Flagged)" % h)
        assert len(untagged) == 1, untagged
        m = re.match(r"^\* 1 FETCH \(UID 1 MODSEQ \((\d+)\)\)$", untagged[0])
        assert m and int(m.group(1)) > h, untagged
        h1 = int(m.group(1))
        # message 1 changed since h: it fails, message 2 is stored
        untagged, tagged = cmd(a, r"STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\Answered)" % h)
        assert tagged == "OK [MODIFIED 1] Conditional STORE failed", tagged
        assert len(untagged) == 1, untagged
        m = re.match(r"^\* 2 FETCH \(UID 2 FLAGS \(\\Answered \\Recent\) MODSEQ \((\d+)\)\)$",
                     untagged[0])
        assert m and int(m.group(1)) > h1, untagged
        # UNCHANGEDSINCE 0 fails for every message; UID STORE names UIDs
        assert cmd(a, r"UID STORE 1:* (UNCHANGEDSINCE 0) FLAGS ()") == (
            [], "OK [MODIFIED 1:2] Conditional STORE failed")
        # with CONDSTORE on, every STORE FETCH has UID and MODSEQ
        untagged = ok(a, r"STORE 2 -FLAGS (\Answered)")
        expect(r"^\* 2 FETCH \(UID 2 FLAGS \(\\Recent\) MODSEQ \(\d+\)\)$", untagged[0])
        # another session changes message 2: our test on it fails
        b = login(srv)
        ok(b, "SELECT INBOX")
        ok(b, r"STORE 2 +FLAGS.SILENT (\Seen)")
        h_before = highestmodseq(ok(a, "SELECT INBOX (CONDSTORE)"))
        ok(b, r"STORE 2 +FLAGS.SILENT (\Draft)")
        untagged, tagged = cmd(a, r"STORE 2 (UNCHANGEDSINCE %d) +FLAGS (\Flagged)" % h_before)
        assert tagged == "OK [MODIFIED 2] Conditional STORE failed", tagged
        # a STORE with UNCHANGEDSINCE enables CONDSTORE (RFC 7162 3.1):
        # HIGHESTMODSEQ first, then FETCH with UID and MODSEQ
        untagged = ok(b, r"STORE 1 (UNCHANGEDSINCE 999999) +FLAGS.SILENT (\Seen)")
        expect(r"^\* OK \[HIGHESTMODSEQ \d+\] Highest$", untagged[0])
        assert any(re.match(r"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$", line)
                   for line in untagged[1:]), untagged
        a.close()
        b.close()


# ---- read-only ------------------------------------------------------------------

def test_read_only_refusals():
    with server() as srv:
        c = login(srv)
        mailbox_with(c, 2)
        ok(c, "SELECT INBOX")
        ok(c, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        ok(c, "EXAMINE INBOX")
        for command in (r"STORE 1 +FLAGS (\Seen)", r"UID STORE 1 FLAGS ()",
                        "EXPUNGE", "UID EXPUNGE 1:*", "MOVE 1 Trash", "UID MOVE 1 Trash"):
            assert cmd(c, command) == ([], "NO The mailbox is read-only"), command
        # COPY only reads the source
        expect(r"^OK \[COPYUID \d+ 1 1\] COPY completed$", cmd(c, "COPY 1 Trash")[1])
        # CLOSE after EXAMINE expunges nothing (RFC 9051 6.4.1)
        assert cmd(c, "CLOSE") == ([], "OK CLOSE completed")
        untagged = ok(c, "SELECT INBOX")
        assert untagged[0] == "* 2 EXISTS", untagged
        c.close()


# ---- COPY, MOVE ------------------------------------------------------------------

def test_copy_with_copyuid():
    with server() as srv:
        c = login(srv)
        mailbox_with(c, 4, seen_first=True)
        trash_validity, _ = append(c, "Trash", subject="already there")
        ok(c, "SELECT INBOX")
        ok(c, r"STORE 2 +FLAGS.SILENT (\Flagged $Work)")
        untagged, tagged = cmd(c, "COPY 1:2 Trash")
        assert untagged == [], untagged
        assert tagged == "OK [COPYUID %d 1:2 2:3] COPY completed" % trash_validity, tagged
        # the compact set forms pair up
        assert cmd(c, "COPY 1,3:4 Trash") == (
            [], "OK [COPYUID %d 1,3:4 4:6] COPY completed" % trash_validity)
        assert cmd(c, "UID COPY 4,2 Trash") == (
            [], "OK [COPYUID %d 2,4 7:8] COPY completed" % trash_validity)
        # UIDs that do not exist copy nothing, and say no COPYUID
        assert cmd(c, "UID COPY 50:60 Trash") == ([], "OK COPY completed")
        assert cmd(c, "COPY 1 NoSuchBox") == ([], "NO [TRYCREATE] No such mailbox")
        assert cmd(c, "UID COPY 50 NoSuchBox") == ([], "NO [TRYCREATE] No such mailbox")
        assert cmd(c, "COPY 9 Trash")[1] == "BAD Invalid message sequence number"
        expect(r"^BAD ", cmd(c, "COPY 1")[1])
        assert cmd(c, "COPY 1 &Jjo") == (
            [], "NO [CANNOT] Mailbox name is not valid modified UTF-7 (RFC 3501 5.1.3)")
        assert cmd(c, "MOVE 1 a//b") == ([], "NO [CANNOT] Invalid mailbox name")
        # copies keep their flags (not \Recent: that is per session)
        untagged, tagged = cmd(c, "SELECT Trash")
        assert untagged[1] == "* 8 EXISTS", untagged
        untagged = ok(c, "STORE 2:3 +FLAGS ()")
        assert untagged == [r"* 2 FETCH (FLAGS (\Seen \Recent))",
                            r"* 3 FETCH (FLAGS (\Flagged \Recent $Work))"], untagged
        # COPY into the selected mailbox: EXISTS before the tagged OK
        untagged, tagged = cmd(c, "COPY 1 Trash")
        assert untagged == ["* 9 EXISTS", "* 9 RECENT"], untagged
        assert tagged == "OK [COPYUID %d 1 9] COPY completed" % trash_validity, tagged
        c.close()


def test_move():
    with server() as srv:
        c = login(srv)
        mailbox_with(c, 5)
        archive_validity, _ = append(c, "Archive")
        ok(c, "SELECT INBOX")
        # RFC 6851 3.3: untagged COPYUID, the EXPUNGEs, then the tagged OK
        untagged, tagged = cmd(c, "MOVE 2 Archive")
        assert untagged == ["* OK [COPYUID %d 2 2] Moved" % archive_validity,
                            "* 2 EXPUNGE"], untagged
        assert tagged == "OK MOVE completed", tagged
        # UIDs 1 3 4 5 are left; EXPUNGEs in descending order
        untagged, tagged = cmd(c, "UID MOVE 3:5 Archive")
        assert untagged == ["* OK [COPYUID %d 3:5 3:5] Moved" % archive_validity,
                            "* 4 EXPUNGE", "* 3 EXPUNGE", "* 2 EXPUNGE"], untagged
        assert tagged == "OK MOVE completed", tagged
        assert cmd(c, "UID MOVE 40:50 Archive") == ([], "OK MOVE completed")
        assert cmd(c, "MOVE 1 NoSuchBox") == ([], "NO [TRYCREATE] No such mailbox")
        assert cmd(c, "MOVE 2 Archive")[1] == "BAD Invalid message sequence number"
        untagged = ok(c, "SELECT Archive")
        assert untagged[1] == "* 5 EXISTS", untagged
        # MOVE within the mailbox: a new UID, the old one expunged
        untagged, tagged = cmd(c, "MOVE 1 Archive")
        assert untagged == ["* OK [COPYUID %d 1 6] Moved" % archive_validity,
                            "* 1 EXPUNGE", "* 5 EXISTS", "* 5 RECENT"], untagged
        c.close()


# ---- EXPUNGE, CLOSE, UNSELECT, CHECK ---------------------------------------------------

def test_expunge_and_uid_expunge():
    with server() as srv:
        c = login(srv)
        mailbox_with(c, 6)
        ok(c, "SELECT INBOX")
        assert cmd(c, "EXPUNGE") == ([], "OK EXPUNGE completed")
        ok(c, r"STORE 1,3,4 +FLAGS.SILENT (\Deleted)")
        # descending MSNs, each as the client knows it at that moment
        assert cmd(c, "EXPUNGE") == (["* 4 EXPUNGE", "* 3 EXPUNGE", "* 1 EXPUNGE"],
                                     "OK EXPUNGE completed")
        # UIDs 2 5 6 left; UID EXPUNGE removes only \Deleted ones in its set
        ok(c, r"UID STORE 2,5,6 +FLAGS.SILENT (\Deleted)")
        assert cmd(c, "UID EXPUNGE 1:5") == (["* 2 EXPUNGE", "* 1 EXPUNGE"],
                                             "OK EXPUNGE completed")
        assert cmd(c, "UID EXPUNGE 100:200") == ([], "OK EXPUNGE completed")
        expect(r"^BAD ", cmd(c, "EXPUNGE 1")[1])
        expect(r"^BAD ", cmd(c, "UID EXPUNGE")[1])
        expect(r"^BAD ", cmd(c, "UID EXPUNGE 1:x")[1])
        untagged = ok(c, "SELECT INBOX")
        assert untagged[1] == "* 1 EXISTS", untagged
        c.close()


def test_close_unselect_check():
    with server() as srv:
        c = login(srv)
        mailbox_with(c, 3)
        ok(c, "SELECT INBOX")
        ok(c, r"STORE 2 +FLAGS.SILENT (\Deleted)")
        # UNSELECT (RFC 3691): no expunge
        assert cmd(c, "UNSELECT") == ([], "OK UNSELECT completed")
        expect(r"^BAD .*not valid in this state", cmd(c, "EXPUNGE")[1])
        untagged = ok(c, "SELECT INBOX")
        assert untagged[0] == "* 3 EXISTS", untagged
        assert cmd(c, "CHECK") == ([], "OK CHECK completed")
        expect(r"^BAD ", cmd(c, "CHECK now")[1])
        expect(r"^BAD ", cmd(c, "CLOSE 1")[1])
        expect(r"^BAD ", cmd(c, "UNSELECT 1")[1])
        # CLOSE (RFC 9051 6.4.1): expunges silently
        assert cmd(c, "CLOSE") == ([], "OK CLOSE completed")
        expect(r"^BAD .*not valid in this state", cmd(c, "CLOSE")[1])
        untagged = ok(c, "SELECT INBOX")
        assert untagged[0] == "* 2 EXISTS", untagged
        c.close()


# ---- two sessions ------------------------------------------------------------------

def test_two_sessions_see_each_other():
    with server() as srv:
        a, b = login(srv), login(srv)
        mailbox_with(a, 3)
        ok(a, "SELECT INBOX")
        untagged = ok(b, "SELECT INBOX")
        assert untagged[:2] == ["* 3 EXISTS", "* 0 RECENT"], untagged
        # flags: an untagged FETCH at b's next NOOP
        ok(a, r"STORE 1 +FLAGS.SILENT (\Seen)")
        assert cmd(b, "NOOP") == ([r"* 1 FETCH (UID 1 FLAGS (\Seen))"], "OK NOOP completed")
        assert cmd(b, "NOOP") == ([], "OK NOOP completed")
        # a new message: EXISTS (and RECENT, for IMAP4rev1)
        append(a, subject="fourth")
        untagged = ok(b, "NOOP")
        assert untagged[0] == "* 4 EXISTS" and re.match(r"^\* [01] RECENT$", untagged[1]), \
            untagged
        # an expunge: EXPUNGE at the next NOOP
        ok(a, r"STORE 2 +FLAGS.SILENT (\Deleted)")
        assert ok(a, "EXPUNGE") == ["* 2 EXPUNGE"]
        untagged = ok(b, "NOOP")
        assert untagged == ["* 2 EXPUNGE"], untagged
        # RFC 9051 7.5.1: no EXPUNGE during STORE; the expunged message is
        # ignored, and the EXPUNGE waits for the NOOP
        ok(a, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        ok(a, "EXPUNGE")
        untagged = ok(b, r"STORE 1:2 +FLAGS (\Flagged)")
        assert not any("EXPUNGE" in line for line in untagged), untagged
        assert r"* 2 FETCH (FLAGS (\Flagged))" in untagged, untagged
        assert not any(line.startswith("* 1 FETCH") and "Flagged" in line
                       for line in untagged), untagged
        untagged = ok(b, "NOOP")
        assert untagged[0] == "* 1 EXPUNGE", untagged
        # both now have UIDs 3 4; b moves one, a hears of it
        untagged = ok(b, "MOVE 1 Trash")
        assert untagged[-1] == "* 1 EXPUNGE", untagged
        untagged = ok(a, "NOOP")
        assert untagged == ["* 1 EXPUNGE"], untagged
        a.close()
        b.close()


def test_keyword_made_by_another_session():
    """RFC 9051 7.3.5: b hears the new FLAGS (and PERMANENTFLAGS) before
    the FETCH that shows a keyword a created, on a changed message and on
    a new one; a keyword b already knows brings no FLAGS."""
    with server() as srv:
        a, b = login(srv), login(srv)
        mailbox_with(a, 2)
        ok(a, "SELECT INBOX")
        ok(b, "SELECT INBOX")
        ok(a, "STORE 1 +FLAGS.SILENT ($Work)")
        assert cmd(b, "NOOP") == ([
            "* FLAGS (%s $Work)" % SYSTEM_FLAGS,
            r"* OK [PERMANENTFLAGS (%s $Work \*)] Flags permitted" % SYSTEM_FLAGS,
            "* 1 FETCH (UID 1 FLAGS ($Work))"], "OK NOOP completed")
        ok(a, "STORE 2 +FLAGS.SILENT ($work)")
        assert cmd(b, "NOOP") == (["* 2 FETCH (UID 2 FLAGS ($Work))"],
                                  "OK NOOP completed")
        append(a, flags="(Later)", subject="third")
        untagged = ok(b, "NOOP")
        assert untagged[:2] == [
            "* FLAGS (%s $Work Later)" % SYSTEM_FLAGS,
            r"* OK [PERMANENTFLAGS (%s $Work Later \*)] Flags permitted" % SYSTEM_FLAGS], \
            untagged
        assert untagged[2] == "* 3 EXISTS", untagged
        assert cmd(b, "FETCH 3 FLAGS")[0] == ["* 3 FETCH (FLAGS (Later))"]
        # read-only: FLAGS, and PERMANENTFLAGS stays empty
        ok(b, "EXAMINE INBOX")
        ok(a, "STORE 3 +FLAGS.SILENT (Ro)")
        assert cmd(b, "NOOP")[0] == [
            "* FLAGS (%s $Work Later Ro)" % SYSTEM_FLAGS,
            "* OK [PERMANENTFLAGS ()] No permanent flags permitted",
            "* 3 FETCH (UID 3 FLAGS (Later Ro))"]
        # CONDSTORE on: another session's change carries MODSEQ too
        ok(b, "UNSELECT")
        ok(b, "ENABLE CONDSTORE")
        ok(b, "SELECT INBOX")
        ok(a, "SELECT INBOX")
        untagged = ok(a, r"STORE 3 +FLAGS (\Seen)")
        m = re.match(r"^\* 3 FETCH \(FLAGS \(\\Seen Later Ro\)\)$", untagged[-1])
        assert m, untagged
        untagged = ok(b, "NOOP")
        assert len(untagged) == 1, untagged
        m = re.match(r"^\* 3 FETCH \(UID 3 FLAGS \(\\Seen Later Ro\) MODSEQ \((\d+)\)\)$",
                     untagged[0])
        assert m, untagged
        assert cmd(b, "FETCH 3 MODSEQ")[0] == ["* 3 FETCH (MODSEQ (%s))" % m.group(1)]
        a.close()
        b.close()


def test_selected_mailbox_deleted_by_another_session():
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "CREATE Work")
        append(a, "Work")
        ok(b, "SELECT Work")
        ok(a, "DELETE Work")
        # the next command finds the mailbox gone: BYE (RFC 9051 7.1.5)
        b.send("x1 STORE 1 +FLAGS (\\Seen)\r\n")
        expect(r"^\* BYE .*deleted", b.readline())
        assert b.closed()
        a.close()


# ---- imaplib ---------------------------------------------------------------------

def test_with_imaplib():
    with server() as srv:
        m = srv.imap("alice", "alice-pw")
        for i in range(3):
            assert m.append("INBOX", None, None, message("m%d" % i))[0] == "OK"
        assert m.select("INBOX") == ("OK", [b"3"])
        assert m.response("UIDNEXT")[1] == [b"4"]
        assert m.response("UNSEEN")[1] == [b"1"]
        typ, data = m.store("1:2", "+FLAGS", r"(\Flagged)")
        assert typ == "OK" and data == [rb"1 (FLAGS (\Flagged \Recent))",
                                        rb"2 (FLAGS (\Flagged \Recent))"], data
        typ, data = m.copy("1:2", "Trash")
        assert typ == "OK", data
        expect(r"^\[COPYUID \d+ 1:2 1:2\] COPY completed$", data[0].decode())
        typ, data = m.uid("MOVE", "3", "Archive")
        assert typ == "OK", data
        assert m.store("1", "+FLAGS", r"(\Deleted)")[0] == "OK"
        # imaplib keeps every EXPUNGE since the last command that read them
        typ, data = m.expunge()
        assert typ == "OK" and data[-1] == b"1", data
        assert m.check()[0] == "OK"
        assert m.unselect()[0] == "OK"
        assert m.select("Trash", readonly=True) == ("OK", [b"2"])
        assert m.store("1", "+FLAGS", r"(\Seen)")[0] == "NO"
        assert m.close()[0] == "OK"
        assert m.select("Archive") == ("OK", [b"1"])
        assert m.select("nosuchbox")[0] == "NO"
        m.logout()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_select_and_examine_responses,
        test_select_arguments,
        test_select_imap4rev2,
        test_failed_select_leaves_authenticated_state,
        test_store_variants,
        test_store_errors,
        test_keywords_grow_permanentflags,
        test_condstore_unchangedsince,
        test_read_only_refusals,
        test_copy_with_copyuid,
        test_move,
        test_expunge_and_uid_expunge,
        test_close_unselect_check,
        test_two_sessions_see_each_other,
        test_keyword_made_by_another_session,
        test_selected_mailbox_deleted_by_another_session,
        test_with_imaplib,
    ])
