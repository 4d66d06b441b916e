#include "client/circuit_breaker.h"

#include <algorithm>
#include <utility>

namespace ringkv {

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options)
    : options_(std::move(options)), backoff_(options_.initial_backoff) {}

CircuitBreaker::TimePoint CircuitBreaker::Now() const {
  return options_.now ? options_.now() : std::chrono::steady_clock::now();
}

bool CircuitBreaker::Allow() {
  if (state_ != State::kOpen) return true;
  if (Now() < retry_at_) return false;
  state_ = State::kHalfOpen;
  return true;
}

void CircuitBreaker::OnSuccess() {
  state_ = State::kClosed;
  failures_ = 0;
  backoff_ = options_.initial_backoff;
}

void CircuitBreaker::OnFailure() {
  if (options_.failure_threshold == 0) return;
  if (state_ == State::kHalfOpen) {
    // The probe failed: the node is still gone, so wait longer next time.
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    Open();
    return;
  }
  if (state_ == State::kClosed && ++failures_ >= options_.failure_threshold) Open();
}

void CircuitBreaker::Open() {
  state_ = State::kOpen;
  failures_ = 0;
  retry_at_ = Now() + std::min(backoff_, options_.max_backoff);
}

}  // namespace ringkv
