"""Mailboxes as a whole (RFC 9051 6.3): the default mailboxes with their
special uses, CREATE (intermediate levels, trailing delimiter, INBOX, USE
of RFC 6154), DELETE (\\Noselect with children), RENAME (children, INBOX),
SUBSCRIBE / UNSUBSCRIBE, LIST with wildcards, references and the
LIST-EXTENDED options (RFC 5258, RFC 6154, RFC 5819), LSUB (RFC 3501),
NAMESPACE, STATUS, ENABLE, modified UTF-7 and UTF-8 names, and BAD for
malformed arguments -- against the real cairnd, over raw lines and imaplib.

One server serves every test; each test logs in as a fresh user, so each
starts from a new store."""

import itertools
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import expect, mail_server, require_accounts, run_tests  # noqa: E402

SRV = None
PASSWORD = "mailbox-pw"
_users = itertools.count(1)

LIST_RE = re.compile(r'^\* (LIST|LSUB) \(([^)]*)\) "/" "((?:[^"\\]|\\.)*)"(.*)$')
DEFAULTS = {"INBOX": None, "Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash",
            "Junk": "\\Junk", "Archive": "\\Archive"}

MESSAGE = (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\n"
           b"Message-ID: <1@example.com>\r\n\r\nHello.\r\n")


def fresh_user():
    name = "mbx%d" % next(_users)
    SRV.add_user(name, PASSWORD)
    return name


def login(user=None):
    """A raw line client, logged in as a new (or the given) user."""
    user = user or fresh_user()
    c = SRV.connect_tls()
    c.readline()
    tagged = c.command("l", 'LOGIN %s "%s"' % (user, PASSWORD))[1]
    assert tagged.startswith("l OK"), tagged
    c.user = user
    return c


def ok(c, text, tag="t"):
    untagged, tagged = c.command(tag, text)
    assert tagged.startswith(tag + " OK"), (text, tagged, untagged)
    return untagged


def answer(c, text, tag="t"):
    """The tagged line without its tag."""
    return c.command(tag, text)[1][len(tag) + 1:]


def listing(lines):
    """{name: (set of attributes, extended data)} of LIST/LSUB lines."""
    out = {}
    for line in lines:
        m = LIST_RE.match(line)
        if m:
            name = re.sub(r"\\(.)", r"\1", m.group(3))
            assert name not in out, "listed twice: %r" % lines
            out[name] = (set(m.group(2).split()), m.group(4).strip())
    return out


def names(c, text):
    return set(listing(ok(c, text)))


def status_of(c, mailbox, items="MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE"):
    lines = [x for x in ok(c, "STATUS %s (%s)" % (mailbox, items)) if x.startswith("* STATUS")]
    assert len(lines) == 1, lines
    m = re.match(r'^\* STATUS "?(.*?)"? \((.*)\)$', lines[0])
    vals = m.group(2).split()
    return dict(zip(vals[0::2], map(int, vals[1::2])))


def append(c, mailbox, data=MESSAGE, tag="ap"):
    """APPEND, if the server has it (another part of the tree builds it)."""
    c.send("%s APPEND %s {%d+}\r\n" % (tag, mailbox, len(data)))
    c.send(data + b"\r\n")
    tagged = c.read_until_tagged(tag)[1]
    return tagged.startswith(tag + " OK")


def has_select(c):
    return not answer(c, "SELECT INBOX", "hs").startswith("BAD Unknown command")


# --- the default mailboxes, delimiter, NAMESPACE ----------------------------

def test_default_mailboxes_with_special_use():
    c = login()
    got = listing(ok(c, 'LIST "" "*"'))
    assert set(got) == set(DEFAULTS), got
    for name, use in DEFAULTS.items():
        attrs = got[name][0]
        assert "\\HasNoChildren" in attrs, (name, attrs)
        if use:
            assert use in attrs, (name, attrs)
    assert listing(ok(c, 'LIST "" "%"')) == got
    # SPECIAL-USE selection: only the special ones (RFC 6154 5.2)
    special = listing(ok(c, 'LIST (SPECIAL-USE) "" "*"'))
    assert set(special) == set(DEFAULTS) - {"INBOX"}, special
    assert "\\Sent" in special["Sent"][0]
    # RETURN (SPECIAL-USE) lists everything, with the uses
    assert set(listing(ok(c, 'LIST "" "*" RETURN (SPECIAL-USE CHILDREN)'))) == set(DEFAULTS)
    # they are subscribed from the start
    assert names(c, 'LSUB "" "*"') == set(DEFAULTS)
    c.close()


def test_delimiter_namespace_and_inbox_case():
    c = login()
    assert ok(c, 'LIST "" ""') == ['* LIST (\\Noselect) "/" ""']
    assert ok(c, 'LIST "Archive/x" ""') == ['* LIST (\\Noselect) "/" ""']
    assert ok(c, 'LSUB "" ""') == ['* LSUB (\\Noselect) "/" ""']
    assert ok(c, "NAMESPACE") == ['* NAMESPACE (("" "/")) NIL NIL']
    # INBOX is case-insensitive, and always answered as "INBOX"
    assert names(c, 'LIST "" "inbox"') == {"INBOX"}
    assert names(c, 'LIST "" iNbOx') == {"INBOX"}
    assert status_of(c, "inbox", "MESSAGES") == {"MESSAGES": 0}
    # extended syntax: empty patterns are ignored, not a delimiter request
    assert ok(c, 'LIST () "" ""') == []
    assert names(c, 'LIST "" ("" "INBOX")') == {"INBOX"}
    c.close()


# --- CREATE ------------------------------------------------------------------

def test_create_levels_trailing_delimiter_and_inbox():
    c = login()
    ok(c, "CREATE a/b/c")
    got = listing(ok(c, 'LIST "" "a*"'))
    assert set(got) == {"a", "a/b", "a/b/c"}, got
    assert "\\HasChildren" in got["a"][0] and "\\HasChildren" in got["a/b"][0]
    assert "\\HasNoChildren" in got["a/b/c"][0]
    assert not any("\\Noselect" in v[0] for v in got.values()), got
    ok(c, 'CREATE "x/"')
    assert names(c, 'LIST "" "x*"') == {"x"}
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "CREATE a/b"))
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "CREATE x/"))
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "CREATE INBOX"))
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, 'CREATE "iNbOx"'))
    # INBOX may have children; "inbox/..." is INBOX's child
    ok(c, "CREATE INBOX/sub")
    ok(c, "CREATE inbox/other")
    assert names(c, 'LIST "" "INBOX*"') == {"INBOX", "INBOX/sub", "INBOX/other"}
    assert "\\HasChildren" in listing(ok(c, 'LIST "" INBOX'))["INBOX"][0]
    c.close()


def test_create_refuses_bad_names():
    c = login()
    for name in ('"a//b"', '""', '"/a"', '"/"', '"a/b//"'):
        expect(r"^NO \[CANNOT\] ", answer(c, "CREATE " + name))
    expect(r"^NO \[CANNOT\] .*too long", answer(c, 'CREATE "%s"' % ("x" * 1001)))
    ok(c, 'CREATE "%s"' % ("y" * 1000))
    # a control character, sent as a literal
    c.send("t CREATE {3+}\r\na\x01b\r\n")
    expect(r"^t NO \[CANNOT\] ", c.read_until_tagged("t")[1])
    # not modified UTF-7: an open shift, a padded one, a needless one
    for name in ('"Entw&APw"', '"&AGE-"', '"a&Jjo!-"'):
        expect(r"^NO \[CANNOT\] .*modified UTF-7", answer(c, "CREATE " + name))
    # 8-bit without UTF8=ACCEPT
    expect(r"^BAD .*8-bit", answer(c, 'CREATE "Entw\u00fcrfe"'))
    assert names(c, 'LIST "" "*"') == set(DEFAULTS) | {"y" * 1000}
    c.close()


def test_create_special_use():
    c = login()
    ok(c, "CREATE Outbox (USE (\\Sent \\Drafts))")
    attrs = listing(ok(c, 'LIST "" Outbox'))["Outbox"][0]
    assert {"\\Sent", "\\Drafts"} <= attrs, attrs
    expect(r"^NO \[USEATTR\] ", answer(c, "CREATE Everything (USE (\\All))"))
    expect(r"^NO \[USEATTR\] ", answer(c, "CREATE Everything (USE (\\Xyzzy))"))
    expect(r"^BAD ", answer(c, "CREATE Everything (USE (\\All) FOO)"))
    expect(r"^BAD ", answer(c, "CREATE Everything (USE (Sent))"))
    expect(r"^BAD ", answer(c, "CREATE Everything (USE)"))
    expect(r"^BAD ", answer(c, "CREATE Everything (FOO (1))"))
    expect(r"^BAD ", answer(c, "CREATE Everything ()"))
    expect(r"^BAD ", answer(c, "CREATE Everything USE"))
    assert "Everything" not in names(c, 'LIST "" "*"')
    c.close()


# --- DELETE and RENAME -----------------------------------------------------

def test_delete_rules():
    c = login()
    ok(c, "CREATE foo/bar")
    ok(c, "CREATE blurdybloop")
    ok(c, "DELETE blurdybloop")
    assert "blurdybloop" not in names(c, 'LIST "" "*"')
    expect(r"^NO \[NONEXISTENT\] ", answer(c, "DELETE blurdybloop"))
    # with children: stays as \Noselect (RFC 9051 6.3.5)
    ok(c, "DELETE foo")
    got = listing(ok(c, 'LIST "" "foo*"'))
    assert set(got) == {"foo", "foo/bar"}, got
    assert {"\\Noselect", "\\HasChildren"} <= got["foo"][0], got
    expect(r"^NO \[NONEXISTENT\] ", answer(c, "STATUS foo (MESSAGES)"))
    expect(r"^NO \[HASCHILDREN\] ", answer(c, "DELETE foo"))
    # a \Noselect level is not returned by the STATUS option
    lines = ok(c, 'LIST "" "foo*" RETURN (STATUS (MESSAGES))')
    assert not any(x.startswith('* STATUS "foo" ') for x in lines), lines
    assert any(x.startswith('* STATUS "foo/bar" ') for x in lines), lines
    ok(c, "DELETE foo/bar")
    got = listing(ok(c, 'LIST "" "foo*"'))
    assert set(got) == {"foo"} and "\\Noselect" in got["foo"][0], got
    ok(c, "DELETE foo")
    assert not names(c, 'LIST "" "foo*"')
    # CREATE brings a \Noselect name back as a mailbox
    ok(c, "CREATE p/q")
    ok(c, "DELETE p")
    ok(c, "CREATE p")
    assert "\\Noselect" not in listing(ok(c, 'LIST "" p'))["p"][0]
    expect(r"^NO \[CANNOT\] ", answer(c, "DELETE INBOX"))
    expect(r"^NO \[CANNOT\] ", answer(c, "DELETE inbox"))
    c.close()


def test_rename_moves_children_and_keeps_uidvalidity():
    c = login()
    ok(c, "CREATE foo/bar/baz")
    before = status_of(c, "foo/bar")["UIDVALIDITY"]
    ok(c, "RENAME foo zowie")
    got = names(c, 'LIST "" "*"')
    assert {"zowie", "zowie/bar", "zowie/bar/baz"} <= got and not {"foo", "foo/bar"} & got, got
    assert status_of(c, "zowie/bar")["UIDVALIDITY"] == before
    # missing levels of the new name are created (6.3.6)
    ok(c, "RENAME zowie/bar/baz new/level/baz")
    assert {"new", "new/level", "new/level/baz"} <= names(c, 'LIST "" "new*"')
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "RENAME zowie Sent"))
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "RENAME zowie zowie"))
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "RENAME zowie INBOX"))
    expect(r"^NO \[NONEXISTENT\] ", answer(c, "RENAME nosuch other"))
    expect(r"^NO \[CANNOT\] ", answer(c, "RENAME zowie zowie/inside"))
    expect(r"^NO \[CANNOT\] ", answer(c, 'RENAME zowie "a//b"'))
    # subscriptions are not renamed (6.3.6)
    ok(c, "SUBSCRIBE zowie")
    ok(c, "RENAME zowie zed")
    got = listing(ok(c, 'LIST (SUBSCRIBED) "" "z*"'))
    assert set(got) == {"zowie"} and "\\NonExistent" in got["zowie"][0], got
    c.close()


def test_rename_inbox():
    """RFC 9051 6.3.6: the messages move, INBOX stays (empty) with its
    children.  Uses APPEND when the server has it; else an empty INBOX."""
    c = login()
    ok(c, "CREATE INBOX/keep")
    appended = append(c, "INBOX") and append(c, "INBOX", tag="ap2")
    want = 2 if appended else 0
    assert status_of(c, "INBOX")["MESSAGES"] == want
    ok(c, "RENAME INBOX old-mail")
    assert {"INBOX", "INBOX/keep", "old-mail"} <= names(c, 'LIST "" "*"')
    assert status_of(c, "old-mail")["MESSAGES"] == want
    assert status_of(c, "INBOX")["MESSAGES"] == 0
    # INBOX goes on: its UIDNEXT did not go back
    if appended:
        assert status_of(c, "INBOX")["UIDNEXT"] >= 3
        assert append(c, "INBOX", tag="ap3")
        assert status_of(c, "INBOX")["MESSAGES"] == 1
    expect(r"^NO \[ALREADYEXISTS\] ", answer(c, "RENAME INBOX old-mail"))
    c.close()
    if not appended:
        print("note: APPEND not available; INBOX was renamed empty")


# --- subscriptions, LSUB -----------------------------------------------------

def test_subscriptions():
    c = login()
    ok(c, "CREATE Fruit/Banana")
    ok(c, "CREATE Fruit/Apple")
    ok(c, "SUBSCRIBE Fruit/Banana")
    ok(c, "SUBSCRIBE Fruit/Banana")  # already: still OK
    ok(c, "SUBSCRIBE Fruit/Peach")   # does not exist: allowed (6.3.7)
    ok(c, "UNSUBSCRIBE Trash")
    ok(c, "UNSUBSCRIBE Trash")       # not subscribed: OK (6.3.8)
    ok(c, "UNSUBSCRIBE never-was")
    got = listing(ok(c, 'LIST (SUBSCRIBED) "" "*"'))
    assert set(got) == set(DEFAULTS) - {"Trash"} | {"Fruit/Banana", "Fruit/Peach"}, got
    assert all("\\Subscribed" in v[0] for v in got.values()), got
    assert "\\NonExistent" in got["Fruit/Peach"][0]
    assert "\\NonExistent" not in got["Fruit/Banana"][0]
    # RETURN (SUBSCRIBED): the real mailboxes, subscription marked
    got = listing(ok(c, 'LIST "" "*" RETURN (SUBSCRIBED)'))
    assert "Fruit/Peach" not in got and "Fruit" in got
    assert "\\Subscribed" in got["Fruit/Banana"][0]
    assert "\\Subscribed" not in got["Fruit/Apple"][0]
    assert "\\Subscribed" not in got["Trash"][0]
    # subscribing INBOX in any case names INBOX
    ok(c, "UNSUBSCRIBE INBOX")
    ok(c, "SUBSCRIBE inbox")
    assert "INBOX" in names(c, 'LSUB "" "*"')
    expect(r"^NO \[CANNOT\] ", answer(c, 'SUBSCRIBE "a//b"'))
    c.close()


def test_lsub_noselect_parents():
    c = login()
    ok(c, "SUBSCRIBE news/comp/mail/misc")
    ok(c, "CREATE foo/bar")
    ok(c, "SUBSCRIBE foo/bar")
    got = listing(ok(c, 'LSUB "" "news/%"'))
    assert got == {"news/comp": ({"\\Noselect"}, "")}, got
    got = listing(ok(c, 'LSUB "" "%"'))
    assert got["news"][0] == {"\\Noselect"} and got["foo"][0] == {"\\Noselect"}, got
    assert got["INBOX"][0] == set(), got
    got = listing(ok(c, 'LSUB "" "*"'))
    assert {"news/comp/mail/misc", "foo/bar"} <= set(got)
    assert "news" not in got and "foo" not in got, got
    assert all(not v[0] for v in got.values()), got
    assert names(c, 'LSUB "foo/" "%"') == {"foo/bar"}
    c.close()


# --- LIST ----------------------------------------------------------------------

def make_fruit(c):
    for name in ("Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable/Broccoli",
                 "Vegetable/Corn"):
        ok(c, "CREATE " + name)


def test_list_wildcards_and_reference():
    c = login()
    make_fruit(c)
    top = set(DEFAULTS) | {"Fruit", "Tofu", "Vegetable"}
    assert names(c, 'LIST "" "%"') == top
    assert names(c, 'LIST "" "Fruit/%"') == {"Fruit/Apple", "Fruit/Banana"}
    assert names(c, 'LIST "Fruit/" "%"') == {"Fruit/Apple", "Fruit/Banana"}
    assert names(c, 'LIST Fruit/ *') == {"Fruit/Apple", "Fruit/Banana"}
    assert names(c, 'LIST "" "*an*"') == {"Fruit/Banana"}
    assert names(c, 'LIST "" "%/%"') == {"Fruit/Apple", "Fruit/Banana",
                                         "Vegetable/Broccoli", "Vegetable/Corn"}
    assert names(c, 'LIST "" "*/C*"') == {"Vegetable/Corn"}
    assert names(c, 'LIST "" "V%n"') == set()
    assert names(c, 'LIST "" "V*n"') == {"Vegetable/Corn"}
    assert names(c, 'LIST "" "%o%"') == {"Tofu"}
    assert names(c, 'LIST "" "nosuch"') == set()
    assert names(c, 'LIST "" "*"') == top | {"Fruit/Apple", "Fruit/Banana",
                                             "Vegetable/Broccoli", "Vegetable/Corn"}
    # multiple patterns (RFC 5258), each name once
    assert names(c, 'LIST "" ("INBOX" "Fruit/%" "Fruit/*")') == {
        "INBOX", "Fruit/Apple", "Fruit/Banana"}
    # a pattern no name can have is ignored, not an error (6.3.9)
    assert names(c, 'LIST "" "&Jjo"') == set()
    got = listing(ok(c, 'LIST "" "%" RETURN (CHILDREN)'))
    assert "\\HasChildren" in got["Fruit"][0] and "\\HasNoChildren" in got["Tofu"][0]
    # REMOTE: there are no remote mailboxes
    assert names(c, 'LIST (REMOTE) "" "%"') == top
    c.close()


def test_list_recursivematch_and_childinfo():
    """RFC 5258 examples 8 and 9 (RFC 9051 6.3.9.8 7 and 8)."""
    c = login()
    make_fruit(c)
    for name in ("Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"):
        ok(c, "SUBSCRIBE " + name)
    got = listing(ok(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)'))
    childinfo = '("CHILDINFO" ("SUBSCRIBED"))'
    assert got["Fruit"] == ({"\\HasChildren"}, childinfo), got
    assert got["Vegetable"] == ({"\\HasChildren", "\\Subscribed"}, childinfo), got
    assert got["INBOX"] == ({"\\HasNoChildren", "\\Subscribed"}, ""), got
    assert "Tofu" not in got
    # "*": Fruit's subscribed children are listed themselves, so Fruit is not
    got = listing(ok(c, 'LIST (RECURSIVEMATCH SUBSCRIBED) "" "*"'))
    assert "Fruit" not in got, got
    assert got["Vegetable"][1] == childinfo and got["Fruit/Banana"][1] == "", got
    assert {"\\Subscribed", "\\NonExistent"} <= got["Fruit/Peach"][0]
    # a level that does not exist, with a subscribed child (example 8 A2)
    ok(c, "SUBSCRIBE Nuts/Pecan")
    got = listing(ok(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "N%"'))
    assert got == {"Nuts": ({"\\NonExistent"}, childinfo)}, got
    assert names(c, 'LIST (SUBSCRIBED) "" "%"') == set(DEFAULTS) | {"Vegetable"}
    # RECURSIVEMATCH needs a base option (RFC 5258 3.1)
    expect(r"^BAD ", answer(c, 'LIST (RECURSIVEMATCH) "" "%"'))
    expect(r"^BAD ", answer(c, 'LIST (REMOTE RECURSIVEMATCH) "" "%"'))
    expect(r"^BAD ", answer(c, 'LIST (SPECIAL-USE RECURSIVEMATCH) "" "%"'))
    # SPECIAL-USE and SUBSCRIBED together: both must hold
    ok(c, "UNSUBSCRIBE Junk")
    assert names(c, 'LIST (SPECIAL-USE SUBSCRIBED) "" "*"') == \
        set(DEFAULTS) - {"INBOX", "Junk"}
    c.close()


def test_list_status_return_option():
    """RFC 5819: a STATUS after each selectable listed mailbox."""
    c = login()
    ok(c, "CREATE lvl/child")
    ok(c, "DELETE lvl")
    appended = append(c, "Drafts")
    lines = ok(c, 'LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT UNSEEN SIZE DELETED '
                  'UIDVALIDITY))')
    got = listing(lines)
    for i, line in enumerate(lines):
        m = LIST_RE.match(line)
        if not m:
            continue
        follows = lines[i + 1] if i + 1 < len(lines) else ""
        if m.group(3) == "lvl":
            assert not follows.startswith("* STATUS"), lines
        else:
            expect(r'^\* STATUS "%s" \(MESSAGES \d+ UIDNEXT \d+ UIDVALIDITY \d+ '
                   r'UNSEEN \d+ DELETED \d+ SIZE \d+\)$' % re.escape(m.group(3)), follows)
    assert "\\Noselect" in got["lvl"][0]
    drafts = [x for x in lines if x.startswith('* STATUS "Drafts"')][0]
    if appended:
        expect(r"MESSAGES 1 .*UNSEEN 1 .*SIZE %d\)" % len(MESSAGE), drafts)
    # with SUBSCRIBED selection: only for names that meet it
    ok(c, "SUBSCRIBE lvl/none")
    lines = ok(c, 'LIST (SUBSCRIBED) "" "lvl/*" RETURN (STATUS (MESSAGES))')
    assert [x for x in lines if x.startswith("* STATUS")] == [], lines
    expect(r"^BAD ", answer(c, 'LIST "" "*" RETURN (STATUS)'))
    expect(r"^BAD ", answer(c, 'LIST "" "*" RETURN (STATUS ())'))
    expect(r"^BAD ", answer(c, 'LIST "" "*" RETURN (STATUS (BOGUS))'))
    c.close()


# --- STATUS ------------------------------------------------------------------------

def test_status():
    c = login()
    st = status_of(c, "INBOX", "MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
                               "RECENT HIGHESTMODSEQ")
    assert set(st) == {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED",
                       "SIZE", "RECENT", "HIGHESTMODSEQ"}, st
    assert st["MESSAGES"] == 0 and st["UIDNEXT"] >= 1 and st["UIDVALIDITY"] > 0
    if append(c, "INBOX"):
        st2 = status_of(c, "INBOX", "MESSAGES UNSEEN SIZE UIDNEXT RECENT")
        assert st2 == {"MESSAGES": 1, "UNSEEN": 1, "SIZE": len(MESSAGE),
                       "UIDNEXT": st["UIDNEXT"] + 1, "RECENT": 1}, st2
    expect(r'^\* STATUS "Sent" \(MESSAGES 0\)$', ok(c, "status Sent (messages)")[0])
    expect(r"^NO \[NONEXISTENT\] ", answer(c, "STATUS nosuch (MESSAGES)"))
    expect(r"^NO \[CANNOT\] ", answer(c, 'STATUS "a//b" (MESSAGES)'))
    for bad in ("STATUS INBOX ()", "STATUS INBOX (BOGUS)", "STATUS INBOX MESSAGES",
                "STATUS INBOX", "STATUS", "STATUS INBOX (MESSAGES) extra",
                'STATUS INBOX ("MESSAGES")', "STATUS (INBOX) (MESSAGES)"):
        expect(r"^BAD ", answer(c, bad))
    c.close()


def test_selected_state():
    """The commands run in the selected state too, and report what other
    sessions did to the selected mailbox before their tagged OK."""
    c = login()
    if not has_select(c):
        print("note: SELECT not available; selected state not tested")
        c.close()
        return
    other = login(c.user)
    assert append(other, "INBOX")
    untagged = ok(c, 'LIST "" "INBOX"')
    assert "* 1 EXISTS" in untagged, untagged
    # STATUS of the selected mailbox is allowed
    assert status_of(c, "INBOX", "MESSAGES") == {"MESSAGES": 1}
    ok(c, "CREATE Sel")
    ok(c, "RENAME Sel Sel2")
    ok(c, "SUBSCRIBE Sel2")
    ok(c, "NAMESPACE")
    expect(r"^BAD ", answer(c, "ENABLE CONDSTORE"))   # authenticated state only
    # deleting the selected mailbox ends the session (BYE, 6.3.5 / 7.1.5)
    ok(c, "SELECT Sel2")
    c.send("d DELETE Sel2\r\n")
    line = c.readline()
    while not line.startswith(("* BYE", "d ")):
        line = c.readline()
    assert line.startswith("* BYE"), line
    assert c.closed()
    assert "Sel2" not in names(other, 'LIST "" "*"')
    other.close()


# --- ENABLE ---------------------------------------------------------------------------

def test_enable():
    c = login()
    assert ok(c, "ENABLE CONDSTORE X-UNKNOWN") == ["* ENABLED CONDSTORE"]
    assert ok(c, "ENABLE condstore") == ["* ENABLED"]
    # QRESYNC (RFC 7162 3.2.3) is listed once; CONDSTORE was on already
    assert ok(c, "ENABLE QRESYNC QRESYNC") == ["* ENABLED QRESYNC"]
    assert ok(c, "ENABLE QRESYNC CONDSTORE") == ["* ENABLED"]
    assert ok(c, "ENABLE utf8=accept IMAP4rev2") == ["* ENABLED UTF8=ACCEPT IMAP4rev2"]
    assert ok(c, "ENABLE UTF8=ONLY AUTH=PLAIN") == ["* ENABLED"]
    for bad in ("ENABLE", 'ENABLE "CONDSTORE"', "ENABLE (CONDSTORE)", "ENABLE CONDSTORE NIL"):
        expect(r"^BAD ", answer(c, bad))
    c.close()


# --- international names -------------------------------------------------------------

def test_modified_utf7_and_utf8_names():
    legacy = login()
    ok(legacy, 'CREATE "Entw&APw-rfe"')
    assert "Entw&APw-rfe" in names(legacy, 'LIST "" "Entw*"')
    assert names(legacy, 'LIST "" "Entw&APw-*"') == {"Entw&APw-rfe"}
    ok(legacy, 'CREATE "a&-b"')          # "&" itself is "&-"
    ok(legacy, r'CREATE "q\"uo\\te"')     # quoted-specials are escaped back
    assert 'q"uo\\te' in names(legacy, 'LIST "" "q*"')
    utf8 = login(legacy.user)
    ok(utf8, "ENABLE UTF8=ACCEPT")
    got = names(utf8, 'LIST "" "*"')
    assert {"Entw\u00fcrfe", "a&b"} <= got, got
    # UTF-8 names in, seen both ways
    ok(utf8, 'CREATE "Gr\u00f6\u00dfe/\u65e5\u672c"')
    assert {"Gr\u00f6\u00dfe", "Gr\u00f6\u00dfe/\u65e5\u672c"} <= names(utf8, 'LIST "" "Gr*"')
    assert names(legacy, 'LIST "" "Gr*"') == {"Gr&APYA3w-e", "Gr&APYA3w-e/&ZeVnLA-"}
    assert status_of(utf8, '"Entw\u00fcrfe"', "MESSAGES") == {"MESSAGES": 0}
    expect(r'^\* STATUS "Entw\u00fcrfe" ', ok(utf8, 'STATUS "Entw\u00fcrfe" (MESSAGES)')[0])
    expect(r'^\* STATUS "Entw&APw-rfe" ', ok(legacy, 'STATUS "Entw&APw-rfe" (MESSAGES)')[0])
    # in UTF-8 mode "&" is just "&"; modified UTF-7 is not decoded
    ok(utf8, 'CREATE "x&APw-y"')
    assert "x&-APw-y" in names(legacy, 'LIST "" "x*"')
    # invalid UTF-8 is BAD (RFC 6855 3)
    utf8.send(b't CREATE "bad\xc3("\r\n')
    expect(r"^t BAD .*UTF-8", utf8.read_until_tagged("t")[1])
    utf8.send(b"t CREATE {4+}\r\nb\xff\xfex\r\n")
    expect(r"^t BAD .*UTF-8", utf8.read_until_tagged("t")[1])
    # a literal name works too
    utf8.send("t RENAME {7+}\r\nGr\u00f6\u00dfe {5+}\r\nGross\r\n".encode())
    expect(r"^t OK", utf8.read_until_tagged("t")[1])
    assert "Gross/&ZeVnLA-" in names(legacy, 'LIST "" "*"')
    # IMAP4rev2 turns UTF-8 names on as well
    rev2 = login(legacy.user)
    ok(rev2, "ENABLE IMAP4rev2")
    assert "Entw\u00fcrfe" in names(rev2, 'LIST "" "*"')
    for c in (legacy, utf8, rev2):
        c.close()


def test_imaplib_client():
    """Python's imaplib as a real IMAP4rev1 client."""
    user = fresh_user()
    m = SRV.imap(user, PASSWORD)
    try:
        assert m.create("Projects/2024")[0] == "OK"
        typ, data = m.list()
        assert typ == "OK"
        listed = {re.search(rb'"/" "?([^"]*)"?$', x).group(1).decode() for x in data}
        assert {"INBOX", "Projects", "Projects/2024", "Sent"} <= listed, listed
        assert m.rename("Projects", "Work")[0] == "OK"
        assert m.subscribe("Work/2024")[0] == "OK"
        typ, data = m.lsub('""', "Work/*")
        assert typ == "OK" and data == [b'() "/" "Work/2024"'], data
        typ, data = m.status("Work/2024", "(MESSAGES UIDNEXT)")
        assert typ == "OK", data
        expect(r'^"Work/2024" \(MESSAGES 0 UIDNEXT \d+\)$', data[0].decode())
        assert m.delete("Work/2024")[0] == "OK"
        assert m.unsubscribe("Work/2024")[0] == "OK"
        assert m.create('"Entw&APw-rfe"')[0] == "OK"
        typ, data = m.list('""', "Entw*")
        assert data == [b'(\\HasNoChildren) "/" "Entw&APw-rfe"'], data
        typ, data = m.namespace()
        assert data == [b'(("" "/")) NIL NIL'], data
        assert m.delete("INBOX")[0] == "NO"
    finally:
        m.logout()


# --- malformed arguments ------------------------------------------------------------

def test_malformed_arguments_get_bad():
    c = login()
    for bad in ("CREATE", "CREATE a b c", "CREATE (a)", "CREATE foo*", "CREATE a%b",
                "CREATE \\Sent", "DELETE", "DELETE a b", "DELETE (a)",
                "RENAME a", "RENAME a b c", "RENAME (a) b",
                "SUBSCRIBE", "SUBSCRIBE a b", "UNSUBSCRIBE", "UNSUBSCRIBE (x)",
                "NAMESPACE x", "LIST", 'LIST ""', 'LIST "" "*" extra',
                'LIST "" ()', 'LIST "" "*" RETURN', 'LIST "" "*" RETURN CHILDREN',
                'LIST "" "*" RETURN (BOGUS)', 'LIST (BOGUS) "" "*"',
                'LIST ("SUBSCRIBED") "" "*"', 'LIST "" "*" FOO (CHILDREN)',
                'LIST * "*"', 'LIST "" (a (b))',
                "LSUB", 'LSUB ""', 'LSUB "" "*" x', 'LSUB "" ("*")',
                "ENABLE"):
        expect(r"^BAD ", answer(c, bad))
    # literal8 is no mailbox name
    c.send("t CREATE ~{1+}\r\nx\r\n")
    expect(r"^t BAD", c.read_until_tagged("t")[1])
    # NIL is a valid astring: the name "NIL"
    ok(c, "CREATE NIL")
    assert "NIL" in names(c, 'LIST "" "*"')
    # still usable afterwards
    assert names(c, 'LIST "" "INBOX"') == {"INBOX"}
    c.close()


def test_not_before_login():
    c = SRV.connect_tls()
    c.readline()
    for cmd in ("LIST \"\" \"*\"", "CREATE x", "STATUS INBOX (MESSAGES)", "ENABLE CONDSTORE",
                "NAMESPACE", "LSUB \"\" \"*\""):
        expect(r"^t BAD ", c.command("t", cmd)[1])
    c.close()


TESTS = [
    test_default_mailboxes_with_special_use,
    test_delimiter_namespace_and_inbox_case,
    test_create_levels_trailing_delimiter_and_inbox,
    test_create_refuses_bad_names,
    test_create_special_use,
    test_delete_rules,
    test_rename_moves_children_and_keeps_uidvalidity,
    test_rename_inbox,
    test_subscriptions,
    test_lsub_noselect_parents,
    test_list_wildcards_and_reference,
    test_list_recursivematch_and_childinfo,
    test_list_status_return_option,
    test_status,
    test_selected_state,
    test_enable,
    test_modified_utf7_and_utf8_names,
    test_imaplib_client,
    test_malformed_arguments_get_bad,
    test_not_before_login,
]


if __name__ == "__main__":
    require_accounts()
    SRV = mail_server()
    try:
        run_tests(TESTS)
    finally:
        SRV.stop_and_check()
