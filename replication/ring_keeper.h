// RingKeeper: one node's ring state (ring/ring_state.h) and the protocol
// that changes it (docs/ring-changes.md).
//
// - Holds the state, persists it (meta key "ring_state", synced) before it
//   acts on it, publishes its placement to the service's Membership, and
//   rides its record on every gossip. A gossiped record of a higher epoch
//   is decoded, checked (ValidateState, size, same partition count) and
//   adopted; anything else is refused with a warning naming the sender.
// - Answers RingAdminRequest from clients (ringkv-admin, a joining node)
//   and peers. Changes go to the claimant (the lowest valid id): any other
//   member forwards them there. The claimant changes the ring only while it
//   sees a majority of the valid members up; every change is a new epoch.
// - Drives transfers (replication/transfers.h) from a periodic tick, tells
//   the claimant of each one received, which flips ownership in a new
//   epoch when the last is in; then each receiver runs an anti-entropy
//   exchange of each partition it received with each other replica (the
//   catch-up hook; owed until all succeeded, across restarts), and once every
//   member gossips the new epoch and `cleanup_delay_us` has passed, each
//   node deletes the objects of partitions it no longer replicates, and
//   sweeps again every `cleanup_delay_us` for copies that came late.
//
// Single-threaded, on the node's loop; talks to the world through the
// service's PeerRpc, Storage, Clock and Scheduler.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/status.h"
#include "replication/service.h"
#include "replication/transfers.h"
#include "ring/ring_state.h"
#include "storage/storage.h"

namespace ringkv {

struct RingKeeperOptions {
  int64_t tick_us = 1'000'000;
  TransferOptions transfers;
  // After a change completes, before a node deletes what it no longer
  // replicates (and only once every member gossips the epoch).
  int64_t cleanup_delay_us = 10'000'000;
  // Objects deleted per tick by that cleanup.
  size_t cleanup_batch = 2000;
  // One anti-entropy exchange of `partition` with `peer`, after a change
  // moved it here; `done` gets its status (Busy: try again). Empty: none.
  std::function<void(uint32_t partition, const NodeId& peer, std::function<void(Status)> done)>
      catch_up;
  std::function<void(const std::string&)> warn;
  std::function<void(const std::string&)> info;
};

// The longest a failed catch-up exchange waits before it is tried again.
inline constexpr int64_t kCatchUpBackoffMaxUs = 60'000'000;
// The wait after `failures` failures of one partition's catch-up: a tick,
// doubled at each failure, at most kCatchUpBackoffMaxUs.
int64_t CatchUpBackoffUs(uint32_t failures, int64_t tick_us);

class RingKeeper {
 public:
  // The state persisted in `storage`, if any.
  static Result<std::optional<RingState>> Load(Storage* storage);
  // Of two candidate states for a starting node, the one to start with:
  // the persisted one unless `given` has a higher epoch.
  static RingState Choose(std::optional<RingState> persisted, RingState given);

  // `service` must have been built with PlacementRing(initial). Pointers
  // must outlive this.
  RingKeeper(RingKeeperOptions options, RingState initial, Service* service, Storage* storage,
             Clock* clock, Scheduler* scheduler, MetricsRegistry* metrics);
  ~RingKeeper();
  RingKeeper(const RingKeeper&) = delete;
  RingKeeper& operator=(const RingKeeper&) = delete;

  // Persists the initial state, serves peers, starts the tick.
  Status Start();

  const RingState& state() const { return state_; }
  // Partitions received in completed changes whose catch-up exchange has
  // not run yet.
  size_t pending_catch_ups() const { return catch_up_.size(); }
  Transfers& transfers() { return *transfers_; }
  // This node's transfers (Transfers::Report) and the catch-up exchanges
  // it owes, with the failures of each.
  TransferReport Report() const;

  // A RingAdminRequest from a client (from_peer empty) or a peer.
  void Handle(const RingAdminRequest& request, const NodeId& from_peer, int64_t deadline_us,
              PeerRpc::Respond respond);

  // Makes `next` the state when its epoch is higher: persisted, then
  // published. Returns whether it did, or the storage error.
  Result<bool> Adopt(RingState next);

  // The claimant's check before `request` changes the ring: this node is
  // the claimant (for a mark-down, the claimant once that member is down),
  // sees a majority of the valid members up, and no member it sees up
  // gossips a higher ring epoch.
  Status CanCommit(const RingAdminRequest& request) const;

 private:
  void OnGossipedState(const NodeId& from, const std::string& record);
  void Tick();
  void ScheduleTick();
  // Every member with an address gossips an epoch >= `epoch` to us.
  bool AllKnow(uint64_t epoch) const;
  std::optional<NodeId> ClaimantFor(const RingAdminRequest& request) const;
  void Claim(const RingAdminRequest& request, int64_t deadline_us, PeerRpc::Respond respond);
  // Answers a change once a majority of the valid members gossip `epoch`,
  // so that the claimant's death right after cannot lose it; Unavailable
  // at `until_us` (the change stands: it spreads by gossip).
  void AwaitMajority(uint64_t epoch, int64_t until_us, PeerRpc::Respond respond);
  // The claimant's tick: a down member seen up again is valid again.
  void MarkUpReturned();
  // Answers by three quarters of the time to `deadline_us` (at most
  // kPlanSizesMaxUs): a sender that is down, or does not answer with its
  // sizes by then, leaves its moves' sizes unknown.
  void Plan(int64_t deadline_us, PeerRpc::Respond respond);
  void Reply(PeerRpc::Respond& respond, Status status);
  void OnReceived(const Move& move);
  void TellClaimant();
  void CatchUp();
  // When a request answered through a forwarding member must have its
  // answer ready: three quarters of the time left to `deadline_us`.
  int64_t ReplyBy(int64_t deadline_us) const;
  // One exchange of `partition` with each of `peers` from `next` on, in
  // turn; the partition is caught up when all succeeded.
  void ExchangeWith(uint32_t partition, std::vector<NodeId> peers, size_t next);
  // Drops `partition` (nullopt: every partition) from the exchanges owed,
  // in memory and on disk.
  void CaughtUp(std::optional<uint32_t> partition);
  void Cleanup();

  RingKeeperOptions options_;
  RingState state_;
  Service* service_;
  Storage* storage_;
  Clock* clock_;
  Scheduler* scheduler_;
  std::unique_ptr<Transfers> transfers_;
  TimerId tick_ = 0;
  // Moves received here and not yet marked done by the claimant.
  std::set<std::tuple<uint32_t, NodeId, NodeId>> to_report_;
  // Partitions received in a completed change, each owed one exchange;
  // persisted (meta key "ring_catch_up") so a restart still owes them.
  std::set<uint32_t> catch_up_;
  // What the exchanges owed met so far, in memory: the backoff after
  // failures (other than Busy), and the peers already done.
  struct CatchUpTries {
    uint32_t failures = 0;
    int64_t next_us = 0;
    NodeId peer;         // that failed last
    std::string reason;  // its status
    std::set<NodeId> done;
  };
  std::map<uint32_t, CatchUpTries> catch_up_tries_;
  bool catching_up_ = false;
  int64_t stable_since_us_ = 0;
  // The last epoch that changed a sender of the change in flight.
  uint64_t handover_epoch_ = 0;
  uint64_t cleaned_epoch_ = 0;
  int64_t cleaned_at_us_ = 0;  // the last full sweep of that epoch
  int64_t last_warn_us_ = 0;  // of the last refused gossiped state logged
  int64_t last_catch_up_warn_us_ = 0;
  Counter* adopted_;
  Counter* refused_;
  Counter* cleaned_objects_;
  Counter* catch_up_failures_;
  MetricsRegistry::CallbackHandle catch_up_gauge_;
  MetricsRegistry::CallbackHandle epoch_gauge_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv
