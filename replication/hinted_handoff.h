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
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/liveness.h"
#include "common/scheduler.h"
#include "common/transport.h"
#include "proto/messages.h"
#include "proto/outbox.h"
#include "replication/hint_store.h"

namespace ringkv {

struct HandoffOptions {
  // Hints delivered per second by this node, over all targets.
  double rate_per_sec = 2000;
  // Unacknowledged hints in flight per target.
  uint32_t max_in_flight = 64;
  int64_t tick_us = 100'000;
  // An unacknowledged hint is sent again after this long.
  int64_t ack_timeout_us = 5'000'000;
};

class HintedHandoff {
 public:
  // Request ids of hint deliveries have the top bit set, so the node can
  // route their acknowledgements here.
  static bool OwnsRequestId(uint64_t id) { return (id >> 63) != 0; }

  // All pointers must outlive this.
  HintedHandoff(Outbox* outbox, HintStore* hints, const Liveness* liveness, HandoffOptions options,
                Clock* clock, Scheduler* scheduler);
  ~HintedHandoff();

  void Start();
  // An acknowledgement (or error) for a delivery.
  void OnReply(const Message& reply);

  uint64_t delivered() const { return delivered_; }

 private:
  struct InFlight {
    HintStore::Entry entry;
    int64_t sent_us = 0;
  };

  void Tick();
  void DeliverTo(const NodeId& target, int64_t now);

  Outbox* outbox_;
  HintStore* hints_;
  const Liveness* liveness_;
  HandoffOptions options_;
  Clock* clock_;
  Scheduler* scheduler_;
  TimerId timer_ = 0;
  double tokens_ = 0;
  int64_t last_refill_us_ = 0;
  uint64_t next_id_ = 1;
  uint64_t delivered_ = 0;
  std::map<NodeId, std::string> cursor_;  // last hint key sent, per target
  std::map<NodeId, uint32_t> in_flight_count_;
  std::unordered_map<uint64_t, InFlight> in_flight_;
};

}  // namespace ringkv
