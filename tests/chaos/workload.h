// Workload: concurrent writers of unique values through every node.
//
// One writer thread per (node, bucket), each with its own ringkv::Client
// that knows only its node, so that a write is never retried on another
// node (a retry would apply it twice) and every write's node is known. Each
// writer puts blind (no context) to keys k0 .. k<keys-1> chosen from its
// seed, at a steady rate, values "<node>/<bucket>-<n>" unique in the run,
// recording each write's invoke and completion in the History. Circuit
// breaking is off: a write to a dead node is tried and recorded as failed.
//
// The planted availability bug adds one writer that sends with PW = all
// (through each node in turn) while the History says the bucket's default:
// a primary down makes it fail where the quorum rules say it must succeed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/chaos/history.h"

namespace ringkv::chaos {

struct WorkloadOptions {
  std::vector<std::string> addresses;  // node i at [i - 1]
  std::vector<std::string> buckets;
  int keys = 100;    // per bucket
  double rate = 20;  // writes per second per writer
  uint32_t timeout_ms = 5000;
  uint64_t seed = 1;
  bool plant_availability = false;  // one writer on `plant_bucket` with PW = all
  std::string plant_bucket;
};

// The workload's key names in a bucket: k0 .. k<keys-1>.
std::string WorkloadKey(int i);

class Workload {
 public:
  Workload(History* history, const RunClock* clock, WorkloadOptions options);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void Start();
  // Returns once every writer finished the write it had in flight (bounded
  // by the request timeout).
  void Stop();

 private:
  void Writer(const std::string& name, std::vector<int> nodes, const std::string& bucket,
              uint64_t seed, bool pw_all);

  History* history_;
  const RunClock* clock_;
  WorkloadOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ringkv::chaos
