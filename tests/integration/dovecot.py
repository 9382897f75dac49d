"""A private Dovecot from Debian's packages (dovecot-imapd, dovecot-lmtpd),
for the migration tests: it makes Maildirs the way a real Dovecot does
(dovecot-lda delivers, IMAP sets flags and keywords and makes folders) and
reads the Maildirs cairnctl export writes.  As bench/run-lmtp.sh does:
root starts it, its mail belongs to `nobody`, users in a passwd-file,
IMAP on a free 127.0.0.1 port, plain LOGIN without TLS."""

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from cairntest import free_port, wait_for

DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"
MAIL_ACCOUNT = "nobody"
PASSWORD = "dove-pw"


def available():
    """None when Dovecot can run here, else why not."""
    if os.geteuid() != 0:
        return "Dovecot needs root to drop to its accounts"
    for path in (DOVECOT, LDA):
        if not os.access(path, os.X_OK):
            return "%s is missing (apt-get install dovecot-imapd dovecot-lmtpd)" % path
    for name in ("dovecot", "dovenull", MAIL_ACCOUNT):
        try:
            pwd.getpwnam(name)
        except KeyError:
            return "account %s is missing" % name
    return None


class Dovecot:
    """dovecot -F with its own directory; users' Maildirs are
    <dir>/mail/<user>/Maildir unless maildir_of says otherwise."""

    def __init__(self, users=("alice",), maildir_of=None):
        self.dir = tempfile.mkdtemp(prefix="cairn-dovecot-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.proc = None
        pw = pwd.getpwnam(MAIL_ACCOUNT)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        mail = os.path.join(self.dir, "mail")
        os.mkdir(mail, 0o755)
        self.maildirs = {}
        lines = []
        for u in users:
            home = os.path.join(mail, u)
            os.mkdir(home, 0o700)
            os.chown(home, self.uid, self.gid)
            md = (maildir_of or {}).get(u, os.path.join(home, "Maildir"))
            self.maildirs[u] = md
            lines.append("%s:{PLAIN}%s:%d:%d::%s::userdb_mail=maildir:%s\n" %
                         (u, PASSWORD, self.uid, self.gid, home, md))
        self.passwd = os.path.join(self.dir, "passwd")
        with open(self.passwd, "w") as f:
            f.writelines(lines)
        os.chmod(self.passwd, 0o644)
        os.mkdir(os.path.join(self.dir, "state"), 0o755)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir, "port": self.port,
                            "passwd": self.passwd, "name": os.path.basename(self.dir)})

    def start(self):
        self.out = open(os.path.join(self.dir, "dovecot.out"), "ab")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=self.out, stderr=self.out)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("dovecot exited: %s" % self.log())
            try:
                imaplib.IMAP4("127.0.0.1", self.port, timeout=2).logout()
                return True
            except OSError:
                return False
        wait_for(up, timeout=30, what="dovecot to listen")
        return self

    def log(self):
        text = ""
        for name in ("dovecot.out", "dovecot.log"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    text += f.read().decode("utf-8", "replace")
        return text

    def deliver(self, user, data, mailbox=None):
        """One message through dovecot-lda, as an MTA would hand it over."""
        args = [LDA, "-c", self.conf, "-d", user]
        if mailbox:
            args += ["-m", mailbox]
        p = subprocess.run(args, input=data, capture_output=True, timeout=60)
        assert p.returncode == 0, (p.returncode, p.stderr, self.log())

    def imap(self, user):
        m = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        m.login(user, PASSWORD)
        return m

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None:
            print("--- dovecot log ---\n%s" % self.log()[-5000:])
        self.stop()


CONF = """\
instance_name = %(name)s
base_dir = %(dir)s/run
state_dir = %(dir)s/state
log_path = %(dir)s/dovecot.log
info_log_path = %(dir)s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = %(passwd)s
}
userdb {
  driver = passwd-file
  args = %(passwd)s
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %(port)d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
"""
