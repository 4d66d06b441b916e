// Issue 13 with three real nodes started with --plugins (the built-ins):
// `ringkv-admin plugins` lists them with hash and buckets, and the bucket
// naming a plugin the nodes lack as missing; a max bucket and
// a pncounter bucket collapse concurrent writes to one value on every
// replica; increments through Client::Update from two threads all count; a
// bucket naming a plugin the nodes lack keeps its siblings and the nodes
// serve on; Update against a plain siblings bucket leaves one value; a
// bucket set to a plugin through the ring state (`ringkv-admin bucket`) is
// listed under it on every node. A cluster started with `--plugin-worker`
// merges in the workers, and keeps the mode when a node restarts.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
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

// `ringkv-admin plugins --json` of `node`, by plugin name.
std::map<std::string, Json> PluginsOf(LocalClusterFixture& cluster, int node) {
  CommandResult r = cluster.Admin(node, {"plugins", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  Json j = Json::parse(r.out, nullptr, false);
  std::map<std::string, Json> by_name;
  if (!j.is_object()) return by_name;
  for (const Json& p : j["plugins"]) by_name[p["name"].get<std::string>()] = p;
  return by_name;
}

// The sum over the nodes of the series `name` with label plugin=`plugin`.
double SumOverNodes(LocalClusterFixture& cluster, const std::string& name,
                    const std::string& plugin) {
  double sum = 0;
  for (int node = 1; node <= cluster.nodes(); ++node) {
    CommandResult r = cluster.Admin(node, {"status", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    Json j = Json::parse(r.out, nullptr, false);
    if (!j.is_object()) continue;
    for (const Json& m : j["metrics"]) {
      if (m["name"] == name && m["labels"].value("plugin", "") == plugin) {
        sum += m["value"].get<double>();
      }
    }
  }
  return sum;
}

class PluginsTest : public ClusterTestBase {
 protected:
  void SetUp() override {
    StartCluster({"--plugins", RINGKV_BUILTIN_PLUGINS, "--bucket",
                  "counters:resolver=merge:pncounter", "--bucket", "top:resolver=merge:max",
                  "--bucket", "bogus:resolver=merge:nosuch"});
  }

  // Right after start a node may not reach its peers yet, and an update
  // answered "unavailable" may still have been stored: waits until a write
  // at W=all goes through every node.
  void AwaitWritesThroughEveryNode() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (int node = 1; node <= 3; ++node) {
      while (cluster_.Cli(node, {"put", "top", "warm", "1", "--w", "all"}).exit_code != 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
      }
    }
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
  // The bucket naming a plugin no node has is listed as missing, on each node.
  ASSERT_EQ(j["missing"].size(), 1u) << r.out;
  EXPECT_EQ(j["missing"][0]["bucket"], "bogus");
  EXPECT_EQ(j["missing"][0]["resolver"], "merge:nosuch");
  CommandResult text = cluster_.Admin(2, {"plugins"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("pncounter"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("missing bogus: merge:nosuch is not loaded on this node"),
            std::string::npos)
      << text.out;
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
  AwaitWritesThroughEveryNode();
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
  // Each conditional put goes to the key's owner; a forward that gets no
  // answer within its share of the request's deadline (a third, with three
  // primaries) is coordinated by the next primary on its own copy
  // (Coordinator::ForwardNext), where a put of the other writer may land
  // beside it as a sibling that neither writer's reply shows (docs/limits.md,
  // "Conditional puts": the owner failing over). With Connect's 5 s
  // deadline a forward had 1.7 s, which a loaded machine can pass; with
  // 30 s it has 10 s, so only an owner that truly stalls fails over.
  AwaitWritesThroughEveryNode();
  auto writer = [&](int node, int base) {
    std::unique_ptr<Client> client = ClientFor({cluster_.Address(node)}, 30000);
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

TEST_F(PluginsTest, ABucketSetToAPluginThroughTheRingStateIsListedUnderItOnEveryNode) {
  // Polls each node's listing until `plugin` lists exactly `buckets` there.
  auto await = [&](const std::string& plugin, const Json& buckets) {
    for (int node = 1; node <= 3; ++node) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      Json seen;
      while (std::chrono::steady_clock::now() < deadline) {
        seen = PluginsOf(cluster_, node)[plugin]["buckets"];
        if (seen == buckets) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
      }
      EXPECT_EQ(seen, buckets) << plugin << " on node " << node;
    }
  };
  await("gset", Json::array());
  CommandResult set = cluster_.Admin(1, {"bucket", "tags", "--set", "resolver=merge:gset"});
  ASSERT_EQ(set.exit_code, 0) << set.Describe();
  await("gset", Json::array({"tags"}));
  // A bucket moved from one plugin to another leaves the first's list.
  set = cluster_.Admin(2, {"bucket", "top", "--set", "resolver=merge:gset"});
  ASSERT_EQ(set.exit_code, 0) << set.Describe();
  await("gset", Json::array({"tags", "top"}));
  await("max", Json::array());
  // And one set back to siblings leaves every list.
  set = cluster_.Admin(3, {"bucket", "tags", "--set", "resolver=siblings"});
  ASSERT_EQ(set.exit_code, 0) << set.Describe();
  await("gset", Json::array({"top"}));
}

// Issue 13's worker mode through ringkv-cluster: `--plugin-worker` (by file
// name and by stem) reaches every node and is kept in DIR/node-flags.
class PluginWorkerTest : public ClusterTestBase {
 protected:
  void SetUp() override {
    StartCluster({"--plugins", RINGKV_BUILTIN_PLUGINS, "--plugin-worker", "max.so",
                  "--plugin-worker", "gset", "--plugin-worker-deadline-ms", "500", "--bucket",
                  "top:resolver=merge:max"});
  }
};

TEST_F(PluginWorkerTest, AClusterStartedWithWorkerModeMergesConcurrentWritesInTheWorkers) {
  for (int node = 1; node <= 3; ++node) {
    std::map<std::string, Json> plugins = PluginsOf(cluster_, node);
    EXPECT_EQ(plugins["max"]["mode"], "worker") << "node " << node;
    EXPECT_EQ(plugins["gset"]["mode"], "worker") << "node " << node;
    EXPECT_EQ(plugins["min"]["mode"], "in-process") << "node " << node;
    EXPECT_EQ(plugins["max"]["buckets"], Json::array({"top"}));
  }
  for (int node = 1; node <= 3; ++node) {
    for (const char* v : {"5", "12", "7"}) {
      CommandResult r = cluster_.Cli(node, {"put", "top", "score", v, "--w", "1"});
      EXPECT_EQ(r.exit_code, 0) << r.Describe();
    }
  }
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(Ok(node, {"get", "top", "score", "--r", "all"}).out, "12\n") << "node " << node;
  }
  EXPECT_GE(SumOverNodes(cluster_, "ringkv_merge_calls_total", "max"), 1);
  EXPECT_EQ(SumOverNodes(cluster_, "ringkv_merge_failures_total", "max"), 0);

  // A restarted node gets the worker flags again from DIR/node-flags.
  CommandResult restarted = cluster_.Cluster({"restart", "2"});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.Describe();
  EXPECT_EQ(PluginsOf(cluster_, 2)["max"]["mode"], "worker");
  for (const char* v : {"30", "4"}) Ok(2, {"put", "top", "score", v, "--w", "1"});
  EXPECT_EQ(Ok(2, {"get", "top", "score", "--r", "all"}).out, "30\n");
}

TEST(PluginWorkerFlagTest, ANameThatIsNoFileNameIsRefusedBeforeAnythingStarts) {
  LocalClusterFixture cluster(1);
  for (const std::string& bad : std::vector<std::string>{"", "../max.so", "/tmp/max.so",
                                                        "max.so\n--sync=1", std::string(256, 'm')}) {
    CommandResult r = cluster.Start({"--plugins", RINGKV_BUILTIN_PLUGINS, "--plugin-worker", bad});
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_NE(r.err.find("--plugin-worker"), std::string::npos) << r.err;
  }
  CommandResult range = cluster.Start({"--plugin-worker-deadline-ms", "0"});
  EXPECT_EQ(range.exit_code, 2) << range.Describe();
  // Nothing was started, nor saved.
  EXPECT_FALSE(std::filesystem::exists(cluster.dir() + "/node-flags"));
}

}  // namespace
}  // namespace ringkv::testing
