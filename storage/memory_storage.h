// MemoryStorage: an in-memory Storage (std::map) for tests and the simulator,
// with the faults a disk can show.
//
// It remembers which writes are durable: a synced Write makes itself and
// every earlier write durable (as LevelDB's log does), and DropUnsynced()
// simulates a machine crash by discarding the rest, like LevelDB's
// db/fault_injection_test.cc. SetWriteError() simulates a full or failing
// disk. Not thread-safe, like every Storage.
//
// Snapshots and iterators are copy-on-write: they share the current map,
// and the first write while it is shared copies it (O(keys), about half a
// microsecond a key), after which they keep the old map alone. Taking one
// costs O(1); a write that finds nothing shared copies nothing. The copy
// keeps the engine simple and the views exact, and the simulator's data
// sets are small. snapshot_copies() counts the copies.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"

namespace ringkv {

class MemoryStorage : public Storage {
 public:
  MemoryStorage();

  Status Get(std::string_view key, std::string* value) override;
  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override;
  Status Write(const WriteBatch& batch, bool sync) override;
  std::unique_ptr<Snapshot> GetSnapshot() override;
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override;

  // Crash: forgets every write not followed by a synced write. Snapshots
  // and iterators taken before keep what they saw.
  void DropUnsynced();
  // Every later Write fails with `error` and changes nothing, until called
  // again with Status::OK().
  void SetWriteError(Status error) { write_error_ = std::move(error); }

  size_t size() const { return live_->size(); }
  size_t unsynced_batches() const { return unsynced_.size(); }
  // Writes that copied the map because a snapshot or iterator shared it.
  uint64_t snapshot_copies() const { return snapshot_copies_; }

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  class SnapshotImpl;
  class IteratorImpl;

  static void Apply(const WriteBatch& batch, Map* map);
  // live_, for a write: copied first if a snapshot or iterator shares it,
  // so that none of them sees the change.
  Map* MutableLive();

  std::shared_ptr<Map> live_;         // what reads see; shared read-only with views
  Map synced_;                        // what survives DropUnsynced()
  std::vector<WriteBatch> unsynced_;  // applied to live_ but not synced_
  Status write_error_;
  uint64_t snapshot_copies_ = 0;
};

}  // namespace ringkv
