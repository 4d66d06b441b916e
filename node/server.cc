#include "node/server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "node/socket_util.h"
#include "proto/codec.h"

namespace ringkv {
namespace {

constexpr int kFlushTimeoutSec = 5;

}  // namespace

struct Server::Connection {
  Server* server;
  uint64_t id;
  bufferevent* bev;
  std::string peer;  // remote address, for logs
  bool read_paused = false;
  // Rejected: reads stop, replies already queued are flushed, then close.
  bool closing = false;
  ~Connection() { bufferevent_free(bev); }
};

Server::Server(EventLoop* loop, ServerOptions options, MessageSink* sink)
    : loop_(loop), options_(std::move(options)), sink_(sink),
      alive_(std::make_shared<bool>(true)) {}

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

void Server::CloseAll() { connections_.clear(); }

void Server::OnAccept(evconnlistener*, int fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<Server*>(arg);
  SetNoDelay(fd);
  bufferevent* bev = bufferevent_socket_new(self->loop_->base(), fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    evutil_closesocket(fd);
    spdlog::error("cannot create a buffer for a new connection");
    return;
  }
  auto conn = std::make_unique<Connection>();
  conn->server = self;
  conn->id = self->next_conn_id_++;
  conn->bev = bev;
  conn->peer = FormatSockaddr(addr);
  bufferevent_setcb(bev, &Server::OnRead, &Server::OnWrite, &Server::OnEvent, conn.get());
  bufferevent_setwatermark(bev, EV_WRITE, self->options_.max_pending_output_bytes / 2, 0);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  spdlog::debug("connection {} from {}", conn->id, conn->peer);
  self->connections_.emplace(conn->id, std::move(conn));
}

void Server::OnAcceptError(evconnlistener*, void*) {
  // Typically EMFILE: the listener stays armed and retries on the next
  // connection, existing connections are unaffected.
  int err = EVUTIL_SOCKET_ERROR();
  spdlog::error("accept failed: {}", evutil_socket_error_to_string(err));
}

void Server::OnRead(bufferevent*, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  conn->server->ReadFrames(conn);
}

void Server::OnWrite(bufferevent* bev, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  if (conn->closing) {
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) conn->server->Close(conn);
    return;
  }
  if (!conn->read_paused) return;
  // Replies drained to the low-water mark: read requests again, starting
  // with those that arrived meanwhile.
  conn->read_paused = false;
  bufferevent_enable(bev, EV_READ);
  conn->server->ReadFrames(conn);
}

void Server::OnEvent(bufferevent*, short events, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  Server* self = conn->server;
  if ((events & BEV_EVENT_TIMEOUT) && (events & BEV_EVENT_READING) && !conn->closing) {
    return self->Reject(conn, Status::Timeout("frame left unfinished for " +
                                              std::to_string(self->options_.partial_frame_timeout_ms) +
                                              " ms"));
  }
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    size_t left = evbuffer_get_length(bufferevent_get_input(conn->bev));
    if (left > 0 && !conn->closing) {
      spdlog::warn("closing connection from {}: truncated frame ({} bytes) at end of stream",
                   conn->peer, left);
    } else if (events & BEV_EVENT_ERROR) {
      int err = EVUTIL_SOCKET_ERROR();
      spdlog::debug("connection from {} failed: {}", conn->peer, evutil_socket_error_to_string(err));
    }
    self->Close(conn);
  }
}

void Server::ReadFrames(Connection* conn) {
  evbuffer* in = bufferevent_get_input(conn->bev);
  // Bounded by the input: each pass consumes a frame or returns.
  while (!conn->read_paused && !conn->closing) {
    size_t avail = evbuffer_get_length(in);
    // The read timeout runs only while a frame is unfinished.
    if (avail == 0) {
      bufferevent_set_timeouts(conn->bev, nullptr, nullptr);
    } else {
      timeval tv{static_cast<time_t>(options_.partial_frame_timeout_ms / 1000),
                 static_cast<suseconds_t>((options_.partial_frame_timeout_ms % 1000) * 1000)};
      bufferevent_set_timeouts(conn->bev, &tv, nullptr);
    }
    if (avail < kFrameHeaderSize) return;
    unsigned char header[kFrameHeaderSize];
    evbuffer_copyout(in, header, kFrameHeaderSize);
    // The cap is judged on the header alone, before any body is buffered.
    FrameParse head = ParseFrame(
        std::string_view(reinterpret_cast<const char*>(header), kFrameHeaderSize),
        options_.max_frame_bytes);
    if (head.state == FrameParse::State::kError) return Reject(conn, head.error);
    uint32_t length = static_cast<uint32_t>(header[0]) | static_cast<uint32_t>(header[1]) << 8 |
                      static_cast<uint32_t>(header[2]) << 16 |
                      static_cast<uint32_t>(header[3]) << 24;
    size_t total = kFrameHeaderSize + length;
    if (avail < total) return;
    const char* data = reinterpret_cast<const char*>(evbuffer_pullup(in, total));
    FrameParse frame = ParseFrame(std::string_view(data, total), options_.max_frame_bytes);
    if (frame.state != FrameParse::State::kFrame) return Reject(conn, frame.error);
    Result<Message> message = DecodeMessage(frame.body);
    evbuffer_drain(in, total);
    if (!message.ok()) return Reject(conn, message.status());
    if (!message->from.empty()) {
      sink_->OnPeerMessage(std::move(message).value());
    } else {
      std::weak_ptr<bool> alive = alive_;
      uint64_t id = conn->id;
      sink_->OnClientRequest(std::move(message).value(), [this, alive, id](Message reply) {
        if (alive.lock()) Reply(id, reply);
      });
    }
  }
}

void Server::Reply(uint64_t conn_id, const Message& message) {
  auto it = connections_.find(conn_id);
  if (it == connections_.end() || it->second->closing) return;
  Connection* conn = it->second.get();
  std::string frame;
  AppendFrame(EncodeMessage(message), &frame);
  evbuffer* out = bufferevent_get_output(conn->bev);
  evbuffer_add(out, frame.data(), frame.size());
  if (!conn->read_paused && evbuffer_get_length(out) > options_.max_pending_output_bytes) {
    conn->read_paused = true;
    bufferevent_disable(conn->bev, EV_READ);
  }
}

void Server::Reject(Connection* conn, const Status& why) {
  ++rejected_;
  spdlog::warn("closing connection from {}: {}", conn->peer, why.ToString());
  evbuffer* out = bufferevent_get_output(conn->bev);
  if (evbuffer_get_length(out) == 0) return Close(conn);
  // Answers to the requests before the bad frame still go out, within a
  // bounded time: a client that does not read them is cut off anyway.
  conn->closing = true;
  bufferevent_disable(conn->bev, EV_READ);
  bufferevent_setwatermark(conn->bev, EV_WRITE, 0, 0);
  timeval flush_timeout{kFlushTimeoutSec, 0};
  bufferevent_set_timeouts(conn->bev, nullptr, &flush_timeout);
}

void Server::Close(Connection* conn) { connections_.erase(conn->id); }

}  // namespace ringkv
