"""A real client syncing both ways: mbsync (Debian's isync) against the real
cairnd over IMAPS, with a Maildir in a temporary directory, and python's
imaplib on the server side.  One scenario, step by step:

 1. messages APPENDed to INBOX and to a new folder "Projects" (one of them
    large) come down into the Maildir byte for byte (CRLF -> LF);
 2. a message written into the local Projects/new, a new local folder with
    a message, and a local message marked seen (":2,S") go up: the server
    LISTs the folder and FETCHes the bodies and the \\Seen flag;
 3. on the server \\Flagged, MOVE to a new folder "Done", and
    STORE \\Deleted + EXPUNGE come down: the "F" in the file name, the moved
    message in the new folder "Done" (gone from INBOX), the expunged one
    gone;
 4. a message file removed locally is gone from the server;
 5. another run has nothing to do: exit status 0 and nothing changes.

mbsync turns COMPRESS=DEFLATE (RFC 4978) on when the server offers it, so
every run goes through the deflate layer both ways; the server's log
says so for each of them.

mbsync's exit status is asserted after every run and its output shown when
it fails.  Skipped (printing why, with "0 passed, 0 failed") only when
mbsync is not installed; ./quickstart.sh installs it (package isync)."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import mail_server, require_accounts, run_tests  # noqa: E402

MBSYNC = shutil.which("mbsync")


def message(subject, body=None, extra=""):
    """A CRLF message as the server stores it."""
    if body is None:
        body = "body of %s\r\nsecond line\r\n" % subject
    return ("From: Bob <bob@example.org>\r\nTo: alice@example.com\r\n"
            "Subject: %s\r\nDate: Mon, 7 Jul 2024 10:11:12 +0200\r\n"
            "Message-ID: <%s@example.org>\r\n%s\r\n%s" %
            (subject, subject.replace(" ", "-"), extra, body)).encode()


def big_message():
    """~300 kB: a multipart message with a base64 attachment (many literals'
    worth for mbsync's reads)."""
    import base64
    blob = bytes(range(256)) * 900
    b64 = base64.encodebytes(blob).decode().replace("\n", "\r\n")
    body = ("--xyz\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            "--xyz\r\nContent-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s--xyz--\r\n" % b64)
    return message("big one", body,
                   "MIME-Version: 1.0\r\n"
                   "Content-Type: multipart/mixed; boundary=\"xyz\"\r\n")


def without_tuid(data):
    """data without the X-TUID header mbsync adds to every copy it makes (its
    journal's crash-safe way of finding the copy again), else unchanged."""
    nl = b"\r\n" if b"\r\n" in data else b"\n"
    head, sep, body = data.partition(nl + nl)
    head = nl.join(h for h in head.split(nl) if not h.lower().startswith(b"x-tuid:"))
    return head + sep + body


def normalize(data):
    """A message as compared between the sides: LF line ends (the Maildir's),
    without X-TUID."""
    return without_tuid(data.replace(b"\r\n", b"\n"))


class Sync:
    """An mbsyncrc and a Maildir in a temporary directory."""

    def __init__(self, srv):
        self.dir = tempfile.mkdtemp(prefix="cairn-mbsync-")
        self.inbox = os.path.join(self.dir, "inbox")
        self.path = os.path.join(self.dir, "maildir")
        os.makedirs(self.path)
        self.rc = os.path.join(self.dir, "mbsyncrc")
        with open(self.rc, "w") as f:
            f.write("""\
IMAPAccount cairn
Host 127.0.0.1
Port %(port)d
User alice
Pass alice-pw
SSLType IMAPS
SystemCertificates no
CertificateFile %(cert)s
AuthMechs LOGIN PLAIN
Timeout 30

IMAPStore cairn-remote
Account cairn

MaildirStore cairn-local
Path %(path)s/
Inbox %(inbox)s
SubFolders Verbatim

Channel cairn
Far :cairn-remote:
Near :cairn-local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
Sync All
""" % dict(port=srv.tls_port, cert=srv.cert, path=self.path, inbox=self.inbox))
        self.env = dict(os.environ, HOME=self.dir)
        self.delivered = 0

    def run(self, step, debug=False):
        """mbsync -a; assert exit status 0, showing the output when not."""
        args = [MBSYNC, "-c", self.rc] + (["-D"] if debug else ["-V"]) + ["-a"]
        p = subprocess.run(args, capture_output=True, env=self.env, timeout=120)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        if p.returncode != 0:
            # once more with the protocol exchange, for the report
            if not debug:
                d = subprocess.run([MBSYNC, "-c", self.rc, "-D", "-a"], capture_output=True,
                                   env=self.env, timeout=120)
                out += "\n--- rerun with -D (exit %d) ---\n%s" % (
                    d.returncode, (d.stdout + d.stderr).decode("utf-8", "replace"))
            raise AssertionError("%s: mbsync exited with %d:\n%s" % (step, p.returncode, out))
        return out

    def folder(self, name):
        return self.inbox if name == "INBOX" else os.path.join(self.path, name)

    def local(self, name):
        """{normalized content: (path, flags)} of one local folder."""
        found = {}
        base = self.folder(name)
        for sub in ("new", "cur"):
            d = os.path.join(base, sub)
            if not os.path.isdir(d):
                continue
            for fn in os.listdir(d):
                p = os.path.join(d, fn)
                with open(p, "rb") as f:
                    content = normalize(f.read())
                flags = fn.split(":2,", 1)[1] if ":2," in fn else ""
                assert content not in found, "twice in %s: %s" % (name, fn)
                found[content] = (p, flags)
        return found

    def local_folders(self):
        names = set()
        for root, dirs, _ in os.walk(self.path):
            if {"cur", "new", "tmp"} <= set(dirs):
                names.add(os.path.relpath(root, self.path))
        if os.path.isdir(os.path.join(self.inbox, "cur")):
            names.add("INBOX")
        return names

    def snapshot(self):
        files = []
        for root, _, fns in os.walk(self.dir):
            for fn in fns:
                if not fn.startswith(".mbsyncstate"):
                    files.append(os.path.relpath(os.path.join(root, fn), self.dir))
        return sorted(files)

    def write_local(self, name, data, flags=None):
        """A new local message, as a mail client delivers it (in new/ without
        info, or in cur/ with flags)."""
        base = self.folder(name)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        self.delivered += 1
        unique = "%d.M%dP%dQ%d.testhost" % (time.time(), time.time_ns() % 1000000,
                                             os.getpid(), self.delivered)
        tmp = os.path.join(base, "tmp", unique)
        with open(tmp, "wb") as f:
            f.write(data.replace(b"\r\n", b"\n"))
        final = (os.path.join(base, "new", unique) if flags is None else
                 os.path.join(base, "cur", unique + ":2," + flags))
        os.rename(tmp, final)
        return final

    def set_flags(self, path, flags):
        d, fn = os.path.split(path)
        new = os.path.join(os.path.dirname(d), "cur", fn.split(":2,")[0] + ":2," + flags)
        os.rename(path, new)
        return new

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def server_state(m, mailbox):
    """{normalized content: set of flags} of one server mailbox (imaplib)."""
    typ, data = m.select('"%s"' % mailbox)
    assert typ == "OK", (mailbox, data)
    state = {}
    count = int(data[0])
    for n in range(1, count + 1):
        typ, data = m.fetch(str(n), "(FLAGS)")
        assert typ == "OK", data
        fl = re.search(rb"FLAGS \(([^)]*)\)", data[0])
        assert fl, data
        flags = set(fl.group(1).decode().split())
        typ, data = m.fetch(str(n), "(BODY.PEEK[])")
        assert typ == "OK" and isinstance(data[0], tuple), data
        content = normalize(data[0][1])
        assert content not in state, "twice in %s: %r" % (mailbox, content[:200])
        state[content] = flags
    return state


def server_folders(m):
    typ, data = m.list()
    assert typ == "OK", data
    names = set()
    for line in data:
        match = re.match(rb'^\([^)]*\) (?:NIL|"[^"]*") (.*)$', line)
        assert match, line
        name = match.group(1).decode()
        if name.startswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        names.add(name)
    return names


def compressed_sessions(srv):
    """Sessions that turned COMPRESS=DEFLATE on (imaplib never does)."""
    return srv.log_text().count("COMPRESS=DEFLATE active")


def append(m, mailbox, data, flags=None):
    typ, resp = m.append('"%s"' % mailbox, flags, None, data)
    assert typ == "OK", resp


@contextlib.contextmanager
def setup():
    srv = mail_server()
    sync = None
    try:
        sync = Sync(srv)
        m = srv.imap("alice", "alice-pw")
        try:
            yield srv, sync, m
        finally:
            try:
                m.logout()
            except Exception:
                pass
    except BaseException:
        sys.stdout.write("--- cairnd log ---\n%s\n" % srv.log_text())
        srv.stop()
        if sync:
            sync.remove()
        raise
    sync.remove()
    srv.stop_and_check()


def test_mbsync_both_ways():
    with setup() as (srv, sync, m):
        # (1) server -> Maildir
        in1, in2, in3 = message("inbox one"), message("inbox two"), message("inbox three")
        pr1, big = message("project one"), big_message()
        defaults = server_folders(m)  # INBOX and the special-use folders
        assert "INBOX" in defaults and "Projects" not in defaults, defaults
        for data in (in1, in2, in3):
            append(m, "INBOX", data)
        assert m.create("Projects")[0] == "OK"
        append(m, "Projects", pr1, r"(\Seen)")
        append(m, "Projects", big)
        sync.run("step 1 (download)")
        assert compressed_sessions(srv) >= 1, "mbsync did not use COMPRESS=DEFLATE"
        assert sync.local_folders() == defaults | {"Projects"}, sync.local_folders()
        inbox = sync.local("INBOX")
        assert set(inbox) == {normalize(in1), normalize(in2), normalize(in3)}, list(inbox)
        # byte for byte: the Maildir holds the LF form of exactly what was sent
        for data in (in1, in2, in3):
            path, flags = inbox[normalize(data)]
            with open(path, "rb") as f:
                local = f.read()
            assert without_tuid(local) == data.replace(b"\r\n", b"\n"), (path, local, data)
            assert "S" not in flags, path
        projects = sync.local("Projects")
        assert set(projects) == {normalize(pr1), normalize(big)}, list(projects)
        with open(projects[normalize(big)][0], "rb") as f:
            assert without_tuid(f.read()) == big.replace(b"\r\n", b"\n")
        assert projects[normalize(pr1)][1] == "S", projects[normalize(pr1)]
        assert projects[normalize(big)][1] == "", projects[normalize(big)]

        # (2) Maildir -> server
        pr2 = message("project two, written locally")
        lo1 = message("local folder message")
        sync.write_local("Projects", pr2)
        sync.write_local("Local", lo1, flags="F")
        sync.set_flags(inbox[normalize(in1)][0], "S")
        sync.run("step 2 (upload)")
        assert server_folders(m) == defaults | {"Projects", "Local"}, server_folders(m)
        state = server_state(m, "INBOX")
        assert set(state) == {normalize(in1), normalize(in2), normalize(in3)}, list(state)
        assert "\\Seen" in state[normalize(in1)], state
        assert "\\Seen" not in state[normalize(in2)], state
        state = server_state(m, "Projects")
        assert set(state) == {normalize(pr1), normalize(big), normalize(pr2)}, list(state)
        state = server_state(m, "Local")
        assert set(state) == {normalize(lo1)}, list(state)
        assert "\\Flagged" in state[normalize(lo1)], state
        # the uploaded bodies byte for byte (CRLF on the server)
        m.select("Local")
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        assert without_tuid(data[0][1]) == lo1, data

        # (3) server changes -> Maildir
        assert m.create("Done")[0] == "OK"
        m.select("INBOX")
        uids = {}
        typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in data:
            if isinstance(item, tuple):
                uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
                uids[item[1].strip().decode()] = uid
        assert m.uid("STORE", uids["Subject: inbox one"], "+FLAGS", r"(\Flagged)")[0] == "OK"
        typ, data = m.uid("MOVE", uids["Subject: inbox two"], "Done")
        assert typ == "OK", data
        assert m.uid("STORE", uids["Subject: inbox three"], "+FLAGS", r"(\Deleted)")[0] == "OK"
        assert m.expunge()[0] == "OK"
        sync.run("step 3 (server changes down)")
        assert sync.local_folders() == defaults | {"Projects", "Local", "Done"}, \
            sync.local_folders()
        inbox = sync.local("INBOX")
        assert set(inbox) == {normalize(in1)}, list(inbox)
        assert sorted(inbox[normalize(in1)][1]) == ["F", "S"], inbox
        done = sync.local("Done")
        assert set(done) == {normalize(in2)}, list(done)
        with open(done[normalize(in2)][0], "rb") as f:
            assert without_tuid(f.read()) == in2.replace(b"\r\n", b"\n")

        # (4) a local deletion -> gone on the server
        projects = sync.local("Projects")
        os.unlink(projects[normalize(pr1)][0])
        sync.run("step 4 (local deletion up)")
        state = server_state(m, "Projects")
        assert set(state) == {normalize(big), normalize(pr2)}, list(state)
        assert set(sync.local("Projects")) == {normalize(big), normalize(pr2)}

        # (5) nothing to do
        before_local = sync.snapshot()
        before_server = {f: server_state(m, f) for f in server_folders(m)}
        out = sync.run("step 5 (nothing to do)")
        assert sync.snapshot() == before_local, (before_local, sync.snapshot(), out)
        after_server = {f: server_state(m, f) for f in server_folders(m)}
        assert after_server == before_server, (before_server, after_server, out)
        assert compressed_sessions(srv) >= 5, compressed_sessions(srv)
        assert "COMPRESS: bad data" not in srv.log_text()


if __name__ == "__main__":
    if not MBSYNC:
        print("SKIP: mbsync is not installed (Debian package isync; "
              "./quickstart.sh installs it)")
        print("0 passed, 0 failed")
        sys.exit(0)
    require_accounts()
    run_tests([
        test_mbsync_both_ways,
    ])
