// Tests for ring/failure_detector.h: the phi-accrual arithmetic, the
// threshold crossing time, the window bound, the max-interval cap and the
// reset on a new generation.
#include "ring/failure_detector.h"

#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

namespace ringkv {
namespace {

constexpr int64_t kSecond = 1'000'000;

// Feeds `count` arrivals every `interval_us` starting at `start_us`; returns
// the time of the last one.
int64_t Feed(FailureDetector& fd, const NodeId& node, uint64_t gen, int64_t start_us,
             int64_t interval_us, int count) {
  int64_t t = start_us;
  for (int i = 0; i < count; ++i) {
    fd.Report(node, gen, t);
    if (i + 1 < count) t += interval_us;
  }
  return t;
}

TEST(FailureDetector, UnknownNodeHasZeroPhiAndNoConvictionTime) {
  FailureDetector fd;
  EXPECT_FALSE(fd.Known("a"));
  EXPECT_EQ(fd.Phi("a", 100 * kSecond), 0);
  EXPECT_FALSE(fd.ConvictionTime("a", 8).has_value());
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 1e6);
}

TEST(FailureDetector, PhiGrowsLinearlyWithSilence) {
  FailureDetector fd;
  int64_t last = Feed(fd, "a", 1, 10 * kSecond, kSecond, 100);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 1e6);
  EXPECT_EQ(fd.Phi("a", last), 0);
  double phi1 = fd.Phi("a", last + kSecond);
  EXPECT_NEAR(phi1, kPhiFactor, 1e-12);
  for (int k = 2; k <= 30; ++k) {
    EXPECT_NEAR(fd.Phi("a", last + k * kSecond), k * phi1, 1e-9) << k;
  }
  // Half-way between two samples too.
  EXPECT_NEAR(fd.Phi("a", last + kSecond / 2), phi1 / 2, 1e-12);
}

TEST(FailureDetector, ThresholdEightCrossesAfterAbout18Point4Seconds) {
  FailureDetector fd;
  int64_t last = Feed(fd, "a", 1, kSecond, kSecond, 200);
  // phi = t / (mean * ln 10) >= 8  <=>  t >= 8 ln(10) s = 18.42 s.
  const double expected_us = 8 * std::log(10.0) * 1e6;
  auto convict = fd.ConvictionTime("a", 8.0);
  ASSERT_TRUE(convict.has_value());
  EXPECT_NEAR(static_cast<double>(*convict - last), expected_us, 2.0);
  // Scan in 10 ms steps for the first time phi reaches 8.
  int64_t crossed = -1;
  for (int64_t t = last; t <= last + 60 * kSecond; t += 10'000) {
    if (fd.Phi("a", t) >= 8.0) {
      crossed = t - last;
      break;
    }
  }
  ASSERT_GE(crossed, 0);
  EXPECT_NEAR(static_cast<double>(crossed), expected_us, 10'000);
  std::printf("phi 8 crossing for 1 s heartbeats: %.3f s of silence\n", crossed / 1e6);
  EXPECT_EQ(FailureDetector::SilenceForPhi(8.0, 1e6), *convict - last);
}

TEST(FailureDetector, UsesExpectedIntervalUntilEnoughSamples) {
  FailureDetectorOptions o;
  o.expected_interval_us = kSecond;
  o.min_samples = 5;
  FailureDetector fd(o);
  // Bursty early arrivals 100 ms apart: 4 intervals, not enough yet.
  int64_t last = Feed(fd, "a", 1, kSecond, 100'000, 5);
  EXPECT_EQ(fd.Samples("a"), 4u);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 1e6);
  EXPECT_NEAR(fd.Phi("a", last + kSecond), kPhiFactor, 1e-12);
  fd.Report("a", 1, last + 100'000);
  EXPECT_EQ(fd.Samples("a"), 5u);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 100'000.0);
}

TEST(FailureDetector, LongPauseDoesNotPoisonTheMean) {
  FailureDetector fd;  // max interval defaults to 2 s
  int64_t last = Feed(fd, "a", 1, kSecond, kSecond, 50);
  size_t samples = fd.Samples("a");
  // A 60 s pause, then the node is back.
  fd.Report("a", 1, last + 60 * kSecond);
  EXPECT_EQ(fd.Samples("a"), samples);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 1e6);
  EXPECT_EQ(fd.Phi("a", last + 60 * kSecond), 0);
  // An interval at the cap is still sampled.
  fd.Report("a", 1, last + 62 * kSecond);
  EXPECT_EQ(fd.Samples("a"), samples + 1);
}

TEST(FailureDetector, WindowIsBounded) {
  FailureDetectorOptions o;
  o.window_size = 100;
  FailureDetector fd(o);
  int64_t last = Feed(fd, "a", 1, kSecond, kSecond, 101);
  EXPECT_EQ(fd.Samples("a"), 100u);
  Feed(fd, "a", 1, last + 500'000, 500'000, 100);
  EXPECT_EQ(fd.Samples("a"), 100u);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 500'000.0);
}

TEST(FailureDetector, NewGenerationResetsTheWindowAndOldOneIsIgnored) {
  FailureDetector fd;
  // Fast heartbeats in generation 1.
  int64_t last = Feed(fd, "a", 1, kSecond, 200'000, 50);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 200'000.0);
  // Restart: generation 2 starts a fresh window (back to the expected mean).
  int64_t restart = last + 30 * kSecond;
  fd.Report("a", 2, restart);
  EXPECT_EQ(fd.Samples("a"), 0u);
  EXPECT_EQ(fd.LastArrival("a"), restart);
  EXPECT_DOUBLE_EQ(fd.MeanInterval("a"), 1e6);
  EXPECT_EQ(fd.Phi("a", restart), 0);
  // A late heartbeat from the dead incarnation changes nothing.
  fd.Report("a", 1, restart + kSecond);
  EXPECT_EQ(fd.LastArrival("a"), restart);
  EXPECT_EQ(fd.Samples("a"), 0u);
  fd.Report("a", 2, restart + kSecond);
  EXPECT_EQ(fd.Samples("a"), 1u);
}

TEST(FailureDetector, NodesAreIndependentAndRemovable) {
  FailureDetector fd;
  Feed(fd, "a", 1, kSecond, kSecond, 10);
  Feed(fd, "b", 1, kSecond, kSecond, 20);
  EXPECT_LT(fd.Phi("b", 25 * kSecond), fd.Phi("a", 25 * kSecond));
  fd.Remove("a");
  EXPECT_FALSE(fd.Known("a"));
  EXPECT_TRUE(fd.Known("b"));
}

}  // namespace
}  // namespace ringkv
