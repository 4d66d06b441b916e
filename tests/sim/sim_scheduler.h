// SimScheduler: common/scheduler.h on the simulator's event queue.
//
// Timers belong to one SimProcess, so a killed node's timers never fire, a
// paused node's fire only after it resumes, and delays are measured on the
// node's own (drifting) monotonic clock. Not thread-safe.
#pragma once

#include <functional>

#include "common/scheduler.h"
#include "tests/sim/sim_clock.h"
#include "tests/sim/sim_world.h"

namespace ringkv::sim {

class SimScheduler : public Scheduler {
 public:
  SimScheduler(SimProcess* process, const SimClock* clock) : process_(process), clock_(clock) {}

  TimerId RunAfter(int64_t delay_us, std::function<void()> fn) override {
    if (lose_timers_) return ++lost_ids_;
    return process_->Post(clock_->LocalToVirtual(delay_us), "timer", 0, std::move(fn));
  }
  void Cancel(TimerId id) override { process_->Cancel(id); }
  // Planted bug for checker tests: accept timers and never run them.
  void set_lose_timers(bool lose) { lose_timers_ = lose; }

 private:
  SimProcess* process_;
  const SimClock* clock_;
  bool lose_timers_ = false;
  TimerId lost_ids_ = TimerId{1} << 62;  // disjoint from real event ids
};

}  // namespace ringkv::sim
