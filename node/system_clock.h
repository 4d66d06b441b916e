// SystemClock: the real Clock of a node (CLOCK_REALTIME for sibling
// timestamps, CLOCK_MONOTONIC for deadlines and timers). Stateless, so
// thread-safe.
#pragma once

#include "common/clock.h"

namespace ringkv {

class SystemClock : public Clock {
 public:
  int64_t WallMicros() override;
  int64_t MonoMicros() override;
};

}  // namespace ringkv
