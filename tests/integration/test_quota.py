"""QUOTA (RFC 9208) against the real cairnd: the capabilities, GETQUOTAROOT
and GETQUOTA of the one quota root "" (none while no limit is set),
SETQUOTA refused, `cairnctl quota get|set`, APPEND until NO [OVERQUOTA]
with nothing of the refused messages stored (rows, UIDs, files) and the
usage unchanged, MULTIAPPEND all or nothing, COPY refused over quota while
MOVE goes, a limit changed by cairnctl while a session is open, STATUS
DELETED-STORAGE and APPENDLIMIT (RFC 7889) following the quota."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import cmd, expect, login, ok, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

MSG = b"Subject: quota\r\nFrom: a@example.org\r\n\r\n" + b"x" * 600 + b"\r\n"
MAX_REQUEST = 50 * 1024 * 1024     # max-request-size: its default, 50mb


def store_dir(srv):
    return os.path.join(srv.dir, "data", "mail", "alice")


def files_under(srv, sub):
    n = 0
    for _, _, files in os.walk(os.path.join(store_dir(srv), sub)):
        n += len(files)
    return n


def append(c, mailbox, data=MSG):
    """One APPEND (LITERAL+); the tagged line without its tag."""
    c.send("ap APPEND %s {%d+}\r\n" % (mailbox, len(data)))
    c.send(data + b"\r\n")
    return c.read_until_tagged("ap")[1][3:]


def status(c, mailbox, items):
    """{item: int} of one STATUS."""
    line = ok(c, "STATUS %s (%s)" % (mailbox, items))[0]
    inner = re.search(r"\((.*)\)$", line).group(1).split()
    return {inner[i]: int(inner[i + 1]) for i in range(0, len(inner), 2)}


def quotaroot(c, mailbox="INBOX"):
    """(QUOTAROOT line, QUOTA lines) of GETQUOTAROOT."""
    u = ok(c, "GETQUOTAROOT %s" % mailbox)
    return u[0], u[1:]


def quota_set(srv, *limits):
    p = srv.cairnctl("quota", "set", "alice", *limits)
    assert p.returncode == 0, (p.stdout, p.stderr)
    return p.stdout


def test_commands_without_limits():
    with server() as srv:
        c = login(srv)
        caps = ok(c, "CAPABILITY")[0]
        for cap in ("QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"):
            assert " %s " % cap in caps + " ", caps
        assert "QUOTASET" not in caps, caps
        # no limit: no quota root, and a QUOTA response would list nothing
        assert quotaroot(c) == ('* QUOTAROOT "INBOX"', []), quotaroot(c)
        expect(r"^NO \[NONEXISTENT\] ", cmd(c, 'GETQUOTA ""')[1])
        expect(r"^NO \[NONEXISTENT\] ", cmd(c, "GETQUOTA other")[1])
        # limits are the administrator's; the syntax is checked first
        expect(r"^NO \[NOPERM\] ", cmd(c, 'SETQUOTA "" (STORAGE 100 MESSAGE 5)')[1])
        expect(r"^NO \[NOPERM\] ", cmd(c, 'SETQUOTA "" ()')[1])
        for bad in ("GETQUOTA", 'GETQUOTA "" x', "GETQUOTA (a)", "GETQUOTAROOT",
                    'SETQUOTA ""', 'SETQUOTA "" (STORAGE)', 'SETQUOTA "" (STORAGE x)',
                    'SETQUOTA "" (STORAGE 9223372036854775808)', 'SETQUOTA "" STORAGE'):
            expect(r"^BAD ", cmd(c, bad)[1])
        expect(r"^BAD ", cmd(c, "GETQUOTAROOT \"a\\\\b\" x")[1])
        c.close()
        # not before login
        raw = srv.connect_tls()
        raw.readline()
        expect(r"^x BAD ", raw.command("x", "GETQUOTAROOT INBOX")[1])
        raw.close()


def test_cairnctl_quota():
    with server() as srv:
        p = srv.cairnctl("quota", "get", "alice")
        assert p.returncode == 1, p
        expect(r"^cairnctl: no mail store for user alice: .* does not exist", p.stderr)
        login(srv).close()      # the first login makes the store
        p = srv.cairnctl("quota", "get", "alice")
        assert p.returncode == 0, p
        assert p.stdout == ("alice: storage 0 KiB used, no limit\n"
                            "alice: messages 0 stored, no limit\n"), p.stdout
        out = quota_set(srv, "storage=10", "messages=5")
        assert out == ("alice: storage 0 KiB used, limit 10 KiB\n"
                       "alice: messages 0 stored, limit 5\n"), out
        # set changes what it names and keeps the other
        out = quota_set(srv, "messages=none")
        assert "limit 10 KiB" in out and "messages 0 stored, no limit" in out, out
        out = quota_set(srv, "none")
        assert out.count("no limit") == 2, out
        for bad in (["set", "alice"], ["set", "alice", "storage"],
                    ["set", "alice", "storage=-1"], ["set", "alice", "storage=1k"],
                    ["set", "alice", "bytes=1"], ["set", "alice", "storage=1", "storage=2"],
                    ["set", "alice", "storage=9223372036854775808"],
                    ["get"], ["get", "alice", "x"], ["put", "alice"], []):
            p = srv.cairnctl("quota", *bad)
            assert p.returncode == 2, (bad, p)
            assert p.stderr.startswith("cairnctl: "), (bad, p.stderr)
        p = srv.cairnctl("quota", "get", "Alice")
        assert p.returncode == 1, p
        p = srv.cairnctl("quota", "--help")
        assert p.returncode == 0 and "quota set USER" in p.stdout, p


def test_append_until_overquota():
    with server() as srv:
        c = login(srv)
        quota_set(srv, "storage=4")     # 4096 octets: six messages of MSG
        sizes = []
        while True:
            tagged = append(c, "INBOX")
            if not tagged.startswith("OK"):
                break
            sizes.append(len(MSG))
            assert len(sizes) < 100, "no OVERQUOTA"
        expect(r"^NO \[OVERQUOTA\] ", tagged)
        used = sum(sizes)
        assert used <= 4096 < used + len(MSG), (used, len(MSG))
        kib = (used + 1023) // 1024
        assert quotaroot(c) == ('* QUOTAROOT "INBOX" ""',
                                ['* QUOTA "" (STORAGE %d 4)' % kib]), quotaroot(c)
        assert ok(c, 'GETQUOTA ""') == ['* QUOTA "" (STORAGE %d 4)' % kib]
        # another mailbox, one that does not exist: the same root
        assert quotaroot(c, "Archive")[1] == ['* QUOTA "" (STORAGE %d 4)' % kib]
        assert quotaroot(c, "Not/Yet")[0] == '* QUOTAROOT "Not/Yet" ""'
        # nothing of the refused message: no row, no UID, no file
        st = status(c, "INBOX", "MESSAGES UIDNEXT SIZE")
        assert st == {"MESSAGES": len(sizes), "UIDNEXT": len(sizes) + 1,
                      "SIZE": used}, st
        assert files_under(srv, "blobs") == len(sizes)
        assert files_under(srv, "tmp") == 0
        # into another mailbox: the same root, refused too
        expect(r"^NO \[OVERQUOTA\] ", append(c, "Drafts"))
        # a MULTIAPPEND whose first message would fit stores nothing
        quota_set(srv, "storage=none", "messages=%d" % (len(sizes) + 1))
        two = "ma APPEND INBOX {%d+}\r\n" % len(MSG)
        c.send(two.encode() + MSG + (" {%d+}\r\n" % len(MSG)).encode() + MSG + b"\r\n")
        expect(r"^ma NO \[OVERQUOTA\] ", c.read_until_tagged("ma")[1])
        assert status(c, "INBOX", "MESSAGES UIDNEXT") == {
            "MESSAGES": len(sizes), "UIDNEXT": len(sizes) + 1}
        assert files_under(srv, "blobs") == len(sizes)
        assert files_under(srv, "tmp") == 0
        # expunging frees room
        assert append(c, "INBOX").startswith("OK")
        expect(r"^NO \[OVERQUOTA\] ", append(c, "INBOX"))
        ok(c, "SELECT INBOX")
        ok(c, "STORE 1 +FLAGS (\\Deleted)")
        ok(c, "EXPUNGE")
        assert append(c, "INBOX").startswith("OK")
        assert quotaroot(c)[1] == ['* QUOTA "" (MESSAGE %d %d)' % (
            len(sizes) + 1, len(sizes) + 1)], quotaroot(c)
        c.close()


def test_overquota_before_the_data():
    """RFC 9208 OVERQUOTA with RFC 7888 literals: a message that would pass
    a limit gets NO [OVERQUOTA] where "+" would have come, so the client
    never uploads it; in a MULTIAPPEND each message is counted with those
    before it, and a refusal drops the whole command.  A non-synchronizing
    literal's data is read and dropped, then the NO.  Nothing is stored
    and the connection goes on."""
    with server() as srv:
        c = login(srv)
        assert append(c, "INBOX").startswith("OK")
        quota_set(srv, "storage=2")     # 2048 octets: room for two more MSG
        big = MSG * 3
        c.send("q1 APPEND INBOX {%d}\r\n" % len(big))
        expect(r"^q1 NO \[OVERQUOTA\] ", c.readline())
        # the third message of three passes: refused at its '}', the two
        # before it (one synchronizing, sent) are not stored
        c.send("q2 APPEND INBOX {%d}\r\n" % len(MSG))
        expect(r"^\+ ", c.readline())
        c.send(MSG + (" {%d+}\r\n" % len(MSG)).encode() + MSG +
               (" (\\Seen) {%d}\r\n" % len(MSG)).encode())
        expect(r"^q2 NO \[OVERQUOTA\] The messages ", c.readline())
        assert ok(c, "NOOP") == []
        assert status(c, "INBOX", "MESSAGES UIDNEXT") == {"MESSAGES": 1, "UIDNEXT": 2}
        assert files_under(srv, "blobs") == 1 and files_under(srv, "tmp") == 0
        # non-synchronizing: read, dropped (not taken for commands), NO
        trap = b"x1 LOGOUT\r\n" * 300
        c.send("q3 APPEND INBOX {%d+}\r\n" % len(trap))
        c.send(trap + b"\r\n")
        u, t = c.read_until_tagged("q3")
        expect(r"^q3 NO \[OVERQUOTA\] ", t)
        assert u == [], u
        # the message limit, the same way
        quota_set(srv, "storage=none", "messages=2")
        c.send("q4 APPEND INBOX {%d+}\r\n" % len(MSG))
        c.send(MSG + (" {%d}\r\n" % len(MSG)).encode())
        expect(r"^q4 NO \[OVERQUOTA\] ", c.readline())
        # what fits still asks for its data and is stored
        c.send("q5 APPEND INBOX {%d}\r\n" % len(MSG))
        expect(r"^\+ ", c.readline())
        c.send(MSG + b"\r\n")
        expect(r"^q5 OK \[APPENDUID \d+ 2\] ", c.read_until_tagged("q5")[1])
        assert files_under(srv, "blobs") == 2 and files_under(srv, "tmp") == 0
        c.close()


def test_copy_refused_move_allowed():
    with server() as srv:
        c = login(srv)
        for _ in range(3):
            assert append(c, "INBOX").startswith("OK")
        quota_set(srv, "messages=3")
        ok(c, "SELECT INBOX")
        expect(r"^NO \[OVERQUOTA\] ", cmd(c, "COPY 1 Archive")[1])
        expect(r"^NO \[OVERQUOTA\] ", cmd(c, "UID COPY 1:* Archive")[1])
        assert status(c, "Archive", "MESSAGES UIDNEXT") == {"MESSAGES": 0, "UIDNEXT": 1}
        # MOVE adds no usage: it goes, at the limit
        u = ok(c, "MOVE 1:2 Archive")
        assert any("[COPYUID " in line for line in u), u
        assert status(c, "Archive", "MESSAGES") == {"MESSAGES": 2}
        assert quotaroot(c)[1] == ['* QUOTA "" (MESSAGE 3 3)'], quotaroot(c)
        # a storage limit: COPY counts each copy's size
        kib = (3 * len(MSG) + 1023) // 1024
        assert (4 * len(MSG) + 1023) // 1024 > kib
        quota_set(srv, "messages=none", "storage=%d" % kib)
        expect(r"^NO \[OVERQUOTA\] ", cmd(c, "COPY 1 Trash")[1])
        quota_set(srv, "none")
        ok(c, "COPY 1 Trash")
        c.close()


def test_limit_changed_while_connected():
    with server() as srv:
        c = login(srv)
        ok(c, "SELECT INBOX")
        assert append(c, "INBOX").startswith("OK")
        quota_set(srv, "messages=1")
        expect(r"^NO \[OVERQUOTA\] ", append(c, "INBOX"))
        assert ok(c, 'GETQUOTA ""') == ['* QUOTA "" (MESSAGE 1 1)']
        quota_set(srv, "messages=2")
        assert append(c, "INBOX").startswith("OK")
        quota_set(srv, "none")
        assert append(c, "INBOX").startswith("OK")
        expect(r"^NO \[NONEXISTENT\] ", cmd(c, 'GETQUOTA ""')[1])
        # a second session of the same user sees the same usage
        d = login(srv)
        quota_set(srv, "messages=10")
        assert ok(d, 'GETQUOTA ""') == ['* QUOTA "" (MESSAGE 3 10)']
        c.close()
        d.close()


def test_status_items():
    with server() as srv:
        c = login(srv)
        # no quota: APPENDLIMIT is max-request-size, as in CAPABILITY
        assert status(c, "INBOX", "APPENDLIMIT") == {"APPENDLIMIT": MAX_REQUEST}
        caps = ok(c, "CAPABILITY")[0]
        assert " APPENDLIMIT=%d" % MAX_REQUEST in caps, caps
        for _ in range(3):
            assert append(c, "INBOX").startswith("OK")
        # DELETED-STORAGE: the \Deleted messages, in KiB rounded up
        ok(c, "SELECT INBOX")
        ok(c, "STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        st = status(c, "INBOX", "DELETED DELETED-STORAGE MESSAGES")
        assert st == {"MESSAGES": 3, "DELETED": 2,
                      "DELETED-STORAGE": (2 * len(MSG) + 1023) // 1024}, st
        assert status(c, "Trash", "DELETED-STORAGE") == {"DELETED-STORAGE": 0}
        u = ok(c, 'LIST "" INBOX RETURN (STATUS (DELETED-STORAGE))')
        assert '* STATUS "INBOX" (DELETED-STORAGE 2)' in u, u
        # APPENDLIMIT: what the quota leaves, the same in every mailbox
        quota_set(srv, "storage=10")
        room = 10 * 1024 - 3 * len(MSG)
        assert status(c, "INBOX", "APPENDLIMIT") == {"APPENDLIMIT": room}
        assert status(c, "Sent", "APPENDLIMIT") == {"APPENDLIMIT": room}
        # LIST-STATUS (RFC 5819): the same for each mailbox listed
        u = ok(c, 'LIST "" * RETURN (STATUS (APPENDLIMIT MESSAGES))')
        st = [line for line in u if line.startswith("* STATUS ")]
        assert len(st) == 6 and len(st) == len(u) - len(st), u
        assert all(line.endswith(" APPENDLIMIT %d)" % room) for line in st), st
        # the capability keeps the global upload limit
        assert " APPENDLIMIT=%d" % MAX_REQUEST in ok(c, "CAPABILITY")[0]
        quota_set(srv, "messages=3")
        assert status(c, "INBOX", "APPENDLIMIT") == {"APPENDLIMIT": 0}
        ok(c, "EXPUNGE")
        assert status(c, "INBOX", "APPENDLIMIT DELETED-STORAGE") == {
            "APPENDLIMIT": 10 * 1024 - len(MSG), "DELETED-STORAGE": 0}
        quota_set(srv, "storage=none", "messages=none")
        assert status(c, "INBOX", "APPENDLIMIT") == {"APPENDLIMIT": MAX_REQUEST}
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_commands_without_limits,
        test_cairnctl_quota,
        test_append_until_overquota,
        test_overquota_before_the_data,
        test_copy_refused_move_allowed,
        test_limit_changed_while_connected,
        test_status_items,
    ])
