// What a node does between SIGTERM and exit: it stops accepting
// connections, keeps serving the ones it has, and hands its hints to the
// nodes it believes up, for at most a grace period. A node that is being
// removed for good (a scaled-down pod) would otherwise carry away the only
// copy of writes it stood in for, until its volume is mounted again.
// Hints for nodes believed down cannot be delivered and are not waited
// for; they stay stored. A second signal ends the drain at once.
#pragma once

#include <cstdint>
#include <functional>

#include "common/clock.h"
#include "node/event_loop.h"
#include "node/server.h"

namespace ringkv {

class ShutdownDrain {
 public:
  // `deliverable_hints` counts the hints whose target is believed up.
  ShutdownDrain(EventLoop* loop, Server* server, Clock* clock, int64_t grace_us,
                std::function<uint64_t()> deliverable_hints);

  // Called for every SIGTERM or SIGINT.
  void OnSignal(int signal);

 private:
  void Check();

  EventLoop* loop_;
  Server* server_;
  Clock* clock_;
  int64_t grace_us_;
  std::function<uint64_t()> deliverable_hints_;
  int64_t deadline_us_ = -1;
};

}  // namespace ringkv
