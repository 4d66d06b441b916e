#!/usr/bin/env bash
# Runs the libFuzzer targets of a -Dfuzzing=true build one after another
# (docs/fuzzing.md). `make fuzz` calls it; by hand:
#
#   tests/fuzz/run_fuzz.sh BUILD_DIR [TARGET...]
#
# FUZZ_SECONDS (default 60) caps each target's run; FUZZ_RUNS, when set,
# stops a target after that many executions instead (still capped by
# FUZZ_SECONDS). New interesting inputs go to BUILD_DIR/fuzz/corpus/TARGET,
# never into the tree; the tree's tests/fuzz/corpus/TARGET is read as seeds.
# A crash, leak, sanitizer report, over-large allocation or broken decoder
# contract stops that target and leaves the input in
# BUILD_DIR/fuzz/artifacts/TARGET/. Prints one line per target and exits 1
# if any target failed.
set -uo pipefail

build=${1:?usage: run_fuzz.sh BUILD_DIR [TARGET...]}
shift
targets=("$@")
((${#targets[@]})) || targets=(frame message record context cluster_file)
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:--1}
src=$(cd "$(dirname "$0")" && pwd)

failed=0
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz_$t
  if [[ ! -x $exe ]]; then
    echo "fuzz $t: no $exe (configure with -Dfuzzing=true)" >&2
    failed=1
    continue
  fi
  work=$build/fuzz/corpus/$t
  artifacts=$build/fuzz/artifacts/$t
  log=$build/fuzz/$t.log
  mkdir -p "$work" "$artifacts"
  start=$(date +%s)
  # One allocation above 32 MiB from an input of a few KiB means a decoder
  # believed an announced length.
  nice -n 10 "$exe" -max_total_time="$seconds" -runs="$runs" \
    -malloc_limit_mb=32 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work" "$src/corpus/$t" >"$log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if ((rc == 0)); then
    echo "fuzz $t: ${execs:-?} executions in ${elapsed}s, no crash"
  else
    echo "fuzz $t: FAILED after ${execs:-?} executions in ${elapsed}s (exit $rc); log $log"
    grep -m3 -E "ERROR|SUMMARY|contract broken" "$log" | sed 's/^/    /'
    ls "$artifacts" | sed "s|^|    input: $artifacts/|"
    failed=1
  fi
done
exit $failed
