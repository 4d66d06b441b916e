// Report: ringkv-bench's final table and its JSON form.
//
// JSON (one object):
//   { "target", "phase", "workload", "distribution", "records", "value_size",
//     "concurrency", "threads", "connections", "rate", "seconds",
//     "ops", "ops_per_sec", "errors", "errors_by_kind": {kind: count},
//     "sibling_reads", "max_siblings_read", "largest_object_read_bytes" (the
//     most values, and value bytes, one read returned), "conditional_retries"
//     (read-modify-writes whose conditional write was refused, read again),
//     "generator_cpu": {"user_s", "sys_s", "cores", "us_per_op"},
//     "server_cpu": the same for --server-pids (absent without them, or when
//                   one of them ended during the run),
//     "histogram_relative_error", "per_second": [replies per second after
//     warm-up, one per second], "per_10s": [the mean of each whole 10 s of
//     per_second, to judge whether throughput decays over a long run],
//     "server_us_per_op_per_10s": [the servers' CPU per operation in each
//     of those windows (with --server-pids)],
//     "<op>": {"count", "ops_per_sec", "mean_us", "p50_us", "p95_us",
//              "p99_us", "p999_us", "max_us"} for each op type seen,
//     "total": the same over every op type }
// <op> is read, update, insert, read_modify_write or ping. Latencies are in
// microseconds; in open loop they run from the intended send time.
// Pure functions over values.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/bench/runner.h"

namespace ringkv::bench {

// What was run, echoed into the report.
struct RunDescription {
  std::string target;
  std::string phase;         // "run", "load" or "ping"
  std::string workload;      // "a".."f"
  std::string distribution;  // "uniform", "zipfian", "latest"
  int64_t records = 0;
  size_t value_size = 0;
  int concurrency = 0, threads = 0, connections = 0;
  double rate = 0;
};

// The table: one row per op type seen, then a total, errors by kind and the
// generator's CPU use.
std::string FormatTable(const RunResult& result);

// The mean of each whole `window` of `per_second` (a shorter tail is left
// out: its second may be partial).
std::vector<double> PerWindow(const std::vector<double>& per_second, size_t window);

// The servers' CPU microseconds per operation in each whole `window`
// (server_cpu_per_second over per_second); empty without the former.
std::vector<double> ServerUsPerOpPerWindow(const RunResult& result, size_t window);

nlohmann::json ToJson(const RunDescription& description, const RunResult& result);

}  // namespace ringkv::bench
