"""The command lines: cairnd -t/-n/-V, start-up failures, cairnctl, and
cairn-imapd -S (the pre-authenticated stdin/stdout session)."""

import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (CAIRNCTL, CAIRND, IMAPD, IS_ROOT, MAIL_USER, Server,  # noqa: E402
                       check_sanitizer_reports, expect, require_accounts, run_tests, wait_for)


def run(*args, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=30, **kw)
    check_sanitizer_reports(p.stderr)
    return p


def test_check_mode_accepts_good_and_names_bad_lines():
    srv = Server()
    try:
        p = run(CAIRND, "-t", "-c", srv.conf)
        assert p.returncode == 0, p.stderr
        assert "configuration OK" in p.stdout
        with open(srv.conf, "a") as f:
            f.write("\nmax-request-size = 12parsecs\nbogus-option = 3\n")
        p = run(CAIRND, "-t", "-c", srv.conf)
        assert p.returncode == 1
        lines = len(open(srv.conf).read().splitlines())
        expect(r"%s:%d: option 'max-request-size'" % (srv.conf, lines - 1), p.stderr)
        p = run(CAIRND, "-t", "-c", os.path.join(srv.dir, "missing.conf"))
        assert p.returncode == 1 and "cannot read" in p.stderr
    finally:
        srv.stop_and_check()


def test_print_mode_shows_every_setting():
    srv = Server()
    try:
        p = run(CAIRND, "-n", "-c", srv.conf)
        assert p.returncode == 0, p.stderr
        for option in ("bind-addr", "bind-port", "bind-port-tls", "cert-path", "key-path",
                       "log-level", "max-request-size", "worker-pool-size",
                       "allow-plain-text-auth", "auth-max-failures", "max-concurrent",
                       "rate-limit", "timeout-unauthenticated", "timeout-authenticated",
                       "timeout-idle", "idle-keepalive", "user", "group", "auth-user", "data-dir",
                       "run-dir", "max-connections", "max-unauthenticated-per-address",
                       "lmtp-socket", "lmtp-bind",
                       "lmtp-port", "lmtp-group", "lmtp-max-message-size",
                       "lmtp-detail-mailbox", "lmtp-recipient-delimiter"):
            expect(r"(?m)^%s = " % option, p.stdout)
        expect(r'(?m)^rate-limit = "2000/1m"$', p.stdout)
        expect(r"(?m)^max-request-size = 50mb$", p.stdout)
        expect(r"(?m)^bind-port = %d$" % srv.port, p.stdout)
        # what -n prints is itself a valid configuration
        out = os.path.join(srv.dir, "printed.conf")
        with open(out, "w") as f:
            f.write(p.stdout)
        assert run(CAIRND, "-t", "-c", out).returncode == 0
        assert run(CAIRND, "-V").stdout.startswith("cairnd ")
    finally:
        srv.stop_and_check()


def test_port_in_use_is_a_clear_fatal_error():
    with Server() as srv:
        other = Server(**{"bind-port": srv.port})
        try:
            p = subprocess.run([CAIRND, "-F", "-c", other.conf], capture_output=True,
                               text=True, timeout=20, env=other.env)
            assert p.returncode != 0
            expect(r"cannot listen on 127\.0\.0\.1 port %d: Address already in use"
                   % srv.port, p.stderr)
            check_sanitizer_reports(p.stderr)
        finally:
            other.stop()


def test_missing_account_as_root():
    if not IS_ROOT:
        srv = Server()
        try:
            srv.start()
            assert "privilege separation is off" in srv.log_text()
        finally:
            srv.stop_and_check()
        return
    srv = Server(user='"no-such-cairn-user"')
    try:
        p = subprocess.run([CAIRND, "-F", "-c", srv.conf], capture_output=True,
                           text=True, timeout=20, env=srv.env)
        assert p.returncode != 0
        expect(r"user 'no-such-cairn-user'.*useradd --system", p.stderr)
        check_sanitizer_reports(p.stderr)
    finally:
        srv.stop_and_check()


def test_cairnctl_status_reload_stop():
    with Server() as srv:
        p = run(CAIRNCTL, "-c", srv.conf, "status")
        assert p.returncode == 0, p.stderr
        assert "pid %d" % srv.proc.pid in p.stdout
        assert run(CAIRNCTL, "-c", srv.conf, "reload").returncode == 0
        wait_for(lambda: "reloaded" in srv.log_text(), what="reload")
        assert run(CAIRNCTL, "-c", srv.conf, "stop").returncode == 0
        srv.proc.wait(10)
        p = run(CAIRNCTL, "-c", srv.conf, "status")
        assert p.returncode == 3, (p.returncode, p.stderr)
        assert run(CAIRNCTL, "-c", srv.conf, "frobnicate").returncode != 0


def imapd_standalone(user_dir, stdin, as_user=None):
    cmd = [IMAPD, "-S", "alice", "-d", user_dir]
    if as_user:
        cmd = ["setpriv", "--reuid", as_user, "--regid", as_user, "--clear-groups"] + cmd
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=20)
    check_sanitizer_reports(p.stderr)
    return p


def test_standalone_session_on_stdio():
    d = tempfile.mkdtemp(prefix="cairn-S-")
    os.chmod(d, 0o755)
    if IS_ROOT:
        import pwd
        pw = pwd.getpwnam(MAIL_USER)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    try:
        user = MAIL_USER if IS_ROOT else None
        p = imapd_standalone(d, "a CAPABILITY\r\nb STARTTLS\r\nc LOGOUT\r\n", user)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        expect(r"^\* PREAUTH \[CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL\+ ID IDLE ENABLE .*"
               r"UIDPLUS MOVE .*\] .*alice", lines[0])
        assert "a OK CAPABILITY completed" in lines
        expect(r"b BAD STARTTLS is not valid in this state", p.stdout)
        assert "* BYE Logging out" in lines and "c OK LOGOUT completed" in lines
        # the session opened (and created) the user's store there
        assert os.path.exists(os.path.join(d, "index.db"))
        # EOF on stdin ends it too
        assert imapd_standalone(d, "", user).returncode == 0
        if IS_ROOT:
            p = imapd_standalone(d, "a LOGOUT\r\n")
            assert p.returncode != 0 and "refuses to run as root" in p.stderr
        # -S with an fd-3 socket looks like the master's child: refused
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            cmd = [IMAPD, "-S", "alice", "-d", d]
            if IS_ROOT:
                cmd = ["setpriv", "--reuid", MAIL_USER, "--regid", MAIL_USER,
                       "--clear-groups"] + cmd
            # the socket lands on fd 3, where the master's channel would be
            shell = ['bash', '-c', 'exec "$@" 3>&%d' % b.fileno(), "bash"] + cmd
            p = subprocess.run(shell, input="", capture_output=True, text=True,
                               pass_fds=(b.fileno(),), timeout=20)
            assert p.returncode != 0 and "under the master" in p.stderr, p.stderr
        finally:
            a.close()
            b.close()
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_check_mode_accepts_good_and_names_bad_lines,
        test_print_mode_shows_every_setting,
        test_port_in_use_is_a_clear_fatal_error,
        test_missing_account_as_root,
        test_cairnctl_status_reload_stop,
        test_standalone_session_on_stdio,
    ])
