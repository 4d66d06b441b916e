// ringkv-bench's report: throughput per 10 s (whole windows only) in the
// table and the JSON, so a long run shows whether it decays.
#include <gtest/gtest.h>

#include "tools/bench/report.h"

namespace ringkv::bench {
namespace {

TEST(ReportTest, PerWindowAveragesWholeWindowsAndLeavesOutTheTail) {
  std::vector<double> per_second;
  for (int i = 0; i < 25; ++i) per_second.push_back(i < 10 ? 100 : 50);
  EXPECT_EQ(PerWindow(per_second, 10), (std::vector<double>{100, 50}));
  EXPECT_TRUE(PerWindow({1, 2, 3}, 10).empty());
  EXPECT_TRUE(PerWindow({1, 2, 3}, 0).empty());
}

TEST(ReportTest, TableAndJsonShowThroughputPer10Seconds) {
  RunResult result;
  for (int i = 0; i < 30; ++i) result.per_second.push_back(i < 10 ? 1000 : 800);
  result.seconds = 30;
  const std::string table = FormatTable(result);
  EXPECT_NE(table.find("ops/s per 10 s: 1000 800 800 (last / first 0.80)"), std::string::npos)
      << table;
  const nlohmann::json j = ToJson(RunDescription{}, result);
  EXPECT_EQ(j["per_10s"], nlohmann::json::array({1000.0, 800.0, 800.0}));
  EXPECT_FALSE(j.contains("server_us_per_op_per_10s"));
  // 0.5 CPU seconds a second: 500 us per op at 1000 ops/s, 625 at 800.
  result.server_cpu_per_second.assign(30, 0.5);
  EXPECT_EQ(ServerUsPerOpPerWindow(result, 10), (std::vector<double>{500, 625, 625}));
  EXPECT_NE(FormatTable(result).find("server CPU us per operation per 10 s: 500 625 625 (last / "
                                     "first 1.25)"),
            std::string::npos)
      << FormatTable(result);
  RunResult short_run;
  short_run.per_second = {5, 5, 5};
  EXPECT_EQ(FormatTable(short_run).find("per 10 s"), std::string::npos);
}

}  // namespace
}  // namespace ringkv::bench
