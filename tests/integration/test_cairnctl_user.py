"""cairnctl user ...: add, passwd, del, list, show, disable, enable, their
errors and usage, the files they make and, as root, who owns them.  No
server is needed: each test gets a config and a data-dir of its own."""

import os
import pty
import pwd
import re
import select
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (AUTH_USER, CAIRNCTL, IS_ROOT, MAIL_USER,  # noqa: E402
                       check_sanitizer_reports, expect, require_accounts, run_tests)

# openssl passwd -6 -salt saltsalt secret
SHA512_SECRET = ("$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDeh"
                 "y0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1")
PASSWORD_MAX = 511   # authd/password.h: what libxcrypt takes
ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class Ctl:
    """A config with its own data-dir and run-dir, and cairnctl against it."""

    def __init__(self, **options):
        self.dir = tempfile.mkdtemp(prefix="cairn-ctl-")
        # auth-user (another account, as root) must reach data-dir/auth
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.conf = os.path.join(self.dir, "cairn.conf")
        settings = {"data-dir": '"%s"' % self.data,
                    "run-dir": '"%s"' % os.path.join(self.dir, "run")}
        settings.update(options)
        with open(self.conf, "w") as f:
            for key, value in settings.items():
                f.write("%s = %s\n" % (key, value))
        self.auth = os.path.join(self.data, "auth")
        self.db = os.path.join(self.auth, "users.db")

    def run(self, *args, stdin=""):
        p = subprocess.run([CAIRNCTL, "-c", self.conf] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=30)
        check_sanitizer_reports(p.stderr)
        return p

    def ok(self, *args, stdin=""):
        p = self.run(*args, stdin=stdin)
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        assert p.stderr == "", (args, p.stderr)
        return p.stdout

    def add(self, name, password="secret"):
        self.ok("user", "add", name, stdin=password + "\n")

    def fails(self, status, pattern, *args, stdin=""):
        """The command exits with status and one 'cairnctl: ' line matching
        pattern (then the usage for status 2)."""
        p = self.run(*args, stdin=stdin)
        assert p.returncode == status, (args, p.returncode, p.stdout, p.stderr)
        lines = p.stderr.splitlines()
        assert lines and lines[0].startswith("cairnctl: "), (args, p.stderr)
        expect(pattern, lines[0])
        if status == 2:
            assert all(line.startswith(("usage:", "   ", "  ")) for line in lines[1:]), \
                (args, p.stderr)
            assert len(lines) > 1, (args, p.stderr)
        else:
            assert len(lines) == 1, (args, p.stderr)
        return p

    def users(self):
        return self.ok("user", "list").splitlines()

    def row(self, name):
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as db:
            return db.execute("SELECT name, hash, disabled, created, updated "
                              "FROM users WHERE name = ?", (name,)).fetchone()

    def show(self, name):
        out = self.ok("user", "show", name)
        return dict(re.match(r"(\w+):\s+(.*)$", line).groups()
                    for line in out.splitlines())

    def mail(self, name):
        return os.path.join(self.data, "mail", name)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def with_ctl(test):
    def wrapper():
        ctl = Ctl()
        try:
            test(ctl)
        finally:
            ctl.close()
    wrapper.__name__ = test.__name__
    return wrapper


@with_ctl
def test_add_from_stdin_stores_yescrypt(ctl):
    ctl.add("alice", "correct horse")
    assert ctl.users() == ["alice"]
    name, hashed, disabled, created, updated = ctl.row("alice")
    assert hashed.startswith("$y$"), hashed
    assert "correct horse" not in hashed
    assert disabled == 0 and created == updated and abs(created - time.time()) < 60
    # no trailing newline is fine too; a second line is not read
    ctl.ok("user", "add", "bob", stdin="pw")
    ctl.ok("user", "add", "carol", stdin="pw\nignored\n")
    assert ctl.users() == ["alice", "bob", "carol"]


@with_ctl
def test_add_existing_user_fails(ctl):
    ctl.add("alice")
    before = ctl.row("alice")
    ctl.fails(1, r"user 'alice' already exists", "user", "add", "alice", stdin="other\n")
    ctl.fails(1, r"already exists", "user", "add", "alice", "--hash", SHA512_SECRET)
    assert ctl.row("alice") == before


@with_ctl
def test_add_with_hash_imports_it(ctl):
    made = subprocess.run(["openssl", "passwd", "-6", "-salt", "saltsalt", "secret"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert made == SHA512_SECRET
    # stdin is not read when a hash is given
    ctl.ok("user", "add", "carol", "--hash", made, stdin="not a password\n")
    assert ctl.row("carol")[1] == made
    assert ctl.show("carol")["scheme"] == "sha512-crypt"
    ctl.ok("user", "add", "--hash=" + made, "dave")
    assert ctl.row("dave")[1] == made


@with_ctl
def test_add_with_bad_hash_fails(ctl):
    for bad in ("secret", "", "$6$saltsalt$short", SHA512_SECRET + "x",
                "$1$saltsalt$abcdefghijklmnopqrstuv", "*", "!" + SHA512_SECRET,
                "$y$j9T$x$y", SHA512_SECRET + "\n"):
        ctl.fails(1, r"--hash: not a supported", "user", "add", "eve", "--hash", bad)
    assert not os.path.exists(ctl.db)
    ctl.fails(2, r"'--hash' needs an argument", "user", "add", "eve", "--hash")


@with_ctl
def test_invalid_names_are_refused(ctl):
    for name, why in (("../x", r"starts with '\.'"), ("a/b", r"'/'"), ("", "empty"),
                      ("x" * 200, "too long"), (".hidden", "starts with"),
                      ("a..b", r'"\.\."'), ("a b", "space"), ("@x", "starts with"),
                      ("a\nb", "control"), ("caf\u00e9", "non-ASCII")):
        p = ctl.fails(1, r"invalid user name '.*': .*" + why, "user", "add", name)
        assert "\n" not in p.stderr.rstrip("\n")
        for verb in ("passwd", "del", "show", "disable", "enable"):
            ctl.fails(1, "invalid user name", "user", verb, name)
    # after "--", a name that looks like an option is checked as a name
    ctl.fails(1, r"invalid user name '-x': starts with", "user", "add", "--", "-x")
    ctl.fails(2, r"unknown option '-x'", "user", "add", "-x")
    # upper case: refused with a hint, never silently lower-cased
    ctl.fails(1, r"invalid user name 'Alice': .*lower case.*'alice'", "user", "add",
              "Alice", stdin="secret\n")
    assert not os.path.exists(ctl.db)
    ctl.add("alice")
    ctl.fails(1, r"'alice'", "user", "show", "ALICE")
    assert ctl.users() == ["alice"]
    # the longest valid name works
    ctl.add("x" * 128)
    assert "x" * 128 in ctl.users()


@with_ctl
def test_bad_passwords_are_refused(ctl):
    ctl.fails(1, r"empty passwords are refused", "user", "add", "alice", stdin="\n")
    ctl.fails(1, r"no password on standard input", "user", "add", "alice", stdin="")
    ctl.fails(1, r"longer than %d bytes" % PASSWORD_MAX, "user", "add", "alice",
              stdin="x" * (PASSWORD_MAX + 1) + "\n")
    ctl.fails(1, r"NUL byte", "user", "add", "alice", stdin="ab\0cd\n")
    ctl.ok("user", "list")
    assert ctl.users() == []
    ctl.add("alice", "x" * PASSWORD_MAX)
    ctl.fails(1, r"empty passwords are refused", "user", "passwd", "alice", stdin="\n")


@with_ctl
def test_passwd_replaces_the_hash(ctl):
    ctl.add("alice", "old password")
    _, old, _, created, _ = ctl.row("alice")
    time.sleep(1.1)
    ctl.ok("user", "passwd", "alice", stdin="new password\n")
    _, new, _, created2, updated = ctl.row("alice")
    assert new.startswith("$y$") and new != old
    assert created2 == created and updated > created
    # an imported hash can be replaced by a new yescrypt one
    ctl.ok("user", "add", "bob", "--hash", SHA512_SECRET)
    ctl.ok("user", "passwd", "bob", stdin="pw\n")
    assert ctl.show("bob")["scheme"] == "yescrypt"
    ctl.fails(2, r"unknown option '--hash'", "user", "passwd", "bob", "--hash",
              SHA512_SECRET)


@with_ctl
def test_show_never_prints_the_hash(ctl):
    ctl.add("alice")
    p = ctl.run("user", "show", "alice")
    assert p.returncode == 0, p.stderr
    hashed = ctl.row("alice")[1]
    assert hashed not in p.stdout and "$y$" not in p.stdout and p.stderr == ""
    info = ctl.show("alice")
    assert info["name"] == "alice" and info["scheme"] == "yescrypt", info
    assert info["disabled"] == "no", info
    expect("^%s$" % ISO_UTC, info["created"])
    expect("^%s$" % ISO_UTC, info["updated"])
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctl.row("alice")[3]))
    assert info["created"] == created, (info, created)


@with_ctl
def test_list_disable_enable(ctl):
    assert ctl.ok("user", "list") == ""          # no database yet: no users
    assert not os.path.exists(ctl.db)
    for name in ("zed", "bob", "m.x@example.org", "alice", "b-2"):
        ctl.add(name)
    assert ctl.users() == ["alice", "b-2", "bob", "m.x@example.org", "zed"]
    hashed = ctl.row("bob")[1]
    ctl.ok("user", "disable", "bob")
    ctl.ok("user", "disable", "zed")
    assert ctl.users() == ["alice", "b-2", "bob (disabled)", "m.x@example.org",
                           "zed (disabled)"]
    assert ctl.show("bob")["disabled"] == "yes"
    ctl.ok("user", "disable", "bob")              # already disabled: fine
    ctl.ok("user", "enable", "bob")
    assert ctl.users() == ["alice", "b-2", "bob", "m.x@example.org", "zed (disabled)"]
    assert ctl.show("bob")["disabled"] == "no"
    assert ctl.row("bob")[1] == hashed            # the password is kept
    ctl.fails(2, r"unexpected argument 'x'", "user", "list", "x")


@with_ctl
def test_unknown_user(ctl):
    # before any database exists, and after
    for existing in (False, True):
        for args in (("passwd", "nobody"), ("del", "--yes", "nobody"),
                     ("show", "nobody"), ("disable", "nobody"), ("enable", "nobody"),
                     ("del", "--yes", "--purge", "nobody")):
            ctl.fails(1, r"no such user 'nobody'", "user", *args, stdin="pw\n")
        if not existing:
            assert not os.path.exists(ctl.data)
            ctl.add("alice")
    assert ctl.users() == ["alice"]


@with_ctl
def test_del_asks_and_refuses_without_a_terminal(ctl):
    ctl.add("alice")
    os.makedirs(os.path.join(ctl.mail("alice"), "INBOX"))
    # a "y" on a pipe is no confirmation: only a terminal or --yes is
    for stdin in ("", "y\n", "yes\n"):
        ctl.fails(1, r"not a terminal.*--yes", "user", "del", "alice", stdin=stdin)
        ctl.fails(1, r"not a terminal.*--yes", "user", "del", "--purge", "alice",
                  stdin=stdin)
    assert ctl.users() == ["alice"]
    assert os.path.isdir(os.path.join(ctl.mail("alice"), "INBOX"))


@with_ctl
def test_del_yes_keeps_the_mail(ctl):
    ctl.add("alice")
    ctl.add("bob")
    inbox = os.path.join(ctl.mail("alice"), "INBOX")
    os.makedirs(inbox)
    with open(os.path.join(inbox, "1"), "w") as f:
        f.write("mail\n")
    ctl.ok("user", "del", "--yes", "alice")
    assert ctl.users() == ["bob"]
    assert os.path.isfile(os.path.join(inbox, "1"))
    ctl.ok("user", "del", "bob", "-y")            # options after the name too
    assert ctl.users() == []
    # a user can come back, with the same name
    ctl.add("alice")
    assert ctl.users() == ["alice"]


@with_ctl
def test_del_purge_removes_the_mail_and_follows_no_link(ctl):
    ctl.add("alice")
    ctl.add("alicia")
    outside = os.path.join(ctl.dir, "outside")
    os.makedirs(os.path.join(outside, "sub"))
    with open(os.path.join(outside, "sub", "precious"), "w") as f:
        f.write("keep me\n")
    top = ctl.mail("alice")
    os.makedirs(os.path.join(top, "x", "y"))
    for path in ("x/y/a", "x/y/b", "x/c", "d"):
        with open(os.path.join(top, path), "w") as f:
            f.write(path)
    os.symlink(os.path.join(outside, "sub", "precious"), os.path.join(top, "x", "file-link"))
    os.symlink(outside, os.path.join(top, "x", "y", "dir-link"))
    os.symlink("/", os.path.join(top, "root-link"))
    os.makedirs(ctl.mail("alicia"))
    if IS_ROOT:
        # as in real life: the mail belongs to the mail user
        mail_user = pwd.getpwnam(MAIL_USER)
        for root, dirs, files in os.walk(top):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, mail_user.pw_uid, mail_user.pw_gid)
    ctl.ok("user", "del", "--yes", "--purge", "alice")
    assert ctl.users() == ["alicia"]
    assert not os.path.lexists(top)
    assert os.path.isdir(ctl.mail("alicia"))
    with open(os.path.join(outside, "sub", "precious")) as f:
        assert f.read() == "keep me\n"
    assert os.listdir(outside) == ["sub"]
    ctl.ok("user", "del", "--yes", "--purge", "alicia")
    assert not os.path.lexists(ctl.mail("alicia"))
    # a mail directory that is itself a link: the link goes, not its target
    ctl.add("linky")
    os.symlink(outside, ctl.mail("linky"))
    ctl.ok("user", "del", "--yes", "--purge", "linky")
    assert not os.path.lexists(ctl.mail("linky"))
    assert os.listdir(outside) == ["sub"]
    # a user without a mail directory (never logged in) purges fine
    ctl.add("nomail")
    ctl.ok("user", "del", "--yes", "--purge", "nomail")
    assert ctl.users() == []


@with_ctl
def test_usage_and_help(ctl):
    p = subprocess.run([CAIRNCTL, "user", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    for verb in ("add", "passwd", "del", "list", "show", "disable", "enable"):
        assert re.search(r"(?m)^  %s " % verb, p.stdout), p.stdout
    # --help needs no configuration file
    for verb, words in (("add", "--hash"), ("passwd", "passwd NAME"),
                        ("del", "--purge"), ("list", "list"), ("show", "show NAME"),
                        ("disable", "disable NAME"), ("enable", "enable NAME")):
        p = subprocess.run([CAIRNCTL, "-c", "/nonexistent.conf", "user", verb, "--help"],
                           capture_output=True, text=True)
        assert p.returncode == 0 and p.stderr == "", (verb, p.stderr)
        assert p.stdout.startswith("usage: cairnctl [-c FILE] user %s" % verb), p.stdout
        assert words in p.stdout, p.stdout
    p = subprocess.run([CAIRNCTL, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "user" in p.stdout
    ctl.fails(2, r"user: missing command", "user")
    ctl.fails(2, r"user: unknown command 'frob'", "user", "frob")
    ctl.fails(2, r"user add: missing NAME", "user", "add")
    ctl.fails(2, r"unexpected argument 'b'", "user", "add", "a", "b")
    ctl.fails(2, r"unknown option '--yes'", "user", "list", "--yes")
    ctl.fails(2, r"unknown option '--purge'", "user", "add", "a", "--purge")
    ctl.fails(2, r"unknown option '--frob'", "user", "show", "a", "--frob")
    ctl.fails(2, r"unknown option '-z'", "user", "del", "-z", "a")
    ctl.fails(2, r"unknown command 'frobnicate'", "frobnicate")
    ctl.fails(2, r"missing command")
    assert not os.path.exists(ctl.data)
    # a broken configuration is an error, not a usage error
    p = subprocess.run([CAIRNCTL, "-c", "/nonexistent.conf", "user", "list"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith("cairnctl: "), p.stderr


@with_ctl
def test_files_modes_and_owners(ctl):
    ctl.add("alice")
    st = os.stat(ctl.auth)
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    db = os.stat(ctl.db)
    assert stat.S_IMODE(db.st_mode) & 0o077 == 0, oct(db.st_mode)
    data = os.stat(ctl.data)
    assert stat.S_IMODE(data.st_mode) == 0o755, oct(data.st_mode)
    leftovers = [n for n in os.listdir(ctl.auth) if n != "users.db"]
    assert leftovers == [], leftovers
    if not IS_ROOT:
        assert st.st_uid == os.geteuid() and db.st_uid == os.geteuid()
        return
    auth = pwd.getpwnam(AUTH_USER)
    assert (st.st_uid, st.st_gid) == (auth.pw_uid, auth.pw_gid), st
    assert (db.st_uid, db.st_gid) == (auth.pw_uid, auth.pw_gid), db
    assert data.st_uid == 0
    # changes made later (a journal, a rewrite) keep the owner
    ctl.ok("user", "passwd", "alice", stdin="other\n")
    ctl.ok("user", "del", "--yes", "alice")
    db = os.stat(ctl.db)
    assert (db.st_uid, db.st_gid) == (auth.pw_uid, auth.pw_gid), db
    for name in os.listdir(ctl.auth):
        assert os.stat(os.path.join(ctl.auth, name)).st_uid == auth.pw_uid, name
    # the mail user cannot read the hashes
    p = subprocess.run(["setpriv", "--reuid", MAIL_USER, "--regid", MAIL_USER,
                        "--clear-groups", "cat", ctl.db], capture_output=True)
    assert p.returncode != 0 and p.stdout == b"", p


@with_ctl
def test_unsafe_auth_dir_is_refused(ctl):
    ctl.add("alice")
    os.chmod(ctl.auth, 0o750)
    ctl.fails(1, r"auth is owned by uid \d+ with mode 0750; it must be owned by .* "
              r"with mode 0700", "user", "list")
    os.chmod(ctl.auth, 0o700)
    assert ctl.users() == ["alice"]
    # a symbolic link instead of the directory is not followed
    os.rename(ctl.auth, ctl.auth + ".real")
    os.symlink(ctl.auth + ".real", ctl.auth)
    ctl.fails(1, r"auth", "user", "list")
    ctl.fails(1, r"auth", "user", "add", "bob", stdin="pw\n")


def test_missing_auth_user_as_root():
    if not IS_ROOT:
        return
    ctl = Ctl(**{"auth-user": '"no-such-cairn-auth"'})
    try:
        ctl.fails(1, r"auth-user 'no-such-cairn-auth' does not exist; create it with: "
                  r"useradd --system --user-group --home-dir /nonexistent "
                  r"--shell /usr/sbin/nologin no-such-cairn-auth",
                  "user", "add", "alice", stdin="pw\n")
        assert not os.path.exists(ctl.data)
    finally:
        ctl.close()


# --- on a terminal ---------------------------------------------------------

def spawn_on_tty(ctl, *args):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(CAIRNCTL, [CAIRNCTL, "-c", ctl.conf] + list(args))
        finally:
            os._exit(127)
    return pid, fd


def read_until(fd, text, timeout=20):
    buf = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
    out = buf.decode("utf-8", "replace")
    assert text in out, (text, out)
    return out


def echo_on(fd):
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def finish(pid, fd):
    """Everything left on the terminal, and the wait status."""
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode("utf-8", "replace")
    check_sanitizer_reports(text)
    return text, status


@with_ctl
def test_password_on_a_terminal(ctl):
    pid, fd = spawn_on_tty(ctl, "user", "add", "tina")
    read_until(fd, "New password for tina: ")
    assert not echo_on(fd)
    os.write(fd, b"hunter2\n")
    read_until(fd, "Retype the password: ")
    os.write(fd, b"hunter2\n")
    out, status = finish(pid, fd)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert "hunter2" not in out
    assert ctl.row("tina")[1].startswith("$y$")
    # mismatch
    hashed = ctl.row("tina")[1]
    pid, fd = spawn_on_tty(ctl, "user", "passwd", "tina")
    read_until(fd, "New password for tina: ")
    os.write(fd, b"one\n")
    read_until(fd, "Retype the password: ")
    os.write(fd, b"two\n")
    out, status = finish(pid, fd)
    assert os.waitstatus_to_exitcode(status) == 1 and "do not match" in out, out
    assert ctl.row("tina")[1] == hashed


@with_ctl
def test_interrupted_prompt_restores_the_echo(ctl):
    ctl.add("tina")
    for sig, keys in ((signal.SIGINT, b"\x03"), (signal.SIGTERM, None)):
        pid, fd = spawn_on_tty(ctl, "user", "passwd", "tina")
        read_until(fd, "New password for tina: ")
        assert not echo_on(fd)
        os.write(fd, b"half")
        if keys:
            os.write(fd, keys)
        else:
            os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while not echo_on(fd) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert echo_on(fd)
        out, status = finish(pid, fd)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig, (status, out)


@with_ctl
def test_del_confirmation_on_a_terminal(ctl):
    ctl.add("tina")
    pid, fd = spawn_on_tty(ctl, "user", "del", "tina")
    read_until(fd, "Delete user tina? [y/N] ")
    os.write(fd, b"\n")
    out, status = finish(pid, fd)
    assert os.waitstatus_to_exitcode(status) == 1 and "not deleted" in out, out
    assert ctl.users() == ["tina"]
    pid, fd = spawn_on_tty(ctl, "user", "del", "tina")
    read_until(fd, "Delete user tina? [y/N] ")
    os.write(fd, b"y\n")
    out, status = finish(pid, fd)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert ctl.users() == []


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_add_from_stdin_stores_yescrypt,
        test_add_existing_user_fails,
        test_add_with_hash_imports_it,
        test_add_with_bad_hash_fails,
        test_invalid_names_are_refused,
        test_bad_passwords_are_refused,
        test_passwd_replaces_the_hash,
        test_show_never_prints_the_hash,
        test_list_disable_enable,
        test_unknown_user,
        test_del_asks_and_refuses_without_a_terminal,
        test_del_yes_keeps_the_mail,
        test_del_purge_removes_the_mail_and_follows_no_link,
        test_usage_and_help,
        test_files_modes_and_owners,
        test_unsafe_auth_dir_is_refused,
        test_missing_auth_user_as_root,
        test_password_on_a_terminal,
        test_interrupted_prompt_restores_the_echo,
        test_del_confirmation_on_a_terminal,
    ])
