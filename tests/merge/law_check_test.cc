// Issue 13, "law check at load": every built-in passes 5,000 samples; a
// last-write-wins that breaks ties by argument order is refused naming the
// commutative law with a counterexample; a plugin that crashes or never
// returns is refused in its forked child while this process goes on.
#include "merge/law_check.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/merge/plugin_test_util.h"

namespace ringkv::testing {
namespace {

class BuiltinLawTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BuiltinLawTest, PassesFiveThousandSamplesInAChild) {
  auto plugin = MustOpen(BuiltinPlugin(GetParam()));
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->info().name, GetParam());
  LawCheckOptions options;
  options.samples = 5000;
  const auto start = std::chrono::steady_clock::now();
  Status st = CheckLawsIsolated(plugin->api(), options);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::printf("%s: 5000 samples in %.3f s\n", GetParam().c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

INSTANTIATE_TEST_SUITE_P(Builtins, BuiltinLawTest,
                         ::testing::Values("max", "min", "lww", "pncounter", "gset", "awset"));

TEST(LawCheckTest, AnLwwThatBreaksTiesByArgumentOrderIsRefusedAsNotCommutative) {
  auto plugin = MustOpen(TestPlugin("bad_lww"));
  ASSERT_NE(plugin, nullptr);
  Status st = CheckLawsIsolated(plugin->api(), LawCheckOptions{});
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("breaks the commutative law"), std::string::npos) << st.message();
  // The counterexample: two values with one timestamp.
  EXPECT_NE(st.message().find("merge(a, b) = "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("with a = "), std::string::npos) << st.message();
  std::printf("%s\n", st.message().c_str());
}

TEST(LawCheckTest, APluginThatCrashesIsRefusedAndThisProcessGoesOn) {
  auto plugin = MustOpen(TestPlugin("crash"));
  ASSERT_NE(plugin, nullptr);
  Status st = CheckLawsIsolated(plugin->api(), LawCheckOptions{});
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("crashed during the law check"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("SIGSEGV"), std::string::npos) << st.message();
}

TEST(LawCheckTest, APluginThatNeverReturnsIsRefusedAtTheDeadline) {
  auto plugin = MustOpen(TestPlugin("loop"));
  ASSERT_NE(plugin, nullptr);
  LawCheckOptions options;
  options.deadline_ms = 500;
  const auto start = std::chrono::steady_clock::now();
  Status st = CheckLawsIsolated(plugin->api(), options);
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("did not finish the law check within 500 ms"), std::string::npos)
      << st.message();
  // Generous: the child is killed at the deadline, not left to run.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(LawCheckTest, APluginThatDeclinesItsOwnSamplesIsRefused) {
  auto plugin = MustOpen(TestPlugin("decline"));
  ASSERT_NE(plugin, nullptr);
  Status st = CheckLaws(plugin->api(), LawCheckOptions{});
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("merge failed on its own samples"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace ringkv::testing
