#include "replication/hint_store.h"

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "tests/common/metric_value.h"
#include "storage/memory_storage.h"

namespace ringkv {
namespace {

using testing::MetricValue;

Object Write(const Object& base, const std::string& node, const std::string& value) {
  return Update(base, base.context, Actor{node, 1}, 1000, false, value);
}

TEST(HintStoreTest, HintsForOneObjectMergeCausally) {
  MemoryStorage storage;
  MetricsRegistry metrics;
  HintStore hints(&storage, false, &metrics);
  ASSERT_TRUE(hints.Load().ok());
  Object a = Write({}, "n1", "a");
  Object b = Write({}, "n2", "b");  // concurrent with a
  ASSERT_TRUE(hints.Add("n3", 7, "bkt", "k", a).ok());
  ASSERT_TRUE(hints.Add("n3", 7, "bkt", "k", b).ok());
  EXPECT_EQ(hints.counts().at("n3"), 1u);
  auto list = hints.List("n3", 10, "");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].object, Sync(a, b));
  EXPECT_EQ((*list)[0].bucket, "bkt");
  EXPECT_EQ((*list)[0].key, "k");
  EXPECT_EQ((*list)[0].partition, 7u);
}

TEST(HintStoreTest, FailedWritesAreCountedAndStoreNothing) {
  MemoryStorage storage;
  MetricsRegistry metrics;
  HintStore hints(&storage, false, &metrics);
  ASSERT_TRUE(hints.Load().ok());
  storage.SetWriteError(Status::IOError("disk full"));
  EXPECT_TRUE(hints.Add("n3", 1, "b", "k", Write({}, "n1", "a")).IsIOError());
  EXPECT_TRUE(hints.Add("n3", 1, "b", "k2", Write({}, "n1", "b")).IsIOError());
  EXPECT_EQ(hints.write_failures(), 2u);
  EXPECT_TRUE(hints.counts().empty());
  storage.SetWriteError(Status::OK());
  ASSERT_TRUE(hints.Add("n3", 1, "b", "k", Write({}, "n1", "a")).ok());
  EXPECT_EQ(hints.write_failures(), 2u);
  EXPECT_EQ(hints.counts().at("n3"), 1u);
  EXPECT_EQ(MetricValue(metrics, "ringkv_hint_write_failures_total"), 2);
  EXPECT_EQ(MetricValue(metrics, "ringkv_hint_writes_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_hints_pending", {{"target", "n3"}}), 1);
}

TEST(HintStoreTest, RemoveOnlyWhatWasDelivered) {
  MemoryStorage storage;
  MetricsRegistry metrics;
  HintStore hints(&storage, false, &metrics);
  ASSERT_TRUE(hints.Load().ok());
  Object a = Write({}, "n1", "a");
  ASSERT_TRUE(hints.Add("n3", 1, "b", "k", a).ok());
  auto listed = hints.List("n3", 10, "");
  ASSERT_TRUE(listed.ok());
  // A newer write lands in the hint while the old one is in flight.
  ASSERT_TRUE(hints.Add("n3", 1, "b", "k", Write(a, "n1", "a2")).ok());
  auto removed = hints.RemoveDelivered((*listed)[0]);
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(*removed);
  EXPECT_EQ(hints.counts().at("n3"), 1u);
  auto again = hints.List("n3", 10, "");
  ASSERT_TRUE(again.ok());
  removed = hints.RemoveDelivered((*again)[0]);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_EQ(hints.counts().count("n3"), 0u);
  EXPECT_TRUE(hints.List("n3", 10, "")->empty());
}

TEST(HintStoreTest, SurvivesReloadAndPagesPerTarget) {
  MemoryStorage storage;
  MetricsRegistry metrics;
  {
    HintStore hints(&storage, true, &metrics);
    ASSERT_TRUE(hints.Load().ok());
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(hints.Add("n2", 3, "b", "k" + std::to_string(i), Write({}, "n1", "v")).ok());
    }
    ASSERT_TRUE(hints.Add("n22", 3, "b", "other", Write({}, "n1", "v")).ok());
  }
  HintStore reloaded(&storage, true, &metrics);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.counts().at("n2"), 25u);
  EXPECT_EQ(reloaded.counts().at("n22"), 1u);
  std::string cursor;
  size_t seen = 0;
  for (int page = 0; page < 10; ++page) {
    auto batch = reloaded.List("n2", 10, cursor);
    ASSERT_TRUE(batch.ok());
    if (batch->empty()) break;
    for (const auto& e : *batch) {
      EXPECT_EQ(e.target, "n2");
      cursor = HintKey(e.target, e.partition, e.bucket, e.key);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 25u);
}

}  // namespace
}  // namespace ringkv
