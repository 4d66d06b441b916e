#include "node/server.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "node/io_buffer.h"
#include "node/socket_util.h"
#include "proto/codec.h"

namespace ringkv {
namespace {

constexpr int kFlushTimeoutSec = 5;
// Room asked of the input buffer before each read: a turn's worth of small
// requests arrives in one read.
constexpr size_t kReadChunk = 16u << 10;
// Buffers that grew past this for a large frame are freed once empty.
constexpr size_t kIdleBufferBytes = 64u << 10;

timeval MillisToTimeval(int64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

struct Server::Connection {
  Server* server;
  uint64_t id;
  int fd;
  std::string peer;  // remote address, for logs
  event* read_event = nullptr;   // persistent; removed while reading is paused
  event* write_event = nullptr;  // persistent; added only while a send would block
  IoBuffer in;
  IoBuffer out;
  bool read_paused = false;     // unsent replies over the cap
  bool writing = false;         // write_event is added
  bool flush_queued = false;    // in Server::to_flush_
  bool partial_timer = false;   // read_event carries the partial-frame timeout
  // Rejected: reads stop, replies already queued are flushed, then close.
  bool closing = false;
  // The member this connection proved to be (empty: not a peer).
  NodeId peer_id;
  // Set between a peer's hello and its proof.
  std::unique_ptr<PeerAuthenticator::Accepting> handshake;
  ~Connection() {
    // Either event may be missing when OnAccept ran out of memory.
    if (read_event != nullptr) event_free(read_event);
    if (write_event != nullptr) event_free(write_event);
    evutil_closesocket(fd);
  }
};

Server::Metrics::Metrics(MetricsRegistry* registry) {
  accepted = registry->AddCounter("ringkv_server_connections_accepted_total",
                                  "Connections accepted from clients and peers.");
  const char* messages_help = "Messages decoded, by sender: a client, or a peer (non-empty from).";
  client_messages = registry->AddCounter("ringkv_server_messages_received_total", messages_help,
                                         {{"sender", "client"}});
  peer_messages = registry->AddCounter("ringkv_server_messages_received_total", messages_help,
                                       {{"sender", "peer"}});
  replies = registry->AddCounter("ringkv_server_replies_total",
                                 "Replies queued on the connection their request came in on.");
  bytes_received = registry->AddCounter("ringkv_server_received_bytes_total",
                                        "Bytes read from connections.");
  bytes_sent = registry->AddCounter("ringkv_server_sent_bytes_total",
                                    "Bytes written to connections.");
  read_pauses = registry->AddCounter(
      "ringkv_server_read_pauses_total",
      "Times a connection stopped being read because its unsent replies passed the limit.");
  const char* rejected_help =
      "Connections closed for bad input, by reason (docs/wire-protocol.md).";
  auto rejected = [&](const char* reason) {
    return registry->AddCounter("ringkv_server_connections_rejected_total", rejected_help,
                                {{"reason", reason}});
  };
  bad_frame = rejected("bad_frame");
  undecodable = rejected("undecodable");
  slowloris = rejected("slowloris");
  truncated = rejected("truncated");
  const char* handshakes_help =
      "Peer handshakes on accepted connections, by result: ok, refused (malformed, not a "
      "member, wrong proof, out of order) or timeout.";
  handshakes_ok = registry->AddCounter("ringkv_server_peer_handshakes_total", handshakes_help,
                                       {{"result", "ok"}});
  handshakes_refused = registry->AddCounter("ringkv_server_peer_handshakes_total",
                                            handshakes_help, {{"result", "refused"}});
  handshakes_timed_out = registry->AddCounter("ringkv_server_peer_handshakes_total",
                                              handshakes_help, {{"result", "timeout"}});
  peer_messages_refused = registry->AddCounter(
      "ringkv_server_peer_messages_refused_total",
      "Peer messages (non-empty from) refused, with their connection, because the connection "
      "had not authenticated as that member.");
}

Server::Server(EventLoop* loop, ServerOptions options, MessageSink* sink,
               MetricsRegistry* metrics)
    : loop_(loop), options_(std::move(options)), sink_(sink), metrics_(metrics),
      alive_(std::make_shared<bool>(true)) {
  open_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_connections_open", "Connections open now.", {},
      [this] { return static_cast<double>(connections_.size()); });
  pending_gauge_ = metrics->AddGaugeCallback(
      "ringkv_server_pending_output_bytes", "Reply bytes queued and not yet taken by a socket.",
      {}, [this] { return static_cast<double>(pending_output_bytes()); });
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
  to_flush_.clear();
}

uint64_t Server::rejected_connections() const {
  return metrics_.bad_frame->value() + metrics_.undecodable->value() +
         metrics_.slowloris->value() + metrics_.truncated->value();
}

size_t Server::pending_output_bytes() const {
  size_t total = 0;
  for (const auto& [id, conn] : connections_) total += conn->out.size();
  return total;
}

void Server::OnAccept(evconnlistener*, int fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<Server*>(arg);
  SetNoDelay(fd);
  auto conn = std::make_unique<Connection>();
  conn->server = self;
  conn->id = self->next_conn_id_++;
  conn->fd = fd;
  conn->peer = FormatSockaddr(addr);
  conn->read_event =
      event_new(self->loop_->base(), fd, EV_READ | EV_PERSIST, &Server::OnReadable, conn.get());
  conn->write_event =
      event_new(self->loop_->base(), fd, EV_WRITE | EV_PERSIST, &Server::OnWritable, conn.get());
  if (conn->read_event == nullptr || conn->write_event == nullptr ||
      event_add(conn->read_event, nullptr) != 0) {
    spdlog::error("cannot watch a new connection from {}", conn->peer);
    return;  // the Connection's destructor closes the socket
  }
  spdlog::debug("connection {} from {}", conn->id, conn->peer);
  self->metrics_.accepted->Increment();
  self->connections_.emplace(conn->id, std::move(conn));
}

void Server::OnAcceptError(evconnlistener*, void*) {
  // Typically EMFILE: the listener stays armed and retries on the next
  // connection, existing connections are unaffected.
  int err = EVUTIL_SOCKET_ERROR();
  spdlog::error("accept failed: {}", evutil_socket_error_to_string(err));
}

void Server::OnReadable(int fd, short what, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  Server* self = conn->server;
  if (what & EV_TIMEOUT) {
    return self->Reject(conn,
                        Status::Timeout("frame left unfinished for " +
                                        std::to_string(self->options_.partial_frame_timeout_ms) +
                                        " ms"),
                        self->metrics_.slowloris);
  }
  // One read per readiness: the loop comes back while more is waiting, and
  // other connections get their turn meanwhile.
  char* space = conn->in.Reserve(kReadChunk);
  ssize_t n = recv(fd, space, conn->in.writable(), 0);
  if (n > 0) {
    conn->in.Commit(static_cast<size_t>(n));
    self->metrics_.bytes_received->Add(static_cast<uint64_t>(n));
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

void Server::ReadFrames(Connection* conn) {
  // Bounded by the input: each pass consumes a frame or returns.
  while (!conn->read_paused && !conn->closing) {
    FrameParse frame = ParseFrame(conn->in.readable(), options_.max_frame_bytes);
    if (frame.state == FrameParse::State::kError) {
      return Reject(conn, frame.error, metrics_.bad_frame);
    }
    if (frame.state == FrameParse::State::kNeedMore) break;
    Result<Message> message = DecodeMessage(frame.body);
    conn->in.Consume(frame.consumed);
    if (!message.ok()) return Reject(conn, message.status(), metrics_.undecodable);
    if (IsHandshake(message->body)) {
      if (!Handshake(conn, *message)) return;
      continue;
    }
    if (!message->from.empty()) {
      if (options_.peer_auth != nullptr && message->from != conn->peer_id) {
        return RefusePeerMessage(conn, *message);
      }
      metrics_.peer_messages->Increment();
      sink_->OnPeerMessage(std::move(message).value());
    } else {
      metrics_.client_messages->Increment();
      std::weak_ptr<bool> alive = alive_;
      uint64_t id = conn->id;
      sink_->OnClientRequest(std::move(message).value(), [this, alive, id](Message reply) {
        if (alive.lock()) Reply(id, reply);
      });
    }
  }
  if (conn->closing) return;
  conn->in.ShrinkIfEmpty(kIdleBufferBytes);
  // The read timeout runs only while a frame is unfinished; idle
  // connections between frames are kept.
  bool partial = !conn->in.empty() && !conn->read_paused;
  if (partial && !conn->partial_timer) {
    timeval tv = MillisToTimeval(options_.partial_frame_timeout_ms);
    event_add(conn->read_event, &tv);
    conn->partial_timer = true;
  } else if (!partial && conn->partial_timer) {
    event_remove_timer(conn->read_event);
    conn->partial_timer = false;
  }
}

bool Server::Handshake(Connection* conn, const Message& message) {
  const PeerAuthenticator* auth = options_.peer_auth;
  Status refused;
  if (auth == nullptr) {
    refused = Status::InvalidArgument("this node does not authenticate peers");
  } else if (const auto* hello = std::get_if<PeerHello>(&message.body)) {
    auto accepting = std::make_unique<PeerAuthenticator::Accepting>();
    Result<PeerChallenge> challenge =
        conn->peer_id.empty() && conn->handshake == nullptr
            ? auth->Challenge(*hello, accepting.get())
            : Result<PeerChallenge>(Status::InvalidArgument("a second hello on one connection"));
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
  std::string why = conn->peer_id.empty()
                        ? std::string("peer message ") + MessageName(message.body) +
                              " claiming to be from '" + message.from +
                              "' on a connection that did not authenticate as a peer"
                        : std::string("peer message ") + MessageName(message.body) +
                              " claiming to be from '" + message.from +
                              "' on a connection authenticated as '" + conn->peer_id + "'";
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
  if (options_.peer_auth == nullptr) return;
  std::vector<Connection*> former;
  for (const auto& [id, conn] : connections_) {
    if (!conn->peer_id.empty() && !options_.peer_auth->IsMember(conn->peer_id)) {
      former.push_back(conn.get());
    }
  }
  for (Connection* conn : former) {
    spdlog::warn("closing connection from {}: peer {} is no longer a member", conn->peer,
                 conn->peer_id);
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
  if (!conn->read_paused && conn->out.size() > options_.max_pending_output_bytes) {
    PauseReading(conn);
  }
  QueueFlush(conn);
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
  std::vector<uint64_t> ids;
  ids.swap(to_flush_);
  for (uint64_t id : ids) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    it->second->flush_queued = false;
    Flush(it->second.get());
  }
}

void Server::Flush(Connection* conn) {
  while (!conn->out.empty()) {
    std::string_view pending = conn->out.readable();
    ssize_t n = send(conn->fd, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      conn->out.Consume(static_cast<size_t>(n));
      metrics_.bytes_sent->Add(static_cast<uint64_t>(n));
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
    conn->out.ShrinkIfEmpty(kIdleBufferBytes);
    if (conn->closing) return Close(conn);
  } else if (!conn->writing) {
    timeval flush_timeout{kFlushTimeoutSec, 0};
    event_add(conn->write_event, conn->closing ? &flush_timeout : nullptr);
    conn->writing = true;
  }
  if (conn->read_paused && !conn->closing &&
      conn->out.size() <= options_.max_pending_output_bytes / 2) {
    ResumeReading(conn);
  }
}

void Server::OnWritable(int, short what, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  // Only a closing connection's flush has a timeout: its client stopped
  // reading the answers that preceded its bad frame.
  if (what & EV_TIMEOUT) return conn->server->Close(conn);
  conn->server->Flush(conn);
}

void Server::PauseReading(Connection* conn) {
  metrics_.read_pauses->Increment();
  conn->read_paused = true;
  event_del(conn->read_event);
  conn->partial_timer = false;
}

void Server::ResumeReading(Connection* conn) {
  // Requests that arrived meanwhile are parsed first, then the socket.
  conn->read_paused = false;
  event_add(conn->read_event, nullptr);
  ReadFrames(conn);
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
  if (conn->out.empty()) return Close(conn);
  // Answers to the requests before the bad frame still go out, within a
  // bounded time: a client that does not read them is cut off anyway.
  conn->closing = true;
  event_del(conn->read_event);
  timeval flush_timeout{kFlushTimeoutSec, 0};
  event_add(conn->write_event, &flush_timeout);
  conn->writing = true;
}

void Server::Close(Connection* conn) { connections_.erase(conn->id); }

}  // namespace ringkv
