#include "ring/ring.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

namespace ringkv {
namespace {

constexpr uint32_t kMaxPartitions = 1u << 20;
// Bounds on the claim's searches so that Create stays fast for any input.
constexpr uint64_t kTailSearchBudget = 100000;
constexpr uint64_t kSwapSearchBudget = 500000;

// Owners are member indexes during the claim; names come back at the end.
using Owners = std::vector<uint32_t>;

// Does the window of `n` partitions starting at `start` (cyclic) repeat an
// owner? Windows longer than the ring revisit a partition, so they do.
bool WindowRepeats(const Owners& owners, uint32_t start, uint32_t n) {
  const uint32_t q = static_cast<uint32_t>(owners.size());
  if (n > q) return true;
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = i + 1; j < n; ++j) {
      if (owners[(start + i) % q] == owners[(start + j) % q]) return true;
    }
  }
  return false;
}

uint32_t CountViolations(const Owners& owners, uint32_t n) {
  uint32_t v = 0;
  for (uint32_t p = 0; p < owners.size(); ++p) v += WindowRepeats(owners, p, n) ? 1 : 0;
  return v;
}

// Chooses the `r` extra partitions that end a striped ring (r = Q % M) so
// that the windows around the wrap stay distinct. Plain striping ends with
// members 0..r-1, which collide with the ring's start when r < N; any r
// distinct members keep the counts balanced, so search for ones that fit
// between the stripe's last N-1 owners and its first N-1 owners.
// Returns false (leaving `tail` unspecified) when none fit within budget.
class TailSearch {
 public:
  TailSearch(uint32_t m, uint32_t n, uint32_t r) : m_(m), n_(n), r_(r), used_(m, false) {
    for (uint32_t i = n - 1; i > 0; --i) seq_.push_back(m - i);  // stripe's end
  }

  bool Run(Owners* tail) {
    if (!Extend()) return false;
    tail->assign(seq_.begin() + (n_ - 1), seq_.end());
    return true;
  }

 private:
  // Placing `c` next must not repeat any of the previous n-1 owners.
  bool Fits(uint32_t c) const {
    const size_t lo = seq_.size() >= n_ - 1 ? seq_.size() - (n_ - 1) : 0;
    for (size_t i = lo; i < seq_.size(); ++i) {
      if (seq_[i] == c) return false;
    }
    return true;
  }

  // The first n-1 owners of the ring (0..n-2) must fit after the tail.
  bool WrapFits() {
    size_t pushed = 0;
    bool ok = true;
    for (uint32_t c = 0; c + 1 < n_; ++c) {
      if (!Fits(c)) {
        ok = false;
        break;
      }
      seq_.push_back(c);
      ++pushed;
    }
    seq_.resize(seq_.size() - pushed);
    return ok;
  }

  bool Extend() {
    if (++steps_ > kTailSearchBudget) return false;
    if (seq_.size() == (n_ - 1) + r_) return WrapFits();
    for (uint32_t c = 0; c < m_; ++c) {
      if (used_[c] || !Fits(c)) continue;
      used_[c] = true;
      seq_.push_back(c);
      if (Extend()) return true;
      seq_.pop_back();
      used_[c] = false;
    }
    return false;
  }

  uint32_t m_, n_, r_;
  std::vector<bool> used_;
  Owners seq_;
  uint64_t steps_ = 0;
};

// Violations among the windows that contain partition i or j.
uint32_t LocalViolations(const Owners& owners, uint32_t i, uint32_t j, uint32_t n) {
  const uint32_t q = static_cast<uint32_t>(owners.size());
  std::vector<uint32_t> starts;
  for (uint32_t k = 0; k < n; ++k) {
    starts.push_back((i + q - k) % q);
    starts.push_back((j + q - k) % q);
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  uint32_t v = 0;
  for (uint32_t s : starts) v += WindowRepeats(owners, s, n) ? 1 : 0;
  return v;
}

// Greedy repair: swap two partitions' owners (which keeps every member's
// count, hence balance) whenever that strictly lowers the violations, trying
// first the partitions inside a violating window. Deterministic.
void RepairBySwaps(Owners* owners, uint32_t n) {
  const uint32_t q = static_cast<uint32_t>(owners->size());
  uint64_t budget = kSwapSearchBudget;
  bool improved = true;
  while (improved && budget > 0) {
    improved = false;
    std::vector<uint32_t> bad;
    for (uint32_t p = 0; p < q; ++p) {
      if (!WindowRepeats(*owners, p, n)) continue;
      for (uint32_t k = 0; k < n; ++k) bad.push_back((p + k) % q);
    }
    if (bad.empty()) return;
    std::sort(bad.begin(), bad.end());
    bad.erase(std::unique(bad.begin(), bad.end()), bad.end());
    for (uint32_t i : bad) {
      for (uint32_t j = 0; j < q && budget > 0; ++j, --budget) {
        if ((*owners)[i] == (*owners)[j]) continue;
        const uint32_t before = LocalViolations(*owners, i, j, n);
        std::swap((*owners)[i], (*owners)[j]);
        if (LocalViolations(*owners, i, j, n) < before) {
          improved = true;
          break;
        }
        std::swap((*owners)[i], (*owners)[j]);
      }
      if (improved || budget == 0) break;
    }
  }
}

Owners Claim(uint32_t m, uint32_t q, uint32_t n) {
  // Striping gives every member floor(Q/M) or ceil(Q/M) partitions and makes
  // every window distinct except those crossing the wrap when Q % M != 0.
  Owners owners(q);
  for (uint32_t p = 0; p < q; ++p) owners[p] = p % m;
  const uint32_t r = q % m;
  if (m < n || r == 0 || r >= n || q < m) return owners;
  Owners tail;
  if (TailSearch(m, n, r).Run(&tail)) {
    std::copy(tail.begin(), tail.end(), owners.end() - r);
    return owners;
  }
  RepairBySwaps(&owners, n);
  return owners;
}

}  // namespace

Result<Ring> Ring::Create(std::vector<NodeId> members, uint32_t partitions, uint32_t n,
                          uint64_t epoch) {
  if (partitions == 0 || partitions > kMaxPartitions || !std::has_single_bit(partitions)) {
    return Status::InvalidArgument("partitions must be a power of two in [1, 2^20], got " +
                                   std::to_string(partitions));
  }
  if (n == 0) return Status::InvalidArgument("n must be at least 1");
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (members.empty()) return Status::InvalidArgument("a ring needs at least one member");

  const uint32_t m = static_cast<uint32_t>(members.size());
  const Owners claim = Claim(m, partitions, n);
  Ring ring;
  ring.owners_.reserve(partitions);
  for (uint32_t idx : claim) ring.owners_.push_back(members[idx]);
  ring.members_ = std::move(members);
  ring.n_ = n;
  ring.epoch_ = epoch;
  ring.shift_ = 64 - static_cast<uint32_t>(std::countr_zero(partitions));
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
  placement.fallbacks.assign(walk.begin() + primaries, walk.end());
  return placement;
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
