"""SORT, UID SORT, ESORT (RFC 5256, RFC 5957, RFC 5267), THREAD and UID
THREAD (RFC 5256) against the real cairnd, on a fixture mailbox of twelve
messages whose headers were chosen so that every criterion gives another
order.  Every expected answer below is derived by hand from the RFC rules,
in the comments; none was copied from the server's output.

The fixture, MSN: From / To / Cc; base subject; sent date in UTC; arrival
(INTERNALDATE); RFC822.SIZE; ids.  UIDs are MSN + 1 (a first message is
expunged).

  1  "Zoe Adams" <zoe@>  / bob@ / carol@;     "Project plan";  01-Jan 10:00;   10-Jan; 500;
     <m1@example.org>
  2  bob@ / "Aaron Zoe" <zoe@>;              "Re: Project plan" -> "Project plan";
     13:00 +0200 = 01-Jan 11:00; 09-Jan; 450; <m2>, References <m1>
  3  =?UTF-8?Q?=C3=89mile?= <emile@> / group "team:" ...;
     encoded "Re: [proj] Project plan" -> "Project plan" (a reply);
     09:30 -0300 = 01-Jan 12:30; 12-Jan; 700; <m3>, References <m1> <m2>
  4  alice@ / dave@ / "Bob" <bob@>;          "Lunch";  02-Jan 08:00; 08-Jan; 300; <m4>
  5  dave@ / alice@;                         "Re: Lunch"; 02-Jan 09:00; 11-Jan; 350;
     <m5>, In-Reply-To <m4> (no References)
  6  carol@ / alice@;                        "Fwd: Lunch (fwd)" -> "Lunch" (a forward);
     no Date: -> its arrival 02-Jan 08:30; 02-Jan 08:30; 600; <m6>
  7  mallory@ / bob@;                        "[spam] Hello" -> "Hello";
     03-Jan 00:00; 15-Jan; 250; <m7>, References <missing>
  8  trent@ / bob@;                          "Re: Hello"; 03-Jan 01:00; 14-Jan; 650;
     <m8>, References <missing>
  9  "Bob" <bob@> / -;                       "Loop A"; 04-Jan 10:00; 13-Jan; 400;
     <loopa>, References <loopb>
 10  "Bob" <bob@> / -;                       "Loop B"; 04-Jan 11:00; 16-Jan; 400;
     <loopb>, References <loopa>
 11  peggy@ / bob@;                          "Duplicate"; 05-Jan 10:00; 07-Jan; 550;
     Message-ID <m4> again (a duplicate)
 12  no From, To, Subject, Date or Message-ID; its arrival 06-Jan 09:00; 800
"""

import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import expect, login, mail_server, require_accounts, run_tests  # noqa: E402

FIXTURE = [
    # (headers, arrival, size)
    ("From: \"Zoe Adams\" <zoe@example.org>\r\n"
     "To: bob@example.org\r\n"
     "Cc: carol@example.net\r\n"
     "Subject: Project plan\r\n"
     "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
     "Message-ID: <m1@example.org>\r\n",
     "10-Jan-2024 09:00:00 +0000", 500),
    ("From: bob@example.org\r\n"
     "To: \"Aaron Zoe\" <zoe@example.org>\r\n"
     "Subject: Re: Project plan\r\n"
     "Date: Mon, 01 Jan 2024 13:00:00 +0200\r\n"
     "Message-ID: <m2@example.org>\r\n"
     "In-Reply-To: <m1@example.org>\r\n"
     "References: <m1@example.org>\r\n",
     "09-Jan-2024 09:00:00 +0000", 450),
    ("From: =?UTF-8?Q?=C3=89mile?= <emile@example.fr>\r\n"
     "To: team: alice@example.org, bob@example.org;\r\n"
     "Subject: =?UTF-8?Q?Re=3A_=5Bproj=5D_Project_plan?=\r\n"
     "Date: Mon, 01 Jan 2024 09:30:00 -0300\r\n"
     "Message-ID: <m3@example.fr>\r\n"
     "References: <m1@example.org>\r\n <m2@example.org>\r\n",
     "12-Jan-2024 09:00:00 +0000", 700),
    ("From: alice@example.org\r\n"
     "To: dave@example.com\r\n"
     "Cc: \"Bob\" <bob@example.org>\r\n"
     "Subject: Lunch\r\n"
     "Date: Tue, 02 Jan 2024 08:00:00 +0000\r\n"
     "Message-ID: <m4@example.org>\r\n",
     "08-Jan-2024 09:00:00 +0000", 300),
    ("From: dave@example.com\r\n"
     "To: alice@example.org\r\n"
     "Subject: Re: Lunch\r\n"
     "Date: Tue, 02 Jan 2024 09:00:00 +0000\r\n"
     "Message-ID: <m5@example.com>\r\n"
     "In-Reply-To: <m4@example.org>\r\n",
     "11-Jan-2024 09:00:00 +0000", 350),
    ("From: carol@example.net\r\n"
     "To: alice@example.org\r\n"
     "Subject: Fwd: Lunch (fwd)\r\n"
     "Message-ID: <m6@example.net>\r\n",
     "02-Jan-2024 08:30:00 +0000", 600),
    ("From: mallory@example.com\r\n"
     "To: bob@example.org\r\n"
     "Subject: [spam] Hello\r\n"
     "Date: Wed, 03 Jan 2024 00:00:00 +0000\r\n"
     "Message-ID: <m7@example.com>\r\n"
     "References: <missing@example.com>\r\n",
     "15-Jan-2024 09:00:00 +0000", 250),
    ("From: trent@example.com\r\n"
     "To: bob@example.org\r\n"
     "Subject: Re: Hello\r\n"
     "Date: Wed, 03 Jan 2024 01:00:00 +0000\r\n"
     "Message-ID: <m8@example.com>\r\n"
     "References: <missing@example.com>\r\n",
     "14-Jan-2024 09:00:00 +0000", 650),
    ("From: \"Bob\" <bob@example.org>\r\n"
     "Subject: Loop A\r\n"
     "Date: Thu, 04 Jan 2024 10:00:00 +0000\r\n"
     "Message-ID: <loopa@example.org>\r\n"
     "References: <loopb@example.org>\r\n",
     "13-Jan-2024 09:00:00 +0000", 400),
    ("From: \"Bob\" <bob@example.org>\r\n"
     "Subject: Loop B\r\n"
     "Date: Thu, 04 Jan 2024 11:00:00 +0000\r\n"
     "Message-ID: <loopb@example.org>\r\n"
     "References: <loopa@example.org>\r\n",
     "16-Jan-2024 09:00:00 +0000", 400),
    ("From: peggy@example.com\r\n"
     "To: bob@example.org\r\n"
     "Subject: Duplicate\r\n"
     "Date: Fri, 05 Jan 2024 10:00:00 +0000\r\n"
     "Message-ID: <m4@example.org>\r\n",
     "07-Jan-2024 09:00:00 +0000", 550),
    ("X-Note: nothing a sort looks at\r\n",
     "06-Jan-2024 09:00:00 +0000", 800),
]


def message(headers, size):
    """headers, a blank line and a body of filler making it size bytes."""
    head = (headers + "\r\n").encode()
    assert len(head) + 2 <= size, (headers, len(head))
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


def append(c, tag, args, data):
    c.send(("%s APPEND %s {%d+}\r\n" % (tag, args, len(data))).encode() + data + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged.startswith(tag + " OK"), tagged
    return tagged


def prepare(srv):
    """INBOX: a dummy (expunged: UIDs are MSN + 1), then the fixture."""
    c = login(srv)
    append(c, "p0", "INBOX (\\Deleted)", b"Subject: dummy\r\n\r\nx\r\n")
    for i, (headers, arrival, size) in enumerate(FIXTURE):
        append(c, "p%d" % (i + 1), 'INBOX () "%s"' % arrival, message(headers, size))
    assert c.command("s", "SELECT INBOX")[1].startswith("s OK")
    u, t = c.command("e", "EXPUNGE")
    assert t.startswith("e OK") and "* 1 EXPUNGE" in u, (u, t)
    return c


def answer(c, text, tag="q", kind="SORT|ESEARCH|THREAD"):
    """The one untagged answer line (None when there is none) and the
    tagged line."""
    untagged, tagged = c.command(tag, text)
    found = [u for u in untagged if re.match(r"^\* (%s)\b" % kind, u)]
    assert len(found) <= 1, untagged
    assert not any("EXPUNGE" in u for u in untagged), untagged
    return (found[0] if found else None), tagged


# (criteria, search keys, the MSNs in order), derived from the table above.
SORT_CASES = [
    # ARRIVAL: 6 (02-Jan), 12 (06), 11 (07), 4 (08), 2 (09), 1 (10), 5 (11),
    # 3 (12), 9 (13), 8 (14), 7 (15), 10 (16)
    ("(ARRIVAL)", "ALL", "6 12 11 4 2 1 5 3 9 8 7 10"),
    # DATE in UTC: 1 10:00, 2 11:00, 3 12:30 (their local times would give
    # 3 1 2), 4, 6 (no Date: its arrival 08:30), 5 09:00, 7, 8, 9, 10, 11,
    # 12 (no Date:, arrival 06-Jan)
    ("(DATE)", "ALL", "1 2 3 4 6 5 7 8 9 10 11 12"),
    ("(REVERSE DATE)", "ALL", "12 11 10 9 8 7 5 6 4 3 2 1"),
    # SUBJECT, base subjects by i;ascii-casemap: "" 12; Duplicate 11;
    # Hello 7 8; Loop A 9; Loop B 10; Lunch 4 5 6; Project plan 1 2 3
    ("(SUBJECT)", "ALL", "12 11 7 8 9 10 4 5 6 1 2 3"),
    # ties within one subject by date, newest first
    ("(SUBJECT REVERSE DATE)", "ALL", "12 11 8 7 9 10 5 6 4 3 2 1"),
    # FROM, addr-mailbox: "" 12, alice 4, bob 2 9 10, carol 6, dave 5,
    # emile 3, mallory 7, peggy 11, trent 8, zoe 1
    ("(FROM)", "ALL", "12 4 2 9 10 6 5 3 7 11 8 1"),
    # REVERSE turns the key, not the sequence-number tie-break (2 9 10)
    ("(REVERSE FROM)", "ALL", "1 8 11 7 3 5 6 2 9 10 4 12"),
    ("(FROM REVERSE DATE)", "ALL", "12 4 10 9 2 6 5 3 7 11 8 1"),
    # TO: "" 9 10 12, alice 5 6, bob 1 7 8 11, dave 4, team (3's group
    # name), zoe 2
    ("(TO)", "ALL", "9 10 12 5 6 1 7 8 11 4 3 2"),
    # CC: "" for all but 4 (bob) and 1 (carol)
    ("(CC)", "ALL", "2 3 5 6 7 8 9 10 11 12 4 1"),
    # DISPLAYFROM (RFC 5957): "" 12; alice@example.org 4; "Bob" 9 10 before
    # bob@example.org 2 (a prefix sorts first); carol@ 6; dave@ 5;
    # mallory@ 7; peggy@ 11; trent@ 8; "Zoe Adams" 1; "Emile" with E-acute
    # (0xC3...) after all ASCII: 3
    ("(DISPLAYFROM)", "ALL", "12 4 9 10 2 6 5 7 11 8 1 3"),
    # DISPLAYTO: "" 9 10 12; "Aaron Zoe" 2; alice@ 5 6; bob@ 1 7 8 11;
    # dave@ 4; team 3
    ("(DISPLAYTO)", "ALL", "9 10 12 2 5 6 1 7 8 11 4 3"),
    # SIZE: 7 250, 4 300, 5 350, 9 400, 10 400, 2 450, 1 500, 11 550,
    # 6 600, 8 650, 3 700, 12 800
    ("(SIZE)", "ALL", "7 4 5 9 10 2 1 11 6 8 3 12"),
    ("(REVERSE SIZE)", "ALL", "12 3 8 6 11 1 2 9 10 5 4 7"),
    ("(REVERSE SIZE REVERSE DATE)", "ALL", "12 3 8 6 11 1 2 10 9 5 4 7"),
    ("(reverse size date)", "all", "12 3 8 6 11 1 2 9 10 5 4 7"),
    # with search keys: From contains bob: 2 9 10
    ("(DATE)", "FROM bob", "2 9 10"),
    # Subject contains lunch: 4 5 6, by arrival newest first: 5 4 6
    ("(REVERSE ARRIVAL)", "SUBJECT lunch", "5 4 6"),
    ("(SIZE)", "NOT SMALLER 600", "6 8 3 12"),
    ("(SUBJECT)", "OR TO team FROM trent", "8 3"),
    ("(DATE)", "SUBJECT nomatch", ""),
    # some found by their row alone (no header read for the search: the
    # sort reads it), the others by the header fields the search read
    # (handed on to the sort): LARGER 599 is 3 6 8 12; From bob 2 9 10;
    # by subject "" 12, Hello 8, Loop A 9, Loop B 10, Lunch 6, Project
    # plan 2 3
    ("(SUBJECT)", "OR LARGER 599 FROM bob", "12 8 9 10 6 2 3"),
    # SMALLER 300 is 7; Subject lunch 4 5 6; display value alice@ 4,
    # carol@ 6, dave@ 5, mallory@ 7
    ("(DISPLAYFROM)", "OR SMALLER 300 SUBJECT lunch", "4 6 5 7"),
]


def test_sort():
    srv = mail_server()
    try:
        c = prepare(srv)
        u, t = c.command("c", "CAPABILITY")
        caps = [line for line in u if line.startswith("* CAPABILITY")][0].split()
        for cap in ("SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT",
                    "THREAD=REFERENCES"):
            assert cap in caps, (cap, caps)
        failures = []
        for criteria, keys, want in SORT_CASES:
            for charset in ("UTF-8", "US-ASCII"):
                line, tagged = answer(c, "SORT %s %s %s" % (criteria, charset, keys))
                expected = ("* SORT " + want).rstrip()
                if tagged != "q OK SORT completed" or line != expected:
                    failures.append("%s %s: %r %r, want %r" % (criteria, keys, line,
                                                              tagged, expected))
            # UID SORT: the same order, as UIDs (MSN + 1)
            line, tagged = answer(c, "UID SORT %s UTF-8 %s" % (criteria, keys))
            expected = ("* SORT " + " ".join(str(int(n) + 1)
                                             for n in want.split())).rstrip()
            if tagged != "q OK UID SORT completed" or line != expected:
                failures.append("UID %s %s: %r %r, want %r" % (criteria, keys, line,
                                                              tagged, expected))
        assert not failures, "\n".join(failures)
        # a UTF-8 search string as a literal
        c.send(b"q SORT (DATE) UTF-8 FROM {6+}\r\n\xc3\x89mile\r\n")
        u, t = c.read_until_tagged("q")
        assert t == "q OK SORT completed" and "* SORT 3" in u, (u, t)
        # MODSEQ (RFC 7162 3.1.5): the highest mod-sequence of those found
        line, t = answer(c, "SORT (REVERSE SIZE) UTF-8 MODSEQ 1 FROM bob")
        expect(r"^\* SORT 2 9 10 \(MODSEQ \d+\)$", line)
        c.close()
    finally:
        srv.stop_and_check()


def test_esort():
    srv = mail_server()
    try:
        c = prepare(srv)
        # REVERSE ARRIVAL: 10 7 8 9 3 5 1 2 4 11 12 6; MIN and MAX are the
        # first and the last in that order; ALL keeps it, ascending runs
        # written as ranges
        line, t = answer(c, "SORT RETURN (MIN MAX COUNT ALL) (REVERSE ARRIVAL) "
                         "UTF-8 ALL", tag="r1")
        assert line == ('* ESEARCH (TAG "r1") MIN 10 MAX 6 COUNT 12 '
                        'ALL 10,7:9,3,5,1:2,4,11:12,6'), line
        assert t == "r1 OK SORT completed", t
        # DATE as UIDs: 2 3 4 5 7 6 8 9 10 11 12 13
        line, t = answer(c, "UID SORT RETURN (ALL) (DATE) UTF-8 ALL", tag="r2")
        assert line == '* ESEARCH (TAG "r2") UID ALL 2:5,7,6,8:13', line
        assert t == "r2 OK UID SORT completed", t
        line, t = answer(c, "SORT RETURN () (FROM) UTF-8 FROM bob", tag="r3")
        assert line == '* ESEARCH (TAG "r3") ALL 2,9:10', line
        line, t = answer(c, "SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT lunch", tag="r4")
        assert line == '* ESEARCH (TAG "r4") COUNT 3', line
        # nothing found: no MIN, MAX or ALL, COUNT 0
        line, t = answer(c, "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 "
                         "SUBJECT nomatch", tag="r5")
        assert line == '* ESEARCH (TAG "r5") COUNT 0', line
        line, t = answer(c, "SORT RETURN (MIN) (SUBJECT) UTF-8 ALL", tag="r6")
        assert line == '* ESEARCH (TAG "r6") MIN 12', line
        line, t = answer(c, "SORT RETURN (COUNT) (DATE) UTF-8 MODSEQ 1", tag="r7")
        expect(r'^\* ESEARCH \(TAG "r7"\) COUNT 12 MODSEQ \d+$', line)

        # SAVE (RFC 5182): no answer, "$" holds the messages (a set)
        line, t = answer(c, "SORT RETURN (SAVE) (REVERSE DATE) UTF-8 FROM bob", tag="s1")
        assert line is None and t == "s1 OK SORT completed, result saved", (line, t)
        line, t = answer(c, "SEARCH $", tag="s2", kind="SEARCH")
        assert line == "* SEARCH 2 9 10", line
        # MIN alone saves the first in sort order (10), MAX alone the last (2)
        line, t = answer(c, "SORT RETURN (SAVE MIN) (REVERSE DATE) UTF-8 FROM bob",
                         tag="s3")
        assert line == '* ESEARCH (TAG "s3") MIN 10', line
        line, t = answer(c, "SEARCH $", tag="s4", kind="SEARCH")
        assert line == "* SEARCH 10", line
        line, t = answer(c, "UID SORT RETURN (SAVE MAX) (REVERSE DATE) UTF-8 FROM bob",
                         tag="s5")
        assert line == '* ESEARCH (TAG "s5") UID MAX 3', line
        line, t = answer(c, "SEARCH $", tag="s6", kind="SEARCH")
        assert line == "* SEARCH 2", line
        # with COUNT, every message found is saved
        line, t = answer(c, "SORT RETURN (SAVE MIN COUNT) (DATE) UTF-8 SUBJECT lunch",
                         tag="s7")
        assert line == '* ESEARCH (TAG "s7") MIN 4 COUNT 3', line
        line, t = answer(c, "SEARCH $", tag="s8", kind="SEARCH")
        assert line == "* SEARCH 4 5 6", line
        # a NO with SAVE empties "$"; a BAD leaves it
        line, t = answer(c, "SORT RETURN (SAVE) (DATE) KOI8-R ALL", tag="s9")
        assert t.startswith("s9 NO [BADCHARSET"), t
        line, t = answer(c, "SEARCH $", tag="s10", kind="SEARCH")
        assert line == "* SEARCH", line
        answer(c, "SORT RETURN (SAVE) (DATE) UTF-8 SUBJECT plan", tag="s11")
        line, t = answer(c, "SORT RETURN (SAVE) (BOGUS) UTF-8 ALL", tag="s12")
        assert t.startswith("s12 BAD"), t
        line, t = answer(c, "SEARCH $", tag="s13", kind="SEARCH")
        assert line == "* SEARCH 1 2 3", line
        c.close()
    finally:
        srv.stop_and_check()


def test_thread():
    srv = mail_server()
    try:
        c = prepare(srv)
        # ORDEREDSUBJECT: per base subject by date; threads by their first
        # message's date: Project plan 1 (2 3), Lunch 4 (6 5), Hello 7 8,
        # Loop A 9, Loop B 10, Duplicate 11, "" 12
        line, t = answer(c, "THREAD ORDEREDSUBJECT UTF-8 ALL")
        assert line == "* THREAD (1 (2)(3))(4 (6)(5))(7 8)(9)(10)(11)(12)", line
        assert t == "q OK THREAD completed", t
        # REFERENCES:
        # (1) 1 -> 2 -> 3 (3's References also name 1, whose link to 2 is
        #     kept); 5 has only In-Reply-To: 4 -> 5; 7 and 8 reference the
        #     missing <missing>: a dummy above both; 9 and 10 reference
        #     each other: 9 under 10 (loopb, a dummy then) and 10 under 9
        #     is refused as a loop; 11 repeats 4's Message-ID: a node of
        #     its own; 12 has no id.
        # (3) the dummy has two children and stays.
        # (4) top level by date: 1, 4, 6, the dummy (its first child 7),
        #     10, 11, 12.
        # (5) 6's base subject is Lunch, like 4's; 6 is a forward and 4
        #     not: 6 becomes 4's child.
        # (6) 4's children by date: 6 (08:30), 5 (09:00).
        line, t = answer(c, "THREAD REFERENCES UTF-8 ALL")
        assert line == "* THREAD (1 2 3)(4 (6)(5))((7)(8))(10 9)(11)(12)", line
        line, t = answer(c, "UID THREAD REFERENCES UTF-8 ALL")
        assert line == "* THREAD (2 3 4)(5 (7)(6))((8)(9))(11 10)(12)(13)", line
        assert t == "q OK UID THREAD completed", t
        # only the messages found: 2's parent 1 is not one, so 2 stands
        # alone (its dummy parent gives way); 10 and 9 as before
        line, t = answer(c, "THREAD REFERENCES US-ASCII FROM bob")
        assert line == "* THREAD (2)(10 9)", line
        line, t = answer(c, "THREAD ORDEREDSUBJECT UTF-8 FROM bob")
        assert line == "* THREAD (2)(9)(10)", line
        line, t = answer(c, "thread references utf-8 subject nomatch")
        assert line == "* THREAD", line
        c.close()
    finally:
        srv.stop_and_check()


def test_bad():
    srv = mail_server()
    try:
        c = prepare(srv)
        for text in ["SORT", "SORT UTF-8 ALL", "SORT (DATE)", "SORT (DATE) UTF-8",
                     "SORT () UTF-8 ALL", "SORT (FOO) UTF-8 ALL",
                     "SORT (REVERSE) UTF-8 ALL", "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
                     "SORT ((DATE)) UTF-8 ALL", "SORT (DATE \"SIZE\") UTF-8 ALL",
                     "SORT (DATE) UTF-8 FOO", "SORT (DATE) (UTF-8) ALL",
                     "SORT RETURN (BOGUS) (DATE) UTF-8 ALL", "SORT RETURN (DATE) UTF-8 ALL",
                     "SORT RETURN", "UID SORT", "THREAD", "THREAD FOO UTF-8 ALL",
                     "THREAD REFERENCES", "THREAD REFERENCES UTF-8",
                     "THREAD (REFERENCES) UTF-8 ALL", "THREAD REFERENCES UTF-8 BEFORE x",
                     "SORT (" + "DATE " * 33 + ") UTF-8 ALL"]:
            line, t = answer(c, text, tag="b")
            assert line is None and t.startswith("b BAD "), (text, line, t)
        for text in ["SORT (DATE) ISO-8859-1 ALL", "SORT (DATE) ALL",
                     "THREAD REFERENCES KOI8-R ALL", "UID THREAD ORDEREDSUBJECT x ALL"]:
            line, t = answer(c, text, tag="n")
            assert line is None and t == "n NO [BADCHARSET (UTF-8 US-ASCII)] " \
                "Unsupported charset", (text, line, t)
        # the session goes on
        line, t = answer(c, "SORT (DATE) UTF-8 FROM peggy")
        assert line == "* SORT 11", line
        c.close()
        # not without a selected mailbox, nor before login
        c = login(srv)
        for text in ["SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"]:
            assert c.command("a", text)[1].startswith("a BAD "), text
        c.close()
        c = srv.connect_tls()
        greeting = c.readline()
        assert " SORT" not in greeting and "THREAD" not in greeting, greeting
        assert c.command("a", "SORT (DATE) UTF-8 ALL")[1].startswith("a BAD ")
        c.close()
    finally:
        srv.stop_and_check()


def test_uncached_and_concurrent():
    """A header too long for the store's cache: the keys come from the
    message itself.  And no EXPUNGE while SORT and THREAD run."""
    srv = mail_server()
    try:
        c = login(srv)
        assert c.command("m", "CREATE big")[1].startswith("m OK")
        refs = "".join(" <r%d.%s@example.org>\r\n" % (i, "p" * 40) for i in range(700))
        big = ("From: \"Big One\" <aaa@example.org>\r\n"
               "Subject: Re: Zebra\r\n"
               "Date: Tue, 02 Jan 2024 00:00:00 +0000\r\n"
               "Message-ID: <big@example.org>\r\n"
               "References:" + refs + "\r\n").encode() + b"body\r\n"
        small = (b"From: zzz@example.org\r\nSubject: Apple\r\n"
                 b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
                 b"Message-ID: <r699.%s@example.org>\r\n\r\nbody\r\n" % (b"p" * 40))
        append(c, "a1", "big", big)
        append(c, "a2", "big", small)
        assert c.command("s", "SELECT big")[1].startswith("s OK")
        # big: subject Zebra, from aaa, sent 02-Jan; small: Apple, zzz, 01-Jan
        assert answer(c, "SORT (SUBJECT) UTF-8 ALL")[0] == "* SORT 2 1"
        assert answer(c, "SORT (FROM) UTF-8 ALL")[0] == "* SORT 1 2"
        assert answer(c, "SORT (DISPLAYFROM) UTF-8 ALL")[0] == "* SORT 1 2"
        assert answer(c, "SORT (DATE) UTF-8 ALL")[0] == "* SORT 2 1"
        # big's last reference is small: a child of it
        assert answer(c, "THREAD REFERENCES UTF-8 ALL")[0] == "* THREAD (2 1)"

        # another session expunges 2: no EXPUNGE during SORT or THREAD,
        # which leave the message out; NOOP then reports it
        other = login(srv)
        assert other.command("o1", "SELECT big")[1].startswith("o1 OK")
        assert other.command("o2", "STORE 2 +FLAGS (\\Deleted)")[1].startswith("o2 OK")
        assert other.command("o3", "EXPUNGE")[1].startswith("o3 OK")
        other.close()
        assert answer(c, "SORT (DATE) UTF-8 ALL")[0] == "* SORT 1"
        assert answer(c, "THREAD ORDEREDSUBJECT UTF-8 ALL")[0] == "* THREAD (1)"
        u, t = c.command("n", "NOOP")
        assert "* 2 EXPUNGE" in u, u
        c.close()
    finally:
        srv.stop_and_check()



def store_sql(srv, sql):
    """sql on alice's index.db while a session holds it open (see
    test_savedate.py); the first column of the last row, if any."""
    db = os.path.join(srv.dir, "data", "mail", "alice", "index.db")
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute(sql).fetchall()
        con.commit()
    finally:
        con.close()
    return rows[-1][0] if rows else None


def test_keys_made_for_old_messages():
    """Messages whose blobs have no stored sort keys (stored before schema
    step 9): SORT and THREAD make them from the header, answer as with
    stored ones, and keep them afterwards."""
    srv = mail_server()
    try:
        c = prepare(srv)
        commands = ["SORT %s UTF-8 %s" % (crit, keys) for crit, keys, _ in SORT_CASES]
        commands += ["THREAD REFERENCES UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL"]
        want = [answer(c, cmd) for cmd in commands]
        n = store_sql(srv, "SELECT count(*) FROM sort_keys")
        assert n == len(FIXTURE), n
        for cmd, w in zip(commands, want):
            store_sql(srv, "DELETE FROM sort_keys")
            got = answer(c, cmd)
            assert got == w, (cmd, got, w)
            # kept once the answer is out: the next command waits for that
            assert c.command("n", "NOOP")[1].startswith("n OK")
            # ARRIVAL and SIZE come from the message row: no keys made
            needs = not re.match(r"SORT \(((REVERSE|ARRIVAL|SIZE) ?)*\)", cmd)
            n = store_sql(srv, "SELECT count(*) FROM sort_keys")
            if not needs:
                assert n == 0, (cmd, n)
            elif cmd.endswith(" ALL"):
                assert n == len(FIXTURE), (cmd, n)
            else:   # those of the messages found
                found = len(set(re.findall(r"\d+", w[0] or "")))
                assert n <= found and (n > 0) == (found > 0), (cmd, n, w)
            assert answer(c, cmd) == w, cmd
        c.close()
    finally:
        srv.stop_and_check()

if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_sort,
        test_esort,
        test_thread,
        test_bad,
        test_uncached_and_concurrent,
        test_keys_made_for_old_messages,
    ])
