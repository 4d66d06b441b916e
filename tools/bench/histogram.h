// Histogram: a log-bucketed latency histogram (the HdrHistogram layout) with
// a known, bounded relative error.
//
// Values are non-negative integers (ringkv-bench records nanoseconds).
// Values below 2 * kSubBuckets are counted exactly; above that, each power of
// two [2^k, 2^(k+1)) is split into kSubBuckets equal buckets, so a bucket's
// width is at most 1/kSubBuckets of its lower bound. A quantile is reported
// as the midpoint of its bucket, which is within kMaxRelativeError of a value
// that was actually recorded at that rank. Min and max are exact. Recording
// is O(1) with no allocation; merging is O(buckets).
//
// A value type; not thread-safe (ringkv-bench keeps one per thread and
// merges them under that thread's lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringkv::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 128
  // Half a bucket's width over its lower bound: 1 / (2 * kSubBuckets).
  static constexpr double kMaxRelativeError = 1.0 / (2.0 * kSubBuckets);

  Histogram();

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t count);
  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double Mean() const;

  // The value at quantile q in [0, 1] (0.99 = p99): the midpoint of the
  // bucket holding the ceil(q * count)-th smallest value, clamped to
  // [min, max]. q = 1 gives the exact max, q = 0 the exact min. 0 when empty.
  uint64_t ValueAtQuantile(double q) const;

  // Bucket arithmetic, public for tests.
  static size_t BucketOf(uint64_t value);
  static uint64_t BucketLow(size_t bucket);   // smallest value in the bucket
  static uint64_t BucketHigh(size_t bucket);  // largest value in the bucket

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace ringkv::bench
