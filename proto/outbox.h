// Outbox: how protocol code sends a message to another node. It stamps the
// message with this node's id, its process generation and its monotonic
// clock (so the receiver can tell how long it waited: proto/message_age.h),
// encodes it and hands the bytes to the Transport.
//
// Single-threaded, on the node's loop. The clock and transport must outlive
// the Outbox.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "common/transport.h"
#include "proto/messages.h"

namespace ringkv {

class Outbox {
 public:
  Outbox(NodeId self, uint64_t generation, Clock* clock, Transport* transport)
      : self_(std::move(self)), generation_(generation), clock_(clock), transport_(transport) {}

  void Send(const NodeId& to, Message m);

  const NodeId& self() const { return self_; }
  uint64_t generation() const { return generation_; }

 private:
  NodeId self_;
  uint64_t generation_;
  Clock* clock_;
  Transport* transport_;
};

}  // namespace ringkv
