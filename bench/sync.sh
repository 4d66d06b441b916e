#!/usr/bin/env bash
# bench/sync.sh BUILD_DIR [BUILD_DIR_B]: throughput with every write fsync'd
# (`ringkv-cluster start --sync`) on a real disk (docs/performance.md,
# "Synced writes"). Run by `make bench-sync`.
#
# For each build given (one, or two to compare, e.g. before and after a
# change), a cluster of one node (N=1, R=W=1) and one of three (N=3,
# R=W=2), the last-write-wins bucket of bench/run.sh, each loaded with
# BENCH_RECORDS keys of 100-byte values, then workload A uniform at
# BENCH_CONCURRENCY in flight for BENCH_DURATION seconds, BENCH_ROUNDS
# times, the builds' runs interleaved so that a drift of the machine's load
# favours neither. Prints each run's throughput, p50, p99 and the nodes' CPU
# per operation, then the medians. The data directories go under
# BENCH_SYNC_DIR (default: bench/results/ in this checkout), which must be
# on the disk to measure: /tmp is often a tmpfs, where an fsync costs
# nothing. Every process it starts is stopped by PID.
#
# Knobs (environment): BENCH_DURATION (default 8), BENCH_WARMUP (default 2),
# BENCH_CONCURRENCY (default 50), BENCH_THREADS (default 2), BENCH_ROUNDS
# (default 2), BENCH_RECORDS (default 20000), BENCH_SYNC_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
(($# >= 1 && $# <= 2)) || { echo "usage: bench/sync.sh BUILD_DIR [BUILD_DIR_B]" >&2; exit 2; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
BUILDS=()
for b in "$@"; do
  b=$(cd "$b" && pwd)
  require_tools "$b" "$b/tools/bench/ringkv-bench" "$b/tools/ringkv-cluster" "$b/node/ringkv-node"
  BUILDS+=("$b")
done
BENCH=${BUILDS[0]}/tools/bench/ringkv-bench
DURATION=${BENCH_DURATION:-8}
WARMUP=${BENCH_WARMUP:-2}
CONC=${BENCH_CONCURRENCY:-50}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-2}
RECORDS=${BENCH_RECORDS:-20000}
SYNC_DIR=${BENCH_SYNC_DIR:-$ROOT/bench/results}

mkdir -p "$SYNC_DIR"
scratch_dir sync "$SYNC_DIR"
echo "synced writes: data under $TMP ($(df --output=fstype "$TMP" | tail -1 | tr -d ' '))"

declare -A TARGETS PIDS
for side in "${!BUILDS[@]}"; do
  for nodes in 1 3; do
    if ((nodes == 1)); then q=1; else q=2; fi
    dir=$TMP/b$side-n$nodes
    start_cluster "${BUILDS[$side]}/tools/ringkv-cluster" "$dir" "$dir.log" "$nodes" "$nodes" \
      "$q" "$q" --sync
    TARGETS[$side-$nodes]=$TARGET
    PIDS[$side-$nodes]=$(node_pids "${BUILDS[$side]}/tools/ringkv-cluster" "$dir")
    "$BENCH" --target "$TARGET" --threads "$THREADS" --records "$RECORDS" --value-size 100 \
      --load --concurrency "$CONC" --w "$q" --quiet >/dev/null
  done
done

for round in $(seq "$ROUNDS"); do
  order=("${!BUILDS[@]}")
  ((round % 2 == 0)) && order=($(printf '%s\n' "${order[@]}" | sort -r))
  for side in "${order[@]}"; do
    for nodes in 1 3; do
      if ((nodes == 1)); then q=1; else q=2; fi
      pids=${PIDS[$side-$nodes]}
      "$BENCH" --target "${TARGETS[$side-$nodes]}" --threads "$THREADS" --records "$RECORDS" \
        --value-size 100 --workload a --distribution uniform --concurrency "$CONC" \
        --duration "$DURATION" --warmup "$WARMUP" --r "$q" --w "$q" --quiet \
        --server-pids "${pids// /,}" --json "$TMP/run-$side-$nodes-$round.json" >/dev/null
    done
  done
done

python3 - "$TMP" "${BUILDS[@]}" <<'PY'
import glob, json, os, statistics, sys
tmp, builds = sys.argv[1], sys.argv[2:]
print(f"{'build':>5} {'nodes':>5} {'ops/s':>9} {'p50 us':>8} {'p99 us':>8} {'CPU us/op':>9}   (median of rounds; each round)")
for side, build in enumerate(builds):
    for nodes in (1, 3):
        runs = [json.load(open(f)) for f in sorted(glob.glob(f"{tmp}/run-{side}-{nodes}-*.json"))]
        ops = [r["ops_per_sec"] for r in runs]
        p50 = [r["total"]["p50_us"] for r in runs]
        p99 = [r["total"]["p99_us"] for r in runs]
        cpu = [r.get("server_cpu", {}).get("us_per_op", 0) for r in runs]
        errors = sum(r["errors"] for r in runs)
        label = "AB"[side] if len(builds) > 1 else "-"
        print(f"{label:>5} {nodes:>5} {statistics.median(ops):9.0f} {statistics.median(p50):8.0f} "
              f"{statistics.median(p99):8.0f} {statistics.median(cpu):9.1f}   "
              + " ".join(f"{o:.0f}" for o in ops) + (f"  errors {errors}" if errors else ""))
for side, build in enumerate(builds):
    print(f"{'AB'[side] if len(builds) > 1 else '-'} = {build}")
PY
