"""Shared harness for the integration tests: a real cairnd from this build,
on free loopback ports, in a temporary directory, stopped by the test.

Run as root (as CI does), the daemons drop privileges to the accounts
`cairn` and `cairn-auth`, which ./quickstart.sh creates."""

import contextlib
import ctypes
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("CAIRN_BUILDDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CAIRND = os.path.join(BUILD, "master", "cairnd")
IMAPD = os.path.join(BUILD, "imapd", "cairn-imapd")
AUTHD = os.path.join(BUILD, "authd", "cairn-authd")
LMTPD = os.path.join(BUILD, "lmtpd", "cairn-lmtpd")
CAIRNCTL = os.path.join(BUILD, "ctl", "cairnctl")
IS_ROOT = os.geteuid() == 0
MAIL_USER = "cairn"
AUTH_USER = "cairn-auth"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost",
                    # 127.0.0.1 as a DNS name too: mbsync matches the host
                    # it was given against DNS names only
                    "-addext", "subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def children_of(pid):
    """[(pid, user, comm, args)] of the direct children of pid, from ps."""
    out = subprocess.run(["ps", "-o", "pid=,user:32=,comm=,args=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3:
            rows.append((int(parts[0]), parts[1], parts[2],
                         parts[3] if len(parts) > 3 else ""))
    return rows


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Server:
    """One cairnd -F with its own directory, ports and config."""

    def __init__(self, tls=True, **options):
        self.dir = tempfile.mkdtemp(prefix="cairn-test-")
        # cairn-authd (another account) must reach data-dir/auth below it
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.tls_port = free_port()
        self.cert = self.key = None
        if tls:
            self.cert, self.key = make_cert(self.dir)
        self.options = {
            "bind-addr": '{"127.0.0.1"}',
            "bind-port": self.port,
            "bind-port-tls": self.tls_port,
            "log-level": "debug",
            "worker-pool-size": 2,
            "data-dir": '"%s/data"' % self.dir,
            "run-dir": '"%s/run"' % self.dir,
        }
        if tls:
            self.options["cert-path"] = '"%s"' % self.cert
            self.options["key-path"] = '"%s"' % self.key
        self.options.update(options)
        self.conf = os.path.join(self.dir, "cairn.conf")
        self.write_config()
        self.proc = None
        self.log_path = os.path.join(self.dir, "cairnd.log")
        self.env = dict(os.environ, CAIRN_IMAPD_PATH=IMAPD, CAIRN_AUTHD_PATH=AUTHD,
                        CAIRN_LMTPD_PATH=LMTPD)
        # the default, <run-dir>/lmtp, named here for the LMTP tests
        self.lmtp_socket = os.path.join(self.dir, "run", "lmtp")

    def write_config(self, **changes):
        self.options.update(changes)
        with open(self.conf, "w") as f:
            for key, value in self.options.items():
                if value is None:
                    continue
                if isinstance(value, bool):
                    value = "true" if value else "false"
                f.write("%s = %s\n" % (key, value))

    def start(self, wait_pool=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([CAIRND, "-F", "-c", self.conf],
                                     stdout=self.log, stderr=self.log, env=self.env)
        try:
            wait_for(self.listening, what="cairnd to listen on %d" % self.port)
            if wait_pool:
                want = int(self.options["worker-pool-size"])
                wait_for(lambda: len(self.imapd_children()) >= want and self.authd_pid(),
                         what="the pool and cairn-authd")
                # logins before authd says HELLO get NO [UNAVAILABLE]
                wait_for(lambda: "cairn-authd pid %s ready" % self.authd_pid()
                         in self.log_text(), what="cairn-authd to be ready")
        except BaseException:
            sys.stdout.write("--- cairnd log ---\n%s\n" % self.log_text())
            self.stop()  # a test never leaves a server behind
            raise
        return self

    def listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("cairnd exited with %s:\n%s" %
                                 (self.proc.returncode, self.log_text()))
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def imapd_children(self):
        return [c for c in children_of(self.proc.pid) if c[2] == "cairn-imapd"]

    def lmtpd_children(self):
        return [c for c in children_of(self.proc.pid) if c[2] == "cairn-lmtpd"]

    def lmtp(self, timeout=10):
        """A client of the LMTP socket, its greeting read."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(self.lmtp_socket)
        c = Client(sock)
        greeting = c.readline()
        assert greeting.startswith("220 "), greeting
        return c

    def authd_pid(self):
        rows = [c for c in children_of(self.proc.pid) if c[2] == "cairn-authd"]
        return rows[0][0] if rows else None

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def cairnctl(self, *args, password=None):
        """Run cairnctl against this server's config; returns the process."""
        p = subprocess.run([CAIRNCTL, "-c", self.conf] + list(args),
                           input=password + "\n" if password is not None else "",
                           capture_output=True, text=True, timeout=30)
        check_sanitizer_reports(p.stderr)
        return p

    def add_user(self, name, password):
        p = self.cairnctl("user", "add", name, password=password)
        if p.returncode != 0:
            raise AssertionError("cairnctl user add %s: %s" % (name, p.stderr))

    def imap(self, user, password):
        """A logged-in imaplib client over the TLS port."""
        import imaplib
        m = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=client_tls_context())
        m.login(user, password)
        return m

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM, wait, remove the directory; returns the whole log."""
        log = ""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
            log = self.log_text()
        shutil.rmtree(self.dir, ignore_errors=True)
        return log

    def stop_and_check(self):
        """stop(), then fail if any of its processes reported a sanitizer error."""
        check_sanitizer_reports(self.stop())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None and self.proc is not None:
            sys.stdout.write("--- cairnd log ---\n%s\n" % self.log_text())
            self.stop()
        else:
            self.stop_and_check()

    # clients
    def connect(self, timeout=5):
        return Client(socket.create_connection(("127.0.0.1", self.port), timeout=timeout))

    def connect_tls(self, timeout=5):
        ctx = client_tls_context()
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=timeout)
        return Client(ctx.wrap_socket(raw, server_hostname="localhost"))


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_sanitizer_reports(log):
    for mark in SANITIZER_MARKS:
        if mark in log:
            raise AssertionError("sanitizer report in the cairnd log:\n" + log)


class Client:
    """A line-level IMAP client over a (TLS) socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def readline(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed; buffer %r" % self.buf)
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def command(self, tag, text):
        """Send `tag text`, return (untagged lines, tagged line)."""
        self.send("%s %s\r\n" % (tag, text))
        return self.read_until_tagged(tag)

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def closed(self, timeout=5):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def run_tests(tests):
    """Run the test functions; print 'N passed, N failed'; exit 0/1."""
    passed = failed = 0
    only = os.environ.get("CAIRN_TEST_ONLY")
    for test in tests:
        if only and only not in test.__name__:
            continue
        start = time.monotonic()
        try:
            test()
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (test.__name__, time.monotonic() - start))
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("PASS %s (%.1fs)" % (test.__name__, time.monotonic() - start))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


def mail_server(**options):
    """A started server with user alice (password "alice-pw"); stop it."""
    srv = Server(**options).start()
    try:
        srv.add_user("alice", "alice-pw")
    except BaseException:
        srv.stop()
        raise
    return srv


@contextlib.contextmanager
def running_mail_server(**options):
    """mail_server() for a with block: stopped and checked for sanitizer
    reports after it; the end of the log is shown when the block fails."""
    srv = mail_server(**options)
    try:
        yield srv
    except BaseException:
        sys.stdout.write("--- cairnd log ---\n%s\n" % srv.log_text()[-20000:])
        srv.stop()
        raise
    srv.stop_and_check()


def login(srv, user="alice", password="alice-pw", timeout=60):
    """A TLS client logged in as user.  cairn-authd may still be starting
    (NO [UNAVAILABLE] until its IPC_HELLO): then try again, for 5 s."""
    for _ in range(50):
        c = srv.connect_tls(timeout=timeout)
        c.readline()
        tagged = c.command("l", "LOGIN %s %s" % (user, password))[1]
        if "[UNAVAILABLE]" not in tagged:
            break
        c.close()
        time.sleep(0.1)
    assert tagged.startswith("l OK"), tagged
    return c


_tags = itertools.count(1)


def cmd(c, text):
    """Run one command under a fresh tag; (untagged lines, the tagged line
    without its tag)."""
    tag = "t%d" % next(_tags)
    untagged, tagged = c.command(tag, text)
    return untagged, tagged[len(tag) + 1:]


def ok(c, text):
    """cmd() that must end OK; its untagged lines."""
    untagged, tagged = cmd(c, text)
    assert tagged.startswith("OK"), (text, tagged)
    return untagged


SYSTEM_FLAGS = r"\Answered \Flagged \Deleted \Seen \Draft"


def message(subject):
    return ("From: bob@example.org\r\nSubject: %s\r\n\r\nbody of %s\r\n" %
            (subject, subject)).encode()


def append(c, mailbox="INBOX", flags="", subject="hello"):
    """APPEND one message (LITERAL+); (uidvalidity, uid) from APPENDUID."""
    data = message(subject)
    tag = "a%d" % next(_tags)
    c.send("%s APPEND %s %s{%d+}\r\n" % (tag, mailbox, flags + " " if flags else "",
                                        len(data)))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged(tag)[1]
    m = re.match(r"^\S+ OK \[APPENDUID (\d+) (\d+)\]", tagged)
    assert m, tagged
    return int(m.group(1)), int(m.group(2))


def highestmodseq(lines):
    """The value of the [HIGHESTMODSEQ n] among untagged lines."""
    for line in lines:
        m = re.match(r"^\* OK \[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError("no HIGHESTMODSEQ in %r" % lines)


def fetch_body(c, uid):
    """BODY.PEEK[] of one message of the selected mailbox, as bytes."""
    c.send("fb UID FETCH %d BODY.PEEK[]\r\n" % uid)
    line = c.readline()
    m = re.search(r"\{(\d+)\}$", line)
    assert m and "FETCH" in line, line
    n = int(m.group(1))
    while len(c.buf) < n:
        data = c.sock.recv(1 << 20)
        assert data, "connection closed"
        c.buf += data
    body, c.buf = c.buf[:n], c.buf[n:]
    t = c.read_until_tagged("fb")[1]
    assert t.startswith("fb OK"), t
    return body


def heard(c, pattern, since, bound=1.0):
    """The next line matches pattern, and came within bound seconds of
    since (IDLE and NOTIFY: pushed, no command sent)."""
    c.sock.settimeout(bound + 2)
    line = c.readline()
    waited = time.monotonic() - since
    expect(pattern, line)
    assert waited < bound, "%s after %.2f s" % (line, waited)
    return line


def nothing_more(c, wait=0.7):
    """Nothing arrives within wait seconds."""
    c.sock.settimeout(wait)
    try:
        line = c.readline()
    except socket.timeout:
        c.sock.settimeout(30)
        return
    raise AssertionError("unexpected %r" % line)


INOTIFY_MAX = "/proc/sys/fs/inotify/max_user_instances"


def hold_inotify_instances(uid):
    """A child process, as uid, that takes every inotify instance uid may
    have; returns its pid once it holds them (kill it to give them back)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(pwd.getpwuid(uid).pw_gid)
            os.setuid(uid)
            libc = ctypes.CDLL(None, use_errno=True)
            held = 0
            while held < 100000 and libc.inotify_init1(0) >= 0:
                held += 1
            os.write(w, b"%d\n" % held)
            os.close(w)
            # Keep taking the instances other processes of uid give back:
            # under make -j, another suite's sessions (the same mail user)
            # exit while this test runs, and the session under test must
            # not get one of theirs.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                time.sleep(0.002)
                while held < 100000 and libc.inotify_init1(0) >= 0:
                    held += 1
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        held = f.readline()
    assert held.strip().isdigit(), held
    return pid


def serving_child(srv, user="alice"):
    """The pid of the cairn-imapd child holding user's store directory."""
    def find():
        mark = os.path.join("data", "mail", user)
        busy = []
        for pid, _, _, _ in srv.imapd_children():
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
                links = [os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in fds]
            except OSError:
                continue
            if any(mark in link for link in links):
                busy.append(pid)
        return busy
    busy = wait_for(find, what="the child serving %s" % user)
    assert len(busy) == 1, busy
    return busy[0]


def rss_kb(pid):
    """VmRSS of pid, in kB (resident memory, file-backed pages included)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def require_accounts():
    """As root the daemons need the accounts quickstart.sh creates."""
    if not IS_ROOT:
        return
    for name in (MAIL_USER, AUTH_USER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            print("account %r is missing: run ./quickstart.sh test, or "
                  "useradd --system --user-group %s" % (name, name))
            sys.exit(99)


def expect(pattern, text):
    if not re.search(pattern, text):
        raise AssertionError("expected /%s/ in %r" % (pattern, text))
