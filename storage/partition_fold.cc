#include "storage/partition_fold.h"

#include "storage/keys.h"

namespace ringkv {

PartitionIterator::PartitionIterator(Storage* storage, const Snapshot* snapshot,
                                     uint32_t partition)
    : partition_(partition) {
  IteratorOptions options;
  options.begin = PartitionStart(partition);
  options.end = PartitionEnd(partition);
  options.snapshot = snapshot;
  it_ = storage->NewIterator(options);
}

void PartitionIterator::SeekToFirst() {
  it_->SeekToFirst();
  Settle();
}

void PartitionIterator::SeekAfter(std::string_view bucket, std::string_view key) {
  // Object keys are unique and byte-ordered, so the key with a zero byte
  // appended is the smallest one after it.
  std::string successor = ObjectKey(partition_, bucket, key);
  successor.push_back('\0');
  it_->Seek(successor);
  Settle();
}

void PartitionIterator::Next() {
  it_->Next();
  Settle();
}

void PartitionIterator::Settle() {
  valid_ = false;
  if (!status_.ok()) return;
  if (!it_->Valid()) {
    status_ = it_->status();
    return;
  }
  Status st = ParseObjectKey(it_->key(), nullptr, &bucket_, &key_);
  if (!st.ok()) {
    status_ = Status::Corruption("partition " + std::to_string(partition_) + ": " + st.message());
    return;
  }
  valid_ = true;
}

Status FoldPartition(
    Storage* storage, const Snapshot& snapshot, uint32_t partition,
    const std::optional<ObjectName>& after,
    const std::function<bool(std::string_view bucket, std::string_view key,
                             std::string_view record)>& fn) {
  PartitionIterator it(storage, &snapshot, partition);
  if (after.has_value()) {
    it.SeekAfter(after->bucket, after->key);
  } else {
    it.SeekToFirst();
  }
  for (; it.Valid(); it.Next()) {
    if (!fn(it.bucket(), it.key(), it.record())) break;
  }
  return it.status();
}

}  // namespace ringkv
