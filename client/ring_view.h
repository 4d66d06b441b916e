// RingView: one node's ring (Client::RingOf) in the client's own terms, so
// that the public header carries no ring or wire type: who owns each
// partition, how many each member owns, and the placement violations
// (docs/ring-claim.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/transport.h"

namespace ringkv {

struct RingMemberView {
  NodeId node;
  std::string address;
  uint32_t partitions = 0;  // partitions it owns
  bool operator==(const RingMemberView&) const = default;
};

struct RingView {
  uint64_t epoch = 0;
  uint32_t n = 0;                       // the ring's default replica count
  std::vector<RingMemberView> members;  // sorted by node id
  std::vector<NodeId> owners;           // owners[p]: the owner of partition p
  // Windows of n consecutive partitions (cyclic) that repeat an owner.
  uint32_t violations = 0;
  bool operator==(const RingView&) const = default;
};

}  // namespace ringkv
