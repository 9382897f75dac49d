"""End to end with a real MTA: Debian's Postfix, in a private instance of
its own (config, queue and data directories in a temporary directory,
smtpd on a free 127.0.0.1 port, every service unchrooted), delivers to
the real cairnd:

 - over LMTP on Cairn's lmtp-socket (virtual_transport =
   lmtp:unix:<socket>): a message sent with smtplib reaches the INBOX of
   a session in IDLE within a second of the SMTP end-of-data reply, and
   reads back with Return-Path:, Delivered-To: and Received: added; an
   unknown user and a user over quota are bounced (5.1.1, 5.2.2);
 - through cairn-deliver as a pipe transport, as cairn-deliver(8) shows
   it (flags=X user=cairn, argv=cairn-deliver -f ${sender} -d ${mailbox}),
   with cairn-deliver installed set-group-ID lmtp-group.

The one second covers all of Postfix's side after it has accepted the
message (cleanup has queued it; qmgr takes it from the incoming queue and
hands it to the lmtp client, which connects and talks LMTP) and all of
Cairn's (cairn-lmtpd stores it, the change signal wakes the idling
session, which sends EXISTS).  Postfix needs no setting for that: qmgr
is told of each new message at once.

Needs root (Postfix starts as root and drops to its account "postfix";
cairnd's lmtp-group is "postfix" here so that Postfix's lmtp client may
connect).  Skipped, with the reason printed, when Postfix is not
installed (./quickstart.sh installs it: package postfix) or cannot
start."""

import os
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import BUILD, IS_ROOT, expect, fetch_body, free_port, heard, login, ok  # noqa: E402
from cairntest import require_accounts, run_tests, wait_for  # noqa: E402
from cairntest import Server  # noqa: E402

POSTFIX = "/usr/sbin/postfix"
DELIVER = os.path.join(BUILD, "deliver", "cairn-deliver")
BOUND = 1.0          # seconds from the SMTP end-of-data reply to EXISTS
DOMAIN = "test.example"          # delivered over LMTP
PIPE_DOMAIN = "pipe.example"     # delivered through cairn-deliver
SENDER = "bob@sender.example"

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{smtpd} inet    n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
cairn     unix  -       n       n       -       -       pipe
  flags=X user=cairn null_sender=
  argv={deliver} -c {conf} -f ${{sender}} -d ${{mailbox}}
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = {domain} {pipe_domain}
virtual_transport = lmtp:unix:{lmtp}
transport_maps = inline:{{ {pipe_domain}=cairn: }}
cairn_destination_recipient_limit = 1
# every address of the domains goes to Cairn, which says who exists
smtpd_reject_unlisted_recipient = no
smtpd_peername_lookup = no
# this instance sends nothing anywhere else, bounces included
default_transport = error:the test instance delivers nowhere else
relay_transport = error:the test instance delivers nowhere else
biff = no
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
# the sanitizer settings reach cairn-deliver under the pipe transport
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
    POSTLOG_SERVICE POSTLOG_HOSTNAME {sanitizer}
export_environment = TZ MAIL_CONFIG LANG {sanitizer}
"""

SANITIZER_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


class Skip(Exception):
    pass


class PrivatePostfix:
    """One Postfix instance of its own, started with postfix -c DIR start."""

    def __init__(self, lmtp_socket, cairn_conf, deliver):
        self.dir = tempfile.mkdtemp(prefix="cairn-postfix-")
        # Postfix's daemons, as "postfix", and the pipe's cairn-deliver,
        # as "cairn", reach below it
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "conf")
        self.port = free_port()
        self.master_pid = None
        os.mkdir(self.conf, 0o755)
        os.mkdir(os.path.join(self.dir, "queue"), 0o755)
        data = os.path.join(self.dir, "data")
        os.mkdir(data, 0o700)
        shutil.chown(data, "postfix", "postfix")
        sanitizer = " ".join(v for v in SANITIZER_VARS if v in os.environ)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, domain=DOMAIN, pipe_domain=PIPE_DOMAIN,
                                   lmtp=lmtp_socket, sanitizer=sanitizer))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtpd="127.0.0.1:%d" % self.port,
                                     deliver=deliver, conf=cairn_conf))

    def postfix(self, *args):
        # Postfix writes its errors to standard error only on a terminal;
        # the rest goes to maillog_file
        return subprocess.run([POSTFIX, "-c", self.conf] + list(args),
                              capture_output=True, text=True, timeout=60)

    def start(self):
        p = self.postfix("start")
        if p.returncode != 0:
            raise Skip("postfix -c %s start failed (%d): %s %s\n%s" % (
                self.conf, p.returncode, p.stdout, p.stderr, self.log()[-3000:]))
        pidfile = os.path.join(self.dir, "queue", "pid", "master.pid")
        try:
            wait_for(lambda: os.path.exists(pidfile) and self.listening(),
                     what="Postfix's smtpd on port %d" % self.port)
        except AssertionError as e:
            raise Skip("Postfix did not come up: %s\n%s" % (e, self.log()[-3000:]))
        with open(pidfile) as f:
            self.master_pid = int(f.read().strip())
        return self

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """postfix stop, then anything of this instance still alive is
        killed: the master leads its own process group."""
        self.postfix("stop")
        if self.master_pid is not None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and alive(self.master_pid):
                time.sleep(0.1)
            try:
                os.killpg(self.master_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def send(self, rcpt, data, sender=SENDER):
        """Send over SMTP; the monotonic time of the end-of-data reply, and
        the queue id Postfix gave the message."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("client.test.invalid")
            code, reply = s.mail(sender)
            assert code == 250, (code, reply)
            code, reply = s.rcpt(rcpt)
            assert code == 250, (code, reply)
            code, reply = s.data(data)
            replied = time.monotonic()
            assert code == 250, (code, reply)
        m = re.search(rb"queued as ([0-9A-Za-z]+)", reply)
        assert m, reply
        return replied, m.group(1).decode()

    def outcome(self, queue_id, rcpt):
        """Postfix's log line for the delivery of queue_id to rcpt, once
        there is one (status=sent, bounced or deferred)."""
        pattern = r"^.* %s: to=<%s>, .*status=(sent|bounced|deferred) .*$" % (
            re.escape(queue_id), re.escape(rcpt))
        m = wait_for(lambda: re.search(pattern, self.log(), re.M), timeout=20,
                     what="the outcome of %s in Postfix's log:\n%s" % (
                         queue_id, self.log()[-3000:]))
        return m.group(0)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def message(subject, body="Hello from Postfix.\r\n"):
    return ("From: Bob <%s>\r\nTo: alice@%s\r\nSubject: %s\r\n"
            "Message-ID: <%s@sender.example>\r\n\r\n%s" % (
                SENDER, DOMAIN, subject, subject.replace(" ", "."), body)).encode()


def setgid_copy(directory, group):
    """cairn-deliver installed set-group-ID group in directory, as
    cairn-deliver(8) says (chgrp, chmod 2755); None when the file system
    ignores set-group-ID bits."""
    path = os.path.join(directory, "cairn-deliver")
    shutil.copy(DELIVER, path)
    shutil.chown(path, "root", group)
    os.chmod(path, 0o2755)
    if os.statvfs(path).f_flag & os.ST_NOSUID:
        return None
    assert os.stat(path).st_mode & stat.S_ISGID
    return path


class Setup:
    """cairnd with alice, bob and carol (password "pw"), and Postfix
    delivering to it; one for all the tests (Postfix takes seconds to
    start and stop)."""

    def start(self):
        self.srv = Server(**{"lmtp-group": '"postfix"'}).start()
        self.pf = None
        self.bin_dir = tempfile.mkdtemp(prefix="cairn-deliver-bin-")
        try:
            for user in ("alice", "bob", "carol"):
                self.srv.add_user(user, "pw")
            os.chmod(self.bin_dir, 0o755)
            deliver = setgid_copy(self.bin_dir, "postfix") or DELIVER
            self.setgid = deliver != DELIVER
            lmtp = os.path.join(self.srv.dir, "run", "lmtp")
            wait_for(lambda: os.path.exists(lmtp), what="cairnd's LMTP socket")
            self.pf = PrivatePostfix(lmtp, self.srv.conf, deliver)
            self.pf.start()
        except BaseException:
            self.stop(show_logs=False)
            raise
        return self

    def stop(self, show_logs):
        if show_logs:
            sys.stdout.write("--- Postfix's log ---\n%s\n" % self.pf.log()[-6000:])
            sys.stdout.write("--- cairnd log ---\n%s\n" % self.srv.log_text()[-10000:])
        if self.pf is not None:
            self.pf.stop()
        shutil.rmtree(self.bin_dir, ignore_errors=True)
        self.srv.stop_and_check()


S = None    # the Setup the tests share


def idle(c):
    ok(c, "SELECT INBOX")
    c.send("idle IDLE\r\n")
    assert c.readline().startswith("+ ")


def done(c):
    c.sock.settimeout(10)
    c.send("DONE\r\n")
    tagged = c.read_until_tagged("idle")[1]
    assert tagged.startswith("idle OK"), tagged


def header_block(raw):
    """The header, with LF line ends (for re.M)."""
    return raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").replace("\r\n", "\n")


def test_lmtp_delivery_heard_in_idle():
    """Postfix -> lmtp:unix: -> cairn-lmtpd; alice's IDLEing INBOX hears
    each message within a second of the end-of-data reply; cairn-lmtpd's
    fields come first, and the message after them as Postfix had it."""
    c = login(S.srv, "alice", "pw")
    idle(c)
    waits = []
    for i in range(1, 6):
        replied, queue_id = S.pf.send("alice@%s" % DOMAIN, message("postfix %d" % i))
        heard(c, r"^\* %d EXISTS$" % i, replied, BOUND)
        waits.append(time.monotonic() - replied)
        expect(r"^\* \d+ RECENT$", c.readline())
        line = S.pf.outcome(queue_id, "alice@%s" % DOMAIN)
        assert "status=sent (250 2." in line, line
    print("end-of-data reply to EXISTS: %s s" % " ".join("%.3f" % w for w in waits))
    done(c)
    raw = fetch_body(c, 1)
    lines = header_block(raw).split("\n")
    first_postfix = next(i for i, l in enumerate(lines)
                         if l.startswith("Received: from client.test.invalid"))
    ours = "\n".join(lines[:first_postfix])
    assert re.search(r"^Return-Path: <%s>$" % re.escape(SENDER), ours, re.M), ours
    assert re.search(r"^Delivered-To: <?alice@%s>?$" % re.escape(DOMAIN), ours, re.M), ours
    assert re.search(r"^Received: from mx\.test\.invalid \(", ours, re.M), ours
    assert re.search(r"\(Cairn\)\s+with LMTP id", ours), ours
    assert "Subject: postfix 1" in lines, lines
    assert raw.endswith(b"\r\n\r\nHello from Postfix.\r\n"), raw[-200:]
    c.close()


def test_refusals_bounce():
    """An unknown user (550 5.1.1) and a user over quota (552 5.2.2) are
    bounced by Postfix at once, not retried."""
    _, queue_id = S.pf.send("nosuch@%s" % DOMAIN, message("nobody home"))
    line = S.pf.outcome(queue_id, "nosuch@%s" % DOMAIN)
    assert "status=bounced" in line and "550 5.1.1" in line, line
    # bob's store exists after his first delivery; then it is full
    _, queue_id = S.pf.send("bob@%s" % DOMAIN, message("the one that fits"))
    assert "status=sent" in S.pf.outcome(queue_id, "bob@%s" % DOMAIN)
    p = S.srv.cairnctl("quota", "set", "bob", "messages=1")
    assert p.returncode == 0, p.stderr
    _, queue_id = S.pf.send("bob@%s" % DOMAIN, message("one too many"))
    line = S.pf.outcome(queue_id, "bob@%s" % DOMAIN)
    assert "status=bounced" in line and "5.2.2" in line, line
    c = login(S.srv, "bob", "pw")
    untagged = ok(c, "STATUS INBOX (MESSAGES)")
    assert any("(MESSAGES 1)" in u for u in untagged), untagged
    c.close()


def test_pipe_transport_through_cairn_deliver():
    """The master.cf pipe transport of cairn-deliver(8), user=cairn, with
    the binary set-group-ID lmtp-group: carol's IDLE hears the message
    within a second; the sender, the null sender and the detail mailbox
    come through; an unknown user is bounced (exit status 67)."""
    if not S.setgid:
        print("skipped: the file system ignores set-group-ID bits")
        return
    rcpt = "carol@%s" % PIPE_DOMAIN
    c = login(S.srv, "carol", "pw")
    ok(c, "CREATE lists")
    ok(c, "SUBSCRIBE lists")
    idle(c)
    replied, queue_id = S.pf.send(rcpt, message("piped"))
    heard(c, r"^\* 1 EXISTS$", replied, BOUND)
    print("pipe transport, end-of-data reply to EXISTS: %.3f s" %
          (time.monotonic() - replied))
    line = S.pf.outcome(queue_id, rcpt)
    assert "relay=cairn" in line and "status=sent (delivered via cairn" in line, line
    done(c)
    raw = fetch_body(c, 1)
    head = header_block(raw)
    assert re.search(r"^Return-Path: <%s>$" % re.escape(SENDER), head, re.M), head
    assert raw.endswith(b"\r\n\r\nHello from Postfix.\r\n"), raw[-200:]
    # ${mailbox} keeps the detail, and cairn-lmtpd files it
    _, queue_id = S.pf.send("carol+lists@%s" % PIPE_DOMAIN, message("for the list"))
    assert "status=sent" in S.pf.outcome(queue_id, "carol+lists@%s" % PIPE_DOMAIN)
    untagged = ok(c, "STATUS lists (MESSAGES)")
    assert any("(MESSAGES 1)" in u for u in untagged), untagged
    # the null sender: ${sender} is empty (null_sender=), Return-Path <>
    _, queue_id = S.pf.send(rcpt, message("a bounce"), sender="")
    assert "status=sent" in S.pf.outcome(queue_id, rcpt)
    ok(c, "NOOP")
    raw = fetch_body(c, 2)
    assert re.search(r"^Return-Path: <>$", header_block(raw), re.M), raw[:300]
    # an unknown user: cairn-deliver exits 67 with the reply, Postfix bounces
    _, queue_id = S.pf.send("nosuch@%s" % PIPE_DOMAIN, message("nobody home"))
    line = S.pf.outcome(queue_id, "nosuch@%s" % PIPE_DOMAIN)
    assert "status=bounced" in line and "550 5.1.1" in line, line
    c.close()


def main():
    if not os.path.exists(POSTFIX):
        print("SKIP: Postfix is not installed (Debian package postfix; "
              "./quickstart.sh installs it)")
        print("0 passed, 0 failed")
        sys.exit(0)
    if not IS_ROOT:
        print("SKIP: Postfix starts as root; run the test as root")
        print("0 passed, 0 failed")
        sys.exit(0)
    require_accounts()
    global S
    try:
        S = Setup().start()
    except Skip as e:
        print("SKIP: Postfix cannot start here: %s" % e)
        print("0 passed, 0 failed")
        sys.exit(0)
    failed = True
    try:
        run_tests([test_lmtp_delivery_heard_in_idle, test_refusals_bounce,
                   test_pipe_transport_through_cairn_deliver])
    except SystemExit as e:
        failed = e.code != 0
        raise
    finally:
        S.stop(show_logs=failed)

if __name__ == "__main__":
    main()
