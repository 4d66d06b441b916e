// Checkers: what a chaos run must satisfy, judged from the History and from
// every key's replicas read directly after the heal (ReplicaGetRequest to
// each primary, never through a quorum). Pure functions; thread-compatible.
//
// - lost: every acknowledged write to a siblings bucket is a sibling of the
//   key's merged replicas (writers write blind, so nothing supersedes it).
// - never-written: every value any replica holds was invoked by some write.
// - lww-order: in a last-write-wins bucket, a write acknowledged before
//   another acknowledged write was invoked never wins over it (the issue 9
//   figure "acknowledged writes overwritten").
// - duplicate-siblings: no replica, and no merge of replicas, holds one
//   value twice (values are unique, so a duplicate is one write applied as
//   two, e.g. a replayed forward).
// - convergence: every primary of every key answered and holds an object
//   equal to the others'.
// - availability: of the writes that the quorum rules say must succeed while
//   a fault is in effect (see WriteShouldSucceed), at least a given share
//   were acknowledged, per kind of fault.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "causality/object.h"
#include "tests/chaos/history.h"

namespace ringkv::chaos {

struct ReplicaRead {
  int node = 0;  // 1-based
  bool answered = false;
  bool found = false;
  Object object;
};

// One key as read after the heal: one entry per primary, in preference order.
struct KeyState {
  std::string bucket, key;
  bool lww = false;
  std::vector<ReplicaRead> replicas;
};

// Every replica answered and all hold equal objects.
bool Converged(const KeyState& key);

// The merge of every answering replica, as a node merges them (Sync, or
// MergeLww in an lww bucket): what a read at R = all would return.
Object MergedObject(const KeyState& key);

struct CheckResult {
  explicit CheckResult(std::string checker) : name(std::move(checker)) {}
  std::string name;
  uint64_t checked = 0;  // items examined: writes, keys, siblings
  uint64_t violations = 0;
  std::vector<std::string> examples;  // the first 20 violations, described
  // Every offending value (or "bucket/key" for convergence), so that a test
  // can tell which violation a planted bug caused.
  std::set<std::string> subjects;
  bool ok() const { return violations == 0; }
  void Violation(std::string subject, std::string what);
};

CheckResult CheckLost(const std::vector<Op>& ops, const std::vector<KeyState>& keys);
CheckResult CheckNeverWritten(const std::vector<Op>& ops, const std::vector<KeyState>& keys);
CheckResult CheckLwwOrder(const std::vector<Op>& ops, const std::vector<KeyState>& keys);
CheckResult CheckDuplicateSiblings(const std::vector<KeyState>& keys);
CheckResult CheckConvergence(const std::vector<KeyState>& keys);

// A stretch of the run with one state of faults. Fault-free stretches are
// windows of kind "none".
struct FaultWindow {
  std::string kind;                    // "none", "kill", "pause", "wipe", "partition-pair", ...
  int64_t start_us = 0;                // the fault in effect (killed, stopped, rules in place)
  int64_t end_us = 0;                  // its heal begins
  std::set<int> down;                  // nodes not serving: killed, paused or wiped
  std::set<std::pair<int, int>> cuts;  // (a, b), a < b: pairs that cannot talk
  bool Reaches(int a, int b) const;
};

// Whether a write sent to `node` must succeed under `window` by the quorum
// rules: the node serves, and a primary it reaches (itself if it is one),
// which coordinates the write, reaches at least `w` primaries, itself
// included. Fallbacks are not counted: sloppy quorum may do better, never
// worse. `primaries` are 1-based node numbers.
bool WriteShouldSucceed(const FaultWindow& window, int node, const std::vector<int>& primaries,
                        uint32_t w);

struct AvailabilityRow {
  std::string kind;
  uint64_t windows = 0;   // windows of this kind
  uint64_t expected = 0;  // writes within a window that must succeed
  uint64_t ok = 0;        // of those, acknowledged
};

using PrimariesFn =
    std::function<std::vector<int>(const std::string& bucket, const std::string& key)>;

// Only writes invoked after a window began and completed before it ended
// count for it; the rest straddle a change and are judged by nobody.
// Violation: a kind whose share of expected writes acknowledged is below
// `min_share`. `rows` receives one row per kind, in order of first use.
CheckResult CheckAvailability(const std::vector<Op>& ops, const std::vector<FaultWindow>& windows,
                              const PrimariesFn& primaries_of,
                              const std::map<std::string, uint32_t>& w_of_bucket, double min_share,
                              std::vector<AvailabilityRow>* rows);

}  // namespace ringkv::chaos
