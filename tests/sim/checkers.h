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
// - HandoffComplete: NoLostWrites judged after every node's hints drained
//   and before the read-repair pass, so what it finds was healed by hinted
//   handoff (or the put itself), not by repair. A write whose coordinator
//   was killed before its own deadline for the put (a timeout after it
//   replied, at the latest) is excused when missing: the
//   coordinator records the hint for a primary that never answered when the
//   put finishes (at its deadline at the latest), and a crash before then
//   takes that hint with it (as in Cassandra; anti-entropy's job). Excused
//   misses are counted, not failed.
// - HintsDrained: after the heal, every node's HintCounts() became empty
//   within the bound.
// - Convergence: all primaries of every key hold equal objects.
// - AaeConvergence: all primaries of every key hold byte-identical objects
//   (their canonical encodings), or all hold none (a reaped tombstone).
// - NoResurrection: no primary holds a value sibling (by its dot) that an
//   acknowledged delete's context covered when the delete read it.
// With anti-entropy on (tombstones reaped), NoLostWrites owes no place to a
// delete's tombstone nor to a write a client knowingly superseded: the
// tombstone may be gone and its key written again from a context that
// never saw it. A value nobody superseded is still checked.
// - NoHangs: every request answered by its deadline (from the workload).
// - Lww: in a last-write-wins bucket every replica holds one sibling, and it
//   is not older (timestamp, node, incarnation, counter, value) than the
//   latest-stamped acknowledged write, unless a client's context superseded
//   that write; counts the acknowledged writes LWW discarded.
// - LwwOrder: in a last-write-wins bucket, no replica keeps the write X of
//   a key when another write Y to that key was acknowledged and invoked
//   more than twice the run's largest wall-clock error after X was
//   acknowledged. Timestamps come from the coordinators' skewed clocks, so
//   Lww alone accepts any survivor that carries the highest stamp; but
//   any coordination of X before its ack stamps it at most ack(X) + error,
//   and Y's at least invoke(Y) - error, so a surviving X was stamped after
//   its ack: a put coordinated again later (a replayed forward).
// - NoDuplicateSiblings: no replica holds two siblings with one value.
//   Values are unique per write, so that is one write coordinated twice
//   (two dots) and not folded back into one: a forward applied after its
//   forwarder gave up on it and retried elsewhere (issue 9), or a repeat
//   the merge missed.
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
  uint64_t excused = 0;     // handoff: missing writes excused (coordinator crashed)
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
CheckResult CheckNoResurrection(SimCluster& cluster, const History& history,
                                const std::string& bucket);
CheckResult CheckAaeConvergence(SimCluster& cluster, const History& history,
                                const std::string& bucket);
// Excused (counted, not failed): a write whose coordinator was killed
// before its deadline (the hint it owed was never written), and one
// invoked before any time in `disk_losses` (a node crashed for good with
// its disk: a hint it held as a fallback went with it).
CheckResult CheckHandoffComplete(SimCluster& cluster, const History& history,
                                 const std::string& bucket,
                                 const std::vector<int64_t>& disk_losses = {});

// What the run saw of hint delivery after the heal.
struct HintDrain {
  int64_t heal_us = 0;
  int64_t bound_us = 0;
  double rate_per_sec = 0;         // ServiceOptions.hint_rate_per_sec
  bool drained = false;
  int64_t drained_us = 0;          // when the last hint went (valid when drained)
  uint64_t pending_at_heal = 0;    // hints held over all nodes at the heal
  uint64_t delivered = 0;          // hints delivered over the whole run
  std::string leftover;            // "n001->n002: 3, ..." when not drained
};
CheckResult CheckHintsDrained(const HintDrain& drain);

CheckResult CheckConvergence(SimCluster& cluster, const History& history,
                             const std::string& bucket);
CheckResult CheckLww(SimCluster& cluster, const History& history, const std::string& bucket);
// `max_wall_error_us` bounds how far any node's wall clock was from true
// time during the run (SimCluster::MaxWallErrorUs).
CheckResult CheckLwwOrder(SimCluster& cluster, const History& history, const std::string& bucket,
                          int64_t max_wall_error_us);
CheckResult CheckNoDuplicateSiblings(SimCluster& cluster, const History& history,
                                     const std::string& bucket);
CheckResult CheckNoHangs(const std::vector<std::string>& hangs);

}  // namespace ringkv::sim
