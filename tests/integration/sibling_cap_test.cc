// Issue 13, "siblings that cannot explode", with three real nodes: blind
// writes to one key of a bucket with max_siblings=3 are taken up to the cap,
// the one that would pass it is refused with too_many_siblings naming the
// key (exit 8), nothing taken is lost, a write with the context still works,
// and the node counts siblings per read and writes past warn_siblings.
// Blind writes racing through every node lose nothing taken;
// conditional puts (`ringkv put --if-match`, exit 9) and Client::Update
// through every node at once count exactly and never show a sibling.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/client.h"
#include "tests/integration/cluster_test_base.h"
#include "tools/exit_codes.h"

namespace ringkv::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

class SiblingCapTest : public ClusterTestBase {
 protected:
  void SetUp() override {
    StartCluster({"--bucket", "capped:max_siblings=3,warn_siblings=2"});
  }

  // A blind put at W=all, retried while peers are still connecting.
  CommandResult PutAll(const std::string& key, const std::string& value) {
    const auto deadline = steady_clock::now() + milliseconds(15000);
    CommandResult r;
    do {
      r = cluster_.Cli(1, {"put", "capped", key, value, "--w", "all", "--timeout", "2000"});
      if (r.exit_code != 3) break;
      std::this_thread::sleep_for(milliseconds(100));  // poll interval
    } while (steady_clock::now() < deadline);
    return r;
  }

  // The value of the counter `name` summed over the three nodes.
  int64_t SumOverNodes(const std::string& name) {
    int64_t sum = 0;
    for (int node = 1; node <= 3; ++node) {
      CommandResult status = cluster_.Admin(node, {"status", "--json"});
      EXPECT_EQ(status.exit_code, 0) << status.Describe();
      Json j = Json::parse(status.out, nullptr, false);
      if (!j.is_object()) continue;
      Json series = Series(j, name);
      if (series.is_object()) sum += series["value"].get<int64_t>();
    }
    return sum;
  }

  static Json Series(const Json& status, const std::string& name) {
    for (const Json& m : status["metrics"]) {
      if (m["name"] == name) return m;
    }
    return Json();
  }
};

TEST_F(SiblingCapTest, TheWriteThatWouldPassTheCapIsRefusedNamingTheKeyAndNothingIsLost) {
  std::vector<int> codes;
  std::string refusal;
  for (int i = 1; i <= 5; ++i) {
    CommandResult r = PutAll("hot", "v" + std::to_string(i));
    codes.push_back(r.exit_code);
    if (r.exit_code != 0) refusal = r.err;
  }
  EXPECT_EQ(codes, (std::vector<int>{0, 0, 0, kExitTooManySiblings, kExitTooManySiblings}));
  EXPECT_NE(refusal.find("ringkv: too_many_siblings: "), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("capped/hot"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("cap of 3"), std::string::npos) << refusal;

  // The three taken are readable through every node, byte for byte.
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(Ok(node, {"get", "capped", "hot", "--r", "all"}).out, "v1\nv2\nv3\n")
        << "node " << node;
  }
  // A write with the context of a read replaces them.
  Json got = Json::parse(Ok(2, {"get", "capped", "hot", "--json"}).out, nullptr, false);
  ASSERT_TRUE(got.is_object());
  Ok(2, {"put", "capped", "hot", "merged", "--context", got["context"].get<std::string>(), "--w",
         "all"});
  EXPECT_EQ(Ok(3, {"get", "capped", "hot", "--r", "all"}).out, "merged\n");

  // Node 1 coordinated the writes and the reads: siblings per read are a
  // histogram, and the writes past warn_siblings=2 were counted.
  EXPECT_GE(SumOverNodes("ringkv_sibling_warnings_total"), 1);
  CommandResult status = cluster_.Admin(1, {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  Json j = Json::parse(status.out, nullptr, false);
  ASSERT_TRUE(j.is_object());
  Json histogram = Series(j, "ringkv_read_siblings");
  ASSERT_TRUE(histogram.is_object()) << status.out.substr(0, 2000);
  EXPECT_GE(histogram["count"].get<int64_t>(), 1);
}

TEST_F(SiblingCapTest, BlindWritesRacingThroughEveryNodeAreRefusedPastTheCapAndNoneTakenIsLost) {
  ASSERT_EQ(PutAll("race", "seed").exit_code, 0);
  std::mutex mu;
  std::set<std::string> taken = {"seed"};
  std::atomic<int> refused{0}, other{0};
  auto writer = [&](int node) {
    std::unique_ptr<Client> client = Connect(node);
    ASSERT_NE(client, nullptr);
    WriteOptions w1;
    w1.w = 1;  // acknowledged by the coordinator alone: replicas lag the most
    for (int i = 0; i < 12; ++i) {
      const std::string value = "n" + std::to_string(node) + "-" + std::to_string(i);
      Result<PutResult> put = client->Put("capped", "race", value, w1);
      if (put.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        taken.insert(value);
      } else if (put.status().IsTooManySiblings()) {
        ++refused;
      } else {
        ++other;
      }
    }
  };
  std::thread a(writer, 1), b(writer, 2), c(writer, 3);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(other.load(), 0);
  // Each coordinator counts on its own copy: three may each take the last
  // place (docs/limits.md "Siblings").
  EXPECT_GE(taken.size(), 3u);
  EXPECT_LE(taken.size(), 3u + 2);
  EXPECT_EQ(refused.load() + static_cast<int>(taken.size()) - 1, 36);
  // Every write taken is there, through every node, and nothing more.
  for (int node = 1; node <= 3; ++node) {
    std::unique_ptr<Client> client = Connect(node);
    ASSERT_NE(client, nullptr);
    ReadOptions all;
    all.r = kQuorumAll;
    Result<GetResult> got = client->Get("capped", "race", all);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(std::set<std::string>(got->values.begin(), got->values.end()), taken)
        << "node " << node;
  }
}

TEST_F(SiblingCapTest, IfMatchWritesOnlyOverWhatTheContextSawAndExitsNineOtherwise) {
  ASSERT_EQ(PutAll("cas", "v1").exit_code, 0);
  // Blind and conditional: the key holds a value.
  CommandResult blind = cluster_.Cli(2, {"put", "capped", "cas", "v2", "--if-match"});
  EXPECT_EQ(blind.exit_code, kExitPreconditionFailed) << blind.Describe();
  EXPECT_NE(blind.err.find("ringkv: precondition_failed: capped/cas changed since the read"),
            std::string::npos)
      << blind.err;
  Json read = Json::parse(Ok(3, {"get", "capped", "cas", "--json"}).out, nullptr, false);
  ASSERT_TRUE(read.is_object());
  const std::string context = read["context"].get<std::string>();
  Ok(1, {"put", "capped", "cas", "v2", "--if-match", "--context", context, "--w", "all"});
  // The same context again is stale now, through any node.
  for (int node = 1; node <= 3; ++node) {
    CommandResult stale =
        cluster_.Cli(node, {"put", "capped", "cas", "v3", "--if-match", "--context", context});
    EXPECT_EQ(stale.exit_code, kExitPreconditionFailed) << stale.Describe();
  }
  EXPECT_EQ(Ok(2, {"get", "capped", "cas", "--r", "all"}).out, "v2\n");
  // A key that holds nothing takes a blind conditional put once.
  Ok(3, {"put", "capped", "fresh", "a", "--if-match", "--w", "all"});
  EXPECT_EQ(cluster_.Cli(1, {"put", "capped", "fresh", "b", "--if-match"}).exit_code,
            kExitPreconditionFailed);
  // A malformed context is refused as before (exit 2), conditional or not.
  EXPECT_EQ(cluster_.Cli(1, {"put", "capped", "cas", "x", "--if-match", "--context", "!!"})
                .exit_code,
            kExitUsage);
}

TEST_F(SiblingCapTest, UpdatesThroughEveryNodeAtOnceCountExactlyAndNeverReadASibling) {
  ASSERT_EQ(PutAll("warm", "1").exit_code, 0);
  constexpr int kEach = 25;
  std::atomic<size_t> most_values{0};
  auto updater = [&](int node) {
    std::unique_ptr<Client> client = Connect(node);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < kEach; ++i) {
      Result<PutResult> put = client->Update(
          "plain", "counter",
          [&](const std::vector<std::string>& current) {
            size_t seen = most_values.load();
            while (current.size() > seen && !most_values.compare_exchange_weak(seen, current.size())) {
            }
            return std::to_string(current.empty() ? 1 : std::stoll(current[0]) + 1);
          },
          [](const std::vector<std::string>& values) { return values[0]; });
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      EXPECT_EQ(put->values, 1u);
    }
  };
  std::thread a(updater, 1), b(updater, 2), c(updater, 3);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(most_values.load(), 1u);
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(Ok(node, {"get", "plain", "counter", "--r", "all"}).out,
              std::to_string(3 * kEach) + "\n")
        << "node " << node;
  }
}

}  // namespace
}  // namespace ringkv::testing
