#!/usr/bin/env bash
# bench/profile.sh SRC...: where a node's instructions go, per operation, in
# one run (docs/performance.md, "Reading and writing the hot messages
# directly"). Each SRC is a source tree with a release build of ringkv-node
# and ringkv-cluster in SRC/build-release.
#
# For each SRC, one node (N=1, R=W=1) and three (N=3, R=W=2): every node
# under callgrind with instrumentation on only while PROFILE_OPS operations
# of workload A uniform run (100 B values, 50 in flight), after a load of
# PROFILE_RECORDS keys; then bench/profile_summary.py sums the nodes' dumps
# and prints, per operation, the total and the functions with the largest
# inclusive and exclusive counts, side by side for every SRC. The same keys
# and the same operation mix for every SRC (the generator's seed is fixed).
#
# Knobs (environment): PROFILE_OPS (default 5000), PROFILE_RECORDS
# (default 20000), PROFILE_TOP (default 30), PROFILE_NICE (default 10),
# PROFILE_WORK (default /tmp/ringkv-profile). Every process started is
# stopped by PID; dumps and reports stay in PROFILE_WORK.
set -euo pipefail

(($# > 0)) || { echo "usage: bench/profile.sh SRC..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OPS=${PROFILE_OPS:-5000}
RECORDS=${PROFILE_RECORDS:-20000}
TOP=${PROFILE_TOP:-30}
NICE=${PROFILE_NICE:-10}
WORK=${PROFILE_WORK:-/tmp/ringkv-profile}
CONC=50
VALUE=100
BENCH=$ROOT/build-release/tools/bench/ringkv-bench
[[ -x $BENCH ]] || { echo "bench/profile.sh: $BENCH is missing; ninja -C build-release first" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "bench/profile.sh: valgrind is not installed" >&2; exit 1; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
release_srcs "$@"
OUT=$WORK/results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
scratch_dir profile

bench() {  # REPORT_NAME ARGS...: one generator run, its JSON report in OUT
  local name=$1
  shift
  nice -n "$NICE" "$BENCH" --target "$TARGET" --threads 2 --value-size "$VALUE" --records "$RECORDS" \
    --concurrency "$CONC" --quiet --client-timeout 60 --json "$OUT/$name.json" "$@" >/dev/null
}

profile() {  # INDEX SRC NODES
  local i=$1 src=$2 nodes=$3 n rw cdir pids name=prof-$1-$3
  if ((nodes == 1)); then n=1; rw=1; else n=3; rw=2; fi
  cdir=$TMP/$name
  start_callgrind_cluster "$src/build-release/tools/ringkv-cluster" "$src/build-release/node/ringkv-node" \
    "$OUT/$name" "$cdir" "$OUT/$name.log" "$nodes" "$n" "$rw" "$rw"
  pids=$(node_pids "$src/build-release/tools/ringkv-cluster" "$cdir")
  bench "$name-load" --load --w "$rw"
  count_instructions "$pids" bench "$name" --workload a --distribution uniform --ops "$OPS" \
    --r "$rw" --w "$rw"
  stop_cluster "$src/build-release/tools/ringkv-cluster" "$cdir"
  rm -rf "$cdir"
}

for i in "${!SRCS[@]}"; do echo "$i ${SRCS[$i]} $(git -C "${SRCS[$i]}" rev-parse --short HEAD 2>/dev/null)"; done \
  >"$OUT/srcs.txt"
echo "builds: $(tr '\n' ' ' <"$OUT/srcs.txt"); dumps in $OUT"
for i in "${!SRCS[@]}"; do
  for nodes in 1 3; do
    echo "build $i, $nodes node(s) under callgrind ($(date -u +%T))"
    profile "$i" "${SRCS[$i]}" "$nodes"
  done
done
python3 "$ROOT/bench/profile_summary.py" "$OUT" "$TOP" | tee "$OUT/summary.txt"
