"""IDLE (RFC 2177, RFC 9051 6.3.13) against the real cairnd: a session in
IDLE hears another session's APPEND, STORE, EXPUNGE and MOVE within a
second (the change signal, inotify, and the polling fallback when the mail
user's inotify instances are used up); DONE pipelined with the next
commands; the keepalive; timeout-idle; bad input; and python3's imaplib
idling (Python 3.14 has IMAP4.idle(); older ones drive it by hand)."""

import os
import pwd
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import IS_ROOT, MAIL_USER, cmd, expect, login, ok, require_accounts  # noqa: E402
from cairntest import INOTIFY_MAX, heard, hold_inotify_instances, nothing_more, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

MSG = b"Subject: idle\r\nFrom: a@example.org\r\n\r\nbody\r\n"
BOUND = 1.0      # seconds: the bound from change to report


def append(c, mailbox="INBOX", data=MSG):
    c.send("ap APPEND %s {%d+}\r\n" % (mailbox, len(data)))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged("ap")[1]
    assert tagged.startswith("ap OK"), tagged


def start_idle(c, tag="idle"):
    c.send("%s IDLE\r\n" % tag)
    expect(r"^\+ ", c.readline())



def end_idle(c, tag="idle"):
    c.sock.settimeout(10)
    c.send("DONE\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged == "%s OK IDLE terminated" % tag, (untagged, tagged)
    return untagged


def other_session_changes(srv):
    """a idles in INBOX; b appends, flags, expunges, moves."""
    a, b = login(srv), login(srv)
    append(b)
    ok(a, "SELECT INBOX")
    ok(b, "SELECT INBOX")
    start_idle(a)
    nothing_more(a)

    append(b)
    heard(a, r"^\* 2 EXISTS$", time.monotonic())
    # IMAP4rev1 session: RECENT follows EXISTS.  a claimed message 1 at
    # SELECT; message 2 goes to whichever of a and b looks first
    expect(r"^\* [12] RECENT$", a.readline())

    ok(b, r"STORE 1 +FLAGS.SILENT (\Flagged)")
    heard(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\)\)$",
                 time.monotonic())

    ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
    heard(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Deleted \\Recent\)\)$",
                 time.monotonic())
    ok(b, "EXPUNGE")
    heard(a, r"^\* 1 EXPUNGE$", time.monotonic())

    ok(b, "MOVE 1 Archive")
    heard(a, r"^\* 1 EXPUNGE$", time.monotonic())
    nothing_more(a)
    assert end_idle(a) == []
    assert ok(a, "NOOP") == []
    a.close()
    b.close()


def test_idle_hears_other_sessions():
    with server() as srv:
        other_session_changes(srv)


def test_idle_in_authenticated_state():
    with server() as srv:
        c = login(srv)
        start_idle(c)
        nothing_more(c)
        assert end_idle(c) == []
        ok(c, "SELECT INBOX")


def test_done_pipelined_with_next_commands():
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "SELECT INBOX")
        start_idle(a)
        append(b)
        heard(a, r"^\* 1 EXISTS$", time.monotonic())
        a.readline()   # RECENT
        # iOS Mail: DONE and the next commands in one packet
        a.send("DONE\r\nn1 NOOP\r\nn2 FETCH 1 (FLAGS)\r\nidle2 IDLE\r\n")
        assert a.read_until_tagged("idle")[1] == "idle OK IDLE terminated"
        assert a.read_until_tagged("n1")[1] == "n1 OK NOOP completed"
        untagged, tagged = a.read_until_tagged("n2")
        assert tagged.startswith("n2 OK"), tagged
        assert untagged == [r"* 1 FETCH (FLAGS (\Recent))"], untagged
        expect(r"^\+ ", a.readline())
        # and IDLE with its DONE in one packet
        a.send("DONE\r\nidle3 IDLE\r\nDONE\r\n")
        assert a.read_until_tagged("idle2")[1] == "idle2 OK IDLE terminated"
        expect(r"^\+ ", a.readline())
        assert a.read_until_tagged("idle3")[1] == "idle3 OK IDLE terminated"
        # done in lower case is DONE (RFC 2177 is case-insensitive)
        start_idle(a, "idle4")
        a.send("done\r\n")
        assert a.read_until_tagged("idle4")[1] == "idle4 OK IDLE terminated"
        a.close()
        b.close()


def test_bad_input_while_idling():
    with server() as srv:
        c = login(srv)
        ok(c, "SELECT INBOX")
        assert cmd(c, "IDLE now")[1].startswith("BAD")
        start_idle(c)
        c.send("t9 NOOP\r\n")
        tagged = c.read_until_tagged("idle")[1]
        assert tagged == "idle BAD Expected DONE to end IDLE", tagged
        assert ok(c, "NOOP") == []
        # a line far longer than any DONE: BAD, and the session goes on
        start_idle(c, "idle2")
        c.send("x" * 100000 + "\r\n")
        tagged = c.read_until_tagged("idle2")[1]
        assert tagged.startswith("idle2 BAD"), tagged
        assert ok(c, "NOOP") == []
        c.close()


def test_keepalive_and_timeout_idle():
    with server(**{"idle-keepalive": "1s", "timeout-idle": "3s"}) as srv:
        c = login(srv)
        ok(c, "SELECT INBOX")
        started = time.monotonic()
        start_idle(c)
        c.sock.settimeout(10)
        assert c.readline() == "* OK Still here"
        assert c.readline() == "* OK Still here"
        expect(r"^\* BYE Autologout", c.readline())
        assert c.closed()
        assert 2.5 < time.monotonic() - started < 6
        assert "closing a connection in IDLE" in srv.log_text()
        # the child is free again: a new session works
        c2 = login(srv)
        ok(c2, "SELECT INBOX")
        c2.close()


def test_imaplib_idles():
    """python3's imaplib as the idling client."""
    import imaplib
    import ssl
    with server() as srv:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=ctx)
        m.login("alice", "alice-pw")
        assert "IDLE" in m.capabilities
        m.select("INBOX")
        b = login(srv)
        if hasattr(m, "idle"):      # Python 3.14
            with m.idle(duration=5) as idler:
                append(b)
                started = time.monotonic()
                for typ, data in idler:
                    if typ == "EXISTS":
                        break
                assert time.monotonic() - started < BOUND
        else:
            tag = m._new_tag()
            m.send(tag + b" IDLE\r\n")
            assert m.readline().startswith(b"+")
            append(b)
            started = time.monotonic()
            line = m.readline()
            assert time.monotonic() - started < BOUND
            assert line == b"* 1 EXISTS\r\n", line
            m.send(b"DONE\r\n")
            while not m.readline().startswith(tag + b" OK"):
                pass
        typ, data = m.search(None, "ALL")
        assert data == [b"1"], data
        m.logout()
        b.close()



def test_fallback_without_inotify():
    """With the mail user's inotify instances used up, IDLE looks at the
    index twice a second instead: still within the bound."""
    if not IS_ROOT:
        print("skipped: needs root to act as the mail user")
        return
    with open(INOTIFY_MAX) as f:
        limit = int(f.read())
    if limit > 10000:
        print("skipped: %s is %d, too many to use up" % (INOTIFY_MAX, limit))
        return
    holder = None
    with server() as srv:
        # cairnd says at start when the limit is below max-connections
        said = "fs.inotify.max_user_instances is %d, below max-connections " \
            "(1000)" % limit in srv.log_text()
        assert said == (limit < 1000), (limit, said)
        try:
            a, b = login(srv), login(srv)
            ok(a, "SELECT INBOX")
            holder = hold_inotify_instances(pwd.getpwnam(MAIL_USER).pw_uid)
            start_idle(a)
            append(b)
            heard(a, r"^\* 1 EXISTS$", time.monotonic())
            assert a.readline() == "* 1 RECENT"
            ok(b, "SELECT INBOX")
            ok(b, r"STORE 1 +FLAGS.SILENT (\Seen)")
            heard(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\)\)$",
                         time.monotonic())
            end_idle(a)
            assert re.search(r"inotify.*falls back", srv.log_text()), \
                "no warning about the fallback in the log"
            a.close()
            b.close()
        finally:
            if holder is not None:
                os.kill(holder, 9)
                os.waitpid(holder, 0)


if __name__ == "__main__":
    require_accounts()
    run_tests([test_idle_hears_other_sessions, test_idle_in_authenticated_state,
               test_done_pipelined_with_next_commands, test_bad_input_while_idling,
               test_keepalive_and_timeout_idle, test_imaplib_idles,
               test_fallback_without_inotify])
