"""Confinement of the children (common/sandbox.c, common/landlock.c),
through the test-only XCAIRNTEST command (configure --enable-test-hooks;
this test is only in the suite of such a build): a forbidden system call
kills the session by SIGSYS and the master logs it and replaces it; a
logged-in session cannot open another user's store through ".." from its
own store's descriptor, although its uid could."""

import ctypes
import os
import pwd
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (IS_ROOT, MAIL_USER, Server, append, check_sanitizer_reports,  # noqa: E402
                       login, ok, run_tests, serving_child, wait_for)

SYS_LANDLOCK_CREATE_RULESET = 444  # x86_64 and most others (unified numbers)


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    v = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                     ctypes.c_uint32(1))
    return v if v > 0 else 0


def seccomp_mode(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Seccomp:\s+(\d+)", f.read(), re.M).group(1))


def test_forbidden_syscall_kills_and_is_replaced():
    srv = Server(**{"worker-pool-size": 2}).start()
    try:
        srv.add_user("alice", "alice-pw")
        for logged_in in (False, True):
            if logged_in:
                c = login(srv)
            else:
                c = srv.connect_tls()
                c.readline()
            pid = serving_child(srv) if logged_in else None
            before = srv.log_text().count("killed by seccomp")
            c.send("x XCAIRNTEST SYSCALL\r\n")
            # no answer: the process is gone
            assert c.closed(timeout=30), c.buf
            wait_for(lambda: srv.log_text().count("killed by seccomp") == before + 1,
                     timeout=30, what="the master to log the death")
            log = srv.log_text()
            # the child named the call (execve, 59 on x86_64) ...
            assert "cairn-imapd: seccomp: forbidden system call " in log, log
            # ... and the master said what killed it
            m = re.findall(r"cairn-imapd pid (\d+) killed by seccomp: "
                           r"forbidden system call \(SIGSYS\)", log)
            assert len(m) == before + 1, log
            if pid is not None:
                assert int(m[-1]) == pid, (m, pid)
            # the pool is topped up and the next client is served
            wait_for(lambda: len(srv.imapd_children()) >= 2, timeout=30,
                     what="the pool to be topped up")
            c2 = login(srv)
            ok(c2, "NOOP")
            c2.close()
            c.close()
        log = srv.stop()
        srv = None
        # the deaths above are the only seccomp reports; no sanitizer ones
        check_sanitizer_reports(log, seccomp=False)
        assert log.count("seccomp: forbidden system call") == 4, log
    finally:
        if srv is not None:
            srv.stop()


def as_mail_user(fn):
    """Run fn() in a child with the uid the sessions run as; its result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            if IS_ROOT:
                pw = pwd.getpwnam(MAIL_USER)
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            os.write(w, fn().encode())
        except Exception as e:
            os.write(w, ("error: %r" % e).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out


def test_session_cannot_open_another_users_store():
    srv = Server().start()
    try:
        srv.add_user("alice", "alice-pw")
        srv.add_user("bob", "bob-pw")
        b = login(srv, "bob", "bob-pw")  # bob's store exists from here
        append(b, subject="for bob only")
        b.close()
        mail = os.path.join(srv.dir, "data", "mail")
        # <data-dir>/mail is root's and 0700: the file permissions alone
        # keep a session out.  Open it up, as a mistake might, so that
        # only Landlock stands between alice's session and bob's store.
        os.chmod(mail, 0o711)

        def peek():
            fd = os.open(os.path.join(mail, "alice"), os.O_RDONLY | os.O_DIRECTORY)
            f = os.open("../bob/index.db", os.O_RDONLY, dir_fd=fd)
            os.close(f)
            os.close(fd)
            return "opened"

        c = login(srv)
        pid = serving_child(srv)
        # the mail user could open it: without Landlock the session could
        assert as_mail_user(peek) == "opened"
        assert seccomp_mode(pid) == 2  # filter mode
        # its own store opens
        t = c.command("o1", "XCAIRNTEST OPEN index.db")[1]
        assert t == "o1 OK opened", t
        t = c.command("o2", 'XCAIRNTEST OPEN "../bob/index.db"')[1]
        if landlock_abi() >= 2:
            assert t.startswith("o2 NO [EACCES]"), t
            # nor anything else outside its store
            for path in ("..", "/", "../../spool", "/etc/passwd"):
                t = c.command("o3", 'XCAIRNTEST OPEN "%s"' % path)[1]
                assert t.startswith("o3 NO [EACCES]") or t.startswith("o3 NO [ENOENT]"), \
                    (path, t)
            assert "Landlock ABI %d" % landlock_abi() in srv.log_text()
        else:
            # a kernel without Landlock: the master said so once at start
            assert t == "o2 OK opened", t
            assert "Landlock is not available" in srv.log_text()
        ok(c, "LOGOUT")
        c.close()
    finally:
        srv.stop_and_check()


if __name__ == "__main__":
    run_tests([test_forbidden_syscall_kills_and_is_replaced,
               test_session_cannot_open_another_users_store])
