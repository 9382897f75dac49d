#!/usr/bin/env python3
"""The report of bench/run-load.sh: merges the results imapload saved
(`imapload sessions --save`, `imapload mix --save`) and prints the tables
with the ratios cairn/dovecot.

    loadreport.py sessions DIR    # DIR/sessions.N.SERVER files
    loadreport.py mix DIR         # DIR/mix.SERVER.HALF files

Percentiles are nearest-rank, as in imapload.  Exit status 1 when a mixed
run had a protocol error or a message not where it should be.
"""
import glob
import math
import os
import sys

OPS = ["NOOP", "SELECT", "EXAMINE", "FETCH-FLAGS", "FETCH-HEADERS", "FETCH-BODY",
       "SEARCH", "STORE", "APPEND", "COPY", "MOVE", "EXPUNGE", "IDLE", "LOGOUT+LOGIN"]


def load(path):
    """key -> value, and series name -> list of microseconds"""
    keys, series = {}, {}
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        parts = lines[i].split()
        i += 1
        if not parts:
            continue
        if parts[0] == "series":
            n = int(parts[2])
            series[parts[1]] = [float(x) for x in lines[i:i + n]]
            i += n
        else:
            keys[parts[0]] = parts[1] if len(parts) > 1 else ""
    return keys, series


def pct(v, q):
    if not v:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(v)))
    return v[rank - 1]


def ms(v, q):
    x = pct(v, q)
    return "-" if math.isnan(x) else f"{x / 1000:.2f}"


def ratio(a, b):
    return f"{a / b:.2f}" if b and not math.isnan(a) and not math.isnan(b) else "-"


def sessions(d):
    rows = {}
    for path in glob.glob(os.path.join(d, "sessions.*.*")):
        _, n, server = os.path.basename(path).split(".")
        rows[(int(n), server)] = load(path)
    print("Sessions (clear-text LOGIN, SELECT INBOX; memory: Pss/Rss of the server's whole "
          "process tree, with all sessions up, minus before)")
    print("| N | server | up | failed | time to all up s | Pss MB | Pss/session kB | "
          "Rss/session kB | processes | accept p50 / p95 / p99 / max ms | "
          "connect to SELECT OK p50 / p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sorted({k[0] for k in rows}):
        for server in ("cairn", "dovecot"):
            if (n, server) not in rows:
                continue
            k, s = rows[(n, server)]
            up = int(k["up"])
            pss = float(k["pss_after"]) - float(k["pss_before"])
            rss = float(k["rss_after"]) - float(k["rss_before"])
            acc = sorted(s.get("accept", []))
            rdy = sorted(s.get("ready", []))
            print(f"| {n} | {server} | {up} | {int(k['failed']) + int(k['noop_failed'])} | "
                  f"{float(k['elapsed']):.1f} | {pss / 1024:.0f} | "
                  f"{pss / up if up else math.nan:.0f} | {rss / up if up else math.nan:.0f} | "
                  f"{k['procs_after']} | {ms(acc, 50)} / {ms(acc, 95)} / {ms(acc, 99)} / "
                  f"{ms(acc, 100)} | {ms(rdy, 50)} / {ms(rdy, 99)} |")
        if (n, "cairn") in rows and (n, "dovecot") in rows:
            (kc, sc), (kd, sd) = rows[(n, "cairn")], rows[(n, "dovecot")]
            pc = (float(kc["pss_after"]) - float(kc["pss_before"])) / max(1, int(kc["up"]))
            pd = (float(kd["pss_after"]) - float(kd["pss_before"])) / max(1, int(kd["up"]))
            ac, ad = sorted(sc.get("accept", [])), sorted(sd.get("accept", []))
            print(f"|   | **cairn/dovecot** | | | {ratio(float(kc['elapsed']), float(kd['elapsed']))} "
                  f"| | {ratio(pc, pd)} | | | p50 {ratio(pct(ac, 50), pct(ad, 50))}, "
                  f"p99 {ratio(pct(ac, 99), pct(ad, 99))} | |")
    return 0


def mix(d):
    merged, status = {}, 0
    for server in ("cairn", "dovecot"):
        m = {"elapsed": 0.0, "series": {}, "keys": {}}
        for path in sorted(glob.glob(os.path.join(d, f"mix.{server}.*"))):
            k, s = load(path)
            m["elapsed"] += float(k["elapsed"])
            for key in ("ops", "errors", "malformed", "expected_no", "appended", "expunged",
                        "v_expected", "v_found", "v_missing", "v_extra", "v_changed"):
                m["keys"][key] = m["keys"].get(key, 0) + int(k[key])
            m["clients"], m["users"] = k["clients"], k["users"]
            for name, v in s.items():
                m["series"].setdefault(name, []).extend(v)
        for v in m["series"].values():
            v.sort()
        merged[server] = m
    c, dv = merged["cairn"], merged["dovecot"]
    print(f"Mixed workload: {c.get('clients')} clients of {c.get('users')} users; "
          f"{c['elapsed']:.1f} s (Cairn) and {dv['elapsed']:.1f} s (Dovecot) in all")
    print("| command | Cairn /s | Cairn p50 / p95 / p99 ms | Dovecot /s | "
          "Dovecot p50 / p95 / p99 ms | rate cairn/dovecot | p50 cairn/dovecot |")
    print("|---|---|---|---|---|---|---|")
    for op in OPS + ["all"]:
        if op == "all":
            vc = sorted(x for o in OPS for x in c["series"].get(o, []))
            vd = sorted(x for o in OPS for x in dv["series"].get(o, []))
        else:
            vc, vd = c["series"].get(op, []), dv["series"].get(op, [])
        rc, rd = len(vc) / c["elapsed"], len(vd) / dv["elapsed"]
        name = "**all**" if op == "all" else op
        print(f"| {name} | {rc:.1f} | {ms(vc, 50)} / {ms(vc, 95)} / {ms(vc, 99)} | {rd:.1f} | "
              f"{ms(vd, 50)} / {ms(vd, 95)} / {ms(vd, 99)} | {ratio(rc, rd)} | "
              f"{ratio(pct(vc, 50), pct(vd, 50))} |")
    ac, ad = c["series"].get("accept", []), dv["series"].get("accept", [])
    print(f"Accept latency during the mixed run (connect to the greeting's first byte, "
          f"at each LOGOUT+LOGIN), ms: Cairn ({len(ac)}) p50 {ms(ac, 50)} p95 {ms(ac, 95)} "
          f"p99 {ms(ac, 99)} max {ms(ac, 100)}; Dovecot ({len(ad)}) p50 {ms(ad, 50)} "
          f"p95 {ms(ad, 95)} p99 {ms(ad, 99)} max {ms(ad, 100)}; p50 cairn/dovecot "
          f"{ratio(pct(ac, 50), pct(ad, 50))}")
    for server in ("cairn", "dovecot"):
        k = merged[server]["keys"]
        print(f"{server}: protocol errors {k['errors']} (malformed {k['malformed']}), "
              f"NO [EXPUNGEISSUED] {k['expected_no']} (allowed); appended {k['appended']}, "
              f"expunged {k['expunged']}; at the end {k['v_expected']} expected, "
              f"{k['v_found']} found with their checksums, missing {k['v_missing']}, "
              f"extra {k['v_extra']}, changed {k['v_changed']}")
        if k["errors"] or k["v_missing"] or k["v_extra"] or k["v_changed"] or \
                k["v_found"] != k["v_expected"]:
            status = 1
    return status


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("sessions", "mix"):
        sys.exit(__doc__)
    sys.exit(sessions(sys.argv[2]) if sys.argv[1] == "sessions" else mix(sys.argv[2]))
