#include "http/http_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <nlohmann/json.hpp>
#include <utility>

#include "http/errors.h"
#include "http/page.h"
#include "http/probes.h"
#include "http/prometheus_text.h"
#include "http/ring_status.h"

namespace ringkv::http {
namespace {

constexpr int64_t kHeartbeatUs = 1'000'000;

Method MethodOf(evhttp_request* request) {
  switch (evhttp_request_get_command(request)) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD:
      return Method::kGet;
    case EVHTTP_REQ_PUT:
      return Method::kPut;
    case EVHTTP_REQ_DELETE:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

std::string HeaderOf(evhttp_request* request, const char* name, bool* present = nullptr) {
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(request), name);
  if (present != nullptr) *present = value != nullptr;
  return value == nullptr ? "" : value;
}

// The token of "Authorization: Bearer TOKEN" (the scheme in any case, RFC
// 6750), or "" when there is none or another scheme.
std::string BearerToken(evhttp_request* request) {
  const std::string value = HeaderOf(request, "Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return "";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return "";
  }
  const size_t start = value.find_first_not_of(' ', kScheme.size());
  return start == std::string::npos ? "" : value.substr(start);
}

// Request line and headers as they arrived, near enough: names, values and
// their separators.
size_t HeaderBytes(evhttp_request* request) {
  const char* uri = evhttp_request_get_uri(request);
  size_t bytes = (uri == nullptr ? 0 : std::strlen(uri)) + 16;
  evkeyvalq* headers = evhttp_request_get_input_headers(request);
  for (evkeyval* h = headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
    bytes += std::strlen(h->key) + std::strlen(h->value) + 4;
  }
  return bytes;
}

Op OpOf(RouteKind kind, Method method) {
  switch (kind) {
    case RouteKind::kPage: return Op::kPage;
    case RouteKind::kLivez: return Op::kLivez;
    case RouteKind::kReadyz: return Op::kReadyz;
    case RouteKind::kMetrics: return Op::kMetrics;
    case RouteKind::kRing: return Op::kRing;
    case RouteKind::kProps: return Op::kProps;
    case RouteKind::kKey:
      return method == Method::kGet      ? Op::kGet
             : method == Method::kPut    ? Op::kPut
             : method == Method::kDelete ? Op::kDelete
                                         : Op::kOther;
  }
  return Op::kOther;
}

Response PropsResponse(const Service& service, const std::string& bucket) {
  const BucketProps& p = service.options().buckets.Get(bucket);
  const bool named = service.options().buckets.named().count(bucket) > 0;
  nlohmann::json body = {{"bucket", bucket}, {"n", p.n}, {"r", p.r}, {"w", p.w},
                         {"resolver", p.resolver}, {"defaults", !named}};
  Response r;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response TextResponse(std::string content_type, std::string body) {
  Response r;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

}  // namespace

HttpServer::HttpServer(HttpOptions options, HttpEnv env)
    : options_(std::move(options)),
      env_(env),
      guard_(env.scheduler, options_.guard),
      metrics_(env.metrics, [this] { return static_cast<double>(guard_.open()); }),
      keys_([service = env.service, authorize = env.authorize](
                Message request, std::function<void(Message)> reply) {
        if (authorize) {
          if (Status st = authorize(request); !st.ok()) {
            Message refused;
            refused.request_id = request.request_id;
            refused.body = ErrorReply{std::move(st)};
            return reply(std::move(refused));
          }
        }
        service->HandleClientRequest(std::move(request), std::move(reply));
      }) {
  guard_.set_metrics(&metrics_);
}

HttpServer::~HttpServer() {
  *alive_ = false;
  env_.scheduler->Cancel(heartbeat_);
  if (http_ != nullptr) evhttp_free(http_);
}

Status HttpServer::Start() {
  http_ = evhttp_new(env_.base);
  if (http_ == nullptr) return Status::Internal("evhttp_new failed");
  if (env_.tls != nullptr) guard_.set_tls(env_.tls);
  evhttp_set_bevcb(http_, &ConnectionGuard::NewBufferevent, &guard_);
  evhttp_set_gencb(http_, &HttpServer::OnRequest, this);
  // Every method reaches the router, which answers 405 in JSON.
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                        EVHTTP_REQ_DELETE | EVHTTP_REQ_POST |
                                        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
  evhttp_set_max_headers_size(http_, static_cast<ev_ssize_t>(4 * options_.max_header_bytes));
  evhttp_set_max_body_size(http_, static_cast<ev_ssize_t>(options_.max_body_bytes));
  // Read the rest of an oversized body before closing, so the client reads
  // the 413 instead of a reset.
  evhttp_set_flags(http_, EVHTTP_SERVER_LINGERING_CLOSE);
  // evhttp's own timeout is one of inactivity, for reads and writes alike.
  // Twice the deadline: a request is always cut by the guard first (with
  // its 408), and a client that stops reading a response still goes.
  const int64_t idle_us = 2 * options_.guard.request_deadline_us;
  timeval idle{static_cast<time_t>(idle_us / 1'000'000),
               static_cast<suseconds_t>(idle_us % 1'000'000)};
  evhttp_set_timeout_tv(http_, &idle);
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(http_, options_.host.c_str(), options_.port);
  if (bound == nullptr) {
    return Status::IOError("cannot listen for HTTP on " + options_.host + ":" +
                           std::to_string(options_.port) + ": " + std::strerror(errno));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  heartbeat_due_us_ = env_.clock->MonoMicros() + kHeartbeatUs;
  heartbeat_ = env_.scheduler->RunAfter(kHeartbeatUs, [this] { Heartbeat(); });
  return Status::OK();
}

void HttpServer::Heartbeat() {
  const int64_t now = env_.clock->MonoMicros();
  loop_lag_us_ = now > heartbeat_due_us_ ? now - heartbeat_due_us_ : 0;
  heartbeat_due_us_ = now + kHeartbeatUs;
  heartbeat_ = env_.scheduler->RunAfter(kHeartbeatUs, [this] { Heartbeat(); });
}

void HttpServer::OnRequest(evhttp_request* request, void* arg) {
  static_cast<HttpServer*>(arg)->Handle(request);
}

void HttpServer::Handle(evhttp_request* request) {
  const int64_t start_us = env_.clock->MonoMicros();
  if (!guard_.OnRequest(request)) {
    evhttp_send_error(request, 408, nullptr);
    return;
  }
  if (HeaderBytes(request) > options_.max_header_bytes) {
    metrics_.Rejected(Cut::kHeaders);
    Response r = ErrorResponse(431, "headers_too_large",
                               "request line and headers are over " +
                                   std::to_string(options_.max_header_bytes) + " bytes");
    r.headers.emplace_back("Connection", "close");
    return Send(request, Op::kOther, start_us, r);
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* raw_path = uri == nullptr ? nullptr : evhttp_uri_get_path(uri);
  if (raw_path == nullptr) {
    return Send(request, Op::kOther, start_us, ErrorResponse(400, "bad_request", "malformed URL"));
  }
  Result<Route> route = ParseRoute(raw_path);
  if (!route.ok()) {
    const bool missing = route.status().IsNotFound();
    return Send(request, Op::kOther, start_us,
                ErrorResponse(missing ? 404 : 400, missing ? "no_route" : "bad_request",
                              route.status().message()));
  }
  const Method method = MethodOf(request);
  const Op op = OpOf(route->kind, method);
  if (route->kind == RouteKind::kKey) return HandleKey(request, *route, start_us);
  if (method != Method::kGet) {
    Response r = ErrorResponse(405, "method_not_allowed", "this route takes GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return Send(request, op, start_us, r);
  }
  // The probes answer anyone (an orchestrator has no token); the rest shows
  // the cluster, which is an administrator's to see.
  if (env_.authorize && route->kind != RouteKind::kLivez && route->kind != RouteKind::kReadyz) {
    Message admin;
    admin.auth_token = BearerToken(request);
    admin.body = StatusRequest{};
    if (Status st = env_.authorize(admin); !st.ok()) {
      return Send(request, op, start_us, ErrorFromStatus(st));
    }
  }
  switch (route->kind) {
    case RouteKind::kPage:
      return Send(request, op, start_us, TextResponse("text/html; charset=utf-8", std::string(PageHtml())));
    case RouteKind::kLivez:
      return Send(request, op, start_us, LivezResponse(loop_lag_us_));
    case RouteKind::kReadyz:
      return Send(request, op, start_us,
                  ReadyzResponse(CheckReadiness(*env_.service, env_.storage)));
    case RouteKind::kMetrics:
      return Send(request, op, start_us,
                  TextResponse(kPrometheusContentType, PrometheusText(env_.metrics->Snapshot())));
    case RouteKind::kRing:
      return Send(request, op, start_us,
                  TextResponse("application/json", RingStatusJson(*env_.service)));
    case RouteKind::kProps:
      return Send(request, op, start_us, PropsResponse(*env_.service, route->bucket));
    case RouteKind::kKey:
      break;
  }
}

void HttpServer::HandleKey(evhttp_request* request, const Route& route, int64_t start_us) {
  KeyRequest key;
  key.method = MethodOf(request);
  key.bucket = route.bucket;
  key.key = route.key;
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* query = evhttp_uri_get_query(uri);
  key.raw_query = query == nullptr ? "" : query;
  key.context = HeaderOf(request, "X-Ringkv-Context", &key.has_context);
  key.accept = HeaderOf(request, "Accept");
  key.if_match = HeaderOf(request, "If-Match", &key.has_if_match);
  key.if_none_match = HeaderOf(request, "If-None-Match", &key.has_if_none_match);
  key.token = BearerToken(request);
  const Op op = OpOf(RouteKind::kKey, key.method);
  if (key.method == Method::kPut) {
    bool has_length = false;
    bool chunked = false;
    HeaderOf(request, "Content-Length", &has_length);
    HeaderOf(request, "Transfer-Encoding", &chunked);
    if (!has_length && !chunked) {
      // Without a length, the end of the stream ends the body: a cut
      // connection would store a cut value.
      return Send(request, op, start_us,
                  ErrorResponse(411, "length_required", "a PUT needs Content-Length"));
    }
    evbuffer* in = evhttp_request_get_input_buffer(request);
    key.body.resize(evbuffer_get_length(in));
    evbuffer_copyout(in, key.body.data(), key.body.size());
  }
  keys_.Handle(std::move(key), [this, alive = alive_, request, op, start_us](Response r) {
    if (*alive) Send(request, op, start_us, r);
  });
}

void HttpServer::Send(evhttp_request* request, Op op, int64_t start_us, const Response& response) {
  evkeyvalq* out = evhttp_request_get_output_headers(request);
  if (!response.content_type.empty()) {
    evhttp_add_header(out, "Content-Type", response.content_type.c_str());
  }
  for (const auto& [name, value] : response.headers) {
    evhttp_add_header(out, name.c_str(), value.c_str());
  }
  // evhttp leaves the body out of a reply to HEAD itself.
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, response.body.data(), response.body.size());
  metrics_.Request(op, response.status, env_.clock->MonoMicros() - start_us);
  evhttp_send_reply(request, response.status, ReasonPhrase(response.status), body);
  evbuffer_free(body);
}

}  // namespace ringkv::http
