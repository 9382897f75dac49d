"""The greeting, the any-state commands, BAD for junk, TLS on the TLS port,
STARTTLS (imaplib and openssl s_client) and its injection rule, and the
unauthenticated timeout -- against the real cairnd over loopback."""

import imaplib
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (Server, client_tls_context, expect, require_accounts,  # noqa: E402
                       run_tests)

GREETING = (r"^\* OK \[CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL\+ ID IDLE STARTTLS LOGINDISABLED\] "
            r"Cairn ready$")


def test_greeting_and_capability_clear_text():
    with Server() as srv:
        c = srv.connect()
        expect(GREETING, c.readline())
        untagged, tagged = c.command("a1", "CAPABILITY")
        assert untagged == ["* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID IDLE STARTTLS "
                            "LOGINDISABLED"], untagged
        assert tagged == "a1 OK CAPABILITY completed", tagged
        assert c.command("a2", "noop") == ([], "a2 OK NOOP completed")
        untagged, tagged = c.command("a3", "LOGOUT")
        assert untagged == ["* BYE Logging out"], untagged
        assert tagged == "a3 OK LOGOUT completed"
        assert c.closed()


def test_bad_commands_get_bad():
    with Server() as srv:
        c = srv.connect()
        c.readline()
        expect(r"^b1 BAD Unknown command", c.command("b1", "FROBNICATE")[1])
        expect(r"^b2 BAD .*no arguments", c.command("b2", "NOOP extra")[1])
        expect(r"^b3 BAD", c.command("b3", 'CAPABILITY "unterminated')[1])
        c.send("\x01bad\r\n")
        expect(r"^\* BAD", c.readline())
        # a synchronizing literal gets its continuation, then the command runs
        c.send("b5 NOOP {3}\r\n")
        expect(r"^\+ ", c.readline())
        c.send("abc\r\n")
        expect(r"^b5 BAD .*no arguments", c.readline())
        # a literal over max-request-size (50mb default) is refused, no "+"
        c.send("b6 NOOP {99999999999}\r\n")
        expect(r"^b6 BAD", c.readline())
        # and the session goes on
        assert c.command("b7", "NOOP")[1] == "b7 OK NOOP completed"
        # a line over the 64 KiB bound
        c.send("b8 NOOP " + "x" * 70000 + "\r\n")
        expect(r"^b8 BAD", c.readline())
        assert c.command("b9", "NOOP")[1] == "b9 OK NOOP completed"
        c.close()


def test_oversized_nonsync_literal_closes():
    with Server(**{"max-request-size": "1kb"}) as srv:
        c = srv.connect()
        c.readline()
        c.send("c1 NOOP {5000+}\r\n")
        expect(r"^c1 BAD", c.readline())
        expect(r"^\* BYE", c.readline())
        assert c.closed()


def test_implicit_tls_port():
    with Server() as srv:
        c = srv.connect_tls()
        expect(r"^\* OK \[CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL\+ ID IDLE SASL-IR AUTH=PLAIN "
               r"AUTH=LOGIN\] Cairn ready$", c.readline())
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        untagged, tagged = c.command("t1", "CAPABILITY")
        assert "STARTTLS" not in untagged[0], untagged
        expect(r"t2 BAD TLS is already active|t2 BAD STARTTLS",
               c.command("t2", "STARTTLS")[1])
        c.close()


def test_tls_below_1_2_refused():
    import ssl
    import warnings
    with Server() as srv:
        # a client willing to speak TLS 1.1, so the refusal is the server's
        ctx = client_tls_context()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
        try:
            ctx.wrap_socket(raw, server_hostname="localhost")
        except ssl.SSLError as e:
            assert "VERSION" in str(e).upper(), e
        else:
            raise AssertionError("a TLS 1.1 handshake succeeded")
        finally:
            raw.close()
        # the same client allowed TLS 1.2 gets through
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        assert tls.version() == "TLSv1.2"
        tls.close()


def test_starttls_with_imaplib():
    with Server() as srv:
        imap = imaplib.IMAP4("127.0.0.1", srv.port)
        assert "STARTTLS" in imap.capabilities
        typ, _ = imap.starttls(ssl_context=client_tls_context())
        assert typ == "OK"
        assert "STARTTLS" not in imap.capabilities, imap.capabilities
        assert "LOGINDISABLED" not in imap.capabilities
        assert "AUTH=PLAIN" in imap.capabilities
        assert imap.noop()[0] == "OK"
        assert imap.logout()[0] == "BYE"


def test_starttls_with_openssl_s_client():
    with Server() as srv:
        p = subprocess.run(
            ["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
             "-starttls", "imap", "-quiet"],
            input=b"s1 CAPABILITY\r\ns2 LOGOUT\r\n", capture_output=True, timeout=20)
        out = p.stdout.decode()
        assert "s1 OK CAPABILITY completed" in out, (out, p.stderr.decode())
        assert "s2 OK LOGOUT completed" in out, out


def test_starttls_discards_pipelined_plaintext():
    with Server() as srv:
        c = srv.connect()
        c.readline()
        # RFC 9051 6.2.1: "inj NOOP" was sent in clear text after STARTTLS
        c.send("s1 STARTTLS\r\ninj NOOP\r\n")
        assert c.readline() == "s1 OK Begin TLS negotiation now"
        assert c.buf == b""
        tls = client_tls_context().wrap_socket(c.sock, server_hostname="localhost")
        from cairntest import Client
        t = Client(tls)
        untagged, tagged = t.command("s2", "NOOP")
        assert tagged == "s2 OK NOOP completed", tagged
        assert not any(line.startswith("inj") for line in untagged), untagged
        untagged, tagged = t.command("s3", "CAPABILITY")
        assert "STARTTLS" not in untagged[0]
        t.close()


def test_no_tls_configured():
    with Server(tls=False) as srv:
        c = srv.connect()
        greeting = c.readline()
        assert "STARTTLS" not in greeting, greeting
        expect(r"^n1 NO ", c.command("n1", "STARTTLS")[1])
        assert "TLS listener and STARTTLS are off" in srv.log_text()
        # no TLS listener was opened
        try:
            socket.create_connection(("127.0.0.1", srv.tls_port), timeout=2).close()
        except OSError:
            pass
        else:
            raise AssertionError("TLS port open without a certificate")


def test_unauthenticated_timeout():
    with Server(**{"timeout-unauthenticated": "2s"}) as srv:
        c = srv.connect(timeout=10)
        c.readline()
        start = time.monotonic()
        expect(r"^\* BYE Autologout", c.readline())
        assert c.closed()
        assert 1.5 < time.monotonic() - start < 8


def test_session_logs_carry_session_id():
    with Server() as srv:
        c = srv.connect()
        c.readline()
        c.command("l1", "LOGOUT")
        c.closed()
        time.sleep(0.3)
        log = srv.log_text()
        expect(r"cairnd\[\d+\]: info: session=[0-9a-f]{16}: connection from 127\.0\.0\.1",
               log)
        expect(r"cairn-imapd\[\d+\]: (debug|info): session=[0-9a-f]{16}: ", log)


if __name__ == "__main__":
    require_accounts()
    run_tests([
        test_greeting_and_capability_clear_text,
        test_bad_commands_get_bad,
        test_oversized_nonsync_literal_closes,
        test_implicit_tls_port,
        test_tls_below_1_2_refused,
        test_starttls_with_imaplib,
        test_starttls_with_openssl_s_client,
        test_starttls_discards_pipelined_plaintext,
        test_no_tls_configured,
        test_unauthenticated_timeout,
        test_session_logs_carry_session_id,
    ])
