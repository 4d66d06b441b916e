// MemoryStorage: an in-memory Storage (std::map) for tests and the simulator,
// with the faults a disk can show.
//
// It remembers which writes are durable: a synced Write makes itself and
// every earlier write durable (as LevelDB's log does), and DropUnsynced()
// simulates a machine crash by discarding the rest, like LevelDB's
// db/fault_injection_test.cc. SetWriteError() simulates a full or failing
// disk. Not thread-safe, like every Storage.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage.h"

namespace ringkv {

class MemoryStorage : public Storage {
 public:
  Status Get(std::string_view key, std::string* value) override;
  Status Write(const WriteBatch& batch, bool sync) override;
  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override;

  // Crash: forgets every write not followed by a synced write.
  void DropUnsynced();
  // Every later Write fails with `error` and changes nothing, until called
  // again with Status::OK().
  void SetWriteError(Status error) { write_error_ = std::move(error); }

  size_t size() const { return live_.size(); }
  size_t unsynced_batches() const { return unsynced_.size(); }

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  static void Apply(const WriteBatch& batch, Map* map);

  Map live_;                          // what reads see
  Map synced_;                        // what survives DropUnsynced()
  std::vector<WriteBatch> unsynced_;  // applied to live_ but not synced_
  Status write_error_;
};

}  // namespace ringkv
