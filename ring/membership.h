// Membership: the cluster's ring as one versioned value, and who hears when
// it changes.
//
// One component publishes rings (today: the cluster file, as the first
// epoch; ring changes will publish the next ones); everything else reads
// the current ring when it needs it (a coordinator once per request) and
// may subscribe to hear of a new epoch: the gossiper and the peer transport
// add new members and drop removed ones. A ring is only ever replaced by one
// with a higher epoch, so a stale publication (a delayed gossip of an old
// ring) changes nothing.
//
// A reference from ring() is valid until the next successful Publish:
// protocol code copies what it needs (a preference list) per request.
// Single-threaded, on the node's loop; listeners run inside Publish.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/transport.h"
#include "ring/ring.h"

namespace ringkv {

class Membership {
 public:
  using Addresses = std::map<NodeId, std::string>;
  // `previous` is the ring just replaced; the current one is ring().
  using Listener = std::function<void(const Ring& previous)>;
  using SubscriptionId = uint64_t;

  explicit Membership(Ring initial, Addresses addresses = {})
      : ring_(std::move(initial)), addresses_(std::move(addresses)) {}

  const Ring& ring() const { return ring_; }
  uint64_t epoch() const { return ring_.epoch(); }
  // Where members are reached, "host:port" (those that are known).
  const Addresses& addresses() const { return addresses_; }

  // Makes `next` current when its epoch is higher than the current one and
  // tells every subscriber, in the order they subscribed. Returns whether
  // it did.
  bool Publish(Ring next, Addresses addresses);

  SubscriptionId Subscribe(Listener listener);
  void Unsubscribe(SubscriptionId id);

 private:
  Ring ring_;
  Addresses addresses_;
  SubscriptionId next_id_ = 1;
  std::vector<std::pair<SubscriptionId, Listener>> listeners_;
};

}  // namespace ringkv
