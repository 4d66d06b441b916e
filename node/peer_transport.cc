#include "node/peer_transport.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "common/host_port.h"
#include "common/tls.h"
#include "node/socket_util.h"
#include "proto/codec.h"
#include "proto/frame.h"

namespace ringkv {
namespace {

constexpr const char* kSentHelp =
    "Messages handed to the connection to a peer (or, for this node itself, delivered in "
    "process).";

// A connect to a black-holed host, or a peer that stops reading, fails
// after this long instead of queueing for ever.
constexpr int kWriteTimeoutSec = 5;
// A challenge is about a hundred bytes: anything announcing more is not one.
constexpr uint32_t kMaxHandshakeFrameBytes = 4096;

// Appends the frame of `body` to `out`, written straight into the space
// libevent reserves for it: a sent message costs one copy and one run of
// the buffer's callbacks.
void AddFrame(evbuffer* out, std::string_view body) {
  evbuffer_iovec space;
  if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(kFrameHeaderSize + body.size()), &space,
                             1) != 1) {
    return;  // out of memory, where evbuffer_add fails alike
  }
  char* at = static_cast<char*>(space.iov_base);
  EncodeFrameHeader(body, at);
  if (!body.empty()) std::memcpy(at + kFrameHeaderSize, body.data(), body.size());
  space.iov_len = kFrameHeaderSize + body.size();
  evbuffer_commit_space(out, &space, 1);
}

// Writes that make no progress for kWriteTimeoutSec fail the connection;
// `read_us` > 0 also bounds the wait for the next input.
void SetTimeouts(bufferevent* bev, int64_t read_us = 0) {
  const timeval read_timeout{static_cast<time_t>(read_us / 1'000'000),
                             static_cast<suseconds_t>(read_us % 1'000'000)};
  const timeval write_timeout{kWriteTimeoutSec, 0};
  bufferevent_set_timeouts(bev, read_us > 0 ? &read_timeout : nullptr, &write_timeout);
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether the kernel had to retransmit on this connection and has not heard
// an acknowledgement since: its packets are being lost, and the next
// retransmission may be seconds away.
bool Retransmitting(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  return fd >= 0 && ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
         info.tcpi_retransmits > 0;
}

std::string BuffereventTlsErrors(bufferevent* bev) {
  return JoinTlsErrors([bev] { return bufferevent_get_openssl_error(bev); });
}

}  // namespace

struct PeerTransport::Peer {
  enum class State { kIdle, kConnecting, kHandshaking, kConnected, kBackoff };
  PeerTransport* transport;
  NodeId id;
  std::string address;
  State state = State::kIdle;
  bufferevent* bev = nullptr;
  std::deque<std::string> pending;  // message bodies waiting for the connection
  size_t pending_bytes = 0;
  int64_t backoff_us = 0;
  TimerId backoff_timer = 0;
  uint32_t failures = 0;  // since the last established connection
  bool flush_queued = false;
  Counter* sent = nullptr;
  Counter* sent_bytes = nullptr;
  Counter* dropped_full = nullptr;
  Counter* dropped_down = nullptr;
  Counter* connects = nullptr;
  Counter* connect_failures = nullptr;
  Counter* connect_attempts = nullptr;
  Counter* connections_lost = nullptr;
  Counter* handshake_failures = nullptr;
  PeerAuthenticator::Opening opening;  // of the handshake in progress
  int64_t connect_started_us = 0;  // of the latest connect
  int64_t looked_us = 0;           // when HeardFrom last looked at the peer

  void FreeConnection() {
    if (bev != nullptr) bufferevent_free(bev);
    bev = nullptr;
  }
  ~Peer() { FreeConnection(); }
};

PeerTransport::PeerTransport(EventLoop* loop, NodeId self,
                             std::map<NodeId, std::string> addresses,
                             std::function<void(std::string)> deliver_local,
                             MetricsRegistry* metrics, PeerTransportOptions options)
    : loop_(loop), self_(std::move(self)), deliver_local_(std::move(deliver_local)),
      options_(options), metrics_(metrics) {
  sent_local_ = metrics->AddCounter("ringkv_peer_messages_sent_total", kSentHelp,
                                    {{"peer", self_}});
  dropped_unknown_ = metrics->AddCounter("ringkv_peer_messages_unknown_destination_total",
                                         "Messages dropped because their destination is not a "
                                         "member.");
  for (auto& [id, address] : addresses) {
    if (id != self_) AddPeer(id, std::move(address));
  }
  open_gauge_ = metrics->AddGaugeCallback(
      "ringkv_peer_connections_open", "Outbound connections to peers established now.", {},
      [this] {
        double open = 0;
        for (const auto& [id, peer] : peers_) open += peer->state == Peer::State::kConnected;
        return open;
      });
  queued_gauge_ = metrics->AddGaugeCallback(
      "ringkv_peer_queued_bytes",
      "Frame bytes waiting for a connection to a peer or unsent in its buffer.", {}, [this] {
        size_t queued = 0;
        for (const auto& [id, peer] : peers_) {
          queued += peer->pending_bytes;
          if (peer->bev == nullptr) continue;
          queued += evbuffer_get_length(bufferevent_get_output(peer->bev));
        }
        return static_cast<double>(queued);
      });
}

void PeerTransport::AddPeer(const NodeId& id, std::string address) {
  MetricsRegistry* metrics = metrics_;
  auto peer = std::make_unique<Peer>();
  peer->transport = this;
  peer->id = id;
  peer->address = std::move(address);
  peer->backoff_us = options_.min_backoff_us;
  const MetricLabels labels = {{"peer", id}};
  peer->sent = metrics->AddCounter("ringkv_peer_messages_sent_total", kSentHelp, labels);
  peer->sent_bytes = metrics->AddCounter("ringkv_peer_sent_bytes_total",
                                         "Frame bytes handed to the connection to a peer.",
                                         labels);
  const char* dropped_help =
      "Messages dropped, by peer and reason: queue_full, or down (in back-off, or the "
      "connection broke with them unsent).";
  peer->dropped_full = metrics->AddCounter("ringkv_peer_messages_dropped_total", dropped_help,
                                           {{"peer", id}, {"reason", "queue_full"}});
  peer->dropped_down = metrics->AddCounter("ringkv_peer_messages_dropped_total", dropped_help,
                                           {{"peer", id}, {"reason", "down"}});
  peer->connects = metrics->AddCounter("ringkv_peer_connects_total",
                                       "Connections to a peer established.", labels);
  peer->connect_failures = metrics->AddCounter(
      "ringkv_peer_connect_failures_total", "Connection attempts to a peer that failed.", labels);
  peer->connect_attempts = metrics->AddCounter(
      "ringkv_peer_connect_attempts_total",
      "Connections to a peer begun, the ones replacing a stalled attempt included.", labels);
  peer->connections_lost = metrics->AddCounter(
      "ringkv_peer_connections_lost_total",
      "Established connections to a peer that broke (error, EOF or write timeout).", labels);
  peer->handshake_failures = metrics->AddCounter(
      "ringkv_peer_handshake_failures_total",
      "Connections to a peer dropped because the peer handshake failed: refused by the peer, "
      "a proof that does not match, another node at the address, or no answer in time.",
      labels);
  peers_.emplace(id, std::move(peer));
}

void PeerTransport::SetMembers(const std::map<NodeId, std::string>& addresses) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto found = addresses.find(it->first);
    if (found != addresses.end() && found->second == it->second->address) {
      ++it;
      continue;
    }
    // Removed, or moved to another address: its connection and queue go.
    Peer* peer = it->second.get();
    loop_->Cancel(peer->backoff_timer);
    std::erase(to_flush_, peer);
    it = peers_.erase(it);
  }
  for (const auto& [id, address] : addresses) {
    if (id != self_ && peers_.count(id) == 0) AddPeer(id, address);
  }
}

PeerTransportStats PeerTransport::stats() const {
  PeerTransportStats s;
  s.sent = sent_local_->value();
  s.dropped_unknown = dropped_unknown_->value();
  for (const auto& [id, peer] : peers_) {
    s.sent += peer->sent->value();
    s.dropped_full += peer->dropped_full->value();
    s.dropped_down += peer->dropped_down->value();
    s.connects += peer->connects->value();
    s.connect_attempts += peer->connect_attempts->value();
    s.handshake_failures += peer->handshake_failures->value();
  }
  return s;
}

PeerTransport::~PeerTransport() {
  Close();
  if (dns_ != nullptr) evdns_base_free(dns_, 0);
}

void PeerTransport::Close() {
  for (auto& [id, peer] : peers_) {
    loop_->Cancel(peer->backoff_timer);
    peer->FreeConnection();
    peer->pending.clear();
    peer->pending_bytes = 0;
    peer->state = Peer::State::kIdle;
    peer->flush_queued = false;
  }
  to_flush_.clear();
}

bool PeerTransport::connected(const NodeId& id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second->state == Peer::State::kConnected;
}

bool PeerTransport::IsUp(const NodeId& id) const {
  auto it = peers_.find(id);
  return it == peers_.end() || it->second->failures == 0;
}

void PeerTransport::HeardFrom(const NodeId& id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  Peer* peer = it->second.get();
  const int64_t now = NowMicros();
  if (now - peer->looked_us < options_.stall_us) return;
  peer->looked_us = now;
  if (!NeedsReconnect(*peer, now)) return;
  if (peer->state == Peer::State::kConnected || peer->state == Peer::State::kConnecting ||
      peer->state == Peer::State::kHandshaking) {
    Fail(peer, peer->state == Peer::State::kConnected
                   ? "packets lost while the peer is heard from; reconnecting"
                   : "connect stalled while the peer is heard from; reconnecting");
  }
  loop_->Cancel(peer->backoff_timer);
  peer->backoff_timer = 0;
  peer->state = Peer::State::kIdle;
  StartConnect(peer);
}

bool PeerTransport::NeedsReconnect(const Peer& peer, int64_t now_us) const {
  switch (peer.state) {
    case Peer::State::kConnected:
      return Retransmitting(bufferevent_getfd(peer.bev));
    case Peer::State::kConnecting:
    case Peer::State::kHandshaking:
      return now_us - peer.connect_started_us >= options_.stall_us;
    case Peer::State::kBackoff:
      return true;
    case Peer::State::kIdle:
      return peer.failures > 0;
  }
  return false;
}

void PeerTransport::Send(const NodeId& to, std::string bytes) {
  if (to == self_) {
    sent_local_->Increment();
    loop_->RunAfter(0, [this, bytes = std::move(bytes)]() mutable {
      if (deliver_local_) deliver_local_(std::move(bytes));
    });
    return;
  }
  auto it = peers_.find(to);
  if (it == peers_.end()) {
    dropped_unknown_->Increment();
    return;
  }
  Peer* peer = it->second.get();
  if (peer->state == Peer::State::kBackoff) {
    peer->dropped_down->Increment();
    NotifyLinkDown(to);
    return;
  }
  const size_t frame_size = kFrameHeaderSize + bytes.size();
  if (peer->state == Peer::State::kIdle) StartConnect(peer);
  switch (peer->state) {
    case Peer::State::kConnecting:
    case Peer::State::kHandshaking:
      if (peer->pending_bytes + frame_size > options_.max_queue_bytes) {
        peer->dropped_full->Increment();
        return;
      }
      peer->pending_bytes += frame_size;
      peer->pending.push_back(std::move(bytes));
      return;
    case Peer::State::kConnected: {
      evbuffer* out = bufferevent_get_output(peer->bev);
      if (evbuffer_get_length(out) + frame_size > options_.max_queue_bytes) {
        peer->dropped_full->Increment();
        return;
      }
      AddFrame(out, bytes);
      peer->sent->Increment();
      peer->sent_bytes->Add(frame_size);
      QueueFlush(peer);
      return;
    }
    case Peer::State::kIdle:
    case Peer::State::kBackoff:
      // Connect failed synchronously; Fail has told of the link.
      peer->dropped_down->Increment();
      return;
  }
}

void PeerTransport::StartConnect(Peer* peer) {
  peer->connect_started_us = NowMicros();
  peer->connect_attempts->Increment();
  Connect(peer);
}

void PeerTransport::Connect(Peer* peer) {
  peer->state = Peer::State::kConnecting;
  if (options_.tls != nullptr) {
    SSL* ssl = options_.tls->NewSsl();
    if (ssl == nullptr) return Fail(peer, "cannot start TLS: " + TakeTlsErrors());
    // Frees the SSL with itself.
    peer->bev = bufferevent_openssl_socket_new(loop_->base(), -1, ssl,
                                               BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (peer->bev == nullptr) SSL_free(ssl);
  } else {
    peer->bev = bufferevent_socket_new(loop_->base(), -1, BEV_OPT_CLOSE_ON_FREE);
  }
  if (peer->bev == nullptr) return Fail(peer, "cannot create a socket buffer");
  // A TLS bufferevent writes by itself whenever output is added; the turn's
  // batching by FlushQueued is for plain sockets.
  bufferevent_setcb(peer->bev, &PeerTransport::OnRead,
                    options_.tls != nullptr ? nullptr : &PeerTransport::OnDrained,
                    &PeerTransport::OnEvent, peer);
  // The TLS handshake is bounded as the peer handshake is.
  SetTimeouts(peer->bev, options_.tls != nullptr ? options_.handshake_timeout_us : 0);
  bufferevent_enable(peer->bev, EV_READ | EV_WRITE);
  sockaddr_storage addr;
  int len = 0;
  int rc;
  if (ParseSockaddr(peer->address, &addr, &len).ok()) {
    if (!options_.source_host.empty()) {
      Result<int> fd = NewBoundSocket(options_.source_host, addr.ss_family);
      if (!fd.ok()) return Fail(peer, fd.status().message());
      bufferevent_setfd(peer->bev, *fd);  // closed with the bufferevent
    }
    rc = bufferevent_socket_connect(peer->bev, reinterpret_cast<sockaddr*>(&addr), len);
  } else {
    // A host name (many hosts, Kubernetes): resolve through evdns.
    Result<HostPort> target = ParseHostPort(peer->address);
    if (!target.ok()) return Fail(peer, target.status().message());
    if (dns_ == nullptr) dns_ = evdns_base_new(loop_->base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
    rc = bufferevent_socket_connect_hostname(peer->bev, dns_, AF_UNSPEC, target->host.c_str(),
                                             target->port);
  }
  if (rc != 0) Fail(peer, "connect failed at once");
}

void PeerTransport::Fail(Peer* peer, const std::string& why) {
  bool was_connected = peer->state == Peer::State::kConnected;
  ++peer->failures;
  spdlog::log(was_connected ? spdlog::level::warn : spdlog::level::debug,
              "connection to {} at {} {}: {}", peer->id, peer->address,
              was_connected ? "lost" : "failed", why);
  (was_connected ? peer->connections_lost : peer->connect_failures)->Increment();
  peer->dropped_down->Add(peer->pending.size());
  peer->pending.clear();
  peer->pending_bytes = 0;
  peer->FreeConnection();
  if (was_connected) peer->backoff_us = options_.min_backoff_us;
  peer->state = Peer::State::kBackoff;
  int64_t delay = peer->backoff_us;
  peer->backoff_us = std::min(peer->backoff_us * 2, options_.max_backoff_us);
  // After the backoff the next Send connects again (lazily).
  peer->backoff_timer = loop_->RunAfter(delay, [peer] {
    peer->backoff_timer = 0;
    peer->state = Peer::State::kIdle;
  });
  // A broken connection may still have delivered its requests, whose
  // replies come back on the peer's own connection; a connection never made
  // delivered nothing.
  if (!was_connected) NotifyLinkDown(peer->id);
}

void PeerTransport::QueueFlush(Peer* peer) {
  if (peer->flush_queued) return;
  peer->flush_queued = true;
  to_flush_.push_back(peer);
  if (to_flush_.size() > 1) return;
  std::weak_ptr<bool> alive = alive_;
  loop_->AtTurnEnd([this, alive] {
    if (alive.lock()) FlushQueued();
  });
}

void PeerTransport::FlushQueued() {
  std::vector<Peer*> peers;
  peers.swap(to_flush_);
  for (Peer* peer : peers) {
    peer->flush_queued = false;
    if (peer->state != Peer::State::kConnected) continue;
    if (options_.tls != nullptr) continue;
    evbuffer* out = bufferevent_get_output(peer->bev);
    // Already waiting for the socket to drain: the bufferevent sends it.
    if (bufferevent_get_enabled(peer->bev) & EV_WRITE) continue;
    int fd = bufferevent_getfd(peer->bev);
    int error = 0;
    // The bufferevent freezes the front of its output after each of its own
    // writes; while frozen, evbuffer_write sends nothing and returns -1
    // without setting errno.
    evbuffer_unfreeze(out, 1);
    while (evbuffer_get_length(out) > 0) {
      errno = 0;
      int n = evbuffer_write(out, fd);
      if (n > 0) continue;
      if (n == 0) break;  // nothing taken: the write event finishes it
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) error = errno;
      break;
    }
    evbuffer_freeze(out, 1);
    if (error != 0) {
      Fail(peer, std::string("send failed: ") + std::strerror(error));
      continue;
    }
    // The rest goes when the socket drains, under the write timeout.
    if (evbuffer_get_length(out) > 0) bufferevent_enable(peer->bev, EV_WRITE);
  }
}

void PeerTransport::OnDrained(bufferevent* bev, void*) {
  // Back to sending from the turn's end; an idle socket is not watched.
  bufferevent_disable(bev, EV_WRITE);
}

void PeerTransport::OnEvent(bufferevent*, short events, void* arg) {
  auto* peer = static_cast<Peer*>(arg);
  PeerTransport* self = peer->transport;
  if (events & BEV_EVENT_CONNECTED) {
    SetNoDelay(bufferevent_getfd(peer->bev));
    if (self->options_.tls != nullptr) {
      const NodeId named = PeerNodeId(bufferevent_openssl_get_ssl(peer->bev));
      if (named != peer->id) {
        return self->FailHandshake(
            peer, "its TLS certificate names " +
                      (named.empty() ? std::string("no node") : "node '" + named + "'") +
                      ", not the member dialled");
      }
    }
    if (self->options_.auth != nullptr) return self->StartHandshake(peer);
    return self->Established(peer);
  }
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    std::string why = (events & BEV_EVENT_TIMEOUT) ? "timed out"
                      : (events & BEV_EVENT_EOF)   ? "closed by peer"
                                                   : evutil_socket_error_to_string(
                                                         EVUTIL_SOCKET_ERROR());
    std::string tls_errors;
    if (self->options_.tls != nullptr) {
      tls_errors = BuffereventTlsErrors(peer->bev);
      if (!tls_errors.empty()) {
        why = "TLS: " + tls_errors;
      } else if ((events & BEV_EVENT_ERROR) && EVUTIL_SOCKET_ERROR() == 0) {
        why = "the peer ended the TLS session (did it refuse this node's certificate?)";
      }
    }
    // A TLS handshake that failed on a certificate is an authentication
    // failure, as a failed peer handshake is.
    if (!tls_errors.empty() && peer->state == Peer::State::kConnecting) {
      return self->FailHandshake(peer, why);
    }
    if (peer->state == Peer::State::kHandshaking) {
      return self->FailHandshake(peer, (events & BEV_EVENT_TIMEOUT) ? "no answer in time" : why);
    }
    self->Fail(peer, why);
  }
}

void PeerTransport::Established(Peer* peer) {
  peer->state = Peer::State::kConnected;
  peer->failures = 0;
  peer->backoff_us = options_.min_backoff_us;
  peer->connects->Increment();
  SetTimeouts(peer->bev);  // the handshake's read timeout no longer applies
  if (options_.tls == nullptr) bufferevent_disable(peer->bev, EV_WRITE);
  evbuffer* out = bufferevent_get_output(peer->bev);
  for (const std::string& body : peer->pending) AddFrame(out, body);
  peer->sent->Add(peer->pending.size());
  peer->sent_bytes->Add(peer->pending_bytes);
  peer->pending.clear();
  peer->pending_bytes = 0;
  spdlog::debug("connected to {} at {}", peer->id, peer->address);
  QueueFlush(peer);
}

void PeerTransport::StartHandshake(Peer* peer) {
  Result<PeerHello> hello = options_.auth->Hello(peer->id, &peer->opening);
  if (!hello.ok()) return Fail(peer, hello.status().message());
  peer->state = Peer::State::kHandshaking;
  Message message;
  message.body = std::move(hello).value();
  std::string frame;
  AppendFrame(EncodeMessage(message), &frame);
  // The bufferevent writes the hello itself; the read timeout bounds the
  // wait for the challenge.
  SetTimeouts(peer->bev, options_.handshake_timeout_us);
  bufferevent_write(peer->bev, frame.data(), frame.size());
}

void PeerTransport::ContinueHandshake(Peer* peer) {
  evbuffer* in = bufferevent_get_input(peer->bev);
  const size_t available = evbuffer_get_length(in);
  const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, -1));
  FrameParse frame = ParseFrame(std::string_view(data, available), kMaxHandshakeFrameBytes);
  if (frame.state == FrameParse::State::kNeedMore) return;
  Status failed;
  if (frame.state == FrameParse::State::kError) {
    failed = frame.error;
  } else if (Result<Message> message = DecodeMessage(frame.body); !message.ok()) {
    failed = message.status();
  } else if (const auto* error = std::get_if<ErrorReply>(&message->body)) {
    failed = Status::InvalidArgument("refused by the peer: " + error->status.message());
  } else if (const auto* challenge = std::get_if<PeerChallenge>(&message->body)) {
    Result<PeerProof> proof = options_.auth->Answer(peer->opening, *challenge);
    if (proof.ok()) {
      evbuffer_drain(in, evbuffer_get_length(in));
      Message answer;
      answer.body = std::move(proof).value();
      std::string out;
      AppendFrame(EncodeMessage(answer), &out);
      // Ahead of every queued message, so the acceptor reads it first.
      evbuffer_add(bufferevent_get_output(peer->bev), out.data(), out.size());
      spdlog::info("peer {} at {} authenticated", peer->id, peer->address);
      return Established(peer);
    }
    failed = proof.status();
  } else {
    failed = Status::InvalidArgument(std::string("expected a peerChallenge, got a ") +
                                     MessageName(message->body));
  }
  FailHandshake(peer, failed.message());
}

void PeerTransport::FailHandshake(Peer* peer, const std::string& why) {
  peer->handshake_failures->Increment();
  spdlog::warn("peer handshake with {} at {} failed: {}", peer->id, peer->address, why);
  Fail(peer, "peer handshake failed: " + why);
}

void PeerTransport::OnRead(bufferevent* bev, void* arg) {
  auto* peer = static_cast<Peer*>(arg);
  if (peer->state == Peer::State::kHandshaking) return peer->transport->ContinueHandshake(peer);
  // Peers answer on their own connection to us; anything arriving here is
  // not ours to interpret.
  evbuffer* in = bufferevent_get_input(bev);
  evbuffer_drain(in, evbuffer_get_length(in));
}

}  // namespace ringkv
