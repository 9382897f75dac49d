"""APPEND (RFC 9051 6.3.12): flags, date-time, LITERAL+, MULTIAPPEND
(RFC 3502), APPENDUID (RFC 4315), TRYCREATE, malformed dates, a 20 MB
message stored and fetched back byte for byte, a literal8 with NUL, a 40 MB
message that streams into tmp/ without growing the serving child's memory,
EXISTS in the selected mailbox, and a client that leaves mid-literal
leaving nothing behind -- against the real cairnd.  The store is looked at
on disk (<data-dir>/mail/alice/{blobs,tmp})."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (expect, fetch_body, login, mail_server, require_accounts,  # noqa: E402
                       rss_kb, run_tests,
                       serving_child, wait_for)


def store_dir(srv):
    return os.path.join(srv.dir, "data", "mail", "alice")


def blobs(srv):
    """{path: bytes} of every blob file."""
    out = {}
    root = os.path.join(store_dir(srv), "blobs")
    for d, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                out[os.path.join(d, f)] = fh.read()
    return out


def tmp_files(srv):
    return os.listdir(os.path.join(store_dir(srv), "tmp"))


def tmp_size(srv):
    """Bytes in tmp/ (a file that goes meanwhile counts 0)."""
    total = 0
    for f in tmp_files(srv):
        try:
            total += os.path.getsize(os.path.join(store_dir(srv), "tmp", f))
        except OSError:
            pass
    return total


def examine_fetch_body(c, mailbox, uid):
    """BODY.PEEK[] of one message, as bytes."""
    u, t = c.command("ex", "EXAMINE %s" % mailbox)
    assert t.startswith("ex OK"), t
    return fetch_body(c, uid)


def big_body(size):
    """A message of about size bytes: CRLF lines, 8-bit, bare LF and CR."""
    line = (b"0123456789abcdefghijklmnopqrstuvwxyz \xc3\xa9\xe2\x82\xac\xff\x80 "
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n")
    odd = bytes(range(1, 256)) + b"\nbare LF\rbare CR\r\n"
    chunk = line * 200 + odd
    return b"Subject: big\r\n\r\n" + chunk * (size // len(chunk))


def append(c, tag, args, data, sync=True):
    """APPEND with a literal; returns (untagged, tagged)."""
    if isinstance(data, str):
        data = data.encode()
    if sync:
        c.send("%s APPEND %s {%d}\r\n" % (tag, args, len(data)))
        line = c.readline()
        if not line.startswith("+"):
            return [], line
    else:
        c.send("%s APPEND %s {%d+}\r\n" % (tag, args, len(data)))
    c.send(data + b"\r\n")
    return c.read_until_tagged(tag)


def appenduid(tagged):
    m = re.match(r"^\S+ OK \[APPENDUID (\d+) ([0-9:,]+)\] ", tagged)
    assert m, tagged
    return int(m.group(1)), m.group(2)


def has_command(c, line):
    return "Unknown command" not in line and "not valid" not in line


MSG = b"From: a@example.org\r\nSubject: hi\r\n\r\nhello\r\n"


def test_append_flags_date_appenduid():
    srv = mail_server()
    try:
        c = login(srv)
        u, t = append(c, "a1", 'INBOX (\\Seen $Junk) "05-Jan-2024 10:00:00 +0100"', MSG)
        uv, uid = appenduid(t)
        assert uid == "1" and uv > 0, t
        u, t = append(c, "a2", 'inbox (\\Flagged)', MSG + b"2")
        assert appenduid(t) == (uv, "2"), t
        u, t = append(c, "a3", '"INBOX" " 5-Jan-2024 23:59:59 -0830"', MSG + b"3")
        assert appenduid(t) == (uv, "3"), t
        # another mailbox has its own UIDVALIDITY and UIDs
        u, t = append(c, "a4", 'Sent', MSG + b"4")
        uv2, uid2 = appenduid(t)
        assert uid2 == "1", t
        contents = sorted(blobs(srv).values())
        assert contents == sorted([MSG, MSG + b"2", MSG + b"3", MSG + b"4"]), contents
        assert tmp_files(srv) == []
        # a synchronizing literal after a mailbox given as a literal
        c.send("a5 APPEND {5}\r\n")
        expect(r"^\+ ", c.readline())
        c.send("INBOX {3}\r\n")
        expect(r"^\+ ", c.readline())
        c.send("abc\r\n")
        assert appenduid(c.read_until_tagged("a5")[1])[1] == "4"
        c.close()
    finally:
        srv.stop_and_check()


def test_literal_plus_and_utf8():
    srv = mail_server()
    try:
        c = login(srv)
        u, t = append(c, "p1", "INBOX", MSG, sync=False)
        assert appenduid(t)[1] == "1", t
        # RFC 6855 UTF8 (~{n}) form
        body = "Subject: caf\u00e9\r\n\r\nna\u00efve\r\n".encode()
        c.send("p2 APPEND INBOX UTF8 (~{%d+}\r\n" % len(body))
        c.send(body + b")\r\n")
        assert appenduid(c.read_until_tagged("p2")[1])[1] == "2"
        assert body in blobs(srv).values()
        c.close()
    finally:
        srv.stop_and_check()


def test_bad_arguments():
    srv = mail_server()
    try:
        c = login(srv)
        before = blobs(srv)
        for args in ['INBOX "5-Jan-2024 10:00:00 +0100"',       # day: 2 places
                     'INBOX "05-Jan-24 10:00:00 +0100"',
                     'INBOX "05-Foo-2024 10:00:00 +0100"',
                     'INBOX "31-Feb-2024 10:00:00 +0100"',
                     'INBOX "05-Jan-2024 24:00:00 +0100"',
                     'INBOX "05-Jan-2024 10:00:00 0100"',
                     'INBOX "05-Jan-2024 10:00:00 +0160"',
                     'INBOX "05-Jan-2024 10:00"',
                     'INBOX "05-Jan-2024 10:00:00 +0100 "',
                     'INBOX (\\Recent)',
                     'INBOX (\\Bogus)',
                     'INBOX (\\Seen) (\\Seen)',
                     'INBOX "05-Jan-2024 10:00:00 +0100" (\\Seen)',
                     'INBOX NIL',
                     'INBOX foo']:
            # the literal is announced non-synchronizing so the line parses
            u, t = append(c, "b1", args, MSG, sync=False)
            expect(r"^b1 BAD ", t)
        # no literal at all
        expect(r"^b2 BAD ", c.command("b2", "APPEND INBOX")[1])
        expect(r"^b3 BAD ", c.command("b3", "APPEND INBOX (\\Seen)")[1])
        expect(r"^b4 BAD ", c.command("b4", "APPEND")[1])
        expect(r"^b5 BAD ", c.command("b5", 'APPEND INBOX "hello"')[1])
        # BAD from the parser once a literal has streamed: it goes too
        c.send(b"b8 APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b" )\r\n")
        expect(r"^b8 BAD ", c.read_until_tagged("b8")[1])
        c.send(b"b9 APPEND INBOX {%d}\r\n" % len(MSG))
        expect(r"^\+ ", c.readline())
        c.send(MSG + b" {1}x\r\n")
        expect(r"^b9 BAD ", c.read_until_tagged("b9")[1])
        # empty message
        u, t = append(c, "b6", "INBOX", b"", sync=False)
        expect(r"^b6 NO ", t)
        assert blobs(srv) == before and tmp_files(srv) == []
        # the session goes on
        assert append(c, "b7", "INBOX", MSG)[1].startswith("b7 OK")
        c.close()
        # not before login
        c = srv.connect_tls()
        c.readline()
        expect(r"^n1 BAD ", c.command("n1", "APPEND INBOX {0+}\r\n")[1])
        c.close()
    finally:
        srv.stop_and_check()


def test_trycreate_and_names():
    srv = mail_server()
    try:
        c = login(srv)
        u, t = append(c, "t1", "Nonexistent", MSG)
        expect(r"^t1 NO \[TRYCREATE\]", t)
        u, t = append(c, "t2", "Sent/Sub", MSG, sync=False)
        expect(r"^t2 NO \[TRYCREATE\]", t)
        # modified UTF-7: a valid name that does not exist, and an invalid one
        expect(r"^t3 NO \[TRYCREATE\]", append(c, "t3", "&AOQ-bc", MSG)[1])
        u, t = append(c, "t4", "&Jjo", MSG)
        assert t.startswith("t4 NO") and "TRYCREATE" not in t, t
        u, t = append(c, "t5", '"a//b"', MSG)
        assert t.startswith("t5 NO") and "TRYCREATE" not in t, t
        assert blobs(srv) == {} and tmp_files(srv) == []
        c.close()
    finally:
        srv.stop_and_check()


def test_refused_before_the_data():
    """RFC 9051 6.3.12, RFC 7888: an APPEND the server will refuse (a
    mailbox that does not exist or is \\Noselect, a name it cannot hold)
    is answered at the literal's announcement: NO instead of "+" for a
    synchronizing literal, whose data the client then never sends; a
    non-synchronizing literal's data is read and dropped, then the NO.
    The connection goes on either way."""
    srv = mail_server()
    try:
        c = login(srv)
        ok = c.command("c1", "CREATE Top/Sub")[1]
        assert ok.startswith("c1 OK"), ok
        ok = c.command("c2", "DELETE Top")[1]     # Top becomes \Noselect
        assert ok.startswith("c2 OK"), ok
        for tag, name, code in [("r1", "Nonexistent", "TRYCREATE"),
                                ("r2", "Top", "TRYCREATE"),
                                ("r3", '"a//b"', "CANNOT"),
                                ("r4", "{3}", "TRYCREATE")]:
            c.send("%s APPEND %s" % (tag, name))
            if name == "{3}":
                c.send("\r\n")
                # the mailbox as a literal of its own: that one is asked for
                expect(r"^\+ ", c.readline())
                c.send("Foo")
            c.send(" (\\Seen) {%d}\r\n" % len(MSG))
            # the tagged NO comes where "+" would have: no data is sent
            expect(r"^%s NO \[%s\] " % (tag, code), c.readline())
            assert c.command("n" + tag, "NOOP")[1].startswith("n%s OK" % tag)
        # the same refusal for the second message of a MULTIAPPEND whose
        # first went non-synchronizing: that one's data was dropped
        c.send(b"r5 APPEND Nonexistent {%d+}\r\n" % len(MSG) + MSG +
               b" {%d}\r\n" % len(MSG))
        expect(r"^r5 NO \[TRYCREATE\] ", c.readline())
        # non-synchronizing: the data comes anyway and is not read as
        # commands; the NO follows the command's end
        trap = b"x1 LOGOUT\r\n" * 100
        c.send(b"r6 APPEND Nonexistent {%d+}\r\n" % len(trap) + trap + b"\r\n")
        u, t = c.read_until_tagged("r6")
        expect(r"^r6 NO \[TRYCREATE\] ", t)
        assert u == [], u
        c.send(b"r7 APPEND Top (\\Seen) {%d+}\r\n" % len(trap) + trap +
               b" {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
        u, t = c.read_until_tagged("r7")
        expect(r"^r7 NO \[TRYCREATE\] ", t)
        assert u == [], u
        assert c.command("r8", "NOOP")[1].startswith("r8 OK")
        assert blobs(srv) == {} and tmp_files(srv) == []
        # an existing mailbox still asks for the data, in any case of name
        u, t = append(c, "r9", "inbox", MSG)
        assert appenduid(t)[1] == "1", t
        c.close()
    finally:
        srv.stop_and_check()


def test_refused_data_not_kept():
    """The dropped data of a refused non-synchronizing literal goes
    nowhere: not into tmp/, not into the child's memory."""
    srv = mail_server()   # max-request-size: 50mb, the default
    try:
        c = login(srv)
        assert appenduid(append(c, "w", "INBOX", MSG)[1])[1] == "1"   # warm up
        child = serving_child(srv)
        before = rss_kb(child)
        body = big_body(40 * 1024 * 1024)
        c.sock.settimeout(120)
        c.send("d1 APPEND Nonexistent {%d+}\r\n" % len(body))
        peak, sent, step = before, 0, 4 * 1024 * 1024
        while sent < len(body):
            c.send(body[sent:sent + step])
            sent += step
            peak = max(peak, rss_kb(child))
            assert tmp_files(srv) == []
        c.send(b"\r\n")
        expect(r"^d1 NO \[TRYCREATE\] ", c.read_until_tagged("d1")[1])
        print("  VmRSS of the child: %d kB before, at most %d kB while 40 MB "
              "were dropped" % (before, peak))
        assert peak - before < 4 * 1024, (before, peak)
        assert len(blobs(srv)) == 1 and tmp_files(srv) == []
        assert c.command("d2", "NOOP")[1].startswith("d2 OK")
        c.close()
    finally:
        srv.stop_and_check()


def test_multiappend():
    srv = mail_server()
    try:
        c = login(srv)
        m1, m2, m3 = MSG + b"one", MSG + b"two", MSG + b"three"
        c.send('m1 APPEND INBOX (\\Seen) {%d+}\r\n' % len(m1))
        c.send(m1 + b' "01-Feb-2023 00:00:00 +0000" {%d+}\r\n' % len(m2))
        c.send(m2 + b' (\\Draft kw) "02-Feb-2023 00:00:00 +0000" {%d+}\r\n' % len(m3))
        c.send(m3 + b"\r\n")
        u, t = c.read_until_tagged("m1")
        uv, uids = appenduid(t)
        assert uids == "1:3", t
        assert sorted(blobs(srv).values()) == sorted([m1, m2, m3])
        # a bad group anywhere: nothing is stored
        before = blobs(srv)
        c.send('m2 APPEND INBOX {%d+}\r\n' % len(m1))
        c.send(m1 + b' "bad-date" {%d+}\r\n' % len(m2))
        c.send(m2 + b"\r\n")
        expect(r"^m2 BAD ", c.read_until_tagged("m2")[1])
        c.send('m3 APPEND INBOX {%d+}\r\n' % len(m1))
        c.send(m1 + b' {0+}\r\n\r\n')
        expect(r"^m3 NO ", c.read_until_tagged("m3")[1])
        assert blobs(srv) == before and tmp_files(srv) == []
        # the next UID goes on from 4
        assert appenduid(append(c, "m4", "INBOX", MSG)[1]) == (uv, "4")
        c.close()
    finally:
        srv.stop_and_check()


def test_big_message_and_toobig():
    srv = mail_server(**{"max-request-size": "30mb"})
    try:
        c = login(srv)
        body = big_body(20 * 1024 * 1024)
        assert len(body) > 20 * 1000 * 1000
        c.sock.settimeout(60)
        u, t = append(c, "g1", "INBOX", body)
        assert appenduid(t)[1] == "1", t
        stored = list(blobs(srv).values())
        assert len(stored) == 1 and stored[0] == body
        assert tmp_files(srv) == []
        # and back, byte for byte
        assert examine_fetch_body(c, "INBOX", 1) == body
        # APPENDLIMIT (RFC 7889) says the limit, in CAPABILITY and STATUS
        limit = 30 * 1024 * 1024
        u, t = c.command("cp", "CAPABILITY")
        assert any(" APPENDLIMIT=%d" % limit in line for line in u), u
        u, t = c.command("st", "STATUS INBOX (APPENDLIMIT MESSAGES)")
        assert u == ['* STATUS "INBOX" (MESSAGES 1 APPENDLIMIT %d)' % limit], u
        # over it: NO [TOOBIG] before the data, no continuation
        c.send("g2 APPEND INBOX {%d}\r\n" % (limit + 1))
        expect(r"^g2 NO \[TOOBIG\] .*APPENDLIMIT=%d" % limit, c.readline())
        assert c.command("g3", "NOOP")[1].startswith("g3 OK")
        # a literal of another command over the limit is still BAD
        c.send("g5 SEARCH TEXT {%d}\r\n" % (limit + 1))
        expect(r"^g5 BAD ", c.readline())
        # the same non-synchronizing: BAD, and the connection closes
        c.send("g4 APPEND INBOX {%d+}\r\n" % (31 * 1024 * 1024))
        expect(r"^g4 BAD ", c.readline())
        expect(r"^\* BYE ", c.readline())
        assert c.closed(10)
        c.close()
        assert tmp_files(srv) == [] and len(blobs(srv)) == 1
    finally:
        srv.stop_and_check()


def test_literal8_exact():
    """RFC 3516 ~{n}: NUL, 8-bit and every line end reach the blob as sent."""
    srv = mail_server()
    try:
        c = login(srv)
        body = (b"Subject: bin\r\n\r\n" + bytes(range(256)) * 64 +
                b"\0\r\n\n\r\r\n\0")
        c.send(b"b1 APPEND INBOX ~{%d+}\r\n" % len(body) + body + b"\r\n")
        assert appenduid(c.read_until_tagged("b1")[1])[1] == "1"
        c.send(b"b2 APPEND INBOX UTF8 (~{%d}\r\n" % len(body))
        expect(r"^\+ ", c.readline())
        c.send(body + b")\r\n")
        assert appenduid(c.read_until_tagged("b2")[1])[1] == "2"
        assert sorted(blobs(srv).values()) == [body, body]
        assert tmp_files(srv) == []
        c.close()
    finally:
        srv.stop_and_check()


def test_big_append_streams():
    """A 40 MB literal streams into tmp/ as it arrives: the serving child's
    VmRSS stays within a few MB of what it was before, during the upload
    and after the commit."""
    srv = mail_server()   # max-request-size: 50mb, the default
    try:
        c = login(srv)
        assert appenduid(append(c, "w", "INBOX", MSG)[1])[1] == "1"   # warm up
        child = serving_child(srv)
        before = rss_kb(child)
        body = big_body(40 * 1024 * 1024)
        c.sock.settimeout(120)
        c.send("r1 APPEND INBOX {%d}\r\n" % len(body))
        expect(r"^\+ ", c.readline())
        # all but the last bytes: the command is not complete, so no commit
        # can have started; look at the child after each 4 MB
        held = 1024 * 1024
        peak, sent, step = before, 0, 4 * 1024 * 1024
        while sent < len(body) - held:
            n = min(step, len(body) - held - sent)
            c.send(body[sent:sent + n])
            sent += n
            peak = max(peak, rss_kb(child))
        wait_for(lambda: tmp_size(srv) == sent, timeout=30,
                 what="the child to stream %d bytes into tmp/" % sent)
        peak = max(peak, rss_kb(child))
        c.send(body[sent:] + b"\r\n")
        u, t = c.read_until_tagged("r1")
        assert appenduid(t)[1] == "2", t
        after = rss_kb(child)
        print("  VmRSS of the child: %d kB before, at most %d kB during the "
              "upload, %d kB after (40 MB message)" % (before, peak, after))
        assert peak - before < 4 * 1024, (before, peak)
        assert after - before < 4 * 1024, (before, after)
        assert body in blobs(srv).values()
        assert tmp_files(srv) == []
        c.close()
    finally:
        srv.stop_and_check()


def test_disconnect_mid_literal_leaves_nothing():
    srv = mail_server()
    try:
        c = login(srv)
        c.send("d1 APPEND INBOX {1000000}\r\n")
        expect(r"^\+ ", c.readline())
        c.send(b"x" * 500000)
        c.close()
        wait_for(lambda: "connection closed by the client" in srv.log_text(),
                 what="the session to end")
        time.sleep(0.2)
        assert blobs(srv) == {} and tmp_files(srv) == []
        # and the store is fine afterwards
        c = login(srv)
        assert appenduid(append(c, "d2", "INBOX", MSG)[1])[1] == "1"
        c.close()
    finally:
        srv.stop_and_check()


def test_exists_in_selected_mailbox():
    srv = mail_server()
    try:
        c = login(srv)
        u, t = c.command("s1", "SELECT INBOX")
        if not has_command(c, t):
            print("SKIP: SELECT is not there yet")
            return
        assert t.startswith("s1 OK"), t
        assert "* 0 EXISTS" in u, u
        u, t = append(c, "s2", "INBOX", MSG)
        assert t.startswith("s2 OK"), t
        assert "* 1 EXISTS" in u, u
        # another mailbox: no EXISTS for it
        u, t = append(c, "s3", "Sent", MSG)
        assert t.startswith("s3 OK") and not any("EXISTS" in x for x in u), u
        # a second session appends; ours learns it at the next command
        c2 = login(srv)
        assert append(c2, "x1", "INBOX", MSG + b"x")[1].startswith("x1 OK")
        c2.close()
        u, t = c.command("s4", "NOOP")
        assert "* 2 EXISTS" in u, u
        u, t = c.command("s5", "STATUS Sent (MESSAGES UIDNEXT)")
        if has_command(c, t):
            assert t.startswith("s5 OK"), t
            expect(r"MESSAGES 1", " ".join(u))
            expect(r"UIDNEXT 2", " ".join(u))
        c.close()
    finally:
        srv.stop_and_check()


def test_imaplib_client():
    import imaplib
    srv = mail_server()
    try:
        m = srv.imap("alice", "alice-pw")
        typ, data = m.append("INBOX", "(\\Seen)",
                             imaplib.Time2Internaldate(1700000000), MSG)
        assert typ == "OK", (typ, data)
        assert b"APPENDUID" in data[0], data
        m.logout()
    finally:
        srv.stop_and_check()


def test_multiappend_all_or_nothing():
    """A later message that cannot be committed takes the earlier ones back:
    here the second one brings the mailbox over its 64 keywords."""
    srv = mail_server()
    try:
        c = login(srv)
        first = "(%s)" % " ".join("a%d" % i for i in range(40))
        second = "(%s)" % " ".join("b%d" % i for i in range(40))
        m1, m2 = MSG + b"one", MSG + b"two"
        c.send(("r1 APPEND INBOX %s {%d+}\r\n" % (first, len(m1))).encode() + m1 +
               (" %s {%d+}\r\n" % (second, len(m2))).encode() + m2 + b"\r\n")
        t = c.read_until_tagged("r1")[1]
        assert t.startswith("r1 NO"), t
        assert blobs(srv) == {} and tmp_files(srv) == []
        u, t = c.command("r2", "STATUS INBOX (MESSAGES)")
        assert t.startswith("r2 OK") and "MESSAGES 0" in " ".join(u), (u, t)
        c.close()
    finally:
        srv.stop_and_check()


def test_flags_and_dates_stored():
    """What APPEND stored, as SEARCH sees it."""
    srv = mail_server()
    try:
        c = login(srv)
        append(c, "a1", 'INBOX (\\Seen $Junk) "05-Jan-2024 23:30:00 -0200"', MSG)
        append(c, "a2", 'INBOX (\\Flagged \\Draft)', MSG + b"x")
        assert c.command("s", "SELECT INBOX")[1].startswith("s OK")
        for keys, want in [("SEEN", "1"), ("KEYWORD $junk", "1"), ("FLAGGED DRAFT", "2"),
                           ("ON 5-Jan-2024", "1"), ("SINCE 6-Jan-2024", "2"),
                           ("LARGER %d" % len(MSG), "2")]:
            u, t = c.command("q", "SEARCH " + keys)
            assert t.startswith("q OK") and "* SEARCH " + want in u, (keys, u, t)
        c.close()
    finally:
        srv.stop_and_check()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_append_flags_date_appenduid,
        test_literal_plus_and_utf8,
        test_bad_arguments,
        test_trycreate_and_names,
        test_refused_before_the_data,
        test_refused_data_not_kept,
        test_multiappend,
        test_big_message_and_toobig,
        test_literal8_exact,
        test_big_append_streams,
        test_disconnect_mid_literal_leaves_nothing,
        test_exists_in_selected_mailbox,
        test_imaplib_client,
        test_multiappend_all_or_nothing,
        test_flags_and_dates_stored,
    ])
