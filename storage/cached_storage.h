// CachedStorage: a Storage that keeps the most recently used records of the
// engine under it in memory, so the read a put does before merging, and
// the reads of hot keys, skip the engine's memtable and table lookups.
//
// Write-through: a write reaches the engine first, and only a successful
// write updates the cache; a failed one evicts its keys, since the engine's
// state is then unknown. Absent keys are cached too (a first write of a key
// reads it first). Values larger than 1/16 of the capacity are never
// cached, so one large object cannot flush the rest. Hits, misses,
// evictions and the bytes held are ringkv_record_cache_* metrics
// (docs/metrics.md).
//
// Only keys that start with the given prefix are cached (the node: object
// records); the rest (hints, meta, saved trees) pass straight through.
//
// Snapshots, reads at a snapshot and iterators go straight to the engine,
// and the snapshots handed out are the engine's: the cache holds only the
// latest values, which a snapshot must not see, and a read at a snapshot
// does not fill it, so a later Get never sees the older value.
// Not thread-safe, like every Storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/metrics.h"
#include "storage/storage.h"

namespace ringkv {

class CachedStorage : public Storage {
 public:
  // `base` and `metrics` must outlive this. `capacity_bytes` counts keys,
  // values and a fixed per-entry overhead. Keys outside `cached_prefix`
  // ("" = every key) are never cached.
  CachedStorage(Storage* base, size_t capacity_bytes, MetricsRegistry* metrics,
                std::string cached_prefix = "");

  Status Get(std::string_view key, std::string* value) override;
  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override;
  Status Write(const WriteBatch& batch, bool sync) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override;

  uint64_t hits() const { return hits_->value(); }
  uint64_t misses() const { return misses_->value(); }
  size_t charged_bytes() const { return charged_; }

 private:
  struct Entry {
    std::string key;
    std::string value;
    bool present;
  };
  using List = std::list<Entry>;
  static size_t Charge(const Entry& e);
  void Insert(std::string_view key, std::string_view value, bool present);
  void Erase(std::string_view key);
  bool Cached(std::string_view key) const { return key.starts_with(prefix_); }

  Storage* base_;
  size_t capacity_;
  std::string prefix_;
  size_t charged_ = 0;
  Counter* hits_;
  Counter* misses_;
  Counter* evictions_;
  List lru_;  // most recent first
  std::unordered_map<std::string_view, List::iterator> index_;  // views into lru_ keys
  MetricsRegistry::CallbackHandle bytes_gauge_;
  MetricsRegistry::CallbackHandle entries_gauge_;
};

}  // namespace ringkv
