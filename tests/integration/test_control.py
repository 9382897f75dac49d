#!/usr/bin/env python3
"""The master's control socket and cairnctl who, kick, reload, stats and
config get/set (issue 8): who shows real imaplib sessions (selected, IDLE);
kick ends them with BYE; reload reports a broken file and keeps the old
settings; stats counts logins, commands, bytes and an LMTP delivery, and
--prometheus is well-formed text format; config set edits one line in
place and the server takes it without a restart; a bad value leaves the
file byte-identical; the socket refuses a peer that is not root."""
import imaplib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (IS_ROOT, MAIL_USER, client_tls_context, expect,  # noqa: E402
                       login, ok, require_accounts, run_tests, running_mail_server,
                       wait_for)

SRCDIR = os.environ.get("CAIRN_SRCDIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))


def who(srv):
    p = srv.cairnctl("who", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def stats(srv, *extra):
    p = srv.cairnctl("stats", *extra)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_who_shows_selected_and_idle_sessions():
    with running_mail_server() as srv:
        assert who(srv) == []
        m = srv.imap("alice", "alice-pw")
        m.select("INBOX")
        sessions = who(srv)
        assert len(sessions) == 1, sessions
        s = sessions[0]
        assert s["user"] == "alice" and s["address"] == "127.0.0.1", s
        assert s["port"] == m.sock.getsockname()[1], (s, m.sock.getsockname())
        assert s["state"] == "selected" and s["mailbox"] == "INBOX", s
        expect(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", s["since"])
        # the human table names the same session
        p = srv.cairnctl("who")
        assert p.returncode == 0, p.stderr
        expect(r"(?m)^alice\s+127\.0\.0\.1:%d\s+\S+Z\s+selected\s+INBOX$" %
               s["port"], p.stdout)
        # a second one, in IDLE, not yet logged in before that
        c = srv.connect_tls()
        c.readline()
        assert any(x["state"] == "not authenticated" and x["user"] is None
                   for x in who(srv)), who(srv)
        c.command("l", "LOGIN alice alice-pw")
        c.send("i IDLE\r\n")
        assert c.readline().startswith("+ "), "no continuation"
        states = sorted(x["state"] for x in who(srv))
        assert states == ["idle", "selected"], states
        c.send("DONE\r\n")
        assert c.read_until_tagged("i")[1].startswith("i OK")
        assert sorted(x["state"] for x in who(srv)) == ["authenticated", "selected"]
        m.logout()
        c.close()
        wait_for(lambda: who(srv) == [], what="no session left")


def test_kick_ends_sessions_with_bye():
    with running_mail_server() as srv:
        srv.add_user("bob", "bob-pw")
        m = srv.imap("alice", "alice-pw")
        m.select("INBOX")
        c = login(srv)
        c.send("i IDLE\r\n")
        assert c.readline().startswith("+ ")
        b = login(srv, "bob", "bob-pw")
        p = srv.cairnctl("kick", "alice")
        assert p.returncode == 0, p.stderr
        expect(r"alice: 2 session\(s\) ended", p.stdout)
        expect(r"^\* BYE Disconnected by the administrator", c.readline())
        assert c.closed(), "the IDLE session stays open"
        # imaplib sees the BYE as an abort on its next command
        try:
            m.noop()
            raise AssertionError("NOOP after kick worked")
        except (imaplib.IMAP4.abort, OSError) as e:
            assert "Disconnected by the administrator" in str(e) or \
                isinstance(e, OSError), e
        wait_for(lambda: [x["user"] for x in who(srv)] == ["bob"],
                 what="only bob left")
        p = srv.cairnctl("kick", "nobody")
        assert p.returncode == 0 and "0 session(s)" in p.stdout, p
        ok(b, "NOOP")
        b.close()


def test_reload_reports_errors_and_keeps_settings():
    with running_mail_server(tls=True) as srv:
        c = srv.connect()
        assert "LOGINDISABLED" in c.readline()
        c.close()
        srv.write_config(**{"allow-plain-text-auth": True})
        p = srv.cairnctl("reload")
        assert p.returncode == 0, p.stderr
        expect(r"reloaded .* \(generation \d+\)", p.stdout)
        wait_for(lambda: "AUTH=PLAIN" in _greeting(srv), what="new setting")
        # a file only the master finds broken (it checks the certificate
        # is there): its error comes back, non-zero exit, old settings stay
        srv.write_config(**{"cert-path": '"%s/missing.pem"' % srv.dir,
                            "allow-plain-text-auth": False})
        p = srv.cairnctl("reload")
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        expect(r"cert-path.*missing\.pem: No such file", p.stderr)
        expect(r"keeping the running settings", p.stderr)
        # a file cairnctl itself cannot read: the master is not asked
        srv.write_config(**{"max-concurrent": 0})
        p = srv.cairnctl("reload")
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        expect(r"max-concurrent.*out of range", p.stderr)
        expect(r"keeps its running settings", p.stderr)
        assert "AUTH=PLAIN" in _greeting(srv)
        plain_login(srv)


def plain_login(srv):
    """A clear-text LOGIN; after a reload the new authd may still be
    starting (NO [UNAVAILABLE]): then again."""
    def works():
        l = srv.connect()
        l.readline()
        tagged = l.command("a", "LOGIN alice alice-pw")[1]
        l.close()
        assert "[UNAVAILABLE]" in tagged or tagged.startswith("a OK"), tagged
        return tagged.startswith("a OK")
    wait_for(works, what="a clear-text login")


def _greeting(srv):
    c = srv.connect()
    line = c.readline()
    c.close()
    return line


def parse_prometheus(text):
    """A small checker of the text exposition format: every sample has a
    HELP and a TYPE line before it, names and labels are well-formed, the
    values are numbers, counters end in _total.  {(name, labels): value}."""
    helps, types, samples = set(), {}, {}
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    for line in text.splitlines():
        assert line and line == line.strip(), repr(line)
        m = re.match(r"^# HELP (%s) \S.*$" % name_re, line)
        if m:
            assert m.group(1) not in helps, "second HELP for " + m.group(1)
            helps.add(m.group(1))
            continue
        m = re.match(r"^# TYPE (%s) (counter|gauge)$" % name_re, line)
        if m:
            assert m.group(1) in helps and m.group(1) not in types, line
            types[m.group(1)] = m.group(2)
            continue
        m = re.match(r'^(%s)(\{([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\\n]*)"\})? '
                     r'(\d+(\.\d+)?)$' % name_re, line)
        assert m, "not a sample line: %r" % line
        name = m.group(1)
        assert name in types, "sample before its TYPE: %r" % line
        if types[name] == "counter":
            assert name.endswith("_total"), name
        assert name.startswith("cairn_"), name
        key = (name, (m.group(3), m.group(4)) if m.group(2) else None)
        assert key not in samples, "duplicate sample %r" % line
        samples[key] = float(m.group(5))
    return samples


def test_stats_and_prometheus():
    from test_lmtp import SENDER, lhlo, last, stuffed
    with running_mail_server() as srv:
        c = login(srv)
        ok(c, "SELECT INBOX")
        ok(c, "NOOP")
        ok(c, "NOOP")
        c.command("o", "LOGOUT")
        c.close()
        bad = srv.connect_tls(timeout=30)
        bad.readline()
        assert bad.command("l", "LOGIN alice wrong")[1].startswith("l NO")
        bad.close()
        l = srv.lmtp()
        lhlo(l)
        l.send("MAIL FROM:<%s>\r\n" % SENDER)
        expect(r"^250 ", last(l))
        l.send("RCPT TO:<alice@example.org>\r\n")
        expect(r"^250 ", last(l))
        l.send("DATA\r\n")
        expect(r"^354 ", last(l))
        l.send(stuffed(b"Subject: hi\r\n\r\nhello\r\n"))
        expect(r"^250 2\.0\.0 ", last(l))
        l.send("QUIT\r\n")
        l.close()

        def counted():
            s = parse_prometheus(stats(srv, "--prometheus"))
            return (s.get(("cairn_logins_total", ("result", "failed"))) == 1 and
                    s.get(("cairn_commands_total", ("command", "NOOP"))) == 2 and
                    s.get(("cairn_deliveries_total", ("result", "ok"))) == 1)
        wait_for(counted, what="the sessions' counts")
        s = parse_prometheus(stats(srv, "--prometheus"))
        assert s[("cairn_logins_total", ("result", "ok"))] == 1, s
        assert s[("cairn_commands_total", ("command", "LOGIN"))] == 2, s
        assert s[("cairn_commands_total", ("command", "SELECT"))] == 1, s
        assert s[("cairn_commands_total", ("command", "LOGOUT"))] == 1, s
        assert s[("cairn_connections_total", ("protocol", "imap"))] >= 2, s
        assert s[("cairn_connections_total", ("protocol", "lmtp"))] == 1, s
        # "t1 NOOP\r\n" and more came in; the greeting and replies went out
        assert s[("cairn_imap_bytes_total", ("direction", "in"))] > 30, s
        assert s[("cairn_imap_bytes_total", ("direction", "out"))] > 200, s
        assert s[("cairn_delivered_bytes_total", None)] > 20, s
        assert s[("cairn_start_time_seconds", None)] <= time.time(), s
        human = stats(srv)
        expect(r"(?m)^logins\s+ok 1, failed 1", human)
        expect(r"(?m)^commands\s+.*NOOP 2", human)
        expect(r"(?m)^deliveries\s+ok 1, failed 0", human)


def _sample_config(srv):
    """conf/cairn.conf, every option commented, plus the test's settings."""
    with open(os.path.join(SRCDIR, "conf", "cairn.conf")) as f:
        sample = f.read()
    with open(srv.conf) as f:
        ours = f.read()
    with open(srv.conf, "w") as f:
        f.write(sample + "\n# the test's own settings\n" + ours)
    os.chmod(srv.conf, 0o640)


def test_config_set_edits_in_place_and_reloads():
    with running_mail_server(tls=True) as srv:
        # the real sample file's comments around the test's settings
        srv.options.pop("allow-plain-text-auth", None)
        _sample_config(srv)
        with open(srv.conf) as f:
            before = f.read().splitlines(keepends=True)
        c = srv.connect()
        assert "LOGINDISABLED" in c.readline()
        c.close()
        p = srv.cairnctl("config", "set", "allow-plain-text-auth=true")
        assert p.returncode == 0, p.stderr
        expect(r"uncommented and changed allow-plain-text-auth = true", p.stdout)
        expect(r"reloaded", p.stdout)
        with open(srv.conf) as f:
            after = f.read().splitlines(keepends=True)
        assert len(after) == len(before)
        changed = [(a, b) for a, b in zip(before, after) if a != b]
        assert changed == [("#allow-plain-text-auth = false\n",
                            "allow-plain-text-auth = true\n")], changed
        assert stat.S_IMODE(os.stat(srv.conf).st_mode) == 0o640
        # a clear-text LOGIN works now, without a restart
        plain_login(srv)
        p = srv.cairnctl("config", "get", "allow-plain-text-auth")
        assert p.stdout == "allow-plain-text-auth = true\n", p.stdout
        # a second set replaces the now active line; lists and strings
        p = srv.cairnctl("config", "set", "log-level=info")
        assert p.returncode == 0, p.stderr
        p = srv.cairnctl("config", "set", "lmtp-bind=127.0.0.1")
        assert p.returncode == 0, p.stderr
        p = srv.cairnctl("config", "get", "lmtp-bind")
        assert p.stdout == 'lmtp-bind = {"127.0.0.1"}\n', p.stdout
        with open(srv.conf) as f:
            text = f.read()
        assert text.count("\nlog-level") == 1, text
        assert '\nlmtp-bind = {"127.0.0.1"}\n' in text, text
        assert "# Allow LOGIN/AUTHENTICATE on a connection without TLS." in text


def test_config_set_bad_value_changes_nothing():
    with running_mail_server() as srv:
        _sample_config(srv)
        with open(srv.conf, "rb") as f:
            before = f.read()
        mtime = os.stat(srv.conf).st_mtime_ns
        for arg, why in (("max-concurrent=0", r"out of range"),
                         ("allow-plain-text-auth=maybe", r"allow-plain-text-auth"),
                         ("timeout-idle=forever", r"duration"),
                         ("bind-addr=300.1.1.1", r"not an IPv4 or IPv6"),
                         ("no-such-option=1", r"no such option"),
                         ("log-level=a b", r"log-level")):
            p = srv.cairnctl("config", "set", arg)
            assert p.returncode != 0, (arg, p.stdout)
            expect(why, p.stderr)
            with open(srv.conf, "rb") as f:
                assert f.read() == before, arg
        assert os.stat(srv.conf).st_mtime_ns == mtime
        assert not [n for n in os.listdir(srv.dir) if n.startswith("cairn.conf.")]
        p = srv.cairnctl("config", "get")
        assert p.returncode == 0 and "max-concurrent = 16\n" in p.stdout, p


def test_control_socket_is_root_only():
    if not IS_ROOT:
        # unprivileged, the master allows its own uid; nothing else to try
        return
    require_accounts()
    with running_mail_server() as srv:
        path = os.path.join(srv.dir, "run", "control")
        st = os.stat(path)
        assert stat.S_ISSOCK(st.st_mode) and st.st_uid == 0, st
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        # reads without sending: the master's answer comes at accept
        probe = ("import socket,sys\n"
                 "s=socket.socket(socket.AF_UNIX)\n"
                 "try:\n s.connect(sys.argv[1])\n"
                 "except PermissionError:\n print('EACCES'); sys.exit(0)\n"
                 "d=b''\n"
                 "while True:\n c=s.recv(4096)\n if not c: break\n d+=c\n"
                 "print(d.decode())\n")
        as_mail_user = ["setpriv", "--reuid", MAIL_USER, "--regid", MAIL_USER,
                        "--clear-groups", sys.executable, "-c", probe, path]
        # the file's mode stops it ...
        p = subprocess.run(as_mail_user, capture_output=True, text=True, timeout=30)
        assert p.stdout.strip() == "EACCES", (p.stdout, p.stderr)
        # ... and if the mode were wrong, SO_PEERCRED still would
        os.chmod(path, 0o666)
        try:
            p = subprocess.run(as_mail_user, capture_output=True, text=True,
                               timeout=30)
        finally:
            os.chmod(path, 0o600)
        expect(r"^ERR\npermission denied", p.stdout)
        expect(r"control socket: refused uid", srv.log_text())
        # a malformed request is refused, the master goes on
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(b"who am i\n")
        assert s.makefile("rb").read().startswith(b"ERR\n")
        s.close()
        assert srv.cairnctl("who").returncode == 0


def test_slow_control_client_does_not_stall_the_master():
    with running_mail_server() as srv:
        path = os.path.join(srv.dir, "run", "control")
        idle = []
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall(b"wh")   # never finishes its request
            idle.append(s)
        c = login(srv)
        ok(c, "NOOP")
        assert [x["user"] for x in who(srv)] == ["alice"]
        c.close()
        for s in idle:
            s.close()


def test_control_socket_lifecycle():
    with running_mail_server() as srv:
        path = os.path.join(srv.dir, "run", "control")
        assert os.path.exists(path)
    assert not os.path.exists(path)


if __name__ == "__main__":
    run_tests([
        test_who_shows_selected_and_idle_sessions,
        test_kick_ends_sessions_with_bye,
        test_reload_reports_errors_and_keeps_settings,
        test_stats_and_prometheus,
        test_config_set_edits_in_place_and_reloads,
        test_config_set_bad_value_changes_nothing,
        test_control_socket_is_root_only,
        test_slow_control_client_does_not_stall_the_master,
        test_control_socket_lifecycle,
    ])
