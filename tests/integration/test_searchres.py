"""SEARCHRES (RFC 5182; RFC 9051 6.4.4.1): SEARCH RETURN (SAVE) and "$" in
FETCH, STORE, COPY, MOVE, UID EXPUNGE and SEARCH, in their UID forms too;
SAVE with MIN, MAX, COUNT and ALL; "$" with nothing saved; expunges by this
and by another session; the resets (SELECT, EXAMINE, a NO with SAVE) and
what leaves "$" alone (BAD, searches without SAVE); malformed uses of "$";
pipelining -- against the real cairnd."""

import itertools
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (cmd, expect, login, ok, require_accounts,  # noqa: E402
                       run_tests)
from cairntest import running_mail_server as server  # noqa: E402

_tags = itertools.count(1)


def append(c, flags, subject, mailbox="INBOX"):
    data = ("Subject: %s\r\n\r\nbody\r\n" % subject).encode()
    tag = "a%d" % next(_tags)
    c.send("%s APPEND %s (%s) {%d+}\r\n" % (tag, mailbox, flags, len(data)))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged(tag)[1]
    assert tagged.startswith(tag + " OK"), tagged


def prepare(srv):
    """INBOX: a dummy, expunged, so UID = MSN + 1; then five messages, the
    odd ones \\Flagged: MSNs 1 3 5 are UIDs 2 4 6."""
    c = login(srv)
    append(c, "\\Deleted", "dummy")
    for i in range(1, 6):
        append(c, "\\Flagged" if i % 2 else "", "m%d" % i)
    ok(c, "SELECT INBOX")
    ok(c, "EXPUNGE")
    ok(c, "CREATE Other")
    c.close()


def selected(srv):
    c = login(srv)
    ok(c, "SELECT INBOX")
    return c


def fetched(untagged):
    """[(msn, uid)] of the "* n FETCH (... UID u ...)" lines."""
    out = []
    for line in untagged:
        m = re.match(r"^\* (\d+) FETCH \(.*\bUID (\d+)", line)
        if m:
            out.append((int(m.group(1)), int(m.group(2))))
    return out


def dollar(c):
    """What "$" names now, as [(msn, uid)], by FETCH $ and UID FETCH $."""
    by_msn = fetched(ok(c, "FETCH $ (UID)"))
    by_uid = fetched(ok(c, "UID FETCH $ (FLAGS)"))
    assert by_msn == by_uid, (by_msn, by_uid)
    return by_msn


def searches(untagged):
    """The SEARCH/ESEARCH lines among untagged responses."""
    return [u for u in untagged if re.match(r"^\* E?SEARCH\b", u)]


def test_capability():
    with server() as srv:
        c = srv.connect_tls()
        c.readline()
        tagged = c.command("l", "LOGIN alice alice-pw")[1]
        expect(r"^l OK \[CAPABILITY [^\]]* ESEARCH SEARCHRES ", tagged)
        untagged = ok(c, "CAPABILITY")
        assert " SEARCHRES " in untagged[0] + " ", untagged
        c.close()


def test_save_and_use():
    with server() as srv:
        prepare(srv)
        c = selected(srv)
        # nothing saved: "$" is empty, and no command fails on it
        assert dollar(c) == []
        assert searches(ok(c, "SEARCH $")) == ["* SEARCH"]
        assert fetched(ok(c, r"STORE $ +FLAGS (\Seen)")) == []
        _, tagged = cmd(c, "COPY $ Other")
        assert tagged == "OK COPY completed", tagged
        # SAVE alone: no SEARCH or ESEARCH response (RFC 5182 section 1)
        untagged, tagged = cmd(c, "SEARCH RETURN (SAVE) FLAGGED")
        assert searches(untagged) == [] and tagged == \
            "OK SEARCH completed, result saved", (untagged, tagged)
        assert dollar(c) == [(1, 2), (3, 4), (5, 6)]
        assert searches(ok(c, "SEARCH $")) == ["* SEARCH 1 3 5"]
        assert searches(ok(c, "SEARCH UID $")) == ["* SEARCH 1 3 5"]
        assert searches(ok(c, "UID SEARCH UID $")) == ["* SEARCH 2 4 6"]
        assert searches(ok(c, "SEARCH NOT $")) == ["* SEARCH 2 4"]
        assert searches(ok(c, "SEARCH $ 2:3")) == ["* SEARCH 3"]
        assert searches(ok(c, "SEARCH OR $ 2")) == ["* SEARCH 1 2 3 5"]
        # a UID SEARCH saves UIDs too: the same messages for FETCH $
        untagged = ok(c, "UID SEARCH RETURN (SAVE) UID 3:5")
        assert searches(untagged) == []
        assert dollar(c) == [(2, 3), (3, 4), (4, 5)]
        # STORE, UID STORE, COPY, UID COPY on "$"
        untagged = ok(c, r"STORE $ +FLAGS.SILENT (\Seen)")
        assert untagged == [], untagged
        assert searches(ok(c, "SEARCH SEEN")) == ["* SEARCH 2 3 4"]
        untagged = ok(c, r"UID STORE $ -FLAGS (\Seen)")
        assert [m for m, _ in fetched(untagged)] == [2, 3, 4], untagged
        _, tagged = cmd(c, "COPY $ Other")
        expect(r"^OK \[COPYUID \d+ 3:5 1:3\] COPY completed$", tagged)
        _, tagged = cmd(c, "UID COPY $ Other")
        expect(r"^OK \[COPYUID \d+ 3:5 4:6\] COPY completed$", tagged)
        # MOVE $ empties what "$" names: its messages are expunged
        untagged = ok(c, "SEARCH RETURN (SAVE) 4:5")
        untagged = ok(c, "MOVE $ Other")
        expect(r"^\* OK \[COPYUID \d+ 5:6 7:8\] Moved$", untagged[0])
        # either order of EXPUNGEs is right (RFC 9051 section 7.5.1)
        assert untagged[1:] in (["* 4 EXPUNGE", "* 4 EXPUNGE"],
                                ["* 5 EXPUNGE", "* 4 EXPUNGE"]), untagged
        assert dollar(c) == []
        # UID EXPUNGE $ removes only the saved \Deleted messages
        ok(c, r"STORE 1:3 +FLAGS.SILENT (\Deleted)")
        ok(c, "SEARCH RETURN (SAVE) 2:3")
        untagged = ok(c, "UID EXPUNGE $")
        assert untagged in (["* 2 EXPUNGE", "* 2 EXPUNGE"],
                            ["* 3 EXPUNGE", "* 2 EXPUNGE"]), untagged
        assert fetched(ok(c, "FETCH 1:* (UID)")) == [(1, 2)]
        assert dollar(c) == []
        # UID MOVE too; then the other mailbox has every message
        ok(c, "UID SEARCH RETURN (SAVE) ALL")
        ok(c, "UID MOVE $ Other")
        untagged = ok(c, "STATUS Other (MESSAGES)")
        assert untagged == ['* STATUS "Other" (MESSAGES 9)'], untagged
        c.close()


def test_save_with_options():
    with server() as srv:
        prepare(srv)
        c = selected(srv)
        # RFC 5182 section 2.4: MIN and/or MAX alone save only those
        for opts, line, saved in [
                ("SAVE MIN", "MIN 1", [(1, 2)]),
                ("MAX SAVE", "MAX 5", [(5, 6)]),
                ("MIN SAVE MAX", "MIN 1 MAX 5", [(1, 2), (5, 6)]),
                # with COUNT or ALL: everything found
                ("SAVE COUNT", "COUNT 3", [(1, 2), (3, 4), (5, 6)]),
                ("SAVE MIN COUNT", "MIN 1 COUNT 3", [(1, 2), (3, 4), (5, 6)]),
                ("MAX ALL SAVE", "MAX 5 ALL 1,3,5", [(1, 2), (3, 4), (5, 6)])]:
            tag = "o%d" % next(_tags)
            untagged, tagged = c.command(tag, "SEARCH RETURN (%s) FLAGGED" % opts)
            assert tagged.startswith(tag + " OK"), tagged
            assert searches(untagged) == ['* ESEARCH (TAG "%s") %s' % (tag, line)], \
                (opts, untagged)
            assert dollar(c) == saved, (opts, dollar(c))
        # MIN MAX of one message: that one
        ok(c, "SEARCH RETURN (SAVE MIN MAX) 3")
        assert dollar(c) == [(3, 4)]
        # UID SEARCH answers UIDs and saves the same messages
        untagged, tagged = c.command("u1", "UID SEARCH RETURN (SAVE MAX) UNFLAGGED")
        assert searches(untagged) == ['* ESEARCH (TAG "u1") UID MAX 5'], untagged
        assert dollar(c) == [(4, 5)]
        # an empty result: MIN names nothing, "$" is empty
        untagged, tagged = c.command("e1", "SEARCH RETURN (SAVE MIN) KEYWORD nothere")
        assert searches(untagged) == ['* ESEARCH (TAG "e1")'], untagged
        assert dollar(c) == []
        # a search without SAVE leaves "$" alone, whatever it returns
        ok(c, "SEARCH RETURN (SAVE) UNFLAGGED")
        ok(c, "SEARCH ALL")
        ok(c, "SEARCH RETURN (MIN) FLAGGED")
        ok(c, "UID SEARCH RETURN () 1")
        assert dollar(c) == [(2, 3), (4, 5)]
        # the search sees the old "$" before it saves the new one
        ok(c, "SEARCH RETURN (SAVE) OR $ 1")
        assert dollar(c) == [(1, 2), (2, 3), (4, 5)]
        # IMAP4rev2 (ENABLE is for the authenticated state): SAVE alone is
        # still silent; with ALL, an ESEARCH
        ok(c, "UNSELECT")
        ok(c, "ENABLE IMAP4rev2")
        ok(c, "SELECT INBOX")
        assert searches(ok(c, "SEARCH RETURN (SAVE) 5")) == []
        assert dollar(c) == [(5, 6)]
        untagged, _ = c.command("r1", "SEARCH RETURN (SAVE ALL) 1:2")
        assert searches(untagged) == ['* ESEARCH (TAG "r1") ALL 1:2'], untagged
        assert dollar(c) == [(1, 2), (2, 3)]
        c.close()


def test_pipelined():
    """RFC 5182 section 2.3: commands using "$" right behind the SEARCH."""
    with server() as srv:
        prepare(srv)
        c = selected(srv)
        c.send("p1 SEARCH RETURN (SAVE) UNFLAGGED\r\np2 FETCH $ (UID)\r\n"
               "p3 STORE $ +FLAGS (\\Answered)\r\np4 UID SEARCH ANSWERED\r\n")
        untagged, tagged = c.read_until_tagged("p4")
        assert "p1 OK SEARCH completed, result saved" in untagged, untagged
        assert "p2 OK FETCH completed" in untagged, untagged
        assert "* 2 FETCH (UID 3)" in untagged and "* 4 FETCH (UID 5)" in untagged, \
            untagged
        assert not any(re.match(r"^\* [135] FETCH", u) for u in untagged), untagged
        assert "* SEARCH 3 5" in untagged, untagged
        assert tagged.startswith("p4 OK"), tagged
        c.close()


def test_failures_and_resets():
    with server() as srv:
        prepare(srv)
        c = selected(srv)
        ok(c, "SEARCH RETURN (SAVE) FLAGGED")
        # BAD leaves "$" as it was (RFC 5182 section 2.1)...
        for text in ["SEARCH RETURN (SAVE) FOO", "SEARCH RETURN (SAVE FOO) ALL",
                     "SEARCH RETURN (SAVE) CHARSET", "SEARCH RETURN (SAVE) $:1",
                     "SEARCH RETURN (SAVE)"]:
            _, tagged = cmd(c, text)
            assert tagged.startswith("BAD"), (text, tagged)
        assert dollar(c) == [(1, 2), (3, 4), (5, 6)]
        # ...so does a NO without SAVE...
        _, tagged = cmd(c, "SEARCH CHARSET KOI8-R ALL")
        assert tagged.startswith("NO [BADCHARSET"), tagged
        assert dollar(c) == [(1, 2), (3, 4), (5, 6)]
        # ...but a NO with SAVE empties it
        _, tagged = cmd(c, "SEARCH RETURN (SAVE) CHARSET KOI8-R ALL")
        assert tagged.startswith("NO [BADCHARSET"), tagged
        assert dollar(c) == []
        # SELECT and EXAMINE start with an empty "$", even of the same
        # mailbox; Other has UIDs 1:3, which INBOX's saved 2:6 would name
        for i in range(3):
            append(c, "", "o%d" % i, mailbox="Other")
        for again in ["SELECT INBOX", "EXAMINE INBOX", "SELECT Other"]:
            ok(c, "SELECT INBOX")
            ok(c, "SEARCH RETURN (SAVE) ALL")
            assert len(dollar(c)) == 5
            ok(c, again)
            assert dollar(c) == [], again
        # and after UNSELECT or CLOSE, the next SELECT finds it empty
        for leave in ["UNSELECT", "CLOSE"]:
            ok(c, "SELECT INBOX")
            ok(c, "SEARCH RETURN (SAVE) ALL")
            ok(c, leave)
            _, tagged = cmd(c, "FETCH $ (UID)")
            assert tagged.startswith("BAD"), tagged     # not selected
            ok(c, "SELECT INBOX")
            assert dollar(c) == [], leave
        # a failed SELECT leaves no mailbox, and nothing of "$"
        ok(c, "SEARCH RETURN (SAVE) ALL")
        _, tagged = cmd(c, "SELECT Nonexistent")
        assert tagged.startswith("NO"), tagged
        ok(c, "SELECT INBOX")
        assert dollar(c) == []
        c.close()


def test_malformed():
    """RFC 5182 section 3: seq-last-command "$" is a whole sequence-set."""
    with server() as srv:
        prepare(srv)
        c = selected(srv)
        ok(c, "SEARCH RETURN (SAVE) ALL")
        for text in ["FETCH $:5 (UID)", "FETCH 1,$ (UID)", "UID FETCH $,1 (UID)",
                     "FETCH $$ (UID)", "FETCH *:$ (UID)", "FETCH $1 (UID)",
                     r"STORE 1:$ +FLAGS (\Seen)", "COPY $:* Other",
                     "MOVE 2,$ Other", "UID EXPUNGE $,3", "SEARCH $,1",
                     "SEARCH UID 1:$", 'FETCH "$" (UID)']:
            untagged, tagged = cmd(c, text)
            assert tagged.startswith("BAD"), (text, tagged)
            assert fetched(untagged) == [] and searches(untagged) == [], untagged
        # nothing was changed, moved or expunged
        assert dollar(c) == [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
        assert searches(ok(c, "SEARCH SEEN")) == ["* SEARCH"]
        c.close()


def test_expunged():
    """RFC 5182 section 2.1: expunged messages leave "$"; the rest keep
    their place, renumbered."""
    with server() as srv:
        prepare(srv)
        c = selected(srv)
        ok(c, "SEARCH RETURN (SAVE) FLAGGED")
        # by this session
        ok(c, r"STORE 3 +FLAGS.SILENT (\Deleted)")
        assert ok(c, "EXPUNGE") == ["* 3 EXPUNGE"]
        assert dollar(c) == [(1, 2), (4, 6)]
        assert searches(ok(c, "SEARCH $")) == ["* SEARCH 1 4"]
        assert searches(ok(c, "UID SEARCH UID $")) == ["* SEARCH 2 6"]
        # by another session: once this one is told, "$" has lost it
        d = selected(srv)
        ok(d, r"UID STORE 6 +FLAGS.SILENT (\Deleted)")
        ok(d, "UID EXPUNGE 6")
        d.close()
        untagged = ok(c, "NOOP")
        assert "* 4 EXPUNGE" in untagged, untagged
        assert dollar(c) == [(1, 2)]
        assert searches(ok(c, "SEARCH $")) == ["* SEARCH 1"]
        # a new message is not in "$"
        append(c, "\\Flagged", "new")
        untagged = ok(c, "NOOP")
        assert dollar(c) == [(1, 2)]
        assert searches(ok(c, "SEARCH FLAGGED")) == ["* SEARCH 1 4"]
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_capability,
        test_save_and_use,
        test_save_with_options,
        test_pipelined,
        test_failures_and_resets,
        test_malformed,
        test_expunged,
    ])
