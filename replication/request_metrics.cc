#include "replication/request_metrics.h"

#include <string>

namespace ringkv {
namespace {

constexpr const char* kOpNames[] = {"get", "put", "replica_get"};

// Label values are identifiers: "not found" becomes "not_found".
std::string ResultName(Status::Code code) {
  std::string name(CodeName(code));
  for (char& c : name) {
    if (c == ' ') c = '_';
  }
  return name;
}

}  // namespace

RequestMetrics::RequestMetrics(MetricsRegistry* metrics, Clock* clock) : clock_(clock) {
  for (int op = 0; op < kOps; ++op) {
    duration_[op] = metrics->AddHistogram(
        "ringkv_client_request_duration_seconds",
        "Time from a client request reaching the node's service to its reply leaving it.",
        {{"op", kOpNames[op]}}, 1e-6);
    // Every result is registered up front, so a rate over a result that has
    // not happened yet reads 0 instead of nothing.
    for (int result = 0; result < kResults; ++result) {
      requests_[op][result] = metrics->AddCounter(
          "ringkv_client_requests_total", "Client requests answered, by operation and result.",
          {{"op", kOpNames[op]}, {"result", ResultName(static_cast<Status::Code>(result))}});
    }
  }
}

void RequestMetrics::RecordRead(Op op, int64_t start_us, const Status& status, bool found) {
  Record(op, start_us, status.ok() && !found ? Status::Code::kNotFound : status.code());
}

void RequestMetrics::RecordPut(int64_t start_us, const Status& status) {
  Record(Op::kPut, start_us, status.code());
}

void RequestMetrics::Record(Op op, int64_t start_us, Status::Code result) {
  const int64_t elapsed = clock_->MonoMicros() - start_us;
  const auto i = static_cast<size_t>(op);
  duration_[i]->Observe(elapsed > 0 ? static_cast<uint64_t>(elapsed) : 0);
  requests_[i][static_cast<size_t>(result)]->Increment();
}

}  // namespace ringkv
