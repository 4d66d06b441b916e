// HintedHandoff: hands stored hints back to their targets once those are up.
//
// Every tick it takes, for each target the failure detector believes up, the
// next hints in key order and sends each as a replica write (the target
// merges it causally, like any replica write). A hint is deleted only after
// the target acknowledged it (HintStore::RemoveDelivered). Delivery is paced
// by a token bucket so a returning node is not flooded by every other node's
// backlog at once (the hint storms seen in Cassandra and Scylla).
// Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/liveness.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/transport.h"
#include "proto/messages.h"
#include "replication/hint_store.h"
#include "rpc/peer_rpc.h"

namespace ringkv {

struct HandoffOptions {
  // Hints delivered per second by this node, over all targets.
  double rate_per_sec = 2000;
  // Unacknowledged hints in flight per target.
  uint32_t max_in_flight = 64;
  int64_t tick_us = 100'000;
  // A delivery not acknowledged within this long has failed, and the hint
  // is sent again on a later pass.
  int64_t ack_timeout_us = 5'000'000;
};

class HintedHandoff {
 public:
  // All pointers must outlive this.
  HintedHandoff(PeerRpc* rpc, HintStore* hints, const Liveness* liveness, HandoffOptions options,
                Clock* clock, Scheduler* scheduler, MetricsRegistry* metrics);
  ~HintedHandoff();

  void Start();

  uint64_t delivered() const { return delivered_->value(); }

 private:
  void Tick();
  void DeliverTo(const NodeId& target, int64_t now);
  void OnAck(const std::string& key, const HintStore::Entry& entry,
             const Result<MessageBody>& answer);

  PeerRpc* rpc_;
  HintStore* hints_;
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
  MetricsRegistry::CallbackHandle in_flight_gauge_;
};

}  // namespace ringkv
