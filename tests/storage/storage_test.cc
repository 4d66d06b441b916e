// The Storage contract, run against both engines (LevelDB and in-memory),
// plus the engine-specific behaviour: LevelDB reopen and table reads,
// MemoryStorage crash simulation and write errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/keys.h"
#include "storage/leveldb_storage.h"
#include "storage/memory_storage.h"
#include "storage/storage.h"
#include "tests/storage/temp_dir.h"

namespace ringkv {
namespace {

#define ASSERT_OK(expr)                                  \
  do {                                                   \
    const ::ringkv::Status _s = (expr);                  \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

using KVs = std::vector<std::pair<std::string, std::string>>;

using testing::TempDir;

KVs ScanAll(Storage* s, std::string_view start, std::string_view end) {
  KVs out;
  Status st = s->Scan(start, end, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

Status Put(Storage* s, std::string_view k, std::string_view v, bool sync = false) {
  WriteBatch b;
  b.Put(k, v);
  return s->Write(b, sync);
}

Status Del(Storage* s, std::string_view k) {
  WriteBatch b;
  b.Delete(k);
  return s->Write(b, false);
}

enum class Engine { kLevelDb, kMemory };

class StorageTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    if (GetParam() == Engine::kMemory) {
      storage_ = std::make_unique<MemoryStorage>();
      return;
    }
    Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(dir_.path() + "/db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(s).value();
  }

  TempDir dir_{"ringkv-storage"};
  std::unique_ptr<Storage> storage_;
};

TEST_P(StorageTest, PutGetDelete) {
  std::string v;
  EXPECT_TRUE(storage_->Get("k", &v).IsNotFound());
  ASSERT_OK(Put(storage_.get(), "k", "v1"));
  ASSERT_OK(storage_->Get("k", &v));
  EXPECT_EQ(v, "v1");
  ASSERT_OK(Put(storage_.get(), "k", "v2", /*sync=*/true));
  ASSERT_OK(storage_->Get("k", &v));
  EXPECT_EQ(v, "v2");
  ASSERT_OK(Del(storage_.get(), "k"));
  EXPECT_TRUE(storage_->Get("k", &v).IsNotFound());
  ASSERT_OK(Del(storage_.get(), "never-there"));
}

TEST_P(StorageTest, BinaryKeysAndValues) {
  const std::string key("a\0b\xff", 4);
  const std::string value("\0\x01\x02\xff\0", 5);
  ASSERT_OK(Put(storage_.get(), key, value));
  std::string v;
  ASSERT_OK(storage_->Get(key, &v));
  EXPECT_EQ(v, value);
  EXPECT_TRUE(storage_->Get(std::string("a\0b", 3), &v).IsNotFound());
}

TEST_P(StorageTest, BatchAppliesInOrderAsOneUnit) {
  ASSERT_OK(Put(storage_.get(), "gone", "x"));
  WriteBatch b;
  b.Put("a", "1");
  b.Put("b", "2");
  b.Delete("gone");
  b.Put("a", "3");  // later op in the batch wins
  b.Delete("b");
  b.Put("c", "4");
  ASSERT_OK(storage_->Write(b, true));
  EXPECT_EQ(ScanAll(storage_.get(), "", ""), (KVs{{"a", "3"}, {"c", "4"}}));
  ASSERT_OK(storage_->Write(WriteBatch(), false));
}

TEST_P(StorageTest, ScanRangesInOrder) {
  for (const char* k : {"d", "b", "a", "c", "e", "b\xff", "b\x01"}) {
    ASSERT_OK(Put(storage_.get(), k, std::string("v") + k));
  }
  KVs all = ScanAll(storage_.get(), "", "");
  ASSERT_EQ(all.size(), 7u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].first, all[i].first);
  // Unsigned byte order: 0xff sorts after every other byte.
  EXPECT_EQ(ScanAll(storage_.get(), "b", "c"),
            (KVs{{"b", "vb"}, {"b\x01", "vb\x01"}, {"b\xff", "vb\xff"}}));
  EXPECT_EQ(ScanAll(storage_.get(), "bb", "d"), (KVs{{"b\xff", "vb\xff"}, {"c", "vc"}}));
  EXPECT_EQ(ScanAll(storage_.get(), "d", ""), (KVs{{"d", "vd"}, {"e", "ve"}}));
  EXPECT_TRUE(ScanAll(storage_.get(), "f", "").empty());
  EXPECT_TRUE(ScanAll(storage_.get(), "c", "c").empty());

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
    KVs got = ScanAll(storage_.get(), PartitionStart(p), PartitionEnd(p));
    EXPECT_EQ(got.size(), buckets.size() * keys.size()) << p;
    for (const auto& [k, v] : got) {
      uint32_t parsed = 0;
      ASSERT_OK(ParseObjectKey(k, &parsed, nullptr, nullptr));
      EXPECT_EQ(parsed, p);
      EXPECT_EQ(v, std::to_string(p));
    }
    total += got.size();
  }
  EXPECT_EQ(total, ScanAll(storage_.get(), PartitionStart(0), PartitionEnd(UINT32_MAX)).size());
  EXPECT_EQ(ScanAll(storage_.get(), "h", "i").size(), 1u);
  EXPECT_EQ(ScanAll(storage_.get(), "m", "n").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, StorageTest,
                         ::testing::Values(Engine::kLevelDb, Engine::kMemory),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kLevelDb ? "LevelDb" : "Memory";
                         });

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

}  // namespace
}  // namespace ringkv
