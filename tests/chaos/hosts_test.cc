// Per-node loopback addresses (ringkv-cluster --distinct-hosts): each node
// serves on its own address and its peer connections leave from it, so a
// firewall rule between two addresses cuts exactly one pair; and
// ringkv-cluster refuses a base port inside the kernel's ephemeral range.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "tests/chaos/cluster.h"
#include "tests/chaos/netfilter.h"
#include "tests/integration/harness.h"
#include "tools/local_cluster.h"

namespace ringkv::chaos {
namespace {

using ringkv::testing::CommandResult;
using ringkv::testing::LocalClusterFixture;
using std::chrono::milliseconds;

constexpr int kExitUsage = 2;

// Established TCP connections as "local host -> remote host:port", e.g.
// "127.0.0.2 -> 127.0.0.3:21002", from /proc/net/tcp.
std::set<std::string> EstablishedConnections() {
  std::set<std::string> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  auto endpoint = [](const std::string& hex) {
    const uint32_t addr = static_cast<uint32_t>(std::stoul(hex.substr(0, 8), nullptr, 16));
    const int port = std::stoi(hex.substr(9, 4), nullptr, 16);
    char text[INET_ADDRSTRLEN];
    in_addr a{addr};  // already in network order, as the kernel prints it
    inet_ntop(AF_INET, &a, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(port);
  };
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state != "01") continue;
    const std::string from = endpoint(local);
    out.insert(from.substr(0, from.find(':')) + " -> " + endpoint(remote));
  }
  return out;
}

std::string Joined(const std::set<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += s + "\n";
  return out;
}

TEST(DistinctHostsTest, EachNodeServesOnItsOwnAddressAndConnectsFromIt) {
  LocalClusterFixture cluster(3);
  CommandResult start = cluster.Start({"--distinct-hosts"});
  ASSERT_EQ(start.exit_code, 0) << start.Describe() << cluster.LogTails();
  const uint16_t base = cluster.base_port();
  CommandResult status = cluster.Cluster({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  const nlohmann::json nodes = nlohmann::json::parse(status.out);
  ASSERT_EQ(nodes.size(), 3u);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(nodes[i - 1]["address"], LocalNodeAddress(base, i, true)) << status.out;
    EXPECT_EQ(nodes[i - 1]["state"], "up") << status.out;
  }
  // Every node gossips with every other one, each over its own connection,
  // which must leave from the node's own address.
  std::set<std::string> want;
  for (int from = 1; from <= 3; ++from) {
    for (int to = 1; to <= 3; ++to) {
      if (from == to) continue;
      want.insert("127.0.0." + std::to_string(from + 1) + " -> " +
                  LocalNodeAddress(base, to, true));
    }
  }
  std::set<std::string> missing;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    const std::set<std::string> seen = EstablishedConnections();
    missing.clear();
    for (const std::string& w : want) {
      if (seen.count(w) == 0) missing.insert(w);
    }
    if (missing.empty()) break;
    std::this_thread::sleep_for(milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(missing.empty()) << "peer connections not seen:\n"
                               << Joined(missing) << "established:\n"
                               << Joined(EstablishedConnections());

  // The cluster is started again as it was; asking for shared addresses
  // instead is a conflict with its cluster file.
  CommandResult again = cluster.Start();
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  CommandResult differ = cluster.Cluster({"start", "--distinct-hosts=false"});
  EXPECT_EQ(differ.exit_code, kExitUsage) << differ.Describe();
  EXPECT_NE(differ.err.find("already holds a cluster with n1 at 127.0.0.2"), std::string::npos)
      << differ.Describe();
}

TEST(DistinctHostsTest, BasePortInsideTheEphemeralRangeIsRefused) {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (!(range >> low >> high) || high - low < 200) GTEST_SKIP() << "no usable ephemeral range";
  testing::TempDir dir;
  const std::string cluster_dir = dir.path() + "/cluster";
  CommandResult r =
      testing::RunCommand({testing::BinaryPath("tools/ringkv-cluster"), "start", "--nodes", "3",
                           "--dir", cluster_dir, "--base-port", std::to_string(low + 100),
                           "--node-binary", testing::BinaryPath("node/ringkv-node")});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("ephemeral port range"), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.Describe();
  EXPECT_FALSE(std::filesystem::exists(cluster_dir + "/cluster.toml"));
}

// A write through `node` that every primary must acknowledge (N = 3 on 3
// nodes: all of them), within `timeout_ms`.
Status PutToAll(const ChaosCluster& cluster, int node, const std::string& key,
                uint32_t timeout_ms) {
  ClientOptions options;
  options.nodes = {cluster.Address(node)};
  options.timeout_ms = timeout_ms;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  WriteOptions write;
  write.w = kQuorumAll;
  return (*client)->Put("b", key, "v", write).status();
}

// Gossip carries heartbeats from node to node, so a cut pair still hears of
// each other through the third node: what shows the cut is a write that
// needs a reply straight from a node across it.
TEST(PartitionTest, ARuleBetweenTwoAddressesCutsExactlyThatPair) {
  Result<std::unique_ptr<Netfilter>> netfilter = Netfilter::Open();
  if (!netfilter.ok()) {
    GTEST_SKIP() << "PARTITIONS NOT TESTED: " << netfilter.status().message();
  }
  ChaosClusterOptions options;
  options.nodes = 3;
  Result<std::string> binary = FindNodeBinary("");
  ASSERT_TRUE(binary.ok()) << binary.status().message();
  options.node_binary = *binary;
  Result<std::unique_ptr<ChaosCluster>> cluster = ChaosCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status().message();
  const ChaosCluster& c = **cluster;
  for (int node = 1; node <= 3; ++node) {
    Status st = PutToAll(c, node, "before", 5'000);
    ASSERT_TRUE(st.ok()) << "n" << node << ": " << st.ToString() << "\n" << c.LogTails();
  }

  ASSERT_TRUE((*netfilter)->Cut(c.EndpointOf(1), c.EndpointOf(2)).ok());
  // n3 still reaches both; n1 and n2 no longer reach each other.
  Status through_n3 = PutToAll(c, 3, "cut", 5'000);
  EXPECT_TRUE(through_n3.ok()) << through_n3.ToString() << "\n" << c.LogTails();
  EXPECT_TRUE(PutToAll(c, 1, "cut", 1'000).IsUnavailable());
  EXPECT_TRUE(PutToAll(c, 2, "cut", 1'000).IsUnavailable());

  ASSERT_TRUE((*netfilter)->HealAll().ok());
  // TCP resends what the rules dropped once its retransmission timer fires.
  // A fresh key per try: a blind put that timed out may still have been
  // stored, and a hundred of them on one key would pass its sibling cap.
  Status healed;
  int tries = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    healed = PutToAll(c, 1, "healed-" + std::to_string(tries++), 1'000);
  } while (!healed.ok() && std::chrono::steady_clock::now() < deadline);
  EXPECT_TRUE(healed.ok()) << healed.ToString() << "\n" << c.LogTails();
}

}  // namespace
}  // namespace ringkv::chaos
