// PeerTransport: the real Transport. One outbound TCP connection per peer,
// opened on the first Send and reopened after a failure with capped
// exponential backoff. Peer messages are one-way: a peer's replies come back
// on its own outbound connection to us (docs/wire-protocol.md section 4).
//
// Frames sent to one peer during a loop turn leave together in one write at
// the end of the turn (EventLoop::AtTurnEnd); the socket is watched for
// writability only while that write would block.
//
// Best effort, as Transport promises: a message is dropped (and counted)
// while the peer is in backoff after a failed connection, when its queue is
// full, or when the connection breaks with it unsent. Requests carry
// deadlines, so a dropped message is a missing reply, not a hang. Messages to
// this node itself are delivered through `deliver_local` on the next loop
// turn. Messages, bytes, drops and connections are ringkv_peer_* metrics,
// per peer (docs/metrics.md). Not thread-safe: called only on the loop's
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/liveness.h"
#include "common/metrics.h"
#include "common/transport.h"
#include "node/event_loop.h"

struct bufferevent;
struct evdns_base;

namespace ringkv {

struct PeerTransportOptions {
  // Bytes queued for one peer (waiting for the connection or unsent in the
  // socket buffer) beyond which new messages are dropped.
  size_t max_queue_bytes = 64u << 20;
  int64_t min_backoff_us = 50'000;
  int64_t max_backoff_us = 5'000'000;
};

// Totals over every peer of the transport's metrics.
struct PeerTransportStats {
  uint64_t sent = 0;               // handed to a connection's output
  uint64_t dropped_full = 0;       // queue full
  uint64_t dropped_down = 0;       // peer in backoff, or connection broke
  uint64_t dropped_unknown = 0;    // not a member
  uint64_t connects = 0;           // connections established
};

// As a Liveness, it reports a peer down from the moment a connection to it
// fails or breaks until a new one is established: a killed node (connection
// refused or reset) is skipped at once instead of after the failure
// detector's verdict, and messages to it would be dropped anyway.
class PeerTransport : public Transport, public Liveness {
 public:
  // `addresses`: member id -> "host:port" (from the cluster file). `loop`
  // and `metrics` must outlive this.
  PeerTransport(EventLoop* loop, NodeId self, std::map<NodeId, std::string> addresses,
                std::function<void(std::string)> deliver_local, MetricsRegistry* metrics,
                PeerTransportOptions options = {});
  ~PeerTransport() override;
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  void Send(const NodeId& to, std::string bytes) override;

  // Closes every connection and cancels reconnects.
  void Close();
  PeerTransportStats stats() const;
  bool connected(const NodeId& peer) const;
  bool IsUp(const NodeId& peer) const override;
  // The peer just sent us a message, so it is running: forget failed
  // connects and back-off, so the next Send connects at once. Unknown ids
  // are ignored.
  void HeardFrom(const NodeId& peer);

 private:
  struct Peer;
  void Connect(Peer* peer);
  void Fail(Peer* peer, const std::string& why);
  void QueueFlush(Peer* peer);
  void FlushQueued();
  static void OnEvent(bufferevent* bev, short events, void* arg);
  static void OnRead(bufferevent* bev, void* arg);
  static void OnDrained(bufferevent* bev, void* arg);

  EventLoop* loop_;
  NodeId self_;
  std::function<void(std::string)> deliver_local_;
  PeerTransportOptions options_;
  Counter* sent_local_;
  Counter* dropped_unknown_;
  evdns_base* dns_ = nullptr;  // created on the first non-numeric address
  std::map<NodeId, std::unique_ptr<Peer>> peers_;
  std::vector<Peer*> to_flush_;
  // Turn-end callbacks hold a weak reference and skip a freed transport.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  MetricsRegistry::CallbackHandle open_gauge_;
  MetricsRegistry::CallbackHandle queued_gauge_;
};

}  // namespace ringkv
