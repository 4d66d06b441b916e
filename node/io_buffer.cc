#include "node/io_buffer.h"

#include <algorithm>
#include <cstring>

namespace ringkv {

char* IoBuffer::Reserve(size_t min) {
  if (capacity_ - end_ >= min) return data_.get() + end_;
  size_t used = end_ - start_;
  if (start_ > 0 && capacity_ - used >= min) {
    // Sliding the unconsumed tail to the front is enough.
    std::memmove(data_.get(), data_.get() + start_, used);
  } else {
    size_t capacity = std::max(used + min, capacity_ * 2);
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (used > 0) std::memcpy(grown.get(), data_.get() + start_, used);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  start_ = 0;
  end_ = used;
  return data_.get() + end_;
}

void IoBuffer::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(Reserve(bytes.size()), bytes.data(), bytes.size());
  Commit(bytes.size());
}

void IoBuffer::Consume(size_t n) {
  start_ += n;
  if (start_ == end_) start_ = end_ = 0;
}

void IoBuffer::ShrinkIfEmpty(size_t keep) {
  if (empty() && capacity_ > keep) {
    data_.reset();
    capacity_ = start_ = end_ = 0;
  }
}

}  // namespace ringkv
