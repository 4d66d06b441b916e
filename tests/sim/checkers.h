// Checkers: the invariants a run must satisfy, judged from the History and
// from each replica's storage read directly (never through a quorum).
//
// - NoLostWrites: every acknowledged write is, on every primary replica,
//   present (its dot) or causally superseded: the replica's context covers
//   the dot AND a write the clients issued later carried a context covering
//   it (a context older than the write cannot have seen it: if it covers
//   the dot, the dot was reused, kv679).
//   (The second half is what catches a merge that drops a sibling: dropping
//   keeps the dot covered, but nobody superseded it.)
// - Convergence: all primaries of every key hold equal objects.
// - NoHangs: every request answered by its deadline (from the workload).
// - Lww: in a last-write-wins bucket every replica holds one sibling, and it
//   is not older (timestamp, node, incarnation, counter, value) than the
//   latest-stamped acknowledged write, unless a client's context superseded
//   that write; counts the acknowledged writes LWW discarded.
// Each returns a CheckResult; its errors name the key, replica and op.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/history.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {

struct CheckResult {
  std::string name;
  std::vector<std::string> errors;
  uint64_t checked = 0;     // items examined (writes, keys, ops)
  uint64_t discarded = 0;   // LWW: acknowledged writes that lost
  bool ok() const { return errors.empty(); }
  void Fail(std::string e) {
    if (errors.size() < 20) errors.push_back(std::move(e));
    ++failures;
  }
  uint64_t failures = 0;
};

// The keys the history touched in `bucket`, sorted.
std::vector<std::string> KeysOf(const History& history, const std::string& bucket);

CheckResult CheckNoLostWrites(SimCluster& cluster, const History& history,
                              const std::string& bucket);
CheckResult CheckConvergence(SimCluster& cluster, const History& history,
                             const std::string& bucket);
CheckResult CheckLww(SimCluster& cluster, const History& history, const std::string& bucket);
CheckResult CheckNoHangs(const std::vector<std::string>& hangs);

}  // namespace ringkv::sim
