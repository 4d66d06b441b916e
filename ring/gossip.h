// Gossiper: heartbeat gossip and liveness for one node (issue 4,
// "Membership and liveness").
//
// Every round (interval_us, jittered by +-10% so nodes do not synchronise)
// the node bumps its own heartbeat version and sends its whole heartbeat
// table, as a Gossip message, to `fanout` random members it believes up and,
// with probability down/(up+1) (Cassandra's rule), to one member it believes
// down, so that a returning node is rediscovered even when all peers think
// it is gone. A received heartbeat newer than the known one ((generation,
// version) compared lexicographically) is recorded and counts as an arrival
// for the phi-accrual detector (ring/failure_detector.h); a higher
// generation means the node restarted and starts a fresh arrival window.
//
// A node is the authority on its own heartbeat. Gossip relays heartbeats,
// so one bad entry (a buggy peer's, or a forged one claiming a generation or
// version from the future) would otherwise outrank every real heartbeat
// after it, and hold a live or restarted node down for good. So when a node's
// own gossip carries a heartbeat of itself that the record contradicts (the
// record has a higher generation, or is more than kMaxVersionLead beats
// ahead in the same generation, which no real count can be), the node's own
// word replaces the record and starts a fresh arrival window: a restart
// always wins at the restarted node's first gossip.
//
// Liveness: self is always up; a peer is up while its phi < phi_threshold.
// A peer never heard from is treated as if heard at Start(): it is up for
// the first threshold/kPhiFactor gossip intervals (18.4 s at the defaults)
// and down after that, so a node that never came up is reported down, while
// a cluster whose nodes start a few seconds apart does not flap.
// Down peers stay members: this class never changes membership, and
// heartbeats for non-members (or for self) are ignored.
//
// It is the node's Liveness (common/liveness.h): coordinators and hinted
// handoff ask it who is up.
//
// Talks to the world only through Clock, Scheduler, PeerRpc and Random.
// Single-threaded: every method and callback runs on the owning loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/liveness.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "common/transport.h"
#include "proto/messages.h"
#include "rpc/peer_rpc.h"
#include "ring/failure_detector.h"

namespace ringkv {

struct GossipOptions {
  int64_t interval_us = 1'000'000;
  double phi_threshold = 8.0;
  uint32_t fanout = 2;
};

class Gossiper final : public Liveness {
 public:
  // `members` may include self; duplicates are ignored. The pointers must
  // outlive the Gossiper.
  Gossiper(NodeId self, uint64_t generation, std::vector<NodeId> members,
           GossipOptions options, Clock* clock, Scheduler* scheduler, PeerRpc* rpc,
           Random* random);
  ~Gossiper() override;
  Gossiper(const Gossiper&) = delete;
  Gossiper& operator=(const Gossiper&) = delete;

  // Starts gossip rounds (the first within one interval). Idempotent.
  void Start();
  // Cancels the round timer; state and views stay readable. Idempotent.
  void Stop();

  // The members changed (a new ring epoch): new ones are gossiped to and
  // judged from now on, removed ones forgotten. Self always stays.
  void SetMembers(std::vector<NodeId> members);

  // Beats a relayed record may lead its node's own word by: reordering in
  // flight, never a real count (one beat per round).
  static constexpr uint64_t kMaxVersionLead = 1000;

  // A Gossip message sent by `from` (the node's owner listens for them on
  // the PeerRpc, whose senders are authenticated, and hands them here).
  void OnGossip(const NodeId& from, const Gossip& gossip);

  bool IsUp(const NodeId& node) const override;
  // Whether `node`'s heartbeat advanced while this node watched (two
  // arrivals of one incarnation): evidence that it lives. IsUp is not,
  // for a node never heard from or known only by a relayed record (a
  // dead member's last heartbeat, relayed to a node that just started).
  bool HeardAlive(const NodeId& node) const;
  // Current phi of `node` (0 for self).
  double Phi(const NodeId& node) const;
  // One entry per member (self included), in member order.
  std::vector<PeerState> View() const;
  // Members other than self that are up / down now.
  std::vector<NodeId> UpPeers() const;
  std::vector<NodeId> DownPeers() const;

  // Called (on the loop) when a peer goes from down to up: when a newer
  // heartbeat arrives from a peer that was down.
  void SetOnUp(std::function<void(const NodeId&)> on_up) { on_up_ = std::move(on_up); }
  // Called when a peer is found down, at the latest at the next round.
  void SetOnDown(std::function<void(const NodeId&)> on_down) { on_down_ = std::move(on_down); }

  // Carried in outgoing gossip so peers can notice a newer ring; the highest
  // epoch heard from any peer is ring_epoch_seen().
  void set_ring_epoch(uint64_t epoch) { ring_epoch_ = epoch; }
  uint64_t ring_epoch_seen() const { return ring_epoch_seen_; }
  // The ring state record every gossip carries (replication/ring_keeper.h),
  // and who hears a peer's record of a higher epoch than ours (it may
  // still be anything: the listener decodes and judges it).
  void set_ring_state(std::string record) { ring_state_ = std::move(record); }
  void SetOnRingState(std::function<void(const NodeId&, const std::string&)> on_state) {
    on_ring_state_ = std::move(on_state);
  }
  // The ring epoch of each member: what it said in its last gossip to us,
  // or what its newest heartbeat relayed by others carried.
  const std::map<NodeId, uint64_t>& ring_epochs() const { return ring_epochs_; }

  // Detection-time accessors. The silence after which a peer heartbeating
  // every `mean_us` is convicted: phi_threshold / kPhiFactor * mean_us.
  int64_t DetectionSilenceUs(double mean_us) const;
  // The same for the default (expected) interval: 18.42 s at the defaults.
  int64_t ExpectedDetectionUs() const;
  // Worst case over any sampled history: the mean never exceeds the
  // detector's max interval (2 * interval_us).
  int64_t MaxDetectionUs() const;
  // When `node` will be convicted if nothing more arrives (nullopt: never heard).
  std::optional<int64_t> ConvictionTime(const NodeId& node) const;

  const NodeId& self() const { return self_; }
  uint64_t generation() const { return generation_; }
  const std::vector<NodeId>& members() const { return members_; }
  // Known heartbeats (self included), by node.
  const std::map<NodeId, Heartbeat>& heartbeats() const { return heartbeats_; }
  const FailureDetector& detector() const { return detector_; }
  uint64_t rounds() const { return rounds_; }

 private:
  bool IsMember(const NodeId& node) const;
  void ScheduleRound(int64_t delay_us);
  void Round();
  void SendTo(const NodeId& to);
  // Re-evaluates `node`'s up/down mark, firing on_down_ on up->down.
  void RefreshMark(const NodeId& node);

  NodeId self_;
  uint64_t generation_;
  std::vector<NodeId> members_;
  GossipOptions options_;
  Clock* clock_;
  Scheduler* scheduler_;
  PeerRpc* rpc_;
  Random* random_;
  FailureDetector detector_;

  std::map<NodeId, Heartbeat> heartbeats_;
  // Last up/down judgement per peer, used to detect transitions.
  std::map<NodeId, bool> marked_up_;
  std::function<void(const NodeId&)> on_up_;
  std::function<void(const NodeId&)> on_down_;
  bool running_ = false;
  TimerId timer_ = 0;
  int64_t start_us_ = 0;
  // Members added after the start, and when: silence is counted from then.
  std::map<NodeId, int64_t> added_us_;
  uint64_t ring_epoch_ = 0;
  uint64_t ring_epoch_seen_ = 0;
  std::string ring_state_;
  std::function<void(const NodeId&, const std::string&)> on_ring_state_;
  std::map<NodeId, uint64_t> ring_epochs_;
  uint64_t rounds_ = 0;
};

}  // namespace ringkv
