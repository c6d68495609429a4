#!/usr/bin/python3
"""The report of bench/run: a Markdown table and two PNG charts from its CSV.

    bench/run-report.py --csv OUT/bench-run-DATE.csv --machine OUT/machine.txt --out OUT \\
        [--rate 1000] [--rate-pool-off 50] [--big-connections 64] > OUT/bench-run-DATE.md

Every figure is the median over rounds (with two rounds, the mean of the two). Writes
bench-run-DATE-throughput.png and bench-run-DATE-latency.png next to --out. Needs Debian's
python3-matplotlib (bench/run installs it).
"""
import argparse
import csv
import os
import statistics
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAMES = {
    "direct": "direct to the backend (ceiling)",
    "nginx": "nginx proxy_pass, keep-alive upstream",
    "haproxy": "HAProxy",
    "gateway": "gateway, no plugins",
    "gateway-auth": "gateway + auth-apikey",
    "gateway-auth-rl": "gateway + auth-apikey + ratelimit",
    "gateway-mcp-hit": "gateway + cache-mcp, hit (POST tools/list)",
    "portal-pool256": "Portal path, pool on (256)",
    "portal-pool0": "Portal path, pool off (0)",
}
ORDER = list(NAMES)


def num(v):
    return float(v) if v not in ("", None) else None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def pct(v):
    return "–" if v is None else f"{100 * v:.0f} %"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--rate-pool-off", type=float, default=50)
    ap.add_argument("--big-connections", default="64")
    a = ap.parse_args()

    rows = list(csv.DictReader(open(a.csv)))
    stem = os.path.splitext(os.path.basename(a.csv))[0]
    groups = defaultdict(list)  # (target, mode, body, connections) -> rows
    for r in rows:
        groups[(r["target"], r["mode"], r["body"], r["connections"])].append(r)
    targets = [t for t in ORDER if any(k[0] == t for k in groups)]
    conns = sorted({int(r["connections"]) for r in rows if r["mode"] == "closed" and r["body"] == "1k"})
    rounds = len({r["round"] for r in rows})

    def m(target, col, mode="closed", body="1k", c=None):
        if mode == "rate":
            g = [r for k, rs in groups.items() if k[0] == target and k[1] == "rate" for r in rs]
        else:
            g = groups.get((target, mode, body, str(c)), [])
        return med(num(r[col]) for r in g)

    def spread(target, c, body="1k"):
        g = [num(r["rps"]) for r in groups.get((target, "closed", body, str(c)), [])]
        return (max(g) - min(g)) / statistics.median(g) if len(g) > 1 else None

    def rss(target):
        # The peak of each process (the largest value over its rows), median over rounds.
        by_round = defaultdict(list)
        for r in rows:
            if r["target"] == target and num(r["proxy_peak_rss_mib"]) is not None:
                by_round[r["round"]].append(num(r["proxy_peak_rss_mib"]))
        return med(max(v) for v in by_round.values()) if by_round else None

    rps = {(t, c): m(t, "rps", c=c) for t in targets for c in conns}
    big = a.big_connections
    out = []
    w = out.append
    w(f"Machine and run (from `bench/run`, {rounds} rounds, medians):")
    w("")
    for line in open(a.machine):
        w("    " + line.rstrip())
    w("")
    head = "| target | " + " | ".join(f"req/s, {c} conn." for c in conns)
    mid = 64 if 64 in conns else conns[len(conns) // 2]
    head += f" | vs nginx ({mid}) | vs direct ({mid}) | p50 ms at fixed rate | p99 ms at fixed rate"
    head += f" | p99 added vs direct | proxy CPU µs/req at fixed rate | proxy CPU µs/req ({mid} conn.) | peak RSS MiB |"
    w(head)
    w("|---|" + "---:|" * (len(conns) + 8))
    d99 = m("direct", "p99_ms", mode="rate")
    for t in targets:
        p99 = m(t, "p99_ms", mode="rate")
        rate_note = f" ¹" if t == "portal-pool0" else ""
        cells = [NAMES[t]] + [fmt(rps[(t, c)]) for c in conns]
        cells += [pct(ratio(rps[(t, mid)], rps.get(("nginx", mid)))) if t != "nginx" else "100 %",
                  pct(ratio(rps[(t, mid)], rps.get(("direct", mid)))) if t != "direct" else "100 %",
                  fmt(m(t, "p50_ms", mode="rate"), 2) + rate_note, fmt(p99, 2) + rate_note,
                  ("–" if t == "direct" or p99 is None or d99 is None else f"{p99 - d99:+.2f} ms") + rate_note,
                  fmt(m(t, "proxy_cpu_us_per_req", mode="rate")), fmt(m(t, "proxy_cpu_us_per_req", c=mid)),
                  fmt(rss(t))]
        w("| " + " | ".join(cells) + " |")
    w("")
    w(f"Fixed rate: {a.rate:,.0f} requests/s (open loop, latency from the intended send time)"
      f"{f'; ¹ portal-pool0 at {a.rate_pool_off:,.0f} requests/s, all it can sustain' if 'portal-pool0' in targets else ''}."
      " Proxy CPU: the proxy's processes only (the gateway JVM; nginx master and workers; HAProxy),"
      " per request. Peak RSS: VmHWM of the same processes.")
    w("")

    # Ratios at every connection count.
    w("Throughput relative to nginx and to the direct call, by connections (1 KiB answers):")
    w("")
    w("| target | " + " | ".join(f"vs nginx, {c}" for c in conns) + " | " + " | ".join(f"vs direct, {c}" for c in conns) + " |")
    w("|---|" + "---:|" * (2 * len(conns)))
    for t in targets:
        if t == "direct":
            continue
        w("| " + NAMES[t] + " | " + " | ".join(pct(ratio(rps[(t, c)], rps.get(("nginx", c)))) for c in conns)
          + " | " + " | ".join(pct(ratio(rps[(t, c)], rps.get(("direct", c)))) for c in conns) + " |")
    w("")

    bigs = [t for t in targets if (t, "closed", "64k", big) in groups]
    if bigs:
        w(f"64 KiB answers, {big} connections:")
        w("")
        w("| target | req/s | MB/s | vs nginx | vs direct | proxy CPU µs/req |")
        w("|---|---:|---:|---:|---:|---:|")
        b = {t: m(t, "rps", body="64k", c=big) for t in bigs}
        for t in bigs:
            w(f"| {NAMES[t]} | {fmt(b[t])} | {fmt(b[t] * 65536 / 1e6 if b[t] else None)} | "
              f"{pct(ratio(b[t], b.get('nginx')))} | {pct(ratio(b[t], b.get('direct')))} | "
              f"{fmt(m(t, 'proxy_cpu_us_per_req', body='64k', c=big))} |")
        w("")

    # The quoted figures.
    w("Quoted figures (same run):")
    w("")
    if "gateway" in targets and "nginx" in targets:
        w("- gateway (no plugins) / nginx throughput: "
          + ", ".join(f"{pct(ratio(rps[('gateway', c)], rps[('nginx', c)]))} at {c}" for c in conns))
    if "gateway" in targets and "direct" in targets:
        w("- gateway (no plugins) / direct throughput: "
          + ", ".join(f"{pct(ratio(rps[('gateway', c)], rps[('direct', c)]))} at {c}" for c in conns))
    if "gateway" in targets and "direct" in targets:
        g99, g50, d50 = m("gateway", "p99_ms", mode="rate"), m("gateway", "p50_ms", mode="rate"), m("direct", "p50_ms", mode="rate")
        line = (f"- added latency at {a.rate:,.0f} requests/s, gateway against direct: p99 {g99 - d99:+.2f} ms"
                f" ({d99:.2f} → {g99:.2f}), p50 {g50 - d50:+.2f} ms ({d50:.2f} → {g50:.2f})")
        for other in ("nginx", "haproxy"):
            if other in targets:
                line += f"; {other}: p99 {m(other, 'p99_ms', mode='rate') - d99:+.2f} ms"
        w(line)
    gws = [t for t in targets if t.startswith("gateway") or t.startswith("portal")]
    if gws:
        natives = [f"{t} {fmt(rss(t), 1)} MiB" for t in ("nginx", "haproxy") if t in targets]
        w("- peak RSS of the gateway JVM (JVM flags as in the header above): " + ", ".join(f"{t} {fmt(rss(t))} MiB" for t in gws)
          + ("; for scale: " + ", ".join(natives) if natives else ""))
    if "portal-pool256" in targets or "portal-pool0" in targets:
        parts = []
        for t in ("portal-pool256", "portal-pool0"):
            if t in targets:
                parts.append(f"{'pool off' if t == 'portal-pool0' else 'pool on'}: "
                             + ", ".join(f"{fmt(rps[(t, c)])} req/s at {c}" for c in conns))
        w("- Portal path (gateway → relay → tunnel → backend): " + "; ".join(parts))
    worst = max(((spread(t, c), t, c) for t in targets for c in conns if spread(t, c) is not None), default=None)
    if worst:
        w(f"- largest round-to-round spread of requests/s: {100 * worst[0]:.0f} % ({worst[1]}, {worst[2]} connections)")
    # Only the closed-loop runs: at a fixed rate the machine is mostly idle, and its tick-sampled
    # /proc/stat and the processes' exact run times disagree by seconds either way.
    others = [num(r["others_cpu_s"]) for r in rows if r["mode"] == "closed" and num(r["others_cpu_s"]) is not None]
    if others:
        worst_o = max((num(r["others_cpu_s"]), r["round"], r["target"], r["body"], r["connections"]) for r in rows
                      if r["mode"] == "closed" and num(r["others_cpu_s"]) is not None)
        w(f"- CPU time of everything else on the machine per closed-loop run: median"
          f" {statistics.median(others):.2f} s, max {max(others):.2f} s (round {worst_o[1]} {worst_o[2]} {worst_o[3]}"
          f" c{worst_o[4]}); kernel loopback work charged to no process is included")
    busy = sorted({(r["round"], r["target"]) for r in rows if r.get("notes")})
    if busy:
        w("- other benchmarks or builds were running when these started (round, target): "
          + ", ".join(f"{r} {t}" for r, t in busy))
    else:
        w("- no other benchmark or build was seen running before any target")
    print("\n".join(out))

    # Chart 1: throughput.
    fig, axes = plt.subplots(2 if bigs else 1, 1, figsize=(12, 9 if bigs else 5.5), squeeze=False)
    ax = axes[0][0]
    width = 0.8 / len(conns)
    for i, c in enumerate(conns):
        xs = [j + (i - (len(conns) - 1) / 2) * width for j in range(len(targets))]
        ys = [rps[(t, c)] or 0 for t in targets]
        bars = ax.bar(xs, ys, width, label=f"{c} connections")
        for x, y in zip(xs, ys):
            ax.text(x, y * 1.05, f"{y / 1000:.1f}k" if y >= 1000 else f"{y:.0f}", ha="center", va="bottom",
                    fontsize=6.5, rotation=90)
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (log scale)")
    ax.set_xticks(range(len(targets)))
    ax.set_xticklabels([t + ("\n(5.3 KB POST)" if t == "gateway-mcp-hit" else "") for t in targets],
                       rotation=20, ha="right", fontsize=8)
    ax.set_title(f"Throughput, 1 KiB answers, wrk -t2 closed loop (median of {rounds} rounds)")
    ax.set_ylim(top=max(v or 1 for v in rps.values()) * 4)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    if bigs:
        ax = axes[1][0]
        ys = [m(t, "rps", body="64k", c=big) or 0 for t in bigs]
        ax.bar(range(len(bigs)), ys, 0.5, color="tab:purple")
        for x, y in enumerate(ys):
            ax.text(x, y * 1.02, f"{y:,.0f} ({y * 65536 / 1e6:,.0f} MB/s)", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(bigs)))
        ax.set_xticklabels(bigs, fontsize=8)
        ax.set_ylabel("requests/s")
        ax.set_ylim(top=max(ys) * 1.2)
        ax.set_title(f"Throughput, 64 KiB answers, {big} connections")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, stem + "-throughput.png"), dpi=110)

    # Chart 2: latency at the fixed rate.
    fig, ax = plt.subplots(figsize=(12, 5.5))
    labels = [t + (f"\n({a.rate_pool_off:,.0f} req/s)" if t == "portal-pool0" else "")
              + ("\n(5.3 KB POST)" if t == "gateway-mcp-hit" else "") for t in targets]
    for i, (col, name) in enumerate((("p50_ms", "p50"), ("p99_ms", "p99"))):
        xs = [j + (i - 0.5) * 0.38 for j in range(len(targets))]
        ys = [m(t, col, mode="rate") or 0 for t in targets]
        ax.bar(xs, ys, 0.38, label=name)
        for x, y in zip(xs, ys):
            ax.text(x, y * 1.05, f"{y:.2f}" if y < 10 else f"{y:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_xticks(range(len(targets)))
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    ax.set_title(f"Latency at a fixed {a.rate:,.0f} requests/s, open loop from the intended send time"
                 f" (median of {rounds} rounds)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, stem + "-latency.png"), dpi=110)


if __name__ == "__main__":
    main()
