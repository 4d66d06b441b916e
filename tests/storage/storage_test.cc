// The Storage contract, run against both engines (LevelDB and in-memory),
// alone and under the record cache: reads, batches, ranges, iterators and
// snapshots. Then the engine-specific behaviour: LevelDB reopen, table
// reads and iterator errors, MemoryStorage crash simulation, write errors
// and the cost of its snapshots.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/keys.h"
#include "storage/leveldb_storage.h"
#include "storage/memory_storage.h"
#include "storage/storage.h"
#include "tests/storage/storage_testing.h"
#include "tests/storage/temp_dir.h"

namespace ringkv {
namespace {

using testing::Del;
using testing::EngineKind;
using testing::KVs;
using testing::Put;
using testing::Rest;
using testing::TempDir;
using testing::TestEngine;

KVs ScanAll(Storage* s, std::string_view start, std::string_view end) {
  KVs out;
  Status st = s->Scan(start, end, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::unique_ptr<Iterator> NewRangeIterator(Storage* s, std::string_view begin,
                                           std::string_view end,
                                           const Snapshot* snapshot = nullptr) {
  IteratorOptions options;
  options.begin = begin;
  options.end = end;
  options.snapshot = snapshot;
  return s->NewIterator(options);
}

class StorageTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override { ASSERT_NE(storage_, nullptr); }

  TestEngine engine_{GetParam()};
  Storage* storage_ = engine_.get();
};

TEST_P(StorageTest, PutGetDelete) {
  std::string v;
  EXPECT_TRUE(storage_->Get("k", &v).IsNotFound());
  ASSERT_OK(Put(storage_, "k", "v1"));
  ASSERT_OK(storage_->Get("k", &v));
  EXPECT_EQ(v, "v1");
  ASSERT_OK(Put(storage_, "k", "v2", /*sync=*/true));
  ASSERT_OK(storage_->Get("k", &v));
  EXPECT_EQ(v, "v2");
  ASSERT_OK(Del(storage_, "k"));
  EXPECT_TRUE(storage_->Get("k", &v).IsNotFound());
  ASSERT_OK(Del(storage_, "never-there"));
}

TEST_P(StorageTest, BinaryKeysAndValues) {
  const std::string key("a\0b\xff", 4);
  const std::string value("\0\x01\x02\xff\0", 5);
  ASSERT_OK(Put(storage_, key, value));
  std::string v;
  ASSERT_OK(storage_->Get(key, &v));
  EXPECT_EQ(v, value);
  EXPECT_TRUE(storage_->Get(std::string("a\0b", 3), &v).IsNotFound());
}

TEST_P(StorageTest, BatchAppliesInOrderAsOneUnit) {
  ASSERT_OK(Put(storage_, "gone", "x"));
  WriteBatch b;
  b.Put("a", "1");
  b.Put("b", "2");
  b.Delete("gone");
  b.Put("a", "3");  // later op in the batch wins
  b.Delete("b");
  b.Put("c", "4");
  ASSERT_OK(storage_->Write(b, true));
  EXPECT_EQ(ScanAll(storage_, "", ""), (KVs{{"a", "3"}, {"c", "4"}}));
  ASSERT_OK(storage_->Write(WriteBatch(), false));
}

TEST_P(StorageTest, ScanRangesInOrder) {
  for (const char* k : {"d", "b", "a", "c", "e", "b\xff", "b\x01"}) {
    ASSERT_OK(Put(storage_, k, std::string("v") + k));
  }
  KVs all = ScanAll(storage_, "", "");
  ASSERT_EQ(all.size(), 7u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].first, all[i].first);
  // Unsigned byte order: 0xff sorts after every other byte.
  EXPECT_EQ(ScanAll(storage_, "b", "c"),
            (KVs{{"b", "vb"}, {"b\x01", "vb\x01"}, {"b\xff", "vb\xff"}}));
  EXPECT_EQ(ScanAll(storage_, "bb", "d"), (KVs{{"b\xff", "vb\xff"}, {"c", "vc"}}));
  EXPECT_EQ(ScanAll(storage_, "d", ""), (KVs{{"d", "vd"}, {"e", "ve"}}));
  EXPECT_TRUE(ScanAll(storage_, "f", "").empty());
  EXPECT_TRUE(ScanAll(storage_, "c", "c").empty());

  int calls = 0;
  ASSERT_OK(storage_->Scan("", "", [&](std::string_view, std::string_view) { return ++calls < 3; }));
  EXPECT_EQ(calls, 3);
}

TEST_P(StorageTest, PartitionRangesAreContiguousAndDisjoint) {
  const std::vector<uint32_t> partitions = {0, 1, 2, 255, 256, 65535, 65536, 1u << 20, UINT32_MAX};
  const std::vector<std::string> buckets = {"", "b", std::string("\0", 1), "\xff\xff"};
  const std::vector<std::string> keys = {"", "k", std::string("\xff\x00", 2), "zz"};
  WriteBatch batch;
  for (uint32_t p : partitions) {
    for (const auto& b : buckets) {
      for (const auto& k : keys) batch.Put(ObjectKey(p, b, k), std::to_string(p));
    }
  }
  batch.Put(MetaKey(kMetaIncarnation), "inc");
  batch.Put(HintKey("node1", 7, "b", "k"), "hint");
  ASSERT_OK(storage_->Write(batch, false));

  size_t total = 0;
  for (uint32_t p : partitions) {
    KVs got = ScanAll(storage_, PartitionStart(p), PartitionEnd(p));
    EXPECT_EQ(got.size(), buckets.size() * keys.size()) << p;
    for (const auto& [k, v] : got) {
      uint32_t parsed = 0;
      ASSERT_OK(ParseObjectKey(k, &parsed, nullptr, nullptr));
      EXPECT_EQ(parsed, p);
      EXPECT_EQ(v, std::to_string(p));
    }
    total += got.size();
  }
  EXPECT_EQ(total, ScanAll(storage_, PartitionStart(0), PartitionEnd(UINT32_MAX)).size());
  EXPECT_EQ(ScanAll(storage_, "h", "i").size(), 1u);
  EXPECT_EQ(ScanAll(storage_, "m", "n").size(), 1u);
}

TEST_P(StorageTest, IteratorStaysInsideItsRange) {
  for (const char* k : {"a", "b", "b\x01", "b\xff", "c", "d"}) {
    ASSERT_OK(Put(storage_, k, std::string("v") + k));
  }
  std::unique_ptr<Iterator> it = NewRangeIterator(storage_, "b", "d");
  EXPECT_FALSE(it->Valid());  // not positioned before a seek
  it->SeekToFirst();
  EXPECT_EQ(Rest(it.get()), (KVs{{"b", "vb"}, {"b\x01", "vb\x01"}, {"b\xff", "vb\xff"}, {"c", "vc"}}));
  EXPECT_FALSE(it->Valid());
  ASSERT_OK(it->status());  // the end of the range is not an error

  it->Seek("a");  // before the range: its first key
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Seek("b\x02");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b\xff");
  it->Seek("d");  // the end bound is exclusive
  EXPECT_FALSE(it->Valid());
  ASSERT_OK(it->status());
  it->Seek("c");  // seeking back after the end repositions
  EXPECT_EQ(Rest(it.get()), (KVs{{"c", "vc"}}));

  std::unique_ptr<Iterator> open_ended = NewRangeIterator(storage_, "c", "");
  open_ended->SeekToFirst();
  EXPECT_EQ(Rest(open_ended.get()), (KVs{{"c", "vc"}, {"d", "vd"}}));

  for (auto [begin, end] : {std::pair{"c", "c"}, std::pair{"d", "b"}, std::pair{"e", ""}}) {
    std::unique_ptr<Iterator> empty = NewRangeIterator(storage_, begin, end);
    empty->SeekToFirst();
    EXPECT_FALSE(empty->Valid()) << begin << ".." << end;
    empty->Seek("a");
    EXPECT_FALSE(empty->Valid()) << begin << ".." << end;
    ASSERT_OK(empty->status());
  }
}

// A transfer checkpoint is the last key sent; its successor key + '\0' is
// where the next step starts, even when that successor is itself a key.
TEST_P(StorageTest, SeekingToTheSuccessorResumesAfterAKey) {
  const std::string keys[] = {"k", std::string("k\0", 2), "k\x01", "ka"};
  for (const std::string& k : keys) ASSERT_OK(Put(storage_, k, "v"));
  std::unique_ptr<Iterator> it = NewRangeIterator(storage_, "", "");
  for (size_t i = 0; i < std::size(keys); ++i) {
    it->Seek(keys[i] + '\0');
    if (i + 1 == std::size(keys)) {
      EXPECT_FALSE(it->Valid());
    } else {
      ASSERT_TRUE(it->Valid()) << i;
      EXPECT_EQ(it->key(), keys[i + 1]) << i;
    }
  }
}

TEST_P(StorageTest, SnapshotSeesNeitherLaterWritesNorDeletes) {
  ASSERT_OK(Put(storage_, "a", "1"));
  ASSERT_OK(Put(storage_, "b", "1"));
  ASSERT_OK(Put(storage_, "c", "1"));
  std::string v;
  for (const char* k : {"a", "b", "c", "d"}) (void)storage_->Get(k, &v);  // fills a cache
  std::unique_ptr<Snapshot> snap = storage_->GetSnapshot();

  WriteBatch later;
  later.Put("a", "2");
  later.Delete("b");
  later.Put("d", "1");
  ASSERT_OK(storage_->Write(later, false));
  ASSERT_OK(Put(storage_, "c", "2", /*sync=*/true));
  ASSERT_OK(storage_->Get("a", &v));
  EXPECT_EQ(v, "2");
  EXPECT_TRUE(storage_->Get("b", &v).IsNotFound());

  for (const char* k : {"a", "b", "c"}) {
    ASSERT_OK(storage_->GetAt(*snap, k, &v));
    EXPECT_EQ(v, "1") << k;
  }
  EXPECT_TRUE(storage_->GetAt(*snap, "d", &v).IsNotFound());
  std::unique_ptr<Iterator> it = NewRangeIterator(storage_, "", "", snap.get());
  it->SeekToFirst();
  EXPECT_EQ(Rest(it.get()), (KVs{{"a", "1"}, {"b", "1"}, {"c", "1"}}));
  ASSERT_OK(it->status());

  // Reading at the snapshot left nothing old in front of the latest values.
  ASSERT_OK(storage_->Get("a", &v));
  EXPECT_EQ(v, "2");
  EXPECT_TRUE(storage_->Get("b", &v).IsNotFound());
  EXPECT_EQ(ScanAll(storage_, "", ""), (KVs{{"a", "2"}, {"c", "2"}, {"d", "1"}}));
}

TEST_P(StorageTest, EachSnapshotKeepsItsOwnInstantUntilReleased) {
  ASSERT_OK(Put(storage_, "a", "1"));
  std::unique_ptr<Snapshot> s1 = storage_->GetSnapshot();
  ASSERT_OK(Put(storage_, "a", "2"));
  ASSERT_OK(Put(storage_, "b", "1"));
  std::unique_ptr<Snapshot> s2 = storage_->GetSnapshot();
  ASSERT_OK(Del(storage_, "a"));
  std::unique_ptr<Snapshot> s3 = storage_->GetSnapshot();
  ASSERT_OK(Put(storage_, "c", "1"));

  auto all_at = [&](const Snapshot* snap) {
    std::unique_ptr<Iterator> it = NewRangeIterator(storage_, "", "", snap);
    it->SeekToFirst();
    return Rest(it.get());
  };
  EXPECT_EQ(all_at(s1.get()), (KVs{{"a", "1"}}));
  EXPECT_EQ(all_at(s2.get()), (KVs{{"a", "2"}, {"b", "1"}}));
  EXPECT_EQ(all_at(s3.get()), (KVs{{"b", "1"}}));
  s2.reset();
  ASSERT_OK(Put(storage_, "a", "3"));
  EXPECT_EQ(all_at(s1.get()), (KVs{{"a", "1"}}));
  EXPECT_EQ(all_at(s3.get()), (KVs{{"b", "1"}}));
  EXPECT_EQ(all_at(nullptr), (KVs{{"a", "3"}, {"b", "1"}, {"c", "1"}}));
}

// Writes between Next() calls (the loop runs other work between a fold's
// steps) are invisible to an iterator taken without a snapshot, and do not
// invalidate the views it handed out.
TEST_P(StorageTest, IteratorWithoutSnapshotSeesTheStateAtItsCreation) {
  KVs before;
  for (int i = 0; i < 10; ++i) {
    before.emplace_back("k" + std::to_string(i), "old" + std::to_string(i));
    ASSERT_OK(Put(storage_, before.back().first, before.back().second));
  }
  std::unique_ptr<Iterator> it = NewRangeIterator(storage_, "", "");
  KVs seen;
  int step = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++step) {
    const std::string_view key = it->key(), value = it->value();
    WriteBatch b;
    b.Put(key, "new");
    b.Put("k" + std::to_string(step + 1), "new");
    b.Delete("k" + std::to_string(step + 2));
    b.Put(std::string(key) + "x", "added");
    ASSERT_OK(storage_->Write(b, step % 3 == 0));
    seen.emplace_back(key, value);
  }
  ASSERT_OK(it->status());
  EXPECT_EQ(seen, before);

  // Scan is such an iterator: its callback may write ahead of it.
  const size_t at_start = ScanAll(storage_, "k", "l").size();
  size_t calls = 0;
  ASSERT_OK(storage_->Scan("k", "l", [&](std::string_view key, std::string_view) {
    ++calls;
    EXPECT_TRUE(Put(storage_, std::string(key) + "y", "z").ok());
    return true;
  }));
  EXPECT_EQ(calls, at_start);
  EXPECT_EQ(ScanAll(storage_, "k", "l").size(), 2 * at_start);
}

TEST_P(StorageTest, SnapshotOfAnotherStorageIsRejected) {
  TestEngine other(GetParam());
  ASSERT_NE(other.get(), nullptr);
  ASSERT_OK(Put(other.get(), "a", "1"));
  ASSERT_OK(Put(storage_, "a", "1"));
  std::unique_ptr<Snapshot> foreign = other.get()->GetSnapshot();
  std::string v;
  EXPECT_TRUE(storage_->GetAt(*foreign, "a", &v).IsInvalidArgument());
  std::unique_ptr<Iterator> it = NewRangeIterator(storage_, "", "", foreign.get());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsInvalidArgument()) << it->status().ToString();
  it->Seek("a");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsInvalidArgument());
}

// Any interleaving of batches, snapshots, releases, iterators (on a
// snapshot or not, over any range) stepped between writes, and reads
// answers as a model that copies the whole map at each snapshot.
TEST_P(StorageTest, SnapshotsAndIteratorsMatchACopyingModel) {
  const EngineKind kind = GetParam();
  const bool ok = rc::check("snapshots and iterators match the model", [kind] {
    TestEngine engine(kind);
    Storage* storage = engine.get();
    RC_ASSERT(storage != nullptr);
    using Model = std::map<std::string, std::string>;
    struct LiveSnapshot {
      std::unique_ptr<Snapshot> snapshot;
      Model state;
    };
    struct LiveIterator {
      const Snapshot* snapshot;
      std::unique_ptr<Iterator> it;
      KVs expected;
      size_t next = 0;
    };
    Model latest;
    // Iterators after snapshots: destroyed first, as the contract requires.
    std::vector<LiveSnapshot> snapshots;
    std::vector<LiveIterator> iterators;
    const auto key_gen = rc::gen::map(rc::gen::inRange(0, 8),
                                      [](int i) { return std::string(1, static_cast<char>('a' + i)); });
    const int steps = *rc::gen::inRange(1, 80);
    for (int step = 0; step < steps; ++step) {
      switch (*rc::gen::inRange(0, 7)) {
        case 0:
        case 1: {  // a batch of puts and deletes
          WriteBatch b;
          const int ops = *rc::gen::inRange(1, 4);
          for (int i = 0; i < ops; ++i) {
            const std::string k = *key_gen;
            if (*rc::gen::inRange(0, 3) == 0) {
              b.Delete(k);
              latest.erase(k);
            } else {
              const std::string v = "v" + std::to_string(step) + "." + std::to_string(i);
              b.Put(k, v);
              latest[k] = v;
            }
          }
          RC_ASSERT(storage->Write(b, *rc::gen::inRange(0, 4) == 0).ok());
          break;
        }
        case 2:
          if (snapshots.size() < 3) snapshots.push_back({storage->GetSnapshot(), latest});
          break;
        case 3:
          if (!snapshots.empty()) {
            const size_t i = *rc::gen::inRange<size_t>(0, snapshots.size());
            const Snapshot* gone = snapshots[i].snapshot.get();
            std::erase_if(iterators, [gone](const LiveIterator& l) { return l.snapshot == gone; });
            snapshots.erase(snapshots.begin() + static_cast<ptrdiff_t>(i));
          }
          break;
        case 4: {  // a new iterator over a random range, at a snapshot or now
          const std::string begin = *rc::gen::element<std::string>("", "b", "d");
          const std::string end = *rc::gen::element<std::string>("", "c", "g");
          const Snapshot* snap = nullptr;
          const Model* state = &latest;
          if (!snapshots.empty() && *rc::gen::arbitrary<bool>()) {
            const LiveSnapshot& s = snapshots[*rc::gen::inRange<size_t>(0, snapshots.size())];
            snap = s.snapshot.get();
            state = &s.state;
          }
          LiveIterator l{snap, NewRangeIterator(storage, begin, end, snap), {}};
          for (const auto& [k, v] : *state) {
            if (k >= begin && (end.empty() || k < end)) l.expected.emplace_back(k, v);
          }
          l.it->SeekToFirst();
          iterators.push_back(std::move(l));
          break;
        }
        case 5:  // every iterator takes a step
          for (LiveIterator& l : iterators) {
            RC_ASSERT(l.it->status().ok());
            RC_ASSERT(l.it->Valid() == (l.next < l.expected.size()));
            if (!l.it->Valid()) continue;
            RC_ASSERT(std::string(l.it->key()) == l.expected[l.next].first);
            RC_ASSERT(std::string(l.it->value()) == l.expected[l.next].second);
            ++l.next;
            l.it->Next();
          }
          break;
        case 6: {  // reads, at each snapshot and of the latest
          const std::string k = *key_gen;
          std::string v;
          for (const LiveSnapshot& s : snapshots) {
            const Status st = storage->GetAt(*s.snapshot, k, &v);
            auto it = s.state.find(k);
            RC_ASSERT(st.ok() == (it != s.state.end()));
            if (st.ok()) RC_ASSERT(v == it->second);
          }
          const Status st = storage->Get(k, &v);
          auto it = latest.find(k);
          RC_ASSERT(st.ok() == (it != latest.end()));
          if (st.ok()) RC_ASSERT(v == it->second);
          break;
        }
      }
    }
    for (LiveIterator& l : iterators) {
      RC_ASSERT(Rest(l.it.get()) == KVs(l.expected.begin() + static_cast<ptrdiff_t>(l.next),
                                        l.expected.end()));
      RC_ASSERT(l.it->status().ok());
    }
  });
  EXPECT_TRUE(ok);
}

INSTANTIATE_TEST_SUITE_P(Engines, StorageTest, ::testing::ValuesIn(testing::kAllEngines),
                         testing::EngineName);

TEST(LevelDbStorageTest, ReopenKeepsData) {
  TempDir dir{"ringkv-storage"};
  const std::string path = dir.path() + "/db";
  {
    Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_OK(Put(s->get(), "synced", "1", true));
    ASSERT_OK(Put(s->get(), "unsynced", "2", false));
    ASSERT_OK(Put(s->get(), "deleted", "3", false));
    ASSERT_OK(Del(s->get(), "deleted"));
  }
  Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(ScanAll(s->get(), "", ""), (KVs{{"synced", "1"}, {"unsynced", "2"}}));
}

// --compression: tables written without compression and with it are both
// read back, whichever setting the database is reopened with.
TEST(LevelDbStorageTest, TablesOfEitherCompressionReadBack) {
  TempDir dir{"ringkv-storage"};
  const std::string path = dir.path() + "/db";
  const std::string value(1000, 'v');
  KVs expected;
  for (bool compression : {false, true, false}) {
    LevelDbOptions options;
    options.compression = compression;
    // A small memtable, so that the writes of each opening reach tables.
    options.write_buffer_bytes = 64 << 10;
    Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(ScanAll(s->get(), "", ""), expected);
    for (int i = 0; i < 300; ++i) {
      const std::string key = (compression ? "c" : "u") + std::to_string(expected.size());
      ASSERT_OK(Put(s->get(), key, value, false));
      expected.emplace_back(key, value);
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(ScanAll(s->get(), "", ""), expected);
  }
}

TEST(LevelDbStorageTest, OpenErrorsAreStatuses) {
  TempDir dir{"ringkv-storage"};
  LevelDbOptions no_create;
  no_create.create_if_missing = false;
  Result<std::unique_ptr<Storage>> missing = LevelDbStorage::Open(dir.path() + "/absent", no_create);
  EXPECT_FALSE(missing.ok());

  {
    Result<std::unique_ptr<Storage>> first = LevelDbStorage::Open(dir.path() + "/db");
    ASSERT_TRUE(first.ok());
    // A second handle on the same directory fails on LevelDB's lock file.
    Result<std::unique_ptr<Storage>> second = LevelDbStorage::Open(dir.path() + "/db");
    EXPECT_TRUE(second.status().IsIOError()) << second.status().ToString();
  }
  LevelDbOptions fresh;
  fresh.error_if_exists = true;
  EXPECT_FALSE(LevelDbStorage::Open(dir.path() + "/db", fresh).ok());
}

TEST(LevelDbStorageTest, OptionsAreHonoured) {
  TempDir dir{"ringkv-storage"};
  LevelDbOptions options;
  options.sync = true;
  options.paranoid_checks = true;
  options.block_cache_bytes = 1 << 20;
  Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(dir.path() + "/db", options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_OK(Put(s->get(), "k", "v"));
  std::string v;
  ASSERT_OK((*s)->Get("k", &v));
  EXPECT_EQ(v, "v");
}

// Lines of /proc/self/maps naming a file under `dir`.
std::vector<std::string> MappingsUnder(const std::string& dir) {
  std::vector<std::string> found;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find(dir) != std::string::npos) found.push_back(line);
  }
  return found;
}

// Table files (not only the log and memtable) read back byte for byte
// after a reopen, through the pread Env: nothing of the database is mapped.
TEST(LevelDbStorageTest, TablesReadBackAfterReopenWithoutMapping) {
  TempDir dir{"ringkv-storage"};
  const std::string path = dir.path() + "/db";
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;  // several flushes, hence several tables
  options.block_cache_bytes = 1;          // so reads reach the files
  KVs written;
  for (int i = 0; i < 4000; ++i) {
    std::string value(100 + i % 300, '\0');
    for (size_t j = 0; j < value.size(); ++j) value[j] = static_cast<char>((i * 31 + j) & 0xff);
    written.emplace_back(ObjectKey(static_cast<uint32_t>(i % 64), "b", "k" + std::to_string(i)),
                         std::move(value));
  }
  std::sort(written.begin(), written.end());
  {
    Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (const auto& [k, v] : written) ASSERT_OK(Put(s->get(), k, v));
  }
  int tables = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".ldb") ++tables;
  }
  EXPECT_GE(tables, 2);

  Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path, options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (const auto& [k, v] : written) {
    std::string got;
    ASSERT_OK((*s)->Get(k, &got));
    ASSERT_EQ(got, v) << k;
  }
  EXPECT_EQ(ScanAll(s->get(), "", ""), written);
  EXPECT_EQ(MappingsUnder(path), std::vector<std::string>{});
}

// A snapshot's values outlive the memtable that held them: overwritten many
// times over, flushed into tables and compacted, they are still what the
// snapshot reads, while the latest reads see the overwrites.
TEST(LevelDbStorageTest, SnapshotKeepsItsValuesThroughFlushesAndCompactions) {
  TempDir dir{"ringkv-storage"};
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;
  Result<std::unique_ptr<Storage>> opened = LevelDbStorage::Open(dir.path() + "/db", options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Storage* s = opened->get();
  KVs old;
  for (int i = 0; i < 500; ++i) {
    old.emplace_back("key" + std::to_string(1000 + i), "old" + std::to_string(i));
    ASSERT_OK(Put(s, old.back().first, old.back().second));
  }
  std::unique_ptr<Snapshot> snap = s->GetSnapshot();
  for (int round = 0; round < 8; ++round) {
    for (size_t i = 0; i < old.size(); ++i) {
      if (round == 7 && i % 3 == 0) {
        ASSERT_OK(Del(s, old[i].first));
      } else {
        ASSERT_OK(Put(s, old[i].first, std::string(1000, static_cast<char>('a' + round))));
      }
    }
  }
  int tables = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/db")) {
    if (entry.path().extension() == ".ldb") ++tables;
  }
  EXPECT_GE(tables, 2);

  std::unique_ptr<Iterator> it = NewRangeIterator(s, "", "", snap.get());
  it->SeekToFirst();
  EXPECT_EQ(Rest(it.get()), old);
  ASSERT_OK(it->status());
  std::string v;
  for (const auto& [k, value] : old) {
    ASSERT_OK(s->GetAt(*snap, k, &v));
    ASSERT_EQ(v, value);
  }
  EXPECT_EQ(ScanAll(s, "", "").size(), old.size() - (old.size() + 2) / 3);
}

// Flips a byte inside the first data block of every table under `path`.
void DamageTables(const std::string& path) {
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() != ".ldb") continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(64);
    char c = 0;
    f.read(&c, 1);
    f.seekp(64);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
}

// LevelDB's iterator errors reach the caller as a Status, and stop the
// iteration where LevelDB's own iterator would carry on past the damaged
// block.
TEST(LevelDbStorageTest, IteratorErrorsAreStatuses) {
  TempDir dir{"ringkv-storage"};
  const std::string path = dir.path() + "/db";
  LevelDbOptions options;
  options.write_buffer_bytes = 64 << 10;
  options.block_cache_bytes = 1;
  options.paranoid_checks = true;  // reads verify block checksums
  std::vector<std::string> keys;
  {
    Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int i = 0; i < 2000; ++i) {
      keys.push_back("key" + std::to_string(10000 + i));
      ASSERT_OK(Put(s->get(), keys.back(), std::string(200, 'v')));
    }
  }
  DamageTables(path);
  Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(path, options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();

  // The iteration stops at the damage: what it yielded is a prefix of the
  // keys, with none skipped.
  std::unique_ptr<Iterator> it = NewRangeIterator(s->get(), "", "");
  std::vector<std::string> seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace_back(it->key());
  ASSERT_LT(seen.size(), keys.size());
  EXPECT_EQ(seen, std::vector<std::string>(keys.begin(), keys.begin() + seen.size()));
  EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString();
  it->SeekToFirst();  // the error is final
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption());
  EXPECT_TRUE((*s)->Scan("", "", [](std::string_view, std::string_view) { return true; })
                  .IsCorruption());
}

TEST(MemoryStorageTest, DropUnsyncedDropsOnlyUnsyncedWrites) {
  MemoryStorage s;
  ASSERT_OK(Put(&s, "a", "1"));          // made durable by the synced write below
  ASSERT_OK(Put(&s, "b", "1", true));
  ASSERT_OK(Put(&s, "a", "2"));          // lost
  ASSERT_OK(Del(&s, "b"));               // lost
  ASSERT_OK(Put(&s, "c", "1"));          // lost
  EXPECT_EQ(s.unsynced_batches(), 3u);
  EXPECT_EQ(ScanAll(&s, "", ""), (KVs{{"a", "2"}, {"c", "1"}}));
  s.DropUnsynced();
  EXPECT_EQ(ScanAll(&s, "", ""), (KVs{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(s.unsynced_batches(), 0u);
  // A second crash with nothing new changes nothing.
  s.DropUnsynced();
  EXPECT_EQ(ScanAll(&s, "", ""), (KVs{{"a", "1"}, {"b", "1"}}));
}

TEST(MemoryStorageTest, SyncedDeleteSurvivesCrash) {
  MemoryStorage s;
  ASSERT_OK(Put(&s, "a", "1", true));
  WriteBatch b;
  b.Delete("a");
  b.Put("z", "9");
  ASSERT_OK(s.Write(b, true));
  s.DropUnsynced();
  EXPECT_EQ(ScanAll(&s, "", ""), (KVs{{"z", "9"}}));
}

TEST(MemoryStorageTest, WriteErrorChangesNothing) {
  MemoryStorage s;
  ASSERT_OK(Put(&s, "a", "1"));
  s.SetWriteError(Status::IOError("disk full"));
  EXPECT_TRUE(Put(&s, "b", "1", true).IsIOError());
  EXPECT_EQ(ScanAll(&s, "", ""), (KVs{{"a", "1"}}));
  s.SetWriteError(Status::OK());
  ASSERT_OK(Put(&s, "b", "1"));
  EXPECT_EQ(s.size(), 2u);
}


// Snapshots and iterators cost a copy of the map only when a write finds
// one of them still sharing it, and nothing once they are gone.
TEST(MemoryStorageTest, WritesCopyTheMapOnlyWhileAViewSharesIt) {
  MemoryStorage s;
  ASSERT_OK(Put(&s, "a", "1"));
  EXPECT_EQ(s.snapshot_copies(), 0u);
  std::unique_ptr<Snapshot> snap = s.GetSnapshot();
  ASSERT_OK(Put(&s, "a", "2"));
  ASSERT_OK(Put(&s, "b", "2"));
  EXPECT_EQ(s.snapshot_copies(), 1u);
  snap.reset();
  ASSERT_OK(Put(&s, "a", "3"));
  EXPECT_EQ(s.snapshot_copies(), 1u);
  {
    std::unique_ptr<Iterator> it = s.NewIterator({});
    ASSERT_OK(Put(&s, "a", "4"));
    EXPECT_EQ(s.snapshot_copies(), 2u);
  }
  ASSERT_OK(Put(&s, "a", "5"));
  s.SetWriteError(Status::IOError("disk full"));
  snap = s.GetSnapshot();
  EXPECT_TRUE(Put(&s, "a", "6").IsIOError());
  EXPECT_EQ(s.snapshot_copies(), 2u);
}

// A view taken before a simulated crash keeps what it saw: it neither
// dangles nor sees the rollback.
TEST(MemoryStorageTest, ViewsKeepWhatTheySawAcrossACrash) {
  MemoryStorage s;
  ASSERT_OK(Put(&s, "a", "1", /*sync=*/true));
  ASSERT_OK(Put(&s, "b", "1"));
  std::unique_ptr<Snapshot> snap = s.GetSnapshot();
  std::unique_ptr<Iterator> it = s.NewIterator({});
  it->SeekToFirst();
  s.DropUnsynced();
  EXPECT_EQ(ScanAll(&s, "", ""), (KVs{{"a", "1"}}));
  std::string v;
  ASSERT_OK(s.GetAt(*snap, "b", &v));
  EXPECT_EQ(v, "1");
  EXPECT_EQ(Rest(it.get()), (KVs{{"a", "1"}, {"b", "1"}}));
}

}  // namespace
}  // namespace ringkv
