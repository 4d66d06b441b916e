// CircuitBreaker: the client's memory of one node that keeps failing, so
// that requests stop waiting on it and go to a live node instead.
//
// Closed (the normal state): every request may go to the node; after
// `failure_threshold` consecutive failures (connection refused or broken,
// no answer by the deadline) it opens. Open: the node is skipped until its
// back-off has passed, then one request may try it (half-open). A success
// closes the breaker and resets the back-off; a failure in half-open opens it
// again with the back-off doubled, up to `max_backoff`. Time comes from an
// injected clock so tests can advance it.
//
// Thread-safety: none; owned and used by one Client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace ringkv {

struct CircuitBreakerOptions {
  using TimePoint = std::chrono::steady_clock::time_point;
  // Consecutive failures that open the breaker; 0 disables circuit breaking.
  uint32_t failure_threshold = 3;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
  // The time source; null means std::chrono::steady_clock::now.
  std::function<TimePoint()> now;
};

class CircuitBreaker {
 public:
  using TimePoint = CircuitBreakerOptions::TimePoint;
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(CircuitBreakerOptions options);

  // Whether a request may go to the node now. Once an open breaker's
  // back-off has passed this answers true and the breaker is half-open: the
  // next outcome decides.
  bool Allow();
  void OnSuccess();
  void OnFailure();

  State state() const { return state_; }
  // When an open breaker lets a request through again.
  TimePoint retry_at() const { return retry_at_; }
  std::chrono::milliseconds backoff() const { return backoff_; }

 private:
  TimePoint Now() const;
  void Open();

  CircuitBreakerOptions options_;
  State state_ = State::kClosed;
  uint32_t failures_ = 0;              // consecutive, while closed
  std::chrono::milliseconds backoff_;  // of the next opening
  TimePoint retry_at_{};
};

}  // namespace ringkv
