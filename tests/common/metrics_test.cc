// The metrics registry: series identity by (name, labels), callback gauges
// and their lifetime, histogram bucketing and quantiles with known inputs,
// and the registration mistakes it refuses.
#include "common/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>

namespace ringkv {
namespace {

const MetricSample* Find(const std::vector<MetricSample>& samples, const std::string& name,
                         const MetricLabels& labels = {}) {
  for (const MetricSample& s : samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

TEST(MetricsTest, CounterAddsUpAndSnapshotCarriesNameHelpTypeAndLabels) {
  MetricsRegistry registry;
  Counter* c = registry.AddCounter("ringkv_things_total", "Things seen.", {{"kind", "a"}});
  c->Increment();
  c->Increment();
  c->Add(5);
  EXPECT_EQ(c->value(), 7u);
  std::vector<MetricSample> samples = registry.Snapshot();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].name, "ringkv_things_total");
  EXPECT_EQ(samples[0].help, "Things seen.");
  EXPECT_EQ(samples[0].type, MetricType::kCounter);
  EXPECT_EQ(samples[0].labels, (MetricLabels{{"kind", "a"}}));
  EXPECT_EQ(samples[0].value, 7);
}

TEST(MetricsTest, SameNameAndLabelsInAnyOrderIsOneSeries) {
  MetricsRegistry registry;
  Counter* a = registry.AddCounter("ringkv_x_total", "x", {{"op", "get"}, {"result", "ok"}});
  Counter* b = registry.AddCounter("ringkv_x_total", "x", {{"result", "ok"}, {"op", "get"}});
  Counter* other = registry.AddCounter("ringkv_x_total", "x", {{"op", "put"}, {"result", "ok"}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  a->Increment();
  b->Increment();
  other->Add(10);
  std::vector<MetricSample> samples = registry.Snapshot();
  ASSERT_EQ(samples.size(), 2u);
  // Sorted by labels within the family, label names sorted within a set.
  EXPECT_EQ(samples[0].labels, (MetricLabels{{"op", "get"}, {"result", "ok"}}));
  EXPECT_EQ(samples[0].value, 2);
  EXPECT_EQ(samples[1].labels, (MetricLabels{{"op", "put"}, {"result", "ok"}}));
  EXPECT_EQ(samples[1].value, 10);
}

TEST(MetricsTest, SnapshotListsFamiliesByName) {
  MetricsRegistry registry;
  registry.AddGauge("ringkv_b", "b")->Set(2);
  registry.AddCounter("ringkv_c_total", "c")->Increment();
  registry.AddGauge("ringkv_a", "a")->Set(1);
  std::vector<MetricSample> samples = registry.Snapshot();
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].name, "ringkv_a");
  EXPECT_EQ(samples[1].name, "ringkv_b");
  EXPECT_EQ(samples[2].name, "ringkv_c_total");
}

TEST(MetricsTest, GaugeSetsAndAdds) {
  MetricsRegistry registry;
  Gauge* g = registry.AddGauge("ringkv_level", "Level.");
  g->Set(10);
  g->Add(-2.5);
  EXPECT_EQ(g->value(), 7.5);
  const std::vector<MetricSample> samples = registry.Snapshot();
  const MetricSample* s = Find(samples, "ringkv_level");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, MetricType::kGauge);
  EXPECT_EQ(s->value, 7.5);
}

TEST(MetricsTest, CallbackGaugeIsReadAtSnapshotAndLeavesWithItsHandle) {
  MetricsRegistry registry;
  double open = 3;
  {
    MetricsRegistry::CallbackHandle handle =
        registry.AddGaugeCallback("ringkv_open", "Open.", {}, [&open] { return open; });
    const std::vector<MetricSample> samples = registry.Snapshot();
    const MetricSample* s = Find(samples, "ringkv_open");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->value, 3);
    open = 4;
    EXPECT_EQ(Find(registry.Snapshot(), "ringkv_open")->value, 4);
  }
  EXPECT_EQ(Find(registry.Snapshot(), "ringkv_open"), nullptr);
}

TEST(MetricsTest, ReRegisteredCallbackIsNotRemovedByTheEarlierHandle) {
  MetricsRegistry registry;
  MetricsRegistry::CallbackHandle first =
      registry.AddGaugeCallback("ringkv_open", "Open.", {}, [] { return 1.0; });
  MetricsRegistry::CallbackHandle second =
      registry.AddGaugeCallback("ringkv_open", "Open.", {}, [] { return 2.0; });
  first.Reset();
  const std::vector<MetricSample> samples = registry.Snapshot();
  const MetricSample* s = Find(samples, "ringkv_open");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, 2);
  MetricsRegistry::CallbackHandle moved = std::move(second);
  EXPECT_NE(Find(registry.Snapshot(), "ringkv_open"), nullptr);
  moved.Reset();
  EXPECT_EQ(Find(registry.Snapshot(), "ringkv_open"), nullptr);
}

TEST(MetricsTest, FamilyCallbackReportsTheLabelSetsOfTheMoment) {
  MetricsRegistry registry;
  std::map<std::string, uint64_t> pending = {{"n3", 4}, {"n2", 1}};
  MetricsRegistry::CallbackHandle handle =
      registry.AddGaugeFamilyCallback("ringkv_pending", "Pending.", [&pending] {
        std::vector<LabeledValue> out;
        for (const auto& [target, n] : pending) {
          out.push_back({{{"target", target}}, static_cast<double>(n)});
        }
        return out;
      });
  std::vector<MetricSample> samples = registry.Snapshot();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].labels, (MetricLabels{{"target", "n2"}}));
  EXPECT_EQ(samples[0].value, 1);
  EXPECT_EQ(samples[1].labels, (MetricLabels{{"target", "n3"}}));
  EXPECT_EQ(samples[1].value, 4);
  pending.erase("n2");
  samples = registry.Snapshot();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels, (MetricLabels{{"target", "n3"}}));
}

TEST(HistogramTest, SmallValuesHaveABucketEach) {
  for (uint64_t v = 0; v < 32; ++v) {
    EXPECT_EQ(Histogram::BucketOf(v), static_cast<int>(v));
    EXPECT_EQ(Histogram::UpperBound(static_cast<int>(v)), v);
  }
}

TEST(HistogramTest, KnownBuckets) {
  // [32, 34): width 2 from 32 on.
  EXPECT_EQ(Histogram::BucketOf(32), 32);
  EXPECT_EQ(Histogram::BucketOf(33), 32);
  EXPECT_EQ(Histogram::UpperBound(32), 33u);
  // 1000 is in [2^9, 2^10), sub-buckets of width 32: [992, 1023].
  EXPECT_EQ(Histogram::UpperBound(Histogram::BucketOf(1000)), 1023u);
  EXPECT_EQ(Histogram::BucketOf(992), Histogram::BucketOf(1023));
  EXPECT_NE(Histogram::BucketOf(991), Histogram::BucketOf(992));
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(Histogram::BucketOf(max), Histogram::kBuckets - 1);
  EXPECT_EQ(Histogram::UpperBound(Histogram::kBuckets - 1), max);
}

TEST(HistogramTest, BucketsTileTheRangeWithRelativeErrorUnderOneSixteenth) {
  std::mt19937_64 gen(42);
  std::vector<uint64_t> values;
  for (int e = 0; e < 64; ++e) {
    const uint64_t p = uint64_t{1} << e;
    values.insert(values.end(), {p - 1, p, p + 1});
  }
  for (int i = 0; i < 10000; ++i) values.push_back(gen() >> (gen() % 64));
  for (uint64_t v : values) {
    const int b = Histogram::BucketOf(v);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, Histogram::kBuckets);
    const uint64_t upper = Histogram::UpperBound(b);
    ASSERT_GE(upper, v) << v;
    // The bucket below ends before v: buckets neither overlap nor gap.
    if (b > 0) {
      ASSERT_LT(Histogram::UpperBound(b - 1), v) << v;
    }
    ASSERT_LT(upper - v, std::max<uint64_t>(v / 16, 1)) << v;
  }
}

TEST(HistogramTest, QuantilesOfOneToAThousandMicroseconds) {
  MetricsRegistry registry;
  Histogram* h = registry.AddHistogram("ringkv_op_duration_seconds", "Op time.",
                                       {{"op", "get"}}, 1e-6);
  for (uint64_t us = 1; us <= 1000; ++us) h->Observe(us);
  EXPECT_EQ(h->count(), 1000u);
  EXPECT_DOUBLE_EQ(h->sum(), 500500e-6);
  // Rank 500 is 500 us, in the bucket [496, 511]; rank 990 in [960, 991];
  // the largest, 1000, in [992, 1023]; the smallest, 1, exact.
  EXPECT_DOUBLE_EQ(h->Quantile(0.5), 511e-6);
  EXPECT_DOUBLE_EQ(h->Quantile(0.99), 991e-6);
  EXPECT_DOUBLE_EQ(h->Quantile(1), 1023e-6);
  EXPECT_DOUBLE_EQ(h->Quantile(0), 1e-6);

  const std::vector<MetricSample> samples = registry.Snapshot();
  const MetricSample* s = Find(samples, "ringkv_op_duration_seconds", {{"op", "get"}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, MetricType::kHistogram);
  EXPECT_EQ(s->count, 1000u);
  EXPECT_DOUBLE_EQ(s->sum, 500500e-6);
  ASSERT_FALSE(s->buckets.empty());
  EXPECT_DOUBLE_EQ(s->buckets.front().upper_bound, 1e-6);
  EXPECT_EQ(s->buckets.front().cumulative_count, 1u);
  EXPECT_DOUBLE_EQ(s->buckets.back().upper_bound, 1023e-6);
  EXPECT_EQ(s->buckets.back().cumulative_count, 1000u);
  for (size_t i = 1; i < s->buckets.size(); ++i) {
    EXPECT_GT(s->buckets[i].upper_bound, s->buckets[i - 1].upper_bound);
    EXPECT_GT(s->buckets[i].cumulative_count, s->buckets[i - 1].cumulative_count);
  }
  // The snapshot form answers as the live histogram does.
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_DOUBLE_EQ(HistogramQuantile(*s, q), h->Quantile(q)) << q;
  }
}

TEST(HistogramTest, QuantileOfSkewedInputFindsTheTail) {
  MetricsRegistry registry;
  Histogram* h = registry.AddHistogram("ringkv_skew_seconds", "Skew.", {}, 1);
  for (int i = 0; i < 98; ++i) h->Observe(10);
  h->Observe(5000);
  h->Observe(5000);
  EXPECT_EQ(h->Quantile(0.98), 10);
  // 5000 lies in [4864, 5119].
  EXPECT_EQ(h->Quantile(0.99), 5119);
  EXPECT_EQ(h->Buckets().size(), 2u);
}

TEST(HistogramTest, EmptyHistogramHasNoBucketsAndZeroQuantiles) {
  MetricsRegistry registry;
  Histogram* h = registry.AddHistogram("ringkv_empty_seconds", "Empty.", {}, 1e-6);
  EXPECT_EQ(h->Quantile(0.5), 0);
  const std::vector<MetricSample> samples = registry.Snapshot();
  const MetricSample* s = Find(samples, "ringkv_empty_seconds");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->count, 0u);
  EXPECT_TRUE(s->buckets.empty());
  EXPECT_EQ(HistogramQuantile(*s, 0.5), 0);
}

using MetricsDeathTest = ::testing::Test;

TEST_F(MetricsDeathTest, RegistrationMistakesAbort) {
  MetricsRegistry registry;
  registry.AddCounter("ringkv_a_total", "a");
  EXPECT_DEATH(registry.AddGauge("ringkv_a_total", "a"), "already registered as a counter");
  EXPECT_DEATH(registry.AddCounter("ringkv-bad", "x"), "invalid metric name");
  EXPECT_DEATH(registry.AddCounter("ringkv_b_total", "x", {{"__x", "1"}}), "invalid label name");
  EXPECT_DEATH(registry.AddCounter("ringkv_b_total", "x", {{"a", "1"}, {"a", "2"}}),
               "given twice");
  EXPECT_DEATH(registry.AddHistogram("ringkv_h_seconds", "x", {{"le", "1"}}, 1), "'le'");
  registry.AddHistogram("ringkv_h2_seconds", "x", {}, 1e-6);
  EXPECT_DEATH(registry.AddHistogram("ringkv_h2_seconds", "x", {}, 1), "another scale");
  registry.AddGauge("ringkv_g", "g");
  EXPECT_DEATH((void)registry.AddGaugeCallback("ringkv_g", "g", {}, [] { return 1.0; }),
               "already holds a value");
}

}  // namespace
}  // namespace ringkv
