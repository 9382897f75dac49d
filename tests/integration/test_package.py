"""The Debian package, for real: dpkg-buildpackage -us -uc -b on a copy of
the tree, lintian, dpkg -i on this machine, cairnd started as the init
script starts it (no systemd here); then issue 8's scenario with no file
edited by hand: settings with cairnctl config set, a user added with
cairnctl, a Maildir written by a real Dovecot imported with cairnctl
import, a login over TLS with the certificate the postinst made,
clear-text logins allowed with cairnctl config set while it runs, and
cairnctl who showing that session; reload, stop, cairnd run
again under the unit's capability bounding set, then dpkg --purge and a
check that nothing of the package is left.

The machine is the test machine, so the test
  - needs root, refuses to run when cairn is already installed or
    /etc/cairn, /var/lib/cairn or /run/cairn exist, and purges at the end;
  - keeps the package's service from starting on 143/993 at install: a
    policy-rc.d that exits 101 (Docker images have one; otherwise the test
    puts one in place and removes it) makes invoke-rc.d and
    deb-systemd-invoke leave the service alone;
  - moves the server to free loopback ports (cairnctl config set) before
    starting it;
  - leaves the cairn and cairn-auth accounts as it found them (the
    quick start makes them for the other tests; the package removes only
    the accounts it made);
  - holds a lock so that two builds' `make check` never run it at once.
The sanitizer build skips it (exit 77): the package builds its own tree.
CAIRN_PACKAGE_CHANGES=.../cairn_V_ARCH.changes tests that build instead of
making one (the .deb beside it)."""

import contextlib
import fcntl
import imaplib
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import BUILD, IS_ROOT, free_port, run_tests, wait_for  # noqa: E402
import dovecot  # noqa: E402

SRC = os.environ.get("CAIRN_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CONF = "/etc/cairn/cairn.conf"
CERT = "/etc/cairn/tls/cairn.pem"
KEY = "/etc/cairn/tls/cairn.key"
PID_FILE = "/run/cairn/cairnd.pid"
UNIT = "/lib/systemd/system/cairn.service"
POLICY_RC_D = "/usr/sbin/policy-rc.d"
ACCOUNTS = ("cairn", "cairn-auth")
# make check's make flags must not reach dpkg-buildpackage's make
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
CLEAN_ENV["DEBIAN_FRONTEND"] = "noninteractive"
# an init script under a running systemd would hand over to systemctl
CLEAN_ENV["_SYSTEMCTL_SKIP_REDIRECT"] = "1"

S = {}  # what main() built: the .deb and the tree it came from


def run(args, timeout=120, check=True, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=CLEAN_ENV, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                   p.stdout, p.stderr))
    return p


def copy_tree(dest):
    """The source files (git's view when there is one), no build outputs."""
    if os.path.exists(os.path.join(SRC, ".git")):
        names = run(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others",
                     "--exclude-standard"]).stdout.split("\0")
        for name in filter(None, names):
            src = os.path.join(SRC, name)
            if os.path.isfile(src):
                os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
                shutil.copy2(src, os.path.join(dest, name))
    else:
        shutil.copytree(SRC, dest, dirs_exist_ok=True, symlinks=True,
                        ignore=shutil.ignore_patterns("build", "build-*", "demo"))


def build_package(workdir):
    tree = os.path.join(workdir, "cairn")
    os.makedirs(tree)
    copy_tree(tree)
    env = dict(CLEAN_ENV)
    # the unit tests already ran in this make check; this is about the .deb
    env["DEB_BUILD_OPTIONS"] = "nocheck parallel=2"
    p = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=tree,
                       capture_output=True, text=True, timeout=3600, env=env,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "dpkg-buildpackage failed:\n" + (p.stdout + p.stderr)[-6000:]
    debs = [f for f in os.listdir(workdir)
            if f.startswith("cairn_") and f.endswith(".deb")]
    assert len(debs) == 1, os.listdir(workdir)
    changes = [f for f in os.listdir(workdir) if f.endswith(".changes")]
    return os.path.join(workdir, debs[0]), os.path.join(workdir, changes[0])


@contextlib.contextmanager
def services_not_started():
    """A policy-rc.d that forbids every start, for the time of the block."""
    def denies():
        return subprocess.run([POLICY_RC_D, "cairn", "start"],
                              stdin=subprocess.DEVNULL).returncode == 101
    saved = None
    if os.path.exists(POLICY_RC_D):
        if denies():
            yield
            return
        saved = POLICY_RC_D + ".cairn-test"
        os.rename(POLICY_RC_D, saved)
    with open(POLICY_RC_D, "w") as f:
        f.write("#!/bin/sh\n# tests/integration/test_package.py: start nothing\nexit 101\n")
    os.chmod(POLICY_RC_D, 0o755)
    try:
        yield
    finally:
        os.unlink(POLICY_RC_D)
        if saved:
            os.rename(saved, POLICY_RC_D)


def account(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def installed():
    p = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "cairn"], check=False)
    return p.returncode == 0 and p.stdout.strip() not in ("", "un")


def cairnd_pid():
    try:
        with open(PID_FILE) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def imap_login(port, user, password):
    """A logged-in imaplib client over TLS, the package's certificate
    verified; retried while cairn-authd is still starting."""
    ctx = ssl.create_default_context(cafile=CERT)
    ctx.check_hostname = False  # made for this host's name, reached as 127.0.0.1
    deadline = time.monotonic() + 60
    while True:
        c = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=30)
        try:
            c.login(user, password)
            return c
        except imaplib.IMAP4.error as e:
            c.shutdown()
            if "UNAVAILABLE" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def check_installed_layout(deb_output):
    assert "made a self-signed one" in deb_output, deb_output
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "cairn"]).stdout
    assert CONF in conffiles, conffiles
    for name in ACCOUNTS:
        assert account(name) is not None, name + " was not created"
    for path, owner, mode in (("/var/lib/cairn", "root", 0o755),
                              ("/var/lib/cairn/mail", "root", 0o700),
                              ("/var/lib/cairn/auth", "cairn-auth", 0o700),
                              ("/var/lib/cairn/spool", "cairn", 0o700),
                              (KEY, "root", 0o600), (CERT, "root", 0o644)):
        st = os.stat(path)
        assert pwd.getpwuid(st.st_uid).pw_name == owner, path
        assert st.st_mode & 0o7777 == mode, "%s: %o" % (path, st.st_mode)
    run(["openssl", "x509", "-in", CERT, "-noout", "-subject"])
    out = run(["/usr/sbin/cairnd", "-n"]).stdout
    assert 'cert-path = "%s"' % CERT in out, out
    assert 'data-dir = "/var/lib/cairn"' in out and 'run-dir = "/run/cairn"' in out
    # enabled for systemd and for sysvinit, started by neither
    assert os.path.islink("/etc/systemd/system/multi-user.target.wants/cairn.service")
    assert any(n.endswith("cairn") for n in os.listdir("/etc/rc2.d")), "no rc2.d link"
    assert cairnd_pid() is None, "the install started cairnd despite policy-rc.d"
    if shutil.which("systemd-analyze"):
        run(["systemd-analyze", "verify", UNIT])


def cairnctl(*args, **kw):
    return run(["/usr/sbin/cairnctl"] + list(args), **kw)


def dovecot_maildir_for(d, user):
    """A Maildir written by a real Dovecot: two messages through
    dovecot-lda, one flagged over its IMAP."""
    for n in (1, 2):
        d.deliver(user, b"From: bob@example.org\r\nTo: alice@example.org\r\n"
                  b"Subject: from dovecot %d\r\nMessage-ID: <dovecot-%d@example.org>\r\n"
                  b"\r\nmoved by cairnctl import\r\n" % (n, n))
    m = d.imap(user)
    m.select("INBOX")
    typ, _ = m.store("1", "+FLAGS", "(\\Flagged)")
    assert typ == "OK"
    m.logout()
    return d.maildirs[user]


def plain_login(port, user, password):
    """A clear-text LOGIN, retried while the reloaded cairn-authd starts."""
    deadline = time.monotonic() + 60
    while True:
        c = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        try:
            c.login(user, password)
            return c
        except imaplib.IMAP4.error as e:
            c.shutdown()
            if "UNAVAILABLE" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def use_server_via_init_script(imap_port):
    """The issue's scenario on the installed package, no file edited by
    hand: settings with cairnctl config set, a user, a Dovecot Maildir
    imported, clear-text logins allowed while it runs, cairnctl who."""
    plain_port = free_port()
    for setting in ("bind-addr=127.0.0.1", "bind-port=%d" % plain_port,
                    "bind-port-tls=%d" % imap_port, "worker-pool-size=2"):
        out = cairnctl("config", "set", setting).stdout
        assert "not running" in out, out
    with open(CONF) as f:
        assert "bind-port = %d" % plain_port in f.read()
    p = subprocess.run(["/usr/sbin/cairnctl", "user", "add", "alice"], input="alice-pw\n",
                       capture_output=True, text=True, timeout=60, env=CLEAN_ENV)
    assert p.returncode == 0, p.stderr
    why = dovecot.available()
    assert not why, "cannot run Dovecot: " + why
    with dovecot.Dovecot() as d:
        out = cairnctl("import", "alice", dovecot_maildir_for(d, "alice"),
                       timeout=300).stdout
        print("  " + out.strip().replace("\n", "\n  "))
    run(["/etc/init.d/cairn", "start"], timeout=60)
    pid = wait_for(cairnd_pid, timeout=30, what="cairnd's pid file")
    run(["/etc/init.d/cairn", "status"])
    run(["/usr/sbin/cairnctl", "status"])
    c = imap_login(imap_port, "alice", "alice-pw")
    c.select("INBOX")
    typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    got = [(b"\\Flagged" in d[0], d[1].strip()) for d in data if isinstance(d, tuple)]
    assert got == [(True, b"Subject: from dovecot 1"),
                   (False, b"Subject: from dovecot 2")], got
    typ, _ = c.append("INBOX", None, None,
                      b"Subject: from the package test\r\n\r\nhello\r\n")
    assert typ == "OK"
    c.logout()
    # clear text refused until allowed; allowed with config set, no restart
    p = imaplib.IMAP4("127.0.0.1", plain_port, timeout=30)
    try:
        p.login("alice", "alice-pw")
        raise AssertionError("a clear-text LOGIN worked before it was allowed")
    except imaplib.IMAP4.error:
        pass
    p.shutdown()
    out = cairnctl("config", "set", "allow-plain-text-auth=true").stdout
    assert "not running" not in out, out
    p = plain_login(plain_port, "alice", "alice-pw")
    p.select("INBOX")
    who = cairnctl("who").stdout
    print("  cairnctl who: " + who.strip().replace("\n", " | "))
    line = [w for w in who.splitlines() if "alice" in w]
    assert len(line) == 1 and "INBOX" in line[0] and "127.0.0.1" in line[0], who
    p.logout()
    # reload: same master, still serving
    run(["/etc/init.d/cairn", "reload"], timeout=60)
    time.sleep(1)
    assert cairnd_pid() == pid
    imap_login(imap_port, "alice", "alice-pw").logout()
    run(["/etc/init.d/cairn", "stop"], timeout=60)
    wait_for(lambda: cairnd_pid() is None, timeout=30, what="cairnd to stop")
    assert run(["/etc/init.d/cairn", "status"], check=False).returncode == 3


def unit_bounding_set():
    with open(UNIT) as f:
        for line in f:
            if line.startswith("CapabilityBoundingSet="):
                caps = line.split("=", 1)[1].split()
                return "-all," + ",".join("+" + c[len("CAP_"):].lower() for c in caps)
    raise AssertionError("no CapabilityBoundingSet in " + UNIT)


def use_server_with_unit_capabilities(imap_port, workdir):
    """What the unit allows: only its capabilities, no_new_privs, -F."""
    log = open(os.path.join(workdir, "cairnd-F.log"), "w+")
    proc = subprocess.Popen(["setpriv", "--bounding-set", unit_bounding_set(),
                             "--no-new-privs", "/usr/sbin/cairnd", "-F"],
                            stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=CLEAN_ENV)
    try:
        wait_for(lambda: cairnd_pid() == proc.pid or proc.poll() is not None,
                 timeout=30, what="cairnd -F")
        assert proc.poll() is None, "cairnd -F exited"
        # a login before cairn-authd's hello is refused, with a warning
        wait_for(lambda: "ready" in open(log.name).read(), timeout=30,
                 what="cairn-authd to be ready")
        c = imap_login(imap_port, "alice", "alice-pw")
        c.select("INBOX")
        typ, data = c.fetch("3", "(BODY.PEEK[TEXT])")  # after the 2 imported
        assert typ == "OK" and data[0][1] == b"hello\r\n", data
        c.logout()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    except BaseException:
        log.seek(0)
        sys.stdout.write("--- cairnd -F log ---\n" + log.read())
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    log_text = open(log.name).read()
    for bad in ("error:", "warn:"):
        assert bad not in log_text, log_text


def test_lintian_reports_no_error():
    p = run(["lintian", "--fail-on", "error", S["changes"]], timeout=600, check=False)
    print(p.stdout, end="")
    assert p.returncode == 0, p.stdout + p.stderr


def test_install_serve_purge():
    assert not installed(), "the cairn package is installed already: not touching it"
    for path in ("/etc/cairn", "/var/lib/cairn", "/run/cairn"):
        assert not os.path.exists(path), path + " exists: not a clean machine"
    had = {name: account(name) is not None for name in ACCOUNTS}
    imap_port = free_port()
    files = []
    try:
        with services_not_started():
            p = run(["dpkg", "-i", S["deb"]], timeout=300)
            files = run(["dpkg", "-L", "cairn"]).stdout.split("\n")
            check_installed_layout(p.stdout + p.stderr)
            use_server_via_init_script(imap_port)
            use_server_with_unit_capabilities(imap_port, S["workdir"])
            # a purge with cairnd stopped asks nothing and starts nothing
            p = run(["dpkg", "--purge", "cairn"], timeout=300)
    finally:
        pid = cairnd_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: cairnd_pid() is None, timeout=30, what="cairnd to stop")
        if installed():
            with services_not_started():
                run(["dpkg", "--purge", "cairn"], timeout=300, check=False)
    assert not installed()
    left = [f for f in files if f and os.path.isfile(f)]
    assert left == [], left
    for path in ("/etc/cairn", "/var/lib/cairn", "/run/cairn", "/etc/init.d/cairn",
                 "/etc/systemd/system/multi-user.target.wants/cairn.service"):
        assert not os.path.lexists(path), path + " is left after the purge"
    assert not [n for n in os.listdir("/etc/rc2.d") if n.endswith("cairn")]
    for name in ACCOUNTS:
        assert (account(name) is not None) == had[name], \
            "%s: existed before: %s, now: %s" % (name, had[name], not had[name])


def main():
    if not IS_ROOT:
        print("SKIP: installs a package on this machine: run as root")
        sys.exit(77)
    with open(os.path.join(BUILD, "autoconfig.h")) as f:
        if "#define CAIRN_SANITIZERS 1" in f.read():
            print("SKIP: the package builds its own tree; the normal build runs this")
            sys.exit(77)
    lock = open("/run/lock/cairn-test-package.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    workdir = tempfile.mkdtemp(prefix="cairn-package-")
    try:
        start = time.monotonic()
        if os.environ.get("CAIRN_PACKAGE_CHANGES"):
            # a package built before (by hand, while working on debian/)
            S["changes"] = os.environ["CAIRN_PACKAGE_CHANGES"]
            S["deb"] = S["changes"].replace(".changes", ".deb")
        else:
            S["deb"], S["changes"] = build_package(workdir)
        S["workdir"] = workdir
        print("built %s (%.0fs)" % (os.path.basename(S["deb"]), time.monotonic() - start))
        run_tests([test_lintian_reports_no_error, test_install_serve_purge])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
