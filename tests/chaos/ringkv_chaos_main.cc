// ringkv-chaos: the real-process fault harness (docs/chaos.md).
//
//   ringkv-chaos --seed 7 [--schedules 3] [--faults 6] [--kinds kill,pause,...]
//   ringkv-chaos --scenario forward-replay [--pauses 1,2,10]
//   ringkv-chaos --plant all        # every checker must catch its planted bug
//
// Exit status: 0 every check passed, 1 a check failed (the summary gives the
// seed and the replay command), 2 usage, 3 the harness itself failed (a node
// would not start, a fault could not be injected), 130 interrupted. With
// --plant, 0 means every planted bug was caught. SIGINT and SIGTERM end the
// run early; nodes and firewall rules are cleaned up as on any other exit.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/chaos/cluster.h"
#include "tests/chaos/run.h"

namespace ringkv::chaos {
namespace {

constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHarness = 3;
constexpr int kExitInterrupted = 130;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

}  // namespace
}  // namespace ringkv::chaos

int main(int argc, char** argv) {
  using namespace ringkv;
  using namespace ringkv::chaos;
  CLI::App app{"ringkv-chaos: faults on real ringkv-node processes, then checkers (docs/chaos.md)"};
  ChaosOptions options;
  ForwardReplayOptions replay;
  std::string scenario = "schedule", kinds, plants, pauses;
  std::vector<std::string> node_flags;
  app.add_option("--scenario", scenario, "schedule, or forward-replay (issue 9)")
      ->check(CLI::IsMember({"schedule", "forward-replay"}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the first schedule")->capture_default_str();
  app.add_option("--schedules", options.schedules, "schedules to run (seeds seed, seed+1, ...)")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option("--nodes", options.nodes, "nodes per cluster")
      ->check(CLI::Range(3, 20))
      ->capture_default_str();
  app.add_option("--faults", options.faults, "faults per schedule")
      ->check(CLI::Range(0, 10'000))
      ->capture_default_str();
  app.add_option("--kinds", kinds,
                 "faults to draw from: kill,pause,wipe,partition-pair,partition-isolate,"
                 "partition-halves (default all)");
  app.add_option("--min-fault-ms", options.min_fault_ms)->capture_default_str();
  app.add_option("--max-fault-ms", options.max_fault_ms)->capture_default_str();
  app.add_option("--min-gap-ms", options.min_gap_ms, "fault-free time before each fault")
      ->capture_default_str();
  app.add_option("--max-gap-ms", options.max_gap_ms)->capture_default_str();
  app.add_option("--keys", options.keys, "keys per bucket")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--rate", options.rate, "writes per second per writer (one per node and bucket)")
      ->check(CLI::Range(0.1, 10'000.0))
      ->capture_default_str();
  app.add_option("--timeout-ms", options.timeout_ms, "deadline of each write")
      ->check(CLI::Range(1u, 600'000u))
      ->capture_default_str();
  app.add_option("--min-availability", options.min_availability,
                 "share of must-succeed writes that must succeed, per fault")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--convergence-timeout-ms", options.convergence_timeout_ms)->capture_default_str();
  app.add_option("--plant", plants,
                 "planted bugs: lost,never-written,duplicate,lww-order,convergence,"
                 "availability or all");
  app.add_option("--node-flag", node_flags, "ringkv-node flag for every node, --NAME=VALUE");
  app.add_option("--pauses", pauses, "forward-replay: pause lengths in seconds (default 1,...,10)");
  app.add_option("--keys-per-pause", replay.keys_per_pause,
                 "forward-replay: keys per bucket and pause")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--node-binary", options.node_binary, "path of ringkv-node");
  app.add_flag("--keep", options.keep_dirs,
               "keep the cluster directories (kept anyway on failure)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  auto usage = [](const Status& st) {
    std::cerr << "ringkv-chaos: " << st.message() << "\n";
    return kExitUsage;
  };
  if (!kinds.empty()) {
    options.kinds.clear();
    for (const std::string& k : SplitList(kinds)) {
      Result<FaultKind> kind = ParseFaultKind(k);
      if (!kind.ok()) return usage(kind.status());
      options.kinds.push_back(*kind);
    }
  }
  for (const std::string& p : SplitList(plants)) {
    if (p == "all") {
      options.plants = AllPlants();
      break;
    }
    Result<Plant> plant = ParsePlant(p);
    if (!plant.ok()) return usage(plant.status());
    options.plants.push_back(*plant);
  }
  for (const std::string& flag : node_flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos || flag.rfind("--", 0) != 0) {
      return usage(Status::InvalidArgument("--node-flag " + flag + ": expected --NAME=VALUE"));
    }
    options.node_flags[flag.substr(0, eq)] = flag.substr(eq + 1);
  }
  if (!pauses.empty()) {
    replay.pause_seconds.clear();
    for (const std::string& p : SplitList(pauses)) {
      const int seconds = std::atoi(p.c_str());
      if (seconds < 1 || seconds > 60) {
        return usage(Status::InvalidArgument("--pauses: " + p + " is not 1..60 seconds"));
      }
      replay.pause_seconds.push_back(seconds);
    }
  }
  if (options.min_fault_ms > options.max_fault_ms || options.min_gap_ms > options.max_gap_ms ||
      options.min_fault_ms < 0 || options.min_gap_ms < 0) {
    return usage(Status::InvalidArgument("fault and gap ranges must be 0 <= min <= max"));
  }
  Result<std::string> binary = FindNodeBinary(options.node_binary);
  if (!binary.ok()) return usage(binary.status());
  options.node_binary = replay.node_binary = *binary;
  replay.keep_dirs = options.keep_dirs;
  replay.convergence_timeout_ms = options.convergence_timeout_ms;

  // SIGINT, SIGTERM and SIGHUP are taken by one thread, which asks the run
  // to stop; blocked before any other thread exists so that every thread
  // inherits the mask. SIGUSR1 is how the run, once over, wakes that thread.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&signals, sig);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::atomic<bool> stop{false};
  std::thread waiter([&signals, &stop] {
    int sig = 0;
    ::sigwait(&signals, &sig);
    if (sig != SIGUSR1) {
      std::cerr << "ringkv-chaos: signal " << sig << ", stopping and cleaning up\n";
      stop = true;
    }
  });

  Result<ChaosReport> report = scenario == "forward-replay"
                                   ? RunForwardReplay(replay, &stop, &std::cerr)
                                   : RunChaos(options, &stop, &std::cerr);
  ::pthread_kill(waiter.native_handle(), SIGUSR1);
  waiter.join();

  if (!report.ok() && stop) {
    std::cerr << "ringkv-chaos: interrupted; every node stopped and every rule removed\n";
    return kExitInterrupted;
  }
  if (!report.ok()) {
    std::cerr << "ringkv-chaos: harness failure: " << report.status().message() << "\n";
    return kExitHarness;
  }
  std::cout << FormatReport(*report) << std::flush;
  if (stop) return kExitInterrupted;
  if (!options.plants.empty()) {
    bool all = true;
    for (Plant p : options.plants) {
      const bool caught = Caught(*report, p);
      all = all && caught;
      std::cout << "planted " << PlantName(p) << ": " << (caught ? "caught by " : "MISSED by ")
                << CheckerFor(p) << "\n";
    }
    return all ? 0 : kExitViolation;
  }
  if (report->ok()) return 0;
  if (scenario == "forward-replay") {
    std::cout << "replay: make chaos CHAOS_ARGS='--scenario forward-replay" +
                     (pauses.empty() ? std::string() : " --pauses " + pauses) + "'\n";
  }
  for (uint64_t seed : report->failed_seeds) {
    std::cout << "failed seed " << seed << "; replay: " << ReplayCommand(options, seed) << "\n";
  }
  return kExitViolation;
}
