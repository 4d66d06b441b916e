// Issue 13 with three real nodes started with --plugins (the built-ins):
// `ringkv-admin plugins` lists them with hash and buckets; a max bucket and
// a pncounter bucket collapse concurrent writes to one value on every
// replica; increments through Client::Update from two threads all count; a
// bucket naming a plugin the nodes lack keeps its siblings and the nodes
// serve on; Update against a plain siblings bucket leaves one value.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "tests/integration/cluster_test_base.h"

namespace ringkv::testing {
namespace {

using Json = nlohmann::json;

// The pncounter merge of `values`, with `actor`'s P raised by `by`.
std::string Increment(const std::vector<std::string>& values, const std::string& actor,
                      int64_t by = 1) {
  std::map<std::string, std::pair<int64_t, int64_t>> c;
  for (const std::string& v : values) {
    std::istringstream in(v);
    std::string a;
    int64_t p = 0, n = 0;
    while (in >> a >> p >> n) {
      c[a].first = std::max(c[a].first, p);
      c[a].second = std::max(c[a].second, n);
    }
  }
  if (by != 0) c[actor].first += by;
  std::string out;
  for (const auto& [a, pn] : c) {
    out += a + " " + std::to_string(pn.first) + " " + std::to_string(pn.second) + "\n";
  }
  return out;
}

class PluginsTest : public ClusterTestBase {
 protected:
  void SetUp() override {
    StartCluster({"--plugins", RINGKV_BUILTIN_PLUGINS, "--bucket",
                  "counters:resolver=merge:pncounter", "--bucket", "top:resolver=merge:max",
                  "--bucket", "bogus:resolver=merge:nosuch"});
  }
};

TEST_F(PluginsTest, AdminListsEveryBuiltinWithItsHashAndTheBucketsUsingIt) {
  CommandResult r = cluster_.Admin(1, {"plugins", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json j = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  std::map<std::string, Json> by_name;
  for (const Json& p : j["plugins"]) by_name[p["name"].get<std::string>()] = p;
  EXPECT_EQ(by_name.size(), 6u) << r.out;
  ASSERT_TRUE(by_name.count("pncounter"));
  EXPECT_EQ(by_name["pncounter"]["version"], 1);
  EXPECT_EQ(by_name["pncounter"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(by_name["pncounter"]["buckets"], Json::array({"counters"}));
  EXPECT_EQ(by_name["max"]["buckets"], Json::array({"top"}));
  EXPECT_EQ(by_name["gset"]["buckets"], Json::array());
  EXPECT_TRUE(j["refused"].empty());
  CommandResult text = cluster_.Admin(2, {"plugins"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("pncounter"), std::string::npos) << text.out;
}

TEST_F(PluginsTest, ConcurrentBlindWritesToAMaxBucketReadAsOneValueEverywhere) {
  for (int node = 1; node <= 3; ++node) {
    for (const char* v : {"5", "12", "7"}) {
      CommandResult r = cluster_.Cli(node, {"put", "top", "score", v, "--w", "1"});
      EXPECT_EQ(r.exit_code, 0) << r.Describe();
    }
  }
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(Ok(node, {"get", "top", "score", "--r", "all"}).out, "12\n") << "node " << node;
  }
}

TEST_F(PluginsTest, IncrementsThroughUpdateFromTwoWritersAllCount) {
  constexpr int kEach = 60;
  auto writer = [&](int node, const std::string& actor) {
    std::unique_ptr<Client> client = Connect(node);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < kEach; ++i) {
      Result<PutResult> put = client->Update(
          "counters", "c", [&](const std::vector<std::string>& v) { return Increment(v, actor); },
          [](const std::vector<std::string>& v) { return Increment(v, "", 0); });
      ASSERT_TRUE(put.ok()) << put.status().ToString();
    }
  };
  // Right after start a node may not reach its peers yet, and an update
  // answered "unavailable" may still have been stored: wait until a write
  // at W=all goes through every node first.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (int node = 1; node <= 3; ++node) {
    while (cluster_.Cli(node, {"put", "top", "warm", "1", "--w", "all"}).exit_code != 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
    }
  }
  std::thread a(writer, 1, "alice"), b(writer, 2, "bob");
  a.join();
  b.join();
  for (int node = 1; node <= 3; ++node) {
    const std::string value = Ok(node, {"get", "counters", "c", "--r", "all"}).out;
    // One value (the CLI ends it with a newline of its own), whose lines
    // hold every increment of alice's and bob's.
    EXPECT_EQ(value, "alice " + std::to_string(kEach) + " 0\nbob " + std::to_string(kEach) +
                         " 0\n\n");
  }
}

TEST_F(PluginsTest, ABucketNamingAPluginTheNodesLackKeepsItsSiblings) {
  Ok(1, {"put", "bogus", "k", "one", "--w", "all"});
  Ok(1, {"put", "bogus", "k", "two", "--w", "all"});
  EXPECT_EQ(Ok(2, {"get", "bogus", "k", "--r", "all"}).out.substr(0, 8), "one\ntwo\n");
  Ok(3, {"put", "top", "after", "1"});
}

TEST_F(PluginsTest, UpdateOnASiblingsBucketLeavesOneValue) {
  auto writer = [&](int node, int base) {
    std::unique_ptr<Client> client = Connect(node);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 30; ++i) {
      Result<PutResult> put = client->Update(
          "plain", "k", [&](const std::vector<std::string>&) { return std::to_string(base + i); },
          [](const std::vector<std::string>& v) { return *std::max_element(v.begin(), v.end()); });
      ASSERT_TRUE(put.ok()) << put.status().ToString();
    }
  };
  std::thread a(writer, 1, 1000), b(writer, 3, 2000);
  a.join();
  b.join();
  const std::string value = Ok(2, {"get", "plain", "k", "--r", "all"}).out;
  EXPECT_EQ(std::count(value.begin(), value.end(), '\n'), 1) << value;
}

}  // namespace
}  // namespace ringkv::testing
