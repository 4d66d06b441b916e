#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: the standard ringkv benchmark (docs/performance.md),
# run by `make bench` after a release build into BUILD_DIR.
#
# Starts on 127.0.0.1, in a temporary directory, a Redis (append-only file,
# fsync every second) and ringkv clusters, and drives both with ringkv-bench
# at the same concurrency:
#   1. one ringkv node (N=1, R=W=1) against Redis: 100-byte values, 100,000
#      keys, workloads A and C, uniform and zipfian;
#   2. three ringkv nodes (N=3, R=W=2), the same workloads;
#   3. a concurrency sweep (1 4 16 64 256 in flight) on scenario 2 and Redis;
#   4. memory: a fresh node (N=1, W=1) loaded with 1,000,000 keys of 100-byte
#      values, then read for a while so its block cache fills; its resident
#      set (current and peak) and data directory against the raw data size;
# plus the raw round trip (ping, one in flight) and redis-benchmark at the
# same concurrency, to show the generator drives Redis at least as fast.
# Writes bench/results/*.json, bench/results/summary.{txt,json} and
# bench/results/sweep.png; prints the summary table. Every process it starts
# is stopped by PID on exit, whatever happens.
#
# Knobs (environment): BENCH_DURATION (measured seconds per run, default 8),
# BENCH_WARMUP (default 2), BENCH_CONCURRENCY (scenarios 1-2, default 50),
# BENCH_SWEEP (default "1 4 16 64 256"), BENCH_THREADS (default 2),
# BENCH_MEMORY_RECORDS (keys of scenario 4, default 1000000; 0 skips it),
# BENCH_LONG (seconds of the long three-node run, default 60; 0 skips it).
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
BENCH=$BUILD/tools/bench/ringkv-bench
CLUSTER=$BUILD/tools/ringkv-cluster
RESULTS=$ROOT/bench/results
DURATION=${BENCH_DURATION:-8}
WARMUP=${BENCH_WARMUP:-2}
CONC=${BENCH_CONCURRENCY:-50}
SWEEP=${BENCH_SWEEP:-"1 4 16 64 256"}
THREADS=${BENCH_THREADS:-2}
MEMORY_RECORDS=${BENCH_MEMORY_RECORDS:-1000000}
LONG=${BENCH_LONG:-60}
RECORDS=100000
VALUE=100

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
require_tools "$BUILD" "$BENCH" "$CLUSTER"
for prog in redis-server redis-benchmark python3; do
  command -v "$prog" >/dev/null || { echo "bench/run.sh: $prog not found (tools/setup.sh --bench)" >&2; exit 1; }
done
scratch_dir bench
RUN=$TMP/results
mkdir -p "$RUN" "$RESULTS"
SERVER_PIDS=""

rss_kib() {  # resident set of the given pids, summed, in KiB
  local total=0 kib
  for pid in "$@"; do
    kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

# bench NAME TARGET ARGS...: one ringkv-bench run, report in $RUN/NAME.json,
# with the CPU per operation of SERVER_PIDS (the processes serving TARGET).
bench() {
  local name=$1 target=$2 pids=${SERVER_PIDS// /,}
  shift 2
  echo "--- $name"
  "$BENCH" --target "$target" --threads "$THREADS" --records "${BENCH_RECORDS:-$RECORDS}" --value-size "$VALUE" \
    --quiet --json "$RUN/$name.json" ${pids:+--server-pids "$pids"} "$@" | sed 's/^/    /'
}

run_workloads() {  # PREFIX TARGET EXTRA...: workloads A and C, uniform and zipfian, at $CONC
  local prefix=$1 target=$2
  shift 2
  for wl in a c; do
    for dist in uniform zipfian; do
      bench "$prefix-$wl-$dist-c$CONC" "$target" --workload "$wl" --distribution "$dist" \
        --concurrency "$CONC" --duration "$DURATION" --warmup "$WARMUP" "$@"
    done
  done
}

echo "ringkv benchmark: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "runs of ${DURATION}s after ${WARMUP}s warm-up; scenarios at $CONC in flight; raw files in $RUN"

# --- Redis: append-only file, fsync every second, no RDB snapshots.
REDIS_PORT=$(free_port 1)
start_redis "$REDIS_PORT" "$TMP/redis"
REDIS=redis://127.0.0.1:$REDIS_PORT
SERVER_PIDS=$REDIS_PID

bench redis-load "$REDIS" --load --concurrency "$CONC"
run_workloads redis "$REDIS"
bench redis-ping-c1 "$REDIS" --ping --concurrency 1 --duration "$DURATION"

# redis-benchmark at the same concurrency: SET (compare with our load phase,
# 100% SET, as many requests as redis-benchmark sends: a 100,000-key load
# lasts under a second, too short to judge) and GET (compare with workload
# C uniform, 100% GET).
BENCH_RECORDS=$((60000 * DURATION / 2)) bench redis-set-check "$REDIS" --load --concurrency "$CONC"
for t in set get; do
  redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$CONC" -n $((60000 * DURATION / 2)) -t "$t" \
    -d "$VALUE" -r "$RECORDS" --csv 2>/dev/null | tail -1 >"$RUN/redis-benchmark-$t-c$CONC.csv"
  echo "--- redis-benchmark $t c=$CONC: $(cat "$RUN/redis-benchmark-$t-c$CONC.csv")"
done

# cluster NAME NODES N R W: a cluster in $TMP/NAME; sets CLUSTER_DIR and TARGET.
cluster() {
  CLUSTER_DIR=$TMP/$1
  shift
  start_cluster "$CLUSTER" "$CLUSTER_DIR" "$CLUSTER_DIR.log" "$@"
}

# --- Scenario 1: one node, N=1, R=W=1.
cluster cluster-1 1 1 1 1
ONE_DIR=$CLUSTER_DIR
ONE=$TARGET
SERVER_PIDS=$(node_pids "$CLUSTER" "$ONE_DIR")
echo "rss_idle_kib $(rss_kib $(node_pids "$CLUSTER" "$ONE_DIR"))" >"$RUN/ringkv1-rss.txt"
bench ringkv1-load "$ONE" --load --concurrency "$CONC" --w 1
echo "rss_loaded_kib $(rss_kib $(node_pids "$CLUSTER" "$ONE_DIR"))" >>"$RUN/ringkv1-rss.txt"
run_workloads ringkv1 "$ONE" --r 1 --w 1
bench ringkv1-ping-c1 "$ONE" --ping --concurrency 1 --duration "$DURATION"
stop_cluster "$CLUSTER" "$ONE_DIR"

# --- Scenario 2: three nodes, N=3, R=W=2.
cluster cluster-3 3 3 2 2
THREE_DIR=$CLUSTER_DIR
THREE=$TARGET
SERVER_PIDS=$(node_pids "$CLUSTER" "$THREE_DIR")
echo "rss_idle_kib $(rss_kib $(node_pids "$CLUSTER" "$THREE_DIR"))" >"$RUN/ringkv3-rss.txt"
bench ringkv3-load "$THREE" --load --concurrency "$CONC" --w 2
echo "rss_loaded_kib $(rss_kib $(node_pids "$CLUSTER" "$THREE_DIR"))" >>"$RUN/ringkv3-rss.txt"
run_workloads ringkv3 "$THREE" --r 2 --w 2
bench ringkv3-ping-c1 "$THREE" --ping --concurrency 1 --duration "$DURATION"
# A long run of workload A: throughput per 10 s must not decay.
if ((LONG > 0)); then
  bench "ringkv3-a-uniform-long-c$CONC" "$THREE" --workload a --distribution uniform \
    --concurrency "$CONC" --duration "$LONG" --warmup "$WARMUP" --r 2 --w 2
fi
# Serial reads coordinated by the client library (issue 5's get target):
# replica reads sent straight to the key's replicas, done at R answers; the
# ping goes through the same serial client loop, so the ratio compares like
# with like.
bench ringkv3-client-reads-c1 "$THREE" --workload c --client-reads --concurrency 1 \
  --duration "$DURATION" --warmup "$WARMUP" --r 2
bench ringkv3-client-ping-c1 "$THREE" --client-reads --ping --concurrency 1 --duration "$DURATION"

# --- Scenario 3: concurrency sweep, workload A uniform, ringkv N=3 and Redis.
for c in $SWEEP; do
  SERVER_PIDS=$(node_pids "$CLUSTER" "$THREE_DIR")
  bench "sweep-ringkv3-a-uniform-c$c" "$THREE" --workload a --distribution uniform \
    --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP" --r 2 --w 2
  SERVER_PIDS=$REDIS_PID
  bench "sweep-redis-a-uniform-c$c" "$REDIS" --workload a --distribution uniform \
    --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP"
done
stop_cluster "$CLUSTER" "$THREE_DIR"

# --- Scenario 4: memory of one node holding MEMORY_RECORDS keys (issue 5:
# under 2x the raw data). A fresh node, so nothing else has touched it.
# Measured after the load, then again after a uniform read run long enough to
# fill the LevelDB block cache, which a loaded node serving reads would hold.
# The raw size is what the client stored: each key as ringkv-bench names it
# plus its value (tools/bench/key_chooser.h KeyName: "user" + the decimal
# FNV-64 of the key number, computed below as FnvHash64 does), without the
# bucket name.
proc_kib() {  # FIELD PID: a /proc/PID/status field (VmRSS, RssAnon, ...) in KiB
  awk -v f="$1:" '$1 == f {print $2}' "/proc/$2/status" 2>/dev/null || echo 0
}
# RssFile apart from RssAnon: the node's own memory apart from mapped files
# (code and libraries; LevelDB's tables are read with pread, not mapped, see
# storage/pread_env.h, so a regression to mapping shows up here).
memory_snapshot() {  # WHEN PID DATA_DIR: appends the node's memory and disk figures
  {
    echo "rss_${1}_kib $(proc_kib VmRSS "$2")"
    echo "anon_${1}_kib $(proc_kib RssAnon "$2")"
    echo "file_${1}_kib $(proc_kib RssFile "$2")"
    echo "hwm_${1}_kib $(proc_kib VmHWM "$2")"
    echo "disk_${1}_bytes $(du -sb "$3" | cut -f1)"
  } >>"$RUN/memory-rss.txt"
}
if ((MEMORY_RECORDS > 0)); then
  cluster memory 1 1 1 1
  MEM_DIR=$CLUSTER_DIR
  MEM_PID=$(node_pids "$CLUSTER" "$MEM_DIR")
  python3 - "$MEMORY_RECORDS" "$VALUE" >"$RUN/memory-rss.txt" <<'EOF'
import sys
records, value = int(sys.argv[1]), int(sys.argv[2])
key_bytes = 0
for keynum in range(records):
    h = 0xCBF29CE484222325
    for i in range(8):
        h = ((h ^ ((keynum >> (8 * i)) & 0xFF)) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    if h >= 1 << 63:
        h = 0 if h == 1 << 63 else (1 << 64) - h
    key_bytes += 4 + len(str(h))
print(f"records {records}\nvalue_size {value}\nkey_bytes {key_bytes}\n"
      f"raw_bytes {key_bytes + records * value}")
EOF
  echo "rss_idle_kib $(proc_kib VmRSS "$MEM_PID")" >>"$RUN/memory-rss.txt"
  echo "--- memory-load ($MEMORY_RECORDS keys)"
  "$BENCH" --target "$TARGET" --threads "$THREADS" --records "$MEMORY_RECORDS" \
    --value-size "$VALUE" --quiet --json "$RUN/memory-load.json" --load --concurrency "$CONC" \
    --w 1 | sed 's/^/    /'
  memory_snapshot loaded "$MEM_PID" "$MEM_DIR/n1/data"
  echo "--- memory-c-uniform ($MEMORY_RECORDS keys)"
  "$BENCH" --target "$TARGET" --threads "$THREADS" --records "$MEMORY_RECORDS" \
    --value-size "$VALUE" --quiet --json "$RUN/memory-c-uniform.json" --workload c \
    --distribution uniform --concurrency "$CONC" --duration "$DURATION" --warmup "$WARMUP" \
    --r 1 | sed 's/^/    /'
  memory_snapshot read "$MEM_PID" "$MEM_DIR/n1/data"
  sed 's/^/    /' "$RUN/memory-rss.txt"
  stop_cluster "$CLUSTER" "$MEM_DIR"
fi

# --- Summary, chart, and the files kept.
python3 "$ROOT/bench/summarize.py" --runs "$RUN" --out "$RESULTS" --concurrency "$CONC" \
  --sweep "$SWEEP"
