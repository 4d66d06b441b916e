// Exchanges between simulated nodes built by the production assembly
// (node/node.h): one differing key among many is found and repaired alone,
// within the byte budget the nodes' own counters show; identical replicas
// cost one small round trip; keys missing on either side, tombstones
// included, are copied both ways through the replica merge; hostile
// exchange requests are refused. AAE_KEYS=1000000 runs the large case.
#include <gtest/gtest.h>

#include <cstdlib>

#include "antientropy/anti_entropy.h"
#include "causality/object.h"
#include "common/hash.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {
namespace {

double Counter(const MetricsRegistry& metrics, const std::string& name,
               const MetricLabels& labels = {}) {
  double sum = 0;
  for (const MetricSample& s : metrics.Snapshot()) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& l : labels) {
      match &= std::find(s.labels.begin(), s.labels.end(), l) != s.labels.end();
    }
    if (match) sum += s.value;
  }
  return sum;
}

// Every anti-entropy byte the nodes counted: exchange frames each sent,
// and the repair traffic the initiator made.
double AaeBytes(SimCluster& cluster) {
  double sum = 0;
  for (int i = 0; i < cluster.size(); ++i) {
    sum += Counter(cluster.node(i)->metrics(), "ringkv_aae_sent_bytes_total") +
           Counter(cluster.node(i)->metrics(), "ringkv_aae_repair_bytes_total");
  }
  return sum;
}

class ExchangeTest : public ::testing::Test {
 protected:
  void Build(int nodes, uint32_t partitions) {
    ClusterOptions options;
    options.nodes = nodes;
    options.partitions = partitions;
    options.ring_n = static_cast<uint32_t>(nodes);
    options.buckets = BucketTable(BucketProps{static_cast<uint32_t>(nodes), 1, 1, "siblings"});
    options.sync_writes = false;
    options.object_cache_bytes = 0;
    options.aae.enabled = true;
    // Exchanges only when a test asks for one.
    options.aae.interval_us = int64_t{3600} * 1'000'000;
    options.aae.confirm_pause_us = 10'000;
    cluster_ = std::make_unique<SimCluster>(&world_, options);
    RunFor(1'000'000);
  }

  void RunFor(int64_t us) { world_.queue().RunUntil(world_.now() + us); }

  uint32_t PartitionOf(const std::string& key) {
    return cluster_->ring().PartitionOf(KeyHash("b", key));
  }

  Object NewObject(const std::string& value, bool tombstone = false) {
    ++ts_;
    return Update(Object{}, VersionVector(), Actor{"writer", 1}, ts_, tombstone, value,
                  WriteId{7, static_cast<uint64_t>(ts_)});
  }

  // Stores `object` under `key` on node i alone, through its replica (and
  // so its index and tree), as a write that reached only that node.
  void Plant(int i, const std::string& key, const Object& object) {
    ASSERT_TRUE(
        cluster_->service(i)->replica().Merge(PartitionOf(key), "b", key, object).ok());
  }

  AaeExchangeReply Exchange(int from, int to, uint32_t partition) {
    std::optional<AaeExchangeReply> reply;
    cluster_->node(from)->anti_entropy().ExchangeNow(
        partition, cluster_->id(to), [&reply](AaeExchangeReply r) { reply = std::move(r); });
    for (int i = 0; i < 6000 && !reply; ++i) RunFor(10'000);
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(AaeExchangeReply{Status::Timeout("no reply")});
  }

  std::optional<Object> Stored(int i, const std::string& key) {
    auto o = cluster_->ReadStored(i, "b", key);
    EXPECT_TRUE(o.ok());
    return o.ok() ? *o : std::nullopt;
  }

  SimWorld world_{11};
  std::unique_ptr<SimCluster> cluster_;
  int64_t ts_ = 0;
};

TEST_F(ExchangeTest, OneDifferingKeyAmongManyIsTheOneRepairedWithinTheByteBudget) {
  const char* env = std::getenv("AAE_KEYS");
  const int keys = env != nullptr ? std::atoi(env) : 100'000;
  Build(2, 1);
  for (int k = 0; k < keys; ++k) {
    const std::string key = "key" + std::to_string(k);
    const Object o = NewObject("value " + key);
    Plant(0, key, o);
    Plant(1, key, o);
  }
  RunFor(100'000);
  // Identical replicas: one small round trip, nothing repaired.
  double before = AaeBytes(*cluster_);
  AaeExchangeReply same = Exchange(0, 1, 0);
  ASSERT_TRUE(same.status.ok()) << same.status.ToString();
  EXPECT_EQ(same.keys_differing, 0u);
  EXPECT_EQ(same.keys_repaired, 0u);
  const double identical = AaeBytes(*cluster_) - before;
  // Issue 11: under 200 bytes. The root pair goes in canonical form
  // (docs/wire-protocol.md), without the envelope's empty pointers.
  EXPECT_LT(identical, 200) << identical;
  EXPECT_LT(same.bytes, 200u);

  const std::string key = "key" + std::to_string(keys / 2);
  Object newer = Update(*Stored(0, key), Stored(0, key)->context, Actor{"writer", 1}, ++ts_,
                        false, "newer", WriteId{7, static_cast<uint64_t>(ts_)});
  Plant(0, key, newer);
  before = AaeBytes(*cluster_);
  AaeExchangeReply one = Exchange(1, 0, 0);
  ASSERT_TRUE(one.status.ok()) << one.status.ToString();
  EXPECT_EQ(one.segments_differing, 1u);
  EXPECT_EQ(one.keys_differing, 1u);
  EXPECT_EQ(one.keys_repaired, 1u);
  const double differing = AaeBytes(*cluster_) - before;
  EXPECT_LT(differing, 16 * 1024) << differing;
  std::printf("aae: %d keys; identical replicas %.0f bytes; one differing key %.0f bytes\n",
              keys, identical, differing);
  ASSERT_TRUE(Stored(1, key).has_value());
  EXPECT_EQ(*Stored(1, key), newer);
  EXPECT_EQ(Counter(cluster_->node(1)->metrics(), "ringkv_aae_keys_repaired_total"), 1);
  // And now they agree.
  AaeExchangeReply after = Exchange(0, 1, 0);
  EXPECT_EQ(after.keys_differing, 0u);
  EXPECT_EQ(*cluster_->node(0)->anti_entropy().trees()->Trusted(0),
            *cluster_->node(1)->anti_entropy().trees()->Trusted(0));
}

TEST_F(ExchangeTest, MissingKeysAndTombstonesAreCopiedBothWaysAndConcurrentOnesMerged) {
  Build(3, 4);
  std::map<std::string, Object> on0, on1;
  for (int k = 0; k < 200; ++k) {
    const std::string key = "k" + std::to_string(k);
    const Object o = NewObject("v" + key);
    for (int i = 0; i < 3; ++i) Plant(i, key, o);
  }
  // Only node 0 has a0..a9, only node 1 has b0..b9; c0 is deleted on node 0
  // only; d0 written concurrently on both.
  for (int k = 0; k < 10; ++k) {
    Plant(0, "a" + std::to_string(k), NewObject("only on 0"));
    Plant(1, "b" + std::to_string(k), NewObject("only on 1"));
  }
  const Object deleted = Update(*Stored(0, "k5"), Stored(0, "k5")->context, Actor{"writer", 1},
                                ++ts_, true, "", WriteId{7, static_cast<uint64_t>(ts_)});
  Plant(0, "k5", deleted);
  Plant(0, "d0", NewObject("left"));
  Plant(1, "d0", NewObject("right"));
  RunFor(100'000);
  for (uint32_t p = 0; p < 4; ++p) {
    AaeExchangeReply r = Exchange(0, 1, p);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  }
  for (int k = 0; k < 10; ++k) {
    EXPECT_TRUE(Stored(1, "a" + std::to_string(k)).has_value());
    EXPECT_TRUE(Stored(0, "b" + std::to_string(k)).has_value());
  }
  ASSERT_TRUE(Stored(1, "k5").has_value());
  EXPECT_TRUE(Stored(1, "k5")->IsDeleted());
  EXPECT_EQ(Stored(0, "d0")->siblings.size(), 2u);
  EXPECT_EQ(*Stored(0, "d0"), *Stored(1, "d0"));
  for (uint32_t p = 0; p < 4; ++p) {
    EXPECT_EQ(*cluster_->node(0)->anti_entropy().trees()->Trusted(p),
              *cluster_->node(1)->anti_entropy().trees()->Trusted(p));
    EXPECT_GT(cluster_->node(0)->anti_entropy().last_clean().count({p, cluster_->id(1)}), 0u);
  }
  // Node 2 was not part of it: it still lacks them.
  EXPECT_FALSE(Stored(2, "a0").has_value());
}

TEST_F(ExchangeTest, HostileExchangeRequestsAreRefused) {
  Build(2, 4);
  PeerRpc& rpc = cluster_->service(0)->rpc();
  std::vector<Status> answers;
  auto ask = [&](MessageBody body) {
    rpc.Call(cluster_->id(1), std::move(body), cluster_->clock(0).MonoMicros() + 1'000'000,
             [&answers](Result<MessageBody> r) {
               if (!r.ok()) return answers.push_back(r.status());
               std::visit(
                   [&answers](const auto& m) {
                     if constexpr (requires { m.status; }) answers.push_back(m.status);
                   },
                   *r);
             });
  };
  ask(AaeRootRequest{0, 99, aae::kHashVersion, 0});                 // another shape
  ask(AaeRootRequest{1000, aae::kShape, aae::kHashVersion, 0});     // no such partition
  ask(AaeBranchRequest{0, aae::kShape, aae::kHashVersion, {300}});  // no such branch
  ask(AaeBranchRequest{0, aae::kShape, aae::kHashVersion, std::vector<uint32_t>(1000, 1)});
  ask(AaeKeysRequest{0, aae::kShape, aae::kHashVersion, std::vector<uint32_t>(129, 1)});
  ask(AaeKeysRequest{0, aae::kShape, aae::kHashVersion, {70000}});
  RunFor(500'000);
  ASSERT_EQ(answers.size(), 6u);
  for (const Status& s : answers) EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(Counter(cluster_->node(1)->metrics(), "ringkv_aae_requests_refused_total"), 6);
  // A peer's forged key list is not repaired on its word: keys outside the
  // segments asked for are ignored (checked by the exchange), and the node
  // keeps serving.
  AaeExchangeReply r = Exchange(0, 1, 0);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
}

TEST_F(ExchangeTest, AnUntrustedTreeTakesNoPartAndACrashedNodeRebuildsToARecount) {
  Build(2, 2);
  for (int k = 0; k < 3000; ++k) {
    const std::string key = "k" + std::to_string(k);
    const Object o = NewObject(key);
    Plant(0, key, o);
    Plant(1, key, o);
  }
  cluster_->Kill(1, /*power_loss=*/false);
  cluster_->Restart(1);
  // Before its rebuild finishes, the restarted node refuses to exchange.
  aae::Trees* trees = cluster_->node(1)->anti_entropy().trees();
  EXPECT_EQ(trees->Trusted(0), nullptr);
  RunFor(2'000'000);
  for (uint32_t p = 0; p < 2; ++p) {
    ASSERT_NE(trees->Trusted(p), nullptr);
    EXPECT_EQ(*trees->Trusted(p), trees->Recompute(p).value());
    EXPECT_EQ(*trees->Trusted(p), *cluster_->node(0)->anti_entropy().trees()->Trusted(p));
  }
}

}  // namespace
}  // namespace ringkv::sim
