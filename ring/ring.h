// Ring: placement of keys on a consistent-hash ring of Q fixed partitions.
//
// Pure code, no I/O: a ring is a value built from a member list. Partition p
// covers the key hashes whose top log2(Q) bits equal p. The preference list
// of a key is the first N distinct owners met walking clockwise from the
// key's partition (repeated owners skipped); the remaining members, in the
// same walk order, are its fallbacks. Thread-compatible (const methods are
// safe to call concurrently).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/transport.h"

namespace ringkv {

inline constexpr uint32_t kDefaultPartitions = 64;

// How well a claim met its goals.
struct ClaimReport {
  // Windows of N consecutive partitions (cyclic) whose owners are not all
  // distinct; some sizes make zero impossible (Q=64 on 3 nodes at N=3).
  uint32_t violations = 0;
  uint32_t min_partitions = 0;  // fewest partitions owned by one member
  uint32_t max_partitions = 0;  // most partitions owned by one member
};

// While a ring change moves a partition's keys, `from` (a current
// replica) streams its copy to `to` (a replica in the next ring).
struct Handover {
  uint32_t partition = 0;
  NodeId from;
  NodeId to;
  bool operator==(const Handover&) const = default;
};

struct Placement {
  std::vector<NodeId> primaries;  // min(N, members) distinct nodes
  std::vector<NodeId> fallbacks;  // every other member but the departing, in walk order
};

class Ring {
 public:
  // Claims `partitions` for `members` (sorted and deduplicated first, so the
  // result does not depend on the order given) aiming for every `n`
  // consecutive partitions on distinct owners and balanced counts.
  // InvalidArgument when partitions is not a power of two in [1, 2^20], when
  // members is empty, or n is 0. `epoch` versions the ring (ring/membership.h):
  // the cluster file's is 1, every ring change makes the next.
  static Result<Ring> Create(std::vector<NodeId> members, uint32_t partitions, uint32_t n,
                             uint64_t epoch = 1);

  // A ring whose owners are given (a ring state's, ring/ring_state.h):
  // owners[p] must be one of `members`. InvalidArgument otherwise, or for
  // the sizes Create refuses.
  static Result<Ring> FromOwners(std::vector<NodeId> members, std::vector<NodeId> owners,
                                 uint32_t n, uint64_t epoch);

  // The ring after a change of members (sorted and deduplicated first), at
  // `epoch`: balanced again by moving as few partitions as balance allows
  // (ring/claim.h, Reclaim); n and partitions stay. InvalidArgument when
  // members is empty.
  Result<Ring> Rebalanced(std::vector<NodeId> members, uint64_t epoch) const;

  uint32_t partitions() const { return static_cast<uint32_t>(owners_.size()); }
  uint32_t n() const { return n_; }
  const std::vector<NodeId>& members() const { return members_; }
  uint64_t epoch() const { return epoch_; }

  // Partition of a key hash (common/hash.h KeyHash): its top bits.
  uint32_t PartitionOf(uint64_t key_hash) const;
  const NodeId& Owner(uint32_t partition) const { return owners_[partition]; }
  // Preference list for a key hash with `n` replicas (n may differ from the
  // ring's default, per bucket).
  Placement PlacementFor(uint64_t key_hash, uint32_t n) const;
  // Same, starting at a partition.
  Placement PlacementForPartition(uint32_t partition, uint32_t n) const;
  // Whether `node` is one of the partition's `n` primaries.
  bool Replicates(uint32_t partition, uint32_t n, const NodeId& node) const;
  // PlacementFor(key_hash, n).primaries, without walking the whole ring for
  // the fallbacks: what a get needs, on every request.
  std::vector<NodeId> PrimariesFor(uint64_t key_hash, uint32_t n) const;

  ClaimReport Report() const;

  // The partitions moving to the next ring (ring/ring_state.h): writes to
  // `from` go to `to` as well until the change completes.
  void set_handovers(std::vector<Handover> handovers) { handovers_ = std::move(handovers); }
  const std::vector<Handover>& handovers() const { return handovers_; }
  // Where `from`'s copy of `partition` is being streamed; null: nowhere.
  const NodeId* HandoverTarget(uint32_t partition, const NodeId& from) const;

  // Members on their way out (leaving in a change): still primaries of
  // what they own until the flip, never fallbacks, since a hint they take
  // would leave with them when they are stopped.
  void set_departing(std::vector<NodeId> departing);

 private:
  Ring() = default;
  // The first `limit` distinct members clockwise from `partition`.
  std::vector<NodeId> Walk(uint32_t partition, size_t limit) const;
  std::vector<NodeId> members_;
  std::vector<NodeId> owners_;  // owners_[p] = member owning partition p
  uint32_t n_ = 3;
  uint32_t shift_ = 64;  // key_hash >> shift_ = partition
  uint64_t epoch_ = 1;
  std::vector<Handover> handovers_;
  std::vector<NodeId> departing_;  // sorted
};

}  // namespace ringkv
