#include "tools/bench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ringkv::bench {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.ValueAtQuantile(0.5), 0u);
  EXPECT_EQ(h.Mean(), 0.0);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 2 * Histogram::kSubBuckets; ++v) h.Record(v);
  for (uint64_t v = 0; v < 2 * Histogram::kSubBuckets; ++v) {
    EXPECT_EQ(Histogram::BucketLow(Histogram::BucketOf(v)), v);
    EXPECT_EQ(Histogram::BucketHigh(Histogram::BucketOf(v)), v);
  }
  EXPECT_EQ(h.ValueAtQuantile(0.5), 127u);  // rank 128 of 0..255
}

TEST(HistogramTest, BucketsTileTheRangeWithoutGaps) {
  // Consecutive buckets meet exactly, up to the top of uint64.
  size_t last = Histogram::BucketOf(UINT64_MAX);
  for (size_t b = 0; b < last; ++b) {
    ASSERT_EQ(Histogram::BucketHigh(b) + 1, Histogram::BucketLow(b + 1)) << "bucket " << b;
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketLow(b)), b);
    ASSERT_EQ(Histogram::BucketOf(Histogram::BucketHigh(b)), b);
  }
  EXPECT_EQ(Histogram::BucketHigh(last), UINT64_MAX);
}

TEST(HistogramTest, BucketWidthIsBoundedRelativeToValue) {
  for (size_t b = Histogram::BucketOf(1000); b < Histogram::BucketOf(UINT64_MAX); b += 37) {
    const double low = static_cast<double>(Histogram::BucketLow(b));
    const double high = static_cast<double>(Histogram::BucketHigh(b));
    EXPECT_LE((high - low) / 2 / low, Histogram::kMaxRelativeError) << "bucket " << b;
  }
}

TEST(HistogramTest, ExtremeValuesDoNotOverflow) {
  Histogram h;
  h.Record(UINT64_MAX);
  h.Record(0);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.ValueAtQuantile(1.0), UINT64_MAX);
  EXPECT_EQ(h.ValueAtQuantile(0.0), 0u);
}

// Quantiles of a skewed sample match the exact ones within the stated error.
TEST(HistogramTest, QuantilesWithinStatedRelativeError) {
  std::mt19937_64 gen(42);
  std::lognormal_distribution<double> latency(11.0, 1.0);  // ~60 us median, in ns
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<uint64_t>(latency(gen));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999}) {
    const auto rank = static_cast<size_t>(std::ceil(q * values.size()));
    const double exact = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.ValueAtQuantile(q));
    EXPECT_LE(std::abs(got - exact) / exact, Histogram::kMaxRelativeError) << "q=" << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.count(), values.size());
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  Histogram a, b, both;
  for (uint64_t v = 1; v < 100000; v += 7) {
    (v % 2 ? a : b).Record(v * 13);
    both.Record(v * 13);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_DOUBLE_EQ(a.Mean(), both.Mean());
  for (double q : {0.1, 0.5, 0.99, 0.999}) EXPECT_EQ(a.ValueAtQuantile(q), both.ValueAtQuantile(q));
}

TEST(HistogramTest, RecordNAndReset) {
  Histogram h;
  h.RecordN(500, 99);
  h.RecordN(1'000'000, 1);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.ValueAtQuantile(0.99), 500u);
  EXPECT_EQ(h.ValueAtQuantile(0.999), 1'000'000u);  // clamped to max
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

}  // namespace
}  // namespace ringkv::bench
