// The trees' lifecycle on a memory store: every write moves the tree
// exactly once and writes nothing but its object, a crash (no marker)
// rebuilds from the objects while writes go on, a clean shutdown's trees
// load back, and the periodic rebuild catches a record gone bad.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include "antientropy/aae.capnp.h"
#include "antientropy/hashing.h"
#include "antientropy/records.h"
#include "causality/object_codec.h"
#include "antientropy/trees.h"
#include "common/hash.h"
#include "proto/flat_record.h"
#include "replication/object_store.h"
#include "storage/keys.h"
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

  // `read_last`: the store's last Get before the Put is of this key, so the
  // old leaf comes from it; otherwise another key is read between and the
  // observer reads the stored object.
  void Write(const std::string& key, const std::string& value, bool tombstone = false,
             bool read_last = true) {
    const uint32_t p = PartitionOf(key);
    auto local = store_.Get(p, "b", key);
    ASSERT_TRUE(local.ok());
    Object o = Update(local->value_or(Object{}), local->has_value() ? (*local)->context
                                                                     : VersionVector(),
                      Actor{"n1", 1}, ++ts_, tombstone, value,
                      WriteId{1, static_cast<uint64_t>(ts_)});
    if (!read_last) ASSERT_TRUE(store_.Get(PartitionOf("other"), "b", "other").ok());
    ASSERT_TRUE(store_.Put(p, "b", key, o).ok());
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
  // A segment's keys are one range of the objects, with their leaves and
  // clocks.
  const std::string key = "k43";
  std::vector<AaeKeyEntry> rows;
  ASSERT_TRUE(trees->ReadSegments(PartitionOf(key), {KeySegment("b", key)}, &rows).ok());
  auto local = store_.Get(PartitionOf(key), "b", key);
  ASSERT_TRUE(local.ok() && local->has_value());
  int found = 0;
  for (const AaeKeyEntry& e : rows) {
    EXPECT_EQ(e.segment, KeySegment("b", key));
    if (e.key != key) continue;
    ++found;
    EXPECT_EQ(e.clock, (*local)->context);
    EXPECT_EQ(e.leaf, LeafOf("b", key, EncodeObject(**local)));
  }
  EXPECT_EQ(found, 1);
  // Each write put one row, its object: nothing else but the meta range.
  Status st = storage_.Scan("", "", [](std::string_view k, std::string_view) {
    EXPECT_TRUE(ParseObjectKey(k, nullptr, nullptr, nullptr).ok()) << k;
    return true;
  });
  EXPECT_TRUE(st.ok());
}

// Old leaves taken from the store's last Get (the replica's path) and from
// a read of the stored object agree, and a Put whose last Get was of
// another key, or was followed by another write, falls back to the read.
TEST_F(TreesTest, OldLeavesFromTheReplacedObjectKeepTheTreeEqualToARecount) {
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  Settle(*trees);
  for (int i = 0; i < 200; ++i) Write("k" + std::to_string(i), "v", false, /*read_last=*/i % 2);
  for (int i = 0; i < 200; i += 3) Write("k" + std::to_string(i), "v2", false, true);
  for (int i = 0; i < 200; i += 7) Write("k" + std::to_string(i), "", true, true);
  ExpectTreesMatchObjects(*trees);
  // A stale read: k1 is read, k1 is overwritten, and a Put after must not
  // take the first read for what the key holds now.
  const uint32_t p = PartitionOf("k1");
  auto first = store_.Get(p, "b", "k1");
  ASSERT_TRUE(first.ok() && first->has_value());
  Write("k1", "v3", false, true);
  Object later = Update(**first, (*first)->context, Actor{"n1", 1}, ++ts_, false, "v4",
                        WriteId{2, 1});
  ASSERT_TRUE(store_.Put(p, "b", "k1", later).ok());
  // A read of another key between.
  auto k2 = store_.Get(PartitionOf("k2"), "b", "k2");
  ASSERT_TRUE(k2.ok() && k2->has_value());
  auto k3 = store_.Get(PartitionOf("k3"), "b", "k3");
  ASSERT_TRUE(k3.ok());
  Object k2_next = Update(**k2, (*k2)->context, Actor{"n1", 1}, ++ts_, false, "v5",
                          WriteId{2, 2});
  ASSERT_TRUE(store_.Put(PartitionOf("k2"), "b", "k2", k2_next).ok());
  ExpectTreesMatchObjects(*trees);
}

TEST_F(TreesTest, WithoutTheMarkerTreesAreRebuiltFromTheObjectsWhileWritesGoOn) {
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

// Trees a build of hash version 1 saved hold leaves this build does not
// compute: its marker is not current, so they are rebuilt, not loaded.
TEST_F(TreesTest, TreesSavedByAnotherHashVersionAreRebuilt) {
  {
    auto trees = NewTrees();
    ASSERT_TRUE(trees->Open().ok());
    Settle(*trees);
    for (int i = 0; i < 300; ++i) Write("k" + std::to_string(i), "v");
    ASSERT_TRUE(trees->Save().ok());
    store_.set_observer(nullptr);
  }
  capnp::MallocMessageBuilder builder;
  auto old = builder.initRoot<schema::CleanMarker>();
  old.setShape(kShape);
  old.setHashVersion(1);
  WriteBatch batch;
  batch.Put(MarkerKey(), FlatRecordBytes(builder));
  ASSERT_TRUE(storage_.Write(batch, false).ok());
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  for (uint32_t p = 0; p < kQ; ++p) EXPECT_EQ(trees->Trusted(p), nullptr) << p;
  Settle(*trees);
  ExpectTreesMatchObjects(*trees);
}

// The periodic rebuild: a record that no longer decodes counts as no
// object (so an exchange fetches the key again), a key filed under the
// wrong segment is not counted, and damage to the tree in memory is gone.
TEST_F(TreesTest, ARebuildCountsARecordGoneBadAsNoObject) {
  auto trees = NewTrees(/*rows_per_step=*/16);
  ASSERT_TRUE(trees->Open().ok());
  Settle(*trees);
  for (int i = 0; i < 200; ++i) Write("k" + std::to_string(i), "v");
  const uint32_t p = PartitionOf("k1");
  const HashTree before(*trees->Trusted(p));
  std::string record;
  ASSERT_TRUE(storage_.Get(ObjectKey(p, "b", "k1"), &record).ok());
  record.back() ^= 1;
  std::string misfiled = ObjectKey(p, "b", "ghost");
  misfiled[6] ^= 1;
  WriteBatch rot;
  rot.Put(ObjectKey(p, "b", "k1"), record);
  rot.Put(misfiled, record);
  ASSERT_TRUE(storage_.Write(rot, false).ok());
  Counter* errors = metrics_.AddCounter("ringkv_aae_verify_errors_total", "");
  const uint64_t errors_before = errors->value();
  trees->Rebuild(p);
  Settle(*trees);
  ExpectTreesMatchObjects(*trees);
  EXPECT_FALSE(*trees->Trusted(p) == before);
  EXPECT_EQ(errors->value(), errors_before + 2);
}

TEST_F(TreesTest, ARunWithoutAntiEntropyIsRecountedFromTheObjects) {
  {
    auto trees = NewTrees();
    ASSERT_TRUE(trees->Open().ok());
    Settle(*trees);
    for (int i = 0; i < 100; ++i) Write("k" + std::to_string(i), "v");
    ASSERT_TRUE(trees->Save().ok());
    store_.set_observer(nullptr);
  }
  // A start with anti-entropy off: writes the trees do not see.
  ASSERT_TRUE(Trees::MarkTreesStale(&storage_).ok());
  for (int i = 50; i < 150; ++i) Write("k" + std::to_string(i), "w");
  auto trees = NewTrees();
  ASSERT_TRUE(trees->Open().ok());
  EXPECT_TRUE(trees->busy());
  Settle(*trees);
  ExpectTreesMatchObjects(*trees);
}

}  // namespace
}  // namespace ringkv::aae
