#!/usr/bin/env bash
# bench/ab.sh REV_A REV_B: an A/B of two commits on scenarios 1 and 2 of
# `make bench` (docs/performance.md, "A/B of two commits"), in one command.
#
# Builds each commit (git archive into AB_WORK, release build of ringkv-node
# and ringkv-cluster only), then runs AB_ROUNDS interleaved rounds: each
# round measures Redis once, then side A and side B (the order alternates
# between rounds, so a steady drift of the machine's load favours neither),
# each side starting its own clusters with its own ringkv-cluster: one node
# (N=1, R=W=1) and three nodes (N=3, R=W=2), loaded with 100,000 keys, then
# workloads A and C, uniform and zipfian, at 50 in flight, as bench/run.sh
# runs them. One generator drives both sides: this checkout's ringkv-bench
# (build it first: `make bench` or ninja -C build-release), whose
# --server-pids gives the servers' CPU time over exactly the measured
# interval. Every process (generator, Redis, clusters) runs under the same
# `nice -n AB_NICE`.
#
# The headline is the nodes' CPU per operation (user + system, every node
# of the cluster, divided by the measured operations): on a machine shared
# with other work, throughput moves with everyone else's load, CPU per
# operation much less. Ratios to Redis (that round's Redis) are reported too.
# Prints one table (medians over rounds, min-max) and writes every raw report
# under AB_WORK/results-TIMESTAMP/. Every process started is stopped by PID.
#
# Then, when valgrind is installed, a load-independent figure: each side's
# nodes run under callgrind for AB_INSTRUCTION_OPS operations of workload A
# uniform (one node, then three), and the table gives the nodes' user-space
# instructions per operation (the kernel's share is not counted).
#
# Knobs (environment): AB_ROUNDS (default 4), AB_NICE (default 10),
# AB_WORK (default /tmp/ringkv-ab), BENCH_DURATION (default 6),
# BENCH_WARMUP (default 2), BENCH_THREADS (default 2), AB_JOBS (ninja -j,
# default 2), AB_INSTRUCTION_OPS (default 5000; 0 skips callgrind).
set -euo pipefail

REV_A=${1:?usage: bench/ab.sh REV_A REV_B}
REV_B=${2:?usage: bench/ab.sh REV_A REV_B}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${AB_ROUNDS:-4}
NICE=${AB_NICE:-10}
WORK=${AB_WORK:-/tmp/ringkv-ab}
DURATION=${BENCH_DURATION:-6}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
JOBS=${AB_JOBS:-2}
INSTRUCTION_OPS=${AB_INSTRUCTION_OPS:-5000}
CONC=50
RECORDS=100000
VALUE=100
BENCH=$ROOT/build-release/tools/bench/ringkv-bench

[[ -x $BENCH ]] || { echo "bench/ab.sh: $BENCH is missing; ninja -C build-release first" >&2; exit 1; }
"$BENCH" --help | grep -q -- --server-pids ||
  { echo "bench/ab.sh: $BENCH has no --server-pids; rebuild it" >&2; exit 1; }
for prog in redis-server redis-cli python3 meson ninja; do
  command -v "$prog" >/dev/null || { echo "bench/ab.sh: $prog not found" >&2; exit 1; }
done

SHA_A=$(git -C "$ROOT" rev-parse --verify "$REV_A^{commit}")
SHA_B=$(git -C "$ROOT" rev-parse --verify "$REV_B^{commit}")
mkdir -p "$WORK"
OUT=$WORK/results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"

# build SHA: a release build of the node and the cluster tool of that commit.
build() {
  local sha=$1 src=$WORK/$1
  if [[ ! -x $src/build-release/tools/ringkv-cluster || ! -x $src/build-release/node/ringkv-node ]]; then
    echo "building ${sha:0:7} in $src"
    rm -rf "$src" && mkdir -p "$src"
    git -C "$ROOT" archive "$sha" | tar -x -C "$src"
    nice -n "$NICE" meson setup "$src/build-release" "$src" --buildtype=release >"$src/setup.log"
    nice -n "$NICE" ninja -C "$src/build-release" -j "$JOBS" node/ringkv-node tools/ringkv-cluster \
      >"$src/build.log" || { tail -20 "$src/build.log" >&2; exit 1; }
  fi
}
build "$SHA_A"
build "$SHA_B"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
scratch_dir ab

# run DIR NAME TARGET PIDS ARGS...: one ringkv-bench run, its report in DIR/NAME.json.
run() {
  local dir=$1 name=$2 target=$3 pids=$4
  shift 4
  nice -n "$NICE" "$BENCH" --target "$target" --threads "$THREADS" --records "$RECORDS" \
    --value-size "$VALUE" --quiet --json "$dir/$name.json" --server-pids "${pids// /,}" "$@" \
    >"$dir/$name.txt"
}

workloads() {  # DIR PREFIX TARGET PIDS EXTRA...
  local dir=$1 prefix=$2 target=$3 pids=$4
  shift 4
  for wl in a c; do
    for dist in uniform zipfian; do
      run "$dir" "$prefix-$wl-$dist" "$target" "$pids" --workload "$wl" --distribution "$dist" \
        --concurrency "$CONC" --duration "$DURATION" --warmup "$WARMUP" "$@"
    done
  done
}

redis_round() {  # DIR
  local port
  port=$(free_port 1)
  rm -rf "$TMP/redis"
  start_redis "$port" "$TMP/redis"
  run "$1" redis-load "redis://127.0.0.1:$port" "$REDIS_PID" --load --concurrency "$CONC"
  workloads "$1" redis "redis://127.0.0.1:$port" "$REDIS_PID"
  stop_redis
}

side_round() {  # DIR SHA: scenarios 1 and 2 of one side
  local dir=$1 tool=$WORK/$2/build-release/tools/ringkv-cluster
  local nodes n rq cdir pids
  for nodes in 1 3; do
    if ((nodes == 1)); then n=1; rq=1; else n=3; rq=2; fi
    cdir=$TMP/cluster-$(basename "$dir")-$nodes
    start_cluster "$tool" "$cdir" "$dir/cluster-$nodes.log" "$nodes" "$n" "$rq" "$rq"
    pids=$(node_pids "$tool" "$cdir")
    run "$dir" "ringkv$nodes-load" "$TARGET" "$pids" --load --concurrency "$CONC" --w "$rq"
    workloads "$dir" "ringkv$nodes" "$TARGET" "$pids" --r "$rq" --w "$rq"
    stop_cluster "$tool" "$cdir"
    rm -rf "$cdir"
  done
}

# instructions DIR SHA NODES: the nodes' instructions per operation, load-
# independent: the nodes run under callgrind with instrumentation switched
# on only for INSTRUCTION_OPS operations of workload A uniform (20,000 keys
# loaded first); ab_summary.py sums the counts of every node.
instructions() {
  local dir=$1 sha=$2 nodes=$3 n rq cdir pids
  local tool=$WORK/$sha/build-release/tools/ringkv-cluster
  if ((nodes == 1)); then n=1; rq=1; else n=3; rq=2; fi
  cdir=$TMP/callgrind-$(basename "$dir")-$nodes
  start_callgrind_cluster "$tool" "$WORK/$sha/build-release/node/ringkv-node" "$dir/callgrind-$nodes" \
    "$cdir" "$dir/callgrind-cluster-$nodes.log" "$nodes" "$n" "$rq" "$rq"
  pids=$(node_pids "$tool" "$cdir")
  nice -n "$NICE" "$BENCH" --target "$TARGET" --threads "$THREADS" --records 20000 --value-size "$VALUE" \
    --quiet --load --concurrency "$CONC" --w "$rq" --client-timeout 60 >/dev/null
  count_instructions "$pids" nice -n "$NICE" "$BENCH" --target "$TARGET" --threads "$THREADS" \
    --records 20000 --value-size "$VALUE" --quiet --workload a --distribution uniform \
    --concurrency "$CONC" --ops "$INSTRUCTION_OPS" --r "$rq" --w "$rq" --client-timeout 60 \
    --json "$dir/callgrind-$nodes.json" >/dev/null
  stop_cluster "$tool" "$cdir"
  rm -rf "$cdir"
}

{
  echo "a ${SHA_A}"
  echo "b ${SHA_B}"
  echo "rounds $ROUNDS duration $DURATION warmup $WARMUP threads $THREADS nice $NICE"
  echo "generator $(git -C "$ROOT" rev-parse --short HEAD) $BENCH"
  echo "cores $(nproc)"
} >"$OUT/meta.txt"
echo "A = ${SHA_A:0:7}, B = ${SHA_B:0:7}; $ROUNDS rounds; raw reports in $OUT"
for round in $(seq "$ROUNDS"); do
  order="a b"
  ((round % 2 == 0)) && order="b a"
  mkdir -p "$OUT/$round-redis"
  echo "round $round: redis, then $order ($(date -u +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "round $round start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
  redis_round "$OUT/$round-redis"
  for side in $order; do
    mkdir -p "$OUT/$round-$side"
    if [[ $side == a ]]; then side_round "$OUT/$round-$side" "$SHA_A"; else side_round "$OUT/$round-$side" "$SHA_B"; fi
  done
  echo "round $round end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
done
if ((INSTRUCTION_OPS > 0)) && command -v callgrind_control >/dev/null; then
  for side in a b; do
    mkdir -p "$OUT/instructions-$side"
    sha=$SHA_A
    [[ $side == b ]] && sha=$SHA_B
    for nodes in 1 3; do
      echo "instructions: side $side, $nodes node(s) under callgrind ($(date -u +%T))"
      instructions "$OUT/instructions-$side" "$sha" "$nodes"
    done
  done
fi
python3 "$ROOT/bench/ab_summary.py" "$OUT" | tee "$OUT/summary.txt"
