// Ring claim and placement: distinct primaries, balance, reported
// violations, stability under member order, and argument checking.
#include "ring/ring.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ringkv {
namespace {

std::vector<NodeId> Members(int count) {
  std::vector<NodeId> members;
  for (int i = 0; i < count; ++i) members.push_back("node" + std::to_string(100 + i));
  return members;
}

Ring MakeRing(std::vector<NodeId> members, uint32_t q, uint32_t n) {
  Result<Ring> ring = Ring::Create(std::move(members), q, n);
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::move(ring).value();
}

// Checks every placement invariant for one partition; returns a failure
// description or "" so that gtest and rapidcheck can both use it.
std::string CheckPlacement(const Ring& ring, uint32_t partition, uint32_t n) {
  const Placement pl = ring.PlacementForPartition(partition, n);
  const size_t m = ring.members().size();
  const std::string where = " at partition " + std::to_string(partition) + " n=" + std::to_string(n);
  if (pl.primaries.size() != std::min<size_t>(n, m)) return "wrong primary count" + where;
  if (pl.primaries.front() != ring.Owner(partition)) return "first primary is not the owner" + where;
  std::set<NodeId> all(pl.primaries.begin(), pl.primaries.end());
  if (all.size() != pl.primaries.size()) return "repeated primary" + where;
  for (const NodeId& f : pl.fallbacks) {
    if (!all.insert(f).second) return "fallback repeats a node" + where;
  }
  if (all != std::set<NodeId>(ring.members().begin(), ring.members().end())) {
    return "primaries + fallbacks are not the members" + where;
  }
  return "";
}

TEST(RingTest, RejectsInvalidArguments) {
  EXPECT_TRUE(Ring::Create(Members(3), 0, 3).status().IsInvalidArgument());
  EXPECT_TRUE(Ring::Create(Members(3), 48, 3).status().IsInvalidArgument());
  EXPECT_TRUE(Ring::Create(Members(3), 1u << 21, 3).status().IsInvalidArgument());
  EXPECT_TRUE(Ring::Create({}, 64, 3).status().IsInvalidArgument());
  EXPECT_TRUE(Ring::Create(Members(3), 64, 0).status().IsInvalidArgument());
  EXPECT_TRUE(Ring::Create(Members(3), 1, 3).ok());
  EXPECT_TRUE(Ring::Create(Members(3), 1u << 20, 3).ok());
}

TEST(RingTest, SortsAndDeduplicatesMembers) {
  Ring ring = MakeRing({"c", "a", "b", "a", "c"}, 8, 3);
  EXPECT_EQ(ring.members(), (std::vector<NodeId>{"a", "b", "c"}));
  EXPECT_EQ(ring.partitions(), 8u);
  EXPECT_EQ(ring.n(), 3u);
}

TEST(RingTest, StripesWhenPartitionsDivide) {
  Ring ring = MakeRing({"d", "b", "a", "c"}, 8, 3);
  const std::vector<NodeId> want = {"a", "b", "c", "d", "a", "b", "c", "d"};
  for (uint32_t p = 0; p < 8; ++p) EXPECT_EQ(ring.Owner(p), want[p]) << p;
  const Placement pl = ring.PlacementForPartition(3, 3);
  EXPECT_EQ(pl.primaries, (std::vector<NodeId>{"d", "a", "b"}));
  EXPECT_EQ(pl.fallbacks, (std::vector<NodeId>{"c"}));
}

TEST(RingTest, PrimariesDistinctForEveryPartition) {
  for (int m = 1; m <= 9; ++m) {
    for (uint32_t q : {1u, 2u, 8u, 64u, 1024u}) {
      for (uint32_t n = 1; n <= 5; ++n) {
        Ring ring = MakeRing(Members(m), q, n);
        for (uint32_t p = 0; p < q; ++p) {
          for (uint32_t want = 1; want <= 5; ++want) {
            ASSERT_EQ(CheckPlacement(ring, p, want), "") << "m=" << m << " q=" << q;
          }
        }
      }
    }
  }
}

TEST(RingTest, BalancedFrom3To64Nodes) {
  for (uint32_t q : {64u, 1024u}) {
    std::printf("Q=%u N=3\n  nodes  min  max  violations\n", q);
    for (int m = 3; m <= 64; ++m) {
      const ClaimReport r = MakeRing(Members(m), q, 3).Report();
      std::printf("  %5d %4u %4u %11u\n", m, r.min_partitions, r.max_partitions, r.violations);
      EXPECT_LE(r.max_partitions - r.min_partitions, 1u) << "m=" << m << " q=" << q;
      EXPECT_EQ(r.min_partitions, q / static_cast<uint32_t>(m)) << "m=" << m << " q=" << q;
    }
  }
}

TEST(RingTest, NoViolationsWhenPartitionsDivideAndEnoughNodes) {
  for (int m = 1; m <= 16; ++m) {
    for (uint32_t q : {16u, 64u, 1024u}) {
      if (q % m != 0) continue;
      for (uint32_t n = 1; n <= static_cast<uint32_t>(m); ++n) {
        EXPECT_EQ(MakeRing(Members(m), q, n).Report().violations, 0u)
            << "m=" << m << " q=" << q << " n=" << n;
      }
    }
  }
}

TEST(RingTest, TailIsRepairedWhenPossible) {
  // Plain striping of 64 partitions over 7 nodes ends "... 5 6 0 | 0 1":
  // the claim must pick a different last owner.
  EXPECT_EQ(MakeRing(Members(7), 64, 3).Report().violations, 0u);
  EXPECT_EQ(MakeRing(Members(5), 16, 3).Report().violations, 0u);
}

TEST(RingTest, ImpossibleClaimReportsViolationsWithoutFailing) {
  // Q=64 on 3 nodes at N=3 needs 3 | 64 for zero violations.
  Result<Ring> ring = Ring::Create(Members(3), 64, 3);
  ASSERT_TRUE(ring.ok());
  const ClaimReport r = ring->Report();
  EXPECT_GT(r.violations, 0u);
  EXPECT_LE(r.max_partitions - r.min_partitions, 1u);
  for (uint32_t p = 0; p < 64; ++p) ASSERT_EQ(CheckPlacement(*ring, p, 3), "");
}

TEST(RingTest, FewerMembersThanReplicas) {
  Ring ring = MakeRing(Members(2), 64, 3);
  EXPECT_EQ(ring.Report().violations, 64u);  // every window repeats
  for (uint32_t p = 0; p < 64; ++p) {
    EXPECT_EQ(ring.PlacementForPartition(p, 3).primaries.size(), 2u);
    EXPECT_TRUE(ring.PlacementForPartition(p, 3).fallbacks.empty());
  }
}

TEST(RingTest, MoreMembersThanPartitions) {
  Ring ring = MakeRing(Members(5), 2, 3);
  for (uint32_t p = 0; p < 2; ++p) {
    ASSERT_EQ(CheckPlacement(ring, p, 3), "");
    ASSERT_EQ(CheckPlacement(ring, p, 5), "");
  }
  EXPECT_EQ(ring.Report().min_partitions, 0u);
  EXPECT_EQ(ring.Report().max_partitions, 1u);
}

TEST(RingTest, SameMembersInAnyOrderGiveTheSameRing) {
  std::mt19937 gen(42);
  for (int m : {3, 5, 7, 12}) {
    std::vector<NodeId> members = Members(m);
    const Ring base = MakeRing(members, 64, 3);
    for (int round = 0; round < 5; ++round) {
      std::shuffle(members.begin(), members.end(), gen);
      const Ring other = MakeRing(members, 64, 3);
      for (uint32_t p = 0; p < 64; ++p) ASSERT_EQ(base.Owner(p), other.Owner(p));
    }
  }
}

TEST(RingTest, PartitionOfUsesTopBits) {
  const Ring q64 = MakeRing(Members(3), 64, 3);
  EXPECT_EQ(q64.PartitionOf(0), 0u);
  EXPECT_EQ(q64.PartitionOf(~uint64_t{0}), 63u);
  EXPECT_EQ(q64.PartitionOf(uint64_t{1} << 58), 1u);
  EXPECT_EQ(q64.PartitionOf((uint64_t{1} << 58) - 1), 0u);
  EXPECT_EQ(q64.PartitionOf(0x8000000000000000ull), 32u);
  EXPECT_EQ(q64.PartitionOf(0xdeadbeefcafef00dull), 0x37u);
  const Ring q1024 = MakeRing(Members(3), 1024, 3);
  EXPECT_EQ(q1024.PartitionOf(0xdeadbeefcafef00dull), 0x37au);
  const Ring q1 = MakeRing(Members(3), 1, 3);
  EXPECT_EQ(q1.PartitionOf(~uint64_t{0}), 0u);
  EXPECT_EQ(q1.PartitionOf(0x123456789abcdefull), 0u);
}

TEST(RingTest, PlacementForHashMatchesItsPartition) {
  const Ring ring = MakeRing(Members(5), 64, 3);
  for (uint64_t h : {uint64_t{0}, uint64_t{0x0123456789abcdef}, ~uint64_t{0}}) {
    const Placement a = ring.PlacementFor(h, 3);
    const Placement b = ring.PlacementForPartition(ring.PartitionOf(h), 3);
    EXPECT_EQ(a.primaries, b.primaries);
    EXPECT_EQ(a.fallbacks, b.fallbacks);
  }
}

RC_GTEST_PROP(RingProperty, ClaimAndPlacementInvariants, ()) {
  const int m = *rc::gen::inRange(1, 20);
  const uint32_t q = 1u << *rc::gen::inRange(0, 11);
  const uint32_t n = *rc::gen::inRange(1, 7);
  std::vector<NodeId> members;
  for (int i = 0; i < m; ++i) members.push_back(*rc::gen::nonEmpty(rc::gen::string<std::string>()));
  Result<Ring> ring = Ring::Create(members, q, n);
  RC_ASSERT(ring.ok());
  const uint32_t distinct = static_cast<uint32_t>(ring->members().size());

  const ClaimReport report = ring->Report();
  RC_ASSERT(report.max_partitions - report.min_partitions <= 1u);
  if (distinct >= n && q % distinct == 0) RC_ASSERT(report.violations == 0u);

  const uint32_t want = *rc::gen::inRange(1, 7);
  for (uint32_t p = 0; p < q; ++p) RC_ASSERT(CheckPlacement(*ring, p, want) == "");

  std::reverse(members.begin(), members.end());
  Result<Ring> reversed = Ring::Create(members, q, n);
  RC_ASSERT(reversed.ok());
  for (uint32_t p = 0; p < q; ++p) RC_ASSERT(ring->Owner(p) == reversed->Owner(p));
}

}  // namespace
}  // namespace ringkv

namespace ringkv {
namespace {

TEST(RingTest, PrimariesForMatchesThePlacementsPrimaries) {
  for (uint32_t members : {1u, 2u, 3u, 5u, 70u}) {
    std::vector<NodeId> ids;
    for (uint32_t i = 0; i < members; ++i) ids.push_back("n" + std::to_string(i));
    Result<Ring> ring = Ring::Create(ids, 64, 3);
    ASSERT_TRUE(ring.ok());
    for (uint64_t h = 0; h < 200; ++h) {
      const uint64_t hash = h * 0x9E3779B97F4A7C15ull;
      for (uint32_t n : {1u, 3u, 5u}) {
        EXPECT_EQ(ring->PrimariesFor(hash, n), ring->PlacementFor(hash, n).primaries)
            << members << " members, n=" << n;
      }
    }
  }
}

}  // namespace
}  // namespace ringkv
