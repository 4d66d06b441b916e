#include "node/event_loop.h"

#include <event2/event.h>

#include <stdexcept>
#include <utility>

namespace ringkv {

struct EventLoop::Timer {
  EventLoop* loop;
  TimerId id;
  event* ev = nullptr;
  std::function<void()> fn;
  ~Timer() {
    if (ev != nullptr) event_free(ev);
  }
};

EventLoop::EventLoop() : base_(event_base_new()) {
  if (base_ == nullptr) throw std::runtime_error("event_base_new failed");
  turn_end_ = event_new(base_, -1, 0, &EventLoop::OnTurnEnd, this);
  if (turn_end_ == nullptr) throw std::runtime_error("event_new failed");
}

EventLoop::~EventLoop() {
  timers_.clear();
  event_free(turn_end_);
  event_base_free(base_);
}

void EventLoop::Run() { event_base_dispatch(base_); }

void EventLoop::Stop() { event_base_loopbreak(base_); }

TimerId EventLoop::RunAfter(int64_t delay_us, std::function<void()> fn) {
  auto timer = std::make_unique<Timer>();
  timer->loop = this;
  timer->id = next_id_++;
  timer->fn = std::move(fn);
  timer->ev = evtimer_new(base_, &EventLoop::OnTimer, timer.get());
  if (delay_us <= 0) {
    // Activated events run in activation order, which gives 0-delay timers
    // the FIFO order callers expect from "next loop turn".
    event_active(timer->ev, EV_TIMEOUT, 0);
  } else {
    timeval tv{static_cast<time_t>(delay_us / 1000000),
               static_cast<suseconds_t>(delay_us % 1000000)};
    evtimer_add(timer->ev, &tv);
  }
  TimerId id = timer->id;
  timers_.emplace(id, std::move(timer));
  return id;
}

void EventLoop::Cancel(TimerId id) { timers_.erase(id); }

void EventLoop::AtTurnEnd(std::function<void()> fn) {
  turn_end_fns_.push_back(std::move(fn));
  // libevent appends an activated event to the tail of the active queue,
  // behind the I/O and timer callbacks this turn already found due.
  if (turn_end_fns_.size() == 1) event_active(turn_end_, EV_TIMEOUT, 0);
}

void EventLoop::OnTurnEnd(int, short, void* arg) {
  auto* loop = static_cast<EventLoop*>(arg);
  // Swapped out first: a callback may queue more work for a later pass.
  std::vector<std::function<void()>> fns;
  fns.swap(loop->turn_end_fns_);
  for (auto& fn : fns) fn();
}

void EventLoop::OnTimer(int, short, void* arg) {
  auto* timer = static_cast<Timer*>(arg);
  EventLoop* loop = timer->loop;
  auto it = loop->timers_.find(timer->id);
  if (it == loop->timers_.end()) return;
  // Erase before running: the callback may schedule or cancel timers.
  std::function<void()> fn = std::move(it->second->fn);
  loop->timers_.erase(it);
  fn();
}

}  // namespace ringkv
