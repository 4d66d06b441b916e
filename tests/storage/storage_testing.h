// Helpers for the storage tests: the storages a conformance test runs
// against (each engine alone and each under the record cache, which must
// answer exactly as its engine does), and one-line writes.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "storage/cached_storage.h"
#include "storage/leveldb_storage.h"
#include "storage/memory_storage.h"
#include "storage/storage.h"
#include "tests/storage/temp_dir.h"

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const ::ringkv::Status _s = (expr);                     \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

namespace ringkv::testing {

using KVs = std::vector<std::pair<std::string, std::string>>;

inline Status Put(Storage* s, std::string_view k, std::string_view v, bool sync = false) {
  WriteBatch b;
  b.Put(k, v);
  return s->Write(b, sync);
}

inline Status Del(Storage* s, std::string_view k) {
  WriteBatch b;
  b.Delete(k);
  return s->Write(b, false);
}

// Every entry from the iterator's current position to the end of its range.
inline KVs Rest(Iterator* it) {
  KVs out;
  for (; it->Valid(); it->Next()) out.emplace_back(it->key(), it->value());
  return out;
}

enum class EngineKind { kLevelDb, kMemory, kCachedLevelDb, kCachedMemory };

inline constexpr EngineKind kAllEngines[] = {EngineKind::kLevelDb, EngineKind::kMemory,
                                             EngineKind::kCachedLevelDb,
                                             EngineKind::kCachedMemory};

inline std::string EngineName(const ::testing::TestParamInfo<EngineKind>& info) {
  switch (info.param) {
    case EngineKind::kLevelDb:
      return "LevelDb";
    case EngineKind::kMemory:
      return "Memory";
    case EngineKind::kCachedLevelDb:
      return "CachedLevelDb";
    case EngineKind::kCachedMemory:
      return "CachedMemory";
  }
  return "Unknown";
}

// One fresh storage of a kind; the LevelDB ones live in their own
// temporary directory, removed with it.
class TestEngine {
 public:
  explicit TestEngine(EngineKind kind) {
    if (kind == EngineKind::kMemory || kind == EngineKind::kCachedMemory) {
      engine_ = std::make_unique<MemoryStorage>();
    } else {
      Result<std::unique_ptr<Storage>> s = LevelDbStorage::Open(dir_.path() + "/db");
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (s.ok()) engine_ = std::move(s).value();
    }
    // Large enough that every value a test writes is cached, so a cache that
    // answered for a snapshot would be caught.
    if (engine_ && (kind == EngineKind::kCachedLevelDb || kind == EngineKind::kCachedMemory)) {
      cache_ = std::make_unique<CachedStorage>(engine_.get(), 1 << 20, &metrics_);
    }
  }

  // Null when the engine could not be opened (the test has then failed).
  Storage* get() const { return cache_ ? cache_.get() : engine_.get(); }

 private:
  TempDir dir_{"ringkv-storage"};
  MetricsRegistry metrics_;
  std::unique_ptr<Storage> engine_;
  std::unique_ptr<CachedStorage> cache_;  // declared last: destroyed first
};

}  // namespace ringkv::testing
