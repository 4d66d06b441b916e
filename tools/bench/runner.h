// Runner: ringkv-bench's load engine.
//
// T threads each run their own libevent event_base over non-blocking TCP
// connections (no thread per request). Closed loop: C requests in flight in
// total, each connection refilling its share as replies arrive. Open loop
// (rate > 0): each thread sends rate/T requests per second on a fixed
// schedule whatever the replies do, still at most C in flight; a request
// that could not be sent on time waits, and its latency is measured from
// its intended send time, so a stall of the server shows in the figures
// instead of silently slowing the generator (coordinated omission, as wrk2
// corrects it).
//
// Figures count only requests issued after the warm-up. Run() blocks, prints
// a progress line each second to stdout, and returns the merged figures.
// With RunConfig::tls each connection is a TLS session over the same
// non-blocking socket (OpenSSL on the fd, no bufferevent), so the figures
// compare TLS and plain TCP through one engine.
// Run() itself is not reentrant; internally each thread owns its loop and
// connections, and shares only atomics and per-thread stats under a mutex.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tls.h"
#include "tools/bench/histogram.h"
#include "tools/bench/protocol.h"
#include "tools/bench/target.h"
#include "tools/bench/workload.h"

namespace ringkv::bench {

struct RunConfig {
  std::vector<Endpoint> endpoints;  // connections go round-robin over these
  ProtocolFactory* protocols = nullptr;
  Workload workload;                // distribution already resolved
  enum class Phase { kRun, kLoad, kPing } phase = Phase::kRun;
  int64_t records = 100'000;
  size_t value_size = 100;
  int64_t ops = 0;            // measured operations; 0 = run for duration_s
  double duration_s = 10;     // measured seconds (after warm-up)
  double warmup_s = 0;
  int concurrency = 16;       // requests in flight, all threads together
  int threads = 2;
  int connections = 0;        // 0 = one per request in flight
  double rate = 0;            // open loop ops/s in total; 0 = closed loop
  double client_timeout_s = 5;  // a request older than this fails its connection
  bool verify = true;         // a read of a loaded key must find a value of value_size
  bool progress = true;
  uint64_t seed = 1;
  // Processes whose CPU time over the measured interval is reported (the
  // servers under test; tools/bench/process_cpu.h).
  std::vector<int> server_pids;
  // With a context, every connection is TLS 1.3 (common/tls.h), its
  // handshake done before the first request; null: plain TCP.
  std::shared_ptr<TlsContext> tls;
};

struct RunResult {
  std::array<Histogram, kOpTypeCount> latency_ns;  // by OpType
  std::map<std::string, uint64_t> errors;          // by kind
  uint64_t ops = 0;       // measured operations (ok or not)
  uint64_t error_count = 0;
  uint64_t sibling_reads = 0;  // reads that returned more than one value
  uint64_t max_siblings_read = 0;    // the most values one read returned
  uint64_t largest_object_read = 0;  // the most value bytes one read returned
  // Read-modify-writes read again because their conditional write found
  // the key changed (precondition_failed).
  uint64_t conditional_retries = 0;
  double seconds = 0;     // from end of warm-up to the last measured reply
  double cpu_user_s = 0, cpu_sys_s = 0;  // this process, over `seconds`
  // RunConfig::server_pids together, over `seconds`; false when none were
  // given or one of them ended before the interval did.
  bool server_cpu_known = false;
  double server_cpu_user_s = 0, server_cpu_sys_s = 0;
  // Replies per second, one entry per second of the run after warm-up (the
  // progress lines' figures), to show throughput holding over a long run.
  std::vector<double> per_second;
  // With server_pids: the servers' CPU seconds per second, one entry per
  // entry of per_second (empty when a server could not be read every
  // second), to tell a decay of the servers from a busy machine.
  std::vector<double> server_cpu_per_second;
  double ops_per_sec() const { return seconds > 0 ? ops / seconds : 0; }
};

// Asks a Run() in progress to stop issuing and finish early (async-signal-
// safe: only stores an atomic flag). Figures cover what was measured.
void RequestStop();

// REQUIRES: config.protocols outlives the call. Fails only when a target
// cannot be reached at the start; errors during the run are counted.
Result<RunResult> Run(const RunConfig& config);

}  // namespace ringkv::bench
