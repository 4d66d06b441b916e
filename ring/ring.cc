#include "ring/ring.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "ring/claim.h"

namespace ringkv {
namespace {

constexpr uint32_t kMaxPartitions = 1u << 20;

// What Create and FromOwners both require: a power-of-two partition count,
// n of at least 1, and at least one member; `members` comes back sorted
// and without duplicates.
Status CheckShape(uint32_t partitions, uint32_t n, std::vector<NodeId>* members) {
  if (partitions == 0 || partitions > kMaxPartitions || !std::has_single_bit(partitions)) {
    return Status::InvalidArgument("partitions must be a power of two in [1, 2^20], got " +
                                   std::to_string(partitions));
  }
  if (n == 0) return Status::InvalidArgument("n must be at least 1");
  std::sort(members->begin(), members->end());
  members->erase(std::unique(members->begin(), members->end()), members->end());
  if (members->empty()) return Status::InvalidArgument("a ring needs at least one member");
  return Status::OK();
}

}  // namespace

Result<Ring> Ring::Create(std::vector<NodeId> members, uint32_t partitions, uint32_t n,
                          uint64_t epoch) {
  RINGKV_RETURN_IF_ERROR(CheckShape(partitions, n, &members));

  const uint32_t m = static_cast<uint32_t>(members.size());
  const Owners claim = ClaimFromScratch(m, partitions, n);
  Ring ring;
  ring.owners_.reserve(partitions);
  for (uint32_t idx : claim) ring.owners_.push_back(members[idx]);
  ring.members_ = std::move(members);
  ring.n_ = n;
  ring.epoch_ = epoch;
  ring.shift_ = 64 - static_cast<uint32_t>(std::countr_zero(partitions));
  return ring;
}

Result<Ring> Ring::FromOwners(std::vector<NodeId> members, std::vector<NodeId> owners,
                              uint32_t n, uint64_t epoch) {
  const uint32_t partitions = static_cast<uint32_t>(owners.size());
  RINGKV_RETURN_IF_ERROR(CheckShape(partitions, n, &members));
  for (const NodeId& owner : owners) {
    if (!std::binary_search(members.begin(), members.end(), owner)) {
      return Status::InvalidArgument("owner '" + owner + "' is not a member");
    }
  }
  Ring ring;
  ring.owners_ = std::move(owners);
  ring.members_ = std::move(members);
  ring.n_ = n;
  ring.epoch_ = epoch;
  ring.shift_ = 64 - static_cast<uint32_t>(std::countr_zero(partitions));
  return ring;
}

const NodeId* Ring::HandoverTarget(uint32_t partition, const NodeId& from) const {
  for (const Handover& h : handovers_) {
    if (h.partition == partition && h.from == from) return &h.to;
  }
  return nullptr;
}

void Ring::set_departing(std::vector<NodeId> departing) {
  std::sort(departing.begin(), departing.end());
  departing_ = std::move(departing);
}

Result<Ring> Ring::Rebalanced(std::vector<NodeId> members, uint64_t epoch) const {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (members.empty()) return Status::InvalidArgument("a ring needs at least one member");
  Owners current;
  current.reserve(owners_.size());
  for (const NodeId& owner : owners_) {
    auto it = std::lower_bound(members.begin(), members.end(), owner);
    current.push_back(it != members.end() && *it == owner
                          ? static_cast<uint32_t>(it - members.begin())
                          : kNoOwner);
  }
  const Owners claim = Reclaim(current, static_cast<uint32_t>(members.size()), n_);
  Ring ring = *this;
  ring.handovers_.clear();
  ring.departing_.clear();
  for (size_t p = 0; p < claim.size(); ++p) ring.owners_[p] = members[claim[p]];
  ring.members_ = std::move(members);
  ring.epoch_ = epoch;
  return ring;
}

uint32_t Ring::PartitionOf(uint64_t key_hash) const {
  // Shifting a 64-bit value by 64 is undefined; one partition holds all.
  if (shift_ >= 64) return 0;
  return static_cast<uint32_t>(key_hash >> shift_);
}

Placement Ring::PlacementFor(uint64_t key_hash, uint32_t n) const {
  return PlacementForPartition(PartitionOf(key_hash), n);
}

std::vector<NodeId> Ring::Walk(uint32_t partition, size_t limit) const {
  const uint32_t q = partitions();
  const size_t m = members_.size();
  limit = std::min(limit, m);
  std::vector<bool> seen(m, false);
  std::vector<NodeId> walk;
  walk.reserve(limit);
  auto visit = [&](const NodeId& node) {
    if (walk.size() >= limit) return;
    const size_t idx = static_cast<size_t>(
        std::lower_bound(members_.begin(), members_.end(), node) - members_.begin());
    if (seen[idx]) return;
    seen[idx] = true;
    walk.push_back(node);
  };
  for (uint32_t i = 0; i < q && walk.size() < limit; ++i) {
    visit(owners_[(partition % q + i) % q]);
  }
  // Members owning no partition (more members than partitions) come last,
  // in sorted order, so that placement still finds min(n, M) nodes.
  for (const NodeId& node : members_) visit(node);
  return walk;
}

std::vector<NodeId> Ring::PrimariesFor(uint64_t key_hash, uint32_t n) const {
  return Walk(PartitionOf(key_hash), n);
}

Placement Ring::PlacementForPartition(uint32_t partition, uint32_t n) const {
  const size_t m = members_.size();
  const std::vector<NodeId> walk = Walk(partition, m);
  Placement placement;
  const size_t primaries = std::min<size_t>(n, m);
  placement.primaries.assign(walk.begin(), walk.begin() + primaries);
  for (auto it = walk.begin() + primaries; it != walk.end(); ++it) {
    if (!std::binary_search(departing_.begin(), departing_.end(), *it)) {
      placement.fallbacks.push_back(*it);
    }
  }
  return placement;
}

bool Ring::Replicates(uint32_t partition, uint32_t n, const NodeId& node) const {
  const std::vector<NodeId> primaries = PlacementForPartition(partition, n).primaries;
  return std::find(primaries.begin(), primaries.end(), node) != primaries.end();
}

ClaimReport Ring::Report() const {
  ClaimReport report;
  Owners owners;
  owners.reserve(owners_.size());
  std::vector<uint32_t> counts(members_.size(), 0);
  for (const NodeId& node : owners_) {
    const uint32_t idx = static_cast<uint32_t>(
        std::lower_bound(members_.begin(), members_.end(), node) - members_.begin());
    owners.push_back(idx);
    ++counts[idx];
  }
  report.violations = CountViolations(owners, n_);
  report.min_partitions = *std::min_element(counts.begin(), counts.end());
  report.max_partitions = *std::max_element(counts.begin(), counts.end());
  return report;
}

}  // namespace ringkv
