// Partition fold: every object of one partition as of one instant, read in
// steps while writes go on. The anti-entropy tree rebuild and partition
// transfers are built on it.
//
// A partition's objects are the key range [PartitionStart(p),
// PartitionEnd(p)) (docs/storage-format.md), so the fold is a ranged
// Iterator on a Snapshot that parses each key back into (bucket, key).
// Objects come in storage key order, which depends only on their names,
// so a position is just the last object handled: resuming after it
// (SeekAfter, or FoldPartition's `after`) continues exactly where a step,
// or an interrupted transfer, stopped. Not thread-safe; the Storage's
// thread rule applies.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

// An object's name inside its partition: a fold's resume point.
struct ObjectName {
  std::string bucket;
  std::string key;
};

class PartitionIterator {
 public:
  // Partition `partition`'s objects in `storage`, as `snapshot` saw them;
  // null: as of now. Not positioned until a seek. `storage` and `snapshot`
  // must outlive the iterator.
  PartitionIterator(Storage* storage, const Snapshot* snapshot, uint32_t partition);

  // Positions at the partition's first object.
  void SeekToFirst();
  // Positions at the first object after (bucket, key), whether or not that
  // object exists.
  void SeekAfter(std::string_view bucket, std::string_view key);
  // True when positioned at an object; false past the last one or after
  // an error.
  bool Valid() const { return valid_; }
  // REQUIRES: Valid().
  void Next();

  // The current object. REQUIRES: Valid(). Valid until the iterator moves.
  const std::string& bucket() const { return bucket_; }
  const std::string& key() const { return key_; }
  // The stored value, an object record (storage/record.h), not decoded.
  std::string_view record() const { return it_->value(); }

  // OK, or the error that stopped the fold: the engine's, or Corruption
  // for a key in the partition's range that is not an object key. Final,
  // like Iterator::status().
  Status status() const { return status_; }

 private:
  void Settle();

  uint32_t partition_;
  std::unique_ptr<Iterator> it_;
  bool valid_ = false;
  std::string bucket_, key_;
  Status status_;
};

// Calls `fn(bucket, key, record)` for each object of `partition` as
// `snapshot` saw it, in storage key order, until `fn` returns false: from
// the first object, or from the first after `after`. `fn` may write to
// `storage`; the fold does not see those writes. The views passed to `fn`
// are valid during the call. Returns the iteration's status.
Status FoldPartition(
    Storage* storage, const Snapshot& snapshot, uint32_t partition,
    const std::optional<ObjectName>& after,
    const std::function<bool(std::string_view bucket, std::string_view key,
                             std::string_view record)>& fn);

}  // namespace ringkv
