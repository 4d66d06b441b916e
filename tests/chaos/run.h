// A chaos run: real ringkv-node processes, concurrent writers, a nemesis,
// and the checkers after the heal (docs/chaos.md).
//
// RunChaos runs `schedules` seeded schedules, each on a fresh 5-node
// --distinct-hosts cluster (N = 3, R = W = 2) with an lww bucket and a
// siblings bucket: writers through every node, the nemesis's faults, then
// the heal, convergence (polled until every replica of every key is equal,
// with a read at R = all for keys still differing once hints have drained),
// direct reads of every replica, and every checker of checkers.h.
//
// RunForwardReplay is issue 9's reproduction: keys whose first primary is
// n2 written through n1 (not a primary) while n2 is paused, then a newer
// value written through n3 (a primary); n2 then resumes. It judges the
// result with the same checkers, plus "setup": each pause must really have
// produced both acknowledgements before n2 resumed.
//
// Planted bugs (Plant) break the harness on purpose so that each checker is
// seen to catch what it is for. Thread-compatible; the runs use threads of
// their own and clean up every process and rule before returning.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/chaos/checkers.h"
#include "tests/chaos/nemesis.h"

namespace ringkv::chaos {

enum class Plant : uint8_t {
  kLost,          // a canary recorded as acknowledged but never sent
  kNeverWritten,  // a value written without being recorded
  kDuplicate,     // one recorded write sent twice
  kLwwOrder,      // two writes recorded in the opposite order
  kConvergence,   // one replica's read of a key answers not found
  kAvailability,  // a writer sends PW = all but records the default
};
const char* PlantName(Plant plant);
Result<Plant> ParsePlant(const std::string& name);
std::vector<Plant> AllPlants();
// The checker a plant must trip.
const char* CheckerFor(Plant plant);

struct ChaosOptions {
  uint64_t seed = 1;
  int schedules = 1;  // seeds seed, seed + 1, ...
  int nodes = 5;
  int faults = 6;  // per schedule
  std::vector<FaultKind> kinds = AllFaultKinds();
  int64_t min_fault_ms = 1'000, max_fault_ms = 10'000;
  int64_t min_gap_ms = 1'000, max_gap_ms = 3'000;
  int keys = 100;    // per bucket
  double rate = 10;  // writes per second per writer (2 buckets x nodes writers)
  uint32_t timeout_ms = 5'000;
  // Per kind of fault, the share of must-succeed writes that must be
  // acknowledged.
  double min_availability = 0.99;
  int64_t convergence_timeout_ms = 60'000;
  std::vector<Plant> plants;
  std::map<std::string, std::string> node_flags;  // "--gossip-interval-ms" -> "500"
  std::string node_binary;
  bool keep_dirs = false;  // also kept, and named, when a check fails (without plants)
};

struct ForwardReplayOptions {
  std::vector<int> pause_seconds = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  int keys_per_pause = 2;  // per bucket
  int64_t convergence_timeout_ms = 30'000;
  std::string node_binary;
  bool keep_dirs = false;
};

struct ChaosReport {
  std::string scenario;                // "schedule" or "forward-replay"
  int schedules = 0;                   // schedules (or pauses) run to the end
  std::map<std::string, int> faults;   // kind -> injected
  std::vector<std::string> skipped;    // faults not injected, with the reason
  std::string partitions_unavailable;  // why, when partitions could not be made
  uint64_t invoked = 0, acknowledged = 0, failed = 0, indeterminate = 0;
  std::vector<CheckResult> checks;            // per checker, summed over schedules
  std::vector<AvailabilityRow> availability;  // per kind of fault, summed
  // Per schedule (or pause): ms from the heal until every replica of every
  // key was equal; -1 when not by the deadline.
  std::vector<int64_t> convergence_ms;
  uint64_t keys_read_repaired = 0;  // keys that needed a read at R = all
  std::vector<uint64_t> failed_seeds;
  std::vector<std::string> log;        // nemesis events and notes
  std::vector<std::string> kept_dirs;  // cluster directories left for a look

  bool ok() const;
  // The result of checker `name`; null when it did not run.
  const CheckResult* Check(const std::string& name) const;
};

// `stop` (may be null) ends a run early, healing and cleaning up as usual;
// `progress` (may be null) gets one line per step. An error means the
// harness itself failed (a node would not start, a fault could not be
// injected), not that a check did.
Result<ChaosReport> RunChaos(const ChaosOptions& options, const std::atomic<bool>* stop,
                             std::ostream* progress);
Result<ChaosReport> RunForwardReplay(const ForwardReplayOptions& options,
                                     const std::atomic<bool>* stop, std::ostream* progress);

// Whether the checker a plant must trip named the planted value or key.
bool Caught(const ChaosReport& report, Plant plant);

// The summary: figures, each checker's verdict with examples, availability
// per fault, and the verdict line.
std::string FormatReport(const ChaosReport& report);
// The command that replays schedule `seed` of a run with these options.
std::string ReplayCommand(const ChaosOptions& options, uint64_t seed);

}  // namespace ringkv::chaos
