// IoBuffer: the bytes of one direction of a socket, read into or sent from
// one contiguous block, so a whole frame can be parsed in place and a turn's
// replies leave in one send.
//
// Unlike std::string, growing it does not zero the new space, which matters
// when every read reserves a 64 KiB chunk. Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace ringkv {

class IoBuffer {
 public:
  IoBuffer() = default;
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  // The unconsumed bytes.
  std::string_view readable() const { return {data_.get() + start_, end_ - start_}; }
  size_t size() const { return end_ - start_; }
  bool empty() const { return start_ == end_; }

  // At least `min` writable bytes after the readable ones; valid until the
  // next call that changes the buffer.
  char* Reserve(size_t min);
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
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t start_ = 0;
  size_t end_ = 0;
};

}  // namespace ringkv
