"""COMPRESS=DEFLATE (RFC 4978) against the real cairnd, with python's zlib
as the client's raw deflate, over clear text and over implicit TLS:
advertised after login only; COMPRESS before login, without a mechanism or
with an unknown one refused and nothing compressed; then, compressed both
ways, a 3 MB message of varied 8-bit text and binary-ish bytes APPENDed
through a synchronizing literal and FETCHed back byte for byte, several
commands pipelined in one compressed packet, a second COMPRESS answered
NO [COMPRESSIONACTIVE]; commands sent compressed in the same packet as
COMPRESS itself; a garbage stream answered with BYE and a clean close while
the server goes on serving; a stream that inflates hundreds of times over
(a 64 MB line, a 40 MB APPEND) costing the serving child no memory; and what zlib
held, from the session's closing log line."""

import os
import random
import re
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (Client, cmd, expect, fetch_body, login, ok, require_accounts,  # noqa: E402
                       rss_kb, running_mail_server, run_tests, serving_child,
                       wait_for)

# what cairn-imapd(8) says a compressed session holds in zlib, at most
ZLIB_BOUND = 96 * 1024


class Deflated:
    """The socket of a cairntest.Client after COMPRESS: what is sent is
    deflated and sync-flushed (RFC 4978 §4), what arrives is inflated."""

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflate = zlib.decompressobj(-15)
        self.pending = pending      # wire bytes read along with the OK
        self.wire_in = self.plain_in = 0

    def recv(self, n):
        while True:
            if self.pending:
                data, self.pending = self.pending, b""
            else:
                data = self.sock.recv(65536)
                if not data:
                    return b""
            self.wire_in += len(data)
            plain = self.inflate.decompress(data)
            self.plain_in += len(plain)
            if plain:
                return plain

    def wire(self, data):
        return self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)

    def sendall(self, data):
        self.sock.sendall(self.wire(data))

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        self.sock.close()


def start_compress(c, tag="z"):
    """COMPRESS DEFLATE on a logged-in client: the OK comes in clear, and
    the client to use from then on."""
    c.send("%s COMPRESS DEFLATE\r\n" % tag)
    line = c.readline()
    assert line.startswith(tag + " OK"), line
    return Client(Deflated(c.sock, c.buf))


def varied_body(size):
    """About size bytes of a message: lines of words (UTF-8 and Latin-1
    8-bit among them), and blocks of binary-ish bytes (no NUL, no CR/LF
    pairs broken: a NUL in BODY[] would come back as 0x80)."""
    rnd = random.Random(4978)
    words = ("the of mail server deflate window literal compress IMAP "
             "caf\xe9 na\xefve \u20ac \u00fcber \u65e5\u672c").split()
    words = [w.encode("utf-8") for w in words] + [b"\xe9t\xe9", b"\xff\x80\xfe"]
    out = [b"From: bob@example.org\r\nSubject: varied\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n"]
    total = len(out[0])
    while total < size:
        if rnd.random() < 0.005:
            block = bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(500, 4000)))
            line = block.replace(b"\r", b"\x0e").replace(b"\n", b"\x0f") + b"\r\n"
        else:
            line = b" ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 12))) + \
                b" %d\r\n" % rnd.randrange(100000)
        out.append(line)
        total += len(line)
    return b"".join(out)


def exercise(z):
    """Everything a compressed session does, on z (already compressed)."""
    untagged = ok(z, "CAPABILITY")
    assert any("COMPRESS=DEFLATE" in line.split() for line in untagged), untagged
    # a second COMPRESS: the stream is not restarted
    expect(r"^NO \[COMPRESSIONACTIVE\] ", cmd(z, "COMPRESS DEFLATE")[1])
    expect(r"^NO \[COMPRESSIONACTIVE\] ", cmd(z, "COMPRESS deflate")[1])

    # a 3 MB message through a synchronizing literal, compressed
    body = varied_body(3 * 1024 * 1024)
    z.send("a1 APPEND INBOX {%d}\r\n" % len(body))
    expect(r"^\+ ", z.readline())
    z.send(body + b"\r\n")
    expect(r"^a1 OK \[APPENDUID \d+ 1\]", z.read_until_tagged("a1")[1])
    ok(z, "SELECT INBOX")
    before = z.sock.wire_in, z.sock.plain_in
    assert fetch_body(z, 1) == body, "BODY[] differs from what was appended"
    wire, plain = z.sock.wire_in - before[0], z.sock.plain_in - before[1]
    assert plain > len(body) and wire < plain * 0.8, (wire, plain)
    print("  FETCH of %d bytes: %d on the wire" % (plain, wire))

    # commands pipelined in one compressed packet, answered in order
    z.send("p1 NOOP\r\np2 UID FETCH 1 (RFC822.SIZE)\r\np3 STATUS INBOX (MESSAGES)\r\n"
           "p4 APPEND INBOX {5+}\r\nhello\r\np5 NOOP\r\n")
    assert z.read_until_tagged("p1")[1].startswith("p1 OK")
    u, t = z.read_until_tagged("p2")
    assert t.startswith("p2 OK") and any("RFC822.SIZE %d" % len(body) in x for x in u), (u, t)
    u, t = z.read_until_tagged("p3")
    assert t.startswith("p3 OK") and u == ['* STATUS "INBOX" (MESSAGES 1)'], (u, t)
    u4, t = z.read_until_tagged("p4")
    expect(r"^p4 OK \[APPENDUID \d+ 2\]", t)
    u5, t = z.read_until_tagged("p5")
    assert t.startswith("p5 OK") and "* 2 EXISTS" in u4 + u5, (u4, u5, t)
    assert fetch_body(z, 2) == b"hello"


def session_log(srv, count=1):
    """The closing COMPRESS lines of the sessions so far, as numbers."""
    pattern = (r"COMPRESS: (\d+) bytes in from (\d+) on the wire, (\d+) out as "
               r"(\d+); zlib held at most (\d+) bytes")
    found = wait_for(lambda: len(re.findall(pattern, srv.log_text())) >= count and
                     re.findall(pattern, srv.log_text()),
                     what="the end of the compressed session")
    return [tuple(int(x) for x in f) for f in found]


def plain_login(srv, timeout=60):
    """A client logged in over clear text (allow-plain-text-auth)."""
    c = srv.connect(timeout=timeout)
    c.readline()
    t = c.command("l", "LOGIN alice alice-pw")[1]
    assert t.startswith("l OK"), t
    return c


def logout(z):
    u, t = z.command("lo", "LOGOUT")
    assert t.startswith("lo OK") and u == ["* BYE Logging out"], (u, t)
    assert z.closed()
    z.close()


def test_advertised_after_login_only():
    with running_mail_server(**{"allow-plain-text-auth": True}) as srv:
        c = srv.connect()
        greeting = c.readline()
        assert "COMPRESS" not in greeting, greeting
        expect(r"^c0 BAD COMPRESS is not valid in this state",
               c.command("c0", "COMPRESS DEFLATE")[1])
        u, t = c.command("c1", "CAPABILITY")
        assert "COMPRESS" not in u[0], u
        u, t = c.command("l", "LOGIN alice alice-pw")
        expect(r"^l OK \[CAPABILITY [^]]* COMPRESS=DEFLATE[ \]]", t)
        u, t = c.command("c2", "CAPABILITY")
        assert "COMPRESS=DEFLATE" in u[0].split(), u
        # refused: nothing is compressed after these
        expect(r"^c3 BAD ", c.command("c3", "COMPRESS")[1])
        expect(r"^c4 BAD Unknown compression mechanism", c.command("c4", "COMPRESS LZMA")[1])
        expect(r"^c5 BAD ", c.command("c5", "COMPRESS DEFLATE DEFLATE")[1])
        expect(r"^c6 BAD ", c.command("c6", 'COMPRESS "DEFLATE"')[1])
        assert c.command("c7", "NOOP")[1] == "c7 OK NOOP completed"
        # any letter case (RFC 4978 §5: an ABNF string)
        z = start_compress(c, "c8")
        ok(z, "NOOP")
        ok(z, "SELECT INBOX")
        # in the selected state too
        expect(r"^NO \[COMPRESSIONACTIVE\] ", cmd(z, "COMPRESS DEFLATE")[1])
        logout(z)


def test_clear_text():
    with running_mail_server(**{"allow-plain-text-auth": True}) as srv:
        z = start_compress(plain_login(srv))
        exercise(z)
        logout(z)
        (in_plain, in_wire, out_plain, out_wire, held), = session_log(srv)
        assert in_plain > 3 * 1024 * 1024 and out_plain > 3 * 1024 * 1024
        assert out_wire < out_plain and in_wire < in_plain
        assert held <= ZLIB_BOUND, held


def test_tls():
    with running_mail_server() as srv:
        z = start_compress(login(srv))
        exercise(z)
        logout(z)
        (in_plain, in_wire, out_plain, out_wire, held), = session_log(srv)
        assert out_wire < out_plain and held <= ZLIB_BOUND, (out_wire, out_plain, held)


def test_idle_pushes_are_flushed():
    """IDLE inside COMPRESS: "+ idling" and each push arrive at once (each
    flush ends with a sync flush), and DONE inflates like any command."""
    with running_mail_server() as srv:
        z = start_compress(login(srv))
        other = login(srv)
        ok(z, "SELECT INBOX")
        z.send("i IDLE\r\n")
        assert z.readline().startswith("+ "), "no continuation for IDLE"
        data = b"Subject: pushed\r\n\r\nbody\r\n"
        other.send("a APPEND INBOX {%d+}\r\n" % len(data))
        other.send(data + b"\r\n")
        assert other.read_until_tagged("a")[1].startswith("a OK")
        z.sock.settimeout(2)
        assert z.readline() == "* 1 EXISTS"
        z.send("DONE\r\n")
        assert z.read_until_tagged("i")[1] == "i OK IDLE terminated"
        logout(z)
        other.close()


def test_commands_in_the_compress_packet():
    """A client should wait for the OK (RFC 4978 §3); one that does not
    has its next commands, compressed, in the same packet: they are
    inflated, not parsed as they are."""
    with running_mail_server(**{"allow-plain-text-auth": True}) as srv:
        for c in (login(srv), plain_login(srv)):
            d = Deflated(c.sock)
            c.send(b"z COMPRESS DEFLATE\r\n" + d.wire(b"n1 NOOP\r\nn2 CAPABILITY\r\n"))
            line = c.readline()
            assert line == "z OK DEFLATE active", line
            d.pending = c.buf
            z = Client(d)
            assert z.read_until_tagged("n1")[1] == "n1 OK NOOP completed"
            u, t = z.read_until_tagged("n2")
            assert t.startswith("n2 OK") and "COMPRESS=DEFLATE" in u[0], (u, t)
            logout(z)


def test_garbage_stream():
    with running_mail_server() as srv:
        z = start_compress(login(srv))
        ok(z, "NOOP")
        # a valid command, then bytes that are no deflate stream (block
        # type 3 is reserved, RFC 1951 §3.2.3)
        z.sock.sock.sendall(z.sock.wire(b"g1 NOOP\r\n") + b"\xff\xff\xff\xff\x00\x12garbage")
        assert z.read_until_tagged("g1")[1] == "g1 OK NOOP completed"
        assert z.readline() == "* BYE Invalid compressed data"
        assert z.closed()
        z.close()
        wait_for(lambda: "COMPRESS: bad data from the client" in srv.log_text(),
                 what="the log of the bad stream")
        # the server goes on: a new session, compressed too
        z = start_compress(login(srv))
        ok(z, "NOOP")
        logout(z)
        log = srv.log_text()
        assert "killed by signal" not in log and "exited with status" not in log, log


def test_inflation_is_bounded():
    """Some 100 kB that inflate to a 64 MB line, and as much to a 40 MB
    message: the serving child's memory does not grow with them."""
    with running_mail_server() as srv:
        c = login(srv, timeout=120)
        z = start_compress(c)
        ok(z, "NOOP")
        child = serving_child(srv)
        before = rss_kb(child)
        line = b"x" * (64 * 1024 * 1024)
        wire = z.sock.wire(b"b1 NOOP " + line + b"\r\n")
        sent = len(wire)
        assert len(wire) < len(line) // 500, len(wire)
        z.sock.sock.sendall(wire)
        expect(r"^b1 BAD .*too long", z.read_until_tagged("b1")[1])
        assert cmd(z, "NOOP")[1] == "OK NOOP completed"
        text = (b"A" * 998 + b"\r\n") * (40 * 1024 * 1024 // 1000)
        body = b"Subject: big and small\r\n\r\n" + text
        wire = z.sock.wire(b"b2 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
        sent += len(wire)
        assert len(wire) < len(body) // 300, len(wire)
        z.sock.sock.sendall(wire)
        expect(r"^b2 OK \[APPENDUID \d+ 1\]", z.read_until_tagged("b2")[1])
        after = rss_kb(child)
        print("  VmRSS of the child: %d kB before, %d kB after 104 MB inflated "
              "from %d kB" % (before, after, sent // 1024))
        assert after - before < 4 * 1024, (before, after)
        ok(z, "SELECT INBOX")
        u = ok(z, "FETCH 1 (RFC822.SIZE)")
        assert u == ["* 1 FETCH (RFC822.SIZE %d)" % len(body)], u
        logout(z)
        (_, _, _, _, held), = session_log(srv)
        assert held <= ZLIB_BOUND, held


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_advertised_after_login_only,
        test_clear_text,
        test_tls,
        test_idle_pushes_are_flushed,
        test_commands_in_the_compress_packet,
        test_garbage_stream,
        test_inflation_is_bounded,
    ])
