#include "node/system_clock.h"

#include <time.h>

namespace ringkv {
namespace {

int64_t Micros(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

int64_t SystemClock::WallMicros() { return Micros(CLOCK_REALTIME); }
int64_t SystemClock::MonoMicros() { return Micros(CLOCK_MONOTONIC); }

}  // namespace ringkv
