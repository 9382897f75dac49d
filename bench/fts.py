#!/usr/bin/env python3
"""SEARCH BODY and TEXT on one large mailbox, with the full-text index
(store/fts.c) and without it, against a real cairnd from the build tree.

    bench/fts.py [N]          # N messages (default 100000)
    bench/fts.py --write [N]  # APPEND and EXPUNGE of N messages only

Starts cairnd (tests/integration/cairntest.py: free loopback ports, a
temporary directory, log level info), APPENDs N messages to alice's
INBOX over one connection (LITERAL+, pipelined in groups of 500), then:

  - the size of the mail (sum of RFC822.SIZE), of blobs/, of index.db and
    of the full-text index in it (dbstat: fts_text's tables and fts_docs
    with its indexes), per MB of mail;
  - the time of SEARCH with: BODY of a rare word (in 10 messages), of a
    common one, of one in no message, TEXT of the rare word, NOT BODY of
    the rare word, and BODY of a 2-character string (no index: every
    message is read), each the median of REPEAT runs after one warm-up,
    with the number of messages found;
  - then the store as an older Cairn left it: cairnd stopped, every
    document dropped (DELETE FROM fts_docs, fts_text 'delete-all'), and
    started again: the time of the first SEARCH BODY, which indexes the
    whole mailbox first (the log lines of the indexing are printed), and
    of the next one.

--write APPENDs N messages (as above) and prints the time, the session's
CPU time and the bytes it wrote (/proc/PID/io), then the time of an
EXPUNGE of all of them: run it with CAIRN_BUILDDIR set to a build
without the index and to one with it to see what the index costs.

Bodies are pieces of the Debian changelogs under /usr/share/doc (English
prose, names, addresses, version numbers), 300 to 3 000 bytes, with a
header of about 900 bytes (Received, a DKIM-Signature of random base64,
Message-ID); deterministic for one N.  Run as root (cairnd drops to the
account cairn) or as any user (no privilege separation).  DATA_DIR=dir
keeps the server's data directory there, and a later run with the same
DATA_DIR measures the store it finds instead of filling a new one (the
index is rebuilt at the end of every run).
"""

import glob
import gzip
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import cairntest  # noqa: E402

WRITE = len(sys.argv) > 1 and sys.argv[1] == "--write"
if WRITE:
    del sys.argv[1]
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
REPEAT = int(os.environ.get("REPEAT", "5"))
RARE = "xylophone"
COMMON = "package"
ABSENT = "quuxbazfrob"
DATA_DIR = os.environ.get("DATA_DIR")


def corpus():
    text = []
    for f in sorted(glob.glob("/usr/share/doc/*/changelog.Debian.gz")):
        try:
            text.append(gzip.open(f).read().decode("utf-8", "replace"))
        except OSError:
            pass
        if sum(map(len, text)) > 40 * 1024 * 1024:
            break
    big = "\n".join(text)
    if len(big) < 1024 * 1024:
        sys.exit("fts.py: too little text under /usr/share/doc")
    return big


def messages(n):
    rnd = random.Random(n)
    big = corpus()
    pos = 0
    rare = set(rnd.sample(range(n), 10))
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i in range(n):
        size = rnd.randint(300, 3000)
        if pos + size > len(big):
            pos = 0
        body = big[pos:pos + size]
        pos += size
        if i in rare:
            body += "\nplaying the %s tonight\n" % RARE
        sig = "".join(rnd.choice(b64) for _ in range(344))
        subject = " ".join(body[:60].split())
        head = ("Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n"
                "\tby mail.example.com with ESMTPS id %08X\r\n"
                "\tfor <alice@example.com>; Mon, 1 Jan 2024 10:%02d:00 +0000\r\n"
                "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1;\r\n"
                "\tb=%s\r\n"
                "From: Sender %d <sender%d@example.org>\r\n"
                "To: Alice <alice@example.com>\r\n"
                "Subject: %s\r\n"
                "Date: Mon, 1 Jan 2024 10:%02d:00 +0000\r\n"
                "Message-ID: <%016x@example.org>\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "\r\n" % (i % 9, i % 9, i % 250, rnd.getrandbits(32), i % 60,
                          "\r\n\t".join(sig[k:k + 76] for k in range(0, len(sig), 76)),
                          i % 500, i % 500, subject, i % 60, rnd.getrandbits(64)))
        yield (head + body.replace("\r", "").replace("\n", "\r\n") + "\r\n").encode()


def fill(srv):
    c = cairntest.login(srv)
    total = 0
    batch = []
    t0 = time.monotonic()

    def flush():
        for tag in batch:
            _, tagged = c.read_until_tagged(tag)
            assert tagged.startswith(tag + " OK"), tagged
        batch.clear()
    for i, msg in enumerate(messages(N)):
        tag = "a%d" % i
        c.send(b"%s APPEND INBOX {%d+}\r\n" % (tag.encode(), len(msg)) + msg + b"\r\n")
        batch.append(tag)
        total += len(msg)
        if len(batch) == 500:
            flush()
    flush()
    c.close()
    return total, time.monotonic() - t0


def timed(c, text):
    t0 = time.monotonic()
    untagged, tagged = cairntest.cmd(c, text)
    elapsed = time.monotonic() - t0
    assert tagged.startswith("OK"), (text, tagged)
    found = [line for line in untagged if line.startswith("* SEARCH")]
    count = len(found[0].split()) - 2 if found else 0
    return elapsed, count


def searches(srv, label):
    c = cairntest.login(srv)
    cairntest.ok(c, "SELECT INBOX")
    print("\n%s (median of %d, ms; messages found)" % (label, REPEAT))
    for text in ("SEARCH BODY %s" % RARE, "SEARCH BODY %s" % COMMON,
                 "SEARCH BODY %s" % ABSENT, "SEARCH TEXT %s" % RARE,
                 "SEARCH NOT BODY %s" % RARE, "SEARCH BODY ph"):
        timed(c, text)
        runs = [timed(c, text) for _ in range(REPEAT)]
        print("  %-32s %8.1f ms  %6d" % (text, 1000 * statistics.median(r[0] for r in runs),
                                         runs[0][1]))
    c.close()


def du(path):
    out = subprocess.run(["du", "-sb", path], capture_output=True, text=True).stdout
    return int(out.split()[0])


def sizes(srv, mail):
    store = store_dir(srv)
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(store, "index.db"), uri=True)
    rows = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    db.close()
    fts = sum(v for k, v in rows.items()
              if k.startswith("fts_") or k == "sqlite_autoindex_fts_docs_1")
    text = sum(v for k, v in rows.items() if k.startswith("fts_text"))
    docs = fts - text
    mb = mail / 1e6
    print("\nmail %.1f MB in %d messages; blobs/ %.1f MB; index.db %.1f MB"
          % (mb, N, du(os.path.join(store, "blobs")) / 1e6,
             os.path.getsize(os.path.join(store, "index.db")) / 1e6))
    print("full-text index %.1f MB = %.3f MB per MB of mail "
          "(trigrams %.3f, texts kept deflated %.3f)"
          % (fts / 1e6, fts / 1e6 / mb, text / 1e6 / mb, docs / 1e6 / mb))


def forget(srv):
    store = store_dir(srv)
    st = os.stat(store)
    db = sqlite3.connect(os.path.join(store, "index.db"))
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.execute("DELETE FROM fts_docs")
        db.execute("INSERT INTO fts_text (fts_text) VALUES ('delete-all')")
    db.execute("VACUUM")
    db.close()
    for name in os.listdir(store):
        os.chown(os.path.join(store, name), st.st_uid, st.st_gid)


def store_dir(srv):
    return os.path.join(DATA_DIR or os.path.join(srv.dir, "data"), "mail", "alice")


def proc_cpu(pid):
    f = open("/proc/%d/stat" % pid).read().split(")")[-1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def proc_written(pid):
    for line in open("/proc/%d/io" % pid):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def write_costs():
    """--write: what the index costs APPEND and EXPUNGE (compare builds)."""
    cairntest.require_accounts()
    srv = cairntest.Server(**{"log-level": "info"})
    srv.start()
    try:
        srv.add_user("alice", "alice-pw")
        msgs = list(messages(N))
        c = cairntest.login(srv, timeout=600)
        pid = cairntest.serving_child(srv)
        cpu, written, t0 = proc_cpu(pid), proc_written(pid), time.monotonic()
        for start in range(0, N, 500):
            tags = []
            for i in range(start, min(N, start + 500)):
                tags.append("a%d" % i)
                c.send(b"a%d APPEND INBOX {%d+}\r\n" % (i, len(msgs[i])) + msgs[i] + b"\r\n")
            for tag in tags:
                _, tagged = c.read_until_tagged(tag)
                assert tagged.startswith(tag + " OK"), tagged
        print("APPEND of %d: %.1f s, session CPU %.2f s, %.1f MB written (load %.0f)"
              % (N, time.monotonic() - t0, proc_cpu(pid) - cpu,
                 (proc_written(pid) - written) / 1e6, os.getloadavg()[0]))
        cairntest.ok(c, "SELECT INBOX")
        cairntest.ok(c, "STORE 1:* +FLAGS.SILENT (\\Deleted)")
        t0 = time.monotonic()
        cairntest.ok(c, "EXPUNGE")
        print("EXPUNGE of %d: %.0f ms" % (N, 1000 * (time.monotonic() - t0)))
        c.close()
    finally:
        srv.stop()


def main():
    cairntest.require_accounts()
    options = {"log-level": "info"}
    if DATA_DIR:
        options["data-dir"] = '"%s"' % DATA_DIR
    srv = cairntest.Server(**options)
    srv.start()
    try:
        if DATA_DIR and os.path.exists(os.path.join(DATA_DIR, "mail", "alice")):
            db = sqlite3.connect("file:%s?mode=ro" % os.path.join(store_dir(srv), "index.db"),
                                 uri=True)
            mail = db.execute("SELECT sum(size) FROM messages").fetchone()[0]
            db.close()
            print("the store in %s: %d bytes of mail" % (DATA_DIR, mail))
        else:
            srv.add_user("alice", "alice-pw")
            mail, secs = fill(srv)
            print("APPEND of %d messages: %.0f s (%.0f per second)" % (N, secs, N / secs))
        sizes(srv, mail)
        searches(srv, "with the index")
        srv.proc.terminate()
        srv.proc.wait(30)
        srv.log.close()
        forget(srv)
        srv.start()
        c = cairntest.login(srv, timeout=3600)
        cairntest.ok(c, "SELECT INBOX")
        first = timed(c, "SEARCH BODY %s" % RARE)
        second = timed(c, "SEARCH BODY %s" % RARE)
        print("\nan older store: first SEARCH BODY %s %.1f s (indexes the mailbox), "
              "then %.1f ms; %d found" % (RARE, first[0], 1000 * second[0], second[1]))
        for line in srv.log_text().splitlines():
            if "for full-text search" in line:
                print("  " + re.sub(r"^\S+ ", "", line))
        c.close()
        sizes(srv, mail)
    finally:
        srv.stop()


if WRITE:
    write_costs()
else:
    main()
