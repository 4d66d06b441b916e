#include "node/shutdown_drain.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace ringkv {
namespace {
constexpr int64_t kCheckUs = 100'000;
}  // namespace

ShutdownDrain::ShutdownDrain(EventLoop* loop, Server* server, Clock* clock, int64_t grace_us,
                             std::function<uint64_t()> deliverable_hints)
    : loop_(loop),
      server_(server),
      clock_(clock),
      grace_us_(grace_us),
      deliverable_hints_(std::move(deliverable_hints)) {}

void ShutdownDrain::OnSignal(int signal) {
  if (deadline_us_ >= 0) {
    spdlog::info("signal {} again: stopping without waiting for the drain", signal);
    loop_->Stop();
    return;
  }
  server_->StopAccepting();
  deadline_us_ = clock_->MonoMicros() + grace_us_;
  spdlog::info("signal {}: shutting down; handing off {} hints first (at most {} ms)", signal,
               deliverable_hints_(), grace_us_ / 1000);
  Check();
}

void ShutdownDrain::Check() {
  const uint64_t left = deliverable_hints_();
  if (left == 0) {
    loop_->Stop();
    return;
  }
  if (clock_->MonoMicros() >= deadline_us_) {
    spdlog::warn("shutdown grace over with {} hints not handed off; they stay stored and are "
                 "delivered after the next start",
                 left);
    loop_->Stop();
    return;
  }
  loop_->RunAfter(kCheckUs, [this] { Check(); });
}

}  // namespace ringkv
