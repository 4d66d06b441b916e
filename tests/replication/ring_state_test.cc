// Issue 15: the ring state's transitions (ring/ring_state.h) and its record
// (replication/ring_state_codec.h), with hostile records: truncated,
// oversized, inconsistent, forged indexes.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "replication/ring_keeper.h"
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

// `s` with every transfer of its change marked done.
RingState Done(RingState s) {
  for (const Move& m : RingState(s).transfers) {
    if (!m.done) s = MarkTransferDone(s, m.partition, m.from, m.to).value();
  }
  return s;
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

// A leaving member keeps serving what it owns until the flip but takes no
// hints as a fallback: stopped once it left, it would take them along
// (ring-replace seed 1000 lost two acknowledged writes that way).
TEST(RingStateTest, ALeavingMemberIsAPrimaryStillButNeverAFallback) {
  RingState s = ThreeNodes();
  s = StageJoin(s, "n4", "127.0.0.1:4").value();
  s = CommitPlan(s, MakePlan(s)->id).value();
  s = Done(s);
  Result<Ring> before = PlacementRing(s);
  ASSERT_TRUE(before.ok());
  size_t fallback_before = 0;
  for (uint32_t p = 0; p < 64; ++p) {
    const auto f = before->PlacementForPartition(p, 3).fallbacks;
    fallback_before += static_cast<size_t>(std::count(f.begin(), f.end(), "n2"));
  }
  ASSERT_GT(fallback_before, 0u) << "n2 must be someone's fallback for the test to mean anything";

  RingState leaving = StageLeave(s, "n2").value();
  leaving = CommitPlan(leaving, MakePlan(leaving)->id).value();
  ASSERT_EQ(leaving.Find("n2")->status, MemberStatus::kLeaving);
  Result<Ring> during = PlacementRing(leaving);
  ASSERT_TRUE(during.ok());
  size_t primary_during = 0;
  for (uint32_t p = 0; p < 64; ++p) {
    const Placement placement = during->PlacementForPartition(p, 3);
    EXPECT_EQ(std::count(placement.fallbacks.begin(), placement.fallbacks.end(), "n2"), 0)
        << "partition " << p;
    EXPECT_EQ(placement.primaries, before->PlacementForPartition(p, 3).primaries)
        << "partition " << p;
    primary_during += static_cast<size_t>(
        std::count(placement.primaries.begin(), placement.primaries.end(), "n2"));
  }
  EXPECT_GT(primary_during, 0u);
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
  s = Done(CommitPlan(s, MakePlan(s)->id).value());
  s = StageLeave(s, "n4").value();
  Result<Plan> plan = MakePlan(s);
  ASSERT_TRUE(plan.ok());
  ASSERT_FALSE(plan->moves.empty());
  for (const Move& m : plan->moves) EXPECT_NE(m.to, "n4");
  s = Done(CommitPlan(s, plan->id).value());
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

// The partitions whose placement (n = 3) holds `node`.
std::set<uint32_t> ReplicatedBy(const RingState& s, const NodeId& node) {
  std::set<uint32_t> out;
  Result<Ring> ring = PlacementRing(s);
  EXPECT_TRUE(ring.ok());
  for (uint32_t p = 0; p < s.partitions; ++p) {
    const auto replicas = ring->PlacementForPartition(p, 3).primaries;
    if (std::find(replicas.begin(), replicas.end(), node) != replicas.end()) out.insert(p);
  }
  return out;
}

TEST(RingStateTest, ReplaceMovesExactlyTheOldMembersPartitionsToTheNewOne) {
  RingState s = StageJoin(ThreeNodes(), "n4", "a:4").value();
  const std::vector<NodeId> owners_before = s.owners;
  const std::set<uint32_t> n2_replicates = ReplicatedBy(s, "n2");
  Result<RingState> staged = StageReplace(s, "n2", "n4");
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  // The replace takes the place of n4's staged join.
  ASSERT_EQ(staged->staged.size(), 1u);
  EXPECT_EQ(staged->staged[0], (StagedChange{StagedChange::Kind::kReplace, "n2", "n4"}));
  Result<Plan> plan = MakePlan(*staged);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_FALSE(plan->forced);
  // One move per partition n2 replicates, each from n2 to n4.
  std::set<uint32_t> moved;
  for (const Move& m : plan->moves) {
    EXPECT_EQ(m.from, "n2");
    EXPECT_EQ(m.to, "n4");
    EXPECT_TRUE(moved.insert(m.partition).second) << "partition " << m.partition << " twice";
  }
  EXPECT_EQ(moved, n2_replicates);
  for (uint32_t p = 0; p < s.partitions; ++p) {
    EXPECT_EQ(plan->next_owners[p], owners_before[p] == "n2" ? "n4" : owners_before[p]);
  }
  RingState committed = CommitPlan(*staged, plan->id).value();
  EXPECT_EQ(committed.Find("n2")->status, MemberStatus::kLeaving);
  EXPECT_EQ(committed.transfers.size(), plan->moves.size());
  RingState done = Done(committed);
  EXPECT_FALSE(done.changing());
  EXPECT_EQ(done.Find("n2")->status, MemberStatus::kExiting);
  EXPECT_EQ(done.Find("n4")->status, MemberStatus::kValid);
  EXPECT_EQ(ReplicatedBy(done, "n4"), n2_replicates);
}

TEST(RingStateTest, ForcedChangesStreamNothingFromTheDeadMember) {
  RingState s = ThreeNodes();
  s = StageJoin(s, "n4", "a:4").value();
  s = Done(CommitPlan(s, MakePlan(s)->id).value());
  // n3 is dead: its partitions go to n1, n2 and n4 at once.
  Result<RingState> staged = StageForceRemove(s, "n3");
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  Result<Plan> plan = MakePlan(*staged);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->forced);
  ASSERT_FALSE(plan->moves.empty());
  for (const Move& m : plan->moves) {
    EXPECT_NE(m.from, "n3");  // the surviving replica anti-entropy fills it from
    EXPECT_NE(m.to, "n3");
  }
  RingState removed = CommitPlan(*staged, plan->id).value();
  EXPECT_FALSE(removed.changing());
  EXPECT_TRUE(removed.transfers.empty());
  EXPECT_EQ(removed.Find("n3")->status, MemberStatus::kExiting);
  EXPECT_EQ(std::count(removed.owners.begin(), removed.owners.end(), "n3"), 0);
  EXPECT_LE(plan->after.max_partitions - plan->after.min_partitions, 1u);

  // force-replace: n5 takes exactly n2's partitions, nothing streamed.
  RingState r = StageJoin(removed, "n5", "a:5").value();
  const std::set<uint32_t> n2_replicates = ReplicatedBy(r, "n2");
  r = StageForceReplace(r, "n2", "n5").value();
  Result<Plan> replaced_plan = MakePlan(r);
  ASSERT_TRUE(replaced_plan.ok()) << replaced_plan.status().ToString();
  EXPECT_TRUE(replaced_plan->forced);
  RingState replaced = CommitPlan(r, replaced_plan->id).value();
  EXPECT_FALSE(replaced.changing());
  EXPECT_EQ(replaced.Find("n5")->status, MemberStatus::kValid);
  EXPECT_EQ(ReplicatedBy(replaced, "n5"), n2_replicates);
}

// A forced claim may move partitions between survivors too (balance): a
// surviving replica it drops may hold the only live copy of a write the
// dead member acknowledged with it, so it streams that partition as in a
// leave, and the change flips only when those streams are done. The
// dead member's own slots are filled by anti-entropy, not streamed.
TEST(RingStateTest, ForcedChangesStreamFromTheSurvivorsTheyDrop) {
  std::vector<StateMember> members;
  for (int i = 1; i <= 6; ++i) {
    members.push_back({"n" + std::to_string(i), "a:" + std::to_string(i), MemberStatus::kValid});
  }
  Result<RingState> s =
      BootstrapState(members, 64, 3, {BucketInfo{"", 3, 2, 2, "siblings"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Ring before = PlacementRing(*s).value();
  Result<RingState> staged = StageForceRemove(*s, "n6");
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  Result<Plan> plan = MakePlan(*staged);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  Result<RingState> forced = CommitPlan(*staged, plan->id);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  const RingState& committed = *forced;
  const Ring after = NextRing(committed).value();
  // Each surviving replica the claim drops sends its partition.
  std::set<std::pair<uint32_t, NodeId>> dropped;
  for (uint32_t p = 0; p < before.partitions(); ++p) {
    for (const NodeId& n : before.PlacementForPartition(p, 3).primaries) {
      if (n != "n6" && !after.Replicates(p, 3, n)) dropped.insert({p, n});
    }
  }
  ASSERT_FALSE(dropped.empty()) << "this claim drops no survivor; the test shows nothing";
  std::set<std::pair<uint32_t, NodeId>> streamed;
  for (const Move& m : committed.transfers) {
    EXPECT_NE(m.from, "n6");
    EXPECT_EQ(m.done, after.Replicates(m.partition, 3, m.from)) << m.partition << " " << m.from;
    if (!m.done) streamed.insert({m.partition, m.from});
  }
  EXPECT_EQ(streamed, dropped);
  EXPECT_TRUE(committed.changing());
  EXPECT_EQ(committed.Find("n6")->status, MemberStatus::kLeaving);
  RingState finished = Done(committed);
  EXPECT_FALSE(finished.changing());
  EXPECT_EQ(finished.Find("n6")->status, MemberStatus::kExiting);
  EXPECT_EQ(std::count(finished.owners.begin(), finished.owners.end(), "n6"), 0);
  // A transfer the commit already marked done cannot be reported again.
  for (const Move& m : committed.transfers) {
    if (m.done) EXPECT_FALSE(MarkTransferDone(committed, m.partition, m.from, m.to).ok());
  }
}

TEST(RingStateTest, ForcedChangesAreCommittedAlone) {
  RingState s = StageJoin(ThreeNodes(), "n4", "a:4").value();
  // A staged join and a forced change do not mix, in either order.
  EXPECT_FALSE(StageForceRemove(s, "n3").ok());
  RingState forced = StageForceRemove(ThreeNodes(), "n3").value();
  EXPECT_FALSE(StageJoin(forced, "n4", "a:4").ok());
  EXPECT_FALSE(StageLeave(forced, "n2").ok());
  EXPECT_TRUE(StageForceRemove(forced, "n2").ok());
  // force-replace converts its replacement's join.
  EXPECT_TRUE(StageForceReplace(s, "n3", "n4").ok());
  // Refused: replacing with a member that is not joining, or itself, or
  // an unknown one; replacing a member that is leaving.
  EXPECT_FALSE(StageReplace(s, "n3", "n2").ok());
  EXPECT_FALSE(StageReplace(s, "n3", "n3").ok());
  EXPECT_FALSE(StageReplace(s, "n3", "n9").ok());
  EXPECT_TRUE(StageReplace(s, "n9", "n4").status().IsNotFound());
  RingState one = BootstrapState({{"n1", "a:1", MemberStatus::kValid}}, 8, 1, {}).value();
  EXPECT_FALSE(StageForceRemove(one, "n1").ok());  // the last member
}

TEST(RingStateTest, MarkDownHandsTheClaimantOnAndReroutesItsTransfers) {
  RingState s = StageJoin(ThreeNodes(), "n4", "a:4").value();
  s = CommitPlan(s, MakePlan(s)->id).value();
  size_t from_n1 = 0;
  for (const Move& m : s.transfers) from_n1 += m.from == "n1" ? 1 : 0;
  ASSERT_GT(from_n1, 0u);
  Result<RingState> down = MarkDown(s, "n1");
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(down->epoch, s.epoch + 1);
  EXPECT_EQ(Claimant(*down), NodeId("n2"));
  // It keeps its partitions (a forced change gives them on) and sends
  // nothing: another current replica sends each of its moves.
  EXPECT_EQ(down->owners, s.owners);
  EXPECT_TRUE(PlacementRing(*down).ok());
  Result<Ring> ring = PlacementRing(s);
  for (size_t i = 0; i < s.transfers.size(); ++i) {
    const Move& before = s.transfers[i];
    const Move& after = down->transfers[i];
    EXPECT_NE(after.from, "n1");
    EXPECT_EQ(after.to, before.to);
    const auto replicas = ring->PlacementForPartition(after.partition, 3).primaries;
    EXPECT_NE(std::find(replicas.begin(), replicas.end(), after.from), replicas.end());
  }
  EXPECT_TRUE(MarkDown(*down, "n1").status().IsInvalidArgument());  // already down
  RingState two_down = MarkDown(*down, "n2").value();
  EXPECT_FALSE(MarkDown(two_down, "n3").ok());  // the last valid member
  Result<RingState> up = MarkUp(*down, "n1");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(Claimant(*up), NodeId("n1"));
  EXPECT_FALSE(MarkUp(*up, "n1").ok());
  // A down member can be force-removed once the change completed.
  RingState finished = Done(*down);
  EXPECT_TRUE(StageForceRemove(finished, "n1").ok());
  EXPECT_FALSE(StageLeave(finished, "n1").ok());
}

TEST(RingStateTest, TransferLimitsParseSetAndRefuseHostileValues) {
  const TransferLimits flags;  // every value each node's own flag
  Result<TransferLimits> both = ParseTransferLimits("max=4,mib-per-s=2.5", flags);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->per_node, 4u);
  EXPECT_EQ(both->mib_per_sec, 2.5);
  // One at a time keeps the other; `default` gives it back to the flag.
  EXPECT_EQ(ParseTransferLimits("mib-per-s=0", *both)->per_node, 4u);
  EXPECT_EQ(ParseTransferLimits("mib-per-s=0", *both)->mib_per_sec, 0);
  EXPECT_EQ(ParseTransferLimits("max=default", *both)->per_node, 0u);
  EXPECT_EQ(ParseTransferLimits("mib-per-s=default", *both)->mib_per_sec, -1);
  for (const char* bad : {"", "max", "max=", "max=0", "max=65", "max=-1", "max=2x", "max=1e3",
                          "mib-per-s=-1", "mib-per-s=nan", "mib-per-s=inf", "mib-per-s=1e9",
                          "mib-per-s=", "speed=3", "max=2,,", "max=99999999999999999999"}) {
    EXPECT_TRUE(ParseTransferLimits(bad, flags).status().IsInvalidArgument()) << bad;
  }
  EXPECT_FALSE(ParseTransferLimits(std::string(300, 'x'), flags).ok());
  RingState s = ThreeNodes();
  Result<RingState> set = SetTransferLimits(s, *both);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->epoch, s.epoch + 1);
  EXPECT_EQ(set->limits, *both);
  Result<RingState> back = DecodeRingState(EncodeRingState(*set));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->limits, *both);
  // A gossiped state with limits out of range is refused.
  RingState bad = *set;
  bad.limits.per_node = 1000;
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
  bad.limits = {2, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_FALSE(DecodeRingState(EncodeRingState(bad)).ok());
}

TEST(RingStateCodecTest, RoundTripsEveryField) {
  RingState s = StageJoin(ThreeNodes(), "n4", "127.0.0.1:4").value();
  s.buckets.push_back(BucketInfo{"carts", 3, 1, 3, "lww"});
  s.buckets.push_back(BucketInfo{"counters", 3, 2, 2, "merge:max", 500, 40, 2, "3f2a9c0d41e7"});
  RingState committed = CommitPlan(s, MakePlan(s)->id).value();
  committed.transfers[0].done = true;
  committed.staged.push_back({StagedChange::Kind::kLeave, "n2", {}});
  committed.staged.push_back({StagedChange::Kind::kReplace, "n3", "n4"});
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
  PlanView plan{"abc", 7, {{StagedChange::Kind::kForceReplace, "n3", "n4"}},
                {{{3, "n1", "n4", false}, 10, 2000}}, {0, 16, 16}, true, 12.5};
  Result<PlanView> back = DecodePlan(EncodePlan(plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, "abc");
  EXPECT_TRUE(back->forced);
  EXPECT_EQ(back->eta_sec, 12.5);
  EXPECT_EQ(back->staged, plan.staged);
  ASSERT_EQ(back->moves.size(), 1u);
  EXPECT_EQ(back->moves[0].bytes, 2000u);
  TransferReport report{"n1", {{3, "n1", "n4", "streaming", 5, 500, 10, 1000, 100, 5}}};
  Result<TransferReport> r = DecodeTransferReport(EncodeTransferReport(report));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->transfers[0].total_bytes, 1000u);
  EXPECT_FALSE(DecodePlan("xx").ok());
}

TEST(RingKeeperTest, CatchUpBackoffDoublesFromATickToAMinute) {
  EXPECT_EQ(CatchUpBackoffUs(1, 200'000), 200'000);
  EXPECT_EQ(CatchUpBackoffUs(2, 200'000), 400'000);
  EXPECT_EQ(CatchUpBackoffUs(5, 200'000), 3'200'000);
  EXPECT_EQ(CatchUpBackoffUs(9, 200'000), 51'200'000);
  EXPECT_EQ(CatchUpBackoffUs(10, 200'000), kCatchUpBackoffMaxUs);
  EXPECT_EQ(CatchUpBackoffUs(4'000'000'000u, 1'000'000), kCatchUpBackoffMaxUs);
  EXPECT_EQ(CatchUpBackoffUs(1, 0), 1);  // a zero tick still waits
  EXPECT_EQ(CatchUpBackoffUs(1, 3'600'000'000), kCatchUpBackoffMaxUs);
}

}  // namespace
}  // namespace ringkv
