#include "tests/sim/sim_world.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace ringkv::sim {

EventId SimProcess::Post(int64_t delay_us, const char* kind, uint64_t detail,
                         std::function<void()> fn) {
  EventQueue& q = world_->queue();
  // The id is only known after scheduling, so the event looks it up through
  // a shared slot.
  auto slot = std::make_shared<EventId>(0);
  uint64_t gen = generation_;
  EventId id = q.After(std::max<int64_t>(delay_us, 0),
                       [this, slot, gen, kind, detail, fn = std::move(fn)]() mutable {
                         Fire(*slot, gen, kind, detail, std::move(fn));
                       });
  *slot = id;
  return id;
}

void SimProcess::Fire(EventId id, uint64_t generation, const char* kind, uint64_t detail,
                      std::function<void()> fn) {
  if (generation != generation_ || !alive_) return;
  if (paused_) {
    held_.push_back({id, kind, detail, std::move(fn)});
    return;
  }
  int64_t now = world_->now();
  if (busy_until_ > now) {
    uint64_t gen = generation_;
    world_->queue().At(
        busy_until_,
        [this, id, gen, kind, detail, fn = std::move(fn)]() mutable {
          Fire(id, gen, kind, detail, std::move(fn));
        },
        id);
    return;
  }
  world_->trace().Record(now, kind, index_, detail);
  fn();
}

void SimProcess::Cancel(EventId id) {
  world_->queue().Cancel(id);
  held_.erase(std::remove_if(held_.begin(), held_.end(), [id](const Held& h) { return h.id == id; }),
              held_.end());
}

void SimProcess::Kill() {
  alive_ = false;
  paused_ = false;
  ++generation_;
  held_.clear();
  busy_until_ = 0;
  world_->trace().Record(world_->now(), "kill", index_, generation_);
}

void SimProcess::Start() {
  alive_ = true;
  world_->trace().Record(world_->now(), "start", index_, generation_);
}

void SimProcess::Pause() {
  if (!alive_) return;
  paused_ = true;
  world_->trace().Record(world_->now(), "pause", index_, 0);
}

void SimProcess::Resume() {
  if (!paused_) return;
  paused_ = false;
  world_->trace().Record(world_->now(), "resume", index_, held_.size());
  std::vector<Held> held = std::move(held_);
  held_.clear();
  uint64_t gen = generation_;
  for (Held& h : held) {
    world_->queue().At(
        world_->now(),
        [this, id = h.id, gen, kind = h.kind, detail = h.detail, fn = std::move(h.fn)]() mutable {
          Fire(id, gen, kind, detail, std::move(fn));
        },
        h.id);
  }
}

void SimProcess::AddBusy(int64_t us) {
  busy_until_ = std::max(busy_until_, world_->now()) + us;
}

int64_t SimProcess::BusyDelay() const {
  return std::max<int64_t>(0, busy_until_ - world_->now());
}

}  // namespace ringkv::sim
