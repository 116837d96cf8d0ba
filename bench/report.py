"""bench/run's report: medians (min-max) per shape and peer, ratios ours/peer, targets.

Usage: python3 bench/report.py RESULTS.tsv REPEAT SECONDS > bench/results/DATE.md
Each TSV line is `shape<TAB>peer<TAB>value`; a value that is not a number (a failed run)
leaves the cell empty.
"""
import collections
import datetime
import platform
import statistics
import subprocess
import sys

rows = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    shape, peer, value = line.rstrip("\n").split("\t")
    if shape not in order:
        order.append(shape)
    try:
        rows[shape][peer].append(float(value))
    except ValueError:
        pass
repeat, seconds = sys.argv[2], sys.argv[3]


def med(shape, peer):
    values = rows[shape].get(peer) or []
    return statistics.median(values) if values else None


def cell(shape, peer):
    values = rows[shape].get(peer) or []
    if not values:
        return "–"
    m = statistics.median(values)
    fmt = (lambda v: f"{v / 1000:.0f}k") if m >= 10000 else (lambda v: f"{v:g}")
    return f"{fmt(m)} ({fmt(min(values))}–{fmt(max(values))})"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


def table(title, shapes, peers, ratios):
    print(f"### {title}\n")
    print("| shape | " + " | ".join(peers) + " | " + " | ".join(f"{a}/{b}" for a, b in ratios) + " |")
    print("|" + " --- |" * (1 + len(peers) + len(ratios)))
    for shape in shapes:
        cells = [cell(shape, p) for p in peers]
        rs = [ratio(med(shape, a), med(shape, b)) for a, b in ratios]
        print(f"| {shape} | " + " | ".join(cells + rs) + " |")
    print()


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


print(f"# Benchmark run {datetime.date.today().isoformat()}\n")
print(f"`bash bench/run` on {subprocess.getoutput('nproc')} cores ({cpu()}), "
      f"{repeat} run(s) per cell, {seconds} s per load run; server pinned to core 1 and the load "
      "generator to core 0 (`taskset`). Cells: median (min–max). `pull` and `handle` are "
      "pullhttp's two server APIs (multi-thread runtime unless the shape says `current`); "
      "`ours` is pullhttp's client.\n")

h2 = [s for s in order if s.startswith("h2 small")]
table("HTTP/2, 13-byte responses, h2load -c C -m M (requests/s)", h2,
      ["pull", "handle", "hyper", "h2", "nghttpd", "nginx", "h2o"],
      [("pull", "hyper"), ("pull", "h2"), ("pull", "h2o"), ("handle", "hyper")])
h1 = [s for s in order if s.startswith("h1 ")]
table("HTTP/1.1 (requests/s)", h1, ["pull", "handle", "hyper", "nginx", "h2o"],
      [("pull", "hyper"), ("pull", "nginx"), ("handle", "hyper")])
big = [s for s in order if "GiB" in s and not s.startswith("client")]
table("1 GiB bodies (GiB/s)", big, ["tcp", "pull", "handle", "hyper", "h2", "nginx", "h2o"],
      [("pull", "hyper"), ("pull", "h2")])
idle = [s for s in order if s.startswith("idle")]
table("RSS per idle connection (KiB)", idle, ["pull", "handle", "hyper", "h2", "nginx", "h2o"],
      [("pull", "hyper"), ("pull", "nginx")])
heap = [s for s in order if s.startswith("heap ")]
table("Heap per idle connection (octets, counted by bench-heap's allocator; 1,000 connections)",
      heap, ["pull", "handle", "hyper", "h2"], [("pull", "hyper"), ("pull", "h2")])
streams = [s for s in order if s.startswith("open h2 streams")]
table("RSS per open HTTP/2 stream (KiB; 100 connections × 100 streams)", streams,
      ["pull", "handle", "hyper", "h2"], [("pull", "hyper"), ("pull", "h2")])
latency = [s for s in order if s.startswith("latency")]
table("Latency at 10,000 requests/s, one HTTP/2 connection (µs, from when each batch of 10 started)",
      latency, ["pull", "handle", "hyper", "h2", "nghttpd", "nginx", "h2o"],
      [("pull", "hyper"), ("pull", "h2"), ("pull", "h2o")])
client = [s for s in order if s.startswith("client")]
table("Client, one HTTP/2 connection (`pull`: the pull client; `ours`: its handles)", client,
      ["pull", "ours", "h2", "hyper"], [("pull", "h2"), ("ours", "h2"), ("ours", "hyper")])
writes = [s for s in order if s.startswith("writes")]
table("Socket writes per 100 responses (h2load -n 100000 -c 10 -m 100, strace)", writes,
      ["pull", "hyper", "h2"], [])

print("### Targets\n")
checks = []
for shape in h2:
    p, hy, h, o = med(shape, "pull"), med(shape, "hyper"), med(shape, "h2"), med(shape, "h2o")
    if p and hy and h:
        checks.append((f"{shape}: pull ≥ 3× hyper and 3× h2", p >= 3 * hy and p >= 3 * h,
                       f"{p / hy:.2f}× hyper, {p / h:.2f}× h2"))
    if p and o:
        checks.append((f"{shape}: pull ≥ h2o", p >= o, f"{p / o:.2f}× h2o"))
for shape in h1:
    p, hy, n = med(shape, "pull"), med(shape, "hyper"), med(shape, "nginx")
    if "pipelined" in shape and p and hy:
        checks.append((f"{shape}: pull ≥ 1.5× hyper", p >= 1.5 * hy, f"{p / hy:.2f}×"))
    if p and n:
        checks.append((f"{shape}: pull ≥ nginx", p >= n, f"{p / n:.2f}×"))
for shape in big:
    p = med(shape, "pull")
    limit = med("1 GiB copy limit up" if "upload" in shape else "1 GiB copy limit", "tcp")
    if not shape.startswith("1 GiB copy limit") and p and limit:
        checks.append((f"{shape}: pull ≥ 90% of the TCP copy", p >= 0.9 * limit, f"{p / limit:.0%}"))
for shape in idle:
    p = med(shape, "pull")
    cap = 4 if " h2 " in shape else 2
    if p is not None:
        checks.append((f"{shape}: pull ≤ {cap} KiB", p <= cap, f"{p:g} KiB"))
for shape in heap:
    p = med(shape, "pull")
    cap = 4096 if " h2 " in shape else 2048
    if p is not None:
        checks.append((f"{shape}: pull ≤ {cap} octets of heap", p <= cap, f"{p:g} octets"))
for shape in client:
    h = med(shape, "h2")
    for api in ("pull", "ours"):
        o = med(shape, api)
        if "1x64" in shape and o and h:
            checks.append((f"{shape}: {api} ≥ 2× the h2 client", o >= 2 * h, f"{o / h:.2f}×"))
for shape in writes:
    p = med(shape, "pull")
    if p is not None:
        checks.append(("10×100: at most 1 socket write per 50 responses", p <= 2, f"{p:g} per 100"))
for name, ok, detail in checks:
    print(f"- {'met' if ok else '**missed**'}: {name} ({detail})")
print(f"\n{sum(ok for _, ok, _ in checks)} of {len(checks)} targets met.")
