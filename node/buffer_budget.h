// BufferBudget: the bytes a node's connection buffers hold, all connections
// together, against one limit (ConnectionLimits::max_buffered_bytes). Each
// IoBuffer charges the capacity it allocates and releases it when it frees
// the block, so used() is memory actually held, not bytes waiting to be
// parsed or sent. The server asks it before letting a buffer grow.
//
// Not thread-safe: the server's loop thread owns it.
#pragma once

#include <cstddef>

namespace ringkv {

class BufferBudget {
 public:
  explicit BufferBudget(size_t limit) : limit_(limit) {}
  BufferBudget(const BufferBudget&) = delete;
  BufferBudget& operator=(const BufferBudget&) = delete;

  size_t used() const { return used_; }
  // Whether `more` bytes still fit under the limit.
  bool Allows(size_t more) const { return used_ + more <= limit_; }
  bool exceeded() const { return used_ > limit_; }

  void Charge(size_t bytes) { used_ += bytes; }
  void Release(size_t bytes) { used_ -= bytes; }

 private:
  const size_t limit_;
  size_t used_ = 0;
};

}  // namespace ringkv
