#include "tests/sim/event_queue.h"

#include <utility>

namespace ringkv::sim {

EventId EventQueue::At(int64_t time_us, std::function<void()> fn, EventId reuse) {
  EventId id = reuse != 0 ? reuse : next_id_++;
  heap_.push({time_us < now_ ? now_ : time_us, id});
  events_[id] = std::move(fn);
  return id;
}

bool EventQueue::PopNext(Key* key) {
  while (!heap_.empty()) {
    Key top = heap_.top();
    if (events_.count(top.id) != 0) {
      *key = top;
      return true;
    }
    heap_.pop();  // cancelled
  }
  return false;
}

bool EventQueue::Step() {
  Key key;
  if (!PopNext(&key)) return false;
  heap_.pop();
  auto it = events_.find(key.id);
  std::function<void()> fn = std::move(it->second);
  events_.erase(it);
  now_ = key.time;
  ++events_run_;
  fn();
  return true;
}

void EventQueue::RunUntil(int64_t until_us) {
  Key key;
  while (PopNext(&key) && key.time <= until_us) Step();
  if (until_us > now_) now_ = until_us;
}

bool EventQueue::RunUntilQuiet(int64_t limit_us) {
  Key key;
  while (PopNext(&key)) {
    if (key.time > limit_us) {
      if (limit_us > now_) now_ = limit_us;
      return false;
    }
    Step();
  }
  return true;
}

}  // namespace ringkv::sim
