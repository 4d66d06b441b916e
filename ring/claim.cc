#include "ring/claim.h"

#include <algorithm>
#include <utility>

namespace ringkv {
namespace {


// Bounds on the claim's searches so that a claim stays fast for any input.
constexpr uint64_t kTailSearchBudget = 100000;
constexpr uint64_t kSwapSearchBudget = 500000;

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

}  // namespace

uint32_t CountViolations(const Owners& owners, uint32_t n) {
  uint32_t v = 0;
  for (uint32_t p = 0; p < owners.size(); ++p) v += WindowRepeats(owners, p, n) ? 1 : 0;
  return v;
}

Owners ClaimFromScratch(uint32_t m, uint32_t q, uint32_t n) {
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

namespace {

// Members that get one partition above Q / M: those owning the most now
// (lowest index first among equals), so that fewest partitions move.
std::vector<uint32_t> Targets(const std::vector<uint32_t>& counts, uint32_t q) {
  const uint32_t m = static_cast<uint32_t>(counts.size());
  std::vector<uint32_t> targets(m, q / m);
  std::vector<uint32_t> order(m);
  for (uint32_t i = 0; i < m; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return counts[a] > counts[b]; });
  for (uint32_t k = 0; k < q % m; ++k) ++targets[order[k]];
  return targets;
}

// Whether `member` owns a partition within n-1 of `p` on either side: owning
// p too would make a window repeat.
bool NearbyOwner(const Owners& owners, uint32_t p, uint32_t member, uint32_t n) {
  const uint32_t q = static_cast<uint32_t>(owners.size());
  for (uint32_t d = 1; d < n && d < q; ++d) {
    if (owners[(p + d) % q] == member || owners[(p + q - d) % q] == member) return true;
  }
  return false;
}

// ClaimFromScratch(m, q, n) with its members renamed so that each keeps as
// many of its current partitions as the fresh shape allows: greedily, the
// (slot, member) pair sharing the most partitions first.
Owners FreshClaimKeepingOwners(const Owners& current, uint32_t m, uint32_t n) {
  const uint32_t q = static_cast<uint32_t>(current.size());
  Owners fresh = ClaimFromScratch(m, q, n);
  std::vector<std::vector<uint32_t>> shared(m, std::vector<uint32_t>(m, 0));
  for (uint32_t p = 0; p < q; ++p) {
    if (current[p] != kNoOwner) ++shared[fresh[p]][current[p]];
  }
  struct Pair {
    uint32_t count, slot, member;
  };
  std::vector<Pair> pairs;
  for (uint32_t slot = 0; slot < m; ++slot) {
    for (uint32_t member = 0; member < m; ++member) {
      pairs.push_back({shared[slot][member], slot, member});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const Pair& a, const Pair& b) { return a.count > b.count; });
  std::vector<uint32_t> rename(m, kNoOwner);
  std::vector<bool> taken(m, false);
  for (const Pair& pair : pairs) {
    if (rename[pair.slot] != kNoOwner || taken[pair.member]) continue;
    rename[pair.slot] = pair.member;
    taken[pair.member] = true;
  }
  for (uint32_t& owner : fresh) owner = rename[owner];
  return fresh;
}

}  // namespace

Owners Reclaim(const Owners& current, uint32_t m, uint32_t n) {
  const uint32_t q = static_cast<uint32_t>(current.size());
  Owners owners = current;
  std::vector<uint32_t> counts(m, 0);
  for (uint32_t o : owners) {
    if (o != kNoOwner) ++counts[o];
  }
  const std::vector<uint32_t> targets = Targets(counts, q);

  // What must move: a departed member's partitions, and each member's
  // excess over its target, released at evenly spaced points of the ring
  // (the first partition at or after each point whose owner still has
  // excess) so that whoever takes them gets them spread out.
  std::vector<uint32_t> pool;
  for (uint32_t p = 0; p < q; ++p) {
    if (owners[p] == kNoOwner) pool.push_back(p);
  }
  std::vector<uint32_t> excess(m, 0);
  uint32_t total_excess = 0;
  for (uint32_t member = 0; member < m; ++member) {
    excess[member] = counts[member] > targets[member] ? counts[member] - targets[member] : 0;
    total_excess += excess[member];
    counts[member] -= excess[member];
  }
  for (uint32_t k = 0; k < total_excess; ++k) {
    const uint32_t start = static_cast<uint32_t>(uint64_t{k} * q / total_excess);
    for (uint32_t d = 0; d < q; ++d) {
      const uint32_t p = (start + d) % q;
      if (owners[p] == kNoOwner || excess[owners[p]] == 0) continue;
      --excess[owners[p]];
      owners[p] = kNoOwner;
      pool.push_back(p);
      break;
    }
  }
  std::sort(pool.begin(), pool.end());

  // Each freed partition goes to the member furthest below its target that
  // no nearby partition already names; when every candidate is nearby, to
  // the one furthest below.
  for (uint32_t p : pool) {
    uint32_t best = kNoOwner;
    bool best_clear = false;
    for (uint32_t member = 0; member < m; ++member) {
      if (counts[member] >= targets[member]) continue;
      const bool clear = !NearbyOwner(owners, p, member, n);
      const bool better = best == kNoOwner || (clear && !best_clear) ||
                          (clear == best_clear &&
                           targets[member] - counts[member] > targets[best] - counts[best]);
      if (better) {
        best = member;
        best_clear = clear;
      }
    }
    owners[p] = best;
    ++counts[best];
  }
  uint32_t violations = CountViolations(owners, n);
  if (violations > 0) {
    RepairBySwaps(&owners, n);
    violations = CountViolations(owners, n);
  }
  if (violations == 0) return owners;
  // The greedy path can leave windows repeating that a fresh claim avoids
  // (tight rings: M close to N). Spread outranks transfer cost, so take the
  // fresh claim then, with its members chosen to keep what they can.
  Owners fresh = FreshClaimKeepingOwners(current, m, n);
  return CountViolations(fresh, n) < violations ? fresh : owners;
}

}  // namespace ringkv
