// Scenarios: named combinations of a cluster, workloads, a nemesis and
// checkers, each run from one seed.
//
// RunScenario builds the world for the seed, runs the workload under the
// scenario's faults, heals everything, runs a read-repair pass (a get at
// R=N of every key), lets the cluster go quiet and runs the checkers. The
// result carries the trace hash (same seed => same hash), the simulated and
// wall time, and every checker's verdict. Planted-bug tests use the hooks
// in ScenarioConfig to inject a defect into the simulated environment.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "tests/sim/checkers.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/workload.h"

namespace ringkv::sim {

struct ScenarioConfig {
  std::string name = "basic";
  uint64_t seed = 1;
  int nodes = 0;            // 0 = the scenario's default
  uint32_t partitions = 0;  // 0 = the scenario's default
  // Failure handling overrides (0 = the scenario's): gossip interval, phi
  // threshold, hinted-handoff deliveries per second.
  int64_t gossip_interval_ms = 0;
  double phi_threshold = 0;
  double hint_rate = 0;
  FILE* trace = nullptr;    // prints every trace record when set
  // Prints every operation on this "bucket/key" (to `trace`, or stdout).
  std::string dump_key;
  // Planted-bug hooks (tests only).
  std::function<void(ClusterOptions*)> tweak_cluster;
  std::function<void(SimCluster*, History*)> after_start;
  std::function<void(WorkloadOptions*)> tweak_workload;
};

struct ScenarioResult {
  bool ok = true;
  std::string trace_hash;
  int64_t sim_us = 0;
  uint64_t events = 0;
  double wall_seconds = 0;
  uint64_t ops = 0, ops_ok = 0, ops_fail = 0, ops_info = 0;
  uint64_t faults = 0;
  uint64_t messages = 0;
  uint64_t lww_discarded = 0, lww_acked = 0;
  // Acknowledged puts whose reply held their value twice (applied twice).
  uint64_t duplicate_applied = 0;
  // Failure handling: hint drain after the heal, detection figures
  // (DetectionProbe::Summary, empty when not measured) and latencies (us).
  HintDrain drain;
  uint64_t handoff_excused = 0;
  std::string detection;
  std::vector<int64_t> detection_samples;
  std::vector<CheckResult> checks;
  std::vector<std::string> nemesis_log;
  // Ring-change scenarios: what the operator did and the ring it ended on.
  std::vector<std::string> ring_log;
  uint64_t final_epoch = 0;
  int final_members = 0;
  // Names of the checkers that failed.
  std::vector<std::string> Failed() const;
  // Multi-line human summary (figures and any failures).
  std::string Summary() const;
};

const std::vector<std::string>& ScenarioNames();
bool IsScenario(const std::string& name);
// Seeds the CI suite runs for a scenario (a few hundred in total).
ScenarioResult RunScenario(const ScenarioConfig& config);
std::string ReplayCommand(const ScenarioConfig& config);

}  // namespace ringkv::sim
