// SimWorld and SimProcess: virtual time, the one seeded random source, and
// the life cycle of each simulated node's event loop.
//
// SimWorld owns the event queue, the trace and the root Random from which
// every other random stream is derived (in a fixed order), so a run is
// reproducible from its seed alone. A SimProcess is one node's loop: every
// event aimed at the node (a delivered message, a timer, a client request)
// goes through Post, which drops it when the node died after it was posted,
// holds it while the node is paused and defers it while the node is busy (a
// slow disk blocks its loop). Not thread-safe: one thread runs everything.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "tests/sim/event_queue.h"
#include "tests/sim/trace.h"

namespace ringkv::sim {

class SimWorld {
 public:
  explicit SimWorld(uint64_t seed) : seed_(seed), random_(seed) {}
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  uint64_t seed() const { return seed_; }
  EventQueue& queue() { return queue_; }
  int64_t now() const { return queue_.now(); }
  Trace& trace() { return trace_; }
  // The root stream. Draw from it only in simulation order (never from
  // protocol code, which gets its own derived Random).
  Random& random() { return random_; }
  // A new independent stream, derived deterministically from the root.
  uint64_t DeriveSeed() { return random_.Next() ^ 0x9E3779B97F4A7C15ull; }

 private:
  uint64_t seed_;
  Random random_;
  EventQueue queue_;
  Trace trace_;
};

class SimProcess {
 public:
  SimProcess(SimWorld* world, int index) : world_(world), index_(index) {}
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  // Runs `fn` on this node after `delay_us` (plus any time the node is
  // busy). `kind` (a string literal) and `detail` go to the trace when it
  // runs. The event is dropped if the node is killed before it runs.
  EventId Post(int64_t delay_us, const char* kind, uint64_t detail, std::function<void()> fn);
  // Cancels a pending or held event. Unknown ids are a no-op.
  void Cancel(EventId id);

  // A dead node drops every pending event and ignores new ones until Start.
  void Kill();
  void Start();
  // A paused node keeps its state but runs nothing; Resume replays what was
  // held, in order, at the current time.
  void Pause();
  void Resume();
  // Blocks the node's loop for `us` more microseconds from now (slow disk).
  void AddBusy(int64_t us);
  // How long until the loop is free again (0 when idle).
  int64_t BusyDelay() const;

  int index() const { return index_; }
  bool alive() const { return alive_; }
  bool paused() const { return paused_; }
  uint64_t generation() const { return generation_; }
  SimWorld* world() const { return world_; }

 private:
  struct Held {
    EventId id;
    const char* kind;
    uint64_t detail;
    std::function<void()> fn;
  };
  void Fire(EventId id, uint64_t generation, const char* kind, uint64_t detail,
            std::function<void()> fn);

  SimWorld* world_;
  int index_;
  bool alive_ = true;
  bool paused_ = false;
  uint64_t generation_ = 0;
  int64_t busy_until_ = 0;
  std::vector<Held> held_;
};

}  // namespace ringkv::sim
