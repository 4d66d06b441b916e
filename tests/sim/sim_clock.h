// SimClock: one node's view of time in the simulator.
//
// Both readings derive from virtual time with the node's drift (parts per
// million, so a node with +200 ppm sees 1.0002 s pass per simulated second);
// the wall clock also carries an offset that a scenario can step (clock
// jumps, skew for LWW tests). Monotonic time never goes backwards; wall time
// may. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "common/clock.h"
#include "tests/sim/event_queue.h"

namespace ringkv::sim {

// Wall time of virtual time 0: 2024-01-01T00:00:00Z.
inline constexpr int64_t kSimWallEpochUs = 1704067200LL * 1000000;
// Arbitrary monotonic origin, far from 0 to catch code that assumes 0.
inline constexpr int64_t kSimMonoOriginUs = 1000LL * 1000000;

class SimClock : public Clock {
 public:
  SimClock(const EventQueue* queue, int64_t wall_offset_us, int64_t drift_ppm)
      : queue_(queue),
        wall_offset_us_(wall_offset_us),
        drift_ppm_(drift_ppm),
        max_abs_offset_us_(std::abs(wall_offset_us)) {}

  int64_t WallMicros() override { return kSimWallEpochUs + wall_offset_us_ + Local(); }
  int64_t MonoMicros() override { return kSimMonoOriginUs + Local(); }

  // Virtual microseconds that pass while this node's clock advances `local_us`.
  int64_t LocalToVirtual(int64_t local_us) const {
    if (local_us <= 0) return 0;
    return (local_us * 1000000 + (1000000 + drift_ppm_) - 1) / (1000000 + drift_ppm_);
  }

  void set_wall_offset_us(int64_t offset) {
    wall_offset_us_ = offset;
    max_abs_offset_us_ = std::max(max_abs_offset_us_, std::abs(offset));
  }
  int64_t wall_offset_us() const { return wall_offset_us_; }
  int64_t drift_ppm() const { return drift_ppm_; }
  // Bounds |WallMicros() - true wall time| at every virtual time up to
  // `until_us`, over the whole run so far (offsets that jumped back count):
  // checkers that compare timestamps minted on different nodes with real
  // time need it. The extra microsecond is Local()'s rounding.
  int64_t MaxWallErrorUs(int64_t until_us) const {
    return max_abs_offset_us_ + (until_us * std::abs(drift_ppm_) + 999'999) / 1'000'000 + 1;
  }

 private:
  int64_t Local() const {
    int64_t t = queue_->now();
    return t + t / 1000000 * drift_ppm_ + (t % 1000000) * drift_ppm_ / 1000000;
  }

  const EventQueue* queue_;
  int64_t wall_offset_us_;
  int64_t drift_ppm_;
  int64_t max_abs_offset_us_;
};

}  // namespace ringkv::sim
