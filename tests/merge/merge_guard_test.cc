// The breaker's slow calls (merge/merge_guard.h): a call counts as slow past
// a base allowance plus an allowance per MiB of sibling values, so a plugin
// merging large values in good time is never rested, while one that is slow
// on small values is, after `trip_after` such calls in a row. A plugin in a
// worker is slow only past half its own call deadline.
#include "merge/merge_guard.h"

#include <gtest/gtest.h>

#include "merge/plugin_catalog.h"
#include "tests/testing/fake_env.h"

namespace ringkv::testing {
namespace {

// A merge that takes `took_us` of the manual clock and returns the first value.
class TimedMerge final : public MergeFunction {
 public:
  explicit TimedMerge(ManualClock* clock) : clock_(clock) {}
  Result<std::string> Merge(const std::vector<const Sibling*>& values) override {
    clock_->Set(clock_->MonoMicros() + took_us);
    return values.front()->value;
  }
  int64_t took_us = 0;

 private:
  ManualClock* clock_;
};

double Value(const MetricsRegistry& metrics, const std::string& name) {
  for (const MetricSample& s : metrics.Snapshot()) {
    if (s.name == name && s.labels == MetricLabels{{"plugin", "timed"}}) return s.value;
  }
  return -1;
}

class MergeGuardTest : public ::testing::Test {
 protected:
  // Merges two siblings of `bytes` each, `times` times in a row.
  void MergeTwo(size_t bytes, int times) {
    Sibling a, b;
    a.value.assign(bytes, 'a');
    b.value.assign(bytes, 'b');
    for (int i = 0; i < times; ++i) (void)guard_.Merge({&a, &b});
  }

  ManualClock clock_;
  MetricsRegistry metrics_;
  TimedMerge merge_{&clock_};
  MergeGuard guard_{"timed", &merge_, &clock_, &metrics_};
};

TEST_F(MergeGuardTest, SlowCallsOnSmallValuesRestThePlugin) {
  merge_.took_us = 6'000;
  MergeTwo(100, 5);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_slow_total"), 5);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_breaker_trips_total"), 1);
  EXPECT_TRUE(guard_.open());
}

TEST_F(MergeGuardTest, LargeValuesMergedWithinTheirAllowanceNeverRestThePlugin) {
  // Two values of 512 KiB: 5 ms + 20 ms per MiB = 25 ms allowed.
  merge_.took_us = 24'000;
  MergeTwo(512 << 10, 20);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_slow_total"), 0);
  EXPECT_FALSE(guard_.open());
  merge_.took_us = 26'000;
  MergeTwo(512 << 10, 1);
  EXPECT_EQ(Value(metrics_, "ringkv_merge_slow_total"), 1);
}

TEST(WorkerGuardOptionsTest, AWorkerCallIsSlowOnlyPastHalfItsDeadline) {
  MergeWorkerOptions worker;
  worker.call_deadline_us = 50'000;
  worker.deadline_us_per_mib = 200'000;
  const MergeGuardOptions guard = WorkerGuardOptions(MergeGuardOptions{}, worker);
  EXPECT_EQ(guard.slow_us, 25'000);
  EXPECT_EQ(guard.slow_us_per_mib, 100'000);
  // A deadline shorter than the in-process allowance never makes slow stricter.
  worker.call_deadline_us = 2'000;
  worker.deadline_us_per_mib = 1'000;
  const MergeGuardOptions tight = WorkerGuardOptions(MergeGuardOptions{}, worker);
  EXPECT_EQ(tight.slow_us, MergeGuardOptions{}.slow_us);
  EXPECT_EQ(tight.slow_us_per_mib, MergeGuardOptions{}.slow_us_per_mib);
}

}  // namespace
}  // namespace ringkv::testing
