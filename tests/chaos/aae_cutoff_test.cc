// Issue 11's cut-off replica on real processes: n3 is cut off from n1 and n2
// (iptables, tests/chaos/netfilter.h) while keys are written past it, a
// tenth of them deletes of keys it holds and a twentieth also written on its
// side; healed with hinted handoff off. Then within two exchange cycles
// every tree agrees and every replica holds the causal merge (two siblings
// where both sides wrote), no deleted key comes back, and reaping removes
// every tombstone from every replica. Prints the exchanges the heal took and
// the nodes' LevelDB sizes before and after reaping.
//
// The run in `make test` writes 2,000 keys (200 deleted, 100 on both
// sides); `make soak` runs the size (RINGKV_AAE_CUTOFF_KEYS=10000).
// Without root or iptables it skips, loudly.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/client.h"
#include "tests/chaos/cluster.h"
#include "tests/chaos/netfilter.h"
#include "tests/integration/harness.h"

namespace ringkv::chaos {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kBucket[] = "b";
constexpr uint32_t kPartitions = 16;
constexpr auto kPoll = milliseconds(100);
constexpr int kExitBusy = 4;

int KeysToWrite() {
  const char* env = std::getenv("RINGKV_AAE_CUTOFF_KEYS");
  const int keys = env != nullptr ? std::atoi(env) : 0;
  return keys >= 100 ? keys : 2000;
}

std::string Name(int k) { return "k" + std::to_string(k); }

class AaeCutOffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Netfilter>> netfilter = Netfilter::Open();
    if (!netfilter.ok()) GTEST_SKIP() << "PARTITIONS NOT TESTED: " << netfilter.status().message();
    netfilter_ = std::move(netfilter).value();
    ChaosClusterOptions options;
    options.nodes = 3;
    options.n = 3;
    options.partitions = kPartitions;
    options.node_flags = {{"--gossip-interval-ms", "100"},
                          {"--aae-interval-ms", "100"},
                          {"--hinted-handoff", "off"}};
    Result<std::string> binary = FindNodeBinary("");
    ASSERT_TRUE(binary.ok()) << binary.status().message();
    options.node_binary = *binary;
    Result<std::unique_ptr<ChaosCluster>> cluster = ChaosCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status().message();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->WaitAllServing(std::chrono::seconds(20)).ok()) << cluster_->LogTails();
  }

  std::unique_ptr<Client> ClientOf(int node) {
    ClientOptions options;
    options.nodes = {cluster_->Address(node)};
    options.timeout_ms = 2000;
    Result<std::unique_ptr<Client>> client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  testing::CommandResult Admin(int node, std::vector<std::string> args) {
    args.insert(args.begin(), {testing::BinaryPath("tools/ringkv-admin"), "--node",
                               cluster_->Address(node), "--timeout", "30000"});
    return testing::RunCommand(args);
  }

  Json AdminJson(int node, const std::vector<std::string>& args) {
    testing::CommandResult r = Admin(node, args);
    for (int tries = 0; r.exit_code == kExitBusy && tries < 100; ++tries) {
      std::this_thread::sleep_for(milliseconds(20));  // poll interval: busy with an exchange
      r = Admin(node, args);
    }
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    return r.exit_code == 0 && j.is_object() ? j : Json();
  }

  // Partition -> root of each trusted tree of the node.
  std::map<int, std::string> Roots(int node) {
    std::map<int, std::string> roots;
    Json s = AdminJson(node, {"aae", "status", "--json"});
    if (s.is_null()) return roots;
    for (const Json& p : s["partitions"]) {
      if (p["state"] == "trusted") roots[p["partition"].get<int>()] = p["root"];
    }
    return roots;
  }

  double Metric(int node, const std::string& name) {
    Json j = AdminJson(node, {"status", "--json"});
    double sum = 0;
    if (j.is_null()) return -1;
    for (const Json& m : j["metrics"]) {
      if (m["name"] == name) sum += m["value"].get<double>();
    }
    return sum;
  }

  double Exchanges() {
    double n = 0;
    for (int i = 1; i <= 3; ++i) n += Metric(i, "ringkv_aae_exchanges_total");
    return n;
  }

  uint64_t DataBytes(int node) {
    uint64_t n = 0;
    std::error_code ec;
    const std::string dir = cluster_->dir() + "/n" + std::to_string(node) + "/data";
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec)) n += entry.file_size(ec);
    }
    return n;
  }

  std::unique_ptr<Netfilter> netfilter_;
  std::unique_ptr<ChaosCluster> cluster_;
};

TEST_F(AaeCutOffTest, ACutOffReplicaHealsWithinTwoCyclesAndReapedTombstonesAreGoneEverywhere) {
  const int keys = KeysToWrite(), deleted = keys / 10, concurrent_from = keys - keys / 20;
  std::unique_ptr<Client> main_side = ClientOf(1);
  std::unique_ptr<Client> cut_side = ClientOf(3);
  ASSERT_TRUE(main_side && cut_side);
  WriteOptions all;
  all.w = kQuorumAll;
  for (int k = 0; k < deleted; ++k) {
    ASSERT_TRUE(main_side->Put(kBucket, Name(k), "before " + Name(k), all).ok()) << Name(k);
  }
  for (int other : {1, 2}) {
    ASSERT_TRUE(netfilter_->Cut(cluster_->EndpointOf(3), cluster_->EndpointOf(other)).ok());
  }
  WriteOptions two;
  two.w = 2;
  WriteOptions one;
  one.w = 1;
  const auto written_from = steady_clock::now();
  for (int k = 0; k < keys; ++k) {
    Result<PutResult> r = k < deleted ? main_side->Delete(kBucket, Name(k), two)
                                      : main_side->Put(kBucket, Name(k), "main " + Name(k), two);
    ASSERT_TRUE(r.ok()) << Name(k) << ": " << r.status().ToString();
    if (k >= concurrent_from) {
      Result<PutResult> c = cut_side->Put(kBucket, Name(k), "cut " + Name(k), one);
      ASSERT_TRUE(c.ok()) << Name(k) << " on n3: " << c.status().ToString();
    }
  }
  std::cout << "[figures] " << keys << " keys written past n3 (" << deleted << " deletes, "
            << keys - concurrent_from << " also on n3) in "
            << std::chrono::duration<double>(steady_clock::now() - written_from).count()
            << " s\n";

  // The nodes' LevelDB directories holding every tombstone (n3 holds the
  // values the deletes were of): before the heal, so before any reaping.
  uint64_t before[4], after[4];
  for (int i = 1; i <= 3; ++i) before[i] = DataBytes(i);
  ASSERT_TRUE(netfilter_->HealAll().ok());
  const double exchanges_at_heal = Exchanges();
  const auto healed = steady_clock::now();
  bool agree = false;
  while (!agree && steady_clock::now() < healed + std::chrono::seconds(120)) {
    const std::map<int, std::string> first = Roots(1);
    agree = first.size() == kPartitions && Roots(2) == first && Roots(3) == first;
    if (!agree) std::this_thread::sleep_for(kPoll);  // poll interval
  }
  ASSERT_TRUE(agree) << "trees never agreed\n" << cluster_->LogTails();
  // A cycle: each node exchanges each of its 16 partitions with its 2 peers.
  const double cycle = 3.0 * kPartitions * 2;
  const double cycles = (Exchanges() - exchanges_at_heal) / cycle;
  std::cout << "[figures] trees agree "
            << std::chrono::duration<double>(steady_clock::now() - healed).count()
            << " s after the heal, after " << cycles << " exchange cycles\n";
  EXPECT_LE(cycles, 2.0) << "more than two exchange cycles";

  for (int k = 0; k < keys; ++k) {
    KeyState state = cluster_->ReadKey(kBucket, Name(k), milliseconds(2000));
    ASSERT_TRUE(Converged(state)) << Name(k);
    const ReplicaRead& r = state.replicas[0];
    if (k < deleted) {
      // A tombstone, or already reaped by a scheduled round.
      EXPECT_TRUE(!r.found || r.object.IsDeleted()) << Name(k) << " is not a tombstone";
    } else {
      ASSERT_TRUE(r.found) << Name(k);
      EXPECT_EQ(r.object.Values().size(), k >= concurrent_from ? 2u : 1u) << Name(k);
    }
  }

  auto reaped_everywhere = [this] {
    double n = 0;
    for (int i = 1; i <= 3; ++i) n += Metric(i, "ringkv_aae_tombstones_reaped_total");
    return n;
  };
  const double reaped_before = reaped_everywhere();
  // Passes on every node until every tombstone went from every replica;
  // the first may only drop the hints the tombstones cover (hinted handoff
  // is off, so n1 kept those it wrote for n3).
  for (int pass = 0; pass < 4 && reaped_everywhere() < 3.0 * deleted; ++pass) {
    for (int i = 1; i <= 3; ++i) {
      Json j = AdminJson(i, {"aae", "reap", "--json"});
      ASSERT_FALSE(j.is_null());
      for (const Json& p : j["partitions"]) EXPECT_EQ(p["result"], "done") << p.dump();
    }
  }
  EXPECT_EQ(reaped_everywhere(), 3.0 * deleted);
  std::cout << "[figures] " << reaped_before << " tombstone copies reaped by the schedule "
            << "before the forced passes\n";
  // Another full cycle of exchanges brings nothing back.
  const double exchanges_at_reap = Exchanges();
  while (Exchanges() < exchanges_at_reap + cycle &&
         steady_clock::now() < healed + std::chrono::seconds(240)) {
    std::this_thread::sleep_for(kPoll);  // poll interval
  }
  for (int k = 0; k < keys; ++k) {
    KeyState state = cluster_->ReadKey(kBucket, Name(k), milliseconds(2000));
    for (const ReplicaRead& r : state.replicas) {
      ASSERT_TRUE(r.answered) << Name(k) << " on n" << r.node;
      if (k < deleted) {
        EXPECT_FALSE(r.found) << Name(k) << " is back on n" << r.node;
      } else {
        EXPECT_TRUE(r.found && !r.object.IsDeleted()) << Name(k) << " on n" << r.node;
      }
    }
  }
  for (int i = 1; i <= 3; ++i) after[i] = DataBytes(i);
  for (int i = 1; i <= 3; ++i) {
    std::cout << "[figures] n" << i << " LevelDB directory " << before[i]
              << " bytes before the heal, " << after[i]
              << " after the heal, the reaping and one more exchange cycle\n";
  }
  // A last pass finds nothing left, and the status says so.
  Json last = AdminJson(1, {"aae", "reap", "--json"});
  ASSERT_FALSE(last.is_null());
  for (const Json& p : last["partitions"]) EXPECT_EQ(p["checked"], 0) << p.dump();
  Json status = AdminJson(1, {"aae", "status", "--json"});
  ASSERT_FALSE(status.is_null());
  for (const Json& p : status["partitions"]) {
    EXPECT_EQ(p["tombstones_pending"], 0) << p.dump();
  }
}

}  // namespace
}  // namespace ringkv::chaos
