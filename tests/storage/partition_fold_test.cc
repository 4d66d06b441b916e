// The partition fold, over both engines alone and under the record cache:
// it yields exactly one partition's objects in key order, resumes after any
// object, reports a malformed key as Corruption, and sees exactly its
// snapshot while writes go on between its steps.
#include "storage/partition_fold.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "storage/keys.h"
#include "storage/record.h"
#include "storage/storage.h"
#include "tests/storage/storage_testing.h"

namespace ringkv {
namespace {

using testing::EngineKind;
using testing::Put;
using testing::TestEngine;

// (bucket, key, record), in the order a fold yields them.
using Objects = std::vector<std::tuple<std::string, std::string, std::string>>;

Objects Fold(Storage* storage, const Snapshot& snapshot, uint32_t partition,
             const std::optional<ObjectName>& after = std::nullopt, size_t limit = SIZE_MAX) {
  Objects out;
  const Status st = FoldPartition(storage, snapshot, partition, after,
                                  [&](std::string_view b, std::string_view k, std::string_view r) {
                                    out.emplace_back(b, k, r);
                                    return out.size() < limit;
                                  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::string RecordOf(std::string_view bucket, std::string_view key) {
  return EncodeRecord(std::string(bucket) + "/" + std::string(key));
}

class PartitionFoldTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    ASSERT_NE(storage_, nullptr);
    // Partition 7 between its neighbours, with bucket names whose length
    // prefixes are one and two bytes, and a hint and meta key besides.
    const std::vector<std::string> buckets = {"", "b", "bb", std::string(1, '\xff'),
                                              std::string(200, 'x')};
    const std::vector<std::string> keys = {"", "k", std::string(1, '\0'), "z"};
    WriteBatch batch;
    for (uint32_t p : {6u, 7u, 8u}) {
      for (const std::string& b : buckets) {
        for (const std::string& k : keys) {
          batch.Put(ObjectKey(p, b, k), RecordOf(b, k));
          if (p == 7) expected_.emplace_back(b, k, RecordOf(b, k));
        }
      }
    }
    batch.Put(HintKey("n2", 7, "b", "k"), "hint");
    batch.Put(MetaKey(kMetaGeneration), "meta");
    ASSERT_OK(storage_->Write(batch, false));
    std::sort(expected_.begin(), expected_.end(), [](const auto& x, const auto& y) {
      return ObjectKey(7, std::get<0>(x), std::get<1>(x)) <
             ObjectKey(7, std::get<0>(y), std::get<1>(y));
    });
  }

  TestEngine engine_{GetParam()};
  Storage* storage_ = engine_.get();
  Objects expected_;  // partition 7, in storage key order
};

TEST_P(PartitionFoldTest, YieldsExactlyThePartitionsObjectsInKeyOrder) {
  std::unique_ptr<Snapshot> snap = storage_->GetSnapshot();
  EXPECT_EQ(Fold(storage_, *snap, 7), expected_);
  EXPECT_TRUE(Fold(storage_, *snap, 9).empty());

  PartitionIterator it(storage_, nullptr, 7);
  EXPECT_FALSE(it.Valid());
  Objects seen;
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    seen.emplace_back(it.bucket(), it.key(), it.record());
  }
  ASSERT_OK(it.status());
  EXPECT_EQ(seen, expected_);
}

TEST_P(PartitionFoldTest, ResumesAfterAnyObjectWhetherOrNotItIsStored) {
  std::unique_ptr<Snapshot> snap = storage_->GetSnapshot();
  for (size_t i = 0; i < expected_.size(); ++i) {
    const ObjectName after{std::get<0>(expected_[i]), std::get<1>(expected_[i])};
    EXPECT_EQ(Fold(storage_, *snap, 7, after),
              Objects(expected_.begin() + static_cast<ptrdiff_t>(i) + 1, expected_.end()))
        << i;
  }
  // ("b", "j") is not stored: the next object is the first after its key.
  const std::string j = ObjectKey(7, "b", "j");
  auto next = std::find_if(expected_.begin(), expected_.end(), [&](const auto& x) {
    return ObjectKey(7, std::get<0>(x), std::get<1>(x)) > j;
  });
  ASSERT_NE(next, expected_.end());
  PartitionIterator it(storage_, snap.get(), 7);
  it.SeekAfter("b", "j");
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(it.bucket(), std::get<0>(*next));
  EXPECT_EQ(it.key(), std::get<1>(*next));

  // A fold stopped after any number of objects and resumed after the last
  // one it yielded covers the partition exactly once.
  for (size_t step = 1; step <= expected_.size(); ++step) {
    Objects all;
    std::optional<ObjectName> after;
    for (size_t round = 0; round <= expected_.size(); ++round) {  // bounded, should a resume repeat
      Objects part = Fold(storage_, *snap, 7, after, step);
      if (part.empty()) break;
      after = ObjectName{std::get<0>(part.back()), std::get<1>(part.back())};
      all.insert(all.end(), part.begin(), part.end());
    }
    EXPECT_EQ(all, expected_) << step;
  }
}

TEST_P(PartitionFoldTest, AKeyInThePartitionThatIsNotAnObjectKeyIsCorruption) {
  // A key cut short in its segment; it sorts after the objects of the
  // segments below 0x8000.
  const std::string junk = PartitionStart(7) + "\x80";
  ASSERT_OK(Put(storage_, junk, "junk"));
  std::unique_ptr<Snapshot> snap = storage_->GetSnapshot();
  size_t yielded = 0;
  const Status st = FoldPartition(storage_, *snap, 7, std::nullopt,
                                  [&](std::string_view, std::string_view, std::string_view) {
                                    ++yielded;
                                    return true;
                                  });
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("partition 7"), std::string::npos) << st.message();
  const auto before_junk = std::count_if(expected_.begin(), expected_.end(), [&](const auto& x) {
    return ObjectKey(7, std::get<0>(x), std::get<1>(x)) < junk;
  });
  EXPECT_EQ(static_cast<ptrdiff_t>(yielded), before_junk);

  PartitionIterator it(storage_, snap.get(), 7);
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
  }
  EXPECT_TRUE(it.status().IsCorruption());
  it.SeekToFirst();  // the error is final
  EXPECT_FALSE(it.Valid());
  EXPECT_TRUE(it.status().IsCorruption());
}

// The generators of the properties below: objects of partitions 3, 4, 5
// with a few buckets and keys, so that writes often hit what the fold has
// yet to reach, what it has passed, and what it stands on.
struct Name {
  uint32_t partition;
  std::string bucket;
  std::string key;
};

Name AnyName() {
  return Name{*rc::gen::element(3u, 4u, 5u),
              *rc::gen::element<std::string>("", "b", "c", std::string(130, 'l')),
              "k" + std::to_string(*rc::gen::inRange(0, 12))};
}

// The model of the whole store: storage key -> record.
using Model = std::map<std::string, std::string>;

// Writes a random batch of puts and deletes to `storage` and `model`.
void WriteSome(Storage* storage, Model* model, int tag) {
  WriteBatch batch;
  const int ops = *rc::gen::inRange(1, 5);
  for (int i = 0; i < ops; ++i) {
    const Name n = AnyName();
    const std::string skey = ObjectKey(n.partition, n.bucket, n.key);
    if (*rc::gen::inRange(0, 3) == 0) {
      batch.Delete(skey);
      model->erase(skey);
    } else {
      const std::string record = EncodeRecord(n.key + "@" + std::to_string(tag));
      batch.Put(skey, record);
      (*model)[skey] = record;
    }
  }
  // Unsynced: durability has no part in what a view sees, and an fsync per
  // batch would only slow the LevelDB runs down.
  RC_ASSERT(storage->Write(batch, false).ok());
}

// Reads a random object as the latest, which a cache then holds.
void ReadSome(Storage* storage, const Model& model) {
  const Name n = AnyName();
  const std::string skey = ObjectKey(n.partition, n.bucket, n.key);
  std::string v;
  const Status st = storage->Get(skey, &v);
  auto it = model.find(skey);
  RC_ASSERT(st.ok() == (it != model.end()));
  if (st.ok()) RC_ASSERT(v == it->second);
}

// Partition 4 of the model, in the order a fold yields it.
Objects PartitionOf(const Model& model) {
  Objects out;
  for (auto it = model.lower_bound(PartitionStart(4)); it != model.end() && it->first < PartitionEnd(4);
       ++it) {
    std::string bucket, key;
    RC_ASSERT(ParseObjectKey(it->first, nullptr, &bucket, &key).ok());
    out.emplace_back(bucket, key, it->second);
  }
  return out;
}

Model Prefill(Storage* storage) {
  Model model;
  const int batches = *rc::gen::inRange(0, 15);
  for (int i = 0; i < batches; ++i) WriteSome(storage, &model, -1 - i);
  return model;
}

// Between any two steps of a partition iterator the loop runs other work:
// writes and deletes anywhere (ahead of the fold, behind it, on the object
// it stands on), reads that fill the cache with newer values, and restarts
// from a checkpoint on the same snapshot. The fold sees exactly the
// partition as the snapshot saw it.
TEST_P(PartitionFoldTest, IteratorUnderConcurrentWritesSeesExactlyTheSnapshot) {
  const EngineKind kind = GetParam();
  const bool ok = rc::check("partition iterator sees exactly its snapshot", [kind] {
    TestEngine engine(kind);
    Storage* storage = engine.get();
    RC_ASSERT(storage != nullptr);
    Model model = Prefill(storage);
    std::unique_ptr<Snapshot> snap = storage->GetSnapshot();
    const Objects expected = PartitionOf(model);

    Objects seen;
    int tag = 0;
    std::optional<PartitionIterator> it;
    it.emplace(storage, snap.get(), 4);
    it->SeekToFirst();
    while (it->Valid() && seen.size() <= expected.size()) {  // bounded, should a resume repeat
      seen.emplace_back(it->bucket(), it->key(), it->record());
      const int work = *rc::gen::inRange(0, 4);
      for (int i = 0; i < work; ++i) {
        if (*rc::gen::arbitrary<bool>()) {
          WriteSome(storage, &model, tag++);
        } else {
          ReadSome(storage, model);
        }
      }
      if (*rc::gen::inRange(0, 5) == 0) {  // a transfer restarts from its checkpoint
        const ObjectName last{it->bucket(), it->key()};
        it.emplace(storage, snap.get(), 4);
        it->SeekAfter(last.bucket, last.key);
      } else {
        it->Next();
      }
    }
    RC_ASSERT(it->status().ok());
    RC_ASSERT(seen == expected);
    // The writes were real: a new snapshot sees them.
    std::unique_ptr<Snapshot> now = storage->GetSnapshot();
    RC_ASSERT(Fold(storage, *now, 4) == PartitionOf(model));
  });
  EXPECT_TRUE(ok);
}

// The same, folding in steps with FoldPartition, each resumed after the
// last object of the one before, with writes inside its callback too.
TEST_P(PartitionFoldTest, SteppedFoldUnderConcurrentWritesSeesExactlyTheSnapshot) {
  const EngineKind kind = GetParam();
  const bool ok = rc::check("stepped fold sees exactly its snapshot", [kind] {
    TestEngine engine(kind);
    Storage* storage = engine.get();
    RC_ASSERT(storage != nullptr);
    Model model = Prefill(storage);
    std::unique_ptr<Snapshot> snap = storage->GetSnapshot();
    const Objects expected = PartitionOf(model);

    Objects seen;
    int tag = 0;
    std::optional<ObjectName> after;
    for (size_t round = 0; round <= expected.size(); ++round) {  // bounded, should a resume repeat
      const size_t before = seen.size();
      const size_t step = *rc::gen::inRange<size_t>(1, 6);
      const Status st = FoldPartition(
          storage, *snap, 4, after, [&](std::string_view b, std::string_view k, std::string_view r) {
            if (*rc::gen::arbitrary<bool>()) WriteSome(storage, &model, tag++);
            seen.emplace_back(b, k, r);
            return seen.size() - before < step;
          });
      RC_ASSERT(st.ok());
      if (seen.size() == before) break;
      after = ObjectName{std::get<0>(seen.back()), std::get<1>(seen.back())};
      const int work = *rc::gen::inRange(0, 3);
      for (int i = 0; i < work; ++i) WriteSome(storage, &model, tag++);
      ReadSome(storage, model);
    }
    RC_ASSERT(seen == expected);
    std::unique_ptr<Snapshot> now = storage->GetSnapshot();
    RC_ASSERT(Fold(storage, *now, 4) == PartitionOf(model));
  });
  EXPECT_TRUE(ok);
}

INSTANTIATE_TEST_SUITE_P(Engines, PartitionFoldTest, ::testing::ValuesIn(testing::kAllEngines),
                         testing::EngineName);

}  // namespace
}  // namespace ringkv
