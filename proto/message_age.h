// MessageAge: how long a peer's message waited between its sender's encoder
// and this node (queues, socket buffers, a stopped process), measured
// without synchronised clocks.
//
// Every node stamps what it sends with its process generation and its
// monotonic clock (Message::sender_generation, sent_mono_us). For each peer
// this keeps the smallest (arrival - sent) seen, which is the offset
// between the two monotonic clocks plus the smallest one-way delay; a
// message's age is how far its own (arrival - sent) lies above that. A
// message that sat in a stopped node's socket buffer for 9 s is 9 s old,
// whatever the wall clocks of the two nodes say.
//
// Monotonic clocks never jump, but drift: the estimate may rise by at most
// `drift_ppm` of the time since it was last lowered, so a drifting peer is
// followed while a backlog (whose samples are all high) is never taken for
// the new offset. Error: an age is under-estimated by at most the smallest
// one-way delay seen plus `drift_ppm` x the time since the peer's previous
// message (gossip makes that about a second: 1 ms at the default). A
// peer's higher generation (a restart, maybe on another host's clock)
// starts its estimate afresh. docs/wire-protocol.md, "Deadlines".
//
// Single-threaded, on the node's loop. Memory: one entry per peer heard.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "common/transport.h"

namespace ringkv {

class MessageAge {
 public:
  explicit MessageAge(int64_t drift_ppm = 1000) : drift_ppm_(drift_ppm) {}

  // Learns from, and returns the age in microseconds (>= 0) of, a message
  // from `from` stamped (generation, sent_mono_us) that arrives at local
  // monotonic time `now_us`.
  int64_t Observe(const NodeId& from, uint64_t generation, int64_t sent_mono_us, int64_t now_us);

 private:
  struct Peer {
    uint64_t generation = 0;
    int64_t offset_us = 0;    // smallest (arrival - sent), drift-adjusted
    int64_t updated_us = 0;  // local time offset_us was last set
  };
  int64_t drift_ppm_;
  std::unordered_map<NodeId, Peer> peers_;
};

}  // namespace ringkv
