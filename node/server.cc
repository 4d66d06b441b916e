#include "node/server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/tls.h"
#include "node/io_buffer.h"
#include "node/socket_util.h"
#include "node/system_clock.h"
#include "proto/codec.h"

namespace ringkv {
namespace {

constexpr int kFlushTimeoutSec = 5;
// Room asked of the input buffer before each read: a turn's worth of small
// requests arrives in one read.
constexpr size_t kReadChunk = 16u << 10;
// Buffers that grew past what any connection may hold are freed once empty.
constexpr size_t kIdleBufferBytes = kFreeBufferBytes;
// Freed buffer bytes after which the heap is trimmed, and how often at most.
constexpr size_t kTrimAfterBytes = 8u << 20;
constexpr int64_t kTrimIntervalMs = 1000;
// What a TLS connection's bufferevent may hold beyond the connection's own
// buffers: decrypted input not yet taken (reading stops there), and reply
// bytes handed over and not yet encrypted and sent.
constexpr size_t kTlsInputBytes = 64u << 10;
constexpr size_t kTlsOutputBytes = 256u << 10;

timeval MillisToTimeval(int64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

int64_t NowMs() { return SystemClock().MonoMicros() / 1000; }

}  // namespace

struct Server::Connection {
  Connection(Server* s, BufferBudget* budget) : server(s), in(budget), out(budget) {}
  Server* server;
  uint64_t id = 0;
  int fd = -1;
  std::string peer;  // remote address, for logs
  event* read_event = nullptr;   // persistent; removed while reading is paused
  event* write_event = nullptr;  // persistent; added only while a send would block
  event* timer_event = nullptr;  // frame deadline or idle timeout
  // With TLS: the bufferevent_openssl that owns the socket and does its
  // reads and writes (read_event and write_event are then unused).
  bufferevent* tls = nullptr;
  bool tls_ready = false;    // the TLS handshake finished
  NodeId tls_node;           // the member its certificate names, if any
  IoBuffer in;
  IoBuffer out;
  std::list<Connection*>::iterator by_activity;
  Pause pause = Pause::kNone;
  uint32_t in_flight = 0;       // client requests handed to the sink, unanswered
  int64_t last_active_ms = 0;   // when it last sent us bytes
  // While a send would block (writing): when the socket last took some of
  // the replies, or when they began to wait.
  int64_t last_sent_ms = 0;
  int64_t frame_started_ms = 0;  // when the unfinished frame began; 0 = none
  int64_t timer_due_ms = 0;     // when timer_event fires; 0 = not armed
  bool writing = false;         // write_event is added
  bool flush_queued = false;    // in Server::to_flush_
  // Rejected: reads stop, replies already queued are flushed, then close.
  bool closing = false;
  // The member this connection proved to be (empty: not a peer).
  NodeId peer_id;
  // Set between a peer's hello and its proof.
  std::unique_ptr<PeerAuthenticator::Accepting> handshake;
  ~Connection() {
    // Events may be missing when OnAccept ran out of memory.
    if (read_event != nullptr) event_free(read_event);
    if (write_event != nullptr) event_free(write_event);
    if (timer_event != nullptr) event_free(timer_event);
    if (tls != nullptr) {
      bufferevent_free(tls);  // closes the socket
    } else {
      evutil_closesocket(fd);
    }
  }
};

// The reply path of one client request: answers at most once, and counts
// the request as served when it answers or, if the sink drops it unanswered,
// when the last copy of the callback goes.
class Server::PendingReply {
 public:
  PendingReply(Server* server, std::weak_ptr<bool> alive, uint64_t conn_id,
               Histogram* frame_to_reply, int64_t received_us)
      : server_(server),
        alive_(std::move(alive)),
        conn_id_(conn_id),
        frame_to_reply_(frame_to_reply),
        received_us_(received_us) {}
  ~PendingReply() { Finish(nullptr); }
  PendingReply(const PendingReply&) = delete;
  PendingReply& operator=(const PendingReply&) = delete;

  void Finish(const Message* reply) {
    if (finished_) return;
    finished_ = true;
    if (!alive_.lock()) return;
    if (reply != nullptr) {
      server_->Reply(conn_id_, *reply);
      const int64_t elapsed = SystemClock().MonoMicros() - received_us_;
      frame_to_reply_->Observe(static_cast<uint64_t>(elapsed > 0 ? elapsed : 0));
    }
    server_->RequestDone(conn_id_);
  }

 private:
  Server* server_;
  std::weak_ptr<bool> alive_;
  uint64_t conn_id_;
  Histogram* frame_to_reply_;
  int64_t received_us_;
  bool finished_ = false;
};

Server::Metrics::Metrics(MetricsRegistry* registry) {
  // A counter family with one label: returns its series for a label value.
  auto family = [registry](const char* name, const char* help, const char* label) {
    return [=](const char* value) { return registry->AddCounter(name, help, {{label, value}}); };
  };
  accepted = registry->AddCounter("ringkv_server_connections_accepted_total",
                                  "Connections accepted from clients and peers.");
  auto received = family("ringkv_server_messages_received_total",
                         "Messages decoded, by sender: a client, or a peer (non-empty from).",
                         "sender");
  client_messages = received("client");
  const char* ops[] = {"get", "put", "other"};
  for (int i = 0; i < 3; ++i) {
    frame_to_reply[i] = registry->AddHistogram(
        "ringkv_server_frame_to_reply_seconds",
        "Time from the server taking up a client request's frame (after the read that "
        "brought it in, or the resume after a pause) to its reply queued on the connection "
        "(written out at the end of that loop turn), by operation: queueing behind the "
        "frames taken up with it, decoding, the request's work and encoding.",
        {{"op", ops[i]}}, 1e-6);
  }
  peer_messages = received("peer");
  replies = registry->AddCounter("ringkv_server_replies_total",
                                 "Replies queued on the connection their request came in on.");
  bytes_received = registry->AddCounter("ringkv_server_received_bytes_total",
                                        "Bytes read from connections.");
  bytes_sent = registry->AddCounter("ringkv_server_sent_bytes_total",
                                    "Bytes written to connections.");
  auto paused = family(
      "ringkv_server_read_pauses_total",
      "Times a connection stopped being read, by reason: requests (its requests being served "
      "reached the limit), replies (its unsent replies passed the limit) or memory (the node's "
      "buffers are full).",
      "reason");
  paused_requests = paused("requests");
  paused_replies = paused("replies");
  paused_memory = paused("memory");
  auto shed = family(
      "ringkv_server_connections_shed_total",
      "Connections closed to stay within the limits, by reason: idle_timeout, unread (its "
      "client took none of its replies for the idle timeout), evicted (the longest idle, for "
      "a new connection at the cap) or refused (a new connection at the cap when none was "
      "idle).",
      "reason");
  shed_idle = shed("idle_timeout");
  shed_evicted = shed("evicted");
  shed_refused = shed("refused");
  shed_unread = shed("unread");
  auto rejected = family("ringkv_server_connections_rejected_total",
                         "Connections closed for bad input, by reason (docs/wire-protocol.md).",
                         "reason");
  bad_frame = rejected("bad_frame");
  undecodable = rejected("undecodable");
  slowloris = rejected("slowloris");
  truncated = rejected("truncated");
  auto handshakes = family(
      "ringkv_server_peer_handshakes_total",
      "Peer handshakes on accepted connections, by result: ok, refused (malformed, not a "
      "member, wrong proof, out of order) or timeout.",
      "result");
  handshakes_ok = handshakes("ok");
  handshakes_refused = handshakes("refused");
  handshakes_timed_out = handshakes("timeout");
  peer_messages_refused = registry->AddCounter(
      "ringkv_server_peer_messages_refused_total",
      "Peer messages (non-empty from) refused, with their connection, because the connection "
      "had not authenticated as that member.");
  auto tls = family("ringkv_server_tls_handshakes_total",
                    "TLS handshakes on accepted connections, by result: ok, failed (not TLS, a "
                    "certificate the cluster CA did not sign, expired, or no certificate where "
                    "one is required), timeout, or not_member (a certificate naming a node that "
                    "is not a member).",
                    "result");
  tls_ok = tls("ok");
  tls_failed = tls("failed");
  tls_timed_out = tls("timeout");
  tls_not_member = tls("not_member");
}

Server::Server(EventLoop* loop, ServerOptions options, MessageSink* sink,
               MetricsRegistry* metrics)
    : loop_(loop), options_(std::move(options)), sink_(sink),
      budget_(options_.limits.max_buffered_bytes),
      releaser_(loop, kTrimAfterBytes, kTrimIntervalMs), metrics_(metrics),
      alive_(std::make_shared<bool>(true)) {
  open_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_connections_open", "Connections open now.", {},
      [this] { return static_cast<double>(connections_.size()); });
  pending_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_pending_output_bytes", "Reply bytes queued and not yet taken by a socket.",
      {}, [this] { return static_cast<double>(pending_output_bytes()); });
  buffered_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_buffered_bytes",
      "Bytes held by the connections' input and output buffers, all together.", {},
      [this] { return static_cast<double>(budget_.used()); });
  in_flight_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_requests_in_flight", "Client requests being served now.", {},
      [this] { return static_cast<double>(in_flight_); });
  paused_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_connections_paused", "Connections not read now because of back-pressure.",
      {}, [this] { return static_cast<double>(paused_.size()); });
}

Server::~Server() {
  CloseAll();
  StopAccepting();
}

Status Server::Start() {
  sockaddr_storage addr;
  int len = 0;
  // libevent's parser refuses port 0, so parse with 1 and patch it back.
  RINGKV_RETURN_IF_ERROR(ParseSockaddr(
      JoinHostPort(options_.host, options_.port == 0 ? 1 : options_.port), &addr, &len));
  if (options_.port == 0) {
    if (addr.ss_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = 0;
    } else {
      reinterpret_cast<sockaddr_in*>(&addr)->sin_port = 0;
    }
  }
  // Accepted sockets come non-blocking (no LEV_OPT_LEAVE_SOCKETS_BLOCKING).
  listener_ = evconnlistener_new_bind(loop_->base(), &Server::OnAccept, this,
                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, SOMAXCONN,
                                      reinterpret_cast<sockaddr*>(&addr), len);
  if (listener_ == nullptr) {
    return Status::IOError("cannot listen on " + JoinHostPort(options_.host, options_.port) +
                           ": " + std::strerror(errno));
  }
  evconnlistener_set_error_cb(listener_, &Server::OnAcceptError);
  sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = bound.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::OK();
}

void Server::StopAccepting() {
  if (listener_ != nullptr) {
    evconnlistener_free(listener_);
    listener_ = nullptr;
  }
}

void Server::CloseAll() {
  connections_.clear();
  by_activity_.clear();
  paused_.clear();
  to_flush_.clear();
}

uint64_t Server::rejected_connections() const {
  return metrics_.bad_frame->value() + metrics_.undecodable->value() +
         metrics_.slowloris->value() + metrics_.truncated->value();
}

uint64_t Server::shed_connections() const {
  return metrics_.shed_idle->value() + metrics_.shed_unread->value() +
         metrics_.shed_evicted->value() + metrics_.shed_refused->value();
}

size_t Server::pending_output_bytes() const {
  size_t total = 0;
  for (const auto& [id, conn] : connections_) total += OutputBytes(conn.get());
  return total;
}

size_t Server::OutputBytes(const Connection* conn) {
  return conn->out.size() +
         (conn->tls != nullptr ? evbuffer_get_length(bufferevent_get_output(conn->tls)) : 0);
}

bool Server::StartTls(Connection* conn) {
  SSL* ssl = options_.tls->NewSsl();
  if (ssl == nullptr) {
    spdlog::error("cannot start TLS on the connection from {}: {}", conn->peer, TakeTlsErrors());
    return false;
  }
  // The bufferevent owns the socket and the SSL from here on. Its callbacks
  // run from the loop, never from inside a write the server makes, which
  // would re-enter FlushTls.
  conn->tls = bufferevent_openssl_socket_new(loop_->base(), conn->fd, ssl,
                                             BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
  if (conn->tls == nullptr) {
    SSL_free(ssl);
    spdlog::error("cannot start TLS on the connection from {}", conn->peer);
    return false;
  }
  // The bufferevent reads no further ahead than this of what the server takes.
  bufferevent_setwatermark(conn->tls, EV_READ, 0, kTlsInputBytes);
  bufferevent_setcb(conn->tls, &Server::OnTlsReadable, &Server::OnTlsWritten,
                    &Server::OnTlsEvent, conn);
  bufferevent_enable(conn->tls, EV_READ | EV_WRITE);
  std::weak_ptr<bool> alive = alive_;
  const uint64_t id = conn->id;
  loop_->RunAfter(options_.handshake_timeout_ms * 1000, [this, alive, id] {
    if (!alive.lock()) return;
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->tls_ready || it->second->closing) return;
    metrics_.tls_timed_out->Increment();
    uint64_t suppressed = 0;
    if (handshake_log_.Allow(&suppressed)) {
      spdlog::warn("closing connection from {}: TLS handshake unfinished after {} ms",
                   it->second->peer, options_.handshake_timeout_ms);
    }
    Close(it->second.get());
  });
  return true;
}

void Server::OnTlsEvent(bufferevent*, short what, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  Server* self = conn->server;
  if (what & BEV_EVENT_CONNECTED) return self->TlsEstablished(conn);
  if ((what & BEV_EVENT_ERROR) && !conn->tls_ready) {
    const std::string why =
        JoinTlsErrors([conn] { return bufferevent_get_openssl_error(conn->tls); });
    self->metrics_.tls_failed->Increment();
    uint64_t suppressed = 0;
    if (self->handshake_log_.Allow(&suppressed)) {
      spdlog::warn("closing connection from {}: TLS handshake failed: {}", conn->peer,
                   why.empty() ? TakeTlsErrors("the connection ended") : why);
    }
    return self->Close(conn);
  }
  if ((what & BEV_EVENT_EOF) && !conn->in.empty() && !conn->closing) {
    spdlog::warn("closing connection from {}: truncated frame ({} bytes) at end of stream",
                 conn->peer, conn->in.size());
    self->metrics_.truncated->Increment();
  }
  // An error, the end of the stream, or a closing connection's replies not
  // taken within the write timeout.
  self->Close(conn);
}

void Server::TlsEstablished(Connection* conn) {
  conn->tls_ready = true;
  SSL* ssl = bufferevent_openssl_get_ssl(conn->tls);
  conn->tls_node = PeerNodeId(ssl);
  if (!conn->tls_node.empty() && !(options_.is_member && options_.is_member(conn->tls_node))) {
    metrics_.tls_not_member->Increment();
    uint64_t suppressed = 0;
    if (handshake_log_.Allow(&suppressed)) {
      spdlog::warn("closing connection from {}: its certificate names node '{}', which is not a "
                   "member",
                   conn->peer, conn->tls_node);
    }
    return Close(conn);
  }
  metrics_.tls_ok->Increment();
  spdlog::debug("TLS connection {} from {}{}", conn->id, conn->peer,
                conn->tls_node.empty() ? "" : " (node " + conn->tls_node + ")");
  PullTls(conn);
}

void Server::OnTlsReadable(bufferevent*, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  conn->server->PullTls(conn);
}

void Server::PullTls(Connection* conn) {
  evbuffer* input = bufferevent_get_input(conn->tls);
  const uint64_t id = conn->id;
  // Bounded by the bufferevent's input (its read watermark): each pass
  // takes some of it, or stops.
  while (evbuffer_get_length(input) > 0 && conn->pause == Pause::kNone && !conn->closing) {
    if (!InputMayGrow(conn)) return PauseReading(conn, Pause::kMemory);
    char* space = conn->in.Reserve(kReadChunk, InputCapacityCap(conn));
    const int n = evbuffer_remove(input, space, conn->in.writable());
    if (n <= 0) break;
    conn->in.Commit(static_cast<size_t>(n));
    metrics_.bytes_received->Add(static_cast<uint64_t>(n));
    conn->last_active_ms = NowMs();
    by_activity_.splice(by_activity_.end(), by_activity_, conn->by_activity);
    ReadFrames(conn);
    if (connections_.find(id) == connections_.end()) return;  // closed
  }
}

void Server::OnTlsWritten(bufferevent*, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  conn->server->Flush(conn);
}

void Server::FlushTls(Connection* conn) {
  evbuffer* output = bufferevent_get_output(conn->tls);
  bool sent = false;
  while (!conn->out.empty() && evbuffer_get_length(output) < kTlsOutputBytes) {
    std::string_view pending = conn->out.readable();
    const size_t n = std::min(pending.size(), kTlsOutputBytes - evbuffer_get_length(output));
    if (evbuffer_add(output, pending.data(), n) != 0) {
      spdlog::error("connection from {}: out of memory for its replies", conn->peer);
      return Close(conn);
    }
    conn->out.Consume(n);
    metrics_.bytes_sent->Add(n);
    sent = true;
  }
  if (conn->out.empty()) ShrinkIfEmpty(&conn->out);
  // `writing`: replies wait for the socket; the bufferevent's write callback
  // (all it holds sent) comes back here.
  if (OutputBytes(conn) == 0) {
    conn->writing = false;
    if (conn->closing) return Close(conn);
  } else {
    if (sent || !conn->writing) conn->last_sent_ms = NowMs();
    conn->writing = true;
  }
  ArmTimer(conn);
  if (conn->pause != Pause::kNone && !conn->closing && MayResume(conn)) ScheduleResume();
}

void Server::StopReading(Connection* conn) {
  if (conn->tls != nullptr) {
    bufferevent_disable(conn->tls, EV_READ);
  } else {
    event_del(conn->read_event);
  }
}

void Server::StartReading(Connection* conn) {
  if (conn->tls != nullptr) {
    bufferevent_enable(conn->tls, EV_READ);
  } else {
    event_add(conn->read_event, nullptr);
  }
}

void Server::OnAccept(evconnlistener*, int fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (self->connections_.size() >= self->options_.limits.max_connections &&
      !self->ShedForNewConnection()) {
    evutil_closesocket(fd);
    return;
  }
  SetNoDelay(fd);
  auto conn = std::make_unique<Connection>(self, &self->budget_);
  conn->id = self->next_conn_id_++;
  conn->fd = fd;
  conn->peer = FormatSockaddr(addr);
  conn->last_active_ms = NowMs();
  conn->timer_event = evtimer_new(self->loop_->base(), &Server::OnTimer, conn.get());
  if (self->options_.tls != nullptr) {
    if (conn->timer_event == nullptr || !self->StartTls(conn.get())) return;
  } else {
    conn->read_event =
        event_new(self->loop_->base(), fd, EV_READ | EV_PERSIST, &Server::OnReadable, conn.get());
    conn->write_event =
        event_new(self->loop_->base(), fd, EV_WRITE | EV_PERSIST, &Server::OnWritable, conn.get());
    if (conn->read_event == nullptr || conn->write_event == nullptr ||
        conn->timer_event == nullptr || event_add(conn->read_event, nullptr) != 0) {
      spdlog::error("cannot watch a new connection from {}", conn->peer);
      return;  // the Connection's destructor closes the socket
    }
  }
  spdlog::debug("connection {} from {}", conn->id, conn->peer);
  self->metrics_.accepted->Increment();
  conn->by_activity = self->by_activity_.insert(self->by_activity_.end(), conn.get());
  self->ArmTimer(conn.get());
  self->connections_.emplace(conn->id, std::move(conn));
}

bool Server::ShedForNewConnection() {
  uint64_t suppressed = 0;  // the evictions and refusals count them
  const bool warn = cap_log_.Allow(&suppressed);
  for (Connection* conn : by_activity_) {
    if (!Idle(conn)) continue;
    if (warn) {
      spdlog::warn("{} connections open, the cap: closing the longest idle ones for new ones",
                   connections_.size());
    }
    spdlog::debug("closing connection from {}: idle the longest, at the connection cap",
                  conn->peer);
    metrics_.shed_evicted->Increment();
    Close(conn);
    return true;
  }
  if (warn) {
    spdlog::warn("{} connections open, the cap, none idle: refusing new connections",
                 connections_.size());
  }
  metrics_.shed_refused->Increment();
  return false;
}

void Server::OnAcceptError(evconnlistener*, void*) {
  // Typically EMFILE: the listener stays armed and retries on the next
  // connection, existing connections are unaffected.
  int err = EVUTIL_SOCKET_ERROR();
  spdlog::error("accept failed: {}", evutil_socket_error_to_string(err));
}

void Server::OnReadable(int fd, short, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  Server* self = conn->server;
  if (!self->InputMayGrow(conn)) return self->PauseReading(conn, Pause::kMemory);
  // One read per readiness: the loop comes back while more is waiting, and
  // other connections get their turn meanwhile.
  char* space = conn->in.Reserve(kReadChunk, InputCapacityCap(conn));
  ssize_t n = recv(fd, space, conn->in.writable(), 0);
  if (n > 0) {
    conn->in.Commit(static_cast<size_t>(n));
    self->metrics_.bytes_received->Add(static_cast<uint64_t>(n));
    conn->last_active_ms = NowMs();
    self->by_activity_.splice(self->by_activity_.end(), self->by_activity_, conn->by_activity);
    return self->ReadFrames(conn);
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n == 0 && !conn->in.empty()) {
    spdlog::warn("closing connection from {}: truncated frame ({} bytes) at end of stream",
                 conn->peer, conn->in.size());
    self->metrics_.truncated->Increment();
  } else if (n < 0) {
    spdlog::debug("connection from {} failed: {}", conn->peer, std::strerror(errno));
  }
  self->Close(conn);
}

void Server::OnTimer(int, short, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  Server* self = conn->server;
  conn->timer_due_ms = 0;
  if (conn->closing) return;
  const ConnectionLimits& limits = self->options_.limits;
  const int64_t now = NowMs();
  if (conn->frame_started_ms != 0 && now >= conn->frame_started_ms + limits.frame_deadline_ms) {
    return self->Reject(conn,
                        Status::Timeout("frame unfinished " +
                                        std::to_string(now - conn->frame_started_ms) +
                                        " ms after it began (deadline " +
                                        std::to_string(limits.frame_deadline_ms) + " ms)"),
                        self->metrics_.slowloris);
  }
  if (limits.idle_timeout_ms > 0 && conn->writing &&
      now >= conn->last_sent_ms + limits.idle_timeout_ms) {
    spdlog::info("closing connection from {}: it took none of its {} bytes of replies for {} ms",
                 conn->peer, conn->out.size(), now - conn->last_sent_ms);
    self->metrics_.shed_unread->Increment();
    return self->Close(conn);
  }
  if (limits.idle_timeout_ms > 0 && self->Idle(conn) &&
      now >= conn->last_active_ms + limits.idle_timeout_ms) {
    spdlog::debug("closing connection from {}: idle for {} ms", conn->peer,
                  now - conn->last_active_ms);
    self->metrics_.shed_idle->Increment();
    return self->Close(conn);
  }
  self->ArmTimer(conn);
}

size_t Server::InputCapacityCap(const Connection* conn) {
  // Room for the next read, but no more than the frame being read needs: a
  // buffer grows as its frame's bytes arrive (doubling), never to the
  // announced length up front, and past it only by the one read's chunk
  // (IoBuffer::CapacityFor keeps room for `min`).
  const size_t announced = AnnouncedFrameSize(conn->in.readable());
  return announced > conn->in.size() ? std::max(announced, kFreeBufferBytes) : SIZE_MAX;
}

bool Server::InputMayGrow(const Connection* conn) const {
  const size_t capacity = conn->in.CapacityFor(kReadChunk, InputCapacityCap(conn));
  return capacity <= kFreeBufferBytes || capacity <= conn->in.capacity() ||
         budget_.Allows(capacity - conn->in.capacity());
}

bool Server::Idle(const Connection* conn) const {
  return conn->in.empty() && OutputBytes(conn) == 0 && conn->in_flight == 0 &&
         conn->pause == Pause::kNone && !conn->closing;
}

void Server::ArmTimer(Connection* conn) {
  const ConnectionLimits& limits = options_.limits;
  int64_t due = INT64_MAX;
  if (conn->frame_started_ms != 0) due = conn->frame_started_ms + limits.frame_deadline_ms;
  if (limits.idle_timeout_ms > 0 && conn->writing) {
    due = std::min(due, conn->last_sent_ms + limits.idle_timeout_ms);
  } else if (limits.idle_timeout_ms > 0 && Idle(conn)) {
    due = std::min(due, conn->last_active_ms + limits.idle_timeout_ms);
  }
  // A timer already due sooner stays: when it fires it looks again. So the
  // activity that pushes the idle timeout back costs nothing per read.
  if (due == INT64_MAX || (conn->timer_due_ms != 0 && conn->timer_due_ms <= due)) return;
  timeval tv = MillisToTimeval(std::max<int64_t>(0, due - NowMs()));
  evtimer_add(conn->timer_event, &tv);
  conn->timer_due_ms = due;
}

void Server::ReadFrames(Connection* conn) {
  // Every frame this pass finds arrived by the read that called it.
  int64_t received_us = 0;
  bool consumed = false;
  bool partial = false;
  // Bounded by the input: each pass consumes a frame or returns.
  while (!conn->closing) {
    FrameParse frame = ParseFrame(conn->in.readable(), options_.max_frame_bytes);
    if (frame.state == FrameParse::State::kError) {
      return Reject(conn, frame.error, metrics_.bad_frame);
    }
    if (frame.state == FrameParse::State::kNeedMore) {
      partial = !conn->in.empty();
      break;
    }
    // Back-pressure before dispatch: the frame waits in the buffer.
    if (Pause why = DispatchBlocked(conn); why != Pause::kNone) {
      PauseReading(conn, why);
      break;
    }
    Result<Message> message = DecodeMessage(frame.body);
    conn->in.Consume(frame.consumed);
    consumed = true;
    if (!message.ok()) return Reject(conn, message.status(), metrics_.undecodable);
    if (IsHandshake(message->body)) {
      if (!Handshake(conn, *message)) return;
      continue;
    }
    if (!message->from.empty()) {
      if ((options_.peer_auth != nullptr && message->from != conn->peer_id) ||
          (options_.tls != nullptr && message->from != conn->tls_node)) {
        return RefusePeerMessage(conn, *message);
      }
      metrics_.peer_messages->Increment();
      sink_->OnPeerMessage(std::move(message).value());
    } else {
      metrics_.client_messages->Increment();
      ++conn->in_flight;
      ++in_flight_;
      if (received_us == 0) received_us = SystemClock().MonoMicros();
      const int op = std::holds_alternative<GetRequest>(message->body)   ? 0
                     : std::holds_alternative<PutRequest>(message->body) ? 1
                                                                         : 2;
      auto pending = std::make_shared<PendingReply>(this, alive_, conn->id,
                                                    metrics_.frame_to_reply[op], received_us);
      sink_->OnClientRequest(std::move(message).value(),
                             [pending](Message reply) { pending->Finish(&reply); });
    }
  }
  if (conn->closing) return;
  ShrinkIfEmpty(&conn->in);
  // The deadline runs from a frame's first byte, which came in the read
  // that finished the frame before it, or into an empty buffer.
  if (!partial) {
    conn->frame_started_ms = 0;
  } else if (consumed || conn->frame_started_ms == 0) {
    conn->frame_started_ms = conn->last_active_ms;
  }
  ArmTimer(conn);
}

Server::Pause Server::DispatchBlocked(const Connection* conn) const {
  const ConnectionLimits& limits = options_.limits;
  if (conn->in_flight >= limits.max_requests_in_flight) return Pause::kRequests;
  if (conn->out.size() > limits.max_output_bytes || Pressed(conn)) return Pause::kReplies;
  return Pause::kNone;
}

bool Server::Pressed(const Connection* conn) const {
  // While the node's buffers are over budget, a connection takes one
  // request at a time and none while it holds more than its free share of
  // replies: the replies of a full batch of large values could otherwise
  // pile up on every connection.
  return budget_.exceeded() && (conn->in_flight > 0 || conn->out.size() > kFreeBufferBytes);
}

bool Server::MayResume(const Connection* conn) const {
  const ConnectionLimits& limits = options_.limits;
  switch (conn->pause) {
    case Pause::kRequests:
      return conn->in_flight <= limits.max_requests_in_flight / 2;
    case Pause::kReplies:
      return conn->out.size() <= limits.max_output_bytes / 2 && !Pressed(conn);
    case Pause::kMemory:
      return InputMayGrow(conn);
    case Pause::kNone:
      return true;
  }
  return true;
}

bool Server::Handshake(Connection* conn, const Message& message) {
  const PeerAuthenticator* auth = options_.peer_auth;
  Status refused;
  if (auth == nullptr) {
    refused = Status::InvalidArgument("this node does not authenticate peers");
  } else if (const auto* hello = std::get_if<PeerHello>(&message.body)) {
    auto accepting = std::make_unique<PeerAuthenticator::Accepting>();
    Result<PeerChallenge> challenge =
        !conn->peer_id.empty() || conn->handshake != nullptr
            ? Result<PeerChallenge>(Status::InvalidArgument("a second hello on one connection"))
        : options_.tls != nullptr && hello->node != conn->tls_node
            ? Result<PeerChallenge>(Status::InvalidArgument(
                  "a hello from '" + hello->node + "' on a connection whose certificate names " +
                  (conn->tls_node.empty() ? std::string("no node")
                                          : "'" + conn->tls_node + "'")))
            : auth->Challenge(*hello, accepting.get());
    if (!challenge.ok()) {
      refused = challenge.status();
    } else {
      conn->handshake = std::move(accepting);
      Message reply;
      reply.request_id = message.request_id;
      reply.body = std::move(challenge).value();
      Reply(conn->id, reply);
      std::weak_ptr<bool> alive = alive_;
      const uint64_t id = conn->id;
      loop_->RunAfter(options_.handshake_timeout_ms * 1000, [this, alive, id] {
        if (!alive.lock()) return;
        auto it = connections_.find(id);
        if (it == connections_.end() || it->second->handshake == nullptr ||
            it->second->closing) {
          return;
        }
        Reject(it->second.get(),
               Status::Timeout("peer handshake unfinished after " +
                               std::to_string(options_.handshake_timeout_ms) + " ms"),
               metrics_.handshakes_timed_out, &handshake_log_);
      });
      return true;
    }
  } else if (const auto* proof = std::get_if<PeerProof>(&message.body)) {
    if (conn->handshake == nullptr) {
      refused = Status::InvalidArgument("a proof without a hello");
    } else if (Status st = auth->Verify(*conn->handshake, *proof); !st.ok()) {
      refused = st;
    } else {
      conn->peer_id = conn->handshake->opener;
      conn->handshake.reset();
      metrics_.handshakes_ok->Increment();
      spdlog::info("peer {} authenticated on the connection from {}", conn->peer_id, conn->peer);
      return true;
    }
  } else {
    refused = Status::InvalidArgument(std::string("a ") + MessageName(message.body) +
                                      " sent to the accepting side");
  }
  RefuseWithError(conn, message.request_id,
                  Status::InvalidArgument("peer handshake refused: " + refused.message()),
                  metrics_.handshakes_refused, &handshake_log_);
  return false;
}

void Server::RefusePeerMessage(Connection* conn, const Message& message) {
  const NodeId& proved = options_.peer_auth != nullptr ? conn->peer_id : conn->tls_node;
  std::string why = proved.empty()
                        ? std::string("peer message ") + MessageName(message.body) +
                              " claiming to be from '" + message.from +
                              "' on a connection that did not authenticate as a peer"
                        : std::string("peer message ") + MessageName(message.body) +
                              " claiming to be from '" + message.from +
                              "' on a connection authenticated as '" + proved + "'";
  RefuseWithError(conn, message.request_id, Status::InvalidArgument(std::move(why)),
                  metrics_.peer_messages_refused, &peer_refused_log_);
}

void Server::RefuseWithError(Connection* conn, uint64_t request_id, const Status& why,
                             Counter* reason, LogLimiter* log) {
  Message error;
  error.request_id = request_id;
  error.body = ErrorReply{why};
  Reply(conn->id, error);
  Reject(conn, why, reason, log);
}

void Server::DropFormerMembers() {
  std::vector<Connection*> former;
  for (const auto& [id, conn] : connections_) {
    if ((options_.peer_auth != nullptr && !conn->peer_id.empty() &&
         !options_.peer_auth->IsMember(conn->peer_id)) ||
        (options_.is_member && !conn->tls_node.empty() && !options_.is_member(conn->tls_node))) {
      former.push_back(conn.get());
    }
  }
  for (Connection* conn : former) {
    spdlog::warn("closing connection from {}: peer {} is no longer a member", conn->peer,
                 conn->peer_id.empty() ? conn->tls_node : conn->peer_id);
    Close(conn);
  }
}

void Server::Reply(uint64_t conn_id, const Message& message) {
  auto it = connections_.find(conn_id);
  if (it == connections_.end() || it->second->closing) return;
  Connection* conn = it->second.get();
  std::string body = EncodeMessage(message);
  char header[kFrameHeaderSize];
  EncodeFrameHeader(body, header);
  conn->out.Append(std::string_view(header, kFrameHeaderSize));
  conn->out.Append(body);
  metrics_.replies->Increment();
  QueueFlush(conn);
}

void Server::RequestDone(uint64_t conn_id) {
  --in_flight_;
  auto it = connections_.find(conn_id);
  if (it == connections_.end()) return;
  Connection* conn = it->second.get();
  --conn->in_flight;
  if (conn->pause != Pause::kNone && MayResume(conn)) ScheduleResume();
  if (conn->in_flight == 0) ArmTimer(conn);
}

void Server::QueueFlush(Connection* conn) {
  // While the socket is full, the write event sends when it drains.
  if (conn->flush_queued || conn->writing) return;
  conn->flush_queued = true;
  to_flush_.push_back(conn->id);
  if (to_flush_.size() > 1) return;
  std::weak_ptr<bool> alive = alive_;
  loop_->AtTurnEnd([this, alive] {
    if (alive.lock()) FlushQueued();
  });
}

void Server::FlushQueued() {
  // Swapped with a member, not a local, so both keep their capacity and a
  // turn's flush allocates nothing.
  flushing_.swap(to_flush_);
  for (uint64_t id : flushing_) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    it->second->flush_queued = false;
    Flush(it->second.get());
  }
  flushing_.clear();
}

void Server::Flush(Connection* conn) {
  if (conn->tls != nullptr) return FlushTls(conn);
  bool sent = false;
  while (!conn->out.empty()) {
    std::string_view pending = conn->out.readable();
    ssize_t n = send(conn->fd, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      conn->out.Consume(static_cast<size_t>(n));
      metrics_.bytes_sent->Add(static_cast<uint64_t>(n));
      sent = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    spdlog::debug("connection from {} failed on send: {}", conn->peer, std::strerror(errno));
    return Close(conn);
  }
  if (conn->out.empty()) {
    if (conn->writing) {
      event_del(conn->write_event);
      conn->writing = false;
    }
    ShrinkIfEmpty(&conn->out);
    if (conn->closing) return Close(conn);
    ArmTimer(conn);
  } else {
    // Replies wait for the client: from now, or from the socket's last
    // progress, it has the idle timeout to take some.
    if (sent || !conn->writing) conn->last_sent_ms = NowMs();
    if (!conn->writing) {
      timeval flush_timeout{kFlushTimeoutSec, 0};
      event_add(conn->write_event, conn->closing ? &flush_timeout : nullptr);
      conn->writing = true;
    }
    ArmTimer(conn);
  }
  if (conn->pause != Pause::kNone && !conn->closing && MayResume(conn)) ScheduleResume();
}

void Server::OnWritable(int, short what, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  // Only a closing connection's flush has a timeout: its client stopped
  // reading the answers that preceded its bad frame.
  if (what & EV_TIMEOUT) return conn->server->Close(conn);
  conn->server->Flush(conn);
}

void Server::PauseReading(Connection* conn, Pause why) {
  switch (why) {
    case Pause::kRequests: metrics_.paused_requests->Increment(); break;
    case Pause::kReplies: metrics_.paused_replies->Increment(); break;
    case Pause::kMemory: metrics_.paused_memory->Increment(); break;
    case Pause::kNone: return;
  }
  conn->pause = why;
  paused_.insert(conn->id);
  StopReading(conn);
}

void Server::ScheduleResume() {
  if (resume_scheduled_) return;
  resume_scheduled_ = true;
  // Not from inside the sink's callbacks: the resumed connection's requests
  // are dispatched from the loop, as any other.
  std::weak_ptr<bool> alive = alive_;
  loop_->AtTurnEnd([this, alive] {
    if (alive.lock()) ResumePaused();
  });
}

void Server::ResumePaused() {
  resume_scheduled_ = false;
  std::vector<uint64_t> ready;
  for (uint64_t id : paused_) {
    auto it = connections_.find(id);
    if (it != connections_.end() && MayResume(it->second.get())) ready.push_back(id);
  }
  for (uint64_t id : ready) {
    auto it = connections_.find(id);
    if (it != connections_.end()) ResumeReading(it->second.get());
  }
}

void Server::ResumeReading(Connection* conn) {
  // Requests that arrived meanwhile are parsed first, then the socket.
  conn->pause = Pause::kNone;
  paused_.erase(conn->id);
  StartReading(conn);
  const uint64_t id = conn->id;
  ReadFrames(conn);
  // What TLS decrypted meanwhile waits in its bufferevent, which says
  // nothing more until new bytes arrive.
  if (conn->tls != nullptr && connections_.count(id) > 0) PullTls(conn);
}

void Server::ShrinkIfEmpty(IoBuffer* buffer) {
  const size_t capacity = buffer->capacity();
  buffer->ShrinkIfEmpty(kIdleBufferBytes);
  if (buffer->capacity() < capacity) Released(capacity - buffer->capacity());
}

void Server::Released(size_t bytes) {
  releaser_.Freed(bytes);
  if (!paused_.empty()) ScheduleResume();
}

void Server::Reject(Connection* conn, const Status& why, Counter* reason, LogLimiter* log) {
  reason->Increment();
  uint64_t suppressed = 0;
  if (log == nullptr) {
    spdlog::warn("closing connection from {}: {}", conn->peer, why.ToString());
  } else if (log->Allow(&suppressed)) {
    spdlog::warn("closing connection from {}: {}{}", conn->peer, why.ToString(),
                 suppressed == 0 ? ""
                                 : " (and " + std::to_string(suppressed) +
                                       " more like it not logged)");
  }
  if (OutputBytes(conn) == 0) return Close(conn);
  // Answers to the requests before the bad frame still go out, within a
  // bounded time: a client that does not read them is cut off anyway.
  conn->closing = true;
  StopReading(conn);
  event_del(conn->timer_event);
  paused_.erase(conn->id);
  if (conn->tls != nullptr) {
    const timeval flush_timeout{kFlushTimeoutSec, 0};
    bufferevent_set_timeouts(conn->tls, nullptr, &flush_timeout);
    return FlushTls(conn);
  }
  timeval flush_timeout{kFlushTimeoutSec, 0};
  event_add(conn->write_event, &flush_timeout);
  conn->writing = true;
}

void Server::Close(Connection* conn) {
  const size_t freed = conn->in.capacity() + conn->out.capacity();
  paused_.erase(conn->id);
  by_activity_.erase(conn->by_activity);
  connections_.erase(conn->id);
  Released(freed);
}

}  // namespace ringkv
