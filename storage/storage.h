// Storage: the ordered byte-string key-value engine under one node.
//
// Two engines: LevelDB (storage/leveldb_storage.h) and an in-memory map
// (storage/memory_storage.h) for tests and the simulator; CachedStorage
// (storage/cached_storage.h) sits above either. Keys sort as unsigned bytes
// (memcmp), so a key prefix is a contiguous range; see
// docs/storage-format.md for the layout. A WriteBatch is applied atomically:
// after a crash either all of it or none of it is visible, and a reader
// never sees half of one. Not thread-safe: one node's loop owns its storage.
//
// Besides the latest state, a storage serves point-in-time views, so that
// work spread over many loop turns (a tree rebuild, a partition transfer)
// sees one instant while writes go on:
//
// - A Snapshot names the state after every write so far. Reads (GetAt) and
//   iterators taken on it see exactly that state, whatever is written or
//   deleted later. It is released when destroyed.
// - An Iterator walks the keys of one range [begin, end) in order, as of a
//   snapshot, or, given none, as of the moment it was created (an implicit
//   snapshot of its own), so a walk never sees half of a later batch.
//
// Lifetimes: a Snapshot and an Iterator must not outlive the storage that
// made them, and a Snapshot must outlive the iterators reading at it.
// Both are meant to be held across loop turns; writes in between are
// allowed and do not disturb them.
#pragma once

#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ringkv {

class Storage;

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
  // Moves `other`'s operations after this batch's, in their order.
  void Append(WriteBatch&& other) {
    if (ops_.empty()) {
      ops_ = std::move(other.ops_);
    } else {
      ops_.insert(ops_.end(), std::make_move_iterator(other.ops_.begin()),
                  std::make_move_iterator(other.ops_.end()));
    }
    other.ops_.clear();
  }
  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

// A consistent point-in-time view of one engine, released on destruction.
// Engines derive from it; callers only hold it and pass it back.
class Snapshot {
 public:
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  virtual ~Snapshot() = default;

  // The engine that took it. A wrapper (CachedStorage) hands out its
  // engine's snapshots, so they are accepted by the wrapper and the engine
  // alike, and by no other storage.
  const Storage* engine() const { return engine_; }

 protected:
  explicit Snapshot(const Storage* engine) : engine_(engine) {}

 private:
  const Storage* engine_;
};

// A cursor over the keys of one range, in increasing (memcmp) order; LevelDB's
// leveldb::Iterator is the model. A new iterator is not positioned: call
// SeekToFirst or Seek first.
class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator() = default;

  // True when positioned at a key inside the range. False before the first
  // seek, after the last key, and after an error (see status()).
  virtual bool Valid() const = 0;
  // Positions at the first key of the range.
  virtual void SeekToFirst() = 0;
  // Positions at the first key of the range that is >= `target` (a target
  // before the range's begin seeks to its first key). To resume after a key
  // k already handled, seek to k + '\0', its immediate successor.
  virtual void Seek(std::string_view target) = 0;
  // Moves to the next key of the range. REQUIRES: Valid().
  virtual void Next() = 0;
  // The current entry. REQUIRES: Valid(). The views stay valid until the
  // iterator next moves or is destroyed; writes to the storage meanwhile do
  // not invalidate them.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // OK, or the error that stopped the iteration (IOError or Corruption from
  // the engine, InvalidArgument for a snapshot of another storage). An error
  // is final: Valid() stays false and later seeks do nothing. Reaching the
  // end of the range is not an error.
  virtual Status status() const = 0;
};

// An iterator that is never valid and reports `status` (not OK).
std::unique_ptr<Iterator> NewErrorIterator(Status status);

struct IteratorOptions {
  // The range [begin, end). An empty `end` means no upper bound.
  std::string begin;
  std::string end;
  // Read as of this snapshot, which must come from the same storage (or
  // the engine under it). Null: as of the iterator's creation.
  const Snapshot* snapshot = nullptr;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Reads the latest `key` into `*value`. NotFound when absent;
  // IOError/Corruption on engine failure.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  // Reads `key` as `snapshot` saw it: NotFound when it was absent then,
  // even if it was written since. InvalidArgument when `snapshot` comes
  // from another storage; IOError/Corruption on engine failure.
  virtual Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) = 0;
  // Applies `batch` atomically. With `sync`, returns only after the data is
  // durable (fsync); without it, a machine crash may lose the last writes but
  // a process crash does not.
  virtual Status Write(const WriteBatch& batch, bool sync) = 0;
  // Takes a snapshot of the state after every write so far. Never null.
  virtual std::unique_ptr<Snapshot> GetSnapshot() = 0;
  // An iterator over `options`' range. Never null: failures are reported by
  // the iterator's status().
  virtual std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) = 0;

  // Calls `fn(key, value)` for each key in [start, end) in order, until `fn`
  // returns false; an empty `end` means no upper bound. A helper over
  // NewIterator with no snapshot, so it sees the state when it began even
  // if `fn` writes. Returns the iterator's status. Inline so that code
  // holding a Storage (the simulator's disk) needs no engine to link.
  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) {
    IteratorOptions options;
    options.begin = start;
    options.end = end;
    std::unique_ptr<Iterator> it = NewIterator(options);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!fn(it->key(), it->value())) break;
    }
    return it->status();
  }
};

}  // namespace ringkv
