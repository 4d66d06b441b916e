// CachedStorage over the in-memory engine: it answers exactly as the engine
// would, serves repeated reads from memory, never serves a value the
// engine does not hold after a failed write, and hands reads at a snapshot
// and iterators to the engine.
#include "storage/cached_storage.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "storage/memory_storage.h"
#include "tests/common/metric_value.h"

namespace ringkv {
namespace {

using testing::MetricValue;

// Counts the reads that reach the engine.
class CountingStorage : public Storage {
 public:
  Status Get(std::string_view key, std::string* value) override {
    ++gets;
    return engine.Get(key, value);
  }
  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override {
    ++snapshot_gets;
    return engine.GetAt(snapshot, key, value);
  }
  Status Write(const WriteBatch& batch, bool sync) override { return engine.Write(batch, sync); }
  std::unique_ptr<Snapshot> GetSnapshot() override { return engine.GetSnapshot(); }
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override {
    ++iterators;
    return engine.NewIterator(options);
  }
  MemoryStorage engine;
  int gets = 0;
  int snapshot_gets = 0;
  int iterators = 0;
};

Status PutOne(Storage* s, const std::string& key, const std::string& value) {
  WriteBatch b;
  b.Put(key, value);
  return s->Write(b, false);
}

TEST(CachedStorageTest, SecondReadIsServedFromMemory) {
  CountingStorage base;
  ASSERT_TRUE(PutOne(&base, "k", "v1").ok());
  MetricsRegistry metrics;
  CachedStorage cache(&base, 1 << 20, &metrics);
  std::string v;
  ASSERT_TRUE(cache.Get("k", &v).ok());
  ASSERT_TRUE(cache.Get("k", &v).ok());
  EXPECT_EQ(v, "v1");
  EXPECT_EQ(base.gets, 1);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(CachedStorageTest, WritesAndDeletesAreSeenWithoutReadingTheEngine) {
  CountingStorage base;
  MetricsRegistry metrics;
  CachedStorage cache(&base, 1 << 20, &metrics);
  std::string v;
  EXPECT_TRUE(cache.Get("k", &v).IsNotFound());
  ASSERT_TRUE(PutOne(&cache, "k", "v2").ok());
  ASSERT_TRUE(cache.Get("k", &v).ok());
  EXPECT_EQ(v, "v2");
  WriteBatch del;
  del.Delete("k");
  ASSERT_TRUE(cache.Write(del, false).ok());
  EXPECT_TRUE(cache.Get("k", &v).IsNotFound());
  EXPECT_EQ(base.gets, 1);
  EXPECT_TRUE(base.engine.Get("k", &v).IsNotFound());
}

TEST(CachedStorageTest, FailedWriteIsNeverServedAndTheEngineDecides) {
  CountingStorage base;
  MetricsRegistry metrics;
  CachedStorage cache(&base, 1 << 20, &metrics);
  ASSERT_TRUE(PutOne(&cache, "k", "old").ok());
  base.engine.SetWriteError(Status::IOError("disk full"));
  EXPECT_FALSE(PutOne(&cache, "k", "new").ok());
  base.engine.SetWriteError(Status::OK());
  std::string v;
  ASSERT_TRUE(cache.Get("k", &v).ok());
  EXPECT_EQ(v, "old");
  EXPECT_EQ(base.gets, 1);
}

TEST(CachedStorageTest, StaysWithinCapacityAndEvictsTheLeastRecentlyUsed) {
  CountingStorage base;
  constexpr size_t kCapacity = 64 << 10;
  MetricsRegistry metrics;
  CachedStorage cache(&base, kCapacity, &metrics);
  ASSERT_TRUE(PutOne(&cache, "hot", "h").ok());
  std::string v;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(PutOne(&cache, "key" + std::to_string(i), std::string(100, 'x')).ok());
    ASSERT_TRUE(cache.Get("hot", &v).ok());  // keeps it recent
    ASSERT_LE(cache.charged_bytes(), kCapacity);
  }
  EXPECT_EQ(base.gets, 0);
  ASSERT_TRUE(cache.Get("key0", &v).ok());  // long evicted: from the engine
  EXPECT_EQ(v, std::string(100, 'x'));
  EXPECT_EQ(base.gets, 1);
}

TEST(CachedStorageTest, MetricsCountHitsMissesEvictionsAndHeldBytes) {
  CountingStorage base;
  MetricsRegistry metrics;
  // Keys k00..k16 with 10-byte values: 3 + 10 + 128 bytes of overhead each,
  // and room for 16 of them.
  constexpr size_t kEntry = 3 + 10 + 128;
  CachedStorage cache(&base, 16 * kEntry, &metrics);
  auto key = [](int i) { return std::string(i < 10 ? "k0" : "k") + std::to_string(i); };
  for (int i = 0; i <= 16; ++i) ASSERT_TRUE(PutOne(&cache, key(i), std::string(10, 'v')).ok());
  std::string v;
  ASSERT_TRUE(cache.Get(key(16), &v).ok());  // hit
  ASSERT_TRUE(cache.Get(key(0), &v).ok());   // evicted by k16: a miss, evicts k01
  EXPECT_EQ(MetricValue(metrics, "ringkv_record_cache_hits_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_record_cache_misses_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_record_cache_evictions_total"), 2);
  EXPECT_EQ(MetricValue(metrics, "ringkv_record_cache_entries"), 16);
  EXPECT_EQ(MetricValue(metrics, "ringkv_record_cache_bytes"), 16 * kEntry);
  EXPECT_EQ(MetricValue(metrics, "ringkv_record_cache_capacity_bytes"), 16 * kEntry);
}

TEST(CachedStorageTest, LargeValuesBypassTheCache) {
  CountingStorage base;
  MetricsRegistry metrics;
  CachedStorage cache(&base, 16 << 10, &metrics);
  ASSERT_TRUE(PutOne(&cache, "big", std::string(4 << 10, 'b')).ok());
  std::string v;
  ASSERT_TRUE(cache.Get("big", &v).ok());
  EXPECT_EQ(v.size(), 4u << 10);
  EXPECT_EQ(base.gets, 1);
  EXPECT_EQ(cache.charged_bytes(), 0u);
}

// Keys outside the cached prefix are read from and written to the engine
// alone: they take no room, and a write of one never evicts a cached key.
TEST(CachedStorageTest, KeysOutsideThePrefixPassThrough) {
  CountingStorage base;
  MetricsRegistry metrics;
  CachedStorage cache(&base, 1 << 20, &metrics, "o");
  ASSERT_TRUE(PutOne(&cache, "ok", "object").ok());
  ASSERT_TRUE(PutOne(&cache, "ai", "row").ok());
  const size_t charged = cache.charged_bytes();
  EXPECT_GT(charged, 0u);
  std::string v;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cache.Get("ai", &v).ok());
    EXPECT_EQ(v, "row");
    EXPECT_TRUE(cache.Get("ax", &v).IsNotFound());
  }
  EXPECT_EQ(base.gets, 6);
  ASSERT_TRUE(cache.Get("ok", &v).ok());
  EXPECT_EQ(v, "object");
  EXPECT_EQ(base.gets, 6);
  EXPECT_EQ(cache.charged_bytes(), charged);
  // Written behind the cache's back, an outside key is still read right.
  ASSERT_TRUE(PutOne(&base, "ai", "row2").ok());
  ASSERT_TRUE(cache.Get("ai", &v).ok());
  EXPECT_EQ(v, "row2");
}

// A snapshot read is answered by the engine even when the cache holds the
// key, and leaves the cache as it was: the latest stays in front, and an
// old value read at the snapshot is never cached.
TEST(CachedStorageTest, SnapshotReadsGoToTheEngineAndLeaveTheCacheAlone) {
  CountingStorage base;
  MetricsRegistry metrics;
  CachedStorage cache(&base, 1 << 20, &metrics);
  ASSERT_TRUE(PutOne(&cache, "k", "old").ok());
  ASSERT_TRUE(PutOne(&base, "cold", "old").ok());
  std::unique_ptr<Snapshot> snap = cache.GetSnapshot();
  ASSERT_TRUE(PutOne(&cache, "k", "new").ok());
  ASSERT_TRUE(PutOne(&base, "cold", "new").ok());

  std::string v;
  ASSERT_TRUE(cache.GetAt(*snap, "k", &v).ok());
  EXPECT_EQ(v, "old");
  ASSERT_TRUE(cache.GetAt(*snap, "cold", &v).ok());
  EXPECT_EQ(v, "old");
  EXPECT_EQ(base.snapshot_gets, 2);
  ASSERT_TRUE(cache.Get("k", &v).ok());
  EXPECT_EQ(v, "new");
  EXPECT_EQ(base.gets, 0);
  ASSERT_TRUE(cache.Get("cold", &v).ok());  // not cached by the snapshot read
  EXPECT_EQ(v, "new");
  EXPECT_EQ(base.gets, 1);
}

TEST(CachedStorageTest, IteratorsReadTheEngineAtTheirSnapshot) {
  CountingStorage base;
  MetricsRegistry metrics;
  CachedStorage cache(&base, 1 << 20, &metrics);
  ASSERT_TRUE(PutOne(&cache, "a", "old").ok());
  std::unique_ptr<Snapshot> snap = cache.GetSnapshot();
  ASSERT_TRUE(PutOne(&cache, "a", "new").ok());
  ASSERT_TRUE(PutOne(&cache, "b", "new").ok());
  IteratorOptions options;
  options.snapshot = snap.get();
  std::unique_ptr<Iterator> it = cache.NewIterator(options);
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
  EXPECT_EQ(it->value(), "old");
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(base.iterators, 1);
}

// Any sequence of puts, deletes, failing writes and reads answers as the
// engine alone would, whatever the capacity.
RC_GTEST_PROP(CachedStoragePropertyTest, AnswersAsTheEngineAlone, ()) {
  const size_t capacity = *rc::gen::inRange<size_t>(0, 4096);
  MemoryStorage engine;
  MetricsRegistry metrics;
  CachedStorage cache(&engine, capacity, &metrics);
  std::map<std::string, std::string> model;
  const int steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    const std::string key = "k" + std::to_string(*rc::gen::inRange(0, 12));
    const int op = *rc::gen::inRange(0, 4);
    std::string v;
    if (op == 0) {
      const std::string value(*rc::gen::inRange<size_t>(0, 300), 'a' + i % 26);
      const bool fail = *rc::gen::inRange(0, 5) == 0;
      if (fail) engine.SetWriteError(Status::IOError("injected"));
      Status st = PutOne(&cache, key, value);
      engine.SetWriteError(Status::OK());
      RC_ASSERT(st.ok() == !fail);
      if (!fail) model[key] = value;
    } else if (op == 1) {
      WriteBatch b;
      b.Delete(key);
      RC_ASSERT(cache.Write(b, false).ok());
      model.erase(key);
    } else {
      Status st = cache.Get(key, &v);
      auto it = model.find(key);
      RC_ASSERT(st.ok() == (it != model.end()));
      if (st.ok()) RC_ASSERT(v == it->second);
    }
    RC_ASSERT(cache.charged_bytes() <= capacity);
  }
}

}  // namespace
}  // namespace ringkv
