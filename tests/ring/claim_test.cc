// Ring::Rebalanced under random joins, leaves and replacements for Q from 16
// to 1024: balance within one partition, never more repeating windows than
// a fresh claim of the same members, and partitions moved close to the
// minimum that balance forces.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ring/ring.h"

namespace ringkv {
namespace {

// Partitions that must move when `before` becomes a ring of `members`: the
// departed members' partitions and each remaining member's excess over its
// target, the extra partitions of Q % M going to those owning most.
uint32_t MinimumMoves(const Ring& before, std::vector<NodeId> members) {
  std::sort(members.begin(), members.end());
  std::map<NodeId, uint32_t> owned;
  uint32_t departed = 0;
  for (uint32_t p = 0; p < before.partitions(); ++p) {
    if (std::binary_search(members.begin(), members.end(), before.Owner(p))) {
      ++owned[before.Owner(p)];
    } else {
      ++departed;
    }
  }
  std::vector<uint32_t> counts;
  for (const NodeId& m : members) counts.push_back(owned[m]);
  std::sort(counts.rbegin(), counts.rend());
  const uint32_t q = before.partitions(), m = static_cast<uint32_t>(members.size());
  uint32_t moves = departed;
  for (uint32_t i = 0; i < m; ++i) {
    const uint32_t target = q / m + (i < q % m ? 1 : 0);
    if (counts[i] > target) moves += counts[i] - target;
  }
  return moves;
}

uint32_t Moves(const Ring& a, const Ring& b) {
  uint32_t moves = 0;
  for (uint32_t p = 0; p < a.partitions(); ++p) moves += a.Owner(p) != b.Owner(p) ? 1 : 0;
  return moves;
}

TEST(ClaimTest, RebalancedKeepsBalanceAndSpreadWithMovesNearTheMinimum) {
  std::mt19937 rng(20261202);
  uint64_t moved = 0, minimum = 0;
  int exact = 0, changes = 0;
  for (int ring_case = 0; ring_case < 120; ++ring_case) {
    const uint32_t q = 1u << (4 + rng() % 7);  // 16 .. 1024
    const uint32_t n = 1 + rng() % 5;
    int next = 0;
    std::vector<NodeId> members;
    for (uint32_t i = 0, m = 1 + rng() % 24; i < m; ++i) {
      members.push_back("n" + std::to_string(next++));
    }
    Result<Ring> ring = Ring::Create(members, q, n);
    ASSERT_TRUE(ring.ok());
    for (int step = 0; step < 5; ++step) {
      members = ring->members();
      const int op = members.size() == 1 ? 0 : static_cast<int>(rng() % 3);
      if (op != 1) members.push_back("n" + std::to_string(next++));          // join / replace
      if (op != 0) members.erase(members.begin() + rng() % members.size());  // leave / replace
      const std::string what = "q=" + std::to_string(q) + " n=" + std::to_string(n) +
                               " members " + std::to_string(ring->members().size()) + " -> " +
                               std::to_string(members.size());
      Result<Ring> next_ring = ring->Rebalanced(members, ring->epoch() + 1);
      ASSERT_TRUE(next_ring.ok()) << what;
      EXPECT_EQ(next_ring->epoch(), ring->epoch() + 1);
      const ClaimReport report = next_ring->Report();
      EXPECT_LE(report.max_partitions - report.min_partitions, 1u) << what;
      EXPECT_LE(report.violations, Ring::Create(members, q, n)->Report().violations) << what;
      const uint32_t floor = MinimumMoves(*ring, members);
      const uint32_t moves = Moves(*ring, *next_ring);
      EXPECT_GE(moves, floor) << what;
      moved += moves;
      minimum += floor;
      exact += moves == floor ? 1 : 0;
      ++changes;
      ring = std::move(next_ring);
    }
  }
  // Measured at this seed: 81% of the 600 changes move exactly the
  // minimum, and all together 21% more than it (swaps and fresh claims
  // bought to keep windows distinct on tight rings, M close to N).
  EXPECT_GE(exact * 10, changes * 6);
  EXPECT_LE(moved * 10, minimum * 13);
}

TEST(ClaimTest, AJoinTakesOnlyItsShareAndALeaveMovesOnlyItsPartitions) {
  Result<Ring> three = Ring::Create({"a", "b", "c"}, 256, 3);
  ASSERT_TRUE(three.ok());
  Result<Ring> four = three->Rebalanced({"a", "b", "c", "d"}, 2);
  ASSERT_TRUE(four.ok());
  uint32_t to_d = 0;
  for (uint32_t p = 0; p < 256; ++p) {
    if (three->Owner(p) != four->Owner(p)) {
      EXPECT_EQ(four->Owner(p), "d") << "partition " << p << " moved between old members";
      ++to_d;
    }
  }
  EXPECT_EQ(to_d, 64u);
  EXPECT_EQ(four->Report().violations, 0u);

  Result<Ring> back = four->Rebalanced({"a", "b", "c"}, 3);
  ASSERT_TRUE(back.ok());
  for (uint32_t p = 0; p < 256; ++p) {
    if (four->Owner(p) != "d") {
      EXPECT_EQ(back->Owner(p), four->Owner(p)) << "partition " << p;
    }
  }
}

TEST(ClaimTest, RebalancedRejectsAnEmptyRingAndIgnoresOrderAndDuplicates) {
  Result<Ring> ring = Ring::Create({"a", "b", "c"}, 64, 3);
  ASSERT_TRUE(ring.ok());
  EXPECT_TRUE(ring->Rebalanced({}, 2).status().IsInvalidArgument());
  Result<Ring> x = ring->Rebalanced({"d", "a", "c", "b", "a"}, 2);
  Result<Ring> y = ring->Rebalanced({"a", "b", "c", "d"}, 2);
  ASSERT_TRUE(x.ok() && y.ok());
  for (uint32_t p = 0; p < 64; ++p) EXPECT_EQ(x->Owner(p), y->Owner(p));
}

}  // namespace
}  // namespace ringkv
