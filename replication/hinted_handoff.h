// HintedHandoff: hands stored hints back to their targets once those are up.
// A hint written before a ring change goes where its target's copy is now
// (HandoffOptions::route).
//
// Every tick it takes, for each target, the next hints in key order and
// sends each as a replica write (merged causally, like any replica write)
// to where the route says the target's copy is now, once every node it goes
// to is believed up. A hint is deleted only after every node it was sent to
// acknowledged it (HintStore::RemoveDelivered). Delivery is paced
// by a token bucket so a returning node is not flooded by every other node's
// backlog at once (the hint storms seen in Cassandra and Scylla).
// Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/liveness.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/transport.h"
#include "proto/messages.h"
#include "replication/hint_store.h"
#include "rpc/peer_rpc.h"

namespace ringkv {

class Replica;

struct HandoffOptions {
  // Hints delivered per second by this node, over all targets.
  double rate_per_sec = 2000;
  // Unacknowledged hints in flight per target.
  uint32_t max_in_flight = 64;
  int64_t tick_us = 100'000;
  // A delivery not acknowledged within this long has failed, and the hint
  // is sent again on a later pass.
  int64_t ack_timeout_us = 5'000'000;
  // A hint that cannot be delivered as it is (too large to send, or
  // refused by its target as invalid or too large) is parked: left alone
  // for this long, then tried once more, each new refusal doubling the
  // wait up to park_max_us. It stays stored; a later write merged into it,
  // or a target that changed its mind, may yet let it through.
  int64_t park_initial_us = 60'000'000;
  int64_t park_max_us = 3'600'000'000;
  // Told one line whenever a hint is parked; may be empty.
  std::function<void(const std::string&)> warn;
  // Where a hint goes now, the ring having changed since it was written
  // (empty, or unset: to its target alone): its target and the node its
  // copy of the partition streams to while the partition moves (the pair
  // a coordinator writes), or the partition's replicas once its target
  // replicates it no more. A hint is removed once every node named
  // acknowledged it; this node's own copy is merged locally.
  std::function<std::vector<NodeId>(const HintStore::Entry&)> route;
  // Whether a hint target is still a member of the ring: hints for one
  // that is not are delivered (routed) whether or not it seems up.
  std::function<bool(const NodeId&)> member;
};

class HintedHandoff {
 public:
  // All pointers must outlive this.
  HintedHandoff(PeerRpc* rpc, HintStore* hints, Replica* replica, const Liveness* liveness,
                HandoffOptions options, Clock* clock, Scheduler* scheduler,
                MetricsRegistry* metrics);
  ~HintedHandoff();

  void Start();

  uint64_t delivered() const { return delivered_->value(); }

 private:
  void Tick();
  void DeliverTo(const NodeId& target, int64_t now);
  // Sends the hint `key` to each of `to`; OnAck gets the first failure,
  // else ok, once all answered.
  void Deliver(const std::string& key, HintStore::Entry entry, const std::vector<NodeId>& to,
               int64_t now);
  void OnAck(const std::string& key, const HintStore::Entry& entry, const Status& status);
  // Leaves the hint `key` alone for a while, and says why.
  void Park(const std::string& key, const HintStore::Entry& entry, const Status& why, int64_t now);
  // Whether none of `target`'s hints may go now, each still waiting for
  // its ack or parked and not yet due: the pass then skips the target
  // without reading them.
  bool NothingToSend(const NodeId& target, const std::set<std::string>& flying,
                     int64_t now) const;

  struct Parked {
    NodeId target;
    int64_t retry_at_us = 0;
    int64_t backoff_us = 0;
  };

  PeerRpc* rpc_;
  HintStore* hints_;
  Replica* replica_;
  const Liveness* liveness_;
  HandoffOptions options_;
  Clock* clock_;
  Scheduler* scheduler_;
  TimerId timer_ = 0;
  double tokens_ = 0;
  int64_t last_refill_us_ = 0;
  Counter* delivered_;
  Counter* sent_;
  std::map<NodeId, std::string> cursor_;  // last hint key sent, per target
  // Hint keys sent and not yet acknowledged (nor failed), per target.
  std::map<NodeId, std::set<std::string>> in_flight_;
  // Hints that cannot be delivered as they are, by hint key: at most one
  // entry per stored hint.
  std::map<std::string, Parked> parked_;
  Counter* refused_;
  MetricsRegistry::CallbackHandle in_flight_gauge_;
  MetricsRegistry::CallbackHandle parked_gauge_;
};

}  // namespace ringkv
