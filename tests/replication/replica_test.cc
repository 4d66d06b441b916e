// Replica: the causal operations on this node's stored copy of an object,
// each checked against what the storage holds afterwards.
#include "replication/replica.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "replication/object_store.h"
#include "storage/keys.h"
#include "storage/memory_storage.h"
#include "tests/testing/fake_env.h"

namespace ringkv {
namespace {

using testing::FaultyStorage;

constexpr uint32_t kPartition = 5;
const Actor kSelf{"n1", 7};

std::vector<std::string> Values(const Object& o) {
  std::vector<std::string> out;
  for (const Sibling* s : o.Values()) out.push_back(s->value);
  std::sort(out.begin(), out.end());
  return out;
}

class ReplicaTest : public ::testing::Test {
 protected:
  ReplicaTest() { buckets_.Set("lww", BucketProps{3, 2, 2, "lww"}); }

  // What the storage holds for (bucket, key), read past the replica.
  std::optional<Object> Stored(std::string_view bucket, std::string_view key) {
    ObjectStore direct(&memory_, false);
    auto stored = direct.Get(kPartition, bucket, key);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return stored.ok() ? *stored : std::nullopt;
  }

  Result<Object> Coordinate(std::string_view bucket, const VersionVector& context,
                            const std::string& value, int64_t timestamp_us, WriteId id) {
    return replica_.Coordinate(kPartition, bucket, "k", context, false, value, timestamp_us, id);
  }

  MemoryStorage memory_;
  FaultyStorage storage_{&memory_};
  BucketTable buckets_;
  ObjectStore store_{&storage_, false};
  Replica replica_{kSelf, &buckets_, &store_};
};

TEST_F(ReplicaTest, CoordinateMintsTheNextDotFromTheStoredCounterAndStoresIt) {
  // Dot 41 was minted by an earlier process of this node: only the storage
  // remembers it.
  Object old{VersionVector({{kSelf, 41}}), {Sibling{Dot{kSelf, 41}, 10, false, "old", {1, 1}}}};
  ASSERT_EQ(CheckInvariants(old), "");
  ASSERT_TRUE(store_.Put(kPartition, "b", "k", old).ok());

  auto written = Coordinate("b", old.context, "new", 20, WriteId{2, 2});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->siblings.size(), 1u);
  EXPECT_EQ(written->siblings[0].dot, (Dot{kSelf, 42}));
  EXPECT_EQ(written->siblings[0].value, "new");
  EXPECT_EQ(written->siblings[0].timestamp_us, 20);
  EXPECT_EQ(written->siblings[0].write_id, (WriteId{2, 2}));
  // Stored by the time it returns: the caller replicates and acknowledges it.
  EXPECT_EQ(Stored("b", "k"), *written);

  // A restarted process (a new Replica over the same disk) continues from
  // the stored counter; a blind write is concurrent with "new".
  ObjectStore store_after_restart(&storage_, false);
  Replica restarted(kSelf, &buckets_, &store_after_restart);
  auto blind = restarted.Coordinate(kPartition, "b", "k", {}, false, "blind", 30, WriteId{3, 3});
  ASSERT_TRUE(blind.ok());
  EXPECT_EQ(blind->context.Get(kSelf), 43u);
  EXPECT_EQ(Values(*blind), (std::vector<std::string>{"blind", "new"}));
  EXPECT_EQ(Stored("b", "k"), *blind);
}

TEST_F(ReplicaTest, CoordinateThatCannotStoreFailsAndClaimsNothing) {
  memory_.SetWriteError(Status::IOError("disk full"));
  auto written = Coordinate("b", {}, "v", 20, WriteId{2, 2});
  EXPECT_TRUE(written.status().IsIOError());
  EXPECT_EQ(Stored("b", "k"), std::nullopt);

  memory_.SetWriteError(Status::OK());
  written = Coordinate("b", {}, "v", 20, WriteId{2, 2});
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->siblings[0].dot, (Dot{kSelf, 1}));
}

TEST_F(ReplicaTest, AWriteIdAlreadyHeldIsNotCoordinatedAgain) {
  auto first = Coordinate("b", {}, "v", 20, WriteId{5, 5});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(storage_.writes(), 1u);

  // The same write retried here (a duplicated forward): no second dot,
  // nothing written.
  auto again = Coordinate("b", {}, "v", 20, WriteId{5, 5});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(storage_.writes(), 1u);

  // Another primary coordinated write {6,6} and its copy arrived first:
  // this node does not mint a dot of its own for it.
  Object elsewhere = Update({}, {}, Actor{"n2", 1}, 40, false, "w", WriteId{6, 6});
  auto merged = replica_.Merge(kPartition, "b", "k", elsewhere);
  ASSERT_TRUE(merged.ok());
  const size_t writes_after_merge = storage_.writes();
  auto retried = Coordinate("b", {}, "w", 40, WriteId{6, 6});
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, *merged);
  EXPECT_EQ(retried->context.Get(kSelf), 1u);
  EXPECT_EQ(storage_.writes(), writes_after_merge);
}

TEST_F(ReplicaTest, MergeStoresOnlyWhenSomethingChanged) {
  Object a0 = Update({}, {}, Actor{"n2", 1}, 10, false, "a0", WriteId{1, 1});
  Object a1 = Update(a0, a0.context, Actor{"n2", 1}, 11, false, "a1", WriteId{1, 2});
  Object b = Update({}, {}, Actor{"n3", 1}, 12, false, "b", WriteId{1, 3});

  auto merged = replica_.Merge(kPartition, "b", "k", a1);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*merged, a1);
  EXPECT_EQ(storage_.writes(), 1u);

  // The same copy again (a repeated repair) and an older one (a stale
  // replica's) change nothing, so nothing is written.
  merged = replica_.Merge(kPartition, "b", "k", a1);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*merged, a1);
  merged = replica_.Merge(kPartition, "b", "k", a0);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*merged, a1);
  EXPECT_EQ(storage_.writes(), 1u);

  merged = replica_.Merge(kPartition, "b", "k", b);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*merged, Sync(a1, b));
  EXPECT_EQ(Values(*merged), (std::vector<std::string>{"a1", "b"}));
  EXPECT_EQ(storage_.writes(), 2u);
  EXPECT_EQ(Stored("b", "k"), *merged);
}

TEST_F(ReplicaTest, AReadErrorIsNotMistakenForAnAbsentObject) {
  ASSERT_TRUE(Coordinate("b", {}, "v", 20, WriteId{5, 5}).ok());
  const std::optional<Object> before = Stored("b", "k");
  const size_t writes_before = storage_.writes();

  storage_.SetReadError(Status::IOError("unreadable sector"));
  // Taken for absent, this would mint dot 1 a second time (kv679) and
  // overwrite the object that holds it.
  EXPECT_TRUE(Coordinate("b", {}, "w", 30, WriteId{6, 6}).status().IsIOError());
  Object incoming = Update({}, {}, Actor{"n2", 1}, 40, false, "x", WriteId{7, 7});
  EXPECT_TRUE(replica_.Merge(kPartition, "b", "k", incoming).status().IsIOError());
  EXPECT_TRUE(replica_.Read(kPartition, "b", "k").status().IsIOError());
  EXPECT_EQ(storage_.writes(), writes_before);

  storage_.SetReadError(Status::OK());
  EXPECT_EQ(Stored("b", "k"), before);
}

TEST_F(ReplicaTest, ACorruptRecordIsNotMistakenForAnAbsentObject) {
  WriteBatch garbage;
  garbage.Put(ObjectKey(kPartition, "b", "k"), "not a record");
  ASSERT_TRUE(memory_.Write(garbage, false).ok());

  EXPECT_TRUE(Coordinate("b", {}, "w", 30, WriteId{6, 6}).status().IsCorruption());
  EXPECT_TRUE(replica_.Read(kPartition, "b", "k").status().IsCorruption());
  std::string raw;
  ASSERT_TRUE(memory_.Get(ObjectKey(kPartition, "b", "k"), &raw).ok());
  EXPECT_EQ(raw, "not a record");
}

TEST_F(ReplicaTest, LwwBucketsKeepOneSibling) {
  // Coordinated second but stamped earlier: the later timestamp wins, not
  // the later arrival.
  ASSERT_TRUE(Coordinate("lww", {}, "late", 200, WriteId{1, 1}).ok());
  auto written = Coordinate("lww", {}, "early", 100, WriteId{1, 2});
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(Values(*written), (std::vector<std::string>{"late"}));
  // The loser's dot stays in the context, so a stale copy cannot bring it
  // back.
  EXPECT_EQ(written->context.Get(kSelf), 2u);

  Object newer = Update({}, {}, Actor{"n2", 1}, 300, false, "newest", WriteId{1, 3});
  auto merged = replica_.Merge(kPartition, "lww", "k", newer);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(Values(*merged), (std::vector<std::string>{"newest"}));
  EXPECT_EQ(Stored("lww", "k"), *merged);

  // The same writes in a siblings bucket keep all three.
  ASSERT_TRUE(Coordinate("b", {}, "late", 200, WriteId{1, 1}).ok());
  ASSERT_TRUE(Coordinate("b", {}, "early", 100, WriteId{1, 2}).ok());
  merged = replica_.Merge(kPartition, "b", "k", newer);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(Values(*merged), (std::vector<std::string>{"early", "late", "newest"}));
}

TEST_F(ReplicaTest, AConditionalPutWhoseContextMissesASiblingIsRefusedAndStoresNothing) {
  auto first = Coordinate("b", {}, "one", 10, WriteId{1, 1});
  ASSERT_TRUE(first.ok());
  const CoordinationRules conditional{.if_match = true};
  // A concurrent write the next one's context has not seen.
  ASSERT_TRUE(Coordinate("b", {}, "two", 20, WriteId{2, 2}).ok());
  auto stale = replica_.Coordinate(kPartition, "b", "k", first->context, false, "three", 30,
                                   WriteId{3, 3}, conditional);
  ASSERT_TRUE(stale.status().IsPreconditionFailed()) << stale.status().ToString();
  EXPECT_NE(stale.status().message().find("b/k changed since the read: 1 of its 2 siblings"),
            std::string::npos)
      << stale.status().message();
  EXPECT_EQ(Values(*Stored("b", "k")), (std::vector<std::string>{"one", "two"}));
  // Blind and conditional: only a key that holds nothing.
  EXPECT_TRUE(replica_.Coordinate(kPartition, "b", "k", {}, false, "x", 30, WriteId{4, 4},
                                  conditional).status().IsPreconditionFailed());
  auto fresh = replica_.Coordinate(kPartition, "b", "new", {}, false, "x", 30, WriteId{5, 5},
                                   conditional);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  // With the context of everything stored it replaces it all.
  auto current = Stored("b", "k");
  auto replaced = replica_.Coordinate(kPartition, "b", "k", current->context, false, "four", 40,
                                      WriteId{6, 6}, conditional);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(Values(*replaced), (std::vector<std::string>{"four"}));
  // A retry of a write already taken answers what is stored, not a refusal.
  auto retried = replica_.Coordinate(kPartition, "b", "k", current->context, false, "four", 40,
                                     WriteId{6, 6}, conditional);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(*retried, *replaced);
}

}  // namespace
}  // namespace ringkv
