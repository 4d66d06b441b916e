// EventQueue: the simulator's single source of time and order.
//
// Events run in (virtual time, sequence number) order, so two events at the
// same instant run in the order they were scheduled: a run is a pure
// function of its seed. Virtual time only advances when the next event is
// taken; nothing here reads a real clock. Not thread-safe: the whole
// simulation runs on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace ringkv::sim {

using EventId = uint64_t;

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Virtual microseconds since the start of the run.
  int64_t now() const { return now_; }

  // Schedules `fn` at `time_us` (clamped to now). Ids are never 0 and never
  // reused, except that `reuse` re-arms an id whose event has just fired
  // (the process layer defers an event without changing its identity).
  EventId At(int64_t time_us, std::function<void()> fn, EventId reuse = 0);
  EventId After(int64_t delay_us, std::function<void()> fn) {
    return At(now_ + (delay_us < 0 ? 0 : delay_us), std::move(fn));
  }
  // Cancelling a fired or unknown id is a no-op.
  void Cancel(EventId id) { events_.erase(id); }

  // Runs the next event. Returns false when nothing is pending.
  bool Step();
  // Runs every event due at or before `until_us`, then sets now to it.
  void RunUntil(int64_t until_us);
  // Runs until nothing is pending or `limit_us` is reached; returns true when
  // the queue drained (the system went quiet).
  bool RunUntilQuiet(int64_t limit_us);

  size_t pending() const { return events_.size(); }
  uint64_t events_run() const { return events_run_; }

 private:
  struct Key {
    int64_t time;
    EventId id;
    bool operator>(const Key& o) const { return time != o.time ? time > o.time : id > o.id; }
  };
  // Ids double as sequence numbers, so a re-armed event keeps its place
  // among events scheduled for the same instant.
  bool PopNext(Key* key);

  int64_t now_ = 0;
  EventId next_id_ = 1;
  uint64_t events_run_ = 0;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> heap_;
  std::unordered_map<EventId, std::function<void()>> events_;
};

}  // namespace ringkv::sim
