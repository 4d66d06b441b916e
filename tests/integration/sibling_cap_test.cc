// Issue 13, "siblings that cannot explode", with three real nodes: blind
// writes to one key of a bucket with max_siblings=3 are taken up to the cap,
// the one that would pass it is refused with too_many_siblings naming the
// key (exit 8), nothing taken is lost, a write with the context still works,
// and the node counts siblings per read and writes past warn_siblings.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

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
  CommandResult status = cluster_.Admin(1, {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  Json j = Json::parse(status.out, nullptr, false);
  ASSERT_TRUE(j.is_object());
  Json histogram = Series(j, "ringkv_read_siblings");
  ASSERT_TRUE(histogram.is_object()) << status.out.substr(0, 2000);
  EXPECT_GE(histogram["count"].get<int64_t>(), 1);
  Json warnings = Series(j, "ringkv_sibling_warnings_total");
  ASSERT_TRUE(warnings.is_object());
  EXPECT_GE(warnings["value"].get<int64_t>(), 1);
}

}  // namespace
}  // namespace ringkv::testing
