#!/usr/bin/env bash
# bench/siblings.sh BUILD_DIR: issue 13's YCSB case (docs/plugins.md,
# "Siblings under blind writes"), run by `make bench` after bench/run.sh and
# on its own by `make bench-siblings`.
#
# Three nodes (N=3, R=W=2), a bucket with the cluster's defaults (resolver
# siblings, sibling cap 100), 100,000 keys of 100-byte values loaded, then
# YCSB workload A (zipfian) for BENCH_LONG seconds twice, each on its own
# freshly loaded bucket:
#   1. blind updates (no read context), as a new user would: every update of
#      a hot key adds a sibling until the cap answers too_many_siblings;
#   2. --read-modify-write: each update reads, then writes with the read's
#      context (as Client::Update), so no sibling should be left.
# Prints each run's table (throughput per 10 s, reads that returned
# siblings, the largest object read) and a summary; writes the reports to
# bench/results/siblings-*.json (not committed) and the summary to
# bench/results/siblings.txt. Every process it starts is stopped by PID.
#
# Knobs (environment): BENCH_LONG (measured seconds per run, default 60),
# BENCH_WARMUP (default 2), BENCH_CONCURRENCY (default 50), BENCH_THREADS
# (default 2), BENCH_RECORDS (default 100000).
set -euo pipefail

BUILD=${1:?usage: bench/siblings.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
BENCH=$BUILD/tools/bench/ringkv-bench
CLUSTER=$BUILD/tools/ringkv-cluster
RESULTS=$ROOT/bench/results
LONG=${BENCH_LONG:-60}
WARMUP=${BENCH_WARMUP:-2}
CONC=${BENCH_CONCURRENCY:-50}
THREADS=${BENCH_THREADS:-2}
RECORDS=${BENCH_RECORDS:-100000}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
require_tools "$BUILD" "$BENCH" "$CLUSTER"
scratch_dir siblings
mkdir -p "$RESULTS"

start_cluster "$CLUSTER" "$TMP/cluster" "$TMP/cluster.log" 3 3 2 2
PIDS=$(node_pids "$CLUSTER" "$TMP/cluster")
PIDS=${PIDS// /,}

# run NAME BUCKET ARGS...: load BUCKET, then workload A on it for LONG s.
run() {
  local name=$1 bucket=$2
  shift 2
  echo "--- $name: load $RECORDS keys into bucket $bucket (resolver siblings, the default)"
  "$BENCH" --target "$TARGET" --bucket "$bucket" --threads "$THREADS" --records "$RECORDS" \
    --load --concurrency "$CONC" --quiet | sed 's/^/    /'
  echo "--- $name: workload A zipfian, ${LONG} s"
  "$BENCH" --target "$TARGET" --bucket "$bucket" --threads "$THREADS" --records "$RECORDS" \
    --workload a --concurrency "$CONC" --duration "$LONG" --warmup "$WARMUP" --no-verify \
    --server-pids "$PIDS" --quiet --json "$RESULTS/siblings-$name.json" "$@" | sed 's/^/    /'
}
run blind ycsb
run read-modify-write ycsb_rmw --read-modify-write

python3 - "$RESULTS" <<'EOF' | tee "$RESULTS/siblings.txt"
import json, sys
results = sys.argv[1]
print("issue 13's YCSB case: 3 nodes, N=3 R=W=2, default bucket (siblings, cap 100), workload A zipfian")
for name in ("blind", "read-modify-write"):
    with open(f"{results}/siblings-{name}.json") as f:
        r = json.load(f)
    windows = r["per_10s"]
    ratio = windows[-1] / windows[0] if len(windows) >= 2 and windows[0] > 0 else float("nan")
    reads = r.get("read", {}).get("count", 0) + r.get("read_modify_write", {}).get("count", 0)
    print(f"{name:18s} {r['ops_per_sec']:8.0f} ops/s; per 10 s: "
          + " ".join(f"{w:.0f}" for w in windows)
          + f" (last/first {ratio:.2f}); reads {reads}, with siblings {r['sibling_reads']}, "
          f"most siblings read {r['max_siblings_read']}, largest object read "
          f"{r['largest_object_read_bytes']} bytes; errors {r['errors_by_kind'] or 'none'}")
    cpu = r.get("server_us_per_op_per_10s", [])
    if len(cpu) >= 2 and cpu[0] > 0:
        print(f"{'':18s} nodes' CPU us per operation per 10 s: " + " ".join(f"{c:.0f}" for c in cpu)
              + f" (last/first {cpu[-1] / cpu[0]:.2f})")
EOF
