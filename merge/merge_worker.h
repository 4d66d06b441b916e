// MergeWorker: a merge plugin run in a ringkv-merge-worker process of its
// own, for a plugin the operator does not trust (docs/plugins.md, "Worker
// mode"). The node never maps the plugin's code: the worker loads it,
// checks it against the ABI, says hello (name, version, SHA-256), runs the
// law check when asked, then answers merge requests, one at a time, over a
// socketpair (merge/merge_worker.capnp, merge/worker_frame.h). Whatever the
// plugin does, the node goes on:
// - a crash (any signal, a memory blow-up stopped by the worker's address
//   space limit) ends the worker: the call fails (Internal), the siblings
//   stay;
// - a call that passes its deadline (a loop) gets the worker SIGKILLed: the
//   call fails (Timeout) and waited no longer than the deadline;
// - bytes that are no reply (a plugin writing to the socket) get it killed
//   too (Internal);
// then a new worker is started, not before a backoff that doubles with each
// failure in a row. Until it has said hello, calls fail at once
// (Unavailable) rather than wait: the loop never waits for a worker to
// start.
//
// A merge call blocks its caller (the node's loop) until the reply or the
// deadline. Not thread-safe: one loop owns it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "merge/law_check.h"
#include "merge/merge_function.h"
#include "merge/plugin_loader.h"

namespace ringkv {

struct MergeWorkerOptions {
  // The ringkv-merge-worker executable: a path, or a bare name looked up
  // on PATH.
  std::string binary;
  // How long a merge call may take, the round trip included; past it the
  // worker is killed and the siblings stay. Plus time for the bytes: a
  // merge of large values copies them across the socket and back.
  int64_t call_deadline_us = 50'000;
  int64_t deadline_us_per_mib = 200'000;
  // A worker that has not said hello this long after it was started is
  // killed (at load: the start fails).
  int64_t start_deadline_us = 5'000'000;
  // The worker's address space (RLIMIT_AS): a plugin that allocates without
  // bound meets it and crashes alone.
  uint64_t memory_bytes = uint64_t{512} << 20;
  // CPU seconds one request may use (RLIMIT_CPU, raised by the worker
  // before each): a backstop for a worker the node cannot kill in time.
  uint32_t cpu_seconds = 2;
  // After the k-th failure in a row the next worker starts
  // min(backoff_max_us, backoff_min_us << (k - 1)) later.
  int64_t backoff_min_us = 100'000;
  int64_t backoff_max_us = 10'000'000;
};

class MergeWorker final : public MergeFunction {
 public:
  // Starts a worker for the plugin at `path`, waits for its hello and runs
  // the law check in it (within `laws.deadline_ms`). InvalidArgument naming
  // `path` and why the plugin is refused: the worker could not load it, it
  // broke a law, crashed or did not finish.
  static Result<std::unique_ptr<MergeWorker>> Start(const std::string& path,
                                                    const MergeWorkerOptions& options,
                                                    const LawCheckOptions& laws);
  // Kills the worker, if one runs.
  ~MergeWorker() override;
  MergeWorker(const MergeWorker&) = delete;
  MergeWorker& operator=(const MergeWorker&) = delete;

  // What the first worker said hello with; every later one must say the
  // same (a plugin file replaced since the load is refused).
  const PluginInfo& info() const { return info_; }
  const MergeWorkerOptions& options() const { return options_; }

  // See merge/merge_function.h for the failures.
  Result<std::string> Merge(const std::vector<const Sibling*>& values) override;

  // Workers started so far, the first included.
  uint64_t starts() const { return starts_; }
  // The running worker's pid, or -1.
  pid_t pid() const { return pid_; }

 private:
  explicit MergeWorker(MergeWorkerOptions options) : options_(std::move(options)) {}

  Status Spawn();
  // Reads and checks the hello, by `deadline_us` (WorkerNowMicros).
  Status ReadHello(int64_t deadline_us);
  Status RunLawCheck(const LawCheckOptions& laws);
  Result<std::string> Call(const std::vector<const Sibling*>& values);
  // Kills and reaps the worker; how it ended ("killed by SIGSEGV").
  std::string Stop();
  // The worker is stopped and the next one scheduled; returns `why` with
  // how the worker ended.
  Status Failed(const Status& why);

  MergeWorkerOptions options_;
  PluginInfo info_;  // its path set at start
  bool said_hello_ = false;
  pid_t pid_ = -1;
  int fd_ = -1;
  int64_t started_at_us_ = 0;
  int64_t respawn_at_us_ = 0;
  uint32_t failures_in_a_row_ = 0;
  uint64_t next_id_ = 1;
  uint64_t starts_ = 0;
};

}  // namespace ringkv
