// IoBuffer: the bytes of one direction of a socket, read into or sent from
// one contiguous block, so a whole frame can be parsed in place and a turn's
// replies leave in one send.
//
// Unlike std::string, growing it does not zero the new space, which matters
// when every read reserves a 64 KiB chunk. It grows only as bytes arrive
// (doubling, never past a cap the caller gives, such as the end of the frame
// being read), and charges the block it holds to an optional node-wide
// BufferBudget. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "node/buffer_budget.h"

namespace ringkv {

class IoBuffer {
 public:
  // `budget`, when given, must outlive this buffer.
  explicit IoBuffer(BufferBudget* budget = nullptr) : budget_(budget) {}
  ~IoBuffer() { Free(); }
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  // The unconsumed bytes.
  std::string_view readable() const { return {data_.get() + start_, end_ - start_}; }
  size_t size() const { return end_ - start_; }
  bool empty() const { return start_ == end_; }
  // The bytes of the block held (readable, consumed and free space).
  size_t capacity() const { return capacity_; }

  // The capacity Reserve(min, max_capacity) would leave: the current one
  // when `min` bytes fit after the readable ones (sliding them to the
  // front if need be), else double it but at most `max_capacity`, and
  // never less than the readable bytes plus `min`.
  size_t CapacityFor(size_t min, size_t max_capacity = SIZE_MAX) const;
  // At least `min` writable bytes after the readable ones; valid until the
  // next call that changes the buffer.
  char* Reserve(size_t min, size_t max_capacity = SIZE_MAX);
  size_t writable() const { return capacity_ - end_; }
  // Marks `n` bytes written at Reserve()'s pointer as readable.
  void Commit(size_t n) { end_ += n; }
  void Append(std::string_view bytes);
  // Drops the first `n` readable bytes.
  void Consume(size_t n);
  // Frees the block when it has grown past `keep` bytes and holds nothing,
  // so one large frame does not pin its memory on an idle connection.
  void ShrinkIfEmpty(size_t keep);

 private:
  void Free();

  BufferBudget* budget_;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t start_ = 0;
  size_t end_ = 0;
};

}  // namespace ringkv
