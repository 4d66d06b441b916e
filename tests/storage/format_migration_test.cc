// The migration from storage format 1 (objects keyed by partition, a
// separate anti-entropy index row each) to format 2 (objects keyed by
// partition and segment): a format-1 directory, written here the way the
// format-1 code wrote it, comes out with every object and hint under its
// new key, byte for byte, and no index; a crash (process or power) between
// any two of the migration's batches is finished by the next open with
// the same result; new and current directories are left alone.
#include "storage/format_migration.h"

#include <gtest/gtest.h>

#include <map>

#include "storage/keys.h"
#include "storage/meta.h"
#include "storage/record.h"
#include "tests/storage/storage_testing.h"

namespace ringkv {
namespace {

using testing::EngineKind;
using testing::KVs;
using testing::TestEngine;

// Format 1's keys, as the format-1 code wrote them (docs/storage-format.md
// keeps the grammar).
std::string V1Varint(uint32_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

std::string Be32(uint32_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  return out;
}

std::string V1ObjectKey(uint32_t p, const std::string& bucket, const std::string& key) {
  return "o" + Be32(p) + V1Varint(static_cast<uint32_t>(bucket.size())) + bucket + key;
}

std::string V1HintKey(const std::string& target, uint32_t p, const std::string& bucket,
                      const std::string& key) {
  return "h" + std::string(1, static_cast<char>(target.size())) + target +
         V1ObjectKey(p, bucket, key);
}

std::string V1IndexKey(uint32_t p, const std::string& bucket, const std::string& key) {
  const uint32_t segment = KeySegment(bucket, key);
  return "ai" + Be32(p) + std::string{static_cast<char>(segment >> 8), static_cast<char>(segment)} +
         V1Varint(static_cast<uint32_t>(bucket.size())) + bucket + key;
}

struct Name {
  uint32_t partition;
  std::string bucket, key;
};

// What a format-1 directory held: objects, hints for two targets, their
// index rows, the gap flag, a saved tree and its marker, and one key in
// the object range that no format-1 code could parse (damage).
struct Fixture {
  std::vector<Name> objects;
  std::vector<std::pair<std::string, Name>> hints;
  std::string junk = "o" + Be32(3) + "\x80";

  Fixture() {
    const std::vector<std::string> buckets = {"", "b", std::string(1, '\xff'),
                                              std::string(200, 'x')};
    for (uint32_t p : {0u, 3u, 63u}) {
      for (const std::string& b : buckets) {
        for (int i = 0; i < 12; ++i) {
          objects.push_back({p, b, i == 0 ? std::string(1, '\0') : "k" + std::to_string(i)});
        }
      }
    }
    for (size_t i = 0; i < objects.size(); i += 5) {
      hints.emplace_back(i % 2 ? "n1" : "n10", objects[i]);
    }
  }

  static std::string Record(const Name& n, const std::string& tag) {
    return EncodeRecord(tag + std::to_string(n.partition) + n.bucket + "/" + n.key);
  }

  void WriteV1(Storage* s) const {
    WriteBatch batch;
    batch.Put(MetaKey(kMetaFormatVersion), std::string("\x01\x00\x00\x00", 4));
    batch.Put(MetaKey(kMetaIncarnation), std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8));
    for (const Name& n : objects) {
      batch.Put(V1ObjectKey(n.partition, n.bucket, n.key), Record(n, "object"));
      batch.Put(V1IndexKey(n.partition, n.bucket, n.key), "index row");
    }
    for (const auto& [target, n] : hints) {
      batch.Put(V1HintKey(target, n.partition, n.bucket, n.key), Record(n, "hint " + target));
    }
    batch.Put("ag", "");
    batch.Put(std::string("at") + Be32(3), "tree image");
    batch.Put("ac", "marker");
    batch.Put(junk, "junk");
    ASSERT_OK(s->Write(batch, /*sync=*/true));
  }

  // Everything a migrated directory must hold, and nothing else.
  KVs Migrated() const {
    std::map<std::string, std::string> want;
    want[MetaKey(kMetaFormatVersion)] = std::string("\x02\x00\x00\x00", 4);
    want[MetaKey(kMetaIncarnation)] = std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8);
    for (const Name& n : objects) {
      want[ObjectKey(n.partition, n.bucket, n.key)] = Record(n, "object");
    }
    for (const auto& [target, n] : hints) {
      want[HintKey(target, n.partition, n.bucket, n.key)] = Record(n, "hint " + target);
    }
    want[std::string("at") + Be32(3)] = "tree image";
    want["ac"] = "marker";
    want["l" + junk] = "junk";
    return KVs(want.begin(), want.end());
  }
};

KVs All(Storage* s) {
  KVs out;
  EXPECT_TRUE(s->Scan("", "", [&](std::string_view k, std::string_view v) {
                 out.emplace_back(k, v);
                 return true;
               }).ok());
  return out;
}

// Passes `allowed` writes through, then fails every later one, as a
// process killed between two batches would stop writing.
class CrashingStorage : public Storage {
 public:
  CrashingStorage(Storage* inner, size_t allowed) : inner_(inner), allowed_(allowed) {}
  Status Get(std::string_view key, std::string* value) override { return inner_->Get(key, value); }
  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override {
    return inner_->GetAt(snapshot, key, value);
  }
  Status Write(const WriteBatch& batch, bool sync) override {
    if (allowed_ == 0) return Status::IOError("killed");
    --allowed_;
    ++writes_;
    return inner_->Write(batch, sync);
  }
  std::unique_ptr<Snapshot> GetSnapshot() override { return inner_->GetSnapshot(); }
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override {
    return inner_->NewIterator(options);
  }
  size_t writes() const { return writes_; }

 private:
  Storage* inner_;
  size_t allowed_;
  size_t writes_ = 0;
};

class FormatMigrationTest : public ::testing::TestWithParam<EngineKind> {};

TEST_P(FormatMigrationTest, AFormat1DirectoryComesOutWithEveryRecordUnderItsNewKey) {
  TestEngine engine(GetParam());
  Fixture f;
  f.WriteV1(engine.get());
  std::vector<std::string> log;
  FormatMigrationOptions options;
  options.batch_keys = 16;
  options.progress_every = 100;
  options.info = [&](const std::string& line) { log.push_back(line); };
  ASSERT_OK(MigrateStorageFormat(engine.get(), options));
  EXPECT_EQ(All(engine.get()), f.Migrated());
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("done"), std::string::npos) << log.back();
  EXPECT_NE(log.back().find("1 keys that are no format-1 key"), std::string::npos) << log.back();
  Result<uint64_t> incarnation = InitMeta(engine.get(), 99);
  ASSERT_TRUE(incarnation.ok()) << incarnation.status().ToString();
  EXPECT_EQ(*incarnation, 7u);
  // Every object parses back, and the partition's range holds exactly its
  // objects in segment order.
  for (const Name& n : f.objects) {
    uint32_t p = 0, segment = 0;
    std::string bucket, key;
    ASSERT_OK(ParseObjectKey(ObjectKey(n.partition, n.bucket, n.key), &p, &segment, &bucket, &key));
    EXPECT_EQ(segment, KeySegment(n.bucket, n.key));
  }
  // A second open finds nothing to do.
  const size_t lines = log.size();
  ASSERT_OK(MigrateStorageFormat(engine.get(), options));
  EXPECT_EQ(log.size(), lines);
  EXPECT_EQ(All(engine.get()), f.Migrated());
}

TEST_P(FormatMigrationTest, NewAndCurrentDirectoriesAreLeftAlone) {
  TestEngine engine(GetParam());
  ASSERT_OK(MigrateStorageFormat(engine.get(), {}));
  EXPECT_TRUE(All(engine.get()).empty());
  ASSERT_TRUE(InitMeta(engine.get(), 5).ok());
  const KVs stamped = All(engine.get());
  ASSERT_OK(MigrateStorageFormat(engine.get(), {}));
  EXPECT_EQ(All(engine.get()), stamped);
}

INSTANTIATE_TEST_SUITE_P(Engines, FormatMigrationTest,
                         ::testing::Values(EngineKind::kLevelDb, EngineKind::kMemory),
                         testing::EngineName);

// A kill between any two batches, and a power loss too (the writes since
// the last synced one gone): the next open finishes the migration with the
// same result, every object exactly once under its new key.
TEST(FormatMigrationCrashTest, AnInterruptedMigrationIsFinishedByTheNextOpen) {
  Fixture f;
  FormatMigrationOptions options;
  options.batch_keys = 16;
  size_t total = 0;
  {
    MemoryStorage disk;
    f.WriteV1(&disk);
    CrashingStorage uninterrupted(&disk, SIZE_MAX);
    ASSERT_OK(MigrateStorageFormat(&uninterrupted, options));
    total = uninterrupted.writes();
  }
  ASSERT_GT(total, 10u);
  for (size_t allowed = 0; allowed < total; ++allowed) {
    for (bool power_loss : {false, true}) {
      MemoryStorage disk;
      f.WriteV1(&disk);
      CrashingStorage crashing(&disk, allowed);
      EXPECT_FALSE(MigrateStorageFormat(&crashing, options).ok()) << allowed;
      if (power_loss) disk.DropUnsynced();
      ASSERT_OK(MigrateStorageFormat(&disk, options));
      EXPECT_EQ(All(&disk), f.Migrated()) << "killed after " << allowed << " writes"
                                          << (power_loss ? ", power lost" : "");
    }
  }
}

}  // namespace
}  // namespace ringkv
