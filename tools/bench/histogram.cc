#include "tools/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ringkv::bench {
namespace {

// Values below this are their own bucket.
constexpr uint64_t kExactLimit = 2 * Histogram::kSubBuckets;
// Buckets [0, kExactLimit) are exact; then each shift s in [1, 64 - bits)
// adds kSubBuckets, the last one ending at UINT64_MAX.
constexpr size_t kBucketCount = (64 - Histogram::kSubBucketBits + 1) * Histogram::kSubBuckets;

}  // namespace

Histogram::Histogram() : counts_(kBucketCount, 0) {}

size_t Histogram::BucketOf(uint64_t value) {
  if (value < kExactLimit) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kSubBucketBits;
  // (value >> shift) is in [kSubBuckets, 2 * kSubBuckets).
  return static_cast<size_t>((shift + 1) * kSubBuckets + (value >> shift) - kSubBuckets);
}

uint64_t Histogram::BucketLow(size_t bucket) {
  if (bucket < kExactLimit) return bucket;
  const uint64_t shift = bucket / kSubBuckets - 1;
  const uint64_t mantissa = bucket % kSubBuckets + kSubBuckets;
  return mantissa << shift;
}

uint64_t Histogram::BucketHigh(size_t bucket) {
  if (bucket < kExactLimit) return bucket;
  const uint64_t shift = bucket / kSubBuckets - 1;
  return BucketLow(bucket) + ((uint64_t{1} << shift) - 1);
}

void Histogram::RecordN(uint64_t value, uint64_t count) {
  if (count == 0) return;
  counts_[BucketOf(value)] += count;
  count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * count;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::Mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

uint64_t Histogram::ValueAtQuantile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t low = BucketLow(i);
      const uint64_t mid = low + (BucketHigh(i) - low) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace ringkv::bench
