#!/usr/bin/env python3
"""The table of one bench/ab.sh run: medians over rounds (min-max) of the
nodes' CPU per operation, throughput and ratio to that round's Redis, for
side A and side B, with B/A. Reads the ringkv-bench JSON reports
(tools/bench/report.h) under the run directory: ROUND-redis/, ROUND-a/,
ROUND-b/.

    python3 bench/ab_summary.py AB_WORK/results-TIMESTAMP
"""
import json
import statistics
import sys
from pathlib import Path

import callgrind_totals

ROWS = [("1: N=1 R=W=1", "ringkv1", wl, dist) for wl in "ac" for dist in ("uniform", "zipfian")] + \
       [("2: N=3 R=W=2", "ringkv3", wl, dist) for wl in "ac" for dist in ("uniform", "zipfian")]


def load(path):
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def cpu_us(report):
    cpu = report.get("server_cpu") if report else None
    return None if cpu is None else cpu["us_per_op"]


def spread(values, fmt, unit=""):
    values = [v for v in values if v is not None]
    if not values:
        return "-", None
    med = statistics.median(values)
    return (f"{format(med, fmt)}{unit} ({format(min(values), fmt)}-{format(max(values), fmt)})",
            med)


def instructions_per_op(directory, nodes):
    """Instructions in every node's callgrind dump, over the run's operations."""
    return callgrind_totals.instructions_per_op(directory / f"callgrind-{nodes}.json",
                                                directory / f"callgrind-{nodes}")


def main():
    out = Path(sys.argv[1])
    rounds = sorted({p.name.split("-")[0] for p in out.iterdir()
                     if p.is_dir() and p.name.split("-")[0].isdigit()}, key=int)
    meta = (out / "meta.txt").read_text().splitlines()
    sha = {line.split()[0]: line.split()[1] for line in meta if line.split()[0] in ("a", "b")}
    print(f"A = {sha.get('a', '?')[:7]}, B = {sha.get('b', '?')[:7]}; {len(rounds)} rounds")
    for line in meta:
        if line.startswith("round"):
            print("  " + line)
    print()
    print("| scenario | workload | node CPU/op A (us) | B | B/A | ratio to Redis A | B | "
          "Redis CPU/op (us) | errors A/B |")
    print("|---|---|---|---|---|---|---|---|---|")
    pairs_higher = pairs = 0
    for scenario, prefix, wl, dist in ROWS:
        name = f"{wl}-{dist}"
        cpu = {"a": [], "b": []}
        ratio = {"a": [], "b": []}
        errors = {"a": 0, "b": 0}
        redis_cpu = []
        for r in rounds:
            redis = load(out / f"{r}-redis" / f"redis-{name}.json")
            redis_cpu.append(cpu_us(redis))
            per_round = {}
            for side in "ab":
                rep = load(out / f"{r}-{side}" / f"{prefix}-{name}.json")
                if rep is None:
                    continue
                cpu[side].append(cpu_us(rep))
                errors[side] += rep["errors"]
                if redis and redis["ops_per_sec"] > 0:
                    ratio[side].append(rep["ops_per_sec"] / redis["ops_per_sec"])
                per_round[side] = cpu_us(rep)
            if per_round.get("a") is not None and per_round.get("b") is not None:
                pairs += 1
                pairs_higher += per_round["b"] > per_round["a"]
        ca, ma = spread(cpu["a"], ".1f")
        cb, mb = spread(cpu["b"], ".1f")
        ra, _ = spread(ratio["a"], ".2f", "x")
        rb, _ = spread(ratio["b"], ".2f", "x")
        rc, _ = spread(redis_cpu, ".1f")
        ba = f"{mb / ma:.2f}" if ma and mb else "-"
        print(f"| {scenario} | {wl.upper()} {dist} | {ca} | {cb} | {ba} | {ra} | {rb} | {rc} | "
              f"{errors['a']}/{errors['b']} |")
    print()
    print(f"B used more node CPU per operation than A in {pairs_higher} of {pairs} same-round pairs.")
    instr = {side: {nodes: instructions_per_op(out / f"instructions-{side}", nodes)
                    for nodes in (1, 3)} for side in "ab"}
    if any(v is not None for by_nodes in instr.values() for v in by_nodes.values()):
        print()
        print("Nodes' user-space instructions per operation (callgrind, workload A uniform):")
        print()
        print("| nodes | A | B | B/A |")
        print("|---|---|---|---|")
        for nodes in (1, 3):
            a, b = instr["a"][nodes], instr["b"][nodes]
            ba = f"{b / a:.3f}" if a and b else "-"
            print(f"| {nodes} | {a or 0:,.0f} | {b or 0:,.0f} | {ba} |")


if __name__ == "__main__":
    main()
