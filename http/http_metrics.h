// HttpMetrics: the HTTP listener's figures in the node's registry
// (docs/metrics.md "HTTP"): requests by operation and status code, their
// durations, and connections accepted, open and cut. Handles are taken
// once; a (op, code) series is created at its first request. Single-
// threaded, on the node's loop.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string_view>

#include "common/metrics.h"

namespace ringkv::http {

enum class Op : uint8_t { kGet, kPut, kDelete, kProps, kMetrics, kLivez, kReadyz, kPage, kRing, kOther };
inline constexpr int kOps = 10;
std::string_view OpName(Op op);

enum class Cut : uint8_t {
  kDeadline,        // the request was not whole within its deadline
  kConnectionCap,   // a connection over --http-max-connections
  kHeaders,         // headers over --http-max-header-bytes (answered 431)
};
inline constexpr int kCuts = 3;

class HttpMetrics {
 public:
  // `open` reads the number of open connections. The registry must outlive
  // this.
  HttpMetrics(MetricsRegistry* registry, std::function<double()> open);

  void Request(Op op, int code, int64_t duration_us);
  void Accepted() { accepted_->Increment(); }
  void Rejected(Cut cut) { rejected_[static_cast<int>(cut)]->Increment(); }

 private:
  MetricsRegistry* registry_;
  std::array<Histogram*, kOps> duration_{};
  std::map<std::pair<Op, int>, Counter*> requests_;
  Counter* accepted_;
  std::array<Counter*, kCuts> rejected_{};
  MetricsRegistry::CallbackHandle open_;
};

}  // namespace ringkv::http
