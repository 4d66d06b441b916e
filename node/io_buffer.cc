#include "node/io_buffer.h"

#include <algorithm>
#include <cstring>

namespace ringkv {

size_t IoBuffer::CapacityFor(size_t min, size_t max_capacity) const {
  const size_t used = end_ - start_;
  if (capacity_ - used >= min) return capacity_;
  return std::max(used + min, std::min(capacity_ * 2, max_capacity));
}

char* IoBuffer::Reserve(size_t min, size_t max_capacity) {
  if (capacity_ - end_ >= min) return data_.get() + end_;
  const size_t used = end_ - start_;
  const size_t capacity = CapacityFor(min, max_capacity);
  if (capacity == capacity_) {
    // Sliding the unconsumed tail to the front is enough.
    std::memmove(data_.get(), data_.get() + start_, used);
  } else {
    std::unique_ptr<char[]> grown(new char[capacity]);
    if (used > 0) std::memcpy(grown.get(), data_.get() + start_, used);
    if (budget_ != nullptr) {
      budget_->Charge(capacity);
      budget_->Release(capacity_);
    }
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
  if (empty() && capacity_ > keep) Free();
}

void IoBuffer::Free() {
  if (budget_ != nullptr) budget_->Release(capacity_);
  data_.reset();
  capacity_ = start_ = end_ = 0;
}

}  // namespace ringkv
