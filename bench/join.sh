#!/usr/bin/env bash
# bench/join.sh BUILD_DIR: what a join costs the foreground (issue 15;
# docs/performance.md, "A join under load"), run by `make bench` and on its
# own by `make bench-join`.
#
# Three nodes (N=3, R=W=2, the last-write-wins bucket of bench/run.sh)
# loaded with BENCH_RECORDS keys of 100-byte values. Workload A (uniform,
# 50 in flight) runs in back-to-back slices of BENCH_SLICE seconds from
# start to end, so every slice has its own throughput and p99:
#   1. BENCH_BEFORE seconds before anything changes (the baseline);
#   2. `ringkv-cluster add` starts a fourth node, which joins, and commits
#      the plan; the slices go on until the change is complete (every
#      transfer done and ownership flipped, as ringkv-admin transfers says);
#      the nodes' ringkv_transfer_*_total counters then tell what moved;
#   3. BENCH_AFTER seconds on four nodes.
# Prints each slice (phase, ops/s, p99, errors) and a summary: the transfer
# rate (objects/s, MiB/s from commit to completion) and the foreground's
# throughput and p99 during the join as ratios to the baseline. Writes the
# reports to bench/results/join-*.json (not committed) and the summary to
# bench/results/join.txt. Every process it starts is stopped by PID.
#
# Knobs (environment): BENCH_RECORDS (default 200000), BENCH_SLICE (2),
# BENCH_BEFORE (10), BENCH_AFTER (10), BENCH_MAX_JOIN (600: seconds the join
# may take before the script gives up), BENCH_CONCURRENCY (50),
# BENCH_THREADS (2).
set -euo pipefail

BUILD=${1:?usage: bench/join.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
BENCH=$BUILD/tools/bench/ringkv-bench
CLUSTER=$BUILD/tools/ringkv-cluster
ADMIN=$BUILD/tools/ringkv-admin
RESULTS=$ROOT/bench/results
RECORDS=${BENCH_RECORDS:-200000}
SLICE=${BENCH_SLICE:-2}
BEFORE=${BENCH_BEFORE:-10}
AFTER=${BENCH_AFTER:-10}
MAX_JOIN=${BENCH_MAX_JOIN:-600}
CONC=${BENCH_CONCURRENCY:-50}
THREADS=${BENCH_THREADS:-2}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
require_tools "$BUILD" "$BENCH" "$CLUSTER" "$ADMIN"
scratch_dir join
mkdir -p "$RESULTS"
rm -f "$RESULTS"/join-slice-*.json

SPARE_NODES=1 start_cluster "$CLUSTER" "$TMP/cluster" "$TMP/cluster.log" 3 3 2 2
SEED=${TARGET#ringkv://}
SEED=${SEED%%,*}
echo "--- load $RECORDS keys into bucket bench (N=3, R=W=2, lww)"
"$BENCH" --target "$TARGET" --bucket bench --threads "$THREADS" --records "$RECORDS" \
  --load --concurrency "$CONC" --quiet | sed 's/^/    /'

SLICE_NO=0
# slice PHASE: one measured slice of workload A, its report named by its
# number (the order they ran in) and its phase, as join_summary.py reads them.
slice() {
  SLICE_NO=$((SLICE_NO + 1))
  local out
  out=$(printf '%s/join-slice-%03d-%s.json' "$RESULTS" "$SLICE_NO" "$1")
  "$BENCH" --target "$TARGET" --bucket bench --threads "$THREADS" --records "$RECORDS" \
    --workload a --distribution uniform --concurrency "$CONC" --duration "$SLICE" --warmup 0 \
    --quiet --json "$out" >/dev/null
  python3 - "$out" "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"    {sys.argv[2]:7s} {r['ops_per_sec']:8.0f} ops/s  p99 {r['total']['p99_us'] / 1000:6.2f} ms"
      f"  errors {r['errors']}")
EOF
}

changing() {  # 0 while the cluster has a ring change in flight
  "$ADMIN" --node "$SEED" transfers --json 2>/dev/null |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("changing") else 1)'
}

echo "--- workload A uniform, ${SLICE} s slices: before the join"
end=$((SECONDS + BEFORE))
while ((SECONDS < end)); do slice before; done

echo "--- ringkv-cluster add (a fourth node joins; the plan is committed)"
JOIN_START=$(date +%s.%N)
"$CLUSTER" add --dir "$TMP/cluster" >"$TMP/add.log" 2>&1 &
ADDER=$!
slice join
while kill -0 "$ADDER" 2>/dev/null; do slice join; done
wait "$ADDER" || { echo "bench/join.sh: ringkv-cluster add failed:" >&2; cat "$TMP/add.log" >&2; exit 1; }
sed 's/^/    /' "$TMP/add.log"
deadline=$((SECONDS + MAX_JOIN))
while changing; do
  ((SECONDS < deadline)) || { echo "bench/join.sh: the join took over $MAX_JOIN s" >&2; exit 1; }
  slice join
done
JOIN_END=$(date +%s.%N)
"$CLUSTER" status --dir "$TMP/cluster" --json >"$TMP/status.json"

echo "--- on four nodes"
end=$((SECONDS + AFTER))
while ((SECONDS < end)); do slice after; done

python3 "$ROOT/bench/join_summary.py" "$RESULTS" "$TMP/status.json" "$JOIN_START" "$JOIN_END" \
  "$RECORDS" | tee "$RESULTS/join.txt"
