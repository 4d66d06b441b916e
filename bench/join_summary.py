"""bench/join.sh's summary: the slices by phase, and what the join moved.

Usage: join_summary.py RESULTS STATUS_JSON JOIN_START JOIN_END RECORDS
RESULTS holds join-slice-NNN-PHASE.json (ringkv-bench reports); STATUS_JSON
is `ringkv-cluster status --json`, whose nodes' /metrics give the objects
and bytes the partition transfers sent.
"""
import glob
import json
import re
import statistics
import sys
import urllib.request


def moved(status_path):
    objects = size = 0.0
    for node in json.load(open(status_path)):
        if not node.get("http"):
            continue
        text = urllib.request.urlopen(f"http://{node['http']}/metrics", timeout=5).read().decode()
        for kind, value in re.findall(
                r'^ringkv_transfer_(objects|bytes)_total\{direction="sent"\} (\S+)$', text, re.M):
            if kind == "objects":
                objects += float(value)
            else:
                size += float(value)
    return int(objects), int(size)


def summary(reports):
    ops = sum(r["ops"] for r in reports) / sum(r["seconds"] for r in reports)
    p99 = statistics.median(r["total"]["p99_us"] for r in reports) / 1000
    worst = max(r["total"]["p99_us"] for r in reports) / 1000
    errors = sum(r["errors"] for r in reports)
    return ops, p99, worst, errors


def main():
    results, status_path = sys.argv[1], sys.argv[2]
    start, end, records = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    phases = {}
    for path in sorted(glob.glob(f"{results}/join-slice-*.json")):
        phase = path.rsplit("-", 1)[1][:-len(".json")]
        phases.setdefault(phase, []).append(json.load(open(path)))
    objects, size = moved(status_path)
    seconds = end - start
    print(f"join of a fourth node to 3 nodes (N=3, R=W=2) holding {records} keys of 100 B, "
          f"under workload A uniform at 50 in flight")
    print(f"the change took {seconds:.1f} s from `ringkv-cluster add` to complete; transfers "
          f"sent {objects} objects, {size / 2**20:.1f} MiB ({objects / seconds:.0f} objects/s, "
          f"{size / 2**20 / seconds:.2f} MiB/s over the change)")
    base = summary(phases["before"]) if "before" in phases else None
    for phase in ("before", "join", "after"):
        if phase not in phases:
            continue
        ops, p99, worst, errors = summary(phases[phase])
        ratio = ""
        if base and phase != "before":
            ratio = f" ({ops / base[0]:.2f}x the throughput, {p99 / base[1]:.2f}x the p99 of before)"
        print(f"{phase:7s} {len(phases[phase]):3d} slices: {ops:8.0f} ops/s, p99 median {p99:.2f} ms, "
              f"worst {worst:.2f} ms, errors {errors}{ratio}")


main()
