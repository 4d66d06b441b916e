#!/usr/bin/env bash
# bench/long.sh BUILD...: the long three-node run of `make bench` (BENCH_LONG),
# for one or more release builds, interleaved round by round, with what the
# nodes do in each 10 s beside the throughput (docs/performance.md, "The
# 60-second run"). Each BUILD is a build directory holding node/ringkv-node,
# tools/ringkv-cluster and tools/ringkv-admin.
#
# In each round, for each BUILD (the order alternating between rounds): a
# three-node cluster (N=3, R=W=2, bucket lww), LONG_RECORDS keys of 100 B
# loaded, then workload A uniform at 50 in flight for LONG_SECONDS after 2 s
# of warm-up; every 10 s of the run a sample of each node: resident set,
# LevelDB's table files (count, bytes) and compactions so far (its LOG), and
# the record cache's hits, misses and evictions. Prints, per build and round,
# the ops/s and node CPU per operation per 10 s with the samples, and the
# medians of the last-to-first ratios. One generator (this checkout's
# build-release ringkv-bench) drives all; servers under `nice -n LONG_NICE`.
#
# Then, with LONG_INSTRUCTION_OPS > 0 and valgrind installed, the
# load-independent figure: for each BUILD, the same cluster with its nodes
# under callgrind, loaded as above; the nodes' instructions per operation
# (every thread, LevelDB's compactions included) over LONG_INSTRUCTION_OPS
# operations of workload A uniform right after the load ("early"), then
# again after LONG_AGE_OPS more operations, uncounted ("late": a 60 s run
# at full speed does about 300,000).
#
# Knobs: LONG_SECONDS (60), LONG_ROUNDS (2; 0 runs only the instruction
# counts), LONG_RECORDS (100000), LONG_INSTRUCTION_OPS (20000; 0 skips),
# LONG_AGE_OPS (200000), LONG_NICE (10), LONG_WORK (/tmp/ringkv-long; raw
# reports kept there).
set -euo pipefail

(($# > 0)) || { echo "usage: bench/long.sh BUILD..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_LONG=${LONG_SECONDS:-60}
ROUNDS=${LONG_ROUNDS:-2}
RECORDS=${LONG_RECORDS:-100000}
INSTRUCTION_OPS=${LONG_INSTRUCTION_OPS:-20000}
AGE_OPS=${LONG_AGE_OPS:-200000}
NICE=${LONG_NICE:-10}
WORK=${LONG_WORK:-/tmp/ringkv-long}
BENCH=$ROOT/build-release/tools/bench/ringkv-bench
[[ -x $BENCH ]] || { echo "bench/long.sh: $BENCH is missing; ninja -C build-release first" >&2; exit 1; }
BUILDS=()
for b in "$@"; do
  b=$(cd "$b" && pwd)
  for tool in node/ringkv-node tools/ringkv-cluster tools/ringkv-admin; do
    [[ -x $b/$tool ]] || { echo "bench/long.sh: $b/$tool is missing" >&2; exit 1; }
  done
  BUILDS+=("$b")
done
OUT=$WORK/results-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
scratch_dir long

# sample BUILD DIR PIDS TARGET FILE: one JSON line per node and 10 s into
# FILE until the generator's report exists.
sample() {
  python3 - "$@" <<'PY'
import json, os, subprocess, sys, time
build, cdir, pids, target, out = sys.argv[1:6]
pids = pids.split()
addrs = target[len("ringkv://"):].split(",")
wanted = ("ringkv_record_cache_hits_total", "ringkv_record_cache_misses_total",
          "ringkv_record_cache_evictions_total", "ringkv_record_cache_entries")
start = time.monotonic()
with open(out, "w") as f:
    for tick in range(1, 10000):
        time.sleep(max(0.0, start + 10 * tick - time.monotonic()))
        if os.path.exists(out + ".done"):
            break
        for i, (pid, addr) in enumerate(zip(pids, addrs)):
            row = {"t": 10 * tick, "node": i + 1}
            try:
                row["rss_kib"] = int(next(l.split()[1] for l in open(f"/proc/{pid}/status")
                                          if l.startswith("VmRSS:")))
            except (OSError, StopIteration):
                pass
            # CPU seconds of the node's main thread (the event loop) and of
            # the others (LevelDB's compactions), from /proc.
            main_s = other_s = 0.0
            try:
                for tid in os.listdir(f"/proc/{pid}/task"):
                    fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
                    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    if tid == pid:
                        main_s += cpu
                    else:
                        other_s += cpu
                row["main_cpu_s"], row["other_cpu_s"] = main_s, other_s
            except OSError:
                pass
            data = os.path.join(cdir, f"n{i + 1}", "data")
            tables = [e for e in os.scandir(data) if e.name.endswith(".ldb")] if os.path.isdir(data) else []
            row["tables"] = len(tables)
            row["table_mib"] = round(sum(e.stat().st_size for e in tables) / 2**20, 1)
            try:
                log = open(os.path.join(data, "LOG")).read()
                row["compactions"] = log.count("Compacted ")
                row["flushes"] = log.count("Level-0 table #")
            except OSError:
                pass
            try:
                st = json.loads(subprocess.run(
                    [f"{build}/tools/ringkv-admin", "--node", addr, "--timeout", "2000", "status",
                     "--json"], capture_output=True, text=True, timeout=5).stdout)
                for m in st.get("metrics", []):
                    if m.get("name") in wanted:
                        row[m["name"].replace("ringkv_record_cache_", "cache_")] = m.get("value")
            except (subprocess.SubprocessError, ValueError):
                pass
            f.write(json.dumps(row) + "\n")
            f.flush()
PY
}

run_one() {  # ROUND INDEX BUILD
  local round=$1 i=$2 build=$3 cdir pids name=long-$1-$2 sampler
  cdir=$TMP/$name
  start_cluster "$build/tools/ringkv-cluster" "$cdir" "$OUT/$name.log" 3 3 2 2
  pids=$(node_pids "$build/tools/ringkv-cluster" "$cdir")
  nice -n "$NICE" "$BENCH" --target "$TARGET" --threads 2 --records "$RECORDS" --value-size 100 \
    --concurrency 50 --quiet --load --w 2 --json "$OUT/$name-load.json" >/dev/null
  sample "$build" "$cdir" "$pids" "$TARGET" "$OUT/$name-samples.jsonl" &
  sampler=$!
  nice -n "$NICE" "$BENCH" --target "$TARGET" --threads 2 --records "$RECORDS" --value-size 100 \
    --concurrency 50 --quiet --workload a --distribution uniform --duration "$SECONDS_LONG" \
    --warmup 2 --r 2 --w 2 --server-pids "${pids// /,}" --json "$OUT/$name.json" >/dev/null
  touch "$OUT/$name-samples.jsonl.done"
  wait "$sampler" || true
  for n in 1 2 3; do cp "$cdir/n$n/data/LOG" "$OUT/$name-n$n-LOG" 2>/dev/null || true; done
  stop_cluster "$build/tools/ringkv-cluster" "$cdir"
  rm -rf "$cdir"
}

instructions() {  # INDEX BUILD
  local i=$1 build=$2 cdir pids name=instr-$1 cluster=$2/tools/ringkv-cluster
  cdir=$TMP/$name
  start_callgrind_cluster "$cluster" "$build/node/ringkv-node" "$OUT/$name" "$cdir" "$OUT/$name.log" \
    3 3 2 2
  pids=$(node_pids "$cluster" "$cdir")
  run_a() {  # REPORT OPS
    nice -n "$NICE" "$BENCH" --target "$TARGET" --threads 2 --records "$RECORDS" --value-size 100 \
      --concurrency 50 --quiet --client-timeout 60 --workload a --distribution uniform --ops "$2" \
      --warmup 0 --r 2 --w 2 --json "$OUT/$1.json" >/dev/null
  }
  nice -n "$NICE" "$BENCH" --target "$TARGET" --threads 2 --records "$RECORDS" --value-size 100 \
    --concurrency 50 --quiet --client-timeout 60 --load --w 2 --json "$OUT/$name-load.json" >/dev/null
  count_instructions "$pids" run_a "$name-early" "$INSTRUCTION_OPS"
  ((AGE_OPS > 0)) && run_a "$name-age" "$AGE_OPS"
  count_instructions "$pids" run_a "$name-late" "$INSTRUCTION_OPS"
  stop_cluster "$cluster" "$cdir"
  rm -rf "$cdir"
}

for i in "${!BUILDS[@]}"; do echo "$i ${BUILDS[$i]}"; done >"$OUT/builds.txt"
echo "builds: $(tr '\n' ' ' <"$OUT/builds.txt"); raw reports in $OUT"
for ((round = 1; round <= ROUNDS; round++)); do
  order=$(seq 0 $((${#BUILDS[@]} - 1)))
  ((round % 2 == 0)) && order=$(echo "$order" | tac)
  for i in $order; do
    echo "round $round, build $i ($(date -u +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))"
    run_one "$round" "$i" "${BUILDS[$i]}"
  done
done

if ((INSTRUCTION_OPS > 0)) && command -v callgrind_control >/dev/null; then
  for i in "${!BUILDS[@]}"; do
    echo "instructions, build $i ($(date -u +%T), load average $(cut -d' ' -f1-3 /proc/loadavg))"
    instructions "$i" "${BUILDS[$i]}"
  done
fi

python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import json, statistics, sys
from collections import defaultdict
from pathlib import Path

out = Path(sys.argv[1])
builds = dict(l.split(maxsplit=1) for l in (out / "builds.txt").read_text().splitlines())
ratios = defaultdict(lambda: {"ops": [], "cpu": []})
for rep in sorted(out.glob("long-*-*.json")):
    if rep.name.endswith("-load.json"):
        continue
    _, rnd, i = rep.stem.split("-")
    r = json.loads(rep.read_text())
    ops, cpu = r.get("per_10s", []), r.get("server_us_per_op_per_10s", [])
    print(f"\nround {rnd}, build {i} ({builds[i]}): {r['ops_per_sec']:,.0f} ops/s, "
          f"p99 {r['total']['p99_us'] / 1000:.1f} ms, errors {r['errors']}")
    print("  ops/s per 10 s:      " + " ".join(f"{v:,.0f}" for v in ops))
    print("  node CPU us/op:      " + " ".join(f"{v:.1f}" for v in cpu))
    if len(ops) > 1 and ops[0]:
        ratios[i]["ops"].append(ops[-1] / ops[0])
    if len(cpu) > 1 and cpu[0]:
        ratios[i]["cpu"].append(cpu[-1] / cpu[0])
    by_t = defaultdict(list)
    for line in (out / f"long-{rnd}-{i}-samples.jsonl").read_text().splitlines():
        s = json.loads(line)
        by_t[s["t"]].append(s)
    prev = {}
    for t in sorted(by_t):
        rows = by_t[t]
        hits = sum(s.get("cache_hits_total", 0) for s in rows)
        misses = sum(s.get("cache_misses_total", 0) for s in rows)
        main = sum(s.get("main_cpu_s", 0) for s in rows)
        other = sum(s.get("other_cpu_s", 0) for s in rows)
        dh, dm = hits - prev.get("h", 0), misses - prev.get("m", 0)
        dmain, dother = main - prev.get("main", 0), other - prev.get("other", 0)
        prev = {"h": hits, "m": misses, "main": main, "other": other}
        print(f"  t={t:>3}s  CPU s main {dmain:.1f} others {dother:.1f}  rss MiB " + "/".join(f"{s.get('rss_kib', 0) / 1024:.0f}" for s in rows)
              + "  tables " + "/".join(str(s.get("tables")) for s in rows)
              + "  table MiB " + "/".join(str(s.get("table_mib")) for s in rows)
              + "  flushes " + "/".join(str(s.get("flushes")) for s in rows)
              + "  compactions " + "/".join(str(s.get("compactions")) for s in rows)
              + f"  cache hit {dh / max(1, dh + dm):.3f}"
              + "  cache entries " + "/".join(f"{s.get('cache_entries', 0):.0f}" for s in rows))
def instructions(name, dump):
    rep = out / f"{name}.json"
    if not rep.exists():
        return None
    ops = json.loads(rep.read_text()).get("ops")
    total = 0
    for f in out.glob(f"instr-{name.split('-')[1]}.*.{dump}"):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total / ops if ops and total else None

for i in builds:
    early, late = instructions(f"instr-{i}-early", 1), instructions(f"instr-{i}-late", 2)
    if early and late:
        print(f"\nbuild {i}: node instructions per operation (callgrind, 3 nodes summed): "
              f"early {early:,.0f}, late {late:,.0f}, late / early {late / early:.3f}")
print("\nlast / first 10 s (median over rounds):")
for i in builds:
    ops = ratios[i]["ops"]
    cpu = ratios[i]["cpu"]
    fmt = lambda v: f"{statistics.median(v):.2f} ({', '.join(f'{x:.2f}' for x in v)})" if v else "-"
    print(f"  build {i}: ops/s {fmt(ops)}; node CPU/op {fmt(cpu)}")
PY
