// The node's metrics end to end, with a real ringkv-node process: a known
// number of puts and gets through the client library moves the node's
// request counters and duration histograms by exactly that number, as
// `ringkv-admin status --json` reports them; every series reported has its
// row in docs/metrics.md; `--metrics` adds its section after the human
// lines that scripts read, which stay as they were.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness.h"

namespace ringkv::testing {
namespace {

using Json = nlohmann::json;

constexpr int kPuts = 25;
constexpr int kGets = 40;
constexpr int kMisses = 5;

const char* const kResults[] = {"ok",          "not_found", "invalid_argument",
                                "unavailable", "timeout",   "corruption",
                                "io_error",    "busy",      "internal",
                                "object_too_large", "too_many_siblings",
                                "precondition_failed"};

// The series (name, labels) in a status's "metrics"; null when absent.
Json Series(const Json& status, const std::string& name, const Json& labels) {
  for (const Json& m : status["metrics"]) {
    if (m["name"] == name && m["labels"] == labels) return m;
  }
  return Json();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult r = cluster_.Start();
    ASSERT_EQ(r.exit_code, 0) << r.Describe() << "\n" << cluster_.LogTails();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_.LogTails();
  }

  // `ringkv-admin status --json` of the node, parsed; null on failure.
  Json Status() {
    CommandResult r = cluster_.Admin(1, {"status", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object() && j.contains("metrics")) << r.Describe();
    return j.is_object() ? j : Json();
  }

  // How much the counter (name, labels) grew from `before` to `after`.
  static int64_t Grew(const Json& before, const Json& after, const std::string& name,
                      const Json& labels) {
    Json a = Series(before, name, labels);
    Json b = Series(after, name, labels);
    EXPECT_TRUE(a.is_object() && b.is_object()) << name << labels.dump();
    if (!a.is_object() || !b.is_object()) return -1;
    return b["value"].get<int64_t>() - a["value"].get<int64_t>();
  }

  LocalClusterFixture cluster_{1};
};

TEST_F(MetricsTest, PutsAndGetsMoveTheRequestCountersByExactlyTheirNumber) {
  ClientOptions options;
  options.nodes = {cluster_.Address(1)};
  options.timeout_ms = 5000;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  const Json before = Status();
  for (int i = 0; i < kPuts; ++i) {
    auto put = (*client)->Put("metrics", "k" + std::to_string(i), "v");
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }
  for (int i = 0; i < kGets; ++i) {
    auto get = (*client)->Get("metrics", "k" + std::to_string(i % kPuts));
    ASSERT_TRUE(get.ok() && get->found) << get.status().ToString();
  }
  for (int i = 0; i < kMisses; ++i) {
    auto get = (*client)->Get("metrics", "absent" + std::to_string(i));
    ASSERT_TRUE(get.ok() && !get->found) << get.status().ToString();
  }
  const Json after = Status();

  const std::string requests = "ringkv_client_requests_total";
  for (const char* result : kResults) {
    const std::string r = result;
    EXPECT_EQ(Grew(before, after, requests, {{"op", "put"}, {"result", r}}),
              r == "ok" ? kPuts : 0)
        << r;
    EXPECT_EQ(Grew(before, after, requests, {{"op", "get"}, {"result", r}}),
              r == "ok" ? kGets : r == "not_found" ? kMisses : 0)
        << r;
    EXPECT_EQ(Grew(before, after, requests, {{"op", "replica_get"}, {"result", r}}), 0) << r;
  }

  const std::string duration = "ringkv_client_request_duration_seconds";
  for (const auto& [op, n] : {std::pair<std::string, int>{"put", kPuts}, {"get", kGets + kMisses}}) {
    Json h0 = Series(before, duration, {{"op", op}});
    Json h1 = Series(after, duration, {{"op", op}});
    ASSERT_TRUE(h0.is_object() && h1.is_object()) << op;
    EXPECT_EQ(h1["type"], "histogram");
    EXPECT_EQ(h1["count"].get<int64_t>() - h0["count"].get<int64_t>(), n) << op;
    EXPECT_GT(h1["sum"].get<double>(), h0["sum"].get<double>()) << op;
    ASSERT_FALSE(h1["buckets"].empty()) << op;
    EXPECT_EQ(h1["buckets"].back()["count"], h1["count"]) << op;
    EXPECT_GT(h1["p50"].get<double>(), 0) << op;
    EXPECT_LE(h1["p50"].get<double>(), h1["p99"].get<double>()) << op;
  }

  // Every get of a key just written is answered from the record cache.
  EXPECT_GE(Grew(before, after, "ringkv_record_cache_hits_total", Json::object()), kGets);
  EXPECT_GE(Grew(before, after, "ringkv_server_messages_received_total", {{"sender", "client"}}),
            kPuts + kGets + kMisses);
  const Json rejected = Series(after, "ringkv_server_connections_rejected_total",
                               {{"reason", "bad_frame"}});
  ASSERT_TRUE(rejected.is_object());
  EXPECT_EQ(rejected["type"], "counter");
  EXPECT_EQ(rejected["value"], 0);
}

TEST_F(MetricsTest, EveryReportedMetricIsDocumented) {
  const char* source = std::getenv("RINGKV_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "RINGKV_SOURCE_DIR is set by tests/integration/meson.build";
  std::ifstream file(std::string(source) + "/docs/metrics.md");
  ASSERT_TRUE(file.good());
  const std::string doc((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const Json status = Status();
  ASSERT_FALSE(status["metrics"].empty());
  for (const Json& m : status["metrics"]) {
    const std::string name = m["name"];
    EXPECT_NE(doc.find("| `" + name + "` |"), std::string::npos) << name << " has no row";
  }
}

TEST_F(MetricsTest, HumanStatusKeepsItsLinesAndAddsMetricsOnlyWhenAsked) {
  CommandResult plain = cluster_.Admin(1, {"status"});
  ASSERT_EQ(plain.exit_code, 0) << plain.Describe();
  EXPECT_EQ(plain.out.find("metrics"), std::string::npos) << plain.out;
  CommandResult with = cluster_.Admin(1, {"status", "--metrics"});
  ASSERT_EQ(with.exit_code, 0) << with.Describe();

  const std::vector<std::string> old_lines = Lines(plain.out);
  const std::vector<std::string> lines = Lines(with.out);
  ASSERT_GT(lines.size(), old_lines.size() + 1) << with.out;
  for (size_t i = 0; i < old_lines.size(); ++i) EXPECT_EQ(lines[i], old_lines[i]) << i;
  const size_t series = lines.size() - old_lines.size() - 1;
  EXPECT_EQ(lines[old_lines.size()], "metrics (" + std::to_string(series) + "):");
  bool put_ok = false;
  for (size_t i = old_lines.size() + 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind("  ringkv_", 0), 0u) << lines[i];
    put_ok = put_ok ||
             lines[i] == "  ringkv_client_requests_total{op=\"put\",result=\"ok\"} 0";
  }
  EXPECT_TRUE(put_ok) << with.out;
}

}  // namespace
}  // namespace ringkv::testing
