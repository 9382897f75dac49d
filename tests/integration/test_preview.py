"""PREVIEW (RFC 8970) against the real cairnd: the capability, FETCH
PREVIEW and PREVIEW (LAZY) of plain, HTML, base64 and quoted-printable
messages (decoded, markup and white space gone, at most 200 characters,
cut between characters), UTF-8 text sent as a literal and ASCII quoted,
an empty preview for a message without text, no \\Seen set, and messages
whose preview was not cached (as stored by an older Cairn; made here by
emptying the column in index.db): LAZY answers NIL, without LAZY the
preview is made from the message."""

import base64
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import cmd, expect, login, ok, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

PLAIN = (b"Subject: plain\r\nFrom: a@example.org\r\n\r\n"
         b"  Hello\t there,\r\n\r\n  how are   you?\r\n")
HTML = ("Subject: html\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><head><title>T</title><style>p {}</style></head><body>"
        "<p>Caf\u00e9 &amp; <b>cr</b>\u00e8me&nbsp;br\u00fbl\u00e9e</p>"
        "<!-- hidden --><script>x()</script><div>\u263a</div></body></html>\r\n"
        ).encode()
B64 = (b"Subject: b64\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/alternative; boundary=xx\r\n\r\n"
       b"--xx\r\nContent-Type: text/html\r\n\r\n<p>not this</p>\r\n"
       b"--xx\r\nContent-Type: text/plain; charset=utf-8\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\n" +
       base64.encodebytes("Gr\u00fc\u00dfe aus K\u00f6ln".encode()).replace(b"\n", b"\r\n") +
       b"--xx--\r\n")
QP = (b"Subject: qp\r\nMIME-Version: 1.0\r\n"
      b"Content-Type: text/plain; charset=iso-8859-1\r\n"
      b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      b"Caf=E9 au =\r\nlait\r\n")
IMAGE = (b"Subject: picture\r\nMIME-Version: 1.0\r\nContent-Type: image/png\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n")
LONG = ("Subject: long\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
        "\u00e9t\u00e9 " * 100 + "\r\n").encode()


def append(c, data):
    c.send("ap APPEND INBOX {%d+}\r\n" % len(data))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged("ap")[1]
    assert tagged.startswith("ap OK"), tagged


def read_bytes(c, n):
    while len(c.buf) < n:
        data = c.sock.recv(65536)
        assert data, "connection closed"
        c.buf += data
    out, c.buf = c.buf[:n], c.buf[n:]
    return out


def previews(c, command):
    """{msn: (form, text)} of the PREVIEW items a FETCH answers: form is
    "quoted", "literal" or "nil"; text is str (None for NIL)."""
    c.send("pv %s\r\n" % command)
    out = {}
    while True:
        line = c.readline()
        if line.startswith("pv "):
            assert line.startswith("pv OK"), line
            return out
        m = re.match(r"^\* (\d+) FETCH \(.*PREVIEW (NIL|\"((?:[^\"\\\\]|\\\\.)*)\"|"
                     r"\{(\d+)\}$)", line)
        assert m, line
        msn = int(m.group(1))
        if m.group(2) == "NIL":
            out[msn] = ("nil", None)
        elif m.group(4) is not None:
            text = read_bytes(c, int(m.group(4))).decode("utf-8")
            rest = c.readline()
            assert rest.endswith(")"), rest
            out[msn] = ("literal", text)
        else:
            out[msn] = ("quoted", re.sub(r"\\(.)", r"\1", m.group(3)))


def store_sql(srv, sql):
    """sql on alice's index.db while a session holds it open (see
    test_savedate.py)."""
    db = os.path.join(srv.dir, "data", "mail", "alice", "index.db")
    assert os.path.exists(db + "-wal") and os.path.exists(db + "-shm")
    con = sqlite3.connect(db, timeout=10)
    con.executescript(sql)
    con.close()


WANT = {
    1: ("quoted", "Hello there, how are you?"),
    2: ("literal", "Caf\u00e9 & cr\u00e8me br\u00fbl\u00e9e \u263a"),
    3: ("literal", "Gr\u00fc\u00dfe aus K\u00f6ln"),
    4: ("literal", "Caf\u00e9 au lait"),
    5: ("quoted", ""),
}


def test_preview():
    with server() as srv:
        c = login(srv)
        caps = ok(c, "CAPABILITY")[0]
        assert " PREVIEW" in caps, caps
        for data in (PLAIN, HTML, B64, QP, IMAGE, LONG):
            append(c, data)
        ok(c, "SELECT INBOX")
        got = previews(c, "FETCH 1:* (PREVIEW)")
        for msn, want in WANT.items():
            assert got[msn] == want, (msn, got[msn], want)
        # 200 characters (400 bytes of UTF-8), no space at the end
        form, text = got[6]
        assert form == "literal" and len(text) == 199, (len(text), text)
        assert text == ("\u00e9t\u00e9 " * 50)[:199], text
        # cached: LAZY has it too; every form of the item
        assert previews(c, "FETCH 1:* PREVIEW (LAZY)") == got
        assert previews(c, "FETCH 1:5 (FLAGS PREVIEW (LAZY) UID)") == WANT
        assert previews(c, "UID FETCH 1 PREVIEW") == {1: WANT[1]}
        # PREVIEW sets no \Seen
        u = ok(c, "FETCH 1:* (FLAGS)")
        assert all("\\Seen" not in line for line in u), u
        for bad in ("FETCH 1 (PREVIEW (FUZZY))", "FETCH 1 PREVIEW[]",
                    "FETCH 1 (PREVIEW ())"):
            expect(r"^BAD ", cmd(c, bad)[1])
        c.close()


def test_not_cached():
    with server() as srv:
        c = login(srv)
        for data in (PLAIN, HTML):
            append(c, data)
        # as if stored by a Cairn that did not cache previews
        store_sql(srv, "UPDATE mime_cache SET preview = NULL")
        ok(c, "SELECT INBOX")
        assert previews(c, "FETCH 1:2 (PREVIEW (LAZY))") == {
            1: ("nil", None), 2: ("nil", None)}
        # without LAZY it is made from the message, the same as at APPEND
        assert previews(c, "FETCH 1:2 PREVIEW") == {1: WANT[1], 2: WANT[2]}
        # and not kept: LAZY still has none
        assert previews(c, "FETCH 2 PREVIEW (LAZY)") == {2: ("nil", None)}
        # a message appended now has its own cached
        append(c, QP)
        assert previews(c, "FETCH 3 (PREVIEW (LAZY))") == {3: WANT[4]}
        c.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_preview,
        test_not_cached,
    ])
