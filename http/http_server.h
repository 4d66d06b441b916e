// HttpServer: the node's HTTP listener (docs/http-api.md) on evhttp, in the
// node's one libevent loop. Routes requests to the key API (which calls the
// service exactly as the binary protocol does), the probes, /metrics, the
// ring status and the page; enforces the limits of ConnectionGuard plus
// header and body caps; over TLS and with bearer tokens when the node has
// them. Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/tls.h"
#include "http/connection_guard.h"
#include "http/http_metrics.h"
#include "http/key_api.h"
#include "replication/service.h"
#include "storage/storage.h"

struct event_base;
struct evhttp;
struct evhttp_request;

namespace ringkv::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (see port())
  GuardLimits guard;
  // Request line and headers together; past it 431 (past 4x, evhttp itself
  // answers 400 and closes).
  size_t max_header_bytes = 16 * 1024;
  // Past it evhttp answers 413 as soon as the headers announce it.
  size_t max_body_bytes = 4u << 20;
};

// What the server reads from the node. Each must outlive the server.
struct HttpEnv {
  event_base* base;
  Scheduler* scheduler;
  Clock* clock;
  MetricsRegistry* metrics;
  Service* service;
  Storage* storage;
  // Null: plain HTTP. Otherwise every connection is TLS with this context
  // (the node's own, docs/security.md).
  std::shared_ptr<TlsContext> tls = nullptr;
  // Empty: no client authentication. Otherwise every request but the
  // probes is checked as the binary protocol checks its messages (the
  // bearer token of the Authorization header stands for the message's).
  std::function<Status(const Message&)> authorize = nullptr;
};

class HttpServer {
 public:
  HttpServer(HttpOptions options, HttpEnv env);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. IOError when the address cannot be bound.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const { return port_; }

 private:
  static void OnRequest(evhttp_request* request, void* arg);
  void Handle(evhttp_request* request);
  void HandleKey(evhttp_request* request, const Route& route, int64_t start_us);
  void Send(evhttp_request* request, Op op, int64_t start_us, const Response& response);
  void Heartbeat();

  HttpOptions options_;
  HttpEnv env_;
  ConnectionGuard guard_;
  HttpMetrics metrics_;
  KeyApi keys_;
  evhttp* http_ = nullptr;
  uint16_t port_ = 0;
  // How late the heartbeat timer last ran, for /livez.
  int64_t loop_lag_us_ = 0;
  int64_t heartbeat_due_us_ = 0;
  TimerId heartbeat_ = 0;
  // Replies of the service that arrive after the server is gone are dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ringkv::http
