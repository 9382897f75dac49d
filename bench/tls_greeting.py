#!/usr/bin/env python3
"""Implicit-TLS IMAP greeting latency: how long a new client waits for "* OK".

For each of N new connections (one after another, or spread over C threads
that each make N/C connections one after another) the clock runs from the
start of the TCP connect, through the full TLS handshake, to the receipt of
the whole greeting line (up to CRLF). The connection is then closed. There is
no TLS session resumption, so each handshake is a full one.

--quickack is a diagnostic: the client then acknowledges every segment at once
(TCP_QUICKACK) instead of delaying its ACKs, which hides a server-side stall
of Nagle's algorithm (small writes on a socket without TCP_NODELAY). Real
clients delay their ACKs, so measure without it.

    tls_greeting.py PORT [-n N] [-c C] [--warmup W] [--save FILE]
        measure; print count, mean, median, p95, p99 and connections/second
    tls_greeting.py --summary LABEL=FILE[,FILE...] [LABEL=FILE...]
        merge samples saved with --save and print them; with two labels,
        also the ratios first/second of the median and of connections/second

Loopback addresses only. Every socket operation times out after 10 s; the
run stops after --max-errors failed connections or --deadline seconds.
Python standard library only. Exit status: 0 ok, 1 failed connections,
2 usage.
"""

import argparse
import ipaddress
import json
import math
import socket
import ssl
import statistics
import sys
import threading
import time

TIMEOUT = 10.0


def one_connection(ctx, host, port, quickack=False):
    """Seconds from connect start to the greeting line; (seconds, line, tls)."""
    def ack_now(s):
        if quickack:  # the kernel clears it again by itself: set it before each read
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    start = time.perf_counter()
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ack_now(raw)
        sock = ctx.wrap_socket(raw, server_hostname="localhost")
        raw = sock
        buf = b""
        while b"\r\n" not in buf:
            ack_now(sock)
            data = sock.recv(4096)
            if not data:
                raise EOFError("closed before the greeting; got %r" % buf)
            buf += data
            if len(buf) > 65536:
                raise ValueError("no CRLF in the first 64 KiB")
        elapsed = time.perf_counter() - start
        line = buf.split(b"\r\n", 1)[0].decode("utf-8", "replace")
        if not line.startswith("* OK"):
            raise ValueError("unexpected greeting %r" % line)
        return elapsed, line, "%s %s" % (sock.version(), sock.cipher()[0])
    finally:
        raw.close()


def run(host, port, n, concurrency, max_errors, deadline, quickack=False):
    """Make n connections over `concurrency` threads; return a result dict."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    lock = threading.Lock()
    latencies, errors, first = [], [], {}
    stop = threading.Event()
    end_by = time.monotonic() + deadline

    def worker(count):
        for _ in range(count):
            if stop.is_set():
                return
            if time.monotonic() > end_by:
                with lock:
                    errors.append("deadline of %g s passed" % deadline)
                stop.set()
                return
            try:
                elapsed, line, tls = one_connection(ctx, host, port, quickack)
            except (OSError, EOFError, ValueError) as e:
                with lock:
                    errors.append("%s: %s" % (type(e).__name__, e))
                    if len(errors) >= max_errors:
                        stop.set()
                continue
            with lock:
                latencies.append(elapsed)
                first.setdefault("greeting", line)
                first.setdefault("tls", tls)

    shares = [n // concurrency + (1 if i < n % concurrency else 0)
              for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in shares]
    wall_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall_start
    return {"host": host, "port": port, "concurrency": concurrency, "quickack": quickack,
            "wall_s": wall, "latencies_s": latencies, "errors": errors, **first}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    k = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[k - 1]


def stats(latencies, wall):
    v = sorted(latencies)
    if not v:
        return None
    return {"count": len(v), "mean_ms": 1000 * statistics.fmean(v),
            "median_ms": 1000 * statistics.median(v),
            "p95_ms": 1000 * percentile(v, 95), "p99_ms": 1000 * percentile(v, 99),
            "conn_per_s": len(v) / wall if wall > 0 else float("nan")}


HEADER = "%-10s %6s %9s %9s %9s %9s %9s" % (
    "server", "count", "mean ms", "median", "p95", "p99", "conn/s")


def row(label, s):
    return "%-10s %6d %9.3f %9.3f %9.3f %9.3f %9.1f" % (
        label, s["count"], s["mean_ms"], s["median_ms"], s["p95_ms"],
        s["p99_ms"], s["conn_per_s"])


def summary(specs):
    """Merge saved runs per label and print them (and the ratio of two)."""
    results = []
    for spec in specs:
        label, _, files = spec.partition("=")
        if not label or not files:
            sys.exit("--summary wants LABEL=FILE[,FILE...], not %r" % spec)
        lat, wall, errors, extra = [], 0.0, 0, {}
        for name in files.split(","):
            with open(name) as f:
                r = json.load(f)
            lat += r["latencies_s"]
            wall += r["wall_s"]
            errors += len(r["errors"])
            extra.setdefault("tls", r.get("tls"))
            extra.setdefault("concurrency", r.get("concurrency"))
            extra.setdefault("quickack", r.get("quickack"))
        s = stats(lat, wall)
        if s is None:
            sys.exit("%s: no successful connections" % label)
        results.append((label, s, errors, extra))
    print(HEADER)
    for label, s, errors, extra in results:
        print(row(label, s) + ("   (%d errors)" % errors if errors else ""))
    for label, s, errors, extra in results:
        print("%s: %s, concurrency %s%s" % (label, extra["tls"], extra["concurrency"],
                                            ", client quick ACKs" if extra["quickack"] else ""))
    if len(results) == 2:
        (a, sa, _, _), (b, sb, _, _) = results
        print("ratio %s/%s: median latency %.3f, connections/second %.3f" % (
            a, b, sa["median_ms"] / sb["median_ms"], sa["conn_per_s"] / sb["conn_per_s"]))
    return 1 if any(r[2] for r in results) else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int, nargs="?", help="implicit-TLS IMAP port")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    ap.add_argument("-n", type=int, default=1000, help="connections to measure (default 1000)")
    ap.add_argument("-c", type=int, default=1, help="concurrent threads (default 1)")
    ap.add_argument("--warmup", type=int, default=0, help="unmeasured connections first")
    ap.add_argument("--label", default="server", help="name in the output")
    ap.add_argument("--save", metavar="FILE", help="write the samples as JSON")
    ap.add_argument("--max-errors", type=int, default=10, help="stop after this many (default 10)")
    ap.add_argument("--deadline", type=float, default=600, help="stop after this many seconds")
    ap.add_argument("--quickack", action="store_true",
                    help="diagnostic: no delayed ACKs in the client (see above)")
    ap.add_argument("--summary", nargs="+", metavar="LABEL=FILES",
                    help="print merged saved runs instead of measuring")
    a = ap.parse_args()
    if a.summary:
        return summary(a.summary)
    if a.port is None or not 0 < a.port < 65536:
        ap.error("a port from 1 to 65535 is required")
    if not ipaddress.ip_address(a.host).is_loopback:
        ap.error("only loopback addresses are allowed, not %s" % a.host)
    if a.n < 1 or a.c < 1 or a.c > a.n or a.warmup < 0 or a.max_errors < 1:
        ap.error("need n >= 1, 1 <= c <= n, warmup >= 0, max-errors >= 1")

    if a.warmup:
        w = run(a.host, a.port, a.warmup, min(a.c, a.warmup), a.max_errors, a.deadline,
                a.quickack)
        if w["errors"]:
            print("warm-up failed: %s" % w["errors"][0], file=sys.stderr)
            return 1
    r = run(a.host, a.port, a.n, a.c, a.max_errors, a.deadline, a.quickack)
    if a.save:
        with open(a.save, "w") as f:
            json.dump(r, f)
    s = stats(r["latencies_s"], r["wall_s"])
    if s:
        print(HEADER)
        print(row(a.label, s))
        print("%s: %s; greeting %s" % (a.label, r["tls"], r["greeting"][:60]))
    for e in r["errors"][:3]:
        print("error: %s" % e, file=sys.stderr)
    if r["errors"]:
        print("%d failed and %d succeeded of %d planned connections" % (
            len(r["errors"]), len(r["latencies_s"]), a.n), file=sys.stderr)
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
