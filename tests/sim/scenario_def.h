// ScenarioDef: a simulation scenario as data, one row of the table in
// scenarios.cc.
//
// A row says what differs from the common setting: 5 nodes, Q=64, links of
// 100-2000 us, true clocks, 10 s of faults from the nemesis kinds it
// switches on, the random workload on bucket "b". RunScenario (scenario.h)
// builds the cluster, workloads, nemesis and checks from it; the seed adds
// only the draws a row asks for (fast gossip, hint rate). Scripted
// scenarios name a driver and its check instead of a workload.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "tests/sim/checkers.h"
#include "tests/sim/history.h"
#include "tests/sim/nemesis.h"
#include "tests/sim/ring_driver.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/workload.h"

namespace ringkv::sim {

inline constexpr int64_t kSecond = 1'000'000;

// How the nemesis paces its faults.
enum class Pace {
  kDefault,  // faults of 0.2-3 s, 0.1-1.5 s apart, until the fault phase ends
  kHandoff,  // faults of 1-8 s (long enough to be detected), 0.5-3 s apart,
             // none in the last 2 s
  kDense,    // faults of 0.2-3 s, 50-300 ms apart (large clusters)
};

// Starts a scripted scenario's driver, which records its verdicts in the
// CheckResult; the returned object lives until the run ends.
using ScriptFn = std::shared_ptr<void> (*)(SimCluster*, History*, CheckResult*);
// Schedules scripted faults beside the workload, drawing from `random`.
using FaultsFn = void (*)(SimCluster*, Random* random, CheckResult*);

struct ScenarioDef {
  const char* name = "";
  const char* what = "";  // its faults in one line (ringkv-sim --list)
  int nodes = 5;
  uint32_t partitions = 64;
  // The fault phase; the workloads stop with it. Scripted scenarios: 0
  // (their drivers get 40 s).
  int64_t run_us = 10 * kSecond;
  // Links are calm: a chance per message of a tail of up to 50 ms, and of
  // an extra delay of up to 20 ms that lets later messages overtake it.
  double link_tail = 0;
  double link_reorder = 0;
  int64_t max_clock_offset_us = 0;
  int64_t max_drift_ppm = 0;
  bool buggify = false;
  // The fault kinds and how many nodes may be faulty at once; the pace
  // fills in the timing.
  NemesisOptions nemesis = {};
  Pace pace = Pace::kDefault;
  // Each ends with the fault phase.
  std::vector<WorkloadOptions> workloads = {WorkloadOptions{}};
  // Failure handling fast enough for 1-8 s faults to be detected, drawn
  // per seed: gossip every 100-250 ms at phi 8, hinted handoff at 50/s one
  // seed in three; hints must drain within 20 s of the heal, not 30.
  bool fast_failure_handling = false;
  // Waits for every node's hints to drain after the heal, then checks
  // handoff-complete on bucket "h" before the read-repair pass.
  bool handoff_checks = false;
  bool measure_detection = false;
  // Anti-entropy on (an exchange every 200 ms per node, reaping included),
  // hinted handoff delivering nothing and no read-repair pass: after the
  // heal the run waits (up to 120 s) for anti-entropy alone to make every
  // primary of every key hold byte-identical objects (aae-convergence).
  bool anti_entropy = false;
  // Ring changes under the faults (issue 15), driven through the admin
  // requests by a RingDriver from 1 s on: `nodes` is the first ring, each
  // step's joins start new nodes. The run then waits (up to 90 s after the
  // heal) for the last step, judges every checker by the final ring, checks
  // handoff-complete on bucket "h" before the repair pass and ring-placement
  // and ring-changes after it. Anti-entropy is on for the catch-up exchange
  // only (its periodic exchanges an hour apart).
  std::vector<RingStep> ring_steps = {};
  FaultsFn faults = nullptr;
  const char* faults_check = "";  // the name of the faults' own check, if any
  ScriptFn script = nullptr;
  const char* script_check = "";
};

// Every scenario, in the order ringkv-sim --list prints them.
const std::vector<ScenarioDef>& Scenarios();
// The scenario named `name`, or null.
const ScenarioDef* FindScenario(std::string_view name);

}  // namespace ringkv::sim
