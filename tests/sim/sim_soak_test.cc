// The soak suite (`make soak`): thousands of seeds across every scenario and
// a 1,000-node cluster. Same checkers as the CI suite, more of everything.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "tests/sim/scenario.h"
#include "tests/sim/seed_test_name.h"

namespace ringkv::sim {
namespace {

constexpr int kSoakSeeds = 400;

// A parameterized case runs seed kFirstSeed + its index.
constexpr int kFirstSeed = 100000;

class SimSoakTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(SimSoakTest, AllCheckersPass) {
  ScenarioConfig c;
  c.name = std::get<0>(GetParam());
  c.seed = kFirstSeed + std::get<1>(GetParam());
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(r.ok) << r.Summary() << "replay: " << ReplayCommand(c);
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, SimSoakTest,
    ::testing::Combine(::testing::Values("basic", "network", "crash", "wipe", "disk", "clock",
                                         "chaos", "availability", "siblings"),
                       ::testing::Range(0, kSoakSeeds)),
    SeedTestName<kFirstSeed>());

// Failure handling: every handoff scenario, and default detection.
constexpr int kSoakHandoffSeeds = 200;

INSTANTIATE_TEST_SUITE_P(
    Handoff, SimSoakTest,
    ::testing::Combine(::testing::Values("handoff-crash", "handoff-pause", "handoff-partition",
                                         "handoff-n3", "handoff-restart", "handoff-restart-n3"),
                       ::testing::Range(0, kSoakHandoffSeeds)),
    SeedTestName<kFirstSeed>());

// Issue 9: forwards held by a paused first primary and replayed.
INSTANTIATE_TEST_SUITE_P(ForwardReplay, SimSoakTest,
                         ::testing::Combine(::testing::Values("forward-replay"),
                                            ::testing::Range(0, kSoakHandoffSeeds)),
                         SeedTestName<kFirstSeed>());

TEST(SimSoakDetectionTest, DefaultSettingsManySeeds) {
  for (uint64_t seed = 100000; seed < 100020; ++seed) {
    ScenarioConfig c;
    c.name = "detect-default";
    c.seed = seed;
    ScenarioResult r = RunScenario(c);
    EXPECT_TRUE(r.ok) << r.Summary() << "replay: " << ReplayCommand(c);
  }
}

TEST(SimSoakScaleTest, ThousandNodes) {
  ScenarioConfig c;
  c.name = "huge";
  c.seed = 1;
  ScenarioResult r = RunScenario(c);
  EXPECT_TRUE(r.ok) << r.Summary() << "replay: " << ReplayCommand(c);
  std::printf("%s", r.Summary().c_str());
}

TEST(SimSoakScaleTest, LargeClustersManySeeds) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    ScenarioConfig c;
    c.name = "large";
    c.seed = seed;
    ScenarioResult r = RunScenario(c);
    EXPECT_TRUE(r.ok) << r.Summary() << "replay: " << ReplayCommand(c);
  }
}

}  // namespace
}  // namespace ringkv::sim
