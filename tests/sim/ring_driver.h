// RingDriver: the operator of a ring-change scenario.
//
// It grows and shrinks the cluster through the requests that ship: a new
// node's join is the RingAdminRequest `ringkv-node --join` sends to any
// member (which forwards it to the claimant), and the node starts from the
// ring state that member answers with (SimCluster::StartJoined); leaves,
// replaces, `plan` and `commit PLAN_ID` are the requests `ringkv-admin ring` sends,
// each to a random member over the client protocol. Transfers, dual writes,
// the flip, the catch-up exchange and the cleanup are then the nodes' own
// work, under whatever the nemesis does. A member that left is stopped
// (SimCluster::Retire) once it is exiting and its cleanup deleted
// everything it held, as `ringkv-cluster remove` stops it.
//
// Requests lost to a crash, a pause or a cut link are retried (after a
// timeout) through another member; a refusal (minority, busy, a plan that
// changed since) is retried too; every reply's ring state tells the driver
// whether its change is staged or committed, so a retry after a lost reply
// does not stage twice. Steps run one after another. Every choice draws
// from the driver's Random. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "ring/ring_state.h"
#include "tests/sim/checkers.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {

// One committed change: `joins` absent nodes join (the lowest absent
// indices first), `leaves` valid members chosen at random leave, and each
// of `replaces` more absent nodes joins and takes exactly the partitions of
// a valid member chosen at random (`ringkv-admin ring replace OLD NEW`),
// which then leaves as the others do. A forced step (`force_removes` or
// `force_replaces`, alone in its step, as the claimant requires) first
// crashes valid members for good, their disks lost (SimCluster::Retire,
// then Wipe), then marks each down (`ring mark-down`, refused until the
// claimant sees it down) and stages `force-remove NODE`, or `force-replace
// NODE NEW` with NEW joined first.
struct RingStep {
  int joins = 0;
  int leaves = 0;
  int replaces = 0;
  int force_removes = 0;
  int force_replaces = 0;
};

class RingDriver {
 public:
  // `cluster` outlives the driver. The first step starts at `start_us`.
  RingDriver(SimCluster* cluster, std::vector<RingStep> steps, uint64_t seed, int64_t start_us);
  RingDriver(const RingDriver&) = delete;
  RingDriver& operator=(const RingDriver&) = delete;

  void Start();
  // Every step committed, completed, and every member that left stopped.
  bool done() const { return step_ >= steps_.size(); }
  // The check "ring-changes": fails unless done(), naming the step and the
  // phase it was stuck in.
  CheckResult Check() const;
  // Catch-up exchanges the running nodes still owe (RingKeeper).
  size_t PendingCatchUps() const;
  // The highest-epoch ring state among the running nodes.
  std::optional<RingState> LatestState() const;
  const std::vector<std::string>& log() const { return log_; }
  // When forced steps crashed a member for good, its disk lost.
  const std::vector<int64_t>& disk_losses() const { return disk_losses_; }

 private:
  enum class Phase { kStage, kPlan, kCommit, kWait, kDepart };

  // How `leaver` goes this step: leave or replace, forced or not.
  StagedChange::Kind LeaveKind(int leaver) const;

  void Next(int64_t delay_us);
  void Act();
  // One RingAdminRequest through a random running member; `reply` gets its
  // status and state, or Timeout when nothing came back in time.
  void Ask(RingAdminRequest request,
           std::function<void(const Status&, const RingAdminReply*)> reply);
  int PickMember();
  void Stage();
  void Note(const std::string& what);
  bool Staged(const RingState& s) const;
  bool Committed(const RingState& s) const;
  bool Completed(const RingState& s) const;
  void Observe(const RingAdminReply& reply);

  SimCluster* cluster_;
  std::vector<RingStep> steps_;
  Random random_;
  int64_t start_us_;
  size_t step_ = 0;
  Phase phase_ = Phase::kStage;
  std::vector<int> joiners_, leavers_;  // this step's
  std::map<int, int> replaced_by_;       // leaver -> the joiner replacing it
  bool forced_ = false;                  // this step's leavers are dead for good
  std::vector<int> departed_;
  std::vector<int64_t> disk_losses_;
  std::string plan_id_;
  uint64_t asks_ = 0;  // request generations: a late reply is ignored
  uint64_t next_request_id_ = uint64_t{1} << 48;
  std::optional<RingState> seen_;  // the newest state a reply carried
  std::vector<std::string> log_;
};

}  // namespace ringkv::sim
