#include "http/http_metrics.h"

#include <string>

namespace ringkv::http {

std::string_view OpName(Op op) {
  static constexpr std::string_view kNames[] = {"get",    "put",   "delete", "props", "metrics",
                                                "livez",  "readyz", "page",  "ring",  "other"};
  return kNames[static_cast<int>(op)];
}

HttpMetrics::HttpMetrics(MetricsRegistry* registry, std::function<double()> open)
    : registry_(registry),
      accepted_(registry->AddCounter("ringkv_http_connections_accepted_total",
                                     "HTTP connections accepted.")),
      open_(registry->AddGaugeCallback("ringkv_http_connections_open",
                                       "HTTP connections open now.", {}, std::move(open))) {
  for (int op = 0; op < kOps; ++op) {
    duration_[op] = registry->AddHistogram(
        "ringkv_http_request_duration_seconds",
        "Time from an HTTP request being whole to its response being handed to the connection, "
        "by operation.",
        {{"op", std::string(OpName(static_cast<Op>(op)))}}, 1e-6);
  }
  static constexpr const char* kCutNames[] = {"deadline", "connection_cap", "headers"};
  for (int cut = 0; cut < kCuts; ++cut) {
    rejected_[cut] = registry->AddCounter(
        "ringkv_http_connections_rejected_total",
        "HTTP connections cut or refused by the listener's limits, by reason.",
        {{"reason", kCutNames[cut]}});
  }
}

void HttpMetrics::Request(Op op, int code, int64_t duration_us) {
  duration_[static_cast<int>(op)]->Observe(static_cast<uint64_t>(duration_us < 0 ? 0 : duration_us));
  Counter*& counter = requests_[{op, code}];
  if (counter == nullptr) {
    counter = registry_->AddCounter("ringkv_http_requests_total",
                                    "HTTP requests answered, by operation and status code.",
                                    {{"op", std::string(OpName(op))}, {"code", std::to_string(code)}});
  }
  counter->Increment();
}

}  // namespace ringkv::http
