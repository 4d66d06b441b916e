#include "http/prometheus_text.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ringkv::http {
namespace {

TEST(PrometheusTextTest, CountersGaugesAndEscapedLabels) {
  MetricsRegistry registry;
  registry.AddCounter("ringkv_things_total", "Things\\done\nhere.", {{"kind", "a\"b\\c\nd"}})->Add(3);
  registry.AddGauge("ringkv_level", "A level.")->Set(2.5);
  const std::string text = PrometheusText(registry.Snapshot());
  EXPECT_NE(text.find("# HELP ringkv_things_total Things\\\\done\\nhere.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE ringkv_things_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("ringkv_things_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE ringkv_level gauge\nringkv_level 2.5\n"), std::string::npos) << text;
}

TEST(PrometheusTextTest, HistogramsHaveFixedCumulativeBucketsAndInfEqualsCount) {
  MetricsRegistry registry;
  Histogram* h = registry.AddHistogram("ringkv_wait_seconds", "Waits.", {{"op", "x"}}, 1e-6);
  for (uint64_t us : {50, 99, 100, 900, 1500, 2'000'000}) h->Observe(us);
  const std::string text = PrometheusText(registry.Snapshot());
  std::istringstream in(text);
  std::string line;
  uint64_t last = 0;
  int buckets = 0;
  std::map<std::string, uint64_t> at;
  while (std::getline(in, line)) {
    if (line.rfind("ringkv_wait_seconds_bucket", 0) != 0) continue;
    const uint64_t v = std::stoull(line.substr(line.rfind(' ') + 1));
    EXPECT_GE(v, last) << line;
    last = v;
    ++buckets;
    at[line.substr(0, line.rfind(' '))] = v;
  }
  EXPECT_EQ(buckets, static_cast<int>(std::size(kSecondsBounds)) + 1);
  // 100 us falls in the registry bucket 100..103 us, above 0.0001.
  EXPECT_EQ((at[R"(ringkv_wait_seconds_bucket{op="x",le="0.0001"})"]), 2u);
  EXPECT_EQ((at[R"(ringkv_wait_seconds_bucket{op="x",le="0.00025"})"]), 3u);
  EXPECT_EQ((at[R"(ringkv_wait_seconds_bucket{op="x",le="0.001"})"]), 4u);
  EXPECT_EQ((at[R"(ringkv_wait_seconds_bucket{op="x",le="0.0025"})"]), 5u);
  EXPECT_EQ((at[R"(ringkv_wait_seconds_bucket{op="x",le="1"})"]), 5u);
  EXPECT_EQ((at[R"(ringkv_wait_seconds_bucket{op="x",le="+Inf"})"]), 6u);
  EXPECT_NE(text.find("ringkv_wait_seconds_count{op=\"x\"} 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ringkv_wait_seconds_sum{op=\"x\"} 2.002649\n"), std::string::npos) << text;
}

TEST(PrometheusTextTest, OtherHistogramsUsePowersOfTwo) {
  MetricsRegistry registry;
  registry.AddHistogram("ringkv_read_siblings", "Siblings.", {}, 1)->Observe(3);
  const std::string text = PrometheusText(registry.Snapshot());
  EXPECT_NE(text.find("ringkv_read_siblings_bucket{le=\"2\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ringkv_read_siblings_bucket{le=\"4\"} 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ringkv::http
