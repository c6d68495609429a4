#!/usr/bin/env python3
"""Where a JFR recording's CPU samples and allocations went, by method and by gateway frame.

Usage: bench/jfr-top.py [--jfr PATH_TO_jfr_TOOL] [--top 25] [--prefix dev.portalgateway.] [--rps N] RECORDING.jfr

Reads jdk.ExecutionSample and jdk.ObjectAllocationSample events (settings=profile records both)
with `jfr print --json` and prints four tables:

- self: the top frame of each CPU sample, the method that was running;
- inclusive: every method on the sampled stacks, counted once per sample (a gateway method's
  share of the CPU including what it called);
- by gateway frame: each sample charged to the innermost frame whose class starts with --prefix,
  so JDK and library work lands on the gateway code that asked for it;
- allocation: sampled bytes by class, and by innermost gateway frame. These are JFR's sample
  weights (bytes the thread allocated since its previous sample, charged to the sampled object),
  good for ranking sites, not exact per site; the total comes from the GC heap summaries instead:
  the heap used before each young GC minus after the previous one, and with --rps (the load's
  requests per second while recording) divided into bytes per request.

`jfr view hot-methods` gives the first table; the others need whole stacks, hence this script.
"""
import argparse
import collections
import json
import subprocess
import sys


def frames_of(event):
  stack = event.get("values", {}).get("stackTrace") or {}
  out = []
  for f in stack.get("frames", []):
    m = f.get("method", {})
    # JFR names classes in their internal form (dev/portalgateway/...), hidden classes with dots.
    cls = m.get("type", {}).get("name", "?").replace("/", ".")
    out.append(f"{cls}.{m.get('name', '?')}")
  return out, bool(stack.get("truncated"))


def parse_time(text):
  # 2026-11-26T14:57:47.116822221Z: seconds since midnight are enough within one recording.
  clock = text.split("T")[1].rstrip("Z")
  h, m, sec = clock.split(":")
  return int(h) * 3600 + int(m) * 60 + float(sec)


def events(jfr, recording, names):
  text = subprocess.run([jfr, "print", "--json", "--stack-depth", "96", "--events", ",".join(names), recording],
                        check=True, capture_output=True, text=True).stdout
  return json.loads(text)["recording"]["events"]


def table(title, counter, total, unit, top):
  print(f"\n{title}")
  print(f"| # | {unit} | % | frame |")
  print("|---:|---:|---:|---|")
  for i, (name, n) in enumerate(counter.most_common(top), 1):
    value = f"{n:,}" if unit == "samples" else f"{n / 1e6:,.1f} MB"
    print(f"| {i} | {value} | {100.0 * n / total:.1f} | `{name}` |")


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--jfr", default="jfr")
  p.add_argument("--top", type=int, default=25)
  p.add_argument("--prefix", default="dev.portalgateway.")
  p.add_argument("--rps", type=float, default=0.0)
  p.add_argument("recording")
  a = p.parse_args()

  samples = events(a.jfr, a.recording, ["jdk.ExecutionSample"])
  self_ = collections.Counter()
  inclusive = collections.Counter()
  by_gateway = collections.Counter()
  truncated = 0
  for e in samples:
    frames, cut = frames_of(e)
    truncated += cut
    if not frames:
      continue
    self_[frames[0]] += 1
    for name in set(frames):
      inclusive[name] += 1
    owner = next((f for f in frames if f.startswith(a.prefix)), "(no gateway frame)")
    by_gateway[owner] += 1
  total = max(1, len(samples))
  print(f"CPU samples: {len(samples):,} (stacks cut at 96 frames: {truncated:,})")
  table("Self (top frame)", self_, total, "samples", a.top)
  table("Inclusive (on the stack)", inclusive, total, "samples", a.top)
  table(f"By innermost {a.prefix}* frame", by_gateway, total, "samples", a.top)

  heaps = events(a.jfr, a.recording, ["jdk.GCHeapSummary"])
  before = {e["values"]["gcId"]: e for e in heaps if e["values"]["when"] == "Before GC"}
  after = {e["values"]["gcId"]: e for e in heaps if e["values"]["when"] == "After GC"}
  ids = sorted(i for i in before if i in after)
  if len(ids) >= 2:
    allocated = sum(before[i]["values"]["heapUsed"] - after[j]["values"]["heapUsed"] for j, i in zip(ids, ids[1:]))
    seconds = (parse_time(before[ids[-1]]["values"]["startTime"]) - parse_time(after[ids[0]]["values"]["startTime"]))
    rate = allocated / seconds if seconds > 0 else 0.0
    line = f"\nHeap allocation between the first and last of {len(ids)} GCs: {allocated / 1e6:,.0f} MB in {seconds:.1f} s, {rate / 1e6:,.1f} MB/s"
    if a.rps > 0:
      line += f", {rate / a.rps / 1024:.1f} KiB per request at {a.rps:,.0f} requests/s"
    print(line)

  allocations = events(a.jfr, a.recording, ["jdk.ObjectAllocationSample"])
  by_class = collections.Counter()
  by_site = collections.Counter()
  for e in allocations:
    weight = e["values"].get("weight", 0)
    cls = (e["values"].get("objectClass") or {}).get("name", "?")
    by_class[cls] += weight
    frames, _ = frames_of(e)
    site = next((f for f in frames if f.startswith(a.prefix)), frames[0] if frames else "?")
    by_site[site] += weight
  weight = max(1, sum(by_class.values()))
  print(f"\nAllocation samples: {len(allocations):,}, {weight / 1e6:,.0f} MB sampled weight")
  table("Allocated by class", by_class, weight, "bytes", a.top)
  table(f"Allocated by innermost {a.prefix}* frame", by_site, weight, "bytes", a.top)


if __name__ == "__main__":
  sys.exit(main())
