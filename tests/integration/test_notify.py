"""NOTIFY (RFC 5465) against the real cairnd: a session that set NOTIFY
hears, without sending a command, of another session's new messages,
flag changes and expunges in its selected mailbox (EXISTS and FETCH of
the attributes it asked for), of changes to other mailboxes (STATUS), of
mailboxes created, renamed and deleted (LIST, OLDNAME, \\NonExistent) and
of subscriptions (LIST with or without \\Subscribed); NOTIFY SET STATUS;
SELECTED-DELAYED; IDLE under NOTIFY; NOTIFY NONE; BADEVENT and BAD; the
overflow; the inotify instance held only while NOTIFY is set; nothing
sent inside a command; and the polling fallback without inotify."""

import os
import pwd
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import IS_ROOT, MAIL_USER, append, cmd, expect, login, ok  # noqa: E402
from cairntest import INOTIFY_MAX, heard, hold_inotify_instances, nothing_more  # noqa: E402
from cairntest import require_accounts, run_tests, serving_child  # noqa: E402
from cairntest import running_mail_server as server  # noqa: E402


SET_A = ("NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge "
         "FlagChange)) (PERSONAL (MessageNew MessageExpunge MailboxName "
         "SubscriptionChange))")



def inotify_fds(pid):
    """How many inotify instances pid holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:inotify":
                n += 1
        except OSError:
            pass
    return n


def test_selected_mailbox_pushed():
    """B's APPEND, STORE and EXPUNGE reach A at once, as SELECTED asks."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "SELECT INBOX")
        ok(a, SET_A)
        nothing_more(a)
        ok(b, "SELECT INBOX")

        t = time.monotonic()
        append(b, subject="one")
        heard(a, r"^\* 1 EXISTS$", t)
        line = a.readline()
        if re.match(r"^\* \d RECENT$", line):      # IMAP4rev1 session
            line = a.readline()
        expect(r"^\* 1 FETCH \(UID 1 FLAGS \((\\Recent)?\)\)$", line)
        nothing_more(a)

        t = time.monotonic()
        ok(b, r"STORE 1 +FLAGS.SILENT (\Flagged)")
        heard(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged( \\Recent)?\)\)$", t)
        t = time.monotonic()
        ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        heard(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Deleted", t)
        t = time.monotonic()
        ok(b, "EXPUNGE")
        heard(a, r"^\* 1 EXPUNGE$", t)
        nothing_more(a)
        # and the session still answers commands as before
        assert ok(a, "NOOP") == []
        a.close()
        b.close()


def test_fetch_attributes_of_new_messages():
    """MessageNew (fetch-att ...) with a header section: a literal in the
    unsolicited FETCH; IMAP4rev2 (no RECENT); never \\Seen."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, "NOTIFY SET (SELECTED (MessageNew (FLAGS BODY[HEADER.FIELDS "
              "(SUBJECT)]) MessageExpunge))")
        t = time.monotonic()
        append(b, subject="pushed")
        heard(a, r"^\* 1 EXISTS$", t)
        first = a.readline()
        expect(r'^\* 1 FETCH \(UID 1 FLAGS \(\) BODY\[HEADER\.FIELDS \(SUBJECT\)\] '
               r'\{\d+\}$', first)
        n = int(re.search(r"\{(\d+)\}$", first).group(1))
        a.sock.settimeout(5)
        while len(a.buf) < n:
            a.buf += a.sock.recv(4096)
        body, a.buf = a.buf[:n], a.buf[n:]
        assert body == b"Subject: pushed\r\n\r\n", body
        assert a.readline() == ")"
        # no implicit \Seen: BODY[] came as BODY.PEEK[]
        assert ok(a, "FETCH 1 FLAGS") == [r"* 1 FETCH (FLAGS ())"]
        a.close()
        b.close()


def test_other_mailboxes_status():
    """A new message in another mailbox: STATUS; with CONDSTORE also
    HIGHESTMODSEQ; an expunge there: STATUS with fewer MESSAGES."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "SELECT INBOX")
        ok(a, SET_A)
        t = time.monotonic()
        uv, _ = append(b, "Sent")
        heard(a, r'^\* STATUS "Sent" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY %d '
              r'UNSEEN 1\)$' % uv, t)
        nothing_more(a)
        ok(a, "UNSELECT")
        ok(a, "ENABLE CONDSTORE")
        ok(a, "SELECT INBOX")
        t = time.monotonic()
        append(b, "Sent")
        line = heard(a, r'^\* STATUS "Sent" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY '
                     r'%d UNSEEN 2 HIGHESTMODSEQ \d+\)$' % uv, t)
        ok(b, "SELECT Sent")
        ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        # FlagChange is not asked for PERSONAL: the flag is not told
        nothing_more(a)
        t = time.monotonic()
        ok(b, "EXPUNGE")
        heard(a, r'^\* STATUS "Sent" \(MESSAGES 1 UIDNEXT 3 UIDVALIDITY %d '
              r'UNSEEN 1 HIGHESTMODSEQ \d+\)$' % uv, t)
        assert line
        a.close()
        b.close()


def test_mailbox_names_and_subscriptions():
    """CREATE, RENAME, DELETE: LIST, with OLDNAME and \\NonExistent;
    SUBSCRIBE and UNSUBSCRIBE: LIST with and without \\Subscribed."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "SELECT INBOX")
        ok(a, SET_A)
        t = time.monotonic()
        ok(b, "CREATE Projects")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Projects"$', t)
        nothing_more(a)
        t = time.monotonic()
        ok(b, "CREATE Projects/2026")
        # §5.4: the new mailbox and its parent
        heard(a, r'^\* LIST \(\\HasChildren\) "/" "Projects"$', t)
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Projects/2026"$', t)
        nothing_more(a)
        t = time.monotonic()
        ok(b, "RENAME Projects Work")
        # one LIST: the children moved with it (§5.4)
        heard(a, r'^\* LIST \(\\HasChildren\) "/" "Work" \("OLDNAME" '
              r'\("Projects"\)\)$', t)
        nothing_more(a)
        t = time.monotonic()
        ok(b, "DELETE Work/2026")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Work"$', t)
        heard(a, r'^\* LIST \(\\NonExistent\) "/" "Work/2026"$', t)
        t = time.monotonic()
        ok(b, "SUBSCRIBE Work")
        heard(a, r'^\* LIST \(\\HasNoChildren \\Subscribed\) "/" "Work"$', t)
        t = time.monotonic()
        ok(b, "UNSUBSCRIBE Work")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Work"$', t)
        t = time.monotonic()
        ok(b, "DELETE Work")
        heard(a, r'^\* LIST \(\\NonExistent\) "/" "Work"$', t)
        nothing_more(a)
        # RENAME INBOX: a new mailbox takes the messages, INBOX stays;
        # told as a rename (RFC 5465 §5.4, RFC 9051 §7.3.1 OLDNAME)
        ok(a, "UNSELECT")
        t = time.monotonic()
        append(b)
        heard(a, r'^\* STATUS "INBOX" \(MESSAGES 1 UIDNEXT 2 ', t)
        t = time.monotonic()
        ok(b, "RENAME INBOX Old")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Old" \("OLDNAME" '
              r'\("INBOX"\)\)$', t)
        heard(a, r'^\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 2 ', t)
        heard(a, r'^\* STATUS "Old" \(MESSAGES 1 UIDNEXT 2 ', t)
        nothing_more(a)
        a.close()
        b.close()


def test_notify_set_status():
    """NOTIFY SET STATUS: a STATUS for each watched mailbox but the
    selected one, with the items §3.1 names, before the tagged OK."""
    with server() as srv:
        a = login(srv)
        append(a, "Sent")
        ok(a, "CREATE Lists")
        ok(a, "CREATE Lists/imap")
        ok(a, "SELECT INBOX")
        untagged = ok(a, "NOTIFY SET STATUS (SELECTED (MessageNew "
                      "MessageExpunge)) (SUBTREE Lists (MessageNew "
                      "MessageExpunge)) (MAILBOXES (Sent INBOX Nothing) "
                      "(MessageNew MessageExpunge FlagChange))")
        assert len(untagged) == 3, untagged
        expect(r'^\* STATUS "Lists" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+\)$',
               untagged[0])
        expect(r'^\* STATUS "Lists/imap" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY '
               r'\d+\)$', untagged[1])
        # FlagChange: HIGHESTMODSEQ too; INBOX is selected: none for it
        expect(r'^\* STATUS "Sent" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ '
               r'HIGHESTMODSEQ \d+\)$', untagged[2])
        # without STATUS, none
        assert ok(a, "NOTIFY SET (PERSONAL (MessageNew MessageExpunge))") == []
        # not selected: INBOX too
        ok(a, "UNSELECT")
        untagged = ok(a, "NOTIFY SET STATUS (MAILBOXES INBOX (MessageNew "
                      "MessageExpunge))")
        assert len(untagged) == 1 and untagged[0].startswith('* STATUS "INBOX" '), \
            untagged
        a.close()


def test_selected_delayed():
    """SELECTED-DELAYED: new messages at once, expunges only with a
    command that allows them (§6.1.2)."""
    with server() as srv:
        a, b = login(srv), login(srv)
        append(b)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, "NOTIFY SET (SELECTED-DELAYED (MessageNew (UID) MessageExpunge))")
        ok(b, "SELECT INBOX")
        ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        ok(b, "EXPUNGE")
        t = time.monotonic()
        append(b)
        heard(a, r"^\* 2 EXISTS$", t)
        heard(a, r"^\* 2 FETCH \(UID 2\)$", t)
        nothing_more(a)
        # message 1 is still there for a: FETCH may not expunge
        untagged, tagged = cmd(a, "FETCH 1:* (UID)")
        assert tagged.startswith("OK"), tagged
        assert untagged == ["* 2 FETCH (UID 2)"], untagged
        assert ok(a, "NOOP") == ["* 1 EXPUNGE"]
        a.close()
        b.close()


def test_qresync_under_notify():
    """With QRESYNC enabled, expunges come as VANISHED (§5.3) and flag
    changes with their MODSEQ."""
    with server() as srv:
        a, b = login(srv), login(srv)
        append(b)
        append(b)
        ok(a, "ENABLE QRESYNC IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, "NOTIFY SET (SELECTED (MessageNew MessageExpunge FlagChange))")
        ok(b, "SELECT INBOX")
        t = time.monotonic()
        ok(b, r"STORE 2 +FLAGS.SILENT (\Seen)")
        heard(a, r"^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$", t)
        ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        heard(a, r"^\* 1 FETCH \(UID 1 FLAGS \(\\Deleted\) MODSEQ", t)
        t = time.monotonic()
        ok(b, "EXPUNGE")
        heard(a, r"^\* VANISHED 1$", t)
        # MessageNew without fetch attributes: EXISTS alone
        t = time.monotonic()
        append(b)
        heard(a, r"^\* 2 EXISTS$", t)
        nothing_more(a)
        a.close()
        b.close()


def test_no_selected_group():
    """Without SELECTED, nothing of the selected mailbox comes between
    commands (§3.1); the next command's end tells it, as ever."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, "NOTIFY SET (PERSONAL (MessageNew MessageExpunge))")
        append(b)
        t = time.monotonic()
        append(b, "Drafts")
        # INBOX is selected: no STATUS for it, no EXISTS either
        heard(a, r'^\* STATUS "Drafts" \(MESSAGES 1 UIDNEXT 2 ', t)
        assert ok(a, "NOOP") == ["* 1 EXISTS"]
        a.close()
        b.close()


def test_idle_under_notify():
    """In IDLE, exactly what NOTIFY asks (§4): other mailboxes too, and
    nothing of the selected one without SELECTED."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "NOTIFY SET (SELECTED-DELAYED (MessageNew (UID) MessageExpunge)) "
              "(MAILBOXES Junk (MessageNew MessageExpunge))")
        # IDLE in the authenticated state still hears of Junk
        a.send("i1 IDLE\r\n")
        expect(r"^\+ ", a.readline())
        t = time.monotonic()
        append(b, "Junk")
        heard(a, r'^\* STATUS "Junk" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ '
              r'UNSEEN 1\)$', t)
        a.send("DONE\r\n")
        assert a.read_until_tagged("i1")[1] == "i1 OK IDLE terminated"
        # selected, SELECTED-DELAYED: in IDLE expunges come at once
        ok(a, "SELECT Junk")
        ok(b, "SELECT Junk")
        a.send("i2 IDLE\r\n")
        expect(r"^\+ ", a.readline())
        t = time.monotonic()
        append(b, "Junk")
        heard(a, r"^\* 2 EXISTS$", t)
        heard(a, r"^\* 2 FETCH \(UID 2\)$", t)
        ok(b, r"STORE 1 +FLAGS.SILENT (\Deleted)")
        t = time.monotonic()
        ok(b, "EXPUNGE")
        heard(a, r"^\* 1 EXPUNGE$", t)
        nothing_more(a)
        a.send("DONE\r\n")
        assert a.read_until_tagged("i2")[1] == "i2 OK IDLE terminated"
        # the watch outlived IDLE: between commands it still works
        t = time.monotonic()
        append(b, "Junk")
        heard(a, r"^\* 2 EXISTS$", t)
        # NOTIFY SET without SELECTED: IDLE says nothing of Junk
        ok(a, "NOTIFY SET (PERSONAL (MailboxName))")
        a.send("i3 IDLE\r\n")
        expect(r"^\+ ", a.readline())
        append(b, "Junk")
        nothing_more(a)
        t = time.monotonic()
        ok(b, "CREATE Spam")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Spam"$', t)
        a.send("DONE\r\n")
        untagged, tagged = a.read_until_tagged("i3")
        assert tagged == "i3 OK IDLE terminated", tagged
        assert untagged == ["* 3 EXISTS"], untagged
        a.close()
        b.close()


def test_notify_none_and_the_watch():
    """No inotify instance without NOTIFY; one while NOTIFY SET holds; none
    after NOTIFY NONE, which also stops the notifications."""
    with server() as srv:
        a = login(srv)
        pid = serving_child(srv)
        ok(a, "SELECT INBOX")
        assert inotify_fds(pid) == 0
        ok(a, SET_A)
        assert inotify_fds(pid) == 1
        # IDLE shares it, and leaves it
        a.send("i IDLE\r\n")
        expect(r"^\+ ", a.readline())
        assert inotify_fds(pid) == 1
        a.send("DONE\r\n")
        a.read_until_tagged("i")
        assert inotify_fds(pid) == 1
        ok(a, "NOTIFY SET (PERSONAL (MailboxName))")
        assert inotify_fds(pid) == 1
        assert ok(a, "NOTIFY NONE") == []
        assert inotify_fds(pid) == 0
        b = login(srv)
        append(b)
        ok(b, "CREATE Quiet")
        nothing_more(a)
        untagged = ok(a, "NOOP")
        assert untagged[0] == "* 1 EXISTS", untagged
        b.close()
        a.close()


def test_bad_and_badevent():
    with server() as srv:
        a = login(srv)
        untagged, tagged = cmd(a, "NOTIFY SET (PERSONAL (MessageNew "
                               "MessageExpunge AnnotationChange))")
        assert tagged == ("NO [BADEVENT (MessageNew MessageExpunge FlagChange "
                          "MailboxName SubscriptionChange)] AnnotationChange "
                          "is not supported"), tagged
        tagged = cmd(a, "NOTIFY SET (PERSONAL (ServerMetadataChange))")[1]
        assert tagged.startswith("NO [BADEVENT ("), tagged
        for bad in ["NOTIFY", "NOTIFY SET", "NOTIFY SET STATUS",
                    "NOTIFY NONE (PERSONAL (MailboxName))",
                    "NOTIFY SET (SELECTED (MessageNew))",
                    "NOTIFY SET (PERSONAL (FlagChange))",
                    "NOTIFY SET (SELECTED (MailboxName))",
                    "NOTIFY SET (PERSONAL (MessageNew (UID) MessageExpunge))",
                    "NOTIFY SET (SELECTED (MessageNew (XYZ) MessageExpunge))",
                    "NOTIFY SET (SELECTED NONE) (SELECTED-DELAYED NONE)",
                    "NOTIFY SET (SUBTREE (MailboxName))",
                    "NOTIFY SET (EVERYWHERE (MailboxName))",
                    "NOTIFY SET (MAILBOXES (a \xe9) (MailboxName))"]:
            tagged = cmd(a, bad)[1]
            assert tagged.startswith("BAD "), (bad, tagged)
        # a refused NOTIFY SET leaves nothing set
        b = login(srv)
        ok(b, "CREATE Silent")
        nothing_more(a)
        # before login: not a command there
        c = srv.connect_tls()
        c.readline()
        assert c.command("x", "NOTIFY NONE")[1].startswith("x BAD")
        caps = ok(a, "CAPABILITY")[0]
        assert " NOTIFY" in caps, caps
        a.close()
        b.close()
        c.close()


def test_nothing_inside_a_command():
    """While a command's literal is on the way, nothing is pushed: the
    changes wait for its end."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, SET_A)
        data = b"Subject: slow\r\n\r\nbody\r\n"
        a.send("ap APPEND Drafts {%d}\r\n" % len(data))
        expect(r"^\+ ", a.readline())
        append(b)
        ok(b, "CREATE Elsewhere")
        nothing_more(a, 1.5)
        a.send(data + b"\r\n")
        untagged, tagged = a.read_until_tagged("ap")
        assert tagged.startswith("ap OK"), tagged
        # INBOX's EXISTS with the command's end, and MessageNew's FETCH
        # (§5.2); the rest right after; Drafts' STATUS not at all: the
        # message is this session's own (§5)
        assert untagged == ["* 1 EXISTS", "* 1 FETCH (UID 1 FLAGS ())"], untagged
        t = time.monotonic()
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Elsewhere"$', t)
        nothing_more(a)
        a.close()
        b.close()


def test_new_messages_at_a_command_end():
    """§5.2: new messages another session stores while a command runs are
    told by that command's EXISTS, followed by the FETCH of MessageNew's
    attributes, whichever command it is; those the session stores itself
    in its selected mailbox (APPEND, COPY) get the EXISTS alone."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, "NOTIFY SET (SELECTED (MessageNew (UID FLAGS ENVELOPE) "
              "MessageExpunge))")
        # b's message comes while a's command waits for its literal: a
        # hears of it at that command's end, whichever command it is
        cases = [("SEARCH SUBJECT", "during", ""), ("STATUS", "Sent", " (MESSAGES)"),
                 ('LIST ""', "*", "")]
        for i, (before, literal, after) in enumerate(cases, 1):
            tag = "x%d" % i
            a.send("%s %s {%d}\r\n" % (tag, before, len(literal)))
            expect(r"^\+ ", a.readline())
            append(b, subject="during")
            a.send(literal + after + "\r\n")
            untagged, tagged = a.read_until_tagged(tag)
            assert tagged.startswith(tag + " OK"), tagged
            new = [line for line in untagged
                   if re.match(r"^\* \d+ (EXISTS|FETCH)", line)]
            assert len(new) == 2 and new[0] == "* %d EXISTS" % i, untagged
            expect(r'^\* %d FETCH \(UID %d FLAGS \(\) ENVELOPE \(.*"during"'
                   % (i, i), new[1])
            nothing_more(a, 0.3)
        # own APPEND and COPY into the selected mailbox: EXISTS, no FETCH
        data = b"Subject: mine\r\n\r\nmine\r\n"
        untagged, tagged = a.command("o1", "APPEND INBOX {%d+}\r\n" % len(data) +
                                     data.decode())
        assert tagged.startswith("o1 OK"), tagged
        assert untagged == ["* 4 EXISTS"], untagged
        assert ok(a, "COPY 1:2 INBOX") == ["* 6 EXISTS"]
        nothing_more(a)
        # another's message still gets its FETCH at the next look
        t = time.monotonic()
        append(b)
        heard(a, r"^\* 7 EXISTS$", t)
        heard(a, r"^\* 7 FETCH \(UID 7 FLAGS \(\) ENVELOPE ", t)
        a.close()
        b.close()


def test_own_changes_not_told():
    """§5: what this session's own commands change (CREATE, RENAME,
    SUBSCRIBE, UNSUBSCRIBE, DELETE, APPEND and COPY to another mailbox,
    RENAME INBOX) is not told back to it; what another session changes
    meanwhile still is, the same name excepted."""
    with server() as srv:
        a, b = login(srv), login(srv)
        ok(a, "ENABLE IMAP4rev2")
        ok(a, "SELECT INBOX")
        ok(a, SET_A)
        for command in ["CREATE Mine", "CREATE Mine/sub", "RENAME Mine Ours",
                        "SUBSCRIBE Ours", "UNSUBSCRIBE Ours", "DELETE Ours/sub",
                        "DELETE Ours", "CREATE Deep/er/est"]:
            assert ok(a, command) == [], command
            nothing_more(a, 0.5)
        append(a, "Sent")
        nothing_more(a, 0.5)
        append(a)
        nothing_more(a, 0.5)
        ok(a, "COPY 1 Drafts")
        nothing_more(a, 0.5)
        ok(a, "MOVE 1 Junk")
        nothing_more(a, 0.5)
        # another session's changes are told as before
        t = time.monotonic()
        ok(b, "CREATE Theirs")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Theirs"$', t)
        t = time.monotonic()
        append(b, "Sent")
        heard(a, r'^\* STATUS "Sent" \(MESSAGES 2 UIDNEXT 3 ', t)
        nothing_more(a)
        # RENAME INBOX: INBOX stays, its messages go to a new mailbox
        ok(a, "UNSELECT")
        append(a)
        nothing_more(a, 0.5)
        ok(a, "RENAME INBOX Old")
        nothing_more(a)
        a.close()
        b.close()


def test_overflow():
    """Over NOTIFY_MAX_MAILBOXES (5000) mailboxes and subscriptions: NOTIFY
    SET is refused; passing it later ends NOTIFY (§5.8).  Its 5000 commands
    in a few seconds are over the default rate-limit (2000 a minute), which
    would delay them for a minute and a half: a higher one here."""
    with server(**{"rate-limit": '"100000/1m"'}) as srv:
        a, b = login(srv), login(srv)
        # 6 mailboxes and their 6 subscriptions to begin with
        b.send("".join("s%d SUBSCRIBE n%d\r\n" % (i, i) for i in range(4990)))
        assert b.read_until_tagged("s4989")[1].startswith("s4989 OK")
        tagged = cmd(a, "NOTIFY SET (PERSONAL (MailboxName))")[1]
        assert tagged.startswith("NO [NOTIFICATIONOVERFLOW]"), tagged
        for i in range(10):
            ok(b, "UNSUBSCRIBE n%d" % i)
        ok(a, "NOTIFY SET (PERSONAL (MailboxName))")
        t = time.monotonic()
        ok(b, "CREATE Last")
        heard(a, r'^\* LIST \(\\HasNoChildren\) "/" "Last"$', t)
        # 4993 now: eight more pass the bound
        t = time.monotonic()
        for i in range(10):
            ok(b, "SUBSCRIBE n%d" % i)
        heard(a, r"^\* OK \[NOTIFICATIONOVERFLOW\]", t, bound=3)
        ok(b, "CREATE Unheard")
        nothing_more(a)
        assert ok(a, "NOOP") == []
        a.close()
        b.close()



def test_fallback_without_inotify():
    """With the mail user's inotify instances used up, NOTIFY looks twice
    a second instead: still within the bound."""
    if not IS_ROOT:
        print("skipped: needs root to act as the mail user")
        return
    with open(INOTIFY_MAX) as f:
        limit = int(f.read())
    if limit > 10000:
        print("skipped: %s is %d, too many to use up" % (INOTIFY_MAX, limit))
        return
    holder = None
    with server() as srv:
        try:
            a, b = login(srv), login(srv)
            ok(a, "SELECT INBOX")
            holder = hold_inotify_instances(pwd.getpwnam(MAIL_USER).pw_uid)
            ok(a, SET_A)
            t = time.monotonic()
            append(b, "Sent")
            heard(a, r'^\* STATUS "Sent" \(MESSAGES 1 ', t)
            t = time.monotonic()
            append(b)
            heard(a, r"^\* 1 EXISTS$", t)
            assert "NOTIFY SET: 2 groups, 12 mailboxes and subscriptions " \
                "watched, looking by time" in srv.log_text()
            a.close()
            b.close()
        finally:
            if holder is not None:
                os.kill(holder, 9)
                os.waitpid(holder, 0)


def test_inactivity_timeout_under_notify():
    """NOTIFY's wait between commands keeps timeout-authenticated."""
    with server(**{"timeout-authenticated": "2s"}) as srv:
        c = login(srv)
        ok(c, "SELECT INBOX")
        ok(c, SET_A)
        started = time.monotonic()
        c.sock.settimeout(10)
        expect(r"^\* BYE Autologout", c.readline())
        assert c.closed()
        assert 1.5 < time.monotonic() - started < 6


if __name__ == "__main__":
    require_accounts()
    run_tests([test_selected_mailbox_pushed, test_fetch_attributes_of_new_messages,
               test_other_mailboxes_status, test_mailbox_names_and_subscriptions,
               test_notify_set_status, test_selected_delayed,
               test_qresync_under_notify,
               test_no_selected_group, test_idle_under_notify,
               test_notify_none_and_the_watch, test_bad_and_badevent,
               test_nothing_inside_a_command, test_new_messages_at_a_command_end,
               test_own_changes_not_told,
               test_overflow,
               test_fallback_without_inotify, test_inactivity_timeout_under_notify])
