#!/usr/bin/env python3
"""IMAP login throughput over implicit TLS: logins per second with C clients.

Each of C client threads (default 8) repeats the full cycle a mail client
goes through to log in, one cycle after another:

    TCP connect to HOST:PORT, full TLS handshake (no session resumption),
    read the "* OK" greeting, "a LOGIN user password" -> expect "a OK",
    "b LOGOUT" -> expect "b OK", close.

An IMAP session cannot log in twice, so every login is a new connection.
Recorded per cycle: the LOGIN command alone (from sending it to the tagged
OK: the server's password check plus its session set-up, so the cost of the
password process shows apart from TLS set-up), connect+TLS+greeting, LOGOUT,
and the whole cycle (connect to close). logins/s is the number of completed
cycles divided by the wall time of the measured run.

With --server-pid the CPU time of the server's process tree (and of its
password process) per login is reported, and so is the CPU time of
everything else on the machine ("other"), which should be near zero: this
client and the server share the machine, and other load skews the result.

--quickack is a diagnostic (as in tls_greeting.py): the client acknowledges
every segment at once, which hides a server-side Nagle stall (small writes
without TCP_NODELAY waiting for the client's delayed ACK).

The run stops by itself: after --duration seconds (default 20; no new cycle
starts after that), after -n cycles in all if given, or after --max-errors
failed cycles. Every socket operation times out after 10 s. Loopback
addresses only.

Thread i logs in as the i-th entry (cyclically) of --credentials FILE, whose
lines are "USER PASSWORD" (so a password never appears in the process list),
or as --user with the password read from the first line of standard input.

    logins.py PORT --credentials FILE [-c C] [-d SECONDS] [-n N]
              [--warmup SECONDS] [--label NAME] [--save FILE] [--server-pid PID]
              [--quickack]
        measure; print logins/s, latencies (mean, median, p95) of LOGIN and
        of the whole cycle, errors, the CPU time used by this client and by
        the whole machine, and with --server-pid the CPU time per login of
        that server's process tree and of its password process(es)
    logins.py --summary LABEL=FILE[,FILE...] [LABEL=FILE...]
        print runs saved with --save, one row each, plus their merge per
        label; with two labels, also the ratio first/second of logins/s

Python standard library only. Exit status: 0 ok, 1 failed cycles, 2 usage.
"""

import argparse
import ipaddress
import json
import math
import os
import socket
import ssl
import statistics
import sys
import threading
import time

TIMEOUT = 10.0
MAX_LINE = 65536


class CycleError(Exception):
    """A cycle that did not end with both commands answered OK."""


class Conn:
    """Just enough of an IMAP client: lines in, commands out."""

    def __init__(self, sock, before_read=None):
        self.sock = sock
        self.buf = b""
        self.before_read = before_read

    def readline(self):
        while b"\r\n" not in self.buf:
            if self.before_read:
                self.before_read()
            data = self.sock.recv(4096)
            if not data:
                raise CycleError("connection closed; last data %r" % self.buf[-80:])
            self.buf += data
            if len(self.buf) > MAX_LINE:
                raise CycleError("no CRLF in 64 KiB")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def command(self, tag, text):
        """Send `tag text`; return the tagged reply line (untagged ones skipped)."""
        self.sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return line


def quoted(s):
    """An IMAP quoted string (the passwords used here have no CR/LF)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def one_cycle(ctx, host, port, user, password, quickack=False):
    """Return the seconds of (greeting, LOGIN, LOGOUT, whole cycle) or raise.

    greeting: connect, TLS handshake and greeting line; LOGIN and LOGOUT:
    from sending the command to its tagged reply; the cycle ends after close."""
    def ack_now(s):
        if quickack:  # the kernel clears it again by itself: set it before each read
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    start = time.perf_counter()
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    sock = raw
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ack_now(raw)
        sock = ctx.wrap_socket(raw, server_hostname="localhost")
        c = Conn(sock, lambda: ack_now(sock))
        greeting = c.readline()
        t0 = time.perf_counter()
        if not greeting.startswith("* OK"):
            raise CycleError("greeting %r" % greeting[:80])
        reply = c.command("a", "LOGIN %s %s" % (quoted(user), quoted(password)))
        t1 = time.perf_counter()
        if not reply.startswith("a OK"):
            raise CycleError("LOGIN %s: %r" % (user, reply[:120]))
        reply = c.command("b", "LOGOUT")
        t2 = time.perf_counter()
        if not reply.startswith("b OK"):
            raise CycleError("LOGOUT: %r" % reply[:120])
    finally:
        sock.close()
    return t0 - start, t1 - t0, t2 - t1, time.perf_counter() - start


def cpu_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat, or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    return sum(v) - idle, sum(v)


def tree_cpu(root, auth_names):
    """CPU seconds of a server: (all, auth) for the process tree under root.

    The sum of utime+stime of every live process in the tree plus the
    cutime+cstime of each (the children it has reaped), so processes that
    came and went between two samples are counted once they are reaped. "auth"
    is the share of processes whose command name is in auth_names. None when
    /proc cannot be read."""
    procs = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue  # gone, or not ours to read
        comm = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): ppid is 4, utime..cstime are 14..17
        procs[int(name)] = (int(fields[1]), comm, [int(x) for x in fields[11:15]])
    if root not in procs:
        return None
    children = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    hz = os.sysconf("SC_CLK_TCK")
    total = auth = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        _, comm, (ut, st, cut, cst) = procs[pid]
        total += ut + st + cut + cst
        if comm in auth_names:
            auth += ut + st + cut + cst
        todo += children.get(pid, [])
    return total / hz, auth / hz


def run(host, port, creds, threads, duration, total, max_errors, server_pid=None,
        auth_names=(), quickack=False):
    """Run the cycles; return a result dict (samples included)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    lock = threading.Lock()
    greets, logins, logouts, cycles, errors = [], [], [], [], []
    started = [0]
    stop = threading.Event()
    end_by = time.monotonic() + duration

    def worker(i):
        user, password = creds[i % len(creds)]
        while not stop.is_set() and time.monotonic() < end_by:
            with lock:
                if total is not None and started[0] >= total:
                    return
                started[0] += 1
            try:
                greet, login, logout, cycle = one_cycle(ctx, host, port, user, password,
                                                        quickack)
            except (OSError, CycleError) as e:
                with lock:
                    errors.append("%s: %s" % (type(e).__name__, e))
                    if len(errors) >= max_errors:
                        stop.set()
                continue
            with lock:
                greets.append(greet)
                logins.append(login)
                logouts.append(logout)
                cycles.append(cycle)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True)
            for i in range(threads)]
    cpu0, busy0 = os.times(), cpu_busy()
    srv0 = tree_cpu(server_pid, auth_names) if server_pid else None
    wall0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - wall0
    cpu1, busy1 = os.times(), cpu_busy()
    srv1 = tree_cpu(server_pid, auth_names) if server_pid else None
    server = None
    if srv0 and srv1:
        server = {"cpu_s": srv1[0] - srv0[0], "auth_cpu_s": srv1[1] - srv0[1]}
    machine = None
    if busy0 and busy1 and busy1[1] > busy0[1]:
        machine = (busy1[0] - busy0[0]) / (busy1[1] - busy0[1])
    return {"host": host, "port": port, "threads": threads, "users": len(creds),
            "duration_s": duration, "wall_s": wall,
            "client_cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            "machine_busy": machine, "ncpu": os.cpu_count(), "server": server,
            "quickack": quickack, "greeting_s": greets, "login_s": logins,
            "logout_s": logouts, "cycle_s": cycles, "errors": errors}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    k = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[k - 1]


def lat(values):
    v = sorted(values)
    if not v:
        return (float("nan"),) * 3
    return (1000 * statistics.fmean(v), 1000 * statistics.median(v),
            1000 * percentile(v, 95))


HEADER = ("%-17s %6s %8s | %-22s | %-22s | %-13s | %6s | %-13s | %7s %6s %5s" % (
    "run", "logins", "logins/s", "LOGIN ms mean/med/p95", "cycle ms mean/med/p95",
    "med greet/OUT", "errors", "srv CPU ms/lg", "cli CPU", "other", "busy"))


def row(label, r):
    n = len(r["cycle_s"])
    wall = r["wall_s"]
    rate = n / wall if wall > 0 else float("nan")
    busy = r.get("machine_busy")
    srv = r.get("server")
    if srv and n:
        cpu = "%6.1f %6.1f" % (1000 * srv["cpu_s"] / n, 1000 * srv["auth_cpu_s"] / n)
    else:
        cpu = "%6s %6s" % ("?", "?")
    other = "?"
    if srv and busy is not None and r.get("ncpu") and wall > 0:
        rest = busy * r["ncpu"] * wall - srv["cpu_s"] - r["client_cpu_s"]
        other = "%.0f%%" % max(0.0, 100 * rest / wall)
    return ("%-17s %6d %8.1f | %6.1f %6.1f %8.1f | %6.1f %6.1f %8.1f | %6.1f %6.1f |"
            " %6d | %s | %6.0f%% %6s %4s" % (
                (label, n, rate) + lat(r["login_s"]) + lat(r["cycle_s"]) +
                (lat(r.get("greeting_s", []))[1], lat(r.get("logout_s", []))[1]) +
                (len(r["errors"]), cpu, 100 * r["client_cpu_s"] / wall if wall > 0 else 0,
                 other, "%.0f%%" % (100 * busy) if busy is not None else "?")))


def merge(runs):
    m = {"login_s": [], "cycle_s": [], "greeting_s": [], "logout_s": [], "errors": [],
         "wall_s": 0.0, "client_cpu_s": 0.0,
         "server": {"cpu_s": 0.0, "auth_cpu_s": 0.0}, "ncpu": runs[0].get("ncpu")}
    busy_w = 0.0
    for r in runs:
        for k in ("login_s", "cycle_s", "greeting_s", "logout_s", "errors"):
            m[k] += r.get(k, [])
        m["wall_s"] += r["wall_s"]
        m["client_cpu_s"] += r["client_cpu_s"]
        if r.get("server") is None or m["server"] is None:
            m["server"] = None
        else:
            for k in ("cpu_s", "auth_cpu_s"):
                m["server"][k] += r["server"][k]
        if r.get("machine_busy") is None:
            busy_w = None
        elif busy_w is not None:
            busy_w += r["machine_busy"] * r["wall_s"]
    m["machine_busy"] = busy_w / m["wall_s"] if busy_w is not None and m["wall_s"] else None
    return m


def print_legend():
    print("LOGIN: from sending 'a LOGIN' to 'a OK'. cycle: connect, TLS, greeting, LOGIN,\n"
          "LOGOUT, close. med greet/OUT: medians of connect+TLS+greeting and of LOGOUT\n"
          "(sent to 'b OK'). srv CPU ms/lg: CPU time of the server's whole process tree per\n"
          "login, then of its password process(es) alone (cairn-authd; Dovecot's auth).\n"
          "cli CPU: this client's CPU time / wall time (100% = one CPU). other: CPU time of\n"
          "everything else on the machine / wall time (should be near 0: other load skews\n"
          "the result). busy: the whole machine, all CPUs, during the run.")


def summary(specs):
    groups = []
    for spec in specs:
        label, _, files = spec.partition("=")
        if not label or not files:
            sys.exit("--summary wants LABEL=FILE[,FILE...], not %r" % spec)
        runs = []
        for name in files.split(","):
            with open(name) as f:
                runs.append(json.load(f))
        groups.append((label, runs))
    print(HEADER)
    for label, runs in groups:
        for i, r in enumerate(runs):
            print(row("%s #%d" % (label, i + 1), r))
        if len(runs) > 1:
            print(row("%s all" % label, merge(runs)))
    print_legend()
    r0 = groups[0][1][0]
    print("%d client threads, %d users, %d CPUs on the machine (client and servers share them)"
          % (r0["threads"], r0["users"], r0["ncpu"] or 0))
    bad = 0
    for label, runs in groups:
        for i, r in enumerate(runs):
            srv, busy = r.get("server"), r.get("machine_busy")
            if srv and busy is not None and r.get("ncpu") and r["wall_s"] > 0:
                rest = (busy * r["ncpu"] * r["wall_s"] - srv["cpu_s"] - r["client_cpu_s"])
                if rest / r["wall_s"] > 0.25:
                    print("WARNING: %s #%d: other processes used %.0f%% of a CPU: "
                          "this run is skewed" % (label, i + 1, 100 * rest / r["wall_s"]))
            if r.get("quickack"):
                print("%s #%d: client with TCP_QUICKACK (diagnostic)" % (label, i + 1))
            for e in r["errors"][:3]:
                print("%s error: %s" % (label, e))
            bad += len(r["errors"])
    if len(groups) == 2:
        (a, ra), (b, rb) = groups
        ma, mb = merge(ra), merge(rb)
        rate_a, rate_b = len(ma["cycle_s"]) / ma["wall_s"], len(mb["cycle_s"]) / mb["wall_s"]
        per_run = ", ".join("%.3f" % ((len(x["cycle_s"]) / x["wall_s"]) /
                                      (len(y["cycle_s"]) / y["wall_s"]))
                            for x, y in zip(ra, rb) if y["cycle_s"])
        print("ratio %s/%s of logins/s: %.3f (run by run: %s); of median LOGIN latency: %.3f"
              % (a, b, rate_a / rate_b if rate_b else float("nan"), per_run,
                 lat(ma["login_s"])[1] / lat(mb["login_s"])[1]))
    return 1 if bad else 0


def read_credentials(a):
    creds = []
    if a.credentials:
        with open(a.credentials) as f:
            for n, line in enumerate(f, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.rstrip("\r\n").split(" ", 1)
                if len(parts) != 2 or not parts[0] or not parts[1]:
                    sys.exit("%s:%d: want 'USER PASSWORD'" % (a.credentials, n))
                creds.append((parts[0], parts[1]))
    elif a.user:
        creds.append((a.user, sys.stdin.readline().rstrip("\r\n")))
    for u, p in creds:
        if any(ch in u + p for ch in "\r\n\0"):
            sys.exit("user names and passwords cannot contain CR, LF or NUL")
    return creds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int, nargs="?", help="implicit-TLS IMAP port")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    ap.add_argument("-c", "--threads", type=int, default=8, help="client threads (default 8)")
    ap.add_argument("-d", "--duration", type=float, default=20.0,
                    help="seconds to measure (default 20; at most 3600)")
    ap.add_argument("-n", "--count", type=int, help="stop after this many cycles in all")
    ap.add_argument("--warmup", type=float, default=0.0,
                    help="seconds of unmeasured cycles first (default 0)")
    ap.add_argument("--credentials", metavar="FILE", help="lines 'USER PASSWORD'")
    ap.add_argument("--user", help="one user for every thread; password on stdin")
    ap.add_argument("--label", default="server", help="name in the output")
    ap.add_argument("--save", metavar="FILE", help="write the samples as JSON")
    ap.add_argument("--max-errors", type=int, default=20, help="stop after this many (default 20)")
    ap.add_argument("--server-pid", type=int, metavar="PID",
                    help="also report the CPU time of this server's process tree (Linux)")
    ap.add_argument("--auth-comm", default="cairn-authd,auth", metavar="NAMES",
                    help="command names of the password process(es), comma-separated "
                    "(default cairn-authd,auth)")
    ap.add_argument("--quickack", action="store_true",
                    help="diagnostic: no delayed ACKs in the client (TCP_QUICKACK), which "
                    "hides a server's Nagle stalls; real clients delay their ACKs")
    ap.add_argument("--summary", nargs="+", metavar="LABEL=FILES",
                    help="print saved runs instead of measuring")
    a = ap.parse_args()
    if a.summary:
        return summary(a.summary)
    if a.port is None or not 0 < a.port < 65536:
        ap.error("a port from 1 to 65535 is required")
    if not ipaddress.ip_address(a.host).is_loopback:
        ap.error("only loopback addresses are allowed, not %s" % a.host)
    if not 1 <= a.threads <= 256 or not 0 < a.duration <= 3600 or \
            not 0 <= a.warmup <= 600 or a.max_errors < 1 or (a.count is not None and a.count < 1):
        ap.error("need 1 <= threads <= 256, 0 < duration <= 3600, 0 <= warmup <= 600, "
                 "max-errors >= 1, count >= 1")
    if bool(a.credentials) == bool(a.user):
        ap.error("give either --credentials FILE or --user NAME")
    creds = read_credentials(a)
    if not creds:
        ap.error("no credentials")

    if a.warmup:
        w = run(a.host, a.port, creds, a.threads, a.warmup, None, a.max_errors,
                quickack=a.quickack)
        if w["errors"]:
            print("warm-up failed: %s" % w["errors"][0], file=sys.stderr)
            return 1
    r = run(a.host, a.port, creds, a.threads, a.duration, a.count, a.max_errors,
            a.server_pid, tuple(a.auth_comm.split(",")), a.quickack)
    if a.save:
        with open(a.save, "w") as f:
            json.dump(r, f)
    print(HEADER)
    print(row(a.label, r))
    print_legend()
    for e in r["errors"][:5]:
        print("error: %s" % e, file=sys.stderr)
    if r["errors"]:
        print("%d failed and %d completed cycles" % (len(r["errors"]), len(r["cycle_s"])),
              file=sys.stderr)
    return 1 if r["errors"] or not r["cycle_s"] else 0


if __name__ == "__main__":
    sys.exit(main())
