// Issue 13, "each of the merge paths collapses concurrent siblings": on
// three simulated nodes built by the production assembly, a bucket that
// resolves by the gset plugin stores a coordinator's write as one value
// (merged under the dot it mints); replicas keep concurrent writes that
// meet in read repair, hint delivery or a replica's merge (the path
// anti-entropy repairs take) under their own dots, every replica storing
// the same bytes, and a read answers their merge as one value.
#include <gtest/gtest.h>

#include "causality/object_codec.h"
#include "common/hash.h"
#include "merge/plugin_catalog.h"
#include "replication/object_store.h"
#include "replication/replica.h"
#include "storage/memory_storage.h"
#include "tests/merge/plugin_test_util.h"
#include "tests/sim/sim_cluster.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {
namespace {

using sim::ClusterOptions;
using sim::SimCluster;
using sim::SimWorld;

constexpr int64_t kSecond = 1'000'000;

class MergePathsTest : public ::testing::Test {
 protected:
  MergePathsTest() {
    LawCheckOptions laws;
    EXPECT_TRUE(catalog_.Load(BuiltinPlugin("gset"), laws).ok());
    BucketTable buckets(BucketProps{3, 2, 2, "siblings"});
    buckets.Set("g", ParseBucketProps("resolver=merge:gset", BucketProps{}).value());
    buckets.set_catalog(&catalog_);
    ClusterOptions options;
    options.nodes = 3;
    options.buckets = buckets;
    cluster_ = std::make_unique<SimCluster>(&world_, options);
  }

  void RunFor(int64_t us) { world_.queue().RunUntil(world_.queue().now() + us); }

  Message Put(const std::string& key, const std::string& value, uint32_t w) {
    PutRequest put;
    put.bucket = "g";
    put.key = key;
    put.value = value;
    put.w = w;
    Message m;
    m.request_id = ++ids_;
    m.timeout_ms = 2000;
    m.body = put;
    return m;
  }

  // Runs a client request on node `i` and returns its reply.
  Message Call(int i, Message request) {
    std::optional<Message> reply;
    cluster_->ClientCall(i, std::move(request), [&](Message m) { reply = std::move(m); });
    for (int step = 0; step < 100 && !reply; ++step) RunFor(100'000);
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(Message{});
  }

  // Stores `object` on node i's engine as it is, merging with nothing: a
  // sibling that node holds and the others never saw.
  void Plant(int i, const std::string& key, const std::string& value) {
    Object o = Update({}, {}, Actor{cluster_->id(i), cluster_->incarnation(i)},
                      world_.queue().now(), false, value);
    ObjectStore store(&cluster_->engine(i), false);
    ASSERT_TRUE(store.Put(cluster_->ring().PartitionOf(KeyHash("g", key)), "g", key, o).ok());
  }

  Object Stored(int i, const std::string& key) {
    Result<std::optional<Object>> o = cluster_->ReadStored(i, "g", key);
    EXPECT_TRUE(o.ok() && o->has_value()) << "node " << i;
    return o.ok() && o->has_value() ? **o : Object{};
  }

  // What a read answers for `stored`: its values merged into one.
  std::string Answered(const Object& stored) {
    const Object answer = catalog_.Find("merge:gset", 0, "")->Answer(stored);
    EXPECT_EQ(answer.Values().size(), 1u);
    return answer.Values().empty() ? "" : answer.Values()[0]->value;
  }

  // Every node stores `siblings` siblings, in the same bytes, that a read
  // answers as `value`.
  void ExpectEverywhere(const std::string& key, size_t siblings, const std::string& value) {
    const std::string bytes = EncodeObject(Stored(0, key));
    for (int i = 0; i < 3; ++i) {
      const Object o = Stored(i, key);
      ASSERT_EQ(o.siblings.size(), siblings) << "node " << i;
      EXPECT_EQ(Answered(o), value) << "node " << i;
      EXPECT_EQ(EncodeObject(o), bytes) << "node " << i;
    }
  }

  ManualClock clock_;
  MetricsRegistry metrics_;
  PluginCatalog catalog_{&clock_, &metrics_};
  SimWorld world_{13};
  std::unique_ptr<SimCluster> cluster_;
  uint64_t ids_ = 0;
};

TEST_F(MergePathsTest, CoordinatorWrite) {
  RunFor(3 * kSecond);
  for (const char* v : {"a\n", "b\n", "c\n"}) {
    Message reply = Call(0, Put("w", v, 3));
    ASSERT_TRUE(std::get<PutReply>(reply.body).status.ok());
  }
  RunFor(kSecond);
  ExpectEverywhere("w", 1, "a\nb\nc\n");
}

TEST_F(MergePathsTest, ReadAndReadRepair) {
  RunFor(3 * kSecond);
  for (int i = 0; i < 3; ++i) Plant(i, "r", "r" + std::to_string(i) + "\n");
  Message get;
  get.request_id = ++ids_;
  get.timeout_ms = 2000;
  get.body = GetRequest{"g", "r", 3, kQuorumDefault};
  Message reply = Call(1, get);
  const GetReply& answer = std::get<GetReply>(reply.body);
  ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  // Read: the answer is one value.
  ASSERT_EQ(answer.object.siblings.size(), 1u);
  EXPECT_EQ(answer.object.siblings[0].value, "r0\nr1\nr2\n");
  // Read repair: every replica now stores all three writes.
  RunFor(kSecond);
  ExpectEverywhere("r", 3, "r0\nr1\nr2\n");
}

TEST_F(MergePathsTest, HintDelivery) {
  RunFor(3 * kSecond);
  Plant(2, "h", "h2\n");
  cluster_->network().Isolate(2);
  RunFor(10 * kSecond);
  Message reply = Call(0, Put("h", "h0\n", 2));
  ASSERT_TRUE(std::get<PutReply>(reply.body).status.ok());
  EXPECT_EQ(Stored(2, "h").siblings[0].value, "h2\n");
  cluster_->network().HealAll();
  // Detection of the healed node, then delivery at the hint rate.
  for (int step = 0; step < 60 && Stored(2, "h").siblings.size() < 2; ++step) RunFor(kSecond);
  const Object delivered = Stored(2, "h");
  ASSERT_EQ(delivered.siblings.size(), 2u);
  EXPECT_EQ(Answered(delivered), "h0\nh2\n");
}

TEST_F(MergePathsTest, ReplicaMergeWhichAntiEntropyRepairsUse) {
  MemoryStorage storage;
  ObjectStore store(&storage, false);
  BucketTable buckets;
  buckets.Set("g", ParseBucketProps("resolver=merge:gset", BucketProps{}).value());
  buckets.set_catalog(&catalog_);
  Replica replica(Actor{"n1", 1}, &buckets, &store);
  ASSERT_TRUE(replica.Coordinate(0, "g", "k", {}, false, "mine\n", 1, {}).ok());
  const Object theirs = Update({}, {}, Actor{"n2", 1}, 2, false, "theirs\n");
  Result<Object> merged = replica.Merge(0, "g", "k", theirs);
  ASSERT_TRUE(merged.ok());
  ASSERT_EQ(merged->siblings.size(), 2u);
  EXPECT_EQ(Answered(*merged), "mine\ntheirs\n");
  Result<std::optional<Object>> stored = replica.Read(0, "g", "k");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, *merged);
}

}  // namespace
}  // namespace ringkv::testing
