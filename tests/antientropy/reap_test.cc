// Reaping tombstones (docs/anti-entropy.md, "Reaping tombstones") between
// simulated nodes built by the production assembly: a tombstone every
// replica holds goes from all of them; one a replica lacks, or that a hint
// could undo, stays; a write to a reaped key outranks its old tombstone,
// across a restart; hostile reap requests are refused. And the issue's
// cut-off replica: 10,000 keys written past it (1,000 of them deletes, 500
// also written on its side), healed by anti-entropy alone.
#include <gtest/gtest.h>

#include <map>

#include "antientropy/anti_entropy.h"
#include "antientropy/hashing.h"
#include "causality/object.h"
#include "causality/object_codec.h"
#include "common/hash.h"
#include "replication/hint_store.h"
#include "storage/keys.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {
namespace {

double Counter(const MetricsRegistry& metrics, const std::string& name) {
  double sum = 0;
  for (const MetricSample& s : metrics.Snapshot()) {
    if (s.name == name) sum += s.value;
  }
  return sum;
}

class ReapTest : public ::testing::Test {
 protected:
  void Build(int nodes, uint32_t partitions, int64_t interval_us = int64_t{3600} * 1'000'000,
             bool deliver_hints = true, int ring_n = 0) {
    ClusterOptions options;
    options.deliver_hints = deliver_hints;
    options.nodes = nodes;
    options.partitions = partitions;
    const uint32_t n = static_cast<uint32_t>(ring_n > 0 ? ring_n : nodes);
    options.ring_n = n;
    options.buckets = BucketTable(BucketProps{n, 1, 1, "siblings"});
    options.sync_writes = false;
    options.object_cache_bytes = 0;
    options.aae.enabled = true;
    options.aae.interval_us = interval_us;
    options.aae.confirm_pause_us = 10'000;
    options.aae.repair_objects_per_sec = 1e6;
    options.aae.repair_bytes_per_sec = 1e9;
    cluster_ = std::make_unique<SimCluster>(&world_, options);
    RunFor(1'000'000);
  }

  void RunFor(int64_t us) { world_.queue().RunUntil(world_.now() + us); }

  uint32_t PartitionOf(const std::string& key) {
    return cluster_->ring().PartitionOf(KeyHash("b", key));
  }

  // A write coordinated by node i (its actor mints the dot) over what it
  // holds, with `context` as the client's.
  Object Write(int i, const std::string& key, const VersionVector& context, bool tombstone,
               const std::string& value) {
    ++ts_;
    Result<Object> r = cluster_->service(i)->replica().Coordinate(
        PartitionOf(key), "b", key, context, tombstone, value, ts_,
        WriteId{9, static_cast<uint64_t>(ts_)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Object{};
  }

  void Plant(int i, const std::string& key, const Object& object) {
    ASSERT_TRUE(
        cluster_->service(i)->replica().Merge(PartitionOf(key), "b", key, object).ok());
  }

  std::optional<Object> Stored(int i, const std::string& key) {
    auto o = cluster_->ReadStored(i, "b", key);
    EXPECT_TRUE(o.ok());
    return o.ok() ? *o : std::nullopt;
  }

  aae::ReapResult Reap(int i, uint32_t partition, bool expect_ok = true) {
    std::optional<aae::ReapResult> result;
    cluster_->node(i)->anti_entropy().ReapNow(
        partition, [&result](aae::ReapResult r) { result = std::move(r); });
    for (int n = 0; n < 6000 && !result; ++n) RunFor(10'000);
    EXPECT_TRUE(result.has_value());
    if (!result) return aae::ReapResult{Status::Timeout("no answer")};
    if (expect_ok) EXPECT_TRUE(result->status.ok()) << result->status.ToString();
    return *result;
  }

  // With one partition and N below the cluster's size: the indexes of its
  // primaries and of the first node that is none of them.
  void Roles(std::vector<int>* primaries, int* stand_in) {
    const auto ids = cluster_->ring().PlacementForPartition(0, cluster_->ring().n()).primaries;
    for (int i = 0; i < cluster_->size(); ++i) {
      if (std::find(ids.begin(), ids.end(), cluster_->id(i)) != ids.end()) {
        primaries->push_back(i);
      } else {
        *stand_in = i;
      }
    }
  }

  uint64_t HintsFor(int holder, int target) {
    const auto& counts = cluster_->service(holder)->hints().counts();
    auto it = counts.find(cluster_->id(target));
    return it == counts.end() ? 0 : it->second;
  }

  AaeExchangeReply Exchange(int from, int to, uint32_t partition) {
    std::optional<AaeExchangeReply> reply;
    cluster_->node(from)->anti_entropy().ExchangeNow(
        partition, cluster_->id(to), [&reply](AaeExchangeReply r) { reply = std::move(r); });
    for (int n = 0; n < 60000 && !reply; ++n) RunFor(10'000);
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(AaeExchangeReply{Status::Timeout("no reply")});
  }

  // Every node exchanges every partition with every other node once.
  void Cycle() {
    for (int i = 0; i < cluster_->size(); ++i) {
      for (uint32_t p = 0; p < cluster_->ring().partitions(); ++p) {
        for (int j = 0; j < cluster_->size(); ++j) {
          if (j == i) continue;
          AaeExchangeReply r = Exchange(i, j, p);
          EXPECT_TRUE(r.status.ok()) << r.status.ToString();
        }
      }
    }
  }

  void PrimariesCycle(const std::vector<int>& primaries) {
    for (int i : primaries) {
      for (int j : primaries) {
        if (j != i) EXPECT_TRUE(Exchange(i, j, 0).status.ok());
      }
    }
  }

  void ReapEverywhere() {
    for (int i = 0; i < cluster_->size(); ++i) {
      for (uint32_t p = 0; p < cluster_->ring().partitions(); ++p) Reap(i, p);
    }
  }

  void ExpectTreesAgreeAndRecount() {
    for (uint32_t p = 0; p < cluster_->ring().partitions(); ++p) {
      const aae::HashTree* first = cluster_->node(0)->anti_entropy().trees()->Trusted(p);
      ASSERT_NE(first, nullptr);
      for (int i = 0; i < cluster_->size(); ++i) {
        aae::Trees* trees = cluster_->node(i)->anti_entropy().trees();
        ASSERT_NE(trees->Trusted(p), nullptr);
        EXPECT_EQ(*trees->Trusted(p), *first) << "node " << i << " partition " << p;
        EXPECT_EQ(*trees->Trusted(p), trees->Recompute(p).value());
      }
    }
  }

  double Reaped() {
    double n = 0;
    for (int i = 0; i < cluster_->size(); ++i) {
      n += Counter(cluster_->node(i)->metrics(), "ringkv_aae_tombstones_reaped_total");
    }
    return n;
  }

  // Bytes of every key and value in node i's store.
  size_t StoredBytes(int i) {
    size_t n = 0;
    EXPECT_TRUE(cluster_->engine(i)
                    .Scan("", "",
                          [&n](std::string_view k, std::string_view v) {
                            n += k.size() + v.size();
                            return true;
                          })
                    .ok());
    return n;
  }

  SimWorld world_{23};
  std::unique_ptr<SimCluster> cluster_;
  int64_t ts_ = 0;
};

TEST_F(ReapTest, ATombstoneEveryReplicaHoldsIsReapedEverywhereAndLiveKeysStay) {
  Build(3, 2);
  for (int k = 0; k < 60; ++k) {
    const std::string key = "k" + std::to_string(k);
    Object o = Write(0, key, VersionVector(), false, "v" + key);
    if (k < 20) o = Write(0, key, o.context, true, "");
    Plant(1, key, o);
    Plant(2, key, o);
  }
  for (uint32_t p = 0; p < 2; ++p) {
    aae::ReapResult r = Reap(1, p);
    EXPECT_EQ(r.reaped_here, r.candidates);
    EXPECT_EQ(r.reaped_peers, 2 * r.candidates);
  }
  EXPECT_EQ(Reaped(), 60);
  for (int k = 0; k < 60; ++k) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(Stored(i, "k" + std::to_string(k)).has_value(), k >= 20) << k << " on " << i;
    }
  }
  ExpectTreesAgreeAndRecount();
  // Nothing left to reap.
  EXPECT_EQ(Reap(0, 0).candidates, 0u);
}

TEST_F(ReapTest, ATombstoneAReplicaLacksStaysUntilAnExchangeBringsIt) {
  Build(3, 1);
  Object v = Write(0, "k", VersionVector(), false, "old");
  Plant(1, "k", v);
  Plant(2, "k", v);
  const Object t = Write(0, "k", v.context, true, "");
  Plant(1, "k", t);
  aae::ReapResult r = Reap(0, 0);
  EXPECT_EQ(r.candidates, 1u);
  EXPECT_EQ(r.confirmed, 0u);
  EXPECT_EQ(Reaped(), 0);
  ASSERT_TRUE(Stored(0, "k").has_value());
  // Node 2 still holds the value; an exchange brings it the tombstone, and
  // then the key goes from every replica, the value with it.
  ASSERT_TRUE(Exchange(0, 2, 0).status.ok());
  EXPECT_TRUE(Stored(2, "k")->IsDeleted());
  EXPECT_EQ(Reap(0, 0).reaped_here, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Stored(i, "k").has_value()) << i;
  // A later exchange has nothing to bring back.
  ASSERT_TRUE(Exchange(2, 1, 0).status.ok());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Stored(i, "k").has_value()) << i;
}

TEST_F(ReapTest, AWriteToAReapedKeyOutranksItsOldTombstoneAcrossARestart) {
  Build(3, 1);
  Object v = Write(0, "k", VersionVector(), false, "one");
  v = Write(0, "k", v.context, false, "two");
  const Object t = Write(0, "k", v.context, true, "");
  const Actor self = cluster_->service(0)->replica().self();
  ASSERT_EQ(t.context.Get(self), 3u);
  Plant(1, "k", t);
  Plant(2, "k", t);
  EXPECT_EQ(Reap(2, 0).reaped_here, 1u);
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(Stored(i, "k").has_value());
  // The floor is on disk with the removal.
  cluster_->Kill(0, /*power_loss=*/false);
  cluster_->Restart(0);
  RunFor(2'000'000);
  const Object fresh = Write(0, "k", VersionVector(), false, "after");
  ASSERT_EQ(fresh.siblings.size(), 1u);
  EXPECT_GT(fresh.siblings[0].dot.counter, t.context.Get(self));
  // The old tombstone and the old value, arriving late (a copy that was on
  // its way), never cover the new write.
  Plant(0, "k", t);
  Plant(0, "k", v);
  const Object now = *Stored(0, "k");
  ASSERT_FALSE(now.IsDeleted());
  ASSERT_EQ(now.Values().size(), 1u);
  EXPECT_EQ(now.Values()[0]->value, "after");
  // A client context read before the reap is still accepted.
  const Object again = Write(0, "k", t.context, false, "with old context");
  EXPECT_FALSE(again.IsDeleted());
}

TEST_F(ReapTest, AReapedKeyRefilledByAnotherReplicaStillGetsDotsAboveTheFloor) {
  Build(3, 1);
  Object v = Write(0, "k", VersionVector(), false, "one");
  v = Write(0, "k", v.context, false, "two");
  const Object t = Write(0, "k", v.context, true, "");
  const Actor self = cluster_->service(0)->replica().self();
  Plant(1, "k", t);
  Plant(2, "k", t);
  EXPECT_EQ(Reap(1, 0).reaped_here, 1u);
  ASSERT_FALSE(Stored(0, "k").has_value());
  // Node 1 writes the key again and node 0 receives that object, whose
  // context knows nothing of node 0's old dots.
  const Object other = Write(1, "k", VersionVector(), false, "from node 1");
  Plant(0, "k", other);
  const Object mine = Write(0, "k", VersionVector(), false, "from node 0");
  EXPECT_GT(mine.context.Get(self), t.context.Get(self));
  // The old tombstone and value arriving late leave both new writes.
  Plant(0, "k", t);
  Plant(0, "k", v);
  EXPECT_EQ(Stored(0, "k")->Values().size(), 2u);
}

TEST_F(ReapTest, HintsTheTombstoneCoversAreDroppedAndOneItDoesNotKeepsTheKey) {
  Build(3, 1);
  Object v = Write(0, "covered", VersionVector(), false, "old");
  const Object t = Write(0, "covered", v.context, true, "");
  Object w = Write(0, "open", VersionVector(), false, "old");
  const Object u = Write(0, "open", w.context, true, "");
  for (int i = 1; i < 3; ++i) {
    Plant(i, "covered", t);
    Plant(i, "open", u);
  }
  HintStore& hints = cluster_->service(1)->hints();
  // A hint of the old value (covered by the tombstone) and one of a write
  // the delete never saw.
  ASSERT_TRUE(hints.Add(cluster_->id(2), 0, "b", "covered", v).ok());
  const Object concurrent =
      Update(Object{}, VersionVector(), Actor{"elsewhere", 1}, ++ts_, false, "new", WriteId{1, 1});
  ASSERT_TRUE(hints.Add(cluster_->id(2), 0, "b", "open", concurrent).ok());
  // First round: the covered hint is dropped, but a delivery of it may be
  // on its way, so neither key goes yet.
  aae::ReapResult first = Reap(0, 0);
  EXPECT_EQ(first.candidates, 2u);
  EXPECT_EQ(first.reaped_here, 0u);
  EXPECT_EQ(hints.counts().at(cluster_->id(2)), 1u);
  aae::ReapResult second = Reap(0, 0);
  EXPECT_EQ(second.reaped_here, 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(Stored(i, "covered").has_value()) << i;
    EXPECT_TRUE(Stored(i, "open").has_value()) << i;
  }
}

// A cluster larger than N: a stand-in outside the key's preference list
// holds a hint, for a primary, of a write the delete saw. Were the
// tombstone reaped while that hint stood, its delivery would bring the
// write back. The round asks every member: the first drops the obsolete
// hint and keeps the key, the second reaps it everywhere, and nothing comes
// back. A stand-in's hint of a write the delete never saw keeps the key.
TEST_F(ReapTest, AStandInsHintKeepsTheTombstoneUntilItIsGone) {
  Build(4, 1, int64_t{3600} * 1'000'000, /*deliver_hints=*/false, /*ring_n=*/3);
  std::vector<int> primaries;
  int s = -1;
  Roles(&primaries, &s);
  ASSERT_EQ(primaries.size(), 3u);
  ASSERT_GE(s, 0);
  const int a = primaries[0], c = primaries[2];
  Object v = Write(a, "k", VersionVector(), false, "deleted");
  const Object t = Write(a, "k", v.context, true, "");
  Object w = Write(a, "open", VersionVector(), false, "old");
  const Object u = Write(a, "open", w.context, true, "");
  for (int i : primaries) {
    if (i == a) continue;
    Plant(i, "k", t);
    Plant(i, "open", u);
  }
  HintStore& stand_in = cluster_->service(s)->hints();
  ASSERT_TRUE(stand_in.Add(cluster_->id(c), 0, "b", "k", v).ok());
  const Object concurrent =
      Update(Object{}, VersionVector(), Actor{"elsewhere", 1}, ++ts_, false, "new", WriteId{1, 1});
  ASSERT_TRUE(stand_in.Add(cluster_->id(c), 0, "b", "open", concurrent).ok());
  aae::ReapResult first = Reap(a, 0);
  EXPECT_EQ(first.candidates, 2u);
  EXPECT_EQ(first.kept_hint_elsewhere, 2u);
  EXPECT_EQ(first.reaped_here + first.reaped_peers, 0u);
  for (int i : primaries) EXPECT_TRUE(Stored(i, "k").has_value()) << i;
  // The hint of the deleted write is obsolete and gone; the other stays.
  EXPECT_EQ(HintsFor(s, c), 1u);
  aae::ReapResult second = Reap(a, 0);
  EXPECT_EQ(second.reaped_here, 1u);
  EXPECT_EQ(second.reaped_peers, 2u);
  EXPECT_EQ(second.kept_hint_elsewhere, 1u);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Stored(i, "k").has_value()) << i;
  for (int i : primaries) EXPECT_TRUE(Stored(i, "open").has_value()) << i;
  // Nothing brings the deleted write back: exchanges, then the remaining
  // hint delivered (it is about another key).
  PrimariesCycle(primaries);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Stored(i, "k").has_value()) << i;
}

// The stand-in holding the hint is down when the round runs: it cannot be
// asked, so nothing is reaped. Back up, it delivers the hint (the primary
// merges the old write into its tombstone, which covers it); the next
// round reaps, and the key stays gone.
TEST_F(ReapTest, NothingIsReapedWhileAMemberThatMayHoldAHintIsDown) {
  Build(4, 1, int64_t{3600} * 1'000'000, /*deliver_hints=*/true, /*ring_n=*/3);
  std::vector<int> primaries;
  int s = -1;
  Roles(&primaries, &s);
  ASSERT_GE(s, 0);
  const int a = primaries[0], c = primaries[2];
  Object v = Write(a, "k", VersionVector(), false, "deleted");
  const Object t = Write(a, "k", v.context, true, "");
  for (int i : primaries) {
    if (i != a) Plant(i, "k", t);
  }
  ASSERT_TRUE(cluster_->service(s)->hints().Add(cluster_->id(c), 0, "b", "k", v).ok());
  cluster_->Kill(s, /*power_loss=*/false);
  aae::ReapResult down = Reap(a, 0, /*expect_ok=*/false);
  EXPECT_FALSE(down.status.ok());
  EXPECT_EQ(down.reaped_here + down.reaped_peers, 0u);
  for (int i : primaries) EXPECT_TRUE(Stored(i, "k").has_value()) << i;
  cluster_->Restart(s);
  for (int n = 0; n < 600 && HintsFor(s, c) > 0; ++n) RunFor(10'000);
  ASSERT_EQ(HintsFor(s, c), 0u) << "the hint was delivered";
  EXPECT_EQ(Stored(c, "k"), t);
  aae::ReapResult up = Reap(a, 0);
  EXPECT_EQ(up.reaped_here, 1u);
  EXPECT_EQ(up.reaped_peers, 2u);
  PrimariesCycle(primaries);
  RunFor(2'000'000);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Stored(i, "k").has_value()) << i;
}

TEST_F(ReapTest, HostileReapRequestsAreRefusedOrChangeNothing) {
  Build(2, 2);
  Object v = Write(0, "k", VersionVector(), false, "v");
  const Object t = Write(0, "k", v.context, true, "");
  Plant(1, "k", t);
  const uint32_t p = PartitionOf("k");
  AaeKeyEntry entry{KeySegment("b", "k"), "b", "k",
                    aae::LeafOf("b", "k", EncodeObject(t)), t.context};
  std::map<int, AaeReapReply> answers;
  int asked = 0;
  auto ask = [&](AaeReapRequest request) {
    const int n = asked++;
    cluster_->service(0)->rpc().Call(cluster_->id(1), std::move(request),
                                     cluster_->clock(0).MonoMicros() + 1'000'000,
                                     [&answers, n](Result<MessageBody> r) {
                                       ASSERT_TRUE(r.ok());
                                       answers[n] = std::get<AaeReapReply>(*r);
                                     });
  };
  ask(AaeReapRequest{p, true, std::vector<AaeKeyEntry>(513, entry)});  // too many
  ask(AaeReapRequest{1000, true, {entry}});                            // no such partition
  AaeKeyEntry elsewhere = entry;
  elsewhere.segment ^= 1;  // not the key's segment
  AaeKeyEntry other_leaf = entry;
  other_leaf.leaf ^= 1;  // not the tombstone it holds
  AaeKeyEntry wrong_partition = entry;
  ask(AaeReapRequest{p ^ 1, true, {wrong_partition}});
  ask(AaeReapRequest{p, true, {elsewhere, other_leaf}});
  ask(AaeReapRequest{p, true, {entry}, /*hints_only=*/true});  // a check cannot commit
  ask(AaeReapRequest{1000, false, {entry}, /*hints_only=*/true});
  RunFor(500'000);
  ASSERT_EQ(answers.size(), 6u);
  EXPECT_TRUE(answers[4].status.IsInvalidArgument());
  EXPECT_TRUE(answers[5].status.IsInvalidArgument());
  EXPECT_TRUE(answers[0].status.IsInvalidArgument());
  EXPECT_TRUE(answers[1].status.IsInvalidArgument());
  EXPECT_EQ(answers[2].held, std::vector<bool>{false});
  EXPECT_EQ(answers[3].held, (std::vector<bool>{false, false}));
  EXPECT_TRUE(Stored(1, "k").has_value());
  EXPECT_EQ(Reaped(), 0);
}

TEST_F(ReapTest, TheScheduleReapsOnceEveryPeerHadACleanExchange) {
  Build(3, 2, /*interval_us=*/20'000);
  for (int k = 0; k < 30; ++k) {
    const std::string key = "k" + std::to_string(k);
    Object o = Write(0, key, VersionVector(), false, "v");
    o = Write(0, key, o.context, true, "");
    Plant(1, key, o);
    // Node 2 missed the delete: exchanges bring it, then rounds reap.
  }
  for (int n = 0; n < 200 && Reaped() < 90; ++n) RunFor(100'000);
  EXPECT_EQ(Reaped(), 90);
  for (int k = 0; k < 30; ++k) {
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(Stored(i, "k" + std::to_string(k)).has_value());
  }
}

// Issue 11's cut-off replica, with hinted handoff off: node 2 is cut off
// while 10,000 keys are written past it on nodes 0 and 1 (1,000 of them
// deletes of keys node 2 holds, 500 also written on node 2's side), with
// hints for node 2 kept on node 0 and never delivered. After two exchange
// cycles every tree agrees and every replica holds the causal merge; the
// reaping rounds then remove every tombstone (and the hints they cover)
// and no deleted key comes back.
TEST_F(ReapTest, ACutOffReplicaHealsWithinTwoCyclesAndTheTombstonesGoEverywhere) {
  Build(3, 8, int64_t{3600} * 1'000'000, /*deliver_hints=*/false);
  constexpr int kKeys = 10'000, kDeleted = 1'000, kConcurrentFrom = 9'500;
  auto name = [](int k) { return "k" + std::to_string(k); };
  for (int k = 0; k < kDeleted; ++k) {
    const Object o = Write(0, name(k), VersionVector(), false, "before " + name(k));
    Plant(1, name(k), o);
    Plant(2, name(k), o);
  }
  const NodeId cut = cluster_->id(2);
  for (int k = 0; k < kKeys; ++k) {
    Object o;
    if (k < kDeleted) {
      o = Write(0, name(k), Stored(0, name(k))->context, true, "");
    } else {
      o = Write(0, name(k), VersionVector(), false, "main " + name(k));
    }
    Plant(1, name(k), o);
    ASSERT_TRUE(cluster_->service(0)->hints().Add(cut, PartitionOf(name(k)), "b", name(k), o).ok());
    if (k >= kConcurrentFrom) Write(2, name(k), VersionVector(), false, "cut " + name(k));
  }
  Cycle();
  Cycle();
  const size_t unreaped_bytes = StoredBytes(1);
  ExpectTreesAgreeAndRecount();
  for (int k = 0; k < kKeys; ++k) {
    const std::optional<Object> first = Stored(0, name(k));
    ASSERT_TRUE(first.has_value()) << name(k);
    for (int i = 1; i < 3; ++i) ASSERT_EQ(Stored(i, name(k)), first) << name(k) << " on " << i;
    if (k < kDeleted) {
      EXPECT_TRUE(first->IsDeleted()) << name(k);
    } else {
      EXPECT_EQ(first->Values().size(), k >= kConcurrentFrom ? 2u : 1u) << name(k);
    }
  }
  // Round one drops the hints the tombstones cover (their deliveries may
  // still be on their way); round two reaps.
  ReapEverywhere();
  ReapEverywhere();
  EXPECT_EQ(Reaped(), 3 * kDeleted);
  for (int k = 0; k < kKeys; ++k) {
    for (int i = 0; i < 3; ++i) {
      const std::optional<Object> o = Stored(i, name(k));
      EXPECT_EQ(o.has_value(), k >= kDeleted) << name(k) << " on " << i;
      if (o) EXPECT_FALSE(o->IsDeleted());
    }
  }
  ExpectTreesAgreeAndRecount();
  // Only the live keys' hints are left.
  EXPECT_EQ(cluster_->service(0)->HintCounts().at(cut), static_cast<uint64_t>(kKeys - kDeleted));
  // Another cycle brings nothing back.
  Cycle();
  for (int k = 0; k < kDeleted; ++k) {
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(Stored(i, name(k)).has_value());
  }
  std::printf("reap: node 1 stored %zu bytes (keys and values) with %d tombstones, %zu after "
              "reaping them\n",
              unreaped_bytes, kDeleted, StoredBytes(1));
}

}  // namespace
}  // namespace ringkv::sim
