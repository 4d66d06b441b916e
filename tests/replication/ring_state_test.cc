// Issue 15: the ring state's transitions (ring/ring_state.h) and its record
// (replication/ring_state_codec.h), with hostile records: truncated,
// oversized, inconsistent, forged indexes.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"

namespace ringkv {
namespace {

RingState ThreeNodes() {
  Result<RingState> state =
      BootstrapState({{"n1", "127.0.0.1:1", MemberStatus::kValid},
                      {"n3", "127.0.0.1:3", MemberStatus::kValid},
                      {"n2", "127.0.0.1:2", MemberStatus::kValid}},
                     64, 3, {BucketInfo{"", 3, 2, 2, "siblings"}});
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  return std::move(state).value();
}

// Each (partition, node) the placement of `after` adds to `before`.
std::set<std::pair<uint32_t, NodeId>> Added(const Ring& before, const Ring& after) {
  std::set<std::pair<uint32_t, NodeId>> added;
  for (uint32_t p = 0; p < before.partitions(); ++p) {
    const auto old = before.PlacementForPartition(p, 3).primaries;
    for (const NodeId& n : after.PlacementForPartition(p, 3).primaries) {
      if (std::find(old.begin(), old.end(), n) == old.end()) added.insert({p, n});
    }
  }
  return added;
}

TEST(RingStateTest, BootstrapIsEpochOneWithSortedValidMembers) {
  RingState s = ThreeNodes();
  EXPECT_EQ(s.epoch, 1u);
  ASSERT_EQ(s.members.size(), 3u);
  EXPECT_EQ(s.members[1].id, "n2");
  EXPECT_EQ(Claimant(s), NodeId("n1"));
  Result<Ring> ring = PlacementRing(s);
  ASSERT_TRUE(ring.ok());
  Result<Ring> created = Ring::Create({"n1", "n2", "n3"}, 64, 3);
  for (uint32_t p = 0; p < 64; ++p) EXPECT_EQ(ring->Owner(p), created->Owner(p));
}

TEST(RingStateTest, JoinPlanCommitTransfersAndFlip) {
  RingState s = ThreeNodes();
  Result<RingState> joined = StageJoin(s, "n4", "127.0.0.1:4");
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->epoch, 2u);
  EXPECT_EQ(joined->Find("n4")->status, MemberStatus::kJoining);
  // A joining member owns nothing and takes no placement yet.
  Result<Ring> during = PlacementRing(*joined);
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->members().size(), 3u);

  Result<Plan> plan = MakePlan(*joined);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->after.min_partitions, 16u);
  EXPECT_EQ(plan->after.max_partitions, 16u);
  ASSERT_FALSE(plan->moves.empty());
  for (const Move& m : plan->moves) EXPECT_EQ(m.to, "n4");

  Result<RingState> committed = CommitPlan(*joined, plan->id);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_TRUE(committed->changing());
  EXPECT_EQ(committed->change_epoch, committed->epoch);
  // Coordinators see each move as a handover.
  Result<Ring> moving = PlacementRing(*committed);
  ASSERT_TRUE(moving.ok());
  const Move& first = committed->transfers.front();
  ASSERT_NE(moving->HandoverTarget(first.partition, first.from), nullptr);
  EXPECT_EQ(*moving->HandoverTarget(first.partition, first.from), "n4");

  // The same plan id again is refused: busy, a change is in flight.
  EXPECT_FALSE(CommitPlan(*committed, plan->id).ok());

  RingState state = *committed;
  for (const Move& m : committed->transfers) {
    Result<RingState> next = MarkTransferDone(state, m.partition, m.from, m.to);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    state = *next;
  }
  EXPECT_FALSE(state.changing());
  EXPECT_EQ(state.Find("n4")->status, MemberStatus::kValid);
  EXPECT_TRUE(MarkTransferDone(state, first.partition, first.from, first.to).status().IsNotFound());
  // The moves made are exactly the replicas the new placement adds.
  std::set<std::pair<uint32_t, NodeId>> predicted;
  for (const Move& m : plan->moves) predicted.insert({m.partition, m.to});
  Result<Ring> before = PlacementRing(s);
  Result<Ring> after = PlacementRing(state);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Added(*before, *after), predicted);
}

TEST(RingStateTest, StaleOrConflictingPlanIsRefused) {
  RingState s = ThreeNodes();
  RingState joined = StageJoin(s, "n4", "127.0.0.1:4").value();
  Result<Plan> first = MakePlan(joined);
  ASSERT_TRUE(first.ok());
  // Another operator stages a leave: the first plan is stale.
  RingState both = StageLeave(joined, "n2").value();
  Result<Plan> second = MakePlan(both);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->id, second->id);
  Result<RingState> stale = CommitPlan(both, first->id);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.status().message().find("changed since"), std::string::npos);
  Result<RingState> ok = CommitPlan(both, second->id);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->Find("n2")->status, MemberStatus::kLeaving);
}

TEST(RingStateTest, LeaveMovesEverythingAwayAndExits) {
  RingState s = ThreeNodes();
  s = StageJoin(s, "n4", "a:4").value();
  s = CommitPlan(s, MakePlan(s)->id).value();
  for (const Move& m : RingState(s).transfers) s = MarkTransferDone(s, m.partition, m.from, m.to).value();
  s = StageLeave(s, "n4").value();
  Result<Plan> plan = MakePlan(s);
  ASSERT_TRUE(plan.ok());
  for (const Move& m : plan->moves) EXPECT_NE(m.to, "n4");
  s = CommitPlan(s, plan->id).value();
  for (const Move& m : RingState(s).transfers) s = MarkTransferDone(s, m.partition, m.from, m.to).value();
  EXPECT_EQ(s.Find("n4")->status, MemberStatus::kExiting);
  EXPECT_EQ(std::count(s.owners.begin(), s.owners.end(), "n4"), 0);
}

TEST(RingStateTest, RefusesWhatCannotBe) {
  RingState s = ThreeNodes();
  EXPECT_FALSE(StageJoin(s, "n1", "a:1").ok());                // already valid
  EXPECT_FALSE(StageJoin(s, "", "a:1").ok());
  EXPECT_FALSE(StageJoin(s, std::string(256, 'x'), "a:1").ok());
  EXPECT_TRUE(StageLeave(s, "n9").status().IsNotFound());
  EXPECT_FALSE(MakePlan(s).ok());                               // nothing staged
  RingState one = BootstrapState({{"n1", "a:1", MemberStatus::kValid}}, 8, 1, {}).value();
  EXPECT_FALSE(StageLeave(one, "n1").ok());                     // the last valid member
  RingState cleared = ClearStaged(StageJoin(s, "n4", "a:4").value()).value();
  EXPECT_EQ(cleared.Find("n4"), nullptr);
}

TEST(RingStateCodecTest, RoundTripsEveryField) {
  RingState s = StageJoin(ThreeNodes(), "n4", "127.0.0.1:4").value();
  s.buckets.push_back(BucketInfo{"carts", 3, 1, 3, "lww"});
  RingState committed = CommitPlan(s, MakePlan(s)->id).value();
  committed.transfers[0].done = true;
  committed.staged.push_back({StagedChange::Kind::kLeave, "n2"});
  Result<RingState> back = DecodeRingState(EncodeRingState(committed));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, committed);
}

TEST(RingStateCodecTest, RefusesHostileRecords) {
  const std::string good = EncodeRingState(ThreeNodes());
  EXPECT_FALSE(DecodeRingState("").ok());
  EXPECT_FALSE(DecodeRingState(good.substr(0, good.size() - 8)).ok());   // truncated
  EXPECT_FALSE(DecodeRingState(good.substr(0, 7)).ok());                 // not whole words
  EXPECT_FALSE(DecodeRingState(std::string(kMaxStateBytes + 8, '\0')).ok());  // oversized
  std::string garbage(good.size(), '\xff');
  EXPECT_FALSE(DecodeRingState(garbage).ok());
  // Structurally valid but inconsistent states.
  RingState bad = ThreeNodes();
  bad.owners.pop_back();
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  bad = ThreeNodes();
  bad.partitions = 48;
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  bad = ThreeNodes();
  bad.owners[5] = "ghost";  // encoded as an index out of range
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  bad = ThreeNodes();
  std::swap(bad.members[0], bad.members[1]);
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  bad = ThreeNodes();
  bad.transfers.push_back({3, "n1", "n2", false});  // no change in flight
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  // Byte flips never crash and never yield an invalid state.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string flipped = good;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    Result<RingState> r = DecodeRingState(flipped);
    if (r.ok()) EXPECT_TRUE(ValidateState(*r).ok());
  }
}

TEST(RingStateCodecTest, PlanAndReportRoundTrip) {
  PlanView plan{"abc", 7, {{StagedChange::Kind::kJoin, "n4"}}, {{{3, "n1", "n4", false}, 10, 2000}},
                {0, 16, 16}};
  Result<PlanView> back = DecodePlan(EncodePlan(plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, "abc");
  ASSERT_EQ(back->moves.size(), 1u);
  EXPECT_EQ(back->moves[0].bytes, 2000u);
  TransferReport report{"n1", {{3, "n1", "n4", "streaming", 5, 500, 10, 1000, 100, 5}}};
  Result<TransferReport> r = DecodeTransferReport(EncodeTransferReport(report));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->transfers[0].total_bytes, 1000u);
  EXPECT_FALSE(DecodePlan("xx").ok());
}

}  // namespace
}  // namespace ringkv
