// Giving freed memory back to the operating system.
//
// glibc keeps what a process frees in its arenas for reuse, so a node that
// held a gigabyte of buffers for a hostile client kept a gigabyte of RSS
// after the client left. Two causes, two remedies:
// - Blocks above the mmap threshold are mapped on their own and unmapped on
//   free, but glibc raises that threshold to the size of each such block
//   freed (up to 32 MiB), after which frame-sized buffers come from the
//   heap and stay there. TuneAllocator() pins the threshold.
// - Freed heap memory below the top of the heap, and in the arenas of other
//   threads, is returned only by malloc_trim(). A MemoryReleaser calls it
//   after enough bytes were freed, at most once per interval.
// Built with jemalloc (meson option `jemalloc`, the default where it is
// installed), the node allocates with it instead: large blocks are extents
// of their own and freed pages go back after jemalloc's decay time, so
// TuneAllocator() does nothing and a MemoryReleaser purges every arena at
// once rather than waiting for the decay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "node/event_loop.h"

namespace ringkv {

// Once per process, before the node allocates its buffers: blocks of
// 256 KiB and more are mapped on their own, and that threshold stays put.
void TuneAllocator();

class MemoryReleaser {
 public:
  // `loop` must outlive this.
  MemoryReleaser(EventLoop* loop, size_t threshold_bytes, int64_t min_interval_ms);
  ~MemoryReleaser();
  MemoryReleaser(const MemoryReleaser&) = delete;
  MemoryReleaser& operator=(const MemoryReleaser&) = delete;

  // `bytes` more were freed; once `threshold_bytes` have been since the
  // last trim, one runs at the end of this loop turn, or when the interval
  // since the last one has passed.
  void Freed(size_t bytes);
  uint64_t trims() const { return trims_; }

 private:
  void Trim();

  EventLoop* loop_;
  const size_t threshold_;
  const int64_t interval_ms_;
  size_t freed_ = 0;
  int64_t last_trim_ms_ = INT64_MIN / 2;
  bool scheduled_ = false;
  TimerId timer_ = 0;
  uint64_t trims_ = 0;
  std::shared_ptr<bool> alive_;
};

}  // namespace ringkv
