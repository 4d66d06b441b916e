// The segment index and the trees' lifecycle on a memory store: every write
// moves the tree exactly once, a crash (no marker) rebuilds from the index
// while writes go on, a clean shutdown's trees load back, and a
// verification repairs an index that drifted from the objects.
#include <gtest/gtest.h>

#include "antientropy/records.h"
#include "antientropy/trees.h"
#include "common/hash.h"
#include "replication/object_store.h"
#include "storage/memory_storage.h"
#include "tests/testing/fake_env.h"

namespace ringkv::aae {
namespace {

using ringkv::testing::ManualClock;
using ringkv::testing::ManualScheduler;

constexpr uint32_t kQ = 8;

uint32_t PartitionOf(const std::string& key) {
  return static_cast<uint32_t>(KeyHash("b", key) >> 61);
}

class TreesTest : public ::testing::Test {
 protected:
  TreesTest() : scheduler_(&clock_), store_(&storage_, false) {}

  std::unique_ptr<Trees> NewTrees(size_t rows_per_step = 2000) {
    TreesOptions o;
    o.partitions = kQ;
    o.rows_per_step = rows_per_step;
    auto t = std::make_unique<Trees>(o, &storage_, &scheduler_, &metrics_);
    store_.set_observer(t.get());
    return t;
  }

  // With `name_read`, the Put names the object its Get found, as the
  // replica does, and the old leaf comes from it instead of the index row.
  void Write(const std::string& key, const std::string& value, bool tombstone = false,
             bool name_read = false) {
    const uint32_t p = PartitionOf(key);
    auto local = store_.Get(p, "b", key);
    ASSERT_TRUE(local.ok());
    Object o = Update(local->value_or(Object{}), local->has_value() ? (*local)->context
                                                                     : VersionVector(),
                      Actor{"n1", 1}, ++ts_, tombstone, value,
                      WriteId{1, static_cast<uint64_t>(ts_)});
    const Object* read = name_read && local->has_value() ? &**local : nullptr;
    ASSERT_TRUE(store_.Put(p, "b", key, o, read).ok());
  }

  void ExpectTreesMatchObjects(Trees& trees) {
    for (uint32_t p = 0; p < kQ; ++p) {
      ASSERT_NE(trees.Trusted(p), nullptr) << p;
      Result<HashTree> fresh = trees.Recompute(p);
      ASSERT_TRUE(fresh.ok());
      EXPECT_TRUE(*trees.Trusted(p) == *fresh) << "partition " << p;
    }
  }

  void Settle(Trees& trees) {
    for (int i = 0; i < 100000 && trees.busy(); ++i) scheduler_.Advance(1000);
    ASSERT_FALSE(trees.busy());
  }

  ManualClock clock_;
  ManualScheduler scheduler_;
  MemoryStorage storage_;
  MetricsRegistry metrics_;
  ObjectStore store_;
  int64_t ts_ = 0;
};

TEST_F(TreesTest, EveryWriteMovesItsTreeOnceAndTheTreeEqualsARecount) {
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  Settle(*trees);
  for (int i = 0; i < 300; ++i) Write("k" + std::to_string(i), "v");
  for (int i = 0; i < 300; i += 3) Write("k" + std::to_string(i), "v2");
  for (int i = 0; i < 300; i += 7) Write("k" + std::to_string(i), "", /*tombstone=*/true);
  ExpectTreesMatchObjects(*trees);
  // A segment's keys are one range of the index.
  const std::string key = "k42";
  std::vector<AaeKeyEntry> rows;
  ASSERT_TRUE(trees->ReadSegments(PartitionOf(key), {SegmentOf("b", key)}, &rows).ok());
  bool found = false;
  for (const AaeKeyEntry& e : rows) found |= e.key == key;
  EXPECT_TRUE(found);
}

// Old leaves taken from the replaced object (the replica's path) and from
// the index row agree, and a Put whose read was of another key, or was
// followed by another write, falls back to the row.
TEST_F(TreesTest, OldLeavesFromTheReplacedObjectKeepTheTreeEqualToARecount) {
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  Settle(*trees);
  for (int i = 0; i < 200; ++i) Write("k" + std::to_string(i), "v", false, /*name_read=*/i % 2);
  for (int i = 0; i < 200; i += 3) Write("k" + std::to_string(i), "v2", false, true);
  for (int i = 0; i < 200; i += 7) Write("k" + std::to_string(i), "", true, true);
  ExpectTreesMatchObjects(*trees);
  // A stale read: k1 is read, k1 is overwritten, and a Put naming the first
  // read must not take it for what the key holds now.
  const uint32_t p = PartitionOf("k1");
  auto first = store_.Get(p, "b", "k1");
  ASSERT_TRUE(first.ok() && first->has_value());
  Write("k1", "v3", false, true);
  Object later = Update(**first, (*first)->context, Actor{"n1", 1}, ++ts_, false, "v4",
                        WriteId{2, 1});
  ASSERT_TRUE(store_.Put(p, "b", "k1", later, &**first).ok());
  // A read of another key between.
  auto k2 = store_.Get(PartitionOf("k2"), "b", "k2");
  ASSERT_TRUE(k2.ok() && k2->has_value());
  auto k3 = store_.Get(PartitionOf("k3"), "b", "k3");
  ASSERT_TRUE(k3.ok());
  Object k2_next = Update(**k2, (*k2)->context, Actor{"n1", 1}, ++ts_, false, "v5",
                          WriteId{2, 2});
  ASSERT_TRUE(store_.Put(PartitionOf("k2"), "b", "k2", k2_next, &**k2).ok());
  ExpectTreesMatchObjects(*trees);
}

TEST_F(TreesTest, WithoutTheMarkerTreesAreRebuiltFromTheIndexWhileWritesGoOn) {
  {
    auto trees = NewTrees();
    ASSERT_TRUE(trees->Open().ok());
    Settle(*trees);
    for (int i = 0; i < 2000; ++i) Write("k" + std::to_string(i), "v");
    // No Save: a crash.
    store_.set_observer(nullptr);
  }
  auto trees = NewTrees(/*rows_per_step=*/50);
  ASSERT_TRUE(trees->Open().ok());
  for (uint32_t p = 0; p < kQ; ++p) EXPECT_EQ(trees->Trusted(p), nullptr);
  // Writes interleaved with the rebuild's steps.
  for (int i = 0; i < 400 && trees->busy(); ++i) {
    Write("k" + std::to_string(i * 5), "w" + std::to_string(i));
    Write("new" + std::to_string(i), "x");
    scheduler_.Advance(1000);
  }
  Settle(*trees);
  ExpectTreesMatchObjects(*trees);
}

TEST_F(TreesTest, ACleanShutdownsTreesLoadAndTheMarkerIsConsumed) {
  HashTree saved;
  {
    auto trees = NewTrees();
    ASSERT_TRUE(trees->Open().ok());
    Settle(*trees);
    for (int i = 0; i < 500; ++i) Write("k" + std::to_string(i), "v");
    saved = HashTree(*trees->Trusted(PartitionOf("k1")));
    ASSERT_TRUE(trees->Save().ok());
    store_.set_observer(nullptr);
  }
  std::string marker;
  ASSERT_TRUE(storage_.Get(MarkerKey(), &marker).ok());
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  // Trusted at once, no rebuild.
  EXPECT_FALSE(trees->busy());
  ASSERT_NE(trees->Trusted(PartitionOf("k1")), nullptr);
  EXPECT_TRUE(*trees->Trusted(PartitionOf("k1")) == saved);
  EXPECT_TRUE(storage_.Get(MarkerKey(), &marker).IsNotFound());
  ExpectTreesMatchObjects(*trees);
}

TEST_F(TreesTest, AVerificationRewritesAnIndexThatDriftedFromTheObjects) {
  auto trees = NewTrees(/*rows_per_step=*/16);
  ASSERT_TRUE(trees->Open().ok());
  Settle(*trees);
  for (int i = 0; i < 200; ++i) Write("k" + std::to_string(i), "v");
  // Drift planted behind the trees' back: a damaged row, a missing row, a
  // row with no object.
  const auto row_key = [](const std::string& key) {
    return IndexKey(PartitionOf(key), SegmentOf("b", key), "b", key);
  };
  WriteBatch drift;
  drift.Put(row_key("k1"), "garbage!");
  drift.Delete(row_key("k2"));
  drift.Put(row_key("ghost"), EncodeIndexEntry(IndexEntry{0x77, VersionVector()}));
  ASSERT_TRUE(storage_.Write(drift, false).ok());
  for (uint32_t p = 0; p < kQ; ++p) trees->Verify(p);
  Settle(*trees);
  ExpectTreesMatchObjects(*trees);
  std::string row;
  EXPECT_TRUE(storage_.Get(row_key("ghost"), &row).IsNotFound());
  ASSERT_TRUE(storage_.Get(row_key("k2"), &row).ok());
  ASSERT_TRUE(storage_.Get(row_key("k1"), &row).ok());
  EXPECT_TRUE(DecodeIndexEntry(row).ok());
}

TEST_F(TreesTest, ARunWithoutAntiEntropyIsRefilledFromTheObjects) {
  for (int i = 0; i < 100; ++i) Write("k" + std::to_string(i), "v");  // no observer yet
  ASSERT_TRUE(Trees::MarkIndexIncomplete(&storage_).ok());
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  Settle(*trees);
  ExpectTreesMatchObjects(*trees);
  std::string gap;
  EXPECT_TRUE(storage_.Get(GapKey(), &gap).IsNotFound());
}

}  // namespace
}  // namespace ringkv::aae
