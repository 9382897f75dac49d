"""Logging in: the capability rules of RFC 9051 6.2, LOGIN, AUTHENTICATE
PLAIN (with and without SASL-IR, cancelled) and LOGIN, STARTTLS then LOGIN,
implicit TLS, failure limits and delays, max-concurrent, disabled accounts,
cairn-authd dying mid-login, imported hashes, and who can read users.db --
against the real cairnd, with python's imaplib as a real client."""

import base64
import imaplib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (IS_ROOT, MAIL_USER, Server, client_tls_context,  # noqa: E402
                       expect, require_accounts, run_tests, wait_for)

PASSWORD = "correct horse battery staple"


def b64(data):
    return base64.b64encode(data).decode()


def login_server(**options):
    srv = Server(**options).start()
    try:
        srv.add_user("alice", PASSWORD)
    except BaseException:
        srv.stop()
        raise
    return srv


def test_clear_text_refuses_logins():
    srv = login_server()
    try:
        c = srv.connect()
        greeting = c.readline()
        expect(r"STARTTLS LOGINDISABLED\]", greeting)
        assert "AUTH=" not in greeting
        expect(r"^l1 NO \[PRIVACYREQUIRED\]", c.command("l1", 'LOGIN alice "%s"' % PASSWORD)[1])
        expect(r"^l2 NO \[PRIVACYREQUIRED\]", c.command("l2", "AUTHENTICATE PLAIN")[1])
        c.close()
        assert PASSWORD not in srv.log_text()
    finally:
        srv.stop_and_check()


def test_starttls_then_login_with_imaplib():
    srv = login_server()
    try:
        imap = imaplib.IMAP4("127.0.0.1", srv.port)
        assert "LOGINDISABLED" in imap.capabilities
        assert not any(c.startswith("AUTH=") for c in imap.capabilities)
        imap.starttls(ssl_context=client_tls_context())
        assert "AUTH=PLAIN" in imap.capabilities and "AUTH=LOGIN" in imap.capabilities
        assert "SASL-IR" in imap.capabilities and "LOGINDISABLED" not in imap.capabilities
        typ, data = imap.login("alice", PASSWORD)
        assert typ == "OK", data
        # the post-login capabilities came with the OK (RFC 9051 6.2.3)
        expect(r"^\[CAPABILITY IMAP4rev2 IMAP4rev1 [^\]]*\] Logged in", data[0].decode())
        assert "AUTH=" not in data[0].decode()
        imap.logout()
        log = srv.log_text()
        expect(r"login ok: user alice from 127\.0\.0\.1 \(LOGIN command\)", log)
        expect(r"session=[0-9a-f]{16}: user=alice: logged in", log)
        assert PASSWORD not in log
    finally:
        srv.stop_and_check()


def test_implicit_tls_login_with_imaplib_and_literals():
    srv = login_server()
    try:
        imap = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=client_tls_context())
        assert "AUTH=PLAIN" in imap.capabilities
        assert imap.login("alice", PASSWORD)[0] == "OK"
        imap.logout()
        c = srv.connect_tls()
        c.readline()
        c.send("q1 LOGIN {5}\r\n")
        expect(r"^\+ ", c.readline())
        c.send('alice "%s"\r\n' % PASSWORD)
        expect(r"^q1 OK \[CAPABILITY ", c.readline())
        expect(r"^q2 BAD .*not valid in this state", c.command("q2", "LOGIN alice x")[1])
        c.close()
    finally:
        srv.stop_and_check()


def test_authenticate_plain_variants():
    srv = login_server()
    try:
        good = b64(b"\0alice\0" + PASSWORD.encode())
        # SASL-IR: the response on the command line
        c = srv.connect_tls()
        c.readline()
        expect(r"^a1 OK \[CAPABILITY ", c.command("a1", "AUTHENTICATE PLAIN " + good)[1])
        c.close()
        # without: a "+ " continuation first
        c = srv.connect_tls()
        c.readline()
        c.send("a2 AUTHENTICATE PLAIN\r\n")
        assert c.readline().startswith("+")
        c.send(good + "\r\n")
        expect(r"^a2 OK ", c.readline())
        c.close()
        # cancelled with "*", then a normal login still works
        c = srv.connect_tls()
        c.readline()
        c.send("a3 AUTHENTICATE PLAIN\r\n")
        c.readline()
        c.send("*\r\n")
        expect(r"^a3 BAD .*cancelled", c.readline())
        # authzid = authcid is fine; garbage base64 is BAD
        expect(r"^a4 BAD ", c.command("a4", "AUTHENTICATE PLAIN %%%")[1])
        expect(r"^a5 OK ", c.command("a5", "AUTHENTICATE PLAIN " +
                                     b64(b"alice\0alice\0" + PASSWORD.encode()))[1])
        c.close()
        # someone else's authzid is refused
        c = srv.connect_tls()
        c.readline()
        expect(r"^a6 NO \[AUTHORIZATIONFAILED\]", c.command(
            "a6", "AUTHENTICATE PLAIN " + b64(b"bob\0alice\0" + PASSWORD.encode()))[1])
        # AUTHENTICATE LOGIN, the old clients' way
        c.send("a7 AUTHENTICATE LOGIN\r\n")
        assert c.readline() == "+ VXNlcm5hbWU6"
        c.send(b64(b"alice") + "\r\n")
        assert c.readline() == "+ UGFzc3dvcmQ6"
        c.send(b64(PASSWORD.encode()) + "\r\n")
        expect(r"^a7 OK ", c.readline())
        c.close()
        # imaplib's authenticate() drives the continuation itself
        imap = imaplib.IMAP4_SSL("127.0.0.1", srv.tls_port, ssl_context=client_tls_context())
        typ, _ = imap.authenticate("PLAIN", lambda _: b"\0alice\0" + PASSWORD.encode())
        assert typ == "OK"
        imap.logout()
        expect(r"login ok: user alice from 127\.0\.0\.1 \(PLAIN\)", srv.log_text())
        expect(r"login ok: user alice from 127\.0\.0\.1 \(SASL LOGIN\)", srv.log_text())
    finally:
        srv.stop_and_check()


def test_failures_are_delayed_and_limited():
    srv = login_server(**{"auth-max-failures": 2})
    try:
        c = srv.connect_tls(timeout=30)
        c.readline()
        start = time.monotonic()
        expect(r"^f1 NO \[AUTHENTICATIONFAILED\]", c.command("f1", "LOGIN alice wrong")[1])
        assert time.monotonic() - start >= 1.5, "a failure must be answered after a delay"
        # an unknown user looks the same
        expect(r"^f2 NO \[AUTHENTICATIONFAILED\]", c.command("f2", "LOGIN nobody wrong")[1])
        expect(r"^\* BYE Too many authentication failures", c.readline())
        assert c.closed()
        log = srv.log_text()
        expect(r"login failed: user 'alice' from 127\.0\.0\.1 \(LOGIN command\): "
               r"wrong password", log)
        expect(r"login failed: user 'nobody' .*unknown user", log)
    finally:
        srv.stop_and_check()


def test_a_slow_failure_does_not_block_others():
    srv = login_server()
    try:
        slow = srv.connect_tls(timeout=30)
        slow.readline()
        slow.send("s1 LOGIN alice wrong\r\n")
        time.sleep(0.2)
        start = time.monotonic()
        fast = srv.connect_tls()
        fast.readline()
        expect(r"^g1 OK ", fast.command("g1", 'LOGIN alice "%s"' % PASSWORD)[1])
        # the good login did not wait for the bad one's penalty
        assert time.monotonic() - start < 1.5
        expect(r"^s1 NO ", slow.read_until_tagged("s1")[1])
        slow.close()
        fast.close()
    finally:
        srv.stop_and_check()


def test_max_concurrent_per_user():
    srv = login_server(**{"max-concurrent": 2})
    try:
        sessions = []
        for i in range(2):
            c = srv.connect_tls()
            c.readline()
            expect(r"OK", c.command("m%d" % i, 'LOGIN alice "%s"' % PASSWORD)[1])
            sessions.append(c)
        third = srv.connect_tls()
        third.readline()
        expect(r"^m3 NO \[LIMIT\]", third.command("m3", 'LOGIN alice "%s"' % PASSWORD)[1])
        # still connected, still not authenticated
        assert third.command("m4", "NOOP")[1] == "m4 OK NOOP completed"
        expect(r"AUTH=PLAIN", third.command("m5", "CAPABILITY")[0][0])
        sessions[0].command("m6", "LOGOUT")
        sessions[0].closed()
        wait_for(lambda: len(srv.imapd_children()) >= 2, what="children")
        time.sleep(0.3)
        expect(r"^m7 OK ", third.command("m7", 'LOGIN alice "%s"' % PASSWORD)[1])
        for c in sessions[1:] + [third]:
            c.close()
    finally:
        srv.stop_and_check()


def test_disabled_user():
    srv = login_server()
    try:
        assert srv.cairnctl("user", "disable", "alice").returncode == 0
        c = srv.connect_tls(timeout=30)
        c.readline()
        expect(r"^d1 NO \[CONTACTADMIN\] Account disabled",
               c.command("d1", 'LOGIN alice "%s"' % PASSWORD)[1])
        assert srv.cairnctl("user", "enable", "alice").returncode == 0
        expect(r"^d2 OK ", c.command("d2", 'LOGIN alice "%s"' % PASSWORD)[1])
        c.close()
        expect(r"account disabled", srv.log_text())
    finally:
        srv.stop_and_check()


def test_authd_killed_mid_login():
    srv = login_server()
    try:
        c = srv.connect_tls(timeout=30)
        c.readline()
        authd = srv.authd_pid()
        # a failed login is held ~2 s in authd: kill it meanwhile
        c.send("k1 LOGIN alice wrong\r\n")
        time.sleep(0.5)
        os.kill(authd, signal.SIGKILL)
        expect(r"^k1 NO \[UNAVAILABLE\]", c.read_until_tagged("k1")[1])
        wait_for(lambda: srv.authd_pid() not in (None, authd), what="authd restart")
        wait_for(lambda: "cairn-authd pid %d ready" % srv.authd_pid() in srv.log_text(),
                 what="new authd ready")
        expect(r"^k2 OK ", c.command("k2", 'LOGIN alice "%s"' % PASSWORD)[1])
        c.close()
    finally:
        srv.stop_and_check()


def test_imported_hashes_and_schemes():
    srv = Server().start()
    try:
        sha512 = subprocess.run(["openssl", "passwd", "-6", "-salt", "saltsalt", "sekrit"],
                                capture_output=True, text=True, check=True).stdout.strip()
        p = srv.cairnctl("user", "add", "carol", "--hash", sha512)
        assert p.returncode == 0, p.stderr
        c = srv.connect_tls(timeout=30)
        c.readline()
        expect(r"^h1 OK ", c.command("h1", "LOGIN carol sekrit")[1])
        c.close()
        import sqlite3
        srv.add_user("dave", "pw-of-dave")
        db = sqlite3.connect(os.path.join(srv.dir, "data", "auth", "users.db"))
        hashes = dict(db.execute("SELECT name, hash FROM users"))
        db.close()
        assert hashes["dave"].startswith("$y$"), hashes["dave"]
        assert hashes["carol"] == sha512
    finally:
        srv.stop_and_check()


def test_users_db_out_of_reach():
    srv = login_server()
    try:
        db = os.path.join(srv.dir, "data", "auth", "users.db")
        assert os.path.exists(db)
        auth_dir = os.stat(os.path.dirname(db))
        assert auth_dir.st_mode & 0o777 == 0o700
        c = srv.connect_tls()
        c.readline()
        expect(r"OK", c.command("u1", 'LOGIN alice "%s"' % PASSWORD)[1])
        busy = [pid for pid, _, _, _ in srv.imapd_children()
                if any("mail/alice" in os.readlink("/proc/%d/fd/%s" % (pid, fd))
                       for fd in os.listdir("/proc/%d/fd" % pid))]
        assert len(busy) == 1, "one child holds alice's store directory"
        store = os.path.join(srv.dir, "data", "mail", "alice")
        st = os.stat(store)
        assert st.st_mode & 0o777 == 0o700
        if IS_ROOT:
            import pwd
            assert st.st_uid == pwd.getpwnam(MAIL_USER).pw_uid
            # the mail user cannot read the user database
            p = subprocess.run(["setpriv", "--reuid", MAIL_USER, "--regid", MAIL_USER,
                                "--clear-groups", "cat", db], capture_output=True)
            assert p.returncode != 0 and b"Permission denied" in p.stderr, p.stderr
            # and an imapd process sees an empty root, where users.db is not
            root = "/proc/%d/root" % busy[0]
            assert os.listdir(root) == []
        c.close()
    finally:
        srv.stop_and_check()


def test_id_command():
    with Server() as srv:
        c = srv.connect()
        c.readline()
        untagged, tagged = c.command("i1", 'ID ("name" "pytest" "version" "1")')
        assert untagged == ['* ID ("name" "Cairn" "version" "0.1.0")'], untagged
        assert tagged == "i1 OK ID completed"
        assert c.command("i2", "ID NIL")[1] == "i2 OK ID completed"
        expect(r"^i3 BAD", c.command("i3", 'ID ("odd")')[1])
        expect(r"client ID: name=pytest, version=1", srv.log_text())
        c.close()


def test_plain_text_auth_allowed_when_configured():
    srv = login_server(**{"allow-plain-text-auth": True})
    try:
        c = srv.connect()
        greeting = c.readline()
        assert "LOGINDISABLED" not in greeting and "AUTH=PLAIN" in greeting, greeting
        expect(r"^p1 OK ", c.command("p1", 'LOGIN alice "%s"' % PASSWORD)[1])
        c.close()
    finally:
        srv.stop_and_check()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_clear_text_refuses_logins,
        test_starttls_then_login_with_imaplib,
        test_implicit_tls_login_with_imaplib_and_literals,
        test_authenticate_plain_variants,
        test_failures_are_delayed_and_limited,
        test_a_slow_failure_does_not_block_others,
        test_max_concurrent_per_user,
        test_disabled_user,
        test_authd_killed_mid_login,
        test_imported_hashes_and_schemes,
        test_users_db_out_of_reach,
        test_id_command,
        test_plain_text_auth_allowed_when_configured,
    ])
