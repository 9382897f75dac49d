"""FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; RFC 3501; RFC 3516 BINARY;
RFC 7162 MODSEQ, CHANGEDSINCE) against the real cairnd: every attribute
and section on messages APPENDed for the purpose (plain text,
multipart/alternative with quoted-printable, multipart/mixed with a base64
attachment and message/rfc822 parts, 8-bit headers, an unknown transfer
encoding, NUL in a decoded body), partials, the implicit \\Seen against
PEEK and EXAMINE, UID FETCH, the macros, CHANGEDSINCE, a message another
session expunged, BAD cases, a 20 MB message byte for byte, imaplib, and
ENVELOPE / BODYSTRUCTURE / sections compared with Dovecot's answers when
Dovecot's imap binary is installed (run pre-authenticated on stdin)."""

import base64
import itertools
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import login, require_accounts, run_tests  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402

_tags = itertools.count(1)
CRLF = b"\r\n"


def lines(*parts):
    return CRLF.join(p.encode() if isinstance(p, str) else p for p in parts)


# ---- the messages --------------------------------------------------------------

PLAIN = lines(
    "From: Alice Example <alice@example.com>",
    "To: Bob <bob@example.org>, carol@example.net",
    "Cc: \"Dave, D.\" <dave@example.com>",
    "Subject: Plain text message",
    "Date: Mon, 7 Jul 2024 10:11:12 +0200",
    "Message-ID: <plain-1@example.com>",
    "X-Folded: first",
    "  continued",
    "",
    "Hello Bob,",
    "",
    "This is a plain message.",
    "-- ",
    "Alice", "")

ALT = lines(
    "From: alice@example.com",
    "To: bob@example.org",
    "Subject: Alternative",
    "Date: Tue, 8 Jul 2024 01:02:03 -0000",
    "MIME-Version: 1.0",
    "Content-Type: multipart/alternative; boundary=\"b1\"",
    "",
    "preamble",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Caf=C3=A9 au lait =3D tasty, soft=",
    "break here.",
    "--b1",
    "Content-Type: text/html; charset=utf-8",
    "",
    "<p>Caf\xe9</p>",
    "--b1--",
    "epilogue", "")

ATTACHMENT = bytes(range(256)) * 8
_b64 = base64.b64encode(ATTACHMENT).decode()
INNER = lines(
    "From: Inner Sender <inner@example.com>",
    "To: bob@example.org",
    "Subject: Inner message",
    "Date: Thu, 10 Jul 2024 12:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: multipart/alternative; boundary=\"inner\"",
    "",
    "--inner",
    "Content-Type: text/plain",
    "",
    "inner plain",
    "--inner",
    "Content-Type: text/html",
    "",
    "<b>inner html</b>",
    "--inner--",
    "")
MIXED = lines(
    "From: =?utf-8?q?J=C3=B6rg?= <jorg@example.com>",
    "To: bob@example.org",
    "Subject: =?iso-8859-1?q?Gr=FC=DFe?= with attachment",
    "Date: Wed, 9 Jul 2024 23:59:59 +0930",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=\"outer\"",
    "",
    "--outer",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "See attached.",
    "--outer",
    "Content-Type: application/octet-stream; name=\"data.bin\"",
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: attachment; filename=\"data.bin\"",
    "Content-ID: <att1@example.com>",
    "",
    *[_b64[i:i + 76] for i in range(0, len(_b64), 76)],
    "--outer",
    "Content-Type: message/rfc822",
    "Content-Description: forwarded",
    "",
    INNER,
    "--outer",
    "Content-Type: message/rfc822",
    "",
    "From: simple@example.com",
    "Subject: simple inner",
    "",
    "simple inner body",
    "--outer--", "")

EIGHTBIT = lines(
    b"From: \xc3\x9cser <user@example.com>",
    "To: bob@example.org",
    b"Subject: 8-bit h\xc3\xa9ader",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    b"body with 8-bit: \xc3\xa9\xc3\xa8", "")

UNKNOWN_CTE = lines(
    "From: a@example.com",
    "Subject: unknown cte",
    "MIME-Version: 1.0",
    "Content-Type: text/plain",
    "Content-Transfer-Encoding: x-uuencode",
    "",
    "begin 644 x", "end", "")

NUL_DATA = b"ab\x00cd\r\nef"
NUL_B64 = lines(
    "From: a@example.com",
    "Subject: nul binary",
    "MIME-Version: 1.0",
    "Content-Type: application/octet-stream",
    "Content-Transfer-Encoding: base64",
    "",
    base64.b64encode(NUL_DATA).decode(), "")

NUL_RAW = lines(
    "From: a@example.com",
    "Subject: raw nul",
    "Content-Type: application/octet-stream",
    "Content-Transfer-Encoding: binary",
    "",
    NUL_DATA, "")

MESSAGES = [PLAIN, ALT, MIXED, EIGHTBIT, UNKNOWN_CTE, NUL_B64, NUL_RAW]
DATE = "07-Jul-2024 10:11:12 +0200"


def split_header(msg):
    i = msg.index(b"\r\n\r\n") + 4
    return msg[:i], msg[i:]


# ---- a client that reads literals ------------------------------------------------

class Literal8(bytes):
    """A literal sent as ~{n}."""


def read_response(c):
    """One whole response, literals included, as the raw bytes without the
    final CRLF."""
    out = b""
    while True:
        while b"\r\n" not in c.buf:
            data = c.sock.recv(1 << 20)
            if not data:
                raise EOFError("connection closed: %r" % (out + c.buf)[-300:])
            c.buf += data
        line, c.buf = c.buf.split(b"\r\n", 1)
        out += line
        m = re.search(rb"~?\{(\d+)\}$", line)
        if not m:
            return out
        n = int(m.group(1))
        while len(c.buf) < n:
            data = c.sock.recv(1 << 20)
            if not data:
                raise EOFError("connection closed in a literal")
            c.buf += data
        out += b"\r\n" + c.buf[:n]
        c.buf = c.buf[n:]


def parse_value(b, i):
    if b[i:i + 1] == b"(":
        items, i = [], i + 1
        while b[i:i + 1] != b")":
            v, i = parse_value(b, i)
            items.append(v)
            if b[i:i + 1] == b" ":
                i += 1
        return items, i + 1
    if b[i:i + 1] == b'"':
        out, i = b"", i + 1
        while b[i:i + 1] != b'"':
            if b[i:i + 1] == b"\\":
                i += 1
            out += b[i:i + 1]
            i += 1
        return out, i + 1
    m = re.compile(rb"(~?)\{(\d+)\}\r\n").match(b, i)
    if m:
        start = m.end()
        data = b[start:start + int(m.group(2))]
        return (Literal8(data) if m.group(1) else data), start + int(m.group(2))
    m = re.compile(rb"[^ ()]+").match(b, i)
    word = m.group(0).decode()
    return (None if word == "NIL" else word), m.end()


def parse_key(b, i):
    """A fetch item name, "BODY[HEADER.FIELDS (A B)]<0>" whole."""
    m = re.compile(rb"[A-Z0-9.]+").match(b, i)
    j = m.end()
    if b[j:j + 1] == b"[":
        depth, quoted = 0, False
        while True:
            ch = b[j:j + 1]
            if quoted and ch == b"\\":
                j += 1
            elif ch == b'"':
                quoted = not quoted
            elif not quoted and ch == b"[":
                depth += 1
            elif not quoted and ch == b"]":
                depth -= 1
                if depth == 0:
                    j += 1
                    break
            j += 1
        if b[j:j + 1] == b"<":
            j = b.index(b">", j) + 1
    return b[i:j].decode(), j


def parse_fetch(raw):
    """(msn, [(name, value)]) of "* n FETCH (...)"."""
    m = re.match(rb"\* (\d+) FETCH \(", raw)
    assert m, raw[:200]
    i, items = m.end(), []
    while raw[i:i + 1] != b")":
        key, i = parse_key(raw, i)
        assert raw[i:i + 1] == b" ", raw[i - 20:i + 20]
        value, i = parse_value(raw, i + 1)
        items.append((key, value))
        if raw[i:i + 1] == b" ":
            i += 1
    assert i + 1 == len(raw), raw[i:i + 50]
    return int(m.group(1)), items


def command(c, text):
    """Send a command; ([raw untagged responses], tagged text without tag)."""
    tag = "f%d" % next(_tags)
    c.send("%s %s\r\n" % (tag, text))
    untagged = []
    while True:
        raw = read_response(c)
        if raw.startswith(tag.encode() + b" "):
            return untagged, raw[len(tag) + 1:].decode("utf-8", "replace")
        untagged.append(raw)


def fetch(c, text, status="OK"):
    """FETCH / UID FETCH: ({msn: [(name, value)]}, other untagged, tagged)."""
    untagged, tagged = command(c, text)
    assert tagged.startswith(status), (text, tagged)
    out, other = {}, []
    for raw in untagged:
        if re.match(rb"\* \d+ FETCH ", raw):
            msn, items = parse_fetch(raw)
            assert msn not in out, "two responses for %d" % msn
            out[msn] = items
        else:
            other.append(raw.decode("utf-8", "replace"))
    return out, other, tagged


def fetch_one(c, msn, items):
    """The items of one message, as a dict (names must be distinct)."""
    got = fetch(c, "FETCH %d %s" % (msn, items))[0]
    assert list(got) == [msn], got
    return dict(got[msn])


def bad(c, text, why):
    untagged, tagged = command(c, text)
    assert tagged.startswith("BAD"), (text, tagged)
    assert why in tagged, (text, tagged, why)
    assert not any(re.match(rb"\* \d+ FETCH", u) for u in untagged), untagged


def append(c, data, flags="", date=None, mailbox="INBOX"):
    args = mailbox
    if flags:
        args += " " + flags
    if date:
        args += ' "%s"' % date
    tag = "a%d" % next(_tags)
    c.send(("%s APPEND %s {%d+}\r\n" % (tag, args, len(data))).encode() + data + CRLF)
    tagged = c.read_until_tagged(tag)[1]
    assert " OK " in tagged, tagged
    return int(re.search(r"APPENDUID \d+ (\d+)", tagged).group(1))


def loaded(srv, select="SELECT INBOX"):
    """A logged-in connection with MESSAGES appended (UIDs 1..6), selected."""
    c = login(srv)
    for i, msg in enumerate(MESSAGES):
        assert append(c, msg, date=DATE) == i + 1
    _, tagged = command(c, select)
    assert tagged.startswith("OK"), tagged
    return c


# ---- the tests ---------------------------------------------------------------------

def test_simple_items():
    with server() as srv:
        c = login(srv)
        append(c, PLAIN, flags=r"(\Flagged $Important)", date=DATE)
        append(c, ALT, date="01-Feb-2023 23:04:05 -0330")
        command(c, "SELECT INBOX")
        got = fetch(c, "FETCH 1:2 (FLAGS INTERNALDATE RFC822.SIZE UID)")[0]
        assert got[1] == [("FLAGS", ["\\Flagged", "\\Recent", "$Important"]),
                          ("INTERNALDATE", DATE.encode()),
                          ("RFC822.SIZE", str(len(PLAIN))), ("UID", "1")], got[1]
        assert got[2] == [("FLAGS", ["\\Recent"]),
                          ("INTERNALDATE", b"01-Feb-2023 23:04:05 -0330"),
                          ("RFC822.SIZE", str(len(ALT))), ("UID", "2")], got[2]
        # one response per message, in sequence order, items as asked
        got = fetch(c, "FETCH 2,1 (RFC822.SIZE FLAGS)")[0]
        assert list(got) == [1, 2] and [k for k, _ in got[1]] == ["RFC822.SIZE", "FLAGS"]
        # a single attribute without parentheses, any case, duplicates once
        assert fetch(c, "FETCH 1 flags")[0][1][0][0] == "FLAGS"
        assert [k for k, _ in fetch(c, "FETCH 1 (UID FLAGS uid FLAGS)")[0][1]] == \
            ["UID", "FLAGS"]
        c.close()


def test_macros():
    with server() as srv:
        c = loaded(srv)
        names = lambda macro: [k for k, _ in fetch(c, "FETCH 1 " + macro)[0][1]]  # noqa: E731
        assert names("FAST") == ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]
        assert names("all") == ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"]
        assert names("FULL") == ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]
        assert [k for k, _ in fetch(c, "UID FETCH 1 FAST")[0][1]] == \
            ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE"]
        c.close()


# Dovecot 2.3's answers for the same messages (see test_against_dovecot).
ENVELOPES = {
    1: b'("Mon, 7 Jul 2024 10:11:12 +0200" "Plain text message" '
       b'(("Alice Example" NIL "alice" "example.com")) '
       b'(("Alice Example" NIL "alice" "example.com")) '
       b'(("Alice Example" NIL "alice" "example.com")) '
       b'(("Bob" NIL "bob" "example.org")(NIL NIL "carol" "example.net")) '
       b'(("Dave, D." NIL "dave" "example.com")) NIL NIL "<plain-1@example.com>")',
    3: b'("Wed, 9 Jul 2024 23:59:59 +0930" "=?iso-8859-1?q?Gr=FC=DFe?= with attachment" '
       b'(("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.com")) '
       b'(("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.com")) '
       b'(("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.com")) '
       b'((NIL NIL "bob" "example.org")) NIL NIL NIL NIL)',
}
BODYSTRUCTURES = {
    1: b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 52 5 NIL NIL NIL NIL)',
    2: b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 47 1 NIL NIL NIL NIL)'
       b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 12 0 NIL NIL NIL NIL) '
       b'"alternative" ("boundary" "b1") NIL NIL NIL)',
    3: b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 0 NIL NIL NIL NIL)'
       b'("application" "octet-stream" ("name" "data.bin") "<att1@example.com>" NIL '
       b'"base64" 2802 NIL ("attachment" ("filename" "data.bin")) NIL NIL)'
       b'("message" "rfc822" NIL NIL "forwarded" "7bit" 316 '
       b'("Thu, 10 Jul 2024 12:00:00 +0000" "Inner message" '
       b'(("Inner Sender" NIL "inner" "example.com")) '
       b'(("Inner Sender" NIL "inner" "example.com")) '
       b'(("Inner Sender" NIL "inner" "example.com")) '
       b'((NIL NIL "bob" "example.org")) NIL NIL NIL NIL) '
       b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0 NIL NIL NIL NIL)'
       b'("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 17 0 NIL NIL NIL NIL) '
       b'"alternative" ("boundary" "inner") NIL NIL NIL) 16 NIL NIL NIL NIL)'
       b'("message" "rfc822" NIL NIL NIL "7bit" 68 '
       b'(NIL "simple inner" ((NIL NIL "simple" "example.com")) '
       b'((NIL NIL "simple" "example.com")) ((NIL NIL "simple" "example.com")) '
       b'NIL NIL NIL NIL NIL) '
       b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 0 NIL NIL NIL NIL) '
       b'3 NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)',
}
BODY_2 = (b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 47 1)'
          b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 12 0) "alternative")')


def raw_item(c, msn, item):
    """The raw text of one non-literal item in "* msn FETCH (item ...)"."""
    untagged, tagged = command(c, "FETCH %d %s" % (msn, item))
    assert tagged.startswith("OK"), tagged
    prefix = b"* %d FETCH (%s " % (msn, item.encode())
    assert len(untagged) == 1 and untagged[0].startswith(prefix), untagged
    assert untagged[0].endswith(b")")
    return untagged[0][len(prefix):-1]


def test_envelope_and_bodystructure():
    with server() as srv:
        c = loaded(srv)
        for msn, want in ENVELOPES.items():
            assert raw_item(c, msn, "ENVELOPE") == want, msn
        for msn, want in BODYSTRUCTURES.items():
            assert raw_item(c, msn, "BODYSTRUCTURE") == want, msn
        assert raw_item(c, 2, "BODY") == BODY_2
        # 8-bit header text goes as literals
        env = fetch_one(c, 4, "ENVELOPE")["ENVELOPE"]
        assert env[1] == b"8-bit h\xc3\xa9ader", env
        assert env[2][0][0] == b"\xc3\x9cser", env
        # BODY and BODYSTRUCTURE side by side, with the rest
        items = fetch_one(c, 3, "(BODYSTRUCTURE UID BODY ENVELOPE)")
        assert list(items) == ["BODYSTRUCTURE", "UID", "BODY", "ENVELOPE"]
        assert len(items["BODYSTRUCTURE"]) == 9 and len(items["BODY"]) == 5  # 4 parts, "mixed", ext
        c.close()


def test_sections():
    with server() as srv:
        c = loaded(srv)
        header, text = split_header(MIXED)
        inner_header, inner_text = split_header(INNER)

        def peek(msn, sec):
            return fetch_one(c, msn, "BODY.PEEK[%s]" % sec)["BODY[%s]" % sec.upper()]

        assert peek(3, "") == MIXED
        assert peek(3, "HEADER") == header
        assert peek(3, "TEXT") == text
        assert peek(3, "1") == b"See attached."
        assert peek(3, "1.MIME") == b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        assert base64.b64decode(peek(3, "2")) == ATTACHMENT
        assert peek(3, "2.MIME").startswith(b"Content-Type: application/octet-stream")
        assert peek(3, "3") == INNER
        assert peek(3, "3.MIME") == \
            b"Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n"
        assert peek(3, "3.HEADER") == inner_header
        assert peek(3, "3.TEXT") == inner_text
        assert peek(3, "3.1") == b"inner plain"
        assert peek(3, "3.2") == b"<b>inner html</b>"
        assert peek(3, "3.2.MIME") == b"Content-Type: text/html\r\n\r\n"
        assert peek(3, "4.TEXT") == b"simple inner body"
        assert peek(3, "4.HEADER") == b"From: simple@example.com\r\nSubject: simple inner\r\n\r\n"
        assert peek(3, "4.1") == b"simple inner body"
        # a part that is not there, HEADER of a part that is no message: empty
        for sec in ("9", "3.9.9", "1.HEADER", "1.TEXT", "2.3"):
            assert peek(3, sec) == b"", sec
        # a message that is not multipart has one part, its body
        _, plain_text = split_header(PLAIN)
        assert peek(1, "1") == plain_text
        assert peek(1, "1.MIME") == split_header(PLAIN)[0]
        # quoted-printable and 8-bit come as stored
        assert peek(2, "1") == b"Caf=C3=A9 au lait =3D tasty, soft=\r\nbreak here."
        assert peek(4, "TEXT") == b"body with 8-bit: \xc3\xa9\xc3\xa8\r\n"
        # several sections in one response, in the order asked
        items = fetch(c, "FETCH 3 (BODY.PEEK[3.1] FLAGS BODY.PEEK[1] BODY.PEEK[TEXT])")[0][3]
        assert [k for k, _ in items] == ["BODY[3.1]", "FLAGS", "BODY[1]", "BODY[TEXT]"]
        # RFC822 forms (IMAP4rev1)
        items = fetch_one(c, 1, "(RFC822.HEADER RFC822.SIZE)")
        assert items == {"RFC822.HEADER": split_header(PLAIN)[0],
                         "RFC822.SIZE": str(len(PLAIN))}
        assert fetch_one(c, 1, "RFC822.TEXT")["RFC822.TEXT"] == plain_text
        assert fetch_one(c, 1, "RFC822")["RFC822"] == PLAIN
        c.close()


def test_header_fields():
    with server() as srv:
        c = loaded(srv)
        items = fetch_one(c, 1, "BODY.PEEK[HEADER.FIELDS (subject FROM x-folded x-none)]")
        assert items == {"BODY[HEADER.FIELDS (SUBJECT FROM X-FOLDED X-NONE)]":
                         b"From: Alice Example <alice@example.com>\r\n"
                         b"Subject: Plain text message\r\n"
                         b"X-Folded: first\r\n  continued\r\n\r\n"}, items
        items = fetch_one(c, 1, "BODY.PEEK[HEADER.FIELDS.NOT (From To Cc Subject "
                                "\"Message-ID\" X-Folded)]")
        assert items == {'BODY[HEADER.FIELDS.NOT (FROM TO CC SUBJECT "MESSAGE-ID" '
                         'X-FOLDED)]': b"Date: Mon, 7 Jul 2024 10:11:12 +0200\r\n\r\n"}
        # a field list that matches nothing is the blank line alone
        assert fetch_one(c, 1, "BODY.PEEK[HEADER.FIELDS (X-NONE)]") == \
            {"BODY[HEADER.FIELDS (X-NONE)]": b"\r\n"}
        # of an encapsulated message, with a partial
        items = fetch_one(c, 3, "BODY.PEEK[3.HEADER.FIELDS (SUBJECT)]<2.7>")
        assert items == {"BODY[3.HEADER.FIELDS (SUBJECT)]<2>": b"bject: "}, items
        # 8-bit header bytes as they are
        assert fetch_one(c, 4, "BODY.PEEK[HEADER.FIELDS (SUBJECT)]") == \
            {"BODY[HEADER.FIELDS (SUBJECT)]": b"Subject: 8-bit h\xc3\xa9ader\r\n\r\n"}
        c.close()


def test_partial():
    with server() as srv:
        c = loaded(srv)
        header, text = split_header(MIXED)
        for origin, octets in ((0, 1), (0, 10), (5, 20), (len(MIXED) - 3, 10),
                               (len(MIXED), 5), (len(MIXED) + 100, 5),
                               (99999999999, 1), (0, 4294967295)):
            items = fetch_one(c, 3, "BODY.PEEK[]<%d.%d>" % (origin, octets))
            assert items == {"BODY[]<%d>" % origin: MIXED[origin:origin + octets]}, \
                (origin, octets, items)
        assert fetch_one(c, 3, "BODY.PEEK[TEXT]<3.4>") == {"BODY[TEXT]<3>": text[3:7]}
        assert fetch_one(c, 3, "BODY.PEEK[3.1]<6.100>") == {"BODY[3.1]<6>": b"plain"}
        assert fetch_one(c, 3, "BINARY.PEEK[2]<250.10>") == \
            {"BINARY[2]<250>": ATTACHMENT[250:260]}
        assert fetch_one(c, 2, "BINARY.PEEK[1]<0.4>") == {"BINARY[1]<0>": b"Caf\xc3"}
        c.close()


def test_binary():
    with server() as srv:
        c = loaded(srv)
        items = fetch_one(c, 3, "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1] "
                                "BINARY.SIZE[1])")
        assert items["BINARY[2]"] == ATTACHMENT
        assert isinstance(items["BINARY[2]"], Literal8)   # it holds NUL
        assert items["BINARY.SIZE[2]"] == str(len(ATTACHMENT))
        assert items["BINARY[1]"] == b"See attached." and \
            not isinstance(items["BINARY[1]"], Literal8)
        assert items["BINARY.SIZE[1]"] == "13"
        # quoted-printable decoded, soft line break joined
        items = fetch_one(c, 2, "(BINARY.PEEK[1] BINARY.SIZE[1])")
        assert items == {"BINARY[1]": "Café au lait = tasty, softbreak here.".encode(),
                         "BINARY.SIZE[1]": "38"}, items
        items = fetch_one(c, 6, "(BINARY.PEEK[1] BINARY.SIZE[1])")
        assert items == {"BINARY[1]": NUL_DATA, "BINARY.SIZE[1]": str(len(NUL_DATA))}
        assert isinstance(items["BINARY[1]"], Literal8)
        # 8bit is the identity; a missing part is empty
        assert fetch_one(c, 4, "BINARY.PEEK[1]")["BINARY[1]"] == \
            b"body with 8-bit: \xc3\xa9\xc3\xa8\r\n"
        assert fetch_one(c, 3, "(BINARY.PEEK[9] BINARY.SIZE[9])") == \
            {"BINARY[9]": b"", "BINARY.SIZE[9]": "0"}
        # BINARY[] is the message as it is
        assert fetch_one(c, 3, "(BINARY.PEEK[] BINARY.SIZE[])") == \
            {"BINARY[]": MIXED, "BINARY.SIZE[]": str(len(MIXED))}
        # RFC 3516 4.3: an encoding we cannot undo
        for item in ("BINARY.PEEK[1]", "BINARY.SIZE[1]", "(FLAGS BINARY.PEEK[1])"):
            got, _, tagged = fetch(c, "FETCH 5 %s" % item, status="NO")
            assert got == {} and tagged.startswith("NO [UNKNOWN-CTE]"), (item, tagged)
        # ... but BODY of it is fine, and so are the other messages
        assert fetch_one(c, 5, "BODY.PEEK[1]")["BODY[1]"] == b"begin 644 x\r\nend\r\n"
        got, _, tagged = fetch(c, "FETCH 4:6 BINARY.SIZE[1]", status="NO")
        assert list(got) == [4] and "[UNKNOWN-CTE]" in tagged, (got, tagged)
        # NUL may only travel in literal8: in BODY it becomes 0x80 (as Dovecot)
        items = fetch_one(c, 7, "(BODY.PEEK[TEXT] BINARY.PEEK[1] BODY.PEEK[])")
        assert items["BODY[TEXT]"] == NUL_DATA.replace(b"\0", b"\x80") + CRLF
        assert items["BODY[]"] == NUL_RAW.replace(b"\0", b"\x80")
        assert items["BINARY[1]"] == NUL_DATA + CRLF
        assert isinstance(items["BINARY[1]"], Literal8)
        # BINARY without PEEK sets \Seen
        items = fetch_one(c, 6, "BINARY[1]")
        assert items["FLAGS"] == ["\\Seen", "\\Recent"], items
        c.close()


def flags_of(c, msn):
    return fetch_one(c, msn, "FLAGS")["FLAGS"]


def test_implicit_seen():
    with server() as srv:
        c = loaded(srv)
        # PEEK, RFC822.HEADER, BINARY.PEEK, BINARY.SIZE, structure: no \Seen
        fetch(c, "FETCH 1:6 (BODY.PEEK[] BODY.PEEK[1] RFC822.HEADER RFC822.SIZE "
                 "ENVELOPE BODYSTRUCTURE BINARY.PEEK[1] BINARY.SIZE[1])", status="NO")
        fetch(c, "FETCH 1:4 (BODY.PEEK[] RFC822.HEADER BINARY.PEEK[1] BINARY.SIZE[1])")
        for msn in range(1, 7):
            assert flags_of(c, msn) == ["\\Recent"], msn
        # BODY[...] sets it and says so, FLAGS first (after UID)
        got = fetch(c, "UID FETCH 1 BODY[HEADER]")[0]
        assert [k for k, _ in got[1]] == ["UID", "FLAGS", "BODY[HEADER]"], got
        assert dict(got[1])["FLAGS"] == ["\\Seen", "\\Recent"]
        # already seen: no FLAGS of its own accord
        assert [k for k, _ in fetch(c, "FETCH 1 BODY[TEXT]")[0][1]] == ["BODY[TEXT]"]
        # asked-for FLAGS stays where it was asked, with the new flag
        got = fetch(c, "FETCH 2 (BODY[1] FLAGS)")[0][2]
        assert got[0][0] == "BODY[1]" and got[1] == ("FLAGS", ["\\Seen", "\\Recent"]), got
        # RFC822 and RFC822.TEXT set it too
        assert fetch_one(c, 3, "RFC822.TEXT")["FLAGS"] == ["\\Seen", "\\Recent"]
        assert fetch_one(c, 4, "RFC822")["FLAGS"] == ["\\Seen", "\\Recent"]
        # several messages at once, only the unseen ones get FLAGS
        got = fetch(c, "FETCH 1:6 BODY[1]<0.1>")[0]
        assert [("FLAGS" in dict(got[m])) for m in range(1, 7)] == \
            [False, False, False, False, True, True], got
        # another session sees the change
        d = login(srv)
        got = fetch(d, "EXAMINE INBOX", status="OK")
        assert flags_of(d, 6) == ["\\Seen"]
        d.close()
        c.close()


def test_examine_does_not_set_seen():
    with server() as srv:
        c = loaded(srv, select="EXAMINE INBOX")
        items = fetch_one(c, 1, "(BODY[] RFC822.TEXT BINARY[1])")
        assert "FLAGS" not in items and items["BODY[]"] == PLAIN, items
        assert flags_of(c, 1) == ["\\Recent"]
        c.close()


def test_uid_fetch():
    with server() as srv:
        c = login(srv)
        for msg in MESSAGES[:3]:
            append(c, msg)
        command(c, "SELECT INBOX")
        # expunge UID 2: UIDs are now 1 and 3
        fetch(c, "STORE 2 +FLAGS.SILENT (\\Deleted)")
        command(c, "EXPUNGE")
        got = fetch(c, "UID FETCH 1:* FLAGS")[0]
        assert got == {1: [("UID", "1"), ("FLAGS", ["\\Recent"])],
                       2: [("UID", "3"), ("FLAGS", ["\\Recent"])]}, got
        # a range that names no message: OK, nothing; * is the last UID
        assert fetch(c, "UID FETCH 2 FLAGS")[0] == {}
        assert fetch(c, "UID FETCH 100:200 FLAGS")[0] == {}
        assert fetch(c, "UID FETCH * RFC822.SIZE")[0] == \
            {2: [("UID", "3"), ("RFC822.SIZE", str(len(MIXED)))]}
        assert list(fetch(c, "UID FETCH 100:* UID")[0]) == [2]   # 3:100
        # UID where the client put it; the plain FETCH has none unless asked
        assert [k for k, _ in fetch(c, "UID FETCH 3 (FLAGS UID)")[0][2]] == ["FLAGS", "UID"]
        assert [k for k, _ in fetch(c, "FETCH 2 FLAGS")[0][2]] == ["FLAGS"]
        # sequence numbers beyond EXISTS are BAD, UIDs are not
        bad(c, "FETCH 3 FLAGS", "Invalid message sequence number")
        bad(c, "FETCH 1:3 FLAGS", "Invalid message sequence number")
        c.close()


def test_bad_requests():
    with server() as srv:
        c = loaded(srv)
        for args, why in (
                ("", "FETCH takes"),
                ("1", "FETCH takes"),
                ("1 FLAGS (CHANGEDSINCE 1) x", "FETCH takes"),
                ("1 FOO", "Unknown FETCH attribute FOO"),
                ("1 ()", "Empty FETCH attribute list"),
                ("1 (FLAGS ALL)", "ALL is a macro"),
                ("1 (FLAGS (UID))", "FETCH attributes are atoms"),
                ("1 BODYSTRUCTURE[]", "BODYSTRUCTURE takes no section"),
                ("1 BODY.PEEK", "BODY.PEEK needs a section"),
                ("1 BODY[0]", "Section part numbers start at 1"),
                ("1 BODY[1.0]", "Section part numbers start at 1"),
                ("1 BODY[1.]", "Missing section text"),
                ("1 BODY[1.FOO]", "Unknown section"),
                ("1 BODY[FOO]", "Unknown section"),
                ("1 BODY[MIME]", "MIME needs a part number"),
                ("1 BODY[TEXT.MIME]", "expected ']'"),
                ("1 BODY[HEADER.FIELDS]", "needs a parenthesised list"),
                ("1 BODY[HEADER.FIELDS ()]", "at least one field name"),
                ("1 BODY[HEADER.FIELDS (A B]", "Invalid header field list"),
                ("1 BODY[HEADER]x", "Unexpected text after the section"),
                ("1 BODY[]<0.0>", "must not be 0"),
                ("1 BODY[]<10>", "expected <origin.octets>"),
                ("1 BODY[]<a.1>", "expected <origin.octets>"),
                ("1 BINARY[1.MIME]", "BINARY takes only a part number"),
                ("1 BINARY[HEADER]", "BINARY takes only a part number"),
                ("1 BINARY.SIZE[1]<0.1>", "BINARY.SIZE takes no partial"),
                ("1 FLAGS ()", "modifiers are a parenthesised list"),
                ("1 FLAGS (CHANGEDSINCE)", "needs a mod-sequence value"),
                ("1 FLAGS (CHANGEDSINCE 9223372036854775808)", "needs a mod-sequence"),
                ("1 FLAGS (VANISHED)", "VANISHED is for UID FETCH only"),
                ("1 FLAGS (FOO)", "Unknown FETCH modifier"),
                ("0 FLAGS", "Invalid sequence number 0"),
                ("x FLAGS", "sequence set"),
                ("8 FLAGS", "Invalid message sequence number"),
                ("$:2 FLAGS", "$ must be the whole sequence set")):
            bad(c, ("FETCH " + args).strip(), why)
        # nothing above set \Seen; the parser's own errors
        assert flags_of(c, 1) == ["\\Recent"]
        _, tagged = command(c, "FETCH 1 BODY[HEADER.FIELDS ({3}")
        assert tagged.startswith("BAD"), tagged
        # FETCH is for the selected state only
        d = login(srv)
        _, tagged = command(d, "FETCH 1 FLAGS")
        assert tagged.startswith("BAD"), tagged
        d.close()
        c.close()


def test_modseq_and_changedsince():
    with server() as srv:
        c = loaded(srv)
        # MODSEQ turns CONDSTORE on: HIGHESTMODSEQ first (RFC 7162 3.1)
        got, other, _ = fetch(c, "FETCH 1:* (MODSEQ)")
        assert any(re.match(r"\* OK \[HIGHESTMODSEQ \d+\]", o) for o in other), other
        modseqs = {m: int(v[0][1][0]) for m, v in got.items()}
        assert len(modseqs) == len(MESSAGES) and all(v > 0 for v in modseqs.values())
        _, tagged = command(c, "STORE 2,5 +FLAGS.SILENT (\\Flagged)")
        assert tagged.startswith("OK"), tagged
        since = max(modseqs.values())
        got = fetch(c, "FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % since)[0]
        assert sorted(got) == [2, 5], got
        assert [k for k, _ in got[2]] == ["FLAGS", "MODSEQ"]
        assert int(got[2][1][1][0]) > since
        got = fetch(c, "UID FETCH 1:* (UID) (CHANGEDSINCE %d)" % since)[0]
        assert sorted(got) == [2, 5] and [k for k, _ in got[5]] == ["UID", "MODSEQ"]
        assert fetch(c, "FETCH 1:* FLAGS (CHANGEDSINCE 9223372036854775807)")[0] == {}
        assert len(fetch(c, "FETCH 1:* UID (CHANGEDSINCE 0)")[0]) == len(MESSAGES)
        # CHANGEDSINCE with a body: only the returned messages get \Seen
        got = fetch(c, "FETCH 1:* (BODY[1]<0.1>) (CHANGEDSINCE %d)" % since)[0]
        assert sorted(got) == [2, 5]
        assert flags_of(c, 1) == ["\\Recent"]
        # with CONDSTORE on, an implicit \Seen brings its MODSEQ along
        items = dict(fetch(c, "FETCH 3 BODY[1]<0.1>")[0][3])
        assert items["FLAGS"] == ["\\Seen", "\\Recent"] and "MODSEQ" in items, items
        assert int(items["MODSEQ"][0]) > since
        c.close()


def test_expunged_by_another_session():
    with server() as srv:
        a = loaded(srv)
        b = login(srv)
        command(b, "SELECT INBOX")
        _, tagged = command(b, "STORE 2:3 +FLAGS.SILENT (\\Deleted)")
        assert tagged.startswith("OK"), tagged
        _, tagged = command(b, "EXPUNGE")
        assert tagged.startswith("OK"), tagged
        # a has not been told: MSNs stay, the gone ones are left out
        got, other, tagged = fetch(a, "FETCH 1:4 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert sorted(got) == [1, 4], got
        assert tagged.startswith("OK [EXPUNGEISSUED]"), tagged
        assert not any("EXPUNGE" in o for o in other), other   # not during FETCH
        got, _, tagged = fetch(a, "UID FETCH 2:3 FLAGS")
        assert got == {} and "EXPUNGEISSUED" in tagged
        untagged, tagged = command(a, "NOOP")
        assert [u for u in untagged if u.endswith(b"EXPUNGE")] == \
            [b"* 3 EXPUNGE", b"* 2 EXPUNGE"], untagged
        assert sorted(fetch(a, "FETCH 1:* UID")[0]) == list(range(1, len(MESSAGES) - 1))
        a.close()
        b.close()


GLOBAL = lines(
    "From: a@example.com",
    "Subject: global",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=x",
    "",
    "--x",
    "Content-Type: text/plain",
    "",
    "hi",
    "--x",
    "Content-Type: message/global",
    "",
    "From: b@example.com",
    "Subject: inner",
    "",
    "inner body",
    "--x--", "")


def test_imap4rev2():
    with server() as srv:
        c = login(srv)
        _, tagged = command(c, "ENABLE IMAP4rev2")
        assert tagged.startswith("OK"), tagged
        for msg in MESSAGES + [GLOBAL]:
            append(c, msg)
        command(c, "SELECT INBOX")
        # no \Recent in IMAP4rev2
        assert fetch_one(c, 1, "FLAGS")["FLAGS"] == []
        items = fetch_one(c, 3, "(BINARY[2] BODYSTRUCTURE)")
        assert items["BINARY[2]"] == ATTACHMENT and items["FLAGS"] == ["\\Seen"]
        # message/global is a message in IMAP4rev2, a basic part in IMAP4rev1
        n = len(MESSAGES) + 1
        assert b'("message" "global" NIL NIL NIL "7bit" 49 (NIL "inner" ' in \
            raw_item(c, n, "BODYSTRUCTURE")
        assert b'("message" "global" NIL NIL NIL "7bit" 49 (NIL "inner" ' in \
            raw_item(c, n, "BODY")
        assert fetch_one(c, n, "BODY.PEEK[2.TEXT]")["BODY[2.TEXT]"] == b"inner body"
        d = login(srv)
        command(d, "EXAMINE INBOX")
        assert b'("message" "global" NIL NIL NIL "7bit" 49 NIL NIL NIL NIL)' in \
            raw_item(d, n, "BODYSTRUCTURE")
        d.close()
        c.close()


def test_large_message():
    """A 20 MB message comes back byte for byte, whole and in parts."""
    block = b"".join(b"%07d abcdefghijklmnopqrstuvwxyz0123456789\r\n" % i for i in range(1000))
    body = block * (20 * 1024 * 1024 // len(block) + 1)
    big = lines("From: big@example.com", "Subject: big", "", "") + body
    with server() as srv:
        c = login(srv)
        append(c, big)
        command(c, "SELECT INBOX")
        assert fetch_one(c, 1, "RFC822.SIZE") == {"RFC822.SIZE": str(len(big))}
        start = time.monotonic()
        items = fetch_one(c, 1, "BODY.PEEK[]")
        assert items["BODY[]"] == big, "20 MB BODY[] differs"
        middle = len(big) // 2
        assert fetch_one(c, 1, "BODY.PEEK[TEXT]<%d.100000>" % middle) == \
            {"BODY[TEXT]<%d>" % middle: body[middle:middle + 100000]}
        items = fetch_one(c, 1, "(BODY.PEEK[HEADER] BINARY.SIZE[1] BODY.PEEK[1]<0.8>)")
        assert items == {"BODY[HEADER]": b"From: big@example.com\r\nSubject: big\r\n\r\n",
                         "BINARY.SIZE[1]": str(len(body)), "BODY[1]<0>": b"0000000 "}
        sys.stdout.write("20 MB BODY[] round trip in %.1fs\n" % (time.monotonic() - start))
        c.close()


def test_imaplib():
    with server() as srv:
        m = srv.imap("alice", "alice-pw")
        for msg in MESSAGES[:3]:
            assert m.append("INBOX", None, None, msg)[0] == "OK"
        assert m.select("INBOX")[0] == "OK"
        typ, data = m.fetch("1", "(BODY.PEEK[] FLAGS)")
        assert typ == "OK" and data[0][1] == PLAIN, data
        typ, data = m.uid("FETCH", "1:*", "(BODYSTRUCTURE)")
        assert typ == "OK" and len(data) == 3, data
        assert data[1] == b"2 (UID 2 BODYSTRUCTURE " + BODYSTRUCTURES[2] + b")", data[1]
        typ, data = m.fetch("3", "(BINARY.PEEK[2])")
        assert typ == "OK" and data[0][1] == ATTACHMENT
        typ, data = m.fetch("1:3", "(INTERNALDATE)")
        assert typ == "OK" and len(data) == 3
        m.logout()


# ---- Dovecot side by side --------------------------------------------------------

DOVECOT_IMAP = "/usr/lib/dovecot/imap"


class Dovecot:
    """Dovecot's imap binary on a private maildir, pre-authenticated on stdio
    (no listener, no ports); stopped by close()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-dovecot-")
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "mail"))
        os.makedirs(os.path.join(self.dir, "run"))
        user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        group = "nogroup" if os.geteuid() == 0 else user
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("base_dir = %s/run\nlog_path = %s/log\n"
                    "mail_location = maildir:%s/mail\nssl = no\nprotocols = imap\n"
                    "mail_uid = %s\nmail_gid = %s\nfirst_valid_uid = 1\n"
                    % (self.dir, self.dir, self.dir, user, group))
        if os.geteuid() == 0:
            shutil.chown(os.path.join(self.dir, "mail"), user, group)
        self.proc = subprocess.Popen([DOVECOT_IMAP, "-c", conf], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env={"USER": user, "HOME": self.dir,
                                          "PATH": "/usr/bin:/bin"})
        self.buf = b""
        greeting = self.proc.stdout.readline()
        if not greeting.startswith(b"* PREAUTH"):
            self.close()
            raise OSError("dovecot did not start: %r" % greeting)

    # the shape read_response() wants
    @property
    def sock(self):
        return self

    def recv(self, n):
        return os.read(self.proc.stdout.fileno(), n)

    def send(self, data):
        self.proc.stdin.write(data.encode() if isinstance(data, str) else data)
        self.proc.stdin.flush()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def dovecot_append(d, msg):
    tag = "a%d" % next(_tags)
    d.send(("%s APPEND INBOX {%d+}\r\n" % (tag, len(msg))).encode() + msg + CRLF)
    while True:
        raw = read_response(d)
        if raw.startswith(tag.encode() + b" "):
            assert b" OK " in raw, raw
            return


COMPARED = [
    "ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE", "BODY.PEEK[]",
    "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "BODY.PEEK[1]", "BODY.PEEK[1.MIME]",
    "BODY.PEEK[2]", "BODY.PEEK[2.MIME]", "BODY.PEEK[3]", "BODY.PEEK[3.HEADER]",
    "BODY.PEEK[3.TEXT]", "BODY.PEEK[3.1]", "BODY.PEEK[3.2.MIME]", "BODY.PEEK[4.TEXT]",
    "BODY.PEEK[9]", "BODY.PEEK[1.HEADER]",
    "BODY.PEEK[HEADER.FIELDS (From \"Subject\" X-None)]",
    "BODY.PEEK[HEADER.FIELDS.NOT (from date)]", "BODY.PEEK[3.HEADER.FIELDS (TO)]<1.5>",
    "BODY.PEEK[]<7.30>", "BODY.PEEK[1]<100.5>",
    "BINARY.PEEK[1]", "BINARY.SIZE[1]", "BINARY.PEEK[2]", "BINARY.SIZE[2]",
    "BINARY.PEEK[9]", "BINARY.PEEK[1]<2.3>",
]


def test_against_dovecot():
    if not os.access(DOVECOT_IMAP, os.X_OK):
        print("SKIP: %s is not installed" % DOVECOT_IMAP)
        return
    try:
        d = Dovecot()
    except OSError as e:
        print("SKIP: %s" % e)
        return
    try:
        with server() as srv:
            c = login(srv)
            for msg in MESSAGES:
                if msg is not UNKNOWN_CTE:
                    append(c, msg)
                    dovecot_append(d, msg)
            command(c, "SELECT INBOX")
            d.buf = b""
            command(d, "SELECT INBOX")
            n = len(MESSAGES) - 1
            # Dovecot sends all of BINARY as ~{n}; we do when it holds NUL
            def norm(got):
                return {m: [(k, bytes(v) if isinstance(v, Literal8) else v)
                            for k, v in items] for m, items in got.items()}

            for item in COMPARED:
                ours = norm(fetch(c, "FETCH 1:%d %s" % (n, item))[0])
                theirs = norm(fetch(d, "FETCH 1:%d %s" % (n, item))[0])
                assert ours == theirs, "%s differs:\ncairn:   %r\ndovecot: %r" % (
                    item, ours, theirs)
            c.close()
    finally:
        d.close()


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_simple_items,
        test_macros,
        test_envelope_and_bodystructure,
        test_sections,
        test_header_fields,
        test_partial,
        test_binary,
        test_implicit_seen,
        test_examine_does_not_set_seen,
        test_uid_fetch,
        test_bad_requests,
        test_modseq_and_changedsince,
        test_expunged_by_another_session,
        test_imap4rev2,
        test_large_message,
        test_imaplib,
        test_against_dovecot,
    ])
