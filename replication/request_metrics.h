// RequestMetrics: the node's figures for the client requests it answers,
// per operation: how many, by result, and how long each took from reaching
// the service until its reply left it (time on the network and in the
// loop's queues is not in it). The real node and the simulator record the
// same figures, each with its own clock. Single-threaded, on the node's
// loop.
#pragma once

#include <array>
#include <cstdint>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"

namespace ringkv {

class RequestMetrics {
 public:
  enum class Op : uint8_t {
    kGet = 0,         // a get the node coordinates
    kPut = 1,         // a put or delete from a client (not forwards from peers)
    kReplicaGet = 2,  // one replica's copy, for a read the client coordinates
  };

  // Both must outlive this.
  RequestMetrics(MetricsRegistry* metrics, Clock* clock);

  // A read that arrived at `start_us` (Clock::MonoMicros) was answered with
  // `status`; `found`: a value, not only tombstones or nothing. A
  // successful read that found nothing counts as not_found.
  void RecordRead(Op op, int64_t start_us, const Status& status, bool found);
  // A put that arrived at `start_us` was answered with `status`.
  void RecordPut(int64_t start_us, const Status& status);

 private:
  static constexpr int kOps = 3;
  // Every Status::Code value: a peer's reply may carry any of them.
  static constexpr int kResults = static_cast<int>(Status::Code::kPreconditionFailed) + 1;
  void Record(Op op, int64_t start_us, Status::Code result);

  Clock* clock_;
  std::array<Histogram*, kOps> duration_;
  std::array<std::array<Counter*, kResults>, kOps> requests_;
};

}  // namespace ringkv
