// EventLoop: the one libevent event_base that owns a node, and the real
// Scheduler on top of it (libevent timers).
//
// Not thread-safe: create it, run it and call every method on one thread.
// Stop() is the only exception-free way out of Run(); signals are wired by
// the caller (node/main.cc) through base().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/scheduler.h"

struct event_base;
struct event;

namespace ringkv {

class EventLoop : public Scheduler {
 public:
  EventLoop();
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_; }

  // Runs callbacks until Stop() is called (or nothing is left to wait for).
  void Run();
  // Makes Run() return after the current callback.
  void Stop();

  // Timers with a 0 delay run on the next loop turn in the order they were
  // scheduled; longer delays run in deadline order.
  TimerId RunAfter(int64_t delay_us, std::function<void()> fn) override;
  void Cancel(TimerId id) override;

  // Runs `fn` once in this loop turn, after every callback already due, and
  // before the loop waits for I/O again. Writers use it to gather a turn's
  // output per connection into one send instead of one per message.
  void AtTurnEnd(std::function<void()> fn);

  size_t pending_timers() const { return timers_.size(); }

 private:
  struct Timer;
  static void OnTimer(int fd, short what, void* arg);
  static void OnTurnEnd(int fd, short what, void* arg);

  event_base* base_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<Timer>> timers_;
  event* turn_end_;
  std::vector<std::function<void()>> turn_end_fns_;
};

}  // namespace ringkv
