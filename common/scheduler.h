// Scheduler: run a callback later, on the owning event loop.
//
// Protocol code is single-threaded: every callback runs on the loop that owns
// the node, so protocol state needs no locks. The real node implements this
// with libevent timers; the simulator with a virtual-time event queue.
#pragma once

#include <cstdint>
#include <functional>

namespace ringkv {

using TimerId = uint64_t;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `fn` once after `delay_us` microseconds (0 = next loop turn).
  // Returns an id usable with Cancel; ids are never 0 and never reused.
  virtual TimerId RunAfter(int64_t delay_us, std::function<void()> fn) = 0;
  // Cancels a pending timer. Cancelling a fired or unknown id is a no-op.
  virtual void Cancel(TimerId id) = 0;
};

}  // namespace ringkv
