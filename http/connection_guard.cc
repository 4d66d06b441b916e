#include "http/connection_guard.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <string>

namespace ringkv::http {
namespace {

// A whole response written straight to the socket, for a connection evhttp
// is not answering on: a JSON error and Connection: close.
std::string Canned(const char* status_line, const std::string& json) {
  return std::string("HTTP/1.1 ") + status_line +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(json.size()) + "\r\n\r\n" + json;
}

const std::string& BusyResponse() {
  static const std::string r = Canned(
      "503 Service Unavailable",
      R"({"error":"busy","message":"too many HTTP connections open, retry later"})");
  return r;
}

const std::string& TooSlowResponse() {
  static const std::string r =
      Canned("408 Request Timeout",
             R"({"error":"request_timeout","message":"request not whole by its deadline"})");
  return r;
}

// The evhttp connection a bufferevent serves: evhttp sets itself as the
// callbacks' argument. Null once evhttp let go of it.
evhttp_connection* OwnerOf(bufferevent* bev) {
  bufferevent_data_cb read_cb = nullptr;
  void* arg = nullptr;
  bufferevent_getcb(bev, &read_cb, nullptr, nullptr, &arg);
  return read_cb == nullptr ? nullptr : static_cast<evhttp_connection*>(arg);
}

}  // namespace

ConnectionGuard::ConnectionGuard(Scheduler* scheduler, GuardLimits limits)
    : scheduler_(scheduler), limits_(limits) {}

ConnectionGuard::~ConnectionGuard() {
  scheduler_->Cancel(adopt_timer_);
  for (bufferevent* bev : pending_) bufferevent_decref(bev);
  for (auto& [evcon, conn] : conns_) {
    scheduler_->Cancel(conn->deadline);
    evhttp_connection_set_closecb(evcon, nullptr, nullptr);
  }
}

bufferevent* ConnectionGuard::NewBufferevent(event_base* base, void* arg) {
  auto* self = static_cast<ConnectionGuard*>(arg);
  bufferevent* bev = nullptr;
  if (self->tls_ != nullptr) {
    // evhttp sets the socket later; the handshake runs before the first
    // request is read, under the same deadline as the request.
    SSL* ssl = self->tls_->NewSsl();
    if (ssl == nullptr) return nullptr;
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) SSL_free(ssl);
  } else {
    bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  }
  if (bev == nullptr) return nullptr;
  bufferevent_incref(bev);
  self->pending_.push_back(bev);
  if (self->adopt_timer_ == 0) {
    self->adopt_timer_ = self->scheduler_->RunAfter(0, [self] { self->AdoptPending(); });
  }
  return bev;
}

void ConnectionGuard::AdoptPending() {
  adopt_timer_ = 0;
  std::vector<bufferevent*> pending;
  pending.swap(pending_);
  for (bufferevent* bev : pending) {
    if (evhttp_connection* evcon = OwnerOf(bev)) Adopt(evcon, bufferevent_getfd(bev));
    bufferevent_decref(bev);
  }
}

ConnectionGuard::Conn* ConnectionGuard::Adopt(evhttp_connection* evcon, int fd) {
  auto it = conns_.find(evcon);
  if (it != conns_.end()) return it->second.get();
  auto conn = std::make_unique<Conn>();
  conn->evcon = evcon;
  conn->fd = fd;
  Conn* raw = conn.get();
  const bool over_cap = conns_.size() >= limits_.max_connections;
  conns_.emplace(evcon, std::move(conn));
  evhttp_connection_set_closecb(evcon, &ConnectionGuard::OnClose, this);
  if (metrics_ != nullptr) metrics_->Accepted();
  if (over_cap) {
    CutConnection(raw, BusyResponse(), Cut::kConnectionCap);
  } else {
    Arm(raw);
  }
  return raw;
}

void ConnectionGuard::Arm(Conn* conn) {
  scheduler_->Cancel(conn->deadline);
  evhttp_connection* evcon = conn->evcon;
  conn->deadline = scheduler_->RunAfter(limits_.request_deadline_us, [this, evcon] {
    auto it = conns_.find(evcon);
    if (it == conns_.end()) return;
    it->second->deadline = 0;
    CutConnection(it->second.get(), TooSlowResponse(), Cut::kDeadline);
  });
}

void ConnectionGuard::CutConnection(Conn* conn, const std::string& canned_response, Cut reason) {
  if (conn->cut) return;
  conn->cut = true;
  scheduler_->Cancel(conn->deadline);
  conn->deadline = 0;
  if (metrics_ != nullptr) metrics_->Rejected(reason);
  // Best effort: a client that reads gets a reason, the rest the close.
  (void)::send(conn->fd, canned_response.data(), canned_response.size(),
               MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(conn->fd, SHUT_RDWR);
}

bool ConnectionGuard::OnRequest(evhttp_request* request) {
  evhttp_connection* evcon = evhttp_request_get_connection(request);
  if (evcon == nullptr) return false;
  Conn* conn = Adopt(evcon, bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)));
  if (conn->cut) return false;
  scheduler_->Cancel(conn->deadline);
  conn->deadline = 0;
  evhttp_request_set_on_complete_cb(request, &ConnectionGuard::OnComplete, this);
  return true;
}

void ConnectionGuard::OnComplete(evhttp_request* request, void* arg) {
  auto* self = static_cast<ConnectionGuard*>(arg);
  auto it = self->conns_.find(evhttp_request_get_connection(request));
  if (it != self->conns_.end() && !it->second->cut) self->Arm(it->second.get());
}

void ConnectionGuard::OnClose(evhttp_connection* evcon, void* arg) {
  auto* self = static_cast<ConnectionGuard*>(arg);
  auto it = self->conns_.find(evcon);
  if (it == self->conns_.end()) return;
  self->scheduler_->Cancel(it->second->deadline);
  self->conns_.erase(it);
}

}  // namespace ringkv::http
