"""SAVEDATE (RFC 8514) against the real cairnd: the capability, FETCH
SAVEDATE (the time APPEND, COPY or MOVE put the message in its mailbox,
in UTC, whatever the internal date), the SEARCH keys SAVEDBEFORE, SAVEDON,
SAVEDSINCE and SAVEDATESUPPORTED, and messages stored before save dates
were kept (made here by emptying the column in index.db): FETCH answers
NIL and SEARCH uses their internal date."""

import calendar
import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import cmd, expect, login, ok, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

MSG = b"Subject: saved\r\nFrom: a@example.org\r\n\r\nbody\r\n"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def append(c, mailbox, date):
    c.send('ap APPEND %s "%s" {%d+}\r\n' % (mailbox, date, len(MSG)))
    c.send(MSG + b"\r\n")
    tagged = c.read_until_tagged("ap")[1]
    assert tagged.startswith("ap OK"), tagged


def imap_date(t):
    tm = time.gmtime(t)
    return "%d-%s-%d" % (tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year)


def savedates(c, uids="1:*"):
    """{uid: unix time or None} of UID FETCH SAVEDATE."""
    out = {}
    for line in ok(c, "UID FETCH %s (SAVEDATE)" % uids):
        m = re.match(r'^\* \d+ FETCH \(UID (\d+) SAVEDATE (NIL|"([^"]+)")\)$', line)
        assert m, line
        if m.group(2) == "NIL":
            out[int(m.group(1))] = None
            continue
        expect(r" \+0000$", m.group(3))     # shown in UTC
        t = time.strptime(m.group(3), "%d-%b-%Y %H:%M:%S +0000")
        out[int(m.group(1))] = calendar.timegm(t)
    return out


def search(c, keys):
    line = [u for u in ok(c, "UID SEARCH " + keys) if u.startswith("* SEARCH")]
    assert len(line) == 1, line
    return line[0][len("* SEARCH"):].split()


def store_sql(srv, sql):
    """Run sql on alice's index.db, while a session holds it open: its
    -wal and -shm files exist then and stay the mail user's, even when we
    are root (SQLite, which makes a path absolute, could not go through
    <data-dir>/mail, root's and 0700, as the mail user)."""
    db = os.path.join(srv.dir, "data", "mail", "alice", "index.db")
    assert os.path.exists(db + "-wal") and os.path.exists(db + "-shm")
    con = sqlite3.connect(db, timeout=10)
    con.executescript(sql)
    con.close()


def test_fetch_and_search():
    with server() as srv:
        c = login(srv)
        caps = ok(c, "CAPABILITY")[0]
        assert " SAVEDATE" in caps, caps
        before = int(time.time())
        append(c, "INBOX", "05-Jan-2020 10:00:00 +0100")
        append(c, "INBOX", "06-Jan-2020 23:30:00 -0500")
        after = int(time.time())
        ok(c, "SELECT INBOX")
        saved = savedates(c)
        assert sorted(saved) == [1, 2], saved
        for uid, t in saved.items():
            assert before <= t <= after, (uid, t, before, after)
        u = ok(c, "FETCH 1 (INTERNALDATE SAVEDATE)")
        expect(r'^\* 1 FETCH \(INTERNALDATE "05-Jan-2020 10:00:00 \+0100" '
               r'SAVEDATE "\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \+0000"\)$', u[0])
        # the SAVED* keys go by the save date (UTC days), not the internal one
        today = imap_date(saved[1])
        assert search(c, "SAVEDON " + today) == ["1", "2"]
        assert search(c, "SAVEDSINCE " + today) == ["1", "2"]
        assert search(c, "SAVEDBEFORE " + today) == []
        assert search(c, "SAVEDBEFORE " + imap_date(saved[1] + 86400)) == ["1", "2"]
        assert search(c, "SAVEDSINCE " + imap_date(saved[1] + 86400)) == []
        assert search(c, "SAVEDON 5-Jan-2020") == []
        assert search(c, "ON 5-Jan-2020") == ["1"]
        assert search(c, "SAVEDATESUPPORTED") == ["1", "2"]
        assert search(c, "NOT SAVEDATESUPPORTED") == []
        assert search(c, "SAVEDON %s UID 2" % today) == ["2"]
        u = ok(c, "SEARCH RETURN (COUNT) SAVEDSINCE 1-Jan-2000")
        assert any("COUNT 2" in line for line in u), u
        # malformed keys are BAD
        for bad in ("SAVEDON", "SAVEDON 32-Jan-2024", "SAVEDSINCE x",
                    "FETCH 1 SAVEDATE[]"):
            expect(r"^BAD ", cmd(c, bad if bad.startswith("FETCH") else
                                 "SEARCH " + bad)[1])
        c.close()


def test_copy_and_move_set_it():
    with server() as srv:
        c = login(srv)
        append(c, "INBOX", "05-Jan-2020 10:00:00 +0100")
        append(c, "INBOX", "05-Jan-2020 11:00:00 +0100")
        ok(c, "SELECT INBOX")
        first = savedates(c)
        time.sleep(1.1)             # a later second for the copies
        ok(c, "COPY 1 Archive")
        ok(c, "MOVE 2 Archive")
        ok(c, "SELECT Archive")
        copied = savedates(c)
        assert sorted(copied) == [1, 2], copied
        assert copied[1] > first[1] and copied[2] > first[2], (first, copied)
        assert copied[1] <= time.time() + 1
        # the original keeps its own
        ok(c, "SELECT INBOX")
        assert savedates(c) == {1: first[1]}
        # FETCH's internal date did not move
        ok(c, "SELECT Archive")
        u = ok(c, "FETCH 1:2 (INTERNALDATE)")
        assert all("05-Jan-2020" in line for line in u), u
        c.close()


def test_stored_before_save_dates():
    with server() as srv:
        c = login(srv)
        append(c, "INBOX", "05-Jan-2020 10:00:00 +0100")
        append(c, "INBOX", "06-Jan-2020 10:00:00 +0100")
        # as if stored by a Cairn without schema step 4
        store_sql(srv, "UPDATE messages SET savedate = NULL WHERE uid = 1")
        ok(c, "SELECT INBOX")
        saved = savedates(c)
        assert saved[1] is None and saved[2] is not None, saved
        # SEARCH takes the internal date for it (RFC 8514 4.3)
        assert search(c, "SAVEDON 5-Jan-2020") == ["1"]
        assert search(c, "SAVEDBEFORE 6-Jan-2020") == ["1"]
        assert search(c, "SAVEDSINCE " + imap_date(saved[2])) == ["2"]
        assert search(c, "SAVEDATESUPPORTED") == ["1", "2"]
        # a COPY of it gets a save date of its own
        ok(c, "COPY 1 Archive")
        ok(c, "SELECT Archive")
        assert savedates(c)[1] is not None
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_fetch_and_search,
        test_copy_and_move_set_it,
        test_stored_before_save_dates,
    ])
