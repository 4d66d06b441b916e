// Storage: the ordered byte-string key-value engine under one node.
//
// Two engines: LevelDB (storage/leveldb_storage.h) and an in-memory map
// (storage/memory_storage.h) for tests and the simulator. Keys sort as
// unsigned bytes (memcmp), so a key prefix is a contiguous range; see
// docs/storage-format.md for the layout. A WriteBatch is applied atomically:
// after a crash either all of it or none of it is visible. Not thread-safe:
// one node's loop owns its storage.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ringkv {

class WriteBatch {
 public:
  struct Op {
    bool is_delete = false;
    std::string key, value;
  };
  void Put(std::string_view key, std::string_view value) {
    ops_.push_back({false, std::string(key), std::string(value)});
  }
  void Delete(std::string_view key) { ops_.push_back({true, std::string(key), {}}); }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Reads `key` into `*value`. NotFound when absent; IOError/Corruption on
  // engine failure.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  // Applies `batch` atomically. With `sync`, returns only after the data is
  // durable (fsync); without it, a machine crash may lose the last writes but
  // a process crash does not.
  virtual Status Write(const WriteBatch& batch, bool sync) = 0;
  // Calls `fn(key, value)` for each key in [start, end) in order, until `fn`
  // returns false. An empty `end` means no upper bound.
  virtual Status Scan(std::string_view start, std::string_view end,
                      const std::function<bool(std::string_view, std::string_view)>& fn) = 0;
};

}  // namespace ringkv
