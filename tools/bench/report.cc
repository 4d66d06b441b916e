#include "tools/bench/report.h"

#include <cstdio>

namespace ringkv::bench {
namespace {

constexpr size_t kWindowSeconds = 10;

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string Row(std::string_view name, const Histogram& h, double seconds) {
  char line[256];
  std::snprintf(line, sizeof(line), "%-18s %10llu %11.0f %9.1f %9.1f %9.1f %9.1f %10.1f\n",
                std::string(name).c_str(), static_cast<unsigned long long>(h.count()),
                seconds > 0 ? h.count() / seconds : 0.0, Us(h.ValueAtQuantile(0.50)),
                Us(h.ValueAtQuantile(0.95)), Us(h.ValueAtQuantile(0.99)),
                Us(h.ValueAtQuantile(0.999)), Us(h.max()));
  return line;
}

nlohmann::json OpJson(const Histogram& h, double seconds) {
  return {{"count", h.count()},
          {"ops_per_sec", seconds > 0 ? h.count() / seconds : 0.0},
          {"mean_us", h.Mean() / 1000.0},
          {"p50_us", Us(h.ValueAtQuantile(0.50))},
          {"p95_us", Us(h.ValueAtQuantile(0.95))},
          {"p99_us", Us(h.ValueAtQuantile(0.99))},
          {"p999_us", Us(h.ValueAtQuantile(0.999))},
          {"max_us", Us(h.max())}};
}

double Cores(const RunResult& result) {
  return result.seconds > 0 ? (result.cpu_user_s + result.cpu_sys_s) / result.seconds : 0.0;
}

double ServerCores(const RunResult& result) {
  return result.seconds > 0 ? (result.server_cpu_user_s + result.server_cpu_sys_s) / result.seconds
                            : 0.0;
}

// CPU seconds per measured operation, in microseconds.
double UsPerOp(double cpu_s, const RunResult& result) {
  return result.ops > 0 ? cpu_s * 1e6 / static_cast<double>(result.ops) : 0.0;
}

}  // namespace

std::vector<double> PerWindow(const std::vector<double>& per_second, size_t window) {
  std::vector<double> out;
  if (window == 0) return out;
  for (size_t start = 0; start + window <= per_second.size(); start += window) {
    double sum = 0;
    for (size_t i = start; i < start + window; ++i) sum += per_second[i];
    out.push_back(sum / static_cast<double>(window));
  }
  return out;
}

std::vector<double> ServerUsPerOpPerWindow(const RunResult& result, size_t window) {
  std::vector<double> out;
  if (result.server_cpu_per_second.size() != result.per_second.size()) return out;
  const std::vector<double> ops = PerWindow(result.per_second, window);
  const std::vector<double> cpu = PerWindow(result.server_cpu_per_second, window);
  for (size_t i = 0; i < ops.size(); ++i) out.push_back(ops[i] > 0 ? cpu[i] * 1e6 / ops[i] : 0.0);
  return out;
}

std::string FormatTable(const RunResult& result) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-18s %10s %11s %9s %9s %9s %9s %10s\n", "operation", "count",
                "ops/s", "p50 us", "p95 us", "p99 us", "p99.9 us", "max us");
  out += line;
  Histogram total;
  for (int i = 0; i < kOpTypeCount; ++i) {
    const Histogram& h = result.latency_ns[static_cast<size_t>(i)];
    if (h.count() == 0) continue;
    out += Row(OpTypeName(static_cast<OpType>(i)), h, result.seconds);
    total.Merge(h);
  }
  out += Row("total", total, result.seconds);
  out += "errors: ";
  if (result.errors.empty()) out += "none";
  bool first = true;
  for (const auto& [kind, count] : result.errors) {
    out += (first ? "" : ", ") + kind + " " + std::to_string(count);
    first = false;
  }
  out += "\n";
  if (result.sibling_reads > 0) {
    out += "reads that returned siblings: " + std::to_string(result.sibling_reads) + "\n";
  }
  if (result.conditional_retries > 0) {
    out += "conditional writes refused and retried: " +
           std::to_string(result.conditional_retries) + "\n";
  }
  if (result.max_siblings_read > 0) {
    out += "largest object read: " + std::to_string(result.max_siblings_read) + " values, " +
           std::to_string(result.largest_object_read) + " bytes\n";
  }
  const std::vector<double> windows = PerWindow(result.per_second, kWindowSeconds);
  if (windows.size() >= 2) {
    out += "ops/s per 10 s:";
    for (double w : windows) {
      std::snprintf(line, sizeof(line), " %.0f", w);
      out += line;
    }
    std::snprintf(line, sizeof(line), " (last / first %.2f)\n",
                  windows.front() > 0 ? windows.back() / windows.front() : 0.0);
    out += line;
    const std::vector<double> cpu = ServerUsPerOpPerWindow(result, kWindowSeconds);
    if (!cpu.empty()) {
      out += "server CPU us per operation per 10 s:";
      for (double c : cpu) {
        std::snprintf(line, sizeof(line), " %.0f", c);
        out += line;
      }
      std::snprintf(line, sizeof(line), " (last / first %.2f)\n",
                    cpu.front() > 0 ? cpu.back() / cpu.front() : 0.0);
      out += line;
    }
  }
  std::snprintf(line, sizeof(line),
                "measured %.2f s; generator CPU %.2f cores (user %.2f s, sys %.2f s)\n",
                result.seconds, Cores(result), result.cpu_user_s, result.cpu_sys_s);
  out += line;
  if (result.server_cpu_known) {
    std::snprintf(line, sizeof(line),
                  "server CPU %.2f cores (user %.2f s, sys %.2f s), %.1f us per operation; "
                  "generator %.1f us per operation\n",
                  ServerCores(result), result.server_cpu_user_s, result.server_cpu_sys_s,
                  UsPerOp(result.server_cpu_user_s + result.server_cpu_sys_s, result),
                  UsPerOp(result.cpu_user_s + result.cpu_sys_s, result));
    out += line;
  }
  std::snprintf(line, sizeof(line),
                "latency quantiles from a log-bucketed histogram, relative error <= %.2f%%\n",
                Histogram::kMaxRelativeError * 100);
  out += line;
  return out;
}

nlohmann::json ToJson(const RunDescription& d, const RunResult& result) {
  nlohmann::json j = {
      {"target", d.target},
      {"phase", d.phase},
      {"workload", d.workload},
      {"distribution", d.distribution},
      {"records", d.records},
      {"value_size", d.value_size},
      {"concurrency", d.concurrency},
      {"threads", d.threads},
      {"connections", d.connections},
      {"rate", d.rate},
      {"seconds", result.seconds},
      {"ops", result.ops},
      {"ops_per_sec", result.ops_per_sec()},
      {"errors", result.error_count},
      {"errors_by_kind", result.errors},
      {"sibling_reads", result.sibling_reads},
      {"max_siblings_read", result.max_siblings_read},
      {"largest_object_read_bytes", result.largest_object_read},
      {"conditional_retries", result.conditional_retries},
      {"generator_cpu",
       {{"user_s", result.cpu_user_s},
        {"sys_s", result.cpu_sys_s},
        {"cores", Cores(result)},
        {"us_per_op", UsPerOp(result.cpu_user_s + result.cpu_sys_s, result)}}},
      {"histogram_relative_error", Histogram::kMaxRelativeError},
  };
  Histogram total;
  for (int i = 0; i < kOpTypeCount; ++i) {
    const Histogram& h = result.latency_ns[static_cast<size_t>(i)];
    if (h.count() == 0) continue;
    j[std::string(OpTypeName(static_cast<OpType>(i)))] = OpJson(h, result.seconds);
    total.Merge(h);
  }
  j["total"] = OpJson(total, result.seconds);
  j["per_second"] = result.per_second;
  j["per_10s"] = PerWindow(result.per_second, kWindowSeconds);
  if (!result.server_cpu_per_second.empty()) {
    j["server_us_per_op_per_10s"] = ServerUsPerOpPerWindow(result, kWindowSeconds);
  }
  if (result.server_cpu_known) {
    j["server_cpu"] = {
        {"user_s", result.server_cpu_user_s},
        {"sys_s", result.server_cpu_sys_s},
        {"cores", ServerCores(result)},
        {"us_per_op", UsPerOp(result.server_cpu_user_s + result.server_cpu_sys_s, result)}};
  }
  return j;
}

}  // namespace ringkv::bench
