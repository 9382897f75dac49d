"""What the migration tests (test_import, test_export, test_backup) share:
reading a whole account over IMAP with imaplib, to compare two servers."""

import imaplib
import re
import time

LIST_RE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?:"(?P<sep>[^"]*)"|NIL) (?P<name>.*)$')
FETCH_RE = re.compile(rb'UID (\d+)|FLAGS \(([^)]*)\)|INTERNALDATE "([^"]+)"')


def unquote(name):
    name = name.strip()
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    return name.decode()


def mailboxes(m):
    """{name (modified UTF-7, as LIST says): selectable?}"""
    typ, data = m.list()
    assert typ == "OK", data
    out = {}
    for line in data:
        if isinstance(line, tuple):  # a literal name
            attrs = LIST_RE.match(line[0] + b' ""').group("attrs")
            out[line[1].decode()] = b"\\Noselect" not in attrs
            continue
        g = LIST_RE.match(line)
        assert g, line
        out[unquote(g.group("name"))] = b"\\Noselect" not in g.group("attrs")
    return out


def subscribed(m):
    typ, data = m.lsub()
    assert typ == "OK", data
    return sorted(unquote(LIST_RE.match(line).group("name")) for line in data if line)


def messages(m, mailbox):
    """[(uid, bytes, flags without \\Recent, internaldate as unix time)]
    in UID order, read with EXAMINE and BODY.PEEK (nothing changes)."""
    typ, data = m.select('"%s"' % mailbox, readonly=True)
    assert typ == "OK", (mailbox, data)
    if int(data[0]) == 0:
        return []
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
    assert typ == "OK", data
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, body = item
        uid = flags = date = None
        for g in FETCH_RE.finditer(head):
            if g.group(1):
                uid = int(g.group(1))
            elif g.group(2) is not None:
                flags = frozenset(f for f in g.group(2).decode().split()
                                  if f != "\\Recent")
            else:
                date = g.group(3)
        if flags is None:
            flags = frozenset()
        t = time.mktime(imaplib.Internaldate2tuple(b'INTERNALDATE "' + date + b'"'))
        out.append((uid, body, flags, int(t)))
    out.sort()
    return out


def account(m):
    """{mailbox: [(bytes, flags, internaldate)]} of every selectable one."""
    out = {}
    for name, selectable in sorted(mailboxes(m).items()):
        if selectable:
            out[name] = [(b, f, d) for (_, b, f, d) in messages(m, name)]
    return out


def assert_same(source, copy, what):
    """Every mailbox of source in copy with the same messages in the same
    order (UIDs may differ); copy may have more mailboxes, all empty."""
    for name, msgs in source.items():
        assert name in copy, "%s: mailbox %s missing; have %s" % (what, name, sorted(copy))
        got = copy[name]
        assert len(got) == len(msgs), "%s: %s: %d messages, expected %d" % (
            what, name, len(got), len(msgs))
        for i, (a, b) in enumerate(zip(msgs, got)):
            assert a[0] == b[0], "%s: %s #%d: bytes differ:\n%r\n%r" % (what, name, i + 1, a[0], b[0])
            assert a[1] == b[1], "%s: %s #%d: flags %s, expected %s" % (
                what, name, i + 1, sorted(b[1]), sorted(a[1]))
            assert a[2] == b[2], "%s: %s #%d: internaldate %d, expected %d" % (
                what, name, i + 1, b[2], a[2])
    for name, msgs in copy.items():
        if name not in source:
            assert msgs == [], "%s: unexpected messages in %s" % (what, name)
