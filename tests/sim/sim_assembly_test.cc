// The simulator builds its nodes with the production assembly (node/node.h):
// the record cache sits in each node's storage chain, the incarnation comes
// from the engine's metadata, the registry holds the production figures.
#include <gtest/gtest.h>

#include "common/metrics.h"
#include "storage/cached_storage.h"
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
  options.buckets = BucketTable(BucketProps{3, 2, 2, ResolverKind::kSiblings});
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

}  // namespace
}  // namespace ringkv::sim
