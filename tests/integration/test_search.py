"""SEARCH and UID SEARCH (RFC 9051 6.4.4): every key on a prepared mailbox,
the ESEARCH forms (RETURN options, IMAP4rev2), MODSEQ, CHARSET and
BADCHARSET, BAD cases, and no EXPUNGE during SEARCH -- against the real
cairnd."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import expect, login, mail_server, require_accounts, run_tests  # noqa: E402

MSG_A = (b"From: Alice <alice@example.org>\r\n"
         b"To: bob@example.org\r\n"
         b"Subject: Hello World\r\n"
         b"Date: Fri, 5 Jan 2024 10:00:00 +0100\r\n"
         b"X-Folded: first\r\n second\r\n"
         b"\r\n"
         b"The quick brown fox\r\n")

MSG_B = (b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\n"
         b"To: alice@example.org\r\n"
         b"Cc: Carol <carol@example.net>\r\n"
         b"Subject: =?UTF-8?B?Q2Fmw6k=?= menu\r\n"
         b"Date: 6 Jan 24 00:30 +0200\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
         b"\r\n"
         b"preamble NOTHERE\r\n"
         b"--b1\r\n"
         b"Content-Type: text/plain; charset=iso-8859-1\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n"
         b"\r\n"
         b"Viele Gr=FC=DFe aus K=F6ln\r\n"
         b"--b1\r\n"
         b"Content-Type: application/octet-stream\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n"
         b"c2VjcmV0IHN0dWZm\r\n"
         b"--b1--\r\n")

MSG_C = (b"From: dave@example.com\r\n"
         b"Subject: Fwd: report\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=zz\r\n"
         b"\r\n"
         b"--zz\r\n"
         b"Content-Type: text/html\r\n"
         b"\r\n"
         b"<p>See the REPORT attached</p>\r\n"
         b"--zz\r\n"
         b"Content-Type: message/rfc822\r\n"
         b"\r\n"
         b"Subject: Inner subject\r\n"
         b"From: eve@example.com\r\n"
         b"\r\n"
         b"Inner body text\r\n"
         b"--zz--\r\n")

MSG_D = b"Subject: plain\r\nFrom: zed@example.com\r\n\r\nnothing to see\r\n"

SIZES = [len(MSG_A), len(MSG_B), len(MSG_C), len(MSG_D)]


def append(c, tag, args, data):
    c.send(("%s APPEND %s {%d+}\r\n" % (tag, args, len(data))).encode() + data + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged.startswith(tag + " OK"), tagged
    return tagged


def prepare(srv):
    """INBOX: a dummy (expunged, so UIDs are MSN + 1), then A B C D."""
    c = login(srv)
    append(c, "p0", "INBOX (\\Deleted)", b"Subject: dummy\r\n\r\nx\r\n")
    append(c, "p1", 'INBOX (\\Seen $Important) "05-Jan-2024 10:00:00 +0100"', MSG_A)
    append(c, "p2", 'INBOX (\\Flagged \\Answered) "06-Jan-2024 00:30:00 +0200"', MSG_B)
    append(c, "p3", 'INBOX (\\Draft junk) "31-Dec-2023 23:00:00 -0500"', MSG_C)
    append(c, "p4", 'INBOX () "01-Feb-2024 12:00:00 +0000"', MSG_D)
    c.close()


def select(srv):
    c = login(srv)
    untagged, tagged = c.command("s", "SELECT INBOX")
    assert tagged.startswith("s OK"), tagged
    return c


def search(c, text, tag="q"):
    """The one untagged SEARCH/ESEARCH line and the tagged line."""
    untagged, tagged = c.command(tag, text)
    found = [u for u in untagged if re.match(r"^\* E?SEARCH\b", u)]
    return (found[0] if found else None), tagged, untagged


def search_literal(c, prefix, data, tag="q"):
    """SEARCH whose last argument is a literal+ of data (UTF-8 bytes)."""
    c.send(("%s %s {%d+}\r\n" % (tag, prefix, len(data))).encode() + data + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    found = [u for u in untagged if re.match(r"^\* E?SEARCH\b", u)]
    return (found[0] if found else None), tagged


KEY_CASES = [
    ("ALL", "1 2 3 4"),
    ("SEEN", "1"), ("UNSEEN", "2 3 4"), ("seen", "1"),
    ("ANSWERED", "2"), ("UNANSWERED", "1 3 4"),
    ("FLAGGED", "2"), ("UNFLAGGED", "1 3 4"),
    ("DELETED", "3"), ("UNDELETED", "1 2 4"),
    ("DRAFT", "3"), ("UNDRAFT", "1 2 4"),
    ("KEYWORD $Important", "1"), ("KEYWORD JUNK", "3"), ("UNKEYWORD junk", "1 2 4"),
    ("KEYWORD nothere", ""),
    ("RECENT", "1 2 3 4"), ("NEW", "2 3 4"), ("OLD", ""),
    ("LARGER %d" % SIZES[3], " ".join(str(i + 1) for i in range(4) if SIZES[i] > SIZES[3])),
    ("SMALLER %d" % SIZES[0], " ".join(str(i + 1) for i in range(4) if SIZES[i] < SIZES[0])),
    ("LARGER 0 SMALLER 100000", "1 2 3 4"),
    ("1", "1"), ("2:*", "2 3 4"), ("*", "4"), ("4:3", "3 4"), ("1,3", "1 3"),
    ("5:9", ""),
    ("UID 3:4", "2 3"), ("UID *", "4"), ("UID 1", ""), ("UID 1:*", "1 2 3 4"),
    ("BEFORE 6-Jan-2024", "1 3"), ("ON 6-Jan-2024", "2"), ("SINCE 5-Jan-2024", "1 2 4"),
    ("ON 31-Dec-2023", "3"), ("SINCE 1-Feb-2024", "4"), ('ON "05-Jan-2024"', "1"),
    ("SENTON 5-Jan-2024", "1"), ("SENTON 6-Jan-2024", "2"),
    ("SENTBEFORE 1-Jan-2024", "3"), ("SENTSINCE 1-Feb-2024", "4"),
    ("FROM alice", "1"), ("FROM example", "1 2 3 4"), ("TO alice", "2"),
    ("TO bob", "1"), ("CC carol", "2"), ("BCC carol", ""),
    ("SUBJECT hello", "1"), ("SUBJECT PLAIN", "4"), ('SUBJECT "caf"', "2"),
    ('SUBJECT ""', "1 2 3 4"),
    ('HEADER X-Folded "first second"', "1"), ("HEADER Content-Type mixed", "2 3"),
    ('HEADER Date ""', "1 2"), ("HEADER Subject inner", ""),
    ("BODY quick", "1"), ("BODY secret", ""), ("BODY NOTHERE", ""),
    ("BODY report", "3"), ('BODY "inner body"', "3"), ('BODY "inner subject"', "3"),
    ("BODY nothing", "4"), ("BODY hello", ""),
    ("TEXT hello", "1"), ("TEXT zed", "4"), ("TEXT fox", "1"),
    # through the full-text index: substrings across words, any case
    ('BODY "k brown f"', "1"), ("BODY UICK", "1"), ('TEXT "hello world"', "1"),
    ('TEXT "subject: fwd"', "3"), ('BODY "ort attac"', "3"),
    # shorter than a trigram: every message is read
    ("BODY qu", "1"), ("BODY el", "2"), ("BODY e", "1 2 3 4"), ('TEXT "ld"', "1"),
    # under NOT and OR
    ("NOT BODY quick", "2 3 4"), ("NOT TEXT example", ""), ("NOT BODY qu", "2 3 4"),
    ("OR BODY quick BODY report", "1 3"), ('OR BODY "inner body" TEXT zed', "3 4"),
    ("OR BODY quick NOT BODY nothing", "1 2 3"), ("BODY quick BODY brown", "1"),
    ("BODY quick BODY report", ""), ("(BODY report) (OR SEEN DRAFT)", "3"),
    ("OR SEEN FLAGGED", "1 2"), ("NOT SEEN", "2 3 4"), ("(SEEN) (FROM alice)", "1"),
    ("NOT (OR SEEN DRAFT)", "2 4"), ("OR BODY quick DELETED", "1 3"),
    ("OR (SEEN DELETED) (UNSEEN SUBJECT plain)", "4"),
    ("CHARSET UTF-8 SUBJECT menu", "2"), ("CHARSET us-ascii FROM zed", "4"),
]


def test_every_key():
    srv = mail_server()
    try:
        prepare(srv)
        c = select(srv)
        u, t = c.command("e1", "EXPUNGE")
        assert t.startswith("e1 OK") and "* 1 EXPUNGE" in u, (u, t)
        assert c.command("e2", "STORE 3 +FLAGS (\\Deleted)")[1].startswith("e2 OK")
        failures = []
        for keys, want in KEY_CASES:
            line, tagged, _ = search(c, "SEARCH " + keys)
            expected = ("* SEARCH " + want).rstrip()
            if tagged != "q OK SEARCH completed" or line != expected:
                failures.append("%s: got %r %r, want %r" % (keys, line, tagged, expected))
        # the UID form answers with UIDs (MSN + 1 here)
        for keys, want in KEY_CASES:
            line, tagged, _ = search(c, "UID SEARCH " + keys)
            uids = " ".join(str(int(n) + 1) for n in want.split())
            expected = ("* SEARCH " + uids).rstrip()
            if tagged != "q OK UID SEARCH completed" or line != expected:
                failures.append("UID %s: got %r %r, want %r" % (keys, line, tagged,
                                                                expected))
        # UTF-8 strings, as literals
        for prefix, data, want in [
                ("SEARCH CHARSET UTF-8 FROM", "j\u00fcrgen", "2"),
                ("SEARCH CHARSET UTF-8 FROM", "J\u00dcRGEN", "2"),
                ("SEARCH CHARSET UTF-8 SUBJECT", "caf\u00e9", "2"),
                ("SEARCH CHARSET UTF-8 SUBJECT", "CAF\u00c9 MENU", "2"),
                ("SEARCH CHARSET UTF-8 BODY", "gr\u00fc\u00dfe", "2"),
                ("SEARCH CHARSET UTF-8 BODY", "K\u00d6LN", "2"),
                ("SEARCH BODY", "k\u00f6ln", "2"),
                ("SEARCH CHARSET UTF-8 TEXT", "\u00fc", "2")]:
            line, tagged = search_literal(c, prefix, data.encode())
            expected = ("* SEARCH " + want).rstrip()
            if not tagged.startswith("q OK") or line != expected:
                failures.append("%s %s: got %r %r" % (prefix, data, line, tagged))
        assert not failures, "\n".join(failures)
        c.close()
    finally:
        srv.stop_and_check()


def test_esearch():
    srv = mail_server()
    try:
        prepare(srv)
        c = select(srv)
        # MSNs 2..5 hold A..D; MSN 1 is the \Deleted dummy (not expunged here)
        line, t, _ = search(c, "SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN", tag="r1")
        assert line == '* ESEARCH (TAG "r1") MIN 1 MAX 5 COUNT 4 ALL 1,3:5', line
        line, t, _ = search(c, "SEARCH RETURN () NOT SEEN", tag="r2")
        assert line == '* ESEARCH (TAG "r2") ALL 1,3:5', line
        line, t, _ = search(c, "SEARCH RETURN (COUNT) FLAGGED", tag="r3")
        assert line == '* ESEARCH (TAG "r3") COUNT 1', line
        line, t, _ = search(c, "UID SEARCH RETURN (MIN MAX) UNSEEN", tag="r4")
        assert line == '* ESEARCH (TAG "r4") UID MIN 1 MAX 5', line
        assert t == "r4 OK UID SEARCH completed", t
        # nothing found: MIN, MAX and ALL are left out, COUNT is 0
        line, t, _ = search(c, "SEARCH RETURN (MIN MAX COUNT ALL) KEYWORD none", tag="r5")
        assert line == '* ESEARCH (TAG "r5") COUNT 0', line
        line, t, _ = search(c, "SEARCH RETURN (ALL) KEYWORD none", tag="r6")
        assert line == '* ESEARCH (TAG "r6")', line
        line, t, _ = search(c, "SEARCH RETURN (min) CHARSET UTF-8 SUBJECT hello",
                            tag="r7")
        assert line == '* ESEARCH (TAG "r7") MIN 2', line
        # bad RETURN options
        for opts in ("(FOO)", "(SAVE FOO)", "(MIN", "((MIN))"):
            line, t, _ = search(c, "SEARCH RETURN %s ALL" % opts, tag="r8")
            expect(r"^r8 BAD ", t)
        c.close()

        # IMAP4rev2 enabled: ESEARCH always (RFC 9051 6.4.4)
        c = login(srv)
        u, t = c.command("v1", "ENABLE IMAP4rev2")
        assert t.startswith("v1 OK"), t
        assert c.command("v2", "SELECT INBOX")[1].startswith("v2 OK")
        line, t, _ = search(c, "SEARCH UNSEEN", tag="v3")
        assert line == '* ESEARCH (TAG "v3") ALL 1,3:5', line
        line, t, _ = search(c, "UID SEARCH UNSEEN", tag="v4")
        assert line == '* ESEARCH (TAG "v4") UID ALL 1,3:5', line
        line, t, _ = search(c, "SEARCH SEEN DRAFT", tag="v5")
        assert line == '* ESEARCH (TAG "v5")', line
        line, t, _ = search(c, "SEARCH RETURN (COUNT) ALL", tag="v6")
        assert line == '* ESEARCH (TAG "v6") COUNT 5', line
        c.close()
    finally:
        srv.stop_and_check()


def test_modseq():
    srv = mail_server()
    try:
        prepare(srv)
        c = select(srv)
        line, t, _ = search(c, "SEARCH MODSEQ 1")
        m = re.match(r"^\* SEARCH 1 2 3 4 5 \(MODSEQ (\d+)\)$", line)
        assert m, line
        top = int(m.group(1))
        line, t, _ = search(c, "SEARCH MODSEQ %d" % (top + 1))
        assert line == "* SEARCH", line
        line, t, _ = search(c, 'SEARCH MODSEQ "/flags/\\\\Seen" all 1 SEEN')
        expect(r"^\* SEARCH 2 \(MODSEQ \d+\)$", line)
        line, t, _ = search(c, "SEARCH RETURN (COUNT) MODSEQ 1", tag="m1")
        assert line == '* ESEARCH (TAG "m1") COUNT 5 MODSEQ %d' % top, line
        c.close()
    finally:
        srv.stop_and_check()


def test_charset_and_bad():
    srv = mail_server()
    try:
        prepare(srv)
        c = login(srv)
        # not in the authenticated state
        expect(r"^n1 BAD ", c.command("n1", "SEARCH ALL")[1])
        expect(r"^n2 BAD ", c.command("n2", "UID SEARCH ALL")[1])
        assert c.command("s", "SELECT INBOX")[1].startswith("s OK")
        for tag, text in [("c1", "SEARCH CHARSET ISO-8859-1 SUBJECT x"),
                          ("c2", "SEARCH CHARSET KOI8-R ALL"),
                          ("c3", "SEARCH RETURN (COUNT) CHARSET x ALL")]:
            t = c.command(tag, text)[1]
            assert t.startswith(tag + " NO [BADCHARSET (UTF-8 US-ASCII)]"), t
        expect(r"^c4 BAD ", c.command("c4", "SEARCH CHARSET")[1])
        expect(r"^c5 BAD ", c.command("c5", "SEARCH CHARSET UTF-8")[1])
        for tag, text, why in [
                ("b1", "SEARCH", "needs a search key"),
                ("b2", "SEARCH FOO", "Unknown search key FOO"),
                ("b3", "SEARCH BEFORE 32-Jan-2024", "BEFORE needs a date"),
                ("b4", "SEARCH LARGER x", "LARGER needs a number"),
                ("b5", "SEARCH OR SEEN", "OR needs two search keys"),
                ("b6", "SEARCH NOT", "NOT needs a search key"),
                ("b7", "SEARCH ()", "Empty parenthesised"),
                ("b8", "SEARCH UID x", "Invalid sequence set"),
                ("b9", "SEARCH $:2", "$ must be the whole sequence set"),
                ("b10", "SEARCH HEADER", "HEADER needs an argument"),
                ("b11", "SEARCH KEYWORD \\Seen", "KEYWORD needs a keyword"),
                ("b12", "SEARCH SUBJECT", "SUBJECT needs an argument"),
                ("b13", "SEARCH " + "NOT " * 40 + "ALL", "nested too deeply"),
                ("b14", "SEARCH" + " ALL" * 1001, "Too many search keys"),
                ("b15", "UID SEARCH 0", "Invalid sequence set")]:
            t = c.command(tag, text)[1]
            assert t.startswith(tag + " BAD ") and why in t, (text[:60], t)
        # invalid UTF-8 in a string
        c.send(b"b16 SEARCH SUBJECT {2+}\r\n\xff\xfe\r\n")
        t = c.read_until_tagged("b16")[1]
        assert t.startswith("b16 BAD") and "UTF-8" in t, t
        # and the session goes on
        line, t, _ = search(c, "SEARCH SEEN")
        assert line == "* SEARCH 2" and t == "q OK SEARCH completed", (line, t)
        c.close()
    finally:
        srv.stop_and_check()


def test_no_expunge_during_search():
    srv = mail_server()
    try:
        prepare(srv)
        c1 = select(srv)
        c2 = select(srv)
        # the other session expunges the dummy (MSN 1)
        u, t = c2.command("x1", "EXPUNGE")
        assert t.startswith("x1 OK"), t
        c2.close()
        line, t, untagged = search(c1, "SEARCH ALL")
        assert not any("EXPUNGE" in u for u in untagged), untagged
        # the MSNs are still the old ones: 1..5 (the dummy is not found)
        assert line in ("* SEARCH 1 2 3 4 5", "* SEARCH 2 3 4 5"), line
        u, t = c1.command("n1", "NOOP")
        assert "* 1 EXPUNGE" in u, u
        line, t, _ = search(c1, "SEARCH ALL")
        assert line == "* SEARCH 1 2 3 4", line
        # a message appended by another session: EXISTS, then found
        c3 = login(srv)
        append(c3, "a1", "INBOX", b"Subject: late\r\n\r\nlate\r\n")
        c3.close()
        line, t, untagged = search(c1, "SEARCH SUBJECT late")
        assert "* 5 EXISTS" in untagged and line == "* SEARCH 5", (untagged, line)
        c1.close()
    finally:
        srv.stop_and_check()


def test_many_messages():
    srv = mail_server()
    try:
        c = login(srv)
        data = b""
        n = 300
        parts = []
        for i in range(n):
            body = b"Subject: m%d\r\n\r\nbody %s\r\n" % (i, b"even" if i % 2 == 0 else b"odd")
            parts.append(b"{%d+}\r\n" % len(body) + body)
        data = b"m1 APPEND INBOX " + b" ".join(parts) + b"\r\n"
        c.send(data)
        t = c.read_until_tagged("m1")[1]
        assert t.startswith("m1 OK [APPENDUID") and ("1:%d]" % n) in t, t
        assert c.command("s", "SELECT INBOX")[1].startswith("s OK")
        line, t, _ = search(c, "SEARCH RETURN (COUNT ALL) BODY even", tag="m2")
        assert line == '* ESEARCH (TAG "m2") COUNT 150 ALL %s' % ",".join(
            str(i) for i in range(1, n + 1, 2)), line[:200]
        line, t, _ = search(c, "SEARCH SUBJECT m299")
        assert line == "* SEARCH 300", line
        c.close()
    finally:
        srv.stop_and_check()


def test_within():
    """OLDER and YOUNGER (RFC 5032) count back from the server's clock."""
    import time
    srv = mail_server()
    try:
        c = login(srv)
        u, t = c.command("c", "CAPABILITY")
        assert any(" WITHIN" in line for line in u), u
        assert c.command("m", "CREATE within")[1].startswith("m OK")
        two_hours_ago = time.strftime("%d-%b-%Y %H:%M:%S +0000",
                                      time.gmtime(time.time() - 7200))
        append(c, "a1", 'within () "01-Jan-2020 12:00:00 +0000"', MSG_D)
        append(c, "a2", 'within () "%s"' % two_hours_ago, MSG_D)
        append(c, "a3", "within ()", MSG_D)        # internal date: now
        assert c.command("s", "SELECT within")[1].startswith("s OK")
        for keys, want in [("YOUNGER 3600", "3"), ("YOUNGER 10800", "2 3"),
                           ("OLDER 3600", "1 2"), ("OLDER 10800", "1"),
                           ("NOT OLDER 3600", "3"), ("OR OLDER 10800 YOUNGER 60", "1 3"),
                           ("YOUNGER 2000000000", "1 2 3")]:
            line, tagged, _ = search(c, "SEARCH " + keys)
            assert tagged == "q OK SEARCH completed", (keys, tagged)
            assert line == ("* SEARCH " + want).rstrip(), (keys, line)
        for bad in ["OLDER 0", "YOUNGER", "YOUNGER -1", "OLDER 1h"]:
            line, tagged, _ = search(c, "SEARCH " + bad)
            assert tagged.startswith("q BAD"), (bad, tagged)
        c.close()
    finally:
        srv.stop_and_check()


FTS_1 = (b"Subject: trigrams\r\n\r\n"
         b"abcd bcde cdef\r\n")
FTS_2 = ("Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n"
         "\r\n"
         "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! "
         "\u00c9t\u00e9 \u00e0 Z\u00fcrich\r\n").encode()
FTS_3 = (b"Subject: encoded\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=us-ascii\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n"
         b"bmVlZGxlIGluIGEgaGF5c3RhY2s=\r\n")


def index_left(srv, before):
    """The counts of the debug lines 'the full-text index leaves N of M'
    logged since the log had before characters."""
    return re.findall(r"full-text index leaves (\d+) of (\d+) messages for (\w+)",
                      srv.log_text()[before:])


def test_full_text_index():
    """BODY and TEXT through the index: it narrows (the debug log says to
    how many), a message with every trigram of a string but not the string
    is not found, non-ASCII strings, and messages another session has
    appended but not indexed yet."""
    srv = mail_server()
    try:
        c = login(srv)
        append(c, "f1", "INBOX", FTS_1)
        append(c, "f2", "INBOX", FTS_2)
        append(c, "f3", "INBOX", FTS_3)
        append(c, "f4", "INBOX", MSG_A)
        assert c.command("s", "SELECT INBOX")[1].startswith("s OK")
        before = len(srv.log_text())
        for keys, want in [("BODY abcde", ""), ("BODY bcde", "1"), ("BODY \"d bcd\"", "1"),
                           ("BODY needle", "3"), ("BODY HAYSTACK", "3"),
                           ("TEXT encoded", "3"), ("BODY quick", "4")]:
            line, tagged, _ = search(c, "SEARCH " + keys)
            assert tagged == "q OK SEARCH completed", (keys, tagged)
            assert line == ("* SEARCH " + want).rstrip(), (keys, line)
        left = index_left(srv, before)
        # "abcde": message 1 has its trigrams (abc, bcd, cde); the check
        # on the message removes it; "needle": only message 3 is read
        assert left[0] == ("1", "4", "BODY"), left
        assert left[3] == ("1", "4", "BODY"), left
        for data, want in [("\u043f\u0440\u0438\u0432\u0435\u0442", "2"),
                           ("\u041f\u0420\u0418\u0412\u0415\u0422, \u041c\u0418\u0420", "2"),
                           ("\u00e9t\u00e9 \u00c0 z\u00dcRICH", "2"),
                           ("\u043c\u0438\u0440", "2"), ("\u00e9t\u00e9 \u00e0 zurich", "")]:
            line, tagged = search_literal(c, "SEARCH CHARSET UTF-8 BODY", data.encode())
            assert tagged.startswith("q OK"), (data, tagged)
            assert line == ("* SEARCH " + want).rstrip(), (data, line)
        line, tagged = search_literal(c, "SEARCH CHARSET UTF-8 TEXT",
                                      "subject: \u043f\u0440\u0438".encode())
        assert line == "* SEARCH 2", line

        # another session appends and stays: its messages wait in its
        # queue, without a document; this session still finds them
        other = login(srv)
        for i in range(3):
            append(other, "o%d" % i, "INBOX",
                   b"Subject: late\r\n\r\nlatecomer number %d\r\n" % i)
        before = len(srv.log_text())
        line, tagged, _ = search(c, "SEARCH BODY latecomer")
        assert line == "* SEARCH 5 6 7", (line, tagged)
        line, tagged, _ = search(c, "SEARCH BODY \"number 1\"")
        assert line == "* SEARCH 6", (line, tagged)
        assert index_left(srv, before) == [("3", "7", "BODY"), ("1", "7", "BODY")], \
            index_left(srv, before)
        other.close()
        c.close()
    finally:
        srv.stop_and_check()


def test_older_store():
    """A message stored by a Cairn without the index (simulated: its
    document deleted with sqlite3 while cairnd is stopped) is found, and
    indexed by the first BODY search, which logs it."""
    import sqlite3
    srv = mail_server()
    try:
        c = login(srv)
        append(c, "a1", "INBOX", MSG_A)
        append(c, "a2", "INBOX", MSG_D)
        append(c, "a3", "INBOX", b"Subject: third\r\n\r\nthe quick fix\r\n")
        c.command("l", "LOGOUT")
        c.close()
        srv.proc.terminate()
        srv.proc.wait(10)
        srv.log.close()
        store = os.path.join(srv.dir, "data", "mail", "alice")
        owner = os.stat(store)
        db = sqlite3.connect(os.path.join(store, "index.db"))
        with db:
            n = db.execute("SELECT count(*) FROM fts_docs").fetchone()[0]
            assert n == 3, n
            db.execute("DELETE FROM fts_docs WHERE blob_id IN (SELECT blob_id "
                       "FROM messages WHERE uid IN (1, 3))")
        db.close()
        for name in os.listdir(store):
            os.chown(os.path.join(store, name), owner.st_uid, owner.st_gid)
        srv.start()
        before = len(srv.log_text())
        c = login(srv)
        assert c.command("s", "SELECT INBOX")[1].startswith("s OK")
        line, tagged, _ = search(c, "SEARCH BODY quick")
        assert line == "* SEARCH 1 3", (line, tagged)
        log = srv.log_text()[before:]
        expect(r"indexing 2 messages of INBOX for full-text search: 0 done", log)
        expect(r"indexing 2 messages of INBOX for full-text search: 2 done", log)
        assert index_left(srv, before) == [("2", "3", "BODY")], index_left(srv, before)
        # indexed now: the next search indexes nothing
        before = len(srv.log_text())
        line, tagged, _ = search(c, "SEARCH TEXT \"quick fix\"")
        assert line == "* SEARCH 3", (line, tagged)
        assert "for full-text search" not in srv.log_text()[before:]
        assert index_left(srv, before) == [("1", "3", "TEXT")], index_left(srv, before)
        c.close()
    finally:
        srv.stop_and_check()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_every_key,
        test_esearch,
        test_modseq,
        test_charset_and_bad,
        test_no_expunge_during_search,
        test_many_messages,
        test_within,
        test_full_text_index,
        test_older_store,
    ])
