#!/usr/bin/env bash
# bench/aae_cost.sh SRC...: what active anti-entropy costs a write, in one
# run (docs/performance.md, "Issue 11's write cost"). Each SRC is a source
# tree with a release build of ringkv-node and ringkv-cluster in
# SRC/build-release (bench/ab.sh builds one per commit; so does
# `meson setup build-release --buildtype=release`).
#
# 1. Instructions per put, the load-independent figure: for each SRC, one
#    node (N=1) and three (N=3, W=2), with --aae on and off, the nodes under
#    callgrind with instrumentation on only for a second `--load` of
#    AAE_INSTRUCTION_OPS of the 20,000 keys loaded first (overwrites only),
#    summed over the nodes.
# 2. Throughput and node CPU per operation: AAE_ROUNDS rounds; in each, for
#    one and three nodes and each SRC, an --aae on and an --aae off cluster
#    (the order alternates between rounds), each loaded with AAE_RECORDS
#    keys (puts) and then run on workload A uniform for BENCH_DURATION s;
#    also the nodes' minor page faults per operation (/proc/PID/stat,
#    every thread), a count the machine's load does not move: anti-entropy
#    must not add any (the trees' first touch did, 8,192 per node).
#
# One generator (this checkout's build-release ringkv-bench) drives all;
# every process runs under `nice -n AAE_NICE`, and every one started is
# stopped by PID. Prints the tables; raw reports stay in AAE_WORK.
set -euo pipefail

(($# > 0)) || { echo "usage: bench/aae_cost.sh SRC..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${AAE_ROUNDS:-3}
NICE=${AAE_NICE:-10}
WORK=${AAE_WORK:-/tmp/ringkv-aae-cost}
DURATION=${BENCH_DURATION:-6}
WARMUP=${BENCH_WARMUP:-1}
RECORDS=${AAE_RECORDS:-100000}
INSTRUCTION_OPS=${AAE_INSTRUCTION_OPS:-5000}
THREADS=2
CONC=50
VALUE=100
BENCH=$ROOT/build-release/tools/bench/ringkv-bench
[[ -x $BENCH ]] || { echo "bench/aae_cost.sh: $BENCH is missing; ninja -C build-release first" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
release_srcs "$@"
OUT=$WORK/results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
scratch_dir aae-cost

bench() {  # REPORT_NAME ARGS...: one generator run, its JSON report in OUT
  local name=$1
  shift
  nice -n "$NICE" "$BENCH" --target "$TARGET" --threads "$THREADS" --value-size "$VALUE" \
    --concurrency "$CONC" --quiet --client-timeout 60 --json "$OUT/$name.json" "$@" >/dev/null
}

shape() {  # NODES: sets N and RW for that scenario
  if (($1 == 1)); then N=1; RW=1; else N=3; RW=2; fi
}

instructions() {  # INDEX SRC NODES AAE
  local i=$1 src=$2 nodes=$3 aae=$4 cdir pids name=instr-$1-$3-$4
  shape "$nodes"
  cdir=$TMP/$name
  start_callgrind_cluster "$src/build-release/tools/ringkv-cluster" "$src/build-release/node/ringkv-node" \
    "$OUT/$name" "$cdir" "$OUT/$name.log" "$nodes" "$N" "$RW" "$RW" --aae "$aae"
  pids=$(node_pids "$src/build-release/tools/ringkv-cluster" "$cdir")
  bench "$name-load" --records 20000 --load --w "$RW"
  count_instructions "$pids" bench "$name" --records "$INSTRUCTION_OPS" --load --w "$RW"
  stop_cluster "$src/build-release/tools/ringkv-cluster" "$cdir"
  rm -rf "$cdir"
}

minor_faults() {  # PIDS: the processes' minor page faults so far, summed
  local pid sum=0
  for pid in $1; do sum=$((sum + $(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f8))); done
  echo "$sum"
}

faulted() {  # PIDS NAME CMD...: CMD, then NAME.faults in OUT (minor faults during it)
  local pids=$1 name=$2 before
  shift 2
  before=$(minor_faults "$pids")
  "$@"
  echo $(($(minor_faults "$pids") - before)) >"$OUT/$name.faults"
}

throughput() {  # ROUND INDEX SRC NODES AAE
  local r=$1 i=$2 src=$3 nodes=$4 aae=$5 cdir pids name=tp-$1-$2-$4-$5
  shape "$nodes"
  cdir=$TMP/$name
  start_cluster "$src/build-release/tools/ringkv-cluster" "$cdir" "$OUT/$name.log" "$nodes" "$N" "$RW" \
    "$RW" --aae "$aae"
  pids=$(node_pids "$src/build-release/tools/ringkv-cluster" "$cdir")
  faulted "$pids" "$name-load" bench "$name-load" --records "$RECORDS" --load --w "$RW" \
    --server-pids "${pids// /,}"
  faulted "$pids" "$name-a" bench "$name-a" --records "$RECORDS" --workload a --distribution uniform --duration "$DURATION" \
    --warmup "$WARMUP" --r "$RW" --w "$RW" --server-pids "${pids// /,}"
  stop_cluster "$src/build-release/tools/ringkv-cluster" "$cdir"
  rm -rf "$cdir"
}

for i in "${!SRCS[@]}"; do echo "$i ${SRCS[$i]}"; done >"$OUT/srcs.txt"
echo "builds: $(tr '\n' ' ' <"$OUT/srcs.txt"); raw reports in $OUT"
if ((INSTRUCTION_OPS > 0)) && command -v callgrind_control >/dev/null; then
  for i in "${!SRCS[@]}"; do
    for nodes in 1 3; do
      for aae in on off; do
        echo "instructions: build $i, $nodes node(s), aae $aae ($(date -u +%T))"
        instructions "$i" "${SRCS[$i]}" "$nodes" "$aae"
      done
    done
  done
fi
for round in $(seq "$ROUNDS"); do
  order="on off"
  ((round % 2 == 0)) && order="off on"
  echo "round $round: aae $order ($(date -u +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  for nodes in 1 3; do
    for i in "${!SRCS[@]}"; do
      for aae in $order; do throughput "$round" "$i" "${SRCS[$i]}" "$nodes" "$aae"; done
    done
  done
done

python3 - "$OUT" "$ROOT/bench" <<'PY' | tee "$OUT/summary.txt"
import json, statistics, sys
from pathlib import Path

sys.path.insert(0, sys.argv[2])
from callgrind_totals import instructions_per_op

out = Path(sys.argv[1])
srcs = dict(line.split(maxsplit=1) for line in (out / "srcs.txt").read_text().splitlines())

def report(name):
    p = out / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None

def instr(i, nodes, aae):
    return instructions_per_op(out / f"instr-{i}-{nodes}-{aae}.json", out / f"instr-{i}-{nodes}-{aae}")

def fmt(v, spec=",.0f"):
    return "-" if v is None else format(v, spec)

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

print("Instructions per put (callgrind, nodes summed, overwrites of loaded keys):")
print("| build | nodes | aae on | aae off | on / off |")
print("|---|---|---:|---:|---:|")
for i in srcs:
    for nodes in (1, 3):
        on, off = instr(i, nodes, "on"), instr(i, nodes, "off")
        print(f"| {i} | {nodes} | {fmt(on)} | {fmt(off)} | {fmt(ratio(on, off), '.3f')} |")

rounds = sorted({int(p.name.split("-")[1]) for p in out.glob("tp-*-load.json")})
print(f"\nThroughput and node CPU per operation ({len(rounds)} rounds; median, min-max; "
      "on / off paired within each round):")
print("| build | nodes | phase | ops/s on | ops/s off | on / off | CPU us/op on | off | on / off "
      "| faults per 1,000 ops on | off |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")

def faults(name, rep):
    p = out / f"{name}.faults"
    return int(p.read_text()) * 1000 / rep["ops"] if rep and rep.get("ops") and p.exists() else None

def spread(values, spec):
    values = [v for v in values if v is not None]
    if not values:
        return "-", None
    m = statistics.median(values)
    return f"{format(m, spec)} ({format(min(values), spec)}-{format(max(values), spec)})", m

for i in srcs:
    for nodes in (1, 3):
        for phase, suffix in (("load (puts)", "load"), ("workload A", "a")):
            vals, paired = {}, {"ops": [], "cpu": []}
            for aae in ("on", "off"):
                reps = [report(f"tp-{r}-{i}-{nodes}-{aae}-{suffix}") for r in rounds]
                ops = [rep["ops_per_sec"] if rep else None for rep in reps]
                cpu = [rep["server_cpu"]["us_per_op"] if rep and rep.get("server_cpu") else None
                       for rep in reps]
                flt = [faults(f"tp-{r}-{i}-{nodes}-{aae}-{suffix}", rep) for r, rep in zip(rounds, reps)]
                vals[aae] = (ops, cpu, flt)
            # On / off within each round (same machine load), then the median.
            for k, idx in (("ops", 0), ("cpu", 1)):
                for a, b in zip(vals["on"][idx], vals["off"][idx]):
                    if a is not None and b:
                        paired[k].append(a / b)
            ops_on, _ = spread(vals["on"][0], ",.0f")
            ops_off, _ = spread(vals["off"][0], ",.0f")
            cpu_on, _ = spread(vals["on"][1], ".1f")
            cpu_off, _ = spread(vals["off"][1], ".1f")
            r_ops, _ = spread(paired["ops"], ".3f")
            r_cpu, _ = spread(paired["cpu"], ".3f")
            flt_on, _ = spread(vals["on"][2], ",.0f")
            flt_off, _ = spread(vals["off"][2], ",.0f")
            print(f"| {i} | {nodes} | {phase} | {ops_on} | {ops_off} | {r_ops} "
                  f"| {cpu_on} | {cpu_off} | {r_cpu} | {flt_on} | {flt_off} |")
PY
