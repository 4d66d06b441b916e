// ringkv-sim: runs one simulation scenario from one seed.
//
//   ringkv-sim --seed S --scenario NAME [--nodes N] [--partitions Q] [--trace]
//              [--gossip-interval-ms MS] [--phi PHI] [--hint-rate R]
//
// Prints the trace hash (equal for equal seeds), the simulator's speed and
// every checker's verdict; on failure, the seed and the command that replays
// it. Exit status 0 when every checker passed, 1 otherwise, 2 on bad usage.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "tests/sim/scenario.h"
#include "tests/sim/scenario_def.h"

int main(int argc, char** argv) {
  CLI::App app{"ringkv deterministic simulator"};
  ringkv::sim::ScenarioConfig config;
  bool trace = false;
  bool list = false;
  app.add_option("--seed", config.seed, "seed driving every random choice");
  app.add_option("--scenario", config.name, "scenario name (see --list)");
  app.add_option("--nodes", config.nodes, "number of nodes (default: the scenario's)");
  app.add_option("--partitions", config.partitions, "ring partitions Q (power of two)");
  app.add_option("--gossip-interval-ms", config.gossip_interval_ms,
                 "gossip interval (default: the scenario's; 1000 outside handoff scenarios)");
  app.add_option("--phi", config.phi_threshold, "phi threshold (default: the scenario's; 8)");
  app.add_option("--hint-rate", config.hint_rate, "hint deliveries per second per node (2000)");
  app.add_flag("--trace", trace, "print every trace record");
  app.add_option("--dump-key", config.dump_key, "print every operation on BUCKET/KEY");
  app.add_flag("--list", list, "list scenarios and exit");
  CLI11_PARSE(app, argc, argv);
  if (list) {
    for (const auto& def : ringkv::sim::Scenarios()) std::printf("%-20s %s\n", def.name, def.what);
    return 0;
  }
  if (!ringkv::sim::IsScenario(config.name)) {
    std::fprintf(stderr, "ringkv-sim: unknown scenario '%s' (try --list)\n", config.name.c_str());
    return 2;
  }
  if (trace) config.trace = stdout;
  ringkv::sim::ScenarioResult r = ringkv::sim::RunScenario(config);
  std::printf("scenario %s seed %llu\n", config.name.c_str(),
              static_cast<unsigned long long>(config.seed));
  std::printf("%s", r.Summary().c_str());
  if (!r.ring_log.empty()) std::printf("ring changes:\n");
  for (const auto& l : r.ring_log) std::printf("  %s\n", l.c_str());
  std::printf("trace hash: %s\n", r.trace_hash.c_str());
  if (!r.ok) {
    std::printf("FAILED seed %llu; nemesis:\n", static_cast<unsigned long long>(config.seed));
    for (const auto& l : r.nemesis_log) std::printf("  %s\n", l.c_str());
    std::printf("replay: %s\n", ringkv::sim::ReplayCommand(config).c_str());
    return 1;
  }
  return 0;
}
