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
# siblings, the largest object read) and a summary, with what the nodes
# counted during the run (merges that stored a key past the cap, writes
# refused at the cap, writes past warn_siblings, reads answered with 100 or
# more siblings); writes the reports
# to bench/results/siblings-*.json (not committed) and the summary to
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
ADMIN=$BUILD/tools/ringkv-admin
RESULTS=$ROOT/bench/results
LONG=${BENCH_LONG:-60}
WARMUP=${BENCH_WARMUP:-2}
CONC=${BENCH_CONCURRENCY:-50}
THREADS=${BENCH_THREADS:-2}
RECORDS=${BENCH_RECORDS:-100000}

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
require_tools "$BUILD" "$BENCH" "$CLUSTER" "$ADMIN"
scratch_dir siblings
mkdir -p "$RESULTS"

start_cluster "$CLUSTER" "$TMP/cluster" "$TMP/cluster.log" 3 3 2 2
PIDS=$(node_pids "$CLUSTER" "$TMP/cluster")
PIDS=${PIDS// /,}

# node_metrics FILE: every node's status (ringkv-admin status --json), one
# JSON document a line.
node_metrics() {
  local address
  : >"$1"
  for address in $(tr ',' ' ' <<<"${TARGET#ringkv://}"); do
    "$ADMIN" --node "$address" status --json | tr -d '\n' >>"$1"
    echo >>"$1"
  done
}

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
  node_metrics "$RESULTS/siblings-$name-nodes.jsonl"
}
node_metrics "$RESULTS/siblings-start-nodes.jsonl"
run blind ycsb
run read-modify-write ycsb_rmw --read-modify-write

python3 - "$RESULTS" <<'EOF' | tee "$RESULTS/siblings.txt"
import json, sys
results = sys.argv[1]

def counters(name):
    # The nodes' figures at the end of run `name`, summed: counters by
    # (metric, labels), and from the ringkv_read_siblings histograms the
    # reads answered with more than 99 and more than 103 siblings (its
    # buckets near 100 are 96-99 and 100-103; only non-empty ones are listed,
    # with cumulative counts).
    out = {}
    def add(key, value):
        out[key] = out.get(key, 0) + value
    with open(f"{results}/siblings-{name}-nodes.jsonl") as f:
        for line in f:
            for m in json.loads(line)["metrics"]:
                labels = tuple(sorted(m.get("labels", {}).items()))
                if m["type"] == "counter":
                    add((m["name"], labels), m["value"])
                elif m["name"] == "ringkv_read_siblings":
                    for bound in (99, 103):
                        below = max([b["count"] for b in m["buckets"] if b["le"] <= bound], default=0)
                        add(("reads_over", bound), m["count"] - below)
    return out

print("issue 13's YCSB case: 3 nodes, N=3 R=W=2, default bucket (siblings, cap 100), workload A zipfian")
previous = counters("start")
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
    now = counters(name)
    delta = {k: v - previous.get(k, 0) for k, v in now.items()}
    previous = now
    refused = sum(v for (metric, labels), v in delta.items()
                  if metric == "ringkv_client_requests_total" and ("result", "too_many_siblings") in labels)
    past_cap = delta.get(("ringkv_sibling_cap_merges_total", ()), 0)
    warned = delta.get(("ringkv_sibling_warnings_total", ()), 0)
    print(f"{'':18s} nodes: merges that stored a key past the cap {past_cap:.0f}, "
          f"writes refused at the cap {refused:.0f}, writes past warn_siblings {warned:.0f}, "
          f"reads answered with 100-103 siblings {delta.get(('reads_over', 99), 0) - delta.get(('reads_over', 103), 0):.0f}, "
          f"with more {delta.get(('reads_over', 103), 0):.0f}")
EOF
