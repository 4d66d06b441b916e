#include "tools/bench/client_reads.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "client/client.h"
#include "tools/bench/key_chooser.h"

namespace ringkv::bench {
namespace {

using Clock = std::chrono::steady_clock;

double CpuSeconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

std::string ErrorKind(const Status& status) {
  if (status.IsUnavailable()) return "unavailable";
  if (status.IsTimeout()) return "timeout";
  if (status.IsCorruption()) return "corruption";
  return "error";
}

}  // namespace

Result<RunResult> RunClientReads(const RunConfig& config, const RingkvOptions& options,
                                 ClientOptions client_options) {
  for (const Endpoint& e : config.endpoints) client_options.nodes.push_back(e.ToString());
  client_options.timeout_ms = options.timeout_ms != 0
                                  ? options.timeout_ms
                                  : static_cast<uint32_t>(config.client_timeout_s * 1000);
  client_options.coordinate_reads = true;
  Result<std::unique_ptr<Client>> client = Client::Connect(client_options);
  if (!client.ok()) return client.status();
  ReadOptions read;
  read.r = options.r;
  read.pr = options.pr;
  read.timeout_ms = options.timeout_ms;

  std::mt19937_64 random(config.seed);
  std::uniform_int_distribution<int64_t> keys(0, config.records - 1);
  RunResult result;
  const Clock::time_point start = Clock::now();
  const Clock::time_point measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.warmup_s));
  const Clock::time_point end =
      measure_from +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.duration_s));
  rusage usage_start{};
  bool measuring = false;
  Clock::time_point last_progress = start, last_reply = start;
  for (;;) {
    const Clock::time_point sent = Clock::now();
    if (!measuring && sent >= measure_from) {
      measuring = true;
      ::getrusage(RUSAGE_SELF, &usage_start);
    }
    if (measuring && (config.ops > 0 ? static_cast<int64_t>(result.ops) >= config.ops : sent >= end)) {
      break;
    }
    const bool ping = config.phase == RunConfig::Phase::kPing;
    Result<GetResult> got = GetResult{true, {std::string(config.value_size, 'x')}, {}};
    if (ping) {
      Result<std::string> pong = (*client)->Ping(options.timeout_ms);
      if (!pong.ok()) got = pong.status();
    } else {
      got = (*client)->Get(options.bucket, KeyName(keys(random)), read);
    }
    last_reply = Clock::now();
    if (!measuring) continue;
    ++result.ops;
    std::string error;
    if (!got.ok()) {
      error = ErrorKind(got.status());
    } else if (config.verify && (!got->found || got->values.front().size() != config.value_size)) {
      error = got->found ? "wrong_size" : "not_found";
    }
    if (!error.empty()) {
      ++result.errors[error];
      ++result.error_count;
      continue;
    }
    if (got->values.size() > 1) ++result.sibling_reads;
    size_t bytes = 0;
    for (const std::string& v : got->values) bytes += v.size();
    result.max_siblings_read = std::max<uint64_t>(result.max_siblings_read, got->values.size());
    result.largest_object_read = std::max<uint64_t>(result.largest_object_read, bytes);
    result.latency_ns[static_cast<int>(ping ? OpType::kPing : OpType::kRead)].Record(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(last_reply - sent).count()));
    if (config.progress && last_reply - last_progress >= std::chrono::seconds(1)) {
      last_progress = last_reply;
      std::printf("client reads: %llu ops, %llu errors\n",
                  static_cast<unsigned long long>(result.ops),
                  static_cast<unsigned long long>(result.error_count));
      std::fflush(stdout);
    }
  }
  rusage usage_end{};
  ::getrusage(RUSAGE_SELF, &usage_end);
  result.seconds = std::chrono::duration<double>(last_reply - measure_from).count();
  result.cpu_user_s = CpuSeconds(usage_end.ru_utime) - CpuSeconds(usage_start.ru_utime);
  result.cpu_sys_s = CpuSeconds(usage_end.ru_stime) - CpuSeconds(usage_start.ru_stime);
  return result;
}

}  // namespace ringkv::bench
