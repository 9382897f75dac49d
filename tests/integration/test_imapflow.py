"""A real client library against the real cairnd: Node's imapflow (from
the npm registry, pinned in tests/integration/imapflow/package-lock.json)
logs in over TLS, turns on CONDSTORE (and QRESYNC when offered), opens
INBOX, and IDLEs while another session appends, flags and expunges; the
pushes must reach it within a second.  Then it asks what changed since the
HIGHESTMODSEQ it opened the mailbox with (CHANGEDSINCE) and must get
exactly the flagged and the new message.

./quickstart.sh installs node and npm; npm ci fetches imapflow into the
build directory once."""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import BUILD, login, ok, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imapflow")
BOUND = 1.0


def install():
    """imapflow in BUILD/tests/imapflow (npm ci, once per lock file)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), \
            "%s is missing: ./quickstart.sh installs it (apt-get install nodejs npm)" % tool
    dest = os.path.join(BUILD, "tests", "imapflow")
    os.makedirs(dest, exist_ok=True)
    for name in ("package.json", "package-lock.json", "client.js"):
        shutil.copyfile(os.path.join(SRC, name), os.path.join(dest, name))
    stamp = os.path.join(dest, "node_modules", ".cairn-lock")
    with open(os.path.join(SRC, "package-lock.json")) as f:
        lock = f.read()
    if not os.path.exists(stamp) or open(stamp).read() != lock:
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=dest, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, "npm ci failed:\n" + p.stdout + p.stderr
        with open(stamp, "w") as f:
            f.write(lock)
    return dest


class Node:
    """The client.js process: commands in, JSON events out.  A thread reads
    its lines into a queue: select() on the pipe would miss a line that
    arrived with the one before it and sits in the file's buffer."""

    def __init__(self, directory, port):
        self.proc = subprocess.Popen(["node", "client.js", str(port), "alice", "alice-pw"],
                                     cwd=directory, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def next_event(self, name, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no %s event from imapflow within %d s" % (name, timeout))
        assert line is not None, "imapflow exited (status %s)" % self.proc.wait()
        return json.loads(line)

    def event(self, name, timeout=20):
        """The next event; it must be name."""
        ev = self.next_event(name, timeout)
        assert ev["event"] == name, "expected %s, got %r" % (name, ev)
        return ev

    def events_until(self, name, timeout=20):
        """The events before the next name event, and that one."""
        seen = []
        while True:
            ev = self.next_event(name, timeout)
            if ev["event"] == name:
                return seen, ev
            seen.append(ev)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def append(c, subject):
    data = ("Subject: %s\r\nFrom: a@example.org\r\n\r\nbody\r\n" % subject).encode()
    c.send("ap APPEND INBOX {%d+}\r\n" % len(data))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged("ap")[1]
    assert tagged.startswith("ap OK"), tagged


def test_imapflow_idle_and_condstore():
    directory = install()
    with server() as srv:
        b = login(srv)
        for i in range(3):
            append(b, "message %d" % i)
        ok(b, "SELECT INBOX")
        node = Node(directory, srv.tls_port)
        try:
            connected = node.event("connected")
            for cap in ("IDLE", "CONDSTORE", "QRESYNC"):
                assert cap in connected["capabilities"], connected
            assert "QRESYNC" in connected["enabled"], connected
            opened = node.event("opened")
            assert opened["exists"] == 3, opened
            assert opened["highestModseq"] is not None, \
                "imapflow saw no HIGHESTMODSEQ: CONDSTORE not in use (%r)" % connected
            since = opened["highestModseq"]

            node.send("idle")
            node.event("idle-started")
            time.sleep(0.3)      # imapflow has sent IDLE and had "+ idling"

            append(b, "new one")
            t = time.monotonic()
            ev = node.event("exists")
            assert time.monotonic() - t < BOUND, "EXISTS after %.2f s" % (time.monotonic() - t)
            assert ev["count"] == 4 and ev["prevCount"] == 3, ev

            ok(b, r"STORE 2 +FLAGS.SILENT (\Flagged)")
            t = time.monotonic()
            ev = node.event("flags")
            assert time.monotonic() - t < BOUND
            assert ev["seq"] == 2 and ev["uid"] == 2 and ev["flags"] == ["\\Flagged"], ev
            assert ev["modseq"] is not None and int(ev["modseq"]) > int(since), ev

            ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
            ev = node.event("flags")
            assert ev["seq"] == 1 and ev["flags"] == ["\\Deleted"], ev
            ok(b, "EXPUNGE")
            t = time.monotonic()
            ev = node.event("expunge")
            assert time.monotonic() - t < BOUND
            # QRESYNC is on: VANISHED 1, not 1 EXPUNGE
            assert ev == {"event": "expunge", "seq": None, "uid": 1, "vanished": True}, ev

            # what changed since the client opened the mailbox: the flagged
            # message and the new one; with QRESYNC, imapflow also asks
            # for VANISHED and hears of the expunged one again (EARLIER)
            node.send("fetch %s" % since)
            before, fetched = node.events_until("fetched")
            rows = fetched["rows"]
            if "QRESYNC" in connected["enabled"]:
                assert before == [{"event": "expunge", "seq": None, "uid": 1,
                                   "vanished": True}], before
            else:
                assert before == [], before
            assert [(r["uid"], r["flags"]) for r in rows] == [(2, ["\\Flagged"]), (4, [])], rows
            assert all(int(r["modseq"]) > int(since) for r in rows), rows
            node.send("quit")
            node.event("bye")
        finally:
            node.close()
        b.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([test_imapflow_idle_and_condstore])
