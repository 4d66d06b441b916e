// The /proc reader behind ringkv-bench --server-pids: stat lines as the
// kernel writes them, hostile command names, malformed lines and pid lists.
#include "tools/bench/process_cpu.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

namespace ringkv::bench {
namespace {

TEST(ProcStatTest, ReadsUserAndSystemTicks) {
  const std::string line =
      "4242 (ringkv-node) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 3 0 99 0 0";
  Result<CpuSeconds> cpu = ParseProcStat(line, 100);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_DOUBLE_EQ(cpu->user, 2.5);
  EXPECT_DOUBLE_EQ(cpu->sys, 0.75);
}

TEST(ProcStatTest, CountsFieldsFromTheLastParenthesisOfTheName) {
  // A process may name itself anything, spaces and ") 9 9" included.
  const std::string line = "7 (a) 9 9 (b c) R 1 7 7 0 -1 0 0 0 0 0 300 100 0 0 20 0 1 0 5 0 0";
  Result<CpuSeconds> cpu = ParseProcStat(line, 100);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_DOUBLE_EQ(cpu->user, 3.0);
  EXPECT_DOUBLE_EQ(cpu->sys, 1.0);
}

TEST(ProcStatTest, RejectsMalformedLines) {
  EXPECT_TRUE(ParseProcStat("", 100).status().IsCorruption());
  EXPECT_TRUE(ParseProcStat("12 no name here", 100).status().IsCorruption());
  EXPECT_TRUE(ParseProcStat("12 (x) S 1 2 3", 100).status().IsCorruption());
  EXPECT_TRUE(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 12a 5 0", 100).status().IsCorruption());
  EXPECT_TRUE(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 -3 5 0", 100).status().IsCorruption());
  EXPECT_TRUE(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 5 0", 0).status().IsCorruption());
}

TEST(PidListTest, ParsesAndRejects) {
  Result<std::vector<int>> pids = ParsePidList("12,345,6");
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, (std::vector<int>{12, 345, 6}));
  for (const char* bad :
       {"", ",", "1,", ",1", "0", "-4", "1,,2", "x", "1 2", "99999999999", "3,3"}) {
    EXPECT_TRUE(ParsePidList(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(ProcessCpuTest, OwnProcessTimeGrowsAndAGoneProcessIsNotFound) {
  const std::vector<int> self = {static_cast<int>(::getpid())};
  Result<CpuSeconds> before = ReadProcessCpu(self);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  // Burn at least two clock ticks of CPU, bounded in time.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  volatile uint64_t sink = 0;
  Result<CpuSeconds> after = before;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + static_cast<uint64_t>(i);
    after = ReadProcessCpu(self);
    ASSERT_TRUE(after.ok());
    if (after->total() >= before->total() + 0.02) break;
  }
  EXPECT_GE(after->total(), before->total() + 0.02);
  // Pid numbers above pid_max are never in use.
  EXPECT_TRUE(ReadProcessCpu({static_cast<int>(::getpid()), 1 << 30}).status().IsNotFound());
}

}  // namespace
}  // namespace ringkv::bench
