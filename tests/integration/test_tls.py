"""TLS hardening (imapd/tls.c, common/config.c): TLS 1.2 with ECDHE and
AEAD ciphers only, in the server's order; no session tickets; a private key
that group or others may read, or that someone else owns, refused at start,
by cairnd -t and at reload."""

import os
import pwd
import signal
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cairntest import (CAIRND, IS_ROOT, Server, client_tls_context,  # noqa: E402
                       run_tests, wait_for)


def handshake(srv, ctx):
    """The TLS socket after the handshake and the greeting, or the SSLError."""
    raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10)
    try:
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
    except ssl.SSLError as e:
        raw.close()
        return e
    data = b""
    while b"\r\n" not in data:
        chunk = tls.recv(4096)
        assert chunk, "closed before the greeting"
        data += chunk
    assert data.startswith(b"* OK"), data
    return tls


def tls12(ciphers):
    ctx = client_tls_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    return ctx


def test_weak_tls12_ciphers_refused():
    with Server() as srv:
        # CBC with SHA-1 or SHA-384 MACs: OpenSSL's default list has them,
        # Mozilla's intermediate one does not (no AEAD); and without
        # forward secrecy (plain RSA/ECDH key exchange) nothing at all
        for weak in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                     "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                     "AES128-GCM-SHA256", "AES128-SHA"):
            r = handshake(srv, tls12(weak + ":@SECLEVEL=0"))
            assert isinstance(r, ssl.SSLError), (weak, r.cipher())
            assert "HANDSHAKE" in str(r).upper() or "CIPHER" in str(r).upper(), (weak, r)
        # a modern one is accepted
        r = handshake(srv, tls12("ECDHE-ECDSA-AES256-GCM-SHA384"))
        assert not isinstance(r, ssl.SSLError), r
        assert r.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384", r.cipher()
        r.close()


def test_server_chooses_the_cipher():
    with Server() as srv:
        # the client prefers CHACHA20, then AES-256; the server's list puts
        # AES-128-GCM first, and its order wins
        r = handshake(srv, tls12("ECDHE-ECDSA-CHACHA20-POLY1305:"
                                 "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                 "ECDHE-ECDSA-AES128-GCM-SHA256"))
        assert not isinstance(r, ssl.SSLError), r
        assert r.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256", r.cipher()
        r.close()


def test_no_session_ticket():
    with Server() as srv:
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = client_tls_context()
            ctx.minimum_version = ctx.maximum_version = version
            r = handshake(srv, ctx)
            assert not isinstance(r, ssl.SSLError), (version, r)
            # a TLS 1.3 ticket comes after the handshake: the greeting
            # was read after it, so one sent would be here by now
            r.send(b"a NOOP\r\n")
            r.recv(4096)
            assert r.session is not None
            assert not r.session.has_ticket, version
            assert r.compression() is None
            r.close()


def check_refused(srv, why):
    """cairnd -t and a start both refuse the key, saying why."""
    p = subprocess.run([CAIRND, "-t", "-c", srv.conf], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0, p.stdout
    assert "key-path" in p.stderr and why in p.stderr, p.stderr
    p = subprocess.run([CAIRND, "-F", "-c", srv.conf], capture_output=True,
                       text=True, timeout=30, env=srv.env)
    assert p.returncode != 0, p.stderr
    assert "key-path" in p.stderr and why in p.stderr, p.stderr


def test_key_readable_by_others_refused():
    srv = Server()
    try:
        for mode in (0o644, 0o640, 0o604, 0o620):
            os.chmod(srv.key, mode)
            check_refused(srv, "open to group or others (mode %04o)" % mode)
        os.chmod(srv.key, 0o600)
        p = subprocess.run([CAIRND, "-t", "-c", srv.conf], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        os.chmod(srv.key, 0o400)
        srv.start()  # a read-only 0400 key is fine too
    finally:
        srv.stop()


def test_reload_with_an_open_key_refused():
    with Server() as srv:
        os.chmod(srv.key, 0o644)
        srv.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running settings" in srv.log_text(),
                 what="the reload to be refused")
        assert "open to group or others (mode 0644)" in srv.log_text()
        # the running settings serve on
        os.chmod(srv.key, 0o600)
        r = handshake(srv, client_tls_context())
        assert not isinstance(r, ssl.SSLError), r
        r.close()


def test_key_owned_by_someone_else_refused():
    srv = Server()
    try:
        if IS_ROOT:
            # readable by root still, but owned by an ordinary account
            os.chown(srv.key, pwd.getpwnam("nobody").pw_uid, -1)
            check_refused(srv, "not by root")
        else:
            # an ordinary user cannot give a file away; a root-owned key
            # that the user may read (0600 is root's alone) stands in
            p = subprocess.run([CAIRND, "-t", "-c", srv.conf],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            assert os.stat(srv.key).st_uid == os.geteuid()
    finally:
        srv.stop()


if __name__ == "__main__":
    run_tests([test_weak_tls12_ciphers_refused, test_server_chooses_the_cipher,
               test_no_session_ticket, test_key_readable_by_others_refused,
               test_reload_with_an_open_key_refused,
               test_key_owned_by_someone_else_refused])
