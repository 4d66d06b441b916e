// PeerTransport: the real Transport. One outbound TCP connection per peer,
// opened on the first Send and reopened after a failure with capped
// exponential backoff. Peer messages are one-way: a peer's replies come back
// on its own outbound connection to us (docs/wire-protocol.md section 4).
//
// Back-off is for peers that show no sign of life. Evidence that a peer runs
// (HeardFrom: a frame from it, or gossip carrying a newer heartbeat of it)
// makes a peer we cannot reach get a fresh connection at once, since after a
// partition heals the old way back can take seconds: the back-off, a SYN
// waiting for the kernel's retransmission (1 s, then 3 s), or an
// established connection whose unacknowledged data the kernel retransmits
// with its own doubling timeout.
//
// Frames sent to one peer during a loop turn leave together in one write at
// the end of the turn (EventLoop::AtTurnEnd); the socket is watched for
// writability only while that write would block.
//
// With a PeerAuthenticator (docs/security.md), every new connection first
// runs the peer handshake as its opener (node/peer_handshake.h): nothing
// else is written on it until the peer proved that it holds the cluster
// secret and is the member dialled, and it counts as established only then.
// A failed or slow handshake is a failed connect (back-off, counted).
//
// With a TlsContext, every connection is TLS 1.3 (a bufferevent_openssl)
// and presents the node's certificate; the peer's certificate must come from
// the cluster CA and name the member dialled, or the connect fails before
// the peer handshake (which then runs inside TLS) or any message.
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
#include "node/peer_handshake.h"

struct bufferevent;
struct evdns_base;

namespace ringkv {

class TlsContext;

struct PeerTransportOptions {
  // Bytes queued for one peer (waiting for the connection or unsent in the
  // socket buffer) beyond which new messages are dropped.
  size_t max_queue_bytes = 64u << 20;
  int64_t min_backoff_us = 50'000;
  int64_t max_backoff_us = 5'000'000;
  // When a peer is heard from (HeardFrom), a connect pending this long, or
  // a connection that has had to retransmit, is taken to have lost packets
  // and is replaced at once; also the least time between two such looks at
  // one peer, so that a busy peer's frames cost nothing and a peer that
  // talks to us but cannot be reached costs no connect storm. Far above a
  // datacenter round trip.
  int64_t stall_us = 250'000;
  // Numeric address that connections to numeric peer addresses are bound to
  // before connecting, so they leave from it; empty lets the kernel choose.
  std::string source_host;
  // Authenticates every connection before use; must outlive the transport.
  // Null sends at once, unauthenticated (--insecure-no-peer-auth).
  const PeerAuthenticator* auth = nullptr;
  // A handshake the peer has not answered within this is a failed connect.
  int64_t handshake_timeout_us = 5'000'000;
  // Speaks TLS to every peer (also bounding its handshake by
  // handshake_timeout_us); must outlive the transport. Null: plain TCP.
  const TlsContext* tls = nullptr;
};

// Totals over every peer of the transport's metrics.
struct PeerTransportStats {
  uint64_t sent = 0;               // handed to a connection's output
  uint64_t dropped_full = 0;       // queue full
  uint64_t dropped_down = 0;       // peer in backoff, or connection broke
  uint64_t dropped_unknown = 0;    // not a member
  uint64_t connects = 0;           // connections established
  uint64_t connect_attempts = 0;   // connections begun
  uint64_t handshake_failures = 0; // peers that failed authentication
};

// As a Liveness, it reports a peer down from the moment a connection to it
// fails, breaks or is replaced for a stall until a new one is established: a
// killed node (connection refused or reset) is skipped at once instead of
// after the failure detector's verdict, and messages to it would be dropped
// anyway.
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
  // Evidence that `peer` is running: a frame from it arrived, or gossip
  // carried a newer heartbeat of it. Unless its connection works, a new one
  // is begun now: the back-off is cut short, and a connect pending for
  // stall_us or a connection that has had to retransmit is replaced. The
  // peer counts as up again once the new connection is established, not
  // before: hearing from a peer does not prove that it can be reached.
  // Looks at one peer at most once per stall_us. Unknown ids are ignored.
  void HeardFrom(const NodeId& peer);

  // The members changed (a new ring epoch, ring/membership.h): new members
  // get a peer (connected on first use), removed ones, and ones whose address
  // changed, lose theirs with anything still queued. Their counters stay.
  void SetMembers(const std::map<NodeId, std::string>& addresses);

 private:
  struct Peer;
  // Whether `peer`, heard from now, needs a new connection.
  bool NeedsReconnect(const Peer& peer, int64_t now_us) const;
  void AddPeer(const NodeId& id, std::string address);
  void StartConnect(Peer* peer);
  void Connect(Peer* peer);
  void Fail(Peer* peer, const std::string& why);
  // The connection is ready for messages: queued ones go out.
  void Established(Peer* peer);
  void StartHandshake(Peer* peer);
  // Reads the peer's challenge; answers it or fails the connection.
  void ContinueHandshake(Peer* peer);
  // Counted and logged (a peer without the secret is worth a warning), then
  // a failed connect.
  void FailHandshake(Peer* peer, const std::string& why);
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
  MetricsRegistry* metrics_;
  MetricsRegistry::CallbackHandle open_gauge_;
  MetricsRegistry::CallbackHandle queued_gauge_;
};

}  // namespace ringkv
