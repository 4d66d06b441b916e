#!/usr/bin/env bash
# bench/tls.sh BUILD_DIR: the cost of TLS (issue 12; docs/performance.md,
# "TLS"), run by `make bench` after bench/run.sh and on its own by
# `make bench-tls`.
#
# Two clusters of three nodes (N=3, R=W=2, the last-write-wins bucket of
# bench/run.sh), one plain and one started with `ringkv-cluster start --tls`
# (peer traffic over mutual TLS 1.3, clients over TLS 1.3 with the cluster
# CA), each loaded with 100,000 keys of 100-byte values, then measured in
# turns, BENCH_ROUNDS times each (plain, TLS, plain, TLS, ...), so a drift of
# the machine's load favours neither: workload A uniform at 50 in flight,
# then one request in flight (the round trip). Connections are opened before
# the measured interval, so the figures are TLS's per-message cost, not its
# handshakes. Prints a table of medians (throughput, p50, p99, the nodes'
# CPU per operation) and the TLS / plain ratios; writes the reports to
# bench/results/tls-*.json (not committed) and the table to
# bench/results/tls.txt. Every process it starts is stopped by PID.
#
# Knobs (environment): BENCH_DURATION (measured seconds per run, default 8),
# BENCH_WARMUP (default 2), BENCH_CONCURRENCY (default 50), BENCH_THREADS
# (default 2), BENCH_ROUNDS (default 3), BENCH_RECORDS (default 100000).
set -euo pipefail

BUILD=${1:?usage: bench/tls.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
BENCH=$BUILD/tools/bench/ringkv-bench
CLUSTER=$BUILD/tools/ringkv-cluster
RESULTS=$ROOT/bench/results
DURATION=${BENCH_DURATION:-8}
WARMUP=${BENCH_WARMUP:-2}
CONC=${BENCH_CONCURRENCY:-50}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
RECORDS=${BENCH_RECORDS:-100000}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
require_tools "$BUILD" "$BENCH" "$CLUSTER"
"$BENCH" --help | grep -q -- --tls-ca ||
  { echo "bench/tls.sh: $BENCH has no --tls-ca; rebuild it" >&2; exit 1; }
scratch_dir tls
mkdir -p "$RESULTS"
rm -f "$RESULTS"/tls-*.json

start_cluster "$CLUSTER" "$TMP/plain" "$TMP/plain.log" 3 3 2 2
PLAIN=$TARGET
PLAIN_PIDS=$(node_pids "$CLUSTER" "$TMP/plain")
start_cluster "$CLUSTER" "$TMP/tls" "$TMP/tls.log" 3 3 2 2 --tls
TLS=$TARGET
TLS_PIDS=$(node_pids "$CLUSTER" "$TMP/tls")
CA=$TMP/tls/tls/ca.crt

# bench SIDE NAME ARGS...: one ringkv-bench run against that side's cluster.
bench() {
  local side=$1 name=$2 target pids creds=()
  shift 2
  if [[ $side == tls ]]; then
    target=$TLS pids=$TLS_PIDS creds=(--tls-ca "$CA")
  else
    target=$PLAIN pids=$PLAIN_PIDS
  fi
  echo "--- $side $name"
  "$BENCH" --target "$target" "${creds[@]}" --threads "$THREADS" --records "$RECORDS" \
    --value-size 100 --server-pids "${pids// /,}" --quiet --json "$RESULTS/tls-$side-$name.json" \
    "$@" | sed 's/^/    /'
}

for side in plain tls; do
  bench "$side" load --load --concurrency "$CONC" --w 2
done
for round in $(seq "$ROUNDS"); do
  for side in plain tls; do
    bench "$side" "a-uniform-c$CONC-$round" --workload a --distribution uniform \
      --concurrency "$CONC" --duration "$DURATION" --warmup "$WARMUP"
    bench "$side" "a-uniform-c1-$round" --workload a --distribution uniform \
      --concurrency 1 --duration "$DURATION" --warmup "$WARMUP"
  done
done

python3 - "$RESULTS" "$ROUNDS" "$CONC" <<'EOF' | tee "$RESULTS/tls.txt"
import json, statistics, sys
results, rounds, conc = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def figures(side, run):
    out = []
    for i in range(1, rounds + 1):
        with open(f"{results}/tls-{side}-{run}-{i}.json") as f:
            r = json.load(f)
        out.append((r["ops_per_sec"], r["total"]["p50_us"], r["total"]["p99_us"],
                    r.get("server_cpu", {}).get("us_per_op", float("nan")), r["errors"]))
    return [statistics.median(col) for col in zip(*out)]

print(f"TLS 1.3 against plain TCP: 3 nodes, N=3 R=W=2, workload A uniform, 100-byte values, "
      f"medians of {rounds} interleaved runs")
print(f"{'run':22s} {'ops/s':>9s} {'p50 us':>8s} {'p99 us':>8s} {'node CPU us/op':>15s} {'errors':>7s}")
for run in (f"a-uniform-c{conc}", "a-uniform-c1"):
    rows = {side: figures(side, run) for side in ("plain", "tls")}
    for side, (ops, p50, p99, cpu, errors) in rows.items():
        print(f"{side + ' ' + run:22s} {ops:9.0f} {p50:8.0f} {p99:8.0f} {cpu:15.1f} {errors:7.0f}")
    p, t = rows["plain"], rows["tls"]
    print(f"{'tls / plain':22s} {t[0] / p[0]:9.2f} {t[1] / p[1]:8.2f} {t[2] / p[2]:8.2f} "
          f"{t[3] / p[3]:15.2f}")
EOF
