// ConnectionGuard: the limits evhttp 2.1 lacks, around its connections.
//
// evhttp has only an inactivity timeout, so a client sending one byte a
// second keeps a connection forever; it has no connection cap; and it gives
// no hook when a connection opens. The guard creates each connection's
// bufferevent (evhttp_set_bevcb) and, on the next loop turn (or at the
// connection's first request, whichever comes first), finds the evhttp
// connection that uses it, registers for its close, and then:
//   - at the cap (max_connections open), answers 503 and closes it;
//   - arms a deadline: a request must be whole (headers and body) within
//     `request_deadline_us` of the connection starting to wait for it (its
//     opening, or the end of the previous response); otherwise the guard
//     answers 408 and closes the connection.
// Closing is a shutdown() of the socket, never a free behind evhttp's back:
// evhttp then sees the end of the stream and frees the connection its own
// way, detaching a request still being served, whose late reply it drops.
// Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/scheduler.h"
#include "common/tls.h"
#include "http/http_metrics.h"

struct bufferevent;
struct event_base;
struct evhttp_connection;
struct evhttp_request;

namespace ringkv::http {

struct GuardLimits {
  size_t max_connections = 256;
  int64_t request_deadline_us = 10'000'000;
};

class ConnectionGuard {
 public:
  // All must outlive the guard; `metrics` may be set later (before traffic).
  ConnectionGuard(Scheduler* scheduler, GuardLimits limits);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  void set_metrics(HttpMetrics* metrics) { metrics_ = metrics; }
  // Connections made from now on are TLS, accepting with `tls`.
  void set_tls(std::shared_ptr<TlsContext> tls) { tls_ = std::move(tls); }

  // evhttp_set_bevcb's callback; `arg` is the guard.
  static bufferevent* NewBufferevent(event_base* base, void* arg);

  // A whole request reached the server: its deadline is met. False when its
  // connection was already cut; the request must then get no work.
  bool OnRequest(evhttp_request* request);

  size_t open() const { return conns_.size(); }

 private:
  struct Conn {
    evhttp_connection* evcon = nullptr;
    int fd = -1;
    TimerId deadline = 0;
    bool cut = false;
  };

  void AdoptPending();
  Conn* Adopt(evhttp_connection* evcon, int fd);
  void Arm(Conn* conn);
  void CutConnection(Conn* conn, const std::string& canned_response, Cut reason);
  static void OnClose(evhttp_connection* evcon, void* arg);
  static void OnComplete(evhttp_request* request, void* arg);

  Scheduler* scheduler_;
  GuardLimits limits_;
  HttpMetrics* metrics_ = nullptr;
  std::shared_ptr<TlsContext> tls_;
  // Bufferevents made for evhttp and not adopted yet, each holding a
  // reference of ours so none is freed under us.
  std::vector<bufferevent*> pending_;
  TimerId adopt_timer_ = 0;
  std::unordered_map<evhttp_connection*, std::unique_ptr<Conn>> conns_;
};

}  // namespace ringkv::http
