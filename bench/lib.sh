# shellcheck shell=bash
# Sourced by bench/run.sh and bench/ab.sh: free ports, and Redis and ringkv
# clusters started on 127.0.0.1 and stopped by PID. The caller sets TMP (a
# scratch directory) and may set NICE (every server then runs under
# `nice -n NICE`); stop_servers stops whatever is still running.

REDIS_PID=""
CLUSTERS=()  # "CLUSTER_TOOL DIR" of every cluster started

# free_port COUNT: a port on 127.0.0.1 free now, with the COUNT following
# ones free too.
free_port() {
  python3 - "${1:-1}" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
for _ in range(200):
    # Below the kernel's ephemeral range (32768+), which ringkv-cluster
    # refuses for node ports and their HTTP ports (node port + 1000).
    base = random.randint(20000, 31000 - count)
    socks = []
    try:
        for p in list(range(base, base + count + 1)) + list(range(base + 1001, base + count + 1001)):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit("no free port range")
PY
}

# start_redis PORT DIR: Redis with an append-only file fsynced every second
# and no RDB snapshots, its files in DIR; sets REDIS_PID once it answers.
start_redis() {
  local port=$1 dir=$2
  mkdir -p "$dir"
  ${NICE:+nice -n "$NICE"} redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --appendonly yes --appendfsync everysec --save '' --daemonize no --logfile "$dir/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 100); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-server did not answer on port $port within 10 s; see $dir/redis.log" >&2
  exit 1
}

stop_redis() {
  [[ -n $REDIS_PID ]] || return 0
  if kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$REDIS_PID" 2>/dev/null || true
  fi
  REDIS_PID=""
}

node_pids() {  # CLUSTER_TOOL DIR: the pids of a cluster's nodes, from its tool
  "$1" status --dir "$2" --json 2>/dev/null |
    python3 -c 'import json,sys; print(" ".join(str(n["pid"]) for n in json.load(sys.stdin) if n.get("pid")))' \
      2>/dev/null || true
}

stop_cluster() {  # CLUSTER_TOOL DIR: through the tool, then SIGKILL to any node left
  local pids
  pids=$(node_pids "$1" "$2")
  "$1" stop --dir "$2" >/dev/null 2>&1 || true
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true; done
}

# start_cluster CLUSTER_TOOL DIR LOG NODES N R W [START_ARGS...]: a cluster
# with the bucket "bench" (N, R, W), started by that ringkv-cluster with its
# output in LOG; sets TARGET (the ringkv:// target of every node). Exits,
# showing LOG, when it does not start. SPARE_NODES (default 0) keeps that
# many more ports free after the cluster's, for `ringkv-cluster add`.
start_cluster() {
  local tool=$1 dir=$2 log=$3 nodes=$4 n=$5 r=$6 w=$7 base
  shift 7
  base=$(free_port "$((nodes + ${SPARE_NODES:-0}))")
  CLUSTERS+=("$tool $dir")
  # Last-write-wins: YCSB updates are blind writes, which would otherwise pile
  # up as siblings (Redis, the baseline, is last-write-wins too).
  ${NICE:+nice -n "$NICE"} "$tool" start "$@" --nodes "$nodes" --dir "$dir" --base-port "$base" \
    --n "$n" --bucket "bench:resolver=lww,n=$n,r=$r,w=$w" >"$log" 2>&1 || {
    echo "$(basename "$0"): ringkv-cluster start failed:" >&2
    cat "$log" >&2
    # The scratch directory goes at exit: the nodes' own words stay here.
    for f in "$dir"/*/node.log; do
      [[ -f $f ]] && { echo "== $f (last lines)"; tail -n 20 "$f"; } >&2
    done
    exit 1
  }
  TARGET=ringkv://
  for i in $(seq "$nodes"); do TARGET+="127.0.0.1:$((base + i)),"; done
  TARGET=${TARGET%,}
}

# start_callgrind_cluster TOOL NODE_BINARY DUMPS DIR LOG NODES N R W
# [START_ARGS...]: start_cluster with every node (NODE_BINARY) under
# callgrind, instrumentation off until count_instructions; a node's dumps are
# DUMPS.PID.N, which bench/callgrind_totals.py sums.
start_callgrind_cluster() {
  local tool=$1 node=$2 dumps=$3 dir=$4 wrapper
  shift 4
  wrapper=$dir.valgrind.sh
  printf '#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=%s "%s" "$@"\n' \
    "$dumps.%p" "$node" >"$wrapper"
  chmod +x "$wrapper"
  start_cluster "$tool" "$dir" "$@" --node-binary "$wrapper"
}

# count_instructions PIDS CMD...: callgrind counts in the nodes PIDS while CMD
# runs, and only then; each node then writes one dump (DUMPS.PID.1).
count_instructions() {
  local pids=$1 pid
  shift
  for pid in $pids; do callgrind_control -i on "$pid" >/dev/null 2>&1; done
  "$@"
  for pid in $pids; do
    callgrind_control -i off "$pid" >/dev/null 2>&1
    callgrind_control -d "$pid" >/dev/null 2>&1
  done
}

stop_servers() {  # Redis and every cluster started, by PID
  local c
  stop_redis
  for c in "${CLUSTERS[@]}"; do stop_cluster $c; done
}

# require_tools BUILD TOOL...: exits, naming the first one, unless every
# TOOL (a path) is an executable of the build BUILD.
require_tools() {
  local build=$1 tool
  shift
  for tool in "$@"; do
    [[ -x $tool ]] || { echo "bench/$(basename "$0"): $tool is missing; build $build first" >&2; exit 1; }
  done
}

# release_srcs SRC...: sets SRCS to the source trees' absolute paths;
# exits unless each has a release build of ringkv-node and ringkv-cluster
# (in SRC/build-release).
release_srcs() {
  local src
  SRCS=()
  for src in "$@"; do
    src=$(cd "$src" && pwd)
    require_tools "$src/build-release" "$src/build-release/node/ringkv-node" \
      "$src/build-release/tools/ringkv-cluster"
    SRCS+=("$src")
  done
}

# scratch_dir NAME [PARENT]: sets TMP to a new PARENT/ringkv-NAME.XXXXXX
# (PARENT defaults to /tmp) and, when the script exits (Ctrl-C too), stops
# every server started here by PID and removes TMP, keeping the script's
# exit status.
scratch_dir() {
  TMP=$(mktemp -d "${2:-/tmp}/ringkv-$1.XXXXXX")
  trap _scratch_cleanup EXIT
  trap 'exit 130' INT TERM
}

_scratch_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_servers
  rm -rf "$TMP"
  exit "$rc"
}
