// Clock: the only way protocol code learns the time.
//
// Real nodes use SystemClock (node/); the simulator supplies a clock with
// per-node offset and drift. Implementations must be cheap to call.
#pragma once

#include <cstdint>

namespace ringkv {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock microseconds since the Unix epoch. May jump and may differ
  // between nodes: used only for sibling timestamps (LWW), never for deadlines.
  virtual int64_t WallMicros() = 0;
  // Monotonic microseconds from an arbitrary origin: deadlines and timers.
  virtual int64_t MonoMicros() = 0;
};

}  // namespace ringkv
