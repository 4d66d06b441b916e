// Nemesis: the fault schedule of a chaos run, on real processes.
//
// A schedule is a list of faults, each preceded by a fault-free gap and held
// for a duration, drawn from the run's seed (MakeSchedule is a pure
// function, so a seed names its schedule): SIGKILL and restart, SIGSTOP and
// SIGCONT, kill + wipe of the data directory + restart (at most one wipe per
// schedule: with N = 3 and W = 2 a second one could legitimately lose a
// write), and partitions through Netfilter between one pair of nodes, of one
// node from all others, or between two halves. One fault at a time.
//
// The nemesis records the windows during which each fault (or none) was in
// effect, for the availability checker: a window starts once the fault took
// effect (the process is gone or stopped, the rules are in place) and ends
// when its heal begins. Thread-compatible: run on the harness's main thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/chaos/checkers.h"
#include "tests/chaos/cluster.h"
#include "tests/chaos/history.h"
#include "tests/chaos/netfilter.h"

namespace ringkv::chaos {

enum class FaultKind : uint8_t {
  kKill,
  kPause,
  kWipe,
  kPartitionPair,
  kPartitionIsolate,
  kPartitionHalves,
};
const char* FaultKindName(FaultKind kind);
// "kill", "partition-pair", ...; InvalidArgument for anything else.
Result<FaultKind> ParseFaultKind(const std::string& name);
bool IsPartition(FaultKind kind);
std::vector<FaultKind> AllFaultKinds();

struct Fault {
  FaultKind kind = FaultKind::kKill;
  // The victim (kill, pause, wipe), the pair, the isolated node, or one half.
  std::vector<int> nodes;
  int64_t gap_ms = 0;       // fault-free time before it
  int64_t duration_ms = 0;  // how long it is held
};
// "pause n2 for 3.2 s", "partition-halves n1,n4 | rest for 2.0 s".
std::string DescribeFault(const Fault& fault);

struct ScheduleOptions {
  uint64_t seed = 1;
  int nodes = 5;
  int faults = 5;
  // The first faults are these kinds in a seeded order, so a schedule at
  // least as long as the list has each once; the rest are drawn from it.
  std::vector<FaultKind> kinds = AllFaultKinds();
  int64_t min_fault_ms = 1'000, max_fault_ms = 10'000;
  int64_t min_gap_ms = 1'000, max_gap_ms = 3'000;
};
std::vector<Fault> MakeSchedule(const ScheduleOptions& options);

// Waits until `until` unless `stop` (may be null) is set first; false when
// stopped. Holds each fault, and paces the runs' polls.
bool WaitUntil(std::chrono::steady_clock::time_point until, const std::atomic<bool>* stop);

class Nemesis {
 public:
  // `stop` (may be null) ends the schedule early. `netfilter` may be null
  // when partitions are not possible: partitions in
  // the schedule are then skipped (and listed by skipped()), so that a seed
  // names the same schedule everywhere. Every pointer outlives the nemesis.
  Nemesis(ChaosCluster* cluster, Netfilter* netfilter, const RunClock* clock,
          const std::atomic<bool>* stop);

  // Injects, holds and heals each fault in turn. Stops early (OK) when
  // stopped; an error when a fault could not be injected or healed.
  Status Run(const std::vector<Fault>& schedule);
  // Ends every fault: resumes paused nodes, restarts stopped ones, removes
  // every partition rule. Safe to call at any time, more than once.
  Status HealAll();

  const std::vector<FaultWindow>& windows() const { return windows_; }
  // One line per event with its time: "12.304 s pause n2", ...
  const std::vector<std::string>& log() const { return log_; }
  // Faults of the schedule that were not injected.
  const std::vector<Fault>& skipped() const { return skipped_; }

 private:
  Status Inject(const Fault& fault, FaultWindow* window);
  // WaitUntil `ms` from now.
  bool Hold(int64_t ms) const;
  bool Stopped() const { return stop_ != nullptr && stop_->load(); }
  void Note(const std::string& what);

  ChaosCluster* cluster_;
  Netfilter* netfilter_;
  const RunClock* clock_;
  const std::atomic<bool>* stop_;
  std::vector<FaultWindow> windows_;
  std::vector<std::string> log_;
  std::vector<Fault> skipped_;
};

}  // namespace ringkv::chaos
