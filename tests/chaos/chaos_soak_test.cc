// The chaos harness in `make soak`: long seeded schedules of every fault,
// faults of 1 to 10 s, and issue 9's reproduction for every pause from 1
// to 10 s. `make chaos SEED=...` replays one schedule.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/chaos/cluster.h"
#include "tests/chaos/run.h"

namespace ringkv::chaos {
namespace {

std::string NodeBinary() {
  Result<std::string> binary = FindNodeBinary("");
  return binary.ok() ? *binary : "";
}

TEST(ChaosSoakTest, LongSchedulesKeepEveryPromise) {
  ChaosOptions options;
  options.seed = 100;
  options.schedules = 3;
  options.faults = 12;
  options.node_binary = NodeBinary();
  Result<ChaosReport> report = RunChaos(options, nullptr, &std::cerr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  std::cout << FormatReport(*report);
  EXPECT_EQ(report->schedules, options.schedules);
  EXPECT_TRUE(report->ok());
  for (uint64_t seed : report->failed_seeds) {
    ADD_FAILURE() << "seed " << seed << ": replay: " << ReplayCommand(options, seed);
  }
}

TEST(ChaosSoakTest, Issue9ForwardReplayForEveryPauseFrom1To10Seconds) {
  ForwardReplayOptions options;
  options.keys_per_pause = 3;
  options.node_binary = NodeBinary();
  Result<ChaosReport> report = RunForwardReplay(options, nullptr, &std::cerr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  std::cout << FormatReport(*report);
  EXPECT_EQ(report->schedules, 10);
  EXPECT_TRUE(report->ok());
}

}  // namespace
}  // namespace ringkv::chaos
