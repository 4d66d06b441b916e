// The collector formats: every record is one line that parses back to the
// message as logged, whatever bytes the message holds.
#include "node/log_format.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

namespace ringkv {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class LogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("ringkv-log-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove(path_);
  }
  void TearDown() override {
    spdlog::drop_all();
    spdlog::set_default_logger(spdlog::stderr_color_mt("restored"));
    fs::remove(path_);
  }
  fs::path path_;
};

TEST_F(LogFormatTest, JsonRecordsAreOneLineEachAndCarryTheMessageExactly) {
  ASSERT_TRUE(ConfigureLogging({"json", "debug", path_.string()}).ok());
  const std::string tricky = "peer \"n2\" said: a\\b\nline two\ttab \x01 end";
  spdlog::info("serving on {}", "127.0.0.1:7000");
  spdlog::warn("{}", tricky);
  spdlog::debug("{}", std::string("bad utf-8: \xff\xfe"));
  spdlog::trace("below the level");
  spdlog::default_logger()->flush();
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 3u);
  nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["msg"], "serving on 127.0.0.1:7000");
  const std::string time = first["time"];
  ASSERT_EQ(time.size(), 24u) << time;  // 2026-12-02T03:40:00.123Z
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
  nlohmann::json second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["level"], "warning");
  EXPECT_EQ(second["msg"], tricky);
  nlohmann::json third = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(third["level"], "debug");
  EXPECT_EQ(third["msg"].get<std::string>().substr(0, 11), "bad utf-8: ");
}

TEST_F(LogFormatTest, LogfmtQuotesAndEscapesValuesThatNeedIt) {
  ASSERT_TRUE(ConfigureLogging({"logfmt", "info", path_.string()}).ok());
  spdlog::info("started");
  spdlog::error("key \"a=b\" on n3\nretrying");
  spdlog::default_logger()->flush();
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].substr(0, 5), "time=");
  EXPECT_NE(lines[0].find(" level=info msg=started"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" level=error msg=\"key \\\"a=b\\\" on n3\\nretrying\""),
            std::string::npos)
      << lines[1];
}

TEST_F(LogFormatTest, BadFormatLevelOrFileIsAnErrorBeforeAnythingIsLogged) {
  Status format = ConfigureLogging({"xml", "info", ""});
  EXPECT_TRUE(format.IsInvalidArgument());
  EXPECT_NE(format.message().find("text, json or logfmt"), std::string::npos);
  EXPECT_TRUE(ConfigureLogging({"json", "chatty", ""}).IsInvalidArgument());
  // spdlog creates missing directories, so the parent is a plain file.
  std::ofstream(path_) << "not a directory\n";
  Status file = ConfigureLogging({"json", "info", (path_ / "node.log").string()});
  EXPECT_TRUE(file.IsInvalidArgument());
  EXPECT_NE(file.message().find("cannot open log file"), std::string::npos) << file.message();
}

}  // namespace
}  // namespace ringkv
