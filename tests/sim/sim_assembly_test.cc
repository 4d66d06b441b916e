// The simulator builds its nodes with the production assembly (node/node.h):
// the record cache sits in each node's storage chain, the incarnation comes
// from the engine's metadata, the registry holds the production figures.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/hash.h"
#include "common/metrics.h"
#include "storage/cached_storage.h"
#include "storage/keys.h"
#include "storage/meta.h"
#include "tests/sim/history.h"
#include "tests/sim/sim_cluster.h"
#include "tests/sim/workload.h"

namespace ringkv::sim {
namespace {

double Sample(const MetricsRegistry& metrics, const std::string& name) {
  for (const MetricSample& s : metrics.Snapshot()) {
    if (s.name == name && s.labels.empty()) return s.value;
  }
  return -1;
}

TEST(SimAssemblyTest, SimulatedNodesRunTheProductionWiring) {
  SimWorld world(7);
  ClusterOptions options;
  options.nodes = 3;
  options.buckets = BucketTable(BucketProps{3, 2, 2, "siblings"});
  SimCluster cluster(&world, options);
  for (int i = 0; i < cluster.size(); ++i) {
    ringkv::Node* node = cluster.node(i);
    ASSERT_NE(node, nullptr);
    EXPECT_TRUE(node->cached());
    EXPECT_NE(dynamic_cast<CachedStorage*>(&node->storage()), nullptr);
    // The incarnation is the one the engine's metadata holds.
    EXPECT_EQ(InitMeta(&cluster.engine(i), 12345).value(), node->incarnation());
    EXPECT_EQ(cluster.incarnation(i), node->incarnation());
  }
  History history;
  Client client(&cluster, &history, 0);
  client.Put(0, "b", "k", "v1", {}, 3, 1000, nullptr);
  world.queue().RunUntil(1'000'000);
  client.Put(0, "b", "k", "v2", {}, 3, 1000, nullptr);
  world.queue().RunUntil(2'000'000);
  ASSERT_EQ(history.Count().ok, 2u);
  // The second put read its key before merging: a hit in the record cache
  // of whichever node coordinated it.
  double hits = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    hits += Sample(cluster.node(i)->metrics(), "ringkv_record_cache_hits_total");
  }
  EXPECT_GE(hits, 1);
}

TEST(SimAssemblyTest, AWipedNodeComesBackWithANewIncarnationFromItsEmptyEngine) {
  SimWorld world(8);
  ClusterOptions options;
  options.nodes = 3;
  SimCluster cluster(&world, options);
  const uint64_t before = cluster.incarnation(1);
  const uint64_t generation = cluster.node(1)->generation();
  cluster.Kill(1, /*power_loss=*/false);
  cluster.Restart(1);
  EXPECT_EQ(cluster.incarnation(1), before);
  EXPECT_GT(cluster.node(1)->generation(), generation);
  cluster.Kill(1, false);
  cluster.Wipe(1);
  cluster.Restart(1);
  EXPECT_NE(cluster.incarnation(1), before);
  EXPECT_GT(cluster.node(1)->generation(), generation);
}

// Rewrites an engine the way storage format 1 laid it out: each object
// under 'o' partition varint32(len(bucket)) bucket key, with an index row
// beside it, and format_version 1.
void RewriteAsFormat1(MemoryStorage* engine) {
  WriteBatch batch;
  ASSERT_TRUE(engine
                  ->Scan(PartitionStart(0), PartitionEnd(UINT32_MAX),
                         [&](std::string_view k, std::string_view v) {
                           uint32_t p = 0;
                           std::string bucket, key;
                           EXPECT_TRUE(ParseObjectKey(k, &p, &bucket, &key).ok());
                           std::string v1 = PartitionStart(p);
                           v1.push_back(static_cast<char>(bucket.size()));  // < 128
                           std::string index = "ai" + v1.substr(1, 4) + std::string(k.substr(5, 2));
                           v1 += bucket + key;
                           index += v1.substr(5);
                           batch.Delete(k);
                           batch.Put(v1, v);
                           batch.Put(index, "format-1 index row");
                           return true;
                         })
                  .ok());
  batch.Put(MetaKey(kMetaFormatVersion), std::string("\x01\x00\x00\x00", 4));
  ASSERT_TRUE(engine->Write(batch, /*sync=*/true).ok());
}

// A node whose directory is in storage format 1 is migrated as it starts:
// it reads back every object it held, its trees are the objects', and an
// exchange finds it equal to its peers.
TEST(SimAssemblyTest, AFormat1DirectoryIsMigratedWhenItsNodeStarts) {
  SimWorld world(10);
  ClusterOptions options;
  options.nodes = 3;
  options.partitions = 8;
  options.buckets = BucketTable(BucketProps{3, 2, 3, "siblings"});
  options.aae.enabled = true;
  SimCluster cluster(&world, options);
  History history;
  Client client(&cluster, &history, 0);
  constexpr int kKeys = 60;
  for (int i = 0; i < kKeys; ++i) {
    client.Put(i % 3, "b", "k" + std::to_string(i), "v" + std::to_string(i), {}, 3, 1000, nullptr);
    world.queue().RunUntil(world.queue().now() + 50'000);
  }
  world.queue().RunUntil(world.queue().now() + 2'000'000);
  ASSERT_EQ(history.Count().ok, static_cast<size_t>(kKeys));
  std::vector<std::optional<Object>> before;
  for (int i = 0; i < kKeys; ++i) {
    auto stored = cluster.ReadStored(1, "b", "k" + std::to_string(i));
    ASSERT_TRUE(stored.ok() && stored->has_value());
    before.push_back(**stored);
  }
  cluster.Kill(1, /*power_loss=*/false);
  RewriteAsFormat1(&cluster.engine(1));
  cluster.Restart(1);
  std::string version;
  ASSERT_TRUE(cluster.engine(1).Get(MetaKey(kMetaFormatVersion), &version).ok());
  EXPECT_EQ(version, std::string("\x02\x00\x00\x00", 4));
  for (int i = 0; i < kKeys; ++i) {
    auto stored = cluster.ReadStored(1, "b", "k" + std::to_string(i));
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    EXPECT_EQ(*stored, before[i]) << i;
  }
  EXPECT_TRUE(cluster.engine(1).Scan("ai", "aj", [](std::string_view, std::string_view) {
    ADD_FAILURE() << "a format-1 index row survived";
    return false;
  }).ok());
  world.queue().RunUntil(world.queue().now() + 10'000'000);
  aae::Trees* trees = cluster.node(1)->anti_entropy().trees();
  for (uint32_t p = 0; p < 8; ++p) {
    ASSERT_NE(trees->Trusted(p), nullptr) << p;
    Result<aae::HashTree> fresh = trees->Recompute(p);
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(*trees->Trusted(p) == *fresh) << p;
    EXPECT_TRUE(*trees->Trusted(p) == *cluster.node(0)->anti_entropy().trees()->Trusted(p)) << p;
  }
}

// A new ring epoch with a fourth member, published into a running cluster:
// gossip starts judging the newcomer and placement sends it its keys.
TEST(SimMembershipTest, ANewEpochWithAFourthMemberIsFollowedByGossipAndPlacement) {
  SimWorld world(9);
  ClusterOptions options;
  options.nodes = 4;
  options.ring_members = 3;
  options.buckets = BucketTable(BucketProps{3, 3, 3, "siblings"});
  SimCluster cluster(&world, options);
  world.queue().RunUntil(5'000'000);
  const NodeId newcomer = cluster.id(3);
  for (int i = 0; i < 3; ++i) {
    const auto& members = cluster.service(i)->gossiper()->members();
    EXPECT_EQ(std::count(members.begin(), members.end(), newcomer), 0) << i;
  }
  // A key the four-member ring places on the newcomer.
  Result<Ring> next = Ring::Create({cluster.id(0), cluster.id(1), cluster.id(2), newcomer},
                                   options.partitions, options.ring_n, /*epoch=*/2);
  ASSERT_TRUE(next.ok());
  std::string key;
  for (int k = 0; key.empty(); ++k) {
    std::string candidate = "k" + std::to_string(k);
    auto p = next->PrimariesFor(KeyHash("b", candidate), 3);
    if (std::find(p.begin(), p.end(), newcomer) != p.end()) key = candidate;
  }
  cluster.PublishRing(*next);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(cluster.service(i)->ring().epoch(), 2u);
  world.queue().RunUntil(15'000'000);
  for (int i = 0; i < 3; ++i) {
    const Gossiper* g = cluster.service(i)->gossiper();
    const auto& members = g->members();
    EXPECT_EQ(std::count(members.begin(), members.end(), newcomer), 1) << i;
    EXPECT_TRUE(g->IsUp(newcomer)) << cluster.id(i) << " has not heard the newcomer";
  }
  History history;
  Client client(&cluster, &history, 0);
  client.Put(0, "b", key, "for-the-newcomer", {}, 3, 2000, nullptr);
  world.queue().RunUntil(20'000'000);
  ASSERT_EQ(history.Count().ok, 1u);
  auto stored = cluster.ReadStored(3, "b", key);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value()) << "the newcomer did not get its key";
  ASSERT_EQ((*stored)->siblings.size(), 1u);
  EXPECT_EQ((*stored)->siblings[0].value, "for-the-newcomer");
}

TEST(SimMembershipTest, AnOlderOrEqualEpochChangesNothing) {
  SimWorld world(10);
  ClusterOptions options;
  options.nodes = 3;
  SimCluster cluster(&world, options);
  Membership& m = cluster.service(0)->membership();
  int told = 0;
  m.Subscribe([&told](const Ring&) { ++told; });
  Result<Ring> same = Ring::Create({cluster.id(0)}, options.partitions, 1, /*epoch=*/1);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(m.Publish(*same, {}));
  EXPECT_EQ(m.ring().members().size(), 3u);
  EXPECT_EQ(told, 0);
}

}  // namespace
}  // namespace ringkv::sim
