// Server: accepts TCP connections on one address and turns the frames on
// them into messages for a MessageSink (docs/wire-protocol.md).
//
// Each connection reads into one buffer and parses frames in place. Replies
// to client requests go back on the connection the request came in on,
// looked up by connection id so a reply for a connection that has closed is
// dropped; a turn's replies on one connection leave together in one send at
// the end of the loop turn (EventLoop::AtTurnEnd), and the socket is watched
// for writability only while a send would block. That keeps the cost per
// request to about one read and one send, as in Redis, instead of the two
// epoll_ctl calls a bufferevent adds per reply.
//
// Peer authentication (docs/security.md): with a PeerAuthenticator, a
// connection may carry messages with a non-empty `from` only after it
// completed the peer handshake (node/peer_handshake.h), and then only in the
// name of the member it proved to be. Any other peer message, a failed or
// slow handshake, is answered with an error and closes the connection; the
// refusals are counted and logged at most once a second per kind.
//
// A malformed, oversized or undecodable frame closes only the connection
// that carried it (logged with the peer's address, counted by reason); the
// server keeps serving the rest. Connections, messages, bytes and closes
// are ringkv_server_* metrics (docs/metrics.md). Not thread-safe:
// everything runs on the loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "node/event_loop.h"
#include "node/log_limiter.h"
#include "node/message_sink.h"
#include "node/peer_handshake.h"
#include "proto/frame.h"

struct evconnlistener;
struct sockaddr;

namespace ringkv {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (see Server::port())
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  // A connection whose unsent replies exceed this is not read until they
  // drain to half of it: a client that never reads cannot grow our memory.
  size_t max_pending_output_bytes = 32u << 20;
  // A connection that leaves a frame unfinished this long is closed
  // (slowloris); idle connections between frames are kept.
  int64_t partial_frame_timeout_ms = 30000;
  // Authenticates peers; must outlive the server. Null trusts `from` on
  // any connection (ringkv-node --insecure-no-peer-auth).
  const PeerAuthenticator* peer_auth = nullptr;
  // A peer handshake not finished this long after its hello is cut off.
  int64_t handshake_timeout_ms = 5000;
};

class Server {
 public:
  // `loop`, `sink` and `metrics` must outlive this.
  Server(EventLoop* loop, ServerOptions options, MessageSink* sink, MetricsRegistry* metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. IOError when the address is busy or unusable,
  // InvalidArgument when it does not parse.
  Status Start();
  // The bound port (useful after binding port 0).
  uint16_t port() const { return port_; }
  // Stops accepting; open connections stay until CloseAll() or their end.
  void StopAccepting();
  void CloseAll();

  size_t connection_count() const { return connections_.size(); }
  // Reply bytes queued on open connections and not yet taken by a socket.
  size_t pending_output_bytes() const;
  // Connections closed because of bad input (including a frame cut short
  // by the end of the stream) since Start().
  uint64_t rejected_connections() const;
  // Closes connections authenticated as a peer that is no longer a member
  // (call after the ring changed).
  void DropFormerMembers();

 private:
  struct Connection;
  struct Metrics {
    explicit Metrics(MetricsRegistry* registry);
    Counter* accepted;
    Counter* client_messages;
    Counter* peer_messages;
    Counter* replies;
    Counter* bytes_received;
    Counter* bytes_sent;
    Counter* read_pauses;
    // Closes for bad input, by reason.
    Counter* bad_frame;
    Counter* undecodable;
    Counter* slowloris;
    Counter* truncated;
    // Peer authentication.
    Counter* handshakes_ok;
    Counter* handshakes_refused;
    Counter* handshakes_timed_out;
    Counter* peer_messages_refused;
  };
  static void OnAccept(evconnlistener* listener, int fd, sockaddr* addr, int len, void* arg);
  static void OnAcceptError(evconnlistener* listener, void* arg);
  static void OnReadable(int fd, short what, void* arg);
  static void OnWritable(int fd, short what, void* arg);

  void ReadFrames(Connection* conn);
  // Runs one handshake step; false when it closed the connection.
  bool Handshake(Connection* conn, const Message& message);
  void RefusePeerMessage(Connection* conn, const Message& message);
  // Answers `request_id` with an error, then closes the connection.
  void RefuseWithError(Connection* conn, uint64_t request_id, const Status& why,
                       Counter* reason, LogLimiter* log);
  void Reply(uint64_t conn_id, const Message& message);
  void QueueFlush(Connection* conn);
  void FlushQueued();
  // Sends what the connection holds; may close (and free) it.
  void Flush(Connection* conn);
  void PauseReading(Connection* conn);
  void ResumeReading(Connection* conn);
  // `reason` counts it; `log`, when given, limits how often it is logged.
  void Reject(Connection* conn, const Status& why, Counter* reason, LogLimiter* log = nullptr);
  void Close(Connection* conn);

  EventLoop* loop_;
  ServerOptions options_;
  MessageSink* sink_;
  evconnlistener* listener_ = nullptr;
  uint16_t port_ = 0;
  uint64_t next_conn_id_ = 1;
  Metrics metrics_;
  LogLimiter handshake_log_;
  LogLimiter peer_refused_log_;
  // Reply closures hold a weak reference, so a reply that outlives the
  // server is dropped instead of touching freed memory.
  std::shared_ptr<bool> alive_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  // Connections with replies to send at the end of this turn.
  std::vector<uint64_t> to_flush_;
  MetricsRegistry::CallbackHandle open_gauge_;
  MetricsRegistry::CallbackHandle pending_gauge_;
};

}  // namespace ringkv
