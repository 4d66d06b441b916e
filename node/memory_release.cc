#include "node/memory_release.h"

#ifdef RINGKV_JEMALLOC
#include <jemalloc/jemalloc.h>

#include <string>
#else
#include <malloc.h>
#endif

#include "node/system_clock.h"

namespace ringkv {
namespace {

int64_t NowMs() { return SystemClock().MonoMicros() / 1000; }

}  // namespace

void TuneAllocator() {
#ifndef RINGKV_JEMALLOC
  // Setting it at all turns off glibc's dynamic threshold (mallopt(3)).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

MemoryReleaser::MemoryReleaser(EventLoop* loop, size_t threshold_bytes, int64_t min_interval_ms)
    : loop_(loop),
      threshold_(threshold_bytes),
      interval_ms_(min_interval_ms),
      alive_(std::make_shared<bool>(true)) {}

MemoryReleaser::~MemoryReleaser() {
  if (timer_ != 0) loop_->Cancel(timer_);
}

void MemoryReleaser::Freed(size_t bytes) {
  freed_ += bytes;
  if (freed_ < threshold_ || scheduled_) return;
  scheduled_ = true;
  std::weak_ptr<bool> alive = alive_;
  const int64_t wait_ms = last_trim_ms_ + interval_ms_ - NowMs();
  if (wait_ms <= 0) {
    // At the turn's end, when whatever else this turn frees is free too.
    loop_->AtTurnEnd([this, alive] {
      if (alive.lock()) Trim();
    });
  } else {
    timer_ = loop_->RunAfter(wait_ms * 1000, [this, alive] {
      if (!alive.lock()) return;
      timer_ = 0;
      Trim();
    });
  }
}

void MemoryReleaser::Trim() {
  scheduled_ = false;
  freed_ = 0;
  last_trim_ms_ = NowMs();
  ++trims_;
#ifdef RINGKV_JEMALLOC
  // jemalloc would give the pages back by itself, but only after its decay
  // time (seconds); purging every arena gives them back now.
  static const std::string kPurgeAll = "arena." + std::to_string(MALLCTL_ARENAS_ALL) + ".purge";
  mallctl(kPurgeAll.c_str(), nullptr, nullptr, nullptr, 0);
#else
  malloc_trim(0);
#endif
}

}  // namespace ringkv
