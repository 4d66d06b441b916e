// Group commit (replication/object_store.h): the grouped replica writes of
// one loop turn reach storage as one Write, nobody is told a write
// succeeded before that Write returned, a failed Write fails exactly the
// writes of its group, and a reader never sees a staged write that is not
// in storage. Each check reads the storage itself, past the store.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "replication/object_store.h"
#include "replication/replica.h"
#include "storage/memory_storage.h"
#include "tests/testing/fake_env.h"

namespace ringkv {
namespace {

using testing::FaultyStorage;
using testing::ManualClock;
using testing::ManualScheduler;

constexpr uint32_t kPartition = 3;
const Actor kSelf{"n1", 1};

// Records every Stage and Finish, as the anti-entropy trees see them.
class RecordingObserver : public ObjectWriteObserver {
 public:
  Status Stage(uint32_t, uint32_t, std::string_view, std::string_view key, uint64_t,
               const ReplacedObject* replaced) override {
    staged.push_back(std::string(key));
    knew_replaced.push_back(replaced != nullptr);
    return Status::OK();
  }
  Status StageRemove(uint32_t, uint32_t, std::string_view, std::string_view,
                     const ReplacedObject&) override {
    return Status::OK();
  }
  void Finish(bool committed) override {
    finishes.push_back({staged.size(), committed});
  }
  std::vector<std::string> staged;
  std::vector<bool> knew_replaced;
  // (stages so far, committed) at each Finish.
  std::vector<std::pair<size_t, bool>> finishes;
};

// One outcome a write's caller was told.
struct Told {
  bool called = false;
  Result<Object> result = Status::Internal("not told");
  // Whether storage held the object when the caller was told.
  bool was_stored = false;
};

class GroupCommitTest : public ::testing::Test {
 protected:
  GroupCommitTest() { store_.set_observer(&observer_); }

  // What the storage holds for the key, read past the store.
  std::optional<Object> Stored(std::string_view key) {
    ObjectStore direct(&memory_, false);
    auto stored = direct.Get(kPartition, "b", key);
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return stored.ok() ? *stored : std::nullopt;
  }

  Replica::Stored Tell(Told* told, std::string key) {
    return [this, told, key](Result<Object> r) {
      told->called = true;
      told->was_stored = r.ok() && Stored(key) == *r;
      told->result = std::move(r);
    };
  }

  // The same for a merge, which is told only the status.
  ObjectStore::Committed TellStatus(Told* told, std::string key) {
    return [this, told, key](const Status& st) {
      told->called = true;
      told->was_stored = st.ok() && Stored(key).has_value();
      told->result = st.ok() ? Result<Object>(Object{}) : Result<Object>(st);
    };
  }

  void Coordinate(const std::string& key, const std::string& value, WriteId id, Told* told) {
    replica_.Coordinate(kPartition, "b", key, {}, false, value, 10, id, Tell(told, key));
  }

  // Ends the loop turn: the store's 0-delay task runs.
  void EndTurn() { scheduler_.Advance(0); }

  ManualClock clock_;
  ManualScheduler scheduler_{&clock_};
  MemoryStorage memory_;
  FaultyStorage storage_{&memory_};
  BucketTable buckets_;
  RecordingObserver observer_;
  ObjectStore store_{&storage_, false, &scheduler_};
  Replica replica_{kSelf, &buckets_, &store_};
};

TEST_F(GroupCommitTest, TheWritesOfOneTurnAreOneStorageWriteAndAckedOnlyAfterIt) {
  Told a, b, c;
  Coordinate("a", "1", WriteId{1, 1}, &a);
  Coordinate("b", "2", WriteId{1, 2}, &b);
  Object incoming = Update({}, {}, Actor{"n2", 1}, 5, false, "3", WriteId{2, 1});
  replica_.Merge(kPartition, "b", "c", incoming, TellStatus(&c, "c"));

  // Nothing written, nobody told, within the turn.
  EXPECT_EQ(storage_.writes(), 0u);
  EXPECT_FALSE(a.called || b.called || c.called);
  EXPECT_EQ(Stored("a"), std::nullopt);

  EndTurn();
  EXPECT_EQ(storage_.writes(), 1u);
  for (Told* t : {&a, &b, &c}) {
    ASSERT_TRUE(t->called);
    ASSERT_TRUE(t->result.ok()) << t->result.status().ToString();
    EXPECT_TRUE(t->was_stored);
  }
  EXPECT_EQ(a.result->siblings[0].value, "1");
  EXPECT_EQ(Stored("c")->siblings[0].value, "3");
  // Three stages, one Finish for all of them.
  EXPECT_EQ(observer_.staged, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(observer_.finishes, (std::vector<std::pair<size_t, bool>>{{3, true}}));
}

TEST_F(GroupCommitTest, WithSyncTheGroupIsOneSyncedWrite) {
  ObjectStore synced(&storage_, /*sync=*/true, &scheduler_);
  Replica replica(kSelf, &buckets_, &synced);
  std::vector<Told> told(5);
  for (int i = 0; i < 5; ++i) {
    std::string key = "k" + std::to_string(i);
    replica.Coordinate(kPartition, "b", key, {}, false, "v", 10, WriteId{1, uint64_t(i + 1)},
                       Tell(&told[i], key));
  }
  EndTurn();
  EXPECT_EQ(storage_.writes(), 1u);
  // A machine crash now keeps every acknowledged write.
  EXPECT_EQ(memory_.unsynced_batches(), 0u);
  memory_.DropUnsynced();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(told[i].was_stored);
    EXPECT_NE(Stored("k" + std::to_string(i)), std::nullopt);
  }
}

TEST_F(GroupCommitTest, TwoWritesOfOneKeyInOneTurnChainAndCommitTogether) {
  Told first, second;
  Coordinate("k", "1", WriteId{1, 1}, &first);
  // Built on the staged write: the next dot, and "1" is not lost to it.
  replica_.Coordinate(kPartition, "b", "k", {}, false, "2", 20, WriteId{1, 2}, Tell(&second, "k"));
  EndTurn();
  EXPECT_EQ(storage_.writes(), 1u);
  ASSERT_TRUE(second.result.ok());
  EXPECT_EQ(second.result->context.Get(kSelf), 2u);
  EXPECT_EQ(second.result->siblings.size(), 2u);
  EXPECT_EQ(Stored("k"), *second.result);
  // The second write's observer learnt what it replaces from the staged
  // record, not from storage, which did not have it yet.
  EXPECT_EQ(observer_.knew_replaced, (std::vector<bool>{true, true}));
}

TEST_F(GroupCommitTest, AReadOfAStagedKeyCommitsTheGroupFirst) {
  Told a, b;
  Coordinate("a", "1", WriteId{1, 1}, &a);
  Coordinate("b", "2", WriteId{1, 2}, &b);
  // A reader of a key not staged does not move the group.
  auto other = replica_.Read(kPartition, "b", "z");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(storage_.writes(), 0u);

  auto read = replica_.Read(kPartition, "b", "a");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->siblings[0].value, "1");
  // What the reader got is in storage: the whole group was written.
  EXPECT_EQ(storage_.writes(), 1u);
  EXPECT_EQ(Stored("a"), **read);
  EXPECT_NE(Stored("b"), std::nullopt);
  // The acknowledgements still leave from the turn's task.
  EXPECT_FALSE(a.called || b.called);
  EndTurn();
  EXPECT_TRUE(a.called && b.called);
  EXPECT_TRUE(a.result.ok() && b.result.ok());
  EXPECT_EQ(storage_.writes(), 1u);
}

TEST_F(GroupCommitTest, AFailedGroupFailsExactlyItsWrites) {
  Told ok_before;
  Coordinate("early", "0", WriteId{1, 9}, &ok_before);
  EndTurn();
  ASSERT_TRUE(ok_before.result.ok());

  memory_.SetWriteError(Status::IOError("disk full"));
  Told a, b;
  Coordinate("a", "1", WriteId{1, 1}, &a);
  Coordinate("b", "2", WriteId{1, 2}, &b);
  EndTurn();
  for (Told* t : {&a, &b}) {
    ASSERT_TRUE(t->called);
    EXPECT_TRUE(t->result.status().IsIOError()) << t->result.status().ToString();
  }
  EXPECT_EQ(Stored("a"), std::nullopt);
  EXPECT_EQ(observer_.finishes.back(), (std::pair<size_t, bool>{3, false}));

  // The next turn's group is its own: it succeeds, and "a" gets dot 1 again
  // only because dot 1 was never stored anywhere (nothing left this node).
  memory_.SetWriteError(Status::OK());
  Told again;
  Coordinate("a", "1", WriteId{1, 1}, &again);
  EndTurn();
  ASSERT_TRUE(again.result.ok());
  EXPECT_TRUE(again.was_stored);
  EXPECT_EQ(Stored("early")->siblings[0].value, "0");
}

TEST_F(GroupCommitTest, AnUnchangedMergeOfAStagedKeyWaitsForTheGroup) {
  Told written, merged;
  Coordinate("k", "1", WriteId{1, 1}, &written);
  // The same write arriving again (a retried copy): nothing to store, but
  // what the replica holds is the staged write, so the answer waits.
  Object staged;
  {
    auto got = store_.Get(kPartition, "b", "k");
    ASSERT_TRUE(got.ok() && got->has_value());
    staged = **got;
  }
  memory_.SetWriteError(Status::IOError("disk full"));
  replica_.Merge(kPartition, "b", "k", staged, TellStatus(&merged, "k"));
  EXPECT_FALSE(merged.called);
  EndTurn();
  EXPECT_TRUE(written.result.status().IsIOError());
  EXPECT_TRUE(merged.result.status().IsIOError());
}

TEST_F(GroupCommitTest, AStagingErrorIsToldFromTheTaskAndStagesNothing) {
  buckets_.Set("tiny", BucketProps{3, 2, 2, "siblings"});
  BucketProps props = buckets_.Get("tiny");
  props.max_siblings = 1;
  buckets_.Set("tiny", props);
  Told first, refused;
  replica_.Coordinate(kPartition, "tiny", "k", {}, false, "1", 10, WriteId{1, 1},
                      Tell(&first, "k"));
  EndTurn();
  ASSERT_TRUE(first.result.ok());
  // A blind write would make a second sibling: refused before staging.
  replica_.Coordinate(kPartition, "tiny", "k", {}, false, "2", 10, WriteId{1, 2},
                      Tell(&refused, "k"));
  EXPECT_FALSE(refused.called);
  EndTurn();
  ASSERT_TRUE(refused.called);
  EXPECT_FALSE(refused.result.ok());
  EXPECT_EQ(storage_.writes(), 1u);
}

TEST_F(GroupCommitTest, AWriteThatCannotWaitGoesAfterTheGroup) {
  Told a;
  Coordinate("k", "1", WriteId{1, 1}, &a);
  // Anti-entropy's and transfers' merges are written at once, after what
  // the turn staged, and build on it.
  Object incoming = Update({}, {}, Actor{"n2", 1}, 5, false, "2", WriteId{2, 1});
  auto merged = replica_.Merge(kPartition, "b", "k", incoming);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->siblings.size(), 2u);
  EXPECT_EQ(storage_.writes(), 2u);
  EXPECT_EQ(Stored("k"), *merged);
  EXPECT_FALSE(a.called);
  EndTurn();
  EXPECT_TRUE(a.result.ok());
  EXPECT_EQ(observer_.finishes,
            (std::vector<std::pair<size_t, bool>>{{1, true}, {2, true}}));
}

TEST_F(GroupCommitTest, ADestroyedStoreTellsNobodyAndWritesNothing) {
  Told a;
  {
    ObjectStore store(&storage_, false, &scheduler_);
    Replica replica(kSelf, &buckets_, &store);
    replica.Coordinate(kPartition, "b", "k", {}, false, "1", 10, WriteId{1, 1},
                       Tell(&a, "k"));
  }
  EndTurn();
  EXPECT_FALSE(a.called);
  EXPECT_EQ(storage_.writes(), 0u);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

}  // namespace
}  // namespace ringkv
