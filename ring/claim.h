// Claim: which member owns each of a ring's Q partitions.
//
// Pure code. Members are indexes into a ring's sorted member list; owners[p]
// is partition p's owner. Two goals, in this order:
// - balance: every member owns floor(Q/M) or ceil(Q/M) partitions;
// - spread: every window of N consecutive partitions (cyclic) has N
//   distinct owners, so a key's N replicas are its partition's owner and
//   the next ones. A window that repeats an owner is a violation; placement
//   then walks further for distinct nodes, so data stays on N nodes, but
//   the load of those replicas lands unevenly. Some sizes make violations
//   unavoidable (Q=64 on 3 nodes at N=3 repeats at the wrap).
// A ring change adds a third goal: move as few partitions as possible,
// since every moved partition is a transfer of its data.
#pragma once

#include <cstdint>
#include <vector>

namespace ringkv {

using Owners = std::vector<uint32_t>;

// Marks, in Reclaim's input, a partition whose owner leaves the ring.
inline constexpr uint32_t kNoOwner = UINT32_MAX;

// Windows of n partitions (cyclic, one per start) that repeat an owner.
uint32_t CountViolations(const Owners& owners, uint32_t n);

// A claim from nothing, for m members and q partitions: a stripe (member
// p % m owns p), its tail chosen so the windows across the wrap are
// distinct, swaps where that is not enough. Deterministic.
Owners ClaimFromScratch(uint32_t m, uint32_t q, uint32_t n);

// A claim for m members from `current` (indexes into the new member list;
// kNoOwner where the owner leaves): balanced again with as few partitions
// moved as balance allows (the departed members' partitions and each
// member's excess over its new target; the members owning most now keep
// the extra partition of Q % M), each freed partition given to a member
// that owns none near it, then swaps where windows still repeat. Swaps move
// more partitions, so spread is paid for in transfers only where the
// greedy assignment left a violation. Deterministic.
Owners Reclaim(const Owners& current, uint32_t m, uint32_t n);

}  // namespace ringkv
