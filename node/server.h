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
// TLS (docs/security.md): with a TlsContext every connection is TLS 1.3,
// its bytes carried by a bufferevent_openssl and handed to the same frame
// parsing as a plain connection's. A certificate the other end presents must
// come from the cluster CA; one that names a node that is not a member
// closes the connection when the handshake ends, before any frame is read;
// a peer message is taken only on a connection whose certificate names its
// sender (and, with a PeerAuthenticator as well, that passed the peer
// handshake as that sender). A handshake not finished within
// handshake_timeout_ms is cut off.
//
// A malformed, oversized or undecodable frame closes only the connection
// that carried it (logged with the peer's address, counted by reason); the
// server keeps serving the rest. What connections may hold is bounded by
// ConnectionLimits (node/connection_limits.h): a connection is not read
// while it has too much in progress, frames have a deadline, idle
// connections are closed first when the cap is reached, and all buffers
// share one budget. Connections, messages, bytes, pauses and closes are
// ringkv_server_* metrics (docs/metrics.md). Not thread-safe: everything
// runs on the loop's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "node/buffer_budget.h"
#include "node/connection_limits.h"
#include "node/event_loop.h"
#include "node/log_limiter.h"
#include "node/memory_release.h"
#include "node/message_sink.h"
#include "node/peer_handshake.h"
#include "proto/frame.h"

struct bufferevent;
struct evconnlistener;
struct sockaddr;

namespace ringkv {

class IoBuffer;
class TlsContext;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (see Server::port())
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  ConnectionLimits limits;
  // Authenticates peers; must outlive the server. Null trusts `from` on
  // any connection (ringkv-node --insecure-no-peer-auth).
  const PeerAuthenticator* peer_auth = nullptr;
  // A peer handshake not finished this long after its hello is cut off,
  // and a TLS handshake this long after the connection was accepted.
  int64_t handshake_timeout_ms = 5000;
  // Speaks TLS on every connection; must outlive the server. Null: plain TCP.
  const TlsContext* tls = nullptr;
  // With `tls`: whether a node id a certificate names is a member now.
  std::function<bool(const NodeId&)> is_member;
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
  // Bytes the connections' buffers hold (the node's BufferBudget).
  size_t buffered_bytes() const { return budget_.used(); }
  // Client requests handed to the sink and not answered yet.
  size_t requests_in_flight() const { return in_flight_; }
  // Connections whose reading is paused (back-pressure) now.
  size_t paused_connections() const { return paused_.size(); }
  // Connections closed because of bad input (including a frame cut short
  // by the end of the stream, or not finished by its deadline) since
  // Start().
  uint64_t rejected_connections() const;
  // Connections closed to stay within the limits: idle, or over the cap.
  uint64_t shed_connections() const;
  // Closes connections authenticated as a peer that is no longer a member
  // (call after the ring changed).
  void DropFormerMembers();

 private:
  struct Connection;
  class PendingReply;
  // Why a connection is not read.
  enum class Pause { kNone, kRequests, kReplies, kMemory };
  struct Metrics {
    explicit Metrics(MetricsRegistry* registry);
    Counter* accepted;
    Counter* client_messages;
    Counter* peer_messages;
    Counter* replies;
    Counter* bytes_received;
    Counter* bytes_sent;
    // Read pauses, by reason.
    Counter* paused_requests;
    Counter* paused_replies;
    Counter* paused_memory;
    // Closes to stay within the limits, by reason.
    Counter* shed_idle;
    Counter* shed_evicted;
    Counter* shed_refused;
    Counter* shed_unread;
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
    // TLS handshakes, by result.
    Counter* tls_ok;
    Counter* tls_failed;
    Counter* tls_timed_out;
    Counter* tls_not_member;
    // Frame read to reply queued, by operation: get, put, other.
    Histogram* frame_to_reply[3];
  };
  static void OnAccept(evconnlistener* listener, int fd, sockaddr* addr, int len, void* arg);
  static void OnAcceptError(evconnlistener* listener, void* arg);
  static void OnReadable(int fd, short what, void* arg);
  static void OnWritable(int fd, short what, void* arg);
  static void OnTimer(int fd, short what, void* arg);
  static void OnTlsReadable(bufferevent* bev, void* arg);
  static void OnTlsWritten(bufferevent* bev, void* arg);
  static void OnTlsEvent(bufferevent* bev, short what, void* arg);

  // Wraps an accepted socket in TLS; false when it could not (logged).
  bool StartTls(Connection* conn);
  // The TLS handshake finished: checks the name of the certificate, if any.
  void TlsEstablished(Connection* conn);
  // Moves what TLS decrypted into the connection's buffer and parses it, as
  // far as the limits let it; may close (and free) the connection.
  void PullTls(Connection* conn);
  void FlushTls(Connection* conn);
  void StopReading(Connection* conn);
  void StartReading(Connection* conn);
  // Reply bytes of the connection not yet taken by the socket (or TLS).
  static size_t OutputBytes(const Connection* conn);

  // Makes room for a connection over the cap; false if none could go.
  bool ShedForNewConnection();
  void ReadFrames(Connection* conn);
  // Why `conn` may not have its next request dispatched now (kNone: it may).
  Pause DispatchBlocked(const Connection* conn) const;
  bool MayResume(const Connection* conn) const;
  // Over the node's budget, whether `conn` holds work or replies enough to wait.
  bool Pressed(const Connection* conn) const;
  // The most the input buffer may grow to for the frame being read, and
  // whether the next read's growth fits the budget.
  static size_t InputCapacityCap(const Connection* conn);
  bool InputMayGrow(const Connection* conn) const;
  // Idle: nothing being received, served or sent.
  bool Idle(const Connection* conn) const;
  // Arms the connection's timer for its frame deadline, its idle timeout,
  // or the idle timeout of its unsent replies.
  void ArmTimer(Connection* conn);
  // Runs one handshake step; false when it closed the connection.
  bool Handshake(Connection* conn, const Message& message);
  void RefusePeerMessage(Connection* conn, const Message& message);
  // Answers `request_id` with an error, then closes the connection.
  void RefuseWithError(Connection* conn, uint64_t request_id, const Status& why,
                       Counter* reason, LogLimiter* log);
  void Reply(uint64_t conn_id, const Message& message);
  void RequestDone(uint64_t conn_id);
  void QueueFlush(Connection* conn);
  void FlushQueued();
  // Sends what the connection holds; may close (and free) it.
  void Flush(Connection* conn);
  void PauseReading(Connection* conn, Pause why);
  // Resumes, at the end of the turn, the paused connections that may.
  void ScheduleResume();
  void ResumePaused();
  void ResumeReading(Connection* conn);
  // Frees `buffer`'s block if it is empty and larger than a connection
  // always keeps.
  void ShrinkIfEmpty(IoBuffer* buffer);
  // After `bytes` of buffers were freed: waiting connections may go on,
  // and the memory may go back to the system.
  void Released(size_t bytes);
  // `reason` counts it; `log`, when given, limits how often it is logged.
  void Reject(Connection* conn, const Status& why, Counter* reason, LogLimiter* log = nullptr);
  void Close(Connection* conn);

  EventLoop* loop_;
  ServerOptions options_;
  MessageSink* sink_;
  // Before the connections, which charge it until they are gone.
  BufferBudget budget_;
  MemoryReleaser releaser_;
  evconnlistener* listener_ = nullptr;
  uint16_t port_ = 0;
  uint64_t next_conn_id_ = 1;
  Metrics metrics_;
  LogLimiter handshake_log_;
  LogLimiter peer_refused_log_;
  // The cap being reached is logged at most this often.
  LogLimiter cap_log_{std::chrono::seconds(10)};
  // Reply closures hold a weak reference, so a reply that outlives the
  // server is dropped instead of touching freed memory.
  std::shared_ptr<bool> alive_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  // Every connection, the one that sent something least recently first:
  // the cap closes the first idle one.
  std::list<Connection*> by_activity_;
  // Connections with replies to send at the end of this turn.
  std::vector<uint64_t> to_flush_;
  std::vector<uint64_t> flushing_;  // to_flush_ as FlushQueued() took it
  std::unordered_set<uint64_t> paused_;
  bool resume_scheduled_ = false;
  size_t in_flight_ = 0;
  MetricsRegistry::CallbackHandle open_gauge_;
  MetricsRegistry::CallbackHandle pending_gauge_;
  MetricsRegistry::CallbackHandle buffered_gauge_;
  MetricsRegistry::CallbackHandle in_flight_gauge_;
  MetricsRegistry::CallbackHandle paused_gauge_;
};

}  // namespace ringkv
